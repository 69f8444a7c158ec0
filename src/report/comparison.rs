//! Serialisers of a [`Comparison`]: `comparison.csv` (region × formula paired statistics),
//! `metrics.json` (every metric per formula, point and distribution) and the terminal
//! table. Pure functions of the results; the CLI decides file names and writes them.

use crate::error::{Error, Result};
use crate::metrics::allocation::Metric;
use crate::metrics::{GroupTally, RegionDiff};
use crate::model::region::RegionMeta;
use crate::numfmt::num;
use crate::report::json::jnum;
use crate::run::compare::{Comparison, FormulaComparison};
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
    for f in &c.formulas {
        for i in 0..f.point_x.len() {
            w.write_record([
                f.name.as_str(),
                meta.id[i].as_str(),
                meta.name[i].as_str(),
                meta.group[i].as_str(),
                &num(f.point_x[i]),
                &num(f.mean_x[i]),
                &num(f.diff_mean[i]),
                &num(f.diff_se[i]),
                &num(f.p_gain[i]),
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
/// the winners and losers against the baseline overall and per group.
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
        "formulas": formulas,
    });
    let mut out = serde_json::to_vec_pretty(&doc)
        .map_err(|e| Error::Runtime(format!("JSON serialisation failed: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// Terminal columns a character takes: 2 for CJK and other wide characters, else 1.
fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = (0x1100..=0x115F).contains(&u)
        || (0x2E80..=0xA4CF).contains(&u)
        || (0xAC00..=0xD7A3).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFE30..=0xFE4F).contains(&u)
        || (0xFF00..=0xFF60).contains(&u)
        || (0xFFE0..=0xFFE6).contains(&u)
        || (0x20000..=0x3FFFD).contains(&u);
    if wide { 2 } else { 1 }
}

/// `s` left-aligned in `width` terminal columns (names such as 内蒙古 are two columns a
/// character, which `format!` padding does not know).
fn pad(s: &str, width: usize) -> String {
    let w: usize = s.chars().map(char_width).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// A metric as the table shows it: the Monte Carlo mean when there were draws, else the
/// point value; `—` when undefined.
fn cell(f: &FormulaComparison, m: Metric) -> String {
    let j = m as usize;
    let v = f.dist[j].map(|d| d.mean).or(f.point[j]);
    v.map_or("—".to_string(), |v| format!("{v:.3}"))
}

/// The terminal table: one line per formula with the headline metrics, then each
/// formula's largest winners and losers against the baseline.
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
    let _ = writeln!(
        s,
        "{:<20} {:>7} {:>19} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>6}",
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
        "capped"
    );
    for f in &c.formulas {
        let j = Metric::Gini as usize;
        let interval = f.dist[j].map_or(String::new(), |d| format!("[{:.3}, {:.3}]", d.p05, d.p95));
        let _ = writeln!(
            s,
            "{} {:>7} {:>19} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>6}",
            pad(&f.name, 20),
            f.point[j].map_or("—".to_string(), |g| format!("{g:.3}")),
            interval,
            cell(f, Metric::Theil),
            cell(f, Metric::Cv),
            cell(f, Metric::Top10Share),
            cell(f, Metric::Suits),
            cell(f, Metric::RankCoverage),
            cell(f, Metric::RankFiscalGap),
            cell(f, Metric::Deducted),
            cell(f, Metric::FloorPaid),
            f.dist[Metric::Capped as usize]
                .map(|d| format!("{:.1}", d.mean))
                .or(f.point[Metric::Capped as usize].map(|v| format!("{v:.0}")))
                .unwrap_or_default(),
        );
    }
    let Some(base) = c.formulas.get(c.baseline) else {
        return s;
    };
    for f in c.formulas.iter().filter(|f| f.name != base.name) {
        let o = &f.winners.overall;
        let _ = writeln!(
            s,
            "\n{} vs {}: {} winners (+{:.4} {currency}), {} losers ({:.4}), {} unchanged, net {:+.2e}",
            f.name, base.name, o.winners, o.gain_total, o.losers, o.loss_total, o.unchanged, o.net
        );
        let mut line = |label: &str, r: &RegionDiff| {
            let i = r.index;
            let _ = writeln!(
                s,
                "  {label:<6} {} {} {:>+12.4} ± {:<10.4} P(gain) {:.2}",
                pad(&meta.name[i], 16),
                pad(&meta.group[i], 12),
                r.diff,
                f.diff_se[i],
                f.p_gain[i]
            );
        };
        for r in &f.winners.largest_winners {
            line("gain", r);
        }
        for r in &f.winners.largest_losers {
            line("loss", r);
        }
    }
    s
}
