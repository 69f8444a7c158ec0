//! The outputs of `ecocomp calibrate` (docs/model.md §6): `fit.csv` (per region the target,
//! the fitted allocation scaled to the target's total, the residual and the prediction of
//! the fit that left the region's fold out), `calibration.json` (every start, the in- and
//! out-of-sample fit, the worst regions and each coefficient's profile) and
//! `calibrated.toml` (the scenario with the fitted values in place).

use super::json::jnum;
use crate::calibrate::Fit;
use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::numfmt::num;
use crate::run::calibration::CalibrationRun;
use serde_json::{Value, json};

/// `fit.csv`.
pub fn fit_csv(scn: &Scenario, c: &CalibrationRun) -> Result<Vec<u8>> {
    let err = |e: csv::Error| Error::Runtime(format!("CSV serialisation failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "name",
        "group",
        "target",
        "fitted",
        "residual",
        "fold_prediction",
    ])
    .map_err(err)?;
    let Some(v) = &scn.vertical else {
        return w.into_inner().map_err(|e| Error::Runtime(e.to_string()));
    };
    let m = &v.regions.meta;
    let target = target_values(scn, c);
    for i in 0..v.regions.data.n {
        let y = target.get(i).copied().flatten();
        let fitted = c.result.fitted[i];
        w.write_record([
            m.id[i].clone(),
            m.name[i].clone(),
            m.group[i].clone(),
            y.map_or(String::new(), num),
            num(fitted),
            y.map_or(String::new(), |y| num(fitted - y)),
            c.result.fold_prediction[i].map_or(String::new(), num),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

/// The target per region as the calibration read it (positive values only).
fn target_values(scn: &Scenario, c: &CalibrationRun) -> Vec<Option<f64>> {
    let Some(v) = &scn.vertical else {
        return Vec::new();
    };
    if c.target == "reference_allocation" {
        v.reference.clone().unwrap_or_default()
    } else {
        crate::model::expr::resolve(&v.regions.meta, &c.target)
            .map(|col| {
                v.regions
                    .data
                    .column(col)
                    .iter()
                    .map(|&y| Some(y))
                    .collect()
            })
            .unwrap_or_default()
    }
    .into_iter()
    .map(|y| y.filter(|&y| y > 0.0))
    .collect()
}

fn fit_value(scn: &Scenario, f: &Fit) -> Value {
    let m = scn.vertical.as_ref().map(|v| &v.regions.meta);
    json!({
        "loss": jnum(f.loss),
        "spearman": f.spearman.map(jnum),
        "wape": jnum(f.wape),
        "worst": f.worst.iter().map(|&(i, r)| json!({
            "id": m.map(|m| m.id[i].clone()),
            "name": m.map(|m| m.name[i].clone()),
            "fitted_minus_target": jnum(r),
        })).collect::<Vec<_>>(),
    })
}

/// `calibration.json`.
pub fn calibration_json(scn: &Scenario, c: &CalibrationRun) -> Result<Vec<u8>> {
    let r = &c.result;
    let free: Vec<Value> = r
        .free
        .iter()
        .enumerate()
        .map(|(j, f)| {
            json!({
                "path": f.path,
                "lower": jnum(f.lo),
                "upper": jnum(f.hi),
                "initial": jnum(r.initial[j]),
                "fitted": jnum(r.best[j]),
                "profile": r.profiles[j].grid.iter().map(|&(x, l)| [jnum(x), jnum(l)]).collect::<Vec<_>>(),
                "loss_rise_at_10_percent_of_range": jnum(r.profiles[j].rise),
                "identified": r.profiles[j].identified,
            })
        })
        .collect();
    let doc = json!({
        "scenario": { "name": scn.meta.name, "path": scn.path.display().to_string(), "sha256": scn.sha256 },
        "formula": c.formula,
        "target": c.target,
        "loss": c.loss.name(),
        "free": free,
        "starts": r.starts.iter().map(|s| json!({
            "from": s.from.iter().copied().map(jnum).collect::<Vec<_>>(),
            "fitted": s.params.iter().copied().map(jnum).collect::<Vec<_>>(),
            "loss": jnum(s.loss),
            "iterations": s.iterations,
        })).collect::<Vec<_>>(),
        "initial_fit": fit_value(scn, &r.initial_fit),
        "improved": r.in_sample.loss < r.initial_fit.loss,
        "in_sample": fit_value(scn, &r.in_sample),
        "cross_validation_folds": r.folds,
        "out_of_sample": fit_value(scn, &r.out_of_sample),
    });
    let mut bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| Error::Runtime(format!("JSON serialisation failed: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The note that explains the fit figure.
pub const FIT_NOTE: &str = "One dot per region with a target: the observed allocation (x) against the calibrated formula's allocation scaled to the same total (y), in sample (blue, the fit that saw every region) and out of sample (orange, each region predicted by the fit that left its fold out). Dots on the grey 45° line are reproduced exactly; the five regions with the largest in-sample misses are named.";

/// Fitted (and cross-validated) against observed, with the 45° line.
pub fn fit_chart(scn: &Scenario, c: &CalibrationRun) -> Option<crate::plots::Chart> {
    use crate::plots::{Chart, ScatterChart, ScatterSeries};
    let v = scn.vertical.as_ref()?;
    let y = target_values(scn, c);
    let known: Vec<usize> = (0..v.regions.data.n).filter(|&i| y[i].is_some()).collect();
    let worst: Vec<usize> = c.result.in_sample.worst.iter().map(|w| w.0).collect();
    let name = |i: usize| {
        if worst.contains(&i) {
            v.regions.meta.name[i].clone()
        } else {
            String::new()
        }
    };
    let observed = |i: usize| y[i].unwrap_or(0.0);
    let mut series = vec![ScatterSeries {
        name: "in sample".into(),
        points: known
            .iter()
            .map(|&i| (observed(i), c.result.fitted[i]))
            .collect(),
        labels: known.iter().map(|&i| name(i)).collect(),
    }];
    let oos: Vec<usize> = known
        .iter()
        .copied()
        .filter(|&i| c.result.fold_prediction[i].is_some())
        .collect();
    if !oos.is_empty() {
        series.push(ScatterSeries {
            name: format!("out of sample ({}-fold)", c.result.folds),
            points: oos
                .iter()
                .map(|&i| (observed(i), c.result.fold_prediction[i].unwrap_or(0.0)))
                .collect(),
            labels: Vec::new(),
        });
    }
    let unit = if scn.meta.currency.is_empty() {
        "money".to_string()
    } else {
        scn.meta.currency.clone()
    };
    Some(Chart::Scatter(ScatterChart {
        title: format!("{} fitted against {}", c.formula, c.target),
        x_label: format!("observed {} ({unit})", c.target),
        y_label: format!("fitted allocation ({unit})"),
        series,
        diagonal: true,
    }))
}

/// The page `report.html` of a calibration.
pub fn page(
    out: &crate::run::pipeline::Outcome,
    c: &CalibrationRun,
    figure: Option<&super::figures::Figure>,
) -> super::html::Report {
    use super::html::Report;
    let scn = &out.scenario;
    let r = &c.result;
    let coefficients = coefficients_table(c);
    let fit = fit_table(scn, c);
    let figures = figure
        .and_then(super::page::page_figure)
        .into_iter()
        .collect();
    let mut notices = Vec::new();
    if r.in_sample.loss >= r.initial_fit.loss {
        notices
            .push("No start improved on the scenario's own values, so they are kept.".to_string());
    }
    Report {
        title: format!(
            "{} — calibration of {}",
            super::page::readable_title(scn),
            c.formula
        ),
        description: format!(
            "Scenario “{}”: `ecocomp calibrate`, formula {} fitted to {}.",
            scn.meta.name, c.formula, c.target
        ),
        sources: scn.meta.sources.clone(),
        assumptions: scn.meta.assumptions.clone(),
        settings: [
            super::page::scenario_settings(scn),
            vec![
                ("starts".into(), r.starts.len().to_string()),
                ("cross-validation folds".into(), r.folds.to_string()),
            ],
        ]
        .concat(),
        warnings: out.warnings.clone(),
        notices,
        tables: vec![coefficients, fit],
        figures,
        embed_font: true,
    }
}

/// The free coefficients: scenario value, fitted value, bounds and identification.
fn coefficients_table(c: &CalibrationRun) -> super::html::Table {
    use crate::numfmt::display;
    let r = &c.result;
    super::html::Table {
        title: "Coefficients".into(),
        note: "Each free coefficient's value in the scenario and after the fit, its bounds, and whether the data pin it down: a coefficient whose loss rises by less than 1% when it moves by a tenth of its range is poorly identified.".into(),
        header: ["coefficient", "scenario", "fitted", "bounds", "identified"]
            .map(String::from)
            .to_vec(),
        rows: r
            .free
            .iter()
            .enumerate()
            .map(|(j, f)| {
                vec![
                    f.path.clone(),
                    display(r.initial[j]),
                    display(r.best[j]),
                    format!("[{}, {}]", display(f.lo), display(f.hi)),
                    if r.profiles[j].identified { "yes" } else { "poorly" }.to_string(),
                ]
            })
            .collect(),
    }
}

/// The fits: the scenario's values, in sample and out of sample.
fn fit_table(scn: &Scenario, c: &CalibrationRun) -> super::html::Table {
    use crate::numfmt::display;
    let r = &c.result;
    let names = scn.vertical.as_ref().map(|v| &v.regions.meta.name);
    let fit_row = |label: &str, f: &Fit| {
        let worst: Vec<String> = f
            .worst
            .iter()
            .map(|&(i, d)| {
                format!(
                    "{} {}",
                    names.map_or(String::new(), |n| n[i].clone()),
                    display(d)
                )
            })
            .collect();
        vec![
            label.to_string(),
            display(f.loss),
            f.spearman.map_or(String::new(), display),
            format!("{}%", display(100.0 * f.wape)),
            worst.join(", "),
        ]
    };
    super::html::Table {
        title: "How well the formula reproduces the target".into(),
        note: format!(
            "Loss `{}` over the regions with a positive target; Spearman's rank correlation; WAPE = Σ|fitted − observed| / Σ observed, the allocation scaled to the target's total. Out of sample, each region is predicted by a fit on the other folds ({} folds).",
            c.loss.name(),
            r.folds
        ),
        header: [
            "fit",
            "loss",
            "Spearman",
            "WAPE",
            "largest misses (fitted − observed)",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            fit_row("the scenario's values", &r.initial_fit),
            fit_row("in sample", &r.in_sample),
            fit_row("out of sample", &r.out_of_sample),
        ],
    }
}
