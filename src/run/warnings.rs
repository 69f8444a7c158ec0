//! Warnings about a run's results that a user must see even when nothing failed: floors
//! paid pro rata because the budget could not honour them, and formulas whose floors or
//! caps decide most allocations. They go wherever the scenario's warnings go: the console,
//! `summary.json` and the report.

use super::point::PointResults;
use crate::model::Scenario;
use crate::montecarlo::McResults;
use crate::numfmt::display;

/// A formula is swamped when more than this share of its regions sits on a floor or a cap.
pub const SWAMPED_SHARE: f64 = 0.25;
/// Regions named in a warning before "and N more".
const NAMED: usize = 8;

/// `names` joined, at most [`NAMED`] of them.
fn list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMED {
        s.push_str(&format!(" and {} more", names.len() - NAMED));
    }
    s
}

/// One warning per formula whose hold-harmless floors exceeded the budget and were paid
/// pro rata (`on_infeasible = "scale_floors"`), naming the regions left with nothing.
pub fn floors_scaled(scn: &Scenario, res: &PointResults) -> Vec<String> {
    let Some(v) = &scn.vertical else {
        return Vec::new();
    };
    res.formulas
        .iter()
        .filter(|fp| fp.alloc.floors_scaled)
        .map(|fp| {
            let a = &fp.alloc;
            // x = owed · T/owed: the scale is T over what was owed at a key-subsidy scale 0.
            let owed = a.total / a.scale;
            let unpaid: Vec<String> = (0..a.x.len())
                .filter(|&i| a.x[i] <= 0.0)
                .map(|i| v.regions.meta.name[i].clone())
                .collect();
            let what = if a.fixed.iter().any(|&b| b > 0.0) {
                "the hold-harmless floors and the components paid as stated"
            } else {
                "the hold-harmless floors"
            };
            let mut w = format!(
                "formula '{}': {what} total {} but the budget leaves {} for them, so as \
                 `on_infeasible = \"scale_floors\"` asks each is paid × {}, no region gets a \
                 key subsidy",
                fp.name,
                display(owed),
                display(a.total),
                display(a.scale)
            );
            if !unpaid.is_empty() {
                w.push_str(&format!(
                    " and regions without a floor get nothing ({})",
                    list(&unpaid)
                ));
            }
            w
        })
        .collect()
}

/// One warning per formula where more than a quarter of the regions sit on a floor or a
/// cap, in the point estimate or in more than half of the draws, naming them: the formula's
/// own weights then decide little of the allocation.
pub fn swamped(scn: &Scenario, res: &PointResults, mc: Option<&McResults>) -> Vec<String> {
    let Some(v) = &scn.vertical else {
        return Vec::new();
    };
    let n = v.regions.data.n;
    let acc = mc.filter(|m| m.draws > 0).and_then(|m| m.vertical.as_ref());
    let mut out = Vec::new();
    for (f, fp) in res.formulas.iter().enumerate() {
        let a = &fp.alloc;
        let on = |i: usize| {
            let k = f * n + i;
            let floor = a.floor_binds[i] || acc.is_some_and(|m| m.floor[k].p() > 0.5);
            let cap = a.cap_binds[i] || acc.is_some_and(|m| m.cap[k].p() > 0.5);
            match (floor, cap) {
                (true, _) => Some("floor"),
                (false, true) => Some("cap"),
                _ => None,
            }
        };
        let bound: Vec<String> = (0..n)
            .filter_map(|i| on(i).map(|what| format!("{} ({what})", v.regions.meta.name[i])))
            .collect();
        if bound.len() as f64 > SWAMPED_SHARE * n as f64 {
            out.push(format!(
                "formula '{}': {} of {n} regions sit on their floor or cap (in the point \
                 estimate or in more than half of the draws), so its own weights decide \
                 little of the allocation: {}",
                fp.name,
                bound.len(),
                list(&bound)
            ));
        }
    }
    out
}
