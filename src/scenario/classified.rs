//! Validation of the classified-compensation components of a formula (docs/model.md §1.2
//! items 6 and 7): `[[formula.per_unit]]` (`rate · column`) and `[[formula.pool]]` (a pool
//! split by a weight expression). Column names resolve to the built-in region columns and
//! the columns declared in `[regions] extra`; each pool's weights are checked on the
//! loaded regions, so a negative or non-finite weight is reported with its region.

use super::ctx::check;
use super::formula_validate::{Params, Scope, pool_size, tag_list};
use super::raw::{RawAgreementReward, RawFormula, RawPerUnit, RawPool, RawProvincial};
use crate::model::expr::{Expr, resolve};
use crate::model::formula_param::FormulaParam;
use crate::model::region::{RegionData, RegionMeta};
use crate::model::{
    AgreementReward, Budget, Formula, GeneralPool, PerUnit, Provincial, RewardBasis,
};
use std::sync::Arc;

/// A component name usable as a column header: letters, digits and underscores.
fn name_ok(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Validate the per-unit components and general pools of `raw` into `f`; pool shares are
/// added to `share_sum`.
pub(super) fn components(
    p: &mut Params,
    meta: &mut RegionMeta,
    scope: &Scope,
    budget: &Budget,
    raw: &RawFormula,
    f: &mut Formula,
    share_sum: &mut f64,
) {
    let mut names: Vec<&str> = Vec::new();
    for (k, r) in raw.per_unit.iter().enumerate() {
        check_name(p, &format!("per_unit[{k}].name"), &r.name, &mut names);
        if let Some(c) = per_unit(p, meta, k, r) {
            f.per_unit.push(c);
        }
    }
    for (k, r) in raw.pool.iter().enumerate() {
        check_name(p, &format!("pool[{k}].name"), &r.name, &mut names);
        if let Some(c) = pool(p, meta, scope.data, budget, k, r, share_sum) {
            f.pools.push(c);
        }
    }
    for (k, r) in raw.agreement_reward.iter().enumerate() {
        if let Some(c) = reward(p, meta, scope, k, r) {
            f.rewards.push(c);
        }
    }
    let mut covered = vec![false; meta.groups.len()];
    for (k, r) in raw.provincial.iter().enumerate() {
        if let Some(c) = provincial(p, meta, scope, raw, k, r, &mut covered) {
            f.provincial.push(c);
        }
    }
}

/// A province's method (two tiers, docs/model.md §1.6): its groups (each covered by at
/// most one method of the formula), the formula it allocates by (another formula of the
/// scenario, with no methods of its own) and the share it retains.
fn provincial(
    p: &mut Params,
    meta: &RegionMeta,
    scope: &Scope,
    raw: &RawFormula,
    k: usize,
    r: &RawProvincial,
    covered: &mut [bool],
) -> Option<Provincial> {
    let at = |f: &str| format!("provincial[{k}].{f}");
    let before = p.ctx.problems.len();
    let groups = match &r.groups {
        toml::Value::String(s) if s == "all" => None,
        toml::Value::Array(list) => {
            let mut idx = Vec::new();
            for v in list {
                let name = v.as_str().unwrap_or_default();
                match meta.groups.iter().position(|g| g == name) {
                    Some(g) => idx.push(g as u32),
                    None => {
                        let path = p.at(&at("groups"));
                        p.ctx.problem(
                            &path,
                            v,
                            format!(
                                "names no group of the regions; the groups are {}",
                                meta.groups.join(", ")
                            ),
                        );
                    }
                }
            }
            Some(idx)
        }
        other => {
            let path = p.at(&at("groups"));
            p.ctx
                .problem(&path, other, "must be a list of group names, or \"all\"");
            None
        }
    };
    let all: Vec<u32> = (0..meta.groups.len() as u32).collect();
    for &g in groups.as_ref().unwrap_or(&all) {
        if std::mem::replace(&mut covered[g as usize], true) {
            let path = p.at(&at("groups"));
            p.ctx.problem(
                &path,
                &meta.groups[g as usize],
                "this group already has a method in this formula; give each group one",
            );
        }
    }
    let method = scope.formulas.iter().position(|f| f.name == r.method);
    let path = p.at(&at("method"));
    match method {
        None => p.ctx.problem(
            &path,
            &r.method,
            format!(
                "names no [[formula]]; the formulas are {}",
                scope
                    .formulas
                    .iter()
                    .map(|f| format!("'{}'", f.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(_) if r.method == raw.name => p.ctx.problem(
            &path,
            &r.method,
            "names the formula itself; a province's method must be another formula",
        ),
        Some(m) if !scope.formulas[m].provincial.is_empty() => p.ctx.problem(
            &path,
            &r.method,
            "names a formula that has provincial methods of its own; a method allocates \
             within one province and cannot pass money down again",
        ),
        Some(_) => {}
    }
    let retain = match &r.retain {
        Some(raw_r) => p.get(&p.at(&at("retain")), raw_r, FormulaParam::Retain(k), |v| {
            (!(0.0..1.0).contains(&v))
                .then(|| "must be in [0, 1): the share of its total a province keeps".into())
        }),
        None => Some(0.0),
    };
    if p.ctx.problems.len() > before {
        return None;
    }
    Some(Provincial {
        groups,
        method: method?,
        method_name: r.method.clone(),
        retain: retain?,
    })
}

/// An agreement reward: the agreement by name, its parties matched to regions by id or
/// name (every party must match one), the periods in the scenario's year, and the factors
/// of the point estimate (the agreement settled at its central inputs).
fn reward(
    p: &mut Params,
    meta: &RegionMeta,
    scope: &Scope,
    k: usize,
    r: &RawAgreementReward,
) -> Option<AgreementReward> {
    let at = |f: &str| format!("agreement_reward[{k}].{f}");
    let amount = p.get(
        &p.at(&at("amount")),
        &r.amount,
        FormulaParam::RewardAmount(k),
        check::non_negative,
    );
    let basis = match r.basis.as_deref() {
        None | Some("participation") => Some(RewardBasis::Participation),
        Some("performance") => Some(RewardBasis::Performance),
        Some(other) => {
            let path = p.at(&at("basis"));
            p.ctx
                .problem(&path, other, "must be \"participation\" or \"performance\"");
            None
        }
    };
    let Some(a) = scope.agreements.iter().find(|a| a.name == r.agreement) else {
        let names: Vec<String> = scope
            .agreements
            .iter()
            .map(|a| format!("'{}'", a.name))
            .collect();
        let path = p.at(&at("agreement"));
        p.ctx.problem(
            &path,
            &r.agreement,
            if names.is_empty() {
                "names no [[agreement]]: the scenario has none".to_string()
            } else {
                format!(
                    "names no [[agreement]]; the scenario's agreements are {}",
                    names.join(", ")
                )
            },
        );
        return None;
    };
    let mut parties = Vec::new();
    for (party, name) in a.parties.iter().enumerate() {
        let region = (0..meta.id.len()).find(|&i| &meta.id[i] == name || &meta.name[i] == name);
        match region {
            Some(i) => parties.push((i, party)),
            None => {
                let path = p.at(&at("agreement"));
                p.ctx.problem(
                    &path,
                    &r.agreement,
                    format!(
                        "party '{name}' of agreement '{}' matches no region's id or name, so \
                         its reward has no recipient; name the party as its region is named",
                        a.name
                    ),
                );
            }
        }
    }
    let periods: Vec<usize> = match scope.year {
        Some(y) => (0..a.periods.len())
            .filter(|&t| a.periods[t].trim() == y.to_string())
            .collect(),
        None => (0..a.periods.len()).collect(),
    };
    if periods.is_empty() {
        let path = p.at(&at("agreement"));
        p.ctx.warn(
            &path,
            format!(
                "agreement '{}' has no period in the scenario's year {}, so its reward pays \
                 nothing",
                a.name,
                scope.year.unwrap_or_default()
            ),
        );
    }
    let mut reward = AgreementReward {
        agreement: Arc::new(a.clone()),
        amount: amount?,
        basis: basis?,
        parties,
        periods,
        factor: Vec::new(),
    };
    let s = crate::horizontal::settle_point(a);
    crate::horizontal::rewards::reward_factors(&mut reward, &s, scope.data.n);
    Some(reward)
}

/// A name unique among the formula's per-unit components and pools, usable as a column.
fn check_name<'r>(p: &mut Params, field: &str, name: &'r str, names: &mut Vec<&'r str>) {
    let at = p.at(field);
    if !name_ok(name) {
        p.ctx.problem(
            &at,
            name,
            "must be a non-empty name of letters, digits and underscores (it names a \
             breakdown.csv column)",
        );
    } else if names.contains(&name) {
        p.ctx.problem(
            &at,
            name,
            "is used twice; every per-unit component and pool of a formula needs its own name",
        );
    }
    names.push(name);
}

fn per_unit(p: &mut Params, meta: &mut RegionMeta, k: usize, r: &RawPerUnit) -> Option<PerUnit> {
    let column = resolve(meta, &r.column);
    if column.is_none() {
        let at = p.at(&format!("per_unit[{k}].column"));
        p.ctx.problem(
            &at,
            &r.column,
            format!(
                "per-unit component '{}': unknown column; use a region column or declare it in \
                 [regions] extra",
                r.name
            ),
        );
    }
    let rate = p.get(
        &p.at(&format!("per_unit[{k}].rate")),
        &r.rate,
        FormulaParam::PerUnitRate(k),
        check::non_negative,
    );
    let tags = match &r.tags {
        Some(t) => tag_list(p, meta, &format!("per_unit[{k}].tags"), t),
        None => Vec::new(),
    };
    Some(PerUnit {
        name: r.name.clone(),
        column: column?,
        rate: rate?,
        tags,
    })
}

fn pool(
    p: &mut Params,
    meta: &RegionMeta,
    data: &RegionData,
    budget: &Budget,
    k: usize,
    r: &RawPool,
    share_sum: &mut f64,
) -> Option<GeneralPool> {
    let size = pool_size(
        p,
        budget,
        &format!("pool[{k}]"),
        (&r.share, &r.amount),
        FormulaParam::PoolSize(k),
        share_sum,
    );
    let at = p.at(&format!("pool[{k}].weight"));
    let weight = match Expr::parse(&r.weight, &|name| resolve(meta, name)) {
        Ok(e) => e,
        Err(e) => {
            p.ctx.problem(
                &at,
                &r.weight,
                format!("pool '{}': the weight expression is invalid: {e}", r.name),
            );
            return None;
        }
    };
    let mut w = Vec::new();
    weight.eval(data, &mut w);
    if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
        p.ctx.problem(
            &at,
            &r.weight,
            format!(
                "pool '{}': the weight is {} for region '{}' ({}); a weight must be a finite \
                 number ≥ 0 for every region",
                r.name, w[i], meta.id[i], meta.name[i]
            ),
        );
        return None;
    }
    Some(GeneralPool {
        name: r.name.clone(),
        size: size?,
        weight,
        weight_text: r.weight.clone(),
    })
}
