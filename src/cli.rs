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
    /// Do not print the summary table.
    #[arg(long, short)]
    pub quiet: bool,
}

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
    println!(
        "{}: valid — scenario '{}', {regions} regions, {formulas} formulas, {} uncertain parameters, {} warnings",
        path.display(),
        scn.meta.name,
        scn.uncertain.len(),
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
    let scn = load(args.scenario.as_deref())?;
    print_warnings(&scn);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scn.meta.name));
    // Stage first: a bad output path fails before any computation.
    let staging = Staging::new(&out)?;
    let res = crate::pipeline::point(&scn)?;
    let mut info = RunInfo {
        command_line: argv.to_vec(),
        seed: scn.montecarlo.seed.unwrap_or(0),
        draws: 0,
        threads: 1,
        started: rfc3339(started),
        wall_seconds: 0.0,
    };
    let extra = serde_json::json!({});
    staging.write("regions.csv", &crate::output::csv::regions_csv(&scn, &res)?)?;
    staging.write(
        "breakdown.csv",
        &crate::output::csv::breakdown_csv(&scn, &res)?,
    )?;
    staging.write("summary.json", &summary_json(&scn, &res, &info, extra)?)?;
    info.wall_seconds = clock.elapsed().as_secs_f64();
    staging.write("manifest.json", &manifest_json(&scn, &info)?)?;
    let dir = staging.commit()?;
    if !args.quiet {
        print_table(&scn, &res);
    }
    println!("wrote {}", dir.display());
    Ok(())
}

/// A short terminal summary: per formula the total and the top regions.
fn print_table(scn: &Scenario, res: &crate::pipeline::PointResults) {
    let Some(v) = &scn.vertical else { return };
    let unit = &scn.meta.currency;
    for f in &res.formulas {
        let a = &f.alloc;
        println!(
            "formula {}: total {:.4} {unit}, unallocated {:.4}, scale {:.6}",
            f.name,
            a.total,
            a.unallocated(),
            a.scale
        );
        let mut order: Vec<usize> = (0..v.regions.data.n).collect();
        order.sort_by(|&i, &j| a.x[j].total_cmp(&a.x[i]));
        for &i in order.iter().take(5) {
            println!("    {:<16} {:>12.4}", v.regions.meta.name[i], a.x[i]);
        }
    }
}
