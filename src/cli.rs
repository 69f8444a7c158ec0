//! The command line (clap): `run`, `validate`, `init`. `main.rs` only calls [`main_with`].

use crate::error::Error;
use crate::output::Staging;
use crate::output::json::{RunInfo, manifest_json, rfc3339, summary_json};
use crate::scenario::{self, Scenario};
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
    /// Write a commented example scenario to start from.
    Init {
        /// Folder to write `example.toml` into (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario TOML file; omit to run the embedded default (scenarios/national.toml).
    pub scenario: Option<PathBuf>,
    /// Output folder [default: output/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
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
    /// Baseline formula for paired differences [default: the first formula].
    #[arg(long)]
    pub baseline: Option<String>,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run even when the estimated time for --draws exceeds the limit (see
    /// `MAX_UNFORCED_SECONDS`).
    #[arg(long)]
    pub force: bool,
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
    println!(
        "{}: valid — scenario '{}', {regions} regions, {formulas} formulas, {} agreements, {uncertain} uncertain parameters, {} warnings",
        path.display(),
        scn.meta.name,
        scn.agreements.len(),
        scn.warnings.len()
    );
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
    println!(
        "wrote {}\nnext: ecocomp validate {0} && ecocomp run {0}",
        path.display()
    );
    Ok(())
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
    let settings = crate::montecarlo::Settings {
        draws: args.draws.or(scn.montecarlo.draws).unwrap_or(DEFAULT_DRAWS),
        seed: args.seed.or(scn.montecarlo.seed).unwrap_or(DEFAULT_SEED),
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        baseline,
    };
    if !args.force {
        check_run_time(&scn, &settings)?;
    }
    let res = crate::pipeline::point(&scn)?;
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
    };
    let extra = crate::output::json::mc_summary(&scn, &mc);
    staging.write(
        "regions.csv",
        &crate::output::csv::regions_csv(&scn, &res, Some(&mc))?,
    )?;
    if scn.vertical.is_some() {
        staging.write(
            "breakdown.csv",
            &crate::output::csv::breakdown_csv(&scn, &res)?,
        )?;
    }
    if !scn.agreements.is_empty() {
        let basins = res.basins(&scn);
        staging.write(
            "basins.csv",
            &crate::horizontal::export::basins_csv(&basins),
        )?;
        staging.write(
            "sections.csv",
            &crate::horizontal::export::sections_csv(&basins),
        )?;
        staging.write(
            "basins_breakdown.csv",
            &crate::horizontal::export::breakdown_csv(&basins),
        )?;
    }
    staging.write("summary.json", &summary_json(&scn, &res, &info, extra)?)?;
    info.wall_seconds = clock.elapsed().as_secs_f64();
    staging.write("manifest.json", &manifest_json(&scn, &info)?)?;
    let dir = staging.commit()?;
    crate::interrupt::register_staging(None);
    if !args.quiet {
        print_table(&scn, &res, &mc);
    }
    println!(
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
            ..*settings
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
        println!(
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
                    println!(
                        "    {:<16} {:>12.4}   90% [{:.4}, {:.4}]",
                        v.regions.meta.name[i], a.x[i], q[0], q[1]
                    );
                }
                None => println!("    {:<16} {:>12.4}", v.regions.meta.name[i], a.x[i]),
            }
        }
    }
}
