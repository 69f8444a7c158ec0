//! The command line (clap): `run`, `validate`, `init`, `synth`, `compare`, `sensitivity`. `main.rs` only calls [`main_with`].

/// Print a line to stdout, ignoring a closed pipe (`ecocomp run | head` must not panic).
macro_rules! outln {
    ($($arg:tt)*) => {
        print_out(&format!("{}\n", format_args!($($arg)*)))
    };
}

use crate::error::Error;
use crate::output::Staging;
use crate::output::json::{RunInfo, manifest_json, rfc3339, summary_json};
use crate::scenario::{self};
use crate::model::{Scenario};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// The commented example scenario written by `ecocomp init`.
const EXAMPLE_SCENARIO: &str = include_str!("../scenarios/example.toml");

#[derive(Debug, Parser)]
#[command(
    name = "ecocomp",
    version,
    about = "Simulate ecological-compensation transfer payments: vertical allocation by formula, horizontal basin agreements, Monte Carlo."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (the embedded national default when none is given) and write outputs.
    Run(RunArgs),
    /// Check a scenario file and report every problem, without running it.
    Validate {
        /// Scenario TOML file.
        scenario: PathBuf,
    },
    /// Write a deterministic synthetic scenario (county scale) for scale tests and benchmarks.
    Synth(SynthArgs),
    /// Compare formulas: inequality, targeting, budget, winners and losers vs a baseline.
    Compare(CompareArgs),
    /// Which uncertain parameters drive a formula's result (Morris or Sobol).
    Sensitivity(SensitivityArgs),
    /// Write a commented example scenario to start from.
    Init {
        /// Folder to write `example.toml` into (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Number of regions.
    #[arg(long)]
    pub regions: usize,
    /// Number of groups (provinces) the regions fall into.
    #[arg(long, default_value_t = 31)]
    pub groups: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scenario file to write; the regions CSV is written beside it as `<stem>_regions.csv`.
    #[arg(long)]
    pub out: PathBuf,
}

/// Monte Carlo options shared by `run` and `compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct McArgs {
    /// Monte Carlo draws [default: the scenario's montecarlo.draws, else 1000]; 0 gives the
    /// point estimate only.
    #[arg(long)]
    pub draws: Option<u64>,
    /// Random seed [default: the scenario's montecarlo.seed, else 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl McArgs {
    /// Settings for `scn`: the command line, else the scenario's `[montecarlo]`, else the
    /// defaults.
    pub fn settings(&self, scn: &Scenario, baseline: usize) -> crate::montecarlo::Settings {
        crate::montecarlo::Settings {
            draws: self.draws.or(scn.montecarlo.draws).unwrap_or(DEFAULT_DRAWS),
            seed: self.seed.or(scn.montecarlo.seed).unwrap_or(DEFAULT_SEED),
            threads: threads_or_all(self.threads),
            baseline,
            keep_regions: Vec::new(),
            save_draws: false,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario TOML file; omit to run the embedded default (scenarios/national.toml).
    pub scenario: Option<PathBuf>,
    /// Output folder [default: output/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub mc: McArgs,
    /// Baseline formula for paired differences [default: the first formula].
    #[arg(long)]
    pub baseline: Option<String>,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write every draw to draws.csv (small runs only: refused above 5,000,000 values).
    #[arg(long)]
    pub save_draws: bool,
    /// Do not draw figures (report.html is still written, with tables only).
    #[arg(long)]
    pub no_plots: bool,
    /// Figure file formats.
    #[arg(long, value_enum, default_value_t = PlotFormatArg::Both)]
    pub plot_format: PlotFormatArg,
    /// Region ids whose allocation histograms are drawn [default: the three largest].
    #[arg(long, value_delimiter = ',')]
    pub plot_regions: Vec<String>,
    /// Run even when the estimated time for --draws exceeds the limit (see
    /// `MAX_UNFORCED_SECONDS`).
    #[arg(long)]
    pub force: bool,
}

/// `--plot-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotFormatArg {
    Png,
    Svg,
    Both,
}

impl From<PlotFormatArg> for crate::plots::PlotFormat {
    fn from(a: PlotFormatArg) -> Self {
        match a {
            PlotFormatArg::Png => crate::plots::PlotFormat::Png,
            PlotFormatArg::Svg => crate::plots::PlotFormat::Svg,
            PlotFormatArg::Both => crate::plots::PlotFormat::Both,
        }
    }
}

/// Draws when neither the command line nor the scenario says.
pub const DEFAULT_DRAWS: u64 = 1000;
/// Seed when neither the command line nor the scenario says.
pub const DEFAULT_SEED: u64 = 1;

/// An error with its exit code: 2 for invalid input or usage, 1 for runtime failures.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(1, Error::exit_code)
}

/// Parse arguments and run. Returns the process exit code.
pub fn main_with(args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match dispatch(cli, &args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e:#}");
            exit_code(&e)
        }
    }
}

fn dispatch(cli: Cli, args: &[String]) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(r) => run(r, args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Init { dir } => init(&dir),
        Command::Synth(a) => synth(&a),
        Command::Compare(c) => compare_cmd(c, args),
        Command::Sensitivity(s) => sensitivity_cmd(s, args),
    }
}

fn load(path: Option<&Path>) -> anyhow::Result<Scenario> {
    Ok(match path {
        Some(p) => scenario::load(p)?,
        None => scenario::load_default()?,
    })
}

fn print_warnings(scn: &Scenario) {
    for w in &scn.warnings {
        eprintln!("warning: {w}");
    }
}

fn validate(path: &Path) -> anyhow::Result<()> {
    let scn = load(Some(path))?;
    print_warnings(&scn);
    // What `run` would stop at before its first draw (floors the budget cannot honour, a
    // claim that overflows) is the scenario's fault too: report it here.
    crate::pipeline::point(&scn)?;
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
        scn.warnings.len()
    );
    Ok(())
}

fn synth(a: &SynthArgs) -> anyhow::Result<()> {
    let usage = |v: String, m: &str| {
        Error::invalid(vec![crate::Problem::new(
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
    let regions = crate::synth::synth_regions(a.regions, a.groups, a.seed);
    let formulas = crate::synth::synth_formulas(&regions.meta);
    let budget = crate::synth::synth_budget(&regions);
    let noise = crate::synth::synth_noise();
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
    let toml =
        crate::output::scenario_file::scenario_toml(&crate::output::scenario_file::ScenarioFile {
            name: &name,
            description: &description,
            assumptions: &assumptions,
            budget: &budget,
            regions_file: &csv_name,
            tag_names: &regions.meta.tag_names,
            formulas: &formulas,
            noise: &noise,
            draws: 10_000,
            seed: a.seed,
        });
    let csv = crate::output::scenario_file::regions_csv(&regions, &[])?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::output::write_atomic(&csv_path, &csv)?;
    crate::output::write_atomic(&a.out, toml.as_bytes())?;
    outln!("wrote {} and {}", a.out.display(), csv_path.display());
    Ok(())
}

fn init(dir: &Path) -> anyhow::Result<()> {
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

/// The point-estimate tables of a run, by name: `breakdown.csv` with formulas, and
/// `basins_breakdown.csv` with agreements.
fn point_tables(
    scn: &Scenario,
    res: &crate::pipeline::PointResults,
) -> crate::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    if scn.vertical.is_some() {
        out.push((
            "breakdown.csv",
            crate::output::csv::breakdown_csv(scn, res)?,
        ));
    }
    if !scn.agreements.is_empty() {
        out.push((
            "basins_breakdown.csv",
            crate::horizontal::export::breakdown_csv(&res.basins(scn)),
        ));
    }
    Ok(out)
}

/// The Monte Carlo tables of a run, by name: `regions.csv` with formulas, `basins.csv`
/// and `sections.csv` with agreements.
fn mc_tables(
    scn: &Scenario,
    res: &crate::pipeline::PointResults,
    mc: &crate::montecarlo::McResults,
) -> crate::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    if scn.vertical.is_some() {
        out.push((
            "regions.csv",
            crate::output::csv::regions_csv(scn, res, Some(mc))?,
        ));
    }
    if !scn.agreements.is_empty() {
        out.push(("basins.csv", crate::output::csv::basins_csv(scn, res, mc)?));
        out.push((
            "sections.csv",
            crate::output::csv::sections_csv(scn, res, mc)?,
        ));
    }
    Ok(out)
}

fn run(args: RunArgs, argv: &[String]) -> anyhow::Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    crate::interrupt::install();
    let scn = load(args.scenario.as_deref())?;
    print_warnings(&scn);
    let baseline = match (&args.baseline, &scn.vertical) {
        (None, _) => 0,
        (Some(name), Some(v)) => {
            v.formulas
                .iter()
                .position(|f| &f.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
                    Error::invalid(vec![crate::Problem::new(
                        "--baseline",
                        "command line",
                        name,
                        format!("no such formula; the scenario has {}", names.join(", ")),
                    )])
                })?
        }
        (Some(name), None) => {
            return Err(Error::invalid(vec![crate::Problem::new(
                "--baseline",
                "command line",
                name,
                "the scenario has no formulas",
            )])
            .into());
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scn.meta.name));
    // Stage first: a bad output path fails before any computation.
    let staging = Staging::new(&out)?;
    crate::interrupt::register_staging(Some(staging.path().to_path_buf()));
    let res = crate::pipeline::point(&scn)?;
    let keep = crate::output::figures::keep_regions(&scn, &res, &args.plot_regions, baseline)
        .map_err(|m| {
            Error::invalid(vec![crate::Problem::new(
                "--plot-regions",
                "command line",
                args.plot_regions.join(","),
                m,
            )])
        })?;
    let settings = crate::montecarlo::Settings {
        keep_regions: keep.clone(),
        save_draws: args.save_draws,
        ..args.mc.settings(&scn, baseline)
    };
    if settings.save_draws {
        crate::montecarlo::saved::check_size(&scn, settings.draws)?;
    }
    if !args.force {
        check_run_time(&scn, &settings)?;
    }
    let bar = progress_bar(settings.draws, args.quiet);
    let mc = crate::montecarlo::run(&scn, &settings, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let mut info = RunInfo {
        command_line: argv.to_vec(),
        seed: settings.seed,
        draws: settings.draws,
        threads: settings.threads,
        started: rfc3339(started),
        wall_seconds: 0.0,
        ..Default::default()
    };
    let compute_seconds = clock.elapsed().as_secs_f64();
    info.compute_seconds = compute_seconds;
    let (figures, mut warnings) = if args.no_plots {
        (Vec::new(), Vec::new())
    } else {
        crate::output::figures::figures(&scn, &res, &mc, &keep, baseline, args.plot_format.into())
    };
    for f in &figures {
        if let Some(png) = &f.rendered.png {
            staging.write(&format!("plots/{}.png", f.stem), png)?;
        }
        if let Some(svg) = &f.rendered.svg {
            staging.write(&format!("plots/{}.svg", f.stem), svg.as_bytes())?;
        }
    }
    let plot_seconds = clock.elapsed().as_secs_f64() - compute_seconds;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    warnings.splice(0..0, scn.warnings.iter().cloned());
    // The point tables on a second thread (when the run may use two) while this one
    // formats the Monte Carlo tables, the summary and the report: together some 80 ms for
    // W1's 2,800 regions, mostly formatting numbers.
    let (point, tables, summary, report) = std::thread::scope(|s| {
        let point = (settings.threads > 1).then(|| s.spawn(|| point_tables(&scn, &res)));
        let tables = mc_tables(&scn, &res, &mc);
        let extra = crate::output::json::mc_summary(&scn, &res, &mc, &warnings);
        let summary = summary_json(&scn, &res, &info, extra);
        let report = crate::output::report_build::build(
            &scn, &res, &mc, &info, baseline, &figures, &warnings,
        );
        let report = crate::output::report::render(&report);
        let point = match point {
            Some(t) => t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => point_tables(&scn, &res),
        };
        (point, tables, summary, report)
    });
    for (name, bytes) in point?.into_iter().chain(tables?) {
        staging.write(name, &bytes)?;
    }
    if let Some(csv) = &mc.draws_csv {
        staging.write("draws.csv", csv)?;
    }
    staging.write("summary.json", &summary?)?;
    staging.write("report.html", report.as_bytes())?;
    info.wall_seconds = clock.elapsed().as_secs_f64();
    info.plot_seconds = plot_seconds;
    staging.write("manifest.json", &manifest_json(&scn, &info)?)?;
    let dir = staging.commit()?;
    crate::interrupt::register_staging(None);
    if !args.quiet {
        print_table(&scn, &res, &mc);
    }
    outln!(
        "wrote {} ({} draws in {:.2} s)",
        dir.display(),
        settings.draws,
        info.wall_seconds
    );
    Ok(())
}

/// Draws above which `run` times a pilot before the full run.
pub const PILOT_ABOVE_DRAWS: u64 = 100_000;
/// Longest estimated run time (seconds) that runs without `--force`: one hour.
pub const MAX_UNFORCED_SECONDS: f64 = 3600.0;

/// Estimate the wall time of `settings.draws` Monte Carlo draws by timing pilots through
/// [`crate::montecarlo::run`] (doubling from 256 draws until a pilot takes 0.2 s or reaches
/// 65,536 draws) and extrapolating linearly. Returns seconds.
pub fn estimate_seconds(
    scn: &Scenario,
    settings: &crate::montecarlo::Settings,
) -> anyhow::Result<f64> {
    let mut pilot = 256u64.min(settings.draws.max(1));
    loop {
        let s = crate::montecarlo::Settings {
            draws: pilot,
            keep_regions: Vec::new(),
            save_draws: false,
            ..settings.clone()
        };
        let clock = std::time::Instant::now();
        crate::montecarlo::run(scn, &s, &mut |_| {})?;
        let secs = clock.elapsed().as_secs_f64();
        if secs >= 0.2 || pilot >= 65_536 || pilot >= settings.draws {
            return Ok(secs / pilot as f64 * settings.draws as f64);
        }
        pilot *= 2;
    }
}

/// A duration in words: seconds, minutes, hours, days or years.
pub fn human_duration(secs: f64) -> String {
    const UNITS: [(f64, &str); 5] = [
        (365.25 * 86400.0, "years"),
        (86400.0, "days"),
        (3600.0, "hours"),
        (60.0, "minutes"),
        (1.0, "seconds"),
    ];
    for (size, name) in UNITS {
        if secs >= size {
            return format!("{:.1} {name}", secs / size);
        }
    }
    format!("{secs:.2} seconds")
}

/// Refuse (exit code 2) a run whose estimated time exceeds [`MAX_UNFORCED_SECONDS`]. Only
/// runs a pilot when draws exceed [`PILOT_ABOVE_DRAWS`], so normal runs pay nothing.
fn check_run_time(scn: &Scenario, settings: &crate::montecarlo::Settings) -> anyhow::Result<()> {
    if settings.draws <= PILOT_ABOVE_DRAWS {
        return Ok(());
    }
    let secs = estimate_seconds(scn, settings)?;
    if secs > MAX_UNFORCED_SECONDS {
        return Err(Error::invalid(vec![crate::Problem::new(
            "--draws",
            "command line",
            settings.draws,
            format!(
                "this run would take about {} on {} thread{} (estimated from a timed pilot); \
                 lower --draws, or pass --force to run it anyway",
                human_duration(secs),
                settings.threads,
                if settings.threads == 1 { "" } else { "s" }
            ),
        )])
        .into());
    }
    Ok(())
}

/// A progress bar on stderr with draws per second and an ETA; hidden when stderr is not a
/// terminal or with --quiet.
fn progress_bar(draws: u64, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || draws == 0 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(draws);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{bar:40}] {pos}/{len} draws · {per_sec} · ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A short terminal summary: per formula the total and the top regions, with the Monte
/// Carlo 90% interval where there were draws.
fn print_table(
    scn: &Scenario,
    res: &crate::pipeline::PointResults,
    mc: &crate::montecarlo::McResults,
) {
    let Some(v) = &scn.vertical else { return };
    let unit = &scn.meta.currency;
    let n = v.regions.data.n;
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
    for (f, fp) in res.formulas.iter().enumerate() {
        let a = &fp.alloc;
        outln!(
            "formula {}: total {:.4} {unit}, unallocated {:.4}, scale {:.6}",
            fp.name,
            a.total,
            a.unallocated(),
            a.scale
        );
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| a.x[j].total_cmp(&a.x[i]));
        for &i in order.iter().take(5) {
            match acc {
                Some(m) => {
                    let q = m.x[f * n + i].q.quantiles(&[0.05, 0.95]);
                    outln!(
                        "    {:<16} {:>12.4}   90% [{:.4}, {:.4}]",
                        v.regions.meta.name[i],
                        a.x[i],
                        q[0],
                        q[1]
                    );
                }
                None => outln!("    {:<16} {:>12.4}", v.regions.meta.name[i], a.x[i]),
            }
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Scenario TOML file.
    pub scenario: PathBuf,
    /// Formulas to compare, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub formulas: Option<Vec<String>>,
    /// Baseline formula for winners and losers [default: the first compared formula].
    #[arg(long)]
    pub baseline: Option<String>,
    #[command(flatten)]
    pub mc: McArgs,
    /// Output folder [default: output/<scenario name>-compare].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SensitivityArgs {
    /// Scenario TOML file.
    pub scenario: PathBuf,
    /// Formula to analyse.
    #[arg(long)]
    pub formula: String,
    /// Method: Morris elementary effects or Sobol indices.
    #[arg(long, value_enum)]
    pub method: crate::compare::sensitivity::Method,
    /// Morris trajectories [default 20] or Sobol base samples N [default 1000].
    #[arg(long)]
    pub samples: Option<usize>,
    /// Random seed [default: the scenario's montecarlo.seed, else 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Region ids to report besides the five largest, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Output folder [default: output/<scenario name>-sensitivity].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Print a table to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn threads_or_all(t: Option<usize>) -> usize {
    t.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn compare_cmd(args: CompareArgs, argv: &[String]) -> anyhow::Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    crate::interrupt::install();
    let full = load(Some(&args.scenario))?;
    print_warnings(&full);
    let (scn, baseline) =
        crate::compare::select(&full, args.formulas.as_deref(), args.baseline.as_deref())?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-compare", scn.meta.name)));
    let staging = Staging::new(&out)?;
    crate::interrupt::register_staging(Some(staging.path().to_path_buf()));
    let settings = args.mc.settings(&scn, baseline);
    let bar = progress_bar(settings.draws, false);
    let cmp = crate::compare::compare(&scn, &settings, &mut |d| bar.set_position(d))?;
    bar.finish_and_clear();
    let meta = scn
        .vertical
        .as_ref()
        .map(|v| v.regions.meta.clone())
        .unwrap_or_default();
    staging.write(
        "comparison.csv",
        &crate::compare::export::comparison_csv(&meta, &cmp)?,
    )?;
    staging.write(
        "metrics.json",
        &crate::compare::export::metrics_json(&scn.meta.name, &meta, &cmp)?,
    )?;
    let info = RunInfo {
        command_line: argv.to_vec(),
        seed: settings.seed,
        draws: settings.draws,
        threads: settings.threads,
        started: rfc3339(started),
        wall_seconds: clock.elapsed().as_secs_f64(),
        ..Default::default()
    };
    staging.write("manifest.json", &manifest_json(&scn, &info)?)?;
    let dir = staging.commit()?;
    crate::interrupt::register_staging(None);
    print_out(&crate::compare::export::table(
        &meta,
        &cmp,
        &scn.meta.currency,
    ));
    outln!(
        "wrote {} ({} draws in {:.2} s)",
        dir.display(),
        settings.draws,
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sensitivity_cmd(args: SensitivityArgs, argv: &[String]) -> anyhow::Result<()> {
    use crate::compare::sensitivity::{self as sens, Method};
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let scn = load(Some(&args.scenario))?;
    print_warnings(&scn);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-sensitivity", scn.meta.name)));
    let settings = sens::SensitivitySettings {
        formula: args.formula.clone(),
        method: args.method,
        samples: args.samples.unwrap_or(match args.method {
            Method::Morris => 20,
            Method::Sobol => 1000,
        }),
        seed: args.seed.or(scn.montecarlo.seed).unwrap_or(DEFAULT_SEED),
        threads: threads_or_all(args.threads),
        regions: args.regions.clone(),
    };
    let staging = Staging::new(&out)?;
    let r = sens::run(&scn, &settings)?;
    staging.write("sensitivity.csv", &sens::sensitivity_csv(&r)?)?;
    for (stem, chart) in sens::tornado_charts(&r) {
        let img = crate::plots::render(&chart, crate::plots::PlotFormat::Both)
            .with_context(|| format!("cannot draw {stem}"))?;
        if let Some(png) = &img.png {
            staging.write(&format!("plots/{stem}.png"), png)?;
        }
        if let Some(svg) = &img.svg {
            staging.write(&format!("plots/{stem}.svg"), svg.as_bytes())?;
        }
    }
    let info = RunInfo {
        command_line: argv.to_vec(),
        seed: settings.seed,
        draws: settings.samples as u64,
        threads: settings.threads,
        started: rfc3339(started),
        wall_seconds: clock.elapsed().as_secs_f64(),
        ..Default::default()
    };
    staging.write("manifest.json", &manifest_json(&scn, &info)?)?;
    let dir = staging.commit()?;
    print_out(&sens::table(&r));
    outln!(
        "wrote {} ({} {} samples in {:.2} s)",
        dir.display(),
        settings.samples,
        settings.method.name(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}
