//! Tests of the point allocator: every budget case, by hand.
use super::super::payment::pay_pass;
use super::*;
use crate::model::formula::{BudgetMode, BudgetScale, OnInfeasible};
use crate::model::formula::{
    Floor, KeySubsidy, PoolSize, ProtectedAreaPool, Quality, RedlinePool, ReverseLinkage,
};
use crate::model::region::Column;
use approx::assert_relative_eq;

/// A reused workspace never answers from tag tables evaluated over other tags or for
/// another table: every call matches a fresh workspace's, bit for bit.
#[test]
fn tag_cache_follows_changed_tags_and_tables() {
    let mut f = key_only();
    f.importance = vec![(0, 2.0), (1, 3.0)];
    f.guidance = vec![(1, 5.0)];
    let mut d = regions();
    let mut ws = Workspace::default();
    let fresh = |f: &Formula, d: &RegionData| {
        let mut a = Allocation::default();
        allocate(f, d, &open(), &mut Workspace::default(), &mut a).unwrap();
        a
    };
    for step in 0..4 {
        match step {
            1 => d.tags[0] = 0b10,
            2 => f.importance[1].1 = 7.0,
            3 => d.tags = vec![0b01, 0b11, 0],
            _ => {}
        }
        let mut a = Allocation::default();
        allocate(&f, &d, &open(), &mut ws, &mut a).unwrap();
        assert_eq!(a, fresh(&f, &d), "step {step}");
    }
    // The last step's region 1 carries both tags: importance 7, guidance 5.
    let a = fresh(&f, &d);
    assert_eq!(a.guidance, [0.0, 5.0, 0.0]);
    assert!(a.key[1] > a.key[0]);
}

/// The payment pass, with and without the solver's segment sums, writes what a plain
/// scalar reference writes, bit for bit: payments, flags and their four-lane total,
/// for region counts on and off a multiple of four, zero claims, binding floors,
/// binding caps and caps below floors.
#[test]
fn fused_payment_pass_matches_the_plain_pass() {
    let mut r = crate::sampling::rng::stream(11, 0, 0);
    for n in [1usize, 4, 7, 203] {
        let mut out = Allocation {
            // Every third region also has an amount paid as stated.
            fixed: (0..n).map(|i| if i % 3 == 0 { 1.5 } else { 0.0 }).collect(),
            scaled: (0..n)
                .map(|i| match i % 9 {
                    0 => 0.0,
                    _ => crate::sampling::rng::std_normal(&mut r).exp() * 10.0,
                })
                .collect(),
            floor: (0..n).map(|i| if i % 5 == 0 { 8.0 } else { 0.0 }).collect(),
            // Every 35th region has a cap below its floor (the floor wins).
            cap: (0..n)
                .map(|i| match (i % 7, i % 5) {
                    (0, 0) => 6.0,
                    (0, _) => 12.0,
                    _ => f64::INFINITY,
                })
                .collect(),
            x: vec![0.0; n],
            floor_binds: vec![false; n],
            cap_binds: vec![false; n],
            ..Allocation::default()
        };
        for s in [0.5, 1.0, 1.7] {
            let (seg, total) = pay_pass(&mut out, s, false, true);
            let plain = pay_pass(&mut out.clone(), s, false, false).1;
            assert_eq!(total.to_bits(), plain.to_bits());
            assert!(seg.is_some());
            let mut lanes = [0.0; 4];
            for i in 0..n {
                let (c, b, f, u) = (out.scaled[i], out.fixed[i], out.floor[i], out.cap[i]);
                let raw = if c > 0.0 { s * c } else { 0.0 } + b;
                let x = f.max(raw.min(u));
                assert_eq!(out.x[i].to_bits(), x.to_bits(), "n {n} s {s} region {i}");
                lanes[crate::simd::lane_of(i, n)] += x;
                assert_eq!(out.floor_binds[i], f > raw.min(u), "floor flag {i}");
                assert_eq!(out.cap_binds[i], u >= f && u < raw, "cap flag {i}");
            }
            assert_eq!(total.to_bits(), crate::simd::reduce(lanes).to_bits());
            if n == 203 {
                // The case exercises both kinds of binding.
                assert!(out.floor_binds.iter().any(|&b| b));
                assert!(out.cap_binds.iter().any(|&b| b));
            }
        }
    }
}

/// Three regions with a fiscal gap of 10, 20 and 30, no protected areas.
fn regions() -> RegionData {
    let mut d = RegionData::zeros(3);
    d.col_mut(Column::StdRevenue)
        .copy_from_slice(&[10.0, 20.0, 30.0]);
    d.col_mut(Column::StdExpenditure)
        .copy_from_slice(&[20.0, 40.0, 60.0]);
    d.col_mut(Column::AreaKm2)
        .copy_from_slice(&[100.0, 100.0, 100.0]);
    d.col_mut(Column::RedlineKm2)
        .copy_from_slice(&[10.0, 50.0, 90.0]);
    d.col_mut(Column::PriorAllocation)
        .copy_from_slice(&[10.0, 20.0, 30.0]);
    d
}

fn key_only() -> Formula {
    let mut f = Formula::empty("k");
    f.key = Some(KeySubsidy {
        c0: 1.0,
        eco_weight: 0.0,
        redline_uplift: 0.0,
        eco_weight_tags: Vec::new(),
        bands: Vec::new(),
    });
    f
}

fn fixed(total: f64) -> Budget {
    Budget {
        total: Some(total),
        mode: BudgetMode::Fixed,
        on_infeasible: OnInfeasible::Error,
        scale: BudgetScale::All,
    }
}

fn open() -> Budget {
    Budget {
        total: None,
        mode: BudgetMode::Open,
        on_infeasible: OnInfeasible::Error,
        scale: BudgetScale::All,
    }
}

fn run(f: &Formula, d: &RegionData, b: &Budget) -> Result<Allocation> {
    let mut out = Allocation::default();
    allocate(f, d, b, &mut Workspace::default(), &mut out)?;
    Ok(out)
}

/// Fuzz regression (allocator target): a budget of 7e-301 against claims near 1e300
/// underflowed the scale to 0 and paid nobody.
#[test]
fn tiny_budget_against_huge_claims_still_sums_to_the_budget() {
    let mut d = regions();
    d.col_mut(Column::StdExpenditure)
        .copy_from_slice(&[6e299, 1e300, 40.0]);
    let total = 7.009803921568627e-301;
    let out = run(&key_only(), &d, &fixed(total)).unwrap();
    let sum: f64 = out.x.iter().sum();
    assert!(out.x.iter().all(|x| x.is_finite() && *x >= 0.0));
    assert_relative_eq!(sum, total, max_relative = 1e-9);
    assert!(out.x[1] > out.x[0], "shares follow the claims: {:?}", out.x);
}

#[test]
fn fixed_mode_scales_claims_to_the_budget() {
    let a = run(&key_only(), &regions(), &fixed(120.0)).unwrap();
    assert_relative_eq!(a.scale, 2.0, epsilon = 1e-12);
    assert_relative_eq!(a.x[0], 20.0, epsilon = 1e-12);
    assert_relative_eq!(a.x[2], 60.0, epsilon = 1e-12);
    assert_relative_eq!(a.total, 120.0, epsilon = 1e-12);
    assert!(a.cap_binds.iter().all(|b| !b) && a.floor_binds.iter().all(|b| !b));
}

#[test]
fn open_mode_pays_the_claims() {
    let a = run(&key_only(), &regions(), &open()).unwrap();
    assert_relative_eq!(a.scale, 1.0);
    assert_relative_eq!(a.total, 60.0);
    assert_relative_eq!(a.x[1], 20.0);
}

#[test]
fn floors_and_caps_bind_in_fixed_mode() {
    let mut f = key_only();
    f.floor = Some(Floor {
        h: 1.0,
        waived_on: crate::model::WaivedOn::BOTH,
    });
    f.cap = Some(0.1);
    let mut d = regions();
    d.hold_harmless[0] = true;
    d.col_mut(Column::PriorAllocation)
        .copy_from_slice(&[40.0, 20.0, 0.0]);
    // Region 0: floor 40 above its scaled claim; region 1: cap 22; region 2 uncapped.
    let a = run(&f, &d, &fixed(100.0)).unwrap();
    assert_relative_eq!(a.x[0], 40.0);
    assert_relative_eq!(a.x[1], 22.0);
    assert_relative_eq!(a.x[2], 38.0, epsilon = 1e-12);
    assert!(a.floor_binds[0] && !a.floor_binds[1] && !a.floor_binds[2]);
    assert!(!a.cap_binds[0] && a.cap_binds[1] && !a.cap_binds[2]);
    // Cap only where prior > 0.
    assert!(a.cap[2].is_infinite());
    assert_relative_eq!(a.total, 100.0, epsilon = 1e-12);
}

#[test]
fn everyone_capped_leaves_money_unallocated() {
    let mut f = key_only();
    f.cap = Some(0.0);
    let a = run(&f, &regions(), &fixed(100.0)).unwrap();
    assert_relative_eq!(a.total, 60.0);
    assert_relative_eq!(a.cap_unallocated, 40.0);
    assert_relative_eq!(a.unallocated(), 40.0);
    assert!(a.cap_binds.iter().all(|&b| b));
}

#[test]
fn infeasible_floors_error_or_scale() {
    let mut f = key_only();
    f.floor = Some(Floor {
        h: 1.0,
        waived_on: crate::model::WaivedOn::BOTH,
    });
    let mut d = regions();
    d.hold_harmless = vec![true, true, false];
    // Floors 10 + 20 = 30 > 24.
    match run(&f, &d, &fixed(24.0)) {
        Err(Error::InfeasibleFloors {
            floors,
            budget,
            shortfall,
            ..
        }) => {
            assert_relative_eq!(floors, 30.0);
            assert_relative_eq!(budget, 24.0);
            assert_relative_eq!(shortfall, 6.0);
        }
        other => panic!("expected InfeasibleFloors, got {other:?}"),
    }
    let mut b = fixed(24.0);
    b.on_infeasible = OnInfeasible::ScaleFloors;
    let a = run(&f, &d, &b).unwrap();
    assert!(a.floors_scaled);
    assert_relative_eq!(a.scale, 0.8);
    assert_relative_eq!(a.x[0], 8.0);
    assert_relative_eq!(a.x[1], 16.0);
    assert_relative_eq!(a.x[2], 0.0);
    assert_relative_eq!(a.total, 24.0);
}

#[test]
fn floor_waived_on_grade_or_damage() {
    let mut f = key_only();
    f.floor = Some(Floor {
        h: 2.0,
        waived_on: crate::model::WaivedOn::BOTH,
    });
    f.quality = Some(Quality {
        thresholds: [1.0, 2.0, 3.0],
        reward: [0.0; 3],
        deduction: [0.0; 3],
    });
    let mut d = regions();
    d.hold_harmless = vec![true, true, true];
    d.col_mut(Column::EqiChange)
        .copy_from_slice(&[-1.0, -0.999, 0.0]);
    d.col_mut(Column::DamageIndex)
        .copy_from_slice(&[0.0, 0.0, 0.01]);
    let a = run(&f, &d, &open()).unwrap();
    // Region 0 graded slightly worse; region 2 has D > 0; region 1 keeps its floor.
    assert_eq!(a.floor_waived, vec![true, false, true]);
    assert_relative_eq!(a.floor[0], 0.0);
    assert_relative_eq!(a.floor[1], 40.0);
    assert_relative_eq!(a.floor[2], 0.0);
    assert_relative_eq!(a.x[1], 40.0);
    assert!(a.floor_binds[1]);
    // Without the waiver the floors stand.
    f.floor = Some(Floor {
        h: 2.0,
        waived_on: crate::model::WaivedOn::NONE,
    });
    let a = run(&f, &d, &open()).unwrap();
    assert!(a.floor_waived.iter().all(|&w| !w));
    assert_relative_eq!(a.x[0], 20.0);
    assert_relative_eq!(a.x[2], 60.0);
}

#[test]
fn quality_and_reverse_linkage_scale_the_claim() {
    let mut f = key_only();
    f.quality = Some(Quality {
        thresholds: [1.0, 2.0, 3.0],
        reward: [0.1, 0.2, 0.3],
        deduction: [0.1, 0.5, 1.0],
    });
    f.reverse_linkage = Some(ReverseLinkage {
        lambda: 0.5,
        max_cut: 0.2,
        tags: Vec::new(),
    });
    let mut d = regions();
    d.col_mut(Column::EqiChange)
        .copy_from_slice(&[3.0, -2.0, -3.0]);
    d.col_mut(Column::DamageIndex)
        .copy_from_slice(&[0.2, 0.4, 1.0]);
    let a = run(&f, &d, &open()).unwrap();
    // cut = min(0.2, 0.5·D): 0.1 (below max_cut), 0.2 (at it), 0.2 (capped at it).
    assert_relative_eq!(a.cut[0], 0.1);
    assert_relative_eq!(a.cut[1], 0.2);
    assert_relative_eq!(a.cut[2], 0.2);
    assert_relative_eq!(a.x[0], 10.0 * 1.3 * 0.9);
    assert_relative_eq!(a.x[1], 20.0 * 0.5 * 0.8);
    // A deduction of 1.0 removes the allocation entirely.
    assert_relative_eq!(a.x[2], 0.0);
    assert_eq!(a.grade[2], Grade::MarkedlyWorse);
}

#[test]
fn zero_weight_pool_goes_to_nobody() {
    let mut f = key_only();
    f.protected_areas = Some(ProtectedAreaPool {
        size: PoolSize::Share(0.25),
        w_area: 1.0,
        w_count: 0.0,
        w_score: 0.0,
    });
    f.redline = Some(RedlinePool {
        size: PoolSize::Amount(10.0),
        gamma: 1.0,
        threshold: 0.5,
    });
    let a = run(&f, &regions(), &fixed(100.0)).unwrap();
    assert_relative_eq!(a.pool_unallocated, 25.0);
    assert!(a.pa.iter().all(|&p| p == 0.0));
    // RL weights 10, 50, 90·1.4 = 126.
    assert_relative_eq!(a.rl[2], 10.0 * 126.0 / 186.0, epsilon = 1e-12);
    assert_relative_eq!(a.total, 75.0, epsilon = 1e-12);
    assert_relative_eq!(a.total + a.unallocated(), 100.0, epsilon = 1e-12);
}

#[test]
fn share_pools_without_total_hold_nothing() {
    let mut f = key_only();
    f.redline = Some(RedlinePool {
        size: PoolSize::Share(0.5),
        gamma: 0.0,
        threshold: 0.0,
    });
    let a = run(&f, &regions(), &open()).unwrap();
    assert!(a.rl.iter().all(|&p| p == 0.0));
    assert_relative_eq!(a.total, 60.0);
}

#[test]
fn broken_region_data_is_an_error_not_a_panic() {
    let mut d = regions();
    d.tags.pop();
    assert!(matches!(
        run(&key_only(), &d, &open()),
        Err(Error::Runtime(_))
    ));
}

#[test]
fn steady_state_reuses_buffers() {
    let mut f = key_only();
    f.cap = Some(0.1);
    f.redline = Some(RedlinePool {
        size: PoolSize::Share(0.1),
        gamma: 1.0,
        threshold: 0.2,
    });
    let d = regions();
    let mut ws = Workspace::default();
    let mut out = Allocation::default();
    allocate(&f, &d, &fixed(60.0), &mut ws, &mut out).unwrap();
    let ptrs = (out.x.as_ptr(), out.claim.as_ptr(), ws.events.as_ptr());
    let first = out.clone();
    allocate(&f, &d, &fixed(60.0), &mut ws, &mut out).unwrap();
    assert_eq!(
        ptrs,
        (out.x.as_ptr(), out.claim.as_ptr(), ws.events.as_ptr())
    );
    assert_eq!(first, out);
}

/// The eco-spending weight and the reverse-linkage cut limited to tagged regions, and a
/// floor waived on a worse grade only, by hand.
#[test]
fn scoped_eco_weight_cut_and_waiver() {
    let mut f = key_only();
    let mut d = regions();
    d.tags = vec![0b01, 0b10, 0];
    d.col_mut(Column::EcoSpending)
        .copy_from_slice(&[4.0, 4.0, 4.0]);
    d.col_mut(Column::DamageIndex)
        .copy_from_slice(&[0.2, 0.2, 0.0]);
    d.col_mut(Column::EqiChange)
        .copy_from_slice(&[0.0, 0.0, -5.0]);
    d.hold_harmless = vec![true, true, true];
    if let Some(k) = f.key.as_mut() {
        k.eco_weight = 0.5;
        k.eco_weight_tags = vec![0];
    }
    f.reverse_linkage = Some(ReverseLinkage {
        lambda: 0.5,
        max_cut: 0.3,
        tags: vec![1],
    });
    f.quality = Some(Quality {
        thresholds: [1.0, 2.0, 3.0],
        reward: [0.0; 3],
        deduction: [0.0; 3],
    });
    f.floor = Some(Floor {
        h: 1.0,
        waived_on: crate::model::WaivedOn {
            worse_grade: true,
            damage: false,
        },
    });
    let a = run(&f, &d, &open()).unwrap();
    // Region 0 carries the eco tag: gap 20 + 0.5·4 − 10 = 12; the others 20 and 30.
    assert_relative_eq!(a.gap[0], 12.0);
    assert_relative_eq!(a.gap[1], 20.0);
    // Only region 1 carries the cut's tag: 0.5 · 0.2 = 0.1.
    assert_relative_eq!(a.cut[0], 0.0);
    assert_relative_eq!(a.cut[1], 0.1);
    assert_relative_eq!(a.claim[1], 20.0 * 0.9);
    // D > 0 does not waive these floors; region 2's markedly worse grade does.
    assert_eq!(a.floor_waived, vec![false, false, true]);
    assert_relative_eq!(a.floor[0], 10.0);
    assert_relative_eq!(a.floor[2], 0.0);
    // An empty list keeps every floor.
    f.floor = Some(Floor {
        h: 1.0,
        waived_on: crate::model::WaivedOn::NONE,
    });
    let a = run(&f, &d, &open()).unwrap();
    assert!(a.floor_waived.iter().all(|&w| !w));
    assert_relative_eq!(a.floor[2], 30.0);
}

#[test]
fn under_the_key_rule_a_pool_pays_its_share() {
    // K = 10, 20, 30; a red-line pool of 25 % of 120 = 30 split by L = 10, 50, 90: 2, 10,
    // 18. Only K scales: 60 s + 30 = 120, s = 1.5, x = 17, 40, 63.
    let mut f = key_only();
    f.redline = Some(RedlinePool {
        size: PoolSize::Share(0.25),
        gamma: 0.0,
        threshold: 0.0,
    });
    let key = Budget {
        scale: BudgetScale::Key,
        ..fixed(120.0)
    };
    let a = run(&f, &regions(), &key).unwrap();
    assert_relative_eq!(a.scale, 1.5, epsilon = 1e-12);
    for (x, want) in a.x.iter().zip([17.0, 40.0, 63.0]) {
        assert_relative_eq!(*x, want, epsilon = 1e-12);
    }
    // Scaling everything: S' = 12, 30, 48 and s = 120/90, so the pool pays 40, not 30.
    let a = run(&f, &regions(), &fixed(120.0)).unwrap();
    for (x, want) in a.x.iter().zip([16.0, 40.0, 64.0]) {
        assert_relative_eq!(*x, want, epsilon = 1e-12);
    }
}

#[test]
fn per_unit_components_and_expression_pools_by_hand() {
    use crate::model::expr::{ColumnRef, Expr};
    let mut d = regions();
    d.extra = vec![vec![100.0, 200.0, 50.0]];
    d.tags = vec![1, 1, 0];
    let mut f = key_only();
    // 0.1 per unit of the extra column, for tag 0 only: 10, 20, 0.
    f.per_unit.push(crate::model::PerUnit {
        name: "forest".into(),
        column: ColumnRef::Extra(0),
        rate: 0.1,
        tags: vec![0],
    });
    // An amount of 12 by 10 · coverage = 1, 5, 9: 0.8, 4, 7.2.
    let resolve = |n: &str| Column::from_name(n).map(ColumnRef::Base);
    f.pools.push(crate::model::GeneralPool {
        name: "wet".into(),
        size: PoolSize::Amount(12.0),
        weight: Expr::parse("redline_km2 / area_km2 * 10", &resolve).unwrap(),
        weight_text: String::new(),
    });
    let key = Budget {
        scale: BudgetScale::Key,
        ..fixed(100.0)
    };
    let a = run(&f, &d, &key).unwrap();
    assert_eq!(a.classified_names, ["per_unit_forest", "pool_wet"]);
    for (v, want) in a.classified[0].iter().zip([10.0, 20.0, 0.0]) {
        assert_relative_eq!(*v, want, epsilon = 1e-12);
    }
    for (v, want) in a.classified[1].iter().zip([0.8, 4.0, 7.2]) {
        assert_relative_eq!(*v, want, epsilon = 1e-12);
    }
    // 60 s + 42 = 100: s = 58/60, and each region gets s·K plus its stated amounts.
    let s = 58.0 / 60.0;
    assert_relative_eq!(a.scale, s, epsilon = 1e-12);
    for (i, stated) in [10.8, 24.0, 7.2].iter().enumerate() {
        assert_relative_eq!(a.x[i], s * a.key[i] + stated, epsilon = 1e-12);
    }
    assert_relative_eq!(a.total, 100.0, epsilon = 1e-12);
}
