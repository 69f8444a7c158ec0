//! Monte Carlo engine (docs/model.md §3): reproducible parallel draws with common random numbers.
//!
//! Reproducibility: draw d's random numbers come only from streams keyed by
//! `(seed, d, substream)` ([`crate::sampling::rng::stream`]). Draws are grouped in blocks
//! whose size depends only on the scenario's output count, never on the thread count; each
//! block is accumulated sequentially by one worker, and blocks are merged into the run's
//! totals strictly in block order as they finish ([`Schedule`]). So the
//! arithmetic, and hence every output bit, is the same on 1 thread or 64.
//!
//! Memory is bounded: accumulators hold moments and a quantile estimator per output that is
//! exact up to a limit chosen from [`EXACT_VALUES_BUDGET`] and a fixed-size sketch above it,
//! and at most [`WAVE_BLOCKS`] block accumulators exist at a time.

pub mod acc;
pub mod allocations;
pub mod path;
mod rows;
pub mod saved;
mod schedule;
pub mod settlements;
pub mod sketch_sets;
mod summary;
pub mod tree;

use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::sampling::noise::{NoiseKind, NoiseModel, Sigma};
use allocations::{VerticalAcc, VerticalModel};
use schedule::Schedule;
use serde::{Deserialize, Serialize};
use settlements::{AgreementAcc, AgreementModel};
use tree::{BlockTree, Mergeable};

/// Most blocks handed out but not yet merged: two per thread, at most this many. It bounds
/// memory only; results do not depend on it.
pub const WAVE_BLOCKS: usize = 8;
/// Total number of raw values kept for exact quantiles across all outputs (8 bytes each:
/// 32 MiB). Past it, each output's quantiles come from its sketch.
pub const EXACT_VALUES_BUDGET: usize = 4_000_000;
/// Most draws in a block; fewer for scenarios with many outputs.
pub const MAX_BLOCK_DRAWS: u64 = 256;
/// Values a block accumulator may hold in exact mode (bounds the memory of the blocks in flight).
const BLOCK_VALUES_BUDGET: u64 = 1_000_000;
/// Values a block may buffer in sketch mode, where it keeps no raw values past the block
/// (its per-draw amounts matrix: 32 MiB per worker). Larger blocks mean fewer block
/// accumulators to build and merge.
const SKETCH_BLOCK_VALUES: u64 = 4_000_000;

/// Draws a worker buffers before summarising them into its block accumulator
/// ([`VerticalModel::finish_block`]); blocks of scenarios with many outputs are shorter
/// and end their summary sooner. A summary's cost is mostly reaching each output's sketch
/// counts, once per summary, so longer summaries are cheaper per draw, until a summary's
/// rows no longer fit the cache beside the sketches (128 draws of W1 are 8.6 MiB per
/// worker; 256 is no faster). Where the summaries fall depends only on the draw index, so
/// results do not depend on the thread count.
pub const SUMMARY_DRAWS: u64 = 128;

/// Draws kept as raw values for histograms (the first ones by draw index).
pub const KEEP_DRAWS: usize = 2000;

/// The first [`KEEP_DRAWS`] values of an output, in draw order. Blocks are merged in block
/// order, so the kept values are draws 0, 1, 2, … whatever the thread count.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    #[serde(with = "crate::stats::columns::vec")]
    pub values: Vec<f64>,
}

impl Kept {
    #[inline]
    pub fn push(&mut self, x: f64) {
        if self.values.len() < KEEP_DRAWS {
            self.values.push(x);
        }
    }

    pub fn merge(&mut self, o: &Kept) {
        let room = KEEP_DRAWS.saturating_sub(self.values.len());
        self.values.extend(o.values.iter().take(room));
    }
}

/// Run settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub draws: u64,
    pub seed: u64,
    pub threads: usize,
    /// Index of the baseline formula for paired differences.
    pub baseline: usize,
    /// Regions whose draws are kept for histograms.
    pub keep_regions: Vec<usize>,
    /// Also return every draw ([`saved::SavedDraws`]; `--save-draws`, small runs only).
    pub save_draws: bool,
    /// Checked between blocks of draws: a cancelled run stops with
    /// [`Error::Interrupted`].
    pub cancel: crate::Cancel,
    /// Run only this shard's blocks ([`run_state`]); `None` runs them all.
    pub shard: Option<Shard>,
}

pub use crate::model::Shard;

/// Monte Carlo results of a scenario.
#[derive(Debug, Clone)]
pub struct McResults {
    pub draws: u64,
    pub exact_limit: usize,
    pub vertical: Option<VerticalAcc>,
    /// On a multi-year path, the vertical accumulators of years 2, 3, … (`vertical` is
    /// year 1's); empty otherwise.
    pub path: Vec<VerticalAcc>,
    /// One accumulator per agreement, in scenario order.
    pub agreements: Vec<AgreementAcc>,
    /// Every draw, with `save_draws`.
    pub saved: Option<saved::SavedDraws>,
}

/// Draws per block for a scenario with `outputs` quantile outputs, when blocks keep their
/// values (`sketch` false) or sketch them.
pub fn block_draws(outputs: usize, sketch: bool) -> u64 {
    let budget = if sketch {
        SKETCH_BLOCK_VALUES
    } else {
        BLOCK_VALUES_BUDGET
    };
    (budget / outputs.max(1) as u64).clamp(1, MAX_BLOCK_DRAWS)
}

/// Exact-quantile limit per output.
pub fn exact_limit(outputs: usize) -> usize {
    (EXACT_VALUES_BUDGET / outputs.max(1)).min(crate::stats::quantiles::DEFAULT_EXACT_LIMIT)
}

/// The accumulators of one block of draws, of a run of blocks, or of the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAcc {
    pub vertical: Option<VerticalAcc>,
    /// Years 2, 3, … of a path.
    pub path: Vec<VerticalAcc>,
    pub agreements: Vec<AgreementAcc>,
}

impl Mergeable for RunAcc {
    /// Append the accumulator of the blocks right after this one's.
    fn merge(&mut self, part: &RunAcc) {
        if let (Some(a), Some(b)) = (self.vertical.as_mut(), part.vertical.as_ref()) {
            a.merge(b);
        }
        for (a, b) in self.path.iter_mut().zip(&part.path) {
            a.merge(b);
        }
        for (a, b) in self.agreements.iter_mut().zip(&part.agreements) {
            a.merge(b);
        }
    }
}

/// Optional extra work per draw.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Accumulate the comparison metrics of every formula in every draw
    /// ([`VerticalAcc::metrics`]); used by `ecocomp compare`.
    pub draw_metrics: bool,
}

/// Run `settings.draws` draws. `progress` is called from the calling thread after each
/// block merged with the number of draws done.
pub fn run(
    scn: &Scenario,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<McResults> {
    run_with(scn, settings, RunOptions::default(), progress)
}

/// [`run`] with extra per-draw work; the draws and every other output are the same.
pub fn run_with(
    scn: &Scenario,
    settings: &Settings,
    opts: RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<McResults> {
    run_draws(scn, settings, opts, progress).map_err(|e| scn.locate(e))
}

fn run_draws(
    scn: &Scenario,
    settings: &Settings,
    opts: RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<McResults> {
    let run = Run::new(scn, settings, opts)?;
    let pool = thread_pool(settings.threads)?;
    let state = run.state(&pool, progress)?;
    let mut results = run.finish(&pool, state)?;
    if settings.save_draws {
        results.saved = Some(saved::save_draws(
            scn,
            settings,
            run.model.as_ref(),
            &run.agreements,
        )?);
    }
    Ok(results)
}

fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start {threads} worker threads: {e}")))
}

/// The mergeable state of a run over a contiguous range of its blocks: what a shard
/// writes, and what `merge` combines (docs/model.md §7). Everything in it merges exactly:
/// the block tree repeats the single run's merges ([`tree`]), and sketches are integer
/// counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McState {
    /// Draws of the whole run, and draws per block.
    pub draws: u64,
    pub block: u64,
    /// The blocks this state covers.
    pub blocks: std::ops::Range<u64>,
    pub exact_limit: usize,
    pub tree: BlockTree<RunAcc>,
    /// Per worker, its sketches of the region amounts (sketch mode only).
    pub sketches: sketch_sets::SketchSets,
}

impl McState {
    /// Append the state of the blocks right after this one's.
    pub fn append(&mut self, later: McState) -> std::result::Result<(), String> {
        if (later.draws, later.block, later.exact_limit)
            != (self.draws, self.block, self.exact_limit)
        {
            return Err("the states are of runs with different draws or blocks".into());
        }
        if later.blocks.start != self.blocks.end {
            return Err(format!(
                "blocks {}..{} do not follow blocks {}..{}",
                later.blocks.start, later.blocks.end, self.blocks.start, self.blocks.end
            ));
        }
        self.tree.append(later.tree)?;
        self.sketches = std::mem::take(&mut self.sketches).fold(later.sketches)?;
        self.blocks.end = later.blocks.end;
        Ok(())
    }
}

/// Run the blocks of `settings.shard` (all of them when `None`) and return their mergeable
/// state; [`finish`] turns the state of every block into the run's results.
pub fn run_state(
    scn: &Scenario,
    settings: &Settings,
    opts: RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<McState> {
    let run = Run::new(scn, settings, opts).map_err(|e| scn.locate(e))?;
    let pool = thread_pool(settings.threads)?;
    run.state(&pool, progress).map_err(|e| scn.locate(e))
}

/// The draws of `settings.shard` (all draws when `None`), `first..end`.
pub fn draw_range(
    scn: &Scenario,
    settings: &Settings,
    opts: RunOptions,
) -> Result<std::ops::Range<u64>> {
    let run = Run::new(scn, settings, opts)?;
    let b = run.block_range();
    Ok((b.start * run.block).min(settings.draws)..(b.end * run.block).min(settings.draws))
}

/// The results of a run from the state of all its blocks (for example, merged shards).
pub fn finish(
    scn: &Scenario,
    settings: &Settings,
    opts: RunOptions,
    state: McState,
) -> Result<McResults> {
    let run = Run::new(scn, settings, opts)?;
    run.finish(&thread_pool(settings.threads)?, state)
}

/// What one run keeps fixed: the models drawn from, and how the draws are cut into blocks.
struct Run<'a> {
    scn: &'a Scenario,
    settings: &'a Settings,
    opts: RunOptions,
    model: Option<VerticalModel<'a>>,
    /// The later years of a multi-year path.
    path: Option<path::PathModel<'a>>,
    /// Years of the path (1 without one).
    years: usize,
    agreements: Vec<AgreementModel<'a>>,
    /// Regions and formulas of the vertical model (0 and 0 without one).
    n: usize,
    nf: usize,
    /// Exact-quantile limit of the run's totals, and of each block's accumulators.
    limit: usize,
    block_limit: usize,
    /// The totals end in sketch mode.
    sketch: bool,
    /// Draws per block.
    block: u64,
    /// Most blocks handed out but not yet merged.
    window: u64,
}

impl<'a> Run<'a> {
    fn new(scn: &'a Scenario, settings: &'a Settings, opts: RunOptions) -> Result<Self> {
        let model = scn.vertical.as_ref().map(|v| {
            VerticalModel::new(
                v,
                noise_models(&scn.noise, v),
                &scn.uncertain,
                settings.baseline,
                settings.keep_regions.clone(),
            )
        });
        let agreements = scn
            .agreements
            .iter()
            .map(AgreementModel::new)
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(Error::Runtime)?;
        let (n, nf) = scn
            .vertical
            .as_ref()
            .map_or((0, 0), |v| (v.regions.data.n, v.formulas.len()));
        let path = match (&scn.policy_path, &scn.vertical) {
            (Some(p), Some(v)) if p.len() > 1 => Some(path::PathModel::new(
                p,
                v,
                noise_models(&scn.noise, v),
                scn.noise.iter().map(|s| s.ar1).collect(),
            )),
            _ => None,
        };
        let years = path.as_ref().map_or(1, |p| p.path.len());
        let outputs = (years * VerticalAcc::outputs(n, nf)
            + scn
                .agreements
                .iter()
                .map(AgreementAcc::outputs)
                .sum::<usize>()
            + if opts.draw_metrics {
                nf * crate::metrics::allocation::Metric::COUNT
            } else {
                0
            })
        .max(1);
        let limit = exact_limit(outputs);
        // When the run has more draws than the exact limit, the totals end in sketch mode;
        // the blocks then sketch their values on the workers (limit 0) instead of keeping
        // them for the calling thread to sketch while merging. A sketch depends only on the
        // multiset of values, so the quantiles are the same bits either way.
        let sketch = settings.draws > limit as u64;
        Ok(Run {
            scn,
            settings,
            opts,
            model,
            path,
            years,
            agreements,
            n,
            nf,
            limit,
            block_limit: if sketch { 0 } else { limit },
            sketch,
            // In sketch mode a block holds no raw values, and each year of a path buffers
            // its own draws (`finish_block`), so a path's blocks are as long as one year's.
            block: block_draws(
                if sketch {
                    outputs.div_ceil(years)
                } else {
                    outputs
                },
                sketch,
            ),
            window: (2 * settings.threads.max(1)).min(WAVE_BLOCKS) as u64,
        })
    }

    /// Blocks of the whole run.
    fn all_blocks(&self) -> u64 {
        self.settings.draws.div_ceil(self.block)
    }

    /// The blocks this run computes: its shard's, or all.
    fn block_range(&self) -> std::ops::Range<u64> {
        let all = self.all_blocks();
        self.settings.shard.map_or(0..all, |s| s.part(all))
    }

    /// Run this run's blocks and return their state.
    fn state(&self, pool: &rayon::ThreadPool, progress: &mut dyn FnMut(u64)) -> Result<McState> {
        let blocks = self.block_range();
        let (tree, done) = self.blocks(pool, blocks.clone(), progress)?;
        Ok(McState {
            draws: self.settings.draws,
            block: self.block,
            blocks,
            exact_limit: self.limit,
            tree,
            // One set of sketches, whatever the thread count: a shard's state is then the
            // same size on any number of threads, and a merge decodes and keeps one set per
            // shard at most.
            sketches: sketch_sets::SketchSets::folded(
                done.into_iter()
                    .map(|(w, yw)| {
                        let mut all = w.sketches;
                        for y in yw.iter().flat_map(|yw| &yw.years) {
                            all.extend_from_slice(&y.sketches);
                        }
                        all
                    })
                    .collect(),
            ),
        })
    }

    /// The run's results from the state of every block.
    fn finish(&self, pool: &rayon::ThreadPool, state: McState) -> Result<McResults> {
        let all = 0..self.all_blocks();
        if state.blocks != all || (state.draws, state.block) != (self.settings.draws, self.block) {
            return Err(Error::Runtime(format!(
                "the state covers blocks {}..{} of {} draws in blocks of {}, not the run's {}..{} of {} in blocks of {}",
                state.blocks.start,
                state.blocks.end,
                state.draws,
                state.block,
                all.start,
                all.end,
                self.settings.draws,
                self.block
            )));
        }
        let mut total = self.new_acc(self.limit);
        if let Some(t) = state.tree.finish() {
            total.merge(&t);
        }
        // Each worker's sketches hold year 1's outputs, then year 2's, and so on.
        let k = self.n * self.nf;
        let sets = state.sketches.decode().map_err(Error::Runtime)?;
        let years = total.vertical.iter_mut().chain(total.path.iter_mut());
        for (t, acc) in years.enumerate() {
            let sketches: Vec<&[crate::stats::Quantiles]> = sets
                .iter()
                .map(|w| w.get(t * k..(t + 1) * k).unwrap_or(&[]))
                .collect();
            pool.install(|| acc.merge_sketches(&sketches));
        }
        Ok(McResults {
            draws: self.settings.draws,
            exact_limit: self.limit,
            vertical: total.vertical,
            path: total.path,
            agreements: total.agreements,
            saved: None,
        })
    }

    /// Empty accumulators of the run's outputs, exact up to `limit` values.
    fn new_acc(&self, limit: usize) -> RunAcc {
        RunAcc {
            vertical: self.model.as_ref().map(|m| {
                let acc = VerticalAcc::new(self.n, self.nf, limit).with_extras(m, limit);
                if self.opts.draw_metrics {
                    acc.with_metrics(self.nf, limit)
                } else {
                    acc
                }
            }),
            agreements: self
                .scn
                .agreements
                .iter()
                .map(|a| AgreementAcc::new(a, limit))
                .collect(),
            path: match (&self.model, &self.path) {
                (Some(m), Some(_)) => (1..self.years)
                    .map(|_| VerticalAcc::new(self.n, self.nf, limit).with_extras(m, limit))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// A pool thread's worker, kept across the blocks it runs.
    fn new_worker(&self, m: &VerticalModel) -> ThreadWorker {
        let mut w = m.worker();
        let sketches = self.sketch.then_some(self.n * self.nf);
        if let Some(k) = sketches {
            w.keep_sketches(k);
        }
        let years = self.path.as_ref().map(|p| p.workers(m, sketches));
        (w, years)
    }

    /// Block `b`'s draws, into one accumulator of their own.
    fn run_block(&self, b: u64, w: Option<&mut ThreadWorker>) -> Result<RunAcc> {
        let settings = self.settings;
        let (block, model) = (self.block, &self.model);
        let mut acc = self.new_acc(self.block_limit);
        let (d0, d1) = (b * block, ((b + 1) * block).min(settings.draws));
        let RunAcc { vertical, path, .. } = &mut acc;
        if let (Some(m), Some((w, yw)), Some(va)) = (model, w, vertical.as_mut()) {
            let finish = |w: &mut allocations::Worker,
                          yw: &mut Option<path::YearWorkers>,
                          va: &mut VerticalAcc,
                          path: &mut [VerticalAcc]| {
                m.finish_block(w, va);
                for (y, a) in yw.iter_mut().flat_map(|yw| &mut yw.years).zip(path) {
                    m.finish_block(y, a);
                }
            };
            for d in d0..d1 {
                m.draw(settings.seed, d, w, va)?;
                if let (Some(p), Some(yw)) = (&self.path, yw.as_mut()) {
                    p.draw_rest(m, settings.seed, d, w, yw, path)?;
                }
                if (d - d0 + 1) % SUMMARY_DRAWS == 0 {
                    finish(w, yw, va, path);
                }
            }
            finish(w, yw, va, path);
        }
        for (m, aa) in self.agreements.iter().zip(acc.agreements.iter_mut()) {
            let mut w = m.worker();
            for d in d0..d1 {
                m.draw(settings.seed, d, &mut w, aa);
            }
        }
        Ok(acc)
    }

    /// Run the blocks `range` on `pool`, merging the blocks' accumulators into the block
    /// tree strictly in block order; `progress` is called from the calling thread with the
    /// draws of the range merged so far. Returns the tree and the workers of the threads
    /// that did not fail.
    ///
    /// Each pool thread takes the next block, runs it with its own worker (kept across
    /// blocks, with its own sketches), and hands the result to the schedule. Whichever
    /// thread completes the run of finished blocks after the last merged one merges them,
    /// while the other threads go on drawing: no thread waits at a barrier.
    fn blocks(
        &self,
        pool: &rayon::ThreadPool,
        range: std::ops::Range<u64>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(BlockTree<RunAcc>, Vec<ThreadWorker>)> {
        let settings = self.settings;
        let block = self.block;
        let total = std::sync::Mutex::new(BlockTree::default());
        let first = (range.start * block).min(settings.draws);
        let sched = Schedule::new(
            range.end.saturating_sub(range.start),
            self.window,
            settings.cancel.clone(),
        );
        let done: Vec<Option<ThreadWorker>> = std::thread::scope(|s| {
            let workers = s.spawn(|| {
                let done = pool.broadcast(|_| {
                    let mut w = self.model.as_ref().map(|m| self.new_worker(m));
                    while let Some(b) = sched.take() {
                        match self.run_block(range.start + b, w.as_mut()) {
                            Ok(acc) => sched.finish(b, acc, |k, acc| {
                                let k = range.start + k;
                                // Blocks arrive in order, each once: the push cannot fail.
                                let _ = total
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push_block(k, acc);
                                ((k + 1) * block).min(settings.draws) - first
                            }),
                            Err(e) => {
                                // The worker may hold half a block: it is not used again.
                                w = None;
                                sched.fail(b, e);
                            }
                        }
                    }
                    w
                });
                sched.close();
                done
            });
            let mut shown = 0;
            while let Some(d) = sched.wait_progress(shown) {
                shown = d;
                progress(d);
            }
            workers
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        });
        sched.result()?;
        let total = total.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok((total, done.into_iter().flatten().collect()))
    }
}

/// A pool thread's worker, and its workers for the later years of a path.
type ThreadWorker = (allocations::Worker, Option<path::YearWorkers>);

/// Build the sampling noise models from validated specs (per-region σ from `sigma_*`).
pub fn noise_models(
    specs: &[crate::model::NoiseSpec],
    v: &crate::model::Vertical,
) -> Vec<NoiseModel> {
    specs
        .iter()
        .map(|s| NoiseModel {
            column: s.column,
            kind: if s.multiplicative {
                NoiseKind::Multiplicative
            } else {
                NoiseKind::Additive
            },
            sigma: match (&s.sigma, &s.sigma_column) {
                (Some(c), _) => Sigma::Const(*c),
                (None, Some(col)) => {
                    Sigma::PerRegion(v.extra.get(col).cloned().unwrap_or_default())
                }
                (None, None) => Sigma::Const(0.0),
            },
            rho: s.rho,
            min: s.min,
            max: s.max,
        })
        .collect()
}
