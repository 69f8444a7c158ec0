//! Property tests for the vertical allocator's invariants (docs/model.md §1.5): non-negativity,
//! budget conservation, order independence, scale equivariance, monotonicity in open mode,
//! and respect of floors and caps.

use ecocomp::model::region::{Column, RegionData};
use ecocomp::model::{
    Budget, BudgetMode, BudgetScale, Floor, Formula, KeySubsidy, OnInfeasible, PoolSize,
    ProtectedAreaPool, Quality, RedlinePool, ReverseLinkage,
};
use ecocomp::vertical::{Allocation, Workspace, allocate};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Number of distinct tags in generated regions.
const NTAGS: u32 = 4;

#[derive(Debug, Clone)]
struct Row {
    revenue: f64,
    expenditure: f64,
    eco: f64,
    area: f64,
    redline: f64,
    pa_km2: f64,
    pa_count: f64,
    pa_score: f64,
    rangers: f64,
    dq: f64,
    damage: f64,
    prior: f64,
    hold: bool,
    tags: u64,
}

fn row() -> impl Strategy<Value = Row> {
    (
        (1.0..100.0f64, 0.0..1.5f64, 0.0..0.3f64),
        (1.0..10_000.0f64, 0.0..=1.0f64),
        (
            prop_oneof![Just(0.0), 0.0..500.0f64],
            prop_oneof![Just(0.0), 1.0..10.0f64],
            0.0..=1.0f64,
        ),
        (
            0.0..1000.0f64,
            -5.0..5.0f64,
            prop_oneof![Just(0.0), 0.0..1.0f64],
        ),
        (
            prop_oneof![Just(0.0), 0.1..80.0f64],
            any::<bool>(),
            0u64..(1 << NTAGS),
        ),
    )
        .prop_map(
            |(
                (e, ratio, eco),
                (area, red),
                (pa_km2, pa_count, pa_score),
                (rangers, dq, d),
                (prior, hold, tags),
            )| Row {
                revenue: e * ratio,
                expenditure: e,
                eco: e * eco,
                area,
                redline: area * red,
                pa_km2,
                pa_count: pa_count.floor(),
                pa_score,
                rangers: rangers.floor(),
                dq,
                damage: d,
                prior,
                hold,
                tags,
            },
        )
}

fn to_data(rows: &[Row]) -> RegionData {
    let mut d = RegionData::zeros(rows.len());
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in [
            (Column::StdRevenue, r.revenue),
            (Column::StdExpenditure, r.expenditure),
            (Column::EcoSpending, r.eco),
            (Column::AreaKm2, r.area),
            (Column::RedlineKm2, r.redline),
            (Column::PaKm2, r.pa_km2),
            (Column::PaCount, r.pa_count),
            (Column::PaScore, r.pa_score),
            (Column::Rangers, r.rangers),
            (Column::EqiChange, r.dq),
            (Column::DamageIndex, r.damage),
            (Column::PriorAllocation, r.prior),
        ] {
            d.col_mut(c)[i] = v;
        }
        d.hold_harmless[i] = r.hold;
        d.tags[i] = r.tags;
    }
    d
}

/// A pool size: a share of the total, or an amount given as a fraction of the total
/// (converted in [`scenario`] so pools never exceed the budget).
fn pool_size() -> impl Strategy<Value = PoolSize> {
    prop_oneof![
        (0.0..0.3f64).prop_map(PoolSize::Share),
        (0.0..0.3f64).prop_map(PoolSize::Amount),
    ]
}

fn formula() -> impl Strategy<Value = Formula> {
    let key = prop::option::of((
        0.1..2.0f64,
        0.0..1.0f64,
        0.0..1.0f64,
        prop::collection::vec((0.05..0.5f64, 0.0..2.0f64), 0..4),
    ));
    let tagged = |lo: f64, hi: f64| prop::collection::vec((0..NTAGS, lo..hi), 0..4);
    let pa = prop::option::of((pool_size(), 0.0..1.0f64, 0.0..1.0f64, 0.0..=1.0f64));
    let rl = prop::option::of((pool_size(), 0.0..3.0f64, 0.0..1.0f64));
    let quality = prop::option::of((
        (0.1..1.0f64, 0.1..1.0f64, 0.1..1.0f64),
        (0.0..0.3f64, 0.0..0.3f64, 0.0..0.3f64),
        (0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64),
    ));
    let linkage = prop::option::of((0.0..2.0f64, 0.0..=1.0f64));
    let floor = prop::option::of((0.5..1.5f64, any::<bool>()));
    let cap = prop::option::of(0.0..0.5f64);
    (
        (key, tagged(0.5, 3.0), pa, rl),
        (tagged(0.0, 5.0), prop::option::of(0.0..0.05f64), quality),
        (linkage, floor, cap),
    )
        .prop_map(
            |((key, importance, pa, rl), (guidance, rangers, quality), (linkage, floor, cap))| {
                let mut f = Formula::empty("prop");
                f.key = key.map(|(c0, a, beta, steps)| {
                    let mut lower = 0.0;
                    let bands = steps
                        .into_iter()
                        .map(|(inc, m)| {
                            lower += inc;
                            (lower, m)
                        })
                        .collect();
                    KeySubsidy {
                        c0,
                        eco_weight: a,
                        redline_uplift: beta,
                        eco_weight_tags: Vec::new(),
                        bands,
                    }
                });
                f.importance = importance;
                f.protected_areas = pa.map(|(size, w_area, w_count, w_score)| ProtectedAreaPool {
                    size,
                    w_area,
                    w_count,
                    w_score,
                });
                f.redline = rl.map(|(size, gamma, threshold)| RedlinePool {
                    size,
                    gamma,
                    threshold,
                });
                f.guidance = guidance;
                f.rangers = rangers;
                f.quality = quality.map(|((a, b, c), reward, deduction)| Quality {
                    thresholds: [a, a + b, a + b + c],
                    reward: reward.into(),
                    deduction: deduction.into(),
                });
                f.reverse_linkage = linkage.map(|(lambda, max_cut)| ReverseLinkage {
                    lambda,
                    max_cut,
                    tags: Vec::new(),
                });
                f.floor = floor.map(|(h, waived)| Floor {
                    h,
                    waived_on: if waived {
                        ecocomp::model::WaivedOn::BOTH
                    } else {
                        ecocomp::model::WaivedOn::NONE
                    },
                });
                f.cap = cap;
                f
            },
        )
}

/// Regions, a formula with pool amounts resolved against the total, and a fixed budget.
fn scenario() -> impl Strategy<Value = (Vec<Row>, Formula, Budget)> {
    (
        prop::collection::vec(row(), 1..40),
        formula(),
        1.0..5_000.0f64,
        any::<bool>(),
    )
        .prop_map(|(rows, mut f, total, key_only)| {
            for size in [
                f.protected_areas.as_mut().map(|p| &mut p.size),
                f.redline.as_mut().map(|p| &mut p.size),
            ]
            .into_iter()
            .flatten()
            {
                if let PoolSize::Amount(frac) = *size {
                    *size = PoolSize::Amount(frac * total);
                }
            }
            let budget = Budget {
                total: Some(total),
                mode: BudgetMode::Fixed,
                on_infeasible: OnInfeasible::ScaleFloors,
                scale: if key_only {
                    BudgetScale::Key
                } else {
                    BudgetScale::All
                },
            };
            (rows, f, budget)
        })
}

fn run(f: &Formula, d: &RegionData, b: &Budget) -> Allocation {
    let mut out = Allocation::default();
    allocate(f, d, b, &mut Workspace::default(), &mut out).unwrap();
    out
}

fn open(b: &Budget) -> Budget {
    Budget {
        mode: BudgetMode::Open,
        ..b.clone()
    }
}

/// Multiply every money input by k.
fn scale_money(rows: &[Row], f: &Formula, b: &Budget, k: f64) -> (Vec<Row>, Formula, Budget) {
    let rows = rows
        .iter()
        .map(|r| Row {
            revenue: r.revenue * k,
            expenditure: r.expenditure * k,
            eco: r.eco * k,
            prior: r.prior * k,
            ..r.clone()
        })
        .collect();
    let mut f = f.clone();
    let scale_pool = |s: &mut PoolSize| {
        if let PoolSize::Amount(a) = *s {
            *s = PoolSize::Amount(a * k);
        }
    };
    if let Some(p) = f.protected_areas.as_mut() {
        scale_pool(&mut p.size);
    }
    if let Some(p) = f.redline.as_mut() {
        scale_pool(&mut p.size);
    }
    for g in &mut f.guidance {
        g.1 *= k;
    }
    f.rangers = f.rangers.map(|r| r * k);
    let b = Budget {
        total: b.total.map(|t| t * k),
        ..b.clone()
    };
    (rows, f, b)
}

/// A permutation of `0..n` from `seed` (Fisher–Yates with a xorshift stream).
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut s = seed | 1;
    for i in (1..n).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        perm.swap(i, (s % (i as u64 + 1)) as usize);
    }
    perm
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * scale.max(1.0) + 1e-9 * a.abs().max(b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Keep regressions in the crate-level folder that is committed with the tests.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/vertical_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn non_negative_and_conserving((rows, f, b) in scenario()) {
        let t = b.total.unwrap();
        let a = run(&f, &to_data(&rows), &b);
        prop_assert!(a.x.iter().all(|&x| x >= 0.0 && x.is_finite()));
        prop_assert!((a.total - (t - a.unallocated())).abs() <= 1e-9 * t,
            "total {} + unallocated {} != {}", a.total, a.unallocated(), t);
        let o = run(&f, &to_data(&rows), &open(&b));
        prop_assert!(o.x.iter().all(|&x| x >= 0.0 && x.is_finite()));
    }

    #[test]
    fn a_pool_pays_exactly_its_share((rows, f, b) in scenario(), share in 0.05..0.5f64) {
        // Nothing touches the pool's regions: no rate, cut, floor or cap.
        let mut f = f;
        f.quality = None;
        f.reverse_linkage = None;
        f.floor = None;
        f.cap = None;
        f.redline = Some(RedlinePool { size: PoolSize::Share(share), gamma: 0.5, threshold: 0.2 });
        let b = Budget { scale: BudgetScale::Key, ..b };
        let t = b.total.unwrap();
        let a = run(&f, &to_data(&rows), &b);
        prop_assume!(a.key.iter().sum::<f64>() > 0.0 && a.rl.iter().sum::<f64>() > 0.0);
        prop_assume!(!a.floors_scaled);
        let rl: f64 = a.rl.iter().sum();
        prop_assert!((rl - share * t).abs() <= 1e-9 * t, "pool {rl} vs {}", share * t);
        // Only the key subsidy moves with the scale: every other component is paid as
        // stated, so the pool's regions receive exactly their pool shares on top.
        for i in 0..rows.len() {
            let stated = a.pa[i] + a.rl[i] + a.guidance[i] + a.rangers[i];
            let want = a.scale * a.key[i] + stated;
            prop_assert!(close(a.x[i], want, t), "region {i}: {} vs {want}", a.x[i]);
        }
        // A pool nobody has weight in is unallocated, not paid.
        prop_assert!((a.total - (t - a.unallocated())).abs() <= 1e-9 * t);
    }

    #[test]
    fn order_independent(
        (rows, f, b) in scenario(),
        seed in any::<u64>(),
    ) {
        let n = rows.len();
        let perm = permutation(n, seed);
        let permuted: Vec<Row> = perm.iter().map(|&p| rows[p].clone()).collect();
        let t = b.total.unwrap();
        let a = run(&f, &to_data(&rows), &b);
        let p = run(&f, &to_data(&permuted), &b);
        for (j, &src) in perm.iter().enumerate() {
            prop_assert!(close(p.x[j], a.x[src], t), "region {src}: {} vs {}", p.x[j], a.x[src]);
        }
        prop_assert!(close(p.unallocated(), a.unallocated(), t));
    }

    #[test]
    fn scale_equivariant((rows, f, b) in scenario(), k in 0.01..100.0f64) {
        let t = b.total.unwrap();
        let a = run(&f, &to_data(&rows), &b);
        let (rows_k, f_k, b_k) = scale_money(&rows, &f, &b, k);
        let ak = run(&f_k, &to_data(&rows_k), &b_k);
        for i in 0..rows.len() {
            prop_assert!(close(ak.x[i], k * a.x[i], k * t), "region {i}: {} vs {}·{}", ak.x[i], k, a.x[i]);
        }
        prop_assert!(close(ak.unallocated(), k * a.unallocated(), k * t));
    }

    #[test]
    fn open_mode_monotone(
        (rows, f, b) in scenario(),
        pick in any::<prop::sample::Index>(),
        more_redline in 0.0..=1.0f64,
        more_eco in 0.0..50.0f64,
        more_importance in 0.0..2.0f64,
    ) {
        let b = open(&b);
        let i = pick.index(rows.len());
        let base = run(&f, &to_data(&rows), &b).x[i];
        let tol = 1e-9 * base.abs().max(1.0);

        let mut r = rows.clone();
        r[i].redline += (r[i].area - r[i].redline) * more_redline;
        let x = run(&f, &to_data(&r), &b).x[i];
        prop_assert!(x >= base - tol, "red-line: {x} < {base}");

        let mut r = rows.clone();
        r[i].eco += more_eco;
        let x = run(&f, &to_data(&r), &b).x[i];
        prop_assert!(x >= base - tol, "eco spending: {x} < {base}");

        // Raise the multiplier of every importance entry for one of the region's tags.
        let mut g = f.clone();
        for entry in &mut g.importance {
            if rows[i].tags >> entry.0 & 1 == 1 {
                entry.1 += more_importance;
            }
        }
        let x = run(&g, &to_data(&rows), &b).x[i];
        prop_assert!(x >= base - tol, "importance: {x} < {base}");
    }

    #[test]
    fn floors_and_caps_respected((rows, f, b) in scenario(), open_mode in any::<bool>()) {
        let b = if open_mode { open(&b) } else { b };
        let a = run(&f, &to_data(&rows), &b);
        if a.floors_scaled {
            return Ok(());
        }
        for i in 0..rows.len() {
            let (x, fl, u) = (a.x[i], a.floor[i], a.cap[i]);
            prop_assert!(x >= fl, "region {i}: x {x} below floor {fl}");
            if fl <= u {
                prop_assert!(x <= u, "region {i}: x {x} above cap {u}");
            } else {
                prop_assert!(close(x, fl, fl), "region {i}: floor should win over cap");
            }
            if a.floor_waived[i] {
                prop_assert!(fl == 0.0);
            }
        }
    }
}

/// Regions with one declared extra column (a stand-in for mu of forest, from `rangers`).
fn to_data_extra(rows: &[Row]) -> RegionData {
    let mut d = to_data(rows);
    d.extra = vec![rows.iter().map(|r| r.rangers * 10.0).collect()];
    d
}

/// `f` with a per-unit component on the extra column (for tag 0 when `tagged`) and an
/// expression pool.
fn with_classified(mut f: Formula, rate: f64, tagged: bool, share: f64) -> Formula {
    use ecocomp::model::expr::{ColumnRef, Expr};
    f.per_unit.push(ecocomp::model::PerUnit {
        name: "forest".into(),
        column: ColumnRef::Extra(0),
        rate,
        tags: if tagged { vec![0] } else { Vec::new() },
    });
    let resolve = |n: &str| Column::from_name(n).map(ColumnRef::Base);
    let text = "redline_km2 * (1 + max(0, redline_km2 / area_km2 - 0.3))";
    f.pools.push(ecocomp::model::GeneralPool {
        name: "wet".into(),
        size: PoolSize::Share(share),
        weight: Expr::parse(text, &resolve).unwrap(),
        weight_text: text.into(),
    });
    f
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/vertical_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn classified_components_conserve_the_budget_and_ignore_region_order(
        (rows, f, b) in scenario(),
        rate in 0.0..0.01f64,
        tagged in any::<bool>(),
        share in 0.0..0.2f64,
        seed in any::<u64>(),
    ) {
        let f = with_classified(f, rate, tagged, share);
        let t = b.total.unwrap();
        let a = run(&f, &to_data_extra(&rows), &b);
        prop_assert!(a.x.iter().all(|&x| x >= 0.0 && x.is_finite()));
        prop_assert!((a.total - (t - a.unallocated())).abs() <= 1e-9 * t);
        // The per-unit amounts are rate · column wherever the tag applies.
        for (i, r) in rows.iter().enumerate() {
            let on = !tagged || r.tags & 1 != 0;
            let want = if on { rate * r.rangers * 10.0 } else { 0.0 };
            prop_assert!(close(a.classified[0][i], want, t));
        }
        let n = rows.len();
        let perm = permutation(n, seed);
        let permuted: Vec<Row> = perm.iter().map(|&p| rows[p].clone()).collect();
        let p = run(&f, &to_data_extra(&permuted), &b);
        for (j, &src) in perm.iter().enumerate() {
            prop_assert!(close(p.x[j], a.x[src], t), "region {src}: {} vs {}", p.x[j], a.x[src]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/vertical_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Two tiers: every province's received plus retained money is its central total, a
    /// province without a method passes entitlements through, and the result does not
    /// depend on region order.
    #[test]
    fn provinces_stay_whole_and_order_does_not_matter(
        (rows, f, b) in scenario(),
        (_, method, _) in scenario(),
        groups in prop::collection::vec(0u32..3, 40),
        retain in 0.0..0.5f64,
        seed in any::<u64>(),
    ) {
        use ecocomp::vertical::tiers::{TierScratch, pass_down};
        let n = rows.len();
        let gidx: Vec<u32> = groups[..n].to_vec();
        let mut central = f.clone();
        central.provincial.push(ecocomp::model::Provincial {
            groups: Some(vec![0, 2]),
            method: 1,
            method_name: "m".into(),
            retain,
        });
        let formulas = vec![central.clone(), method];
        let data = to_data(&rows);
        let a = run(&central, &data, &b);
        let mut x = a.x.clone();
        let mut flows = Vec::new();
        let done = pass_down(
            &central, &formulas, &data, &gidx, 3, &b, &mut x, &mut flows,
            &mut TierScratch::default(),
        );
        // A method whose own floors exceed the province's money is an error, not a panic.
        prop_assume!(done.is_ok());
        let t = b.total.unwrap();
        for g in 0..3u32 {
            let members: Vec<usize> = (0..n).filter(|&i| gidx[i] == g).collect();
            let total: f64 = members.iter().map(|&i| a.x[i]).sum();
            let received: f64 = members.iter().map(|&i| x[i]).sum();
            let fl = flows[g as usize];
            prop_assert!((fl.total - total).abs() <= 1e-9 * t);
            prop_assert!(
                (received + fl.retained + fl.unallocated - total).abs() <= 1e-9 * t,
                "group {g}: {received} + {} + {} vs {total}", fl.retained, fl.unallocated
            );
            if g == 1 {
                for &i in &members {
                    prop_assert_eq!(x[i].to_bits(), a.x[i].to_bits());
                }
            }
        }
        // The same regions in another order give the same amounts.
        let perm = permutation(n, seed);
        let prows: Vec<Row> = perm.iter().map(|&p| rows[p].clone()).collect();
        let pg: Vec<u32> = perm.iter().map(|&p| gidx[p]).collect();
        let pdata = to_data(&prows);
        let mut px = run(&central, &pdata, &b).x;
        let mut pflows = Vec::new();
        pass_down(
            &central, &formulas, &pdata, &pg, 3, &b, &mut px, &mut pflows,
            &mut TierScratch::default(),
        ).unwrap();
        for (j, &src) in perm.iter().enumerate() {
            prop_assert!(close(px[j], x[src], t), "region {src}: {} vs {}", px[j], x[src]);
        }
    }
}
