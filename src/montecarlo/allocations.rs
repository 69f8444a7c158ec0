//! Monte Carlo over the vertical allocator: per-draw inputs, allocation of every formula on
//! the same sampled inputs (common random numbers), and mergeable accumulators.

use super::Kept;
use crate::error::{Error, Result};
use crate::model::formula_param::Target;
use crate::model::region::RegionData;
use crate::model::{Budget, Formula};
use crate::model::{UncertainParam, Vertical};
use crate::sampling::noise::NoiseModel;
use crate::sampling::rng::{Rng, SUB_FORMULA_BASE, SUB_SHARED, stream};
use crate::stats::{Moments, Probability, Quantiles};
use crate::vertical::kernel::{DrawOut, Kernel, KernelScratch, SharedTerms, self_sufficiency_into};
use crate::vertical::{Allocation, Workspace, allocate};

/// Moments and quantiles of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Acc {
    pub m: Moments,
    pub q: Quantiles,
}

impl Acc {
    pub fn new(exact_limit: usize) -> Self {
        Acc {
            m: Moments::new(),
            q: Quantiles::new(exact_limit, crate::stats::sketch::DEFAULT_ALPHA),
        }
    }
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.m.push(x);
        self.q.push(x);
    }
    pub fn merge(&mut self, o: &Acc) {
        self.m.merge(&o.m);
        self.q.merge(&o.q);
    }
}

/// Accumulators of the vertical model, for one block of draws or for the whole run.
/// Region-level vectors are indexed `formula * n + region`.
#[derive(Debug, Clone, PartialEq)]
pub struct VerticalAcc {
    pub n: usize,
    pub x: Vec<Acc>,
    /// Paired difference against the baseline formula (moments only: the report gives its
    /// mean and standard error).
    pub diff: Vec<Moments>,
    pub gain: Vec<Probability>,
    pub deduction: Vec<Probability>,
    pub floor: Vec<Probability>,
    pub cap: Vec<Probability>,
    /// Per formula: money removed by quality deductions (at the budget scale).
    pub deducted: Vec<Acc>,
    /// Per formula: money added by quality rewards (at the budget scale).
    pub rewarded: Vec<Acc>,
    /// Per formula: money paid to lift regions to their floors.
    pub floor_paid: Vec<Acc>,
    pub unallocated: Vec<Acc>,
    pub gini: Vec<Acc>,
    /// Allocation summed over each group, indexed `formula * groups + group`.
    pub group_total: Vec<Acc>,
    /// Kept draws of the allocation of the model's `keep` regions, indexed
    /// `formula * keep.len() + k`.
    pub kept: Vec<Kept>,
    /// Kept draws of the money moved by deductions and rewards, per formula.
    pub kept_deducted: Vec<Kept>,
    pub kept_rewarded: Vec<Kept>,
    /// Optional per-draw comparison metrics (issue 6), indexed
    /// `formula * Metric::COUNT + metric` ([`crate::metrics::allocation::Metric`]). Empty
    /// unless enabled with [`VerticalAcc::with_metrics`]; a metric that is undefined in a
    /// draw (for example a rank correlation of a constant) is not pushed for that draw.
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
}

/// Per-worker buffers, allocated once per block and overwritten every draw.
pub struct Worker {
    pub data: RegionData,
    pub budget: Budget,
    pub formulas: Vec<Formula>,
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
    /// Sketch the region amounts into the worker's own [`Worker::sketches`] instead of
    /// each block's accumulator, for runs whose totals end in sketch mode. A sketch
    /// depends only on the multiset of its values, so merging the workers' sketches at the
    /// end ([`VerticalAcc::merge_sketches`]) gives the same bits as merging every block's,
    /// without building and merging 8,400 sketches per block.
    pub fn keep_sketches(&mut self, outputs: usize) {
        self.sketches = vec![Quantiles::new(0, crate::stats::sketch::DEFAULT_ALPHA); outputs];
    }
}

/// The region amounts of one block of draws, draw-major (`rows[j · k + f · n + i]`), plus
/// per-output flag counts. Moments and the paired difference are computed tile by tile at
/// the end of the block ([`VerticalModel::finish_block`]), which vectorises, instead of a
/// Welford update per value per draw.
#[derive(Debug, Clone, Default)]
pub struct BlockBuf {
    rows: Vec<f64>,
    /// Values of `rows` holding draws of the current block (the rest is old scratch).
    filled: usize,
    /// Per output: buffered draws with a deduction, a binding floor, a binding cap. At
    /// most [`MAX_BUFFERED`] draws are buffered, so a byte holds each count (the adds
    /// then run 16 outputs to an SSE2 instruction).
    deduction: Vec<u8>,
    floor: Vec<u8>,
    cap: Vec<u8>,
    /// Scratch: one output's values in the buffered draws.
    col: Vec<f64>,
}

/// Most draws a worker buffers between summaries (the flag counts are bytes).
const MAX_BUFFERED: usize = u8::MAX as usize;
const _: () = assert!(super::SUMMARY_DRAWS <= MAX_BUFFERED as u64);

/// Outputs per parallel task of [`VerticalAcc::merge_sketches`].
const MERGE_CHUNK: usize = 256;

/// Regions per tile of [`VerticalModel::finish_block`]: a tile of a 128-draw summary is
/// 128 KiB, which stays in the L2 cache with its baseline columns and its sketches' counts
/// while the moments pass and then the sketch lanes read it. Measured on W1 (perf, summary
/// time relative to the Gini's): with 32-draw summaries 64 and 512 regions were slower
/// than 128 and 256; with 128-draw summaries 64, 128 and 256 were within noise, 128 a
/// little ahead.
const TILE: usize = 128;

/// One pass over the block's rows (`r` rows of `k` values) for the `width` columns from
/// `c0` and their baseline columns from `bc0`: moments of the amounts and of the paired
/// differences, and the gain counts, merged into `acc`. Returns each column's smallest and
/// largest amount.
fn summarise_tile(
    rows: &[f64],
    k: usize,
    r: usize,
    c0: usize,
    bc0: usize,
    width: usize,
    acc: &mut VerticalAcc,
) -> ([f64; TILE], [f64; TILE]) {
    let mut kx = [0.0; TILE];
    let mut kd = [0.0; TILE];
    let mut sx = [0.0; TILE];
    let mut qx = [0.0; TILE];
    let mut sd = [0.0; TILE];
    let mut qd = [0.0; TILE];
    let mut lox = [f64::INFINITY; TILE];
    let mut hix = [f64::NEG_INFINITY; TILE];
    let mut lod = [f64::INFINITY; TILE];
    let mut hid = [f64::NEG_INFINITY; TILE];
    let mut gain = [0u64; TILE];
    let first = &rows[..k];
    for t in 0..width {
        kx[t] = first[c0 + t];
        kd[t] = first[c0 + t] - first[bc0 + t];
    }
    // Amounts are finite (the allocator never pays NaN), so compares stand in for the
    // NaN-aware `min`/`max`, which cost several instructions each.
    let (lo, hi) = (
        |a: f64, b: f64| if b < a { b } else { a },
        |a: f64, b: f64| if b > a { b } else { a },
    );
    if c0 == bc0 {
        // The baseline itself: every difference is 0 (its moments and gains stay 0).
        for row in rows.chunks_exact(k) {
            let x = &row[c0..c0 + width];
            for t in 0..width {
                let v = x[t];
                let dv = v - kx[t];
                sx[t] += dv;
                qx[t] += dv * dv;
                lox[t] = lo(lox[t], v);
                hix[t] = hi(hix[t], v);
            }
        }
        lod = [0.0; TILE];
        hid = [0.0; TILE];
    } else {
        for row in rows.chunks_exact(k) {
            let x = &row[c0..c0 + width];
            let bx = &row[bc0..bc0 + width];
            for t in 0..width {
                let v = x[t];
                let d = v - bx[t];
                let (dv, dd) = (v - kx[t], d - kd[t]);
                sx[t] += dv;
                qx[t] += dv * dv;
                sd[t] += dd;
                qd[t] += dd * dd;
                lox[t] = lo(lox[t], v);
                hix[t] = hi(hix[t], v);
                lod[t] = lo(lod[t], d);
                hid[t] = hi(hid[t], d);
                gain[t] += u64::from(d > 0.0);
            }
        }
    }
    let rf = r as f64;
    let moments = |shift: f64, s: f64, q: f64, lo: f64, hi: f64| {
        let m2 = (q - s * s / rf).max(0.0);
        Moments::from_parts(r as u64, shift + s / rf, m2, lo, hi)
    };
    for t in 0..width {
        let c = c0 + t;
        acc.x[c]
            .m
            .merge(&moments(kx[t], sx[t], qx[t], lox[t], hix[t]));
        acc.diff[c].merge(&moments(kd[t], sd[t], qd[t], lod[t], hid[t]));
        acc.gain[c].n += r as u64;
        acc.gain[c].hits += gain[t];
    }
    (lox, hix)
}

/// Add the tile's columns `c0 .. c0 + qs.len()` of the block's rows (`r` rows of `k`
/// values; column t's extremes `lo[t]`, `hi[t]`) to their quantiles `qs`. Columns whose
/// sketch takes [`SketchLane`]s are counted row by row, side by side, straight from the
/// rows in cache (no column copy, no range or sign check per value); the rest (exact mode,
/// zeros) are copied out column by column into `col` for [`Quantiles::push_slice`]. Both
/// give the state of pushing each column's values in any order.
///
/// [`SketchLane`]: crate::stats::sketch::SketchLane
#[allow(clippy::too_many_arguments)]
fn sketch_tile(
    rows: &[f64],
    k: usize,
    r: usize,
    c0: usize,
    lo: &[f64; TILE],
    hi: &[f64; TILE],
    mut qs: Vec<&mut Quantiles>,
    col: &mut Vec<f64>,
) {
    let width = qs.len();
    let mut lanes: Vec<_> = qs
        .iter_mut()
        .zip(lo.iter().zip(hi))
        .map(|(q, (&lo, &hi))| q.sketch_lane(lo, hi, r as u64))
        .collect();
    if lanes.iter().any(Option::is_some) {
        for row in rows.chunks_exact(k) {
            for (lane, &x) in lanes.iter_mut().zip(&row[c0..c0 + width]) {
                if let Some(lane) = lane {
                    lane.add(x);
                }
            }
        }
    }
    let general: Vec<usize> = (0..width).filter(|&t| lanes[t].is_none()).collect();
    drop(lanes);
    for t in general {
        col.clear();
        col.extend(rows.chunks_exact(k).map(|row| row[c0 + t]));
        qs[t].push_slice(col);
    }
}

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
        VerticalModel {
            v,
            noise,
            budget_total,
            formula_params,
            baseline,
            keep,
            kernels,
            refresh_all,
        }
    }

    pub fn worker(&self) -> Worker {
        Worker {
            data: self.v.regions.data.clone(),
            budget: self.v.budget.clone(),
            formulas: self.v.formulas.clone(),
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
    fn sample_shared(&self, seed: u64, d: u64, w: &mut Worker) {
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
        if params.is_empty() {
            return false;
        }
        let mut rng = stream(seed, d, SUB_FORMULA_BASE + f as u64);
        for u in params {
            let v = u.dist.sample(&mut rng);
            u.target.set(&mut w.budget, &mut w.formulas, v);
        }
        true
    }

    /// Sample draw `d`'s inputs and allocate every formula into `w.allocs` with the general
    /// allocator (full breakdown; for `--save-draws` and comparison metrics).
    pub fn evaluate(&self, seed: u64, d: u64, w: &mut Worker) -> Result<()> {
        self.sample_shared(seed, d, w);
        for f in 0..self.formula_params.len() {
            self.sample_formula(seed, d, f, w);
            allocate(
                &w.formulas[f],
                &w.data,
                &w.budget,
                &mut w.ws,
                &mut w.allocs[f],
            )
            .map_err(|e| draw_error(d, e))?;
        }
        Ok(())
    }

    /// Run draw `d` and add it to `acc`. Region amounts are buffered in the worker's block
    /// and summarised by [`finish_block`](Self::finish_block) (here already when the
    /// buffer holds [`MAX_BUFFERED`] draws, which the engine's summaries never reach).
    pub fn draw(&self, seed: u64, d: u64, w: &mut Worker, acc: &mut VerticalAcc) -> Result<()> {
        let n = self.v.regions.data.n;
        let nf = w.kernels.len();
        let k = n * nf;
        if k > 0 && w.block.filled / k >= MAX_BUFFERED {
            self.finish_block(w, acc);
        }
        self.sample_shared(seed, d, w);
        // The row is overwritten by the kernels: the buffer grows on the first block only.
        let row0 = w.block.filled;
        if w.block.rows.len() < row0 + k {
            w.block.rows.resize(row0 + k, 0.0);
        }
        w.block.filled = row0 + k;
        self_sufficiency_into(&w.data, &mut w.ratio);
        w.shared.begin_draw();
        for f in 0..nf {
            if self.sample_formula(seed, d, f, w) || self.refresh_all {
                w.kernels[f].refresh(&w.formulas[f], &w.data, &w.budget);
            }
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
                allocate(
                    &w.formulas[f],
                    &w.data,
                    &w.budget,
                    &mut w.ws,
                    &mut w.allocs[f],
                )
                .map_err(|e| draw_error(d, e))?;
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

    /// Summarise the block's buffered region amounts into `acc` (moments and quantiles of
    /// each amount; moments and gain probability of the paired difference) and empty the
    /// buffer. Call once after the block's last [`draw`](Self::draw).
    ///
    /// The block is read in tiles of [`TILE`] regions of one formula: one pass over the
    /// tile's rows accumulates, per column, sums shifted by the column's first value
    /// (Σd, Σd² with d = v − v₀, exact enough because v₀ is a draw of the same
    /// distribution), extremes and gain counts, for the amount and the paired difference
    /// alike; then each column of the tile, now in cache, goes into its quantile sketch.
    pub fn finish_block(&self, w: &mut Worker, acc: &mut VerticalAcc) {
        let n = self.v.regions.data.n;
        let nf = w.allocs.len();
        let k = n * nf;
        let all = std::mem::take(&mut w.block.rows);
        let rows = &all[..w.block.filled.min(all.len())];
        let r = rows.len().checked_div(k).unwrap_or(0);
        if r > 0 {
            let b = &mut w.block;
            // One column of the rows, for its quantile sketch.
            let mut col = std::mem::take(&mut b.col);
            for f in 0..nf {
                for i0 in (0..n).step_by(TILE) {
                    let width = TILE.min(n - i0);
                    let (c0, bc0) = (f * n + i0, self.baseline * n + i0);
                    let cols = c0..c0 + width;
                    // The tile's sketch counts are scattered over the heap and were last
                    // touched a summary ago: ask for them now, so that they arrive while
                    // the moments pass runs.
                    match w.sketches.get(cols.clone()) {
                        Some(qs) => qs.iter().for_each(Quantiles::prefetch),
                        None => acc.x[cols.clone()].iter().for_each(|a| a.q.prefetch()),
                    }
                    let (lo, hi) = summarise_tile(rows, k, r, c0, bc0, width, acc);
                    let qs: Vec<&mut Quantiles> = match w.sketches.get_mut(cols.clone()) {
                        Some(q) => q.iter_mut().collect(),
                        None => acc.x[cols].iter_mut().map(|a| &mut a.q).collect(),
                    };
                    sketch_tile(rows, k, r, c0, &lo, &hi, qs, &mut col);
                }
            }
            let counts = |ps: &mut [Probability], hits: &mut Vec<u8>| {
                for (p, h) in ps.iter_mut().zip(hits.iter_mut()) {
                    p.n += r as u64;
                    p.hits += u64::from(*h);
                    *h = 0;
                }
            };
            counts(&mut acc.deduction, &mut b.deduction);
            counts(&mut acc.floor, &mut b.floor);
            counts(&mut acc.cap, &mut b.cap);
            b.col = col;
        }
        w.block.rows = all;
        w.block.filled = 0;
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
    use super::{Quantiles, TILE, group_sums_into, sketch_tile};
    use crate::stats::sketch::DEFAULT_ALPHA;

    #[test]
    fn flag_counts_survive_long_buffers() {
        use super::{VerticalAcc, VerticalModel};
        use crate::model::region::Column;
        use crate::sampling::noise::{NoiseKind, NoiseModel, Sigma};
        use crate::synth::{synth_budget, synth_formulas, synth_regions};
        let mut regions = synth_regions(40, 3, 1);
        // Quality well below every threshold: every region has a deduction in every draw.
        regions.data.col_mut(Column::EqiChange).fill(-5.0);
        let v = crate::model::Vertical {
            formulas: synth_formulas(&regions.meta),
            budget: synth_budget(&regions),
            regions,
            regions_file: Default::default(),
            region_locs: Vec::new(),
            reference: None,
            extra: Default::default(),
        };
        let noise = |column, sigma| NoiseModel {
            column,
            kind: NoiseKind::Additive,
            sigma: Sigma::Const(sigma),
            rho: 0.0,
            min: 0.0,
            max: f64::INFINITY,
        };
        let noise = vec![
            NoiseModel {
                min: f64::NEG_INFINITY,
                ..noise(Column::EqiChange, 0.5)
            },
            noise(Column::DamageIndex, 0.05),
        ];
        let m = VerticalModel::new(&v, noise, &[], 0, Vec::new());
        let (n, nf) = (40, v.formulas.len());
        // 300 draws summarised once at the end (the buffer holds at most 255: a byte per
        // count), against the same draws summarised every 10.
        let run = |every: u64| {
            let (mut w, mut acc) = (m.worker(), VerticalAcc::new(n, nf, 0));
            for d in 0..300 {
                m.draw(7, d, &mut w, &mut acc).unwrap();
                if (d + 1) % every == 0 {
                    m.finish_block(&mut w, &mut acc);
                }
            }
            m.finish_block(&mut w, &mut acc);
            acc
        };
        let (long, short) = (run(1000), run(10));
        for (a, b) in [
            (&long.deduction, &short.deduction),
            (&long.floor, &short.floor),
            (&long.cap, &short.cap),
        ] {
            assert_eq!(a, b);
            assert!(a.iter().all(|p| p.n == 300));
        }
        assert!(long.deduction.iter().all(|p| p.hits == 300));
        assert!(long.x.iter().all(|a| a.m.count() == 300));
    }

    #[test]
    fn tile_sketches_match_pushing_each_value() {
        // 33 rows of 7 values; the tile is columns 1..6: positive spread values, a column
        // with zeros, one with negatives, a constant one, and positive values again.
        let (k, r, c0, width) = (7, 33, 1, 5);
        let value = |d: usize, c: usize| {
            let x = (1.0 + d as f64 * 0.37 + c as f64).powf(1.5);
            match c {
                2 if d.is_multiple_of(5) => 0.0,
                3 => -x,
                4 => 2.5,
                _ => x,
            }
        };
        let rows: Vec<f64> = (0..r)
            .flat_map(|d| (0..k).map(move |c| value(d, c)))
            .collect();
        let (mut lo, mut hi) = ([f64::INFINITY; TILE], [f64::NEG_INFINITY; TILE]);
        for t in 0..width {
            for d in 0..r {
                lo[t] = lo[t].min(value(d, c0 + t));
                hi[t] = hi[t].max(value(d, c0 + t));
            }
        }
        // Sketches holding earlier values (one of them below the tile's range), and one
        // quantile estimator still in exact mode.
        let start = |t: usize| {
            let mut q = Quantiles::new(if t == 4 { 1000 } else { 0 }, DEFAULT_ALPHA);
            q.push(0.5 + t as f64);
            q
        };
        let mut got: Vec<Quantiles> = (0..width).map(start).collect();
        let mut want = got.clone();
        let mut col = Vec::new();
        sketch_tile(
            &rows,
            k,
            r,
            c0,
            &lo,
            &hi,
            got.iter_mut().collect(),
            &mut col,
        );
        for (t, q) in want.iter_mut().enumerate() {
            (0..r).for_each(|d| q.push(value(d, c0 + t)));
        }
        assert_eq!(got, want);
    }

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
