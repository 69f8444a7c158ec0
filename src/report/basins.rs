//! Pure serialisers of settlement results: CSV rows and a JSON summary (docs/model.md §4).
//!
//! Each output has a row model (a `Vec` of row structs, built by `*_rows`) kept apart from
//! its formatting (`*_csv`), so the Monte Carlo columns can be added to the rows later
//! without touching the text layout. Nothing here touches the file system.

use crate::horizontal::Settlement;
use crate::model::Assessment;
use crate::model::agreement::Agreement;
use crate::model::gb3838::class_name;
use crate::model::{Forfeit, Rule};

/// The period label of the per-round total rows.
pub const ROUND: &str = "round";

/// One row of `basins.csv`: a party's flows in one period (or over the round).
#[derive(Debug, Clone, PartialEq)]
pub struct BasinRow {
    pub agreement: String,
    pub party: String,
    pub period: String,
    /// Horizontal net (received − paid); sums to zero over parties.
    pub horizontal: f64,
    /// Central funds received.
    pub central: f64,
    /// `horizontal + central`: the party's net position.
    pub point: f64,
    /// Gross horizontal receipts and payments (pool payouts and contributions gross).
    pub received: f64,
    pub paid: f64,
}

/// One row of `sections.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionRow {
    pub agreement: String,
    pub section: String,
    pub upstream: String,
    pub downstream: String,
    pub period: String,
    pub kind: &'static str,
    /// P, class number, or compliant fraction.
    pub value: f64,
    /// Observed class name of the period means ("" when not classifiable, and for a
    /// P-index section, which is not judged by class).
    pub class: &'static str,
    /// Target: the threshold for p_index, the class name otherwise.
    pub target: String,
    pub met: bool,
}

/// One row of `breakdown.csv`: one payment (or a net position) with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakdownRow {
    pub agreement: String,
    pub period: String,
    pub rule: String,
    pub kind: &'static str,
    pub payer: String,
    pub payee: String,
    pub amount: f64,
    pub explanation: String,
}

/// A number for a sentence: up to 6 significant digits, no trailing zeros.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let digits = (5 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", fmt_num(x))
    } else {
        fmt_num(x)
    }
}

pub fn basin_rows(results: &[(&Agreement, &Settlement)]) -> Vec<BasinRow> {
    let mut rows = Vec::new();
    for (a, s) in results {
        for (p, party) in a.parties.iter().enumerate() {
            let mut total = BasinRow {
                agreement: a.name.clone(),
                party: party.clone(),
                period: ROUND.to_string(),
                horizontal: 0.0,
                central: 0.0,
                point: 0.0,
                received: 0.0,
                paid: 0.0,
            };
            for (t, period) in a.periods.iter().enumerate() {
                let i = s.pt(p, t);
                let row = BasinRow {
                    agreement: a.name.clone(),
                    party: party.clone(),
                    period: period.clone(),
                    horizontal: s.net[i],
                    central: s.central[i],
                    point: s.net[i] + s.central[i],
                    received: s.received[i],
                    paid: s.paid[i],
                };
                total.horizontal += row.horizontal;
                total.central += row.central;
                total.point += row.point;
                total.received += row.received;
                total.paid += row.paid;
                rows.push(row);
            }
            rows.push(total);
        }
    }
    rows
}

fn target_text(a: &Assessment, t: usize) -> String {
    match a {
        Assessment::PIndex { threshold, .. } => format!("P ≤ {}", fmt_num(*threshold)),
        Assessment::Class { target } => class_name(*target).to_string(),
        Assessment::ComplianceRate {
            target, required, ..
        } => {
            format!(
                "{} in ≥ {} of sub-periods",
                class_name(*target),
                fmt_num(required.get(t).copied().unwrap_or(1.0))
            )
        }
    }
}

pub fn section_rows(results: &[(&Agreement, &Settlement)]) -> Vec<SectionRow> {
    let mut rows = Vec::new();
    for (a, s) in results {
        for (k, sec) in a.sections.iter().enumerate() {
            for (t, period) in a.periods.iter().enumerate() {
                let i = s.st(k, t);
                rows.push(SectionRow {
                    agreement: a.name.clone(),
                    section: sec.name.clone(),
                    upstream: a.parties[sec.upstream].clone(),
                    downstream: a.parties[sec.downstream].clone(),
                    period: period.clone(),
                    kind: sec.assessment.kind(),
                    value: s.value[i],
                    // A P-index section is judged on P alone: the class of its means
                    // (which may use limits the agreement never meant) is left out.
                    class: if s.class[i] == 0 || matches!(sec.assessment, Assessment::PIndex { .. })
                    {
                        ""
                    } else {
                        class_name(s.class[i])
                    },
                    target: target_text(&sec.assessment, t),
                    met: s.met[i],
                });
            }
        }
    }
    rows
}

/// Why section `k` is met or not in period `t`, e.g. "P = 0.87 ≤ 1".
pub fn describe_section(a: &Agreement, s: &Settlement, k: usize, t: usize) -> String {
    let sec = &a.sections[k];
    let i = s.st(k, t);
    let (value, class, met) = (s.value[i], s.class[i], s.met[i]);
    match &sec.assessment {
        Assessment::PIndex { threshold, .. } => {
            let op = if met { "≤" } else { ">" };
            format!(
                "{}: P = {} {op} {}",
                sec.name,
                fmt_num(value),
                fmt_num(*threshold)
            )
        }
        Assessment::Class { target } => {
            let verb = if met { "meets" } else { "misses" };
            format!(
                "{}: class {} {verb} target {}",
                sec.name,
                class_name(class),
                class_name(*target)
            )
        }
        Assessment::ComplianceRate {
            target,
            required,
            annual_too,
        } => {
            let req = required.get(t).copied().unwrap_or(1.0);
            let op = if value + 1e-12 >= req { "≥" } else { "<" };
            let annual = if *annual_too {
                format!(", annual class {}", class_name(class))
            } else {
                String::new()
            };
            format!(
                "{}: class {} or better in {} of sub-periods {op} {}{annual} ({})",
                sec.name,
                class_name(*target),
                fmt_num(value),
                fmt_num(req),
                if met { "met" } else { "not met" }
            )
        }
    }
}

/// The sentence for a signed section payment (positive = downstream pays upstream).
fn section_payment(a: &Agreement, k: usize, amount: f64) -> (String, String, f64, String) {
    let sec = &a.sections[k];
    let (up, down) = (&a.parties[sec.upstream], &a.parties[sec.downstream]);
    let (payer, payee) = if amount >= 0.0 {
        (down, up)
    } else {
        (up, down)
    };
    if amount == 0.0 {
        return (String::new(), String::new(), 0.0, "no payment".to_string());
    }
    let text = format!("{payer} pays {payee} {}", fmt_num(amount.abs()));
    (payer.clone(), payee.clone(), amount.abs(), text)
}

pub fn breakdown_rows(results: &[(&Agreement, &Settlement)]) -> Vec<BreakdownRow> {
    let mut rows = Vec::new();
    for &(a, s) in results {
        for (t, period) in a.periods.iter().enumerate() {
            for (r, def) in a.rules.iter().enumerate() {
                let mut push = |payer: String, payee: String, amount: f64, explanation: String| {
                    rows.push(BreakdownRow {
                        agreement: a.name.clone(),
                        period: period.clone(),
                        rule: def.name.clone(),
                        kind: def.rule.kind(),
                        payer,
                        payee,
                        amount,
                        explanation,
                    });
                };
                let at = At { a, s, r, t };
                match &def.rule {
                    Rule::Bet { section, band, .. } => bet_rows(at, *section, *band, &mut push),
                    Rule::PerClass { section, index, .. } => {
                        per_class_rows(at, *section, index.is_some(), &mut push);
                    }
                    Rule::Pool {
                        contributions,
                        shares,
                        forfeits,
                    } => pool_rows(at, contributions, shares, forfeits, &mut push),
                    Rule::Central { to, when_met, .. } => {
                        central_rows(at, *to, when_met, &mut push);
                    }
                }
            }
        }
        // Net positions per period and over the round.
        for (p, party) in a.parties.iter().enumerate() {
            for (t, period) in a.periods.iter().enumerate() {
                let i = s.pt(p, t);
                rows.push(net_row(a, party, period, s.net[i], s.central[i]));
            }
            rows.push(net_row(a, party, ROUND, s.round_net(p), s.round_central(p)));
        }
    }
    rows
}

/// One rule in one period of a settled agreement: what the rule's breakdown rows read.
#[derive(Clone, Copy)]
struct At<'a> {
    a: &'a Agreement,
    s: &'a Settlement,
    /// The rule.
    r: usize,
    /// The period.
    t: usize,
}

/// A breakdown row as a rule's rows are pushed: payer, payee, amount and explanation.
trait Push: FnMut(String, String, f64, String) {}
impl<F: FnMut(String, String, f64, String)> Push for F {}

/// The row of a bet on `section`, graded over `band` when it has one.
fn bet_rows(at: At, section: usize, band: Option<f64>, push: &mut impl Push) {
    let At { a, s, r, t } = at;
    let why = describe_section(a, s, section, t);
    let amt = s.rule_main[s.rt(r, t)];
    let (payer, payee, m, text) = section_payment(a, section, amt);
    let how = match band {
        Some(b) => format!(", graded by clamp((threshold − P) / {}, −1, 1)", fmt_num(b)),
        None => String::new(),
    };
    push(payer, payee, m, format!("{why}{how}: {text}"));
}

/// The row of a per-class payment on `section`, and the row of its pollutant-index term
/// when the rule has one (`index`).
fn per_class_rows(at: At, section: usize, index: bool, push: &mut impl Push) {
    let At { a, s, r, t } = at;
    let rt = s.rt(r, t);
    let sec = &a.sections[section];
    let st = s.st(section, t);
    let target = sec.assessment.target().unwrap_or(3);
    let diff = i32::from(target) - i32::from(s.class[st]);
    let amt = s.rule_main[rt];
    let (payer, payee, m, text) = section_payment(a, section, amt);
    push(
        payer,
        payee,
        m,
        format!(
            "{}: class {} vs target {} (diff {diff:+}) → {}: {text}",
            sec.name,
            class_name(s.class[st]),
            class_name(target),
            signed(amt)
        ),
    );
    if index {
        let amt = s.rule_index[rt];
        let (prev, now) = (s.index_prev[rt], s.index_now[rt]);
        let (payer, payee, m, text) = section_payment(a, section, amt);
        push(
            payer,
            payee,
            m,
            format!(
                "{}: pollutant index {} → {} ({} points) → {}: {text}",
                sec.name,
                fmt_num(prev),
                fmt_num(now),
                signed(now - prev),
                signed(amt)
            ),
        );
    }
}

/// The rows of a pool: each contribution, each forfeit and each payout.
fn pool_rows(
    at: At,
    contributions: &[Option<Vec<usize>>],
    shares: &[f64],
    forfeits: &[Forfeit],
    push: &mut impl Push,
) {
    let At { a, s, r, t } = at;
    let pool = s.rule_main[s.rt(r, t)];
    for (p, c) in contributions.iter().enumerate() {
        if c.is_some() {
            let paid = s.gross_out[s.rtp(r, t, p)];
            push(
                a.parties[p].clone(),
                "pool".to_string(),
                paid,
                format!(
                    "{} pays {} into the pool (pool {})",
                    a.parties[p],
                    fmt_num(paid),
                    fmt_num(pool)
                ),
            );
        }
    }
    for f in forfeits {
        let lost = s.forfeited[s.rtp(r, t, f.party)];
        let why: Vec<String> = f
            .sections
            .iter()
            .map(|&k| describe_section(a, s, k, t))
            .collect();
        let what = if lost > 0.0 {
            format!(
                "{} forfeits {} of its share, redistributed by the split",
                a.parties[f.party],
                fmt_num(lost)
            )
        } else {
            format!("{} keeps its share", a.parties[f.party])
        };
        push(
            a.parties[f.party].clone(),
            "pool".to_string(),
            lost,
            format!("{}: {what}", why.join("; ")),
        );
    }
    for (p, &share) in shares.iter().enumerate() {
        let got = s.gross_in[s.rtp(r, t, p)];
        let net = s.flow[s.rtp(r, t, p)];
        if got > 0.0 || share > 0.0 || contributions[p].is_some() {
            push(
                "pool".to_string(),
                a.parties[p].clone(),
                got,
                format!(
                    "{} receives {} from the pool (share {}, after forfeits); \
                     net from the pool {}",
                    a.parties[p],
                    fmt_num(got),
                    fmt_num(share),
                    signed(net)
                ),
            );
        }
    }
}

/// The row of a central payment to party `to`, due when every `when_met` section is met.
fn central_rows(at: At, to: usize, when_met: &[usize], push: &mut impl Push) {
    let At { a, s, r, t } = at;
    let amt = s.rule_main[s.rt(r, t)];
    let why = if when_met.is_empty() {
        "always".to_string()
    } else {
        when_met
            .iter()
            .map(|&k| describe_section(a, s, k, t))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let text = if amt > 0.0 || when_met.iter().all(|&k| s.met[s.st(k, t)]) {
        format!("centre pays {} {} ({why})", a.parties[to], fmt_num(amt))
    } else {
        format!("not paid to {}: {why}", a.parties[to])
    };
    push("centre".to_string(), a.parties[to].clone(), amt, text);
}

fn net_row(a: &Agreement, party: &str, period: &str, h: f64, c: f64) -> BreakdownRow {
    BreakdownRow {
        agreement: a.name.clone(),
        period: period.to_string(),
        rule: "net".to_string(),
        kind: "net",
        payer: String::new(),
        payee: party.to_string(),
        amount: h + c,
        explanation: format!(
            "{party} net {}: horizontal {}, central {}, total {}",
            if period == ROUND {
                "over the round".to_string()
            } else {
                format!("in {period}")
            },
            signed(h),
            signed(c),
            signed(h + c)
        ),
    }
}

/// Quote a CSV field when needed (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = r.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

pub fn breakdown_csv(results: &[(&Agreement, &Settlement)]) -> Vec<u8> {
    csv(
        &[
            "agreement",
            "period",
            "rule",
            "kind",
            "payer",
            "payee",
            "amount",
            "explanation",
        ],
        breakdown_rows(results).into_iter().map(|r| {
            vec![
                r.agreement,
                r.period,
                r.rule,
                r.kind.to_string(),
                r.payer,
                r.payee,
                r.amount.to_string(),
                r.explanation,
            ]
        }),
    )
}

/// The `basins` part of `summary.json`: net per party over each round.
pub fn summary_value(results: &[(&Agreement, &Settlement)]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = results
        .iter()
        .map(|(a, s)| {
            let parties: Vec<serde_json::Value> = a
                .parties
                .iter()
                .enumerate()
                .map(|(p, name)| {
                    serde_json::json!({
                        "party": name,
                        "horizontal": s.round_net(p),
                        "central": s.round_central(p),
                        "net": s.round_net(p) + s.round_central(p),
                        "receipts": s.round_receipts(p),
                    })
                })
                .collect();
            serde_json::json!({
                "agreement": a.name,
                "periods": a.periods,
                "parties": parties,
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::horizontal::settle::settle_point;
    use crate::scenario::agreement_validate::tests::{TWO, load};

    fn results() -> (Agreement, Settlement) {
        let (mut a, p) = load(TWO);
        assert!(p.is_empty());
        let a = a.remove(0);
        let s = settle_point(&a);
        (a, s)
    }

    #[test]
    fn numbers_in_sentences_are_short() {
        assert_eq!(fmt_num(0.87), "0.87");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(6000.0), "6000");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_num(-2.5), "-2.5");
        assert_eq!(fmt_num(1.0439999999999998), "1.044");
    }

    #[test]
    fn basin_rows_have_a_row_per_party_period_and_round() {
        let (a, s) = results();
        let rows = basin_rows(&[(&a, &s)]);
        assert_eq!(rows.len(), 2 * 3);
        let r = |k: usize| {
            (
                rows[k].party.as_str(),
                rows[k].period.as_str(),
                rows[k].point,
                rows[k].received,
                rows[k].paid,
            )
        };
        assert_eq!(r(0), ("安徽", "2012", 1.0, 1.0, 0.0));
        assert_eq!(r(1), ("安徽", "2013", -1.0, 0.0, 1.0));
        assert_eq!(r(2), ("安徽", "round", 0.0, 1.0, 1.0));
    }

    #[test]
    fn section_rows_show_value_class_target_and_met() {
        let (a, s) = results();
        let rows = section_rows(&[(&a, &s)]);
        // TN 1.0 would be class III, but a P-index section is judged on P alone.
        let r = &rows[0];
        assert_eq!(
            (
                r.section.as_str(),
                r.upstream.as_str(),
                r.downstream.as_str(),
                r.period.as_str(),
                r.kind
            ),
            ("街口", "安徽", "浙江", "2012", "p_index")
        );
        assert!((r.value - 0.87).abs() < 1e-12);
        assert_eq!((r.class, r.target.as_str(), r.met), ("", "P ≤ 1", true));
        assert!(!rows[1].met);
    }

    #[test]
    fn breakdown_explains_each_payment_and_the_round_net() {
        let (a, s) = results();
        let rows = breakdown_rows(&[(&a, &s)]);
        assert_eq!(rows[0].explanation, "街口: P = 0.87 ≤ 1: 浙江 pays 安徽 1");
        assert_eq!(
            (rows[0].payer.as_str(), rows[0].payee.as_str()),
            ("浙江", "安徽")
        );
        assert_eq!(rows[1].explanation, "街口: P = 1.044 > 1: 安徽 pays 浙江 1");
        let net = rows
            .iter()
            .find(|r| r.kind == "net" && r.period == ROUND && r.payee == "安徽")
            .unwrap();
        assert_eq!(
            net.explanation,
            "安徽 net over the round: horizontal 0, central 0, total 0"
        );
        let csv = String::from_utf8(breakdown_csv(&[(&a, &s)])).unwrap();
        assert!(csv.starts_with("agreement,period,rule,kind,payer,payee,amount,explanation\n"));
    }

    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
    }

    #[test]
    fn summary_lists_round_nets() {
        let (a, s) = results();
        let v = summary_value(&[(&a, &s)]);
        assert_eq!(v[0]["agreement"], "a");
        assert_eq!(v[0]["parties"][0]["party"], "安徽");
        assert_eq!(v[0]["parties"][0]["receipts"], 1.0);
    }
}
