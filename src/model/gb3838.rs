//! Surface-water quality classes of GB 3838-2002 (docs/policy.md §4).
//!
//! The default table ships the limits of docs/policy.md §4; an agreement may override a row or
//! add indicators (e.g. PM2.5 for an air agreement) with `[[agreement.class_limits]]`.
//! A value exactly at a limit belongs to the better class. Dissolved oxygen is a lower
//! limit (higher is better). Beyond the class V limit the class is 6, "worse than V" (劣V).

/// Class number for "worse than V" (劣V).
pub const WORSE_THAN_V: u8 = 6;

/// The limits of classes I..V for one indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassLimit {
    /// Limits for classes I..V: non-decreasing for upper limits, non-increasing for lower.
    pub limits: [f64; 5],
    /// True when the limit is a minimum (dissolved oxygen).
    pub lower: bool,
}

impl ClassLimit {
    /// The class 1..=6 of a value; a value exactly at a limit gets the better class.
    pub fn class_of(&self, v: f64) -> u8 {
        for (k, &lim) in self.limits.iter().enumerate() {
            let ok = if self.lower { v >= lim } else { v <= lim };
            if ok {
                return k as u8 + 1;
            }
        }
        WORSE_THAN_V
    }
}

/// Indicator names with optional class limits. An indicator without limits can be used
/// in a `p_index` section but not in a class assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassTable {
    pub names: Vec<String>,
    pub limits: Vec<Option<ClassLimit>>,
}

/// docs/policy.md §4, mg/L. `TP` is the river limit, `TP_lake` the lake and reservoir limit;
/// TN is defined for lakes and reservoirs only in the standard, but basin agreements
/// (e.g. Xin'an) assess it at river sections too.
const GB3838: &[(&str, [f64; 5], bool)] = &[
    ("COD_Mn", [2.0, 4.0, 6.0, 10.0, 15.0], false),
    ("COD", [15.0, 15.0, 20.0, 30.0, 40.0], false),
    ("BOD5", [3.0, 3.0, 4.0, 6.0, 10.0], false),
    ("NH3-N", [0.15, 0.5, 1.0, 1.5, 2.0], false),
    ("TP", [0.02, 0.1, 0.2, 0.3, 0.4], false),
    ("TP_lake", [0.01, 0.025, 0.05, 0.1, 0.2], false),
    ("TN", [0.2, 0.5, 1.0, 1.5, 2.0], false),
    ("DO", [7.5, 6.0, 5.0, 3.0, 2.0], true),
];

impl ClassTable {
    /// The default GB 3838-2002 table.
    pub fn gb3838() -> Self {
        ClassTable {
            names: GB3838.iter().map(|(n, _, _)| n.to_string()).collect(),
            limits: GB3838
                .iter()
                .map(|&(_, limits, lower)| Some(ClassLimit { limits, lower }))
                .collect(),
        }
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Add a row, or replace the row of the same name.
    pub fn set(&mut self, name: &str, limit: Option<ClassLimit>) {
        match self.find(name) {
            Some(i) => self.limits[i] = limit,
            None => {
                self.names.push(name.to_string());
                self.limits.push(limit);
            }
        }
    }
}

/// "I".."V", or "worse than V" for 6.
pub fn class_name(c: u8) -> &'static str {
    match c {
        1 => "I",
        2 => "II",
        3 => "III",
        4 => "IV",
        5 => "V",
        6 => "worse than V",
        _ => "-",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(t: &ClassTable, n: &str) -> ClassLimit {
        t.limits[t.find(n).unwrap()].unwrap()
    }

    #[test]
    fn value_at_a_limit_gets_the_better_class() {
        let t = ClassTable::gb3838();
        let nh3 = limit(&t, "NH3-N");
        assert_eq!(nh3.class_of(0.5), 2);
        assert_eq!(nh3.class_of(0.5000001), 3);
        assert_eq!(nh3.class_of(1.0), 3);
        assert_eq!(nh3.class_of(2.0), 5);
        assert_eq!(nh3.class_of(2.01), WORSE_THAN_V);
        // COD: classes I and II share the limit 15, so 15 is class I.
        assert_eq!(limit(&t, "COD").class_of(15.0), 1);
    }

    #[test]
    fn dissolved_oxygen_is_a_lower_limit() {
        let d = limit(&ClassTable::gb3838(), "DO");
        assert_eq!(d.class_of(8.0), 1);
        assert_eq!(d.class_of(6.0), 2);
        assert_eq!(d.class_of(5.99), 3);
        assert_eq!(d.class_of(1.9), WORSE_THAN_V);
    }

    #[test]
    fn overrides_replace_or_add() {
        let mut t = ClassTable::gb3838();
        let n = t.names.len();
        t.set(
            "TP",
            Some(ClassLimit {
                limits: [0.01, 0.02, 0.03, 0.04, 0.05],
                lower: false,
            }),
        );
        assert_eq!(t.names.len(), n);
        assert_eq!(limit(&t, "TP").class_of(0.1), WORSE_THAN_V);
        t.set("PM2.5", None);
        assert_eq!(t.names.len(), n + 1);
        assert!(t.limits[t.find("PM2.5").unwrap()].is_none());
        assert_eq!(class_name(6), "worse than V");
    }
}
