//! Streaming statistics of Monte Carlo outputs (docs/model.md §3.2): moments, probabilities,
//! exact quantiles and a mergeable quantile sketch.
//!
//! Every accumulator is mergeable and deterministic. The engine splits draws into fixed-size
//! blocks (independent of the thread count), accumulates each block sequentially, and merges
//! the blocks in block order; the results are then bit-identical for any number of threads.
//! Quantiles are additionally independent of blocking altogether (see [`quantiles`]).

pub mod columns;
pub mod moments;
pub mod quantiles;
pub mod sketch;

pub use moments::{Moments, Probability};
pub use quantiles::{DEFAULT_EXACT_LIMIT, Quantiles};
pub use sketch::Sketch;

/// Hint the CPU to fetch the cache line holding `x` (a prefetch instruction, which cannot
/// fault and changes no value). A no-op off x86-64.
#[inline(always)]
pub fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `x` is a valid reference, and `prefetcht0` never faults or writes memory;
    // SSE is part of the x86-64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// The probabilities reported for every output.
pub const SUMMARY_PROBS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// The distribution summary of one output (region × formula, party × agreement, ...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
    /// Monte Carlo standard error of the mean.
    pub se: f64,
    pub min: f64,
    pub max: f64,
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

/// Moments and quantiles of one output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Accumulator {
    pub moments: Moments,
    pub quantiles: Quantiles,
}

impl Accumulator {
    /// Quantiles exact up to `exact_limit` values, then a sketch of relative accuracy `alpha`.
    pub fn new(exact_limit: usize, alpha: f64) -> Self {
        Accumulator {
            moments: Moments::new(),
            quantiles: Quantiles::new(exact_limit, alpha),
        }
    }

    #[inline]
    pub fn push(&mut self, x: f64) {
        self.moments.push(x);
        self.quantiles.push(x);
    }

    /// Append `other` (the next block) to this one.
    pub fn merge(&mut self, other: &Accumulator) {
        self.moments.merge(&other.moments);
        self.quantiles.merge(&other.quantiles);
    }

    pub fn summary(&self) -> Summary {
        let q = self.quantiles.quantiles(&SUMMARY_PROBS);
        let m = &self.moments;
        Summary {
            n: m.count(),
            mean: m.mean(),
            sd: m.sd(),
            se: m.se(),
            min: m.min(),
            max: m.max(),
            p05: q[0],
            p25: q[1],
            p50: q[2],
            p75: q[3],
            p95: q[4],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::{std_normal, stream};
    use rayon::prelude::*;

    const BLOCK: usize = 256;

    /// Draw d's output depends only on (seed, d).
    fn output(d: u64) -> f64 {
        let mut r = stream(99, d, 0);
        100.0 + 20.0 * std_normal(&mut r) - 5.0 * std_normal(&mut r).abs()
    }

    fn block_acc(range: std::ops::Range<u64>, limit: usize) -> Accumulator {
        let mut a = Accumulator::new(limit, sketch::DEFAULT_ALPHA);
        range.for_each(|d| a.push(output(d)));
        a
    }

    fn bits(s: &Summary) -> [u64; 11] {
        [
            s.n,
            s.mean.to_bits(),
            s.sd.to_bits(),
            s.se.to_bits(),
            s.min.to_bits(),
            s.max.to_bits(),
            s.p05.to_bits(),
            s.p25.to_bits(),
            s.p50.to_bits(),
            s.p75.to_bits(),
            s.p95.to_bits(),
        ]
    }

    /// Blocks accumulated on a pool of `threads` threads, merged in block order.
    fn parallel(draws: u64, threads: usize, limit: usize) -> Summary {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let blocks: Vec<Accumulator> = pool.install(|| {
            (0..draws.div_ceil(BLOCK as u64))
                .into_par_iter()
                .map(|b| block_acc(b * BLOCK as u64..((b + 1) * BLOCK as u64).min(draws), limit))
                .collect()
        });
        let mut total = Accumulator::new(limit, sketch::DEFAULT_ALPHA);
        blocks.iter().for_each(|b| total.merge(b));
        total.summary()
    }

    #[test]
    fn block_merge_is_bit_identical_across_thread_counts() {
        let draws: u64 = 5_000;
        for limit in [DEFAULT_EXACT_LIMIT, 1_000] {
            // Sequential path with the same block structure.
            let mut seq = Accumulator::new(limit, sketch::DEFAULT_ALPHA);
            for b in 0..draws.div_ceil(BLOCK as u64) {
                seq.merge(&block_acc(
                    b * BLOCK as u64..((b + 1) * BLOCK as u64).min(draws),
                    limit,
                ));
            }
            let want = bits(&seq.summary());
            for threads in [1, 2, 4] {
                assert_eq!(
                    bits(&parallel(draws, threads, limit)),
                    want,
                    "threads {threads}"
                );
            }
            // Quantiles do not even depend on the blocking; moments agree to rounding.
            let plain = block_acc(0..draws, limit).summary();
            assert_eq!(plain.p50.to_bits(), seq.summary().p50.to_bits());
            approx::assert_relative_eq!(plain.mean, seq.summary().mean, max_relative = 1e-13);
        }
    }

    #[test]
    fn summary_of_known_values() {
        let mut a = Accumulator::default();
        (1..=101).for_each(|i| a.push(i as f64));
        let s = a.summary();
        assert_eq!(s.n, 101);
        approx::assert_relative_eq!(s.mean, 51.0);
        approx::assert_relative_eq!(s.p05, 6.0);
        approx::assert_relative_eq!(s.p95, 96.0);
        approx::assert_relative_eq!(s.se, s.sd / 101f64.sqrt());
        assert_eq!((s.min, s.max), (1.0, 101.0));
    }
}
