//! A worker's buffer of draws ([`super::summary::BlockBuf`]'s rows).
//!
//! On Linux the buffer is an anonymous mapping advised for transparent huge pages. W1's
//! buffer is 8.6 MiB per worker, and a fresh process touches it first in its first
//! summary: in 4 KiB pages that is some 2,100 page faults, each zeroing its page, which a
//! sharded run pays once per worker per shard (BENCHMARKS.md); in 2 MiB pages, five.
//! Elsewhere, where the kernel ignores the advice, or if the mapping fails, it is a plain
//! vector: the values are the same either way.

use std::ops::{Deref, DerefMut};

/// A growable buffer of `f64`, zeroed where it grows.
#[derive(Default)]
pub struct Rows {
    buf: Buf,
    len: usize,
}

#[derive(Default)]
enum Buf {
    #[default]
    None,
    Vec(Vec<f64>),
    #[cfg(target_os = "linux")]
    Map(memmap2::MmapMut),
}

/// Buffers smaller than this stay vectors (a huge page is 2 MiB).
#[cfg(target_os = "linux")]
const MAP_BYTES: usize = 4 << 20;

impl Buf {
    /// A zeroed buffer of `cap` values.
    fn zeroed(cap: usize) -> Buf {
        #[cfg(target_os = "linux")]
        if cap * 8 >= MAP_BYTES
            && let Ok(map) = memmap2::MmapMut::map_anon(cap * 8)
            && bytemuck::try_cast_slice::<u8, f64>(&map).is_ok()
        {
            // Only a hint: without huge pages the mapping works as well.
            let _ = map.advise(memmap2::Advice::HugePage);
            return Buf::Map(map);
        }
        Buf::Vec(vec![0.0; cap])
    }

    fn values(&self) -> &[f64] {
        match self {
            Buf::None => &[],
            Buf::Vec(v) => v,
            #[cfg(target_os = "linux")]
            Buf::Map(m) => bytemuck::try_cast_slice(m).unwrap_or(&[]),
        }
    }

    fn values_mut(&mut self) -> &mut [f64] {
        match self {
            Buf::None => &mut [],
            Buf::Vec(v) => v,
            #[cfg(target_os = "linux")]
            Buf::Map(m) => bytemuck::try_cast_slice_mut(m).unwrap_or(&mut []),
        }
    }
}

impl Rows {
    /// Make the buffer `len` values long, the new values zero. When it must grow, it grows
    /// to at least `room` values at once.
    pub fn grow_to(&mut self, len: usize, room: usize) {
        if len > self.buf.values().len() {
            let mut bigger = Buf::zeroed(len.max(room));
            bigger.values_mut()[..self.len].copy_from_slice(&self.buf.values()[..self.len]);
            self.buf = bigger;
        } else if len > self.len {
            // Values past `len` are zero, or old scratch a shorter buffer kept: zero them.
            self.buf.values_mut()[self.len..len].fill(0.0);
        }
        self.len = self.len.max(len);
    }
}

impl Deref for Rows {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.buf.values()[..self.len]
    }
}

impl DerefMut for Rows {
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.buf.values_mut()[..self.len]
    }
}

impl Clone for Rows {
    fn clone(&self) -> Self {
        let mut r = Rows::default();
        r.grow_to(self.len, self.len);
        r.copy_from_slice(self);
        r
    }
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rows({} values)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Growing keeps the values, zeroes the new ones, and works alike below and above the
    /// size that maps memory.
    #[test]
    fn rows_grow_zeroed_and_keep_their_values() {
        for room in [10, 1 << 20] {
            let mut r = Rows::default();
            r.grow_to(3, room);
            assert_eq!(&r[..], &[0.0; 3]);
            r.copy_from_slice(&[1.0, 2.0, 3.0]);
            r.grow_to(5, room);
            assert_eq!(&r[..], &[1.0, 2.0, 3.0, 0.0, 0.0]);
            r.grow_to(room + 7, room);
            assert_eq!(r.len(), room + 7);
            assert_eq!(&r[..5], &[1.0, 2.0, 3.0, 0.0, 0.0]);
            assert!(r[5..].iter().all(|&x| x == 0.0));
            assert_eq!(&r.clone()[..], &r[..]);
        }
    }
}
