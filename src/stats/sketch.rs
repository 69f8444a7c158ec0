//! A mergeable quantile sketch with relative-error guarantees (DDSketch, Masson, Rim & Lee,
//! VLDB 2019), for signed values.
//!
//! A value x ≠ 0 goes to bucket `i = ⌈ln|x| / ln γ⌉` of the store for its sign, with
//! `γ = (1 + α)/(1 − α)`; zeros (and |x| < [`MIN_INDEXABLE`]) are counted separately. Bucket i
//! holds the magnitudes in (γ^(i−1), γ^i] and is represented by `2γ^i/(γ + 1)`, which is
//! within relative error α of every magnitude in it.
//!
//! **Error bound.** Let x₍r₎ be the r-th smallest value (0-based). The sketch returns for
//! rank r a value x̃ with `|x̃ − x₍r₎| ≤ α·|x₍r₎|` and the same sign. The sketch quantile for
//! probability p uses the same interpolation as the exact estimator (type 7: h = p(n−1),
//! k = ⌊h⌋, w = h − k) on x̃₍k₎ and x̃₍k+1₎, so
//! `|q̃ − q| ≤ α·((1 − w)·|x₍k₎| + w·|x₍k+1₎|)`, which is `α·|q|` unless the two neighbouring
//! order statistics straddle zero. The estimate is finally limited to the observed
//! [min, max], which can only reduce the error.
//!
//! **Bounded memory.** Each store keeps at most [`MAX_BUCKETS`] contiguous buckets. When the
//! range of magnitudes of one sign exceeds γ^MAX_BUCKETS (about 7·10⁸ for α = 0.5%), the
//! buckets of the smallest magnitudes are collapsed into the lowest kept one; the bound above
//! then holds for values whose magnitude is at least `max|x| · γ^−(MAX_BUCKETS−1)` of their
//! sign. Memory is at most 2·MAX_BUCKETS counters whatever the number of values.
//!
//! **Determinism.** Counts are integers and the collapse threshold depends only on the largest
//! index seen, so the final state is a function of the multiset of values: adding or merging
//! in any order, with any blocking, gives identical quantiles.

/// Default relative accuracy α: 0.5%.
pub const DEFAULT_ALPHA: f64 = 0.005;

/// Buckets kept per sign. 2048 buckets at α = 0.5% span magnitudes over a ratio of
/// γ^2048 ≈ 7.7·10⁸, far more than any transfer distribution, at 16 KiB per sign.
pub const MAX_BUCKETS: usize = 2048;

/// Magnitudes below this are counted as zero (their logarithm would leave the index range).
pub const MIN_INDEXABLE: f64 = 1e-300;

/// Counts for a contiguous range of bucket indices of one sign.
#[derive(Debug, Clone, PartialEq, Default)]
struct Store {
    /// Bucket index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    total: u64,
}

impl Store {
    #[inline]
    fn add(&mut self, idx: i32, c: u64) {
        // Fast path: the bucket already exists.
        if let Some(slot) = usize::try_from(idx.wrapping_sub(self.offset))
            .ok()
            .and_then(|k| self.counts.get_mut(k))
        {
            *slot += c;
            self.total += c;
            return;
        }
        self.add_slow(idx, c);
    }

    #[cold]
    fn add_slow(&mut self, idx: i32, c: u64) {
        if c == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.offset = idx;
            self.counts.push(c);
            self.total = c;
            return;
        }
        let hi = self.offset + self.counts.len() as i32 - 1;
        let new_hi = hi.max(idx);
        let floor = new_hi - MAX_BUCKETS as i32 + 1;
        if new_hi > hi {
            self.counts.resize((new_hi - self.offset + 1) as usize, 0);
        }
        if self.offset < floor {
            // Collapse buckets below the floor into the floor bucket.
            let cut = (floor - self.offset) as usize;
            let lumped: u64 = self.counts[..cut].iter().sum();
            self.counts.drain(..cut);
            self.offset = floor;
            self.counts[0] += lumped;
        }
        let idx = idx.max(floor);
        if idx < self.offset {
            let grow = (self.offset - idx) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = idx;
        }
        self.counts[(idx - self.offset) as usize] += c;
        self.total += c;
    }

    fn merge(&mut self, other: &Store) {
        for (k, &c) in other.counts.iter().enumerate() {
            self.add(other.offset + k as i32, c);
        }
    }

    /// Bucket index holding the r-th smallest index-ordered item (r < total), ascending.
    fn index_at_rank(&self, r: u64) -> i32 {
        let mut seen = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > r {
                return self.offset + k as i32;
            }
        }
        self.offset + self.counts.len() as i32 - 1
    }
}

/// The DDSketch for signed values. See the module documentation for the error bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    alpha: f64,
    ln_gamma: f64,
    inv_ln_gamma: f64,
    /// Representative factor 2/(γ + 1): bucket i stands for γ^i · this.
    rep: f64,
    pos: Store,
    neg: Store,
    zeros: u64,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch::new(DEFAULT_ALPHA)
    }
}

impl Sketch {
    /// A sketch with relative accuracy `alpha` in (0, 1); out-of-range values fall back to
    /// [`DEFAULT_ALPHA`].
    pub fn new(alpha: f64) -> Self {
        let alpha = if alpha > 0.0 && alpha < 1.0 {
            alpha
        } else {
            DEFAULT_ALPHA
        };
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        Sketch {
            alpha,
            ln_gamma: gamma.ln(),
            inv_ln_gamma: 1.0 / gamma.ln(),
            rep: 2.0 / (gamma + 1.0),
            pos: Store::default(),
            neg: Store::default(),
            zeros: 0,
        }
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Number of values added (non-finite values are ignored).
    pub fn count(&self) -> u64 {
        self.pos.total + self.neg.total + self.zeros
    }

    /// Buckets in use, for memory accounting (at most 2·[`MAX_BUCKETS`]).
    pub fn buckets(&self) -> usize {
        self.pos.counts.len() + self.neg.counts.len()
    }

    #[inline]
    fn index(&self, m: f64) -> i32 {
        // m ≥ MIN_INDEXABLE, so |ln m| ≤ 691 and the index fits comfortably in i32.
        (m.ln() * self.inv_ln_gamma).ceil() as i32
    }

    /// Add one value. NaN and ±∞ are ignored.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: f64, c: u64) {
        if !x.is_finite() {
            return;
        }
        let m = x.abs();
        if m < MIN_INDEXABLE {
            self.zeros += c;
        } else if x > 0.0 {
            let i = self.index(m);
            self.pos.add(i, c);
        } else {
            let i = self.index(m);
            self.neg.add(i, c);
        }
    }

    /// Add all of `other`'s counts. Sketches must share α (the caller builds them alike);
    /// with a different α, `other`'s buckets are re-inserted at their representative values.
    pub fn merge(&mut self, other: &Sketch) {
        if (other.ln_gamma - self.ln_gamma).abs() <= f64::EPSILON * self.ln_gamma {
            self.pos.merge(&other.pos);
            self.neg.merge(&other.neg);
            self.zeros += other.zeros;
            return;
        }
        for (k, &c) in other.pos.counts.iter().enumerate() {
            self.add_n(other.value_of(other.pos.offset + k as i32), c);
        }
        for (k, &c) in other.neg.counts.iter().enumerate() {
            self.add_n(-other.value_of(other.neg.offset + k as i32), c);
        }
        self.zeros += other.zeros;
    }

    #[inline]
    fn value_of(&self, idx: i32) -> f64 {
        (idx as f64 * self.ln_gamma).exp() * self.rep
    }

    /// The estimate of the r-th smallest value (0-based; r is capped at count − 1). NaN when
    /// empty.
    pub fn value_at_rank(&self, r: u64) -> f64 {
        let n = self.count();
        if n == 0 {
            return f64::NAN;
        }
        let r = r.min(n - 1);
        let nn = self.neg.total;
        if r < nn {
            // Negatives in ascending order are magnitudes in descending order.
            -self.value_of(self.neg.index_at_rank(nn - 1 - r))
        } else if r < nn + self.zeros {
            0.0
        } else {
            self.value_of(self.pos.index_at_rank(r - nn - self.zeros))
        }
    }

    /// The p-quantile with type-7 interpolation between rank estimates. NaN when empty.
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.count();
        if n == 0 {
            return f64::NAN;
        }
        let h = p.clamp(0.0, 1.0) * (n - 1) as f64;
        let k = h.floor();
        let w = h - k;
        let lo = self.value_at_rank(k as u64);
        if w > 0.0 {
            let hi = self.value_at_rank(k as u64 + 1);
            lo + w * (hi - lo)
        } else {
            lo
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::{std_normal, stream};
    use proptest::prelude::*;
    use rand::RngExt;

    proptest! {
        /// Every rank estimate is within α of the true order statistic, for any signed data
        /// whose magnitudes fit in MAX_BUCKETS (no collapse), in any insertion order.
        #[test]
        fn every_rank_within_alpha(x in proptest::collection::vec(
            // Zeros, or ±10^e with e in [−3, 5]: a magnitude ratio of 1e8 < γ^MAX_BUCKETS.
            prop_oneof![Just(0.0), (-3.0..5.0f64, any::<bool>())
                .prop_map(|(e, neg)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })],
            1..300)
        ) {
            let mut s = Sketch::default();
            x.iter().for_each(|v| s.add(*v));
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            for (r, v) in sorted.iter().enumerate() {
                let e = s.value_at_rank(r as u64);
                let ok = if v.abs() < MIN_INDEXABLE { e == 0.0 } else {
                    (e - v).abs() <= DEFAULT_ALPHA * v.abs() * (1.0 + 1e-9)
                };
                prop_assert!(ok, "rank {} estimate {} true {}", r, e, v);
            }
        }
    }

    #[test]
    fn ranks_are_within_alpha() {
        let mut s = Sketch::default();
        let mut x: Vec<f64> = (1..=1000).map(|i| (i as f64 - 300.0) * 1.37).collect();
        x.push(0.0);
        x.iter().for_each(|v| s.add(*v));
        x.sort_by(f64::total_cmp);
        for (r, v) in x.iter().enumerate() {
            let e = s.value_at_rank(r as u64);
            assert!(
                (e - v).abs() <= DEFAULT_ALPHA * v.abs() * (1.0 + 1e-9),
                "rank {r}: {e} vs {v}"
            );
        }
    }

    #[test]
    fn memory_is_bounded_by_collapsing() {
        let mut s = Sketch::default();
        let mut r = stream(0, 0, 0);
        // Magnitudes over 10^-200 .. 10^200: far beyond what MAX_BUCKETS can span.
        for _ in 0..200_000 {
            let e: f64 = r.random_range(-200.0..200.0);
            let sign = if r.random::<bool>() { 1.0 } else { -1.0 };
            s.add(sign * 10f64.powf(e));
        }
        assert!(s.buckets() <= 2 * MAX_BUCKETS);
        assert_eq!(s.count(), 200_000);
        // The top of the distribution is still accurate.
        let q = s.quantile(1.0);
        assert!(q > 1e199, "{q}");
    }

    #[test]
    fn merge_order_does_not_matter() {
        let mut r = stream(2, 0, 0);
        let x: Vec<f64> = (0..30_000)
            .map(|_| 1e4 * std_normal(&mut r).powi(3))
            .collect();
        let mut whole = Sketch::default();
        x.iter().for_each(|v| whole.add(*v));
        let parts: Vec<Sketch> = x
            .chunks(7_001)
            .map(|c| {
                let mut s = Sketch::default();
                c.iter().for_each(|v| s.add(*v));
                s
            })
            .collect();
        let mut rev = Sketch::default();
        parts.iter().rev().for_each(|p| rev.merge(p));
        for p in [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0] {
            assert_eq!(whole.quantile(p).to_bits(), rev.quantile(p).to_bits());
        }
        assert_eq!(whole.count(), rev.count());
    }
}
