//! Paying a formula's claims under its budget (docs/model.md §1.5): the budget scale, the
//! cases the Monte Carlo kernel hands to the point allocator (floors above the budget,
//! saturated caps, a scale that under- or overflows), and the payment pass of
//! [`super::rules::pay`] over every region.

use super::allocate::Allocation;
use super::budget::{Segment, SegmentLanes, SolveStatus, Terms, solve_scale_from, warm_step};
use super::rules::{self, Tail};
use crate::error::{Error, Result};
use crate::model::formula::{Budget, BudgetMode, Formula, OnInfeasible};
use crate::simd::{F64x4, LANES};

/// Step 4 of [`super::allocate()`]: the budget scale and the payments, into `out`, whose
/// claims, floors and caps are set. `claims` is Σ of the scaled claims (the solve's
/// starting point only).
pub(super) fn solve_and_pay(
    formula: &Formula,
    budget: &Budget,
    claims: f64,
    events: &mut Vec<(f64, f64)>,
    out: &mut Allocation,
) -> Result<()> {
    let mut saturated = false;
    let mut exact_target = None;
    // Σ x when the solve's confirming pass already paid everyone at the final scale.
    let mut paid = None;
    if budget.mode == BudgetMode::Fixed {
        let target = (budget.total.unwrap_or(0.0) - out.pool_unallocated).max(0.0);
        // Newton steps from the unconstrained scale T'/ΣS' (streaming passes, which keep
        // the cost linear), with the same bits as the quickselect they fall back to. The
        // first step is usually the answer: the payment pass at its scale confirms it,
        // which saves a pass over claims, floors and caps.
        let fixed: f64 = out.fixed.iter().sum();
        let mut from = (target - fixed) / claims;
        let terms = Terms::new(&out.scaled, &out.fixed, &out.floor, &out.cap);
        let confirmed = warm_step(terms, target, from).and_then(|step| {
            let (seg, total) = pay_pass(out, step.scale, false, true);
            from = step.scale;
            step.confirm(seg?).map(|sol| (sol, total))
        });
        let sol = match confirmed {
            Some((sol, total)) => {
                paid = Some(total);
                sol
            }
            None => {
                let terms = Terms::new(&out.scaled, &out.fixed, &out.floor, &out.cap);
                solve_scale_from::<F64x4>(terms, target, from, events)
            }
        };
        match sol.status {
            SolveStatus::FloorsExceedTarget => {
                return scale_floors(formula, budget, target, out);
            }
            SolveStatus::Exact => {
                out.scale = sol.scale;
                exact_target = Some(target);
            }
            SolveStatus::Saturated => {
                out.scale = sol.scale;
                out.cap_unallocated = sol.unallocated(target);
                saturated = true;
                exact_target = Some(target);
            }
        }
    }
    out.total = match paid {
        Some(total) => total,
        None => pay_pass(out, out.scale, saturated, false).1,
    };
    if let Some(target) = exact_target {
        rescue_underflowed_scale(out, target);
    }
    Ok(())
}

/// What is owed at a key-subsidy scale of 0 (floors, and the unscaled amounts of the
/// regions no floor holds) exceeds the budget target: an error that names what makes up
/// the shortfall, or (`scale_floors`) those amounts paid pro rata.
fn scale_floors(
    formula: &Formula,
    budget: &Budget,
    target: f64,
    out: &mut Allocation,
) -> Result<()> {
    // Each region's payment at s = 0: its floor, or its unscaled amount up to its cap.
    let at0: Vec<f64> = (0..out.x.len())
        .map(|i| super::budget::pay_one(0.0, out.fixed[i], out.floor[i], out.cap[i], 0.0))
        .collect();
    if budget.on_infeasible == OnInfeasible::Error {
        let owed = super::infeasible::Owed::of(out, &at0);
        return Err(Error::InfeasibleFloors {
            formula: formula.name.clone(),
            floors: owed.floors,
            unscaled: owed.unscaled,
            parts: owed.parts,
            budget: target,
            shortfall: owed.floors + owed.unscaled - target,
        });
    }
    let owed_total: f64 = at0.iter().sum();
    out.scale = target / owed_total;
    out.floors_scaled = true;
    // Shares a_i / Σa from ratios to the largest amount, so a tiny budget against huge
    // floors does not underflow to 0.
    let largest = at0.iter().copied().fold(0.0_f64, f64::max);
    let weight: f64 = at0.iter().map(|a| a / largest).sum();
    for (i, &a) in at0.iter().enumerate() {
        out.x[i] = a / largest / weight * target;
        out.floor_binds[i] = out.floor[i] > 0.0 && out.floor[i] >= a;
        out.cap_binds[i] = false;
    }
    out.total = crate::simd::sum4(&out.x);
    Ok(())
}

/// The payment pass of [`super::allocate()`] at scale `s` ([`rules::pay`]): `x`, `floor_binds`
/// and `cap_binds` (with `saturated`, every region with a positive claim that is paid its
/// cap counts as capped), four regions at a time and then the tail. Returns `Σ x` in the
/// lanes of [`crate::simd::sum4`], and with `segment` the sums of the solver's segment at
/// `s` from the same pass ([`SegmentLanes`]).
pub(super) fn pay_pass(
    out: &mut Allocation,
    s: f64,
    saturated: bool,
    segment: bool,
) -> (Option<Segment>, f64) {
    let n = out.x.len();
    let mut seg = SegmentLanes::<F64x4>::new();
    let mut total = F64x4::splat(0.0);
    let (sv, zero) = (F64x4::splat(s), F64x4::splat(0.0));
    let pay = |c: F64x4, b: F64x4, f: F64x4, u: F64x4| {
        let p = rules::pay(c, b, f, u, sv);
        let sat = if saturated {
            c.gt(zero) & u.ge(f)
        } else {
            zero.lt(zero)
        };
        (p, (p.cap_binds | sat).to_u8(), p.floor_binds.to_u8())
    };
    let tail = Tail::of(n);
    for i in (0..tail.start).step_by(LANES) {
        let r = i..i + LANES;
        let (c, b, f, u) = (
            F64x4::load(&out.scaled[r.clone()]),
            F64x4::load(&out.fixed[r.clone()]),
            F64x4::load(&out.floor[r.clone()]),
            F64x4::load(&out.cap[r.clone()]),
        );
        let (p, cb, fb) = pay(c, b, f, u);
        if segment {
            seg.add4(c, b, f, u, &p);
        }
        p.x.store(&mut out.x[r.clone()]);
        total = total + p.x;
        for k in 0..LANES {
            out.floor_binds[i + k] = fb[k] != 0;
            out.cap_binds[i + k] = cb[k] != 0;
        }
    }
    let mut lanes = total.to_array();
    let tail_sums = (tail.len > 0).then(|| {
        let (c, b, f, u) = (
            tail.load::<F64x4>(&out.scaled),
            tail.load(&out.fixed),
            tail.load(&out.floor),
            tail.load(&out.cap),
        );
        let (p, cb, fb) = pay(c, b, f, u);
        tail.store(p.x, &mut out.x);
        tail.add_to_lane0(p.x, &mut lanes);
        for k in 0..tail.len {
            out.floor_binds[tail.start + k] = fb[k] != 0;
            out.cap_binds[tail.start + k] = cb[k] != 0;
        }
        ([c, b, f, u], p)
    });
    let seg = segment.then(|| seg.finish(tail.len, tail_sums.as_ref().map(|(v, p)| (*v, p))));
    (seg, crate::simd::reduce(lanes))
}

/// When scaled claims and the budget are more than ~1e308 apart, `s = T/Σc` under- or
/// overflows and `s·c_i + b_i` no longer sums to the target: T = 7e-301 against claims
/// near 1e300 would pay everyone 0, and a subnormal claim beside a budget near 1 would
/// overflow `s` to +∞ and pay that region its whole cap, over the budget. Then the regions
/// that no floor holds get their unscaled amounts and share what is left in proportion to
/// their scaled claims, capped, by water-filling: shares are computed as ratios
/// `c_i/max c`, so nothing under- or overflows. A no-op in ordinary ranges.
// Indices walk several parallel per-region vectors of `out` at once.
#[allow(clippy::needless_range_loop)]
fn rescue_underflowed_scale(out: &mut Allocation, target: f64) {
    if (out.total - (target - out.cap_unallocated)).abs() <= 1e-12 * target {
        return;
    }
    let n = out.x.len();
    let mut rest = target;
    let mut free = vec![false; n];
    for i in 0..n {
        if out.scaled[i] > 0.0 && !out.floor_binds[i] {
            free[i] = true;
            out.cap_binds[i] = false;
            rest -= out.fixed[i];
        } else {
            rest -= out.x[i];
        }
    }
    // Each pass caps at least one more region or stops, so n passes suffice.
    for _ in 0..=n {
        let largest = (0..n)
            .filter(|&i| free[i])
            .map(|i| out.scaled[i])
            .fold(0.0_f64, f64::max);
        if !(largest > 0.0 && largest.is_finite()) {
            break;
        }
        let weight: f64 = (0..n)
            .filter(|&i| free[i])
            .map(|i| out.scaled[i] / largest)
            .sum();
        let share = rest.max(0.0);
        let mut capped = false;
        for i in 0..n {
            if free[i] {
                out.x[i] = out.fixed[i] + out.scaled[i] / largest / weight * share;
                if out.x[i] > out.cap[i] {
                    capped = true;
                }
            }
        }
        if !capped {
            break;
        }
        for i in 0..n {
            if free[i] && out.x[i] > out.cap[i] {
                free[i] = false;
                out.x[i] = out.cap[i];
                out.cap_binds[i] = true;
                rest -= out.cap[i] - out.fixed[i];
            }
        }
    }
    out.total = crate::simd::sum4(&out.x);
    // Money left only when every region is capped (docs/model.md §1.5).
    out.cap_unallocated = if (0..n).any(|i| free[i]) {
        0.0
    } else {
        (target - out.total).max(0.0)
    };
}
