//! The figures of a basin agreement: its sections' assessments per period against their
//! targets, and each party's money per period split into horizontal and central funds,
//! labelled with how often it receives and pays over the draws.

use super::figures::{Canvas, box_stats, share};
use crate::horizontal::Settlement;
use crate::model::{Agreement, Assessment, Scenario};
use crate::montecarlo::settlements::AgreementAcc;
use crate::plots::{self, Chart};

/// A readable title for an agreement's figures: the scenario's description up to its first
/// comma or colon ("Xin'an River horizontal compensation"), and where the scenario has
/// several agreements, the agreement's own ("Round 1"), rather than internal ids.
pub fn agreement_title(scn: &Scenario, a: &Agreement) -> String {
    let clause = |s: &str| {
        s.split([':', ',', '：', '，'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let scenario = clause(&scn.meta.description);
    let own = clause(&a.description);
    match (
        scenario.is_empty(),
        own.is_empty() || scn.agreements.len() == 1,
    ) {
        (true, true) => a.name.clone(),
        (true, false) => own,
        (false, true) => scenario,
        (false, false) => format!("{scenario} — {own}"),
    }
}

/// An agreement's section assessments per period: classes on a categorical axis, or the
/// compensation index P (or the compliant share) as boxes over draws with the threshold.
pub(super) fn section_assessments(
    a: &Agreement,
    acc: &AgreementAcc,
    title: &str,
    canvas: &mut Canvas,
) {
    let stem = super::figures::slug(&a.name);
    let nt = a.n_periods();
    let classes: Vec<usize> = (0..a.sections.len())
        .filter(|&j| matches!(a.sections[j].assessment, Assessment::Class { .. }))
        .collect();
    if classes.len() == a.sections.len() {
        let series = classes
            .iter()
            .map(|&j| {
                let Assessment::Class { target } = a.sections[j].assessment else {
                    unreachable!("filtered to class sections")
                };
                plots::ClassSeries {
                    name: a.sections[j].name.clone(),
                    shares: class_shares(&acc.kept_value[j].values, nt),
                    target,
                    p_met: (0..nt).map(|t| acc.met[j * nt + t].p()).collect(),
                }
            })
            .collect();
        canvas.draw(
            &format!("{stem}_sections"),
            "Each dot is a water-quality class a section reaches in a period, sized by the share of Monte Carlo draws in it (the share is written beside it); class I, the best, is at the top. The black line is the target: a period is met when the class is at the line or above it. \"met\" at the top gives the probability that the period meets the target.",
            Chart::Classes(plots::ClassChart {
                title: format!("{title}: section classes per period"),
                periods: a.periods.clone(),
                series,
            }),
        );
        return;
    }
    let single = a.sections.len() == 1;
    let categories = (0..nt)
        .map(|t| {
            if single {
                format!("{} · met {}", a.periods[t], share(acc.met[t].p()))
            } else {
                a.periods[t].clone()
            }
        })
        .collect();
    let series = a
        .sections
        .iter()
        .enumerate()
        .map(|(j, s)| plots::IntervalSeries {
            name: s.name.clone(),
            items: (0..nt)
                .map(|t| box_stats(&acc.value[j * nt + t], None))
                .collect(),
        })
        .collect();
    let mut reference: Vec<plots::RefLine> = Vec::new();
    for s in &a.sections {
        if let Assessment::PIndex { threshold, .. } = s.assessment
            && !reference
                .iter()
                .any(|r| r.value.total_cmp(&threshold).is_eq())
        {
            reference.push(plots::RefLine {
                value: threshold,
                label: format!("threshold P = {}", crate::numfmt::display(threshold)),
            });
        }
    }
    let what = if a
        .sections
        .iter()
        .all(|s| matches!(s.assessment, Assessment::PIndex { .. }))
    {
        "compensation index P"
    } else {
        "assessment (P, or the compliant share)"
    };
    canvas.draw(
        &format!("{stem}_sections"),
        "Each section's assessment per period over the Monte Carlo draws: boxes 25th–75th percentile, whiskers 5th–95th, line median. The compensation index P is met at or below the threshold line; the label of each period gives the probability that it is met, so a falling P and the yearly risk of a miss both show.",
        Chart::Interval(plots::IntervalChart {
            title: format!("{title}: sections per period"),
            value_label: what.into(),
            categories,
            series,
            orientation: plots::Orientation::Vertical,
            reference,
        }),
    );
}

/// Per period, the share of kept draws in each class (the kept values run period by
/// period within each draw).
fn class_shares(kept: &[f64], nt: usize) -> Vec<[f64; 6]> {
    let mut counts = vec![[0usize; 6]; nt];
    for (i, v) in kept.iter().enumerate() {
        let c = (v.round() as usize).clamp(1, 6);
        counts[i % nt.max(1)][c - 1] += 1;
    }
    counts
        .into_iter()
        .map(|c| {
            let n = c.iter().sum::<usize>().max(1) as f64;
            c.map(|k| k as f64 / n)
        })
        .collect()
}

/// Each party's money per period at the point estimate, split into the horizontal
/// transfer and the central funds, with the totals written on the bars.
pub(super) fn party_net(
    a: &Agreement,
    s: &Settlement,
    acc: &AgreementAcc,
    title: &str,
    unit: &str,
    canvas: &mut Canvas,
) {
    let stem = super::figures::slug(&a.name);
    let nt = a.n_periods();
    let mut categories = Vec::new();
    let (mut horizontal, mut central) = (Vec::new(), Vec::new());
    for (p, party) in a.parties.iter().enumerate() {
        for t in 0..nt {
            // The direction of payment over the draws rides on the label: a figure of its
            // own spent a page of ink on one to three numbers.
            let (gets, pays) = (acc.receives[p * nt + t].p(), acc.pays[p * nt + t].p());
            let odds = match (gets > 0.0, pays > 0.0) {
                (true, true) => format!(" · receives {}, pays {}", share(gets), share(pays)),
                (true, false) => format!(" · receives {}", share(gets)),
                (false, true) => format!(" · pays {}", share(pays)),
                (false, false) => String::new(),
            };
            categories.push(format!("{party} · {}{odds}", a.periods[t]));
            horizontal.push(s.net[p * nt + t]);
            central.push(s.central[p * nt + t]);
        }
    }
    let mut parts = vec![plots::BarPart {
        name: "horizontal transfer (received − paid)".into(),
        values: horizontal,
    }];
    if central.iter().any(|c| *c != 0.0) {
        parts.push(plots::BarPart {
            name: "central funds".into(),
            values: central,
        });
    }
    canvas.draw(
        &format!("{stem}_net"),
        "Each party's money in each period at the point estimate: the horizontal transfer from the other parties (negative when it pays) and the central funds it receives, stacked, with the total at the end of the bar. Right of the zero line the party gains; left of it, it pays. The label gives the share of Monte Carlo draws in which the party receives money in that period and in which it pays. The tables give the distribution of the round's net.",
        Chart::SplitBars(plots::SplitBarChart {
            title: format!("{title}: money per party and period"),
            value_label: format!("money ({unit})"),
            categories,
            parts,
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::class_shares;

    #[test]
    fn class_shares_count_per_period() {
        // Two draws of three periods: period 0 is class II twice, period 2 class I and VI.
        let kept = [2.0, 3.0, 1.0, 2.0, 3.0, 6.0];
        let s = class_shares(&kept, 3);
        assert_eq!(s[0][1], 1.0);
        assert_eq!(s[1][2], 1.0);
        assert_eq!(s[2][0], 0.5);
        assert_eq!(s[2][5], 0.5);
    }
}
