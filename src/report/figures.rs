//! The figures of a run, built from the result model and rendered as PNG and SVG with
//! [`crate::plots`]. Pure: returns bytes; the pipeline writes them.

use crate::model::{Agreement, Vertical};
use crate::montecarlo::McResults;
use crate::montecarlo::allocations::VerticalAcc;
use crate::montecarlo::settlements::AgreementAcc;
use crate::plots::{self, Chart, PlotFormat, Rendered};
use crate::run::pipeline::Outcome;
use crate::run::point::PointResults;

/// Most categories in a box plot: the top regions, then group aggregates.
const MAX_BOX_REGIONS: usize = 25;
/// Most regions in a paired-difference chart.
const MAX_DIFF_REGIONS: usize = 30;
/// z for a two-sided 90% normal interval.
const Z90: f64 = 1.644_853_626_951_472_2;

/// One rendered figure with its file stem, title and reading note.
pub struct Figure {
    pub stem: String,
    pub title: String,
    pub note: String,
    pub rendered: Rendered,
}

/// The figures drawn so far, and a warning for each figure that could not be drawn.
struct Canvas {
    format: PlotFormat,
    figures: Vec<Figure>,
    warnings: Vec<String>,
}

impl Canvas {
    fn draw(&mut self, stem: &str, note: &str, chart: Chart) {
        let title = match &chart {
            Chart::Interval(c) => c.title.clone(),
            Chart::Histogram(c) => c.title.clone(),
            Chart::Lorenz(c) => c.title.clone(),
            Chart::PairedDiff(c) => c.title.clone(),
            Chart::Probability(c) => c.title.clone(),
            Chart::Tornado(c) => c.title.clone(),
        };
        match plots::render(&chart, self.format) {
            Ok(rendered) => self.figures.push(Figure {
                stem: stem.to_string(),
                title,
                note: note.to_string(),
                rendered,
            }),
            Err(e) => self
                .warnings
                .push(format!("figure {stem} was not drawn: {e}")),
        }
    }
}

/// A file-name-safe version of a name (ASCII letters, digits, '_' and '-').
pub fn slug(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.trim_matches('_').is_empty() {
        "x".to_string()
    } else {
        t
    }
}

fn box_stats(
    acc: &crate::montecarlo::allocations::Acc,
    point: Option<f64>,
) -> Option<plots::BoxStats> {
    if acc.m.count() == 0 {
        return None;
    }
    let q = acc.q.quantiles(&[0.05, 0.25, 0.5, 0.75, 0.95]);
    Some(plots::BoxStats {
        p05: q[0],
        p25: q[1],
        p50: q[2],
        p75: q[3],
        p95: q[4],
        point,
    })
}

/// Build every figure of a run.
pub fn figures(out: &Outcome, mc: &McResults, format: PlotFormat) -> (Vec<Figure>, Vec<String>) {
    let scn = &out.scenario;
    let mut canvas = Canvas {
        format,
        figures: Vec::new(),
        warnings: Vec::new(),
    };
    let unit = if scn.meta.currency.is_empty() {
        "money".to_string()
    } else {
        scn.meta.currency.clone()
    };
    if let Some(v) = &scn.vertical {
        let cx = Inputs {
            v,
            res: &out.point,
            acc: mc.vertical.as_ref().filter(|_| mc.draws > 0),
            baseline: out.baseline,
            unit: &unit,
        };
        allocation_boxes(&cx, &mut canvas);
        if let Some(a) = cx.acc {
            region_histograms(&cx, a, &out.keep, &mut canvas);
        }
        lorenz_curves(&cx, &mut canvas);
        if let Some(a) = cx.acc.filter(|_| cx.res.formulas.len() > 1) {
            paired_differences(&cx, a, &mut canvas);
        }
        if let Some(a) = cx.acc.filter(|a| {
            a.kept_deducted
                .iter()
                .chain(&a.kept_rewarded)
                .any(|k| k.values.iter().any(|x| *x != 0.0))
        }) {
            budget_quality(&cx, a, &mut canvas);
        }
    }
    if mc.draws > 0 {
        for (a, acc) in scn.agreements.iter().zip(&mc.agreements) {
            section_assessments(a, acc, &mut canvas);
            party_net(a, acc, &unit, &mut canvas);
            payment_direction(a, acc, &mut canvas);
        }
    }
    (canvas.figures, canvas.warnings)
}

/// What the figures of the vertical model read.
struct Inputs<'a> {
    v: &'a Vertical,
    res: &'a PointResults,
    /// The Monte Carlo accumulators, when the run had draws.
    acc: Option<&'a VerticalAcc>,
    baseline: usize,
    unit: &'a str,
}

/// Allocation distributions: the top regions by the baseline's point allocation, then
/// group aggregates.
fn allocation_boxes(cx: &Inputs, canvas: &mut Canvas) {
    let (m, res, acc, unit) = (&cx.v.regions.meta, cx.res, cx.acc, cx.unit);
    let n = cx.v.regions.data.n;
    let base = &res.formulas[cx.baseline.min(res.formulas.len().saturating_sub(1))];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| base.alloc.x[j].total_cmp(&base.alloc.x[i]));
    let top: Vec<usize> = order.iter().copied().take(MAX_BOX_REGIONS.min(n)).collect();
    let show_groups = n > MAX_BOX_REGIONS && m.groups.len() > 1 && m.groups.len() <= 20;
    let mut categories: Vec<String> = top.iter().map(|&i| m.name[i].clone()).collect();
    if show_groups {
        categories.extend(m.groups.iter().map(|g| format!("Σ {g}")));
    }
    let g = m.groups.len();
    let series = res
        .formulas
        .iter()
        .enumerate()
        .map(|(f, fp)| {
            let mut items: Vec<Option<plots::BoxStats>> = top
                .iter()
                .map(|&i| match acc {
                    Some(a) => box_stats(&a.x[f * n + i], Some(fp.alloc.x[i])),
                    None => Some(plots::BoxStats {
                        p05: fp.alloc.x[i],
                        p25: fp.alloc.x[i],
                        p50: fp.alloc.x[i],
                        p75: fp.alloc.x[i],
                        p95: fp.alloc.x[i],
                        point: Some(fp.alloc.x[i]),
                    }),
                })
                .collect();
            if show_groups {
                for gi in 0..g {
                    let point: f64 = (0..n)
                        .filter(|&i| m.group_idx[i] as usize == gi)
                        .map(|i| fp.alloc.x[i])
                        .sum();
                    items.push(match acc.and_then(|a| a.group_total.get(f * g + gi)) {
                        Some(t) => box_stats(t, Some(point)),
                        None => Some(plots::BoxStats {
                            p05: point,
                            p25: point,
                            p50: point,
                            p75: point,
                            p95: point,
                            point: Some(point),
                        }),
                    });
                }
            }
            plots::IntervalSeries {
                name: fp.name.clone(),
                items,
            }
        })
        .collect();
    let more = if n > top.len() {
        format!(
            " (top {} of {n} regions{})",
            top.len(),
            if show_groups {
                ", then group totals"
            } else {
                ""
            }
        )
    } else {
        String::new()
    };
    canvas.draw(
        "allocations",
        "Each box spans the 25th–75th percentile of a region's allocation over the Monte Carlo draws, whiskers the 5th–95th; the line is the median and the dot the point estimate. Regions are ordered by the baseline formula's point allocation; Σ rows are group totals.",
        Chart::Interval(plots::IntervalChart {
            title: format!("Allocation by region{more}"),
            value_label: format!("allocation ({unit})"),
            categories,
            series,
            orientation: plots::Orientation::Auto,
        }),
    );
}

/// Histograms of the kept regions' draws, formulas overlaid.
fn region_histograms(cx: &Inputs, a: &VerticalAcc, keep: &[usize], canvas: &mut Canvas) {
    let (m, unit) = (&cx.v.regions.meta, cx.unit);
    for (k, &i) in keep.iter().enumerate() {
        let samples = cx
            .res
            .formulas
            .iter()
            .enumerate()
            .map(|(f, fp)| plots::Sample {
                name: fp.name.clone(),
                values: a.kept[f * keep.len() + k].values.clone(),
            })
            .collect();
        canvas.draw(
            &format!("hist_{}", slug(&m.id[i])),
            "The share of Monte Carlo draws (the first 2,000) in each allocation bin, one colour per formula. Overlap means the formulas give this region similar money; separated humps mean the choice of formula matters more than the uncertainty.",
            Chart::Histogram(plots::HistogramChart {
                title: format!("{}: allocation over draws", m.name[i]),
                x_label: format!("allocation ({unit})"),
                y_label: "share of draws".into(),
                samples,
                bins: 40,
                thresholds: Vec::new(),
            }),
        );
    }
}

/// Lorenz curves of the point allocations.
fn lorenz_curves(cx: &Inputs, canvas: &mut Canvas) {
    let series = cx
        .res
        .formulas
        .iter()
        .map(|fp| plots::LorenzSeries {
            name: fp.name.clone(),
            values: fp.alloc.x.clone(),
            gini: crate::metrics::inequality::gini(&fp.alloc.x, None).ok(),
        })
        .collect();
    canvas.draw(
        "lorenz",
        "Regions sorted from the smallest to the largest point allocation: the curve shows the cumulative share of money against the cumulative share of regions. The diagonal is equal shares; a curve further below it, and a higher Gini in the legend, is a more concentrated allocation.",
        Chart::Lorenz(plots::LorenzChart {
            title: "Lorenz curves of the point allocation".into(),
            x_label: "cumulative share of regions".into(),
            y_label: "cumulative share of allocation".into(),
            series,
        }),
    );
}

/// Paired differences of every other formula against the baseline, for the regions they
/// change most.
fn paired_differences(cx: &Inputs, a: &VerticalAcc, canvas: &mut Canvas) {
    let (m, res, baseline, unit) = (&cx.v.regions.meta, cx.res, cx.baseline, cx.unit);
    let n = cx.v.regions.data.n;
    let others: Vec<usize> = (0..res.formulas.len()).filter(|&f| f != baseline).collect();
    let mut regions: Vec<usize> = (0..n).collect();
    let max_abs = |i: usize| {
        others
            .iter()
            .map(|&f| a.diff[f * n + i].mean().abs())
            .fold(0.0, f64::max)
    };
    regions.sort_by(|&i, &j| max_abs(j).total_cmp(&max_abs(i)));
    regions.truncate(MAX_DIFF_REGIONS);
    let series = others
        .iter()
        .map(|&f| plots::DiffSeries {
            name: format!("{} − {}", res.formulas[f].name, res.formulas[baseline].name),
            items: regions
                .iter()
                .map(|&i| {
                    let d = &a.diff[f * n + i];
                    Some(plots::Interval {
                        mean: d.mean(),
                        lo: d.mean() - Z90 * d.sd(),
                        hi: d.mean() + Z90 * d.sd(),
                    })
                })
                .collect(),
        })
        .collect();
    canvas.draw(
        "paired_differences",
        "For each region, the mean over draws of (formula − baseline) on the same sampled inputs, with a 90% interval of that paired difference (mean ± 1.645 sd, normal approximation). Bars right of zero are regions that gain from the change. The regions with the largest mean change are shown.",
        Chart::PairedDiff(plots::PairedDiffChart {
            title: format!(
                "Change against {} (largest {} regions)",
                res.formulas[baseline].name,
                regions.len()
            ),
            value_label: format!("paired difference ({unit})"),
            interval_label: "90% interval".into(),
            categories: regions.iter().map(|&i| m.name[i].clone()).collect(),
            series,
        }),
    );
}

/// The budget: money moved by quality deductions and rewards in each draw.
fn budget_quality(cx: &Inputs, a: &VerticalAcc, canvas: &mut Canvas) {
    let mut samples = Vec::new();
    for (f, fp) in cx.res.formulas.iter().enumerate() {
        if cx.v.formulas[f].quality.is_some() {
            samples.push(plots::Sample {
                name: format!("{}: deducted", fp.name),
                values: a.kept_deducted[f].values.clone(),
            });
            samples.push(plots::Sample {
                name: format!("{}: rewarded", fp.name),
                values: a.kept_rewarded[f].values.clone(),
            });
        }
    }
    let unit = cx.unit;
    canvas.draw(
        "budget_quality",
        "Money removed from regions by quality deductions and added by rewards in each draw (at the budget scale). In fixed mode the budget scale recycles it to the other regions.",
        Chart::Histogram(plots::HistogramChart {
            title: "Quality deductions and rewards over draws".into(),
            x_label: format!("money moved ({unit})"),
            y_label: "share of draws".into(),
            samples,
            bins: 40,
            thresholds: Vec::new(),
        }),
    );
}

/// An agreement's section assessments over draws and periods, with their thresholds.
fn section_assessments(a: &Agreement, acc: &AgreementAcc, canvas: &mut Canvas) {
    let stem = slug(&a.name);
    let samples: Vec<plots::Sample> = a
        .sections
        .iter()
        .zip(&acc.kept_value)
        .map(|(s, k)| plots::Sample {
            name: s.name.clone(),
            values: k.values.clone(),
        })
        .collect();
    let thresholds = a
        .sections
        .iter()
        .filter_map(|s| match &s.assessment {
            crate::model::Assessment::PIndex { threshold, .. } => Some(plots::RefLine {
                value: *threshold,
                label: format!("{}: P threshold", s.name),
            }),
            crate::model::Assessment::Class { target } => Some(plots::RefLine {
                value: f64::from(*target),
                label: format!("{}: target class", s.name),
            }),
            crate::model::Assessment::ComplianceRate { .. } => None,
        })
        .take(4)
        .collect();
    canvas.draw(
        &format!("{stem}_sections"),
        "The distribution of each section's assessment over draws and periods: the compensation index P (met at or below the threshold), the water-quality class (1 = I … 6 = worse than V; met at or better than the target), or the compliant share of months.",
        Chart::Histogram(plots::HistogramChart {
            title: format!("{}: section assessments", a.name),
            x_label: "assessment value".into(),
            y_label: "share of draws".into(),
            samples,
            bins: 40,
            thresholds,
        }),
    );
}

/// An agreement's net receipt per party over the round.
fn party_net(a: &Agreement, acc: &AgreementAcc, unit: &str, canvas: &mut Canvas) {
    let stem = slug(&a.name);
    let items = a
        .parties
        .iter()
        .enumerate()
        .map(|(p, _)| box_stats(&acc.round[p], None))
        .collect();
    canvas.draw(
        &format!("{stem}_net"),
        "Each party's net receipt over the whole round (horizontal transfers plus central funds): boxes 25th–75th percentile, whiskers 5th–95th. Positive means the party receives.",
        Chart::Interval(plots::IntervalChart {
            title: format!("{}: net per party over the round", a.name),
            value_label: format!("net receipt ({unit})"),
            categories: a.parties.clone(),
            series: vec![plots::IntervalSeries {
                name: "net over the round".into(),
                items,
            }],
            orientation: plots::Orientation::Horizontal,
        }),
    );
}

/// An agreement's payment direction: the probability per period that each party receives,
/// and that it pays.
fn payment_direction(a: &Agreement, acc: &AgreementAcc, canvas: &mut Canvas) {
    let stem = slug(&a.name);
    let np = a.n_parties();
    let nt = a.n_periods();
    let mut receives = Vec::with_capacity(np);
    let mut pays = Vec::with_capacity(np);
    for p in 0..np {
        let mean = |v: &[crate::stats::Probability]| {
            (0..nt).map(|t| v[p * nt + t].p()).sum::<f64>() / nt.max(1) as f64
        };
        receives.push(mean(&acc.receives));
        pays.push(mean(&acc.pays));
    }
    canvas.draw(
        &format!("{stem}_direction"),
        "For each party, the probability (averaged over the periods) that it receives money in a period and that it pays; the rest is the chance that nothing moves.",
        Chart::Probability(plots::ProbabilityChart {
            title: format!("{}: payment direction", a.name),
            value_label: "probability per period".into(),
            categories: a.parties.clone(),
            series: vec![
                plots::ProbabilitySeries {
                    name: "receives".into(),
                    values: receives,
                },
                plots::ProbabilitySeries {
                    name: "pays".into(),
                    values: pays,
                },
            ],
            layout: plots::ProbabilityLayout::Stacked,
        }),
    );
}
