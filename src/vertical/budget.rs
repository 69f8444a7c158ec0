//! The exact budget solve with floors and caps (docs/model.md §1.5, fixed mode).
//!
//! Given scaled claims `c_i ≥ 0`, unscaled amounts `b_i ≥ 0`, floors `f_i ≥ 0` and caps
//! `u_i` (+∞ for none), each region is paid `x_i(s) = max(f_i, min(s·c_i + b_i, u_i))`:
//! the floor wins when it exceeds the cap. Under the default budget rule only the key
//! subsidy is scaled (`c = K·m`, `b = C·m`); under `scale = "all"` every component is
//! (`c = S'`, `b = 0`). The budget total `g(s) = Σ x_i(s)` is continuous, non-decreasing
//! and piecewise linear in the scale `s ≥ 0`, with breakpoints at `(f_i − b_i) / c_i` (the
//! region leaves its floor) and `(u_i − b_i) / c_i` (it reaches its cap). [`solve_scale`] finds the segment that contains the
//! target by quickselect on the breakpoints (expected linear time; a full sort each draw
//! dominated Monte Carlo profiles), solves the linear equation there, and then takes one
//! Newton step on the exact `g` to remove the rounding of the search. The result satisfies
//! `|g(s) − target| ≤ 1e-9 · target` (in practice a few ulps times n).
//!
//! Breakpoints at `s = 0` (no floor) and at `s = ∞` (no cap) are never stored, so the
//! search covers only the regions whose floors or caps can bind.

use super::rules::{self, Pay, Tail};
use crate::simd::{F64x4, LANES, Lanes, Vector};

/// How [`solve_scale`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolveStatus {
    /// `g(scale) = target` up to rounding.
    Exact,
    /// Even `s → ∞` cannot reach the target (every region with a positive claim is capped,
    /// or all claims are zero): every region is paid its maximum and `target − paid_total`
    /// is left over.
    Saturated,
    /// What is owed at `s = 0` (the floors, and the unscaled amounts of the regions no floor
    /// holds) exceeds the target; `scale` is 0 and `paid_total` is that sum. The caller
    /// decides between an error and scaling the floors.
    FloorsExceedTarget,
}

/// Result of [`solve_scale`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSolution {
    /// The scale s (the smallest scale that pays every region its maximum when saturated).
    pub scale: f64,
    /// `Σ x_i(scale)`.
    pub paid_total: f64,
    /// `Σ f_i`.
    pub floors_total: f64,
    pub status: SolveStatus,
}

impl BudgetSolution {
    /// Target money left unpaid (positive only when saturated).
    pub fn unallocated(&self, target: f64) -> f64 {
        match self.status {
            SolveStatus::Saturated => (target - self.paid_total).max(0.0),
            SolveStatus::Exact | SolveStatus::FloorsExceedTarget => 0.0,
        }
    }
}

/// The payment terms of every region, read pairwise up to the shortest slice: region `i`
/// is paid `max(floor_i, min(s·scaled_i + fixed_i, cap_i))` at scale `s`.
#[derive(Debug, Clone, Copy)]
pub struct Terms<'a> {
    /// The claims the budget scale multiplies.
    pub scaled: &'a [f64],
    /// The amounts paid as stated, whatever the scale.
    pub fixed: &'a [f64],
    pub floor: &'a [f64],
    pub cap: &'a [f64],
}

impl<'a> Terms<'a> {
    /// The terms cut to their common length.
    pub fn new(scaled: &'a [f64], fixed: &'a [f64], floor: &'a [f64], cap: &'a [f64]) -> Self {
        let n = scaled
            .len()
            .min(fixed.len())
            .min(floor.len())
            .min(cap.len());
        Terms {
            scaled: &scaled[..n],
            fixed: &fixed[..n],
            floor: &floor[..n],
            cap: &cap[..n],
        }
    }

    pub fn len(&self) -> usize {
        self.scaled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scaled.is_empty()
    }

    /// The four terms of the regions `at` in lanes.
    #[inline(always)]
    fn lanes<V: Vector>(&self, at: Span) -> [V; 4] {
        match at {
            Span::Chunk(i) => [
                V::load(&self.scaled[i..]),
                V::load(&self.fixed[i..]),
                V::load(&self.floor[i..]),
                V::load(&self.cap[i..]),
            ],
            Span::Tail(t) => [
                t.load(self.scaled),
                t.load(self.fixed),
                t.load(self.floor),
                t.load(self.cap),
            ],
        }
    }
}

/// Four regions of a pass: a chunk, or the zero-padded tail. (A `match`, not a closure:
/// closures are compiled without the AVX features of the copy that calls them, which
/// turns their vector operations into calls.)
#[derive(Clone, Copy)]
enum Span {
    Chunk(usize),
    Tail(Tail),
}

/// The payment of one region at scale `s` ([`rules::pay`] on one lane): `max(f, min(s·c +
/// b, u))`, the floor winning over the cap. Negative claims, amounts and floors, which
/// validation excludes, count as 0.
pub fn pay_one(claim: f64, fixed: f64, floor: f64, cap: f64, scale: f64) -> f64 {
    let v = F64x4::splat;
    rules::pay(
        v(claim.max(0.0)),
        v(fixed.max(0.0)),
        v(floor),
        v(cap),
        v(scale),
    )
    .x
    .to_array()[0]
}

/// The shape of `g(s) = Σ max(f_i, min(s·c_i + b_i, u_i))`, with its breakpoints
/// `(position, slope change)` in the caller's scratch vector: a region leaves its floor at
/// `(f − b)/c` and reaches its cap at `(u − b)/c`. Breakpoints at `s ≤ 0` (no floor above
/// the unscaled amount) and at `s = ∞` (no cap) are not stored.
struct Breakpoints {
    floors_total: f64,
    /// g(0): every region at its floor or its unscaled amount, whichever is higher.
    base: f64,
    /// Slope of g just after s = 0 (regions without a floor that are not capped at 0).
    slope0: f64,
    /// g(∞) when every positive claim has a finite cap.
    max_total: f64,
    /// Some positive claim has no cap.
    unbounded: bool,
}

impl Breakpoints {
    fn collect(t: Terms, scratch: &mut Vec<(f64, f64)>) -> Self {
        scratch.clear();
        let mut b = Breakpoints {
            floors_total: 0.0,
            base: 0.0,
            slope0: 0.0,
            max_total: 0.0,
            unbounded: false,
        };
        for i in 0..t.len() {
            let (c, fixed, f, u) = (
                t.scaled[i].max(0.0),
                t.fixed[i].max(0.0),
                t.floor[i].max(0.0),
                t.cap[i],
            );
            b.floors_total += f;
            let at0 = f.max(fixed.min(u));
            b.base += at0;
            if c > 0.0 && f <= u && fixed < u {
                let lo = (f - fixed) / c;
                if lo > 0.0 {
                    scratch.push((lo, c));
                } else {
                    b.slope0 += c;
                }
                if u.is_finite() {
                    // A tiny claim can overflow (u − b)/c; any finite stand-in keeps the
                    // order.
                    let hi = ((u - fixed) / c).min(f64::MAX);
                    scratch.push((hi, -c));
                    b.max_total += u;
                } else {
                    b.unbounded = true;
                }
            } else {
                b.max_total += at0;
            }
        }
        b
    }
}

/// Find `s ≥ 0` with `Σ max(f_i, min(s·c_i + b_i, u_i)) = target` exactly (see the module
/// docs).
///
/// `scratch` holds the breakpoints `(position, slope change)`; pass the same vector on
/// every call to avoid allocation. Never panics; a non-finite target is treated as
/// unreachable.
pub fn solve_scale(t: Terms, target: f64, scratch: &mut Vec<(f64, f64)>) -> BudgetSolution {
    let Breakpoints {
        floors_total,
        base,
        slope0,
        max_total,
        unbounded,
    } = Breakpoints::collect(t, scratch);
    if base > target {
        return BudgetSolution {
            scale: 0.0,
            paid_total: base,
            floors_total,
            status: SolveStatus::FloorsExceedTarget,
        };
    }

    if !target.is_finite() || (!unbounded && max_total <= target) {
        let scale = scratch.iter().map(|&(p, _)| p).fold(0.0, f64::max);
        return BudgetSolution {
            scale,
            paid_total: paid_total(t, scale),
            floors_total,
            status: SolveStatus::Saturated,
        };
    }

    // Find the last breakpoint p with g(p) < target by quickselect: g(s) =
    // base + s·(slope0 + Σ_{p_j<s} d_j) − Σ_{p_j<s} d_j·p_j, so (a, b) = (Σ d_j, Σ d_j·p_j)
    // over the breakpoints already known to lie left of the answer gives g at any pivot
    // from one pass over the undecided ones. Each round halves the undecided range in
    // expectation: linear time overall instead of a sort.
    let (mut a, mut b) = (0.0, 0.0);
    let mut s_left = 0.0;
    let mut lo = 0;
    let mut hi = scratch.len();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let part = &mut scratch[lo..hi];
        let (left, &mut (p, d), _) =
            part.select_nth_unstable_by(mid - lo, |x, y| x.0.total_cmp(&y.0));
        let (mut la, mut lb) = (0.0, 0.0);
        for &(q, e) in left.iter() {
            la += e;
            lb += e * q;
        }
        let g = base + p * (slope0 + a + la) - (b + lb);
        if g < target {
            // The pivot and everything left of it lie left of the answer.
            a += la + d;
            b += lb + d * p;
            s_left = p;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let slope = slope0 + a;
    let value = base + s_left * slope - b;
    // A breakpoint with g ≥ target exists, so the answer is on the segment after `s_left`.
    let bracketed = lo < scratch.len();
    let s0 = if slope > 0.0 && (bracketed || unbounded) {
        s_left + (target - value) / slope
    } else {
        // Only rounding can land here (target within ulps of g(∞)): pay the maximum.
        s_left
    };
    let s = refine(t, target, s0.max(0.0));
    let paid = paid_total(t, s);
    BudgetSolution {
        scale: s,
        paid_total: paid,
        floors_total,
        status: if !bracketed && !unbounded {
            SolveStatus::Saturated
        } else {
            SolveStatus::Exact
        },
    }
}

/// The scale of the segment that holds `s`: `(target − fixed) / slope` with the sums of
/// [`segment_at`], or `s` itself when no region moves with the scale there. Computing the
/// answer from the segment alone (instead of a Newton step from `s`) makes it depend only on
/// which regions are floored, capped or free, not on the point the search stopped at; the
/// quickselect of [`solve_scale`] and the warm start of [`solve_scale_from`] therefore give
/// the same bits.
fn refine(t: Terms, target: f64, s: f64) -> f64 {
    let seg = segment_at::<F64x4>(t, s);
    if seg.slope > 0.0 {
        ((target - seg.fixed) / seg.slope).max(0.0)
    } else {
        s
    }
}

/// The linear piece of `g` through scale `s`: `g(t) = fixed + t · slope` for every `t` in
/// the segment that holds `s`. Built by [`segment_at`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Money of the regions whose payment does not move with the scale at `s` (on their
    /// floor, on their cap, or with no positive claim), and the unscaled amounts of those
    /// that do.
    fixed: f64,
    /// `Σ c_i` over the regions strictly between floor and cap at `s`.
    slope: f64,
    /// `Σ f_i` (floors below zero count as 0).
    floors: f64,
}

impl Segment {
    /// Bitwise equality: two evaluations that classified every region alike.
    fn same(&self, o: &Segment) -> bool {
        self.fixed.to_bits() == o.fixed.to_bits() && self.slope.to_bits() == o.slope.to_bits()
    }

    /// The scale at which this segment's line reaches `target`, if it is a usable Newton
    /// step (positive and finite, the floors below the target, some region free). When
    /// the segment at the returned scale is [`same`](Self::same) as this one, it is the
    /// exact answer.
    fn step(&self, target: f64) -> Option<f64> {
        let usable = self.slope > 0.0 && self.floors <= target && target.is_finite();
        if !usable {
            return None;
        }
        let next = (target - self.fixed) / self.slope;
        (next > 0.0 && next.is_finite()).then_some(next)
    }
}

/// [`Segment`] at scale `s ≥ 0`, in one branch-free pass: region `i` goes to lane
/// `i % LANES`, the last `n % LANES` regions to lane 0.
#[inline(always)]
fn segment_at<V: Vector>(t: Terms, s: f64) -> Segment {
    let mut lanes = SegmentLanes::<V>::new();
    let sv = V::splat(s);
    let tail = Tail::of(t.len());
    for i in (0..tail.start).step_by(LANES) {
        let [c, b, f, u] = t.lanes::<V>(Span::Chunk(i));
        lanes.add4(c, b, f, u, &rules::pay(c, b, f, u, sv));
    }
    let rest = if tail.len > 0 {
        let [c, b, f, u] = t.lanes::<V>(Span::Tail(tail));
        Some(([c, b, f, u], rules::pay(c, b, f, u, sv)))
    } else {
        None
    };
    lanes.finish(tail.len, rest.as_ref().map(|(v, p)| (*v, p)))
}

/// The sums of [`segment_at`] at one scale, for a caller's own pass over the regions (a
/// payment pass that also confirms a Newton step, see [`warm_step`]): regions in fours
/// through [`add4`](Self::add4), in order, then the last `n % 4` through
/// [`finish`](Self::finish). The same operations as `segment_at`, so the same bits.
#[derive(Debug, Clone, Copy)]
pub struct SegmentLanes<V: Vector = F64x4> {
    fixed: V,
    slope: V,
    floors: V,
}

impl<V: Vector> Default for SegmentLanes<V> {
    fn default() -> Self {
        SegmentLanes::new()
    }
}

impl<V: Vector> SegmentLanes<V> {
    pub fn new() -> Self {
        let zero = V::splat(0.0);
        SegmentLanes {
            fixed: zero,
            slope: zero,
            floors: zero,
        }
    }

    /// The terms of four regions (scaled claims `c`, unscaled amounts `b`, floors `f`,
    /// caps `u`, paid `p` at the segment's scale): the money of those whose payment does
    /// not move with the scale plus the unscaled amounts of those that do, the claims of
    /// those that do (strictly between floor and cap), and the floors.
    #[inline(always)]
    fn terms(c: V, b: V, f: V, u: V, p: &Pay<V>) -> [V; 3] {
        let zero = V::splat(0.0);
        let positive = c.gt(zero);
        let f = f.max_gt(zero);
        let free = positive & p.raw.gt(f) & p.raw.lt(u);
        [free.select(b, p.x), c.and(free), f]
    }

    /// Add four regions (scaled claims, unscaled amounts, floors, caps) paid `p` at the
    /// segment's scale.
    #[inline(always)]
    pub fn add4(&mut self, c: V, b: V, f: V, u: V, p: &Pay<V>) {
        let [a, b, d] = Self::terms(c, b, f, u, p);
        self.fixed = self.fixed + a;
        self.slope = self.slope + b;
        self.floors = self.floors + d;
    }

    /// The segment, after adding the first `len` lanes of the last regions (fewer than
    /// four, zero-padded) to lane 0 in region order.
    #[inline(always)]
    pub fn finish(self, len: usize, tail: Option<([V; 4], &Pay<V>)>) -> Segment {
        let mut sums = [
            self.fixed.to_array(),
            self.slope.to_array(),
            self.floors.to_array(),
        ];
        if let Some(([c, b, f, u], p)) = tail {
            for (sum, t) in sums.iter_mut().zip(Self::terms(c, b, f, u, p)) {
                for x in &t.to_array()[..len] {
                    sum[0] += x;
                }
            }
        }
        let [fixed, slope, floors] = sums.map(crate::simd::reduce);
        Segment {
            fixed,
            slope,
            floors,
        }
    }
}

/// The first Newton step of [`solve_scale_from`] from `start`, for a caller that confirms
/// it in a pass of its own ([`SegmentLanes`]), typically the payment pass at the step's
/// scale, instead of a separate pass over the regions. `None` where `solve_scale_from`
/// would take no step from `start`.
#[derive(Debug, Clone, Copy)]
pub struct WarmStep {
    seg: Segment,
    /// The scale the step lands on.
    pub scale: f64,
}

/// One pass at `start` and the Newton step from it (see [`WarmStep`]).
pub fn warm_step(t: Terms, target: f64, start: f64) -> Option<WarmStep> {
    if !(start.is_finite() && start > 0.0) {
        return None;
    }
    let seg = segment_at::<F64x4>(t, start);
    seg.step(target).map(|scale| WarmStep { seg, scale })
}

impl WarmStep {
    /// The exact solution, when `at` (the segment at [`scale`](Self::scale)) is the segment
    /// the step was computed from: the answer, and the bits, [`solve_scale_from`] gives.
    /// Otherwise `None`: call `solve_scale_from` (starting at `scale` saves a pass).
    pub fn confirm(&self, at: Segment) -> Option<BudgetSolution> {
        at.same(&self.seg).then_some(BudgetSolution {
            scale: self.scale,
            paid_total: at.fixed + self.scale * at.slope,
            floors_total: at.floors,
            status: SolveStatus::Exact,
        })
    }
}

/// Most segments [`solve_scale_from`] visits before it hands over to [`solve_scale`].
pub const WARM_START_STEPS: usize = 8;

/// [`solve_scale`] warm-started at scale `start` (for example the point estimate's scale,
/// when claims move a little from draw to draw): Newton steps on the piecewise-linear `g`,
/// each one pass over the regions, until a step lands in the segment it was computed from.
/// That answer is exact and, since it is computed from the segment alone, has the same bits
/// as [`solve_scale`]'s. Falls back to [`solve_scale`] (same result) when `start` is not a
/// positive number, when no region moves with the scale, or after [`WARM_START_STEPS`]
/// segments; saturated and infeasible budgets always end there.
#[inline(always)]
pub fn solve_scale_from<V: Vector>(
    t: Terms,
    target: f64,
    start: f64,
    scratch: &mut Vec<(f64, f64)>,
) -> BudgetSolution {
    if start.is_finite() && start > 0.0 {
        let mut seg = segment_at::<V>(t, start);
        for _ in 0..WARM_START_STEPS {
            let Some(next) = seg.step(target) else {
                break;
            };
            let at = segment_at::<V>(t, next);
            if at.same(&seg) {
                return BudgetSolution {
                    scale: next,
                    paid_total: at.fixed + next * at.slope,
                    floors_total: at.floors,
                    status: SolveStatus::Exact,
                };
            }
            seg = at;
        }
    }
    solve_scale(t, target, scratch)
}

/// `Σ x_i(scale)`, summed in region order.
pub fn paid_total(t: Terms, scale: f64) -> f64 {
    let (sv, zero) = (F64x4::splat(scale), F64x4::splat(0.0));
    let pay = |[c, b, f, u]: [F64x4; 4]| rules::pay(c.max_gt(zero), b.max_gt(zero), f, u, sv).x;
    let mut total = 0.0;
    let tail = Tail::of(t.len());
    for i in (0..tail.start).step_by(LANES) {
        for v in pay(t.lanes(Span::Chunk(i))).to_array() {
            total += v;
        }
    }
    if tail.len > 0 {
        for v in &pay(t.lanes(Span::Tail(tail))).to_array()[..tail.len] {
            total += v;
        }
    }
    total
}

#[cfg(test)]
mod tests;
