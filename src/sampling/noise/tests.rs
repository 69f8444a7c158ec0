use super::*;
use crate::sampling::rng::stream;
use crate::simd::{Tier, with_tier};
use approx::assert_relative_eq;

fn model(kind: NoiseKind, sigma: f64, rho: f64) -> NoiseModel {
    NoiseModel {
        column: Column::EqiChange,
        kind,
        sigma: Sigma::Const(sigma),
        rho,
        min: f64::NEG_INFINITY,
        max: f64::INFINITY,
    }
}

/// `draws` applications to `base`, one stream per draw; returns per-draw outputs.
fn run(m: &NoiseModel, base: &[f64], groups: &[u32], n_groups: usize, draws: u64) -> Vec<Vec<f64>> {
    let mut zg = Vec::new();
    let mut out = vec![0.0; base.len()];
    (0..draws)
        .map(|d| {
            let mut r = stream(17, d, 0);
            assert_eq!(
                m.apply(base, groups, n_groups, &mut r, &mut zg, &mut out),
                0
            );
            out.clone()
        })
        .collect()
}

fn corr(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn column(draws: &[Vec<f64>], i: usize) -> Vec<f64> {
    draws.iter().map(|d| d[i]).collect()
}

#[test]
fn group_factor_gives_within_group_correlation_rho_squared() {
    let rho = 0.7;
    let m = model(NoiseKind::Additive, 2.0, rho);
    let base = [0.0, 1.0, 5.0];
    let groups = [0, 0, 1];
    let d = run(&m, &base, &groups, 2, 40_000);
    let (e0, e1, e2) = (column(&d, 0), column(&d, 1), column(&d, 2));
    // se of a correlation estimate ≈ (1 − r²)/√n ≈ 0.004 here.
    assert_relative_eq!(corr(&e0, &e1), rho * rho, epsilon = 0.02);
    assert!(corr(&e0, &e2).abs() < 0.02);
    // Marginal sd stays σ whatever ρ.
    let sd = (e2.iter().map(|v| (v - 5.0) * (v - 5.0)).sum::<f64>() / e2.len() as f64).sqrt();
    assert_relative_eq!(sd, 2.0, max_relative = 0.02);
}

#[test]
fn multiplicative_noise_preserves_the_mean() {
    let m = NoiseModel {
        sigma: Sigma::PerRegion(vec![0.3, 0.0]),
        ..model(NoiseKind::Multiplicative, 0.0, 0.4)
    };
    let base = [100.0, 50.0];
    let d = run(&m, &base, &[0, 0], 1, 40_000);
    let x0 = column(&d, 0);
    let mean = x0.iter().sum::<f64>() / x0.len() as f64;
    // sd of x0 ≈ 100·√(e^0.09 − 1) ≈ 30.7; se of the mean ≈ 0.15.
    assert_relative_eq!(mean, 100.0, epsilon = 0.8);
    // σ = 0 leaves the region untouched.
    assert!(column(&d, 1).iter().all(|v| (*v - 50.0).abs() < 1e-12));
}

#[test]
fn truncation_redraws_without_point_mass() {
    let m = NoiseModel {
        min: 0.0,
        ..model(NoiseKind::Additive, 0.5, 0.5)
    };
    let base = [0.1, -2.0, 3.0];
    let d = run(&m, &base, &[0, 0, 1], 2, 20_000);
    for i in 0..3 {
        let x = column(&d, i);
        assert!(x.iter().all(|v| *v >= 0.0));
        let zeros = x.iter().filter(|v| **v == 0.0).count();
        assert_eq!(zeros, 0, "region {i}: {zeros} draws clamped to the bound");
    }
    // Region 1 sits 4σ below the window: every value comes from the exact path and must
    // follow the truncated shape, concentrated near 0 (median of the conditional tail).
    let mut x1 = column(&d, 1);
    x1.sort_by(f64::total_cmp);
    assert!(x1[10_000] > 0.0 && x1[10_000] < 0.2, "{}", x1[10_000]);
}

#[test]
fn regions_on_the_window_edge_take_one_normal_of_the_right_sign() {
    // A damage index of 0 in [0, ∞) or of 1 in (−∞, 1], no group factor: the value is
    // the base plus or minus a half-normal, and costs exactly one normal per region
    // (no redraws).
    let sigma = 0.3;
    for (base, min, max, sign) in [
        (0.0, 0.0, f64::INFINITY, 1.0),
        (1.0, f64::NEG_INFINITY, 1.0, -1.0),
    ] {
        let m = NoiseModel {
            min,
            max,
            ..model(NoiseKind::Additive, sigma, 0.0)
        };
        let n = 40_000;
        let b = vec![base; n];
        let (mut zg, mut out) = (Vec::new(), vec![0.0; n]);
        let mut r = stream(3, 0, 0);
        assert_eq!(m.apply(&b, &[], 1, &mut r, &mut zg, &mut out), 0);
        let mut plain = stream(3, 0, 0);
        (0..n).for_each(|_| {
            std_normal(&mut plain);
        });
        assert_eq!(r, plain, "redraws happened");
        let e: Vec<f64> = out.iter().map(|v| sign * (v - base)).collect();
        assert!(e.iter().all(|v| *v >= 0.0));
        // Half-normal: mean σ√(2/π) (se ≈ 0.0009), median 0.6745σ.
        let mean = e.iter().sum::<f64>() / n as f64;
        assert_relative_eq!(
            mean,
            sigma * (2.0 / std::f64::consts::PI).sqrt(),
            epsilon = 0.005
        );
        let below = e.iter().filter(|v| **v < 0.674_49 * sigma).count() as f64 / n as f64;
        assert_relative_eq!(below, 0.5, epsilon = 0.01);
    }
    // A far edge in reach: values beyond it are redrawn, and the result is the normal
    // truncated to [0, c] with c = 0.1/σ: E[Z] = (φ(0) − φ(c)) / (Φ(c) − ½).
    let m = NoiseModel {
        min: 0.0,
        max: 0.1,
        ..model(NoiseKind::Additive, sigma, 0.0)
    };
    let n = 40_000;
    let (mut zg, mut out) = (Vec::new(), vec![0.0; n]);
    assert_eq!(
        m.apply(
            &vec![0.0; n],
            &[],
            1,
            &mut stream(4, 0, 0),
            &mut zg,
            &mut out
        ),
        0
    );
    assert!(out.iter().all(|v| (0.0..=0.1).contains(v)));
    let c = 0.1 / sigma;
    let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let want = sigma * (phi(0.0) - phi(c)) / (crate::sampling::special::norm_cdf(c) - 0.5);
    let mean = out.iter().sum::<f64>() / n as f64;
    assert_relative_eq!(mean, want, epsilon = 0.0005);
}

#[test]
fn every_simd_copy_draws_the_baseline_bits() {
    // `apply` runs through `with_simd` (here each copy the CPU has, in turn); the body
    // called here directly is compiled for the baseline. Both kinds, a group factor,
    // a window that redraws and a region on its edge.
    let n = 1000;
    let base: Vec<f64> = (0..n).map(|i| f64::from(i as u32 % 9) * 0.15).collect();
    let groups: Vec<u32> = (0..n).map(|i| (i / 40) as u32).collect();
    let tiers = [Tier::Baseline, Tier::Avx2, Tier::Avx512];
    for ((kind, rho), t) in [(NoiseKind::Additive, 0.0), (NoiseKind::Multiplicative, 0.5)]
        .into_iter()
        .flat_map(|k| tiers.map(|t| (k, t)))
    {
        let m = NoiseModel {
            min: 0.0,
            max: 1.0,
            ..model(kind, 0.4, rho)
        };
        let (mut zg, mut a, mut b) = (Vec::new(), vec![0.0; n], vec![0.0; n]);
        let (mut ra, mut rb) = (stream(9, 2, 0), stream(9, 2, 0));
        let ia = with_tier(t, || m.apply(&base, &groups, 25, &mut ra, &mut zg, &mut a));
        let ib = m.apply_here(&base, &groups, 25, &mut rb, &mut zg, &mut b);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{kind:?} {t:?}");
        assert_eq!((ia, ra), (ib, rb));
    }
}

#[test]
fn redraws_follow_region_order() {
    // The documented draw order: the untruncated values first, then, region by region
    // in order, the redraws of those outside the window. 600 regions span three
    // chunks of the branch-free listing, the last one partial.
    let n = 600;
    let base: Vec<f64> = (0..n)
        .map(|i| f64::from(i as u32 % 7) * 0.2 - 0.3)
        .collect();
    let groups: Vec<u32> = (0..n).map(|i| (i / 50) as u32).collect();
    for kind in [NoiseKind::Additive, NoiseKind::Multiplicative] {
        let m = NoiseModel {
            min: 0.0,
            max: 1.0,
            ..model(kind, 0.8, 0.5)
        };
        let free = NoiseModel {
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            ..m.clone()
        };
        let (mut zg, mut got, mut want) = (Vec::new(), vec![0.0; n], vec![0.0; n]);
        let mut r = stream(5, 1, 0);
        let got_impossible = m.apply(&base, &groups, 12, &mut r, &mut zg, &mut got);
        let mut rr = stream(5, 1, 0);
        free.apply(&base, &groups, 12, &mut rr, &mut zg, &mut want);
        let s = (1.0 - 0.25f64).sqrt();
        let mut impossible = 0;
        let mut redrawn = 0;
        for i in 0..n {
            if !(want[i] >= 0.0 && want[i] <= 1.0) {
                let g = 0.5 * zg[groups[i] as usize];
                want[i] = m.redraw(base[i], 0.8, g, s, &mut rr, &mut impossible);
                redrawn += 1;
            }
        }
        assert!(redrawn > 100, "{redrawn} redraws");
        assert_eq!(got_impossible, impossible);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "{kind:?}");
        // Both consumed the same numbers.
        assert_eq!(r, rr);
    }
}

#[test]
fn impossible_windows_are_counted_not_hung() {
    // σ = 0 and the base is outside the window: nothing can help.
    let m = NoiseModel {
        min: 1.0,
        max: 2.0,
        ..model(NoiseKind::Multiplicative, 0.0, 0.0)
    };
    let mut zg = Vec::new();
    let mut out = [0.0; 2];
    let n = m.apply(
        &[5.0, 1.5],
        &[0, 0],
        1,
        &mut stream(0, 0, 0),
        &mut zg,
        &mut out,
    );
    assert_eq!(n, 1);
    assert_eq!(out, [2.0, 1.5]);
    // ρ = 1: the shared factor decides; out-of-window regions are counted.
    let m = NoiseModel {
        min: 0.0,
        ..model(NoiseKind::Additive, 1.0, 1.0)
    };
    let mut bad = 0;
    for d in 0..200 {
        bad += m.apply(
            &[0.0],
            &[0],
            1,
            &mut stream(0, d, 0),
            &mut zg,
            &mut out[..1],
        );
        assert!(out[0] >= 0.0);
    }
    assert!(bad > 50 && bad < 150, "{bad}");
}

#[test]
fn buffers_are_reused() {
    let m = model(NoiseKind::Additive, 1.0, 0.5);
    let mut zg = Vec::with_capacity(4);
    let ptr = zg.as_ptr();
    let mut out = vec![0.0; 3];
    for d in 0..10 {
        m.apply(
            &[0.0; 3],
            &[0, 1, 3],
            4,
            &mut stream(0, d, 0),
            &mut zg,
            &mut out,
        );
    }
    assert_eq!(zg.as_ptr(), ptr);
}

#[test]
fn validation_names_the_problem() {
    let m = NoiseModel {
        sigma: Sigma::PerRegion(vec![0.1, -1.0]),
        ..model(NoiseKind::Additive, 0.0, 0.0)
    };
    let e = m.validate(2).unwrap_err();
    assert!(e.contains("eqi_change") && e.contains("region 2"), "{e}");
    assert!(
        m.validate(3)
            .unwrap_err()
            .contains("2 per-region sigmas for 3")
    );
    assert!(model(NoiseKind::Additive, 1.0, 1.5).validate(1).is_err());
    assert!(model(NoiseKind::Additive, 1.0, 0.5).validate(1).is_ok());
}
