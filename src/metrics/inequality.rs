//! Inequality of allocations: Gini, Lorenz curve, Theil T (with group decomposition),
//! coefficient of variation and top-decile share.
//!
//! All measures are *population* measures over the weighted distribution in which region
//! `i` has `w_i` units each holding `x_i` (so it holds `w_i · x_i` of the total). Without
//! weights each region is one unit. Integer weights therefore give exactly the same result
//! as repeating each value `w_i` times, which is how the tests check the weighted forms.
//! No small-sample correction (such as `n / (n − 1)` for the Gini) is applied.
//!
//! Sort-based measures (Gini, Lorenz, top share) cost O(n log n); Theil and the coefficient
//! of variation are O(n), and the Theil decomposition sorts by group, O(n log n). Per-draw
//! code uses [`InequalityScratch`], which keeps its sort buffers between calls; the
//! unweighted Gini of large inputs (every Monte Carlo draw's) sorts with the radix sort of
//! `gini.rs`.
//!
//! Degenerate input: empty input, zero total weight or zero total value give 0 for every
//! measure (the Lorenz curve is then the line of equality). Values are expected to be
//! non-negative; a negative value makes the Theil index NaN (its logarithm is undefined) and
//! can push the Gini above 1.

use super::gini::{RADIX_MIN, sorted_keys, unit_ginis};
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

/// Total weight `W = Σ w` and total value `Y = Σ w·x` of `(x, w)` pairs, summed in order.
fn totals(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    pairs.fold((0.0, 0.0), |(tw, ty), (xi, wi)| (tw + wi, ty + wi * xi))
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

pub(super) fn is_degenerate(total_w: f64, total_y: f64) -> bool {
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
mod tests;
