//! A multi-year path (docs/model.md §5): its point estimate year by year, and the run's
//! outcome cut into one outcome per year, which the single-year exporters then write.

use super::pipeline::{Job, Outcome};
use super::point::{PointResults, point, point_metrics};
use crate::error::Problem;
use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::model::path::{Path, quality_response};
use crate::model::region::Column;

/// The year-by-year outcomes of a path run, year 1 first: each with its year's scenario
/// (the central inputs of that year), point estimate and Monte Carlo results.
#[derive(Debug, Clone)]
pub struct PathRun {
    pub years: Vec<(i64, Outcome)>,
}

/// The point estimate of every year: central rates, totals and scheduled values, and each
/// formula's own previous-year amounts as its prior allocation. Year t's scenario holds
/// the baseline formula's prior (`baseline`), for the tables that show it.
pub fn point_path(scn: &Scenario, baseline: usize) -> Result<Vec<(Scenario, PointResults)>> {
    let (Some(path), Some(_)) = (&scn.policy_path, &scn.vertical) else {
        return Ok(vec![(scn.clone(), point(scn)?)]);
    };
    let mut out = vec![(scn.clone(), point(scn)?)];
    for t in 1..path.len() {
        let (prev_scn, prev) = &out[t - 1];
        let mut year = prev_scn.clone();
        year.meta.year = Some(path.years[t]);
        advance(path, t, &mut year)?;
        let mut res = PointResults::default();
        let expenditure = prev_scn
            .vertical
            .as_ref()
            .map(|v| v.regions.data.col(Column::StdExpenditure).to_vec())
            .unwrap_or_default();
        for f in 0..prev.formulas.len() {
            let mut own = year.clone();
            set_prior(&mut own, &prev.formulas[f].alloc.x);
            if let (Some(k), Some(v)) = (path.kappa, own.vertical.as_mut()) {
                // The quality response to the formula's own money of the year before.
                let x = &prev.formulas[f].alloc.x;
                let dq = v.regions.data.col_mut(Column::EqiChange);
                for (i, q) in dq.iter_mut().enumerate() {
                    *q += quality_response(k, x[i], expenditure[i]);
                }
            }
            let mut p = point(&own).map_err(|e| e.in_year(path.years[t]))?;
            res.formulas.push(p.formulas.swap_remove(f));
        }
        if let Some(b) = prev.formulas.get(baseline) {
            set_prior(&mut year, &b.alloc.x);
        }
        out.push((year, res));
    }
    Ok(out)
}

fn set_prior(scn: &mut Scenario, x: &[f64]) {
    if let Some(v) = scn.vertical.as_mut() {
        v.regions
            .data
            .col_mut(Column::PriorAllocation)
            .copy_from_slice(x);
    }
}

/// Move `scn` (year t − 1's central inputs) on to year t's.
fn advance(path: &Path, t: usize, scn: &mut Scenario) -> Result<()> {
    let Some(v) = scn.vertical.as_mut() else {
        return Ok(());
    };
    let step = path.budget.param(t).map_or(0.0, |u| u.central());
    v.budget.total = v.budget.total.map(|x| path.budget.next(x, step));
    for tr in &path.trends {
        tr.step(
            v.regions.data.col_mut(tr.column),
            tr.rate.at(t - 1).central(),
        );
    }
    for s in &path.schedule {
        s.target
            .set(&mut v.budget, &mut v.formulas, s.values[t].central());
    }
    if v.budget.total.is_some_and(|x| !x.is_finite()) {
        return Err(Error::Runtime(format!(
            "the budget of {} is not a finite number",
            path.years[t]
        )));
    }
    Ok(())
}

/// Cut a path run's outcome into one outcome per year (none for a scenario without a
/// path): year 1 is the outcome itself, later years their own scenario, point estimate
/// and Monte Carlo results.
pub fn split(out: &Outcome) -> Result<Option<PathRun>> {
    let Some(path) = &out.scenario.policy_path else {
        return Ok(None);
    };
    let points = point_path(&out.scenario, out.baseline)?;
    let mut base = out.clone();
    // The Monte Carlo results are cut apart, not copied whole into every year.
    let mut mc = base.mc.take();
    let mut later = mc
        .as_mut()
        .map(|m| std::mem::take(&mut m.path))
        .unwrap_or_default()
        .into_iter();
    let mut years = Vec::with_capacity(points.len());
    for (t, (scn, point)) in points.into_iter().enumerate() {
        let mut o = base.clone();
        o.mc = mc.as_ref().map(|m| crate::montecarlo::McResults {
            vertical: if t == 0 {
                m.vertical.clone()
            } else {
                later.next()
            },
            path: Vec::new(),
            agreements: m.agreements.clone(),
            saved: None,
            ..*m
        });
        if t > 0 {
            o.metrics = point_metrics(&scn, &point);
            o.point = point;
            o.scenario = scn;
        }
        years.push((path.years[t], o));
    }
    Ok(Some(PathRun { years }))
}

/// Refuse what a multi-year path does not compute yet, rather than answer for its first
/// year alone.
pub fn supported(scn: &Scenario, p: &crate::model::path::Path, job: &Job) -> Result<()> {
    let refuse = |field: &str, value: String, message: &str| {
        Err(Error::invalid(vec![Problem::new(
            &scn.path,
            field,
            value,
            message.to_string(),
        )]))
    };
    match job {
        Job::Validate => Ok(()),
        Job::Run(_) => Ok(()),
        _ => refuse(
            "path",
            format!("{} years", p.len()),
            "only `run` and `validate` handle a multi-year path in this version; remove [path] to compare or analyse the first year",
        ),
    }
}
