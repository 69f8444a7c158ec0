//! Morris elementary effects (Morris 1991; μ* from Campolongo et al. 2007).
//!
//! Design: `r` random one-at-a-time trajectories on a grid of `p` levels (`p` even). The
//! grid lives on the probability scale of each input at the cell mid-points
//! `u_l = (l + ½) / p`, `l = 0 … p−1`, so inverse CDFs of unbounded distributions are
//! never called at 0 or 1. Each step moves one input by `p/2` levels, i.e. by
//! `Δ = ½` on the probability scale (the classical `Δ = p / (2(p − 1))` of the
//! `[0, 1]` grid, rescaled to the mid-point grid).
//!
//! A trajectory starts at a random grid point, visits the inputs in a random order and
//! moves each one up or down (its random direction), so it costs `k + 1` evaluations and
//! yields one elementary effect per input and output:
//! `EE_i = (f(x + Δ e_i) − f(x)) / Δ`, oriented upwards whichever way the step went.
//! Effects are therefore per unit of probability; for `Input::uniform(low, high)` and a
//! linear model `c · x_i`, `EE_i = c · (high − low)`.
//!
//! Trajectories are drawn independently (no Campolongo optimisation of their spread).

use super::{Execution, Input, STREAM_MORRIS, SensitivityError, evaluate, invalid, stream_rng};
use rand::RngExt;

/// Settings of a Morris screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MorrisConfig {
    /// Number of trajectories `r` (≥ 1; 10–50 is usual).
    pub trajectories: usize,
    /// Number of grid levels `p` (even, ≥ 2; 4 is usual).
    pub levels: usize,
    pub seed: u64,
    pub execution: Execution,
}

impl Default for MorrisConfig {
    fn default() -> Self {
        MorrisConfig {
            trajectories: 20,
            levels: 4,
            seed: 0,
            execution: Execution::Parallel,
        }
    }
}

/// Summary of the elementary effects of one input on one output.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MorrisIndex {
    /// Mean elementary effect μ (effects of opposite sign cancel).
    pub mu: f64,
    /// Mean absolute elementary effect μ*: the overall importance.
    pub mu_star: f64,
    /// Standard deviation σ of the effects (divides by `r − 1`; 0 when `r = 1`): large for
    /// non-linear effects or interactions.
    pub sigma: f64,
}

/// Morris screening result.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisResult {
    /// Input names, in input order.
    pub inputs: Vec<String>,
    /// Number of model outputs `m`.
    pub outputs: usize,
    pub trajectories: usize,
    /// Model evaluations made: `r (k + 1)`.
    pub evaluations: usize,
    /// `k × m` indices, input-major: input `i`, output `o` is at `i · m + o`.
    pub indices: Vec<MorrisIndex>,
}

impl MorrisResult {
    /// Index of `input` on `output`, if both exist.
    pub fn index(&self, input: usize, output: usize) -> Option<&MorrisIndex> {
        if output < self.outputs {
            self.indices.get(input * self.outputs + output)
        } else {
            None
        }
    }
}

/// Runs a Morris screening of `model` over `inputs`.
pub fn morris<F>(
    inputs: &[Input],
    model: &F,
    config: &MorrisConfig,
) -> Result<MorrisResult, SensitivityError>
where
    F: Fn(&[f64]) -> Vec<f64> + Sync,
{
    let points = morris_design(inputs, config)?;
    let (f, m) = evaluate(model, &points, inputs.len(), config.execution)?;
    morris_from(inputs, config, &f, m)
}

/// The points of the screening, `inputs.len()` values each, in the order their outputs
/// are expected by [`morris_from`]: a deterministic function of the inputs and the seed.
pub fn morris_design(
    inputs: &[Input],
    config: &MorrisConfig,
) -> Result<Vec<f64>, SensitivityError> {
    check(inputs, config)?;
    Ok(design(inputs, config).0)
}

/// The indices from the outputs `f` (`m` per point) of every point of [`morris_design`].
pub fn morris_from(
    inputs: &[Input],
    config: &MorrisConfig,
    f: &[f64],
    m: usize,
) -> Result<MorrisResult, SensitivityError> {
    check(inputs, config)?;
    let (k, r, p) = (inputs.len(), config.trajectories, config.levels);
    if m == 0 || f.len() != r * (k + 1) * m {
        return Err(SensitivityError::NoOutputs);
    }
    let delta = (p / 2) as f64 / p as f64;
    let (_, moves) = design(inputs, config);
    let indices = summarise(f, m, &moves, k, delta);
    Ok(MorrisResult {
        inputs: inputs.iter().map(|x| x.name.clone()).collect(),
        outputs: m,
        trajectories: r,
        evaluations: r * (k + 1),
        indices,
    })
}

fn check(inputs: &[Input], config: &MorrisConfig) -> Result<(), SensitivityError> {
    let k = inputs.len();
    if k == 0 {
        return Err(SensitivityError::NoInputs);
    }
    let r = config.trajectories;
    if r == 0 {
        return Err(invalid(
            "trajectories",
            r,
            "at least one trajectory is needed",
        ));
    }
    let p = config.levels;
    if p < 2 || !p.is_multiple_of(2) {
        return Err(invalid(
            "levels",
            p,
            "the number of Morris levels must be even and at least 2",
        ));
    }
    Ok(())
}

/// The design of a screening: per trajectory, its `k + 1` points, and the moves between
/// them (the input moved, and whether up).
fn design(inputs: &[Input], config: &MorrisConfig) -> (Vec<f64>, Vec<(usize, bool)>) {
    let (k, r, p) = (inputs.len(), config.trajectories, config.levels);
    let half = p / 2;
    let mut points = Vec::with_capacity(r * (k + 1) * k);
    let mut moves = Vec::with_capacity(r * k);
    let mut levels = vec![0usize; k];
    let mut up = vec![false; k];
    let mut order: Vec<usize> = Vec::with_capacity(k);
    for t in 0..r {
        let mut rng = stream_rng(config.seed, STREAM_MORRIS, t as u64);
        for (level, goes_up) in levels.iter_mut().zip(up.iter_mut()) {
            *goes_up = rng.random::<bool>();
            // Start low enough to step up, or high enough to step down.
            let start = rng.random_range(0..half);
            *level = if *goes_up { start } else { start + half };
        }
        order.clear();
        order.extend(0..k);
        for j in (1..k).rev() {
            order.swap(j, rng.random_range(0..=j));
        }
        push_point(&mut points, inputs, &levels, p);
        for &i in &order {
            levels[i] = if up[i] {
                levels[i] + half
            } else {
                levels[i] - half
            };
            push_point(&mut points, inputs, &levels, p);
            moves.push((i, up[i]));
        }
    }
    (points, moves)
}

/// The indices of every input on every output (`k × m`, input-major) from the outputs `f`
/// of the design's points (`m` per point) and its `moves`, whose steps are `delta` long.
fn summarise(
    f: &[f64],
    m: usize,
    moves: &[(usize, bool)],
    k: usize,
    delta: f64,
) -> Vec<MorrisIndex> {
    let r = moves.len() / k;
    // Sequential reduction in trajectory order: running sums per input × output.
    let mut sum = vec![0.0; k * m];
    let mut sum_abs = vec![0.0; k * m];
    let mut effects = vec![0.0; r * k * m];
    for t in 0..r {
        for step in 0..k {
            let (i, went_up) = moves[t * k + step];
            let before = (t * (k + 1) + step) * m;
            let after = before + m;
            for o in 0..m {
                let change = f[after + o] - f[before + o];
                let ee = (if went_up { change } else { -change }) / delta;
                effects[(t * k + i) * m + o] = ee;
                sum[i * m + o] += ee;
                sum_abs[i * m + o] += ee.abs();
            }
        }
    }
    let rf = r as f64;
    let mut indices = Vec::with_capacity(k * m);
    for i in 0..k {
        for o in 0..m {
            let mu = sum[i * m + o] / rf;
            let sigma = if r > 1 {
                let ss: f64 = (0..r)
                    .map(|t| (effects[(t * k + i) * m + o] - mu).powi(2))
                    .sum();
                (ss / (rf - 1.0)).sqrt()
            } else {
                0.0
            };
            indices.push(MorrisIndex {
                mu,
                mu_star: sum_abs[i * m + o] / rf,
                sigma,
            });
        }
    }
    indices
}

/// Appends the input values at grid `levels` to `points`.
fn push_point(points: &mut Vec<f64>, inputs: &[Input], levels: &[usize], p: usize) {
    points.extend(
        inputs
            .iter()
            .zip(levels)
            .map(|(input, &l)| input.value((l as f64 + 0.5) / p as f64)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensitivity::test_models::{ishigami, ishigami_inputs};
    use approx::assert_relative_eq;

    fn inputs3() -> Vec<Input> {
        vec![
            Input::uniform("linear", 0.0, 2.0),
            Input::uniform("square", 0.0, 1.0),
            Input::uniform("inactive", -5.0, 5.0),
        ]
    }

    /// Output 0 = 3·x0 + x1², output 1 = x0·x1; x2 never matters.
    fn model(x: &[f64]) -> Vec<f64> {
        vec![3.0 * x[0] + x[1] * x[1], x[0] * x[1]]
    }

    #[test]
    fn linear_inactive_and_nonlinear_inputs() {
        let cfg = MorrisConfig {
            trajectories: 30,
            levels: 4,
            seed: 11,
            execution: Execution::Parallel,
        };
        let res = morris(&inputs3(), &model, &cfg).unwrap();
        assert_eq!(res.outputs, 2);
        assert_eq!(res.evaluations, 30 * 4);
        // Linear: every effect is 3 · (high − low) = 6 exactly.
        let lin = res.index(0, 0).unwrap();
        assert_relative_eq!(lin.mu, 6.0, epsilon = 1e-12);
        assert_relative_eq!(lin.mu_star, 6.0, epsilon = 1e-12);
        assert!(lin.sigma < 1e-12);
        // Inactive input: no effect on any output.
        for o in 0..2 {
            let idx = res.index(2, o).unwrap();
            assert!(idx.mu_star < 1e-12 && idx.sigma < 1e-12, "{idx:?}");
        }
        // Quadratic in x1: positive effects that vary with the level.
        let sq = res.index(1, 0).unwrap();
        assert!(sq.mu_star > 0.5 && sq.sigma > 0.1, "{sq:?}");
        // Interaction: x0's effect on output 1 depends on x1.
        assert!(res.index(0, 1).unwrap().sigma > 0.1);
        assert!(res.index(3, 0).is_none() && res.index(0, 2).is_none());
    }

    #[test]
    fn ishigami_ranks_x3_effect_through_interaction() {
        let cfg = MorrisConfig {
            trajectories: 50,
            ..MorrisConfig::default()
        };
        let res = morris(&ishigami_inputs(), &ishigami, &cfg).unwrap();
        // x3 has no first-order effect but a strong interaction with x1: μ* > 0, σ large.
        let x3 = res.index(2, 0).unwrap();
        assert!(x3.mu_star > 0.5 && x3.sigma > 0.5, "{x3:?}");
    }

    #[test]
    fn bit_identical_across_thread_counts() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| morris(&ishigami_inputs(), &ishigami, &MorrisConfig::default()))
                .unwrap()
        };
        let bits = |r: &MorrisResult| -> Vec<u64> {
            r.indices
                .iter()
                .flat_map(|i| [i.mu.to_bits(), i.mu_star.to_bits(), i.sigma.to_bits()])
                .collect()
        };
        let one = run(1);
        let two = run(2);
        assert_eq!(bits(&one), bits(&two));
        let seq = morris(
            &ishigami_inputs(),
            &ishigami,
            &MorrisConfig {
                execution: Execution::Sequential,
                ..MorrisConfig::default()
            },
        )
        .unwrap();
        assert_eq!(bits(&one), bits(&seq));
        let other_seed = morris(
            &ishigami_inputs(),
            &ishigami,
            &MorrisConfig {
                seed: 1,
                ..MorrisConfig::default()
            },
        )
        .unwrap();
        assert_ne!(bits(&one), bits(&other_seed));
    }

    #[test]
    fn invalid_settings_are_errors() {
        let bad_levels = MorrisConfig {
            levels: 3,
            ..MorrisConfig::default()
        };
        assert!(matches!(
            morris(&inputs3(), &model, &bad_levels),
            Err(SensitivityError::InvalidSetting {
                setting: "levels",
                ..
            })
        ));
        let no_traj = MorrisConfig {
            trajectories: 0,
            ..MorrisConfig::default()
        };
        assert!(morris(&inputs3(), &model, &no_traj).is_err());
        assert_eq!(
            morris(&[], &model, &MorrisConfig::default()).unwrap_err(),
            SensitivityError::NoInputs
        );
    }
}
