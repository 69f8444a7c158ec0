//! Which part of a run one shard computes (docs/model.md §7).

use serde::{Deserialize, Serialize};

/// Shard `k` of `n` (0-based): the `k`-th of `n` contiguous, near-equal parts of a run's
/// work units. A Monte Carlo run splits its blocks, not its draws, so that each block is
/// the same draws with the same arithmetic whichever shard runs it; a sensitivity
/// analysis splits the points of its design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// The shard's units out of `total`: `⌊k·total/n⌋..⌊(k+1)·total/n⌋` (empty when the
    /// shards outnumber the units).
    pub fn part(&self, total: u64) -> std::ops::Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.n.max(1))) as u64;
        at(self.k)..at(self.k + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn parts_cover_the_units_once_in_order() {
        for (total, n) in [(40, 8), (41, 7), (3, 64), (0, 2), (10_000, 1)] {
            let mut next = 0;
            for k in 0..n {
                let r = Shard { k, n }.part(total);
                assert_eq!(r.start, next, "total {total}, shard {k}/{n}");
                assert!(r.end - r.start <= total.div_ceil(n));
                next = r.end;
            }
            assert_eq!(next, total);
        }
    }
}
