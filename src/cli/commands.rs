//! The commands. Each builds a [`Request`] for the library's one pipeline, runs it with
//! the console's hooks and the Ctrl-C token, and prints what the user reads.

use super::console::{
    Console, outln, print_new_warnings, print_out, print_run_tables, print_warnings,
};
use super::{CompareArgs, McArgs, RunArgs, SensitivityArgs, SynthArgs};
use anyhow::Context;
use ecocomp::error::Error;
use ecocomp::model::Scenario;
use ecocomp::run::pipeline::{
    CompareJob, Exporters, Job, McOptions, Quiet, Request, RunJob, Shards, execute,
};
use ecocomp::sensitivity::analysis::{Method, SensitivitySettings};
use ecocomp::{report, scenario};
use std::path::{Path, PathBuf};

/// The commented example scenario written by `ecocomp init`.
const EXAMPLE_SCENARIO: &str = include_str!("../../scenarios/example.toml");

pub(super) fn load(path: Option<&Path>) -> anyhow::Result<Scenario> {
    let scn = match path {
        Some(p) => scenario::load(p)?,
        None => scenario::load_default()?,
    };
    print_warnings(&scn.warnings);
    Ok(scn)
}

/// Worker threads: the flag, else every core.
fn threads_or_all(t: Option<usize>) -> usize {
    t.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

impl McArgs {
    pub(super) fn options(&self) -> McOptions {
        McOptions {
            draws: self.draws,
            seed: self.seed,
            threads: threads_or_all(self.threads),
        }
    }
}

/// The default output folder of scenario `scn`, with `suffix` (`-compare`, …).
pub(super) fn default_out(scn: &Scenario, out: &Option<PathBuf>, suffix: &str) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}{suffix}", scn.meta.name)))
}

/// Run `job` on `scn` through the pipeline, with a progress bar when `progress`.
pub(super) fn execute_job(
    scn: Scenario,
    job: Job,
    out: PathBuf,
    exporters: &Exporters,
    argv: &[String],
    progress: bool,
    shards: Shards,
) -> anyhow::Result<(ecocomp::run::pipeline::Outcome, PathBuf)> {
    let cancel = super::interrupt::install();
    let console = Console::new(progress);
    let scn_warnings = scn.warnings.len();
    let req = Request {
        scenario: scn,
        shards,
        job,
        out: Some(out),
        command_line: argv.to_vec(),
    };
    let result = execute(req, exporters, &console, &cancel);
    console.finish();
    let (outcome, dir) = result?;
    print_new_warnings(&outcome, scn_warnings);
    let dir = dir.context("the pipeline wrote no folder")?;
    Ok((outcome, dir))
}

pub fn run(args: RunArgs, argv: &[String]) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let scn = load(args.scenario.as_deref())?;
    if let Some(shard) = args.shard {
        return super::shards::run_shard(scn, args, shard, argv);
    }
    let out = default_out(&scn, &args.out, "");
    let job = Job::Run(RunJob {
        mc: args.mc.options(),
        baseline: args.baseline.clone(),
        plot_regions: args.plot_regions.clone(),
        save_draws: args.save_draws,
        draws_format: args.draws_format.into(),
        force: args.force,
    });
    let plots = (!args.no_plots).then(|| args.plot_format.into());
    let exporters = report::exporters_for(&scn, plots);
    let (outcome, dir) = execute_job(scn, job, out, &exporters, argv, !args.quiet, Shards::Whole)?;
    if !args.quiet {
        print_run_tables(&outcome, (!args.all).then_some(args.top));
    }
    outln!(
        "wrote {} ({} draws in {:.2} s)",
        dir.display(),
        outcome.info.draws,
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn validate(path: &Path, list: bool) -> anyhow::Result<()> {
    let scn = load(Some(path))?;
    let scn_warnings = scn.warnings.len();
    // What `run` would stop at before its first draw (floors the budget cannot honour, a
    // claim that overflows) is the scenario's fault too: the pipeline's point estimate
    // reports it here.
    let req = Request {
        scenario: scn,
        shards: Default::default(),
        job: Job::Validate,
        out: None,
        command_line: Vec::new(),
    };
    let (outcome, _) = execute(req, &Exporters::default(), &Quiet, &ecocomp::Cancel::new())?;
    print_new_warnings(&outcome, scn_warnings);
    let scn = &outcome.scenario;
    if list {
        print_out(&super::inspect::listing(scn));
    }
    let (formulas, regions) = scn
        .vertical
        .as_ref()
        .map_or((0, 0), |v| (v.formulas.len(), v.regions.data.n));
    let uncertain = scn.uncertain.len()
        + scn
            .agreements
            .iter()
            .map(|a| a.uncertain.len())
            .sum::<usize>();
    outln!(
        "{}: valid — scenario '{}', {regions} regions, {formulas} formulas, {} agreements, {uncertain} uncertain parameters, {} warnings",
        path.display(),
        scn.meta.name,
        scn.agreements.len(),
        outcome.warnings.len()
    );
    if let Some(p) = &scn.policy_path {
        let (first, last) = (p.years.first(), p.years.last());
        outln!(
            "  path: {} years ({}–{}), {} trends, {} per-year formula parameters, quality response {}",
            p.len(),
            first.copied().unwrap_or_default(),
            last.copied().unwrap_or_default(),
            p.trends.len(),
            p.schedule.len(),
            p.kappa
                .map_or("off".to_string(), |k| format!("on (κ = {k})"))
        );
    }
    Ok(())
}

pub fn compare(args: CompareArgs, argv: &[String]) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let scn = load(Some(&args.scenario))?;
    let out = default_out(&scn, &args.out, "-compare");
    let job = Job::Compare(CompareJob {
        mc: args.mc.options(),
        formulas: args.formulas.clone(),
        baseline: args.baseline.clone(),
    });
    let exporters = report::compare_exporters();
    let (outcome, dir) = execute_job(scn, job, out, &exporters, argv, true, Shards::Whole)?;
    if let Some(cmp) = &outcome.comparison {
        let meta = outcome
            .scenario
            .vertical
            .as_ref()
            .map(|v| v.regions.meta.clone())
            .unwrap_or_default();
        print_out(&report::comparison::table(
            &meta,
            cmp,
            &outcome.scenario.meta.currency,
        ));
    }
    outln!(
        "wrote {} ({} draws in {:.2} s)",
        dir.display(),
        outcome.info.draws,
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn sensitivity(args: SensitivityArgs, argv: &[String]) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let scn = load(Some(&args.scenario))?;
    let out = default_out(&scn, &args.out, "-sensitivity");
    let method: Method = args.method.into();
    let settings = SensitivitySettings {
        formula: args.formula.clone(),
        method,
        samples: args.samples.unwrap_or(match method {
            Method::Morris => 20,
            Method::Sobol => 1000,
        }),
        seed: args
            .seed
            .or(scn.montecarlo.seed)
            .unwrap_or(ecocomp::run::pipeline::DEFAULT_SEED),
        threads: threads_or_all(args.threads),
        regions: args.regions.clone(),
    };
    let (samples, name) = (settings.samples, method.name());
    if let Some(shard) = args.shard {
        return super::shards::sensitivity_shard(scn, settings, &args.out, shard, argv);
    }
    let exporters = report::sensitivity_exporters();
    let job = Job::Sensitivity(settings);
    let (outcome, dir) = execute_job(scn, job, out, &exporters, argv, true, Shards::Whole)?;
    if let Some(r) = &outcome.sensitivity {
        print_out(&report::sensitivity::table(r));
    }
    outln!(
        "wrote {} ({samples} {name} samples in {:.2} s)",
        dir.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn synth(a: &SynthArgs) -> anyhow::Result<()> {
    let usage = |v: String, m: &str| {
        Error::invalid(vec![ecocomp::Problem::new(
            "command line",
            "--regions/--groups",
            v,
            m,
        )])
    };
    if a.regions == 0 || a.regions > 10_000_000 {
        return Err(usage(
            a.regions.to_string(),
            "--regions must be between 1 and 10,000,000",
        )
        .into());
    }
    if a.groups == 0 || a.groups > a.regions {
        return Err(usage(
            a.groups.to_string(),
            "--groups must be between 1 and --regions",
        )
        .into());
    }
    let stem = a
        .out
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "synth".into());
    let csv_name = format!("{stem}_regions.csv");
    let csv_path = a.out.with_file_name(&csv_name);
    let mut regions = ecocomp::synth::synth_regions(a.regions, a.groups, a.seed);
    let mut formulas = ecocomp::synth::synth_formulas(&regions.meta);
    let budget = ecocomp::synth::synth_budget(&regions);
    if a.classified {
        ecocomp::synth::add_classified(&mut regions, a.seed);
        ecocomp::synth::add_classified_components(&mut formulas, &regions.meta);
    }
    let noise = ecocomp::synth::synth_noise();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let description = format!(
        "synthetic: {} regions in {} groups, generator seed {}",
        a.regions, a.groups, a.seed
    );
    let assumptions = vec!["every number is synthetic (ecocomp synth)".to_string()];
    let toml = ecocomp::scenario::write::scenario_toml(&ecocomp::scenario::write::ScenarioFile {
        name: &name,
        description: &description,
        assumptions: &assumptions,
        budget: &budget,
        regions_file: &csv_name,
        tag_names: &regions.meta.tag_names,
        extra_names: &regions.meta.extra_names,
        formulas: &formulas,
        noise: &noise,
        draws: 10_000,
        seed: a.seed,
    });
    let csv = ecocomp::scenario::write::regions_csv(&regions, &[])?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    ecocomp::run::staging::write_atomic(&csv_path, &csv)?;
    ecocomp::run::staging::write_atomic(&a.out, toml.as_bytes())?;
    outln!("wrote {} and {}", a.out.display(), csv_path.display());
    Ok(())
}

pub fn init(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("example.toml");
    if path.exists() {
        anyhow::bail!(
            "{} already exists; remove it or choose another folder",
            path.display()
        );
    }
    std::fs::write(&path, EXAMPLE_SCENARIO)
        .with_context(|| format!("cannot write {}", path.display()))?;
    outln!(
        "wrote {}\nnext: ecocomp validate {0} && ecocomp run {0}",
        path.display()
    );
    Ok(())
}

/// `ecocomp completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    use clap::CommandFactory;
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ecocomp", &mut out);
    print_out(&String::from_utf8_lossy(&out));
    Ok(())
}

/// `ecocomp man`: the manual page in roff on stdout.
pub fn man() -> anyhow::Result<()> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut out)
        .context("cannot render the manual page")?;
    print_out(&String::from_utf8_lossy(&out));
    Ok(())
}
