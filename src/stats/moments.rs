//! Streaming moments and probability counters (docs/model.md §3.2).
//!
//! Both are mergeable. Merging is deterministic: the same blocks merged in the same order
//! give bit-identical results, which is how the Monte Carlo engine makes its statistics
//! independent of the thread count (fixed-size blocks of draws, each accumulated
//! sequentially, merged in block order).

/// Count, mean, sum of squared deviations (Welford; Chan et al. for merging), min and max.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments::new()
    }
}

impl Moments {
    pub fn new() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Moments from their parts: `n` values with mean `mean`, sum of squared deviations
    /// from the mean `m2`, and extremes `min`, `max` (for block summaries computed in bulk).
    pub fn from_parts(n: u64, mean: f64, m2: f64, min: f64, max: f64) -> Self {
        if n == 0 {
            return Moments::new();
        }
        Moments {
            n,
            mean,
            m2,
            min,
            max,
        }
    }

    /// Add one observation (Welford's update).
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Append `other`'s observations after this one's (Chan, Golub & LeVeque 1979).
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// The mean; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.mean }
    }

    /// The sample variance (n − 1 denominator); NaN below two observations.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    pub fn sd(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Monte Carlo standard error of the mean, sd/√n.
    pub fn se(&self) -> f64 {
        self.sd() / (self.n as f64).sqrt()
    }

    /// The smallest observation; NaN when empty.
    pub fn min(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.min }
    }

    /// The largest observation; NaN when empty.
    pub fn max(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.max }
    }
}

impl crate::stats::columns::Packed for Moments {
    const MAX: usize = 42;
    fn put(&self, out: &mut Vec<u8>) {
        use crate::stats::columns::{put_f64, put_varint};
        put_varint(out, self.n);
        for x in [self.mean, self.m2, self.min, self.max] {
            put_f64(out, x);
        }
    }
    fn get(b: &mut &[u8]) -> Option<Self> {
        use crate::stats::columns::{get_f64, get_varint};
        Some(Moments {
            n: get_varint(b)?,
            mean: get_f64(b)?,
            m2: get_f64(b)?,
            min: get_f64(b)?,
            max: get_f64(b)?,
        })
    }
}

/// A probability estimated by counting events (deduction, binding floor, section met, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Probability {
    pub n: u64,
    pub hits: u64,
}

impl crate::stats::columns::Packed for Probability {
    const MAX: usize = 20;
    fn put(&self, out: &mut Vec<u8>) {
        crate::stats::columns::put_varint(out, self.n);
        crate::stats::columns::put_varint(out, self.hits);
    }
    fn get(b: &mut &[u8]) -> Option<Self> {
        use crate::stats::columns::get_varint;
        Some(Probability {
            n: get_varint(b)?,
            hits: get_varint(b)?,
        })
    }
}

impl Probability {
    #[inline]
    pub fn push(&mut self, event: bool) {
        self.n += 1;
        self.hits += u64::from(event);
    }

    pub fn merge(&mut self, other: &Probability) {
        self.n += other.n;
        self.hits += other.hits;
    }

    /// The estimated probability; NaN when empty.
    pub fn p(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.hits as f64 / self.n as f64
        }
    }

    /// Binomial standard error √(p(1 − p)/n).
    pub fn se(&self) -> f64 {
        let p = self.p();
        (p * (1.0 - p) / self.n as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::{std_normal, stream};
    use approx::assert_relative_eq;

    #[test]
    fn matches_two_pass_formulas() {
        let x: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 0.5 - 7.0)
            .collect();
        let mut m = Moments::new();
        x.iter().for_each(|v| m.push(*v));
        let mean = x.iter().sum::<f64>() / 1000.0;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 999.0;
        assert_relative_eq!(m.mean(), mean, max_relative = 1e-12);
        assert_relative_eq!(m.variance(), var, max_relative = 1e-12);
        assert_eq!(m.min(), -7.0);
        assert_eq!(m.max(), 43.0);
        // Merging two halves gives the same moments up to rounding.
        let (mut a, mut b) = (Moments::new(), Moments::new());
        x[..300].iter().for_each(|v| a.push(*v));
        x[300..].iter().for_each(|v| b.push(*v));
        a.merge(&b);
        assert_relative_eq!(a.mean(), mean, max_relative = 1e-12);
        assert_relative_eq!(a.variance(), var, max_relative = 1e-12);
        assert_eq!(a.count(), 1000);
        assert!(Moments::new().mean().is_nan());
    }

    #[test]
    fn standard_error_shrinks_as_one_over_root_n() {
        // Spread of the mean over 400 replicates, at N and 16N draws: ratio 4.
        let spread = |n: u64| {
            let mut means = Moments::new();
            let mut se = Moments::new();
            for rep in 0..400 {
                let mut r = stream(3, rep, n);
                let mut m = Moments::new();
                (0..n).for_each(|_| m.push(2.0 + 3.0 * std_normal(&mut r)));
                means.push(m.mean());
                se.push(m.se());
            }
            (means.sd(), se.mean())
        };
        let (sd_small, se_small) = spread(50);
        let (sd_big, se_big) = spread(800);
        // The sd of 400 replicate means is known to ~3.5%; allow 15% on the ratio.
        assert_relative_eq!(sd_small / sd_big, 4.0, max_relative = 0.15);
        assert_relative_eq!(se_small / se_big, 4.0, max_relative = 0.05);
        // The reported se estimates the actual spread of the mean: 3/√N.
        assert_relative_eq!(se_big, 3.0 / 800f64.sqrt(), max_relative = 0.02);
        assert_relative_eq!(sd_big, se_big, max_relative = 0.12);
    }

    #[test]
    fn probability_counts() {
        let mut p = Probability::default();
        (0..10).for_each(|i| p.push(i < 3));
        let mut q = Probability::default();
        q.push(true);
        p.merge(&q);
        assert_relative_eq!(p.p(), 4.0 / 11.0);
        assert_relative_eq!(p.se(), (4.0 / 11.0 * 7.0 / 11.0 / 11.0f64).sqrt());
    }
}
