//! Inequality of allocations: Gini, Lorenz curve, Theil T (with group decomposition),
//! coefficient of variation and top-decile share (issue 6).
//!
//! All measures are *population* measures over the weighted distribution in which region
//! `i` has `w_i` units each holding `x_i` (so it holds `w_i · x_i` of the total). Without
//! weights each region is one unit. Integer weights therefore give exactly the same result
//! as repeating each value `w_i` times, which is how the tests check the weighted forms.
//! No small-sample correction (such as `n / (n − 1)` for the Gini) is applied.
//!
//! Sort-based measures (Gini, Lorenz, top share) cost O(n log n); Theil and the coefficient
//! of variation are O(n), and the Theil decomposition sorts by group, O(n log n). Per-draw
//! code uses [`InequalityScratch`], which keeps its sort buffers between calls.
//!
//! Degenerate input: empty input, zero total weight or zero total value give 0 for every
//! measure (the Lorenz curve is then the line of equality). Values are expected to be
//! non-negative; a negative value makes the Theil index NaN (its logarithm is undefined) and
//! can push the Gini above 1.

use super::{MetricsError, check_len, check_weights, weight_at};
use std::cmp::Ordering;

/// The share of regions counted as "the top" in [`InequalitySummary::top10_share`]: 10%.
pub const TOP_DECILE: f64 = 0.1;

/// Theil T index split into a between-group and a within-group part.
///
/// `total = between + within` holds exactly in exact arithmetic, and to rounding
/// (≈1e-15 relative) in floating point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TheilDecomposition {
    /// Theil T over all regions.
    pub total: f64,
    /// `Σ_g s_g · ln(μ_g / μ)`: inequality between group means, with `s_g` the group's share
    /// of the total value.
    pub between: f64,
    /// `Σ_g s_g · T_g`: value-share-weighted Theil index inside each group.
    pub within: f64,
}

/// All inequality measures for one allocation vector, from a single sort.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InequalitySummary {
    pub gini: f64,
    pub theil: TheilDecomposition,
    pub cv: f64,
    /// Share of the total going to the top [`TOP_DECILE`] of units (see [`top_share`]).
    pub top10_share: f64,
}

/// Reusable sort buffers for inequality measures, one per worker thread.
///
/// Every method gives the same result as the free function of the same name; the scratch
/// only avoids allocating once its buffers have grown to the largest input seen.
#[derive(Debug, Clone, Default)]
pub struct InequalityScratch {
    /// `(x_i, w_i)` sorted by `x` ascending.
    pairs: Vec<(f64, f64)>,
    /// `(group_i, x_i, w_i)` sorted by group.
    grouped: Vec<(u32, f64, f64)>,
    /// Per-unit values for [`InequalityScratch::gini_per_unit`].
    per_unit: Vec<f64>,
    /// Order keys and their radix-sort buffer for the unweighted Gini.
    keys: Vec<u64>,
    keys_tmp: Vec<u64>,
    /// The sorted keys of each slice of [`InequalityScratch::gini_rows`].
    batch: Vec<Vec<u64>>,
}

/// Below this many values the unweighted Gini sorts with the standard sort; above it, a
/// radix pass is cheaper (the Monte Carlo engine computes a Gini of every draw).
const RADIX_MIN: usize = 512;
/// Bits of a radix digit (a 16 KiB histogram): the keys are bucketed by the top 12 bits
/// of their offset from the smallest key, or by the top 24 in two passes above
/// [`ONE_PASS_MAX`] keys, then sorted within buckets.
const RADIX_BITS: u32 = 12;
/// Most keys sorted with one radix pass (at 2,800 keys the buckets hold about one key
/// each; at 30,000 the second pass is cheaper than insertion within crowded buckets).
const ONE_PASS_MAX: usize = 8192;
/// Element moves the insertion fix-up may make per key before it gives up and hands the
/// nearly sorted keys to the standard sort (many distinct keys sharing their top bits).
const INSERTION_BUDGET: usize = 8;

/// Total weight `W = Σ w` and total value `Y = Σ w·x` of `(x, w)` pairs, summed in order.
fn totals(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    pairs.fold((0.0, 0.0), |(tw, ty), (xi, wi)| (tw + wi, ty + wi * xi))
}

/// A key whose unsigned order is `f64::total_cmp`'s order.
#[inline]
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    (b ^ ((((b as i64) >> 63) as u64) >> 1)) ^ (1 << 63)
}

/// Inverse of [`order_key`].
#[inline]
fn from_order_key(k: u64) -> f64 {
    let b = k ^ (1 << 63);
    f64::from_bits(b ^ ((((b as i64) >> 63) as u64) >> 1))
}

/// Sort `keys` ascending (the sorted keys end in `keys`; `tmp` is scratch): counting
/// passes on the top bits of `key − min` (so the buckets cover the keys' actual range, not
/// the whole float range), one pass of [`RADIX_BITS`] bits up to [`ONE_PASS_MAX`] keys and
/// two LSD passes of [`RADIX_BITS`] bits above, then insertion of the keys still out of
/// place (they are only out of place within their bucket); if the insertions exceed their
/// budget (many distinct keys within one bucket), the standard sort finishes the job.
/// Exact for any input.
fn sort_keys(keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    let n = keys.len();
    let (lo, hi) = keys
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
    if n < 2 || lo >= hi {
        return;
    }
    // Zeros among non-negative values (regions paid nothing) would stretch the range over
    // a thousand binades of float bits and crowd the positive values into a few buckets:
    // the buckets then span the positive values only, and the zeros share the lowest one
    // (offsets saturate at 0, so the bucket order is still the key order).
    let zero = order_key(0.0);
    let lo = if lo == zero {
        keys.iter()
            .fold(hi, |m, &k| if k > zero && k < m { k } else { m })
    } else {
        lo
    };
    let span_bits = 64 - (hi - lo).leading_zeros();
    // Every slot is written by the first pass.
    tmp.resize(n, 0);
    if n <= ONE_PASS_MAX {
        // Buckets spread over the keys' actual range [lo, hi], not the power of two above
        // it (which left a quarter of the buckets empty on average and crowded the rest):
        // bucket = ⌊(k − lo) · m / 2⁶⁴⌋ with m = ⌊2⁶⁴ · 2^RADIX_BITS / (hi − lo + 1)⌋, which
        // is monotone in k and below 2^RADIX_BITS for every k ≤ hi.
        // (A range under 2^RADIX_BITS would need m ≥ 2⁶⁴: the largest m still maps each
        // key to its own bucket, k − lo − 1 or 0.)
        let m = ((1u128 << (64 + RADIX_BITS)) / (u128::from(hi - lo) + 1)).min(u128::from(u64::MAX))
            as u64;
        scaled_radix_pass(keys, tmp, lo, m);
        std::mem::swap(keys, tmp);
    } else {
        let shift = span_bits.saturating_sub(2 * RADIX_BITS);
        radix_pass(keys, tmp, lo, shift);
        radix_pass(tmp, keys, lo, shift + RADIX_BITS);
    }
    // One backward pass of branch-free compare-exchanges first: it orders every bucket of
    // two keys (most of the unordered ones) and carries each bucket's smallest key to the
    // bucket's front, so that few keys are left out of place for the insertions below.
    for i in (1..n).rev() {
        let (a, b) = (keys[i - 1], keys[i]);
        keys[i - 1] = a.min(b);
        keys[i] = a.max(b);
    }
    // The keys an insertion pass would move are those below the largest key before them
    // (the prefix it has sorted by then holds the same keys, so its largest is this running
    // maximum): list them without branches, then insert only those, in order. On W1's
    // amounts about one key in ten is left out of place; a plain insertion pass over every
    // key mispredicted its exit on several hundred keys per call (cachegrind: 455 → 129
    // mispredicted branches per 2,800-key Gini, same instruction count; 36 → 26 µs).
    let moved = &mut tmp[..n];
    let (mut m, mut run) = (0, keys[0]);
    for (i, &k) in keys.iter().enumerate().skip(1) {
        moved[m] = i as u64;
        m += usize::from(k < run);
        run = run.max(k);
    }
    let mut budget = INSERTION_BUDGET * n;
    for &i in &moved[..m] {
        let i = i as usize;
        let k = keys[i];
        let mut j = i;
        while j > 0 && keys[j - 1] > k {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = k;
        budget = budget.saturating_sub(i - j);
        if budget == 0 {
            keys.sort_unstable();
            return;
        }
    }
}

/// One stable counting pass of `src` into `dst` by the low [`RADIX_BITS`] bits of
/// `bucket(k)`.
#[inline(always)]
fn counting_pass(src: &[u64], dst: &mut [u64], bucket: impl Fn(u64) -> usize) {
    const BUCKETS: usize = 1 << RADIX_BITS;
    let mut hist = [0u32; BUCKETS];
    for &k in src {
        hist[bucket(k) & (BUCKETS - 1)] += 1;
    }
    let mut sum = 0;
    for c in hist.iter_mut() {
        let count = *c;
        *c = sum;
        sum += count;
    }
    for &k in src {
        let slot = &mut hist[bucket(k) & (BUCKETS - 1)];
        dst[*slot as usize] = k;
        *slot += 1;
    }
}

/// [`counting_pass`] by bucket `⌊(k − lo) · m / 2⁶⁴⌋` (keys below `lo` in bucket 0); `m`
/// must keep every bucket below `2^RADIX_BITS`.
fn scaled_radix_pass(src: &[u64], dst: &mut [u64], lo: u64, m: u64) {
    counting_pass(src, dst, |k| {
        ((u128::from(k.saturating_sub(lo)) * u128::from(m)) >> 64) as usize
    });
}

/// [`counting_pass`] by the [`RADIX_BITS`] bits of `key − lo` (0 for keys below `lo`) from
/// bit `shift` up.
fn radix_pass(src: &[u64], dst: &mut [u64], lo: u64, shift: u32) {
    counting_pass(src, dst, |k| (k.saturating_sub(lo) >> shift) as usize);
}

/// The order keys of `x` ([`order_key`]), sorted, into `keys` (`tmp` is scratch).
#[inline(always)]
fn sorted_keys(x: &[f64], keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    keys.clear();
    keys.extend(x.iter().map(|&v| order_key(v)));
    sort_keys(keys, tmp);
}

/// The Gini of each of `K` equally long runs of sorted order keys: `gini_sorted` with
/// every w = 1 (1·x = x and the running weights are exact integers, so these are the
/// same operations on the same values), the runs' sums side by side in one pass.
#[inline(always)]
fn unit_ginis<const K: usize>(keys: [&Vec<u64>; K]) -> [f64; K] {
    let n = keys.first().map_or(0, |k| k.len());
    let keys = keys.map(|k| &k[..n]);
    let total_w = n as f64;
    let (mut total_y, mut acc) = ([0.0; K], [0.0; K]);
    let mut rank = 1.0;
    // Index by region (the runs side by side), not by run.
    #[allow(clippy::needless_range_loop)]
    for i in 0..n {
        let r = rank - total_w;
        for j in 0..K {
            let xi = from_order_key(keys[j][i]);
            total_y[j] += xi;
            acc[j] += xi * r;
        }
        rank += 2.0;
    }
    std::array::from_fn(|j| {
        if is_degenerate(total_w, total_y[j]) {
            0.0
        } else {
            acc[j] / total_w / total_y[j]
        }
    })
}

impl InequalityScratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// A scratch whose buffers already hold `n` regions.
    pub fn with_capacity(n: usize) -> Self {
        InequalityScratch {
            pairs: Vec::with_capacity(n),
            grouped: Vec::with_capacity(n),
            per_unit: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            keys_tmp: Vec::with_capacity(n),
            batch: Vec::new(),
        }
    }

    /// Fills `pairs` with `(x, w)` sorted by `x` and returns `(W, Y)`: total weight and
    /// total value `Σ w·x`.
    fn sort_pairs(&mut self, x: &[f64], w: Option<&[f64]>) -> (f64, f64) {
        self.pairs.clear();
        self.pairs
            .extend(x.iter().enumerate().map(|(i, &xi)| (xi, weight_at(w, i))));
        self.pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        totals(self.pairs.iter().copied())
    }

    /// Weighted Gini coefficient; see [`gini`].
    pub fn gini(&mut self, x: &[f64], w: Option<&[f64]>) -> Result<f64, MetricsError> {
        check_weights(x.len(), w)?;
        if w.is_none() && x.len() >= RADIX_MIN {
            // Unit weights: the sorted values are unique whatever sort made them, so the
            // result is the same bits as sorting the pairs.
            sorted_keys(x, &mut self.keys, &mut self.keys_tmp);
            let [g] = unit_ginis([&self.keys]);
            return Ok(g);
        }
        let (total_w, total_y) = self.sort_pairs(x, w);
        Ok(gini_sorted(&self.pairs, total_w, total_y))
    }

    /// The unweighted [`gini`](Self::gini) of each of the `k` equal consecutive slices of
    /// `rows` (one formula's amounts of a Monte Carlo draw per slice), into `out`: the same
    /// bits as calling `gini` on each slice. Each slice is sorted on its own; the
    /// rank-weighted sums of up to four slices then run side by side in one pass, so that
    /// their chains of dependent additions (one value per 3 cycles each) overlap.
    pub fn gini_rows(&mut self, rows: &[f64], k: usize, out: &mut Vec<f64>) {
        out.clear();
        let n = rows.len().checked_div(k).unwrap_or(0);
        if n < RADIX_MIN || n * k != rows.len() {
            // Small slices take the standard sort (an unweighted Gini cannot fail).
            for f in 0..k {
                let x = rows.get(f * n..(f + 1) * n).unwrap_or_default();
                out.push(self.gini(x, None).unwrap_or(f64::NAN));
            }
            return;
        }
        if self.batch.len() < k {
            self.batch.resize_with(k, Vec::new);
        }
        for (keys, x) in self.batch.iter_mut().zip(rows.chunks_exact(n)) {
            sorted_keys(x, keys, &mut self.keys_tmp);
        }
        for group in self.batch[..k].chunks(4) {
            match group {
                [a, b, c, d] => out.extend(unit_ginis([a, b, c, d])),
                [a, b, c] => out.extend(unit_ginis([a, b, c])),
                [a, b] => out.extend(unit_ginis([a, b])),
                [a] => out.extend(unit_ginis([a])),
                _ => {}
            }
        }
    }

    /// Gini of `alloc_i / denom_i` weighted by `denom_i`: for example the Gini of allocation
    /// per km² of red line, each region counting by its red-line area. Regions with
    /// `denom_i ≤ 0` have no weight and drop out (see [`per_unit_into`]).
    ///
    /// [`per_unit_into`]: super::targeting::per_unit_into
    pub fn gini_per_unit(&mut self, alloc: &[f64], denom: &[f64]) -> Result<f64, MetricsError> {
        super::targeting::per_unit_into(alloc, denom, &mut self.per_unit)?;
        // Non-positive denominators would carry negative weight; they get weight 0.
        self.pairs.clear();
        self.pairs.extend(
            self.per_unit
                .iter()
                .zip(denom)
                .map(|(&v, &d)| (v, if d > 0.0 && d.is_finite() { d } else { 0.0 })),
        );
        self.pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let (total_w, total_y) = totals(self.pairs.iter().copied());
        Ok(gini_sorted(&self.pairs, total_w, total_y))
    }

    /// Lorenz curve written into `out`; see [`lorenz`].
    pub fn lorenz_into(
        &mut self,
        x: &[f64],
        w: Option<&[f64]>,
        out: &mut Vec<(f64, f64)>,
    ) -> Result<(), MetricsError> {
        check_weights(x.len(), w)?;
        let (total_w, total_y) = self.sort_pairs(x, w);
        out.clear();
        out.push((0.0, 0.0));
        if !(total_w > 0.0 && total_y > 0.0) {
            // Degenerate: report the line of equality.
            out.push((1.0, 1.0));
            return Ok(());
        }
        let (mut cum_w, mut cum_y) = (0.0, 0.0);
        for &(xi, wi) in &self.pairs {
            cum_w += wi;
            cum_y += wi * xi;
            out.push((cum_w / total_w, cum_y / total_y));
        }
        // Make the end point exactly (1, 1) despite rounding in the running sums.
        if let Some(last) = out.last_mut() {
            *last = (1.0, 1.0);
        }
        Ok(())
    }

    /// Share of the total held by the top `p` of units; see [`top_share`].
    pub fn top_share(&mut self, x: &[f64], w: Option<&[f64]>, p: f64) -> Result<f64, MetricsError> {
        check_weights(x.len(), w)?;
        let (total_w, total_y) = self.sort_pairs(x, w);
        Ok(top_share_sorted(&self.pairs, total_w, total_y, p))
    }

    /// Theil T with its decomposition by group; see [`theil_decomposed`].
    pub fn theil_decomposed(
        &mut self,
        x: &[f64],
        w: Option<&[f64]>,
        groups: &[u32],
    ) -> Result<TheilDecomposition, MetricsError> {
        check_weights(x.len(), w)?;
        check_len("groups", x.len(), groups.len())?;
        self.grouped.clear();
        self.grouped.extend(
            x.iter()
                .zip(groups)
                .enumerate()
                .map(|(i, (&xi, &g))| (g, xi, weight_at(w, i))),
        );
        self.grouped.sort_unstable_by_key(|t| t.0);
        Ok(theil_grouped(&self.grouped))
    }

    /// Gini, Theil (decomposed by `groups`), coefficient of variation and top-decile share
    /// in one pass over shared sort buffers.
    pub fn summary(
        &mut self,
        x: &[f64],
        w: Option<&[f64]>,
        groups: &[u32],
    ) -> Result<InequalitySummary, MetricsError> {
        let theil = self.theil_decomposed(x, w, groups)?;
        let (total_w, total_y) = self.sort_pairs(x, w);
        Ok(InequalitySummary {
            gini: gini_sorted(&self.pairs, total_w, total_y),
            theil,
            cv: coefficient_of_variation(x, w)?,
            top10_share: top_share_sorted(&self.pairs, total_w, total_y, TOP_DECILE),
        })
    }
}

/// Weighted Gini coefficient of `x` (weights `w`, or one per region).
///
/// `G = 1 − 2·A`, where `A` is the area under the Lorenz curve (trapezoid rule over the
/// sorted regions). Computed as `G = Σ_i (w_i x_i / Y) · (2 F_i − 1)` with
/// `F_i = (W_{<i} + w_i / 2) / W` the mid-point cumulative weight share, which is the same
/// quantity. Unweighted this equals `Σ_i Σ_j |x_i − x_j| / (2 n² μ)`. Tied values give the
/// same result in any order.
///
/// Returns 0 for empty input, zero total weight or zero total value (all zeros). Equal
/// values give 0 (to rounding).
pub fn gini(x: &[f64], w: Option<&[f64]>) -> Result<f64, MetricsError> {
    InequalityScratch::new().gini(x, w)
}

/// Lorenz curve: `n + 1` points `(cumulative weight share, cumulative value share)` over the
/// regions sorted by `x` ascending, from exactly `(0, 0)` to exactly `(1, 1)`.
///
/// Degenerate input (empty, zero total weight or value) gives the line of equality
/// `[(0, 0), (1, 1)]`.
pub fn lorenz(x: &[f64], w: Option<&[f64]>) -> Result<Vec<(f64, f64)>, MetricsError> {
    let mut out = Vec::with_capacity(x.len() + 1);
    InequalityScratch::new().lorenz_into(x, w, &mut out)?;
    Ok(out)
}

/// Share of the total value held by the top fraction `p` of units (of weight; of regions
/// when unweighted): `1 − L(1 − p)` with `L` the Lorenz curve, linearly interpolated.
///
/// When the cut falls inside a region, that region counts with the fraction of it above the
/// cut: with 25 unweighted regions the top 10% is 2.5 regions, namely the two largest plus
/// half of the third largest. This keeps the measure continuous in `n` and in the values.
///
/// `p ≤ 0` (or NaN) gives 0, `p ≥ 1` gives 1; degenerate input gives 0.
pub fn top_share(x: &[f64], w: Option<&[f64]>, p: f64) -> Result<f64, MetricsError> {
    InequalityScratch::new().top_share(x, w, p)
}

/// Theil T index: `T = Σ_i (w_i x_i / Y) · ln(x_i / μ)` with `μ = Y / W`, and `0 · ln 0 = 0`.
///
/// O(n), no sort. Returns 0 for degenerate input; NaN if a value is negative.
pub fn theil(x: &[f64], w: Option<&[f64]>) -> Result<f64, MetricsError> {
    check_weights(x.len(), w)?;
    let (total_w, total_y) = totals(x.iter().enumerate().map(|(i, &xi)| (xi, weight_at(w, i))));
    Ok(theil_part(
        x.iter().enumerate().map(|(i, &xi)| (xi, weight_at(w, i))),
        total_w,
        total_y,
    ))
}

/// Theil T with its exact decomposition into between-group and within-group inequality
/// (see [`TheilDecomposition`]). `groups[i]` is region `i`'s group id (any `u32`; ids need
/// not be contiguous). Groups with zero total value contribute nothing.
pub fn theil_decomposed(
    x: &[f64],
    w: Option<&[f64]>,
    groups: &[u32],
) -> Result<TheilDecomposition, MetricsError> {
    InequalityScratch::new().theil_decomposed(x, w, groups)
}

/// Coefficient of variation `σ / μ` of the weighted distribution (population standard
/// deviation, dividing by the total weight). Two passes, O(n).
///
/// Returns 0 for degenerate input, including a zero mean (all zeros for non-negative data).
pub fn coefficient_of_variation(x: &[f64], w: Option<&[f64]>) -> Result<f64, MetricsError> {
    check_weights(x.len(), w)?;
    let (total_w, total_y) = totals(x.iter().enumerate().map(|(i, &xi)| (xi, weight_at(w, i))));
    if total_w.partial_cmp(&0.0) != Some(Ordering::Greater) {
        return Ok(0.0);
    }
    let mean = total_y / total_w;
    if mean.abs() <= f64::MIN_POSITIVE {
        return Ok(0.0);
    }
    let ss: f64 = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| weight_at(w, i) * (xi - mean) * (xi - mean))
        .sum();
    Ok((ss / total_w).sqrt() / mean)
}

fn is_degenerate(total_w: f64, total_y: f64) -> bool {
    let positive = |v: f64| v.partial_cmp(&0.0) == Some(Ordering::Greater);
    !positive(total_w) || !positive(total_y.abs())
}

/// Gini from pairs sorted by value.
fn gini_sorted(pairs: &[(f64, f64)], total_w: f64, total_y: f64) -> f64 {
    if is_degenerate(total_w, total_y) {
        return 0.0;
    }
    // Σ w·x·(2·mid − 1) / Y with mid = (cum + w/2)/W, the division taken out of the sum.
    let mut cum_w = 0.0;
    let mut acc = 0.0;
    for &(xi, wi) in pairs {
        acc += wi * xi * ((2.0 * cum_w + wi) - total_w);
        cum_w += wi;
    }
    acc / total_w / total_y
}

/// Top-`p` share from pairs sorted by value ascending.
fn top_share_sorted(pairs: &[(f64, f64)], total_w: f64, total_y: f64, p: f64) -> f64 {
    if is_degenerate(total_w, total_y) || p.partial_cmp(&0.0) != Some(Ordering::Greater) {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    // Value held below the weight level `cut`.
    let cut = (1.0 - p) * total_w;
    let (mut cum_w, mut below) = (0.0, 0.0);
    for &(xi, wi) in pairs {
        if cum_w + wi >= cut {
            below += (cut - cum_w).max(0.0) * xi;
            break;
        }
        cum_w += wi;
        below += wi * xi;
    }
    (total_y - below) / total_y
}

/// `Σ (w x / Y) ln(x / μ)` over the given items, with `μ = Y / W`.
fn theil_part(items: impl Iterator<Item = (f64, f64)>, total_w: f64, total_y: f64) -> f64 {
    if is_degenerate(total_w, total_y) {
        return 0.0;
    }
    let mean = total_y / total_w;
    items
        .map(|(xi, wi)| {
            let r = xi / mean;
            match r.partial_cmp(&0.0) {
                Some(Ordering::Greater) => wi * xi / total_y * r.ln(),
                Some(Ordering::Equal) => 0.0,
                _ => f64::NAN,
            }
        })
        .sum()
}

/// Theil decomposition from `(group, x, w)` triples sorted by group.
fn theil_grouped(grouped: &[(u32, f64, f64)]) -> TheilDecomposition {
    let (total_w, total_y) = totals(grouped.iter().map(|&(_, xi, wi)| (xi, wi)));
    if is_degenerate(total_w, total_y) {
        return TheilDecomposition::default();
    }
    let total = theil_part(grouped.iter().map(|t| (t.1, t.2)), total_w, total_y);
    let mean = total_y / total_w;
    let (mut between, mut within) = (0.0, 0.0);
    for run in grouped.chunk_by(|a, b| a.0 == b.0) {
        let (mut gw, mut gy) = (0.0, 0.0);
        for &(_, xi, wi) in run {
            gw += wi;
            gy += wi * xi;
        }
        if is_degenerate(gw, gy) {
            continue;
        }
        let share = gy / total_y;
        between += share * ((gy / gw) / mean).ln();
        within += share * theil_part(run.iter().map(|t| (t.1, t.2)), gw, gy);
    }
    TheilDecomposition {
        total,
        between,
        within,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Expands integer weights into repeated values.
    fn expand(x: &[f64], w: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(w)
            .flat_map(|(&xi, &wi)| std::iter::repeat_n(xi, wi as usize))
            .collect()
    }

    /// Brute-force mean absolute difference definition of the Gini.
    fn gini_pairs(x: &[f64]) -> f64 {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let s: f64 = x
            .iter()
            .flat_map(|a| x.iter().map(move |b| (a - b).abs()))
            .sum();
        s / (2.0 * n * n * mean)
    }

    #[test]
    fn gini_unweighted_hand_computed() {
        // (0, 1): Σ|xi − xj| = 2, 2 n² μ = 4 → 0.5.
        assert_relative_eq!(gini(&[0.0, 1.0], None).unwrap(), 0.5);
        // (1, 2, 3, 4): Σ over ordered pairs = 2·(1+2+3+1+2+1) = 20; 2·16·2.5 = 80 → 0.25.
        assert_relative_eq!(gini(&[4.0, 1.0, 3.0, 2.0], None).unwrap(), 0.25);
        // All to one of four regions: (n − 1)/n.
        assert_relative_eq!(gini(&[0.0, 0.0, 7.0, 0.0], None).unwrap(), 0.75);
    }

    #[test]
    fn gini_weighted_hand_computed() {
        // (1, 2, 3) with weights (1, 1, 2) is (1, 2, 3, 3): Σ|·| over ordered pairs = 14,
        // 2 n² μ = 2·16·2.25 = 72 → 7/36.
        let g = gini(&[3.0, 1.0, 2.0], Some(&[2.0, 1.0, 1.0])).unwrap();
        assert_relative_eq!(g, 7.0 / 36.0, epsilon = 1e-15);
        let x = [5.0, 0.5, 3.0, 3.0, 9.0];
        let w = [3.0, 1.0, 4.0, 2.0, 1.0];
        assert_relative_eq!(
            gini(&x, Some(&w)).unwrap(),
            gini_pairs(&expand(&x, &w)),
            epsilon = 1e-14
        );
        assert_relative_eq!(gini(&x, None).unwrap(), gini_pairs(&x), epsilon = 1e-14);
    }

    #[test]
    fn gini_degenerate_and_equal() {
        assert_relative_eq!(gini(&[], None).unwrap(), 0.0);
        assert_relative_eq!(gini(&[0.0, 0.0, 0.0], None).unwrap(), 0.0);
        assert_relative_eq!(gini(&[1.0, 2.0], Some(&[0.0, 0.0])).unwrap(), 0.0);
        let g = gini(&[3.7; 101], None).unwrap();
        assert!(g.abs() < 1e-14, "{g}");
        let g = gini(&[2.5; 7], Some(&[1.0, 9.0, 0.5, 2.0, 3.0, 3.0, 8.0])).unwrap();
        assert!(g.abs() < 1e-14, "{g}");
    }

    #[test]
    fn weight_length_mismatch_is_an_error() {
        let err = gini(&[1.0, 2.0], Some(&[1.0])).unwrap_err();
        assert_eq!(
            err,
            MetricsError::LengthMismatch {
                what: "weights",
                expected: 2,
                got: 1
            }
        );
        assert!(theil_decomposed(&[1.0], None, &[]).is_err());
    }

    #[test]
    fn gini_per_unit_weights_by_denominator() {
        // Allocation per km²: (10/2, 30/2, anything/0) weighted (2, 2, 0) = Gini of (5, 15)
        // with equal weights = 10 / (2·2·10)·2 = 0.25.
        let mut s = InequalityScratch::new();
        let g = s
            .gini_per_unit(&[10.0, 30.0, 99.0], &[2.0, 2.0, 0.0])
            .unwrap();
        assert_relative_eq!(g, 0.25, epsilon = 1e-15);
    }

    #[test]
    fn lorenz_end_points_and_shape() {
        let l = lorenz(&[3.0, 1.0, 2.0, 0.1, 7.0], Some(&[1.0, 2.0, 0.3, 4.0, 1.0])).unwrap();
        assert_eq!(l.len(), 6);
        assert_eq!(l[0], (0.0, 0.0));
        assert_eq!(*l.last().unwrap(), (1.0, 1.0));
        for pair in l.windows(2) {
            assert!(pair[1].0 >= pair[0].0 && pair[1].1 >= pair[0].1);
            // Convex from below the diagonal.
            assert!(pair[1].1 <= pair[1].0 + 1e-15);
        }
        // Unweighted (1, 3): points (0,0), (0.5, 0.25), (1, 1).
        let l = lorenz(&[3.0, 1.0], None).unwrap();
        assert_relative_eq!(l[1].0, 0.5);
        assert_relative_eq!(l[1].1, 0.25);
        assert_eq!(lorenz(&[], None).unwrap(), vec![(0.0, 0.0), (1.0, 1.0)]);
        assert_eq!(
            lorenz(&[0.0, 0.0], None).unwrap(),
            vec![(0.0, 0.0), (1.0, 1.0)]
        );
    }

    #[test]
    fn gini_is_one_minus_twice_lorenz_area() {
        let x = [0.2, 5.0, 3.0, 3.0, 11.0, 0.0];
        let w = [1.5, 2.0, 0.5, 1.0, 0.25, 3.0];
        let l = lorenz(&x, Some(&w)).unwrap();
        let area: f64 = l
            .windows(2)
            .map(|p| (p[1].0 - p[0].0) * (p[1].1 + p[0].1) / 2.0)
            .sum();
        assert_relative_eq!(
            gini(&x, Some(&w)).unwrap(),
            1.0 - 2.0 * area,
            epsilon = 1e-14
        );
    }

    #[test]
    fn theil_hand_computed() {
        // (1, 3): μ = 2, T = ¼ ln ½ + ¾ ln 1.5.
        let expected = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
        assert_relative_eq!(theil(&[1.0, 3.0], None).unwrap(), expected, epsilon = 1e-15);
        // Weighted (1, 3) with weights (2, 1) = (1, 1, 3): μ = 5/3,
        // T = 2·(1/5) ln(3/5) + (3/5) ln(9/5).
        let expected = 0.4 * 0.6f64.ln() + 0.6 * 1.8f64.ln();
        assert_relative_eq!(
            theil(&[1.0, 3.0], Some(&[2.0, 1.0])).unwrap(),
            expected,
            epsilon = 1e-15
        );
        // One holds everything among n: ln n.
        assert_relative_eq!(
            theil(&[0.0, 0.0, 5.0, 0.0], None).unwrap(),
            4f64.ln(),
            epsilon = 1e-15
        );
        assert_relative_eq!(theil(&[2.0; 5], None).unwrap(), 0.0, epsilon = 1e-15);
        assert_relative_eq!(theil(&[], None).unwrap(), 0.0);
        assert!(theil(&[-1.0, 3.0], None).unwrap().is_nan());
    }

    #[test]
    fn theil_decomposition_hand_computed_and_exact() {
        // Groups {1, 1} and {2, 4}: μ = 2, group means 1 and 3, shares ¼ and ¾.
        let x = [1.0, 2.0, 1.0, 4.0];
        let g = [7, 3, 7, 3];
        let d = theil_decomposed(&x, None, &g).unwrap();
        let between = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
        let t_group3 = (2.0 / 6.0) * (2.0f64 / 3.0).ln() + (4.0 / 6.0) * (4.0f64 / 3.0).ln();
        assert_relative_eq!(d.between, between, epsilon = 1e-15);
        assert_relative_eq!(d.within, 0.75 * t_group3, epsilon = 1e-15);
        assert_relative_eq!(d.total, theil(&x, None).unwrap(), epsilon = 1e-15);
        assert!((d.total - d.between - d.within).abs() < 1e-12);

        // Larger weighted case with a zero group and uneven group sizes.
        let n = 200;
        let x: Vec<f64> = (0..n).map(|i| ((i * 37 % 101) as f64).powf(1.3)).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i * 13 % 7) as f64).collect();
        let groups: Vec<u32> = (0..n).map(|i| (i * 7 % 11) as u32 * 1000).collect();
        let d = theil_decomposed(&x, Some(&w), &groups).unwrap();
        assert!(d.between > 0.0 && d.within > 0.0);
        assert!((d.total - d.between - d.within).abs() < 1e-12, "{d:?}");
        assert_relative_eq!(d.total, theil(&x, Some(&w)).unwrap(), epsilon = 1e-13);

        // One group: no between part.
        let d = theil_decomposed(&[1.0, 3.0], None, &[5, 5]).unwrap();
        assert_relative_eq!(d.between, 0.0, epsilon = 1e-15);
        assert_relative_eq!(d.within, d.total, epsilon = 1e-15);
    }

    #[test]
    fn cv_hand_computed() {
        // (1, 3): σ = 1, μ = 2.
        assert_relative_eq!(coefficient_of_variation(&[1.0, 3.0], None).unwrap(), 0.5);
        // (1, 1, 4) via weights: μ = 2, σ² = (1 + 1 + 4)/3 = 2.
        assert_relative_eq!(
            coefficient_of_variation(&[1.0, 4.0], Some(&[2.0, 1.0])).unwrap(),
            2f64.sqrt() / 2.0,
            epsilon = 1e-15
        );
        assert_relative_eq!(coefficient_of_variation(&[0.0, 0.0], None).unwrap(), 0.0);
        assert_relative_eq!(coefficient_of_variation(&[], None).unwrap(), 0.0);
    }

    #[test]
    fn top_share_counts_fractional_region() {
        // 10 regions 1..=10: top 10% is region 10 → 10/55.
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_relative_eq!(
            top_share(&x, None, 0.1).unwrap(),
            10.0 / 55.0,
            epsilon = 1e-15
        );
        // 25 regions 1..=25: top 2.5 regions = 25 + 24 + ½·23.
        let x: Vec<f64> = (1..=25).rev().map(f64::from).collect();
        let expected = (25.0 + 24.0 + 11.5) / 325.0;
        assert_relative_eq!(
            top_share(&x, None, TOP_DECILE).unwrap(),
            expected,
            epsilon = 1e-15
        );
        // Weighted: (1 with weight 9, 10 with weight 1): the top 10% of weight is the 10.
        assert_relative_eq!(
            top_share(&[1.0, 10.0], Some(&[9.0, 1.0]), 0.1).unwrap(),
            10.0 / 19.0,
            epsilon = 1e-15
        );
        assert_relative_eq!(top_share(&x, None, 0.0).unwrap(), 0.0);
        assert_relative_eq!(top_share(&x, None, 1.0).unwrap(), 1.0);
        assert_relative_eq!(
            top_share(&[4.0; 20], None, 0.1).unwrap(),
            0.1,
            epsilon = 1e-15
        );
        assert_relative_eq!(top_share(&[0.0; 20], None, 0.1).unwrap(), 0.0);
    }

    #[test]
    fn summary_matches_free_functions_and_scratch_reuse() {
        let mut s = InequalityScratch::with_capacity(4);
        for n in [3usize, 40, 7] {
            let x: Vec<f64> = (0..n).map(|i| ((i * 31 % 17) as f64) + 0.5).collect();
            let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
            let g: Vec<u32> = (0..n).map(|i| (i % 4) as u32).collect();
            let sum = s.summary(&x, Some(&w), &g).unwrap();
            assert_relative_eq!(sum.gini, gini(&x, Some(&w)).unwrap(), epsilon = 1e-15);
            assert_relative_eq!(
                sum.theil.total,
                theil(&x, Some(&w)).unwrap(),
                epsilon = 1e-14
            );
            assert_relative_eq!(
                sum.cv,
                coefficient_of_variation(&x, Some(&w)).unwrap(),
                epsilon = 1e-15
            );
            assert_relative_eq!(
                sum.top10_share,
                top_share(&x, Some(&w), 0.1).unwrap(),
                epsilon = 1e-15
            );
        }
    }

    /// `sort_keys` on the order keys of `x` gives `x` sorted by `total_cmp`, bit for bit.
    fn assert_sorts_like_total_cmp(x: &[f64], what: &str) {
        let mut keys: Vec<u64> = x.iter().map(|&v| order_key(v)).collect();
        sort_keys(&mut keys, &mut Vec::new());
        let got: Vec<u64> = keys.iter().map(|&k| from_order_key(k).to_bits()).collect();
        let mut want = x.to_vec();
        want.sort_by(f64::total_cmp);
        let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "{what}");
    }

    #[test]
    fn radix_sort_matches_total_order() {
        let mut r = crate::sampling::rng::stream(5, 0, 0);
        let mut x: Vec<f64> = (0..3000)
            .map(|i| {
                let z = crate::sampling::rng::std_normal(&mut r);
                match i % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => 1.0 + 1e-12 * z, // keys that share their top bits
                    3 => -z.exp(),
                    _ => (3.0 * z).exp() * 1e6,
                }
            })
            .collect();
        x.push(f64::INFINITY);
        x.push(f64::MIN_POSITIVE / 4.0);
        assert_sorts_like_total_cmp(&x, "");
    }

    #[test]
    fn sort_keys_survives_many_keys_sharing_their_top_bits() {
        // 3,000 distinct values within 1e-9 of each other, in descending order, and one
        // outlier: every value but one shares the radix digits, so the insertion pass
        // would be quadratic and hands over to the standard sort.
        let mut x: Vec<f64> = (0..3000)
            .map(|i| 1.0 + f64::from(3000 - i) * 1e-13)
            .collect();
        x.push(1e10);
        assert_sorts_like_total_cmp(&x, "");
    }

    #[test]
    fn sort_keys_orders_keys_a_few_ulps_apart() {
        // Ranges of keys narrower than the bucket count, wider, and exactly at it.
        for span in [3u64, 100, 4095, 4096, 4097, 1 << 20] {
            let x: Vec<f64> = (0..2000u64)
                .map(|i| f64::from_bits(1.5f64.to_bits() + (i * 7919) % (span + 1)))
                .collect();
            assert_sorts_like_total_cmp(&x, &format!("span {span}"));
        }
    }

    #[test]
    fn sort_keys_orders_zeros_and_spread_values() {
        // Zeros, values over many binades, duplicates, and both the one- and two-pass sizes.
        let mut r = crate::sampling::rng::stream(8, 0, 0);
        for n in [600, 5000, 20_000] {
            let x: Vec<f64> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => 3.5,
                    _ => (4.0 * crate::sampling::rng::std_normal(&mut r)).exp(),
                })
                .collect();
            assert_sorts_like_total_cmp(&x, &format!("n = {n}"));
        }
    }

    #[test]
    fn gini_rows_gives_each_slice_s_gini_bits() {
        // One to six slices (groups of four and the remainders), below and above the
        // radix threshold, with zeros, ties and an all-zero slice (degenerate: 0).
        let mut r = crate::sampling::rng::stream(12, 0, 0);
        for n in [0, 1, 300, RADIX_MIN, 2800] {
            for k in 1..=6 {
                let rows: Vec<f64> = (0..n * k)
                    .map(|i| match (i / n.max(1), i % 9) {
                        (3, _) => 0.0,
                        (_, 0) => 0.0,
                        (_, 1) => 7.25,
                        _ => (crate::sampling::rng::std_normal(&mut r)).exp(),
                    })
                    .collect();
                let mut scratch = InequalityScratch::default();
                let mut got = Vec::new();
                scratch.gini_rows(&rows, k, &mut got);
                assert_eq!(got.len(), k, "n = {n}, k = {k}");
                for (f, g) in got.iter().enumerate() {
                    let want = gini(&rows[f * n..(f + 1) * n], None).unwrap();
                    assert_eq!(g.to_bits(), want.to_bits(), "n = {n}, k = {k}, slice {f}");
                }
            }
        }
    }

    #[test]
    fn radix_gini_is_bit_identical_to_sorted_pairs() {
        let mut r = crate::sampling::rng::stream(6, 0, 0);
        let x: Vec<f64> = (0..2800)
            .map(|i| {
                let z = crate::sampling::rng::std_normal(&mut r);
                if i % 10 == 0 {
                    5.0
                } else {
                    (z * 0.8).exp() * 100.0
                }
            })
            .collect();
        let mut s = InequalityScratch::new();
        let fast = s.gini(&x, None).unwrap();
        let (tw, ty) = s.sort_pairs(&x, None);
        let slow = gini_sorted(&s.pairs, tw, ty);
        assert_eq!(fast.to_bits(), slow.to_bits());
        assert!(fast > 0.1 && fast < 1.0);
    }
}
