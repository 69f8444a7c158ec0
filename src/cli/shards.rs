//! `--shard K/N` on `run` and `sensitivity`, and `ecocomp merge` (docs/model.md §7).

use super::commands::{default_out, execute_job};
use super::console::outln;
use super::{PlotFormatArg, RunArgs};
use ecocomp::montecarlo::Shard;
use ecocomp::run::pipeline::{Job, McOptions, RunJob, Shards};
use ecocomp::run::shards::{JobSpec, Merged, merge as merge_states, state_files};
use ecocomp::sensitivity::analysis::SensitivitySettings;
use ecocomp::{Error, Problem, report, scenario};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard output folders (each with a `state/` folder) or shard state files, in any
    /// order; every shard K of the run must be given exactly once.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder [default: output/<scenario name>, or <name>-sensitivity].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads for the merge [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Do not draw figures (report.html is still written, with tables only).
    #[arg(long)]
    pub no_plots: bool,
    /// Figure file formats.
    #[arg(long, value_enum, default_value_t = PlotFormatArg::Both)]
    pub plot_format: PlotFormatArg,
}

/// `K/N` with 0 ≤ K < N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' is not K/N (for example 3/64)"))?;
    let num = |x: &str, what: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| format!("'{s}': {what} '{x}' is not a whole number"))
    };
    let (k, n) = (num(k, "K")?, num(n, "N")?);
    if n == 0 || k >= n {
        return Err(format!(
            "'{s}': K must be at least 0 and below N, and N at least 1"
        ));
    }
    Ok(Shard { k, n })
}

fn shard_out(
    scn: &ecocomp::model::Scenario,
    out: &Option<PathBuf>,
    suffix: &str,
    s: Shard,
) -> PathBuf {
    default_out(scn, out, &format!("{suffix}-shard-{}-of-{}", s.k, s.n))
}

/// `run … --shard K/N`.
pub fn run_shard(
    scn: ecocomp::model::Scenario,
    args: RunArgs,
    shard: Shard,
    argv: &[String],
) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let out = shard_out(&scn, &args.out, "", shard);
    let job = Job::Run(RunJob {
        mc: args.mc.options(),
        baseline: args.baseline.clone(),
        plot_regions: args.plot_regions.clone(),
        save_draws: args.save_draws,
        draws_format: args.draws_format.into(),
        force: args.force,
    });
    let exporters = report::shard_exporters();
    let (outcome, dir) = execute_job(
        scn,
        job,
        out,
        &exporters,
        argv,
        !args.quiet,
        Shards::Write(shard),
    )?;
    outln!(
        "wrote shard {}/{} of {} draws to {} in {:.2} s",
        shard.k,
        shard.n,
        outcome.info.draws,
        dir.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `sensitivity … --shard K/N`.
pub fn sensitivity_shard(
    scn: ecocomp::model::Scenario,
    settings: SensitivitySettings,
    out: &Option<PathBuf>,
    shard: Shard,
    argv: &[String],
) -> anyhow::Result<()> {
    let out = shard_out(&scn, out, "-sensitivity", shard);
    let exporters = report::shard_exporters();
    let job = Job::Sensitivity(settings);
    let (_, dir) = execute_job(scn, job, out, &exporters, argv, false, Shards::Write(shard))?;
    outln!("wrote shard {}/{} to {}", shard.k, shard.n, dir.display());
    Ok(())
}

/// `ecocomp merge DIR...`.
pub fn merge(args: MergeArgs, argv: &[String]) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let files = state_files(&args.shards)?;
    let merged = merge_states(&files)?;
    let scn = scenario::load_inputs(&merged.inputs)?;
    let h = &merged.header;
    if scn.inputs_sha256() != h.scenario_sha256 {
        return Err(Error::invalid(vec![Problem::new(
            &merged.shards[0].file,
            "shard state",
            &h.scenario_sha256,
            "the scenario rebuilt from the state does not match its recorded SHA-256",
        )])
        .into());
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let n = merged.shards.len();
    let (job, exporters, suffix) = job_of(&scn, &merged, threads, &args);
    let out = default_out(&scn, &args.out, suffix);
    let (outcome, dir) = execute_job(
        scn,
        job,
        out,
        &exporters,
        argv,
        false,
        Shards::Merge(Box::new(merged)),
    )?;
    outln!(
        "merged {n} shards ({} draws) into {} in {:.2} s",
        outcome.info.draws,
        dir.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The job the shards ran, and its exporters and default output suffix.
fn job_of(
    scn: &ecocomp::model::Scenario,
    m: &Merged,
    threads: usize,
    args: &MergeArgs,
) -> (Job, ecocomp::run::pipeline::Exporters, &'static str) {
    let h = &m.header;
    match &h.job {
        JobSpec::Run {
            baseline,
            plot_regions,
            ..
        } => {
            let job = Job::Run(RunJob {
                mc: McOptions {
                    draws: Some(h.draws),
                    seed: Some(h.seed),
                    threads: threads.max(1),
                },
                baseline: baseline.clone(),
                plot_regions: plot_regions.clone(),
                save_draws: false,
                draws_format: Default::default(),
                force: true,
            });
            let plots = (!args.no_plots).then(|| args.plot_format.into());
            (job, report::exporters_for(scn, plots), "")
        }
        JobSpec::Sensitivity {
            formula,
            method,
            regions,
        } => {
            let job = Job::Sensitivity(SensitivitySettings {
                formula: formula.clone(),
                method: *method,
                samples: h.draws as usize,
                seed: h.seed,
                threads: threads.max(1),
                regions: regions.clone(),
            });
            (job, report::sensitivity_exporters(), "-sensitivity")
        }
    }
}
