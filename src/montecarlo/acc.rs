//! One Monte Carlo output's accumulator, and the compact encoding of a vector of them in a
//! shard's state.

use crate::stats::columns::{Column, ColumnRef, Packing};
use crate::stats::{Moments, Quantiles};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Moments and quantiles of one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acc {
    pub m: Moments,
    pub q: Quantiles,
}

impl Acc {
    pub fn new(exact_limit: usize) -> Self {
        Acc {
            m: Moments::new(),
            q: Quantiles::new(exact_limit, crate::stats::sketch::DEFAULT_ALPHA),
        }
    }
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.m.push(x);
        self.q.push(x);
    }
    pub fn merge(&mut self, o: &Acc) {
        self.m.merge(&o.m);
        self.q.merge(&o.q);
    }
}

/// `#[serde(with = "accs")]` for a `Vec<Acc>`: the moments as one column, and only the
/// quantiles that differ from the first one's empty state, with their indices. In sketch
/// mode a block's outputs keep their quantiles in the workers' sketches, so nearly every
/// quantile of a state's block accumulators is empty; written one by one they were most
/// of a state's bytes.
pub mod accs {
    use super::*;

    type Encoded = (
        Column<Moments>,
        Option<Quantiles>,
        Column<u32>,
        Column<Quantiles>,
    );

    pub fn serialize<S: Serializer>(v: &[Acc], s: S) -> Result<S::Ok, S::Error> {
        let empty = v.first().map(|a| a.q.empty_like());
        let (mut held, mut quantiles) = (Vec::new(), Vec::new());
        for (i, a) in v.iter().enumerate() {
            if Some(&a.q) != empty.as_ref() {
                held.push(u32::try_from(i).map_err(serde::ser::Error::custom)?);
                quantiles.push(&a.q);
            }
        }
        (
            Packing::of(v.iter().map(|a| &a.m)),
            empty,
            ColumnRef(&held),
            Packing::of(quantiles.into_iter()),
        )
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Acc>, D::Error> {
        use serde::de::Error;
        let (Column(moments), empty, Column(held), Column(quantiles)) = Encoded::deserialize(d)?;
        let mut out: Vec<Acc> = match empty {
            Some(q) => moments
                .into_iter()
                .map(|m| Acc { m, q: q.clone() })
                .collect(),
            None if moments.is_empty() => Vec::new(),
            None => return Err(D::Error::custom("accumulators without their quantiles")),
        };
        if held.len() != quantiles.len() {
            return Err(D::Error::custom(
                "quantile indices and quantiles differ in number",
            ));
        }
        for (i, q) in held.into_iter().zip(quantiles) {
            let slot = out
                .get_mut(i as usize)
                .ok_or_else(|| D::Error::custom(format!("quantile index {i} out of range")))?;
            slot.q = q;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empty and filled quantiles, in exact and sketch mode, come back as they went.
    #[test]
    fn acc_vectors_round_trip_through_their_compact_encoding() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct T(#[serde(with = "accs")] Vec<Acc>);
        let mut v = vec![Acc::new(5); 6];
        for (k, a) in v.iter_mut().enumerate().skip(2) {
            for j in 0..k * 2 {
                a.push((j as f64 - 3.0) * 1.7);
            }
        }
        v[1].m.push(2.0);
        for t in [T(v), T(Vec::new())] {
            let bytes = postcard::to_stdvec(&t).unwrap();
            assert_eq!(postcard::from_bytes::<T>(&bytes).unwrap(), t);
        }
    }
}
