//! Validation of the vertical part of a scenario: budget, formulas, Monte Carlo settings
//! and noise models. Each check records a [`crate::error::Problem`] and carries on, so
//! the user sees every problem at once.

use super::ctx::{Ctx, check};
use super::raw::{RawBudget, RawFormula, RawGradeRates, RawMonteCarlo, RawNoise};
use crate::model::formula_param::{FormulaParam, Target};
use crate::model::param::RawParam;
use crate::model::region::{Column, RegionMeta};
use crate::model::{
    Budget, BudgetMode, Floor, Formula, KeySubsidy, OnInfeasible, PoolSize, ProtectedAreaPool,
    Quality, RedlinePool, ReverseLinkage,
};
use crate::model::{MonteCarloSettings, NoiseSpec, UncertainParam};
use std::collections::BTreeSet;

/// Records uncertain parameters while formulas are validated.
struct Params<'a, 'c, 's> {
    ctx: &'a mut Ctx<'s>,
    uncertain: &'c mut Vec<UncertainParam>,
    formula: usize,
}

impl Params<'_, '_, '_> {
    /// Validate one scalar; record it as uncertain when it is a distribution.
    fn get(
        &mut self,
        path: &str,
        raw: &RawParam,
        param: FormulaParam,
        check: impl Fn(f64) -> Option<String>,
    ) -> Option<f64> {
        let (central, u) = self.ctx.param_in(path, raw, check)?;
        if !u.is_fixed() {
            self.uncertain.push(UncertainParam {
                path: path.to_string(),
                target: Target::Formula {
                    formula: self.formula,
                    param,
                },
                dist: u,
            });
        }
        Some(central)
    }

    fn opt(
        &mut self,
        path: &str,
        raw: &Option<RawParam>,
        default: f64,
        param: FormulaParam,
        check: impl Fn(f64) -> Option<String>,
    ) -> Option<f64> {
        match raw {
            Some(r) => self.get(path, r, param, check),
            None => Some(default),
        }
    }
}

fn greater_than_minus_one(v: f64) -> Option<String> {
    (v <= -1.0).then(|| "must be > −1 (a growth rate)".to_string())
}

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
    })
}

/// Validate one formula. `meta` supplies the tag names the regions use.
pub fn formula(
    raw: &RawFormula,
    index: usize,
    meta: &mut RegionMeta,
    budget: &Budget,
    ctx: &mut Ctx,
    uncertain: &mut Vec<UncertainParam>,
) -> Option<Formula> {
    let at = |k: &str| format!("formula[{index}].{k}");
    let before = ctx.problems.len();
    let mut f = Formula::empty(&raw.name);
    f.description = raw.description.clone();
    if raw.name.trim().is_empty() {
        ctx.problem(&at("name"), "\"\"", "must not be empty");
    }
    let mut p = Params {
        ctx,
        uncertain,
        formula: index,
    };

    if let Some(k) = &raw.key {
        let c0 = p.get(&at("key.c0"), &k.c0, FormulaParam::C0, check::non_negative);
        let a = p.opt(
            &at("key.eco_weight"),
            &k.eco_weight,
            0.0,
            FormulaParam::EcoWeight,
            check::non_negative,
        );
        let beta = p.opt(
            &at("key.redline_uplift"),
            &k.redline_uplift,
            0.0,
            FormulaParam::RedlineUplift,
            check::non_negative,
        );
        let mut bands = Vec::with_capacity(k.bands.len());
        for (j, b) in k.bands.iter().enumerate() {
            let path = at(&format!("key.bands[{j}]"));
            match b.as_slice() {
                [lb, m] if lb.is_finite() && m.is_finite() => {
                    if *m < 0.0 {
                        p.ctx
                            .problem(&path, format!("[{lb}, {m}]"), "band multiplier must be ≥ 0");
                    }
                    if let Some(&(prev, _)) = bands.last()
                        && *lb <= prev
                    {
                        p.ctx.problem(
                            &path,
                            format!("[{lb}, {m}]"),
                            format!("bands must be sorted by strictly increasing lower bound (previous bound {prev})"),
                        );
                    }
                    bands.push((*lb, *m));
                }
                other => p.ctx.problem(
                    &path,
                    format!("{other:?}"),
                    "a band is a pair [lower_bound, multiplier] of finite numbers",
                ),
            }
        }
        if let (Some(c0), Some(eco_weight), Some(redline_uplift)) = (c0, a, beta) {
            f.key = Some(KeySubsidy {
                c0,
                eco_weight,
                redline_uplift,
                bands,
            });
        }
    }

    for (j, (tag, raw_m)) in raw.importance.iter().enumerate() {
        let t = tag_index(meta, tag, &at(&format!("importance.{tag}")), p.ctx);
        if let Some(m) = p.get(
            &at(&format!("importance.{tag}")),
            raw_m,
            FormulaParam::Importance(j),
            check::non_negative,
        ) {
            f.importance.push((t, m));
        }
    }
    for (j, (tag, raw_g)) in raw.guidance.iter().enumerate() {
        let t = tag_index(meta, tag, &at(&format!("guidance.{tag}")), p.ctx);
        if let Some(g) = p.get(
            &at(&format!("guidance.{tag}")),
            raw_g,
            FormulaParam::Guidance(j),
            check::non_negative,
        ) {
            f.guidance.push((t, g));
        }
    }

    let mut share_sum = 0.0;
    let pool_size = |p: &mut Params,
                     name: &str,
                     share: &Option<RawParam>,
                     amount: &Option<RawParam>,
                     param: FormulaParam,
                     share_sum: &mut f64|
     -> Option<PoolSize> {
        match (share, amount) {
            (Some(s), None) => {
                if budget.total.is_none() {
                    p.ctx.problem(&at(&format!("{name}.share")), "", "a pool given as a share needs budget.total; in open mode without a total give `amount` instead");
                    return None;
                }
                let s = p.get(
                    &at(&format!("{name}.share")),
                    s,
                    param,
                    check::unit_interval,
                )?;
                *share_sum += s;
                Some(PoolSize::Share(s))
            }
            (None, Some(a)) => Some(PoolSize::Amount(p.get(
                &at(&format!("{name}.amount")),
                a,
                param,
                check::non_negative,
            )?)),
            _ => {
                p.ctx.problem(
                    &at(name),
                    "",
                    "give exactly one of `share` (of budget.total) or `amount`",
                );
                None
            }
        }
    };
    if let Some(pa) = &raw.protected_areas {
        let size = pool_size(
            &mut p,
            "protected_areas",
            &pa.share,
            &pa.amount,
            FormulaParam::PaSize,
            &mut share_sum,
        );
        let w_area = p.opt(
            &at("protected_areas.w_area"),
            &pa.w_area,
            0.5,
            FormulaParam::PaWArea,
            check::non_negative,
        );
        let w_count = p.opt(
            &at("protected_areas.w_count"),
            &pa.w_count,
            0.5,
            FormulaParam::PaWCount,
            check::non_negative,
        );
        let w_score = p.opt(
            &at("protected_areas.w_score"),
            &pa.w_score,
            0.0,
            FormulaParam::PaWScore,
            check::unit_interval,
        );
        if let (Some(size), Some(w_area), Some(w_count), Some(w_score)) =
            (size, w_area, w_count, w_score)
        {
            f.protected_areas = Some(ProtectedAreaPool {
                size,
                w_area,
                w_count,
                w_score,
            });
        }
    }
    if let Some(rl) = &raw.redline {
        let size = pool_size(
            &mut p,
            "redline",
            &rl.share,
            &rl.amount,
            FormulaParam::RlSize,
            &mut share_sum,
        );
        let gamma = p.opt(
            &at("redline.gamma"),
            &rl.gamma,
            0.0,
            FormulaParam::RlGamma,
            check::non_negative,
        );
        let threshold = p.opt(
            &at("redline.threshold"),
            &rl.threshold,
            0.0,
            FormulaParam::RlThreshold,
            check::unit_interval,
        );
        if let (Some(size), Some(gamma), Some(threshold)) = (size, gamma, threshold) {
            f.redline = Some(RedlinePool {
                size,
                gamma,
                threshold,
            });
        }
    }
    if share_sum > 1.0 + 1e-12 {
        p.ctx.problem(
            &at("redline.share"),
            share_sum,
            "pool shares (protected_areas.share + redline.share) add up to more than 1",
        );
    }
    if let Some(r) = &raw.rangers {
        f.rangers = p.get(
            &at("rangers.unit_rate"),
            &r.unit_rate,
            FormulaParam::RangerRate,
            check::non_negative,
        );
    }
    if let Some(q) = &raw.quality {
        let path = at("quality.thresholds");
        let thresholds = match q.thresholds.as_slice() {
            [t1, t2, t3] if [t1, t2, t3].iter().all(|t| t.is_finite()) => {
                if !(0.0 < *t1 && t1 < t2 && t2 < t3) {
                    p.ctx.problem(
                        &path,
                        format!("{:?}", q.thresholds),
                        "thresholds [t1, t2, t3] must be positive and strictly increasing",
                    );
                    None
                } else {
                    Some([*t1, *t2, *t3])
                }
            }
            _ => {
                p.ctx.problem(
                    &path,
                    format!("{:?}", q.thresholds),
                    "must be three finite numbers [t1, t2, t3]",
                );
                None
            }
        };
        let reward = rates(
            &mut p,
            &at("quality.reward"),
            &q.reward,
            FormulaParam::Reward,
            check::non_negative,
        );
        let deduction = rates(
            &mut p,
            &at("quality.deduction"),
            &q.deduction,
            FormulaParam::Deduction,
            check::unit_interval,
        );
        if let (Some(thresholds), Some(reward), Some(deduction)) = (thresholds, reward, deduction) {
            f.quality = Some(Quality {
                thresholds,
                reward,
                deduction,
            });
        }
    }
    if let Some(r) = &raw.reverse_linkage {
        let lambda = p.get(
            &at("reverse_linkage.lambda"),
            &r.lambda,
            FormulaParam::Lambda,
            check::non_negative,
        );
        let max_cut = p.opt(
            &at("reverse_linkage.max_cut"),
            &r.max_cut,
            1.0,
            FormulaParam::MaxCut,
            check::unit_interval,
        );
        if let (Some(lambda), Some(max_cut)) = (lambda, max_cut) {
            f.reverse_linkage = Some(ReverseLinkage { lambda, max_cut });
        }
    }
    if let Some(fl) = &raw.floor
        && let Some(h) = p.opt(
            &at("floor.h"),
            &fl.h,
            1.0,
            FormulaParam::FloorH,
            check::non_negative,
        )
    {
        f.floor = Some(Floor {
            h,
            waived_on_violation: fl.waived_on_violation.unwrap_or(true),
        });
    }
    if let Some(c) = &raw.cap {
        f.cap = p.get(
            &at("cap.growth"),
            &c.growth,
            FormulaParam::CapGrowth,
            greater_than_minus_one,
        );
    }
    (p.ctx.problems.len() == before).then_some(f)
}

/// Rates for the three grades, indexed slightly, generally, markedly.
fn rates(
    p: &mut Params,
    path: &str,
    raw: &RawGradeRates,
    param: fn(usize) -> FormulaParam,
    check: fn(f64) -> Option<String>,
) -> Option<[f64; 3]> {
    let mut out = [0.0; 3];
    let mut ok = true;
    for (k, (name, r)) in [
        ("slightly", &raw.slightly),
        ("generally", &raw.generally),
        ("markedly", &raw.markedly),
    ]
    .into_iter()
    .enumerate()
    {
        match p.opt(&format!("{path}.{name}"), r, 0.0, param(k), check) {
            Some(v) => out[k] = v,
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Index of `tag` in the region tag list, adding it when no region carries it (a formula
/// may name a tag no region has; that is a warning, given by [`tag_warnings`]).
fn tag_index(meta: &mut RegionMeta, tag: &str, path: &str, ctx: &mut Ctx) -> u32 {
    if let Some(t) = meta.tag_index(tag) {
        return t;
    }
    if meta.tag_names.len() >= crate::model::region::MAX_TAGS {
        ctx.problem(
            path,
            tag,
            format!(
                "too many distinct tags (at most {})",
                crate::model::region::MAX_TAGS
            ),
        );
        return 0;
    }
    meta.tag_names.push(tag.to_string());
    (meta.tag_names.len() - 1) as u32
}

/// Warn about tags that formulas use but no region has, and the reverse.
pub fn tag_warnings(
    formulas: &[Formula],
    raw: &[RawFormula],
    meta: &RegionMeta,
    tags: &[u64],
    ctx: &mut Ctx,
) {
    let present: u64 = tags.iter().fold(0, |a, &t| a | t);
    let mut used = BTreeSet::new();
    for (i, (f, rf)) in formulas.iter().zip(raw).enumerate() {
        for &(t, _) in f.importance.iter().chain(&f.guidance) {
            used.insert(t);
            if present & (1u64 << t) == 0 {
                let kind = if rf.importance.contains_key(&meta.tag_names[t as usize]) {
                    "importance"
                } else {
                    "guidance"
                };
                ctx.warn(
                    &format!("formula[{i}].{kind}.{}", meta.tag_names[t as usize]),
                    format!(
                        "formula '{}' uses tag '{}' but no region has it",
                        f.name, meta.tag_names[t as usize]
                    ),
                );
            }
        }
    }
    for (t, name) in meta.tag_names.iter().enumerate() {
        if present & (1u64 << t) != 0 && !used.contains(&(t as u32)) {
            ctx.warn(
                "regions",
                format!("tag '{name}' is carried by regions but no formula uses it"),
            );
        }
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
        let multiplicative = match r.kind.as_str() {
            "additive" => false,
            "multiplicative" => true,
            other => {
                ctx.problem(
                    &at("kind"),
                    other,
                    "must be \"additive\" or \"multiplicative\"",
                );
                false
            }
        };
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
        if let (Some(column), true) = (column, ctx.problems.len() == before) {
            out.push(NoiseSpec {
                column,
                multiplicative,
                sigma,
                sigma_column: r.sigma_column.clone(),
                rho,
                min,
                max,
            });
        }
    }
    out
}
