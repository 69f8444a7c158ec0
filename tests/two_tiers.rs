//! Two tiers (docs/model.md §1.6) on the shipped county scenario: within each province
//! what the counties receive plus what the province retains is its central total, the
//! national total is the budget, and a province without a method passes the entitlements
//! through unchanged, at the point estimate and in every Monte Carlo draw.

use ecocomp::montecarlo::allocations::VerticalModel;
use std::path::Path;

fn scenario() -> ecocomp::model::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/county_two_tier.toml");
    ecocomp::scenario::load(&path).unwrap()
}

/// Check one allocation: `x` received, `ent` the central entitlements, `retained` per group.
fn check(scn: &ecocomp::model::Scenario, x: &[f64], ent: &[f64], retained: &[f64]) {
    let v = scn.vertical.as_ref().unwrap();
    let meta = &v.regions.meta;
    let t = v.budget.total.unwrap();
    let qinghai = meta.groups.iter().position(|g| g == "青海").unwrap();
    for (g, name) in meta.groups.iter().enumerate() {
        let members: Vec<usize> = (0..x.len())
            .filter(|&i| meta.group_idx[i] as usize == g)
            .collect();
        let total: f64 = members.iter().map(|&i| ent[i]).sum();
        let received: f64 = members.iter().map(|&i| x[i]).sum();
        assert!(
            (received + retained[g] - total).abs() <= 1e-9 * total,
            "{name}: {received} + {} vs {total}",
            retained[g]
        );
        if g == qinghai {
            assert!((retained[g] - 0.05 * total).abs() <= 1e-9 * total);
        } else {
            assert_eq!(retained[g], 0.0);
            for &i in &members {
                assert_eq!(x[i].to_bits(), ent[i].to_bits(), "{name} passes through");
            }
        }
    }
    let national: f64 = x.iter().sum::<f64>() + retained.iter().sum::<f64>();
    assert!((national - t).abs() <= 1e-9 * t, "{national} vs {t}");
}

#[test]
fn point_estimate_keeps_every_province_whole() {
    let scn = scenario();
    let res = ecocomp::run::point::point(&scn).unwrap();
    let fp = &res.formulas[0];
    let ent = fp
        .entitlement
        .as_ref()
        .expect("the central formula has methods");
    let retained: Vec<f64> = fp.groups.iter().map(|g| g.retained).collect();
    check(&scn, &fp.alloc.x, ent, &retained);
    // Qinghai's method reallocates: some county's amount differs from its entitlement.
    assert!(fp.alloc.x.iter().zip(ent).any(|(a, b)| a != b));
    // A formula without methods has no entitlement of its own.
    assert!(res.formulas[1].entitlement.is_none());
}

#[test]
fn every_draw_keeps_every_province_whole() {
    let scn = scenario();
    let v = scn.vertical.as_ref().unwrap();
    let model = VerticalModel::new(v, Vec::new(), &scn.uncertain, 0, Vec::new());
    let mut w = model.worker();
    for d in 0..50 {
        model.evaluate(11, d, &mut w).unwrap();
        // Formula 1 (the method on its own) runs after formula 0 and has no methods, so
        // the worker still holds formula 0's entitlements and flows.
        let retained: Vec<f64> = w.group_flows.iter().map(|g| g.retained).collect();
        let ent = w.entitlement.clone();
        check(&scn, &w.allocs[0].x, &ent, &retained);
    }
}
