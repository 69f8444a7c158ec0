//! CSV serialisers: `regions.csv` and `breakdown.csv` (MODEL.md §4).

use super::num;
use crate::error::{Error, Result};
use crate::pipeline::PointResults;
use crate::region::Column;
use crate::scenario::Scenario;
use crate::vertical::{Allocation, BudgetMode, Formula, Grade};

fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>> {
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

fn row(w: &mut csv::Writer<Vec<u8>>, cells: &[String]) -> Result<()> {
    w.write_record(cells)
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

/// `regions.csv`: one row per formula × region with the point estimate.
pub fn regions_csv(scn: &Scenario, res: &PointResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    row(
        &mut w,
        &["formula", "id", "name", "group", "point"].map(String::from),
    )?;
    if let Some(v) = &scn.vertical {
        let m = &v.regions.meta;
        for f in &res.formulas {
            for i in 0..v.regions.data.n {
                row(
                    &mut w,
                    &[
                        f.name.clone(),
                        m.id[i].clone(),
                        m.name[i].clone(),
                        m.group[i].clone(),
                        num(f.alloc.x[i]),
                    ],
                )?;
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
fn explain(f: &Formula, a: &Allocation, i: usize, mode: BudgetMode) -> String {
    let s = a.key[i] + a.pa[i] + a.rl[i] + a.guidance[i] + a.rangers[i];
    let mut parts = vec![format!("claims K+PA+RL+G+F = {}", num(s))];
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
    } else if mode == BudgetMode::Fixed {
        parts.push(format!("× budget scale {}", num(a.scale)));
    }
    if a.floor_waived[i] {
        parts.push("floor waived (quality worse or damaging industry)".to_string());
    }
    parts.push(format!("= {}", num(a.x[i])));
    parts.join("; ")
}

/// `breakdown.csv`: per formula × region, every component, the grade, the cut, floors and
/// caps, the budget scale and the final amount, with a sentence that explains it.
pub fn breakdown_csv(scn: &Scenario, res: &PointResults) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "formula",
        "id",
        "name",
        "group",
        "fiscal_gap",
        "self_sufficiency",
        "redline_coverage",
        "key",
        "protected_areas",
        "redline",
        "guidance",
        "rangers",
        "claim_before_adjustments",
        "grade",
        "reward_or_deduction",
        "reverse_linkage_cut",
        "claim",
        "floor",
        "floor_waived",
        "floor_binds",
        "cap",
        "cap_binds",
        "budget_scale",
        "final",
        "explanation",
    ];
    row(&mut w, &header.map(String::from))?;
    let Some(v) = &scn.vertical else {
        return finish(w);
    };
    let d = &v.regions.data;
    let m = &v.regions.meta;
    for (f, fp) in v.formulas.iter().zip(&res.formulas) {
        let a = &fp.alloc;
        let eco_weight = f.key.as_ref().map_or(0.0, |k| k.eco_weight);
        for i in 0..d.n {
            let (r, e, x) = (
                d.col(Column::StdRevenue)[i],
                d.col(Column::StdExpenditure)[i],
                d.col(Column::EcoSpending)[i],
            );
            let area = d.col(Column::AreaKm2)[i];
            let coverage = if area > 0.0 {
                d.col(Column::RedlineKm2)[i] / area
            } else {
                0.0
            };
            let s = a.key[i] + a.pa[i] + a.rl[i] + a.guidance[i] + a.rangers[i];
            row(
                &mut w,
                &[
                    f.name.clone(),
                    m.id[i].clone(),
                    m.name[i].clone(),
                    m.group[i].clone(),
                    num((e + eco_weight * x - r).max(0.0)),
                    num(r / e),
                    num(coverage),
                    num(a.key[i]),
                    num(a.pa[i]),
                    num(a.rl[i]),
                    num(a.guidance[i]),
                    num(a.rangers[i]),
                    num(s),
                    grade_name(a.grade[i]).to_string(),
                    num(a.q[i]),
                    num(a.cut[i]),
                    num(a.claim[i]),
                    num(a.floor[i]),
                    a.floor_waived[i].to_string(),
                    a.floor_binds[i].to_string(),
                    num(a.cap[i]),
                    a.cap_binds[i].to_string(),
                    num(a.scale),
                    num(a.x[i]),
                    explain(f, a, i, v.budget.mode),
                ],
            )?;
        }
    }
    finish(w)
}
