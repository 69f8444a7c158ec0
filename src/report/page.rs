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
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
    let rho = &metrics.reference;
    let mut header = vec![
        "formula",
        "total",
        "unallocated",
        "Gini (point)",
        "Gini (MC mean)",
        "Gini 90% interval",
        "regions floored",
        "regions capped",
        "deducted (MC mean)",
    ];
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
            let (gm, gi, ded) = match acc {
                Some(acc) if acc.gini[f].m.count() > 0 => {
                    let q = acc.gini[f].q.quantiles(&[0.05, 0.95]);
                    (
                        m(acc.gini[f].m.mean()),
                        format!("[{}, {}]", m(q[0]), m(q[1])),
                        m(acc.deducted[f].m.mean()),
                    )
                }
                _ => (String::new(), String::new(), String::new()),
            };
            let mut row = vec![
                fp.name.clone(),
                m(a.total),
                m0(a.unallocated(), a.total),
                gini,
                gm,
                gi,
                a.floor_binds.iter().filter(|b| **b).count().to_string(),
                a.cap_binds.iter().filter(|b| **b).count().to_string(),
                ded,
            ];
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
    header.extend(shown.iter().map(|m| m.name().to_string()));
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

fn regions_table(
    scn: &Scenario,
    res: &PointResults,
    mc: &McResults,
    baseline: usize,
) -> Option<Table> {
    let v = scn.vertical.as_ref()?;
    let n = v.regions.data.n;
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
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

fn parties_table(scn: &Scenario, res: &PointResults, mc: &McResults) -> Option<Table> {
    if scn.agreements.is_empty() {
        return None;
    }
    let has = mc.draws > 0;
    let mut rows = Vec::new();
    for (k, a) in scn.agreements.iter().enumerate() {
        let s = &res.settlements[k];
        let moved: f64 = (0..a.parties.len()).map(|p| s.round_receipts(p)).sum();
        for (p, party) in a.parties.iter().enumerate() {
            let point = s.round_net(p) + s.round_central(p);
            let mut row = vec![a.name.clone(), party.clone(), m0(point, moved)];
            match mc.agreements.get(k).filter(|_| has) {
                Some(acc) => {
                    let q = acc.round[p].q.quantiles(&[0.05, 0.95]);
                    row.extend([
                        m0(acc.round[p].m.mean(), moved),
                        format!("[{}, {}]", m0(q[0], moved), m0(q[1], moved)),
                        pct(acc.round_receives[p].p()),
                    ]);
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
            rows.push(row);
        }
    }
    Some(Table {
        title: "Basin agreements: net per party over the round".into(),
        note: "Net receipt = horizontal transfers received minus paid, plus central funds. Horizontal transfers sum to zero over the parties of an agreement.".into(),
        header: ["agreement", "party", "point", "MC mean", "90% interval", "P(receives)"].map(String::from).to_vec(),
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
            let p_met = mc.agreements.get(k).filter(|_| mc.draws > 0).map(|acc| {
                (0..nt).map(|t| acc.met[j * nt + t].p()).sum::<f64>() / nt.max(1) as f64
            });
            rows.push(vec![
                a.name.clone(),
                sec.name.clone(),
                format!(
                    "{} → {}",
                    a.parties[sec.upstream], a.parties[sec.downstream]
                ),
                sec.assessment.kind().to_string(),
                format!("{met_point} of {nt}"),
                p_met.map(pct).unwrap_or_default(),
            ]);
        }
    }
    Some(Table {
        title: "Monitoring sections".into(),
        note: "Periods met at the point estimate, and the probability that the section is met in a period (averaged over periods) under the Monte Carlo draws.".into(),
        header: ["agreement", "section", "upstream → downstream", "assessment", "met (point)", "P(met)"].map(String::from).to_vec(),
        rows,
    })
}

/// Build the report model of a run. Figures are embedded as PNG (SVG files sit beside it).
pub fn build(out: &Outcome, mc: &McResults, figures: &[Figure], warnings: &[String]) -> Report {
    let (scn, res, info, baseline) = (&out.scenario, &out.point, &out.info, out.baseline);
    let settings = vec![
        (
            "scenario".to_string(),
            format!("{} ({})", scn.meta.name, scn.path.display()),
        ),
        ("scenario SHA-256".to_string(), scn.sha256.clone()),
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
    ];
    let tables = [
        formula_table(scn, res, mc, &out.metrics),
        comparison_table(scn, res, mc, &out.metrics, baseline),
        regions_table(scn, res, mc, baseline),
        parties_table(scn, res, mc),
        sections_table(scn, res, mc),
    ]
    .into_iter()
    .flatten()
    .collect();
    let figures = figures
        .iter()
        .filter_map(|f| {
            let mut files = Vec::new();
            if f.rendered.png.is_some() {
                files.push(format!("plots/{}.png", f.stem));
            }
            if f.rendered.svg.is_some() {
                files.push(format!("plots/{}.svg", f.stem));
            }
            let image = match (&f.rendered.png, &f.rendered.svg) {
                (Some(png), _) => Image::Png(png.clone()),
                (None, Some(svg)) => Image::Svg(svg.clone()),
                (None, None) => return None,
            };
            Some(ReportFigure {
                title: f.title.clone(),
                note: f.note.clone(),
                image,
                files,
            })
        })
        .collect();
    Report {
        title: format!("ecocomp — {}", scn.meta.name),
        description: scn.meta.description.clone(),
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
