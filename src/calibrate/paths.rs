//! Names of a formula's free coefficients: the formula's own field paths, as the scenario
//! file writes them (`key.redline_uplift`, `redline.share`, `importance.water_source`,
//! `per_unit.forest.rate`, …), resolved to the [`FormulaParam`] the allocator reads.

use crate::model::formula_param::FormulaParam;
use crate::model::region::RegionMeta;
use crate::model::{Formula, PoolSize};

const GRADES: [&str; 3] = ["slightly", "generally", "markedly"];

/// The paths [`resolve`] knows, for messages.
pub const KNOWN: &str = "key.c0, key.eco_weight, key.redline_uplift, importance.<tag>, \
protected_areas.share|amount|w_area|w_count|w_score, redline.share|amount|gamma|threshold, \
guidance.<tag>, rangers.unit_rate, quality.reward.<grade>, quality.deduction.<grade>, \
reverse_linkage.lambda|max_cut, floor.h, cap.growth, per_unit.<name>.rate, \
pool.<name>.share|amount, agreement_reward.<agreement>.amount, provincial.<k>.retain";

/// The parameter at `path` of formula `f`, or why there is none (the component is missing
/// from the formula, or the path is not a coefficient).
pub fn resolve(f: &Formula, meta: &RegionMeta, path: &str) -> Result<FormulaParam, String> {
    let parts: Vec<&str> = path.split('.').collect();
    let missing = |what: &str| Err(format!("formula '{}' has no {what}", f.name));
    let tag_pos = |table: &[(u32, f64)], tag: &str| {
        table
            .iter()
            .position(|&(t, _)| meta.tag_names.get(t as usize).is_some_and(|n| n == tag))
    };
    use FormulaParam as P;
    match parts.as_slice() {
        ["key", field] => match (&f.key, *field) {
            (None, _) => missing("[formula.key]"),
            (Some(_), "c0") => Ok(P::C0),
            (Some(_), "eco_weight") => Ok(P::EcoWeight),
            (Some(_), "redline_uplift") => Ok(P::RedlineUplift),
            _ => Err(unknown(path)),
        },
        ["importance", tag] => tag_pos(&f.importance, tag)
            .map(P::Importance)
            .ok_or_else(|| {
                format!(
                    "formula '{}' has no importance multiplier for tag '{tag}'",
                    f.name
                )
            }),
        ["guidance", tag] | ["guidance", "amounts", tag] => {
            tag_pos(&f.guidance, tag).map(P::Guidance).ok_or_else(|| {
                format!(
                    "formula '{}' has no guidance amount for tag '{tag}'",
                    f.name
                )
            })
        }
        ["protected_areas", field] => match (&f.protected_areas, *field) {
            (None, _) => missing("[formula.protected_areas]"),
            (Some(p), "share" | "amount") => sized(p.size, field, P::PaSize),
            (Some(_), "w_area") => Ok(P::PaWArea),
            (Some(_), "w_count") => Ok(P::PaWCount),
            (Some(_), "w_score") => Ok(P::PaWScore),
            _ => Err(unknown(path)),
        },
        ["redline", field] => match (&f.redline, *field) {
            (None, _) => missing("[formula.redline]"),
            (Some(p), "share" | "amount") => sized(p.size, field, P::RlSize),
            (Some(_), "gamma") => Ok(P::RlGamma),
            (Some(_), "threshold") => Ok(P::RlThreshold),
            _ => Err(unknown(path)),
        },
        ["rangers", "unit_rate"] if f.rangers.is_some() => Ok(P::RangerRate),
        ["rangers", "unit_rate"] => missing("[formula.rangers]"),
        ["quality", kind @ ("reward" | "deduction"), grade] => {
            let Some(g) = GRADES.iter().position(|x| x == grade) else {
                return Err(unknown(path));
            };
            match (&f.quality, *kind) {
                (None, _) => missing("[formula.quality]"),
                (Some(_), "reward") => Ok(P::Reward(g)),
                _ => Ok(P::Deduction(g)),
            }
        }
        ["reverse_linkage", field] => match (&f.reverse_linkage, *field) {
            (None, _) => missing("[formula.reverse_linkage]"),
            (Some(_), "lambda") => Ok(P::Lambda),
            (Some(_), "max_cut") => Ok(P::MaxCut),
            _ => Err(unknown(path)),
        },
        ["floor", "h"] if f.floor.is_some() => Ok(P::FloorH),
        ["floor", "h"] => missing("[formula.floor]"),
        ["cap", "growth"] if f.cap.is_some() => Ok(P::CapGrowth),
        ["cap", "growth"] => missing("[formula.cap]"),
        [
            array @ ("per_unit" | "pool" | "agreement_reward" | "provincial"),
            name,
            field,
        ] => named(f, path, array, name, field),
        _ => Err(unknown(path)),
    }
}

/// The coefficients of the named (or numbered) entries of a formula's arrays of tables.
fn named(
    f: &Formula,
    path: &str,
    array: &str,
    name: &str,
    field: &str,
) -> Result<FormulaParam, String> {
    use FormulaParam as P;
    match (array, field) {
        ("per_unit", "rate") => f
            .per_unit
            .iter()
            .position(|c| c.name == name)
            .map(P::PerUnitRate)
            .ok_or_else(|| format!("formula '{}' has no per-unit component '{name}'", f.name)),
        ("pool", "share" | "amount") => match f.pools.iter().position(|p| p.name == name) {
            Some(k) => sized(f.pools[k].size, field, P::PoolSize(k)),
            None => Err(format!("formula '{}' has no pool '{name}'", f.name)),
        },
        ("agreement_reward", "amount") => f
            .rewards
            .iter()
            .position(|r| r.agreement.name == name)
            .map(P::RewardAmount)
            .ok_or_else(|| format!("formula '{}' has no reward for agreement '{name}'", f.name)),
        ("provincial", "retain") => match name.parse::<usize>() {
            Ok(k) if k < f.provincial.len() => Ok(P::Retain(k)),
            _ => Err(format!(
                "formula '{}' has no provincial method {name}",
                f.name
            )),
        },
        _ => Err(unknown(path)),
    }
}

/// `param` when a pool given as `size` is addressed by the matching `field` (`share` or
/// `amount`).
fn sized(size: PoolSize, field: &str, param: FormulaParam) -> Result<FormulaParam, String> {
    match (size, field) {
        (PoolSize::Share(_), "share") | (PoolSize::Amount(_), "amount") => Ok(param),
        (PoolSize::Share(_), _) => Err(format!("the pool is given as a share, not `{field}`")),
        (PoolSize::Amount(_), _) => Err(format!("the pool is given as an amount, not `{field}`")),
    }
}

fn unknown(path: &str) -> String {
    format!("'{path}' is not a coefficient path; the paths are {KNOWN}")
}

/// The current value of `param` in `f` (what [`FormulaParam::set`] writes; NaN when the
/// component is missing).
pub fn value(f: &Formula, param: FormulaParam) -> f64 {
    use FormulaParam as P;
    let pool = |s: PoolSize| match s {
        PoolSize::Share(v) | PoolSize::Amount(v) => v,
    };
    let v = match param {
        P::C0 => f.key.as_ref().map(|k| k.c0),
        P::EcoWeight => f.key.as_ref().map(|k| k.eco_weight),
        P::RedlineUplift => f.key.as_ref().map(|k| k.redline_uplift),
        P::Importance(i) => f.importance.get(i).map(|e| e.1),
        P::PaSize => f.protected_areas.as_ref().map(|p| pool(p.size)),
        P::PaWArea => f.protected_areas.as_ref().map(|p| p.w_area),
        P::PaWCount => f.protected_areas.as_ref().map(|p| p.w_count),
        P::PaWScore => f.protected_areas.as_ref().map(|p| p.w_score),
        P::RlSize => f.redline.as_ref().map(|p| pool(p.size)),
        P::RlGamma => f.redline.as_ref().map(|p| p.gamma),
        P::RlThreshold => f.redline.as_ref().map(|p| p.threshold),
        P::Guidance(i) => f.guidance.get(i).map(|e| e.1),
        P::RangerRate => f.rangers,
        P::Reward(i) => f.quality.as_ref().map(|q| q.reward[i]),
        P::Deduction(i) => f.quality.as_ref().map(|q| q.deduction[i]),
        P::Lambda => f.reverse_linkage.as_ref().map(|r| r.lambda),
        P::MaxCut => f.reverse_linkage.as_ref().map(|r| r.max_cut),
        P::FloorH => f.floor.as_ref().map(|r| r.h),
        P::CapGrowth => f.cap,
        P::PerUnitRate(i) => f.per_unit.get(i).map(|p| p.rate),
        P::PoolSize(i) => f.pools.get(i).map(|p| pool(p.size)),
        P::RewardAmount(i) => f.rewards.get(i).map(|r| r.amount),
        P::Retain(i) => f.provincial.get(i).map(|p| p.retain),
    };
    v.unwrap_or(f64::NAN)
}
