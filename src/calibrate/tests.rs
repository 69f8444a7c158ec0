use super::*;
use crate::synth::{synth_budget, synth_formulas, synth_regions};

/// The synthetic baseline with four coefficients set to known values, and a target that is
/// its allocation with 1 % deterministic noise.
fn known(n: usize) -> (Problem, [f64; 4]) {
    let regions = synth_regions(n, 31, 1);
    let mut f = synth_formulas(&regions.meta).remove(0);
    let budget = synth_budget(&regions);
    let meta = &regions.meta;
    let paths_ = [
        "key.redline_uplift",
        "redline.share",
        "protected_areas.share",
        "importance.water_source",
    ];
    let truth = [0.45, 0.14, 0.06, 1.35];
    let free: Vec<Free> = paths_
        .iter()
        .zip([(0.0, 1.0), (0.0, 0.3), (0.0, 0.2), (1.0, 2.0)])
        .map(|(p, (lo, hi))| Free {
            path: p.to_string(),
            param: paths::resolve(&f, meta, p).unwrap(),
            lo,
            hi,
        })
        .collect();
    let mut truth_f = f.clone();
    for (fr, &v) in free.iter().zip(&truth) {
        fr.param.set(&mut truth_f, v);
    }
    let mut out = Allocation::default();
    allocate(
        &truth_f,
        &regions.data,
        &budget,
        &mut Workspace::default(),
        &mut out,
    )
    .unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let target = out
        .x
        .iter()
        .map(|&x| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            Some(x * (1.0 + 0.01 * (2.0 * u - 1.0) * 3f64.sqrt()))
        })
        .collect();
    // Start away from the truth.
    for (fr, v) in free.iter().zip([0.2, 0.08, 0.1, 1.1]) {
        fr.param.set(&mut f, v);
    }
    let p = Problem {
        formula: f,
        data: regions.data,
        budget,
        target,
        free,
        loss: Loss::Share,
    };
    (p, truth)
}

#[test]
fn recovers_known_coefficients_within_two_percent() {
    let (p, truth) = known(2800);
    let s = Settings {
        starts: 2,
        folds: 2,
        max_iters: 400,
        profile_points: 5,
    };
    let c = calibrate(&p, &s, &Cancel::new(), &mut |_, _| {}).unwrap();
    for (j, (&got, &want)) in c.best.iter().zip(&truth).enumerate() {
        assert!(
            ((got - want) / want).abs() <= 0.02,
            "{}: {got} vs {want}",
            c.free[j].path
        );
    }
    assert!(c.in_sample.loss < c.initial_fit.loss);
    assert!(c.in_sample.spearman.unwrap() > 0.99);
    assert!(c.out_of_sample.wape < 0.05, "{:?}", c.out_of_sample);
    assert!(
        c.profiles.iter().all(|pr| pr.identified),
        "{:?}",
        c.profiles
    );
}

#[test]
fn a_coefficient_that_moves_nothing_is_reported_flat() {
    // c0 under a fixed budget that scales only the key subsidy cannot move any allocation.
    let (mut p, _) = known(200);
    p.free = vec![Free {
        path: "key.c0".into(),
        param: FormulaParam::C0,
        lo: 0.1,
        hi: 2.0,
    }];
    let s = Settings {
        starts: 1,
        folds: 2,
        max_iters: 50,
        profile_points: 5,
    };
    let c = calibrate(&p, &s, &Cancel::new(), &mut |_, _| {}).unwrap();
    assert!(!c.profiles[0].identified, "{:?}", c.profiles[0]);
}

#[test]
fn paths_name_the_formulas_fields() {
    let regions = synth_regions(10, 2, 1);
    let f = synth_formulas(&regions.meta).remove(0);
    let m = &regions.meta;
    assert_eq!(paths::resolve(&f, m, "key.c0"), Ok(FormulaParam::C0));
    assert_eq!(
        paths::resolve(&f, m, "redline.gamma"),
        Ok(FormulaParam::RlGamma)
    );
    assert!(matches!(
        paths::resolve(&f, m, "importance.water_source"),
        Ok(FormulaParam::Importance(_))
    ));
    let e = paths::resolve(&f, m, "redline.amount").unwrap_err();
    assert!(e.contains("given as a share"), "{e}");
    let e = paths::resolve(&f, m, "key.c1").unwrap_err();
    assert!(e.contains("not a coefficient path"), "{e}");
    let e = paths::resolve(&f, m, "per_unit.forest.rate").unwrap_err();
    assert!(e.contains("no per-unit component 'forest'"), "{e}");
    assert_eq!(paths::value(&f, FormulaParam::CapGrowth), 0.2);
}
