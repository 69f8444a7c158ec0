//! The allocator's per-draw path for Monte Carlo runs.
//!
//! A [`Kernel`] holds one formula's [`Prepared`] terms (computed once, or per draw only
//! when a draw changes them). A draw ([`Kernel::run_shared`]) applies the claim rules to
//! every region ([`Prepared::claims`]), solves the budget from a warm start
//! ([`solve_scale_from`]) and pays ([`rules::pay`]), accumulating the outputs the Monte
//! Carlo engine keeps (amounts, binding flags, budget flows). It writes no per-component
//! breakdown.
//!
//! **Same numbers as [`allocate`].** Both call the same rule functions
//! ([`super::rules`]) on the same prepared terms, and the budget solve returns the same
//! bits from any start, so a draw gives bit-identical amounts, flags and flows
//! (`tests/kernel_matches_allocate.rs` checks this on random inputs, in every SIMD copy
//! the CPU has). Whatever is not the common case (floors exceeding the budget, saturated
//! caps, overflowing claims, a scale that under- or overflows) is handed to [`allocate`]
//! itself.

use super::allocate::{Allocation, Workspace, allocate};
use super::budget::{SolveStatus, Terms, solve_scale_from};
use super::flows::{BudgetFlows, budget_flows};
use super::prepare::{ClaimSink, PER_DRAW, Prepared, TagCache};
use super::rules::{self, Claim, RegionLanes, Tail};
use crate::error::Result;
use crate::model::formula::{Budget, BudgetMode, Formula};
use crate::model::region::{Column, RegionData};
use crate::simd::{F64x4, LANES, LaneFn, Lanes, Vector};

/// One formula prepared for repeated draws over the same regions.
#[derive(Debug, Clone)]
pub struct Kernel {
    formula: Formula,
    prep: Prepared,
    tags: TagCache,
    /// Scale the budget solve of a formula's first draw starts from: the scale of the
    /// inputs given to [`Kernel::new`] (later draws start from the last draw's, see
    /// [`DrawOut`]; a draw's result does not depend on where its solve starts).
    start: f64,
    /// Σ S' of the inputs given to [`Kernel::new`]: a formula's first draw starts its
    /// budget solve at `start · point_claims / Σ S'(draw)`, the point scale moved by how
    /// much the draw's claims grew or shrank.
    point_claims: f64,
}

/// Per-draw buffers of a [`Kernel`], reused across draws.
#[derive(Debug, Clone, Default)]
pub struct KernelScratch {
    /// The scaled claims and the amounts paid as stated ([`rules::Claim`]).
    claim: Vec<f64>,
    fixed: Vec<f64>,
    floor: Vec<f64>,
    /// `K·(1 − cut)` and `C·(1 − cut)` (or `S·(1 − cut)` and 0), for the reward and
    /// deduction money.
    net: Vec<f64>,
    net_fixed: Vec<f64>,
    q: Vec<f64>,
    /// Σ of the scaled claims of the last [`Kernel::claims`] call.
    claims_total: f64,
    /// A claim of the last [`Kernel::claims`] call overflowed to +∞.
    overflow: bool,
    ws: Workspace,
    alloc: Allocation,
}

/// What one draw of one formula produced besides the amounts.
#[derive(Debug, Clone, Default)]
pub struct DrawOut {
    /// Per region: 1 when the region's quality rate is a deduction (q < 0).
    pub deduction: Vec<u8>,
    /// Per region: 1 when the floor lifted the amount.
    pub floor_binds: Vec<u8>,
    /// Per region: 1 when the cap cut the amount.
    pub cap_binds: Vec<u8>,
    pub flows: BudgetFlows,
    /// [`Allocation::unallocated`].
    pub unallocated: f64,
    /// Σ x.
    pub total: f64,
    /// False when the draw was handed to [`allocate`] (see the module documentation).
    pub fast: bool,
    /// The scale and Σ S' of the last draw this formula solved on the fast path: the next
    /// draw's budget solve starts there, moved by the claims' growth, which takes fewer
    /// segment passes than starting from the point scale (whose floors bind where a
    /// draw's are waived). Speed only: the solve returns the same bits from any start, so
    /// a draw's result does not depend on the draws before it.
    warm: Option<(f64, f64)>,
}

pub use super::prepare::{SharedTerms, self_sufficiency_into};

/// [`ClaimSink`] of the kernel: the claims, floors, nets and rates of every region, their
/// sum and whether one overflowed.
struct Claims<'a, V: Vector> {
    claim: &'a mut [f64],
    fixed: &'a mut [f64],
    floor: &'a mut [f64],
    net: &'a mut [f64],
    net_fixed: &'a mut [f64],
    q: &'a mut [f64],
    total: V,
    over: V::Mask,
    tail: [f64; LANES],
}

impl<V: Vector> ClaimSink<V> for Claims<'_, V> {
    #[inline(always)]
    fn chunk(&mut self, i: usize, _: &RegionLanes<V>, c: &Claim<V>) {
        c.scaled.store(&mut self.claim[i..]);
        c.fixed.store(&mut self.fixed[i..]);
        c.net.store(&mut self.net[i..]);
        c.net_fixed.store(&mut self.net_fixed[i..]);
        c.q.store(&mut self.q[i..]);
        c.floor.store(&mut self.floor[i..]);
        self.total = self.total + c.scaled;
        let inf = V::splat(f64::INFINITY);
        self.over = self.over | c.scaled.eq(inf) | c.fixed.eq(inf);
    }

    #[inline(always)]
    fn tail(&mut self, t: Tail, _: &RegionLanes<V>, c: &Claim<V>) {
        t.store(c.scaled, self.claim);
        t.store(c.fixed, self.fixed);
        t.store(c.net, self.net);
        t.store(c.net_fixed, self.net_fixed);
        t.store(c.q, self.q);
        t.store(c.floor, self.floor);
        self.tail = c.scaled.to_array();
        self.tail[t.len..].fill(0.0);
        self.over = self.over | c.fixed.eq(V::splat(f64::INFINITY));
    }
}

impl Kernel {
    /// Prepare `formula` for draws over regions like `data` under `budget`.
    pub fn new(formula: &Formula, data: &RegionData, budget: &Budget) -> Self {
        let mut k = Kernel {
            formula: formula.clone(),
            prep: Prepared::default(),
            tags: TagCache::default(),
            start: f64::NAN,
            point_claims: f64::NAN,
        };
        k.refresh(formula, data, budget);
        (k.start, k.point_claims) = k.point_scale(data, budget);
        k
    }

    /// True when noise on column `c` changes what [`Kernel::refresh`] computes (so a
    /// draw must refresh the kernel before [`Kernel::run`]).
    pub fn depends_on(c: Column) -> bool {
        !PER_DRAW.contains(&c) && c != Column::Population
    }

    /// The formula the kernel evaluates.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// Recompute everything that does not change between draws from `formula`, `data` and
    /// `budget` (per draw when the formula's parameters, the budget total or a column
    /// other than [`PER_DRAW`] are uncertain). The warm start is kept.
    pub fn refresh(&mut self, formula: &Formula, data: &RegionData, budget: &Budget) {
        if !std::ptr::eq(&self.formula, formula) {
            self.formula.clone_from(formula);
        }
        self.prep
            .refresh(&self.formula, data, budget, &mut self.tags);
    }

    /// Recompute only the floors and caps, from `data`'s prior allocation (a later year of
    /// a path whose other inputs the kernel already holds).
    pub fn refresh_floors(&mut self, data: &RegionData) {
        // Without either, the prior changes nothing the kernel holds.
        if self.formula.floor.is_some() || self.formula.cap.is_some() {
            self.prep.floors_and_caps(&self.formula, data);
        }
    }

    /// The scale of the budget solve on `data` itself (NaN when there is none to start
    /// from: open mode, or a budget the fast path does not handle), and Σ S' there.
    fn point_scale(&self, data: &RegionData, budget: &Budget) -> (f64, f64) {
        let mut ratio = Vec::new();
        self_sufficiency_into(data, &mut ratio);
        let mut scratch = KernelScratch::default();
        self.claims::<F64x4>(data, &ratio, &mut scratch, None);
        let scale = match budget.mode {
            BudgetMode::Open => f64::NAN,
            BudgetMode::Fixed => {
                let target = (budget.total.unwrap_or(0.0) - self.prep.pool_unallocated).max(0.0);
                let terms = Terms::new(
                    &scratch.claim,
                    &scratch.fixed,
                    &scratch.floor,
                    &self.prep.cap,
                );
                let sol = super::budget::solve_scale(terms, target, &mut scratch.ws.events);
                match sol.status {
                    SolveStatus::Exact => sol.scale,
                    _ => f64::NAN,
                }
            }
        };
        (scale, scratch.claims_total)
    }

    /// Where a draw whose claims sum to `claims_total` starts its budget solve.
    /// The start is the scale of the last draw solved with `out` (else the point scale),
    /// moved by how much the claims grew or shrank since. Only the number of passes
    /// depends on it: the solve returns the same bits from any start.
    fn draw_start(&self, claims_total: f64, out: &DrawOut) -> f64 {
        let (scale, claims) = out.warm.unwrap_or((self.start, self.point_claims));
        let moved = scale * (claims / claims_total);
        if moved.is_finite() && moved > 0.0 {
            moved
        } else {
            self.start
        }
    }

    /// Claims S', floors after waivers, `S·(1 − cut)` and q of every region into `s`.
    #[inline(always)]
    fn claims<V: Vector>(
        &self,
        data: &RegionData,
        ratio: &[f64],
        s: &mut KernelScratch,
        shared: Option<&mut SharedTerms>,
    ) {
        let n = data.n;
        // Every slot is written below: resize only, no zeroing per draw.
        for v in [
            &mut s.claim,
            &mut s.fixed,
            &mut s.floor,
            &mut s.net,
            &mut s.net_fixed,
            &mut s.q,
        ] {
            v.resize(n, 0.0);
        }
        let dq = &data.col(Column::EqiChange)[..n];
        // A `match`, not a closure: closures are compiled without the AVX features of the
        // copy that calls them, which turns their vector operations into calls.
        let shared = match shared {
            Some(sh) => sh.for_formula::<V>(&self.prep, &ratio[..n], dq),
            None => None,
        };
        let zero = V::splat(0.0);
        let mut sink = Claims {
            claim: &mut s.claim[..n],
            fixed: &mut s.fixed[..n],
            floor: &mut s.floor[..n],
            net: &mut s.net[..n],
            net_fixed: &mut s.net_fixed[..n],
            q: &mut s.q[..n],
            total: zero,
            over: zero.lt(zero),
            tail: [0.0; LANES],
        };
        self.prep.claims::<V, _>(data, ratio, shared, &mut sink);
        let mut claims_total = crate::simd::reduce(sink.total.to_array());
        let mut overflow = sink.over.any();
        for c in sink.tail {
            claims_total += c;
            overflow |= c == f64::INFINITY;
        }
        s.claims_total = claims_total;
        s.overflow = overflow;
    }

    /// Allocate one draw: `data` holds the draw's regions (only [`PER_DRAW`] columns may
    /// differ from the last refresh), `ratio` its [`self_sufficiency_into`], `budget` its
    /// budget. The amounts go to `x` (length n); everything else to `out`.
    ///
    /// Errors exactly when [`allocate`] errors on the same inputs (it is [`allocate`] that
    /// reports them).
    pub fn run(
        &self,
        data: &RegionData,
        ratio: &[f64],
        budget: &Budget,
        s: &mut KernelScratch,
        x: &mut [f64],
        out: &mut DrawOut,
    ) -> Result<()> {
        self.run_with::<F64x4>(data, ratio, budget, s, None, x, out)
    }

    /// [`run`](Self::run) with the draw's [`SharedTerms`]: the band and grade of every
    /// region are taken from `shared` when it holds them for this formula's tables (and
    /// computed into it by the draw's first formula). Call [`SharedTerms::begin_draw`]
    /// before the first formula of each draw. Same results as [`run`](Self::run).
    ///
    /// Compiled for AVX2 or AVX-512 where the CPU has it ([`crate::simd::with_lanes`]):
    /// the claims, budget-solve and payment passes are inlined into it.
    #[allow(clippy::too_many_arguments)]
    pub fn run_shared(
        &self,
        data: &RegionData,
        ratio: &[f64],
        budget: &Budget,
        s: &mut KernelScratch,
        shared: &mut SharedTerms,
        x: &mut [f64],
        out: &mut DrawOut,
    ) -> Result<()> {
        /// [`Kernel::run_with`] with the draw's shared terms, for [`crate::simd::with_lanes`].
        struct Shared<'a> {
            kernel: &'a Kernel,
            data: &'a RegionData,
            ratio: &'a [f64],
            budget: &'a Budget,
            s: &'a mut KernelScratch,
            shared: &'a mut SharedTerms,
            x: &'a mut [f64],
            out: &'a mut DrawOut,
        }
        impl LaneFn for Shared<'_> {
            type Out = Result<()>;
            #[inline(always)]
            fn call<V: Vector>(self) -> Result<()> {
                let k = self.kernel;
                k.run_with::<V>(
                    self.data,
                    self.ratio,
                    self.budget,
                    self.s,
                    Some(self.shared),
                    self.x,
                    self.out,
                )
            }
        }
        crate::simd::with_lanes(Shared {
            kernel: self,
            data,
            ratio,
            budget,
            s,
            shared,
            x,
            out,
        })
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run_with<V: Vector>(
        &self,
        data: &RegionData,
        ratio: &[f64],
        budget: &Budget,
        s: &mut KernelScratch,
        shared: Option<&mut SharedTerms>,
        x: &mut [f64],
        out: &mut DrawOut,
    ) -> Result<()> {
        let n = data.n;
        if ratio.len() < n || x.len() != n || self.prep.rest.len() != n {
            return self.fallback(data, budget, s, x, out);
        }
        self.claims::<V>(data, ratio, s, shared);
        if s.overflow {
            return self.fallback(data, budget, s, x, out);
        }
        let (scale, target) = match budget.mode {
            BudgetMode::Open => (1.0, None),
            BudgetMode::Fixed => {
                let target = (budget.total.unwrap_or(0.0) - self.prep.pool_unallocated).max(0.0);
                let terms = Terms::new(&s.claim, &s.fixed, &s.floor, &self.prep.cap);
                let sol = solve_scale_from::<V>(
                    terms,
                    target,
                    self.draw_start(s.claims_total, out),
                    &mut s.ws.events,
                );
                if sol.status != SolveStatus::Exact {
                    return self.fallback(data, budget, s, x, out);
                }
                out.warm = Some((sol.scale, s.claims_total));
                (sol.scale, Some(target))
            }
        };
        let (flows, total) = self.pay::<V>(s, scale, x, out);
        // `allocate` repairs a scale that under- or overflowed; hand such draws to it.
        if let Some(t) = target
            && (total - t).abs() > 1e-12 * t
        {
            return self.fallback(data, budget, s, x, out);
        }
        out.flows = flows;
        out.unallocated = self.prep.pool_unallocated;
        out.total = total;
        out.fast = true;
        Ok(())
    }

    /// The payment pass at `scale`: amounts into `x`, the deduction, floor and cap flags
    /// into `out`, and the budget flows and Σ x, summed in the four lanes of
    /// [`crate::simd::lane_of`] (as [`budget_flows`] and [`allocate`] sum them).
    #[inline(always)]
    fn pay<V: Vector>(
        &self,
        s: &KernelScratch,
        scale: f64,
        x: &mut [f64],
        out: &mut DrawOut,
    ) -> (BudgetFlows, f64) {
        let n = x.len();
        // Every flag is written below: resize only, no zeroing per draw.
        for v in [&mut out.deduction, &mut out.floor_binds, &mut out.cap_binds] {
            v.resize(n, 0);
        }
        let (claim, fixed) = (&s.claim[..n], &s.fixed[..n]);
        let (floor, cap) = (&s.floor[..n], &self.prep.cap[..n]);
        let (net, net_fixed, qs) = (&s.net[..n], &s.net_fixed[..n], &s.q[..n]);
        let (fbs, cbs, ded) = (
            &mut out.floor_binds[..n],
            &mut out.cap_binds[..n],
            &mut out.deduction[..n],
        );
        let x = &mut x[..n];
        let (zero, vs) = (V::splat(0.0), V::splat(scale));
        let mut sums = [zero; 4];
        let mut capped = 0usize;
        let tail = Tail::of(n);
        for i in (0..tail.start).step_by(LANES) {
            let r = i..i + LANES;
            let p = rules::pay(
                V::load(&claim[r.clone()]),
                V::load(&fixed[r.clone()]),
                V::load(&floor[r.clone()]),
                V::load(&cap[r.clone()]),
                vs,
            );
            let q = V::load(&qs[r.clone()]);
            p.x.store(&mut x[r.clone()]);
            fbs[r.clone()].copy_from_slice(&p.floor_binds.to_u8());
            cbs[r.clone()].copy_from_slice(&p.cap_binds.to_u8());
            ded[r.clone()].copy_from_slice(&q.lt(zero).to_u8());
            let [d, w, f] =
                rules::flows(V::load(&net[r.clone()]), V::load(&net_fixed[r]), q, vs, &p);
            sums = [sums[0] - d, sums[1] + w, sums[2] + f, sums[3] + p.x];
            capped += p.cap_binds.bits().count_ones() as usize;
        }
        let mut lanes = [
            sums[0].to_array(),
            sums[1].to_array(),
            sums[2].to_array(),
            sums[3].to_array(),
        ];
        if tail.len > 0 {
            let p = rules::pay(
                tail.load(claim),
                tail.load(fixed),
                tail.load(floor),
                tail.load(cap),
                vs,
            );
            let q: V = tail.load(qs);
            tail.store(p.x, x);
            let r = tail.start..n;
            fbs[r.clone()].copy_from_slice(&tail.flags::<V>(p.floor_binds)[..tail.len]);
            let cb = tail.flags::<V>(p.cap_binds);
            cbs[r.clone()].copy_from_slice(&cb[..tail.len]);
            ded[r].copy_from_slice(&tail.flags::<V>(q.lt(zero))[..tail.len]);
            let [d, w, f] = rules::flows(tail.load(net), tail.load(net_fixed), q, vs, &p);
            for v in &d.to_array()[..tail.len] {
                lanes[0][0] -= v;
            }
            tail.add_to_lane0(w, &mut lanes[1]);
            tail.add_to_lane0(f, &mut lanes[2]);
            tail.add_to_lane0(p.x, &mut lanes[3]);
            capped += cb.iter().map(|&b| usize::from(b)).sum::<usize>();
        }
        let [deducted, rewarded, floor_paid, total] = lanes.map(crate::simd::reduce);
        let flows = BudgetFlows {
            deducted,
            rewarded,
            floor_paid,
            capped,
        };
        (flows, total)
    }

    /// The general allocator on the same inputs, its results copied into `x` and `out`.
    #[cold]
    fn fallback(
        &self,
        data: &RegionData,
        budget: &Budget,
        s: &mut KernelScratch,
        x: &mut [f64],
        out: &mut DrawOut,
    ) -> Result<()> {
        allocate(&self.formula, data, budget, &mut s.ws, &mut s.alloc)?;
        let a = &s.alloc;
        for (d, v) in x.iter_mut().zip(&a.x) {
            *d = *v;
        }
        let flag = |v: &[bool], o: &mut Vec<u8>| {
            o.clear();
            o.extend(v.iter().map(|&b| u8::from(b)));
        };
        flag(&a.floor_binds, &mut out.floor_binds);
        flag(&a.cap_binds, &mut out.cap_binds);
        out.deduction.clear();
        out.deduction.extend(a.q.iter().map(|&q| u8::from(q < 0.0)));
        out.flows = budget_flows(a);
        out.unallocated = a.unallocated();
        out.total = a.total;
        out.fast = false;
        Ok(())
    }
}
