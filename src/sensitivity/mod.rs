//! Global sensitivity analysis: Morris elementary effects and Sobol indices.
//!
//! Both methods treat the simulator as a black box `F: Fn(&[f64]) -> Vec<f64> + Sync`
//! taking one value per uncertain [`Input`] (in input order) and returning `m` outputs
//! (selected allocations, the Gini, total deductions, net payments, ...). Each input is
//! described by its inverse CDF on the unit interval, so the designs are built on the unit
//! hypercube and mapped to input values only when the model is called.
//!
//! - [`morris`]: elementary effects on a `p`-level grid, `r` trajectories; μ, μ*, σ.
//! - [`sobol`]: first-order and total indices with Saltelli sampling and bootstrap
//!   percentile intervals.
//!
//! Reproducibility (the stream rules of docs/model.md §3.2): every random quantity — a Morris
//! trajectory, a Saltelli row, a bootstrap resample — comes from its own
//! `Xoshiro256PlusPlus` seeded from `(seed, stream, index)`. Model evaluations run in
//! parallel with rayon into an index-ordered vector, and every reduction runs sequentially
//! in index order, so results are bit-identical for any thread count and equal to the
//! [`Execution::Sequential`] path.

pub mod analysis;
mod morris;
mod sobol;

pub use morris::{MorrisConfig, MorrisIndex, MorrisResult, morris, morris_design, morris_from};
pub use sobol::{SobolConfig, SobolIndex, SobolResult, sobol, sobol_design, sobol_from};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::fmt;

/// One uncertain input: a name and a map from the unit interval to input values.
pub struct Input {
    pub name: String,
    inv_cdf: Box<dyn Fn(f64) -> f64 + Send + Sync>,
}

impl Input {
    /// Uniform on `[low, high]`.
    pub fn uniform(name: impl Into<String>, low: f64, high: f64) -> Self {
        Input {
            name: name.into(),
            inv_cdf: Box::new(move |u| low + (high - low) * u),
        }
    }

    /// Any distribution, given by its inverse CDF (quantile function). The designs only
    /// call it with `u` strictly inside `(0, 1)`, so unbounded distributions are fine.
    pub fn custom(
        name: impl Into<String>,
        inv_cdf: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        Input {
            name: name.into(),
            inv_cdf: Box::new(inv_cdf),
        }
    }

    /// The input value at probability level `u`.
    pub fn value(&self, u: f64) -> f64 {
        (self.inv_cdf)(u)
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whether model evaluations run on the rayon pool or on the calling thread. Both give
/// bit-identical results; the sequential path exists so that this can be tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Execution {
    Sequential,
    #[default]
    Parallel,
}

/// A sensitivity analysis that cannot run as configured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SensitivityError {
    #[error("sensitivity analysis needs at least one uncertain input, and none was given")]
    NoInputs,
    #[error("{setting} = {value}: {reason}")]
    InvalidSetting {
        setting: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("the model returned no outputs")]
    NoOutputs,
    #[error(
        "the model returned {got} outputs at evaluation {index} but {expected} at evaluation 0"
    )]
    OutputLength {
        index: usize,
        expected: usize,
        got: usize,
    },
}

/// Random-stream identifiers, so the streams of different purposes never coincide.
const STREAM_MORRIS: u64 = 1;
const STREAM_SALTELLI: u64 = 2;
const STREAM_BOOTSTRAP: u64 = 3;

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for item `index` of stream `stream` under `seed`.
fn stream_rng(seed: u64, stream: u64, index: u64) -> Xoshiro256PlusPlus {
    let mixed = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index);
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

/// A uniform number strictly inside (0, 1): the midpoint of one of 2⁵³ equal cells, so an
/// inverse CDF is never called at 0 or 1.
fn open_unit(rng: &mut Xoshiro256PlusPlus) -> f64 {
    use rand::Rng;
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    ((rng.next_u64() >> 11) as f64 + 0.5) * SCALE
}

/// Evaluates `model` at each row of `points` (row-major, `k` columns, already mapped to
/// input values). Returns the outputs row-major (`rows × m`) and `m`.
pub fn evaluate<F>(
    model: &F,
    points: &[f64],
    k: usize,
    execution: Execution,
) -> Result<(Vec<f64>, usize), SensitivityError>
where
    F: Fn(&[f64]) -> Vec<f64> + Sync + ?Sized,
{
    let results: Vec<Vec<f64>> = match execution {
        Execution::Sequential => points.chunks_exact(k).map(model).collect(),
        Execution::Parallel => points.par_chunks_exact(k).map(model).collect(),
    };
    let m = results.first().map_or(0, Vec::len);
    if m == 0 {
        return Err(SensitivityError::NoOutputs);
    }
    let mut flat = Vec::with_capacity(results.len() * m);
    for (index, row) in results.iter().enumerate() {
        if row.len() != m {
            return Err(SensitivityError::OutputLength {
                index,
                expected: m,
                got: row.len(),
            });
        }
        flat.extend_from_slice(row);
    }
    Ok((flat, m))
}

fn invalid(
    setting: &'static str,
    value: impl fmt::Display,
    reason: &'static str,
) -> SensitivityError {
    SensitivityError::InvalidSetting {
        setting,
        value: value.to_string(),
        reason,
    }
}

#[cfg(test)]
pub(crate) mod test_models {
    use super::Input;
    use std::f64::consts::PI;

    /// Ishigami inputs: three uniforms on [−π, π].
    pub fn ishigami_inputs() -> Vec<Input> {
        (1..=3)
            .map(|i| Input::uniform(format!("x{i}"), -PI, PI))
            .collect()
    }

    /// Ishigami function with a = 7, b = 0.1.
    pub fn ishigami(x: &[f64]) -> Vec<f64> {
        vec![x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        use rand::Rng;
        let a = stream_rng(7, STREAM_SALTELLI, 3).next_u64();
        assert_eq!(a, stream_rng(7, STREAM_SALTELLI, 3).next_u64());
        assert_ne!(a, stream_rng(7, STREAM_SALTELLI, 4).next_u64());
        assert_ne!(a, stream_rng(7, STREAM_BOOTSTRAP, 3).next_u64());
        assert_ne!(a, stream_rng(8, STREAM_SALTELLI, 3).next_u64());
    }

    #[test]
    fn open_unit_stays_inside() {
        let mut rng = stream_rng(1, 1, 1);
        for _ in 0..10_000 {
            let u = open_unit(&mut rng);
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn evaluate_checks_output_lengths() {
        let pts = [0.0, 1.0, 2.0];
        let bad = |x: &[f64]| vec![0.0; 1 + x[0] as usize % 2];
        let err = evaluate(&bad, &pts, 1, Execution::Sequential).unwrap_err();
        assert_eq!(
            err,
            SensitivityError::OutputLength {
                index: 1,
                expected: 1,
                got: 2
            }
        );
        let none = |_: &[f64]| Vec::new();
        assert_eq!(
            evaluate(&none, &pts, 1, Execution::Parallel).unwrap_err(),
            SensitivityError::NoOutputs
        );
    }
}
