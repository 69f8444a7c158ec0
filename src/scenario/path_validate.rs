//! Validation of `[path]` (docs/model.md §5). The years are read first, so that formula
//! parameters can be checked as per-year lists; the rest once the regions are known.

use super::ctx::{Ctx, check};
use super::raw::{RawPath, RawTrend};
use crate::model::param::RawParam;
use crate::model::path::{BudgetPath, Path, Steps, Trend};
use crate::model::region::Column;
use std::collections::BTreeMap;

/// Most years a path may hold: 2021 to 2100 and then some; past it a typo is likelier
/// than a real plan (`end = 20250`).
const MAX_YEARS: usize = 200;

/// The years of `[path]`, strictly increasing; empty (after recording a problem) when they
/// are not.
pub fn years(raw: &RawPath, ctx: &mut Ctx) -> Vec<i64> {
    let years = match (&raw.years, raw.start, raw.end) {
        (Some(y), None, None) => y.clone(),
        (None, Some(a), Some(b)) if a <= b && ((b - a) as usize) < MAX_YEARS => (a..=b).collect(),
        (None, Some(a), Some(b)) if a > b => {
            ctx.problem(
                "path.end",
                b,
                format!("comes before path.start = {a}: the years must increase"),
            );
            return Vec::new();
        }
        (None, Some(_), Some(b)) => {
            ctx.problem(
                "path.end",
                b,
                format!("a path holds at most {MAX_YEARS} years"),
            );
            return Vec::new();
        }
        _ => {
            ctx.problem(
                "path",
                "",
                "give the years either as `years = [2021, 2022, …]` or as `start` and `end`",
            );
            return Vec::new();
        }
    };
    if years.is_empty() {
        ctx.problem("path.years", "[]", "a path needs at least one year");
        return Vec::new();
    }
    if years.len() > MAX_YEARS {
        ctx.problem(
            "path.years",
            format!("{} years", years.len()),
            format!("a path holds at most {MAX_YEARS} years"),
        );
        return Vec::new();
    }
    if let Some(k) = (1..years.len()).find(|&k| years[k] <= years[k - 1]) {
        ctx.problem(
            &format!("path.years[{k}]"),
            years[k],
            format!(
                "follows {}: the years of a path must be strictly increasing",
                years[k - 1]
            ),
        );
        return Vec::new();
    }
    years
}

/// The rest of `[path]`, once the years (in `ctx.years`) and the region columns are known.
/// `uncertain` receives nothing: a path's parameters are drawn year by year by the path
/// engine, not as single-year uncertain parameters.
pub fn path(
    raw: &RawPath,
    extra: &BTreeMap<String, Vec<f64>>,
    has_budget_total: bool,
    ctx: &mut Ctx,
) -> Option<Path> {
    let before = ctx.problems.len();
    let years = ctx.years.clone();
    let budget = budget(raw, has_budget_total, ctx);
    let trends = raw
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, t)| trend(i, t, extra, ctx))
        .collect();
    let kappa = match &raw.quality_response {
        None => None,
        Some(q) if q.kappa.is_finite() => Some(q.kappa),
        Some(q) => {
            ctx.problem(
                "path.quality_response.kappa",
                q.kappa,
                "must be a finite number",
            );
            None
        }
    };
    if ctx.problems.len() != before {
        return None;
    }
    Some(Path {
        years,
        budget: budget?,
        trends,
        kappa,
        schedule: std::mem::take(&mut ctx.schedule),
    })
}

fn budget(raw: &RawPath, has_total: bool, ctx: &mut Ctx) -> Option<BudgetPath> {
    let n = ctx.years.len();
    match (&raw.total, &raw.growth) {
        (Some(_), Some(_)) => {
            ctx.problem(
                "path.growth",
                "",
                "give either path.total (one total per year) or path.growth, not both",
            );
            None
        }
        (Some(list), None) => {
            if list.len() != n {
                let shown = ctx.years_shown();
                ctx.problem(
                    "path.total",
                    format!("a list of {}", list.len()),
                    format!("a per-year list needs one value per year of [path]: {n} for {shown}"),
                );
                return None;
            }
            let mut out = Vec::with_capacity(n);
            for (t, r) in list.iter().enumerate() {
                let (_, u) = ctx.param_in(&format!("path.total[{t}]"), r, check::non_negative)?;
                out.push(u);
            }
            Some(BudgetPath::Totals(out))
        }
        (None, Some(g)) => {
            if !has_total {
                ctx.problem(
                    "path.growth",
                    "",
                    "grows [budget] total from the first year, so [budget] needs a total",
                );
                return None;
            }
            let rate = steps(ctx, "path.growth", g, |v| {
                (v <= -1.0).then(|| "a growth rate must be above −1 (−100%)".to_string())
            })?;
            Some(BudgetPath::Growth(rate))
        }
        (None, None) => Some(BudgetPath::Constant),
    }
}

/// A rate applied at each step: one parameter, or a list of one per step (years − 1).
fn steps(
    ctx: &mut Ctx,
    at: &str,
    raw: &RawParam,
    check: impl Fn(f64) -> Option<String>,
) -> Option<Steps> {
    let RawParam::List(items) = raw else {
        let (_, u) = ctx.param_in(at, raw, check)?;
        return Some(Steps::Same(u));
    };
    let want = ctx.years.len().saturating_sub(1);
    if items.len() != want {
        let shown = ctx.years_shown();
        ctx.problem(
            at,
            format!("a list of {}", items.len()),
            format!(
                "a per-step list needs one value per year after the first: {want} for {shown} (or give one value for every step)"
            ),
        );
        return None;
    }
    let mut out = Vec::with_capacity(want);
    for (s, item) in items.iter().enumerate() {
        let (_, u) = ctx.param_in(&format!("{at}[{s}]"), item, &check)?;
        out.push(u);
    }
    Some(Steps::Each(out))
}

fn trend(
    i: usize,
    raw: &RawTrend,
    extra: &BTreeMap<String, Vec<f64>>,
    ctx: &mut Ctx,
) -> Option<Trend> {
    let at = |k: &str| format!("path.trend[{i}].{k}");
    let column = match Column::from_name(&raw.column) {
        Some(Column::PriorAllocation) => {
            ctx.problem(
                &at("column"),
                &raw.column,
                "is each formula's own allocation of the year before on a path, so it cannot follow a trend",
            );
            return None;
        }
        Some(c) => c,
        None if extra.contains_key(&raw.column) => {
            ctx.problem(
                &at("column"),
                &raw.column,
                "is an extra column, which formulas read once when the scenario is loaded; a trend can move only the standard numeric columns",
            );
            return None;
        }
        None => {
            let names: Vec<&str> = Column::ALL
                .iter()
                .filter(|c| **c != Column::PriorAllocation)
                .map(|c| c.name())
                .collect();
            ctx.problem(
                &at("column"),
                &raw.column,
                format!(
                    "is not a numeric region column; a trend can move one of {}",
                    names.join(", ")
                ),
            );
            return None;
        }
    };
    let multiplicative = super::validate::kind(&raw.kind, &at("kind"), ctx)?;
    let rate = steps(ctx, &at("rate"), &raw.rate, |v| {
        (multiplicative && v <= -1.0)
            .then(|| "a multiplicative rate must be above −1 (−100%)".to_string())
    })?;
    Some(Trend {
        column,
        multiplicative,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::formula::PoolSize;
    use crate::model::path::{BudgetPath, Steps};
    use crate::model::region::Column;

    /// The shipped 2021–2025 path: its phased-in share is a schedule whose first value is
    /// the formula's own, the budget grows by one rate per path, and the quality shocks
    /// persist.
    #[test]
    fn shipped_path_reads_its_schedule_trends_and_shocks() {
        let scn = crate::scenario::shipped_with("path_2021_2025.toml", "");
        let Some(p) = scn.policy_path.as_ref() else {
            panic!("no [path] read");
        };
        assert_eq!(p.years, vec![2021, 2022, 2023, 2024, 2025]);
        assert_eq!(p.schedule.len(), 1);
        let s = &p.schedule[0];
        assert_eq!(s.path, "formula[1].redline.share");
        let central: Vec<f64> = s.values.iter().map(|u| u.central()).collect();
        assert_eq!(central, [0.04, 0.08, 0.12, 0.16, 0.20]);
        let v = scn.vertical.as_ref().map(|v| &v.formulas[1]);
        let size = v.and_then(|f| f.redline.as_ref()).map(|r| r.size);
        assert_eq!(size, Some(PoolSize::Share(0.04)));
        assert!(matches!(p.budget, BudgetPath::Growth(Steps::Same(_))));
        assert_eq!(p.trends[0].column, Column::StdRevenue);
        assert!(p.trends.iter().all(|t| t.multiplicative));
        assert!(
            p.trends
                .iter()
                .all(|t| matches!(&t.rate, Steps::Each(v) if v.len() == 4))
        );
        let eqi = scn.noise.iter().find(|n| n.column == Column::EqiChange);
        assert_eq!(eqi.map(|n| n.ar1), Some(0.5));
        assert_eq!(p.kappa, None);
    }
}
