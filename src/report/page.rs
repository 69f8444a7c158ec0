//! Assembles the [`Report`] model of `report.html` from the results: the headline tables
//! and the figures.

use super::figures::Figure;
use super::html::{Figure as ReportFigure, Image, Report, Table};
use super::json::rfc3339;
use crate::model::Scenario;
use crate::montecarlo::McResults;
use crate::run::pipeline::Outcome;
use crate::run::point::{PointMetrics, PointResults};

/// A number in a table cell: the one display policy of [`crate::numfmt::display`], so the
/// page, the console and the messages spell a figure alike.
fn m(v: f64) -> String {
    crate::numfmt::display(v)
}

/// An amount that is rounding residue of `scale` (a budget, the money an agreement moves)
/// shown as 0.
fn m0(v: f64, scale: f64) -> String {
    m(crate::numfmt::snap_zero(
        v,
        crate::numfmt::ROUNDING_REL * scale.abs(),
    ))
}

/// Whether any input of the scenario is uncertain: a distribution in place of a number, a
/// noise model on a region column, or an uncertain term of an agreement.
pub fn uncertain(scn: &Scenario) -> bool {
    !scn.uncertain.is_empty()
        || !scn.noise.is_empty()
        || scn.agreements.iter().any(|a| !a.uncertain.is_empty())
}

/// Whether the tables show Monte Carlo columns: only when there were draws and they can
/// differ; otherwise every draw is the point estimate and an interval such as
/// [12000, 12000] would only suggest a certainty the model does not claim.
fn drawn(scn: &Scenario, mc: &McResults) -> bool {
    mc.draws > 0 && uncertain(scn)
}

fn pct(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

fn formula_table(
    scn: &Scenario,
    res: &PointResults,
    mc: &McResults,
    metrics: &PointMetrics,
) -> Option<Table> {
    scn.vertical.as_ref()?;
    let acc = mc.vertical.as_ref().filter(|_| drawn(scn, mc));
    let rho = &metrics.reference;
    let mut header = vec!["formula", "total", "unallocated", "Gini (point)"];
    if acc.is_some() {
        header.extend(["Gini (MC mean)", "Gini 90% interval"]);
    }
    header.extend(["regions floored", "regions capped"]);
    if acc.is_some() {
        header.push("deducted (MC mean)");
    }
    if !rho.is_empty() {
        header.push("rank corr. with reference");
    }
    let rows = res
        .formulas
        .iter()
        .enumerate()
        .map(|(f, fp)| {
            let a = &fp.alloc;
            let gini = crate::metrics::inequality::gini(&a.x, None)
                .map(m)
                .unwrap_or_default();
            let mut row = vec![
                fp.name.clone(),
                m(a.total),
                m0(a.unallocated(), a.total),
                gini,
            ];
            let gini_mc = acc.filter(|acc| acc.gini[f].m.count() > 0).map(|acc| {
                let q = acc.gini[f].q.quantiles(&[0.05, 0.95]);
                (
                    m(acc.gini[f].m.mean()),
                    format!("[{}, {}]", m(q[0]), m(q[1])),
                    m(acc.deducted[f].m.mean()),
                )
            });
            if acc.is_some() {
                let (gm, gi, _) = gini_mc.clone().unwrap_or_default();
                row.extend([gm, gi]);
            }
            row.extend([
                a.floor_binds.iter().filter(|b| **b).count().to_string(),
                a.cap_binds.iter().filter(|b| **b).count().to_string(),
            ]);
            if acc.is_some() {
                row.push(gini_mc.map(|g| g.2).unwrap_or_default());
            }
            if let Some((_, k, r)) = rho.get(f) {
                row.push(r.map_or_else(String::new, |r| format!("{} (n = {k})", m(r))));
            }
            row
        })
        .collect();
    Some(Table {
        title: "Formulas: totals and inequality".into(),
        note: format!(
            "Money in {}. Gini 0 means equal allocations; the 90% interval is over Monte Carlo draws. The rank correlation is Spearman's, between the point allocation and the scenario's reference allocation where known.",
            if scn.meta.currency.is_empty() {
                "the scenario's unit"
            } else {
                &scn.meta.currency
            }
        ),
        header: header.into_iter().map(String::from).collect(),
        rows,
    })
}

fn comparison_table(
    scn: &Scenario,
    res: &PointResults,
    mc: &McResults,
    metrics: &PointMetrics,
    baseline: usize,
) -> Option<Table> {
    use crate::metrics::allocation::Metric;
    use crate::metrics::paired::Change;
    let v = scn.vertical.as_ref()?;
    if res.formulas.len() < 2 {
        return None;
    }
    let shown = [
        Metric::Theil,
        Metric::TheilBetween,
        Metric::Cv,
        Metric::Top10Share,
        Metric::GiniPerRedline,
        Metric::RankCoverage,
        Metric::RankFiscalGap,
        Metric::Suits,
    ];
    let n = v.regions.data.n;
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
    let rule = crate::run::compare::change_rule(&res.formulas.get(baseline)?.alloc.x);
    let mut header: Vec<String> = vec!["formula".into()];
    header.extend(shown.iter().map(|m| metric_label(*m).to_string()));
    header.extend([
        "winners vs baseline".to_string(),
        "losers vs baseline".to_string(),
    ]);
    let rows = metrics
        .formulas
        .iter()
        .enumerate()
        .map(|(f, (name, vals))| {
            let mut row = vec![name.clone()];
            row.extend(
                shown
                    .iter()
                    .map(|k| vals[*k as usize].map(m).unwrap_or_default()),
            );
            let (w, l) = match acc {
                Some(a) if f != baseline => {
                    let change = |i: usize| {
                        let d = &a.diff[f * n + i];
                        rule.classify(d.mean(), d.se())
                    };
                    let count = |c: Change| (0..n).filter(|&i| change(i) == c).count();
                    (
                        count(Change::Gain).to_string(),
                        count(Change::Loss).to_string(),
                    )
                }
                _ => (String::new(), String::new()),
            };
            row.extend([w, l]);
            row
        })
        .collect();
    Some(Table {
        title: "Formula comparison (point allocation)".into(),
        note: "Theil T and its between-group part; CV, the coefficient of variation; the top 10% share; the Gini of allocation per km² of red line; Spearman rank correlations of the allocation with red-line coverage and the fiscal gap; the Suits index against R/E (positive: more to fiscally weaker regions). Winners and losers count regions whose paired difference against the baseline is told apart from zero: its 90% interval over the draws (mean ± 1.645 × SE) lies above (below) 0 and it exceeds 1e-9 × the baseline's total; the others are unchanged. `ecocomp compare` gives every metric with its distribution.".into(),
        header,
        rows,
    })
}

/// A metric's column header for people; `metrics.json` keeps the field names.
pub fn metric_label(k: crate::metrics::allocation::Metric) -> &'static str {
    use crate::metrics::allocation::Metric;
    match k {
        Metric::Gini => "Gini",
        Metric::GiniPopulation => "Gini per capita (population-weighted)",
        Metric::GiniArea => "Gini per km² (area-weighted)",
        Metric::Theil => "Theil T",
        Metric::TheilBetween => "Theil T between groups",
        Metric::TheilWithin => "Theil T within groups",
        Metric::Cv => "coefficient of variation",
        Metric::Top10Share => "top 10% share",
        Metric::PerRedlineKm2 => "per km² of red line",
        Metric::GiniPerRedline => "Gini per km² of red line",
        Metric::PerCapita => "per capita",
        Metric::RankCoverage => "rank corr. with red-line coverage",
        Metric::RankFiscalGap => "rank corr. with fiscal gap",
        Metric::RankImportance => "rank corr. with importance",
        Metric::Suits => "Suits index (progressivity)",
        Metric::Deducted => "total deducted",
        Metric::FloorPaid => "total paid through floors",
        Metric::Capped => "regions capped",
        Metric::Total => "total allocated",
        Metric::Unallocated => "unallocated",
    }
}

fn regions_table(
    scn: &Scenario,
    res: &PointResults,
    mc: &McResults,
    baseline: usize,
) -> Option<Table> {
    let v = scn.vertical.as_ref()?;
    let n = v.regions.data.n;
    let acc = mc.vertical.as_ref().filter(|_| drawn(scn, mc));
    let base = res.formulas.get(baseline)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| base.alloc.x[j].total_cmp(&base.alloc.x[i]));
    let mut header = vec!["region".to_string(), "group".to_string()];
    for fp in &res.formulas {
        header.push(format!("{} point", fp.name));
        if acc.is_some() {
            header.push(format!("{} 90% interval", fp.name));
        }
    }
    let rows = order
        .iter()
        .take(15)
        .map(|&i| {
            let mut row = vec![
                v.regions.meta.name[i].clone(),
                v.regions.meta.group[i].clone(),
            ];
            for (f, fp) in res.formulas.iter().enumerate() {
                row.push(m(fp.alloc.x[i]));
                if let Some(a) = acc {
                    let q = a.x[f * n + i].q.quantiles(&[0.05, 0.95]);
                    row.push(format!("[{}, {}]", m(q[0]), m(q[1])));
                }
            }
            row
        })
        .collect();
    Some(Table {
        title: format!("Top regions (by {} point allocation)", base.name),
        note: "The point estimate uses central values of every uncertain input; the interval is the 5th–95th percentile over draws.".into(),
        header,
        rows,
    })
}

/// An agreement as a reader knows it, with the id that the CSV files use:
/// "Round 1 (xinan_round1)".
fn agreement_label(a: &crate::model::Agreement) -> String {
    let own = a
        .description
        .split([':', ',', '：', '，'])
        .next()
        .unwrap_or("")
        .trim();
    if own.is_empty() {
        a.name.clone()
    } else {
        format!("{own} ({})", a.name)
    }
}

fn parties_table(scn: &Scenario, res: &PointResults, mc: &McResults) -> Option<Table> {
    if scn.agreements.is_empty() {
        return None;
    }
    let has = drawn(scn, mc);
    let mut rows = Vec::new();
    for (k, a) in scn.agreements.iter().enumerate() {
        let s = &res.settlements[k];
        let moved: f64 = (0..a.parties.len()).map(|p| s.round_receipts(p)).sum();
        for (p, party) in a.parties.iter().enumerate() {
            let point = s.round_net(p) + s.round_central(p);
            let mut row = vec![agreement_label(a), party.clone(), m0(point, moved)];
            if let Some(acc) = mc.agreements.get(k).filter(|_| has) {
                let q = acc.round[p].q.quantiles(&[0.05, 0.95]);
                row.extend([
                    m0(acc.round[p].m.mean(), moved),
                    format!("[{}, {}]", m0(q[0], moved), m0(q[1], moved)),
                    pct(acc.round_receives[p].p()),
                ]);
            }
            rows.push(row);
        }
    }
    Some(Table {
        title: "Basin agreements: net per party over the round".into(),
        note: "Net receipt = horizontal transfers received minus paid, plus central funds. Horizontal transfers sum to zero over the parties of an agreement.".into(),
        header: ["agreement", "party", "point", "MC mean", "90% interval", "P(receives)"][..if has { 6 } else { 3 }]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows,
    })
}

fn sections_table(scn: &Scenario, res: &PointResults, mc: &McResults) -> Option<Table> {
    if scn.agreements.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    for (k, a) in scn.agreements.iter().enumerate() {
        let s = &res.settlements[k];
        let nt = a.n_periods();
        for (j, sec) in a.sections.iter().enumerate() {
            let met_point = (0..nt).filter(|&t| s.met[s.st(j, t)]).count();
            let p_met = mc.agreements.get(k).filter(|_| drawn(scn, mc)).map(|acc| {
                (0..nt).map(|t| acc.met[j * nt + t].p()).sum::<f64>() / nt.max(1) as f64
            });
            let mut row = vec![
                agreement_label(a),
                sec.name.clone(),
                format!(
                    "{} → {}",
                    a.parties[sec.upstream], a.parties[sec.downstream]
                ),
                sec.assessment.kind().to_string(),
                format!("{met_point} of {nt}"),
            ];
            row.extend(p_met.map(pct));
            rows.push(row);
        }
    }
    Some(Table {
        title: "Monitoring sections".into(),
        note: "Periods met at the point estimate, and the probability that the section is met in a period (averaged over periods) under the Monte Carlo draws.".into(),
        header: ["agreement", "section", "upstream → downstream", "assessment", "met (point)", "P(met)"][..if drawn(scn, mc) { 6 } else { 5 }]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows,
    })
}

/// Above this size an SVG figure (thousands of marks) goes into the page as its PNG.
const MAX_INLINE_SVG: usize = 300_000;

/// A drawn figure as the page shows it, with links to the files that were written; `None`
/// when it was drawn in no format the page can show.
pub fn page_figure(f: &super::figures::Figure) -> Option<ReportFigure> {
    let mut files = Vec::new();
    if f.rendered.png.is_some() {
        files.push(format!("plots/{}.png", f.stem));
    }
    if f.rendered.svg.is_some() {
        files.push(format!("plots/{}.svg", f.stem));
    }
    Some(ReportFigure {
        title: f.title.clone(),
        note: f.note.clone(),
        image: page_image(&f.rendered)?,
        files,
    })
}

/// How a figure goes into the page: SVG where there is one, so its text stays text
/// (searchable, sharp at any width); its PNG where the SVG would make the page heavy or
/// the run drew no SVG.
pub fn page_image(r: &crate::plots::Rendered) -> Option<Image> {
    match (&r.png, &r.svg) {
        (Some(png), Some(svg)) if svg.len() > MAX_INLINE_SVG => Some(Image::Png(png.clone())),
        (_, Some(svg)) => Some(Image::Svg(svg.clone())),
        (Some(png), None) => Some(Image::Png(png.clone())),
        (None, None) => None,
    }
}

/// The first rows of every page's settings: the scenario's name, file and SHA-256.
pub fn scenario_settings(scn: &Scenario) -> Vec<(String, String)> {
    vec![
        (
            "scenario".to_string(),
            format!("{} ({})", scn.meta.name, scn.path.display()),
        ),
        ("scenario SHA-256".to_string(), scn.sha256.clone()),
    ]
}

/// The page's title: the scenario's description where it has one (what a reader
/// recognises), its name otherwise.
pub fn readable_title(scn: &Scenario) -> String {
    let what = if scn.meta.description.is_empty() {
        &scn.meta.name
    } else {
        &scn.meta.description
    };
    format!("ecocomp — {what}")
}

/// Build the report model of a run. Figures are embedded as SVG, or as PNG when the run drew
/// no SVG.
pub fn build(out: &Outcome, mc: &McResults, figures: &[Figure], warnings: &[String]) -> Report {
    let (scn, res, info, baseline) = (&out.scenario, &out.point, &out.info, out.baseline);
    let mut settings = scenario_settings(scn);
    settings.extend([
        (
            "year".to_string(),
            scn.meta.year.map(|y| y.to_string()).unwrap_or_default(),
        ),
        ("currency".to_string(), scn.meta.currency.clone()),
        ("seed".to_string(), info.seed.to_string()),
        ("draws".to_string(), info.draws.to_string()),
        ("threads".to_string(), info.threads.to_string()),
        ("started".to_string(), rfc3339(info.started)),
        (
            "baseline formula".to_string(),
            res.formulas
                .get(baseline)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
        ),
    ]);
    // A setting the scenario does not have (a basin scenario's baseline formula, a
    // missing year) is left out rather than shown empty.
    settings.retain(|(_, v)| !v.is_empty());
    let mut notices = Vec::new();
    if info.draws == 0 {
        notices.push("This run had no Monte Carlo draws (--draws 0): every table shows the point estimate only.".to_string());
    } else if !uncertain(scn) {
        notices.push("Nothing in this scenario is uncertain: no input is a distribution, no region column has a noise model and no agreement term is uncertain. Every draw gives the point estimate, so the tables show point values only, without Monte Carlo means or intervals, and the figures' boxes and histograms collapse to the point.".to_string());
    }
    let tables = [
        formula_table(scn, res, mc, &out.metrics),
        comparison_table(scn, res, mc, &out.metrics, baseline),
        regions_table(scn, res, mc, baseline),
        super::binding::binding_table(scn, res, Some(mc).filter(|mc| drawn(scn, mc))),
        parties_table(scn, res, mc),
        sections_table(scn, res, mc),
    ]
    .into_iter()
    .flatten()
    .collect();
    let figures = figures.iter().filter_map(page_figure).collect();
    Report {
        title: readable_title(scn),
        // The description is the title; the lead names the file's scenario.
        description: format!("Scenario “{}”.", scn.meta.name),
        notices,
        sources: scn.meta.sources.clone(),
        assumptions: scn.meta.assumptions.clone(),
        settings,
        warnings: warnings.to_vec(),
        tables,
        figures,
        embed_font: true,
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use crate::run::pipeline::{Exporters, Job, McOptions, Quiet, Request, RunJob, execute};

    /// example.toml with the baseline again, `c0` uncertain around the same centre.
    const TWIN: &str = include_str!("../../tests/fixtures/noisy_twin.toml");

    #[test]
    fn tables_count_winners_as_compare_does_and_show_six_digits() {
        let req = Request {
            scenario: crate::scenario::shipped_with("example.toml", TWIN),
            shards: Default::default(),
            job: Job::Run(RunJob {
                mc: McOptions {
                    draws: Some(20),
                    seed: Some(1),
                    threads: 2,
                },
                ..RunJob::default()
            }),
            out: None,
            command_line: Vec::new(),
        };
        let (out, _) = execute(req, &Exporters::default(), &Quiet, &Default::default()).unwrap();
        let report = build(&out, out.mc.as_ref().unwrap(), &[], &[]);
        let cmp = report
            .tables
            .iter()
            .find(|t| t.title.starts_with("Formula comparison"))
            .unwrap();
        let twin = cmp.rows.iter().find(|r| r[0] == "twin").unwrap();
        // Noise around zero: neither winners nor losers.
        assert_eq!(twin[twin.len() - 2..], ["0", "0"], "{twin:?}");
        let reform = cmp.rows.iter().find(|r| r[0] == "reform").unwrap();
        assert_ne!(reform[reform.len() - 2..], ["0", "0"], "{reform:?}");
        for cell in report.tables.iter().flat_map(|t| t.rows.iter().flatten()) {
            for token in cell.split(['[', ']', ',', ' ']) {
                if token.parse::<f64>().is_ok() {
                    let mantissa = token.split('e').next().unwrap_or(token);
                    let significant = mantissa.trim_start_matches(['-', '0', '.']);
                    let digits = significant.chars().filter(char::is_ascii_digit).count();
                    assert!(digits <= 6, "{cell}");
                }
            }
        }
    }
}
