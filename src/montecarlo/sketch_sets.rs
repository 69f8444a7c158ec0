//! The workers' quantile sketches in a run's mergeable state (docs/model.md §7).

use crate::stats::Quantiles;
use crate::stats::columns::{ColumnRef, Raw, get_varint, unpack};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Per worker, its sketches of the region amounts (sketch mode only; each set holds
/// year 1's outputs, then year 2's, …). Decoded as a run computes them; as read from a
/// shard's file, still packed, so that `merge` folds a shard's sketches into the running
/// set straight from its bytes instead of building and dropping thousands of sketches.
/// Both serialise alike: one packed byte string per set.
#[derive(Debug, Clone, PartialEq)]
pub enum SketchSets {
    Decoded(Vec<Vec<Quantiles>>),
    Packed(Vec<Raw>),
}

impl Default for SketchSets {
    fn default() -> Self {
        SketchSets::Decoded(Vec::new())
    }
}

impl Serialize for SketchSets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SketchSets::Decoded(sets) => s.collect_seq(sets.iter().map(|x| ColumnRef(x))),
            SketchSets::Packed(raw) => raw.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for SketchSets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Raw>::deserialize(d).map(SketchSets::Packed)
    }
}

const UNREADABLE: &str = "has unreadable quantile sketches";

impl SketchSets {
    /// The workers' `sets`, folded into one.
    pub fn folded(sets: Vec<Vec<Quantiles>>) -> Self {
        SketchSets::Decoded(fold(sets))
    }

    /// The sets, decoded.
    pub fn decode(self) -> Result<Vec<Vec<Quantiles>>, String> {
        match self {
            SketchSets::Decoded(sets) => Ok(sets),
            SketchSets::Packed(raw) => raw
                .iter()
                .map(|r| unpack(&r.0).ok_or_else(|| UNREADABLE.to_string()))
                .collect(),
        }
    }

    /// This state's sets and `later`'s folded into one set (none when neither has any).
    /// Sketch merges are exact integer sums, so where the folding happens changes no
    /// result; a packed set is merged in place, estimator by estimator.
    pub fn fold(self, later: SketchSets) -> Result<SketchSets, String> {
        let mut set = fold(self.decode()?);
        match later {
            SketchSets::Decoded(sets) => {
                set = fold(set.into_iter().chain(sets).collect());
            }
            SketchSets::Packed(raw) => {
                for r in raw {
                    let mut b = &r.0[..];
                    let n = get_varint(&mut b).ok_or(UNREADABLE)?;
                    match set.first_mut() {
                        _ if n == 0 => {}
                        None => set = vec![unpack(&r.0).ok_or(UNREADABLE)?],
                        Some(s) if s.len() as u64 == n => {
                            for q in s.iter_mut() {
                                q.merge_packed(&mut b).ok_or(UNREADABLE)?;
                            }
                            if !b.is_empty() {
                                return Err(UNREADABLE.into());
                            }
                        }
                        Some(_) => return Err("holds sketches of other outputs".into()),
                    }
                }
            }
        }
        Ok(SketchSets::Decoded(set))
    }
}

/// `sets` folded into one (none when every set is empty).
fn fold(sets: Vec<Vec<Quantiles>>) -> Vec<Vec<Quantiles>> {
    let mut sets = sets.into_iter().filter(|s| !s.is_empty());
    let Some(mut first) = sets.next() else {
        return Vec::new();
    };
    for set in sets {
        first.iter_mut().zip(&set).for_each(|(x, y)| x.merge(y));
    }
    vec![first]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::{std_normal, stream};

    fn set(seed: u64, n: usize, limit: usize) -> Vec<Quantiles> {
        let mut r = stream(seed, 0, 0);
        (0..n)
            .map(|k| {
                let mut q = Quantiles::new(limit, crate::stats::sketch::DEFAULT_ALPHA);
                for _ in 0..(50 + 40 * k) {
                    q.push((k as f64 + 1.0) * (2.0 + std_normal(&mut r)));
                }
                q
            })
            .collect()
    }

    fn packed(sets: &[Vec<Quantiles>]) -> SketchSets {
        let bytes = postcard::to_stdvec(&SketchSets::Decoded(sets.to_vec())).unwrap();
        postcard::from_bytes(&bytes).unwrap()
    }

    /// Folding packed sets in place gives the state that folding the decoded sets gives,
    /// for sketches, exact estimators and estimators that cross the exact limit, and
    /// empty sets are skipped; damaged bytes are refused.
    #[test]
    fn packed_sets_fold_as_decoded_ones_do() {
        for limit in [0, 100, 10_000] {
            let (a, b, c) = (set(1, 5, limit), set(2, 5, limit), set(3, 5, limit));
            let decoded = SketchSets::Decoded(vec![a.clone()])
                .fold(SketchSets::Decoded(vec![b.clone(), Vec::new(), c.clone()]))
                .unwrap();
            let in_place = packed(std::slice::from_ref(&a))
                .fold(packed(&[b.clone(), Vec::new(), c.clone()]))
                .unwrap();
            assert_eq!(in_place, decoded, "limit {limit}");
            let from_none = SketchSets::default()
                .fold(packed(&[a.clone(), b.clone()]))
                .unwrap();
            let expected = SketchSets::Decoded(vec![a.clone()])
                .fold(SketchSets::Decoded(vec![b.clone()]))
                .unwrap();
            assert_eq!(from_none, expected, "limit {limit}");
        }
        let SketchSets::Packed(mut raw) = packed(&[set(4, 3, 0)]) else {
            unreachable!()
        };
        let len = raw[0].0.len();
        raw[0].0.truncate(len - 3);
        let damaged = SketchSets::Decoded(vec![set(5, 3, 0)]).fold(SketchSets::Packed(raw));
        assert!(damaged.is_err());
        let other = SketchSets::Decoded(vec![set(5, 3, 0)]).fold(packed(&[set(6, 4, 0)]));
        assert!(other.is_err());
    }
}
