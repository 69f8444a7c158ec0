//! Runs a validated scenario: the deterministic point estimate of every formula and
//! agreement. Monte Carlo builds on the same per-formula calls.

use crate::error::Result;
use crate::horizontal::{Settlement, settle_point};
use crate::model::{Agreement};
use crate::model::Scenario;
use crate::vertical::{Allocation, Workspace, allocate};

/// One formula's point allocation.
#[derive(Debug, Clone)]
pub struct FormulaPoint {
    pub name: String,
    pub alloc: Allocation,
}

/// Point results of a scenario.
#[derive(Debug, Clone, Default)]
pub struct PointResults {
    /// One entry per formula, in scenario order (empty without formulas).
    pub formulas: Vec<FormulaPoint>,
    /// One settlement per agreement, in scenario order.
    pub settlements: Vec<Settlement>,
}

impl PointResults {
    /// Agreements paired with their point settlements, as the exporters take them.
    pub fn basins<'a>(&'a self, scn: &'a Scenario) -> Vec<(&'a Agreement, &'a Settlement)> {
        scn.agreements.iter().zip(&self.settlements).collect()
    }
}

/// Compute the point estimate (central values of every uncertain input).
pub fn point(scn: &Scenario) -> Result<PointResults> {
    let mut res = PointResults::default();
    if let Some(v) = &scn.vertical {
        let mut ws = Workspace::default();
        for f in &v.formulas {
            let mut alloc = Allocation::default();
            allocate(f, &v.regions.data, &v.budget, &mut ws, &mut alloc)
                .map_err(|e| scn.locate(e))?;
            res.formulas.push(FormulaPoint {
                name: f.name.clone(),
                alloc,
            });
        }
    }
    res.settlements = scn.agreements.iter().map(settle_point).collect();
    Ok(res)
}
