use super::*;
use approx::assert_relative_eq;

/// Expands integer weights into repeated values.
fn expand(x: &[f64], w: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(w)
        .flat_map(|(&xi, &wi)| std::iter::repeat_n(xi, wi as usize))
        .collect()
}

/// Brute-force mean absolute difference definition of the Gini.
fn gini_pairs(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let s: f64 = x
        .iter()
        .flat_map(|a| x.iter().map(move |b| (a - b).abs()))
        .sum();
    s / (2.0 * n * n * mean)
}

#[test]
fn gini_unweighted_hand_computed() {
    // (0, 1): Σ|xi − xj| = 2, 2 n² μ = 4 → 0.5.
    assert_relative_eq!(gini(&[0.0, 1.0], None).unwrap(), 0.5);
    // (1, 2, 3, 4): Σ over ordered pairs = 2·(1+2+3+1+2+1) = 20; 2·16·2.5 = 80 → 0.25.
    assert_relative_eq!(gini(&[4.0, 1.0, 3.0, 2.0], None).unwrap(), 0.25);
    // All to one of four regions: (n − 1)/n.
    assert_relative_eq!(gini(&[0.0, 0.0, 7.0, 0.0], None).unwrap(), 0.75);
}

#[test]
fn gini_weighted_hand_computed() {
    // (1, 2, 3) with weights (1, 1, 2) is (1, 2, 3, 3): Σ|·| over ordered pairs = 14,
    // 2 n² μ = 2·16·2.25 = 72 → 7/36.
    let g = gini(&[3.0, 1.0, 2.0], Some(&[2.0, 1.0, 1.0])).unwrap();
    assert_relative_eq!(g, 7.0 / 36.0, epsilon = 1e-15);
    let x = [5.0, 0.5, 3.0, 3.0, 9.0];
    let w = [3.0, 1.0, 4.0, 2.0, 1.0];
    assert_relative_eq!(
        gini(&x, Some(&w)).unwrap(),
        gini_pairs(&expand(&x, &w)),
        epsilon = 1e-14
    );
    assert_relative_eq!(gini(&x, None).unwrap(), gini_pairs(&x), epsilon = 1e-14);
}

#[test]
fn gini_degenerate_and_equal() {
    assert_relative_eq!(gini(&[], None).unwrap(), 0.0);
    assert_relative_eq!(gini(&[0.0, 0.0, 0.0], None).unwrap(), 0.0);
    assert_relative_eq!(gini(&[1.0, 2.0], Some(&[0.0, 0.0])).unwrap(), 0.0);
    let g = gini(&[3.7; 101], None).unwrap();
    assert!(g.abs() < 1e-14, "{g}");
    let g = gini(&[2.5; 7], Some(&[1.0, 9.0, 0.5, 2.0, 3.0, 3.0, 8.0])).unwrap();
    assert!(g.abs() < 1e-14, "{g}");
}

#[test]
fn weight_length_mismatch_is_an_error() {
    let err = gini(&[1.0, 2.0], Some(&[1.0])).unwrap_err();
    assert_eq!(
        err,
        MetricsError::LengthMismatch {
            what: "weights",
            expected: 2,
            got: 1
        }
    );
    assert!(theil_decomposed(&[1.0], None, &[]).is_err());
}

#[test]
fn gini_per_unit_weights_by_denominator() {
    // Allocation per km²: (10/2, 30/2, anything/0) weighted (2, 2, 0) = Gini of (5, 15)
    // with equal weights = 10 / (2·2·10)·2 = 0.25.
    let mut s = InequalityScratch::new();
    let g = s
        .gini_per_unit(&[10.0, 30.0, 99.0], &[2.0, 2.0, 0.0])
        .unwrap();
    assert_relative_eq!(g, 0.25, epsilon = 1e-15);
}

#[test]
fn lorenz_end_points_and_shape() {
    let l = lorenz(&[3.0, 1.0, 2.0, 0.1, 7.0], Some(&[1.0, 2.0, 0.3, 4.0, 1.0])).unwrap();
    assert_eq!(l.len(), 6);
    assert_eq!(l[0], (0.0, 0.0));
    assert_eq!(*l.last().unwrap(), (1.0, 1.0));
    for pair in l.windows(2) {
        assert!(pair[1].0 >= pair[0].0 && pair[1].1 >= pair[0].1);
        // Convex from below the diagonal.
        assert!(pair[1].1 <= pair[1].0 + 1e-15);
    }
    // Unweighted (1, 3): points (0,0), (0.5, 0.25), (1, 1).
    let l = lorenz(&[3.0, 1.0], None).unwrap();
    assert_relative_eq!(l[1].0, 0.5);
    assert_relative_eq!(l[1].1, 0.25);
    assert_eq!(lorenz(&[], None).unwrap(), vec![(0.0, 0.0), (1.0, 1.0)]);
    assert_eq!(
        lorenz(&[0.0, 0.0], None).unwrap(),
        vec![(0.0, 0.0), (1.0, 1.0)]
    );
}

#[test]
fn gini_is_one_minus_twice_lorenz_area() {
    let x = [0.2, 5.0, 3.0, 3.0, 11.0, 0.0];
    let w = [1.5, 2.0, 0.5, 1.0, 0.25, 3.0];
    let l = lorenz(&x, Some(&w)).unwrap();
    let area: f64 = l
        .windows(2)
        .map(|p| (p[1].0 - p[0].0) * (p[1].1 + p[0].1) / 2.0)
        .sum();
    assert_relative_eq!(
        gini(&x, Some(&w)).unwrap(),
        1.0 - 2.0 * area,
        epsilon = 1e-14
    );
}

#[test]
fn theil_hand_computed() {
    // (1, 3): μ = 2, T = ¼ ln ½ + ¾ ln 1.5.
    let expected = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
    assert_relative_eq!(theil(&[1.0, 3.0], None).unwrap(), expected, epsilon = 1e-15);
    // Weighted (1, 3) with weights (2, 1) = (1, 1, 3): μ = 5/3,
    // T = 2·(1/5) ln(3/5) + (3/5) ln(9/5).
    let expected = 0.4 * 0.6f64.ln() + 0.6 * 1.8f64.ln();
    assert_relative_eq!(
        theil(&[1.0, 3.0], Some(&[2.0, 1.0])).unwrap(),
        expected,
        epsilon = 1e-15
    );
    // One holds everything among n: ln n.
    assert_relative_eq!(
        theil(&[0.0, 0.0, 5.0, 0.0], None).unwrap(),
        4f64.ln(),
        epsilon = 1e-15
    );
    assert_relative_eq!(theil(&[2.0; 5], None).unwrap(), 0.0, epsilon = 1e-15);
    assert_relative_eq!(theil(&[], None).unwrap(), 0.0);
    assert!(theil(&[-1.0, 3.0], None).unwrap().is_nan());
}

#[test]
fn theil_decomposition_hand_computed_and_exact() {
    // Groups {1, 1} and {2, 4}: μ = 2, group means 1 and 3, shares ¼ and ¾.
    let x = [1.0, 2.0, 1.0, 4.0];
    let g = [7, 3, 7, 3];
    let d = theil_decomposed(&x, None, &g).unwrap();
    let between = 0.25 * 0.5f64.ln() + 0.75 * 1.5f64.ln();
    let t_group3 = (2.0 / 6.0) * (2.0f64 / 3.0).ln() + (4.0 / 6.0) * (4.0f64 / 3.0).ln();
    assert_relative_eq!(d.between, between, epsilon = 1e-15);
    assert_relative_eq!(d.within, 0.75 * t_group3, epsilon = 1e-15);
    assert_relative_eq!(d.total, theil(&x, None).unwrap(), epsilon = 1e-15);
    assert!((d.total - d.between - d.within).abs() < 1e-12);

    // Larger weighted case with a zero group and uneven group sizes.
    let n = 200;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37 % 101) as f64).powf(1.3)).collect();
    let w: Vec<f64> = (0..n).map(|i| 0.5 + (i * 13 % 7) as f64).collect();
    let groups: Vec<u32> = (0..n).map(|i| (i * 7 % 11) as u32 * 1000).collect();
    let d = theil_decomposed(&x, Some(&w), &groups).unwrap();
    assert!(d.between > 0.0 && d.within > 0.0);
    assert!((d.total - d.between - d.within).abs() < 1e-12, "{d:?}");
    assert_relative_eq!(d.total, theil(&x, Some(&w)).unwrap(), epsilon = 1e-13);

    // One group: no between part.
    let d = theil_decomposed(&[1.0, 3.0], None, &[5, 5]).unwrap();
    assert_relative_eq!(d.between, 0.0, epsilon = 1e-15);
    assert_relative_eq!(d.within, d.total, epsilon = 1e-15);
}

#[test]
fn cv_hand_computed() {
    // (1, 3): σ = 1, μ = 2.
    assert_relative_eq!(coefficient_of_variation(&[1.0, 3.0], None).unwrap(), 0.5);
    // (1, 1, 4) via weights: μ = 2, σ² = (1 + 1 + 4)/3 = 2.
    assert_relative_eq!(
        coefficient_of_variation(&[1.0, 4.0], Some(&[2.0, 1.0])).unwrap(),
        2f64.sqrt() / 2.0,
        epsilon = 1e-15
    );
    assert_relative_eq!(coefficient_of_variation(&[0.0, 0.0], None).unwrap(), 0.0);
    assert_relative_eq!(coefficient_of_variation(&[], None).unwrap(), 0.0);
}

#[test]
fn top_share_counts_fractional_region() {
    // 10 regions 1..=10: top 10% is region 10 → 10/55.
    let x: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_relative_eq!(
        top_share(&x, None, 0.1).unwrap(),
        10.0 / 55.0,
        epsilon = 1e-15
    );
    // 25 regions 1..=25: top 2.5 regions = 25 + 24 + ½·23.
    let x: Vec<f64> = (1..=25).rev().map(f64::from).collect();
    let expected = (25.0 + 24.0 + 11.5) / 325.0;
    assert_relative_eq!(
        top_share(&x, None, TOP_DECILE).unwrap(),
        expected,
        epsilon = 1e-15
    );
    // Weighted: (1 with weight 9, 10 with weight 1): the top 10% of weight is the 10.
    assert_relative_eq!(
        top_share(&[1.0, 10.0], Some(&[9.0, 1.0]), 0.1).unwrap(),
        10.0 / 19.0,
        epsilon = 1e-15
    );
    assert_relative_eq!(top_share(&x, None, 0.0).unwrap(), 0.0);
    assert_relative_eq!(top_share(&x, None, 1.0).unwrap(), 1.0);
    assert_relative_eq!(
        top_share(&[4.0; 20], None, 0.1).unwrap(),
        0.1,
        epsilon = 1e-15
    );
    assert_relative_eq!(top_share(&[0.0; 20], None, 0.1).unwrap(), 0.0);
}

#[test]
fn summary_matches_free_functions_and_scratch_reuse() {
    let mut s = InequalityScratch::with_capacity(4);
    for n in [3usize, 40, 7] {
        let x: Vec<f64> = (0..n).map(|i| ((i * 31 % 17) as f64) + 0.5).collect();
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let g: Vec<u32> = (0..n).map(|i| (i % 4) as u32).collect();
        let sum = s.summary(&x, Some(&w), &g).unwrap();
        assert_relative_eq!(sum.gini, gini(&x, Some(&w)).unwrap(), epsilon = 1e-15);
        assert_relative_eq!(
            sum.theil.total,
            theil(&x, Some(&w)).unwrap(),
            epsilon = 1e-14
        );
        assert_relative_eq!(
            sum.cv,
            coefficient_of_variation(&x, Some(&w)).unwrap(),
            epsilon = 1e-15
        );
        assert_relative_eq!(
            sum.top10_share,
            top_share(&x, Some(&w), 0.1).unwrap(),
            epsilon = 1e-15
        );
    }
}

#[test]
fn gini_rows_gives_each_slice_s_gini_bits() {
    // One to six slices (groups of four and the remainders), below and above the
    // radix threshold, with zeros, ties and an all-zero slice (degenerate: 0).
    let mut r = crate::sampling::rng::stream(12, 0, 0);
    for n in [0, 1, 300, RADIX_MIN, 2800] {
        for k in 1..=6 {
            let rows: Vec<f64> = (0..n * k)
                .map(|i| match (i / n.max(1), i % 9) {
                    (3, _) => 0.0,
                    (_, 0) => 0.0,
                    (_, 1) => 7.25,
                    _ => (crate::sampling::rng::std_normal(&mut r)).exp(),
                })
                .collect();
            let mut scratch = InequalityScratch::default();
            let mut got = Vec::new();
            scratch.gini_rows(&rows, k, &mut got);
            assert_eq!(got.len(), k, "n = {n}, k = {k}");
            for (f, g) in got.iter().enumerate() {
                let want = gini(&rows[f * n..(f + 1) * n], None).unwrap();
                assert_eq!(g.to_bits(), want.to_bits(), "n = {n}, k = {k}, slice {f}");
            }
        }
    }
}

#[test]
fn radix_gini_is_bit_identical_to_sorted_pairs() {
    let mut r = crate::sampling::rng::stream(6, 0, 0);
    let x: Vec<f64> = (0..2800)
        .map(|i| {
            let z = crate::sampling::rng::std_normal(&mut r);
            if i % 10 == 0 {
                5.0
            } else {
                (z * 0.8).exp() * 100.0
            }
        })
        .collect();
    let mut s = InequalityScratch::new();
    let fast = s.gini(&x, None).unwrap();
    let (tw, ty) = s.sort_pairs(&x, None);
    let slow = gini_sorted(&s.pairs, tw, ty);
    assert_eq!(fast.to_bits(), slow.to_bits());
    assert!(fast > 0.1 && fast < 1.0);
}
