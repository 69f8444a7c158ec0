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
