//! The per-region rules of the vertical allocator, written once (docs/model.md §1.2–§1.5):
//! the fiscal gap and the key subsidy with its band, importance and uplift factor; the
//! quality grade and its rate; the reverse-linkage cut; the claim; the floor and its
//! waiver; the payment between floor and cap, and the flags and budget flows it leaves.
//!
//! Every rule is a function of four regions at a time, generic over the lane type
//! ([`Vector`]), and both the point allocator ([`super::allocate`]) and the Monte Carlo
//! kernel ([`super::kernel`]) call these functions and nothing else for them. The last
//! `n % 4` regions go through the same functions on zero-padded lanes ([`Tail`]). A new
//! per-region component is therefore added here, once, and reaches both paths.
//!
//! The inputs are never NaN (validation rejects them, and noise keeps them finite), so the
//! compares of [`Vector::min_lt`] and [`Vector::max_gt`] stand in for the NaN-aware `min`
//! and `max`. The floors and the per-region terms that do not change between draws come
//! from [`super::prepare::Prepared`].

use crate::simd::{LANES, Lanes, Vector};

/// `(lower_bound, multiplier)` bands of the self-sufficiency `R/E`: the highest lower bound
/// ≤ the ratio applies; below every bound (or with no bands) the multiplier is 1.
#[inline(always)]
pub fn band<V: Vector>(bands: &[(f64, f64)], ratio: V) -> V {
    let mut m = V::splat(1.0);
    for &(lower, mult) in bands {
        m = V::splat(lower).le(ratio).select(V::splat(mult), m);
    }
    m
}

/// The quality grade of `dq` as level + 3 in a float: 0 (markedly worse) … 3 (stable) …
/// 6 (markedly better). `dq ≥ t3` is markedly better, `≥ t2` generally, `≥ t1` slightly
/// better; `≤ −t3` markedly worse, `≤ −t2` generally, `≤ −t1` slightly worse; the
/// boundaries belong to the stronger grade, and the better grades are tested first.
#[inline(always)]
pub fn grade<V: Vector>(dq: V, t: &Thresholds<V>) -> V {
    let better = dq.ge(t.up[0]).ones() + dq.ge(t.up[1]).ones() + dq.ge(t.up[2]).ones();
    let worse = dq.le(t.down[0]).ones() + dq.le(t.down[1]).ones() + dq.le(t.down[2]).ones();
    let zero = V::splat(0.0);
    let worse = better.gt(zero).select(zero, worse);
    V::splat(3.0) + better - worse
}

/// The grade thresholds `t1 < t2 < t3` and their negatives, in lanes. Without a quality
/// table the thresholds are +∞, which no change reaches: every region is stable.
#[derive(Clone, Copy)]
pub struct Thresholds<V> {
    up: [V; 3],
    down: [V; 3],
}

impl<V: Vector> Thresholds<V> {
    pub fn new(t: &[f64; 3]) -> Self {
        Thresholds {
            up: t.map(V::splat),
            down: t.map(|x| V::splat(-x)),
        }
    }
}

/// The coefficients of the claim rules of one formula, in lanes.
#[derive(Clone, Copy)]
pub struct ClaimRules<'a, V: Vector> {
    /// Self-sufficiency bands of the key subsidy (empty without one).
    pub bands: &'a [(f64, f64)],
    pub thresholds: Thresholds<V>,
    /// The rate q of each grade level (index level + 3), 0 without a quality table; the
    /// eighth entry pads the table to a power of two.
    pub rates: [f64; 8],
    /// The maximum cut of the reverse linkage (0 without one).
    pub max_cut: V,
    /// Whether a worse grade, and damaging industry (D > 0), waive a floor.
    pub waive_worse: V::Mask,
    pub waive_damage: V::Mask,
    /// Set when the budget scale multiplies the key subsidy only (the default budget
    /// rule, fixed mode); clear when it multiplies the whole claim.
    pub key_only: V::Mask,
}

/// Four regions' inputs to the claim rules.
#[derive(Clone, Copy)]
pub struct RegionLanes<V> {
    /// `E + a·X`, the expenditure need with the eco-spending weight a.
    pub need: V,
    /// R, the standard revenue.
    pub revenue: V,
    /// `c0 · m · (1 + β·r)` ([`super::components::key_factor`]); 0 without a key subsidy.
    pub factor: V,
    /// `((PA + RL) + G) + F`, the claims other than the key subsidy.
    pub rest: V,
    /// The band multiplier ([`band`]) and the grade ([`grade`]) of the regions.
    pub band: V,
    pub grade: V,
    /// D, the damage index.
    pub damage: V,
    /// λ of the reverse linkage where the cut applies to the region, else 0.
    pub lambda: V,
    /// 1 where a violation waives the floor (a hold-harmless region under a formula that
    /// waives), else 0.
    pub waivable: V,
    /// The floor before any waiver.
    pub floor: V,
}

/// What the claim rules give four regions.
#[derive(Clone, Copy)]
pub struct Claim<V: Vector> {
    /// `max(0, E + a·X − R)`.
    pub gap: V,
    /// K = gap · band · factor.
    pub key: V,
    /// S = K + rest.
    pub total: V,
    /// The reward (> 0) or deduction (< 0) rate of the grade.
    pub q: V,
    /// `min(λ·D, max_cut)`.
    pub cut: V,
    /// S' = max(0, S · (1 + q) · (1 − cut)).
    pub claim: V,
    /// The part of the claim the budget scale multiplies: `max(0, K · (1 + q) · (1 −
    /// cut))` when only the key subsidy is scaled, else S'.
    pub scaled: V,
    /// The part paid as stated: `max(0, C · (1 + q) · (1 − cut))` for the components C
    /// other than the key subsidy when only it is scaled, else 0.
    pub fixed: V,
    /// The scaled part before the quality rate, `K · (1 − cut)` (or `S · (1 − cut)`), and
    /// the unscaled part, `C · (1 − cut)` (or 0): a quality rate moves `(net · s +
    /// net_fixed) · q` of money.
    pub net: V,
    pub net_fixed: V,
    /// The floor after its waiver.
    pub floor: V,
    /// Where a violation (a worse grade, or D > 0) waived the floor.
    pub waived: V::Mask,
}

/// The claim rules (docs/model.md §1.2–§1.5) for four regions.
#[inline(always)]
pub fn claim<V: Vector>(r: &ClaimRules<V>, x: &RegionLanes<V>) -> Claim<V> {
    let zero = V::splat(0.0);
    let one = V::splat(1.0);
    let gap = (x.need - x.revenue).max_gt(zero);
    let key = gap * x.band * x.factor;
    let total = key + x.rest;
    // The rate by grade level, looked up lane by lane (the level is an exact small
    // integer): cheaper than selecting among all seven rates.
    let q = V::from_array(x.grade.to_array().map(|level| r.rates[level as usize & 7]));
    let cut = (x.lambda * x.damage).min_lt(r.max_cut);
    let claim = (total * (one + q) * (one - cut)).max_gt(zero);
    let base = r.key_only.select(key, total);
    let rest = x.rest.and(r.key_only);
    let violated =
        (x.grade.lt(V::splat(3.0)) & r.waive_worse) | (x.damage.gt(zero) & r.waive_damage);
    let waived = x.waivable.gt(zero) & violated;
    Claim {
        gap,
        key,
        total,
        q,
        cut,
        claim,
        scaled: (base * (one + q) * (one - cut)).max_gt(zero),
        fixed: (rest * (one + q) * (one - cut)).max_gt(zero),
        net: base * (one - cut),
        net_fixed: rest * (one - cut),
        floor: waived.select(zero, x.floor),
        waived,
    }
}

/// What the payment rule gives four regions at one budget scale.
#[derive(Clone, Copy)]
pub struct Pay<V: Vector> {
    /// `s · c + b`, the claim at scale `s` before floor and cap; a zero scaled claim adds
    /// nothing even at an overflowed scale (∞·0 would be NaN).
    pub raw: V,
    /// `x = max(f, min(s·c + b, u))`: the floor wins when it exceeds the cap.
    pub x: V,
    /// The floor lifted the amount: `f > min(s·c + b, u)`.
    pub floor_binds: V::Mask,
    /// The cap cut the amount: `u ≥ f` and `u < s·c + b`.
    pub cap_binds: V::Mask,
}

/// The payment of four regions with scaled claims `c`, unscaled amounts `b`, floors `f`
/// (≥ 0 after clamping) and caps `u` at scale `s` (docs/model.md §1.5).
#[inline(always)]
pub fn pay<V: Vector>(c: V, b: V, f: V, u: V, s: V) -> Pay<V> {
    let zero = V::splat(0.0);
    let f = f.max_gt(zero);
    let raw = (s * c).and(c.gt(zero)) + b;
    let capped = raw.min_lt(u);
    Pay {
        raw,
        x: f.max_gt(capped),
        floor_binds: f.gt(capped),
        cap_binds: u.ge(f) & u.lt(raw),
    }
}

/// The budget flows of four paid regions (docs/model.md §1.5): the money a quality rate
/// moves, `net · q · s + net_fixed · q`, where it is a deduction (≤ 0; the deducted total
/// is minus its sum) and where it is a reward (≥ 0), and the money paid to lift a region
/// to its floor, `x − (s·c + b)`.
#[inline(always)]
pub fn flows<V: Vector>(net: V, net_fixed: V, q: V, s: V, p: &Pay<V>) -> [V; 3] {
    let zero = V::splat(0.0);
    let money = net * q * s + net_fixed * q;
    [
        money.and(q.lt(zero)),
        money.and(q.gt(zero)),
        (p.x - p.raw).and(p.floor_binds),
    ]
}

/// The last `n % 4` regions of a pass, as zero-padded lanes: the same rule functions run
/// on them, and only the first [`Tail::len`] lanes are kept.
#[derive(Clone, Copy, Debug)]
pub struct Tail {
    /// First region of the tail.
    pub start: usize,
    /// Regions in it (0 … 3).
    pub len: usize,
}

impl Tail {
    /// The tail of `n` regions.
    #[inline(always)]
    pub fn of(n: usize) -> Tail {
        Tail {
            start: n - n % LANES,
            len: n % LANES,
        }
    }

    /// The tail's values of `s`, padded with zeros.
    #[inline(always)]
    pub fn load<V: Vector>(self, s: &[f64]) -> V {
        let mut a = [0.0; LANES];
        a[..self.len].copy_from_slice(&s[self.start..self.start + self.len]);
        V::from_array(a)
    }

    /// Write the tail's lanes of `v` into `s`.
    #[inline(always)]
    pub fn store<V: Vector>(self, v: V, s: &mut [f64]) {
        s[self.start..self.start + self.len].copy_from_slice(&v.to_array()[..self.len]);
    }

    /// Add the tail's lanes of `v`, in region order, to lane 0 of `lanes`: the
    /// summation order of [`crate::simd::lane_of`].
    #[inline(always)]
    pub fn add_to_lane0<V: Vector>(self, v: V, lanes: &mut [f64; LANES]) {
        for x in &v.to_array()[..self.len] {
            lanes[0] += x;
        }
    }

    /// The tail's lanes of a mask as bytes 0 or 1.
    #[inline(always)]
    pub fn flags<V: Vector>(self, m: V::Mask) -> [u8; LANES] {
        let mut b = m.to_u8();
        b[self.len..].fill(0);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::F64x4;

    fn lane0(v: F64x4) -> f64 {
        v.to_array()[0]
    }

    #[test]
    fn band_boundaries() {
        let bands = [(0.2, 0.8), (0.5, 0.4), (1.0, 0.0)];
        let b = |r: f64| lane0(band(&bands, F64x4::splat(r)));
        assert_eq!(b(0.0), 1.0);
        assert_eq!(b(0.2 - 1e-12), 1.0);
        assert_eq!(b(0.2), 0.8);
        assert_eq!(b(0.5 - 1e-12), 0.8);
        assert_eq!(b(0.5), 0.4);
        assert_eq!(b(0.99), 0.4);
        assert_eq!(b(1.0), 0.0);
        assert_eq!(b(f64::INFINITY), 0.0);
        assert_eq!(lane0(band(&[], F64x4::splat(0.3))), 1.0);
    }

    #[test]
    fn grades_take_the_stronger_grade_at_a_boundary() {
        let t = Thresholds::<F64x4>::new(&[1.0, 2.0, 3.0]);
        let g = |dq: f64| lane0(grade(F64x4::splat(dq), &t)) as i8 - 3;
        for (dq, want) in [
            (3.0, 3),
            (2.999, 2),
            (2.0, 2),
            (1.0, 1),
            (0.999, 0),
            (0.0, 0),
            (-0.999, 0),
            (-1.0, -1),
            (-2.0, -2),
            (-3.0, -3),
            (-100.0, -3),
        ] {
            assert_eq!(g(dq), want, "dq {dq}");
        }
        // Without a quality table nobody is graded.
        let none = Thresholds::<F64x4>::new(&[f64::INFINITY; 3]);
        assert_eq!(lane0(grade(F64x4::splat(-1e300), &none)), 3.0);
    }

    fn rules(bands: &[(f64, f64)]) -> ClaimRules<'_, F64x4> {
        ClaimRules {
            bands,
            thresholds: Thresholds::new(&[1.0, 2.0, 3.0]),
            rates: [-1.0, -0.5, -0.1, 0.0, 0.1, 0.2, 0.3, 0.0],
            max_cut: F64x4::splat(0.2),
            waive_worse: F64x4::splat(0.0).le(F64x4::splat(0.0)),
            waive_damage: F64x4::splat(0.0).le(F64x4::splat(0.0)),
            key_only: F64x4::splat(0.0).lt(F64x4::splat(0.0)),
        }
    }

    fn region(need: f64, revenue: f64, dq: f64, damage: f64) -> RegionLanes<F64x4> {
        let r = rules(&[]);
        RegionLanes {
            need: F64x4::splat(need),
            revenue: F64x4::splat(revenue),
            factor: F64x4::splat(0.5),
            rest: F64x4::splat(2.0),
            band: F64x4::splat(1.0),
            grade: grade(F64x4::splat(dq), &r.thresholds),
            damage: F64x4::splat(damage),
            lambda: F64x4::splat(0.5),
            waivable: F64x4::splat(1.0),
            floor: F64x4::splat(7.0),
        }
    }

    #[test]
    fn key_subsidy_claim_cut_and_waiver_by_hand() {
        // gap 80, K = 80 · 1 · 0.5 = 40, S = 42; slightly better (q = 0.1); cut 0.5·0.2 =
        // 0.1: S' = 42 · 1.1 · 0.9; D > 0 waives the floor.
        let c = claim(&rules(&[]), &region(100.0, 20.0, 1.5, 0.2));
        assert_eq!(lane0(c.gap), 80.0);
        assert_eq!(lane0(c.key), 40.0);
        assert_eq!(lane0(c.total), 42.0);
        assert_eq!(lane0(c.q), 0.1);
        assert_eq!(lane0(c.cut), 0.1);
        assert_eq!(lane0(c.claim), 42.0 * 1.1 * 0.9);
        assert_eq!(lane0(c.net), 42.0 * 0.9);
        assert_eq!(lane0(c.floor), 0.0);
        assert!(c.waived.any());
        // Revenue above need: no key subsidy; the cut stops at max_cut; a deduction of
        // 1 removes the claim; no violation keeps the floor.
        let c = claim(&rules(&[]), &region(10.0, 20.0, -3.0, 0.0));
        assert_eq!(lane0(c.key), 0.0);
        assert_eq!(lane0(c.claim), 0.0);
        assert!(c.waived.any(), "markedly worse waives the floor");
        let c = claim(&rules(&[]), &region(10.0, 20.0, 0.0, 0.0));
        assert_eq!(lane0(c.floor), 7.0);
        assert!(!c.waived.any());
        let c = claim(&rules(&[]), &region(10.0, 20.0, 0.0, 1.0));
        assert_eq!(lane0(c.cut), 0.2);
    }

    #[test]
    fn key_only_scaling_splits_the_claim() {
        // As above, with only the key subsidy scaled: K = 40 and the rest 2 each take the
        // rate 1.1 and the cut 0.9; the money the rate moves splits the same way.
        let mut r = rules(&[]);
        r.key_only = F64x4::splat(0.0).le(F64x4::splat(0.0));
        let c = claim(&r, &region(100.0, 20.0, 1.5, 0.2));
        assert_eq!(lane0(c.claim), 42.0 * 1.1 * 0.9);
        assert_eq!(lane0(c.scaled), 40.0 * 1.1 * 0.9);
        assert_eq!(lane0(c.fixed), 2.0 * 1.1 * 0.9);
        assert_eq!(lane0(c.net), 40.0 * 0.9);
        assert_eq!(lane0(c.net_fixed), 2.0 * 0.9);
        // Scaling everything: the whole claim scales and nothing is fixed.
        let c = claim(&rules(&[]), &region(100.0, 20.0, 1.5, 0.2));
        assert_eq!(lane0(c.scaled), lane0(c.claim));
        assert_eq!(lane0(c.fixed), 0.0);
        assert_eq!(lane0(c.net_fixed), 0.0);
    }

    #[test]
    fn payment_clamps_between_floor_and_cap() {
        let p = |c: f64, f: f64, u: f64, s: f64| {
            let p = pay(
                F64x4::splat(c),
                F64x4::splat(0.0),
                F64x4::splat(f),
                F64x4::splat(u),
                F64x4::splat(s),
            );
            (lane0(p.x), p.floor_binds.any(), p.cap_binds.any())
        };
        assert_eq!(p(10.0, 0.0, f64::INFINITY, 2.0), (20.0, false, false));
        assert_eq!(p(10.0, 25.0, f64::INFINITY, 2.0), (25.0, true, false));
        assert_eq!(p(10.0, 0.0, 15.0, 2.0), (15.0, false, true));
        // The floor wins over a lower cap.
        assert_eq!(p(10.0, 25.0, 15.0, 2.0), (25.0, true, false));
        // A zero claim earns nothing even at an overflowed scale.
        assert_eq!(p(0.0, 0.0, f64::INFINITY, f64::INFINITY).0, 0.0);
    }

    #[test]
    fn tails_keep_their_own_lanes_only() {
        let s: Vec<f64> = (0..7).map(f64::from).collect();
        let t = Tail::of(7);
        assert_eq!((t.start, t.len), (4, 3));
        let v: F64x4 = t.load(&s);
        assert_eq!(v.to_array(), [4.0, 5.0, 6.0, 0.0]);
        let mut out = vec![-1.0; 8];
        t.store(v, &mut out);
        assert_eq!(out, [-1.0, -1.0, -1.0, -1.0, 4.0, 5.0, 6.0, -1.0]);
        let mut lanes = [1.0, 0.0, 0.0, 0.0];
        t.add_to_lane0(v, &mut lanes);
        assert_eq!(lanes, [16.0, 0.0, 0.0, 0.0]);
        assert_eq!(t.flags::<F64x4>(v.gt(F64x4::splat(-1.0))), [1, 1, 1, 0]);
    }
}
