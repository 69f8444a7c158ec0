//! What `ecocomp compare` draws and shows: winners and losers and the dumbbell of every
//! formula against the baseline, and the page `report.html` with the inequality and
//! targeting metrics and their 90% intervals.

use super::change_figures as cf;
use super::figures::Figure;
use super::html::{Report, Table};
use super::page::{metric_label, readable_title, uncertain};
use crate::metrics::allocation::Metric;
use crate::numfmt::display;
use crate::plots::{self, PlotFormat};
use crate::run::compare::Comparison;
use crate::run::pipeline::Outcome;

/// The figures of a comparison, and a warning per figure that could not be drawn.
pub fn compare_figures(out: &Outcome, c: &Comparison) -> (Vec<Figure>, Vec<String>) {
    let (mut figures, mut warnings) = (Vec::new(), Vec::new());
    let Some(v) = &out.scenario.vertical else {
        return (figures, warnings);
    };
    let unit = if out.scenario.meta.currency.is_empty() {
        "money"
    } else {
        &out.scenario.meta.currency
    };
    let base = &c.formulas[c.baseline];
    let ranged = |f: &crate::run::compare::FormulaComparison| -> Vec<(f64, f64, f64)> {
        (0..f.point_x.len())
            .map(|i| (f.point_x[i], f.x_p05[i], f.x_p95[i]))
            .collect()
    };
    let others: Vec<usize> = (0..c.formulas.len()).filter(|&f| f != c.baseline).collect();
    for &k in &others {
        let f = &c.formulas[k];
        let d = cf::ChangeData {
            meta: &v.regions.meta,
            base_name: &base.name,
            name: &f.name,
            base_x: &base.point_x,
            diff: &f.diff_mean,
            diff_sd: &f.diff_sd,
            alloc: &out.point.formulas[k].alloc,
            unit,
        };
        let mut charts = vec![
            ("winners_losers", cf::WINNERS_NOTE, cf::winners_chart(&d)),
            (
                "dumbbell",
                cf::DUMBBELL_NOTE,
                cf::dumbbell_chart(&d, &ranged(base), &ranged(f)),
            ),
        ];
        if let Some(map) = cf::change_map(&d) {
            charts.push(("map_change", super::region_figures::TILE_NOTE, map));
        }
        for (stem, note, chart) in charts {
            let stem = cf::stem_for(stem, &f.name, others.len());
            match plots::render(&chart, PlotFormat::Both) {
                Ok(rendered) => figures.push(Figure {
                    title: chart_title(&chart),
                    stem,
                    note: note.to_string(),
                    rendered,
                }),
                Err(e) => warnings.push(format!("figure {stem} was not drawn: {e}")),
            }
        }
    }
    (figures, warnings)
}

fn chart_title(chart: &plots::Chart) -> String {
    match chart {
        plots::Chart::Diverging(c) => c.title.clone(),
        plots::Chart::Dumbbell(c) => c.title.clone(),
        plots::Chart::TileMap(c) => c.title.clone(),
        _ => String::new(),
    }
}

/// The metrics shown on the page, in the order a reader asks about them.
const SHOWN: [Metric; 11] = [
    Metric::Gini,
    Metric::GiniPopulation,
    Metric::Theil,
    Metric::TheilBetween,
    Metric::Cv,
    Metric::Top10Share,
    Metric::GiniPerRedline,
    Metric::RankCoverage,
    Metric::RankFiscalGap,
    Metric::Suits,
    Metric::Deducted,
];

/// One row per formula × metric: point, and with draws the mean and 90% interval.
fn metrics_table(c: &Comparison, drawn: bool) -> Table {
    let mut header = vec![
        "formula".to_string(),
        "metric".to_string(),
        "point".to_string(),
    ];
    if drawn {
        header.extend(["MC mean".to_string(), "90% interval".to_string()]);
    }
    let mut rows = Vec::new();
    for f in &c.formulas {
        for m in SHOWN {
            let Some(point) = f.point[m as usize] else {
                continue;
            };
            let mut row = vec![f.name.clone(), metric_label(m).to_string(), display(point)];
            if drawn {
                match f.dist[m as usize] {
                    Some(d) => row.extend([
                        display(d.mean),
                        format!("[{}, {}]", display(d.p05), display(d.p95)),
                    ]),
                    None => row.extend([String::new(), String::new()]),
                }
            }
            rows.push(row);
        }
    }
    Table {
        title: "Inequality and targeting metrics".into(),
        note: "Gini 0 is equal allocations; Theil T splits into a between-group and a within-group part; the rank correlations are Spearman's, of the allocation with red-line coverage and with the fiscal gap; the Suits index is positive when money goes to fiscally weaker regions. The 90% interval is over the Monte Carlo draws. `metrics.json` has every metric.".into(),
        header,
        rows,
    }
}

/// Winners, losers and unchanged regions per formula, by compare's rule.
fn winners_table(c: &Comparison) -> Table {
    let rows = c
        .formulas
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != c.baseline)
        .map(|(_, f)| {
            let t = &f.winners.overall;
            vec![
                f.name.clone(),
                t.winners.to_string(),
                t.losers.to_string(),
                t.unchanged.to_string(),
                display(t.gain_total),
                display(t.loss_total),
            ]
        })
        .collect();
    Table {
        title: format!("Winners and losers against {}", c.formulas[c.baseline].name),
        note: "A region wins (loses) when the 90% interval of its paired difference, mean ± 1.645 × its Monte Carlo standard error, lies above (below) zero and the difference exceeds 1e-9 × the baseline's total; the others are unchanged. The totals are the money the winners gain and the losers lose.".into(),
        header: ["formula", "winners", "losers", "unchanged", "gained", "lost"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

/// The page of a comparison, its figures embedded as SVG.
pub fn build(out: &Outcome, c: &Comparison, figures: &[Figure], warnings: &[String]) -> Report {
    let scn = &out.scenario;
    let drawn = c.draws > 0 && uncertain(scn);
    let mut settings = super::page::scenario_settings(scn);
    settings.extend([
        (
            "baseline formula".to_string(),
            c.formulas[c.baseline].name.clone(),
        ),
        (
            "formulas".to_string(),
            c.formulas
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("seed".to_string(), c.seed.to_string()),
        ("draws".to_string(), c.draws.to_string()),
        ("currency".to_string(), scn.meta.currency.clone()),
    ]);
    settings.retain(|(_, v)| !v.is_empty());
    let mut notices = Vec::new();
    if !drawn {
        notices.push("No Monte Carlo spread: the run had no draws or nothing in the scenario is uncertain, so the metrics show point values and the changes have no interval.".to_string());
    }
    let figures = figures
        .iter()
        .filter_map(super::page::page_figure)
        .collect();
    Report {
        title: format!("{} — formulas compared", readable_title(scn)),
        description: format!("Scenario “{}”: `ecocomp compare`.", scn.meta.name),
        sources: scn.meta.sources.clone(),
        assumptions: scn.meta.assumptions.clone(),
        settings,
        warnings: warnings.to_vec(),
        notices,
        tables: vec![winners_table(c), metrics_table(c, drawn)],
        figures,
        embed_font: true,
    }
}
