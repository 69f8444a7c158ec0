//! Monte Carlo engine (MODEL.md §3): reproducible parallel draws with common random numbers.
//!
//! Reproducibility: draw d's random numbers come only from streams keyed by
//! `(seed, d, substream)` ([`crate::sampling::rng::stream`]). Draws are grouped in blocks
//! whose size depends only on the scenario's output count, never on the thread count; each
//! block is accumulated sequentially by one worker, and blocks are merged into the run's
//! totals strictly in block order, a wave of up to [`WAVE_BLOCKS`] blocks at a time. So the
//! arithmetic, and hence every output bit, is the same on 1 thread or 64.
//!
//! Memory is bounded: accumulators hold moments and a quantile estimator per output that is
//! exact up to a limit chosen from [`EXACT_VALUES_BUDGET`] and a fixed-size sketch above it,
//! and at most one wave of block accumulators exists at a time.

pub mod draws;
pub mod horizontal;
pub mod vertical;

use crate::error::{Error, Result};
use crate::sampling::noise::{NoiseKind, NoiseModel, Sigma};
use crate::scenario::Scenario;
use horizontal::{AgreementAcc, AgreementModel};
use rayon::prelude::*;
use vertical::{VerticalAcc, VerticalModel};

/// Most blocks computed in parallel before they are merged in order: two per thread, at
/// most this many. The wave size bounds memory only; results do not depend on it.
pub const WAVE_BLOCKS: usize = 8;
/// Total number of raw values kept for exact quantiles across all outputs (8 bytes each:
/// 32 MiB). Past it, each output's quantiles come from its sketch.
pub const EXACT_VALUES_BUDGET: usize = 4_000_000;
/// Most draws in a block; fewer for scenarios with many outputs.
pub const MAX_BLOCK_DRAWS: u64 = 256;
/// Values a block accumulator may hold in exact mode (bounds a wave's memory).
const BLOCK_VALUES_BUDGET: u64 = 1_000_000;
/// Values a block may buffer in sketch mode, where it keeps no raw values past the block
/// (its per-draw amounts matrix: 32 MiB per worker). Larger blocks mean fewer block
/// accumulators to build and merge.
const SKETCH_BLOCK_VALUES: u64 = 4_000_000;

/// Draws a worker buffers before summarising them into its block accumulator
/// ([`VerticalModel::finish_block`]): 32 draws of W1 are 2 MiB, so two workers' buffers stay
/// in the shared L3 cache instead of evicting each other (a whole 256-draw block is 17 MiB).
/// Where the summaries fall depends only on the draw index, so results do not depend on
/// the thread count.
pub const SUMMARY_DRAWS: u64 = 32;

/// Draws kept as raw values for histograms (the first ones by draw index).
pub const KEEP_DRAWS: usize = 2000;

/// The first [`KEEP_DRAWS`] values of an output, in draw order. Blocks are merged in block
/// order, so the kept values are draws 0, 1, 2, … whatever the thread count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
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
    /// Also return every draw as a long CSV (`--save-draws`; small runs only).
    pub save_draws: bool,
}

/// Monte Carlo results of a scenario.
#[derive(Debug, Clone)]
pub struct McResults {
    pub draws: u64,
    pub exact_limit: usize,
    pub vertical: Option<VerticalAcc>,
    /// One accumulator per agreement, in scenario order.
    pub agreements: Vec<AgreementAcc>,
    /// Every draw as CSV, with `save_draws`.
    pub draws_csv: Option<Vec<u8>>,
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

/// The accumulators of one block of draws, or of the whole run.
struct RunAcc {
    vertical: Option<VerticalAcc>,
    agreements: Vec<AgreementAcc>,
}

impl RunAcc {
    /// Merge a wave's block accumulators in block order, the vertical outputs in parallel
    /// chunks on the current pool ([`VerticalAcc::merge_all`]).
    fn merge_wave(&mut self, parts: &[RunAcc]) {
        if let Some(a) = self.vertical.as_mut() {
            let vs: Vec<&VerticalAcc> = parts.iter().filter_map(|p| p.vertical.as_ref()).collect();
            a.merge_all(&vs);
        }
        for p in parts {
            for (a, b) in self.agreements.iter_mut().zip(&p.agreements) {
                a.merge(b);
            }
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
/// wave with the number of draws done.
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.max(1))
        .build()
        .map_err(|e| {
            Error::Runtime(format!(
                "cannot start {} worker threads: {e}",
                settings.threads
            ))
        })?;
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
    let outputs = (VerticalAcc::outputs(n, nf)
        + scn
            .agreements
            .iter()
            .map(AgreementAcc::outputs)
            .sum::<usize>()
        + if opts.draw_metrics {
            nf * crate::compare::metrics::Metric::COUNT
        } else {
            0
        })
    .max(1);
    let limit = exact_limit(outputs);
    // When the run has more draws than the exact limit, the totals end in sketch mode; the
    // blocks then sketch their values on the workers (limit 0) instead of keeping them for
    // the calling thread to sketch while merging. A sketch depends only on the multiset of
    // values, so the quantiles are the same bits either way.
    let sketch = settings.draws > limit as u64;
    let block_limit = if sketch { 0 } else { limit };
    let block = block_draws(outputs, sketch);
    let wave = (2 * settings.threads.max(1)).min(WAVE_BLOCKS) as u64;
    let new_acc = |limit: usize| RunAcc {
        vertical: model.as_ref().map(|m| {
            let acc = VerticalAcc::new(n, nf, limit).with_extras(m, limit);
            if opts.draw_metrics {
                acc.with_metrics(nf, limit)
            } else {
                acc
            }
        }),
        agreements: scn
            .agreements
            .iter()
            .map(|a| AgreementAcc::new(a, limit))
            .collect(),
    };
    let mut total = new_acc(limit);
    // Each pool thread keeps one vertical worker from block to block (its buffers and, in
    // sketch mode, its own sketches of the region amounts). What a block computes does not
    // depend on which worker runs it: a worker's buffers are overwritten every draw and its
    // sketches are merged, order-free, at the end.
    let threads = pool.current_num_threads().max(1);
    let workers: Vec<std::sync::Mutex<Option<vertical::Worker>>> =
        (0..threads).map(|_| std::sync::Mutex::new(None)).collect();
    let new_worker = |m: &VerticalModel| {
        let mut w = m.worker();
        if sketch {
            w.keep_sketches(n * nf);
        }
        w
    };
    let blocks = settings.draws.div_ceil(block);
    let mut b0 = 0u64;
    while b0 < blocks {
        if crate::interrupt::interrupted() {
            return Err(Error::Interrupted);
        }
        let b1 = (b0 + wave).min(blocks);
        let results: Vec<Result<RunAcc>> = pool.install(|| {
            (b0..b1)
                .into_par_iter()
                .map(|b| {
                    let mut acc = new_acc(block_limit);
                    let (d0, d1) = (b * block, ((b + 1) * block).min(settings.draws));
                    if let (Some(m), Some(va)) = (&model, acc.vertical.as_mut()) {
                        let slot = &workers[rayon::current_thread_index().unwrap_or(0) % threads];
                        let mut guard = slot.lock().unwrap_or_else(|e| e.into_inner());
                        let w = guard.get_or_insert_with(|| new_worker(m));
                        let mut run = || -> Result<()> {
                            for d in d0..d1 {
                                m.draw(settings.seed, d, w, va)?;
                                if (d - d0 + 1) % SUMMARY_DRAWS == 0 {
                                    m.finish_block(w, va);
                                }
                            }
                            m.finish_block(w, va);
                            Ok(())
                        };
                        if let Err(e) = run() {
                            // Leave no half-summarised buffer behind for the next block.
                            *guard = None;
                            return Err(e);
                        }
                    }
                    for (m, aa) in agreements.iter().zip(acc.agreements.iter_mut()) {
                        let mut w = m.worker();
                        for d in d0..d1 {
                            m.draw(settings.seed, d, &mut w, aa);
                        }
                    }
                    Ok(acc)
                })
                .collect()
        });
        let parts = results.into_iter().collect::<Result<Vec<RunAcc>>>()?;
        pool.install(|| total.merge_wave(&parts));
        b0 = b1;
        progress((b0 * block).min(settings.draws));
    }
    if let Some(total) = total.vertical.as_mut() {
        let done: Vec<vertical::Worker> = workers
            .into_iter()
            .filter_map(|w| w.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let sketches: Vec<&[crate::stats::Quantiles]> =
            done.iter().map(|w| &w.sketches[..]).collect();
        pool.install(|| total.merge_sketches(&sketches));
    }
    let draws_csv = if settings.save_draws {
        Some(draws::draws_csv(
            scn,
            settings,
            model.as_ref(),
            &agreements,
        )?)
    } else {
        None
    };
    Ok(McResults {
        draws: settings.draws,
        exact_limit: limit,
        vertical: total.vertical,
        agreements: total.agreements,
        draws_csv,
    })
}

/// Build the sampling noise models from validated specs (per-region σ from `sigma_*`).
pub fn noise_models(
    specs: &[crate::scenario::NoiseSpec],
    v: &crate::scenario::Vertical,
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
