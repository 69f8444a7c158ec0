//! Crashes found by the cargo-fuzz targets in `fuzz/`, kept as regression tests. Each input
//! is the scenario the fuzz target built (under tests/fuzz_regressions/), and the test
//! asserts the invariant the target checks.

use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions")
}

/// `allocator` target, crash-e0dabdaa…: a budget of 7e-301 against claims near 1e300
/// underflowed the budget scale to 0, so Σx = 0 instead of T (docs/model.md §1 invariant).
#[test]
fn allocator_tiny_budget_huge_claims_sums_to_the_budget() {
    assert_allocation_invariants("allocator_underflow.toml");
}

/// `allocator` target, crash-51536557…: a subnormal claim beside a budget near 1
/// overflowed the scale to +∞, so that region was paid its whole cap and Σx exceeded T.
#[test]
fn allocator_subnormal_claim_does_not_overpay() {
    assert_allocation_invariants("allocator_overflow.toml");
}

/// `allocator` target, crash-4ef7a3d3…: subnormal claims beside a budget of 7e299
/// overflowed the scale to +∞, and a region with a zero claim was paid ∞·0 → +∞.
#[test]
fn allocator_zero_claim_with_infinite_scale_is_paid_nothing() {
    assert_allocation_invariants("allocator_inf.toml");
}

/// `allocator` target, fifth crash: floors near 1e99 against a budget of 9e-301 with
/// `on_infeasible = "scale_floors"` paid `f·(T/Σf)`, which underflowed to 0 for everyone.
#[test]
fn allocator_scaled_floors_do_not_underflow() {
    assert_allocation_invariants("allocator_scaled_floors.toml");
}

/// Every `x_i` finite and ≥ 0, and `Σx = T − unallocated` within `1e-9·T`.
fn assert_allocation_invariants(file: &str) {
    let scn = ecocomp::scenario::load(&dir().join(file)).unwrap();
    let res = ecocomp::run::point::point(&scn).unwrap();
    let v = scn.vertical.as_ref().unwrap();
    let t = v.budget.total.unwrap();
    for fp in &res.formulas {
        let a = &fp.alloc;
        assert!(a.x.iter().all(|x| x.is_finite() && *x >= 0.0), "{:?}", a.x);
        let sum: f64 = a.x.iter().sum();
        let want = t - a.unallocated();
        assert!(
            (sum - want).abs() <= 1e-9 * t,
            "Σx = {sum:e}, T − unallocated = {want:e}"
        );
    }
}

/// `allocator` target, crash-13cf0db6…: open mode, a pool near 1e100 and red-line and
/// protected-area weights that sum to about 1e-300. `pool / Σw` overflowed, so the pools
/// paid +∞ (then: a claim-overflow error that blamed no input). Each share is now
/// `pool · (w / Σw)`, finite and within the pool.
#[test]
fn allocator_pool_of_tiny_weights_pays_finite_shares() {
    let scn = ecocomp::scenario::load(&dir().join("allocator_claim_overflow.toml")).unwrap();
    let res = ecocomp::run::point::point(&scn).unwrap();
    let pool = scn.vertical.as_ref().unwrap().budget.total.unwrap();
    for fp in &res.formulas {
        let a = &fp.alloc;
        assert!(a.x.iter().all(|x| x.is_finite() && *x >= 0.0), "{:?}", a.x);
        for part in [&a.pa, &a.rl] {
            assert!(part.iter().all(|p| p.is_finite() && *p <= pool), "{part:?}");
        }
    }
}

/// A claim that overflows in a Monte Carlo draw (noise can push money the point estimate
/// left finite) is reported at the region's row and column, with the draw.
#[test]
fn claim_overflow_in_a_draw_names_row_column_and_draw() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/claim_overflow.toml");
    let scn = ecocomp::scenario::load(&bad).unwrap();
    let e = ecocomp::Error::ClaimOverflow {
        formula: "f".into(),
        region: 1,
        draw: Some(7),
    };
    let msg = scn.locate(e).to_string();
    for want in [
        "claim_overflow.csv",
        "row 3, column std_expenditure",
        "1.7e308",
        "in Monte Carlo draw 7",
        "region 'y'",
    ] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
}
