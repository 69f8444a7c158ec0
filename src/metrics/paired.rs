//! Winners and losers between a formula and a baseline (docs/model.md §3.2).
//!
//! Under common random numbers every draw gives both formulas the same inputs, so the
//! per-draw difference `d = a − b` is a paired sample. [`PairedAccumulator`] streams and
//! merges those differences (mean, standard error, P(gain)); [`winners_losers`] then
//! summarises the per-region mean differences by group.
//!
//! A region wins or loses only when its difference is told apart from zero
//! ([`ChangeRule`]): the interval `mean ± z·SE` excludes 0 and the mean is beyond a
//! tolerance. Without the interval, a difference of +0.0011 ± 0.0009 (half the draws
//! gaining) counted as a win; without the tolerance, the rounding residue of a fixed
//! budget did.

use super::{MetricsError, check_len};
use std::cmp::Ordering;

/// The normal quantile of a two-sided 90% interval.
pub const Z_90: f64 = 1.645;

/// Whether a region gained, lost, or is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Gain,
    Loss,
    Unchanged,
}

/// When a paired difference counts as a change: its interval `diff ± z·se` lies wholly
/// on one side of 0, and `|diff| > tol`. With no draws `se` is 0 and only the tolerance
/// applies. NaN differences are unchanged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeRule {
    /// Differences within this of zero are unchanged (absolute, in money).
    pub tol: f64,
    /// Half-width of the interval in standard errors ([`Z_90`]; 0 for the sign alone).
    pub z: f64,
}

impl ChangeRule {
    /// The sign of the difference, beyond `tol`, with no interval.
    pub fn sign(tol: f64) -> Self {
        ChangeRule {
            tol: tol.abs(),
            z: 0.0,
        }
    }

    /// The difference `diff` with standard error `se` (0 without draws).
    pub fn classify(&self, diff: f64, se: f64) -> Change {
        let half = self.z * se.abs();
        if diff > self.tol && diff - half > 0.0 {
            Change::Gain
        } else if diff < -self.tol && diff + half < 0.0 {
            Change::Loss
        } else {
            Change::Unchanged
        }
    }
}

/// Paired-difference statistics for one region (or any paired output).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PairedStats {
    /// Number of draws.
    pub n: u64,
    /// Mean of `a − b`.
    pub mean_diff: f64,
    /// Sample standard deviation of `a − b` (divides by `n − 1`; 0 when `n < 2`).
    pub sd_diff: f64,
    /// Monte Carlo standard error of the mean difference, `sd / √n` (0 when `n < 2`).
    pub se_diff: f64,
    /// Fraction of draws with `a − b > tol`.
    pub p_gain: f64,
    /// Fraction of draws with `a − b < −tol`.
    pub p_loss: f64,
}

/// Streaming, mergeable accumulator of paired differences (Welford; Chan et al. merge).
///
/// Merging in a fixed order gives a fixed result, so a parallel Monte Carlo that reduces
/// chunk accumulators in chunk-index order stays bit-reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PairedAccumulator {
    n: u64,
    mean: f64,
    m2: f64,
    gains: u64,
    losses: u64,
    tol: f64,
}

impl PairedAccumulator {
    /// An empty accumulator; differences within `tol` of zero are neither gains nor losses.
    pub fn new(tol: f64) -> Self {
        PairedAccumulator {
            tol: tol.abs(),
            ..Self::default()
        }
    }

    /// Adds one draw: formula value `a`, baseline value `b`.
    pub fn push(&mut self, a: f64, b: f64) {
        let d = a - b;
        self.n += 1;
        let delta = d - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (d - self.mean);
        if d > self.tol {
            self.gains += 1;
        } else if d < -self.tol {
            self.losses += 1;
        }
    }

    /// Folds `other` (draws disjoint from this one's) into `self`. The tolerance of `self`
    /// is kept.
    pub fn merge(&mut self, other: &PairedAccumulator) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            let tol = self.tol;
            *self = *other;
            self.tol = tol;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
        self.gains += other.gains;
        self.losses += other.losses;
    }

    pub fn finish(&self) -> PairedStats {
        if self.n == 0 {
            return PairedStats::default();
        }
        let n = self.n as f64;
        let sd = if self.n > 1 {
            (self.m2 / (n - 1.0)).max(0.0).sqrt()
        } else {
            0.0
        };
        PairedStats {
            n: self.n,
            mean_diff: self.mean,
            sd_diff: sd,
            se_diff: if self.n > 1 { sd / n.sqrt() } else { 0.0 },
            p_gain: self.gains as f64 / n,
            p_loss: self.losses as f64 / n,
        }
    }
}

/// Paired statistics of per-draw values `a` (formula) and `b` (baseline) for one region.
pub fn paired_stats(a: &[f64], b: &[f64], tol: f64) -> Result<PairedStats, MetricsError> {
    check_len("baseline draws", a.len(), b.len())?;
    let mut acc = PairedAccumulator::new(tol);
    for (&x, &y) in a.iter().zip(b) {
        acc.push(x, y);
    }
    Ok(acc.finish())
}

/// Counts and totals of winners and losers in a set of regions.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupTally {
    pub regions: usize,
    pub winners: usize,
    pub losers: usize,
    pub unchanged: usize,
    /// Sum of the winners' differences (≥ 0).
    pub gain_total: f64,
    /// Sum of the losers' differences (≤ 0).
    pub loss_total: f64,
    /// Sum of all differences, unchanged regions included. Zero when a fixed budget is
    /// only redistributed.
    pub net: f64,
}

impl GroupTally {
    fn add(&mut self, d: f64, change: Change) {
        self.regions += 1;
        self.net += d;
        match change {
            Change::Gain => {
                self.winners += 1;
                self.gain_total += d;
            }
            Change::Loss => {
                self.losers += 1;
                self.loss_total += d;
            }
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// One region's mean difference, for the largest-winner and largest-loser lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionDiff {
    /// Index of the region in the input slices.
    pub index: usize,
    pub diff: f64,
}

/// Winners and losers of a move from the baseline formula to another one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WinnersLosers {
    pub overall: GroupTally,
    /// One tally per group id, in ascending group id.
    pub groups: Vec<(u32, GroupTally)>,
    /// Up to `top_k` winners, largest gain first (ties by region index).
    pub largest_winners: Vec<RegionDiff>,
    /// Up to `top_k` losers, largest loss first (ties by region index).
    pub largest_losers: Vec<RegionDiff>,
}

/// Summarises per-region mean differences `diff` (formula − baseline), with their standard
/// errors `se` (zeros without draws), by group; `rule` says which differences are changes.
///
/// O(n log n): one sort by group, one by difference. NaN differences count as unchanged
/// and are never listed among the largest.
pub fn winners_losers(
    diff: &[f64],
    se: &[f64],
    groups: &[u32],
    rule: ChangeRule,
    top_k: usize,
) -> Result<WinnersLosers, MetricsError> {
    check_len("groups", diff.len(), groups.len())?;
    check_len("standard errors", diff.len(), se.len())?;
    let change: Vec<Change> = diff
        .iter()
        .zip(se)
        .map(|(&d, &s)| rule.classify(d, s))
        .collect();
    let mut out = WinnersLosers::default();
    let mut order: Vec<usize> = (0..diff.len()).collect();
    order.sort_by_key(|&i| groups[i]);
    for run in order.chunk_by(|&a, &b| groups[a] == groups[b]) {
        let mut tally = GroupTally::default();
        for &i in run {
            tally.add(diff[i], change[i]);
            out.overall.add(diff[i], change[i]);
        }
        if let Some(&first) = run.first() {
            out.groups.push((groups[first], tally));
        }
    }
    // Largest first; the stable sort keeps region order among equal differences.
    order.clear();
    order.extend((0..diff.len()).filter(|&i| change[i] == Change::Gain));
    order.sort_by(|&a, &b| diff[b].total_cmp(&diff[a]));
    out.largest_winners = largest(&order, diff, top_k);
    order.clear();
    order.extend((0..diff.len()).filter(|&i| change[i] == Change::Loss));
    order.sort_by(|&a, &b| match diff[a].total_cmp(&diff[b]) {
        Ordering::Equal => a.cmp(&b),
        o => o,
    });
    out.largest_losers = largest(&order, diff, top_k);
    Ok(out)
}

/// The first `top_k` regions of `order` with their differences.
fn largest(order: &[usize], diff: &[f64], top_k: usize) -> Vec<RegionDiff> {
    order
        .iter()
        .take(top_k)
        .map(|&index| RegionDiff {
            index,
            diff: diff[index],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn paired_stats_hand_computed() {
        // d = (1, −1, 3, 1): mean 1, deviations (0, −2, 2, 0), s² = 8/3.
        let s = paired_stats(&[2.0, 1.0, 5.0, 4.0], &[1.0, 2.0, 2.0, 3.0], 0.0).unwrap();
        assert_eq!(s.n, 4);
        assert_relative_eq!(s.mean_diff, 1.0);
        assert_relative_eq!(s.sd_diff, (8.0f64 / 3.0).sqrt(), epsilon = 1e-15);
        assert_relative_eq!(s.se_diff, (8.0f64 / 3.0).sqrt() / 2.0, epsilon = 1e-15);
        assert_relative_eq!(s.p_gain, 0.75);
        assert_relative_eq!(s.p_loss, 0.25);
    }

    #[test]
    fn tolerance_and_degenerate() {
        let s = paired_stats(&[1.0 + 1e-12, 1.0], &[1.0, 1.0], 1e-9).unwrap();
        assert_relative_eq!(s.p_gain, 0.0);
        assert_relative_eq!(s.p_loss, 0.0);
        assert_eq!(paired_stats(&[], &[], 0.0).unwrap(), PairedStats::default());
        let one = paired_stats(&[3.0], &[1.0], 0.0).unwrap();
        assert_relative_eq!(one.mean_diff, 2.0);
        assert_relative_eq!(one.se_diff, 0.0);
        assert!(paired_stats(&[1.0], &[], 0.0).is_err());
    }

    #[test]
    fn merge_matches_single_pass() {
        let a: Vec<f64> = (0..37)
            .map(|i| ((i * 17 % 11) as f64).sin() * 5.0)
            .collect();
        let b: Vec<f64> = (0..37).map(|i| ((i * 5 % 7) as f64).cos() * 3.0).collect();
        let whole = paired_stats(&a, &b, 0.0).unwrap();
        let mut merged = PairedAccumulator::new(0.0);
        for chunk in (0..37).collect::<Vec<_>>().chunks(6) {
            let mut part = PairedAccumulator::new(0.0);
            for &i in chunk {
                part.push(a[i], b[i]);
            }
            merged.merge(&part);
        }
        let m = merged.finish();
        assert_eq!(m.n, whole.n);
        assert_relative_eq!(m.mean_diff, whole.mean_diff, epsilon = 1e-13);
        assert_relative_eq!(m.sd_diff, whole.sd_diff, epsilon = 1e-13);
        assert_relative_eq!(m.p_gain, whole.p_gain);
    }

    #[test]
    fn winners_losers_by_group() {
        let diff = [5.0, -2.0, 0.0, -7.0, 3.0, 1.0];
        let groups = [2, 1, 2, 1, 9, 2];
        let wl = winners_losers(&diff, &[0.0; 6], &groups, ChangeRule::sign(0.0), 2).unwrap();
        assert_eq!(wl.overall.winners, 3);
        assert_eq!(wl.overall.losers, 2);
        assert_eq!(wl.overall.unchanged, 1);
        assert_relative_eq!(wl.overall.gain_total, 9.0);
        assert_relative_eq!(wl.overall.loss_total, -9.0);
        assert_relative_eq!(wl.overall.net, 0.0);
        let ids: Vec<u32> = wl.groups.iter().map(|g| g.0).collect();
        assert_eq!(ids, vec![1, 2, 9]);
        let g1 = wl.groups[0].1;
        assert_eq!((g1.regions, g1.winners, g1.losers), (2, 0, 2));
        assert_relative_eq!(g1.loss_total, -9.0);
        let g2 = wl.groups[1].1;
        assert_eq!((g2.regions, g2.winners, g2.unchanged), (3, 2, 1));
        assert_relative_eq!(g2.gain_total, 6.0);
        let w: Vec<usize> = wl.largest_winners.iter().map(|r| r.index).collect();
        let l: Vec<usize> = wl.largest_losers.iter().map(|r| r.index).collect();
        assert_eq!(w, vec![0, 4]);
        assert_eq!(l, vec![3, 1]);
        assert!(winners_losers(&diff, &[0.0; 6], &groups[..2], ChangeRule::sign(0.0), 2).is_err());
        assert!(winners_losers(&diff, &[0.0; 2], &groups, ChangeRule::sign(0.0), 2).is_err());
        let empty = winners_losers(&[], &[], &[], ChangeRule::sign(0.0), 3).unwrap();
        assert_eq!(empty, WinnersLosers::default());
    }

    /// The noise the rule is there for: a mean gain smaller than 1.645 standard errors,
    /// P(gain) 0.46, is no win; the same mean with a small error is.
    #[test]
    fn a_difference_inside_its_90_percent_interval_is_unchanged() {
        let rule = ChangeRule { tol: 1e-9, z: Z_90 };
        assert_eq!(rule.classify(0.0011, 0.0009), Change::Unchanged);
        assert_eq!(rule.classify(-0.0011, 0.0009), Change::Unchanged);
        assert_eq!(rule.classify(0.0011, 0.0006), Change::Gain);
        assert_eq!(rule.classify(-0.0011, 0.0006), Change::Loss);
        // The interval's edge on zero is not excluding it.
        assert_eq!(rule.classify(1.645, 1.0), Change::Unchanged);
        assert_eq!(rule.classify(f64::NAN, 0.0), Change::Unchanged);
        assert_eq!(rule.classify(1.0, f64::NAN), Change::Unchanged);
    }

    /// Without draws the standard error is 0 and the tolerance alone decides: the residue
    /// of a fixed budget's rescaling is no change.
    #[test]
    fn without_draws_the_tolerance_decides() {
        let rule = ChangeRule {
            tol: 1e-9 * 795.0,
            z: Z_90,
        };
        assert_eq!(rule.classify(5.6e-14, 0.0), Change::Unchanged);
        assert_eq!(rule.classify(-5.6e-14, 0.0), Change::Unchanged);
        assert_eq!(rule.classify(1e-6, 0.0), Change::Gain);
        assert_eq!(rule.classify(-1e-6, 0.0), Change::Loss);
        // A tiny difference with a tinier error is still under the tolerance.
        assert_eq!(rule.classify(1e-10, 1e-15), Change::Unchanged);
    }

    #[test]
    fn noise_is_neither_listed_nor_counted() {
        // Region 0 gains clearly, 1 within noise, 2 loses clearly, 3 within the tolerance.
        let diff = [2.0, 0.0011, -3.0, 1e-12];
        let se = [0.1, 0.0009, 0.2, 0.0];
        let rule = ChangeRule { tol: 1e-9, z: Z_90 };
        let wl = winners_losers(&diff, &se, &[0, 0, 1, 1], rule, 5).unwrap();
        let o = wl.overall;
        assert_eq!((o.winners, o.losers, o.unchanged), (1, 1, 2));
        assert_relative_eq!(o.gain_total, 2.0);
        assert_relative_eq!(o.loss_total, -3.0);
        assert_relative_eq!(o.net, -1.0 + 0.0011 + 1e-12);
        let w: Vec<usize> = wl.largest_winners.iter().map(|r| r.index).collect();
        let l: Vec<usize> = wl.largest_losers.iter().map(|r| r.index).collect();
        assert_eq!((w, l), (vec![0], vec![2]));
        assert_eq!(wl.groups[0].1.unchanged, 1);
        // The sign alone would have counted region 1 a winner.
        let sign = winners_losers(&diff, &se, &[0, 0, 1, 1], ChangeRule::sign(1e-9), 5).unwrap();
        assert_eq!(sign.overall.winners, 2);
    }
}
