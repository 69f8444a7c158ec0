//! Monte Carlo over the vertical allocator: per-draw inputs, allocation of every formula on
//! the same sampled inputs (common random numbers), and mergeable accumulators. The
//! summaries of each block's buffered draws are in `summary.rs`.

use super::Kept;
use super::settlements::{AgreementModel, AgreementWorker};
pub use super::summary::BlockBuf;
use super::summary::MAX_BUFFERED;
use crate::error::{Error, Result};
use crate::horizontal::rewards::reward_factors;
use crate::model::formula_param::Target;
use crate::model::region::{RegionData, RegionMeta};
use crate::model::{Budget, Formula, RewardBasis};
use crate::model::{UncertainParam, Vertical};
use crate::sampling::noise::NoiseModel;
use crate::sampling::rng::{Rng, SUB_FORMULA_BASE, SUB_SHARED, stream};
use crate::stats::{Moments, Probability, Quantiles};
use crate::vertical::kernel::{DrawOut, Kernel, KernelScratch, SharedTerms, self_sufficiency_into};
use crate::vertical::tiers::{GroupFlow, TierScratch, pass_down};
use crate::vertical::{Allocation, Workspace, allocate};

pub use super::acc::Acc;

/// Accumulators of the vertical model, for one block of draws or for the whole run.
/// Region-level vectors are indexed `formula * n + region`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VerticalAcc {
    pub n: usize,
    #[serde(with = "super::acc::accs")]
    pub x: Vec<Acc>,
    /// Paired difference against the baseline formula (moments only: the report gives its
    /// mean and standard error).
    #[serde(with = "crate::stats::columns::vec")]
    pub diff: Vec<Moments>,
    #[serde(with = "crate::stats::columns::vec")]
    pub gain: Vec<Probability>,
    #[serde(with = "crate::stats::columns::vec")]
    pub deduction: Vec<Probability>,
    #[serde(with = "crate::stats::columns::vec")]
    pub floor: Vec<Probability>,
    #[serde(with = "crate::stats::columns::vec")]
    pub cap: Vec<Probability>,
    /// Per formula: money removed by quality deductions (at the budget scale).
    #[serde(with = "super::acc::accs")]
    pub deducted: Vec<Acc>,
    /// Per formula: money added by quality rewards (at the budget scale).
    #[serde(with = "super::acc::accs")]
    pub rewarded: Vec<Acc>,
    /// Per formula: money paid to lift regions to their floors.
    #[serde(with = "super::acc::accs")]
    pub floor_paid: Vec<Acc>,
    #[serde(with = "super::acc::accs")]
    pub unallocated: Vec<Acc>,
    #[serde(with = "super::acc::accs")]
    pub gini: Vec<Acc>,
    /// Allocation summed over each group, indexed `formula * groups + group`.
    #[serde(with = "super::acc::accs")]
    pub group_total: Vec<Acc>,
    /// The central entitlement of every region, indexed like `x`, for formulas with
    /// provincial methods (two tiers); empty when no formula has them.
    #[serde(with = "super::acc::accs")]
    pub entitlement: Vec<Acc>,
    /// Kept draws of the allocation of the model's `keep` regions, indexed
    /// `formula * keep.len() + k`.
    pub kept: Vec<Kept>,
    /// Kept draws of the money moved by deductions and rewards, per formula.
    pub kept_deducted: Vec<Kept>,
    pub kept_rewarded: Vec<Kept>,
    /// Optional per-draw comparison metrics, indexed
    /// `formula * Metric::COUNT + metric` ([`crate::metrics::allocation::Metric`]). Empty
    /// unless enabled with [`VerticalAcc::with_metrics`]; a metric that is undefined in a
    /// draw (for example a rank correlation of a constant) is not pushed for that draw.
    #[serde(with = "super::acc::accs")]
    pub metrics: Vec<Acc>,
}

impl VerticalAcc {
    pub fn new(n: usize, formulas: usize, exact_limit: usize) -> Self {
        let per = |k: usize| vec![Acc::new(exact_limit); k];
        VerticalAcc {
            n,
            x: per(n * formulas),
            diff: vec![Moments::new(); n * formulas],
            gain: vec![Probability::default(); n * formulas],
            deduction: vec![Probability::default(); n * formulas],
            floor: vec![Probability::default(); n * formulas],
            cap: vec![Probability::default(); n * formulas],
            deducted: per(formulas),
            rewarded: per(formulas),
            floor_paid: per(formulas),
            unallocated: per(formulas),
            gini: per(formulas),
            group_total: Vec::new(),
            entitlement: Vec::new(),
            kept: Vec::new(),
            kept_deducted: vec![Kept::default(); formulas],
            kept_rewarded: vec![Kept::default(); formulas],
            metrics: Vec::new(),
        }
    }

    /// Size the group totals and kept draws for `model`.
    pub fn with_extras(mut self, model: &VerticalModel, limit: usize) -> Self {
        let formulas = self.deducted.len();
        self.group_total = vec![Acc::new(limit); formulas * model.v.regions.meta.groups.len()];
        if model.v.formulas.iter().any(|f| !f.provincial.is_empty()) {
            self.entitlement = vec![Acc::new(limit); formulas * self.n];
        }
        self.kept = vec![Kept::default(); formulas * model.keep.len()];
        self
    }

    /// Also accumulate the per-draw comparison metrics of every formula.
    pub fn with_metrics(mut self, formulas: usize, exact_limit: usize) -> Self {
        self.metrics =
            vec![Acc::new(exact_limit); formulas * crate::metrics::allocation::Metric::COUNT];
        self
    }

    /// Number of scalar outputs with quantiles (for the memory budget).
    pub fn outputs(n: usize, formulas: usize) -> usize {
        n * formulas + 5 * formulas
    }

    pub fn merge(&mut self, o: &VerticalAcc) {
        let zip = |a: &mut [Acc], b: &[Acc]| a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y));
        let zipp = |a: &mut [Probability], b: &[Probability]| {
            a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y))
        };
        zip(&mut self.x, &o.x);
        self.diff
            .iter_mut()
            .zip(&o.diff)
            .for_each(|(x, y)| x.merge(y));
        zipp(&mut self.gain, &o.gain);
        zipp(&mut self.deduction, &o.deduction);
        zipp(&mut self.floor, &o.floor);
        zipp(&mut self.cap, &o.cap);
        self.merge_small(o);
    }

    /// Merge workers' own sketches of the region amounts ([`Worker::keep_sketches`]) into
    /// the amounts' quantiles, in parallel chunks. Sketch merges are exact integer sums, so
    /// the order of the workers does not matter.
    pub fn merge_sketches(&mut self, workers: &[&[Quantiles]]) {
        use rayon::prelude::*;
        self.x
            .par_chunks_mut(MERGE_CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for w in workers {
                    let theirs = w.get(c * MERGE_CHUNK..).unwrap_or(&[]);
                    chunk.iter_mut().zip(theirs).for_each(|(a, b)| a.q.merge(b));
                }
            });
    }

    /// The per-formula and kept outputs of [`merge`](Self::merge).
    fn merge_small(&mut self, o: &VerticalAcc) {
        let zip = |a: &mut [Acc], b: &[Acc]| a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y));
        zip(&mut self.deducted, &o.deducted);
        zip(&mut self.rewarded, &o.rewarded);
        zip(&mut self.floor_paid, &o.floor_paid);
        zip(&mut self.unallocated, &o.unallocated);
        zip(&mut self.gini, &o.gini);
        zip(&mut self.group_total, &o.group_total);
        zip(&mut self.entitlement, &o.entitlement);
        let zipk = |a: &mut [Kept], b: &[Kept]| a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y));
        zipk(&mut self.kept, &o.kept);
        zipk(&mut self.kept_deducted, &o.kept_deducted);
        zipk(&mut self.kept_rewarded, &o.kept_rewarded);
        zip(&mut self.metrics, &o.metrics);
    }
}

/// Everything about the vertical model that does not change between draws.
pub struct VerticalModel<'a> {
    pub v: &'a Vertical,
    pub noise: Vec<NoiseModel>,
    /// Uncertain budget total (shared by all formulas), if any.
    pub budget_total: Option<&'a UncertainParam>,
    /// Per formula, its uncertain parameters in scenario order.
    pub formula_params: Vec<Vec<&'a UncertainParam>>,
    pub baseline: usize,
    /// Regions whose draws are kept for histograms.
    pub keep: Vec<usize>,
    /// Every formula prepared for draws ([`Kernel`]), on the scenario's own inputs.
    pub kernels: Vec<Kernel>,
    /// True when every draw must refresh every kernel: the budget total is uncertain or
    /// noise touches a column a kernel precomputes from.
    refresh_all: bool,
    /// Performance rewards of agreements with uncertain inputs, as `(formula, reward,
    /// agreement model)`: each draw settles the agreement from the same stream as the
    /// horizontal Monte Carlo's draw, so the reward follows that draw's outcome.
    rewards: Vec<(usize, usize, AgreementModel<'a>)>,
}

/// What links a later year of a path to the year before, for [`VerticalModel::draw_sampled`].
pub struct YearLink<'a> {
    /// Every formula's amounts of the year before, `formula * n + region`: its prior.
    pub prior: &'a [f64],
    /// The year changed more than the priors of what the kernels precompute (else only
    /// their floors and caps are recomputed).
    pub full: bool,
    /// The quality response: κ, the standard expenditure of the year before, and the
    /// year's ΔQ before the response.
    pub response: Option<(f64, &'a [f64], &'a [f64])>,
}

/// Per-worker buffers, allocated once per block and overwritten every draw.
pub struct Worker {
    pub data: RegionData,
    pub budget: Budget,
    pub formulas: Vec<Formula>,
    /// One per [`VerticalModel`] reward whose agreement is settled per draw.
    reward_workers: Vec<AgreementWorker>,
    /// Two tiers: the provinces' methods' buffers, and the last passed-down formula's
    /// entitlements and group flows in this draw.
    tiers: TierScratch,
    pub entitlement: Vec<f64>,
    pub group_flows: Vec<GroupFlow>,
    pub allocs: Vec<Allocation>,
    pub ws: Workspace,
    /// The formulas' kernels (refreshed per draw only when inputs they precompute vary).
    pub kernels: Vec<Kernel>,
    pub kscratch: KernelScratch,
    /// The draw's band and grade terms, shared by formulas with the same tables.
    pub shared: SharedTerms,
    /// Per formula: flags, flows and totals of the current draw.
    pub outs: Vec<DrawOut>,
    /// The draw's self-sufficiency ratios, shared by the formulas.
    pub ratio: Vec<f64>,
    pub z_group: Vec<f64>,
    pub gini: crate::metrics::inequality::InequalityScratch,
    /// The draw's Gini of each formula's amounts.
    pub ginis: Vec<f64>,
    pub group_sums: Vec<f64>,
    /// Buffers of the per-draw comparison metrics (grown on first use only).
    pub metrics: crate::metrics::allocation::MetricScratch,
    /// The block's per-draw region amounts, summarised at [`VerticalModel::finish_block`].
    pub block: BlockBuf,
    /// Quantile sketches of the region amounts, kept by the worker across blocks
    /// ([`Worker::keep_sketches`]); empty when the block accumulators hold them.
    pub sketches: Vec<Quantiles>,
}

impl Worker {
    /// The amounts of the last draw, `formula * n + region`.
    pub fn last_draw(&self) -> &[f64] {
        let k = self.kernels.len() * self.data.n;
        &self.block.rows[self.block.filled.saturating_sub(k)..self.block.filled]
    }

    /// Allocate formula `f` of draw `d` with the general allocator, into `allocs[f]`
    /// (with provincial methods, its `x` is what each region finally receives).
    fn allocate(&mut self, f: usize, d: u64, meta: &RegionMeta) -> Result<()> {
        allocate(
            &self.formulas[f],
            &self.data,
            &self.budget,
            &mut self.ws,
            &mut self.allocs[f],
        )
        .map_err(|e| draw_error(d, e))?;
        let mut x = std::mem::take(&mut self.allocs[f].x);
        let done = self.pass_down(f, d, meta, &mut x);
        self.allocs[f].x = x;
        done
    }

    /// Pass formula `f`'s entitlements `x` of draw `d` down through the provinces'
    /// methods, keeping the entitlements in `entitlement` (a no-op without methods).
    fn pass_down(&mut self, f: usize, d: u64, meta: &RegionMeta, x: &mut [f64]) -> Result<()> {
        if self.formulas[f].provincial.is_empty() {
            return Ok(());
        }
        self.entitlement.clear();
        self.entitlement.extend_from_slice(x);
        pass_down(
            &self.formulas[f],
            &self.formulas,
            &self.data,
            &meta.group_idx,
            meta.groups.len(),
            &self.budget,
            x,
            &mut self.group_flows,
            &mut self.tiers,
        )
        .map_err(|e| draw_error(d, e))
    }

    /// Sketch the region amounts into the worker's own [`Worker::sketches`] instead of
    /// each block's accumulator, for runs whose totals end in sketch mode. A sketch
    /// depends only on the multiset of its values, so merging the workers' sketches at the
    /// end ([`VerticalAcc::merge_sketches`]) gives the same bits as merging every block's,
    /// without building and merging 8,400 sketches per block.
    pub fn keep_sketches(&mut self, outputs: usize) {
        self.sketches = vec![Quantiles::new(0, crate::stats::sketch::DEFAULT_ALPHA); outputs];
    }
}

/// Outputs per parallel task of [`VerticalAcc::merge_sketches`].
const MERGE_CHUNK: usize = 256;

impl<'a> VerticalModel<'a> {
    pub fn new(
        v: &'a Vertical,
        noise: Vec<NoiseModel>,
        uncertain: &'a [UncertainParam],
        baseline: usize,
        keep: Vec<usize>,
    ) -> Self {
        let budget_total = uncertain.iter().find(|u| u.target == Target::BudgetTotal);
        let formula_params = (0..v.formulas.len())
            .map(|f| {
                uncertain
                    .iter()
                    .filter(|u| matches!(u.target, Target::Formula { formula, .. } if formula == f))
                    .collect()
            })
            .collect();
        let kernels = v
            .formulas
            .iter()
            .map(|f| Kernel::new(f, &v.regions.data, &v.budget))
            .collect();
        let refresh_all =
            budget_total.is_some() || noise.iter().any(|m| Kernel::depends_on(m.column));
        let mut rewards = Vec::new();
        for (f, formula) in v.formulas.iter().enumerate() {
            for (k, r) in formula.rewards.iter().enumerate() {
                let varies =
                    r.basis == RewardBasis::Performance && !r.agreement.uncertain.is_empty();
                // Validation checked the agreement's correlation matrices, so the model builds.
                if let (true, Ok(m)) = (varies, AgreementModel::new(&r.agreement)) {
                    rewards.push((f, k, m));
                }
            }
        }
        VerticalModel {
            v,
            noise,
            budget_total,
            formula_params,
            baseline,
            keep,
            kernels,
            refresh_all,
            rewards,
        }
    }

    pub fn worker(&self) -> Worker {
        Worker {
            data: self.v.regions.data.clone(),
            budget: self.v.budget.clone(),
            formulas: self.v.formulas.clone(),
            reward_workers: self.rewards.iter().map(|(_, _, m)| m.worker()).collect(),
            tiers: TierScratch::default(),
            entitlement: Vec::new(),
            group_flows: Vec::new(),
            allocs: vec![Allocation::default(); self.v.formulas.len()],
            ws: Workspace::default(),
            kernels: self.kernels.clone(),
            kscratch: KernelScratch::default(),
            shared: SharedTerms::default(),
            outs: vec![DrawOut::default(); self.v.formulas.len()],
            ratio: Vec::new(),
            z_group: Vec::new(),
            gini: Default::default(),
            ginis: Vec::new(),
            group_sums: vec![0.0; self.v.regions.meta.groups.len()],
            metrics: Default::default(),
            block: BlockBuf::default(),
            sketches: Vec::new(),
        }
    }

    /// Sample draw `d`'s shared inputs (budget, region noise) into the worker.
    pub(super) fn sample_shared(&self, seed: u64, d: u64, w: &mut Worker) {
        let mut rng: Rng = stream(seed, d, SUB_SHARED);
        if let Some(u) = self.budget_total {
            w.budget.total = Some(u.dist.sample(&mut rng));
        }
        let base = &self.v.regions.data;
        let meta = &self.v.regions.meta;
        for m in &self.noise {
            let c = m.column;
            m.apply(
                base.col(c),
                &meta.group_idx,
                meta.groups.len(),
                &mut rng,
                &mut w.z_group,
                w.data.col_mut(c),
            );
        }
    }

    /// Sample formula `f`'s uncertain parameters of draw `d` into `w.formulas[f]`; false
    /// when it has none.
    fn sample_formula(&self, seed: u64, d: u64, f: usize, w: &mut Worker) -> bool {
        let params = &self.formula_params[f];
        let mut changed = false;
        if !params.is_empty() {
            let mut rng = stream(seed, d, SUB_FORMULA_BASE + f as u64);
            for u in params {
                let v = u.dist.sample(&mut rng);
                u.target.set(&mut w.budget, &mut w.formulas, v);
            }
            changed = true;
        }
        for (j, (rf, k, m)) in self.rewards.iter().enumerate() {
            if *rf == f {
                let aw = &mut w.reward_workers[j];
                m.evaluate(seed, d, aw);
                let n = self.v.regions.data.n;
                reward_factors(&mut w.formulas[f].rewards[*k], &aw.out, n);
                changed = true;
            }
        }
        changed
    }

    /// Sample draw `d`'s inputs and allocate every formula into `w.allocs` with the general
    /// allocator (full breakdown; for `--save-draws` and comparison metrics).
    pub fn evaluate(&self, seed: u64, d: u64, w: &mut Worker) -> Result<()> {
        self.sample_shared(seed, d, w);
        for f in 0..self.formula_params.len() {
            self.sample_formula(seed, d, f, w);
            w.allocate(f, d, &self.v.regions.meta)?;
        }
        Ok(())
    }

    /// [`evaluate`](Self::evaluate) on shared inputs already sampled into `w` (a later year
    /// of a path), linked to the year before by `link`.
    pub fn evaluate_sampled(
        &self,
        seed: u64,
        d: u64,
        w: &mut Worker,
        link: Option<&YearLink>,
    ) -> Result<()> {
        for f in 0..self.formula_params.len() {
            self.prepare_formula(seed, d, f, w, link);
            w.allocate(f, d, &self.v.regions.meta)?;
        }
        Ok(())
    }

    /// Run draw `d` and add it to `acc`. Region amounts are buffered in the worker's block
    /// and summarised by [`finish_block`](Self::finish_block) (here already when the
    /// buffer holds [`MAX_BUFFERED`] draws, which the engine's summaries never reach).
    pub fn draw(&self, seed: u64, d: u64, w: &mut Worker, acc: &mut VerticalAcc) -> Result<()> {
        self.sample_shared(seed, d, w);
        self.draw_sampled(seed, d, w, acc, None)
    }

    /// [`draw`](Self::draw) on shared inputs already sampled into `w` (a later year of a
    /// path), linked to the year before by `link` when given.
    pub fn draw_sampled(
        &self,
        seed: u64,
        d: u64,
        w: &mut Worker,
        acc: &mut VerticalAcc,
        link: Option<&YearLink>,
    ) -> Result<()> {
        let n = self.v.regions.data.n;
        let nf = w.kernels.len();
        let k = n * nf;
        if k > 0 && w.block.filled / k >= MAX_BUFFERED {
            self.finish_block(w, acc);
        }
        // The row is overwritten by the kernels: the buffer grows on the first block only,
        // at once to a summary's rows rather than by doubling and copying.
        let row0 = w.block.filled;
        if w.block.rows.len() < row0 + k {
            w.block
                .rows
                .grow_to(row0 + k, k * super::SUMMARY_DRAWS as usize);
        }
        w.block.filled = row0 + k;
        self_sufficiency_into(&w.data, &mut w.ratio);
        w.shared.begin_draw();
        for f in 0..nf {
            self.prepare_formula(seed, d, f, w, link);
            let x = &mut w.block.rows[row0 + f * n..row0 + (f + 1) * n];
            w.kernels[f]
                .run_shared(
                    &w.data,
                    &w.ratio,
                    &w.budget,
                    &mut w.kscratch,
                    &mut w.shared,
                    x,
                    &mut w.outs[f],
                )
                .map_err(|e| draw_error(d, e))?;
            if !w.formulas[f].provincial.is_empty() {
                let mut row = std::mem::take(&mut w.block.rows);
                let x = &mut row[row0 + f * n..row0 + (f + 1) * n];
                let done = w.pass_down(f, d, &self.v.regions.meta, x);
                w.block.rows = row;
                done?;
                // Kept only by accumulators built with `with_extras`.
                if let Some(slots) = acc.entitlement.get_mut(f * n..(f + 1) * n) {
                    for (a, &e) in slots.iter_mut().zip(&w.entitlement) {
                        a.push(e);
                    }
                }
            }
        }
        let b = &mut w.block;
        for v in [&mut b.deduction, &mut b.floor, &mut b.cap] {
            if v.len() != k {
                v.clear();
                v.resize(k, 0);
            }
        }
        w.gini.gini_rows(&b.rows[row0..row0 + k], nf, &mut w.ginis);
        for (f, o) in w.outs.iter().enumerate() {
            let add = |hits: &mut [u8], flags: &[u8]| {
                for (h, &g) in hits.iter_mut().zip(flags) {
                    *h += g;
                }
            };
            let r = f * n..(f + 1) * n;
            add(&mut b.deduction[r.clone()], &o.deduction);
            add(&mut b.floor[r.clone()], &o.floor_binds);
            add(&mut b.cap[r], &o.cap_binds);
            acc.deducted[f].push(o.flows.deducted);
            acc.rewarded[f].push(o.flows.rewarded);
            acc.floor_paid[f].push(o.flows.floor_paid);
            acc.unallocated[f].push(o.unallocated);
            acc.gini[f].push(w.ginis[f]);
            acc.kept_deducted[f].push(o.flows.deducted);
            acc.kept_rewarded[f].push(o.flows.rewarded);
        }
        self.keep_and_group(w, row0, acc);
        if !acc.metrics.is_empty() {
            let km = crate::metrics::allocation::Metric::COUNT;
            let groups = &self.v.regions.meta.group_idx;
            for f in 0..nf {
                // The full breakdown (same amounts as the kernel's, bit for bit).
                w.allocate(f, d, &self.v.regions.meta)?;
                let a = &w.allocs[f];
                let vals = w.metrics.compute(&w.formulas[f], &w.data, groups, a);
                for (slot, v) in acc.metrics[f * km..(f + 1) * km].iter_mut().zip(vals) {
                    if let Some(v) = v {
                        slot.push(v);
                    }
                }
            }
        }
        Ok(())
    }

    /// Sample formula `f`'s parameters of draw `d` and bring its kernel up to date, with
    /// its own prior allocation on a later year of a path (see [`draw_sampled`]
    /// (Self::draw_sampled)).
    fn prepare_formula(
        &self,
        seed: u64,
        d: u64,
        f: usize,
        w: &mut Worker,
        link: Option<&YearLink>,
    ) {
        use crate::model::region::Column;
        let n = self.v.regions.data.n;
        let mut refresh = self.sample_formula(seed, d, f, w) || self.refresh_all;
        let prior = link.and_then(|l| Some((l, l.prior.get(f * n..(f + 1) * n)?)));
        if let Some((l, prior)) = prior {
            // Each formula's own history: its floors and caps follow its own amounts.
            w.data
                .col_mut(Column::PriorAllocation)
                .copy_from_slice(prior);
            if let Some((kappa, exp, dq)) = l.response {
                // ΔQ answers the formula's own money of the year before; the grades the
                // draw's formulas share are then this formula's own.
                let own = w.data.col_mut(Column::EqiChange);
                for (i, q) in own.iter_mut().enumerate() {
                    *q = dq[i] + crate::model::path::quality_response(kappa, prior[i], exp[i]);
                }
                w.shared.begin_draw();
            }
            refresh |= l.full;
            if !refresh {
                w.kernels[f].refresh_floors(&w.data);
            }
        }
        if refresh {
            w.kernels[f].refresh(&w.formulas[f], &w.data, &w.budget);
        }
    }

    /// Group totals and the kept draws of the chosen regions, from the draw's amounts in
    /// the block row starting at `row0`. Does nothing for an accumulator built without
    /// [`VerticalAcc::with_extras`].
    fn keep_and_group(&self, w: &mut Worker, row0: usize, acc: &mut VerticalAcc) {
        let groups = w.group_sums.len();
        let nf = w.kernels.len();
        if acc.group_total.len() != groups * nf || acc.kept.len() != self.keep.len() * nf {
            return;
        }
        let n = self.v.regions.data.n;
        let gidx = &self.v.regions.meta.group_idx;
        for f in 0..nf {
            let x = &w.block.rows[row0 + f * n..row0 + (f + 1) * n];
            w.group_sums.iter_mut().for_each(|s| *s = 0.0);
            group_sums_into(x, gidx, &mut w.group_sums);
            for (g, s) in w.group_sums.iter().enumerate() {
                acc.group_total[f * groups + g].push(*s);
            }
            for (k, &i) in self.keep.iter().enumerate() {
                acc.kept[f * self.keep.len() + k].push(x[i]);
            }
        }
    }
}

/// `sums[g] += x[i]` for every region i of group `gidx[i]`, in region order. A group's
/// running sum stays in a register while consecutive regions share the group (regions
/// usually come grouped by province) and is stored when the group changes: the same
/// additions in the same order as adding into `sums` directly, without a store and reload
/// per region (which made this loop a chain of store-forwarding stalls).
fn group_sums_into(x: &[f64], gidx: &[u32], sums: &mut [f64]) {
    let Some(&first) = gidx.first() else {
        return;
    };
    let (mut cur, mut acc) = (first as usize, sums[first as usize]);
    for (x, &g) in x.iter().zip(gidx) {
        let g = g as usize;
        if g != cur {
            sums[cur] = acc;
            cur = g;
            acc = sums[g];
        }
        acc += x;
    }
    sums[cur] = acc;
}

/// A draw's error, with the draw named where the allocator could not know it.
fn draw_error(d: u64, e: Error) -> Error {
    match e {
        Error::InfeasibleFloors { .. } => Error::Runtime(format!("Monte Carlo draw {d}: {e}")),
        Error::ClaimOverflow {
            formula, region, ..
        } => Error::ClaimOverflow {
            formula,
            region,
            draw: Some(d),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::group_sums_into;

    #[test]
    fn group_sums_match_adding_in_region_order() {
        // Groups in runs, interleaved, and revisited: the sums must be the bits of adding
        // each region into its group's total in region order.
        let gidx: Vec<u32> = vec![0, 0, 1, 1, 1, 0, 2, 2, 0, 1, 3, 3, 3, 2];
        let x: Vec<f64> = (0..gidx.len())
            .map(|i| 0.1 + 1e15 * f64::from(i as u32 % 3) + 1.0 / (1.0 + i as f64))
            .collect();
        let mut want = vec![0.5; 4];
        for (v, &g) in x.iter().zip(&gidx) {
            want[g as usize] += v;
        }
        let mut got = vec![0.5; 4];
        group_sums_into(&x, &gidx, &mut got);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want));
        group_sums_into(&[], &[], &mut got);
    }
}
