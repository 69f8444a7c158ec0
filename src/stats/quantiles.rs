//! Quantiles of a Monte Carlo output: exact while small, a bounded-memory sketch above a
//! documented size (docs/model.md §3.2).
//!
//! While at most `exact_limit` values have been added, all values are kept and quantiles are
//! exact order statistics with linear interpolation (Hyndman & Fan type 7, as R's default and
//! NumPy's `linear`). Past the limit the values move into a [`Sketch`] with relative accuracy
//! α (see [`crate::stats::sketch`] for the precise bound), and memory stays at most
//! `2·MAX_BUCKETS` counters however many draws follow.
//!
//! The mode depends only on the number of values, and both modes depend only on the
//! multiset of values, so any blocking and merge order gives bit-identical quantiles.

use crate::stats::columns::{Packed, get_f64, get_varint, put_f64, put_varint};
use crate::stats::sketch::{DEFAULT_ALPHA, Sketch, SketchLane};

/// Default exact limit: 10,000 values (80 KB) per output. The engine should lower it when
/// outputs × limit would not fit its memory budget (e.g. 2,800 regions × 3 formulas).
pub const DEFAULT_EXACT_LIMIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Exact(Vec<f64>),
    Sketch(Sketch),
}

/// Streaming quantile estimator. Non-finite values are counted apart and excluded.
/// Serialised packed ([`crate::stats::columns`]), as one byte string.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiles {
    exact_limit: usize,
    alpha: f64,
    mode: Mode,
    min: f64,
    max: f64,
    nonfinite: u64,
}

impl Packed for Quantiles {
    const MAX: usize = 200;

    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.exact_limit as u64);
        for x in [self.alpha, self.min, self.max] {
            put_f64(out, x);
        }
        put_varint(out, self.nonfinite);
        match &self.mode {
            Mode::Exact(v) => {
                out.push(0);
                put_varint(out, v.len() as u64);
                v.iter().for_each(|x| put_f64(out, *x));
            }
            Mode::Sketch(s) => {
                out.push(1);
                s.put(out);
            }
        }
    }

    fn get(b: &mut &[u8]) -> Option<Self> {
        let exact_limit = usize::try_from(get_varint(b)?).ok()?;
        let (alpha, min, max) = (get_f64(b)?, get_f64(b)?, get_f64(b)?);
        let nonfinite = get_varint(b)?;
        let (&tag, rest) = b.split_first()?;
        *b = rest;
        let mode = match tag {
            0 => {
                let n = usize::try_from(get_varint(b)?)
                    .ok()
                    .filter(|&n| n <= b.len() / 8)?;
                Mode::Exact((0..n).map(|_| get_f64(b)).collect::<Option<_>>()?)
            }
            1 => Mode::Sketch(Sketch::get(b)?),
            _ => return None,
        };
        Some(Quantiles {
            exact_limit,
            alpha,
            mode,
            min,
            max,
            nonfinite,
        })
    }
}

impl Quantiles {
    /// Merge the packed estimator at the front of `b` (advancing past it): the state
    /// [`merge`](Self::merge) of the decoded estimator gives, without building a sketch in
    /// sketch mode. `None` when the bytes are not a packed estimator.
    pub fn merge_packed(&mut self, b: &mut &[u8]) -> Option<()> {
        let start = *b;
        let _exact_limit = get_varint(b)?;
        let (_alpha, min, max) = (get_f64(b)?, get_f64(b)?, get_f64(b)?);
        let nonfinite = get_varint(b)?;
        let (&tag, rest) = b.split_first()?;
        if tag != 1 {
            *b = start;
            let other = Quantiles::get(b)?;
            self.merge(&other);
            return Some(());
        }
        *b = rest;
        // `merge`'s steps for an estimator in sketch mode.
        self.nonfinite += nonfinite;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
        self.make_sketch();
        match &mut self.mode {
            Mode::Sketch(s) => s.merge_packed(b),
            Mode::Exact(_) => None,
        }
    }
}

impl serde::Serialize for Quantiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(
            &crate::stats::columns::Packing::of(std::iter::once(self)),
            s,
        )
    }
}

impl<'de> serde::Deserialize<'de> for Quantiles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let crate::stats::columns::Column(mut one) = serde::Deserialize::deserialize(d)?;
        match (one.pop(), one.is_empty()) {
            (Some(q), true) => Ok(q),
            _ => Err(D::Error::custom("expected one packed quantile estimator")),
        }
    }
}

impl Default for Quantiles {
    fn default() -> Self {
        Quantiles::new(DEFAULT_EXACT_LIMIT, DEFAULT_ALPHA)
    }
}

/// Type-7 quantile of sorted values.
fn type7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let k = h.floor() as usize;
    let w = h - k as f64;
    match sorted.get(k + 1) {
        Some(hi) if w > 0.0 => sorted[k] + w * (hi - sorted[k]),
        _ => sorted[k.min(n - 1)],
    }
}

impl Quantiles {
    /// Exact up to `exact_limit` values, then a sketch with relative accuracy `alpha`.
    pub fn new(exact_limit: usize, alpha: f64) -> Self {
        Quantiles {
            exact_limit,
            alpha,
            mode: Mode::Exact(Vec::new()),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            nonfinite: 0,
        }
    }

    /// A fresh estimator with this one's exact limit and accuracy.
    pub fn empty_like(&self) -> Self {
        Quantiles::new(self.exact_limit, self.alpha)
    }

    /// Number of finite values added.
    pub fn count(&self) -> u64 {
        match &self.mode {
            Mode::Exact(v) => v.len() as u64,
            Mode::Sketch(s) => s.count(),
        }
    }

    /// Number of NaN/∞ values seen (excluded from the quantiles).
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// True once the values have moved into the sketch.
    pub fn is_sketch(&self) -> bool {
        matches!(self.mode, Mode::Sketch(_))
    }

    /// Bytes held for values or buckets (memory accounting).
    pub fn heap_bytes(&self) -> usize {
        match &self.mode {
            Mode::Exact(v) => v.capacity() * 8,
            Mode::Sketch(s) => s.buckets() * 4,
        }
    }

    /// Move the stored values into a sketch (no-op in sketch mode).
    fn make_sketch(&mut self) {
        if let Mode::Exact(v) = &self.mode {
            let mut s = Sketch::new(self.alpha);
            v.iter().for_each(|x| s.add(*x));
            self.mode = Mode::Sketch(s);
        }
    }

    #[inline]
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += 1;
            return;
        }
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        match &mut self.mode {
            Mode::Exact(v) if v.len() < self.exact_limit => v.push(x),
            Mode::Exact(_) => {
                self.make_sketch();
                if let Mode::Sketch(s) = &mut self.mode {
                    s.add(x);
                }
            }
            Mode::Sketch(s) => s.add(x),
        }
    }

    /// [`push`](Self::push) every value of `xs`, in sketch mode as one
    /// [`Sketch::add_slice`].
    pub fn push_slice(&mut self, xs: &[f64]) {
        // One branch-free pass: extremes by plain compares (the NaN-aware min/max's values
        // when every value is finite) and whether every value is.
        let (mut lo, mut hi, mut finite) = (self.min, self.max, true);
        for &x in xs {
            finite &= x.is_finite();
            lo = if x < lo { x } else { lo };
            hi = if x > hi { x } else { hi };
        }
        if finite {
            // Values that would pass the exact limit one by one switch to the sketch now,
            // so that they go in as one batch: the sketch holds the same counts either way.
            if let Mode::Exact(v) = &self.mode
                && v.len() + xs.len() > self.exact_limit
            {
                self.make_sketch();
            }
            if let Mode::Sketch(s) = &mut self.mode {
                (self.min, self.max) = (lo, hi);
                s.add_slice(xs);
                return;
            }
        }
        xs.iter().for_each(|&x| self.push(x));
    }

    /// In sketch mode, or once `count` more values pass the exact limit, a [`SketchLane`]
    /// for adding `count` finite values whose smallest and largest are `lo` and `hi` (see
    /// [`Sketch::positive_lane`]); the extremes are recorded now. None in exact mode and
    /// wherever the sketch needs its general path (zeros, negative values): then use
    /// [`push_slice`](Self::push_slice). The result is the state `push_slice` of the same
    /// values gives.
    pub fn sketch_lane(&mut self, lo: f64, hi: f64, count: u64) -> Option<SketchLane<'_>> {
        // Finite values that pass the exact limit switch to the sketch now, as in
        // `push_slice`: a worker's first batch then takes the lane too.
        if lo.is_finite()
            && hi.is_finite()
            && let Mode::Exact(v) = &self.mode
            && v.len() as u64 + count > self.exact_limit as u64
        {
            self.make_sketch();
        }
        let Mode::Sketch(s) = &mut self.mode else {
            return None;
        };
        let lane = s.positive_lane(lo, hi, count)?;
        // The values are finite and positive: plain compares give `push_slice`'s extremes.
        self.min = if lo < self.min { lo } else { self.min };
        self.max = if hi > self.max { hi } else { self.max };
        Some(lane)
    }

    /// Hint the CPU to bring the sketch's counts into cache (a no-op in exact mode).
    #[inline]
    pub fn prefetch(&self) {
        if let Mode::Sketch(s) = &self.mode {
            s.prefetch();
        }
    }

    /// Add `other`'s values. The combined estimator is exact iff the combined count is at
    /// most this one's limit.
    pub fn merge(&mut self, other: &Quantiles) {
        self.nonfinite += other.nonfinite;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let total = self.count() + other.count();
        if let (Mode::Exact(a), Mode::Exact(b)) = (&mut self.mode, &other.mode)
            && total <= self.exact_limit as u64
        {
            a.extend_from_slice(b);
            return;
        }
        self.make_sketch();
        if let Mode::Sketch(s) = &mut self.mode {
            match &other.mode {
                Mode::Exact(b) => b.iter().for_each(|x| s.add(*x)),
                Mode::Sketch(o) => s.merge(o),
            }
        }
    }

    /// Quantiles for each probability in `ps` (sorting once in exact mode). NaN when empty.
    pub fn quantiles(&self, ps: &[f64]) -> Vec<f64> {
        match &self.mode {
            Mode::Exact(v) => {
                let mut s = v.clone();
                s.sort_unstable_by(f64::total_cmp);
                ps.iter().map(|p| type7(&s, *p)).collect()
            }
            Mode::Sketch(s) => ps
                .iter()
                .map(|p| s.quantile(*p).clamp(self.min, self.max))
                .collect(),
        }
    }

    pub fn quantile(&self, p: f64) -> f64 {
        self.quantiles(&[p])[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::{std_normal, stream};
    use crate::stats::sketch::DEFAULT_ALPHA;
    use rand::RngExt;

    const PS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

    #[test]
    fn exact_mode_is_type_7() {
        let mut q = Quantiles::default();
        [3.0, 1.0, 4.0, 1.0, 5.0].iter().for_each(|v| q.push(*v));
        // Sorted 1 1 3 4 5; p = 0.3 → h = 1.2 → 1 + 0.2·(3 − 1) = 1.4.
        assert!((q.quantile(0.3) - 1.4).abs() < 1e-12);
        assert!((q.quantile(0.5) - 3.0).abs() < 1e-12);
        assert!(!q.is_sketch());
        assert!(Quantiles::default().quantile(0.5).is_nan());
    }

    /// Sketch vs exact on 10⁵ draws: within the documented bound at every probability.
    fn check_bound(name: &str, x: &[f64]) {
        let mut q = Quantiles::new(1_000, DEFAULT_ALPHA);
        x.iter().for_each(|v| q.push(*v));
        assert!(q.is_sketch());
        let mut s = x.to_vec();
        s.sort_by(f64::total_cmp);
        let got = q.quantiles(&PS);
        for (p, g) in PS.iter().zip(got) {
            let h = p * (s.len() - 1) as f64;
            let (k, w) = (h.floor() as usize, h - h.floor());
            let exact = type7(&s, *p);
            let bound = DEFAULT_ALPHA * ((1.0 - w) * s[k].abs() + w * s[k + 1].abs());
            assert!(
                (g - exact).abs() <= bound * (1.0 + 1e-9) + 1e-300,
                "{name} p{p}: sketch {g} exact {exact} bound {bound}"
            );
        }
    }

    #[test]
    fn sketch_quantiles_within_documented_error_on_1e5_draws() {
        let n = 100_000;
        let mut r = stream(2024, 0, 0);
        let normal: Vec<f64> = (0..n)
            .map(|_| 1000.0 + 300.0 * std_normal(&mut r))
            .collect();
        let signed: Vec<f64> = (0..n).map(|_| 50.0 * std_normal(&mut r) - 10.0).collect();
        let lognormal: Vec<f64> = (0..n)
            .map(|_| (3.0 + 1.5 * std_normal(&mut r)).exp())
            .collect();
        let uniform: Vec<f64> = (0..n).map(|_| r.random_range(-1e6..2e6)).collect();
        // Net payments: a point mass at 0 plus signed amounts.
        let mixed: Vec<f64> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    1e7 * std_normal(&mut r)
                }
            })
            .collect();
        check_bound("normal", &normal);
        check_bound("signed", &signed);
        check_bound("lognormal", &lognormal);
        check_bound("uniform", &uniform);
        check_bound("mixed", &mixed);
    }

    #[test]
    fn memory_is_bounded_in_sketch_mode() {
        // Signed values around 0 keep reaching smaller magnitudes as draws accumulate, the
        // worst case for a log-bucketed sketch: memory still stays under the fixed cap.
        let cap = 2 * crate::stats::sketch::MAX_BUCKETS * 4;
        let mut q = Quantiles::new(1_000, DEFAULT_ALPHA);
        let mut r = stream(1, 0, 0);
        for i in 0..300_000 {
            q.push(1e5 * std_normal(&mut r));
            if i % 50_000 == 0 {
                assert!(q.heap_bytes() <= cap, "{} > {cap}", q.heap_bytes());
            }
        }
        assert!(q.heap_bytes() <= cap);
        // Far below what exact storage of the same draws would take.
        assert!(q.heap_bytes() * 50 < 300_000 * 8);
    }

    #[test]
    fn blocking_does_not_change_quantiles() {
        let mut r = stream(8, 0, 0);
        let x: Vec<f64> = (0..5_000).map(|_| std_normal(&mut r)).collect();
        for limit in [10_000, 2_000] {
            let mut seq = Quantiles::new(limit, DEFAULT_ALPHA);
            x.iter().for_each(|v| seq.push(*v));
            let mut merged = Quantiles::new(limit, DEFAULT_ALPHA);
            for block in x.chunks(777) {
                let mut b = Quantiles::new(limit, DEFAULT_ALPHA);
                block.iter().for_each(|v| b.push(*v));
                merged.merge(&b);
            }
            assert_eq!(seq.is_sketch(), merged.is_sketch());
            let (a, b) = (seq.quantiles(&PS), merged.quantiles(&PS));
            assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
        }
    }

    #[test]
    fn push_slice_matches_push() {
        let mut r = stream(9, 0, 0);
        let mut x: Vec<f64> = (0..3_000).map(|_| 3.0 + std_normal(&mut r)).collect();
        x[100] = f64::NAN;
        for limit in [10_000, 500, 0] {
            for xs in [&x[..], &x[200..]] {
                let mut each = Quantiles::new(limit, DEFAULT_ALPHA);
                xs.iter().for_each(|v| each.push(*v));
                let mut slices = Quantiles::new(limit, DEFAULT_ALPHA);
                xs.chunks(32).for_each(|c| slices.push_slice(c));
                assert_eq!(each, slices, "limit {limit}");
            }
        }
    }

    /// Batches through lanes, where the lane is given, leave the state that `push_slice`
    /// leaves, also for the batch that passes the exact limit and switches to the sketch.
    #[test]
    fn lanes_match_push_slice_across_the_exact_limit() {
        let mut r = stream(10, 0, 0);
        let x: Vec<f64> = (0..1_000).map(|_| 5.0 + std_normal(&mut r)).collect();
        for limit in [0, 100, 10_000] {
            let (mut lanes, mut slices) = (
                Quantiles::new(limit, DEFAULT_ALPHA),
                Quantiles::new(limit, DEFAULT_ALPHA),
            );
            for c in x.chunks(64) {
                slices.push_slice(c);
                let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                match lanes.sketch_lane(lo, hi, c.len() as u64) {
                    Some(mut lane) => c.iter().for_each(|&v| lane.add(v)),
                    None => lanes.push_slice(c),
                }
                assert_eq!(lanes, slices, "limit {limit}");
            }
            assert_eq!(lanes.is_sketch(), limit < x.len());
        }
    }

    #[test]
    fn nonfinite_values_are_excluded_and_counted() {
        let mut q = Quantiles::default();
        q.push(f64::NAN);
        q.push(1.0);
        q.push(f64::INFINITY);
        assert_eq!(q.count(), 1);
        assert_eq!(q.nonfinite(), 2);
    }
}
