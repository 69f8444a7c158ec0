//! Tests of the sketch: its error bound, merges, lanes and memory.

use super::*;
use crate::sampling::rng::{std_normal, stream};
use proptest::prelude::*;
use rand::RngExt;

proptest! {
    /// Every rank estimate is within α of the true order statistic, for any signed data
    /// whose magnitudes fit in MAX_BUCKETS (no collapse), in any insertion order.
    #[test]
    fn every_rank_within_alpha(x in proptest::collection::vec(
        // Zeros, or ±10^e with e in [−3, 5]: a magnitude ratio of 1e8 < γ^MAX_BUCKETS.
        prop_oneof![Just(0.0), (-3.0..5.0f64, any::<bool>())
            .prop_map(|(e, neg)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) })],
        1..300)
    ) {
        let mut s = Sketch::default();
        x.iter().for_each(|v| s.add(*v));
        let mut sorted = x.clone();
        sorted.sort_by(f64::total_cmp);
        for (r, v) in sorted.iter().enumerate() {
            let e = s.value_at_rank(r as u64);
            let ok = if v.abs() < MIN_INDEXABLE { e == 0.0 } else {
                (e - v).abs() <= DEFAULT_ALPHA * v.abs() * (1.0 + 1e-9)
            };
            prop_assert!(ok, "rank {} estimate {} true {}", r, e, v);
        }
    }
}

#[test]
fn ranks_are_within_alpha() {
    let mut s = Sketch::default();
    let mut x: Vec<f64> = (1..=1000).map(|i| (i as f64 - 300.0) * 1.37).collect();
    x.push(0.0);
    x.iter().for_each(|v| s.add(*v));
    x.sort_by(f64::total_cmp);
    for (r, v) in x.iter().enumerate() {
        let e = s.value_at_rank(r as u64);
        assert!(
            (e - v).abs() <= DEFAULT_ALPHA * v.abs() * (1.0 + 1e-9),
            "rank {r}: {e} vs {v}"
        );
    }
}

#[test]
fn bucket_ends_and_extremes_are_within_alpha() {
    // Exact bucket ends (1 + j/128 times powers of two), their neighbours one ulp
    // away, and the ends of the indexable range.
    let mut probes = vec![MIN_INDEXABLE, 1e-300, 1e300, f64::MAX, 1.0, 2.0, 0.75];
    for e in [-20, 0, 1, 33] {
        for j in 0..128 {
            let v = 2f64.powi(e) * (1.0 + f64::from(j) / 128.0);
            probes.extend([
                v,
                f64::from_bits(v.to_bits() + 1),
                f64::from_bits(v.to_bits() - 1),
            ]);
        }
    }
    for v in probes {
        for x in [v, -v] {
            let mut s = Sketch::default();
            s.add(x);
            let e = s.value_at_rank(0);
            assert!(
                (e - x).abs() <= DEFAULT_ALPHA * x.abs() && e.signum() == x.signum(),
                "{x:e}: estimate {e:e}"
            );
        }
    }
}

#[test]
fn memory_is_bounded_by_collapsing() {
    let mut s = Sketch::default();
    let mut r = stream(0, 0, 0);
    // Magnitudes over 10^-200 .. 10^200: far beyond what MAX_BUCKETS can span.
    for _ in 0..200_000 {
        let e: f64 = r.random_range(-200.0..200.0);
        let sign = if r.random::<bool>() { 1.0 } else { -1.0 };
        s.add(sign * 10f64.powf(e));
    }
    assert!(s.buckets() <= 2 * MAX_BUCKETS);
    assert_eq!(s.count(), 200_000);
    // The top of the distribution is still accurate.
    let q = s.quantile(1.0);
    assert!(q > 1e199, "{q}");
}

#[test]
fn add_slice_matches_adding_each_value() {
    let mut r = stream(3, 0, 0);
    let mut cases: Vec<Vec<f64>> = vec![
        vec![],
        vec![1.0],
        vec![5.0; 200],
        (1..=300).map(|i| f64::from(i) * 0.37).collect(),
        vec![1.0, 0.0, -2.0, f64::NAN, 3.0, f64::INFINITY, 1e-320, 4.0],
        // A range far wider than MAX_BUCKETS: collapses within one batch.
        vec![1e-200, 1.0, 1e200, 2.0, 1e-100, 3.0],
    ];
    cases.push(
        (0..1000)
            .map(|_| 50.0 + 10.0 * std_normal(&mut r))
            .collect(),
    );
    cases.push(
        (0..1000)
            .map(|_| 10f64.powf(r.random_range(-150.0..150.0)))
            .collect(),
    );
    for xs in cases {
        let mut each = Sketch::default();
        xs.iter().for_each(|&x| each.add(x));
        let mut batch = Sketch::default();
        batch.add_slice(&xs);
        assert_eq!(each, batch, "{:?}", &xs[..xs.len().min(8)]);
        // And on top of existing counts, with the values in two slices.
        let (a, b) = xs.split_at(xs.len() / 3);
        let mut two = Sketch::default();
        two.add_slice(b);
        two.add_slice(a);
        assert_eq!(each, two);
    }
}

/// Add `xs` (positive, finite) through a lane made from their extremes; false when the
/// sketch refused the lane (and was left as it was).
fn add_by_lane(s: &mut Sketch, xs: &[f64]) -> bool {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let before = s.clone();
    match s.positive_lane(lo, hi, xs.len() as u64) {
        Some(mut lane) => {
            xs.iter().for_each(|&x| lane.add(x));
            true
        }
        None => {
            assert_eq!(*s, before, "a refused lane changed the sketch");
            false
        }
    }
}

#[test]
fn lanes_match_adding_each_value() {
    let mut r = stream(4, 0, 0);
    let spread: Vec<f64> = (0..500)
        .map(|_| 10f64.powf(r.random_range(-2.0..3.0)))
        .collect();
    let narrow: Vec<f64> = (0..64).map(|_| 40.0 + r.random_range(0.0..1.0)).collect();
    let low: Vec<f64> = (0..64).map(|_| r.random_range(0.001..0.01)).collect();
    let high: Vec<f64> = (0..64).map(|_| r.random_range(1e4..1e5)).collect();
    // Batches into an empty sketch, then batches that widen the range below, above and
    // on both sides, in every order.
    for order in [
        vec![&narrow, &low, &high, &spread],
        vec![&spread, &narrow, &low, &high],
        vec![&high, &low, &narrow, &narrow],
    ] {
        let (mut each, mut lanes) = (Sketch::default(), Sketch::default());
        for xs in order {
            xs.iter().for_each(|&x| each.add(x));
            assert!(add_by_lane(&mut lanes, xs));
            assert_eq!(lanes, each);
            assert_eq!(lanes.quantile(0.5), each.quantile(0.5));
        }
    }
}

#[test]
fn lanes_refuse_what_needs_the_general_path() {
    let mut s = Sketch::default();
    // Zeros, negatives, infinities and subnormals are not lane values.
    assert!(!add_by_lane(&mut s, &[0.0, 1.0]));
    assert!(!add_by_lane(&mut s, &[-1.0, 1.0]));
    assert!(!add_by_lane(&mut s, &[1.0, f64::INFINITY]));
    assert!(!add_by_lane(&mut s, &[1e-320, 1.0]));
    assert!(s.positive_lane(2.0, 1.0, 1).is_none());
    // A range that would collapse buckets (MAX_BUCKETS spans 2^32 at α = 0.5%), in one
    // batch or on top of earlier counts; just inside the limit, a lane.
    let (over, under) = (2f64.powf(32.5), 2f64.powf(31.5));
    assert!(!add_by_lane(&mut s, &[1.0, over]));
    assert!(add_by_lane(&mut Sketch::default(), &[1.0, under]));
    assert!(add_by_lane(&mut s, &[1.0, 3.0]));
    assert!(!add_by_lane(&mut s, &[over]));
    assert!(!add_by_lane(&mut s, &[3.0 / over]));
    assert!(add_by_lane(&mut s, &[2f64.powi(20), 2f64.powi(-10)]));
    assert_eq!(s.count(), 4);
    // Counts that could pass u32::MAX.
    s.pos.total = u64::from(u32::MAX) - 1;
    assert!(!add_by_lane(&mut s, &[1.0, 2.0]));
    assert!(add_by_lane(&mut s, &[2.0]));
}

#[test]
fn merge_order_does_not_matter() {
    let mut r = stream(2, 0, 0);
    let x: Vec<f64> = (0..30_000)
        .map(|_| 1e4 * std_normal(&mut r).powi(3))
        .collect();
    let mut whole = Sketch::default();
    x.iter().for_each(|v| whole.add(*v));
    let parts: Vec<Sketch> = x
        .chunks(7_001)
        .map(|c| {
            let mut s = Sketch::default();
            c.iter().for_each(|v| s.add(*v));
            s
        })
        .collect();
    let mut rev = Sketch::default();
    parts.iter().rev().for_each(|p| rev.merge(p));
    for p in [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0] {
        assert_eq!(whole.quantile(p).to_bits(), rev.quantile(p).to_bits());
    }
    assert_eq!(whole.count(), rev.count());
}
