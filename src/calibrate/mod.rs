//! Calibration (docs/model.md §6): which coefficients make a formula reproduce an observed
//! allocation? The free coefficients, each with bounds, are fitted to a target column by
//! minimising a loss on the point estimate with Nelder–Mead (`argmin`) from several starts.
//! Bounds are kept by fitting a logistic transform of each coefficient. The result
//! reports every start, the in-sample fit, an out-of-sample fit by k-fold cross-validation
//! (each region predicted by a fit that did not see it) and a loss profile per coefficient,
//! so that a flat direction is reported as poorly identified rather than hidden.

pub mod paths;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::model::formula_param::FormulaParam;
use crate::model::region::RegionData;
use crate::model::{Budget, Formula};
use crate::vertical::{Allocation, Workspace, allocate};
use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;

/// The loss a fit minimises over the regions with a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Σ (x_i/Σx − y_i/Σy)²: on shares, so the budget level does not matter.
    Share,
    /// Σ (ln x_i − ln y_i)² over regions with y_i > 0.
    Log,
    /// 1 − Spearman: robust, but flat almost everywhere for a smooth optimiser.
    Rank,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Loss::Share => "share",
            Loss::Log => "log",
            Loss::Rank => "rank",
        }
    }
}

/// A free coefficient: its path in the formula, its address and its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Free {
    pub path: String,
    pub param: FormulaParam,
    pub lo: f64,
    pub hi: f64,
}

/// What to fit.
#[derive(Debug, Clone)]
pub struct Problem {
    pub formula: Formula,
    pub data: RegionData,
    pub budget: Budget,
    /// The observed allocation per region (`None` where unknown).
    pub target: Vec<Option<f64>>,
    pub free: Vec<Free>,
    pub loss: Loss,
}

/// How to fit.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Starts of the full fit (the centre of the bounds, then spread points).
    pub starts: usize,
    /// Folds of the cross-validation (leave-one-out when it equals the regions with a
    /// target).
    pub folds: usize,
    /// Iterations per Nelder–Mead run.
    pub max_iters: u64,
    /// Grid points of each coefficient's loss profile.
    pub profile_points: usize,
}

/// One start of the full fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    pub from: Vec<f64>,
    pub params: Vec<f64>,
    pub loss: f64,
    pub iterations: u64,
}

/// How well an allocation matches the target over a set of regions.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub loss: f64,
    pub spearman: Option<f64>,
    /// Σ|x̂ − y| / Σy with x scaled to the target's total over the same regions.
    pub wape: f64,
    /// Up to five regions with the largest |x̂ − y|, as (region, x̂ − y).
    pub worst: Vec<(usize, f64)>,
}

/// A coefficient's loss along its range, the others at the optimum.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub grid: Vec<(f64, f64)>,
    /// Relative rise of the loss 10 % of the range away from the optimum (the smaller of
    /// the two sides that exist).
    pub rise: f64,
    /// False when the rise is under 1 %: the data hardly pin the coefficient down.
    pub identified: bool,
}

/// Everything a calibration found.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub free: Vec<Free>,
    pub initial: Vec<f64>,
    pub initial_fit: Fit,
    pub starts: Vec<Start>,
    pub best: Vec<f64>,
    pub in_sample: Fit,
    /// Per region: the allocation at the best fit, scaled to the target's total.
    pub fitted: Vec<f64>,
    pub folds: usize,
    /// Per region with a target: its prediction by the fit that left its fold out.
    pub fold_prediction: Vec<Option<f64>>,
    pub out_of_sample: Fit,
    pub profiles: Vec<Profile>,
}

/// The allocation of `f` with the free coefficients at `params`.
fn allocation(p: &Problem, params: &[f64], ws: &mut Workspace, out: &mut Allocation) -> bool {
    let mut f = p.formula.clone();
    for (free, &v) in p.free.iter().zip(params) {
        free.param.set(&mut f, v);
    }
    allocate(&f, &p.data, &p.budget, ws, out).is_ok()
}

/// The loss of allocation `x` over regions `on`.
fn loss(kind: Loss, x: &[f64], y: &[Option<f64>], on: &[usize]) -> f64 {
    let (sx, sy): (f64, f64) = on
        .iter()
        .fold((0.0, 0.0), |(a, b), &i| (a + x[i], b + y[i].unwrap_or(0.0)));
    match kind {
        Loss::Share => on
            .iter()
            .map(|&i| (x[i] / sx - y[i].unwrap_or(0.0) / sy).powi(2))
            .sum(),
        Loss::Log => on
            .iter()
            .filter(|&&i| y[i].is_some_and(|v| v > 0.0))
            .map(|&i| (x[i].max(1e-300).ln() - y[i].unwrap_or(1.0).ln()).powi(2))
            .sum(),
        Loss::Rank => {
            let (a, b): (Vec<f64>, Vec<f64>) =
                on.iter().map(|&i| (x[i], y[i].unwrap_or(0.0))).unzip();
            1.0 - crate::metrics::targeting::spearman(&a, &b)
                .ok()
                .flatten()
                .unwrap_or(0.0)
        }
    }
}

/// Bounded coefficient from an unbounded one: `lo + (hi − lo) · logistic(z)`.
fn to_param(z: f64, f: &Free) -> f64 {
    f.lo + (f.hi - f.lo) / (1.0 + (-z).exp())
}

fn to_z(v: f64, f: &Free) -> f64 {
    let u = ((v - f.lo) / (f.hi - f.lo)).clamp(1e-6, 1.0 - 1e-6);
    (u / (1.0 - u)).ln()
}

/// The cost argmin minimises: the loss over the training regions, in z coordinates.
struct Cost<'a> {
    p: &'a Problem,
    on: &'a [usize],
    cancel: &'a Cancel,
}

impl CostFunction for Cost<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, z: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        if self.cancel.is_cancelled() {
            return Err(argmin::core::Error::msg("interrupted"));
        }
        let params: Vec<f64> = z
            .iter()
            .zip(&self.p.free)
            .map(|(&z, f)| to_param(z, f))
            .collect();
        let mut out = Allocation::default();
        // A coefficient set the budget cannot honour costs the most a share loss can.
        if !allocation(self.p, &params, &mut Workspace::default(), &mut out) {
            return Ok(1e6);
        }
        Ok(loss(self.p.loss, &out.x, &self.p.target, self.on))
    }
}

/// One Nelder–Mead run from `from` (coefficients) over regions `on`.
fn fit_from(
    p: &Problem,
    on: &[usize],
    from: &[f64],
    max_iters: u64,
    cancel: &Cancel,
) -> Result<Start> {
    let z0: Vec<f64> = from.iter().zip(&p.free).map(|(&v, f)| to_z(v, f)).collect();
    let mut simplex = vec![z0.clone()];
    for j in 0..z0.len() {
        let mut z = z0.clone();
        z[j] += if z[j] > 0.0 { -1.0 } else { 1.0 };
        simplex.push(z);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-12)
        .map_err(|e| Error::Runtime(format!("calibration: {e}")))?;
    let res = Executor::new(Cost { p, on, cancel }, solver)
        .configure(|s| s.max_iters(max_iters))
        .run()
        .map_err(|e| {
            if cancel.is_cancelled() {
                Error::Interrupted
            } else {
                Error::Runtime(format!("calibration: {e}"))
            }
        })?;
    let state = res.state();
    let z = state.get_best_param().cloned().unwrap_or(z0);
    Ok(Start {
        from: from.to_vec(),
        params: z
            .iter()
            .zip(&p.free)
            .map(|(&z, f)| to_param(z, f))
            .collect(),
        loss: state.get_best_cost(),
        iterations: state.get_iter(),
    })
}

/// Deterministic start points: the centre of the bounds, then points spread by a
/// Halton sequence, so a calibration gives the same result on every machine.
fn start_points(free: &[Free], n: usize) -> Vec<Vec<f64>> {
    const PRIMES: [u32; 8] = [2, 3, 5, 7, 11, 13, 17, 19];
    let halton = |mut i: u32, b: u32| {
        let (mut f, mut r) = (1.0, 0.0);
        while i > 0 {
            f /= f64::from(b);
            r += f * f64::from(i % b);
            i /= b;
        }
        r
    };
    (0..n.max(1))
        .map(|k| {
            free.iter()
                .enumerate()
                .map(|(j, f)| {
                    let u = if k == 0 {
                        0.5
                    } else {
                        0.1 + 0.8 * halton(k as u32, PRIMES[j % 8])
                    };
                    f.lo + u * (f.hi - f.lo)
                })
                .collect()
        })
        .collect()
}

/// The fit statistics of allocation `x` over regions `on`; `scale_on` gives, per region,
/// the factor that scales its x to the target's total.
fn fit_stats(kind: Loss, x: &[f64], xhat: &[f64], y: &[Option<f64>], on: &[usize]) -> Fit {
    let sy: f64 = on.iter().map(|&i| y[i].unwrap_or(0.0)).sum();
    let (a, b): (Vec<f64>, Vec<f64>) = on.iter().map(|&i| (xhat[i], y[i].unwrap_or(0.0))).unzip();
    let mut worst: Vec<(usize, f64)> = on
        .iter()
        .map(|&i| (i, xhat[i] - y[i].unwrap_or(0.0)))
        .collect();
    worst.sort_by(|p, q| q.1.abs().total_cmp(&p.1.abs()));
    worst.truncate(5);
    Fit {
        loss: loss(kind, x, y, on),
        spearman: crate::metrics::targeting::spearman(&a, &b).ok().flatten(),
        wape: a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / sy,
        worst,
    }
}

/// `x` scaled so that its sum over `on` is the target's.
fn scaled(x: &[f64], y: &[Option<f64>], on: &[usize]) -> Vec<f64> {
    let sx: f64 = on.iter().map(|&i| x[i]).sum();
    let sy: f64 = on.iter().map(|&i| y[i].unwrap_or(0.0)).sum();
    x.iter().map(|v| v * sy / sx).collect()
}

/// Fit `p` (see the module documentation). `progress` gets (fits done, fits in all).
pub fn calibrate(
    p: &Problem,
    s: &Settings,
    cancel: &Cancel,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Calibration> {
    let known: Vec<usize> = (0..p.data.n).filter(|&i| p.target[i].is_some()).collect();
    let folds = s.folds.clamp(2, known.len().max(2));
    let total = s.starts + folds;
    let initial: Vec<f64> = p
        .free
        .iter()
        .map(|f| paths::value(&p.formula, f.param))
        .collect();
    let x_of = |params: &[f64]| {
        let mut out = Allocation::default();
        allocation(p, params, &mut Workspace::default(), &mut out).then_some(out.x)
    };
    let initial_fit = match x_of(&initial) {
        Some(x) => fit_stats(
            p.loss,
            &x,
            &scaled(&x, &p.target, &known),
            &p.target,
            &known,
        ),
        None => Fit {
            loss: f64::INFINITY,
            spearman: None,
            wape: f64::INFINITY,
            worst: Vec::new(),
        },
    };
    let mut starts = Vec::new();
    for (k, from) in start_points(&p.free, s.starts).into_iter().enumerate() {
        starts.push(fit_from(p, &known, &from, s.max_iters, cancel)?);
        progress(k + 1, total);
    }
    // The initial values compete too: a calibration that cannot improve on them keeps them.
    let mut best = initial.clone();
    let mut best_loss = initial_fit.loss;
    for st in &starts {
        if st.loss < best_loss {
            best_loss = st.loss;
            best.clone_from(&st.params);
        }
    }
    let x = x_of(&best)
        .ok_or_else(|| Error::Runtime("calibration: the best fit does not allocate".into()))?;
    let fitted = scaled(&x, &p.target, &known);
    let in_sample = fit_stats(p.loss, &x, &fitted, &p.target, &known);
    let mut fold_prediction = vec![None; p.data.n];
    for k in 0..folds {
        let train: Vec<usize> = known
            .iter()
            .enumerate()
            .filter(|(j, _)| j % folds != k)
            .map(|(_, &i)| i)
            .collect();
        let test: Vec<usize> = known
            .iter()
            .enumerate()
            .filter(|(j, _)| j % folds == k)
            .map(|(_, &i)| i)
            .collect();
        let st = fit_from(p, &train, &best, s.max_iters, cancel)?;
        if let Some(xf) = x_of(&st.params) {
            let xs = scaled(&xf, &p.target, &train);
            for &i in &test {
                fold_prediction[i] = Some(xs[i]);
            }
        }
        progress(s.starts + k + 1, total);
    }
    let pred: Vec<f64> = (0..p.data.n)
        .map(|i| fold_prediction[i].unwrap_or(0.0))
        .collect();
    let out_of_sample = fit_stats(p.loss, &pred, &pred, &p.target, &known);
    let profiles = (0..p.free.len())
        .map(|j| profile(p, &known, &best, best_loss, j, s.profile_points))
        .collect();
    Ok(Calibration {
        free: p.free.clone(),
        initial,
        initial_fit,
        starts,
        best,
        in_sample,
        fitted,
        folds,
        fold_prediction,
        out_of_sample,
        profiles,
    })
}

/// The loss along coefficient `j`'s range, the others at `best`.
fn profile(
    p: &Problem,
    on: &[usize],
    best: &[f64],
    best_loss: f64,
    j: usize,
    points: usize,
) -> Profile {
    let f = &p.free[j];
    let at = |v: f64| {
        let mut params = best.to_vec();
        params[j] = v;
        let mut out = Allocation::default();
        if allocation(p, &params, &mut Workspace::default(), &mut out) {
            loss(p.loss, &out.x, &p.target, on)
        } else {
            f64::INFINITY
        }
    };
    let n = points.max(2);
    let grid = (0..n)
        .map(|k| {
            let v = f.lo + (f.hi - f.lo) * k as f64 / (n - 1) as f64;
            (v, at(v))
        })
        .collect();
    let step = 0.1 * (f.hi - f.lo);
    let sides: Vec<f64> = [best[j] - step, best[j] + step]
        .into_iter()
        .filter(|v| *v >= f.lo && *v <= f.hi)
        .map(|v| (at(v) - best_loss) / best_loss.abs().max(1e-300))
        .collect();
    let rise = sides.iter().copied().fold(f64::INFINITY, f64::min);
    let rise = if rise.is_finite() { rise } else { 0.0 };
    Profile {
        grid,
        rise,
        identified: rise >= 0.01,
    }
}

#[cfg(test)]
mod tests;
