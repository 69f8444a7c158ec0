//! Validation of the vertical part of a scenario around its formulas (which
//! `formula_validate.rs` checks): budget, Monte Carlo settings and noise models. Each check
//! records a [`crate::error::Problem`] and carries on, so the user sees every problem at
//! once.

use super::ctx::{Ctx, check};
use super::raw::{RawBudget, RawCalibrate, RawMonteCarlo, RawNoise};
use crate::model::formula_param::Target;
use crate::model::region::Column;
use crate::model::{Budget, BudgetMode, BudgetScale, OnInfeasible};
use crate::model::{CalibrateSpec, MonteCarloSettings, NoiseSpec, UncertainParam};
use std::collections::BTreeSet;

/// Validate the budget table.
pub fn budget(
    raw: Option<&RawBudget>,
    ctx: &mut Ctx,
    uncertain: &mut Vec<UncertainParam>,
) -> Option<Budget> {
    let Some(raw) = raw else {
        ctx.problem(
            "budget",
            "",
            "is missing: a scenario with formulas needs a [budget] table with `total`",
        );
        return None;
    };
    let mode = match raw.mode.as_deref() {
        None | Some("fixed") => BudgetMode::Fixed,
        Some("open") => BudgetMode::Open,
        Some(other) => {
            ctx.problem("budget.mode", other, "must be \"fixed\" or \"open\"");
            return None;
        }
    };
    let on_infeasible = match raw.on_infeasible.as_deref() {
        None | Some("error") => OnInfeasible::Error,
        Some("scale_floors") => OnInfeasible::ScaleFloors,
        Some(other) => {
            ctx.problem(
                "budget.on_infeasible",
                other,
                "must be \"error\" or \"scale_floors\"",
            );
            return None;
        }
    };
    let scale = match raw.scale.as_deref() {
        None => BudgetScale::default(),
        Some("key") => BudgetScale::Key,
        Some("all") => BudgetScale::All,
        Some(other) => {
            ctx.problem(
                "budget.scale",
                other,
                "must be \"key\" (only the key subsidy is scaled) or \"all\" (every component is)",
            );
            return None;
        }
    };
    let total = match &raw.total {
        Some(r) => {
            let (c, u) = ctx.param_in("budget.total", r, check::non_negative)?;
            if !u.is_fixed() {
                uncertain.push(UncertainParam {
                    path: "budget.total".into(),
                    target: Target::BudgetTotal,
                    dist: u,
                });
            }
            Some(c)
        }
        None if mode == BudgetMode::Fixed => {
            ctx.problem("budget.total", "", "is required in fixed mode");
            return None;
        }
        None => None,
    };
    Some(Budget {
        total,
        mode,
        on_infeasible,
        scale,
    })
}

/// Validate `[calibrate]`: each free path with a `[lo, hi]` pair of finite numbers, lo
/// below hi. Whether a path names a coefficient is checked when the formula is known.
pub fn calibrate(raw: Option<&RawCalibrate>, ctx: &mut Ctx) -> CalibrateSpec {
    let Some(r) = raw else {
        return CalibrateSpec::default();
    };
    let mut free = Vec::new();
    for (path, b) in &r.free {
        let at = format!("calibrate.free.\"{path}\"");
        match b.as_slice() {
            [lo, hi] if lo.is_finite() && hi.is_finite() && lo < hi => {
                free.push((path.clone(), *lo, *hi))
            }
            [lo, hi] if lo.is_finite() && hi.is_finite() => ctx.problem(
                &at,
                format!("[{lo}, {hi}]"),
                "the lower bound must be below the upper",
            ),
            _ => ctx.problem(
                &at,
                format!("{b:?}"),
                "must be [lower, upper], two finite numbers",
            ),
        }
    }
    CalibrateSpec {
        formula: r.formula.clone(),
        target: r.target.clone(),
        loss: r.loss.clone(),
        free,
    }
}

/// Validate `[montecarlo]`.
pub fn montecarlo(raw: Option<&RawMonteCarlo>, ctx: &mut Ctx) -> MonteCarloSettings {
    let mut s = MonteCarloSettings::default();
    if let Some(m) = raw {
        if let Some(d) = m.draws {
            if d < 0 {
                ctx.problem("montecarlo.draws", d, "must be ≥ 0");
            } else {
                s.draws = Some(d as u64);
            }
        }
        if let Some(seed) = m.seed {
            if seed < 0 {
                ctx.problem("montecarlo.seed", seed, "must be ≥ 0");
            } else {
                s.seed = Some(seed as u64);
            }
        }
    }
    s
}

/// Whether `kind` at `at` (a noise model's or a trend's) is multiplicative: `None`, after
/// recording a problem, when it is neither "additive" nor "multiplicative".
pub fn kind(kind: &str, at: &str, ctx: &mut Ctx) -> Option<bool> {
    match kind {
        "additive" => Some(false),
        "multiplicative" => Some(true),
        other => {
            ctx.problem(at, other, "must be \"additive\" or \"multiplicative\"");
            None
        }
    }
}

/// A noise model's AR(1) coefficient (0 when absent), strictly inside (−1, 1).
fn ar1(raw: Option<f64>, at: &str, ctx: &mut Ctx) -> f64 {
    let ar1 = raw.unwrap_or(0.0);
    if !(ar1 > -1.0 && ar1 < 1.0) {
        ctx.problem(
            at,
            ar1,
            "the AR(1) coefficient φ must lie strictly between −1 and 1 (|φ| = 1 never forgets a shock and leaves no room for new ones)",
        );
    } else if ar1 != 0.0 && ctx.years.len() < 2 {
        ctx.warn(
            at,
            "ar1 links the shocks of successive years, so it changes nothing without a [path] of two years or more",
        );
    }
    ar1
}

/// Validate `[[noise]]` models against the region columns.
pub fn noise(
    raw: &[RawNoise],
    extra: &std::collections::BTreeMap<String, Vec<f64>>,
    ctx: &mut Ctx,
) -> Vec<NoiseSpec> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, r) in raw.iter().enumerate() {
        let at = |k: &str| format!("noise[{i}].{k}");
        let before = ctx.problems.len();
        let column = Column::from_name(&r.column);
        if column.is_none() {
            ctx.problem(
                &at("column"),
                &r.column,
                format!(
                    "unknown region column; expected one of {}",
                    Column::ALL.map(|c| c.name()).join(", ")
                ),
            );
        } else if !seen.insert(r.column.clone()) {
            ctx.problem(
                &at("column"),
                &r.column,
                "a column may have only one noise model",
            );
        }
        let multiplicative = kind(&r.kind, &at("kind"), ctx).unwrap_or(false);
        let sigma = match (&r.sigma, &r.sigma_column) {
            (Some(s), None) if s.is_finite() && *s >= 0.0 => Some(*s),
            (Some(s), None) => {
                ctx.problem(&at("sigma"), s, "must be a finite number ≥ 0");
                None
            }
            (None, Some(c)) if extra.contains_key(c) => None,
            (None, Some(c)) => {
                ctx.problem(
                    &at("sigma_column"),
                    c,
                    "no such column in the regions file (per-region σ columns are named sigma_*)",
                );
                None
            }
            _ => {
                ctx.problem(
                    &at("sigma"),
                    "",
                    "give exactly one of `sigma` or `sigma_column`",
                );
                None
            }
        };
        let rho = r.rho.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&rho) {
            ctx.problem(&at("rho"), rho, "group loading ρ must lie in [0, 1]");
        }
        let (min, max) = (
            r.min.unwrap_or(f64::NEG_INFINITY),
            r.max.unwrap_or(f64::INFINITY),
        );
        if min.is_nan() || max.is_nan() || min >= max {
            ctx.problem(
                &at("max"),
                max,
                format!("truncation window is empty (min = {min})"),
            );
        }
        let ar1 = ar1(r.ar1, &at("ar1"), ctx);
        if let (Some(column), true) = (column, ctx.problems.len() == before) {
            out.push(NoiseSpec {
                column,
                multiplicative,
                sigma,
                sigma_column: r.sigma_column.clone(),
                rho,
                min,
                max,
                ar1,
            });
        }
    }
    out
}
