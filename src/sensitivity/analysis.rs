//! `ecocomp sensitivity`: which uncertain coefficient drives a formula's result.
//!
//! Inputs are the scenario's uncertain scalars that feed the chosen formula: its own
//! uncertain parameters and the uncertain budget total (docs/model.md §3.1), in scenario order.
//! Each is mapped from the unit interval through its inverse CDF ([`quantile`]), truncation
//! window included, so the designs of [`crate::sensitivity`] see the scenario's own
//! distributions. Region noise models are **not** inputs: region columns are held at their
//! central (file) values, so the indices apportion the variance caused by the formula
//! parameters and the budget alone.
//!
//! Outputs: the allocation of selected regions (the [`TOP_REGIONS`] largest by point
//! allocation, plus any the user names), the unweighted Gini, and the total deducted for
//! quality. Evaluations run in parallel on a pool of the requested size and are
//! bit-identical for any thread count (see [`crate::sensitivity`]).

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::metrics::InequalityScratch;
use crate::model::formula_param::Target;
use crate::model::param::{Dist, Uncertain};
use crate::model::{Scenario, UncertainParam, Vertical};
use crate::sampling::dist::pert_shape;
use crate::sampling::special::{beta_cdf, truncated_std_normal};
use crate::sensitivity::{
    Execution, Input, MorrisConfig, MorrisResult, SobolConfig, SobolResult, evaluate,
    morris_design, morris_from, sobol_design, sobol_from,
};
use crate::vertical::{Allocation, Workspace, allocate};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Regions reported by default: the largest by point allocation.
pub const TOP_REGIONS: usize = 5;
/// Bisection steps for inverse CDFs without a closed form: 2⁻⁶⁰ of the window is below
/// f64 resolution.
const BISECTION_STEPS: usize = 60;
/// Bootstrap resamples for the Sobol intervals.
pub const SOBOL_BOOTSTRAP: usize = 200;
/// Confidence level of the Sobol intervals (90%, like the Monte Carlo intervals).
pub const SOBOL_CONFIDENCE: f64 = 0.9;
/// Morris grid levels.
pub const MORRIS_LEVELS: usize = 4;

/// Sensitivity method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// Morris elementary effects (μ*, σ); `samples` is the number of trajectories.
    Morris,
    /// Sobol first-order and total indices (Saltelli); `samples` is the base sample N.
    Sobol,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Morris => "morris",
            Method::Sobol => "sobol",
        }
    }
}

/// Settings of one analysis.
#[derive(Debug, Clone)]
pub struct SensitivitySettings {
    pub formula: String,
    pub method: Method,
    pub samples: usize,
    pub seed: u64,
    pub threads: usize,
    /// Extra region ids to report.
    pub regions: Vec<String>,
}

/// The indices computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Indices {
    Morris(MorrisResult),
    Sobol(SobolResult),
}

/// A finished analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRun {
    pub formula: String,
    pub inputs: Vec<String>,
    /// Output names: `alloc:<region id>`, `gini`, `total_deducted`.
    pub outputs: Vec<String>,
    /// Per output: true when it did not vary over the design (for example a region held
    /// at its growth cap), so it has no variance to apportion and its Sobol indices are
    /// undefined (left empty in the CSV, no chart).
    pub constant: Vec<bool>,
    pub indices: Indices,
}

/// An output whose standard deviation over the design is below this fraction of its value
/// at the central inputs is constant up to rounding.
pub const CONSTANT_REL_SD: f64 = 1e-9;

/// The value at probability level `p` ∈ (0, 1) of `u`, restricted to its truncation window:
/// `F⁻¹(F(min) + p·(F(max) − F(min)))`. Closed form for fixed, uniform, normal and
/// lognormal; bisection on the CDF for triangular, beta and PERT.
pub fn quantile(u: &Uncertain, p: f64) -> f64 {
    let (lo, hi) = u.support();
    match u.dist {
        Dist::Fixed(v) => v,
        Dist::Uniform { .. } => lo + (hi - lo) * p,
        Dist::Normal { mean, sd } => {
            mean + sd * truncated_std_normal((lo - mean) / sd, (hi - mean) / sd, p)
        }
        Dist::LogNormal { mu, sigma } => {
            let a = if lo > 0.0 {
                (lo.ln() - mu) / sigma
            } else {
                f64::NEG_INFINITY
            };
            (mu + sigma * truncated_std_normal(a, (hi.ln() - mu) / sigma, p)).exp()
        }
        Dist::Triangular { low, mode, high } => bisect(
            |x| crate::sampling::dist::triangular_cdf(low, mode, high, x),
            lo,
            hi,
            p,
        ),
        Dist::Beta {
            alpha,
            beta,
            low,
            high,
        } => bisect(
            |x| beta_cdf(alpha, beta, (x - low) / (high - low)),
            lo,
            hi,
            p,
        ),
        Dist::Pert { low, mode, high } => {
            let (a, b) = pert_shape(low, mode, high);
            bisect(|x| beta_cdf(a, b, (x - low) / (high - low)), lo, hi, p)
        }
    }
}

/// Inverse of a non-decreasing CDF on `[lo, hi]` at level `p` of the window's mass.
fn bisect(cdf: impl Fn(f64) -> f64, lo: f64, hi: f64, p: f64) -> f64 {
    let (flo, fhi) = (cdf(lo), cdf(hi));
    let target = flo + p * (fhi - flo);
    let (mut a, mut b) = (lo, hi);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (a + b);
        if cdf(mid) < target {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

fn invalid(flag: &str, value: &str, msg: impl Into<String>) -> Error {
    Error::invalid(vec![crate::Problem::new(flag, "command line", value, msg)])
}

/// Who watches an analysis: `progress(done, total)` hears how many of the design's points
/// are evaluated, and once `cancel` is cancelled the points left are skipped and the
/// analysis stops with [`Error::Interrupted`]. A county-scale Sobol design takes minutes.
pub struct Watch<'a> {
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
    pub cancel: &'a Cancel,
}

impl Watch<'_> {
    /// Evaluate `model` at every row of `points` (`dims` columns) on `setup`'s pool.
    fn evaluate(
        &self,
        setup: &Setup,
        s: &SensitivitySettings,
        model: &(dyn Fn(&[f64]) -> Vec<f64> + Sync),
        points: &[f64],
        dims: usize,
    ) -> Result<(Vec<f64>, usize)> {
        let total = (points.len() / dims.max(1)) as u64;
        // Often enough for a smooth bar, rarely enough that threads do not queue on it.
        let step = (total / 1000).max(1);
        let done = AtomicU64::new(0);
        let watched = |x: &[f64]| -> Vec<f64> {
            if self.cancel.is_cancelled() {
                return Vec::new();
            }
            let out = model(x);
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if d.is_multiple_of(step) || d == total {
                (self.progress)(d, total);
            }
            out
        };
        let result = setup
            .pool
            .install(|| evaluate(&watched, points, dims, Execution::Parallel));
        // Skipped points return no outputs; that is the interruption, not a model error.
        self.cancel.check()?;
        result.map_err(|e| sens_err(s, e))
    }
}

/// Run a Morris or Sobol analysis of one formula of `scn`.
pub fn run(scn: &Scenario, s: &SensitivitySettings, watch: &Watch) -> Result<SensitivityRun> {
    with_model(scn, s, |setup, model| {
        let points = design(&setup.inputs, s)?;
        let (f, m) = watch.evaluate(setup, s, model, &points, setup.inputs.len())?;
        setup.finish(s, model, f, m)
    })
}

/// The outputs of one shard's share of the design's points: a contiguous range of them,
/// computed exactly as [`run`] computes them ([`finish_shards`] completes the analysis).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluations {
    /// Points of the whole design, and the range evaluated.
    pub points: usize,
    pub rows: std::ops::Range<usize>,
    /// Outputs per point (0 when the range is empty), and `rows.len() × m` values.
    pub m: usize,
    pub f: Vec<f64>,
}

impl Evaluations {
    /// Append the evaluations of the points right after these.
    pub fn append(&mut self, later: Evaluations) -> std::result::Result<(), String> {
        if later.points != self.points || later.rows.start != self.rows.end {
            return Err(format!(
                "points {}..{} of {} do not follow points {}..{} of {}",
                later.rows.start,
                later.rows.end,
                later.points,
                self.rows.start,
                self.rows.end,
                self.points
            ));
        }
        if self.m == 0 {
            self.m = later.m;
        } else if later.m != 0 && later.m != self.m {
            return Err(format!("{} outputs per point, not {}", later.m, self.m));
        }
        self.f.extend(later.f);
        self.rows.end = later.rows.end;
        Ok(())
    }
}

/// Evaluate shard `k` of `n` of the design of [`run`].
pub fn evaluate_shard(
    scn: &Scenario,
    s: &SensitivitySettings,
    k: u64,
    n: u64,
    watch: &Watch,
) -> Result<Evaluations> {
    with_model(scn, s, |setup, model| {
        let points = design(&setup.inputs, s)?;
        let dims = setup.inputs.len();
        let total = points.len() / dims.max(1);
        let part = crate::model::Shard { k, n }.part(total as u64);
        let rows = part.start as usize..part.end as usize;
        if rows.is_empty() {
            return Ok(Evaluations {
                points: total,
                rows,
                m: 0,
                f: Vec::new(),
            });
        }
        let mine = &points[rows.start * dims..rows.end * dims];
        let (f, m) = watch.evaluate(setup, s, model, mine, dims)?;
        Ok(Evaluations {
            points: total,
            rows,
            m,
            f,
        })
    })
}

/// Complete [`run`] from the evaluations of every point of its design.
pub fn finish_shards(
    scn: &Scenario,
    s: &SensitivitySettings,
    ev: Evaluations,
) -> Result<SensitivityRun> {
    if ev.rows != (0..ev.points) {
        return Err(Error::Runtime(format!(
            "the evaluations cover points {}..{} of {}",
            ev.rows.start, ev.rows.end, ev.points
        )));
    }
    with_model(scn, s, |setup, model| setup.finish(s, model, ev.f, ev.m))
}

/// What [`with_model`] hands its body besides the model.
struct Setup<'a> {
    v: &'a Vertical,
    params: Vec<&'a UncertainParam>,
    inputs: Vec<Input>,
    outputs: Vec<String>,
    pool: rayon::ThreadPool,
}

impl Setup<'_> {
    /// The indices from every point's outputs, and which outputs never varied.
    fn finish(
        &self,
        s: &SensitivitySettings,
        model: &(dyn Fn(&[f64]) -> Vec<f64> + Sync),
        f: Vec<f64>,
        m: usize,
    ) -> Result<SensitivityRun> {
        let indices = self.pool.install(|| indices_from(&self.inputs, s, f, m))?;
        let central: Vec<f64> = self.params.iter().map(|u| u.dist.central()).collect();
        let constant = constant_outputs(&indices, &model(&central), self.outputs.len());
        Ok(SensitivityRun {
            formula: s.formula.clone(),
            inputs: self
                .params
                .iter()
                .map(|u| named_path(self.v, &u.path))
                .collect(),
            outputs: self.outputs.clone(),
            constant,
            indices,
        })
    }
}

/// Build the analysis of `s` over `scn` (inputs, outputs and the model that maps input
/// values to outputs) and run `body` with it; an allocation that fails at any point the
/// body evaluates is reported as the error.
fn with_model<R>(
    scn: &Scenario,
    s: &SensitivitySettings,
    body: impl FnOnce(&Setup, &(dyn Fn(&[f64]) -> Vec<f64> + Sync)) -> Result<R>,
) -> Result<R> {
    let (v, fi, params) = formula_inputs(scn, s)?;
    let formula = &v.formulas[fi];
    let data = &v.regions.data;
    let regions = reported_regions(scn, v, fi, s)?;
    let mut outputs: Vec<String> = regions
        .iter()
        .map(|&i| format!("alloc:{}", v.regions.meta.id[i]))
        .collect();
    outputs.push("gini".to_string());
    outputs.push("total_deducted".to_string());
    let m = outputs.len();

    let inputs: Vec<Input> = params
        .iter()
        .map(|u| {
            let dist = u.dist;
            Input::custom(u.path.clone(), move |p| quantile(&dist, p))
        })
        .collect();
    let targets: Vec<Target> = params.iter().map(|u| u.target).collect();
    let failure: OnceLock<String> = OnceLock::new();
    let model = |x: &[f64]| -> Vec<f64> {
        let mut f = formula.clone();
        let mut budget = v.budget.clone();
        for (t, &val) in targets.iter().zip(x) {
            match *t {
                Target::BudgetTotal => budget.total = Some(val),
                Target::Formula { param, .. } => param.set(&mut f, val),
            }
        }
        let mut ws = Workspace::default();
        let mut a = Allocation::default();
        if let Err(e) = allocate(&f, data, &budget, &mut ws, &mut a) {
            let _ = failure.set(format!("at inputs {x:?}: {e}"));
            return vec![f64::NAN; m];
        }
        let mut out: Vec<f64> = regions.iter().map(|&i| a.x[i]).collect();
        out.push(
            InequalityScratch::default()
                .gini(&a.x, None)
                .unwrap_or(f64::NAN),
        );
        out.push(crate::vertical::flows::budget_flows(&a).deducted);
        out
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads.max(1))
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start {} worker threads: {e}", s.threads)))?;
    let setup = Setup {
        v,
        params,
        inputs,
        outputs,
        pool,
    };
    let result = body(&setup, &model);
    if let Some(msg) = failure.get() {
        return Err(Error::Runtime(format!(
            "sensitivity of formula '{}': the allocation failed {msg}",
            s.formula
        )));
    }
    result
}

/// A parameter's path with the formula's name in place of its position:
/// `formula[1].redline.share` is `redline_reform.redline.share`, the path `calibrate` takes
/// after the formula's name. Paths outside a formula (`budget.total`) stay as they are.
fn named_path(v: &Vertical, path: &str) -> String {
    let named = path.strip_prefix("formula[").and_then(|rest| {
        let (k, field) = rest.split_once("].")?;
        let f = v.formulas.get(k.parse::<usize>().ok()?)?;
        Some(format!("{}.{field}", f.name))
    });
    named.unwrap_or_else(|| path.to_string())
}

/// The vertical model of `scn`, the index of the formula analysed, and its inputs: the
/// uncertain parameters that feed it, in scenario order.
fn formula_inputs<'a>(
    scn: &'a Scenario,
    s: &SensitivitySettings,
) -> Result<(&'a Vertical, usize, Vec<&'a UncertainParam>)> {
    let Some(v) = &scn.vertical else {
        return Err(invalid(
            "SCENARIO",
            &scn.meta.name,
            "the scenario has no vertical formulas",
        ));
    };
    let names: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
    let fi = names.iter().position(|n| *n == s.formula).ok_or_else(|| {
        invalid(
            "--formula",
            &s.formula,
            format!("no such formula; the scenario has {}", names.join(", ")),
        )
    })?;
    let params: Vec<_> = scn
        .uncertain
        .iter()
        .filter(|u| !u.dist.is_fixed())
        .filter(|u| match u.target {
            Target::BudgetTotal => true,
            Target::Formula { formula, .. } => formula == fi,
        })
        .collect();
    if params.is_empty() {
        return Err(invalid(
            "SCENARIO",
            &scn.meta.name,
            format!(
                "scenario '{}' has no uncertain parameters for formula '{}' or the budget \
                 total, so there is nothing to vary; give one a distribution, e.g. \
                 `redline_uplift = {{ dist = \"uniform\", low = 0.25, high = 0.75 }}` in the \
                 formula's [formula.key] table, or `total = {{ dist = \"normal\", mean = 100, sd = 5 }}` \
                 under [budget]",
                scn.meta.name, s.formula
            ),
        ));
    }
    Ok((v, fi, params))
}

/// The regions whose allocation is an output: the largest at the point estimate of
/// formula `fi`, then the ones named in the settings.
fn reported_regions(
    scn: &Scenario,
    v: &Vertical,
    fi: usize,
    s: &SensitivitySettings,
) -> Result<Vec<usize>> {
    let (data, meta) = (&v.regions.data, &v.regions.meta);
    let mut ws = Workspace::default();
    let mut point = Allocation::default();
    allocate(&v.formulas[fi], data, &v.budget, &mut ws, &mut point).map_err(|e| scn.locate(e))?;
    let mut order: Vec<usize> = (0..data.n).collect();
    order.sort_by(|&i, &j| point.x[j].total_cmp(&point.x[i]).then(i.cmp(&j)));
    let mut regions: Vec<usize> = order.into_iter().take(TOP_REGIONS).collect();
    for id in &s.regions {
        let i =
            meta.id.iter().position(|r| r == id).ok_or_else(|| {
                invalid("--regions", id, "no region with this id in the scenario")
            })?;
        if !regions.contains(&i) {
            regions.push(i);
        }
    }
    Ok(regions)
}

/// The indices of the settings' method for `model` over `inputs`, evaluated on a pool of
/// the settings' thread count.
fn sens_err(s: &SensitivitySettings, e: crate::sensitivity::SensitivityError) -> Error {
    invalid("--samples", &s.samples.to_string(), e.to_string())
}

fn morris_config(s: &SensitivitySettings) -> MorrisConfig {
    MorrisConfig {
        trajectories: s.samples,
        levels: MORRIS_LEVELS,
        seed: s.seed,
        ..MorrisConfig::default()
    }
}

fn sobol_config(s: &SensitivitySettings) -> SobolConfig {
    SobolConfig {
        base_samples: s.samples,
        bootstrap: SOBOL_BOOTSTRAP,
        confidence: SOBOL_CONFIDENCE,
        seed: s.seed,
        ..SobolConfig::default()
    }
}

/// The points of the method's design.
fn design(inputs: &[Input], s: &SensitivitySettings) -> Result<Vec<f64>> {
    match s.method {
        Method::Morris => morris_design(inputs, &morris_config(s)),
        Method::Sobol => sobol_design(inputs, &sobol_config(s)),
    }
    .map_err(|e| sens_err(s, e))
}

/// The method's indices from the outputs `f` (`m` per point) of its whole design.
fn indices_from(
    inputs: &[Input],
    s: &SensitivitySettings,
    f: Vec<f64>,
    m: usize,
) -> Result<Indices> {
    match s.method {
        Method::Morris => morris_from(inputs, &morris_config(s), &f, m).map(Indices::Morris),
        Method::Sobol => sobol_from(inputs, &sobol_config(s), f, m).map(Indices::Sobol),
    }
    .map_err(|e| sens_err(s, e))
}

/// Per output (`m` of them), whether it did not vary over the design: a Sobol variance
/// within rounding of its value at the central inputs (`at_central`), or a Morris μ* of 0
/// for every input.
fn constant_outputs(indices: &Indices, at_central: &[f64], m: usize) -> Vec<bool> {
    match indices {
        Indices::Sobol(r) => r
            .variance
            .iter()
            .zip(at_central)
            .map(|(v, c)| v.sqrt() <= CONSTANT_REL_SD * c.abs())
            .collect(),
        Indices::Morris(r) => (0..m)
            .map(|o| (0..r.inputs.len()).all(|i| r.index(i, o).is_none_or(|x| x.mu_star == 0.0)))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
