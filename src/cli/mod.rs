//! The command line: clap's argument types, and [`main_with`], which runs a command and
//! turns its result into an exit code. The commands themselves are in [`commands`]; the
//! console output (tables, the progress bar) in [`console`]; Ctrl-C in [`interrupt`].

mod calibrate;
mod commands;
mod console;
mod inspect;
mod interrupt;
mod shards;

use clap::{Parser, Subcommand};
use ecocomp::Error;
use ecocomp::montecarlo::saved::DrawsFormat;
use ecocomp::plots::PlotFormat;
use ecocomp::sensitivity::analysis::Method;
use std::path::PathBuf;

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
        /// Also list what the scenario holds: formulas, regions (first rows and counts per
        /// group), tags, agreements and uncertain parameters.
        #[arg(long)]
        list: bool,
    },
    /// Write a deterministic synthetic scenario (county scale) for scale tests and benchmarks.
    Synth(SynthArgs),
    /// Compare formulas: inequality, targeting, budget, winners and losers vs a baseline.
    Compare(CompareArgs),
    /// Which uncertain parameters drive a formula's result (Morris or Sobol).
    Sensitivity(SensitivityArgs),
    /// Fit a formula's free coefficients to an observed allocation, with cross-validation.
    Calibrate(calibrate::CalibrateArgs),
    /// Combine the states of every shard of a run (`run --shard K/N`) or a sensitivity
    /// analysis into exactly the outputs of a single run.
    Merge(shards::MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `ecocomp man > ecocomp.1`.
    Man,
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
    /// Add classified compensation: extra columns `forest_public_mu`, `grassland_ban_mu` and
    /// `wetland_km2`, per-unit forest and grassland components and a wetland pool in every
    /// formula.
    #[arg(long)]
    pub classified: bool,
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
    /// Regions listed per formula in the summary table.
    #[arg(long, default_value_t = console::DEFAULT_TOP, conflicts_with = "all")]
    pub top: usize,
    /// List every region in the summary table.
    #[arg(long)]
    pub all: bool,
    /// Also write every draw of every output: to draws.csv (small runs only: refused
    /// above 5,000,000 values), or to draws.parquet with --draws-format parquet (refused
    /// only when the disk lacks the space).
    #[arg(long)]
    pub save_draws: bool,
    /// File format of --save-draws (which it requires).
    #[arg(long, value_enum, default_value_t = DrawsFormatArg::Csv, requires = "save_draws")]
    pub draws_format: DrawsFormatArg,
    /// Do not draw figures (report.html is still written, with tables only).
    #[arg(long)]
    pub no_plots: bool,
    /// Figure file formats.
    #[arg(long, value_enum, default_value_t = PlotFormatArg::Both)]
    pub plot_format: PlotFormatArg,
    /// Region ids whose allocation histograms are drawn [default: the three largest].
    #[arg(long, value_delimiter = ',')]
    pub plot_regions: Vec<String>,
    /// Run even when the estimated time for --draws exceeds one hour.
    #[arg(long)]
    pub force: bool,
    /// Compute only shard K of N (0-based) of the run's draws and write its state to
    /// `<out>/state/`; `ecocomp merge` completes the run. For batch systems: one task per K.
    #[arg(long, value_name = "K/N", value_parser = shards::parse_shard)]
    pub shard: Option<ecocomp::montecarlo::Shard>,
}

/// `--draws-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrawsFormatArg {
    /// draws.csv, built in memory.
    Csv,
    /// draws.parquet (zstd), streamed: memory stays bounded.
    Parquet,
}

impl From<DrawsFormatArg> for DrawsFormat {
    fn from(a: DrawsFormatArg) -> Self {
        match a {
            DrawsFormatArg::Csv => DrawsFormat::Csv,
            DrawsFormatArg::Parquet => DrawsFormat::Parquet,
        }
    }
}

/// `--plot-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotFormatArg {
    Png,
    Svg,
    Both,
}

impl From<PlotFormatArg> for PlotFormat {
    fn from(a: PlotFormatArg) -> Self {
        match a {
            PlotFormatArg::Png => PlotFormat::Png,
            PlotFormatArg::Svg => PlotFormat::Svg,
            PlotFormatArg::Both => PlotFormat::Both,
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
    pub method: MethodArg,
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
    /// Evaluate only shard K of N (0-based) of the design's points and write its state to
    /// `<out>/state/`; `ecocomp merge` completes the analysis.
    #[arg(long, value_name = "K/N", value_parser = shards::parse_shard)]
    pub shard: Option<ecocomp::montecarlo::Shard>,
}

/// `--method` of `sensitivity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Morris elementary effects (μ*, σ); `--samples` is the number of trajectories.
    Morris,
    /// Sobol first-order and total indices (Saltelli); `--samples` is the base sample N.
    Sobol,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Morris => Method::Morris,
            MethodArg::Sobol => Method::Sobol,
        }
    }
}

/// An error's exit code: 2 for invalid input or usage, 130 after Ctrl-C, 1 for runtime
/// failures.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(1, Error::exit_code)
}

/// Parse `args` and run the command. Returns the process exit code.
pub fn main_with(args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Run(r) => commands::run(r, &args),
        Command::Validate { scenario, list } => commands::validate(&scenario, list),
        Command::Completions { shell } => commands::completions(shell),
        Command::Man => commands::man(),
        Command::Init { dir } => commands::init(&dir),
        Command::Synth(a) => commands::synth(&a),
        Command::Compare(c) => commands::compare(c, &args),
        Command::Sensitivity(s) => commands::sensitivity(s, &args),
        Command::Calibrate(c) => calibrate::calibrate(c, &args),
        Command::Merge(m) => shards::merge(m, &args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e:#}");
            exit_code(&e)
        }
    }
}
