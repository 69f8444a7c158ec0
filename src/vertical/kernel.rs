//! The allocator's per-draw fast path for Monte Carlo runs (issue 7).
//!
//! A Monte Carlo draw perturbs a few region columns (typically revenue, ΔQ and the damage
//! index) and reruns every formula. Most of what [`allocate`] computes does not change
//! between draws: the importance multipliers and red-line uplift, the protected-area and
//! red-line pool shares, guidance, rangers, floors before any waiver, and caps. A
//! [`Kernel`] computes those once ([`Kernel::refresh`]) and a draw ([`Kernel::run`]) then
//! only evaluates, per region, the key subsidy's gap and band, the quality grade, the
//! reverse-linkage cut, the claim and the floor waiver, solves the budget from a warm start
//! ([`solve_scale_from`]) and pays, accumulating the outputs the Monte Carlo engine keeps
//! (amounts, binding flags, budget flows). It writes no per-component breakdown.
//!
//! **Same numbers as [`allocate`].** Every expression is evaluated in the same order as in
//! [`allocate`] (shared helpers in [`components`]: [`components::key_factor`],
//! [`components::claim_sum`]), and the budget solve returns the same bits from any start,
//! so a draw gives bit-identical amounts, flags and flows (`tests` below and
//! `tests/kernel_matches_allocate.rs` check this on random inputs). Whatever is not the
//! common case (floors exceeding the budget, saturated caps, overflowing claims, a scale
//! that under- or overflows) is handed to [`allocate`] itself.

use super::allocate::{Allocation, Workspace, allocate};
use super::budget::{SolveStatus, clamp_pay, solve_scale_from};
use super::components;
use super::quality::grade_index;
use crate::error::Result;
use crate::model::formula::{Budget, BudgetMode, Formula};
use crate::model::region::{Column, RegionData};
use crate::simd::{F64x4, LANES, LaneFn, Lanes, Vector};
use crate::vertical::flows::{BudgetFlows, budget_flows};

/// Columns a [`Kernel`] reads fresh on every draw; noise on any other column that the
/// allocator uses requires [`Kernel::refresh`] per draw (see [`Kernel::depends_on`]).
pub const PER_DRAW_COLUMNS: [Column; 3] =
    [Column::StdRevenue, Column::EqiChange, Column::DamageIndex];

/// One formula prepared for repeated draws over the same regions.
#[derive(Debug, Clone)]
pub struct Kernel {
    formula: Formula,
    /// `E + a·X` (0 without a key subsidy).
    need: Vec<f64>,
    /// [`components::key_factor`] (0 without a key subsidy).
    factor: Vec<f64>,
    /// `((PA + RL) + G) + F` at the budget total of the last refresh.
    rest: Vec<f64>,
    /// Floor before any waiver: `max(0, h·prior)` for hold-harmless regions, else 0.
    floor: Vec<f64>,
    /// 1.0 when the floor is waived on a violation (hold-harmless region,
    /// `waived_on_violation`), else 0.0.
    waivable: Vec<f64>,
    /// Cap u (+∞ when none).
    cap: Vec<f64>,
    pool_unallocated: f64,
    /// Rate q by grade level + 3.
    rates: [f64; 7],
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
    claim: Vec<f64>,
    floor: Vec<f64>,
    /// `S · (1 − cut)`, for the reward and deduction money.
    net: Vec<f64>,
    q: Vec<f64>,
    /// Σ claims of the last [`Kernel::claims`] call.
    claims_total: f64,
    /// A claim of the last [`Kernel::claims`] call overflowed to +∞.
    overflow: bool,
    ws: Workspace,
    alloc: Allocation,
}

/// Per-region terms that depend only on the draw and on tables that formulas often share:
/// the self-sufficiency band multiplier (by the key subsidy's bands) and the quality grade
/// index (by the thresholds). [`Kernel::run_shared`] computes them for the first formula of
/// a draw and reuses them for every later formula with the same bands and thresholds (the
/// three formulas of the synthetic scenarios, and most real comparisons), instead of each
/// formula evaluating them again. The same operations, so the same bits.
#[derive(Debug, Clone, Default)]
pub struct SharedTerms {
    band: Vec<f64>,
    /// Grade level + 3 as a float (0 … 6).
    grade: Vec<f64>,
    bands: Vec<(f64, f64)>,
    thresholds: [f64; 3],
    filled: bool,
}

impl SharedTerms {
    /// Forget the last draw's terms: call before the first formula of every draw.
    pub fn begin_draw(&mut self) {
        self.filled = false;
    }

    /// True when the terms were computed with these tables.
    fn matches(&self, bands: &[(f64, f64)], t: &[f64; 3]) -> bool {
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        self.filled
            && self.bands.len() == bands.len()
            && self
                .bands
                .iter()
                .zip(bands)
                .all(|(a, b)| same(a.0, b.0) && same(a.1, b.1))
            && self.thresholds.iter().zip(t).all(|(a, b)| same(*a, *b))
    }

    /// Compute the band and grade of every region for `bands` and thresholds `t`. Inlined
    /// into the kernel's AVX2 and AVX-512 copies ([`Kernel::run_shared`]).
    #[inline(always)]
    fn fill<V: Vector>(&mut self, bands: &[(f64, f64)], t: &[f64; 3], ratio: &[f64], dq: &[f64]) {
        let n = ratio.len().min(dq.len());
        self.bands.clear();
        self.bands.extend_from_slice(bands);
        self.thresholds = *t;
        self.band.resize(n, 0.0);
        self.grade.resize(n, 0.0);
        let v = V::splat;
        let (zero, one) = (v(0.0), v(1.0));
        let (vt, vnt) = (t.map(v), t.map(|x| v(-x)));
        let vector = n - n % LANES;
        for i in (0..vector).step_by(LANES) {
            let r = i..i + LANES;
            band_lanes::<V>(bands, V::load(&ratio[r.clone()]), one)
                .store(&mut self.band[r.clone()]);
            grade_lanes(V::load(&dq[r.clone()]), &vt, &vnt, zero).store(&mut self.grade[r]);
        }
        for i in vector..n {
            self.band[i] = components::band_multiplier(bands, ratio[i]);
            self.grade[i] = grade_index(dq[i], t) as f64;
        }
        self.filled = true;
    }
}

/// [`components::band_multiplier`] on four lanes.
#[inline(always)]
fn band_lanes<V: Vector>(bands: &[(f64, f64)], ratio: V, one: V) -> V {
    let mut band = one;
    for &(lower, mult) in bands {
        band = V::splat(lower).le(ratio).select(V::splat(mult), band);
    }
    band
}

/// [`grade_index`] on four lanes, as a float: 3 + better − worse, the worse grades only
/// when none is better. `vt` holds the thresholds, `vnt` their negatives.
#[inline(always)]
fn grade_lanes<V: Vector>(dq: V, vt: &[V; 3], vnt: &[V; 3], zero: V) -> V {
    let better = dq.ge(vt[0]).ones() + dq.ge(vt[1]).ones() + dq.ge(vt[2]).ones();
    let worse = dq.le(vnt[0]).ones() + dq.le(vnt[1]).ones() + dq.le(vnt[2]).ones();
    let worse = better.gt(zero).select(zero, worse);
    V::splat(3.0) + better - worse
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
    /// draw's budget solve starts there, moved by the claims' growth. On W1 that takes
    /// 2.75 segment passes per solve against 3.53 from the point scale, whose floors bind
    /// where a draw's are waived. Speed only: the solve returns the same bits from any
    /// start, so a draw's result does not depend on the draws before it.
    warm: Option<(f64, f64)>,
}

/// `R / E` per region ([`components::self_sufficiency`]), shared by every formula of a
/// draw.
pub fn self_sufficiency_into(data: &RegionData, out: &mut Vec<f64>) {
    let (r, e) = (
        data.col(Column::StdRevenue),
        data.col(Column::StdExpenditure),
    );
    out.clear();
    out.extend(
        r.iter()
            .zip(e)
            .map(|(&r, &e)| components::self_sufficiency(r, e)),
    );
}

impl Kernel {
    /// Prepare `formula` for draws over regions like `data` under `budget`.
    pub fn new(formula: &Formula, data: &RegionData, budget: &Budget) -> Self {
        let mut k = Kernel {
            formula: formula.clone(),
            need: Vec::new(),
            factor: Vec::new(),
            rest: Vec::new(),
            floor: Vec::new(),
            waivable: Vec::new(),
            cap: Vec::new(),
            pool_unallocated: 0.0,
            rates: [0.0; 7],
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
        !PER_DRAW_COLUMNS.contains(&c) && c != Column::Population
    }

    /// The formula the kernel evaluates.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// Recompute everything that does not change between draws from `formula`, `data` and
    /// `budget` (per draw when the formula's parameters, the budget total or a column
    /// other than [`PER_DRAW_COLUMNS`] are uncertain). The warm start is kept.
    pub fn refresh(&mut self, formula: &Formula, data: &RegionData, budget: &Budget) {
        let n = data.n;
        if !std::ptr::eq(&self.formula, formula) {
            self.formula.clone_from(formula);
        }
        let f = &self.formula;
        let col = |c: Column| data.col(c);
        let (exp, eco, area, redline) = (
            col(Column::StdExpenditure),
            col(Column::EcoSpending),
            col(Column::AreaKm2),
            col(Column::RedlineKm2),
        );
        self.need.clear();
        self.factor.clear();
        match &f.key {
            Some(key) => {
                self.need
                    .extend((0..n).map(|i| exp[i] + key.eco_weight * eco[i]));
                self.factor.extend((0..n).map(|i| {
                    let m = components::importance_multiplier(&f.importance, data.tags[i]);
                    components::key_factor(key, m, components::coverage(area[i], redline[i]))
                }));
            }
            None => {
                self.need.resize(n, 0.0);
                self.factor.resize(n, 0.0);
            }
        }

        // Pools, exactly as `allocate` splits them.
        self.pool_unallocated = 0.0;
        let mut pa = vec![0.0; n];
        let mut rl = vec![0.0; n];
        let mut weights = Vec::with_capacity(n);
        if let Some(pool) = &f.protected_areas {
            let (km2, count, score) = (
                col(Column::PaKm2),
                col(Column::PaCount),
                col(Column::PaScore),
            );
            let totals = components::PaTotals::of(km2, count);
            weights.extend(
                (0..n).map(|i| components::pa_weight(pool, totals, km2[i], count[i], score[i])),
            );
            let size = components::pool_size(pool.size, budget.total);
            self.pool_unallocated += components::split_pool(size, &weights, &mut pa);
        }
        if let Some(pool) = &f.redline {
            weights.clear();
            weights.extend((0..n).map(|i| {
                components::redline_weight(
                    pool,
                    redline[i],
                    components::coverage(area[i], redline[i]),
                )
            }));
            let size = components::pool_size(pool.size, budget.total);
            self.pool_unallocated += components::split_pool(size, &weights, &mut rl);
        }
        let rangers = col(Column::Rangers);
        self.rest.clear();
        self.rest.extend((0..n).map(|i| {
            components::fixed_claims(
                pa[i],
                rl[i],
                components::guidance(&f.guidance, data.tags[i]),
                components::rangers(rangers[i], f.rangers),
            )
        }));

        let prior = col(Column::PriorAllocation);
        self.floor.clear();
        self.waivable.clear();
        for (&p, &hh) in prior.iter().zip(&data.hold_harmless).take(n) {
            let (base, waivable) = match &f.floor {
                Some(fl) if hh => ((fl.h * p).max(0.0), fl.waived_on_violation),
                _ => (0.0, false),
            };
            self.floor.push(base);
            self.waivable.push(if waivable { 1.0 } else { 0.0 });
        }
        self.cap.clear();
        self.cap.extend(prior.iter().map(|&p| match f.cap {
            Some(g) if p > 0.0 => (1.0 + g) * p,
            _ => f64::INFINITY,
        }));

        self.rates = super::quality::rate_table(f.quality.as_ref());
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
                let target = (budget.total.unwrap_or(0.0) - self.pool_unallocated).max(0.0);
                let sol = super::budget::solve_scale(
                    &scratch.claim,
                    &scratch.floor,
                    &self.cap,
                    target,
                    &mut scratch.ws.events,
                );
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
        let f = &self.formula;
        let revenue = &data.col(Column::StdRevenue)[..n];
        let dq = &data.col(Column::EqiChange)[..n];
        let damage = &data.col(Column::DamageIndex)[..n];
        let ratio = &ratio[..n];
        // Every slot is written below: resize only, no zeroing per draw.
        for v in [&mut s.claim, &mut s.floor, &mut s.net, &mut s.q] {
            v.resize(n, 0.0);
        }
        let bands: &[(f64, f64)] = f.key.as_ref().map_or(&[], |k| &k.bands);
        // Without a quality table every region is stable (thresholds that no change
        // reaches); without reverse linkage the cut is min(0·D, 0) = 0.
        let t = f
            .quality
            .as_ref()
            .map_or([f64::INFINITY; 3], |q| q.thresholds);
        let (lambda, max_cut) = f
            .reverse_linkage
            .as_ref()
            .map_or((0.0, 0.0), |r| (r.lambda, r.max_cut));
        // Band and grade from the draw's shared terms when they were computed with this
        // formula's tables (computing them now if this is the draw's first formula).
        // (A `match`, not a closure, so that `fill` is compiled into the caller's copy.)
        let shared = match shared {
            Some(sh) => {
                if !sh.filled {
                    sh.fill::<V>(bands, &t, ratio, dq);
                }
                let ok = sh.matches(bands, &t) && sh.band.len() == n && sh.grade.len() == n;
                ok.then_some(&*sh)
            }
            None => None,
        };
        let (need, factor, rest) = (&self.need[..n], &self.factor[..n], &self.rest[..n]);
        let (floor, waivable) = (&self.floor[..n], &self.waivable[..n]);
        let (claim, net, qs, fl) = (
            &mut s.claim[..n],
            &mut s.net[..n],
            &mut s.q[..n],
            &mut s.floor[..n],
        );
        // Branch-free, so that the loop runs at the speed of its arithmetic whatever the
        // pattern of grades and gaps.
        let rates = {
            let mut r = [0.0; 8];
            r[..7].copy_from_slice(&self.rates);
            r
        };
        // Four regions at a time ([`Vector`]): lane by lane the same operations as
        // `claim_one` below, which takes the last `n % 4` regions.
        let v = V::splat;
        let (zero, one) = (v(0.0), v(1.0));
        let (vt, vnt) = (t.map(v), t.map(|x| v(-x)));
        let (vlambda, vmax_cut) = (v(lambda), v(max_cut));
        let (mut total_lanes, mut over) = (zero, zero.lt(zero));
        let vector = n - n % LANES;
        for i in (0..vector).step_by(LANES) {
            let r = i..i + LANES;
            let gap = (V::load(&need[r.clone()]) - V::load(&revenue[r.clone()])).max_gt(zero);
            let (band, g) = match shared {
                Some(sh) => (V::load(&sh.band[r.clone()]), V::load(&sh.grade[r.clone()])),
                None => (
                    band_lanes::<V>(bands, V::load(&ratio[r.clone()]), one),
                    grade_lanes(V::load(&dq[r.clone()]), &vt, &vnt, zero),
                ),
            };
            let key = gap * band * V::load(&factor[r.clone()]);
            let total = key + V::load(&rest[r.clone()]);
            // The rate by grade level, looked up lane by lane (the level is an exact small
            // integer): cheaper than selecting among all seven rates.
            let q = V::from_array(g.to_array().map(|level| rates[level as usize & 7]));
            let damage = V::load(&damage[r.clone()]);
            let cut = (vlambda * damage).min_lt(vmax_cut);
            let c = (total * (one + q) * (one - cut)).max_gt(zero);
            c.store(&mut claim[r.clone()]);
            total_lanes = total_lanes + c;
            over = over | c.eq(v(f64::INFINITY));
            (total * (one - cut)).store(&mut net[r.clone()]);
            q.store(&mut qs[r.clone()]);
            let violated = g.lt(v(3.0)) | damage.gt(zero);
            let waived = V::load(&waivable[r.clone()]).gt(zero) & violated;
            waived
                .select(zero, V::load(&floor[r.clone()]))
                .store(&mut fl[r]);
        }
        let mut claims_total = crate::simd::reduce(total_lanes.to_array());
        let mut overflow = over.any();
        for i in vector..n {
            // K = max(0, E + a·X − R) · band(R/E) · c0 · m · (1 + β·r), as `key_subsidy`
            // (a zero gap gives 0 · band · factor = 0; without a key, factor is 0). The
            // inputs are never NaN, so compares stand in for `max`/`min` with equal values.
            let gap = need[i] - revenue[i];
            let gap = if gap > 0.0 { gap } else { 0.0 };
            let (band, g) = match shared {
                Some(sh) => (sh.band[i], sh.grade[i] as usize),
                None => (
                    components::band_multiplier(bands, ratio[i]),
                    grade_index(dq[i], &t),
                ),
            };
            let key = gap * band * factor[i];
            let total = key + rest[i];
            let q = rates[g & 7];
            let lc = lambda * damage[i];
            let cut = if lc < max_cut { lc } else { max_cut };
            let c = total * (1.0 + q) * (1.0 - cut);
            let c = if c > 0.0 { c } else { 0.0 };
            claim[i] = c;
            claims_total += c;
            overflow |= c == f64::INFINITY;
            net[i] = total * (1.0 - cut);
            qs[i] = q;
            let waived = (waivable[i] > 0.0) & ((g < 3) | (damage[i] > 0.0));
            fl[i] = if waived { 0.0 } else { floor[i] };
        }
        s.claims_total = claims_total;
        s.overflow = overflow;
    }

    /// Allocate one draw: `data` holds the draw's regions (only [`PER_DRAW_COLUMNS`] may
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
    /// Compiled for AVX2 or AVX-512 where the CPU has it ([`crate::simd::with_simd`]): the
    /// claims, budget-solve and payment passes inlined into it. On W1 (2 threads,
    /// alternating runs) the AVX2 copy took about 8% less CPU time;
    /// `tests/kernel_matches_allocate.rs` checks every copy the CPU has and
    /// [`run`](Self::run)'s baseline copy against `allocate`, bit for bit.
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
        if ratio.len() < n || x.len() != n || self.rest.len() != n {
            return self.fallback(data, budget, s, x, out);
        }
        self.claims::<V>(data, ratio, s, shared);
        if s.overflow {
            return self.fallback(data, budget, s, x, out);
        }
        let (scale, target) = match budget.mode {
            BudgetMode::Open => (1.0, None),
            BudgetMode::Fixed => {
                let target = (budget.total.unwrap_or(0.0) - self.pool_unallocated).max(0.0);
                let sol = solve_scale_from::<V>(
                    &s.claim,
                    &s.floor,
                    &self.cap,
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
        // Every flag is written below: resize only, no zeroing per draw.
        for v in [&mut out.deduction, &mut out.floor_binds, &mut out.cap_binds] {
            v.resize(n, 0);
        }
        let (claim, floor, cap) = (&s.claim[..n], &s.floor[..n], &self.cap[..n]);
        let (net, qs) = (&s.net[..n], &s.q[..n]);
        let (fbs, cbs, ded) = (
            &mut out.floor_binds[..n],
            &mut out.cap_binds[..n],
            &mut out.deduction[..n],
        );
        let x = &mut x[..n];
        // `pay`, the flags of `allocate` and the sums of `budget_flows`, without branches,
        // four regions at a time: claims, floors and caps are never NaN here and floors are
        // ≥ 0, so compares give the same values as the NaN-aware `max`/`min`, and adding a
        // zero term leaves a running sum's bits unchanged. The sums run in the four lanes
        // of [`crate::simd::lane_of`], as `budget_flows` and `allocate` sum them.
        let v = V::splat;
        let (zero, vs) = (v(0.0), v(scale));
        let (mut ded_l, mut rew_l, mut floor_l, mut total_l) = (zero, zero, zero, zero);
        let mut capped = 0usize;
        let vector = n - n % LANES;
        for i in (0..vector).step_by(LANES) {
            let r = i..i + LANES;
            let (c, f, u, q) = (
                V::load(&claim[r.clone()]),
                V::load(&floor[r.clone()]),
                V::load(&cap[r.clone()]),
                V::load(&qs[r.clone()]),
            );
            let raw = vs * c;
            let capped_raw = raw.min_lt(u);
            let xi = f.max_gt(raw.and(c.gt(zero)).min_lt(u));
            xi.store(&mut x[r.clone()]);
            let fb = f.gt(capped_raw);
            let cb = u.ge(f) & u.lt(raw);
            let (qneg, qpos) = (q.lt(zero), q.gt(zero));
            fbs[r.clone()].copy_from_slice(&fb.to_u8());
            cbs[r.clone()].copy_from_slice(&cb.to_u8());
            ded[r.clone()].copy_from_slice(&qneg.to_u8());
            let q_money = V::load(&net[r]) * q * vs;
            ded_l = ded_l - q_money.and(qneg);
            rew_l = rew_l + q_money.and(qpos);
            floor_l = floor_l + (xi - raw).and(fb);
            capped += cb.bits().count_ones() as usize;
            total_l = total_l + xi;
        }
        let mut lanes = [ded_l, rew_l, floor_l, total_l].map(V::to_array);
        for i in vector..n {
            let (c, f, u, q) = (claim[i], floor[i], cap[i], qs[i]);
            let raw = scale * c;
            let xi = clamp_pay(if c > 0.0 { raw } else { 0.0 }, f, u);
            x[i] = xi;
            let fb = f > (if raw < u { raw } else { u });
            let cb = (u >= f) & (u < raw);
            fbs[i] = u8::from(fb);
            cbs[i] = u8::from(cb);
            ded[i] = u8::from(q < 0.0);
            let q_money = net[i] * q * scale;
            lanes[0][0] -= if q < 0.0 { q_money } else { 0.0 };
            lanes[1][0] += if q > 0.0 { q_money } else { 0.0 };
            lanes[2][0] += if fb { xi - raw } else { 0.0 };
            capped += usize::from(cb);
            lanes[3][0] += xi;
        }
        let [deducted, rewarded, floor_paid, total] = lanes.map(crate::simd::reduce);
        let flows = BudgetFlows {
            deducted,
            rewarded,
            floor_paid,
            capped,
        };
        // `allocate` repairs a scale that under- or overflowed; hand such draws to it.
        if let Some(t) = target
            && (total - t).abs() > 1e-12 * t
        {
            return self.fallback(data, budget, s, x, out);
        }
        out.flows = flows;
        out.unallocated = self.pool_unallocated;
        out.total = total;
        out.fast = true;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::formula::Quality;
    use crate::vertical::Grade;

    #[test]
    fn grade_index_matches_from_change() {
        let tables = [[1.0, 2.0, 3.0], [0.0, 0.5, 2.0], [0.25, 0.25, 1.0]];
        for t in tables {
            let q = Quality {
                thresholds: t,
                reward: [0.0; 3],
                deduction: [0.0; 3],
            };
            let mut probes = vec![f64::NAN, 0.0, -0.0, 100.0, -100.0];
            for &b in &t {
                for d in [-1e-12, 0.0, 1e-12] {
                    probes.push(b + d);
                    probes.push(-b + d);
                }
            }
            for k in -400..=400 {
                probes.push(f64::from(k) * 0.01);
            }
            for dq in probes {
                let want = Grade::from_change(dq, &q).level();
                let got = grade_index(dq, &t) as i8 - 3;
                assert_eq!(got, want, "dq = {dq}, thresholds {t:?}");
            }
        }
    }
}
