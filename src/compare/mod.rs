//! Formula comparison and sensitivity analysis for users (issue 6): `ecocomp compare` and
//! `ecocomp sensitivity`.
//!
//! - [`compare`]: every formula's inequality, targeting and budget metrics as a point value
//!   and as a Monte Carlo distribution (mean and 90% interval p05–p95), and per-region
//!   winners and losers against a baseline formula under common random numbers
//!   (MODEL.md §3.2). The per-draw metrics come from the Monte Carlo engine itself
//!   ([`crate::montecarlo::run_with`] with `draw_metrics`), so they share its draws,
//!   block order and bit-reproducibility.
//! - [`metrics`]: which inputs each metric sees (the arithmetic is in [`crate::metrics`]).
//! - [`export`]: `comparison.csv`, `metrics.json` and the terminal table.
//! - [`sensitivity`]: Morris and Sobol analyses of one formula over the scenario's uncertain
//!   parameters.

pub mod export;
pub mod metrics;
pub mod sensitivity;

use crate::error::{Error, Result};
use crate::metrics::{WinnersLosers, winners_losers};
use crate::montecarlo::{RunOptions, Settings};
use crate::scenario::Scenario;
use crate::vertical::params::Target;
use metrics::{Metric, MetricScratch, MetricValues};

/// Largest winners and losers listed per formula.
pub const TOP_K: usize = 5;
/// A region whose difference is within this fraction of the baseline's total is neither a
/// winner nor a loser: fixed-mode rescaling leaves differences of rounding size.
pub const UNCHANGED_REL_TOL: f64 = 1e-9;

/// A metric's Monte Carlo distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDist {
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
    /// Draws in which the metric was defined.
    pub draws: u64,
}

/// One formula compared with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaComparison {
    pub name: String,
    /// Metrics of the point allocation.
    pub point: MetricValues,
    /// Per [`Metric`], its distribution over draws (`None` without draws, or when it was
    /// never defined).
    pub dist: Vec<Option<MetricDist>>,
    /// Per region: point allocation, Monte Carlo mean (the point without draws).
    pub point_x: Vec<f64>,
    pub mean_x: Vec<f64>,
    /// Per region: paired difference against the baseline, its standard error, P(gain).
    /// Without draws these are the point difference, 0 and the sign of the difference.
    pub diff_mean: Vec<f64>,
    pub diff_se: Vec<f64>,
    pub p_gain: Vec<f64>,
    /// Winners and losers by `diff_mean`, per group of the scenario.
    pub winners: WinnersLosers,
}

/// The comparison of a scenario's formulas.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub draws: u64,
    pub seed: u64,
    /// Index of the baseline in `formulas`.
    pub baseline: usize,
    pub formulas: Vec<FormulaComparison>,
}

fn problem(flag: &str, value: &str, msg: impl Into<String>) -> Error {
    Error::invalid(vec![crate::Problem::new(flag, "command line", value, msg)])
}

/// Restrict `scn` to the named formulas (all when `names` is `None`), in the given order,
/// with the baseline (first formula by default) added in front when not listed. Uncertain
/// parameters of dropped formulas are dropped; the others are re-addressed. Returns the
/// restricted scenario and the baseline's index in it.
pub fn select(
    scn: &Scenario,
    names: Option<&[String]>,
    baseline: Option<&str>,
) -> Result<(Scenario, usize)> {
    let Some(v) = &scn.vertical else {
        return Err(problem(
            "SCENARIO",
            &scn.meta.name,
            "the scenario has no vertical formulas to compare",
        ));
    };
    let all: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
    let find = |flag: &str, name: &str| {
        all.iter().position(|f| *f == name).ok_or_else(|| {
            problem(
                flag,
                name,
                format!("no such formula; the scenario has {}", all.join(", ")),
            )
        })
    };
    let mut picked: Vec<usize> = match names {
        Some(ns) => ns
            .iter()
            .map(|n| find("--formulas", n.trim()))
            .collect::<Result<_>>()?,
        None => (0..all.len()).collect(),
    };
    picked.dedup();
    let base = match baseline {
        Some(b) => find("--baseline", b)?,
        None => picked.first().copied().unwrap_or(0),
    };
    if !picked.contains(&base) {
        picked.insert(0, base);
    }
    let mut out = scn.clone();
    if let Some(ov) = out.vertical.as_mut() {
        ov.formulas = picked.iter().map(|&i| v.formulas[i].clone()).collect();
    }
    out.uncertain = scn
        .uncertain
        .iter()
        .filter_map(|u| match u.target {
            Target::BudgetTotal => Some(u.clone()),
            Target::Formula { formula, param } => {
                picked.iter().position(|&p| p == formula).map(|k| {
                    let mut u = u.clone();
                    u.target = Target::Formula { formula: k, param };
                    u
                })
            }
        })
        .collect();
    let b = picked.iter().position(|&p| p == base).unwrap_or(0);
    Ok((out, b))
}

/// Compare every formula of `scn` against `settings.baseline`: point metrics, Monte Carlo
/// metric distributions and paired differences per region. `progress` is called with the
/// number of draws done.
pub fn compare(
    scn: &Scenario,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Comparison> {
    let Some(v) = &scn.vertical else {
        return Err(problem(
            "SCENARIO",
            &scn.meta.name,
            "the scenario has no vertical formulas to compare",
        ));
    };
    let res = crate::pipeline::point(scn)?;
    let mc =
        crate::montecarlo::run_with(scn, settings, RunOptions { draw_metrics: true }, progress)?;
    let n = v.regions.data.n;
    let groups = &v.regions.meta.group_idx;
    let base = settings.baseline.min(res.formulas.len().saturating_sub(1));
    let base_x = res
        .formulas
        .get(base)
        .map(|f| f.alloc.x.clone())
        .unwrap_or_default();
    let tol = UNCHANGED_REL_TOL * base_x.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
    let mut scratch = MetricScratch::default();
    let k = Metric::COUNT;
    let mut formulas = Vec::with_capacity(res.formulas.len());
    for (f, fp) in res.formulas.iter().enumerate() {
        let point = scratch.compute(&v.formulas[f], &v.regions.data, groups, &fp.alloc);
        let point_x = fp.alloc.x.clone();
        let point_diff: Vec<f64> = point_x.iter().zip(&base_x).map(|(a, b)| a - b).collect();
        let (dist, mean_x, diff_mean, diff_se, p_gain) = match acc {
            Some(a) => {
                let dist = a.metrics[f * k..(f + 1) * k]
                    .iter()
                    .map(|m| {
                        (m.m.count() > 0).then(|| {
                            let q = m.q.quantiles(&[0.05, 0.95]);
                            MetricDist {
                                mean: m.m.mean(),
                                p05: q[0],
                                p95: q[1],
                                draws: m.m.count(),
                            }
                        })
                    })
                    .collect();
                let r = f * n..(f + 1) * n;
                (
                    dist,
                    a.x[r.clone()].iter().map(|x| x.m.mean()).collect(),
                    a.diff[r.clone()].iter().map(|d| d.mean()).collect(),
                    a.diff[r.clone()].iter().map(|d| d.se()).collect(),
                    a.gain[r].iter().map(|g| g.p()).collect(),
                )
            }
            None => (
                vec![None; k],
                point_x.clone(),
                point_diff.clone(),
                vec![0.0; n],
                point_diff
                    .iter()
                    .map(|&d| if d > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
            ),
        };
        let winners = winners_losers(&diff_mean, groups, tol, TOP_K)
            .map_err(|e| Error::Runtime(format!("winners and losers: {e}")))?;
        formulas.push(FormulaComparison {
            name: fp.name.clone(),
            point,
            dist,
            point_x,
            mean_x,
            diff_mean,
            diff_se,
            p_gain,
            winners,
        });
    }
    Ok(Comparison {
        draws: mc.draws,
        seed: settings.seed,
        baseline: base,
        formulas,
    })
}
