//! Error types shared by the library.
//!
//! Input problems are collected, not thrown one at a time: validation reports every
//! problem it finds, each naming the file, the location (TOML key path with line, or CSV
//! row and column) and the offending value, so a user can fix a scenario in one pass.

use std::fmt;
use std::path::PathBuf;

/// One problem found in user input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in (scenario TOML or regions CSV).
    pub file: PathBuf,
    /// Where in the file: a TOML key path such as `formula[1].key.c0 (line 12)`, or
    /// `row 7, column redline_km2` for CSV.
    pub location: String,
    /// The offending value as written, or empty when the value is missing.
    pub value: String,
    /// What is wrong, in words a scenario author can act on.
    pub message: String,
}

impl Problem {
    pub fn new(
        file: impl Into<PathBuf>,
        location: impl Into<String>,
        value: impl fmt::Display,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.into(),
            location: location.into(),
            value: value.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.location,
            self.message
        )?;
        if !self.value.is_empty() {
            write!(f, " (value: {})", self.value)?;
        }
        Ok(())
    }
}

/// A non-empty list of input problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the input",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// Exit code after an interrupt (128 + SIGINT), the convention of shells.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Library error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario (or a file it references) is invalid. Exit code 2.
    #[error("{0}")]
    Invalid(Problems),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The budget cannot honour the hold-harmless floors and the components paid as
    /// stated (docs/model.md §1.5). The amounts are shown to six significant digits: the
    /// shortfall is a difference, and its last binary digits (`1.8449999999999998`) are
    /// noise to the reader.
    #[error(
        "formula '{formula}': {} but the budget is {} (shortfall {}); {}",
        owed_text(*.floors, *.unscaled, .parts),
        crate::numfmt::display(*.budget),
        crate::numfmt::display(*.shortfall),
        if *.unscaled > 0.0 {
            "lower the floors or the pools and amounts paid as stated, raise the budget, or \
             set budget.on_infeasible = \"scale_floors\""
        } else {
            "lower the floors, raise the budget, or set budget.on_infeasible = \"scale_floors\""
        }
    )]
    InfeasibleFloors {
        formula: String,
        /// Paid to the regions their floors hold.
        floors: f64,
        /// The components paid as stated to the other regions, and by component.
        unscaled: f64,
        parts: Vec<(String, f64)>,
        budget: f64,
        shortfall: f64,
    },
    /// Region `region`'s claim under `formula` overflowed a 64-bit float (money inputs near
    /// 1e300), at the point estimate or in Monte Carlo draw `draw`. The allocator cannot
    /// know where the region was written; [`crate::model::Scenario::locate`] turns this
    /// into [`Error::Invalid`] naming the file, row and column, and the value.
    #[error(
        "formula '{formula}': the claim of region {}{} overflows a 64-bit float (inputs near \
         1e300); express money in a larger unit (e.g. 亿元 instead of 元)",
        .region + 1,
        .draw.map(|d| format!(" in Monte Carlo draw {d}")).unwrap_or_default()
    )]
    ClaimOverflow {
        formula: String,
        region: usize,
        draw: Option<u64>,
    },
    /// A runtime failure that is not the input's fault.
    #[error("{0}")]
    Runtime(String),
    /// The run was stopped by Ctrl-C; nothing was written.
    #[error("interrupted: the run was stopped and the output folder was left as it was")]
    Interrupted,
}

impl Error {
    /// Exit code convention: 2 for invalid input or usage, 1 for runtime failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::InfeasibleFloors { .. } | Error::ClaimOverflow { .. } => 2,
            Error::Io { .. } | Error::Runtime(_) => 1,
            Error::Interrupted => EXIT_INTERRUPTED,
        }
    }

    pub fn invalid(problems: Vec<Problem>) -> Self {
        Error::Invalid(Problems(problems))
    }

    /// `self`, raised while computing `year` of a multi-year path, with the year said:
    /// the same scenario key can fail in one year and hold in the others.
    pub fn in_year(self, year: i64) -> Self {
        match self {
            Error::Runtime(m) => Error::Runtime(format!("{year}: {m}")),
            Error::Invalid(Problems(mut problems)) => {
                for p in &mut problems {
                    p.location = format!("{}, year {year}", p.location);
                }
                Error::Invalid(Problems(problems))
            }
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the budget owes before any key subsidy: the floors alone (the earlier wording), or
/// the floors and each component paid as stated.
fn owed_text(floors: f64, unscaled: f64, parts: &[(String, f64)]) -> String {
    let d = crate::numfmt::display;
    if unscaled <= 0.0 {
        return format!("hold-harmless floors total {}", d(floors));
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|(name, v)| format!("{name} {}", d(*v)))
        .collect();
    format!(
        "before any key subsidy the budget owes {}: hold-harmless floors {} and components \
         paid as stated {} ({})",
        d(floors + unscaled),
        d(floors),
        d(unscaled),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn infeasible_floors_print_their_money_to_six_digits() {
        let e = Error::InfeasibleFloors {
            formula: "f".into(),
            floors: 7.845,
            unscaled: 0.0,
            parts: Vec::new(),
            budget: 6.0,
            shortfall: 7.845 - 6.0,
        };
        let text = e.to_string();
        assert!(
            text.contains("floors total 7.845 but the budget is 6 (shortfall 1.845)"),
            "{text}"
        );
        let e = Error::InfeasibleFloors {
            formula: "f".into(),
            floors: 2.3400000000000003,
            unscaled: 0.0,
            parts: Vec::new(),
            budget: f64::INFINITY,
            shortfall: -0.0,
        };
        let text = e.to_string();
        assert!(
            text.contains("total 2.34 but the budget is inf (shortfall 0)"),
            "{text}"
        );
        let e = Error::InfeasibleFloors {
            formula: "f".into(),
            floors: 3.0,
            unscaled: 9.0,
            parts: vec![("red-line pool".into(), 6.0), ("guidance".into(), 3.0)],
            budget: 10.0,
            shortfall: 2.0,
        };
        let text = e.to_string();
        assert!(
            text.contains(
                "before any key subsidy the budget owes 12: hold-harmless floors 3 and \
                 components paid as stated 9 (red-line pool 6, guidance 3) but the budget \
                 is 10 (shortfall 2)"
            ),
            "{text}"
        );
    }
}
