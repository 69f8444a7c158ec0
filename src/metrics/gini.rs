//! The unweighted Gini of a Monte Carlo draw, which the engine computes for every formula
//! in every draw: the amounts' order keys sorted by a radix sort over their actual range
//! (cheaper than a comparison sort past [`RADIX_MIN`] values), and the rank-weighted sums
//! of several draws side by side.

use super::inequality::is_degenerate;

/// Below this many values the unweighted Gini sorts with the standard sort; above it, a
/// radix pass is cheaper (the Monte Carlo engine computes a Gini of every draw).
pub(super) const RADIX_MIN: usize = 512;
/// Bits of a radix digit (a 16 KiB histogram): the keys are bucketed by the top 12 bits
/// of their offset from the smallest key, or by the top 24 in two passes above
/// [`ONE_PASS_MAX`] keys, then sorted within buckets.
const RADIX_BITS: u32 = 12;
/// Most keys sorted with one radix pass (at 2,800 keys the buckets hold about one key
/// each; at 30,000 the second pass is cheaper than insertion within crowded buckets).
const ONE_PASS_MAX: usize = 8192;
/// Element moves the insertion fix-up may make per key before it gives up and hands the
/// nearly sorted keys to the standard sort (many distinct keys sharing their top bits).
const INSERTION_BUDGET: usize = 8;

/// A key whose unsigned order is `f64::total_cmp`'s order.
#[inline]
fn order_key(x: f64) -> u64 {
    let b = x.to_bits();
    (b ^ ((((b as i64) >> 63) as u64) >> 1)) ^ (1 << 63)
}

/// Inverse of [`order_key`].
#[inline]
fn from_order_key(k: u64) -> f64 {
    let b = k ^ (1 << 63);
    f64::from_bits(b ^ ((((b as i64) >> 63) as u64) >> 1))
}

/// Sort `keys` ascending (the sorted keys end in `keys`; `tmp` is scratch): counting
/// passes on the top bits of `key − min` (so the buckets cover the keys' actual range, not
/// the whole float range), one pass of [`RADIX_BITS`] bits up to [`ONE_PASS_MAX`] keys and
/// two LSD passes of [`RADIX_BITS`] bits above, then insertion of the keys still out of
/// place (they are only out of place within their bucket); if the insertions exceed their
/// budget (many distinct keys within one bucket), the standard sort finishes the job.
/// Exact for any input. Hand-written: at 2,800 keys it takes 27 µs against 38–44 µs for
/// `sort_unstable` and 39–40 µs for `radsort` (BENCHMARKS.md).
fn sort_keys(keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    let n = keys.len();
    let (lo, hi) = keys
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), &k| (lo.min(k), hi.max(k)));
    if n < 2 || lo >= hi {
        return;
    }
    // Zeros among non-negative values (regions paid nothing) would stretch the range over
    // a thousand binades of float bits and crowd the positive values into a few buckets:
    // the buckets then span the positive values only, and the zeros share the lowest one
    // (offsets saturate at 0, so the bucket order is still the key order).
    let zero = order_key(0.0);
    let lo = if lo == zero {
        keys.iter()
            .fold(hi, |m, &k| if k > zero && k < m { k } else { m })
    } else {
        lo
    };
    let span_bits = 64 - (hi - lo).leading_zeros();
    // Every slot is written by the first pass.
    tmp.resize(n, 0);
    if n <= ONE_PASS_MAX {
        // Buckets spread over the keys' actual range [lo, hi], not the power of two above
        // it (which left a quarter of the buckets empty on average and crowded the rest):
        // bucket = ⌊(k − lo) · m / 2⁶⁴⌋ with m = ⌊2⁶⁴ · 2^RADIX_BITS / (hi − lo + 1)⌋, which
        // is monotone in k and below 2^RADIX_BITS for every k ≤ hi.
        // (A range under 2^RADIX_BITS would need m ≥ 2⁶⁴: the largest m still maps each
        // key to its own bucket, k − lo − 1 or 0.)
        let m = ((1u128 << (64 + RADIX_BITS)) / (u128::from(hi - lo) + 1)).min(u128::from(u64::MAX))
            as u64;
        scaled_radix_pass(keys, tmp, lo, m);
        std::mem::swap(keys, tmp);
    } else {
        let shift = span_bits.saturating_sub(2 * RADIX_BITS);
        radix_pass(keys, tmp, lo, shift);
        radix_pass(tmp, keys, lo, shift + RADIX_BITS);
    }
    // One backward pass of branch-free compare-exchanges first: it orders every bucket of
    // two keys (most of the unordered ones) and carries each bucket's smallest key to the
    // bucket's front, so that few keys are left out of place for the insertions below.
    for i in (1..n).rev() {
        let (a, b) = (keys[i - 1], keys[i]);
        keys[i - 1] = a.min(b);
        keys[i] = a.max(b);
    }
    // The keys an insertion pass would move are those below the largest key before them
    // (the prefix it has sorted by then holds the same keys, so its largest is this running
    // maximum): list them without branches, then insert only those, in order. Allocations
    // leave about one key in ten out of place, and a plain insertion pass over every key
    // would mispredict its exit on several hundred of them per call.
    let moved = &mut tmp[..n];
    let (mut m, mut run) = (0, keys[0]);
    for (i, &k) in keys.iter().enumerate().skip(1) {
        moved[m] = i as u64;
        m += usize::from(k < run);
        run = run.max(k);
    }
    let mut budget = INSERTION_BUDGET * n;
    for &i in &moved[..m] {
        let i = i as usize;
        let k = keys[i];
        let mut j = i;
        while j > 0 && keys[j - 1] > k {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = k;
        budget = budget.saturating_sub(i - j);
        if budget == 0 {
            keys.sort_unstable();
            return;
        }
    }
}

/// One stable counting pass of `src` into `dst` by the low [`RADIX_BITS`] bits of
/// `bucket(k)`.
#[inline(always)]
fn counting_pass(src: &[u64], dst: &mut [u64], bucket: impl Fn(u64) -> usize) {
    const BUCKETS: usize = 1 << RADIX_BITS;
    let mut hist = [0u32; BUCKETS];
    for &k in src {
        hist[bucket(k) & (BUCKETS - 1)] += 1;
    }
    let mut sum = 0;
    for c in hist.iter_mut() {
        let count = *c;
        *c = sum;
        sum += count;
    }
    for &k in src {
        let slot = &mut hist[bucket(k) & (BUCKETS - 1)];
        dst[*slot as usize] = k;
        *slot += 1;
    }
}

/// [`counting_pass`] by bucket `⌊(k − lo) · m / 2⁶⁴⌋` (keys below `lo` in bucket 0); `m`
/// must keep every bucket below `2^RADIX_BITS`.
fn scaled_radix_pass(src: &[u64], dst: &mut [u64], lo: u64, m: u64) {
    counting_pass(src, dst, |k| {
        ((u128::from(k.saturating_sub(lo)) * u128::from(m)) >> 64) as usize
    });
}

/// [`counting_pass`] by the [`RADIX_BITS`] bits of `key − lo` (0 for keys below `lo`) from
/// bit `shift` up.
fn radix_pass(src: &[u64], dst: &mut [u64], lo: u64, shift: u32) {
    counting_pass(src, dst, |k| (k.saturating_sub(lo) >> shift) as usize);
}

/// The order keys of `x` ([`order_key`]), sorted, into `keys` (`tmp` is scratch).
#[inline(always)]
pub(super) fn sorted_keys(x: &[f64], keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    keys.clear();
    keys.extend(x.iter().map(|&v| order_key(v)));
    sort_keys(keys, tmp);
}

/// The Gini of each of `K` equally long runs of sorted order keys: `gini_sorted` with
/// every w = 1 (1·x = x and the running weights are exact integers, so these are the
/// same operations on the same values), the runs' sums side by side in one pass.
#[inline(always)]
pub(super) fn unit_ginis<const K: usize>(keys: [&Vec<u64>; K]) -> [f64; K] {
    let n = keys.first().map_or(0, |k| k.len());
    let keys = keys.map(|k| &k[..n]);
    let total_w = n as f64;
    let (mut total_y, mut acc) = ([0.0; K], [0.0; K]);
    let mut rank = 1.0;
    // Index by region (the runs side by side), not by run.
    #[allow(clippy::needless_range_loop)]
    for i in 0..n {
        let r = rank - total_w;
        for j in 0..K {
            let xi = from_order_key(keys[j][i]);
            total_y[j] += xi;
            acc[j] += xi * r;
        }
        rank += 2.0;
    }
    std::array::from_fn(|j| {
        if is_degenerate(total_w, total_y[j]) {
            0.0
        } else {
            acc[j] / total_w / total_y[j]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sort_keys` on the order keys of `x` gives `x` sorted by `total_cmp`, bit for bit.
    fn assert_sorts_like_total_cmp(x: &[f64], what: &str) {
        let mut keys: Vec<u64> = x.iter().map(|&v| order_key(v)).collect();
        sort_keys(&mut keys, &mut Vec::new());
        let got: Vec<u64> = keys.iter().map(|&k| from_order_key(k).to_bits()).collect();
        let mut want = x.to_vec();
        want.sort_by(f64::total_cmp);
        let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "{what}");
    }

    #[test]
    fn radix_sort_matches_total_order() {
        let mut r = crate::sampling::rng::stream(5, 0, 0);
        let mut x: Vec<f64> = (0..3000)
            .map(|i| {
                let z = crate::sampling::rng::std_normal(&mut r);
                match i % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => 1.0 + 1e-12 * z, // keys that share their top bits
                    3 => -z.exp(),
                    _ => (3.0 * z).exp() * 1e6,
                }
            })
            .collect();
        x.push(f64::INFINITY);
        x.push(f64::MIN_POSITIVE / 4.0);
        assert_sorts_like_total_cmp(&x, "");
    }

    #[test]
    fn sort_keys_survives_many_keys_sharing_their_top_bits() {
        // 3,000 distinct values within 1e-9 of each other, in descending order, and one
        // outlier: every value but one shares the radix digits, so the insertion pass
        // would be quadratic and hands over to the standard sort.
        let mut x: Vec<f64> = (0..3000)
            .map(|i| 1.0 + f64::from(3000 - i) * 1e-13)
            .collect();
        x.push(1e10);
        assert_sorts_like_total_cmp(&x, "");
    }

    #[test]
    fn sort_keys_orders_keys_a_few_ulps_apart() {
        // Ranges of keys narrower than the bucket count, wider, and exactly at it.
        for span in [3u64, 100, 4095, 4096, 4097, 1 << 20] {
            let x: Vec<f64> = (0..2000u64)
                .map(|i| f64::from_bits(1.5f64.to_bits() + (i * 7919) % (span + 1)))
                .collect();
            assert_sorts_like_total_cmp(&x, &format!("span {span}"));
        }
    }

    #[test]
    fn sort_keys_orders_zeros_and_spread_values() {
        // Zeros, values over many binades, duplicates, and both the one- and two-pass sizes.
        let mut r = crate::sampling::rng::stream(8, 0, 0);
        for n in [600, 5000, 20_000] {
            let x: Vec<f64> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => 3.5,
                    _ => (4.0 * crate::sampling::rng::std_normal(&mut r)).exp(),
                })
                .collect();
            assert_sorts_like_total_cmp(&x, &format!("n = {n}"));
        }
    }
}
