use super::*;
use crate::sampling::special::norm_inv_cdf;
use approx::assert_relative_eq;

fn un(dist: Dist) -> Uncertain {
    Uncertain {
        dist,
        min: f64::NEG_INFINITY,
        max: f64::INFINITY,
    }
}

#[test]
fn quantiles_match_closed_forms() {
    let u = un(Dist::Uniform {
        low: 2.0,
        high: 4.0,
    });
    assert_relative_eq!(quantile(&u, 0.25), 2.5);
    let n = un(Dist::Normal { mean: 1.0, sd: 2.0 });
    for p in [0.01, 0.3, 0.5, 0.9] {
        assert_relative_eq!(quantile(&n, p), 1.0 + 2.0 * norm_inv_cdf(p), epsilon = 1e-9);
    }
    let ln = un(Dist::LogNormal {
        mu: 0.5,
        sigma: 0.3,
    });
    assert_relative_eq!(quantile(&ln, 0.5), 0.5f64.exp(), epsilon = 1e-9);
    // Triangular(0, 1, 2) is symmetric: median 1, and F(0.5) = 0.125.
    let t = un(Dist::Triangular {
        low: 0.0,
        mode: 1.0,
        high: 2.0,
    });
    assert_relative_eq!(quantile(&t, 0.5), 1.0, epsilon = 1e-12);
    assert_relative_eq!(quantile(&t, 0.125), 0.5, epsilon = 1e-12);
    // Symmetric PERT: median at the mode.
    let p = un(Dist::Pert {
        low: 0.0,
        mode: 5.0,
        high: 10.0,
    });
    assert_relative_eq!(quantile(&p, 0.5), 5.0, epsilon = 1e-9);
}

#[test]
fn quantiles_respect_truncation_and_are_monotone() {
    let u = Uncertain {
        dist: Dist::Normal { mean: 0.0, sd: 1.0 },
        min: 0.0,
        max: 1.0,
    };
    let mut last = f64::NEG_INFINITY;
    for k in 1..100 {
        let x = quantile(&u, k as f64 / 100.0);
        assert!((0.0..=1.0).contains(&x) && x >= last);
        last = x;
    }
    // Half-normal on [0, ∞): median Φ⁻¹(0.75).
    let h = Uncertain {
        dist: Dist::Normal { mean: 0.0, sd: 1.0 },
        min: 0.0,
        max: f64::INFINITY,
    };
    assert_relative_eq!(quantile(&h, 0.5), norm_inv_cdf(0.75), epsilon = 1e-9);
}

/// [`run`] with nobody watching.
fn run_quiet(scn: &Scenario, s: &SensitivitySettings) -> Result<SensitivityRun> {
    let cancel = Cancel::new();
    run(
        scn,
        s,
        &Watch {
            progress: &|_, _| {},
            cancel: &cancel,
        },
    )
}

fn settings(method: Method, samples: usize, threads: usize) -> SensitivitySettings {
    SensitivitySettings {
        formula: "reform".into(),
        method,
        samples,
        seed: 3,
        threads,
        regions: vec![],
    }
}

#[test]
fn both_methods_run_on_the_example_and_are_thread_independent() {
    let scn = crate::scenario::shipped_with("example.toml", "");
    let m = run_quiet(&scn, &settings(Method::Morris, 10, 1)).unwrap();
    assert_eq!(m.inputs, ["reform.key.redline_uplift"]);
    assert!(m.outputs.contains(&"gini".to_string()));
    let s1 = run_quiet(&scn, &settings(Method::Sobol, 128, 1)).unwrap();
    let s3 = run_quiet(&scn, &settings(Method::Sobol, 128, 3)).unwrap();
    assert_eq!(s1, s3);
    // One input explains all the variance of the Gini it moves.
    let Indices::Sobol(r) = &s1.indices else {
        panic!("sobol")
    };
    let g = s1.outputs.iter().position(|o| o == "gini").unwrap();
    let ix = r.index(0, g).unwrap();
    assert!(r.variance[g] > 0.0);
    assert!(ix.st > 0.8 && ix.st < 1.2, "{ix:?}");
    let csv = String::from_utf8(crate::report::sensitivity::sensitivity_csv(&s1).unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 1 + s1.outputs.len());
    // Region a does not move with c0 (see the Sobol run): no chart for it.
    let a = m.outputs.iter().position(|o| o == "alloc:a").unwrap();
    assert!(m.constant[a] && s1.constant[a]);
    assert!(!s1.constant[g]);
    let charts = crate::report::sensitivity::tornado_charts(&scn, &m);
    assert_eq!(charts.len(), m.constant.iter().filter(|c| !**c).count());
    assert!(charts.iter().all(|(stem, _)| stem != "tornado_alloc_a"));
}

#[test]
fn no_uncertain_parameters_is_a_clear_error() {
    let scn = crate::scenario::shipped_with("example.toml", "");
    let mut s = settings(Method::Morris, 10, 1);
    s.formula = "baseline".into();
    let msg = run_quiet(&scn, &s).unwrap_err().to_string();
    assert!(msg.contains("example") && msg.contains("dist"), "{msg}");
}

/// Progress counts every point of the design, on any number of threads, and a cancelled
/// analysis stops with `Interrupted` rather than an answer from part of the design.
#[test]
fn progress_counts_the_design_and_cancel_stops_it() {
    let scn = crate::scenario::shipped_with("example.toml", "");
    let s = settings(Method::Sobol, 128, 2);
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |done, total| seen.lock().unwrap().push((done, total));
    let cancel = Cancel::new();
    let watched = run(
        &scn,
        &s,
        &Watch {
            progress: &progress,
            cancel: &cancel,
        },
    )
    .unwrap();
    assert_eq!(watched, run_quiet(&scn, &s).unwrap());
    let seen = seen.into_inner().unwrap();
    // Saltelli: N (k + 2) points, one input here.
    let total = 128 * 3;
    assert!(
        seen.len() > 1 && seen.iter().all(|&(_, t)| t == total),
        "{seen:?}"
    );
    assert_eq!(seen.iter().map(|&(d, _)| d).max(), Some(total));

    cancel.cancel();
    let stopped = run(
        &scn,
        &s,
        &Watch {
            progress: &|_, _| {},
            cancel: &cancel,
        },
    );
    assert!(matches!(stopped, Err(Error::Interrupted)), "{stopped:?}");
}
