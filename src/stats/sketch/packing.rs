//! The packed encoding of a sketch in a shard's state ([`crate::stats::columns`]): its
//! accuracy, then each sign's store (first bucket index, number of buckets, bytes per
//! count, the counts), then the zeros. Reading checks what the sketch's code relies on: a store within
//! [`MAX_BUCKETS`] whose counts add up to its total, and the bucket width of its accuracy.

use super::{MAX_BUCKETS, Sketch, Store};
use crate::stats::columns::{Packed, get_f64, get_varint, put_f64, put_varint};

/// A signed integer as a zigzag varint (small magnitudes of either sign take one byte).
fn put_signed(out: &mut Vec<u8>, x: i32) {
    put_varint(out, u64::from(((x << 1) ^ (x >> 31)) as u32));
}

fn get_signed(b: &mut &[u8]) -> Option<i32> {
    let z = u32::try_from(get_varint(b)?).ok()?;
    Some(((z >> 1) as i32) ^ -((z & 1) as i32))
}

/// Bytes per bucket count in a store whose largest count is `max`.
fn width(max: u32) -> u8 {
    match max {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 4,
    }
}

impl Packed for Store {
    const MAX: usize = 64;

    /// The counts at the one width (1, 2 or 4 bytes) that holds the store's largest: one
    /// pass each way, with no per-count branches.
    fn put(&self, out: &mut Vec<u8>) {
        put_signed(out, self.offset);
        put_varint(out, self.counts.len() as u64);
        let w = width(self.counts.iter().copied().max().unwrap_or(0));
        out.push(w);
        match w {
            1 => out.extend(self.counts.iter().map(|&c| c as u8)),
            2 => self
                .counts
                .iter()
                .for_each(|&c| out.extend_from_slice(&(c as u16).to_le_bytes())),
            _ => self
                .counts
                .iter()
                .for_each(|&c| out.extend_from_slice(&c.to_le_bytes())),
        }
    }

    fn get(b: &mut &[u8]) -> Option<Self> {
        let view = StoreView::read(b)?;
        let mut store = Store::default();
        view.add_into(&mut store);
        Some(store)
    }
}

/// A packed store, read in place: its first bucket index, and its counts at `width` bytes
/// each. Decoding and merging both go through it, so the layout is read in one place.
struct StoreView<'a> {
    offset: i32,
    width: u8,
    counts: &'a [u8],
}

impl<'a> StoreView<'a> {
    /// Read a packed store from the front of `b` and advance past it.
    fn read(b: &mut &'a [u8]) -> Option<Self> {
        let offset = get_signed(b)?;
        let len = usize::try_from(get_varint(b)?)
            .ok()
            .filter(|&n| n <= MAX_BUCKETS)?;
        offset.checked_add(len as i32)?;
        let (&width, rest) = b.split_first()?;
        if !matches!(width, 1 | 2 | 4) {
            return None;
        }
        let counts = rest.get(..len * usize::from(width))?;
        *b = &rest[counts.len()..];
        Some(StoreView {
            offset,
            width,
            counts,
        })
    }

    /// Add the counts into `store` (a store's own merge: the same state as merging the
    /// decoded store).
    fn add_into(&self, store: &mut Store) {
        let b = self.counts;
        match self.width {
            1 => {
                let total = b.iter().map(|&c| u64::from(c)).sum();
                store.merge_counts(self.offset, b.iter().map(|&c| u32::from(c)), total);
            }
            2 => {
                let c16 = |c: &[u8]| u32::from(u16::from_le_bytes([c[0], c[1]]));
                let total = b.chunks_exact(2).map(|c| u64::from(c16(c))).sum();
                store.merge_counts(self.offset, b.chunks_exact(2).map(c16), total);
            }
            _ => {
                let c32 = |c: &[u8]| u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                let total = b.chunks_exact(4).map(|c| u64::from(c32(c))).sum();
                store.merge_counts(self.offset, b.chunks_exact(4).map(c32), total);
            }
        }
    }
}

impl Packed for Sketch {
    const MAX: usize = 160;

    fn put(&self, out: &mut Vec<u8>) {
        put_f64(out, self.alpha);
        self.pos.put(out);
        self.neg.put(out);
        put_varint(out, self.zeros);
    }

    fn get(b: &mut &[u8]) -> Option<Self> {
        let alpha = get_f64(b)?;
        let fresh = Sketch::new(alpha);
        // `new` falls back to the default for an accuracy out of range; a state that
        // holds one is damaged.
        if fresh.alpha.to_bits() != alpha.to_bits() {
            return None;
        }
        Some(Sketch {
            pos: Store::get(b)?,
            neg: Store::get(b)?,
            zeros: get_varint(b)?,
            ..fresh
        })
    }
}

impl Sketch {
    /// Merge the packed sketch at the front of `b` (advancing past it) without building
    /// it: the state [`merge`](Sketch::merge) of the decoded sketch gives. `None` when the
    /// bytes are not a packed sketch.
    pub fn merge_packed(&mut self, b: &mut &[u8]) -> Option<()> {
        let start = *b;
        let alpha = get_f64(b)?;
        if alpha.to_bits() != self.alpha.to_bits() {
            // Another accuracy: decode it and merge through its representative values.
            *b = start;
            let other = Sketch::get(b)?;
            self.merge(&other);
            return Some(());
        }
        let (pos, neg) = (StoreView::read(b)?, StoreView::read(b)?);
        let zeros = get_varint(b)?;
        pos.add_into(&mut self.pos);
        neg.add_into(&mut self.neg);
        self.zeros += zeros;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signed and empty stores, zeros, large counts and a non-default accuracy come back
    /// as they went;
    /// damaged encodings are refused.
    #[test]
    fn sketches_round_trip_and_damage_is_refused() {
        let mut s = Sketch::new(0.01);
        for x in [-3.0, -0.5, 0.0, 0.0, 1e-3, 2.0, 2.0, 7e5] {
            s.add(x);
        }
        // Buckets past 255 and 65,535 values take two- and four-byte counts.
        let (mut busy, mut busier) = (s.clone(), s.clone());
        busy.add_n(2.0, 300);
        busier.add_n(-3.0, 70_000);
        for sk in [s, busy, busier, Sketch::default()] {
            let mut out = Vec::new();
            sk.put(&mut out);
            let mut b = &out[..];
            assert_eq!(Sketch::get(&mut b), Some(sk));
            assert!(b.is_empty());
            // Cut short anywhere: refused.
            for cut in 0..out.len() {
                assert_eq!(Sketch::get(&mut &out[..cut]), None, "cut at {cut}");
            }
        }
        // An accuracy out of range, and a store longer than MAX_BUCKETS.
        let mut out = Vec::new();
        put_f64(&mut out, 2.0);
        assert_eq!(Sketch::get(&mut &out[..]), None);
        let mut out = Vec::new();
        put_signed(&mut out, 0);
        put_varint(&mut out, MAX_BUCKETS as u64 + 1);
        out.push(1);
        out.resize(out.len() + MAX_BUCKETS + 1, 1);
        assert_eq!(Store::get(&mut &out[..]), None);
        // A count width other than 1, 2 or 4 bytes.
        let mut out = Vec::new();
        put_signed(&mut out, 0);
        put_varint(&mut out, 2);
        out.extend_from_slice(&[3, 1, 1, 1, 1, 1, 1]);
        assert_eq!(Store::get(&mut &out[..]), None);
        for x in [0, 1, -1, i32::MAX, i32::MIN] {
            let mut out = Vec::new();
            put_signed(&mut out, x);
            assert_eq!(get_signed(&mut &out[..]), Some(x));
        }
    }
}
