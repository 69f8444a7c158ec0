//! Validation of the scenario's formulas (`[[formula]]` tables): each component's
//! parameters, with the uncertain ones recorded as they are read, and the tags the
//! formulas name. Each check records a [`crate::error::Problem`] and carries on, so the
//! user sees every problem at once.

use super::ctx::{Ctx, check};
use super::raw::{
    RawFloor, RawFormula, RawGradeRates, RawGuidance, RawKey, RawPaPool, RawQuality, RawRedline,
    RawReverseLinkage,
};
use crate::model::Agreement;
use crate::model::UncertainParam;
use crate::model::formula_param::{FormulaParam, Target};
use crate::model::param::RawParam;
use crate::model::path::Scheduled;
use crate::model::region::{RegionData, RegionMeta};
use crate::model::{
    Budget, Floor, Formula, GuidanceCombine, KeySubsidy, PoolSize, ProtectedAreaPool, Quality,
    RedlinePool, ReverseLinkage, WaivedOn,
};
use std::collections::{BTreeMap, BTreeSet};

/// Records uncertain parameters while formulas are validated.
pub(super) struct Params<'a, 'c, 's> {
    pub(super) ctx: &'a mut Ctx<'s>,
    uncertain: &'c mut Vec<UncertainParam>,
    formula: usize,
}

impl Params<'_, '_, '_> {
    /// The key path of the formula's key `k`.
    pub(super) fn at(&self, k: &str) -> String {
        format!("formula[{}].{k}", self.formula)
    }

    /// Validate one scalar; record it as uncertain when it is a distribution.
    pub(super) fn get(
        &mut self,
        path: &str,
        raw: &RawParam,
        param: FormulaParam,
        check: impl Fn(f64) -> Option<String>,
    ) -> Option<f64> {
        if let RawParam::List(items) = raw {
            return self.per_year(path, items, param, check);
        }
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

    /// A parameter with one value per year of `[path]`: each checked like a single
    /// value; the formula holds year 1's central value.
    fn per_year(
        &mut self,
        path: &str,
        items: &[RawParam],
        param: FormulaParam,
        check: impl Fn(f64) -> Option<String>,
    ) -> Option<f64> {
        let years = self.ctx.years.len();
        if years == 0 {
            let value = format!("a list of {}", items.len());
            self.ctx.problem(path, value, "one value per year is allowed only in a scenario with a [path] table; give a number or a distribution table");
            return None;
        }
        if items.len() != years {
            let shown = self.ctx.years_shown();
            self.ctx.problem(
                path,
                format!("a list of {}", items.len()),
                format!("a per-year list needs one value per year of [path]: {years} for {shown}"),
            );
            return None;
        }
        let mut values = Vec::with_capacity(years);
        for (t, item) in items.iter().enumerate() {
            if let RawParam::List(_) = item {
                self.ctx.problem(
                    &format!("{path}[{t}]"),
                    "a list",
                    "a year's value is a number or a distribution table, not a list",
                );
                return None;
            }
            let (_, u) = self.ctx.param_in(&format!("{path}[{t}]"), item, &check)?;
            values.push(u);
        }
        let first = values[0].central();
        self.ctx.schedule.push(Scheduled {
            path: path.to_string(),
            target: Target::Formula {
                formula: self.formula,
                param,
            },
            values,
        });
        Some(first)
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

/// What a formula's components refer to besides the tags: the region columns (general
/// pools' weights are checked on them), the scenario's agreements (for rewards) and year.
pub struct Scope<'a> {
    pub data: &'a RegionData,
    pub agreements: &'a [Agreement],
    pub year: Option<i64>,
    /// Every formula of the scenario, for the provinces' methods.
    pub formulas: &'a [RawFormula],
}

/// Validate one formula. `meta` supplies the tag names the regions use.
#[allow(clippy::too_many_arguments)]
pub fn formula(
    raw: &RawFormula,
    index: usize,
    meta: &mut RegionMeta,
    scope: &Scope,
    budget: &Budget,
    ctx: &mut Ctx,
    uncertain: &mut Vec<UncertainParam>,
) -> Option<Formula> {
    let before = ctx.problems.len();
    let mut f = Formula::empty(&raw.name);
    f.description = raw.description.clone();
    if raw.name.trim().is_empty() {
        ctx.problem(
            &format!("formula[{index}].name"),
            "\"\"",
            "must not be empty",
        );
    }
    let mut p = Params {
        ctx,
        uncertain,
        formula: index,
    };
    if let Some(k) = &raw.key {
        f.key = key_subsidy(&mut p, k);
        if let (Some(key), Some(tags)) = (f.key.as_mut(), &k.eco_weight_tags) {
            key.eco_weight_tags = tag_list(&mut p, meta, "key.eco_weight_tags", tags);
        }
    }
    f.importance = tagged(&mut p, meta, "importance", &raw.importance, |j| {
        FormulaParam::Importance(j)
    });
    if let Some(g) = &raw.guidance {
        let (combine, field, amounts) = guidance_form(&mut p, g);
        f.guidance_combine = combine;
        f.guidance = tagged(&mut p, meta, field, amounts, FormulaParam::Guidance);
    }
    let mut share_sum = 0.0;
    if let Some(pa) = &raw.protected_areas {
        f.protected_areas = protected_areas(&mut p, budget, pa, &mut share_sum);
    }
    if let Some(rl) = &raw.redline {
        f.redline = redline(&mut p, budget, rl, &mut share_sum);
    }
    super::classified::components(&mut p, meta, scope, budget, raw, &mut f, &mut share_sum);
    if share_sum > 1.0 + 1e-12 {
        let path = p.at("redline.share");
        p.ctx.problem(
            &path,
            share_sum,
            "pool shares (protected_areas, redline and [[formula.pool]] shares) add up to more \
             than 1",
        );
    }
    if let Some(r) = &raw.rangers {
        f.rangers = p.get(
            &p.at("rangers.unit_rate"),
            &r.unit_rate,
            FormulaParam::RangerRate,
            check::non_negative,
        );
    }
    if let Some(q) = &raw.quality {
        f.quality = quality(&mut p, q);
    }
    if let Some(r) = &raw.reverse_linkage {
        f.reverse_linkage = reverse_linkage(&mut p, r);
        if let (Some(rl), Some(tags)) = (f.reverse_linkage.as_mut(), &r.tags) {
            rl.tags = tag_list(&mut p, meta, "reverse_linkage.tags", tags);
        }
    }
    if let Some(fl) = &raw.floor
        && let Some(h) = p.opt(
            &p.at("floor.h"),
            &fl.h,
            1.0,
            FormulaParam::FloorH,
            check::non_negative,
        )
    {
        let waived_on = waived_on(&mut p, fl);
        f.floor = waived_on.map(|waived_on| Floor { h, waived_on });
    }
    if let Some(c) = &raw.cap {
        f.cap = p.get(
            &p.at("cap.growth"),
            &c.growth,
            FormulaParam::CapGrowth,
            greater_than_minus_one,
        );
    }
    (p.ctx.problems.len() == before).then_some(f)
}

/// The key subsidy: its coefficients and its bands.
fn key_subsidy(p: &mut Params, k: &RawKey) -> Option<KeySubsidy> {
    let c0 = p.get(
        &p.at("key.c0"),
        &k.c0,
        FormulaParam::C0,
        check::non_negative,
    );
    let a = p.opt(
        &p.at("key.eco_weight"),
        &k.eco_weight,
        0.0,
        FormulaParam::EcoWeight,
        check::non_negative,
    );
    let beta = p.opt(
        &p.at("key.redline_uplift"),
        &k.redline_uplift,
        0.0,
        FormulaParam::RedlineUplift,
        check::non_negative,
    );
    let mut bands = Vec::with_capacity(k.bands.len());
    for (j, b) in k.bands.iter().enumerate() {
        let path = p.at(&format!("key.bands[{j}]"));
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
    let (c0, eco_weight, redline_uplift) = (c0?, a?, beta?);
    Some(KeySubsidy {
        c0,
        eco_weight,
        redline_uplift,
        eco_weight_tags: Vec::new(),
        bands,
    })
}

/// The per-tag values of table `field` (importance multipliers, guidance amounts), the
/// j-th of them uncertain as parameter `param(j)`.
fn tagged(
    p: &mut Params,
    meta: &mut RegionMeta,
    field: &str,
    raw: &BTreeMap<String, RawParam>,
    param: fn(usize) -> FormulaParam,
) -> Vec<(u32, f64)> {
    let mut out = Vec::new();
    for (j, (tag, raw_v)) in raw.iter().enumerate() {
        let path = p.at(&format!("{field}.{tag}"));
        let t = tag_index(meta, tag, &path, p.ctx);
        if let Some(v) = p.get(&path, raw_v, param(j), check::non_negative) {
            out.push((t, v));
        }
    }
    out
}

/// The size of pool `name`: a `share` of the budget total or an `amount`; shares are
/// added to `share_sum`.
pub(super) fn pool_size(
    p: &mut Params,
    budget: &Budget,
    name: &str,
    (share, amount): (&Option<RawParam>, &Option<RawParam>),
    param: FormulaParam,
    share_sum: &mut f64,
) -> Option<PoolSize> {
    match (share, amount) {
        (Some(s), None) => {
            if budget.total.is_none() {
                p.ctx.problem(&p.at(&format!("{name}.share")), "", "a pool given as a share needs budget.total; in open mode without a total give `amount` instead");
                return None;
            }
            let s = p.get(
                &p.at(&format!("{name}.share")),
                s,
                param,
                check::unit_interval,
            )?;
            *share_sum += s;
            Some(PoolSize::Share(s))
        }
        (None, Some(a)) => Some(PoolSize::Amount(p.get(
            &p.at(&format!("{name}.amount")),
            a,
            param,
            check::non_negative,
        )?)),
        _ => {
            p.ctx.problem(
                &p.at(name),
                "",
                "give exactly one of `share` (of budget.total) or `amount`",
            );
            None
        }
    }
}

/// The protected-area pool: its size and the weights of area, count and score.
fn protected_areas(
    p: &mut Params,
    budget: &Budget,
    pa: &RawPaPool,
    share_sum: &mut f64,
) -> Option<ProtectedAreaPool> {
    let size = pool_size(
        p,
        budget,
        "protected_areas",
        (&pa.share, &pa.amount),
        FormulaParam::PaSize,
        share_sum,
    );
    let w_area = p.opt(
        &p.at("protected_areas.w_area"),
        &pa.w_area,
        0.5,
        FormulaParam::PaWArea,
        check::non_negative,
    );
    let w_count = p.opt(
        &p.at("protected_areas.w_count"),
        &pa.w_count,
        0.5,
        FormulaParam::PaWCount,
        check::non_negative,
    );
    let w_score = p.opt(
        &p.at("protected_areas.w_score"),
        &pa.w_score,
        0.0,
        FormulaParam::PaWScore,
        check::unit_interval,
    );
    let (size, w_area, w_count, w_score) = (size?, w_area?, w_count?, w_score?);
    Some(ProtectedAreaPool {
        size,
        w_area,
        w_count,
        w_score,
    })
}

/// The red-line pool: its size, exponent and coverage threshold.
fn redline(
    p: &mut Params,
    budget: &Budget,
    rl: &RawRedline,
    share_sum: &mut f64,
) -> Option<RedlinePool> {
    let size = pool_size(
        p,
        budget,
        "redline",
        (&rl.share, &rl.amount),
        FormulaParam::RlSize,
        share_sum,
    );
    let gamma = p.opt(
        &p.at("redline.gamma"),
        &rl.gamma,
        0.0,
        FormulaParam::RlGamma,
        check::non_negative,
    );
    let threshold = p.opt(
        &p.at("redline.threshold"),
        &rl.threshold,
        0.0,
        FormulaParam::RlThreshold,
        check::unit_interval,
    );
    let (size, gamma, threshold) = (size?, gamma?, threshold?);
    Some(RedlinePool {
        size,
        gamma,
        threshold,
    })
}

/// The reverse linkage: its rate and its largest cut.
fn reverse_linkage(p: &mut Params, r: &RawReverseLinkage) -> Option<ReverseLinkage> {
    let lambda = p.get(
        &p.at("reverse_linkage.lambda"),
        &r.lambda,
        FormulaParam::Lambda,
        check::non_negative,
    );
    let max_cut = p.opt(
        &p.at("reverse_linkage.max_cut"),
        &r.max_cut,
        1.0,
        FormulaParam::MaxCut,
        check::unit_interval,
    );
    Some(ReverseLinkage {
        lambda: lambda?,
        max_cut: max_cut?,
        tags: Vec::new(),
    })
}

/// The quality adjustment: its grade thresholds, reward rates and deduction rates.
fn quality(p: &mut Params, q: &RawQuality) -> Option<Quality> {
    let path = p.at("quality.thresholds");
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
        p,
        &p.at("quality.reward"),
        &q.reward,
        FormulaParam::Reward,
        check::non_negative,
    );
    let deduction = rates(
        p,
        &p.at("quality.deduction"),
        &q.deduction,
        FormulaParam::Deduction,
        check::unit_interval,
    );
    let (thresholds, reward, deduction) = (thresholds?, reward?, deduction?);
    Some(Quality {
        thresholds,
        reward,
        deduction,
    })
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
/// How a formula's guidance combines, where its amounts are written, and the amounts.
fn guidance_form<'r>(
    p: &mut Params,
    g: &'r RawGuidance,
) -> (
    GuidanceCombine,
    &'static str,
    &'r BTreeMap<String, RawParam>,
) {
    match g {
        RawGuidance::Summed(amounts) => (GuidanceCombine::Sum, "guidance", amounts),
        RawGuidance::Combined(c) => {
            let combine = match c.combine.as_deref() {
                None | Some("highest") => GuidanceCombine::Highest,
                Some("sum") => GuidanceCombine::Sum,
                Some(other) => {
                    let path = p.at("guidance.combine");
                    p.ctx
                        .problem(&path, other, "must be \"highest\" or \"sum\"");
                    GuidanceCombine::Highest
                }
            };
            (combine, "guidance.amounts", &c.amounts)
        }
    }
}

/// The tag indices of a list of tag names at `field` (an empty list is a problem: it would
/// limit the rule to nobody; leave the key out to apply it to every region).
pub(super) fn tag_list(
    p: &mut Params,
    meta: &mut RegionMeta,
    field: &str,
    tags: &[String],
) -> Vec<u32> {
    let path = p.at(field);
    if tags.is_empty() {
        p.ctx.problem(
            &path,
            "[]",
            "an empty list applies the rule to no region; leave the key out to apply it to every region",
        );
    }
    tags.iter()
        .map(|t| tag_index(meta, t, &path, p.ctx))
        .collect()
}

/// The violations that waive a floor: `waived_on = ["worse_grade", "damage"]`, or the
/// earlier `waived_on_violation = true | false`; both violations by default.
fn waived_on(p: &mut Params, fl: &RawFloor) -> Option<WaivedOn> {
    match (&fl.waived_on, fl.waived_on_violation) {
        (Some(_), Some(_)) => {
            let path = p.at("floor.waived_on_violation");
            p.ctx.problem(
                &path,
                "",
                "give either `waived_on` or the older `waived_on_violation`, not both",
            );
            None
        }
        (None, Some(true)) | (None, None) => Some(WaivedOn::BOTH),
        (None, Some(false)) => Some(WaivedOn::NONE),
        (Some(list), None) => {
            let mut w = WaivedOn::NONE;
            for item in list {
                match item.as_str() {
                    "worse_grade" => w.worse_grade = true,
                    "damage" => w.damage = true,
                    other => {
                        let path = p.at("floor.waived_on");
                        p.ctx.problem(
                            &path,
                            other,
                            "unknown violation; the list takes \"worse_grade\" and \"damage\"",
                        );
                        return None;
                    }
                }
            }
            Some(w)
        }
    }
}

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
    // Per tag that no region carries: the formulas that use it, and where the first does
    // (one warning per tag, however many formulas use it).
    let mut missing: BTreeMap<u32, (String, Vec<&str>)> = BTreeMap::new();
    for (i, (f, rf)) in formulas.iter().zip(raw).enumerate() {
        for &(t, _) in f.importance.iter().chain(&f.guidance) {
            used.insert(t);
            if present & (1u64 << t) == 0 {
                let kind = if rf.importance.contains_key(&meta.tag_names[t as usize]) {
                    "importance"
                } else {
                    "guidance"
                };
                let at = format!("formula[{i}].{kind}.{}", meta.tag_names[t as usize]);
                let entry = missing.entry(t).or_insert((at, Vec::new()));
                if !entry.1.contains(&f.name.as_str()) {
                    entry.1.push(&f.name);
                }
            }
        }
    }
    for (t, (at, names)) in missing {
        let (s, list) = if names.len() == 1 {
            ("", format!("'{}'", names[0]))
        } else {
            (
                "s",
                names
                    .iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        ctx.warn(
            &at,
            format!(
                "formula{s} {list} use{} tag '{}' but no region has it",
                if names.len() == 1 { "s" } else { "" },
                meta.tag_names[t as usize]
            ),
        );
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
