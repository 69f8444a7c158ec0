//! The sections of an agreement: each section's parties and assessment, its indicators
//! with their weights, baselines and values, and the correlation of their measurements.

use super::{Builder, list, sum_is_one};
use crate::model::Assessment;
use crate::model::agreement::{CorrelatedGroup, Indicator, Section};
use crate::model::gb3838::ClassTable;
use crate::scenario::agreement_raw::{RawIndicator, RawSection};
use crate::scenario::ctx::check;

impl Builder<'_, '_> {
    fn target_class(&mut self, at: &str, t: Option<i64>, kind: &str) -> u8 {
        match t {
            None => {
                self.problem(
                    at,
                    "",
                    format!("is required for a {kind} section (1..5 for classes I to V)"),
                );
                3
            }
            Some(c @ 1..=5) => c as u8,
            Some(c) => {
                self.problem(at, c, "target class must be 1..5 (classes I to V)");
                3
            }
        }
    }

    /// Section `s` of the agreement (`rs` as written), with the correlation group of its
    /// indicators when it has one.
    pub(super) fn section(
        &mut self,
        s: usize,
        rs: &RawSection,
        table: &ClassTable,
    ) -> (Section, Option<CorrelatedGroup>) {
        let at = format!("section[{s}]");
        let up = self.party(&format!("{at}.upstream"), &rs.upstream);
        let down = self.party(&format!("{at}.downstream"), &rs.downstream);
        if rs.upstream == rs.downstream {
            self.problem(
                &format!("{at}.downstream"),
                &rs.downstream,
                "a section's upstream and downstream must be different parties",
            );
        }
        let assessment = self.assessment(&at, rs);
        if rs.require_annual_class && rs.kind != "compliance_rate" {
            self.problem(
                &format!("{at}.require_annual_class"),
                "true",
                "applies only to a compliance_rate section",
            );
        }
        if rs.indicator.is_empty() {
            self.problem(
                &format!("{at}.indicator"),
                "",
                "a section needs at least one indicator",
            );
        }
        let mut indicators = Vec::new();
        for (j, ri) in rs.indicator.iter().enumerate() {
            if rs.indicator[..j].iter().any(|o| o.name == ri.name) {
                self.problem(
                    &format!("{at}.indicator[{j}].name"),
                    &ri.name,
                    "duplicate indicator in this section",
                );
            }
            indicators.push(self.indicator(&format!("{at}.indicator[{j}]"), ri, rs, table));
        }
        self.check_weights(&at, &indicators);
        self.check_sub_periods(&at, &indicators);
        let corr = rs
            .correlation
            .as_ref()
            .and_then(|m| self.correlation(&format!("{at}.correlation"), m, s, &indicators));
        let sec = Section {
            name: rs.name.clone(),
            upstream: up.unwrap_or(0),
            downstream: down.unwrap_or(0),
            assessment,
            indicators,
        };
        (sec, corr)
    }

    /// How the section at `at` is assessed, from its kind and the keys of that kind (a key
    /// of another kind is a problem).
    fn assessment(&mut self, at: &str, rs: &RawSection) -> Assessment {
        let not_for = |me: &mut Self, present: bool, key: &str| {
            if present {
                me.problem(
                    &format!("{at}.{key}"),
                    "",
                    format!("does not apply to a {} section", rs.kind),
                );
            }
        };
        match rs.kind.as_str() {
            "p_index" => {
                not_for(self, rs.target_class.is_some(), "target_class");
                not_for(self, rs.required_rate.is_some(), "required_rate");
                let k0 = match &rs.k0 {
                    Some(k) => self.slot(&format!("{at}.k0"), k, check::positive),
                    None => {
                        self.problem(
                            &format!("{at}.k0"),
                            "",
                            "is required for a p_index section (the stability coefficient)",
                        );
                        0
                    }
                };
                let threshold = rs.threshold.unwrap_or(1.0);
                if self.finite(&format!("{at}.threshold"), threshold) && threshold <= 0.0 {
                    self.problem(&format!("{at}.threshold"), threshold, "must be > 0");
                }
                Assessment::PIndex { k0, threshold }
            }
            "class" => {
                not_for(self, rs.k0.is_some(), "k0");
                not_for(self, rs.threshold.is_some(), "threshold");
                not_for(self, rs.required_rate.is_some(), "required_rate");
                Assessment::Class {
                    target: self.target_class(
                        &format!("{at}.target_class"),
                        rs.target_class,
                        "class",
                    ),
                }
            }
            "compliance_rate" => {
                not_for(self, rs.k0.is_some(), "k0");
                not_for(self, rs.threshold.is_some(), "threshold");
                let target = self.target_class(
                    &format!("{at}.target_class"),
                    rs.target_class,
                    "compliance_rate",
                );
                let required = match &rs.required_rate {
                    Some(r) => {
                        self.numbers(&format!("{at}.required_rate"), r, check::unit_interval)
                    }
                    None => {
                        self.problem(
                            &format!("{at}.required_rate"),
                            "",
                            "is required for a compliance_rate section",
                        );
                        Vec::new()
                    }
                };
                Assessment::ComplianceRate {
                    target,
                    required,
                    annual_too: rs.require_annual_class,
                }
            }
            other => {
                self.problem(
                    &format!("{at}.kind"),
                    other,
                    "unknown section kind; expected p_index, class or compliance_rate",
                );
                Assessment::Class { target: 3 }
            }
        }
    }

    /// Weights, when given, must be given for all indicators and sum to 1.
    fn check_weights(&mut self, at: &str, indicators: &[Indicator]) {
        let weighted = indicators.iter().filter(|i| !i.weight.is_empty()).count();
        if weighted > 0 && weighted < indicators.len() {
            self.problem(
                &format!("{at}.indicator"),
                format!("{weighted} of {}", indicators.len()),
                "either every indicator has a weight or none does",
            );
        } else if weighted > 0 {
            for t in 0..self.n_periods {
                let sum: f64 = indicators
                    .iter()
                    .map(|i| i.weight.get(t).copied().unwrap_or(0.0))
                    .sum();
                if !sum_is_one(sum) {
                    self.problem(
                        &format!("{at}.indicator"),
                        sum,
                        format!(
                            "weights sum to {sum} in period {}; they must sum to 1",
                            self.period_label(t)
                        ),
                    );
                    break;
                }
            }
        }
    }

    /// Sub-period values, wherever given, must come for every indicator in equal numbers
    /// (a compliance rate needs them; correlation groups assume them).
    fn check_sub_periods(&mut self, at: &str, indicators: &[Indicator]) {
        if indicators.iter().any(|i| !i.monthly.is_empty()) {
            for t in 0..self.n_periods {
                let counts: Vec<usize> = indicators
                    .iter()
                    .map(|i| i.monthly.get(t).map_or(0, Vec::len))
                    .collect();
                if counts.windows(2).any(|w| w[0] != w[1]) {
                    self.problem(
                        &format!("{at}.indicator"),
                        list(&counts),
                        format!(
                            "indicators have different numbers of sub-periods in period {}",
                            self.period_label(t)
                        ),
                    );
                    break;
                }
            }
        }
    }

    fn indicator(
        &mut self,
        at: &str,
        ri: &RawIndicator,
        rs: &RawSection,
        table: &ClassTable,
    ) -> Indicator {
        let class_row = self.class_row(at, ri, rs, table);
        let weight = match &ri.weight {
            Some(w) => self.numbers(&format!("{at}.weight"), w, check::non_negative),
            None => {
                if rs.kind == "p_index" {
                    self.problem(
                        &format!("{at}.weight"),
                        "",
                        "is required in a p_index section",
                    );
                }
                Vec::new()
            }
        };
        let baseline = match &ri.baseline {
            Some(b) => {
                // A baseline divides the concentration wherever the indicator is weighted
                // (P index, pollutant index), so it must then be positive.
                let chk = if weight.is_empty() {
                    check::non_negative
                } else {
                    positive_baseline
                };
                Some(self.slot(&format!("{at}.baseline"), b, chk))
            }
            None => {
                if rs.kind == "p_index" {
                    self.problem(
                        &format!("{at}.baseline"),
                        "",
                        "is required in a p_index section",
                    );
                }
                None
            }
        };
        let values = self.schedule(&format!("{at}.values"), &ri.values, check::non_negative);
        let previous = ri
            .previous
            .as_ref()
            .map(|p| self.slot(&format!("{at}.previous"), p, check::non_negative));
        let monthly = self.monthly(at, ri, rs);
        Indicator {
            name: ri.name.clone(),
            class_row,
            weight,
            baseline,
            values,
            previous,
            monthly,
        }
    }

    /// The row of indicator `ri` in the class table, when it has class limits; a problem
    /// when it is not in the table, or has no limits but the section's kind needs them.
    fn class_row(
        &mut self,
        at: &str,
        ri: &RawIndicator,
        rs: &RawSection,
        table: &ClassTable,
    ) -> Option<usize> {
        let row = table.find(&ri.name);
        let mut class_row = None;
        match row {
            None => self.problem(
                &format!("{at}.name"),
                &ri.name,
                format!(
                    "unknown indicator: not in the class table [{}]; add it with [[agreement.class_limits]]",
                    table.names.join(", ")
                ),
            ),
            Some(r) => {
                if table.limits[r].is_some() {
                    class_row = Some(r);
                } else if rs.kind != "p_index" {
                    self.problem(&format!("{at}.name"), &ri.name, format!("has no class limits, so it cannot be used in a {} section", rs.kind));
                }
            }
        }
        class_row
    }

    /// The slots of indicator `ri`'s sub-period values, one list per period (empty when it
    /// has none).
    fn monthly(&mut self, at: &str, ri: &RawIndicator, rs: &RawSection) -> Vec<Vec<usize>> {
        let mut monthly = Vec::new();
        match &ri.monthly {
            Some(m) => {
                if m.len() != self.n_periods {
                    self.problem(
                        &format!("{at}.monthly"),
                        format!("{} entries", m.len()),
                        format!(
                            "has {} lists but the agreement has {} periods",
                            m.len(),
                            self.n_periods
                        ),
                    );
                }
                for (t, months) in m.iter().enumerate() {
                    if months.is_empty() {
                        self.problem(
                            &format!("{at}.monthly[{t}]"),
                            "[]",
                            "needs at least one sub-period value",
                        );
                    }
                    let slots = months
                        .iter()
                        .enumerate()
                        .map(|(k, p)| {
                            self.slot(&format!("{at}.monthly[{t}][{k}]"), p, check::non_negative)
                        })
                        .collect();
                    monthly.push(slots);
                }
                monthly.resize(self.n_periods, Vec::new());
            }
            None => {
                if rs.kind == "compliance_rate" {
                    self.problem(&format!("{at}.monthly"), "", "is required in a compliance_rate section (one list of sub-period values per period)");
                }
            }
        }
        monthly
    }

    fn correlation(
        &mut self,
        at: &str,
        m: &[Vec<f64>],
        s: usize,
        inds: &[Indicator],
    ) -> Option<CorrelatedGroup> {
        let n = inds.len();
        if m.len() != n || m.iter().any(|r| r.len() != n) {
            self.problem(
                at,
                format!("{}x{}", m.len(), m.first().map_or(0, Vec::len)),
                format!("must be a {n}x{n} matrix, one row and column per indicator"),
            );
            return None;
        }
        let mut flat = Vec::with_capacity(n * n);
        for (i, row) in m.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                let bad = if !x.is_finite() || !(-1.0..=1.0).contains(&x) {
                    Some("entries must lie in [-1, 1]")
                } else if i == j && (x - 1.0).abs() > 1e-12 {
                    Some("diagonal entries must be 1")
                } else if (x - m[j][i]).abs() > 1e-12 {
                    Some("the matrix must be symmetric")
                } else {
                    None
                };
                if let Some(msg) = bad {
                    self.problem(&format!("{at}[{i}][{j}]"), x, msg);
                    return None;
                }
                flat.push(x);
            }
        }
        let mat = nalgebra::DMatrix::from_row_slice(n, n, &flat);
        if nalgebra::Cholesky::new(mat).is_none() {
            self.problem(
                at,
                format!("{m:?}"),
                "correlation matrix is not positive definite",
            );
            return None;
        }
        let mut slot_groups = Vec::new();
        for t in 0..self.n_periods {
            slot_groups.push(inds.iter().map(|i| i.values[t]).collect());
            let months = inds
                .first()
                .map_or(0, |i| i.monthly.get(t).map_or(0, Vec::len));
            for k in 0..months {
                slot_groups.push(
                    inds.iter()
                        .map(|i| {
                            i.monthly
                                .get(t)
                                .and_then(|m| m.get(k))
                                .copied()
                                .unwrap_or(0)
                        })
                        .collect(),
                );
            }
        }
        Some(CorrelatedGroup {
            section: s,
            n,
            matrix: flat,
            slot_groups,
        })
    }
}

fn positive_baseline(v: f64) -> Option<String> {
    if v < 0.0 {
        Some("must be ≥ 0".to_string())
    } else if v == 0.0 {
        Some("must be > 0: the baseline divides the concentration (C / C0)".to_string())
    } else {
        None
    }
}
