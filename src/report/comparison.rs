//! Serialisers of a [`Comparison`]: `comparison.csv` (region × formula paired statistics),
//! `metrics.json` (every metric per formula, point and distribution) and the terminal
//! table. Pure functions of the results; the CLI decides file names and writes them.

use crate::error::{Error, Result};
use crate::metrics::allocation::Metric;
use crate::metrics::{GroupTally, RegionDiff};
use crate::model::region::RegionMeta;
use crate::numfmt::table::{Align, Table};
use crate::numfmt::{display, display_signed, num, snap_zero};
use crate::report::json::jnum;
use crate::run::compare::{Comparison, FormulaComparison, UNCHANGED_REL_TOL};
use serde_json::{Value, json};
use std::fmt::Write as _;

fn csv_err(e: impl std::fmt::Display) -> Error {
    Error::Runtime(format!("CSV serialisation failed: {e}"))
}

/// `comparison.csv`: one row per formula × region with the point allocation, the Monte
/// Carlo mean, and the paired difference against the baseline (mean, standard error,
/// P(gain)).
pub fn comparison_csv(meta: &RegionMeta, c: &Comparison) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "formula",
        "id",
        "name",
        "group",
        "point",
        "mean",
        "diff_mean",
        "diff_se",
        "p_gain",
    ])
    .map_err(csv_err)?;
    for (k, f) in c.formulas.iter().enumerate() {
        // The baseline against itself has no paired difference: empty, not a zero that
        // reads like a result.
        let paired = |v: f64| {
            if k == c.baseline {
                String::new()
            } else {
                num(v)
            }
        };
        for i in 0..f.point_x.len() {
            w.write_record([
                f.name.as_str(),
                meta.id[i].as_str(),
                meta.name[i].as_str(),
                meta.group[i].as_str(),
                &num(f.point_x[i]),
                &num(f.mean_x[i]),
                &paired(f.diff_mean[i]),
                &paired(f.diff_se[i]),
                &paired(f.p_gain[i]),
            ])
            .map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(csv_err)
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, jnum)
}

fn tally(t: &GroupTally) -> Value {
    json!({
        "regions": t.regions,
        "winners": t.winners,
        "losers": t.losers,
        "unchanged": t.unchanged,
        "gain_total": jnum(t.gain_total),
        "loss_total": jnum(t.loss_total),
        "net": jnum(t.net),
    })
}

fn region_list(meta: &RegionMeta, f: &FormulaComparison, list: &[RegionDiff]) -> Value {
    Value::Array(
        list.iter()
            .map(|r| {
                json!({
                    "id": meta.id[r.index],
                    "name": meta.name[r.index],
                    "group": meta.group[r.index],
                    "diff_mean": jnum(r.diff),
                    "diff_se": jnum(f.diff_se[r.index]),
                    "p_gain": jnum(f.p_gain[r.index]),
                })
            })
            .collect(),
    )
}

/// `metrics.json`: per formula, every [`Metric`] as `{point, mean, p05, p95, draws}`, and
/// the winners and losers against the baseline overall and per group, with the rule that
/// made them (`rule`: in words, the interval's `z` and the `tolerance` in money).
pub fn metrics_json(scenario: &str, meta: &RegionMeta, c: &Comparison) -> Result<Vec<u8>> {
    let baseline = c
        .formulas
        .get(c.baseline)
        .map_or(String::new(), |f| f.name.clone());
    let formulas: Vec<Value> = c
        .formulas
        .iter()
        .map(|f| {
            let mut m = serde_json::Map::new();
            for (j, metric) in Metric::ALL.iter().enumerate() {
                let d = f.dist[j];
                m.insert(
                    metric.name().to_string(),
                    json!({
                        "point": opt(f.point[j]),
                        "mean": opt(d.map(|d| d.mean)),
                        "p05": opt(d.map(|d| d.p05)),
                        "p95": opt(d.map(|d| d.p95)),
                        "draws": d.map_or(0, |d| d.draws),
                    }),
                );
            }
            let groups: Vec<Value> = f
                .winners
                .groups
                .iter()
                .map(|(g, t)| {
                    let mut v = tally(t);
                    if let Value::Object(o) = &mut v {
                        let name = meta.groups.get(*g as usize).cloned().unwrap_or_default();
                        o.insert("group".to_string(), json!(name));
                    }
                    v
                })
                .collect();
            json!({
                "name": f.name,
                "metrics": m,
                "winners_losers": {
                    "overall": tally(&f.winners.overall),
                    "groups": groups,
                    "largest_winners": region_list(meta, f, &f.winners.largest_winners),
                    "largest_losers": region_list(meta, f, &f.winners.largest_losers),
                },
            })
        })
        .collect();
    let doc = json!({
        "scenario": scenario,
        "draws": c.draws,
        "seed": c.seed,
        "baseline": baseline,
        "interval": [0.05, 0.95],
        "rule": {
            "text": rule_text(c, ""),
            "z": jnum(c.rule.z),
            "tolerance": jnum(c.rule.tol),
        },
        "formulas": formulas,
    });
    let mut out = serde_json::to_vec_pretty(&doc)
        .map_err(|e| Error::Runtime(format!("JSON serialisation failed: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// A metric as the table shows it: the Monte Carlo mean when there were draws, else the
/// point value; `—` when undefined.
fn cell(f: &FormulaComparison, m: Metric) -> String {
    let j = m as usize;
    let v = f.dist[j].map(|d| d.mean).or(f.point[j]);
    v.map_or("—".to_string(), display)
}

/// The rule that made winners and losers, in words (`currency` may be empty).
pub fn rule_text(c: &Comparison, currency: &str) -> String {
    let unit = if currency.is_empty() {
        String::new()
    } else {
        format!(" {currency}")
    };
    let tol = format!(
        "{}{unit} ({} × the baseline's total)",
        display(c.rule.tol),
        display(UNCHANGED_REL_TOL)
    );
    if c.draws > 0 {
        format!(
            "a region wins (loses) when the 90% interval of its paired difference, mean ± {} × SE, lies above (below) 0 and the difference exceeds {tol} in size; every other region is unchanged",
            display(c.rule.z)
        )
    } else {
        format!(
            "a region wins (loses) when its point difference exceeds {tol} in size (there are no draws, so no interval); every other region is unchanged"
        )
    }
}

/// The headline metrics, one row per formula.
fn metrics_table(c: &Comparison) -> String {
    use Align::{Left, Right};
    let mut t = Table::new(&[
        Left, Right, Right, Right, Right, Right, Right, Right, Right, Right, Right, Right,
    ]);
    t.row([
        "formula",
        "Gini",
        "Gini 90% interval",
        "Theil",
        "CV",
        "top10%",
        "Suits",
        "ρ redline",
        "ρ gap",
        "deducted",
        "floors",
        "capped",
    ]);
    for f in &c.formulas {
        let j = Metric::Gini as usize;
        let interval = f.dist[j].map_or(String::new(), |d| {
            format!("[{}, {}]", display(d.p05), display(d.p95))
        });
        t.row([
            f.name.clone(),
            f.point[j].map_or("—".to_string(), display),
            interval,
            cell(f, Metric::Theil),
            cell(f, Metric::Cv),
            cell(f, Metric::Top10Share),
            cell(f, Metric::Suits),
            cell(f, Metric::RankCoverage),
            cell(f, Metric::RankFiscalGap),
            cell(f, Metric::Deducted),
            cell(f, Metric::FloorPaid),
            cell(f, Metric::Capped),
        ]);
    }
    t.render()
}

/// One formula against the baseline: the counts and totals, then the largest winners and
/// losers.
fn moves(
    meta: &RegionMeta,
    c: &Comparison,
    f: &FormulaComparison,
    base: &str,
    unit: &str,
) -> String {
    use Align::{Left, Right};
    let o = &f.winners.overall;
    let tol = c.rule.tol;
    let mut s = format!(
        "\n{} vs {base}: {} winners ({}{unit}), {} losers ({}{unit}), {} unchanged, net {}{unit}\n",
        f.name,
        o.winners,
        display_signed(snap_zero(o.gain_total, tol)),
        o.losers,
        display_signed(snap_zero(o.loss_total, tol)),
        o.unchanged,
        display_signed(snap_zero(o.net, tol)),
    );
    let mut t = Table::new(&[Left, Left, Left, Right, Left, Left]).indent("  ");
    let labelled = [
        ("gain", &f.winners.largest_winners),
        ("loss", &f.winners.largest_losers),
    ];
    for (label, list) in labelled {
        for r in list.iter() {
            let i = r.index;
            t.row([
                label.to_string(),
                meta.name[i].clone(),
                meta.group[i].clone(),
                display_signed(r.diff),
                format!("± {}", display(f.diff_se[i])),
                format!("P(gain) {}", display(f.p_gain[i])),
            ]);
        }
    }
    s.push_str(&t.render());
    s
}

/// The terminal table: one line per formula with the headline metrics, the rule that
/// makes winners and losers, then each formula's largest winners and losers against the
/// baseline.
pub fn table(meta: &RegionMeta, c: &Comparison, currency: &str) -> String {
    let mut s = String::new();
    let mc = c.draws > 0;
    let _ = writeln!(
        s,
        "formula comparison (Monte Carlo: {}; columns after Gini are {})",
        if mc {
            format!("{} draws, seed {}", c.draws, c.seed)
        } else {
            "none, point estimate only".to_string()
        },
        if mc { "draw means" } else { "point values" }
    );
    s.push_str(&metrics_table(c));
    let Some(base) = c.formulas.get(c.baseline) else {
        return s;
    };
    if c.formulas.len() > 1 {
        let _ = writeln!(s, "\nwinners and losers: {}.", rule_text(c, currency));
    }
    let unit = if currency.is_empty() {
        String::new()
    } else {
        format!(" {currency}")
    };
    for f in c.formulas.iter().filter(|f| f.name != base.name) {
        s.push_str(&moves(meta, c, f, &base.name, &unit));
    }
    s
}
