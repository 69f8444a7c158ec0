//! The figures of a run, built from the result model and rendered as PNG and SVG with
//! [`crate::plots`]. Pure: returns bytes; the pipeline writes them.

use crate::model::Vertical;
use crate::montecarlo::McResults;
use crate::montecarlo::allocations::VerticalAcc;
use crate::plots::{self, Chart, PlotFormat, Rendered};
use crate::run::pipeline::Outcome;
use crate::run::point::PointResults;

/// Most categories in a box plot: the top regions, then group aggregates.
const MAX_BOX_REGIONS: usize = 25;

/// One rendered figure with its file stem, title and reading note.
pub struct Figure {
    pub stem: String,
    pub title: String,
    pub note: String,
    pub rendered: Rendered,
}

/// The figures drawn so far, and a warning for each figure that could not be drawn.
pub(super) struct Canvas {
    format: PlotFormat,
    figures: Vec<Figure>,
    warnings: Vec<String>,
}

impl Canvas {
    pub(super) fn new(format: PlotFormat) -> Self {
        Canvas {
            format,
            figures: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The figures drawn, and the warnings of those that could not be.
    pub(super) fn into_parts(self) -> (Vec<Figure>, Vec<String>) {
        (self.figures, self.warnings)
    }

    pub(super) fn draw(&mut self, stem: &str, note: &str, chart: Chart) {
        let title = match &chart {
            Chart::Interval(c) => c.title.clone(),
            Chart::Histogram(c) => c.title.clone(),
            Chart::Lorenz(c) => c.title.clone(),
            Chart::PairedDiff(c) => c.title.clone(),
            Chart::Probability(c) => c.title.clone(),
            Chart::Tornado(c) => c.title.clone(),
            Chart::Classes(c) => c.title.clone(),
            Chart::SplitBars(c) => c.title.clone(),
            Chart::Diverging(c) => c.title.clone(),
            Chart::Dumbbell(c) => c.title.clone(),
            Chart::Waterfall(c) => c.title.clone(),
            Chart::Scatter(c) => c.title.clone(),
            Chart::TileMap(c) => c.title.clone(),
            Chart::Fan(c) => c.title.clone(),
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

pub(super) fn box_stats(
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
        group_boxes(&cx, &mut canvas);
        if let Some(a) = cx.acc {
            region_histograms(&cx, a, &out.keep, &mut canvas);
        }
        lorenz_curves(&cx, &mut canvas);
        let top = top_regions(v, &out.point, out.baseline, &out.keep);
        super::region_figures::waterfalls(v, &out.point, &top, &unit, &mut canvas);
        super::region_figures::scatters(v, &out.point, &unit, &mut canvas);
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
        for (k, (a, acc)) in scn.agreements.iter().zip(&mc.agreements).enumerate() {
            use super::basin_figures as bf;
            let title = bf::agreement_title(scn, a);
            bf::section_assessments(a, acc, &title, &mut canvas);
            bf::party_net(
                a,
                &out.point.settlements[k],
                acc,
                &title,
                &unit,
                &mut canvas,
            );
        }
    }
    (canvas.figures, canvas.warnings)
}

/// The regions drawn one by one: those kept for histograms (`--plot-regions`, or the
/// largest), else the three largest by the baseline's point allocation.
fn top_regions(v: &Vertical, res: &PointResults, baseline: usize, keep: &[usize]) -> Vec<usize> {
    if !keep.is_empty() {
        return keep.to_vec();
    }
    let Some(base) = res.formulas.get(baseline) else {
        return Vec::new();
    };
    let mut order: Vec<usize> = (0..v.regions.data.n).collect();
    order.sort_by(|&i, &j| base.alloc.x[j].total_cmp(&base.alloc.x[i]));
    order.truncate(3);
    order
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

/// A box of Monte Carlo quantiles around `point`, or the point alone without draws.
fn box_or_point(
    acc: Option<&crate::montecarlo::allocations::Acc>,
    point: f64,
) -> Option<plots::BoxStats> {
    match acc {
        Some(a) => box_stats(a, Some(point)),
        None => Some(plots::BoxStats {
            p05: point,
            p25: point,
            p50: point,
            p75: point,
            p95: point,
            point: Some(point),
        }),
    }
}

/// Allocation distributions of the top regions by the baseline's point allocation.
fn allocation_boxes(cx: &Inputs, canvas: &mut Canvas) {
    let (m, res, acc, unit) = (&cx.v.regions.meta, cx.res, cx.acc, cx.unit);
    let n = cx.v.regions.data.n;
    let base = &res.formulas[cx.baseline.min(res.formulas.len().saturating_sub(1))];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| base.alloc.x[j].total_cmp(&base.alloc.x[i]));
    let top: Vec<usize> = order.iter().copied().take(MAX_BOX_REGIONS.min(n)).collect();
    let categories: Vec<String> = top.iter().map(|&i| m.name[i].clone()).collect();
    let series = res
        .formulas
        .iter()
        .enumerate()
        .map(|(f, fp)| plots::IntervalSeries {
            name: fp.name.clone(),
            items: top
                .iter()
                .map(|&i| box_or_point(acc.map(|a| &a.x[f * n + i]), fp.alloc.x[i]))
                .collect(),
        })
        .collect();
    let more = if n > top.len() {
        format!(" (top {} of {n} regions)", top.len())
    } else {
        String::new()
    };
    canvas.draw(
        "allocations",
        "Each box spans the 25th–75th percentile of a region's allocation over the Monte Carlo draws, whiskers the 5th–95th; the line is the median and the dot, in the formula's colour, the point estimate. Regions are ordered by the baseline formula's point allocation. A dot without a box is a region whose allocation does not vary over the draws (for example one held at its cap). Group totals are in the next figure, on their own scale.",
        Chart::Interval(plots::IntervalChart {
            title: format!("Allocation by region{more}"),
            value_label: format!("allocation ({unit})"),
            categories,
            series,
            orientation: plots::Orientation::Auto,
            reference: Vec::new(),
        }),
    );
}

/// Group totals on their own axis: beside the regions they would squeeze the regions into
/// a sliver of the width.
fn group_boxes(cx: &Inputs, canvas: &mut Canvas) {
    let (m, res, acc, unit) = (&cx.v.regions.meta, cx.res, cx.acc, cx.unit);
    let n = cx.v.regions.data.n;
    let g = m.groups.len();
    if !(2..=40).contains(&g) {
        return;
    }
    let series = res
        .formulas
        .iter()
        .enumerate()
        .map(|(f, fp)| plots::IntervalSeries {
            name: fp.name.clone(),
            items: (0..g)
                .map(|gi| {
                    let point: f64 = (0..n)
                        .filter(|&i| m.group_idx[i] as usize == gi)
                        .map(|i| fp.alloc.x[i])
                        .sum();
                    box_or_point(acc.and_then(|a| a.group_total.get(f * g + gi)), point)
                })
                .collect(),
        })
        .collect();
    canvas.draw(
        "allocation_groups",
        "The total allocation of each group of regions (the scenario's `group` column), with the same boxes, whiskers and dots as the regions' figure.",
        Chart::Interval(plots::IntervalChart {
            title: "Allocation by group".into(),
            value_label: format!("group total ({unit})"),
            categories: m.groups.clone(),
            series,
            orientation: plots::Orientation::Auto,
            reference: Vec::new(),
        }),
    );
}

/// Histograms of the kept regions' draws, formulas overlaid.
fn region_histograms(cx: &Inputs, a: &VerticalAcc, keep: &[usize], canvas: &mut Canvas) {
    let (m, unit) = (&cx.v.regions.meta, cx.unit);
    let n = cx.v.regions.data.n;
    for (k, &i) in keep.iter().enumerate() {
        let mut marks = Vec::new();
        let samples = cx
            .res
            .formulas
            .iter()
            .enumerate()
            .map(|(f, fp)| {
                let values = a.kept[f * keep.len() + k].values.clone();
                marks.push(plots::SampleMark {
                    sample: f,
                    value: fp.alloc.x[i],
                    kind: plots::MarkKind::Point,
                });
                let median = a.x[f * n + i].q.quantiles(&[0.5])[0];
                if median.is_finite() {
                    marks.push(plots::SampleMark {
                        sample: f,
                        value: median,
                        kind: plots::MarkKind::Median,
                    });
                }
                plots::Sample {
                    name: format!("{}{}", fp.name, binding_note(a, f * n + i)),
                    values,
                }
            })
            .collect();
        canvas.draw(
            &format!("hist_{}", slug(&m.id[i])),
            "The share of Monte Carlo draws (the first 2,000) in each allocation bin, one colour per formula; the solid line is the formula's point estimate and the dashed line its median over all draws. Overlap means the formulas give this region similar money; separated humps mean the choice of formula matters more than the uncertainty. A single spike is a region held at its cap or floor, which the legend says with the share of draws.",
            Chart::Histogram(plots::HistogramChart {
                title: format!("{}: allocation over draws", m.name[i]),
                x_label: format!("allocation ({unit})"),
                y_label: "share of draws".into(),
                samples,
                bins: 40,
                thresholds: Vec::new(),
                marks,
            }),
        );
    }
}

/// ", capped in 99.9% of draws" when a region sits on its cap or floor in some draws.
fn binding_note(a: &VerticalAcc, k: usize) -> String {
    let mut parts = Vec::new();
    for (what, p) in [("capped", a.cap[k].p()), ("on its floor", a.floor[k].p())] {
        if p > 0.0 {
            parts.push(format!("{what} in {} of draws", share(p)));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// A probability as a percentage that shows how close to 0 or 1 it is: 99.9%, not 100%.
pub(super) fn share(p: f64) -> String {
    let pct = 100.0 * p;
    if pct > 99.0 && pct < 100.0 || pct > 0.0 && pct < 1.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.0}%")
    }
}

/// Lorenz curves of the point allocations: over regions, and weighted by population and
/// by red-line area where every region has one (a region of 25 million people and one of
/// 600,000 are not equal units of need).
fn lorenz_curves(cx: &Inputs, canvas: &mut Canvas) {
    use crate::model::Column;
    let data = &cx.v.regions.data;
    let weighted = [
        (
            None,
            "lorenz",
            "regions",
            "Regions sorted from the smallest to the largest point allocation: the curve shows the cumulative share of money against the cumulative share of regions, each region counted once. The diagonal is equal shares; a curve further below it, and a higher Gini in the legend, is a more concentrated allocation.",
        ),
        (
            Some(Column::Population),
            "lorenz_population",
            "population",
            "Regions sorted by allocation per person: the cumulative share of money against the cumulative share of the population. Below the diagonal, some people's regions get less per head than others'; the Gini is that of allocation per capita, weighted by population.",
        ),
        (
            Some(Column::RedlineKm2),
            "lorenz_redline",
            "red-line area",
            "Regions sorted by allocation per km² of ecological red line: the cumulative share of money against the cumulative share of the red-line area. A formula that pays for protected land keeps this curve close to the diagonal.",
        ),
    ];
    for (column, stem, what, note) in weighted {
        let weights = column.map(|c| data.col(c).to_vec());
        if weights
            .as_ref()
            .is_some_and(|w| w.iter().any(|x| !(x.is_finite() && *x > 0.0)))
        {
            continue;
        }
        let series = cx
            .res
            .formulas
            .iter()
            .map(|fp| plots::LorenzSeries {
                name: fp.name.clone(),
                values: fp.alloc.x.clone(),
                // Unweighted, the metrics module's Gini, so the figure and the tables agree;
                // weighted, the curve's own.
                gini: weights
                    .is_none()
                    .then(|| crate::metrics::inequality::gini(&fp.alloc.x, None).ok())
                    .flatten(),
                weights: weights.clone(),
                order_by: None,
            })
            .collect();
        canvas.draw(
            stem,
            note,
            Chart::Lorenz(plots::LorenzChart {
                title: format!("Lorenz curves of the point allocation, over {what}"),
                x_label: format!("cumulative share of {what}"),
                y_label: "cumulative share of allocation".into(),
                series,
            }),
        );
    }
    gap_concentration(cx, canvas);
}

/// The concentration curve of each point allocation with regions ranked by fiscal gap
/// (`E − R`, the smallest first): a curve below the diagonal gives more to the regions
/// with the larger gaps, as a gap-filling transfer should.
fn gap_concentration(cx: &Inputs, canvas: &mut Canvas) {
    use crate::model::Column;
    let data = &cx.v.regions.data;
    let gap: Vec<f64> = data
        .col(Column::StdExpenditure)
        .iter()
        .zip(data.col(Column::StdRevenue))
        .map(|(e, r)| e - r)
        .collect();
    let series = cx
        .res
        .formulas
        .iter()
        .map(|fp| plots::LorenzSeries {
            name: fp.name.clone(),
            values: fp.alloc.x.clone(),
            gini: None,
            weights: None,
            order_by: Some(gap.clone()),
        })
        .collect();
    canvas.draw(
        "concentration_gap",
        "Regions ranked by fiscal gap (standard expenditure less standard revenue), the smallest gap first: the cumulative share of money against the cumulative share of regions. Below the diagonal, regions with larger gaps get more than an equal share; the concentration index in the legend (one minus twice the area under the curve) is positive when money goes to the larger gaps, negative when it goes to the smaller ones.",
        Chart::Lorenz(plots::LorenzChart {
            title: "Concentration of the point allocation, regions ranked by fiscal gap".into(),
            x_label: "cumulative share of regions, smallest fiscal gap first".into(),
            y_label: "cumulative share of allocation".into(),
            series,
        }),
    );
}

/// Winners and losers, and the dumbbell, of every other formula against the baseline.
fn paired_differences(cx: &Inputs, a: &VerticalAcc, canvas: &mut Canvas) {
    use super::change_figures as cf;
    let (res, baseline) = (cx.res, cx.baseline);
    let n = cx.v.regions.data.n;
    let others: Vec<usize> = (0..res.formulas.len()).filter(|&f| f != baseline).collect();
    let ranged = |f: usize| -> Vec<(f64, f64, f64)> {
        (0..n)
            .map(|i| {
                let q = a.x[f * n + i].q.quantiles(&[0.05, 0.95]);
                (res.formulas[f].alloc.x[i], q[0], q[1])
            })
            .collect()
    };
    let base = ranged(baseline);
    for &f in &others {
        let r = f * n..(f + 1) * n;
        let diff: Vec<f64> = a.diff[r.clone()].iter().map(|d| d.mean()).collect();
        let diff_sd: Vec<f64> = a.diff[r].iter().map(|d| d.sd()).collect();
        let d = cf::ChangeData {
            meta: &cx.v.regions.meta,
            base_name: &res.formulas[baseline].name,
            name: &res.formulas[f].name,
            base_x: &res.formulas[baseline].alloc.x,
            diff: &diff,
            diff_sd: &diff_sd,
            alloc: &res.formulas[f].alloc,
            unit: cx.unit,
        };
        let name = &res.formulas[f].name;
        canvas.draw(
            &cf::stem_for("winners_losers", name, others.len()),
            cf::WINNERS_NOTE,
            cf::winners_chart(&d),
        );
        canvas.draw(
            &cf::stem_for("dumbbell", name, others.len()),
            cf::DUMBBELL_NOTE,
            cf::dumbbell_chart(&d, &base, &ranged(f)),
        );
        if let Some(chart) = cf::change_map(&d) {
            let stem = cf::stem_for("map_change", name, others.len());
            canvas.draw(&stem, super::region_figures::TILE_NOTE, chart);
        }
        if let Some((gb, go)) = group_ranges(cx, a, baseline).zip(group_ranges(cx, a, f)) {
            canvas.draw(
                &cf::stem_for("dumbbell_groups", name, others.len()),
                cf::GROUP_DUMBBELL_NOTE,
                cf::group_dumbbell_chart(
                    &res.formulas[baseline].name,
                    name,
                    cx.unit,
                    &cx.v.regions.meta.groups,
                    &gb,
                    &go,
                ),
            );
        }
    }
}

/// Formula `f`'s total per group, `(point, p05, p95)` over the draws; `None` with fewer
/// than two groups or no group totals kept.
fn group_ranges(cx: &Inputs, a: &VerticalAcc, f: usize) -> Option<Vec<(f64, f64, f64)>> {
    let meta = &cx.v.regions.meta;
    let ng = meta.groups.len();
    if ng < 2 || a.group_total.len() < (f + 1) * ng {
        return None;
    }
    let mut point = vec![0.0; ng];
    for (i, &g) in meta.group_idx.iter().enumerate() {
        point[g as usize] += cx.res.formulas[f].alloc.x[i];
    }
    Some(
        (0..ng)
            .map(|g| {
                let q = a.group_total[f * ng + g].q.quantiles(&[0.05, 0.95]);
                (point[g], q[0], q[1])
            })
            .collect(),
    )
}

/// Quantiles (type 7) of kept draws, as a box without a point estimate.
fn kept_box(values: &[f64]) -> Option<plots::BoxStats> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        v[lo] + (h - h.floor()) * (v[hi] - v[lo])
    };
    Some(plots::BoxStats {
        p05: q(0.05),
        p25: q(0.25),
        p50: q(0.5),
        p75: q(0.75),
        p95: q(0.95),
        point: None,
    })
}

/// The budget: money moved by quality deductions and rewards in each draw, per formula
/// with a quality rule. Boxes, not overlaid histograms: the draws that move nothing would
/// dominate a histogram and four overlapping fills turn to mud.
fn budget_quality(cx: &Inputs, a: &VerticalAcc, canvas: &mut Canvas) {
    let mut categories = Vec::new();
    let mut items = Vec::new();
    let mut names = Vec::new();
    let mut none = Vec::new();
    for (f, fp) in cx.res.formulas.iter().enumerate() {
        if cx.v.formulas[f].quality.is_none() {
            continue;
        }
        names.push(fp.name.clone());
        for (what, kept) in [
            ("deducted", &a.kept_deducted[f]),
            ("rewarded", &a.kept_rewarded[f]),
        ] {
            categories.push(format!("{}: {what}", fp.name));
            items.push(kept_box(&kept.values));
            let zero = kept.values.iter().filter(|x| **x == 0.0).count();
            let share = zero as f64 / kept.values.len().max(1) as f64;
            none.push(format!(
                "{} {what} nothing in {} of draws",
                fp.name,
                self::share(share)
            ));
        }
    }
    let unit = cx.unit;
    canvas.draw(
        "budget_quality",
        &format!(
            "Money removed from regions by quality deductions and added by rewards in each draw (at the budget scale): boxes 25th–75th percentile over the draws, whiskers 5th–95th, line median. In fixed mode the budget scale recycles it to the other regions. {}.",
            none.join("; ")
        ),
        Chart::Interval(plots::IntervalChart {
            title: format!("Quality deductions and rewards over draws: {}", names.join(", ")),
            value_label: format!("money moved per draw ({unit})"),
            categories,
            series: vec![plots::IntervalSeries {
                name: "over draws".into(),
                items,
            }],
            orientation: plots::Orientation::Horizontal,
            reference: Vec::new(),
        }),
    );
}
