//! Special functions for truncated sampling and truncation checks: `erf`/`erfc`, the
//! standard normal CDF and its inverse, `ln Γ` and the regularized incomplete beta
//! function.
//!
//! Accuracy targets are "good enough to place a truncation window": about 1e-14 relative
//! for `erfc` and the normal CDF, about 1e-15 for `ln Γ` (Lanczos, g = 7), about 1e-13
//! absolute for the incomplete beta. The tests pin each against reference values.
//!
//! Hand-written, not `libm` or `statrs`: their results differ in the last bits for 5–85%
//! of inputs, which would change every draw (BENCHMARKS.md, "Tried and dropped").

use std::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

/// Below this `erfc(x)` is computed as `1 − erf(x)` from the series; above it from the
/// continued fraction. At 2.5 the series loses at most ~3 digits relative to erfc (erfc(2.5)
/// ≈ 4e-4) and the continued fraction converges in under 100 terms.
const ERFC_SWITCH: f64 = 2.5;

/// `erf(x)` for `|x| < ERFC_SWITCH` by the all-positive series
/// `erf(x) = 2/√π · e^{−x²} · Σ (2x²)ⁿ x / (2n+1)!!`, which has no cancellation.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    // Terms shrink geometrically once 2n+3 > 2x²; 200 terms is far beyond what x < 2.5 needs.
    for _ in 0..200 {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term.abs() < sum.abs() * 1e-17 {
            break;
        }
    }
    FRAC_2_SQRT_PI * (-x2).exp() * sum
}

/// `erfc(x)` for `x ≥ ERFC_SWITCH` by the continued fraction
/// `erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`, evaluated bottom-up.
fn erfc_cf(x: f64) -> f64 {
    // 120 levels give full double precision for x ≥ 2.5.
    let mut f = x;
    for k in (1..=120).rev() {
        f = x + (k as f64 * 0.5) / f;
    }
    (-x * x).exp() / (f * PI.sqrt())
}

/// The error function.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() < ERFC_SWITCH {
        erf_series(x)
    } else {
        x.signum() * (1.0 - erfc_cf(x.abs()))
    }
}

/// The complementary error function `1 − erf(x)`, accurate in the upper tail.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= ERFC_SWITCH {
        erfc_cf(x)
    } else if x > -ERFC_SWITCH {
        1.0 - erf_series(x)
    } else {
        2.0 - erfc_cf(-x)
    }
}

/// Standard normal CDF Φ(x), accurate (relative) in the lower tail.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
/// (relative error 1.15e-9) refined by one Halley step on [`norm_cdf`]. Returns ∓∞ at 0 and 1
/// and NaN outside [0, 1].
pub fn norm_inv_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    // Below P_LOW (and above 1 − P_LOW) the tail form of the approximation is used.
    const P_LOW: f64 = 0.02425;
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        let q = (-2.0 * q.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail(p)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail(1.0 - p)
    };
    // One Halley step. In the upper half the error is measured on the upper tail so that
    // p close to 1 keeps its precision.
    let e = if p < 0.5 {
        norm_cdf(x) - p
    } else {
        (1.0 - p) - norm_cdf(-x)
    };
    let u = e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    if u.is_finite() {
        x - u / (1.0 + 0.5 * x * u)
    } else {
        x
    }
}

/// Probability mass of the standard normal on [a, b] (a ≤ b), computed on the side of the
/// lighter tail so that windows far in either tail keep their relative precision.
pub fn norm_mass(a: f64, b: f64) -> f64 {
    if a > 0.0 {
        norm_cdf(-a) - norm_cdf(-b)
    } else {
        norm_cdf(b) - norm_cdf(a)
    }
}

/// A standard normal draw restricted to [a, b] (a < b, either may be infinite) by the
/// inverse-CDF method, given `u` uniform in (0, 1). Windows in the upper half are mirrored to
/// the lower tail, where Φ has full relative precision. The result is kept inside [a, b]:
/// rounding in Φ⁻¹ can land an ulp outside, and only that rounding is corrected.
pub fn truncated_std_normal(a: f64, b: f64, u: f64) -> f64 {
    let z = if a > 0.0 {
        // Mirror: −Z on [−b, −a].
        let (pa, pb) = (norm_cdf(-b), norm_cdf(-a));
        -norm_inv_cdf(pa + u * (pb - pa))
    } else {
        let (pa, pb) = (norm_cdf(a), norm_cdf(b));
        norm_inv_cdf(pa + u * (pb - pa))
    };
    if z.is_nan() {
        a.max(b.min(0.0))
    } else {
        z.clamp(a, b)
    }
}

/// Inputs of [`exp`] computed by the polynomial; outside (and NaN) the library `exp`
/// takes over, for overflow, subnormal results and NaN.
const EXP_RANGE: (f64, f64) = (-708.0, 709.0);

/// `e^x` without a library call and without branches in range, so that a loop of them
/// vectorises (the multiplicative noise takes one per region and draw): `x = k·ln 2 + r`
/// with k the nearest integer to `x / ln 2` (by the 1.5·2^52 rounding trick) and
/// |r| ≤ ln 2 / 2, `e^r` by its Taylor series to degree 13 (truncation < 2^-57), and `2^k`
/// put in the exponent bits. Within 2 ulps of the correctly rounded value (tested), and the
/// same bits on every machine. Outside [`EXP_RANGE`] it is `f64::exp`.
#[inline]
pub fn exp(x: f64) -> f64 {
    let (lo, hi) = EXP_RANGE;
    if x > lo && x < hi {
        exp_in_range(x)
    } else {
        x.exp()
    }
}

/// [`exp`] of every value of `xs`, in place: when every value is in range (checked
/// first, without branches), one branch-free pass that vectorises (four lanes where the
/// CPU has AVX2 or AVX-512, [`crate::simd::with_simd`]; the same bits); otherwise [`exp`] on each.
pub fn exp_in_place(xs: &mut [f64]) {
    let (lo, hi) = EXP_RANGE;
    let inside = xs.iter().fold(true, |ok, &v| ok & (v > lo) & (v < hi));
    if inside {
        crate::simd::with_simd(
            #[inline(always)]
            || xs.iter_mut().for_each(|x| *x = exp_in_range(*x)),
        );
    } else {
        xs.iter_mut().for_each(|x| *x = exp(*x));
    }
}

/// The polynomial of [`exp`] for x in [`EXP_RANGE`].
#[inline(always)]
fn exp_in_range(x: f64) -> f64 {
    // ln 2 split as in fdlibm: the high part, 0.693147180369123816490, has 32 significant
    // bits; the low part, 1.90821492927058770002e-10, is the rest.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    // 1/j! for j = 13 down to 2.
    const C: [f64; 12] = [
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let t = x * std::f64::consts::LOG2_E + SHIFT;
    let k = t - SHIFT;
    // LN2_HI has 32 significant bits, so k·LN2_HI is exact for |k| < 2^21.
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = C[0];
    for c in &C[1..] {
        p = p * r + c;
    }
    let p = (p * r + 1.0) * r + 1.0;
    // t = SHIFT + k exactly (its ulp is 1), so its bits are SHIFT's plus k.
    let k_bits = t.to_bits().wrapping_sub(SHIFT.to_bits());
    p * f64::from_bits(k_bits.wrapping_add(1023) << 52)
}

/// `ln Γ(x)` for x > 0 (Lanczos approximation, g = 7, n = 9), with the reflection formula
/// below 0.5.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const P: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx).
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = P[0];
    let t = x + G + 0.5;
    for (i, p) in P.iter().enumerate().skip(1) {
        a += p / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta (modified Lentz), valid for
/// x < (a+1)/(a+b+2).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const FPMIN: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    // Convergence needs O(√max(a,b)) terms; this cap covers shape parameters up to ~1e7.
    const MAX_ITER: usize = 10_000;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < FPMIN {
        d = FPMIN;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)`: the CDF of Beta(a, b) at x.
pub fn beta_cdf(a: f64, b: f64, x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulps_of_the_library() {
        let mut worst = 0;
        let mut xs: Vec<f64> = (-70_800..=70_900).map(|i| f64::from(i) * 0.01).collect();
        xs.extend((-2000..=2000).map(|i| f64::from(i) * 1e-4));
        xs.extend([0.0, -0.0, 1e-300, -1e-300, 0.5 * std::f64::consts::LN_2]);
        for &x in &xs {
            let (got, want) = (exp(x), x.exp());
            worst = worst.max(ulps(got, want));
            assert!(ulps(got, want) <= 2, "exp({x}) = {got}, library {want}");
        }
        assert!(worst >= 1, "the polynomial is not the library exp");
        let mut v = xs.clone();
        exp_in_place(&mut v);
        for (a, &x) in v.iter().zip(&xs) {
            assert_eq!(a.to_bits(), exp(x).to_bits());
        }
    }

    #[test]
    fn exp_in_place_gives_the_scalar_bits_in_its_vector_pass() {
        // Every value in range, so the whole slice takes the vector pass, in each copy
        // the CPU has; each value must be the scalar polynomial's, bit for bit.
        use crate::simd::{Tier, with_tier};
        let mut r = crate::sampling::rng::stream(2, 0, 0);
        let xs: Vec<f64> = (0..1003)
            .map(|_| 6.0 * crate::sampling::rng::std_normal(&mut r))
            .collect();
        for t in [Tier::Baseline, Tier::Avx2, Tier::Avx512] {
            let mut v = xs.clone();
            with_tier(t, || exp_in_place(&mut v));
            for (a, &x) in v.iter().zip(&xs) {
                assert_eq!(a.to_bits(), exp_in_range(x).to_bits(), "exp({x}), {t:?}");
            }
        }
    }

    #[test]
    fn exp_outside_the_polynomial_range_is_the_library_exp() {
        let xs = [
            -800.0,
            -745.2,
            -708.0,
            709.0,
            709.7,
            710.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for &x in &xs {
            let (got, want) = (exp(x), x.exp());
            assert!(
                got.to_bits() == want.to_bits(),
                "exp({x}) = {got}, library {want}"
            );
        }
        let mut v = vec![0.5, 710.0, f64::NAN, -1.0];
        exp_in_place(&mut v);
        assert_eq!(v[0].to_bits(), exp(0.5).to_bits());
        assert_eq!(v[1], f64::INFINITY);
        assert!(v[2].is_nan());
        assert_eq!(v[3].to_bits(), exp(-1.0).to_bits());
    }
    use approx::assert_relative_eq;

    #[test]
    fn erf_matches_reference_values() {
        // Reference values to 30 digits (Abramowitz & Stegun / mpmath).
        assert_relative_eq!(erf(0.5), 0.520_499_877_813_046_5, max_relative = 1e-14);
        assert_relative_eq!(erfc(1.0), 0.157_299_207_050_285_13, max_relative = 1e-14);
        assert_relative_eq!(erfc(3.0), 2.209_049_699_858_544e-5, max_relative = 1e-13);
        assert_relative_eq!(erfc(5.0), 1.537_459_794_428_034_8e-12, max_relative = 1e-13);
        assert_relative_eq!(
            erfc(-1.0),
            2.0 - 0.157_299_207_050_285_13,
            max_relative = 1e-14
        );
        assert_relative_eq!(erf(-0.5), -erf(0.5), max_relative = 1e-15);
        // Continuity across the series/continued-fraction switch.
        let below = erfc(ERFC_SWITCH - 1e-12);
        let above = erfc(ERFC_SWITCH);
        assert_relative_eq!(below, above, max_relative = 1e-10);
    }

    #[test]
    fn normal_quantile_inverts_cdf() {
        assert_relative_eq!(
            norm_inv_cdf(0.975),
            1.959_963_984_540_054,
            max_relative = 1e-13
        );
        assert_relative_eq!(norm_inv_cdf(0.5), 0.0, epsilon = 1e-15);
        for &p in &[
            1e-300, 1e-20, 1e-8, 0.001, 0.02425, 0.1, 0.3, 0.7, 0.95, 0.999_999,
        ] {
            let x = norm_inv_cdf(p);
            assert_relative_eq!(norm_cdf(x), p, max_relative = 1e-12);
        }
        assert!(norm_inv_cdf(-0.1).is_nan());
        assert_eq!(norm_inv_cdf(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn normal_mass_keeps_tail_precision() {
        // P(8 < Z < 9) ≈ 6.22e-16 − 1.13e-19: computed on the upper tail by mirroring.
        let m = norm_mass(8.0, 9.0);
        assert_relative_eq!(m, norm_cdf(-8.0) - norm_cdf(-9.0), max_relative = 1e-14);
        assert!(m > 6.0e-16 && m < 6.3e-16, "{m}");
        let z = truncated_std_normal(8.0, 9.0, 0.5);
        assert!((8.0..=9.0).contains(&z));
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert_relative_eq!(ln_gamma(1.0), 0.0, epsilon = 1e-14);
        assert_relative_eq!(ln_gamma(5.0), 24f64.ln(), max_relative = 1e-14);
        assert_relative_eq!(ln_gamma(0.5), PI.sqrt().ln(), max_relative = 1e-14);
        assert_relative_eq!(ln_gamma(0.1), 2.252_712_651_734_206, max_relative = 1e-13);
    }

    #[test]
    fn beta_cdf_matches_closed_forms() {
        // Beta(2, 3): F(x) = 6x² − 8x³ + 3x⁴.
        for &x in &[0.05, 0.3, 0.5, 0.8, 0.99] {
            let f = 6.0 * x * x - 8.0 * x * x * x + 3.0 * x * x * x * x;
            assert_relative_eq!(beta_cdf(2.0, 3.0, x), f, max_relative = 1e-12);
        }
        // Beta(1, 1) is uniform; Beta(a, b) and Beta(b, a) mirror.
        assert_relative_eq!(beta_cdf(1.0, 1.0, 0.37), 0.37, max_relative = 1e-13);
        assert_relative_eq!(
            beta_cdf(0.7, 4.2, 0.2),
            1.0 - beta_cdf(4.2, 0.7, 0.8),
            max_relative = 1e-12
        );
        assert_eq!(beta_cdf(2.0, 2.0, -1.0), 0.0);
        assert_eq!(beta_cdf(2.0, 2.0, 2.0), 1.0);
    }
}
