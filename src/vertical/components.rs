//! The pre-budget claims of the vertical allocator (docs/model.md §1.2): the key subsidy K, the
//! protected-area pool PA, the red-line pool RL, guidance G and the ranger subsidy F.
//!
//! Policy source: the key ecological function zone transfer method (docs/policy.md §2): a
//! fiscal-gap subsidy banded by self-sufficiency and ecological importance, plus
//! protected-area, red-line, guidance and forest-ranger items.
//!
//! Every function here is a pure per-region (or per-pool) formula on plain numbers, so the
//! allocator's hot loop stays allocation-free and each rule can be tested on its own. No
//! function divides by zero: a zero denominator is documented at the function.

use crate::model::formula::{
    GuidanceCombine, KeySubsidy, PoolSize, ProtectedAreaPool, RedlinePool,
};

/// The importance multiplier m of a region with tag bit set `tags`: the **maximum** over
/// the formula's `(tag, multiplier)` entries whose tag the region carries (就高不就低), or
/// 1.0 when none applies. Tags ≥ 64 can never be carried and are ignored.
#[inline]
pub fn importance_multiplier(importance: &[(u32, f64)], tags: u64) -> f64 {
    importance_source(importance, tags).map_or(1.0, |(_, m)| m)
}

/// The tag whose multiplier gives a region its importance multiplier, with that
/// multiplier: the largest of the formula's entries the region carries (the first listed
/// among equals); `None` when none applies.
#[inline]
pub fn importance_source(importance: &[(u32, f64)], tags: u64) -> Option<(u32, f64)> {
    let mut best: Option<(u32, f64)> = None;
    for &(tag, m) in importance {
        if has_tag(tags, tag) && best.is_none_or(|(_, b)| m > b) {
            best = Some((tag, m));
        }
    }
    best
}

/// True when bit `tag` is set in `tags`.
#[inline]
pub fn has_tag(tags: u64, tag: u32) -> bool {
    tag < 64 && (tags >> tag) & 1 == 1
}

/// Red-line coverage `r = L / A`; 0 when the area is not positive.
#[inline]
pub fn coverage(area_km2: f64, redline_km2: f64) -> f64 {
    if area_km2 > 0.0 {
        redline_km2 / area_km2
    } else {
        0.0
    }
}

/// Self-sufficiency `R / E`. Validation requires `E > 0`; for `E ≤ 0` the ratio is taken as
/// +∞ (no expenditure need), so the highest band applies.
#[inline]
pub fn self_sufficiency(revenue: f64, expenditure: f64) -> f64 {
    if expenditure > 0.0 {
        revenue / expenditure
    } else {
        f64::INFINITY
    }
}

/// The part of the key subsidy that does not depend on money: `c0 · m · (1 + β·r)`,
/// computed once per region ([`super::prepare`]); the key subsidy is
/// `max(0, E + a·X − R) · band(R/E) · c0 · m · (1 + β·r)` ([`super::rules::claim`]).
#[inline]
pub fn key_factor(key: &KeySubsidy, importance: f64, coverage: f64) -> f64 {
    key.c0 * importance * uplift(key, coverage)
}

/// The red-line uplift `1 + β·r` of a region with coverage r.
#[inline]
pub fn uplift(key: &KeySubsidy, coverage: f64) -> f64 {
    1.0 + key.redline_uplift * coverage
}

/// `((PA + RL) + G) + F`, the claims other than the key subsidy; the claim is
/// `S = K + (((PA + RL) + G) + F)` ([`super::rules::claim`]).
#[inline]
pub fn fixed_claims(pa: f64, rl: f64, guidance: f64, rangers: f64) -> f64 {
    ((pa + rl) + guidance) + rangers
}

/// Money in a pool: `Share(s)` is `s · T`, `Amount(a)` is `a`. A share pool with no total
/// (open mode without a total, which validation rejects) holds 0.
#[inline]
pub fn pool_size(size: PoolSize, total: Option<f64>) -> f64 {
    match size {
        PoolSize::Share(s) => total.map_or(0.0, |t| s * t),
        PoolSize::Amount(a) => a,
    }
}

/// Sums of the protected-area columns over all regions, the denominators of the PA weight.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PaTotals {
    pub km2: f64,
    pub count: f64,
}

impl PaTotals {
    pub fn of(pa_km2: &[f64], pa_count: &[f64]) -> Self {
        PaTotals {
            km2: pa_km2.iter().sum(),
            count: pa_count.iter().sum(),
        }
    }
}

/// Protected-area pool weight of one region:
/// `(w_area · pa_km2 / Σpa_km2 + w_count · pa_count / Σpa_count) · ((1 − w_score) + w_score · pa_score)`.
/// A term whose denominator is not positive contributes 0.
#[inline]
pub fn pa_weight(
    pool: &ProtectedAreaPool,
    totals: PaTotals,
    pa_km2: f64,
    pa_count: f64,
    pa_score: f64,
) -> f64 {
    let area = if totals.km2 > 0.0 {
        pool.w_area * pa_km2 / totals.km2
    } else {
        0.0
    };
    let count = if totals.count > 0.0 {
        pool.w_count * pa_count / totals.count
    } else {
        0.0
    };
    (area + count) * ((1.0 - pool.w_score) + pool.w_score * pa_score)
}

/// Red-line pool weight of one region: `L · (1 + γ · max(0, r − r*))`.
#[inline]
pub fn redline_weight(pool: &RedlinePool, redline_km2: f64, coverage: f64) -> f64 {
    redline_km2 * (1.0 + pool.gamma * (coverage - pool.threshold).max(0.0))
}

/// Split `size` in proportion to `weights`, writing each share into `out` (same length).
/// Returns the money allocated to nobody: all of `size` when the weights sum to zero (or
/// less), else 0.
pub fn split_pool(size: f64, weights: &[f64], out: &mut [f64]) -> f64 {
    let sum: f64 = weights.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        let per_weight = size / sum;
        if per_weight.is_finite() {
            for (o, &w) in out.iter_mut().zip(weights) {
                *o = w * per_weight;
            }
        } else {
            // Weights summing to almost nothing (subnormal) overflow `size / sum`, and a
            // share of +∞ is not a share. `w / sum` is at most 1, so each share stays within
            // the pool.
            for (o, &w) in out.iter_mut().zip(weights) {
                *o = size * (w / sum);
            }
        }
        0.0
    } else {
        out.iter_mut().for_each(|o| *o = 0.0);
        size
    }
}

/// Guidance `G`: over the formula's `(tag, amount)` entries whose tag the region carries,
/// the highest amount (就高不就低) or, with [`GuidanceCombine::Sum`], their sum; 0 when
/// none applies.
#[inline]
pub fn guidance(entries: &[(u32, f64)], combine: GuidanceCombine, tags: u64) -> f64 {
    let amounts = entries
        .iter()
        .filter(|(tag, _)| has_tag(tags, *tag))
        .map(|&(_, a)| a);
    match combine {
        GuidanceCombine::Sum => amounts.sum(),
        GuidanceCombine::Highest => amounts.fold(0.0, |best, a| if a > best { a } else { best }),
    }
}

/// Ranger subsidy `F = rangers · unit_rate`; 0 without a ranger table.
#[inline]
pub fn rangers(count: f64, unit_rate: Option<f64>) -> f64 {
    unit_rate.map_or(0.0, |rate| count * rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn importance_takes_the_highest_applicable_multiplier() {
        let imp = [(0, 1.5), (1, 1.2), (3, 2.0)];
        assert_relative_eq!(importance_multiplier(&imp, 0b0000), 1.0);
        assert_relative_eq!(importance_multiplier(&imp, 0b0010), 1.2);
        assert_relative_eq!(importance_multiplier(&imp, 0b0011), 1.5);
        assert_relative_eq!(importance_multiplier(&imp, 0b1011), 2.0);
        // A tag the formula does not list does not count.
        assert_relative_eq!(importance_multiplier(&imp, 0b0100), 1.0);
        // Out-of-range tag indices never match.
        assert_relative_eq!(importance_multiplier(&[(70, 3.0)], u64::MAX), 1.0);
    }

    #[test]
    fn coverage_guards_zero_area() {
        assert_relative_eq!(coverage(100.0, 25.0), 0.25);
        assert_relative_eq!(coverage(0.0, 25.0), 0.0);
    }

    #[test]
    fn redline_weight_threshold() {
        let pool = RedlinePool {
            size: PoolSize::Amount(1.0),
            gamma: 2.0,
            threshold: 0.3,
        };
        assert_relative_eq!(redline_weight(&pool, 10.0, 0.2), 10.0);
        assert_relative_eq!(redline_weight(&pool, 10.0, 0.3), 10.0);
        assert_relative_eq!(redline_weight(&pool, 10.0, 0.5), 10.0 * (1.0 + 2.0 * 0.2));
    }

    #[test]
    fn pa_weight_terms_and_zero_denominators() {
        let pool = ProtectedAreaPool {
            size: PoolSize::Share(0.1),
            w_area: 0.6,
            w_count: 0.4,
            w_score: 0.5,
        };
        let t = PaTotals {
            km2: 200.0,
            count: 4.0,
        };
        let w = pa_weight(&pool, t, 50.0, 1.0, 0.8);
        assert_relative_eq!(w, (0.6 * 0.25 + 0.4 * 0.25) * (0.5 + 0.5 * 0.8));
        // No protected-area counts anywhere: the count term is dropped, not NaN.
        let t0 = PaTotals {
            km2: 200.0,
            count: 0.0,
        };
        assert_relative_eq!(pa_weight(&pool, t0, 50.0, 0.0, 1.0), 0.6 * 0.25);
        assert_relative_eq!(pa_weight(&pool, PaTotals::default(), 50.0, 1.0, 1.0), 0.0);
    }

    #[test]
    fn zero_weight_pool_is_unallocated() {
        let mut out = [9.0; 3];
        let un = split_pool(12.0, &[0.0, 0.0, 0.0], &mut out);
        assert_relative_eq!(un, 12.0);
        assert!(out.iter().all(|&x| x == 0.0));
        let un = split_pool(12.0, &[1.0, 0.0, 3.0], &mut out);
        assert_relative_eq!(un, 0.0);
        assert_relative_eq!(out[0], 3.0);
        assert_relative_eq!(out[1], 0.0);
        assert_relative_eq!(out[2], 9.0);
    }

    /// A pool near 1e100 shared among subnormal weights: `size / Σw` overflows, yet every
    /// share is finite and they still add up to the pool.
    #[test]
    fn tiny_weights_share_a_huge_pool_without_overflow() {
        let (size, w) = (1.2e100, [5e-324, 1e-300, 3e-300]);
        assert!((size / w.iter().sum::<f64>()).is_infinite());
        let mut out = [0.0; 3];
        assert_eq!(split_pool(size, &w, &mut out), 0.0);
        assert!(out.iter().all(|x| x.is_finite() && *x >= 0.0), "{out:?}");
        assert_relative_eq!(out.iter().sum::<f64>(), size, max_relative = 1e-12);
        assert_relative_eq!(out[2], 3.0 * out[1], max_relative = 1e-12);
    }

    #[test]
    fn pool_sizes_guidance_and_rangers() {
        assert_relative_eq!(pool_size(PoolSize::Share(0.1), Some(500.0)), 50.0);
        assert_relative_eq!(pool_size(PoolSize::Share(0.1), None), 0.0);
        assert_relative_eq!(pool_size(PoolSize::Amount(7.0), None), 7.0);
        let g = [(0, 1.0), (2, 0.5), (2, 0.25)];
        assert_relative_eq!(guidance(&g, GuidanceCombine::Sum, 0b101), 1.75);
        assert_relative_eq!(guidance(&g, GuidanceCombine::Highest, 0b101), 1.0);
        assert_relative_eq!(guidance(&g, GuidanceCombine::Highest, 0b100), 0.5);
        assert_relative_eq!(guidance(&g, GuidanceCombine::Sum, 0b010), 0.0);
        assert_relative_eq!(guidance(&g, GuidanceCombine::Highest, 0b010), 0.0);
        assert_relative_eq!(rangers(120.0, Some(0.01)), 1.2);
        assert_relative_eq!(rangers(120.0, None), 0.0);
    }
}
