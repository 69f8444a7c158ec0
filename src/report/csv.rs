//! CSV serialisers: `regions.csv` and `breakdown.csv` (docs/model.md §4).

use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::model::{Budget, BudgetMode, Formula};
use crate::montecarlo::McResults;
use crate::montecarlo::allocations::Acc;
use crate::numfmt::num;
use crate::run::point::PointResults;
use crate::vertical::{Allocation, Grade};

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>> {
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

fn row(w: &mut csv::Writer<Vec<u8>>, cells: &[String]) -> Result<()> {
    w.write_record(cells)
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

/// Quantile levels reported for every distribution.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Column names of a distribution summary.
pub const SUMMARY_COLUMNS: [&str; 10] = [
    "mean", "sd", "se", "min", "max", "p05", "p25", "p50", "p75", "p95",
];

/// A distribution summary as CSV cells (empty cells when there were no draws).
pub fn summary_cells(acc: Option<&Acc>) -> Vec<String> {
    match acc {
        Some(a) if a.m.count() > 0 => {
            let mut v = vec![
                num(a.m.mean()),
                num(a.m.sd()),
                num(a.m.se()),
                num(a.m.min()),
                num(a.m.max()),
            ];
            v.extend(a.q.quantiles(&QUANTILES).into_iter().map(num));
            v
        }
        _ => vec![String::new(); SUMMARY_COLUMNS.len()],
    }
}

/// The columns `regions.csv` adds in a scenario with provincial methods (two tiers).
pub const ENTITLEMENT_COLUMNS: [&str; 5] = [
    "entitlement",
    "entitlement_mean",
    "entitlement_p05",
    "entitlement_p50",
    "entitlement_p95",
];

/// `groups.csv` (two tiers): per formula × group, the central total, what the province
/// retained, what its counties received and what its method left unallocated, with the
/// method's name (empty: the entitlements were passed through).
pub fn groups_csv(scn: &Scenario, res: &PointResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "formula",
        "group",
        "method",
        "total",
        "retained",
        "received",
        "unallocated",
    ];
    row(&mut w, &header.map(String::from))?;
    let Some(v) = &scn.vertical else {
        return finish(w);
    };
    for fp in res.formulas.iter().filter(|fp| !fp.groups.is_empty()) {
        for (g, flow) in fp.groups.iter().enumerate() {
            let method = flow
                .method
                .and_then(|k| v.formulas.get(k))
                .map_or(String::new(), |f| f.name.clone());
            let received: f64 = (0..v.regions.data.n)
                .filter(|&i| v.regions.meta.group_idx[i] as usize == g)
                .map(|i| fp.alloc.x[i])
                .sum();
            row(
                &mut w,
                &[
                    fp.name.clone(),
                    v.regions.meta.groups[g].clone(),
                    method,
                    num(flow.total),
                    num(flow.retained),
                    num(received),
                    num(flow.unallocated),
                ],
            )?;
        }
    }
    finish(w)
}

/// `regions.csv`: one row per formula × region: the point estimate, and with Monte Carlo
/// draws the distribution summary and the probabilities of a deduction, a binding floor and
/// a binding cap.
/// The paired-difference columns (`diff_mean`, `diff_se`, `p_gain`) compare each formula
/// with formula `baseline`; the baseline's own are left empty, a zero there would read like
/// a result.
pub fn regions_csv(
    scn: &Scenario,
    res: &PointResults,
    mc: Option<&McResults>,
    baseline: usize,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["formula", "id", "name", "group", "point"]
        .map(String::from)
        .to_vec();
    header.extend(SUMMARY_COLUMNS.map(String::from));
    header.extend(
        [
            "p_deduction",
            "p_floor",
            "p_cap",
            "diff_mean",
            "diff_se",
            "p_gain",
        ]
        .map(String::from),
    );
    // Two tiers: `point` is what a region finally receives, and these columns hold its
    // central entitlement (equal to `point` under a formula without provincial methods).
    let tiers = res.formulas.iter().any(|fp| fp.entitlement.is_some());
    if tiers {
        header.extend(ENTITLEMENT_COLUMNS.map(String::from));
    }
    row(&mut w, &header)?;
    let Some(v) = &scn.vertical else {
        return finish(w);
    };
    let m = &v.regions.meta;
    let n = v.regions.data.n;
    let acc = mc
        .and_then(|r| r.vertical.as_ref())
        .filter(|_| mc.is_some_and(|r| r.draws > 0));
    for (f, fp) in res.formulas.iter().enumerate() {
        for i in 0..n {
            let k = f * n + i;
            let mut cells = vec![
                fp.name.clone(),
                m.id[i].clone(),
                m.name[i].clone(),
                m.group[i].clone(),
                num(fp.alloc.x[i]),
            ];
            cells.extend(summary_cells(acc.map(|a| &a.x[k])));
            match acc {
                Some(a) => {
                    cells.extend([
                        num(a.deduction[k].p()),
                        num(a.floor[k].p()),
                        num(a.cap[k].p()),
                    ]);
                    if f == baseline {
                        cells.extend(std::iter::repeat_n(String::new(), 3));
                    } else {
                        cells.extend([
                            num(a.diff[k].mean()),
                            num(a.diff[k].se()),
                            num(a.gain[k].p()),
                        ]);
                    }
                }
                None => cells.extend(std::iter::repeat_n(String::new(), 6)),
            }
            if tiers {
                let point = fp.entitlement.as_ref().map_or(fp.alloc.x[i], |e| e[i]);
                let dist = acc.map(|a| {
                    if fp.entitlement.is_some() {
                        a.entitlement.get(k)
                    } else {
                        a.x.get(k)
                    }
                });
                cells.push(num(point));
                match dist.flatten().filter(|a| a.m.count() > 0) {
                    Some(a) => {
                        cells.push(num(a.m.mean()));
                        cells.extend(a.q.quantiles(&[0.05, 0.5, 0.95]).into_iter().map(num));
                    }
                    None => cells.extend(std::iter::repeat_n(String::new(), 4)),
                }
            }
            row(&mut w, &cells)?;
        }
    }
    finish(w)
}

/// `basins.csv`: one row per agreement × party × period plus a `round` row per party:
/// the point value and, with draws, its distribution and the probability of receiving.
pub fn basins_csv(scn: &Scenario, res: &PointResults, mc: &McResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "agreement",
        "party",
        "period",
        "point",
        "horizontal",
        "central",
        "received",
        "paid",
    ]
    .map(String::from)
    .to_vec();
    header.extend(SUMMARY_COLUMNS.map(String::from));
    header.extend(["p_receives", "p_pays"].map(String::from));
    row(&mut w, &header)?;
    let basins = res.basins(scn);
    let rows = crate::report::basins::basin_rows(&basins);
    let mut it = rows.into_iter();
    for (k, a) in scn.agreements.iter().enumerate() {
        let acc = mc.agreements.get(k).filter(|_| mc.draws > 0);
        let nt = a.n_periods();
        for p in 0..a.n_parties() {
            for t in 0..=nt {
                let Some(r) = it.next() else { break };
                let mut cells = vec![
                    r.agreement,
                    r.party,
                    r.period,
                    num(r.point),
                    num(r.horizontal),
                    num(r.central),
                    num(r.received),
                    num(r.paid),
                ];
                match acc {
                    Some(acc) if t < nt => {
                        let j = p * nt + t;
                        cells.extend(summary_cells(Some(&acc.net[j])));
                        cells.extend([num(acc.receives[j].p()), num(acc.pays[j].p())]);
                    }
                    Some(acc) => {
                        cells.extend(summary_cells(Some(&acc.round[p])));
                        cells.extend([num(acc.round_receives[p].p()), num(acc.round_pays[p].p())]);
                    }
                    None => cells.extend(std::iter::repeat_n(
                        String::new(),
                        SUMMARY_COLUMNS.len() + 2,
                    )),
                }
                row(&mut w, &cells)?;
            }
        }
    }
    finish(w)
}

/// `sections.csv`: one row per agreement × section × period: the point assessment, its
/// distribution over draws and the probability that the section is met.
pub fn sections_csv(scn: &Scenario, res: &PointResults, mc: &McResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "agreement",
        "section",
        "upstream",
        "downstream",
        "period",
        "kind",
        "value",
        "class",
        "target",
        "met",
    ]
    .map(String::from)
    .to_vec();
    header.extend(SUMMARY_COLUMNS.map(String::from));
    header.push("p_met".into());
    row(&mut w, &header)?;
    let basins = res.basins(scn);
    let mut it = crate::report::basins::section_rows(&basins).into_iter();
    for (k, a) in scn.agreements.iter().enumerate() {
        let acc = mc.agreements.get(k).filter(|_| mc.draws > 0);
        let nt = a.n_periods();
        for s in 0..a.sections.len() {
            for t in 0..nt {
                let Some(r) = it.next() else { break };
                let mut cells = vec![
                    r.agreement,
                    r.section,
                    r.upstream,
                    r.downstream,
                    r.period,
                    r.kind.to_string(),
                    num(r.value),
                    r.class.to_string(),
                    r.target,
                    r.met.to_string(),
                ];
                match acc {
                    Some(acc) => {
                        cells.extend(summary_cells(Some(&acc.value[s * nt + t])));
                        cells.push(num(acc.met[s * nt + t].p()));
                    }
                    None => cells.extend(std::iter::repeat_n(
                        String::new(),
                        SUMMARY_COLUMNS.len() + 1,
                    )),
                }
                row(&mut w, &cells)?;
            }
        }
    }
    finish(w)
}

/// Human-readable grade name.
pub fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::MarkedlyWorse => "markedly worse",
        Grade::GenerallyWorse => "generally worse",
        Grade::SlightlyWorse => "slightly worse",
        Grade::Stable => "stable",
        Grade::SlightlyBetter => "slightly better",
        Grade::GenerallyBetter => "generally better",
        Grade::MarkedlyBetter => "markedly better",
    }
}

/// One sentence explaining a region's final amount.
fn explain(
    f: &Formula,
    a: &Allocation,
    i: usize,
    budget: &Budget,
    entitlement: Option<&Vec<f64>>,
) -> String {
    let s = a.claim_before[i];
    let mut terms = format!(
        "K {} + PA {} + RL {} + G {} + F {}",
        num(a.key[i]),
        num(a.pa[i]),
        num(a.rl[i]),
        num(a.guidance[i]),
        num(a.rangers[i])
    );
    for (name, v) in a.classified_names.iter().zip(&a.classified) {
        if v[i] != 0.0 {
            terms.push_str(&format!(" + {name} {}", num(v[i])));
        }
    }
    let mut parts = vec![format!("claims S = {terms} = {}", num(s))];
    if a.q[i] > 0.0 {
        parts.push(format!(
            "quality {}: +{}%",
            grade_name(a.grade[i]),
            num(a.q[i] * 100.0)
        ));
    } else if a.q[i] < 0.0 {
        parts.push(format!(
            "quality {}: −{}%",
            grade_name(a.grade[i]),
            num(-a.q[i] * 100.0)
        ));
    } else if f.quality.is_some() {
        parts.push(format!("quality {}: no change", grade_name(a.grade[i])));
    }
    if a.cut[i] > 0.0 {
        parts.push(format!("reverse linkage cuts {}%", num(a.cut[i] * 100.0)));
    }
    parts.push(format!("S' = {}", num(a.claim[i])));
    if a.floors_scaled {
        parts.push(format!(
            "floors exceed the budget: floor {} paid pro rata × {}",
            num(a.floor[i]),
            num(a.scale)
        ));
    } else if a.floor_binds[i] {
        parts.push(format!("hold-harmless floor {} binds", num(a.floor[i])));
    } else if a.cap_binds[i] {
        parts.push(format!("growth cap {} binds", num(a.cap[i])));
    } else if budget.key_only() {
        parts.push(format!(
            "key subsidy × budget scale {}, the other components as stated",
            num(a.scale)
        ));
    } else if budget.mode == BudgetMode::Fixed {
        parts.push(format!("× budget scale {}", num(a.scale)));
    }
    if a.floor_waived[i] {
        parts.push("floor waived (quality worse or damaging industry)".to_string());
    }
    match entitlement {
        Some(e) => {
            parts.push(format!("= entitlement {}", num(e[i])));
            parts.push(format!(
                "passed down by its province (its own method, or unchanged) it receives {}",
                num(a.x[i])
            ));
        }
        _ => parts.push(format!("= {}", num(a.x[i]))),
    }
    parts.join("; ")
}

/// The columns of `breakdown.csv`, in the order the money is computed; the letters are
/// those of docs/model.md §1.2–§1.5.
pub const BREAKDOWN_COLUMNS: [&str; 32] = [
    "formula",
    "id",
    "name",
    "group",
    "fiscal_gap",
    "self_sufficiency",
    "band_multiplier",
    "c0",
    "importance_m",
    "importance_tag",
    "redline_coverage",
    "redline_uplift_factor",
    "key_K",
    "pa_weight_share",
    "protected_areas_PA",
    "rl_weight_share",
    "redline_RL",
    "guidance_G",
    "rangers_F",
    "claim_before_adjustments_S",
    "grade",
    "reward_or_deduction_q",
    "reverse_linkage_cut",
    "claim_S_prime",
    "floor",
    "floor_waived",
    "floor_binds",
    "cap",
    "cap_binds",
    "budget_scale",
    "final",
    "explanation",
];

/// Where the classified components' columns go in `breakdown.csv`: after `rangers_F`.
const CLASSIFIED_AT: usize = 19;

/// The per-unit and pool columns of every formula, in first-appearance order: a formula
/// without one of them leaves its cell blank.
fn classified_columns(res: &PointResults) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for fp in &res.formulas {
        for n in &fp.alloc.classified_names {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// `breakdown.csv`: per formula × region, the factors of the key subsidy, every component
/// (one column per per-unit component and general pool), the grade, the cut, floors and
/// caps, the budget scale where it applies and the final amount, with a sentence that
/// explains it.
pub fn breakdown_csv(scn: &Scenario, res: &PointResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let extra = classified_columns(res);
    let mut header: Vec<String> = BREAKDOWN_COLUMNS.map(String::from).to_vec();
    header.splice(CLASSIFIED_AT..CLASSIFIED_AT, extra.iter().cloned());
    row(&mut w, &header)?;
    let Some(v) = &scn.vertical else {
        return finish(w);
    };
    let m = &v.regions.meta;
    for (f, fp) in v.formulas.iter().zip(&res.formulas) {
        let a = &fp.alloc;
        let c0 = f.key.as_ref().map_or(String::new(), |k| num(k.c0));
        for i in 0..v.regions.data.n {
            let tag = a.importance_tag.get(i).copied().flatten();
            // The budget scale only moves the regions between floor and cap.
            let scale = if a.cap_binds[i] && !a.floors_scaled {
                "capped".to_string()
            } else if a.floor_binds[i] && !a.floors_scaled {
                "floor".to_string()
            } else {
                num(a.scale)
            };
            let mut cells = vec![
                f.name.clone(),
                m.id[i].clone(),
                m.name[i].clone(),
                m.group[i].clone(),
                num(a.gap[i]),
                num(a.self_sufficiency[i]),
                num(a.band[i]),
                c0.clone(),
                num(a.importance[i]),
                tag.and_then(|t| m.tag_names.get(t as usize).cloned())
                    .unwrap_or_default(),
                num(a.coverage[i]),
                num(a.uplift[i]),
                num(a.key[i]),
                num(a.pa_share[i]),
                num(a.pa[i]),
                num(a.rl_share[i]),
                num(a.rl[i]),
                num(a.guidance[i]),
                num(a.rangers[i]),
                num(a.claim_before[i]),
                grade_name(a.grade[i]).to_string(),
                num(a.q[i]),
                num(a.cut[i]),
                num(a.claim[i]),
                num(a.floor[i]),
                a.floor_waived[i].to_string(),
                a.floor_binds[i].to_string(),
                num(a.cap[i]),
                a.cap_binds[i].to_string(),
                scale,
                num(a.x[i]),
                explain(f, a, i, &v.budget, fp.entitlement.as_ref()),
            ];
            let own = |name: &String| {
                a.classified_names
                    .iter()
                    .position(|n| n == name)
                    .map_or(String::new(), |k| num(a.classified[k][i]))
            };
            cells.splice(CLASSIFIED_AT..CLASSIFIED_AT, extra.iter().map(own));
            row(&mut w, &cells)?;
        }
    }
    finish(w)
}
