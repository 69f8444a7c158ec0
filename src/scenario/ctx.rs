//! Validation context: the file being checked, its line map, and the problems found so far.

use super::source_map::SourceMap;
use crate::error::Problem;
use crate::model::param::{RawParam, Uncertain};
use crate::model::path::Scheduled;
use std::path::{Path, PathBuf};

/// Collects [`Problem`]s for one TOML file. Validation code calls [`Ctx::problem`] for
/// every problem it finds and carries on, so the user sees all of them at once.
pub struct Ctx<'s> {
    pub file: PathBuf,
    map: SourceMap<'s>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    /// The years of `[path]` (empty without one): a formula parameter may then be a list
    /// with one value per year.
    pub years: Vec<i64>,
    /// The formula parameters given one value per year, as they are found.
    pub schedule: Vec<Scheduled>,
}

impl<'s> Ctx<'s> {
    pub fn new(file: &Path, source: &'s str) -> Self {
        Ctx {
            file: file.to_path_buf(),
            map: SourceMap::new(source),
            problems: Vec::new(),
            warnings: Vec::new(),
            years: Vec::new(),
            schedule: Vec::new(),
        }
    }

    /// `path (line N)`.
    pub fn locate(&self, path: &str) -> String {
        self.map.locate(path)
    }

    /// Record a problem at a TOML key path such as `formula[0].key.c0`.
    pub fn problem(
        &mut self,
        path: &str,
        value: impl std::fmt::Display,
        message: impl Into<String>,
    ) {
        let p = Problem::new(&self.file, self.locate(path), value, message);
        self.problems.push(p);
    }

    /// Record a warning (printed and written to summary.json; does not stop the run).
    pub fn warn(&mut self, path: &str, message: impl std::fmt::Display) {
        let w = format!("{}: {}: {message}", self.file.display(), self.locate(path));
        self.warnings.push(w);
    }

    /// Validate a scalar parameter that may be a distribution. Returns `None` (after
    /// recording a problem) when it is invalid.
    pub fn param(&mut self, path: &str, raw: &RawParam) -> Option<Uncertain> {
        match Uncertain::from_raw(raw) {
            // A window that is empty or holds almost no probability cannot be sampled
            // (docs/model.md §3.2: truncation by rejection or inverse CDF, never clamping).
            Ok(u) => match crate::sampling::dist::check_truncation(&u) {
                Ok(()) => Some(u),
                Err(message) => {
                    let value = if u.min.is_finite() || u.max.is_finite() {
                        format!("min = {}, max = {}", u.min, u.max)
                    } else {
                        format!("{:?}", u.dist)
                    };
                    self.problem(path, value, message);
                    None
                }
            },
            Err(e) => {
                let at = if e.key.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}.{}", e.key)
                };
                self.problem(&at, e.value, e.message);
                None
            }
        }
    }

    /// Validate a parameter and check its central value and support with `check`, which
    /// returns an error message when a value is out of range. Returns the central value.
    pub fn param_in(
        &mut self,
        path: &str,
        raw: &RawParam,
        check: impl Fn(f64) -> Option<String>,
    ) -> Option<(f64, Uncertain)> {
        let u = self.param(path, raw)?;
        let (lo, hi) = u.support();
        if let Some(msg) = check(u.central()) {
            self.problem(path, u.central(), msg);
            return None;
        }
        // A distribution whose central value is fine but whose tails leave the range: one
        // problem for the parameter, saying how to truncate it.
        let tails: Vec<(f64, String)> = [(lo, "min"), (hi, "max")]
            .into_iter()
            .filter_map(|(v, key)| check(v).map(|m| (v, truncation_hint(&check, key, v, m))))
            .collect();
        if let Some((v, _)) = tails.first() {
            let hints: Vec<&str> = tails.iter().map(|(_, h)| h.as_str()).collect();
            self.problem(
                path,
                format!("{v} (a value the distribution can take)"),
                hints.join("; "),
            );
            return None;
        }
        Some((u.central(), u))
    }

    /// The years of `[path]` as people write them: `2021–2025`, or the list when the
    /// years skip.
    pub fn years_shown(&self) -> String {
        let y = &self.years;
        match (y.first(), y.last()) {
            (Some(a), Some(b)) if (b - a) as usize + 1 == y.len() => format!("{a}–{b}"),
            _ => format!("{y:?}"),
        }
    }

    /// True when no problem has been recorded.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The message for a distribution whose `key` tail (`min` or `max`) reaches `v`, outside
/// the range (`msg`): the fix is to truncate it there, at 0 or 1 where those are allowed.
fn truncation_hint(
    check: &impl Fn(f64) -> Option<String>,
    key: &str,
    v: f64,
    msg: String,
) -> String {
    // 0 is the natural lower bound and 1 the natural upper one (shares, rates).
    let natural = if key == "min" { 0.0 } else { 1.0 };
    let fix = if check(natural).is_none() {
        format!("add `{key} = {natural}` to truncate it")
    } else {
        format!("add a `{key}` inside the allowed range to truncate it")
    };
    let side = if key == "min" { "lower" } else { "upper" };
    format!("{msg}, but the distribution's {side} tail reaches {v}: {fix}")
}

/// Common range checks for [`Ctx::param_in`].
pub mod check {
    pub fn non_negative(v: f64) -> Option<String> {
        (v < 0.0).then(|| "must be ≥ 0".to_string())
    }
    pub fn positive(v: f64) -> Option<String> {
        (v <= 0.0).then(|| "must be > 0".to_string())
    }
    pub fn unit_interval(v: f64) -> Option<String> {
        (!(0.0..=1.0).contains(&v)).then(|| "must lie in [0, 1]".to_string())
    }
    pub fn any(_: f64) -> Option<String> {
        None
    }
}
