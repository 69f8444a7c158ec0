//! Runs a validated scenario: the deterministic point estimate of every formula and
//! agreement. Monte Carlo builds on the same per-formula calls.

use crate::error::{Error, Problem, Result};
use crate::horizontal::{Settlement, settle_point};
use crate::metrics::allocation::{MetricScratch, MetricValues};
use crate::model::{Agreement, Scenario};
use crate::vertical::tiers::{GroupFlow, TierScratch, pass_down};
use crate::vertical::{Allocation, Workspace, allocate};

/// One formula's point allocation.
#[derive(Debug, Clone)]
pub struct FormulaPoint {
    pub name: String,
    /// The allocation; with provincial methods (two tiers) its `x` is what each region
    /// finally receives, and the rest of the breakdown is the central computation.
    pub alloc: Allocation,
    /// With provincial methods: the central entitlement of every region, and what each
    /// group did with its total. `None` and empty otherwise.
    pub entitlement: Option<Vec<f64>>,
    pub groups: Vec<GroupFlow>,
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
        // Every formula is tried, so that one run reports every formula the inputs break.
        let mut errors = Vec::new();
        let mut tiers = TierScratch::default();
        for f in &v.formulas {
            let mut alloc = Allocation::default();
            let mut groups = Vec::new();
            let mut entitlement = None;
            let done =
                allocate(f, &v.regions.data, &v.budget, &mut ws, &mut alloc).and_then(|()| {
                    if f.provincial.is_empty() {
                        return Ok(());
                    }
                    entitlement = Some(alloc.x.clone());
                    let meta = &v.regions.meta;
                    pass_down(
                        f,
                        &v.formulas,
                        &v.regions.data,
                        &meta.group_idx,
                        meta.groups.len(),
                        &v.budget,
                        &mut alloc.x,
                        &mut groups,
                        &mut tiers,
                    )?;
                    alloc.total = alloc.x.iter().sum();
                    Ok(())
                });
            match done {
                Ok(()) => res.formulas.push(FormulaPoint {
                    name: f.name.clone(),
                    alloc,
                    entitlement,
                    groups,
                }),
                Err(e) => errors.push(scn.locate(e)),
            }
        }
        if let Some(e) = combined(scn, errors) {
            return Err(e);
        }
    }
    res.settlements = scn.agreements.iter().map(settle_point).collect();
    Ok(res)
}

/// One error for the failures of the formulas: every input problem together, each naming
/// the scenario file and the formula (a runtime failure, if any, comes first).
fn combined(scn: &Scenario, errors: Vec<Error>) -> Option<Error> {
    if errors.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    for e in errors {
        match e {
            Error::Invalid(p) => problems.extend(p.0),
            Error::InfeasibleFloors { ref formula, .. } => {
                let k = scn
                    .vertical
                    .as_ref()
                    .and_then(|v| v.formulas.iter().position(|f| &f.name == formula))
                    .unwrap_or(0);
                problems.push(Problem::new(
                    &scn.path,
                    format!("formula[{k}] ('{formula}')"),
                    "",
                    e.to_string(),
                ));
            }
            other => return Some(other),
        }
    }
    Some(Error::invalid(problems))
}

/// Metrics of the point allocations, computed once by the pipeline's metrics step and read
/// by the report, the summary and the console.
#[derive(Debug, Clone, Default)]
pub struct PointMetrics {
    /// Per formula: its name and every comparison metric of its point allocation.
    pub formulas: Vec<(String, MetricValues)>,
    /// Per formula: its name, the number of regions with a reference allocation, and the
    /// Spearman correlation of its point allocation with that reference.
    pub reference: Vec<(String, usize, Option<f64>)>,
}

/// The metrics of the point allocations `res` of `scn`.
pub fn point_metrics(scn: &Scenario, res: &PointResults) -> PointMetrics {
    PointMetrics {
        formulas: formula_metrics(scn, res),
        reference: reference_correlation(scn, res),
    }
}

/// The comparison metrics of every formula's point allocation.
fn formula_metrics(scn: &Scenario, res: &PointResults) -> Vec<(String, MetricValues)> {
    let Some(v) = &scn.vertical else {
        return Vec::new();
    };
    let mut scratch = MetricScratch::default();
    v.formulas
        .iter()
        .zip(&res.formulas)
        .map(|(f, fp)| {
            (
                fp.name.clone(),
                scratch.compute(f, &v.regions.data, &v.regions.meta.group_idx, &fp.alloc),
            )
        })
        .collect()
}

/// Spearman rank correlation of each formula's point allocation with the scenario's
/// reference allocation (e.g. the actual 2020 transfer), over the regions where it is known.
fn reference_correlation(scn: &Scenario, res: &PointResults) -> Vec<(String, usize, Option<f64>)> {
    let Some(v) = &scn.vertical else {
        return Vec::new();
    };
    let Some(reference) = &v.reference else {
        return Vec::new();
    };
    let known: Vec<usize> = (0..v.regions.data.n)
        .filter(|&i| reference[i].is_some())
        .collect();
    let actual: Vec<f64> = known.iter().filter_map(|&i| reference[i]).collect();
    res.formulas
        .iter()
        .map(|fp| {
            let x: Vec<f64> = known.iter().map(|&i| fp.alloc.x[i]).collect();
            (
                fp.name.clone(),
                known.len(),
                crate::metrics::targeting::spearman(&x, &actual)
                    .ok()
                    .flatten(),
            )
        })
        .collect()
}
