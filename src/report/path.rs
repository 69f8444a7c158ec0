//! The files of a multi-year path run (docs/model.md §5): every single-year table with a
//! `year` column, `paths.csv`, a summary over the path, fan charts and the report page.

use super::figures::{Canvas, Figure, slug};
use super::html::{Report, Table};
use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::montecarlo::allocations::{Acc, VerticalAcc};
use crate::numfmt::{display, num};
use crate::plots::{Chart, FanChart, FanPanel, FanSeries, PlotFormat};
use crate::run::path::PathRun;
use crate::run::pipeline::{Exported, Exporter, Outcome, OutputFile};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// How to read a fan chart (the figures' note, and so the report's).
const FAN_NOTE: &str = "The line is the median over the draws, the dark band holds the middle 50% of draws (25th to 75th percentile) and the light band the middle 90% (5th to 95th); a wide band is an uncertain year. Each formula carries its own history, so the bands of later years also hold the uncertainty of earlier ones.";

/// The quantiles a fan chart and `paths.csv` show.
const PS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];
/// A formula's floors and caps "stop binding" from the first year after which, every
/// year, at most this expected share of regions is on its floor or cap.
const BINDING_SHARE: f64 = 0.10;
/// Regions drawn as small multiples at most.
const SMALL_MULTIPLES: usize = 40;

pub(super) fn years(out: &Outcome) -> Result<&PathRun> {
    out.path
        .as_ref()
        .ok_or_else(|| Error::Runtime("the run has no path to write".into()))
}

/// A single-year table of every year, one after another, with `year` as its first column.
pub(super) struct PerYear {
    pub name: &'static str,
    pub bytes: fn(&Outcome) -> Result<Option<Vec<u8>>>,
}

impl Exporter for PerYear {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let mut all = Vec::new();
        for (t, (year, o)) in years(out)?.years.iter().enumerate() {
            let Some(bytes) = (self.bytes)(o)? else {
                return Ok(Exported::default());
            };
            // Region names and ids hold no line breaks (validation), so lines are rows.
            for (k, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
                match (k, t) {
                    (0, 0) => all.extend_from_slice(b"year,"),
                    (0, _) => continue,
                    _ => all.extend_from_slice(format!("{year},").as_bytes()),
                }
                all.extend_from_slice(line);
            }
        }
        Ok(vec![OutputFile::new(self.name, all)].into())
    }
}

/// A basin table of the path's agreements, settled over their own periods, with the rows
/// of the periods that are years of the path, and `year` as the first column.
pub(super) struct AgreementYears {
    pub name: &'static str,
    pub bytes: fn(&Outcome) -> Result<Option<Vec<u8>>>,
}

impl Exporter for AgreementYears {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let run = years(out)?;
        let Some((_, first)) = run.years.first() else {
            return Ok(Exported::default());
        };
        let Some(bytes) = (self.bytes)(first)? else {
            return Ok(Exported::default());
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.split_inclusive('\n');
        let header = lines.next().unwrap_or_default();
        let Some(at) = header.trim_end().split(',').position(|c| c == "period") else {
            return Ok(Exported::default());
        };
        let years: Vec<String> = run.years.iter().map(|(y, _)| y.to_string()).collect();
        let mut all = format!("year,{header}");
        for line in lines {
            // Agreement, party and section names hold no commas before the period column
            // in these tables' first columns, or are quoted; a row whose period cell is not
            // a year of the path is left out either way.
            let period = line.split(',').nth(at).unwrap_or_default().trim_end();
            if years.iter().any(|y| y == period) {
                all.push_str(&format!("{period},{line}"));
            }
        }
        Ok(vec![OutputFile::new(self.name, all.into_bytes())].into())
    }
}

/// The year-t accumulators of the path, when the run had draws.
fn accs(run: &PathRun) -> Vec<Option<&VerticalAcc>> {
    run.years
        .iter()
        .map(|(_, o)| o.mc.as_ref().filter(|m| m.draws > 0)?.vertical.as_ref())
        .collect()
}

fn quantiles(a: Option<&Acc>) -> [f64; 5] {
    a.map_or([f64::NAN; 5], |a| {
        let q = a.q.quantiles(&PS);
        [q[0], q[1], q[2], q[3], q[4]]
    })
}

/// `paths.csv`: per formula, region and year, the point estimate, the mean, sd and
/// quantiles over the draws, and the chances of being on the floor or the cap.
pub(super) fn paths_csv(out: &Outcome) -> Result<Option<Vec<u8>>> {
    let run = years(out)?;
    let Some(v) = &out.scenario.vertical else {
        return Ok(None);
    };
    let accs = accs(run);
    let mut s = String::from(
        "formula,id,name,group,year,point,mean,sd,p05,p25,p50,p75,p95,p_floor,p_cap\n",
    );
    let meta = &v.regions.meta;
    let n = v.regions.data.n;
    for (f, formula) in v.formulas.iter().enumerate() {
        for i in 0..n {
            for ((year, o), acc) in run.years.iter().zip(&accs) {
                let point = o.point.formulas.get(f).map_or(f64::NAN, |p| p.alloc.x[i]);
                let a = acc.and_then(|a| a.x.get(f * n + i));
                let q = quantiles(a);
                let (mean, sd) = a.map_or((f64::NAN, f64::NAN), |a| (a.m.mean(), a.m.sd()));
                let p = |v: Option<&Vec<crate::stats::Probability>>| {
                    v.and_then(|v| v.get(f * n + i)).map_or(f64::NAN, |p| p.p())
                };
                let cells = [
                    csv_text(&formula.name),
                    csv_text(&meta.id[i]),
                    csv_text(&meta.name[i]),
                    csv_text(&meta.group[i]),
                    year.to_string(),
                    num(point),
                    num(mean),
                    num(sd),
                    num(q[0]),
                    num(q[1]),
                    num(q[2]),
                    num(q[3]),
                    num(q[4]),
                    num(p(acc.map(|a| &a.floor))),
                    num(p(acc.map(|a| &a.cap))),
                ];
                s.push_str(&cells.join(","));
                s.push('\n');
            }
        }
    }
    Ok(Some(s.into_bytes()))
}

fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Per formula and year: the expected share of regions on their floor and on their cap.
fn binding_shares(run: &PathRun, f: usize, n: usize) -> Vec<(f64, f64)> {
    accs(run)
        .iter()
        .map(|a| match a {
            Some(a) if n > 0 => {
                let share = |v: &[crate::stats::Probability]| {
                    v[f * n..(f + 1) * n].iter().map(|p| p.p()).sum::<f64>() / n as f64
                };
                (share(&a.floor), share(&a.cap))
            }
            _ => (f64::NAN, f64::NAN),
        })
        .collect()
}

/// The first year from which, every year to the end, at most [`BINDING_SHARE`] of the
/// regions are expected on their floor or cap; `None` when the path ends before.
fn stop_binding(years: &[i64], shares: &[(f64, f64)]) -> Option<i64> {
    let ok = |s: &(f64, f64)| s.0 + s.1 <= BINDING_SHARE;
    let first_ok = shares.iter().rposition(|s| !ok(s)).map_or(0, |k| k + 1);
    years.get(first_ok).copied()
}

/// Per formula and region, the path's total: the point estimate's and the mean's (the
/// mean of a sum is the sum of the means).
fn cumulative(run: &PathRun, f: usize, n: usize) -> Vec<(f64, f64)> {
    let accs = accs(run);
    (0..n)
        .map(|i| {
            let point = run
                .years
                .iter()
                .map(|(_, o)| o.point.formulas.get(f).map_or(0.0, |p| p.alloc.x[i]))
                .sum();
            let mean = accs
                .iter()
                .map(|a| {
                    a.and_then(|a| a.x.get(f * n + i))
                        .map_or(f64::NAN, |a| a.m.mean())
                })
                .sum();
            (point, mean)
        })
        .collect()
}

/// `summary.json` of a path: the path's totals and binding years, then each year's own
/// summary.
pub(super) fn summary(
    out: &Outcome,
    year_summary: &dyn Fn(&Outcome) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let run = years(out)?;
    let scn = &out.scenario;
    let ys: Vec<i64> = run.years.iter().map(|(y, _)| *y).collect();
    let mut formulas = Vec::new();
    if let Some(v) = &scn.vertical {
        let n = v.regions.data.n;
        for (f, formula) in v.formulas.iter().enumerate() {
            let cum = cumulative(run, f, n);
            let shares = binding_shares(run, f, n);
            let regions: Vec<Value> = cum
                .iter()
                .enumerate()
                .map(|(i, (p, m))| json!({"id": v.regions.meta.id[i], "point": p, "mean": finite(*m)}))
                .collect();
            let per_year: Vec<Value> = run
                .years
                .iter()
                .zip(&shares)
                .map(|((y, o), s)| {
                    let total = o.point.formulas.get(f).map_or(f64::NAN, |p| p.alloc.total);
                    json!({"year": y, "total_point": total, "share_on_floor": finite(s.0), "share_on_cap": finite(s.1)})
                })
                .collect();
            formulas.push(json!({
                "name": formula.name,
                "cumulative_total_point": cum.iter().map(|c| c.0).sum::<f64>(),
                "cumulative_total_mean": finite(cum.iter().map(|c| c.1).sum::<f64>()),
                "floors_caps_stop_binding": stop_binding(&ys, &shares),
                "per_year": per_year,
                "cumulative_by_region": regions,
            }));
        }
    }
    let mut each = Vec::new();
    for (_, o) in &run.years {
        let bytes = year_summary(o)?;
        each.push(
            serde_json::from_slice::<Value>(&bytes).map_err(|e| Error::Runtime(e.to_string()))?,
        );
    }
    let doc = json!({
        "scenario": scn.meta.name,
        "path": {
            "years": ys,
            "quality_response": scn.policy_path.as_ref().and_then(|p| p.kappa),
            "binding_rule": format!("first year from which at most {BINDING_SHARE} of regions are expected on their floor or cap in every later year"),
            "formulas": formulas,
        },
        "years": each,
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| Error::Runtime(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn finite(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// The figures of a path, drawn once and shared by the plot files and the page.
pub(super) struct PathFigures {
    pub format: Option<PlotFormat>,
    pub drawn: OnceLock<(Vec<Figure>, Vec<String>)>,
}

impl PathFigures {
    pub fn get(&self, out: &Outcome) -> Result<&(Vec<Figure>, Vec<String>)> {
        let run = years(out)?;
        Ok(self.drawn.get_or_init(|| match self.format {
            None => (Vec::new(), Vec::new()),
            Some(format) => {
                let mut canvas = Canvas::new(format);
                draw(out, run, &mut canvas);
                canvas.into_parts()
            }
        }))
    }
}

pub(super) fn new_figures(format: Option<PlotFormat>) -> Arc<PathFigures> {
    Arc::new(PathFigures {
        format,
        drawn: OnceLock::new(),
    })
}

/// A series of one output `k` of every year, or the point estimate when there are no draws.
fn series(
    name: &str,
    run: &PathRun,
    pick: &dyn Fn(&VerticalAcc) -> Option<&Acc>,
    point: &dyn Fn(&Outcome) -> f64,
) -> FanSeries {
    let accs = accs(run);
    let q = run
        .years
        .iter()
        .zip(&accs)
        .map(|((_, o), a)| match a.and_then(pick) {
            Some(acc) => quantiles(Some(acc)),
            None => [point(o); 5],
        })
        .collect();
    FanSeries {
        name: name.to_string(),
        q,
    }
}

fn draw(out: &Outcome, run: &PathRun, canvas: &mut Canvas) {
    let scn = &out.scenario;
    let Some(v) = &scn.vertical else { return };
    let unit = if scn.meta.currency.is_empty() {
        "money".to_string()
    } else {
        scn.meta.currency.clone()
    };
    let ys: Vec<i64> = run.years.iter().map(|(y, _)| *y).collect();
    let (n, meta) = (v.regions.data.n, &v.regions.meta);
    let region_panel = |i: usize, label: String| FanPanel {
        label,
        series: v
            .formulas
            .iter()
            .enumerate()
            .map(|(f, formula)| {
                series(&formula.name, run, &|a| a.x.get(f * n + i), &|o| {
                    o.point.formulas.get(f).map_or(f64::NAN, |p| p.alloc.x[i])
                })
            })
            .collect(),
    };
    for &i in out.keep.iter().take(4) {
        let chart = FanChart {
            title: format!(
                "{} ({}): allocation {}–{}",
                meta.name[i],
                meta.id[i],
                ys[0],
                ys[ys.len() - 1]
            ),
            y_label: format!("allocation ({unit})"),
            years: ys.clone(),
            panels: vec![region_panel(i, String::new())],
            columns: 1,
        };
        canvas.draw(
            &format!("fan_{}", slug(&meta.id[i])),
            FAN_NOTE,
            Chart::Fan(chart),
        );
    }
    if n <= SMALL_MULTIPLES {
        let panels: Vec<FanPanel> = (0..n)
            .map(|i| region_panel(i, meta.name[i].clone()))
            .collect();
        let columns = (n as f64).sqrt().ceil().max(1.0) as usize;
        canvas.draw(
            "fan_regions",
            &format!("{FAN_NOTE} One panel per region, each on its own scale."),
            Chart::Fan(FanChart {
                title: format!("Every region's allocation ({unit})"),
                y_label: unit.clone(),
                years: ys.clone(),
                panels,
                columns,
            }),
        );
    }
    group_fans(v, run, &ys, &unit, canvas);
    binding_chart(v, run, ys, canvas);
}

/// The page of a path run.
pub(super) fn page(out: &Outcome, figures: &[Figure]) -> Result<Report> {
    let run = years(out)?;
    let scn: &Scenario = &out.scenario;
    let ys: Vec<i64> = run.years.iter().map(|(y, _)| *y).collect();
    let mut tables = Vec::new();
    if let Some(v) = &scn.vertical {
        let n = v.regions.data.n;
        let mut rows = Vec::new();
        for (f, formula) in v.formulas.iter().enumerate() {
            let cum = cumulative(run, f, n);
            let shares = binding_shares(run, f, n);
            rows.push(vec![
                formula.name.clone(),
                display(cum.iter().map(|c| c.0).sum()),
                display(cum.iter().map(|c| c.1).sum()),
                stop_binding(&ys, &shares).map_or("not within the path".into(), |y| y.to_string()),
            ]);
        }
        tables.push(Table {
            title: format!("Totals over {}–{}", ys[0], ys[ys.len() - 1]),
            note: format!("The path's total of every region, at the point estimate and as the mean over the draws; and the first year from which, in every later year, at most {:.0}% of regions are expected on their floor or cap (the year the formula itself governs).", BINDING_SHARE * 100.0),
            header: vec!["formula".into(), "total (point)".into(), "total (mean)".into(), "floors and caps stop binding".into()],
            rows,
        });
        let mut header = vec!["formula".to_string()];
        header.extend(ys.iter().map(|y| y.to_string()));
        let rows = v
            .formulas
            .iter()
            .enumerate()
            .map(|(f, formula)| {
                let mut r = vec![formula.name.clone()];
                r.extend(run.years.iter().map(|(_, o)| {
                    o.point
                        .formulas
                        .get(f)
                        .map_or("–".into(), |p| display(p.alloc.total))
                }));
                r
            })
            .collect();
        tables.push(Table {
            title: "Allocated per year (point estimate)".into(),
            note: "The total each formula allocates in each year's point estimate.".into(),
            header,
            rows,
        });
    }
    let mut notices = vec![format!(
        "A multi-year path: {} years, {}–{}. Every table of the output folder has a year column; paths.csv gives each region's path with its quantiles.",
        ys.len(),
        ys[0],
        ys[ys.len() - 1]
    )];
    if let Some(k) = scn.policy_path.as_ref().and_then(|p| p.kappa) {
        notices.push(format!("Quality response is ON (κ = {k}): a region's quality change of year t+1 rises by κ times the money it received in year t over its standard expenditure, per formula."));
    }
    Ok(Report {
        title: format!(
            "{} — path {}–{}",
            super::page::readable_title(scn),
            ys[0],
            ys[ys.len() - 1]
        ),
        description: scn.meta.description.clone(),
        sources: scn.meta.sources.clone(),
        assumptions: scn.meta.assumptions.clone(),
        settings: [
            super::page::scenario_settings(scn),
            vec![
                ("seed".into(), out.info.seed.to_string()),
                ("draws".into(), out.info.draws.to_string()),
                ("threads".into(), out.info.threads.to_string()),
            ],
        ]
        .concat(),
        warnings: out.warnings.clone(),
        notices,
        tables,
        figures: figures
            .iter()
            .filter_map(super::page::page_figure)
            .collect(),
        embed_font: true,
    })
}

/// One fan chart of every group's total, a panel per group (with more than one group).
fn group_fans(
    v: &crate::model::Vertical,
    run: &PathRun,
    ys: &[i64],
    unit: &str,
    canvas: &mut Canvas,
) {
    let (n, meta) = (v.regions.data.n, &v.regions.meta);
    let groups = meta.groups.len();
    if groups > 1 {
        let panels = (0..groups)
            .map(|g| FanPanel {
                label: meta.groups[g].clone(),
                series: v
                    .formulas
                    .iter()
                    .enumerate()
                    .map(|(f, formula)| {
                        series(
                            &formula.name,
                            run,
                            &|a| a.group_total.get(f * groups + g),
                            &|o| {
                                let x = o.point.formulas.get(f).map(|p| &p.alloc.x);
                                (0..n)
                                    .filter(|&i| meta.group_idx[i] as usize == g)
                                    .map(|i| x.map_or(f64::NAN, |x| x[i]))
                                    .sum()
                            },
                        )
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let columns = (panels.len() as f64).sqrt().ceil() as usize;
        canvas.draw(
            "fan_groups",
            &format!("{FAN_NOTE} One panel per group: the group's total."),
            Chart::Fan(FanChart {
                title: format!("Allocation by group ({unit})"),
                y_label: unit.to_string(),
                years: ys.to_vec(),
                panels,
                columns,
            }),
        );
    }
}

/// The expected share of regions on their floor or cap, a panel per formula.
fn binding_chart(v: &crate::model::Vertical, run: &PathRun, ys: Vec<i64>, canvas: &mut Canvas) {
    let n = v.regions.data.n;
    let panels = v
        .formulas
        .iter()
        .enumerate()
        .map(|(f, formula)| {
            let shares = binding_shares(run, f, n);
            let line = |name: &str, k: usize| FanSeries {
                name: name.to_string(),
                q: shares
                    .iter()
                    .map(|s| [if k == 0 { s.0 } else { s.1 }; 5])
                    .map(|q| q.map(|x| if x.is_finite() { x } else { 0.0 }))
                    .collect(),
            };
            FanPanel {
                label: formula.name.clone(),
                series: vec![line("on floor", 0), line("on cap", 1)],
            }
        })
        .collect::<Vec<_>>();
    let columns = panels.len().min(3);
    canvas.draw(
        "floor_cap_share",
        "The expected share of regions paid exactly their hold-harmless floor or their growth cap, year by year (the mean over the draws of the share). Floors and caps roll forward: each year's are set by the formula's own amounts of the year before, so a falling line is a formula that has started to govern the allocation.",
        Chart::Fan(FanChart { title: "Share of regions on their floor or cap".into(), y_label: "share of regions".into(), years: ys, panels, columns }),
    );
}
