//! The Monte Carlo kernel (`vertical::kernel`) gives the same bits as the general
//! allocator on perturbed inputs: amounts, binding flags, budget flows and totals, in
//! fixed and open mode, with floors and caps binding, and on the inputs it hands to the
//! allocator (floors above the budget).

use ecocomp::model::region::{Column, RegionData};
use ecocomp::model::{Budget, BudgetMode, BudgetScale, OnInfeasible};
use ecocomp::sampling::rng::{open01, std_normal, stream};
use ecocomp::simd::{Tier, with_tier};
use ecocomp::synth::{
    add_classified, add_classified_components, synth_budget, synth_formulas, synth_regions,
};
use ecocomp::vertical::flows::budget_flows;
use ecocomp::vertical::kernel::{
    DrawOut, Kernel, KernelScratch, SharedTerms, self_sufficiency_into,
};
use ecocomp::vertical::{Allocation, Workspace, allocate};

/// Perturb revenue, ΔQ and the damage index of `base` as a Monte Carlo draw would.
fn perturb(base: &RegionData, seed: u64, draw: u64) -> RegionData {
    let mut rng = stream(seed, draw, 7);
    let mut d = base.clone();
    for v in d.col_mut(Column::StdRevenue) {
        *v *= (0.15 * std_normal(&mut rng)).exp();
    }
    for v in d.col_mut(Column::EqiChange) {
        *v += 1.5 * std_normal(&mut rng);
    }
    for v in d.col_mut(Column::DamageIndex) {
        *v = if open01(&mut rng) < 0.3 {
            open01(&mut rng)
        } else {
            0.0
        };
    }
    d
}

/// Returns whether the kernel's own path produced the draw. With `shared`, the kernel runs
/// with the draw's shared band and grade terms ([`Kernel::run_shared`]).
fn check(
    case: &str,
    kernel: &Kernel,
    data: &RegionData,
    budget: &Budget,
    shared: Option<&mut SharedTerms>,
    out: &mut DrawOut,
) -> bool {
    let f = kernel.formula();
    let mut want = Allocation::default();
    let expected = allocate(f, data, budget, &mut Workspace::default(), &mut want);
    let mut ratio = Vec::new();
    self_sufficiency_into(data, &mut ratio);
    let mut x = vec![f64::NAN; data.n];
    let mut scratch = KernelScratch::default();
    let got = match shared {
        Some(sh) => kernel.run_shared(data, &ratio, budget, &mut scratch, sh, &mut x, out),
        None => kernel.run(data, &ratio, budget, &mut scratch, &mut x, out),
    };
    match (expected, got) {
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{case}"),
        (Ok(()), Ok(())) => {
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x), bits(&want.x), "{case}: amounts");
            let flags = |v: &[bool]| v.iter().map(|&b| u8::from(b)).collect::<Vec<_>>();
            assert_eq!(out.floor_binds, flags(&want.floor_binds), "{case}: floors");
            assert_eq!(out.cap_binds, flags(&want.cap_binds), "{case}: caps");
            let ded: Vec<u8> = want.q.iter().map(|&q| u8::from(q < 0.0)).collect();
            assert_eq!(out.deduction, ded, "{case}: deductions");
            assert_eq!(out.flows, budget_flows(&want), "{case}: flows");
            assert_eq!(out.total.to_bits(), want.total.to_bits(), "{case}: total");
            assert_eq!(
                out.unallocated.to_bits(),
                want.unallocated().to_bits(),
                "{case}: unallocated"
            );
        }
        (a, b) => panic!("{case}: allocate {a:?}, kernel {b:?}"),
    }
    out.fast
}

#[test]
fn kernel_matches_allocate_on_perturbed_draws() {
    let mut floors_bound = 0;
    let (mut fast, mut handed) = (0, 0);
    for (n, seed) in [(1, 3), (7, 4), (60, 5), (203, 7), (900, 6)] {
        let mut regions = synth_regions(n, 5.min(n), seed);
        let mut formulas = synth_formulas(&regions.meta);
        // The same formulas with a per-unit component and an expression pool over the
        // declared extra columns.
        add_classified(&mut regions, seed);
        let mut classified = formulas.clone();
        add_classified_components(&mut classified, &regions.meta);
        for f in &mut classified {
            f.name.push_str("/classified");
        }
        // The same formulas with the eco-spending weight and the cut limited to tagged
        // regions, and floors waived on a worse grade only.
        let scoped: Vec<_> = formulas
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f.name.push_str("/scoped");
                f.guidance_combine = ecocomp::model::GuidanceCombine::Highest;
                if let Some(k) = f.key.as_mut() {
                    k.eco_weight = k.eco_weight.max(0.5);
                    k.eco_weight_tags = vec![0];
                }
                if let Some(r) = f.reverse_linkage.as_mut() {
                    r.tags = vec![1];
                }
                if let Some(fl) = f.floor.as_mut() {
                    fl.waived_on = ecocomp::model::WaivedOn {
                        worse_grade: true,
                        damage: false,
                    };
                }
                f
            })
            .collect();
        formulas.extend(scoped);
        formulas.extend(classified);
        let fixed = synth_budget(&regions);
        let open = Budget {
            mode: BudgetMode::Open,
            ..fixed.clone()
        };
        let total = fixed.total.unwrap_or(0.0);
        // A budget so small that the floors exceed it (the kernel hands over to
        // `allocate`, which errors or scales the floors) and one that leaves money over.
        let tiny = |on_infeasible| Budget {
            total: Some(total * 1e-3),
            mode: BudgetMode::Fixed,
            on_infeasible,
            scale: fixed.scale,
        };
        let budgets = [
            ("fixed", fixed.clone()),
            ("open", open),
            (
                "tight",
                Budget {
                    total: Some(total * 0.8),
                    ..fixed.clone()
                },
            ),
            ("tiny/error", tiny(OnInfeasible::Error)),
            ("tiny/scale", tiny(OnInfeasible::ScaleFloors)),
        ];
        // Every budget under both readings of the scale: the key subsidy only, and all.
        let budgets: Vec<_> = budgets
            .into_iter()
            .flat_map(|(name, b)| {
                [BudgetScale::Key, BudgetScale::All]
                    .map(|scale| (format!("{name}/{scale:?}"), Budget { scale, ..b.clone() }))
            })
            .collect();
        for f in &formulas {
            for (name, budget) in &budgets {
                let kernel = Kernel::new(f, &regions.data, budget);
                // One `DrawOut` for the formula's draws, as in a Monte Carlo worker: each
                // draw's budget solve starts from the last one's scale.
                let mut out = DrawOut::default();
                for draw in 0..20 {
                    let data = perturb(&regions.data, seed, draw);
                    let own = check(
                        &format!("n={n} formula {} budget {name} draw {draw}", f.name),
                        &kernel,
                        &data,
                        budget,
                        None,
                        &mut out,
                    );
                    if own {
                        fast += 1;
                    } else {
                        handed += 1;
                    }
                    // County-sized sets under an ordinary budget never need the general allocator.
                    assert!(
                        own || n < 60 || name.starts_with("tiny"),
                        "{name} left the fast path"
                    );
                    let mut a = Allocation::default();
                    if allocate(f, &data, budget, &mut Workspace::default(), &mut a).is_ok() {
                        floors_bound += a.floor_binds.iter().filter(|&&b| b).count();
                    }
                }
            }
        }
    }
    // The comparison covered regions lifted by their floors, not only free ones.
    assert!(floors_bound > 100, "only {floors_bound} floors bound");
    assert!(fast > 0 && handed > 0, "fast {fast}, handed over {handed}");
}

#[test]
fn shared_band_and_grade_terms_give_the_same_bits() {
    // Every formula of a draw in turn with one set of shared terms, as the Monte Carlo
    // engine runs them: the synthetic formulas share their bands and thresholds; an extra
    // formula with other thresholds, placed second, must compute its own.
    let regions = synth_regions(203, 5, 11);
    let mut formulas = synth_formulas(&regions.meta);
    let mut other = formulas[0].clone();
    if let Some(q) = other.quality.as_mut() {
        q.thresholds = [0.5, 1.5, 2.5];
    }
    formulas.insert(1, other);
    let budget = synth_budget(&regions);
    let kernels: Vec<Kernel> = formulas
        .iter()
        .map(|f| Kernel::new(f, &regions.data, &budget))
        .collect();
    // `run_shared` runs through `with_simd`: each copy the CPU has, in turn.
    for tier in [Tier::Baseline, Tier::Avx2, Tier::Avx512] {
        let mut shared = SharedTerms::default();
        let mut outs = vec![DrawOut::default(); kernels.len()];
        for draw in 0..20 {
            let data = perturb(&regions.data, 11, draw);
            shared.begin_draw();
            for (k, kernel) in kernels.iter().enumerate() {
                with_tier(tier, || {
                    check(
                        &format!("shared terms, {tier:?} copy, draw {draw}, formula {k}"),
                        kernel,
                        &data,
                        &budget,
                        Some(&mut shared),
                        &mut outs[k],
                    )
                });
            }
        }
    }
}
