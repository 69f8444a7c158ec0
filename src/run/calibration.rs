//! `ecocomp calibrate`: the request's options merged with the scenario's `[calibrate]`
//! table and checked into a [`Problem`], the fit, and the scenario text with the fitted
//! values in place (docs/model.md §6).

use crate::calibrate::{self, Calibration, Free, Loss, Problem, Settings, paths};
use crate::cancel::Cancel;
use crate::error::{Error, Problem as InputProblem, Result};
use crate::model::expr::resolve;
use crate::model::{Scenario, Vertical};

/// What `calibrate` was asked on the command line (each `None` or empty: the scenario's
/// `[calibrate]` value).
#[derive(Debug, Clone, Default)]
pub struct CalibrateJob {
    pub formula: Option<String>,
    pub target: Option<String>,
    pub loss: Option<String>,
    /// `(path, lo, hi)`; replaces the scenario's list when not empty.
    pub free: Vec<(String, f64, f64)>,
    /// Cross-validation folds (leave-one-out when `None` and at most 50 regions have a
    /// target, else 10).
    pub folds: Option<usize>,
    pub starts: usize,
}

/// A calibration and what it was asked.
#[derive(Debug, Clone)]
pub struct CalibrationRun {
    pub formula: String,
    pub formula_index: usize,
    pub target: String,
    pub loss: Loss,
    pub result: Calibration,
    /// The scenario file with the fitted values in place.
    pub calibrated_toml: String,
}

/// An input problem of the calibration, at the command-line option (or the `[calibrate]`
/// key it overrides) of scenario file `file`.
fn bad(
    file: &std::path::Path,
    field: &str,
    value: impl std::fmt::Display,
    message: impl Into<String>,
) -> Error {
    Error::invalid(vec![InputProblem::new(
        file,
        format!("{field} (or [calibrate])"),
        value,
        message,
    )])
}

/// The problem `job` asks of `scn`, checked: every failure is an input error (exit 2).
pub fn problem(scn: &Scenario, job: &CalibrateJob) -> Result<(Problem, usize, String)> {
    let spec = &scn.calibrate;
    let file = scn.path.as_path();
    let v = scn.vertical.as_ref().ok_or_else(|| {
        bad(
            file,
            "--formula",
            &scn.meta.name,
            "the scenario has no formulas",
        )
    })?;
    let name = job
        .formula
        .clone()
        .or_else(|| spec.formula.clone())
        .ok_or_else(|| {
            bad(
                file,
                "--formula",
                "",
                "name the formula to calibrate (--formula, or formula under [calibrate])",
            )
        })?;
    let fi = v
        .formulas
        .iter()
        .position(|f| f.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
            bad(
                file,
                "--formula",
                &name,
                format!("no such formula; the scenario has {}", names.join(", ")),
            )
        })?;
    let formula = &v.formulas[fi];
    let target_name = job
        .target
        .clone()
        .or_else(|| spec.target.clone())
        .unwrap_or_else(|| "reference_allocation".to_string());
    let target = target_column(scn, v, &target_name)?;
    let known = target.iter().filter(|y| y.is_some()).count();
    let loss = match job.loss.clone().or_else(|| spec.loss.clone()).as_deref() {
        None | Some("share") => Loss::Share,
        Some("log") => Loss::Log,
        Some("rank") => Loss::Rank,
        Some(other) => return Err(bad(file, "--loss", other, "must be share, log or rank")),
    };
    let raw_free = if job.free.is_empty() {
        &spec.free
    } else {
        &job.free
    };
    if raw_free.is_empty() {
        return Err(bad(
            file,
            "--free",
            "",
            "name at least one free coefficient, e.g. --free key.redline_uplift=0:1 (or free under [calibrate])",
        ));
    }
    let free = raw_free
        .iter()
        .map(|(path, lo, hi)| free_coefficient(scn, v, formula, path, *lo, *hi))
        .collect::<Result<Vec<_>>>()?;
    if known < free.len() + 2 {
        return Err(bad(
            file,
            "--target",
            &target_name,
            format!(
                "{known} regions have a target, fewer than the {} free coefficients + 2 a fit needs",
                free.len()
            ),
        ));
    }
    let problem = Problem {
        formula: formula.clone(),
        data: v.regions.data.clone(),
        budget: v.budget.clone(),
        target,
        free,
        loss,
    };
    Ok((problem, fi, target_name))
}

/// The target per region (positive values only: a region with none, or 0, is not fitted).
fn target_column(scn: &Scenario, v: &Vertical, name: &str) -> Result<Vec<Option<f64>>> {
    let file = scn.path.as_path();
    let target: Vec<Option<f64>> = if name == "reference_allocation" {
        v.reference.clone().ok_or_else(|| {
            bad(
                file,
                "--target",
                name,
                "the regions have no reference_allocation column",
            )
        })?
    } else {
        let c = resolve(&v.regions.meta, name).ok_or_else(|| {
            bad(
                file,
                "--target",
                name,
                "no such region column (reference_allocation, a numeric column, or one \
                 declared in [regions] extra)",
            )
        })?;
        v.regions.data.column(c).iter().map(|&y| Some(y)).collect()
    };
    // A target of 0 tells the share loss nothing a positive one would not, and a column
    // with no positive value tells it nothing at all.
    let target: Vec<Option<f64>> = target.into_iter().map(|y| y.filter(|&y| y > 0.0)).collect();
    if target.iter().all(Option::is_none) {
        return Err(bad(
            file,
            "--target",
            name,
            "the target column has no positive value",
        ));
    }
    Ok(target)
}

/// A free coefficient: its path resolved in `formula`, its bounds checked, and c0 refused
/// where it cannot move the allocation.
fn free_coefficient(
    scn: &Scenario,
    v: &Vertical,
    formula: &crate::model::Formula,
    path: &str,
    lo: f64,
    hi: f64,
) -> Result<Free> {
    let file = scn.path.as_path();
    let param =
        paths::resolve(formula, &v.regions.meta, path).map_err(|e| bad(file, "--free", path, e))?;
    if lo >= hi {
        return Err(bad(
            file,
            "--free",
            format!("{path}={lo}:{hi}"),
            "the lower bound must be below the upper",
        ));
    }
    if param == crate::model::FormulaParam::C0 && v.budget.key_only() {
        return Err(bad(
            file,
            "--free",
            path,
            "c0 cannot be fitted under a fixed budget that scales only the key subsidy: the \
             budget sets the key subsidy's level (only s·c0 matters), so every c0 gives the \
             same allocation; free it in open mode or under budget.scale = \"all\"",
        ));
    }
    Ok(Free {
        path: path.to_string(),
        param,
        lo,
        hi,
    })
}

/// Fit `job` on `scn`. `progress` gets (fits done, fits in all).
pub fn run(
    scn: &Scenario,
    job: &CalibrateJob,
    cancel: &Cancel,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<CalibrationRun> {
    let (p, fi, target) = problem(scn, job)?;
    let known = p.target.iter().filter(|y| y.is_some()).count();
    let settings = Settings {
        starts: job.starts.max(1),
        folds: job.folds.unwrap_or(if known <= 50 { known } else { 10 }),
        max_iters: 600,
        profile_points: 11,
    };
    let result = calibrate::calibrate(&p, &settings, cancel, progress)?;
    let text = std::fs::read(&scn.path).map_err(|e| Error::Io {
        path: scn.path.clone(),
        source: e,
    })?;
    if crate::scenario::sha256_hex(&text) != scn.sha256 {
        return Err(Error::Runtime(format!(
            "{} changed while it was being calibrated; run again",
            scn.path.display()
        )));
    }
    let values: Vec<(String, f64)> = result
        .free
        .iter()
        .zip(&result.best)
        .map(|(f, &v)| (f.path.clone(), v))
        .collect();
    let calibrated_toml =
        crate::scenario::edit::set_coefficients(&String::from_utf8_lossy(&text), fi, &values)?;
    Ok(CalibrationRun {
        formula: p.formula.name.clone(),
        formula_index: fi,
        target,
        loss: p.loss,
        result,
        calibrated_toml,
    })
}
