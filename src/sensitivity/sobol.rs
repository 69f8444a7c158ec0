//! Sobol first-order and total indices with Saltelli sampling (Saltelli et al. 2010).
//!
//! Design: two independent `N × k` sample matrices `A` and `B` on the unit hypercube, and
//! for each input `i` the matrix `A_B^(i)`: `A` with column `i` taken from `B`. That is
//! `N (k + 2)` model evaluations. The base sample is **plain pseudo-random**: row `j` of
//! `A` and `B` comes from its own Xoshiro256++ stream seeded from `(seed, j)` (not a
//! quasi-random Sobol sequence), so rows are i.i.d., the error falls as `N^(−½)`, and a
//! row bootstrap is valid.
//!
//! Estimators, per input `i` and output, with `V` the variance of the `2N` outputs of `A`
//! and `B` together:
//! - first order (Saltelli 2010): `S1_i = (1/N) Σ_j f(B)_j (f(A_B^(i))_j − f(A)_j) / V`;
//! - total (Jansen 1999): `ST_i = (1/2N) Σ_j (f(A)_j − f(A_B^(i))_j)² / V`.
//!
//! Confidence intervals: `B` bootstrap resamples of the `N` rows (with replacement, each
//! resample from its own stream), the estimators recomputed on each, and the percentile
//! interval at the requested level. An output with zero variance has all indices 0.

use super::{
    Execution, Input, STREAM_BOOTSTRAP, STREAM_SALTELLI, SensitivityError, evaluate, invalid,
    open_unit, stream_rng,
};
use rand::RngExt;
use rayon::prelude::*;

/// Settings of a Sobol analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolConfig {
    /// Base sample size `N` (≥ 2); the model runs `N (k + 2)` times.
    pub base_samples: usize,
    /// Bootstrap resamples for the intervals (0 gives intervals collapsed on the estimate).
    pub bootstrap: usize,
    /// Confidence level of the percentile intervals, in (0, 1), e.g. 0.9 or 0.95.
    pub confidence: f64,
    pub seed: u64,
    pub execution: Execution,
}

impl Default for SobolConfig {
    fn default() -> Self {
        SobolConfig {
            base_samples: 1000,
            bootstrap: 500,
            confidence: 0.95,
            seed: 0,
            execution: Execution::Parallel,
        }
    }
}

/// Sobol indices of one input on one output, with bootstrap percentile intervals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SobolIndex {
    pub s1: f64,
    pub s1_low: f64,
    pub s1_high: f64,
    pub st: f64,
    pub st_low: f64,
    pub st_high: f64,
}

/// Sobol analysis result.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolResult {
    /// Input names, in input order.
    pub inputs: Vec<String>,
    /// Number of model outputs `m`.
    pub outputs: usize,
    pub base_samples: usize,
    /// Model evaluations made: `N (k + 2)`.
    pub evaluations: usize,
    pub confidence: f64,
    /// Output variance `V` used by the estimators, one per output.
    pub variance: Vec<f64>,
    /// `k × m` indices, input-major: input `i`, output `o` is at `i · m + o`.
    pub indices: Vec<SobolIndex>,
}

impl SobolResult {
    /// Indices of `input` on `output`, if both exist.
    pub fn index(&self, input: usize, output: usize) -> Option<&SobolIndex> {
        if output < self.outputs {
            self.indices.get(input * self.outputs + output)
        } else {
            None
        }
    }
}

/// Runs a Sobol analysis of `model` over `inputs`.
pub fn sobol<F>(
    inputs: &[Input],
    model: &F,
    config: &SobolConfig,
) -> Result<SobolResult, SensitivityError>
where
    F: Fn(&[f64]) -> Vec<f64> + Sync,
{
    let points = sobol_design(inputs, config)?;
    let (f, m) = evaluate(model, &points, inputs.len(), config.execution)?;
    sobol_from(inputs, config, f, m)
}

/// The points of the analysis, `inputs.len()` values each, in the order their outputs are
/// expected by [`sobol_from`]: a deterministic function of the inputs and the seed, so that
/// shards of the design can be evaluated apart.
pub fn sobol_design(inputs: &[Input], config: &SobolConfig) -> Result<Vec<f64>, SensitivityError> {
    check(inputs, config)?;
    Ok(saltelli_points(inputs, config))
}

/// The indices from the outputs `f` (`m` per point) of every point of [`sobol_design`].
pub fn sobol_from(
    inputs: &[Input],
    config: &SobolConfig,
    f: Vec<f64>,
    m: usize,
) -> Result<SobolResult, SensitivityError> {
    check(inputs, config)?;
    let (k, n) = (inputs.len(), config.base_samples);
    let per_row = k + 2;
    if m == 0 || f.len() != n * per_row * m {
        return Err(SensitivityError::NoOutputs);
    }
    let design = Design { f, k, m, per_row };

    let rows: Vec<usize> = (0..n).collect();
    let (variance, point) = design.estimate(&rows);
    let indices = with_intervals(&design, &point, config);
    Ok(SobolResult {
        inputs: inputs.iter().map(|x| x.name.clone()).collect(),
        outputs: m,
        base_samples: n,
        evaluations: n * per_row,
        confidence: config.confidence,
        variance,
        indices,
    })
}

fn check(inputs: &[Input], config: &SobolConfig) -> Result<(), SensitivityError> {
    let k = inputs.len();
    if k == 0 {
        return Err(SensitivityError::NoInputs);
    }
    let n = config.base_samples;
    if n < 2 {
        return Err(invalid(
            "base_samples",
            n,
            "at least 2 base samples are needed",
        ));
    }
    if !(0.0..1.0).contains(&config.confidence) || config.confidence <= 0.0 {
        return Err(invalid(
            "confidence",
            config.confidence,
            "the confidence level must lie strictly between 0 and 1",
        ));
    }
    Ok(())
}

/// The points of a Saltelli design, mapped to input values: row `j` holds `A_j`, `B_j`,
/// `A_B^(1)_j`, …, `A_B^(k)_j`.
fn saltelli_points(inputs: &[Input], config: &SobolConfig) -> Vec<f64> {
    let (k, n) = (inputs.len(), config.base_samples);
    let per_row = k + 2;
    let mut points = Vec::with_capacity(n * per_row * k);
    let mut a = vec![0.0; k];
    let mut b = vec![0.0; k];
    for j in 0..n {
        let mut rng = stream_rng(config.seed, STREAM_SALTELLI, j as u64);
        for u in a.iter_mut().chain(b.iter_mut()) {
            *u = open_unit(&mut rng);
        }
        points.extend(inputs.iter().zip(&a).map(|(x, &u)| x.value(u)));
        points.extend(inputs.iter().zip(&b).map(|(x, &u)| x.value(u)));
        for i in 0..k {
            points.extend(
                inputs
                    .iter()
                    .enumerate()
                    .map(|(c, x)| x.value(if c == i { b[c] } else { a[c] })),
            );
        }
    }
    points
}

/// The indices `point` (per input and output, `(S1, ST)`) with their bootstrap percentile
/// intervals.
fn with_intervals(design: &Design, point: &[(f64, f64)], config: &SobolConfig) -> Vec<SobolIndex> {
    let n = config.base_samples;
    // Each bootstrap resample depends only on (seed, b); collected in index order.
    let resample = |bi: usize| {
        let mut rng = stream_rng(config.seed, STREAM_BOOTSTRAP, bi as u64);
        let rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        design.estimate(&rows).1
    };
    let boots: Vec<Vec<(f64, f64)>> = match config.execution {
        Execution::Sequential => (0..config.bootstrap).map(resample).collect(),
        Execution::Parallel => (0..config.bootstrap)
            .into_par_iter()
            .map(resample)
            .collect(),
    };

    let tail = (1.0 - config.confidence) / 2.0;
    let mut s1_draws = Vec::with_capacity(boots.len());
    let mut st_draws = Vec::with_capacity(boots.len());
    point
        .iter()
        .enumerate()
        .map(|(c, &(s1, st))| {
            s1_draws.clear();
            st_draws.clear();
            for boot in &boots {
                s1_draws.push(boot[c].0);
                st_draws.push(boot[c].1);
            }
            let (s1_low, s1_high) = percentile_interval(&mut s1_draws, tail).unwrap_or((s1, s1));
            let (st_low, st_high) = percentile_interval(&mut st_draws, tail).unwrap_or((st, st));
            SobolIndex {
                s1,
                s1_low,
                s1_high,
                st,
                st_low,
                st_high,
            }
        })
        .collect()
}

/// Model outputs of a Saltelli design, row-major: row `j`, point `c` (0 = A, 1 = B,
/// `2 + i` = `A_B^(i)`), output `o` at `(j · per_row + c) · m + o`.
struct Design {
    f: Vec<f64>,
    k: usize,
    m: usize,
    per_row: usize,
}

impl Design {
    fn at(&self, row: usize, point: usize, output: usize) -> f64 {
        self.f[(row * self.per_row + point) * self.m + output]
    }

    /// Output variances and `(S1, ST)` per input × output (input-major), over `rows`
    /// (which may repeat, for a bootstrap resample).
    fn estimate(&self, rows: &[usize]) -> (Vec<f64>, Vec<(f64, f64)>) {
        let nf = rows.len() as f64;
        let mut variances = Vec::with_capacity(self.m);
        let mut out = vec![(0.0, 0.0); self.k * self.m];
        for o in 0..self.m {
            let mut mean = 0.0;
            for &j in rows {
                mean += self.at(j, 0, o) + self.at(j, 1, o);
            }
            mean /= 2.0 * nf;
            let mut var = 0.0;
            for &j in rows {
                var += (self.at(j, 0, o) - mean).powi(2) + (self.at(j, 1, o) - mean).powi(2);
            }
            var /= 2.0 * nf;
            variances.push(var);
            if var.is_nan() || var <= 0.0 {
                continue;
            }
            for i in 0..self.k {
                let (mut first, mut total) = (0.0, 0.0);
                for &j in rows {
                    let (fa, fb, fab) = (self.at(j, 0, o), self.at(j, 1, o), self.at(j, 2 + i, o));
                    // Centring f(B) leaves the expectation unchanged (E[f(A_B) − f(A)] = 0)
                    // but removes the noise of a large output mean, which otherwise swamps
                    // a small variance (an allocation of 30 varying by 0.01).
                    first += (fb - mean) * (fab - fa);
                    total += (fa - fab) * (fa - fab);
                }
                out[i * self.m + o] = (first / nf / var, total / (2.0 * nf) / var);
            }
        }
        (variances, out)
    }
}

/// Percentile interval `[q(tail), q(1 − tail)]` with linear interpolation between order
/// statistics; `None` for no draws. Sorts `draws`.
fn percentile_interval(draws: &mut [f64], tail: f64) -> Option<(f64, f64)> {
    if draws.is_empty() {
        return None;
    }
    draws.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (draws.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(draws.len() - 1);
        let frac = pos - lo as f64;
        draws[lo] + (draws[hi] - draws[lo]) * frac
    };
    Some((q(tail), q(1.0 - tail)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensitivity::test_models::{ishigami, ishigami_inputs};
    use approx::assert_relative_eq;
    use std::f64::consts::PI;

    /// Analytic Ishigami indices for a = 7, b = 0.1.
    fn ishigami_analytic() -> ([f64; 3], [f64; 3]) {
        let (a, b) = (7.0f64, 0.1f64);
        let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
        let v = v1 + v2 + v13;
        ([v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v])
    }

    #[test]
    fn analytic_ishigami_values() {
        let (s1, st) = ishigami_analytic();
        assert_relative_eq!(s1[0], 0.3139, epsilon = 1e-4);
        assert_relative_eq!(s1[1], 0.4424, epsilon = 1e-4);
        assert_relative_eq!(st[0], 0.5576, epsilon = 1e-4);
        assert_relative_eq!(st[2], 0.2437, epsilon = 1e-4);
    }

    #[test]
    fn ishigami_indices_within_bootstrap_intervals() {
        // A statistical check made deterministic by the fixed seed: each 95% interval
        // misses with probability ~5%, so the six together hold for most seeds (about four
        // in five over seeds 0–11 when this was written) but not all. If a change to the
        // sampling streams makes this fail, look at a few seeds before suspecting a bug;
        // the tolerance check below catches a biased estimator on any seed.
        let cfg = SobolConfig {
            base_samples: 4096,
            bootstrap: 400,
            confidence: 0.95,
            seed: 0,
            execution: Execution::Parallel,
        };
        let res = sobol(&ishigami_inputs(), &ishigami, &cfg).unwrap();
        assert_eq!(res.evaluations, 4096 * 5);
        let (s1, st) = ishigami_analytic();
        for i in 0..3 {
            let idx = res.index(i, 0).unwrap();
            assert!(
                idx.s1_low <= s1[i] && s1[i] <= idx.s1_high,
                "S1[{i}] {} not in {idx:?}",
                s1[i]
            );
            assert!(
                idx.st_low <= st[i] && st[i] <= idx.st_high,
                "ST[{i}] {} not in {idx:?}",
                st[i]
            );
            // The intervals are informative, not trivially wide.
            assert!(idx.s1_high - idx.s1_low < 0.15, "{idx:?}");
            assert!(idx.st_high - idx.st_low < 0.15, "{idx:?}");
            assert!(idx.s1_low <= idx.s1 && idx.s1 <= idx.s1_high);
            assert!(
                (idx.s1 - s1[i]).abs() < 0.06 && (idx.st - st[i]).abs() < 0.06,
                "{idx:?}"
            );
        }
        // Analytic output variance: a²/8 + bπ⁴/5 + b²π⁸/18 + ½ ≈ 13.84.
        assert_relative_eq!(res.variance[0], 13.8446, max_relative = 0.05);
    }

    #[test]
    fn linear_model_indices_and_outputs() {
        // f = x1 + 2 x2 (+ x3 unused), uniform inputs: S1 = ST = c² / Σc² = (0.2, 0.8, 0).
        // A second output that is constant has all indices 0.
        let inputs: Vec<Input> = (0..3)
            .map(|i| Input::uniform(format!("x{i}"), 0.0, 1.0))
            .collect();
        let model = |x: &[f64]| vec![x[0] + 2.0 * x[1], 5.0];
        let cfg = SobolConfig {
            base_samples: 2000,
            bootstrap: 200,
            ..SobolConfig::default()
        };
        let res = sobol(&inputs, &model, &cfg).unwrap();
        assert_eq!(res.outputs, 2);
        let expected = [0.2, 0.8, 0.0];
        for (i, &e) in expected.iter().enumerate() {
            let idx = res.index(i, 0).unwrap();
            assert!(idx.s1_low <= e && e <= idx.s1_high, "{i}: {idx:?}");
            assert!(idx.st_low <= e && e <= idx.st_high, "{i}: {idx:?}");
            let constant = res.index(i, 1).unwrap();
            assert_eq!(*constant, SobolIndex::default());
        }
        // The unused input has exactly zero total effect (A_B^(3) = A in its outputs).
        assert_relative_eq!(res.index(2, 0).unwrap().st, 0.0);
    }

    #[test]
    fn bit_identical_across_thread_counts() {
        let cfg = SobolConfig {
            base_samples: 300,
            bootstrap: 50,
            seed: 9,
            ..SobolConfig::default()
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| sobol(&ishigami_inputs(), &ishigami, &cfg))
                .unwrap()
        };
        let bits = |r: &SobolResult| -> Vec<u64> {
            r.indices
                .iter()
                .flat_map(|i| [i.s1, i.s1_low, i.s1_high, i.st, i.st_low, i.st_high])
                .chain(r.variance.iter().copied())
                .map(f64::to_bits)
                .collect()
        };
        let one = run(1);
        let two = run(2);
        assert_eq!(bits(&one), bits(&two));
        let seq = sobol(
            &ishigami_inputs(),
            &ishigami,
            &SobolConfig {
                execution: Execution::Sequential,
                ..cfg
            },
        )
        .unwrap();
        assert_eq!(bits(&one), bits(&seq));
    }

    #[test]
    fn invalid_settings_are_errors() {
        let inputs = ishigami_inputs();
        for cfg in [
            SobolConfig {
                base_samples: 1,
                ..SobolConfig::default()
            },
            SobolConfig {
                confidence: 1.0,
                ..SobolConfig::default()
            },
        ] {
            assert!(matches!(
                sobol(&inputs, &ishigami, &cfg),
                Err(SensitivityError::InvalidSetting { .. })
            ));
        }
        assert_eq!(
            sobol(&[], &ishigami, &SobolConfig::default()).unwrap_err(),
            SensitivityError::NoInputs
        );
    }

    #[test]
    fn percentile_interval_interpolates() {
        let mut d: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let (lo, hi) = percentile_interval(&mut d, 0.05).unwrap();
        assert_relative_eq!(lo, 5.0);
        assert_relative_eq!(hi, 95.0);
        assert_eq!(percentile_interval(&mut [], 0.05), None);
    }
}
