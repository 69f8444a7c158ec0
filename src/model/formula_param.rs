//! Addresses of the scalar formula parameters that a scenario can make uncertain
//! (docs/model.md §3.1), so the Monte Carlo engine can write a sampled value into a per-worker
//! copy of a [`Formula`] without any lookup by name.

use super::formula::{Budget, Formula, PoolSize};

/// One scalar of a [`Formula`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormulaParam {
    C0,
    EcoWeight,
    RedlineUplift,
    /// Multiplier of the n-th `importance` entry.
    Importance(usize),
    PaSize,
    PaWArea,
    PaWCount,
    PaWScore,
    RlSize,
    RlGamma,
    RlThreshold,
    /// Amount of the n-th `guidance` entry.
    Guidance(usize),
    RangerRate,
    /// Reward rate for slightly (0), generally (1), markedly (2) better.
    Reward(usize),
    /// Deduction rate for slightly (0), generally (1), markedly (2) worse.
    Deduction(usize),
    Lambda,
    MaxCut,
    FloorH,
    CapGrowth,
    /// Rate of the n-th per-unit component.
    PerUnitRate(usize),
    /// Share or amount of the n-th general pool.
    PoolSize(usize),
    /// Amount of the n-th agreement reward.
    RewardAmount(usize),
    /// Retained share of the n-th provincial method.
    Retain(usize),
}

/// What an uncertain scalar feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    BudgetTotal,
    Formula { formula: usize, param: FormulaParam },
}

fn pool_value(size: &mut PoolSize) -> &mut f64 {
    match size {
        PoolSize::Share(v) | PoolSize::Amount(v) => v,
    }
}

impl FormulaParam {
    /// Write `v` into the parameter. A parameter whose component is switched off is left
    /// alone (validation only creates addresses for components that exist).
    pub fn set(self, f: &mut Formula, v: f64) {
        let slot: Option<&mut f64> = match self {
            FormulaParam::C0 => f.key.as_mut().map(|k| &mut k.c0),
            FormulaParam::EcoWeight => f.key.as_mut().map(|k| &mut k.eco_weight),
            FormulaParam::RedlineUplift => f.key.as_mut().map(|k| &mut k.redline_uplift),
            FormulaParam::Importance(i) => f.importance.get_mut(i).map(|e| &mut e.1),
            FormulaParam::PaSize => f.protected_areas.as_mut().map(|p| pool_value(&mut p.size)),
            FormulaParam::PaWArea => f.protected_areas.as_mut().map(|p| &mut p.w_area),
            FormulaParam::PaWCount => f.protected_areas.as_mut().map(|p| &mut p.w_count),
            FormulaParam::PaWScore => f.protected_areas.as_mut().map(|p| &mut p.w_score),
            FormulaParam::RlSize => f.redline.as_mut().map(|p| pool_value(&mut p.size)),
            FormulaParam::RlGamma => f.redline.as_mut().map(|p| &mut p.gamma),
            FormulaParam::RlThreshold => f.redline.as_mut().map(|p| &mut p.threshold),
            FormulaParam::Guidance(i) => f.guidance.get_mut(i).map(|e| &mut e.1),
            FormulaParam::RangerRate => f.rangers.as_mut(),
            FormulaParam::Reward(i) => f.quality.as_mut().and_then(|q| q.reward.get_mut(i)),
            FormulaParam::Deduction(i) => f.quality.as_mut().and_then(|q| q.deduction.get_mut(i)),
            FormulaParam::Lambda => f.reverse_linkage.as_mut().map(|r| &mut r.lambda),
            FormulaParam::MaxCut => f.reverse_linkage.as_mut().map(|r| &mut r.max_cut),
            FormulaParam::FloorH => f.floor.as_mut().map(|r| &mut r.h),
            FormulaParam::CapGrowth => f.cap.as_mut(),
            FormulaParam::PerUnitRate(i) => f.per_unit.get_mut(i).map(|p| &mut p.rate),
            FormulaParam::PoolSize(i) => f.pools.get_mut(i).map(|p| pool_value(&mut p.size)),
            FormulaParam::RewardAmount(i) => f.rewards.get_mut(i).map(|r| &mut r.amount),
            FormulaParam::Retain(i) => f.provincial.get_mut(i).map(|p| &mut p.retain),
        };
        if let Some(s) = slot {
            *s = v;
        }
    }
}

impl Target {
    /// Write `v` into the budget or the formula it addresses.
    pub fn set(self, budget: &mut Budget, formulas: &mut [Formula], v: f64) {
        match self {
            Target::BudgetTotal => budget.total = Some(v),
            Target::Formula { formula, param } => {
                if let Some(f) = formulas.get_mut(formula) {
                    param.set(f, v);
                }
            }
        }
    }
}
