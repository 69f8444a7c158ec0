//! Two tiers, central → province → county (docs/model.md §1.6). The central formula's
//! allocation is each county's entitlement; a province's total is the sum over its
//! counties. A province with a method keeps `retain` of its total and allocates the rest
//! among its own counties by that method, as a fixed budget solved over them alone (their
//! floors and caps included); a province without one passes the entitlements through.
//! The same function serves the point estimate and every Monte Carlo draw.

use super::allocate::{Allocation, Workspace, allocate};
use crate::error::{Error, Result};
use crate::model::formula::{Budget, BudgetMode, Formula};
use crate::model::region::RegionData;

/// What one province did with its central total.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupFlow {
    /// `X_g`, the sum of its counties' entitlements.
    pub total: f64,
    /// What it kept (`retain · X_g`).
    pub retained: f64,
    /// What its method left unallocated (every county capped), 0 otherwise.
    pub unallocated: f64,
    /// The method used (a formula index), if any.
    pub method: Option<usize>,
}

/// Buffers reused across calls: each group's regions, the sub-region data a method is
/// solved over, and its allocation.
#[derive(Debug, Clone, Default)]
pub struct TierScratch {
    members: Vec<Vec<usize>>,
    sub: RegionData,
    alloc: Allocation,
    ws: Workspace,
}

/// Copy regions `idx` of `data` into `sub`.
fn subset(data: &RegionData, idx: &[usize], sub: &mut RegionData) {
    let pick = |v: &[f64], out: &mut Vec<f64>| {
        out.clear();
        out.extend(idx.iter().map(|&i| v[i]));
    };
    sub.n = idx.len();
    for (c, out) in data.cols.iter().zip(sub.cols.iter_mut()) {
        pick(c, out);
    }
    sub.extra.resize_with(data.extra.len(), Vec::new);
    for (c, out) in data.extra.iter().zip(sub.extra.iter_mut()) {
        pick(c, out);
    }
    sub.tags.clear();
    sub.tags.extend(idx.iter().map(|&i| data.tags[i]));
    sub.hold_harmless.clear();
    sub.hold_harmless
        .extend(idx.iter().map(|&i| data.hold_harmless[i]));
}

/// Pass the entitlements `x` of `central` down through the provinces' methods: `x` becomes
/// what each region finally receives, and `flows` gets one entry per group (of the
/// `n_groups` groups of `group_idx`). `formulas` are the scenario's formulas (the methods
/// are among them), `budget` the scenario's (its mode and rules apply within provinces).
#[allow(clippy::too_many_arguments)]
pub fn pass_down(
    central: &Formula,
    formulas: &[Formula],
    data: &RegionData,
    group_idx: &[u32],
    n_groups: usize,
    budget: &Budget,
    x: &mut [f64],
    flows: &mut Vec<GroupFlow>,
    s: &mut TierScratch,
) -> Result<()> {
    s.members.resize_with(n_groups, Vec::new);
    s.members.iter_mut().for_each(Vec::clear);
    for (i, &g) in group_idx.iter().enumerate() {
        if let Some(m) = s.members.get_mut(g as usize) {
            m.push(i);
        }
    }
    flows.clear();
    for g in 0..n_groups {
        let members = &s.members[g];
        let total: f64 = members.iter().map(|&i| x[i]).sum();
        let rule = central
            .provincial
            .iter()
            .find(|p| p.groups.as_ref().is_none_or(|gs| gs.contains(&(g as u32))));
        let Some(rule) = rule.filter(|_| !members.is_empty()) else {
            flows.push(GroupFlow {
                total,
                ..GroupFlow::default()
            });
            continue;
        };
        let retained = rule.retain * total;
        let province = Budget {
            total: Some(total - retained),
            mode: BudgetMode::Fixed,
            ..budget.clone()
        };
        subset(data, members, &mut s.sub);
        let method = &formulas[rule.method];
        allocate(method, &s.sub, &province, &mut s.ws, &mut s.alloc).map_err(|e| {
            Error::Runtime(format!(
                "formula '{}': the method '{}' of group {} cannot allocate its {}: {e}",
                central.name,
                method.name,
                g + 1,
                crate::numfmt::display(total - retained)
            ))
        })?;
        let mut received = 0.0;
        for (k, &i) in members.iter().enumerate() {
            x[i] = s.alloc.x[k];
            received += x[i];
        }
        // What the method left over, as the province sees it: its money less what its
        // counties got (a method's pool of a fixed amount nobody weighs in can exceed it).
        let unallocated = if s.alloc.unallocated() > 0.0 {
            (total - retained - received).max(0.0)
        } else {
            0.0
        };
        flows.push(GroupFlow {
            total,
            retained,
            unallocated,
            method: Some(rule.method),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::formula::{KeySubsidy, OnInfeasible, Provincial};
    use crate::model::region::Column;

    fn key(c0: f64) -> Formula {
        let mut f = Formula::empty("k");
        f.key = Some(KeySubsidy {
            c0,
            eco_weight: 0.0,
            redline_uplift: 0.0,
            eco_weight_tags: Vec::new(),
            bands: Vec::new(),
        });
        f
    }

    #[test]
    fn a_province_keeps_its_share_and_reallocates_the_rest() {
        // Four counties, gaps 10, 30 (group 0) and 20, 20 (group 1); red line 9, 1 in
        // group 0. Central: by gap, T = 80: entitlements 10, 30, 20, 20.
        let mut d = RegionData::zeros(4);
        d.col_mut(Column::StdExpenditure)
            .copy_from_slice(&[20.0, 40.0, 30.0, 30.0]);
        d.col_mut(Column::StdRevenue)
            .copy_from_slice(&[10.0, 10.0, 10.0, 10.0]);
        d.col_mut(Column::AreaKm2).fill(10.0);
        d.col_mut(Column::RedlineKm2)
            .copy_from_slice(&[9.0, 1.0, 5.0, 5.0]);
        let budget = Budget {
            total: Some(80.0),
            mode: BudgetMode::Fixed,
            on_infeasible: OnInfeasible::Error,
            scale: Default::default(),
        };
        // Group 0's method: everything by red line (a pool of 100 %, no key subsidy).
        let mut method = Formula::empty("by_redline");
        method.redline = Some(crate::model::RedlinePool {
            size: crate::model::PoolSize::Share(1.0),
            gamma: 0.0,
            threshold: 0.0,
        });
        let mut central = key(1.0);
        central.provincial.push(Provincial {
            groups: Some(vec![0]),
            method: 1,
            method_name: "by_redline".into(),
            retain: 0.05,
        });
        let formulas = vec![central.clone(), method];
        let mut x = vec![10.0, 30.0, 20.0, 20.0];
        let mut flows = Vec::new();
        pass_down(
            &central,
            &formulas,
            &d,
            &[0, 0, 1, 1],
            2,
            &budget,
            &mut x,
            &mut flows,
            &mut TierScratch::default(),
        )
        .unwrap();
        // Group 0: X = 40, keeps 2, splits 38 by red line 9 : 1.
        assert!(
            (x[0] - 34.2).abs() < 1e-12 && (x[1] - 3.8).abs() < 1e-12,
            "{x:?}"
        );
        assert_eq!((flows[0].total, flows[0].retained), (40.0, 2.0));
        assert_eq!(flows[0].method, Some(1));
        // Received plus retained is the province's total.
        assert!((x[0] + x[1] + flows[0].retained - flows[0].total).abs() < 1e-12);
        // Group 1 has no method: its entitlements pass through.
        assert_eq!(&x[2..], &[20.0, 20.0]);
        assert_eq!((flows[1].retained, flows[1].method), (0.0, None));
    }
}
