//! The point allocator: every rule of docs/model.md §1.2–§1.5 for one formula, with the
//! full per-region breakdown ([`Allocation`]). The per-region rules are those of
//! [`super::rules`], applied through [`Prepared`] exactly as the Monte Carlo kernel
//! applies them; this module adds the budget cases the kernel hands over (floors above the
//! budget, saturated caps, a scale that under- or overflows) and the breakdown.

use super::components;
use super::prepare::{ClaimSink, Prepared, TagCache, self_sufficiency_into};
use super::quality::{Grade, grade_of_index};
use super::rules::{Claim, RegionLanes, Tail};
use crate::error::{Error, Result};
use crate::model::formula::{Budget, Formula};
use crate::model::region::RegionData;
use crate::simd::{F64x4, LANES};

/// Result of allocating one formula over all regions. Every `Vec` has one entry per
/// region, in region order. Reused across draws: [`allocate`] overwrites every field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allocation {
    /// Fiscal gap `max(0, E + a·X − R)`.
    pub gap: Vec<f64>,
    /// Self-sufficiency `R/E`.
    pub self_sufficiency: Vec<f64>,
    /// Red-line coverage `L/A`.
    pub coverage: Vec<f64>,
    /// The self-sufficiency band multiplier `band(R/E)` of the key subsidy (1 without one).
    pub band: Vec<f64>,
    /// The importance multiplier m (1 when no listed tag applies), and the tag that gave it.
    pub importance: Vec<f64>,
    pub importance_tag: Vec<Option<u32>>,
    /// The red-line uplift `1 + β·r` of the key subsidy (1 without one).
    pub uplift: Vec<f64>,
    /// Each region's share of the protected-area and red-line pools' weights, `w_i / Σw`
    /// (0 without the pool).
    pub pa_share: Vec<f64>,
    pub rl_share: Vec<f64>,
    /// Key subsidy K.
    pub key: Vec<f64>,
    /// Protected-area pool share PA.
    pub pa: Vec<f64>,
    /// Red-line pool share RL.
    pub rl: Vec<f64>,
    /// Guidance G.
    pub guidance: Vec<f64>,
    /// Rangers F.
    pub rangers: Vec<f64>,
    /// The claim before quality and reverse linkage, S = K + PA + RL + G + F.
    pub claim_before: Vec<f64>,
    /// Quality grade (Stable when the formula has no quality table).
    pub grade: Vec<Grade>,
    /// Reward (> 0) or deduction (< 0) rate q.
    pub q: Vec<f64>,
    /// Reverse-linkage cut fraction `min(max_cut, λ·D)`.
    pub cut: Vec<f64>,
    /// Claim after reward/penalty and reverse linkage, S'.
    pub claim: Vec<f64>,
    /// `S · (1 − cut)`: the money a quality rate moves is `net · q` at the budget scale.
    pub net: Vec<f64>,
    /// Floor f (0 when none or waived).
    pub floor: Vec<f64>,
    /// Cap u (+∞ when none).
    pub cap: Vec<f64>,
    /// True when the region had a hold-harmless floor that was waived for a violation.
    pub floor_waived: Vec<bool>,
    /// Final allocation x.
    pub x: Vec<f64>,
    /// True when the final amount equals a binding floor (the floor lifted it).
    pub floor_binds: Vec<bool>,
    /// True when the final amount equals a binding cap (the cap cut it).
    pub cap_binds: Vec<bool>,
    /// Budget scale factor s (1 in open mode; in scale_floors mode, T / Σ floors).
    pub scale: f64,
    /// Pool money with zero total weight, allocated to nobody.
    pub pool_unallocated: f64,
    /// Budget left over because every region is capped (fixed mode).
    pub cap_unallocated: f64,
    /// True when infeasible floors were scaled pro rata (`on_infeasible = scale_floors`).
    pub floors_scaled: bool,
    /// Σ x.
    pub total: f64,
}

impl Allocation {
    /// Total unallocated money: pools with zero weight plus the capped remainder.
    pub fn unallocated(&self) -> f64 {
        self.pool_unallocated + self.cap_unallocated
    }
}

/// Scratch reused across calls: the formula's prepared terms, the tag tables, the draw's
/// self-sufficiency ratios and the budget solve's breakpoints.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    prep: Prepared,
    tags: TagCache,
    ratio: Vec<f64>,
    pub(crate) events: Vec<(f64, f64)>,
}

/// Give `v` length `n`, filling new entries with `value`; existing entries are left for
/// the caller to overwrite (no allocation once the size is stable).
fn fit<T: Clone>(v: &mut Vec<T>, n: usize, value: T) {
    if v.len() != n {
        v.clear();
        v.resize(n, value);
    }
}

/// [`ClaimSink`] of the point allocator: every value of the rules, into the breakdown.
struct Breakdown<'a> {
    out: &'a mut Allocation,
    /// Σ S', in region order (the budget solve's starting point only).
    claims: f64,
    /// The first region whose claim overflowed.
    overflowed: Option<usize>,
}

impl Breakdown<'_> {
    /// Regions `i .. i + len` of the rules' lanes.
    #[inline(always)]
    fn put(&mut self, i: usize, len: usize, x: &RegionLanes<F64x4>, c: &Claim<F64x4>) {
        let lanes = |v: F64x4| v.to_array();
        let o = &mut *self.out;
        let vals = [
            (&mut o.band, lanes(x.band)),
            (&mut o.gap, lanes(c.gap)),
            (&mut o.key, lanes(c.key)),
            (&mut o.claim_before, lanes(c.total)),
            (&mut o.q, lanes(c.q)),
            (&mut o.cut, lanes(c.cut)),
            (&mut o.claim, lanes(c.claim)),
            (&mut o.net, lanes(c.net)),
            (&mut o.floor, lanes(c.floor)),
        ];
        for (v, l) in vals {
            v[i..i + len].copy_from_slice(&l[..len]);
        }
        let (grade, waived) = (lanes(x.grade), c.waived.to_u8());
        for k in 0..len {
            o.grade[i + k] = grade_of_index(grade[k] as usize);
            o.floor_waived[i + k] = waived[k] != 0;
            let claim = o.claim[i + k];
            self.claims += claim;
            if !claim.is_finite() && self.overflowed.is_none() {
                self.overflowed = Some(i + k);
            }
        }
    }
}

impl ClaimSink<F64x4> for Breakdown<'_> {
    fn chunk(&mut self, i: usize, x: &RegionLanes<F64x4>, c: &Claim<F64x4>) {
        self.put(i, LANES, x, c);
    }
    fn tail(&mut self, t: Tail, x: &RegionLanes<F64x4>, c: &Claim<F64x4>) {
        self.put(t.start, t.len, x, c);
    }
}

/// The factors of the key subsidy and the pool shares, for the breakdown: the same
/// functions [`Prepared`] uses, kept per region.
fn factors(formula: &Formula, regions: &RegionData, prep: &Prepared, out: &mut Allocation) {
    let n = regions.n;
    let source = |i: usize| components::importance_source(&formula.importance, regions.tags[i]);
    out.importance_tag.clear();
    out.importance.clear();
    out.uplift.clear();
    match &formula.key {
        Some(key) => {
            out.importance_tag
                .extend((0..n).map(|i| source(i).map(|(t, _)| t)));
            out.importance.extend(
                (0..n).map(|i| {
                    components::importance_multiplier(&formula.importance, regions.tags[i])
                }),
            );
            out.uplift
                .extend(prep.coverage.iter().map(|&r| components::uplift(key, r)));
        }
        None => {
            out.importance_tag.resize(n, None);
            out.importance.resize(n, 1.0);
            out.uplift.resize(n, 1.0);
        }
    }
    let share = |w: &[f64], out: &mut Vec<f64>| {
        let sum: f64 = w.iter().sum();
        out.clear();
        if w.len() == n && sum > 0.0 {
            out.extend(w.iter().map(|x| x / sum));
        } else {
            out.resize(n, 0.0);
        }
    };
    share(&prep.pa_weight, &mut out.pa_share);
    share(&prep.rl_weight, &mut out.rl_share);
}

/// Allocate `formula` over `regions` under `budget`, writing into `out` (resized as needed;
/// no allocation once sizes are stable).
///
/// The rules, in order (docs/model.md §1.2–§1.5; each per-region rule in
/// [`super::rules`]):
///
/// 1. Claims `S = K + PA + RL + G + F` ([`super::components`]). Share pools are
///    `share · T` (0 without a total); a pool whose weights sum to zero goes to nobody and
///    is added to `pool_unallocated`.
/// 2. Grade and rate q from ΔQ (stable and 0 without a quality table), cut
///    `min(max_cut, λ·D)` (0 without reverse linkage), and the claim
///    `S' = max(0, S · (1 + q) · (1 − cut))`.
/// 3. Floor `f = h · prior` for hold-harmless regions when the formula has a floor, else 0.
///    It is waived (`f = 0`, `floor_waived = true`) when `waived_on_violation` holds and
///    the region is graded worse than stable or has `D > 0`. Cap `u = (1 + g) · prior` for
///    `prior > 0` when the formula has a cap, else +∞. A region is paid
///    `clamp(s · S', f, u) = max(f, min(s · S', u))`: the floor wins if `f > u`.
/// 4. Fixed mode: the target is `T' = T − pool_unallocated` (taken as 0 if negative).
///    If `Σ f > T'`, [`OnInfeasible::Error`] returns [`Error::InfeasibleFloors`] and
///    [`OnInfeasible::ScaleFloors`] pays `f · T'/Σf` (`scale = T'/Σf`,
///    `floors_scaled = true`, `floor_binds` set wherever `f > 0`). Otherwise `s` solves
///    `Σ clamp(s · S', f, u) = T'` exactly ([`solve_scale_from`]); when even `s → ∞` cannot
///    reach `T'`, everyone is paid their maximum and the rest is `cap_unallocated`.
///    Open mode: `s = 1`.
///
/// `floor_binds[i]` is true when the floor lifted the amount (`f > min(s·S', u)`), and
/// `cap_binds[i]` when the cap cut it (`x = u < s·S'`; when saturated, every region with a
/// positive claim that is paid its cap, since it is the caps that leave money over).
/// `total = Σ x` (summed in four lanes, [`crate::simd::sum4`]).
///
/// Errors on infeasible floors with `OnInfeasible::Error`, with [`Error::ClaimOverflow`]
/// when a claim overflows, and with [`Error::Runtime`] when a region column's length
/// differs from `regions.n` (a broken [`RegionData`]).
pub fn allocate(
    formula: &Formula,
    regions: &RegionData,
    budget: &Budget,
    ws: &mut Workspace,
    out: &mut Allocation,
) -> Result<()> {
    let n = regions.n;
    if regions.cols.iter().any(|c| c.len() != n)
        || regions.tags.len() != n
        || regions.hold_harmless.len() != n
    {
        return Err(Error::Runtime(format!(
            "region data is inconsistent: some column does not have n = {n} entries"
        )));
    }
    for v in [
        &mut out.band,
        &mut out.gap,
        &mut out.key,
        &mut out.claim_before,
        &mut out.q,
        &mut out.cut,
        &mut out.claim,
        &mut out.net,
        &mut out.floor,
        &mut out.x,
    ] {
        fit(v, n, 0.0);
    }
    fit(&mut out.grade, n, Grade::Stable);
    fit(&mut out.floor_waived, n, false);
    fit(&mut out.floor_binds, n, false);
    fit(&mut out.cap_binds, n, false);
    out.scale = 1.0;
    out.cap_unallocated = 0.0;
    out.floors_scaled = false;
    out.total = 0.0;

    let prep = &mut ws.prep;
    prep.refresh(formula, regions, budget, &mut ws.tags);
    self_sufficiency_into(regions, &mut ws.ratio);
    for (v, from) in [
        (&mut out.self_sufficiency, &ws.ratio),
        (&mut out.coverage, &prep.coverage),
        (&mut out.pa, &prep.pa),
        (&mut out.rl, &prep.rl),
        (&mut out.guidance, &prep.guidance),
        (&mut out.rangers, &prep.rangers),
        (&mut out.cap, &prep.cap),
    ] {
        v.clone_from(from);
    }
    out.pool_unallocated = prep.pool_unallocated;
    factors(formula, regions, prep, out);
    let mut sink = Breakdown {
        out,
        claims: 0.0,
        overflowed: None,
    };
    prep.claims::<F64x4, _>(regions, &ws.ratio, None, &mut sink);
    let (claims, overflowed) = (sink.claims, sink.overflowed);
    // Money inputs near f64's limit (~1e308) can overflow a claim to +∞: a clear error,
    // never an infinite payment.
    if let Some(i) = overflowed {
        return Err(Error::ClaimOverflow {
            formula: formula.name.clone(),
            region: i,
            draw: None,
        });
    }
    super::payment::solve_and_pay(formula, budget, claims, &mut ws.events, out)
}

#[cfg(test)]
mod tests {
    use super::super::payment::pay_pass;
    use super::*;
    use crate::model::formula::{BudgetMode, OnInfeasible};
    use crate::model::formula::{
        Floor, KeySubsidy, PoolSize, ProtectedAreaPool, Quality, RedlinePool, ReverseLinkage,
    };
    use crate::model::region::Column;
    use approx::assert_relative_eq;

    /// A reused workspace never answers from tag tables evaluated over other tags or for
    /// another table: every call matches a fresh workspace's, bit for bit.
    #[test]
    fn tag_cache_follows_changed_tags_and_tables() {
        let mut f = key_only();
        f.importance = vec![(0, 2.0), (1, 3.0)];
        f.guidance = vec![(1, 5.0)];
        let mut d = regions();
        let mut ws = Workspace::default();
        let fresh = |f: &Formula, d: &RegionData| {
            let mut a = Allocation::default();
            allocate(f, d, &open(), &mut Workspace::default(), &mut a).unwrap();
            a
        };
        for step in 0..4 {
            match step {
                1 => d.tags[0] = 0b10,
                2 => f.importance[1].1 = 7.0,
                3 => d.tags = vec![0b01, 0b11, 0],
                _ => {}
            }
            let mut a = Allocation::default();
            allocate(&f, &d, &open(), &mut ws, &mut a).unwrap();
            assert_eq!(a, fresh(&f, &d), "step {step}");
        }
        // The last step's region 1 carries both tags: importance 7, guidance 5.
        let a = fresh(&f, &d);
        assert_eq!(a.guidance, [0.0, 5.0, 0.0]);
        assert!(a.key[1] > a.key[0]);
    }

    /// The payment pass, with and without the solver's segment sums, writes what a plain
    /// scalar reference writes, bit for bit: payments, flags and their four-lane total,
    /// for region counts on and off a multiple of four, zero claims, binding floors,
    /// binding caps and caps below floors.
    #[test]
    fn fused_payment_pass_matches_the_plain_pass() {
        let mut r = crate::sampling::rng::stream(11, 0, 0);
        for n in [1usize, 4, 7, 203] {
            let mut out = Allocation {
                claim: (0..n)
                    .map(|i| match i % 9 {
                        0 => 0.0,
                        _ => crate::sampling::rng::std_normal(&mut r).exp() * 10.0,
                    })
                    .collect(),
                floor: (0..n).map(|i| if i % 5 == 0 { 8.0 } else { 0.0 }).collect(),
                // Every 35th region has a cap below its floor (the floor wins).
                cap: (0..n)
                    .map(|i| match (i % 7, i % 5) {
                        (0, 0) => 6.0,
                        (0, _) => 12.0,
                        _ => f64::INFINITY,
                    })
                    .collect(),
                x: vec![0.0; n],
                floor_binds: vec![false; n],
                cap_binds: vec![false; n],
                ..Allocation::default()
            };
            for s in [0.5, 1.0, 1.7] {
                let (seg, total) = pay_pass(&mut out, s, false, true);
                let plain = pay_pass(&mut out.clone(), s, false, false).1;
                assert_eq!(total.to_bits(), plain.to_bits());
                assert!(seg.is_some());
                let mut lanes = [0.0; 4];
                for i in 0..n {
                    let (c, f, u) = (out.claim[i], out.floor[i], out.cap[i]);
                    let raw = if c > 0.0 { s * c } else { 0.0 };
                    let x = f.max(raw.min(u));
                    assert_eq!(out.x[i].to_bits(), x.to_bits(), "n {n} s {s} region {i}");
                    lanes[crate::simd::lane_of(i, n)] += x;
                    assert_eq!(out.floor_binds[i], f > (s * c).min(u), "floor flag {i}");
                    assert_eq!(out.cap_binds[i], u >= f && u < s * c, "cap flag {i}");
                }
                assert_eq!(total.to_bits(), crate::simd::reduce(lanes).to_bits());
                if n == 203 {
                    // The case exercises both kinds of binding.
                    assert!(out.floor_binds.iter().any(|&b| b));
                    assert!(out.cap_binds.iter().any(|&b| b));
                }
            }
        }
    }

    /// Three regions with a fiscal gap of 10, 20 and 30, no protected areas.
    fn regions() -> RegionData {
        let mut d = RegionData::zeros(3);
        d.col_mut(Column::StdRevenue)
            .copy_from_slice(&[10.0, 20.0, 30.0]);
        d.col_mut(Column::StdExpenditure)
            .copy_from_slice(&[20.0, 40.0, 60.0]);
        d.col_mut(Column::AreaKm2)
            .copy_from_slice(&[100.0, 100.0, 100.0]);
        d.col_mut(Column::RedlineKm2)
            .copy_from_slice(&[10.0, 50.0, 90.0]);
        d.col_mut(Column::PriorAllocation)
            .copy_from_slice(&[10.0, 20.0, 30.0]);
        d
    }

    fn key_only() -> Formula {
        let mut f = Formula::empty("k");
        f.key = Some(KeySubsidy {
            c0: 1.0,
            eco_weight: 0.0,
            redline_uplift: 0.0,
            bands: Vec::new(),
        });
        f
    }

    fn fixed(total: f64) -> Budget {
        Budget {
            total: Some(total),
            mode: BudgetMode::Fixed,
            on_infeasible: OnInfeasible::Error,
        }
    }

    fn open() -> Budget {
        Budget {
            total: None,
            mode: BudgetMode::Open,
            on_infeasible: OnInfeasible::Error,
        }
    }

    fn run(f: &Formula, d: &RegionData, b: &Budget) -> Result<Allocation> {
        let mut out = Allocation::default();
        allocate(f, d, b, &mut Workspace::default(), &mut out)?;
        Ok(out)
    }

    /// Fuzz regression (allocator target): a budget of 7e-301 against claims near 1e300
    /// underflowed the scale to 0 and paid nobody.
    #[test]
    fn tiny_budget_against_huge_claims_still_sums_to_the_budget() {
        let mut d = regions();
        d.col_mut(Column::StdExpenditure)
            .copy_from_slice(&[6e299, 1e300, 40.0]);
        let total = 7.009803921568627e-301;
        let out = run(&key_only(), &d, &fixed(total)).unwrap();
        let sum: f64 = out.x.iter().sum();
        assert!(out.x.iter().all(|x| x.is_finite() && *x >= 0.0));
        assert_relative_eq!(sum, total, max_relative = 1e-9);
        assert!(out.x[1] > out.x[0], "shares follow the claims: {:?}", out.x);
    }

    #[test]
    fn fixed_mode_scales_claims_to_the_budget() {
        let a = run(&key_only(), &regions(), &fixed(120.0)).unwrap();
        assert_relative_eq!(a.scale, 2.0, epsilon = 1e-12);
        assert_relative_eq!(a.x[0], 20.0, epsilon = 1e-12);
        assert_relative_eq!(a.x[2], 60.0, epsilon = 1e-12);
        assert_relative_eq!(a.total, 120.0, epsilon = 1e-12);
        assert!(a.cap_binds.iter().all(|b| !b) && a.floor_binds.iter().all(|b| !b));
    }

    #[test]
    fn open_mode_pays_the_claims() {
        let a = run(&key_only(), &regions(), &open()).unwrap();
        assert_relative_eq!(a.scale, 1.0);
        assert_relative_eq!(a.total, 60.0);
        assert_relative_eq!(a.x[1], 20.0);
    }

    #[test]
    fn floors_and_caps_bind_in_fixed_mode() {
        let mut f = key_only();
        f.floor = Some(Floor {
            h: 1.0,
            waived_on_violation: true,
        });
        f.cap = Some(0.1);
        let mut d = regions();
        d.hold_harmless[0] = true;
        d.col_mut(Column::PriorAllocation)
            .copy_from_slice(&[40.0, 20.0, 0.0]);
        // Region 0: floor 40 above its scaled claim; region 1: cap 22; region 2 uncapped.
        let a = run(&f, &d, &fixed(100.0)).unwrap();
        assert_relative_eq!(a.x[0], 40.0);
        assert_relative_eq!(a.x[1], 22.0);
        assert_relative_eq!(a.x[2], 38.0, epsilon = 1e-12);
        assert!(a.floor_binds[0] && !a.floor_binds[1] && !a.floor_binds[2]);
        assert!(!a.cap_binds[0] && a.cap_binds[1] && !a.cap_binds[2]);
        // Cap only where prior > 0.
        assert!(a.cap[2].is_infinite());
        assert_relative_eq!(a.total, 100.0, epsilon = 1e-12);
    }

    #[test]
    fn everyone_capped_leaves_money_unallocated() {
        let mut f = key_only();
        f.cap = Some(0.0);
        let a = run(&f, &regions(), &fixed(100.0)).unwrap();
        assert_relative_eq!(a.total, 60.0);
        assert_relative_eq!(a.cap_unallocated, 40.0);
        assert_relative_eq!(a.unallocated(), 40.0);
        assert!(a.cap_binds.iter().all(|&b| b));
    }

    #[test]
    fn infeasible_floors_error_or_scale() {
        let mut f = key_only();
        f.floor = Some(Floor {
            h: 1.0,
            waived_on_violation: true,
        });
        let mut d = regions();
        d.hold_harmless = vec![true, true, false];
        // Floors 10 + 20 = 30 > 24.
        match run(&f, &d, &fixed(24.0)) {
            Err(Error::InfeasibleFloors {
                floors,
                budget,
                shortfall,
                ..
            }) => {
                assert_relative_eq!(floors, 30.0);
                assert_relative_eq!(budget, 24.0);
                assert_relative_eq!(shortfall, 6.0);
            }
            other => panic!("expected InfeasibleFloors, got {other:?}"),
        }
        let mut b = fixed(24.0);
        b.on_infeasible = OnInfeasible::ScaleFloors;
        let a = run(&f, &d, &b).unwrap();
        assert!(a.floors_scaled);
        assert_relative_eq!(a.scale, 0.8);
        assert_relative_eq!(a.x[0], 8.0);
        assert_relative_eq!(a.x[1], 16.0);
        assert_relative_eq!(a.x[2], 0.0);
        assert_relative_eq!(a.total, 24.0);
    }

    #[test]
    fn floor_waived_on_grade_or_damage() {
        let mut f = key_only();
        f.floor = Some(Floor {
            h: 2.0,
            waived_on_violation: true,
        });
        f.quality = Some(Quality {
            thresholds: [1.0, 2.0, 3.0],
            reward: [0.0; 3],
            deduction: [0.0; 3],
        });
        let mut d = regions();
        d.hold_harmless = vec![true, true, true];
        d.col_mut(Column::EqiChange)
            .copy_from_slice(&[-1.0, -0.999, 0.0]);
        d.col_mut(Column::DamageIndex)
            .copy_from_slice(&[0.0, 0.0, 0.01]);
        let a = run(&f, &d, &open()).unwrap();
        // Region 0 graded slightly worse; region 2 has D > 0; region 1 keeps its floor.
        assert_eq!(a.floor_waived, vec![true, false, true]);
        assert_relative_eq!(a.floor[0], 0.0);
        assert_relative_eq!(a.floor[1], 40.0);
        assert_relative_eq!(a.floor[2], 0.0);
        assert_relative_eq!(a.x[1], 40.0);
        assert!(a.floor_binds[1]);
        // Without the waiver the floors stand.
        f.floor = Some(Floor {
            h: 2.0,
            waived_on_violation: false,
        });
        let a = run(&f, &d, &open()).unwrap();
        assert!(a.floor_waived.iter().all(|&w| !w));
        assert_relative_eq!(a.x[0], 20.0);
        assert_relative_eq!(a.x[2], 60.0);
    }

    #[test]
    fn quality_and_reverse_linkage_scale_the_claim() {
        let mut f = key_only();
        f.quality = Some(Quality {
            thresholds: [1.0, 2.0, 3.0],
            reward: [0.1, 0.2, 0.3],
            deduction: [0.1, 0.5, 1.0],
        });
        f.reverse_linkage = Some(ReverseLinkage {
            lambda: 0.5,
            max_cut: 0.2,
        });
        let mut d = regions();
        d.col_mut(Column::EqiChange)
            .copy_from_slice(&[3.0, -2.0, -3.0]);
        d.col_mut(Column::DamageIndex)
            .copy_from_slice(&[0.2, 0.4, 1.0]);
        let a = run(&f, &d, &open()).unwrap();
        // cut = min(0.2, 0.5·D): 0.1 (below max_cut), 0.2 (at it), 0.2 (capped at it).
        assert_relative_eq!(a.cut[0], 0.1);
        assert_relative_eq!(a.cut[1], 0.2);
        assert_relative_eq!(a.cut[2], 0.2);
        assert_relative_eq!(a.x[0], 10.0 * 1.3 * 0.9);
        assert_relative_eq!(a.x[1], 20.0 * 0.5 * 0.8);
        // A deduction of 1.0 removes the allocation entirely.
        assert_relative_eq!(a.x[2], 0.0);
        assert_eq!(a.grade[2], Grade::MarkedlyWorse);
    }

    #[test]
    fn zero_weight_pool_goes_to_nobody() {
        let mut f = key_only();
        f.protected_areas = Some(ProtectedAreaPool {
            size: PoolSize::Share(0.25),
            w_area: 1.0,
            w_count: 0.0,
            w_score: 0.0,
        });
        f.redline = Some(RedlinePool {
            size: PoolSize::Amount(10.0),
            gamma: 1.0,
            threshold: 0.5,
        });
        let a = run(&f, &regions(), &fixed(100.0)).unwrap();
        assert_relative_eq!(a.pool_unallocated, 25.0);
        assert!(a.pa.iter().all(|&p| p == 0.0));
        // RL weights 10, 50, 90·1.4 = 126.
        assert_relative_eq!(a.rl[2], 10.0 * 126.0 / 186.0, epsilon = 1e-12);
        assert_relative_eq!(a.total, 75.0, epsilon = 1e-12);
        assert_relative_eq!(a.total + a.unallocated(), 100.0, epsilon = 1e-12);
    }

    #[test]
    fn share_pools_without_total_hold_nothing() {
        let mut f = key_only();
        f.redline = Some(RedlinePool {
            size: PoolSize::Share(0.5),
            gamma: 0.0,
            threshold: 0.0,
        });
        let a = run(&f, &regions(), &open()).unwrap();
        assert!(a.rl.iter().all(|&p| p == 0.0));
        assert_relative_eq!(a.total, 60.0);
    }

    #[test]
    fn broken_region_data_is_an_error_not_a_panic() {
        let mut d = regions();
        d.tags.pop();
        assert!(matches!(
            run(&key_only(), &d, &open()),
            Err(Error::Runtime(_))
        ));
    }

    #[test]
    fn steady_state_reuses_buffers() {
        let mut f = key_only();
        f.cap = Some(0.1);
        f.redline = Some(RedlinePool {
            size: PoolSize::Share(0.1),
            gamma: 1.0,
            threshold: 0.2,
        });
        let d = regions();
        let mut ws = Workspace::default();
        let mut out = Allocation::default();
        allocate(&f, &d, &fixed(60.0), &mut ws, &mut out).unwrap();
        let ptrs = (out.x.as_ptr(), out.claim.as_ptr(), ws.events.as_ptr());
        let first = out.clone();
        allocate(&f, &d, &fixed(60.0), &mut ws, &mut out).unwrap();
        assert_eq!(
            ptrs,
            (out.x.as_ptr(), out.claim.as_ptr(), ws.events.as_ptr())
        );
        assert_eq!(first, out);
    }
}
