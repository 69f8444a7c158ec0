//! Targeting of allocations: do they follow red-line coverage, the fiscal gap, importance,
//! and do they go to fiscally weak regions?
//!
//! - [`spearman`]: rank correlation with average ranks for ties, for comparing an allocation
//!   with red-line coverage, the fiscal gap, importance or the actual 2020 allocations.
//! - [`per_unit_into`]: allocation per km² of red line or per capita.
//! - [`suits_index`]: a Suits-style progressivity index against fiscal self-sufficiency R/E.
//!
//! Per-draw callers use a [`TargetingScratch`] to keep the sort buffers between draws.

use super::{MetricsError, check_len};
use std::cmp::Ordering;

/// Reusable buffers for rank-based targeting metrics, one per worker thread.
#[derive(Debug, Clone, Default)]
pub struct TargetingScratch {
    idx: Vec<usize>,
    rank_x: Vec<f64>,
    rank_y: Vec<f64>,
    triples: Vec<(f64, f64, f64)>,
}

impl TargetingScratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spearman rank correlation; see [`spearman`].
    pub fn spearman(&mut self, x: &[f64], y: &[f64]) -> Result<Option<f64>, MetricsError> {
        check_len("second series", x.len(), y.len())?;
        if x.len() < 2 {
            return Ok(None);
        }
        let mut rank_x = std::mem::take(&mut self.rank_x);
        let mut rank_y = std::mem::take(&mut self.rank_y);
        average_ranks_into(x, &mut self.idx, &mut rank_x);
        average_ranks_into(y, &mut self.idx, &mut rank_y);
        let r = pearson(&rank_x, &rank_y);
        self.rank_x = rank_x;
        self.rank_y = rank_y;
        Ok(r)
    }

    /// Suits-style progressivity index; see [`suits_index`].
    pub fn suits_index(
        &mut self,
        alloc: &[f64],
        rank_key: &[f64],
        base: &[f64],
    ) -> Result<Option<f64>, MetricsError> {
        check_len("ranking key", alloc.len(), rank_key.len())?;
        check_len("ranking base", alloc.len(), base.len())?;
        self.triples.clear();
        self.triples.extend(
            rank_key
                .iter()
                .zip(alloc)
                .zip(base)
                .map(|((&k, &a), &b)| (k, a, b)),
        );
        self.triples.sort_unstable_by(|p, q| p.0.total_cmp(&q.0));
        let (mut total_a, mut total_b) = (0.0, 0.0);
        for &(_, a, b) in &self.triples {
            total_a += a;
            total_b += b;
        }
        if !(total_a > 0.0 && total_b > 0.0) {
            return Ok(None);
        }
        // Trapezoid area under the concentration curve; tied keys form one segment so
        // their order cannot matter.
        let (mut cum_a, mut area) = (0.0, 0.0);
        for run in self
            .triples
            .chunk_by(|p, q| p.0.total_cmp(&q.0) == Ordering::Equal)
        {
            let (da, db) = run
                .iter()
                .fold((0.0, 0.0), |(sa, sb), &(_, a, b)| (sa + a, sb + b));
            let y0 = cum_a / total_a;
            cum_a += da;
            let y1 = cum_a / total_a;
            area += db / total_b * (y0 + y1) / 2.0;
        }
        Ok(Some(2.0 * area - 1.0))
    }
}

/// Spearman rank correlation of `x` and `y`: the Pearson correlation of their ranks, with
/// tied values given the average of the ranks they span (so `(5, 7, 7, 9)` ranks as
/// `(1, 2.5, 2.5, 4)`).
///
/// Returns `None` for fewer than two pairs or when either series is constant (the
/// correlation is undefined), and an error when the lengths differ.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Option<f64>, MetricsError> {
    TargetingScratch::new().spearman(x, y)
}

/// Writes `alloc_i / denom_i` into `out` (allocation per km² of red line, per capita, ...).
///
/// A region whose denominator is not a positive finite number (no red line, no population
/// recorded) has no meaningful per-unit value: it gets 0.0, and the number of such regions
/// is returned so the caller can report it. When taking a Gini of per-unit values, weight
/// each region by its denominator
/// ([`InequalityScratch::gini_per_unit`](super::InequalityScratch::gini_per_unit) does
/// this), so these regions carry no weight.
pub fn per_unit_into(
    alloc: &[f64],
    denom: &[f64],
    out: &mut Vec<f64>,
) -> Result<usize, MetricsError> {
    check_len("denominator", alloc.len(), denom.len())?;
    out.clear();
    let mut undefined = 0;
    out.extend(alloc.iter().zip(denom).map(|(&a, &d)| {
        if d > 0.0 && d.is_finite() {
            a / d
        } else {
            undefined += 1;
            0.0
        }
    }));
    Ok(undefined)
}

/// Suits-style progressivity index of allocations against a ranking of fiscal strength.
///
/// Definition:
/// 1. Sort regions by `rank_key` ascending — fiscal self-sufficiency `R/E`, so the
///    fiscally weakest region comes first. Regions with equal keys form one step.
/// 2. The concentration curve joins `(0, 0)` to `(1, 1)` through the points
///    `(Σ_{≤k} base / Σ base, Σ_{≤k} alloc / Σ alloc)`: the accumulated share of the
///    ranking base (e.g. expenditure need `E`, population, or 1 per region) against the
///    accumulated share of the allocation.
/// 3. With `A` the area under that curve (trapezoid rule) and ½ the area under the
///    diagonal, `S = A / ½ − 1 = 2A − 1`.
///
/// Sign convention: **positive = progressive**, more allocation per unit of base to the
/// fiscally weaker regions (the curve lies above the diagonal); 0 = proportional to the
/// base; negative = regressive. This is Suits' tax index with its sign flipped, because
/// here the money is received, not paid. For non-negative allocations and base,
/// `S ∈ [−1, 1]`; all of the allocation in the weakest region with a vanishing base share
/// approaches 1.
///
/// Returns `None` when the allocation or the base totals zero, and an error when the
/// lengths differ. NaN keys sort last.
pub fn suits_index(
    alloc: &[f64],
    rank_key: &[f64],
    base: &[f64],
) -> Result<Option<f64>, MetricsError> {
    TargetingScratch::new().suits_index(alloc, rank_key, base)
}

/// Average ranks (1-based) of `values` into `ranks`, using `idx` as sort buffer.
fn average_ranks_into(values: &[f64], idx: &mut Vec<usize>, ranks: &mut Vec<f64>) {
    idx.clear();
    idx.extend(0..values.len());
    idx.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    ranks.clear();
    ranks.resize(values.len(), 0.0);
    let mut start = 0;
    for run in idx.chunk_by(|&a, &b| values[a].total_cmp(&values[b]) == Ordering::Equal) {
        // Positions start+1 ..= start+len share their mean rank.
        let rank = start as f64 + (run.len() as f64 + 1.0) / 2.0;
        for &i in run {
            ranks[i] = rank;
        }
        start += run.len();
    }
}

/// Pearson correlation, `None` when either series has zero variance.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx > 0.0 && syy > 0.0 {
        Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn average_ranks_with_ties() {
        let (mut idx, mut ranks) = (Vec::new(), Vec::new());
        average_ranks_into(&[7.0, 5.0, 9.0, 7.0, 7.0], &mut idx, &mut ranks);
        assert_eq!(ranks, vec![3.0, 1.0, 5.0, 3.0, 3.0]);
        average_ranks_into(&[2.0, 1.0, 2.0], &mut idx, &mut ranks);
        assert_eq!(ranks, vec![2.5, 1.0, 2.5]);
    }

    #[test]
    fn spearman_with_ties_hand_computed() {
        // Ranks x = (1, 2.5, 2.5, 4), y = (1, 3, 2, 4); deviations from 2.5:
        // dx = (−1.5, 0, 0, 1.5), dy = (−1.5, 0.5, −0.5, 1.5);
        // Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5 → r = 4.5 / √22.5 = √0.9.
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 30.0, 20.0, 40.0])
            .unwrap()
            .unwrap();
        assert_relative_eq!(r, 0.9f64.sqrt(), epsilon = 1e-15);
    }

    #[test]
    fn spearman_monotone_and_degenerate() {
        let x = [0.3, 5.0, 2.0, 9.0, 1.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.exp()).collect();
        assert_relative_eq!(spearman(&x, &y).unwrap().unwrap(), 1.0);
        let y: Vec<f64> = x.iter().map(|v| -v * v).collect();
        assert_relative_eq!(spearman(&x, &y).unwrap().unwrap(), -1.0);
        assert_eq!(spearman(&[1.0], &[2.0]).unwrap(), None);
        assert_eq!(spearman(&[1.0, 2.0], &[3.0, 3.0]).unwrap(), None);
        assert!(spearman(&[1.0, 2.0], &[3.0]).is_err());
    }

    #[test]
    fn per_unit_flags_missing_denominators() {
        let mut out = Vec::new();
        let missing =
            per_unit_into(&[10.0, 6.0, 5.0, 1.0], &[2.0, 0.0, 4.0, f64::NAN], &mut out).unwrap();
        assert_eq!(missing, 2);
        assert_eq!(out, vec![5.0, 0.0, 1.25, 0.0]);
        assert!(per_unit_into(&[1.0], &[], &mut out).is_err());
    }

    #[test]
    fn suits_hand_computed() {
        // Four equal-base regions, all allocation to the weakest: curve through
        // (¼, 1), area = ⅛ + ¾ = ⅞, S = ¾.
        let s = suits_index(&[1.0, 0.0, 0.0, 0.0], &[0.1, 0.2, 0.3, 0.4], &[1.0; 4])
            .unwrap()
            .unwrap();
        assert_relative_eq!(s, 0.75, epsilon = 1e-15);
        // All to the strongest: area = ⅛, S = −¾.
        let s = suits_index(&[0.0, 0.0, 0.0, 1.0], &[0.1, 0.2, 0.3, 0.4], &[1.0; 4])
            .unwrap()
            .unwrap();
        assert_relative_eq!(s, -0.75, epsilon = 1e-15);
    }

    #[test]
    fn suits_sign_progressive_regressive_proportional() {
        let re = [1.4, 0.2, 0.9, 0.5, 0.35];
        let base = [3.0, 1.0, 2.0, 5.0, 4.0];
        // Allocation per unit of base falling with R/E: progressive.
        let progressive: Vec<f64> = re.iter().zip(&base).map(|(r, b)| b * (2.0 - r)).collect();
        // Rising with R/E: regressive.
        let regressive: Vec<f64> = re.iter().zip(&base).map(|(r, b)| b * r).collect();
        let sp = suits_index(&progressive, &re, &base).unwrap().unwrap();
        let sr = suits_index(&regressive, &re, &base).unwrap().unwrap();
        let s0 = suits_index(&base.map(|b| 7.0 * b), &re, &base)
            .unwrap()
            .unwrap();
        assert!(sp > 0.1, "{sp}");
        assert!(sr < -0.1, "{sr}");
        assert!(s0.abs() < 1e-15, "{s0}");
        for s in [sp, sr] {
            assert!((-1.0..=1.0).contains(&s));
        }
    }

    #[test]
    fn suits_tied_keys_are_order_independent() {
        let a = suits_index(&[5.0, 1.0, 2.0], &[0.5, 0.5, 0.9], &[1.0, 2.0, 1.0]).unwrap();
        let b = suits_index(&[1.0, 5.0, 2.0], &[0.5, 0.5, 0.9], &[2.0, 1.0, 1.0]).unwrap();
        assert_relative_eq!(a.unwrap(), b.unwrap(), epsilon = 1e-15);
        assert_eq!(
            suits_index(&[0.0, 0.0], &[1.0, 2.0], &[1.0, 1.0]).unwrap(),
            None
        );
        assert!(suits_index(&[1.0], &[1.0, 2.0], &[1.0]).is_err());
    }
}
