//! A mergeable quantile sketch with relative-error guarantees (DDSketch, Masson, Rim & Lee,
//! VLDB 2019), for signed values, with a logarithm-free bucket index.
//!
//! **Buckets.** A magnitude m = 2^e · (1 + f), f ∈ [0, 1), is mapped to the piecewise-linear
//! logarithm ℓ(m) = e + f, and bucket `i = ⌈k · ℓ(m)⌉` of the store for its sign, with k a
//! power of two: the index is an integer shift of m's bit pattern (no `ln`, exact, the same
//! on every machine). Bucket i holds the magnitudes with ℓ in ((i − 1)/k, i/k], an interval
//! (lo, hi] whose ends are exact `f64`s with `hi/lo ≤ 1 + 1/k`, and is represented by
//! `2·lo·hi/(lo + hi)`, within relative error `(hi − lo)/(hi + lo) ≤ 1/(2k + 1)` of every
//! magnitude in it. k is the smallest power of two with `1/(2k + 1) ≤ α` (128 for
//! α = 0.5%). Zeros (and |x| < [`MIN_INDEXABLE`]) are counted separately.
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
//! range of magnitudes of one sign exceeds 2^(MAX_BUCKETS/k) (about 4·10⁹ for α = 0.5%), the
//! buckets of the smallest magnitudes are collapsed into the lowest kept one; the bound above
//! then holds for values whose magnitude is at least `max|x| · γ^−(MAX_BUCKETS−1)` of their
//! sign (`max|x| · 2^−(MAX_BUCKETS−1)/k`). Memory is at most 2·MAX_BUCKETS counters whatever the
//! number of values.
//!
//! **Determinism.** Counts are integers and the collapse threshold depends only on the largest
//! index seen, so the final state is a function of the multiset of values.

/// Default relative accuracy α: 0.5%.
pub const DEFAULT_ALPHA: f64 = 0.005;

/// Buckets kept per sign. 4096 buckets at α = 0.5% (k = 128) span magnitudes over a ratio
/// of 2^32 ≈ 4.3·10⁹, far more than any transfer distribution, at 32 KiB per sign. One
/// output's Monte Carlo draws typically fill a few dozen.
pub const MAX_BUCKETS: usize = 4096;

/// Magnitudes below this are counted as zero (subnormals have no exponent to index by).
pub const MIN_INDEXABLE: f64 = 1e-300;

/// Bit pattern of 1.0: `bits(m) − ONE_BITS` is ℓ(m) · 2^52 for every normal m > 0.
const ONE_BITS: i64 = 0x3FF0_0000_0000_0000;

/// Counts for a contiguous range of bucket indices of one sign. Counts are 32-bit (half
/// the memory of a Monte Carlo run's many sketches) and saturate at `u32::MAX` values in
/// one bucket, some 4·10⁹ draws; `total` counts what the buckets hold.
#[derive(Debug, Clone, PartialEq, Default)]
struct Store {
    /// Bucket index of `counts[0]`.
    offset: i32,
    counts: Vec<u32>,
    total: u64,
}

/// Add `c` to a bucket, saturating; returns what was added.
#[inline]
fn bump(slot: &mut u32, c: u64) -> u64 {
    let before = *slot;
    *slot = slot.saturating_add(u32::try_from(c).unwrap_or(u32::MAX));
    u64::from(*slot - before)
}

impl Store {
    #[inline]
    fn add(&mut self, idx: i32, c: u64) {
        // Fast path: the bucket already exists.
        if let Some(slot) = usize::try_from(idx.wrapping_sub(self.offset))
            .ok()
            .and_then(|k| self.counts.get_mut(k))
        {
            self.total += bump(slot, c);
            return;
        }
        self.add_slow(idx, c);
    }

    /// Make room for `extra` more buckets with a quarter of headroom: ranges grow in
    /// small steps while draws come in, but doubling would waste up to half the memory.
    fn grow(&mut self, extra: usize) {
        let len = self.counts.len();
        if self.counts.capacity() < len + extra {
            self.counts.reserve_exact(extra.max(len / 4 + 4));
        }
    }

    #[cold]
    fn add_slow(&mut self, idx: i32, c: u64) {
        if c == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.offset = idx;
            self.extend_up(idx);
            self.total = bump(&mut self.counts[0], c);
            return;
        }
        let hi = self.offset + self.counts.len() as i32 - 1;
        let new_hi = hi.max(idx);
        let floor = new_hi - MAX_BUCKETS as i32 + 1;
        self.extend_up(new_hi);
        if self.offset < floor {
            // Collapse buckets below the floor into the floor bucket.
            let cut = (floor - self.offset) as usize;
            let lumped: u64 = self.counts[..cut].iter().map(|&c| u64::from(c)).sum();
            self.counts.drain(..cut);
            self.offset = floor;
            // Saturation can only drop values already counted in `total`.
            let kept = bump(&mut self.counts[0], lumped);
            self.total -= lumped - kept;
        }
        let idx = idx.max(floor);
        self.extend_down(idx);
        self.total += bump(&mut self.counts[(idx - self.offset) as usize], c);
    }

    /// Add one value at each of `idx` (a batch of one sign). The batch's lowest and highest
    /// indices go first, through [`add`](Self::add), so that the store's range covers all
    /// of them; the rest are then plain increments. The final state is the one per-value
    /// adds give (it depends only on the multiset of indices).
    fn add_batch(&mut self, idx: &[i32]) {
        let Some((lo_at, hi_at)) = extremes(idx) else {
            return;
        };
        self.add(idx[lo_at], 1);
        if hi_at != lo_at {
            self.add(idx[hi_at], 1);
        }
        if idx[lo_at] < self.offset {
            // The range collapsed: the lowest indices now land on the floor bucket.
            for (k, &i) in idx.iter().enumerate() {
                if k != lo_at && k != hi_at {
                    self.add(i, 1);
                }
            }
            return;
        }
        let mut added = 0u64;
        let counts = &mut self.counts[..];
        for (k, &i) in idx.iter().enumerate() {
            let skip = (k == lo_at) | (k == hi_at);
            let slot = &mut counts[(i - self.offset) as usize];
            let v = slot.saturating_add(u32::from(!skip));
            added += u64::from(v - *slot);
            *slot = v;
        }
        self.total += added;
    }

    /// Extend the range to cover buckets `lo..=hi` (`lo ≤ hi`) with empty buckets, unless
    /// that would take more than [`MAX_BUCKETS`] (then nothing changes and the answer is
    /// false). Adding values at `lo` and `hi` afterwards leaves the range that adding them
    /// one by one would have: the same state, since a store's range is that of its
    /// indices when nothing collapsed.
    fn cover(&mut self, lo: i32, hi: i32) -> bool {
        let (new_lo, new_hi) = match self.counts.is_empty() {
            true => (lo, hi),
            false => (
                lo.min(self.offset),
                hi.max(self.offset + self.counts.len() as i32 - 1),
            ),
        };
        if i64::from(new_hi) - i64::from(new_lo) + 1 > MAX_BUCKETS as i64 {
            return false;
        }
        if self.counts.is_empty() {
            self.offset = new_lo;
        }
        // One reservation for both ends: a tile's range often widens on both sides.
        self.grow((new_hi - new_lo + 1) as usize - self.counts.len());
        self.extend_up(new_hi);
        self.extend_down(new_lo);
        true
    }

    /// Add empty buckets above the range up to `hi` (none when it already reaches `hi`).
    fn extend_up(&mut self, hi: i32) {
        let len = usize::try_from(hi - self.offset + 1).unwrap_or(0);
        if len > self.counts.len() {
            self.grow(len - self.counts.len());
            self.counts.resize(len, 0);
        }
    }

    /// Add empty buckets below the range down to `lo` (none when it already starts there).
    fn extend_down(&mut self, lo: i32) {
        if lo < self.offset {
            let grow = (self.offset - lo) as usize;
            self.grow(grow);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = lo;
        }
    }

    /// Ask the CPU to fetch the counts into cache ahead of a batch (a hint only).
    #[inline]
    fn prefetch(&self) {
        /// `u32` counts per 64-byte cache line.
        const LINE: usize = 16;
        /// Lines fetched at most (the few dozen buckets a Monte Carlo output fills).
        const MAX_LINES: usize = 16;
        for k in (0..self.counts.len()).step_by(LINE).take(MAX_LINES) {
            crate::stats::prefetch(&self.counts[k]);
        }
    }

    fn merge(&mut self, other: &Store) {
        self.merge_counts(other.offset, other.counts.iter().copied(), other.total);
    }

    /// Add the counts of buckets `offset, offset + 1, …` (`total` in all): a store's, or
    /// a packed store's read straight from a shard's bytes.
    fn merge_counts<I: ExactSizeIterator<Item = u32>>(
        &mut self,
        offset: i32,
        counts: I,
        total: u64,
    ) {
        let n = counts.len();
        if n > 0 && self.cover(offset, offset + n as i32 - 1) {
            // Nothing collapses: the counts add bucket to bucket.
            let at = (offset - self.offset) as usize;
            let slots = self.counts[at..at + n].iter_mut().zip(counts);
            if self.total + total <= u64::from(u32::MAX) {
                // No bucket can pass u32::MAX: plain adds, which the compiler vectorises.
                slots.for_each(|(s, c)| *s += c);
                self.total += total;
            } else {
                self.total += slots.map(|(s, c)| bump(s, u64::from(c))).sum::<u64>();
            }
            return;
        }
        // The range collapses (rare): add bucket by bucket, which gives the same state.
        for (k, c) in counts.enumerate() {
            self.add(offset + k as i32, u64::from(c));
        }
    }

    /// Bucket index holding the r-th smallest index-ordered item (r < total), ascending.
    fn index_at_rank(&self, r: u64) -> i32 {
        let mut seen = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen > r {
                return self.offset + k as i32;
            }
        }
        self.offset + self.counts.len() as i32 - 1
    }
}

/// Positions of the smallest and the largest index (the first of each), None when empty.
fn extremes(idx: &[i32]) -> Option<(usize, usize)> {
    let first = *idx.first()?;
    let (mut lo, mut hi) = ((first, 0), (first, 0));
    for (k, &i) in idx.iter().enumerate().skip(1) {
        if i < lo.0 {
            lo = (i, k);
        }
        if i > hi.0 {
            hi = (i, k);
        }
    }
    Some((lo.1, hi.1))
}

/// Values a [`Sketch::add_slice`] indexes at a time.
const BATCH: usize = 64;

/// Bucket of magnitude `m ≥ MIN_INDEXABLE` for `k = 2^(52 − shift)` buckets per binade:
/// `⌈k · ℓ(m)⌉`.
#[inline]
fn bucket_index(m: f64, shift: u32) -> i32 {
    // m is normal, so ℓ(m) ∈ [−997, 1024] and |index| ≤ 1024 · 2^40. Ceiling division by
    // 2^shift: −⌊−L / 2^shift⌋ (arithmetic shift floors).
    let l = m.to_bits() as i64 - ONE_BITS;
    (-((-l) >> shift)) as i32
}

/// Plain increments into a sketch's positive buckets, for values already known to lie
/// in a covered range ([`Sketch::positive_lane`]): no range check, sign test or
/// saturation per value, so a caller can feed many sketches side by side, one value each
/// in turn.
#[derive(Debug)]
pub struct SketchLane<'a> {
    counts: &'a mut [u32],
    offset: i32,
    shift: u32,
}

impl SketchLane<'_> {
    /// Count `x`, which must lie in the `[lo, hi]` the lane was made for.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.counts[(bucket_index(x, self.shift) - self.offset) as usize] += 1;
    }
}

/// The DDSketch for signed values. See the module documentation for the error bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    alpha: f64,
    /// `52 − log2 k`: bucket index `⌈(bits(m) − ONE_BITS) / 2^shift⌉`.
    shift: u32,
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
    /// [`DEFAULT_ALPHA`]. Accuracies finer than 2^-40 are limited to it.
    pub fn new(alpha: f64) -> Self {
        let alpha = if alpha > 0.0 && alpha < 1.0 {
            alpha
        } else {
            DEFAULT_ALPHA
        };
        // Smallest k = 2^b with 1/(2k + 1) ≤ α.
        let mut b = 0u32;
        while b < 40 && 1.0 / (2.0 * (1u64 << b) as f64 + 1.0) > alpha {
            b += 1;
        }
        Sketch {
            alpha,
            shift: 52 - b,
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
        bucket_index(m, self.shift)
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

    /// Add every value of `xs` (NaN and ±∞ are ignored): the same final state as
    /// [`add`](Self::add) on each, with the bucket indices computed in a batch and the
    /// store's range checked once per batch instead of once per value.
    pub fn add_slice(&mut self, xs: &[f64]) {
        let mut idx = [0i32; BATCH];
        for chunk in xs.chunks(BATCH) {
            let mut positive = true;
            for (slot, &x) in idx.iter_mut().zip(chunk) {
                positive &= (MIN_INDEXABLE..f64::INFINITY).contains(&x);
                *slot = self.index(x.abs());
            }
            if positive {
                self.pos.add_batch(&idx[..chunk.len()]);
            } else {
                chunk.iter().for_each(|&x| self.add(x));
            }
        }
    }

    /// A [`SketchLane`] for adding `count` values that are all in `[lo, hi]`, with
    /// `MIN_INDEXABLE ≤ lo ≤ hi < ∞` (positive values whose extremes the caller already
    /// knows, such as a Monte Carlo output's draws). None when the values need the general
    /// path: a non-positive or non-finite bound, a range that would collapse buckets, or
    /// counts that could saturate. The sketch counts the values as added when the lane is
    /// made; the caller must then [`SketchLane::add`] exactly `count` values in `[lo, hi]`.
    pub fn positive_lane(&mut self, lo: f64, hi: f64, count: u64) -> Option<SketchLane<'_>> {
        let fits = lo >= MIN_INDEXABLE && lo <= hi && hi < f64::INFINITY;
        // No bucket can pass u32::MAX while the store's total (which bounds every count)
        // stays below it.
        if !fits || self.pos.total + count > u64::from(u32::MAX) {
            return None;
        }
        let (ilo, ihi) = (self.index(lo), self.index(hi));
        if !self.pos.cover(ilo, ihi) {
            return None;
        }
        self.pos.total += count;
        Some(SketchLane {
            counts: &mut self.pos.counts,
            offset: self.pos.offset,
            shift: self.shift,
        })
    }

    /// Hint the CPU to bring the positive values' counts into cache, ahead of an
    /// [`add_slice`](Self::add_slice) a little later.
    #[inline]
    pub fn prefetch(&self) {
        self.pos.prefetch();
    }

    /// Add all of `other`'s counts. Sketches must share α (the caller builds them alike);
    /// with a different α, `other`'s buckets are re-inserted at their representative values.
    pub fn merge(&mut self, other: &Sketch) {
        if other.shift == self.shift {
            self.pos.merge(&other.pos);
            self.neg.merge(&other.neg);
            self.zeros += other.zeros;
            return;
        }
        for (k, &c) in other.pos.counts.iter().enumerate() {
            self.add_n(other.value_of(other.pos.offset + k as i32), u64::from(c));
        }
        for (k, &c) in other.neg.counts.iter().enumerate() {
            self.add_n(-other.value_of(other.neg.offset + k as i32), u64::from(c));
        }
        self.zeros += other.zeros;
    }

    /// The representative magnitude of bucket `idx`: `2·lo·hi/(lo + hi)` for the bucket's
    /// ends `lo = ℓ⁻¹((idx − 1)/k)` and `hi = ℓ⁻¹(idx/k)`, both exact bit patterns.
    #[inline]
    fn value_of(&self, idx: i32) -> f64 {
        let end = |i: i64| f64::from_bits((ONE_BITS + (i << self.shift)) as u64);
        // The top bucket's end is ℓ⁻¹(1024) = +∞; f64::MAX stands in for it.
        let (lo, hi) = (end(i64::from(idx) - 1), end(i64::from(idx)).min(f64::MAX));
        // 2·lo·hi/(lo + hi) written so that nothing overflows near f64::MAX.
        lo * (2.0 / (1.0 + lo / hi))
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

mod packing;
#[cfg(test)]
mod tests;
