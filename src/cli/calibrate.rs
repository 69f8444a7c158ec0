//! `ecocomp calibrate`: its arguments, and the console summary of a fit.

use super::commands::{default_out, execute_job, load};
use super::console::outln;
use ecocomp::numfmt::display;
use ecocomp::report;
use ecocomp::run::calibration::{CalibrateJob, CalibrationRun};
use ecocomp::run::pipeline::Job;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Scenario TOML file.
    pub scenario: PathBuf,
    /// Formula to fit [default: formula under the scenario's [calibrate]].
    #[arg(long)]
    pub formula: Option<String>,
    /// Region column to fit to [default: target under [calibrate], else reference_allocation].
    #[arg(long)]
    pub target: Option<String>,
    /// Loss: share (default), log or rank.
    #[arg(long)]
    pub loss: Option<String>,
    /// A free coefficient and its bounds, PATH=LO:HI (for example key.redline_uplift=0:1);
    /// repeat for several. Replaces the scenario's [calibrate] free list.
    #[arg(long = "free", value_parser = parse_free)]
    pub free: Vec<(String, f64, f64)>,
    /// Cross-validation folds [default: leave-one-out up to 50 regions with a target, else 10].
    #[arg(long)]
    pub folds: Option<usize>,
    /// Starting points of the fit.
    #[arg(long, default_value_t = 4)]
    pub starts: usize,
    /// Output folder [default: output/<scenario name>-calibration].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `PATH=LO:HI`.
fn parse_free(s: &str) -> Result<(String, f64, f64), String> {
    let (path, bounds) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': write PATH=LO:HI, e.g. key.redline_uplift=0:1"))?;
    let (lo, hi) = bounds
        .split_once(':')
        .ok_or_else(|| format!("'{s}': the bounds are LO:HI"))?;
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{s}': '{t}' is not a finite number"))
    };
    Ok((path.trim().to_string(), num(lo)?, num(hi)?))
}

pub fn calibrate(args: CalibrateArgs, argv: &[String]) -> anyhow::Result<()> {
    let clock = std::time::Instant::now();
    let scn = load(Some(&args.scenario))?;
    let out = default_out(&scn, &args.out, "-calibration");
    let job = Job::Calibrate(CalibrateJob {
        formula: args.formula,
        target: args.target,
        loss: args.loss,
        free: args.free,
        folds: args.folds,
        starts: args.starts,
    });
    let (outcome, dir) = execute_job(
        scn,
        job,
        out,
        &report::calibrate_exporters(),
        argv,
        true,
        ecocomp::run::pipeline::Shards::Whole,
    )?;
    if let Some(c) = &outcome.calibration {
        summary(c, &outcome.scenario);
    }
    outln!(
        "wrote {} in {:.2} s",
        dir.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The coefficients, the fit in and out of sample, and the worst regions.
fn summary(c: &CalibrationRun, scn: &ecocomp::model::Scenario) {
    let r = &c.result;
    outln!(
        "formula '{}' fitted to {} ({} loss, {} starts, {}-fold cross-validation)",
        c.formula,
        c.target,
        c.loss.name(),
        r.starts.len(),
        r.folds
    );
    for (j, f) in r.free.iter().enumerate() {
        let flat = if r.profiles[j].identified {
            ""
        } else {
            "  (poorly identified: the loss hardly moves along it)"
        };
        outln!(
            "  {} = {}  (from {}, bounds [{}, {}]){flat}",
            f.path,
            display(r.best[j]),
            display(r.initial[j]),
            display(f.lo),
            display(f.hi)
        );
    }
    if r.in_sample.loss >= r.initial_fit.loss {
        outln!("  no start improved on the scenario's own values; they are kept");
    }
    let names = scn.vertical.as_ref().map(|v| &v.regions.meta.name);
    let fit = |label: &str, f: &ecocomp::calibrate::Fit| {
        let worst: Vec<String> = f
            .worst
            .iter()
            .take(3)
            .map(|&(i, d)| {
                let n = names.map_or(String::new(), |n| n[i].clone());
                format!("{n} {}", display(d))
            })
            .collect();
        outln!(
            "  {label}: Spearman {}, WAPE {}%; largest misses {}",
            f.spearman.map_or("-".into(), display),
            display(100.0 * f.wape),
            worst.join(", ")
        );
    };
    fit("in sample", &r.in_sample);
    fit("out of sample", &r.out_of_sample);
}
