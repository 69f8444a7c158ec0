//! The run pipeline: every command (`run`, `compare`, `sensitivity`, `calibrate`,
//! `validate`) is one
//! [`Request`] through [`execute`], which takes the same steps in the same order:
//!
//! 1. **load and check**: the caller hands over a scenario that [`crate::scenario`] has
//!    loaded and validated; the request's own options are checked here;
//! 2. **stage**: the output folder's staging folder is created before any computation, so
//!    a bad `--out` fails at once ([`Staging`]);
//! 3. **point estimate** of every formula and agreement ([`super::point`]);
//! 4. **Monte Carlo**, when the job draws;
//! 5. **metrics**: the point metrics, the comparison or the sensitivity indices;
//! 6. **exporters**: pure serialisers from the [`Outcome`] to named files
//!    ([`Exporter`]; the report layer holds the list of them), then the writers of files
//!    too large to build in memory, which stream into the staging folder
//!    ([`StreamExporter`]);
//! 7. **commit**: the staged files replace the output folder at once.
//!
//! An error or a cancellation at any step leaves the previous output folder untouched.

use super::compare::{Comparison, compare, select};
use super::point::{PointMetrics, PointResults, point, point_metrics};
use super::shards::{Body, Header, JobSpec, Merged, Payload, ShardRecord};
use super::staging::Staging;
use crate::cancel::Cancel;
use crate::error::{Error, Problem, Result};
use crate::model::Scenario;
use crate::montecarlo::saved::{DrawsFormat, SavedDraws};
use crate::montecarlo::{McResults, RunOptions, Settings, Shard};
use crate::sensitivity::analysis::{SensitivityRun, SensitivitySettings, Watch};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// Draws when neither the request nor the scenario says.
pub const DEFAULT_DRAWS: u64 = 1000;
/// Seed when neither the request nor the scenario says.
pub const DEFAULT_SEED: u64 = 1;

/// Monte Carlo options of a request; `None` takes the scenario's `[montecarlo]` value,
/// else the default.
#[derive(Debug, Clone, Default)]
pub struct McOptions {
    pub draws: Option<u64>,
    pub seed: Option<u64>,
    /// Worker threads (≥ 1). Results do not depend on it.
    pub threads: usize,
}

impl McOptions {
    /// Engine settings for `scn` with `baseline` as the paired-difference baseline.
    pub fn settings(&self, scn: &Scenario, baseline: usize, cancel: &Cancel) -> Settings {
        Settings {
            draws: self.draws.or(scn.montecarlo.draws).unwrap_or(DEFAULT_DRAWS),
            seed: self.seed.or(scn.montecarlo.seed).unwrap_or(DEFAULT_SEED),
            threads: self.threads.max(1),
            baseline,
            keep_regions: Vec::new(),
            save_draws: false,
            cancel: cancel.clone(),
            shard: None,
        }
    }
}

/// `run`: the point estimate, Monte Carlo and every output file.
#[derive(Debug, Clone, Default)]
pub struct RunJob {
    pub mc: McOptions,
    /// Baseline formula of the paired differences (the first when `None`).
    pub baseline: Option<String>,
    /// Region ids whose draws are kept for histograms (the three largest when empty).
    pub plot_regions: Vec<String>,
    /// Save every draw (`draws.csv` or `draws.parquet`).
    pub save_draws: bool,
    /// The file format of the saved draws.
    pub draws_format: DrawsFormat,
    /// Run even when the estimated time exceeds [`super::pilot::MAX_UNFORCED_SECONDS`].
    pub force: bool,
}

/// `compare`: formulas side by side against a baseline.
#[derive(Debug, Clone, Default)]
pub struct CompareJob {
    pub mc: McOptions,
    /// Formulas to compare (all when `None`).
    pub formulas: Option<Vec<String>>,
    pub baseline: Option<String>,
}

/// What a request computes.
#[derive(Debug, Clone)]
pub enum Job {
    /// The point estimate only, and no files: what `validate` checks.
    Validate,
    Run(RunJob),
    Compare(CompareJob),
    Sensitivity(SensitivitySettings),
    Calibrate(super::calibration::CalibrateJob),
}

/// Whether a request computes a whole run, one shard of it, or finishes it from the
/// merged state of its shards (docs/model.md §7). Only `run` and `sensitivity` shard.
#[derive(Debug, Clone, Default)]
pub enum Shards {
    #[default]
    Whole,
    /// Compute shard K of N and write its state only.
    Write(Shard),
    /// Finish the run from the merged state of all its shards.
    Merge(Box<Merged>),
}

/// One command to carry out.
#[derive(Debug, Clone)]
pub struct Request {
    pub scenario: Scenario,
    pub job: Job,
    pub shards: Shards,
    /// The output folder (`None`: write nothing, as for `validate`).
    pub out: Option<PathBuf>,
    /// The command line, recorded in the manifest.
    pub command_line: Vec<String>,
}

/// Settings and provenance of a run, recorded in the manifest and the summary.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub command_line: Vec<String>,
    pub seed: u64,
    /// Monte Carlo draws, or sensitivity samples.
    pub draws: u64,
    pub threads: usize,
    pub started: SystemTime,
    /// Seconds from the start to the last file written before the manifest.
    pub wall_seconds: f64,
    /// Seconds spent computing (point estimate, Monte Carlo, metrics).
    pub compute_seconds: f64,
    /// The shard this run computed, if it is one, and its draws.
    pub shard: Option<(Shard, Range<u64>)>,
    /// The shards this run was merged from, in shard order.
    pub merged: Vec<ShardRecord>,
    /// The format every draw is saved in (`--save-draws`), if saved.
    pub save_draws: Option<DrawsFormat>,
}

impl Default for RunInfo {
    fn default() -> Self {
        RunInfo {
            command_line: Vec::new(),
            seed: 0,
            draws: 0,
            threads: 1,
            started: SystemTime::UNIX_EPOCH,
            wall_seconds: 0.0,
            compute_seconds: 0.0,
            shard: None,
            merged: Vec::new(),
            save_draws: None,
        }
    }
}

/// Everything a request computed: what the exporters serialise.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario as computed (for `compare`, restricted to the compared formulas).
    pub scenario: Scenario,
    pub point: PointResults,
    /// Metrics of the point allocations.
    pub metrics: PointMetrics,
    /// Index of the baseline formula.
    pub baseline: usize,
    /// Regions whose draws were kept for histograms.
    pub keep: Vec<usize>,
    /// Monte Carlo results (`run`; empty with zero draws).
    pub mc: Option<McResults>,
    pub comparison: Option<Comparison>,
    pub sensitivity: Option<SensitivityRun>,
    pub calibration: Option<super::calibration::CalibrationRun>,
    /// A shard's state, to be written as its only result.
    pub state: Option<(Header, Body)>,
    /// A shard's own draws, when it saves them as CSV.
    pub shard_draws: Option<SavedDraws>,
    pub info: RunInfo,
    /// The scenario's warnings, then those of the exporters that ran so far.
    pub warnings: Vec<String>,
    /// A multi-year path run, year by year (docs/model.md §5).
    pub path: Option<super::path::PathRun>,
}

/// One file of the output folder: its path relative to the folder, and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// What an exporter produced.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub files: Vec<OutputFile>,
    /// Problems that did not stop the export (a figure that could not be drawn).
    pub warnings: Vec<String>,
}

impl From<Vec<OutputFile>> for Exported {
    fn from(files: Vec<OutputFile>) -> Self {
        Exported {
            files,
            warnings: Vec::new(),
        }
    }
}

/// A pure serialiser from an [`Outcome`] to files. It reads the outcome and returns bytes;
/// the pipeline alone writes them.
pub trait Exporter: Sync {
    fn export(&self, out: &Outcome) -> Result<Exported>;
}

/// What a [`StreamExporter`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Streamed {
    /// The files written, relative to the output folder.
    pub names: Vec<String>,
    pub warnings: Vec<String>,
}

/// A writer of files too large to hold in memory (every draw in Parquet): unlike an
/// [`Exporter`] it writes into `dir`, the staging folder, as it goes, so that the run
/// stays all or nothing. It stops with [`Error::Interrupted`] once `cancel` is cancelled,
/// and tells `hooks` its stage and progress, being as slow as the run itself.
pub trait StreamExporter: Sync {
    fn write(
        &self,
        out: &Outcome,
        dir: &Path,
        cancel: &Cancel,
        hooks: &dyn Hooks,
    ) -> Result<Streamed>;
}

/// The draws the saved-draws writers save: the shard's, or every draw of the run.
pub fn draw_range(out: &Outcome) -> Range<u64> {
    out.info
        .shard
        .as_ref()
        .map_or(0..out.info.draws, |(_, r)| r.clone())
}

/// The exporters of one command, in the order their files are written: `files`, then
/// `stream`, then `last`, which run with the final wall time in [`Outcome::info`] (the
/// manifest, which records it).
#[derive(Default)]
pub struct Exporters {
    pub files: Vec<Box<dyn Exporter>>,
    pub stream: Vec<Box<dyn StreamExporter>>,
    pub last: Vec<Box<dyn Exporter>>,
}

/// What the caller of [`execute`] hears while it runs.
pub trait Hooks: Sync {
    /// The staging folder the run writes into; `None` once it is committed or removed.
    /// (A second Ctrl-C removes it before the process exits.)
    fn staging(&self, _dir: Option<&Path>) {}
    /// `done` of `total` draws are merged (or written, in a later stage).
    fn progress(&self, _done: u64, _total: u64) {}
    /// A stage starts: `what` it does (empty for the job's own computation) and the
    /// `unit` its progress counts (draws, points of a design, calibration fits).
    fn stage(&self, _what: &str, _unit: &str) {}
}

/// [`Hooks`] that ignore everything.
pub struct Quiet;
impl Hooks for Quiet {}

/// Removes the hooks' staging registration however the run ends.
struct Registered<'a>(&'a dyn Hooks);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.0.staging(None);
    }
}

/// Carry out `req` (see the module documentation for the steps), writing the files of
/// `exporters` into `req.out` and returning what was computed and the folder written.
pub fn execute(
    req: Request,
    exporters: &Exporters,
    hooks: &dyn Hooks,
    cancel: &Cancel,
) -> Result<(Outcome, Option<PathBuf>)> {
    let clock = Instant::now();
    let started = SystemTime::now();
    let Request {
        scenario,
        job,
        shards,
        out,
        command_line,
    } = req;
    // Step 1: the request's own options, against the scenario.
    let (scenario, baseline) = match &job {
        Job::Compare(c) => select(&scenario, c.formulas.as_deref(), c.baseline.as_deref())?,
        Job::Run(r) => {
            let b = baseline_index(&scenario, r.baseline.as_deref())?;
            (scenario, b)
        }
        Job::Validate | Job::Sensitivity(_) | Job::Calibrate(_) => (scenario, 0),
    };
    if let Some(p) = &scenario.policy_path {
        super::path::supported(&scenario, p, &job)?;
    }
    if !matches!(shards, Shards::Whole) && !matches!(job, Job::Run(_) | Job::Sensitivity(_)) {
        return Err(usage(
            "--shard",
            "",
            "only run and sensitivity can be sharded",
        ));
    }
    // Step 2: stage first, so that a bad output path fails before any computation.
    let staging = out.as_deref().map(Staging::new).transpose()?;
    let _registered = Registered(hooks);
    hooks.staging(staging.as_ref().map(Staging::path));
    // Steps 3–5.
    let dir = staging.as_ref().map(Staging::path);
    let mut outcome = compute(scenario, &job, shards, baseline, dir, hooks, cancel)?;
    outcome.info.command_line = command_line;
    outcome.info.started = started;
    outcome.info.compute_seconds = clock.elapsed().as_secs_f64();
    let Some(staging) = staging else {
        return Ok((outcome, None));
    };
    // Step 6.
    for e in &exporters.files {
        cancel.check()?;
        let done = e.export(&outcome)?;
        write(&staging, &done)?;
        outcome.warnings.extend(done.warnings);
    }
    for e in &exporters.stream {
        cancel.check()?;
        let done = e.write(&outcome, staging.path(), cancel, hooks)?;
        outcome.warnings.extend(done.warnings);
    }
    outcome.info.wall_seconds = clock.elapsed().as_secs_f64();
    for e in &exporters.last {
        let done = e.export(&outcome)?;
        write(&staging, &done)?;
        outcome.warnings.extend(done.warnings);
    }
    // Step 7.
    cancel.check()?;
    let dir = staging.commit()?;
    Ok((outcome, Some(dir)))
}

fn write(staging: &Staging, done: &Exported) -> Result<()> {
    done.files
        .iter()
        .try_for_each(|f| staging.write(&f.name, &f.bytes))
}

/// Steps 3–5: the point estimate, the Monte Carlo draws and the metrics of `job`; `dir`
/// is the staging folder, if the run writes files.
fn compute(
    scenario: Scenario,
    job: &Job,
    shards: Shards,
    baseline: usize,
    dir: Option<&Path>,
    hooks: &dyn Hooks,
    cancel: &Cancel,
) -> Result<Outcome> {
    let res = point(&scenario)?;
    // A shard writes only its state: the point metrics are computed by the merge.
    let metrics = if matches!(shards, Shards::Write(_)) {
        PointMetrics::default()
    } else {
        point_metrics(&scenario, &res)
    };
    let mut outcome = Outcome {
        metrics,
        warnings: scenario.warnings.clone(),
        point: res,
        baseline,
        keep: Vec::new(),
        mc: None,
        comparison: None,
        sensitivity: None,
        calibration: None,
        state: None,
        shard_draws: None,
        info: RunInfo::default(),
        path: None,
        scenario,
    };
    match job {
        Job::Validate => {}
        Job::Run(r) => {
            run_draws(&mut outcome, r, shards, dir, hooks, cancel)?;
            if outcome.state.is_none() {
                outcome.path = super::path::split(&outcome)?;
            }
        }
        Job::Compare(c) => {
            let settings = c.mc.settings(&outcome.scenario, baseline, cancel);
            let total = settings.draws;
            let cmp = compare(&outcome.scenario, &settings, &mut |d| {
                hooks.progress(d, total)
            })?;
            outcome.info = info_of(&settings);
            outcome.comparison = Some(cmp);
        }
        Job::Sensitivity(s) => {
            hooks.stage("", "points");
            let progress = |done, total| hooks.progress(done, total);
            let watch = Watch {
                progress: &progress,
                cancel,
            };
            sensitivity(&mut outcome, s, shards, &watch)?;
        }
        Job::Calibrate(c) => {
            hooks.stage("", "fits");
            let r = super::calibration::run(&outcome.scenario, c, cancel, &mut |done, total| {
                hooks.progress(done as u64, total as u64)
            })?;
            outcome.info.draws = r.result.starts.len() as u64;
            outcome.calibration = Some(r);
        }
    }
    let (scn, res) = (&outcome.scenario, &outcome.point);
    let mut warnings = super::warnings::floors_scaled(scn, res);
    warnings.extend(super::warnings::swamped(scn, res, outcome.mc.as_ref()));
    outcome.warnings.extend(warnings);
    Ok(outcome)
}

fn info_of(s: &Settings) -> RunInfo {
    RunInfo {
        seed: s.seed,
        draws: s.draws,
        threads: s.threads,
        ..RunInfo::default()
    }
}

/// `run`'s Monte Carlo step: the kept regions, the size and time checks, the draws; or
/// a shard's draws and state; or the merge of every shard's state. Draws saved as CSV are
/// kept in memory; draws saved as Parquet are evaluated again later, as they are written
/// ([`StreamExporter`]).
fn run_draws(
    out: &mut Outcome,
    r: &RunJob,
    shards: Shards,
    dir: Option<&Path>,
    hooks: &dyn Hooks,
    cancel: &Cancel,
) -> Result<()> {
    let scn = &out.scenario;
    out.keep = keep_regions(scn, &out.point, &r.plot_regions, out.baseline)?;
    let mut settings = Settings {
        keep_regions: out.keep.clone(),
        save_draws: r.save_draws && r.draws_format == DrawsFormat::Csv,
        ..r.mc.settings(scn, out.baseline, cancel)
    };
    out.info = info_of(&settings);
    out.info.save_draws = r.save_draws.then_some(r.draws_format);
    let opts = RunOptions::default();
    let shard = match shards {
        Shards::Whole => None,
        Shards::Write(shard) => Some(shard),
        Shards::Merge(m) => {
            let Payload::Run(state) = m.payload else {
                return Err(Error::Runtime("the shards are not of a run".into()));
            };
            // The shards saved their own draws; the manifest lists their files.
            out.info.save_draws = None;
            out.info.merged = m.shards;
            out.mc = Some(crate::montecarlo::finish(scn, &settings, opts, state)?);
            return Ok(());
        }
    };
    settings.shard = shard;
    let range = crate::montecarlo::draw_range(scn, &settings, opts)?;
    let saved = range.end - range.start;
    match (r.save_draws, r.draws_format, dir) {
        (true, DrawsFormat::Csv, _) => crate::montecarlo::saved::check_size(scn, saved)?,
        (true, DrawsFormat::Parquet, Some(dir)) => {
            crate::montecarlo::saved::check_space(scn, saved, dir)?
        }
        _ => {}
    }
    if let Some(shard) = shard {
        return run_shard(out, r, settings, shard, range, hooks);
    }
    if !r.force {
        super::pilot::check_run_time(scn, &settings)?;
    }
    let total = settings.draws;
    let mc = crate::montecarlo::run(scn, &settings, &mut |d| hooks.progress(d, total))?;
    out.mc = Some(mc);
    Ok(())
}

/// A shard of `run`: its blocks' state, and its own draws when they are saved.
fn run_shard(
    out: &mut Outcome,
    r: &RunJob,
    settings: Settings,
    shard: Shard,
    range: Range<u64>,
    hooks: &dyn Hooks,
) -> Result<()> {
    let scn = &out.scenario;
    let total = range.end - range.start;
    if !r.force {
        let whole = Settings {
            draws: total,
            shard: None,
            save_draws: false,
            ..settings.clone()
        };
        super::pilot::check_run_time(scn, &whole)?;
    }
    let opts = RunOptions::default();
    let state =
        crate::montecarlo::run_state(scn, &settings, opts, &mut |d| hooks.progress(d, total))?;
    let mut body = body(scn, Payload::Run(state));
    if r.save_draws {
        body.draw_files.push(r.draws_format.file_name().to_string());
        if r.draws_format == DrawsFormat::Csv {
            let mut saved = SavedDraws {
                per_draw: crate::montecarlo::saved::values_per_draw(scn) as usize,
                values: Vec::new(),
            };
            crate::montecarlo::saved::stream_scenario_draws(
                scn,
                settings.seed,
                range.clone(),
                &settings.cancel,
                &mut saved,
            )?;
            out.shard_draws = Some(saved);
        }
    }
    let header = header(scn, settings.seed, settings.draws, shard, run_spec(r));
    out.info.shard = Some((shard, range));
    out.state = Some((header, body));
    Ok(())
}

/// `sensitivity`'s analysis, a shard's evaluations, or the merge of every shard's.
fn sensitivity(
    out: &mut Outcome,
    s: &SensitivitySettings,
    shards: Shards,
    watch: &Watch,
) -> Result<()> {
    use crate::sensitivity::analysis::{evaluate_shard, finish_shards, run};
    out.info.seed = s.seed;
    out.info.draws = s.samples as u64;
    out.info.threads = s.threads;
    let scn = &out.scenario;
    match shards {
        Shards::Whole => out.sensitivity = Some(run(scn, s, watch)?),
        Shards::Write(shard) => {
            let ev = evaluate_shard(scn, s, shard.k, shard.n, watch)?;
            let spec = JobSpec::Sensitivity {
                formula: s.formula.clone(),
                method: s.method,
                regions: s.regions.clone(),
            };
            let header = header(scn, s.seed, s.samples as u64, shard, spec);
            let rows = ev.rows.start as u64..ev.rows.end as u64;
            out.info.shard = Some((shard, rows));
            out.state = Some((header, body(scn, Payload::Sensitivity(ev))));
        }
        Shards::Merge(m) => {
            let Payload::Sensitivity(ev) = m.payload else {
                return Err(Error::Runtime(
                    "the shards are not of a sensitivity analysis".into(),
                ));
            };
            out.info.merged = m.shards;
            out.sensitivity = Some(finish_shards(scn, s, ev)?);
        }
    }
    Ok(())
}

/// The settings of a run that its shards must share.
pub fn run_spec(r: &RunJob) -> JobSpec {
    JobSpec::Run {
        baseline: r.baseline.clone(),
        plot_regions: r.plot_regions.clone(),
        save_draws: r.save_draws,
        draws_format: r.draws_format.file_name().into(),
    }
}

fn header(scn: &Scenario, seed: u64, draws: u64, shard: Shard, job: JobSpec) -> Header {
    Header {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_sha256: scn.inputs_sha256(),
        scenario_name: scn.meta.name.clone(),
        seed,
        draws,
        shard,
        job,
    }
}

fn body(scn: &Scenario, payload: Payload) -> Body {
    Body {
        inputs: scn.inputs.as_ref().clone(),
        payload,
        draw_files: Vec::new(),
    }
}

/// A usage problem with a command-line option.
fn usage(flag: &str, value: impl std::fmt::Display, message: impl Into<String>) -> Error {
    Error::invalid(vec![Problem::new(flag, "command line", value, message)])
}

/// The index of the baseline formula named `name` (the first formula when `None`).
pub fn baseline_index(scn: &Scenario, name: Option<&str>) -> Result<usize> {
    let Some(name) = name else { return Ok(0) };
    let Some(v) = &scn.vertical else {
        return Err(usage("--baseline", name, "the scenario has no formulas"));
    };
    v.formulas
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
            usage(
                "--baseline",
                name,
                format!("no such formula; the scenario has {}", names.join(", ")),
            )
        })
}

/// Regions whose draws are kept for histograms: the `requested` ids, else the three largest
/// point allocations of the baseline formula.
pub fn keep_regions(
    scn: &Scenario,
    res: &PointResults,
    requested: &[String],
    baseline: usize,
) -> Result<Vec<usize>> {
    let Some(v) = &scn.vertical else {
        return Ok(Vec::new());
    };
    if !requested.is_empty() {
        return requested
            .iter()
            .map(|id| {
                v.regions
                    .meta
                    .id
                    .iter()
                    .position(|x| x == id)
                    .ok_or_else(|| {
                        usage(
                            "--plot-regions",
                            requested.join(","),
                            format!("--plot-regions: no region with id '{id}'"),
                        )
                    })
            })
            .collect();
    }
    let Some(base) = res.formulas.get(baseline) else {
        return Ok(Vec::new());
    };
    let mut order: Vec<usize> = (0..v.regions.data.n).collect();
    order.sort_by(|&i, &j| base.alloc.x[j].total_cmp(&base.alloc.x[i]));
    order.truncate(3);
    Ok(order)
}
