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
    /// The per-unit components, the general pools, then the agreement rewards, each per
    /// region, named by `classified_names` (`per_unit_<name>`, `pool_<name>`,
    /// `reward_<agreement>`).
    pub classified: Vec<Vec<f64>>,
    pub classified_names: Vec<String>,
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
    /// The part of S' the budget scale multiplies (`K·m` when only the key subsidy is
    /// scaled, else S'), and the part paid as stated (`C·m`, or 0): a region is paid
    /// `clamp(s · scaled + fixed, f, u)`.
    pub scaled: Vec<f64>,
    pub fixed: Vec<f64>,
    /// `K · (1 − cut)` and `C · (1 − cut)` (or `S · (1 − cut)` and 0): the money a quality
    /// rate moves is `(net · s + net_fixed) · q`.
    pub net: Vec<f64>,
    pub net_fixed: Vec<f64>,
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

    /// The components the default budget rule pays as stated, by name, in the order they
    /// enter the claim.
    pub fn unscaled_components(&self) -> Vec<(String, &[f64])> {
        let mut out = vec![
            ("protected-area pool".to_string(), &self.pa[..]),
            ("red-line pool".to_string(), &self.rl[..]),
            ("guidance".to_string(), &self.guidance[..]),
            ("rangers".to_string(), &self.rangers[..]),
        ];
        for (name, v) in self.classified_names.iter().zip(&self.classified) {
            let label = if let Some(n) = name.strip_prefix("per_unit_") {
                format!("per-unit '{n}'")
            } else if let Some(n) = name.strip_prefix("pool_") {
                format!("pool '{n}'")
            } else if let Some(n) = name.strip_prefix("reward_") {
                format!("reward for agreement '{n}'")
            } else {
                name.clone()
            };
            out.push((label, &v[..]));
        }
        out
    }

    /// For tests: an allocation that paid each region its key subsidy `x`, at scale 1,
    /// with no other component, rate, cut, floor or cap.
    #[cfg(test)]
    pub(crate) fn paid(x: &[f64]) -> Allocation {
        let n = x.len();
        Allocation {
            key: x.to_vec(),
            pa: vec![0.0; n],
            rl: vec![0.0; n],
            guidance: vec![0.0; n],
            rangers: vec![0.0; n],
            q: vec![0.0; n],
            cut: vec![0.0; n],
            claim: x.to_vec(),
            scaled: x.to_vec(),
            fixed: vec![0.0; n],
            net: x.to_vec(),
            net_fixed: vec![0.0; n],
            x: x.to_vec(),
            floor_binds: vec![false; n],
            cap_binds: vec![false; n],
            scale: 1.0,
            total: x.iter().sum(),
            ..Allocation::default()
        }
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
    /// Σ of the scaled claims, in region order (the budget solve's starting point only).
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
            (&mut o.scaled, lanes(c.scaled)),
            (&mut o.fixed, lanes(c.fixed)),
            (&mut o.net, lanes(c.net)),
            (&mut o.net_fixed, lanes(c.net_fixed)),
            (&mut o.floor, lanes(c.floor)),
        ];
        for (v, l) in vals {
            v[i..i + len].copy_from_slice(&l[..len]);
        }
        let (grade, waived) = (lanes(x.grade), c.waived.to_u8());
        for k in 0..len {
            o.grade[i + k] = grade_of_index(grade[k] as usize);
            o.floor_waived[i + k] = waived[k] != 0;
            let claim = o.scaled[i + k];
            self.claims += claim;
            if !(claim.is_finite() && o.fixed[i + k].is_finite()) && self.overflowed.is_none() {
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
        || regions.extra.iter().any(|c| c.len() != n)
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
        &mut out.scaled,
        &mut out.fixed,
        &mut out.net,
        &mut out.net_fixed,
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
    out.classified.clone_from(&prep.classified);
    out.classified_names.clear();
    out.classified_names.extend(
        (formula
            .per_unit
            .iter()
            .map(|c| format!("per_unit_{}", c.name)))
        .chain(formula.pools.iter().map(|p| format!("pool_{}", p.name)))
        .chain(
            formula
                .rewards
                .iter()
                .map(|r| format!("reward_{}", r.agreement.name)),
        ),
    );
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
mod tests;
