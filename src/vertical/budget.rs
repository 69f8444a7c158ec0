//! The exact budget solve with floors and caps (docs/model.md §1.5, fixed mode).
//!
//! Given claims `c_i ≥ 0`, floors `f_i ≥ 0` and caps `u_i` (+∞ for none), each region is
//! paid `x_i(s) = max(f_i, min(s·c_i, u_i))`: the floor wins when it exceeds the cap. The
//! budget total `g(s) = Σ x_i(s)` is continuous, non-decreasing and piecewise linear in the
//! scale `s ≥ 0`, with breakpoints at `f_i / c_i` (the region leaves its floor) and
//! `u_i / c_i` (it reaches its cap). [`solve_scale`] finds the segment that contains the
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
    /// The floors alone exceed the target; `scale` is 0 and `paid_total` is `Σ f`. The
    /// caller decides between an error and scaling the floors.
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

/// The payment of one region at scale `s` ([`rules::pay`] on one lane): `max(f, min(s·c,
/// u))`, the floor winning over the cap. Negative claims and floors, which validation
/// excludes, count as 0.
pub fn pay_one(claim: f64, floor: f64, cap: f64, scale: f64) -> f64 {
    let v = F64x4::splat;
    rules::pay(v(claim.max(0.0)), v(floor), v(cap), v(scale))
        .x
        .to_array()[0]
}

/// The shape of `g(s) = Σ max(f_i, min(s·c_i, u_i))`, with its breakpoints `(position,
/// slope change)` in the caller's scratch vector: a region leaves its floor at `f/c` and
/// reaches its cap at `u/c`. Breakpoints at `s = 0` (no floor) and at `s = ∞` (no cap)
/// are not stored.
struct Breakpoints {
    floors_total: f64,
    /// g(0): every region at its floor.
    base: f64,
    /// Slope of g just after s = 0 (regions without a floor that are not capped at 0).
    slope0: f64,
    /// g(∞) when every positive claim has a finite cap.
    max_total: f64,
    /// Some positive claim has no cap.
    unbounded: bool,
}

impl Breakpoints {
    fn collect(
        claims: &[f64],
        floors: &[f64],
        caps: &[f64],
        scratch: &mut Vec<(f64, f64)>,
    ) -> Self {
        scratch.clear();
        let mut b = Breakpoints {
            floors_total: 0.0,
            base: 0.0,
            slope0: 0.0,
            max_total: 0.0,
            unbounded: false,
        };
        for ((&c, &f), &u) in claims.iter().zip(floors).zip(caps) {
            let (c, f) = (c.max(0.0), f.max(0.0));
            b.floors_total += f;
            b.base += f;
            if c > 0.0 && f <= u {
                let lo = f / c;
                if lo > 0.0 {
                    scratch.push((lo, c));
                } else {
                    b.slope0 += c;
                }
                if u.is_finite() {
                    // A tiny claim can overflow u/c; any finite stand-in keeps the order.
                    let hi = (u / c).min(f64::MAX);
                    scratch.push((hi, -c));
                    b.max_total += u;
                } else {
                    b.unbounded = true;
                }
            } else {
                b.max_total += f;
            }
        }
        b
    }
}

/// Find `s ≥ 0` with `Σ max(f_i, min(s·c_i, u_i)) = target` exactly (see the module docs).
///
/// `claims`, `floors` and `caps` are read pairwise up to the shortest length. `scratch`
/// holds the breakpoints `(position, slope change)`; pass the same vector on every
/// call to avoid allocation. Never panics; a non-finite target is treated as unreachable.
pub fn solve_scale(
    claims: &[f64],
    floors: &[f64],
    caps: &[f64],
    target: f64,
    scratch: &mut Vec<(f64, f64)>,
) -> BudgetSolution {
    let Breakpoints {
        floors_total,
        base,
        slope0,
        max_total,
        unbounded,
    } = Breakpoints::collect(claims, floors, caps, scratch);
    if floors_total > target {
        return BudgetSolution {
            scale: 0.0,
            paid_total: floors_total,
            floors_total,
            status: SolveStatus::FloorsExceedTarget,
        };
    }

    if !target.is_finite() || (!unbounded && max_total <= target) {
        let scale = scratch.iter().map(|&(p, _)| p).fold(0.0, f64::max);
        return BudgetSolution {
            scale,
            paid_total: paid_total(claims, floors, caps, scale),
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
    let s = refine(claims, floors, caps, target, s0.max(0.0));
    let paid = paid_total(claims, floors, caps, s);
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
fn refine(claims: &[f64], floors: &[f64], caps: &[f64], target: f64, s: f64) -> f64 {
    let seg = segment_at::<F64x4>(claims, floors, caps, s);
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
    /// floor, on their cap, or with no positive claim).
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
fn segment_at<V: Vector>(claims: &[f64], floors: &[f64], caps: &[f64], s: f64) -> Segment {
    let n = claims.len().min(floors.len()).min(caps.len());
    let (claims, floors, caps) = (&claims[..n], &floors[..n], &caps[..n]);
    let mut lanes = SegmentLanes::<V>::new();
    let sv = V::splat(s);
    let tail = Tail::of(n);
    for i in (0..tail.start).step_by(LANES) {
        let r = i..i + LANES;
        let (c, f, u) = (
            V::load(&claims[r.clone()]),
            V::load(&floors[r.clone()]),
            V::load(&caps[r]),
        );
        lanes.add4(c, f, u, &rules::pay(c, f, u, sv));
    }
    // An `if`, not a closure: closures are compiled without the AVX features of the copy
    // that calls them, which turns their vector operations into calls.
    let rest = if tail.len > 0 {
        let (c, f, u) = (tail.load(claims), tail.load(floors), tail.load(caps));
        Some((c, f, u, rules::pay(c, f, u, sv)))
    } else {
        None
    };
    lanes.finish(tail.len, rest.as_ref().map(|(c, f, u, p)| (*c, *f, *u, p)))
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

    /// The terms of four regions (claims `c`, floors `f`, caps `u`, paid `p` at the
    /// segment's scale): the money of those whose payment does not move with the scale,
    /// the claims of those that do (strictly between floor and cap), and the floors.
    #[inline(always)]
    fn terms(c: V, f: V, u: V, p: &Pay<V>) -> [V; 3] {
        let zero = V::splat(0.0);
        let positive = c.gt(zero);
        let f = f.max_gt(zero);
        let raw = p.raw.and(positive);
        let free = raw.gt(f) & raw.lt(u);
        [free.select(zero, p.x), c.and(positive).and(free), f]
    }

    /// Add four regions paid `p` at the segment's scale.
    #[inline(always)]
    pub fn add4(&mut self, c: V, f: V, u: V, p: &Pay<V>) {
        let [a, b, d] = Self::terms(c, f, u, p);
        self.fixed = self.fixed + a;
        self.slope = self.slope + b;
        self.floors = self.floors + d;
    }

    /// The segment, after adding the first `len` lanes of the last regions (fewer than
    /// four, zero-padded) to lane 0 in region order.
    #[inline(always)]
    pub fn finish(self, len: usize, tail: Option<(V, V, V, &Pay<V>)>) -> Segment {
        let mut sums = [
            self.fixed.to_array(),
            self.slope.to_array(),
            self.floors.to_array(),
        ];
        if let Some((c, f, u, p)) = tail {
            for (sum, t) in sums.iter_mut().zip(Self::terms(c, f, u, p)) {
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
pub fn warm_step(
    claims: &[f64],
    floors: &[f64],
    caps: &[f64],
    target: f64,
    start: f64,
) -> Option<WarmStep> {
    if !(start.is_finite() && start > 0.0) {
        return None;
    }
    let seg = segment_at::<F64x4>(claims, floors, caps, start);
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
    claims: &[f64],
    floors: &[f64],
    caps: &[f64],
    target: f64,
    start: f64,
    scratch: &mut Vec<(f64, f64)>,
) -> BudgetSolution {
    if start.is_finite() && start > 0.0 {
        let mut seg = segment_at::<V>(claims, floors, caps, start);
        for _ in 0..WARM_START_STEPS {
            let Some(next) = seg.step(target) else {
                break;
            };
            let at = segment_at::<V>(claims, floors, caps, next);
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
    solve_scale(claims, floors, caps, target, scratch)
}

/// `Σ x_i(scale)`, summed in region order.
pub fn paid_total(claims: &[f64], floors: &[f64], caps: &[f64], scale: f64) -> f64 {
    let n = claims.len().min(floors.len()).min(caps.len());
    let (sv, zero) = (F64x4::splat(scale), F64x4::splat(0.0));
    let pay = |c: F64x4, f: F64x4, u: F64x4| rules::pay(c.max_gt(zero), f, u, sv).x;
    let mut total = 0.0;
    let tail = Tail::of(n);
    for i in (0..tail.start).step_by(LANES) {
        let r = i..i + LANES;
        let x = pay(
            F64x4::load(&claims[r.clone()]),
            F64x4::load(&floors[r.clone()]),
            F64x4::load(&caps[r]),
        );
        for v in x.to_array() {
            total += v;
        }
    }
    if tail.len > 0 {
        let x = pay(tail.load(claims), tail.load(floors), tail.load(caps));
        for v in &x.to_array()[..tail.len] {
            total += v;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const INF: f64 = f64::INFINITY;

    fn solve(c: &[f64], f: &[f64], u: &[f64], t: f64) -> (BudgetSolution, Vec<f64>) {
        let mut scratch = Vec::new();
        let sol = solve_scale(c, f, u, t, &mut scratch);
        let x = c
            .iter()
            .zip(f)
            .zip(u)
            .map(|((&c, &f), &u)| pay_one(c, f, u, sol.scale))
            .collect();
        (sol, x)
    }

    #[test]
    fn plain_proportional_scaling() {
        let (sol, x) = solve(&[1.0, 3.0], &[0.0, 0.0], &[INF, INF], 8.0);
        assert_eq!(sol.status, SolveStatus::Exact);
        assert_relative_eq!(sol.scale, 2.0);
        assert_relative_eq!(x[0], 2.0);
        assert_relative_eq!(x[1], 6.0);
    }

    #[test]
    fn floors_binding() {
        // Region 0 has a floor of 5 that proportional scaling (s = 1 → 1) would break.
        let (sol, x) = solve(&[1.0, 4.0, 5.0], &[5.0, 0.0, 0.0], &[INF; 3], 14.0);
        assert_eq!(sol.status, SolveStatus::Exact);
        // 5 + 9 s = 14 → s = 1, and region 0 stays on its floor (1 < 5).
        assert_relative_eq!(sol.scale, 1.0, epsilon = 1e-12);
        assert_relative_eq!(x[0], 5.0);
        assert_relative_eq!(x[1], 4.0, epsilon = 1e-12);
        assert_relative_eq!(x.iter().sum::<f64>(), 14.0, epsilon = 1e-12);
    }

    #[test]
    fn caps_binding() {
        let (sol, x) = solve(&[1.0, 1.0, 2.0], &[0.0; 3], &[2.0, INF, INF], 20.0);
        assert_eq!(sol.status, SolveStatus::Exact);
        // Region 0 capped at 2; 3 s = 18 → s = 6.
        assert_relative_eq!(sol.scale, 6.0, epsilon = 1e-12);
        assert_relative_eq!(x[0], 2.0);
        assert_relative_eq!(x[2], 12.0, epsilon = 1e-12);
        assert_relative_eq!(sol.paid_total, 20.0, epsilon = 1e-12);
    }

    #[test]
    fn floors_and_caps_binding_together() {
        let c = [1.0, 2.0, 3.0, 4.0, 0.0];
        let f = [6.0, 0.0, 0.0, 0.0, 1.0];
        let u = [INF, 3.0, INF, 10.0, INF];
        let (sol, x) = solve(&c, &f, &u, 30.0);
        assert_eq!(sol.status, SolveStatus::Exact);
        // s = 3: x = [6 (floor), 3 (cap), 9, 10 (cap), 1 (floor of a zero claim)] → 29.
        // So s is a little above 3: 6 + 3 + 3 s + 10 + 1 = 30 → s = 10/3.
        assert_relative_eq!(sol.scale, 10.0 / 3.0, epsilon = 1e-12);
        assert_relative_eq!(x[0], 6.0);
        assert_relative_eq!(x[1], 3.0);
        assert_relative_eq!(x[3], 10.0);
        assert_relative_eq!(x[4], 1.0);
        assert_relative_eq!(x.iter().sum::<f64>(), 30.0, epsilon = 1e-12);
    }

    #[test]
    fn floor_wins_over_a_lower_cap() {
        let (_, x) = solve(&[1.0, 1.0], &[5.0, 0.0], &[2.0, INF], 10.0);
        assert_relative_eq!(x[0], 5.0);
        assert_relative_eq!(x[1], 5.0, epsilon = 1e-12);
    }

    #[test]
    fn infeasible_floors_are_reported() {
        let (sol, _) = solve(&[1.0, 1.0], &[5.0, 6.0], &[INF, INF], 10.0);
        assert_eq!(sol.status, SolveStatus::FloorsExceedTarget);
        assert_relative_eq!(sol.floors_total, 11.0);
    }

    #[test]
    fn saturation_when_everyone_is_capped() {
        let (sol, x) = solve(&[1.0, 2.0, 0.0], &[0.0, 0.0, 0.5], &[3.0, 2.0, INF], 10.0);
        assert_eq!(sol.status, SolveStatus::Saturated);
        assert_relative_eq!(x[0], 3.0);
        assert_relative_eq!(x[1], 2.0);
        assert_relative_eq!(x[2], 0.5);
        assert_relative_eq!(sol.paid_total, 5.5);
        assert_relative_eq!(sol.unallocated(10.0), 4.5);
        // All claims zero: only the floors are paid.
        let (sol, _) = solve(&[0.0, 0.0], &[1.0, 0.0], &[INF, INF], 3.0);
        assert_eq!(sol.status, SolveStatus::Saturated);
        assert_relative_eq!(sol.unallocated(3.0), 2.0);
    }

    #[test]
    fn warm_start_gives_the_same_bits_from_any_start() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut confirmed = 0;
        for case in 0..50 {
            let n = 1 + case * 37;
            let c: Vec<f64> = (0..n).map(|_| next() * 10.0).collect();
            let f: Vec<f64> = c
                .iter()
                .map(|&ci| {
                    if next() < 0.2 {
                        ci * (0.5 + next())
                    } else {
                        0.0
                    }
                })
                .collect();
            let u: Vec<f64> = c
                .iter()
                .map(|&ci| {
                    if next() < 0.2 {
                        ci * (0.5 + next())
                    } else {
                        INF
                    }
                })
                .collect();
            let t = c.iter().sum::<f64>() * (0.8 + 0.4 * next());
            let mut scratch = Vec::new();
            let want = solve_scale(&c, &f, &u, t, &mut scratch);
            for start in [1e-6, 0.3, 0.9, 1.0, 1.1, 3.0, 1e6, f64::NAN, -1.0] {
                // A confirmed first step (the caller's own pass) is the same answer.
                if let Some(step) = warm_step(&c, &f, &u, t, start)
                    && let Some(sol) = step.confirm(segment_at::<F64x4>(&c, &f, &u, step.scale))
                {
                    assert_eq!(sol.scale.to_bits(), want.scale.to_bits(), "case {case}");
                    assert_eq!(sol.status, SolveStatus::Exact);
                    confirmed += 1;
                }
                let got = solve_scale_from::<F64x4>(&c, &f, &u, t, start, &mut scratch);
                assert_eq!(got.status, want.status, "case {case} start {start}");
                assert_eq!(
                    got.scale.to_bits(),
                    want.scale.to_bits(),
                    "case {case} start {start}: {} vs {}",
                    got.scale,
                    want.scale
                );
            }
        }
        assert!(confirmed > 0, "no first step was confirmed");
    }

    #[test]
    fn exact_on_many_breakpoints() {
        // Deterministic pseudo-random instance with many floors and caps.
        let n = 2_000;
        let mut c = Vec::with_capacity(n);
        let mut f = Vec::with_capacity(n);
        let mut u = Vec::with_capacity(n);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..n {
            let ci = next() * 10.0;
            c.push(ci);
            f.push(if next() < 0.2 {
                ci * (0.5 + next())
            } else {
                0.0
            });
            u.push(if next() < 0.2 {
                ci * (0.5 + next())
            } else {
                INF
            });
        }
        let t = c.iter().sum::<f64>() * 1.1;
        let (sol, x) = solve(&c, &f, &u, t);
        assert_eq!(sol.status, SolveStatus::Exact);
        let sum: f64 = x.iter().sum();
        assert!((sum - t).abs() <= 1e-9 * t, "sum {sum} target {t}");
    }
}
