//! The block summaries of the vertical model. A worker buffers its draws' region amounts
//! for a block ([`BlockBuf`]) and summarises them at the block's end
//! ([`VerticalModel::finish_block`]), tile by tile, instead of a Welford update and a
//! sketch insert per value per draw: the tile passes vectorise and stay in cache.

use super::allocations::{VerticalAcc, VerticalModel, Worker};
use crate::stats::{Moments, Probability, Quantiles};

/// The region amounts of one block of draws, draw-major (`rows[j · k + f · n + i]`), plus
/// per-output flag counts. Moments and the paired difference are computed tile by tile at
/// the end of the block ([`VerticalModel::finish_block`]), which vectorises, instead of a
/// Welford update per value per draw.
#[derive(Debug, Clone, Default)]
pub struct BlockBuf {
    pub(super) rows: super::rows::Rows,
    /// Values of `rows` holding draws of the current block (the rest is old scratch).
    pub(super) filled: usize,
    /// Per output: buffered draws with a deduction, a binding floor, a binding cap. At
    /// most [`MAX_BUFFERED`] draws are buffered, so a byte holds each count (the adds
    /// then run 16 outputs to an SSE2 instruction).
    pub(super) deduction: Vec<u8>,
    pub(super) floor: Vec<u8>,
    pub(super) cap: Vec<u8>,
    /// Scratch: one output's values in the buffered draws.
    pub(super) col: Vec<f64>,
}

/// Most draws a worker buffers between summaries (the flag counts are bytes).
pub(super) const MAX_BUFFERED: usize = u8::MAX as usize;
const _: () = assert!(super::SUMMARY_DRAWS <= MAX_BUFFERED as u64);
/// Regions per tile of [`VerticalModel::finish_block`]: a tile of a 128-draw summary is
/// 128 KiB, which stays in the L2 cache with its baseline columns and its sketches' counts
/// while the moments pass and then the sketch lanes read it (64 and 256 are no faster on
/// W1; 512 falls out of the cache).
const TILE: usize = 128;

/// One pass over the block's rows (`r` rows of `k` values) for the `width` columns from
/// `c0` and their baseline columns from `bc0`: moments of the amounts and of the paired
/// differences, and the gain counts, merged into `acc`. Returns each column's smallest and
/// largest amount.
fn summarise_tile(
    rows: &[f64],
    k: usize,
    r: usize,
    c0: usize,
    bc0: usize,
    width: usize,
    acc: &mut VerticalAcc,
) -> ([f64; TILE], [f64; TILE]) {
    let mut kx = [0.0; TILE];
    let mut kd = [0.0; TILE];
    let mut sx = [0.0; TILE];
    let mut qx = [0.0; TILE];
    let mut sd = [0.0; TILE];
    let mut qd = [0.0; TILE];
    let mut lox = [f64::INFINITY; TILE];
    let mut hix = [f64::NEG_INFINITY; TILE];
    let mut lod = [f64::INFINITY; TILE];
    let mut hid = [f64::NEG_INFINITY; TILE];
    let mut gain = [0u64; TILE];
    let first = &rows[..k];
    for t in 0..width {
        kx[t] = first[c0 + t];
        kd[t] = first[c0 + t] - first[bc0 + t];
    }
    // Amounts are finite (the allocator never pays NaN), so compares stand in for the
    // NaN-aware `min`/`max`, which cost several instructions each.
    let (lo, hi) = (
        |a: f64, b: f64| if b < a { b } else { a },
        |a: f64, b: f64| if b > a { b } else { a },
    );
    if c0 == bc0 {
        // The baseline itself: every difference is 0 (its moments and gains stay 0).
        for row in rows.chunks_exact(k) {
            let x = &row[c0..c0 + width];
            for t in 0..width {
                let v = x[t];
                let dv = v - kx[t];
                sx[t] += dv;
                qx[t] += dv * dv;
                lox[t] = lo(lox[t], v);
                hix[t] = hi(hix[t], v);
            }
        }
        lod = [0.0; TILE];
        hid = [0.0; TILE];
    } else {
        for row in rows.chunks_exact(k) {
            let x = &row[c0..c0 + width];
            let bx = &row[bc0..bc0 + width];
            for t in 0..width {
                let v = x[t];
                let d = v - bx[t];
                let (dv, dd) = (v - kx[t], d - kd[t]);
                sx[t] += dv;
                qx[t] += dv * dv;
                sd[t] += dd;
                qd[t] += dd * dd;
                lox[t] = lo(lox[t], v);
                hix[t] = hi(hix[t], v);
                lod[t] = lo(lod[t], d);
                hid[t] = hi(hid[t], d);
                gain[t] += u64::from(d > 0.0);
            }
        }
    }
    let rf = r as f64;
    let moments = |shift: f64, s: f64, q: f64, lo: f64, hi: f64| {
        let m2 = (q - s * s / rf).max(0.0);
        Moments::from_parts(r as u64, shift + s / rf, m2, lo, hi)
    };
    for t in 0..width {
        let c = c0 + t;
        acc.x[c]
            .m
            .merge(&moments(kx[t], sx[t], qx[t], lox[t], hix[t]));
        acc.diff[c].merge(&moments(kd[t], sd[t], qd[t], lod[t], hid[t]));
        acc.gain[c].n += r as u64;
        acc.gain[c].hits += gain[t];
    }
    (lox, hix)
}

/// Add the tile's columns `c0 .. c0 + qs.len()` of the block's rows (`r` rows of `k`
/// values; column t's extremes `lo[t]`, `hi[t]`) to their quantiles `qs`. Columns whose
/// sketch takes [`SketchLane`]s are counted row by row, side by side, straight from the
/// rows in cache (no column copy, no range or sign check per value); the rest (exact mode,
/// zeros) are copied out column by column into `col` for [`Quantiles::push_slice`]. Both
/// give the state of pushing each column's values in any order.
///
/// [`SketchLane`]: crate::stats::sketch::SketchLane
#[allow(clippy::too_many_arguments)]
fn sketch_tile(
    rows: &[f64],
    k: usize,
    r: usize,
    c0: usize,
    lo: &[f64; TILE],
    hi: &[f64; TILE],
    mut qs: Vec<&mut Quantiles>,
    col: &mut Vec<f64>,
) {
    let width = qs.len();
    let mut lanes: Vec<_> = qs
        .iter_mut()
        .zip(lo.iter().zip(hi))
        .map(|(q, (&lo, &hi))| q.sketch_lane(lo, hi, r as u64))
        .collect();
    if lanes.iter().any(Option::is_some) {
        for row in rows.chunks_exact(k) {
            for (lane, &x) in lanes.iter_mut().zip(&row[c0..c0 + width]) {
                if let Some(lane) = lane {
                    lane.add(x);
                }
            }
        }
    }
    let general: Vec<usize> = (0..width).filter(|&t| lanes[t].is_none()).collect();
    drop(lanes);
    for t in general {
        col.clear();
        col.extend(rows.chunks_exact(k).map(|row| row[c0 + t]));
        qs[t].push_slice(col);
    }
}

impl VerticalModel<'_> {
    /// Summarise the block's buffered region amounts into `acc` (moments and quantiles of
    /// each amount; moments and gain probability of the paired difference) and empty the
    /// buffer. Call once after the block's last [`draw`](Self::draw).
    ///
    /// The block is read in tiles of [`TILE`] regions of one formula: one pass over the
    /// tile's rows accumulates, per column, sums shifted by the column's first value
    /// (Σd, Σd² with d = v − v₀, exact enough because v₀ is a draw of the same
    /// distribution), extremes and gain counts, for the amount and the paired difference
    /// alike; then each column of the tile, now in cache, goes into its quantile sketch.
    pub fn finish_block(&self, w: &mut Worker, acc: &mut VerticalAcc) {
        let n = self.v.regions.data.n;
        let nf = w.allocs.len();
        let k = n * nf;
        let all = std::mem::take(&mut w.block.rows);
        let rows = &all[..w.block.filled.min(all.len())];
        let r = rows.len().checked_div(k).unwrap_or(0);
        if r > 0 {
            let b = &mut w.block;
            // One column of the rows, for its quantile sketch.
            let mut col = std::mem::take(&mut b.col);
            for f in 0..nf {
                for i0 in (0..n).step_by(TILE) {
                    let width = TILE.min(n - i0);
                    let (c0, bc0) = (f * n + i0, self.baseline * n + i0);
                    let cols = c0..c0 + width;
                    // The tile's sketch counts are scattered over the heap and were last
                    // touched a summary ago: ask for them now, so that they arrive while
                    // the moments pass runs.
                    match w.sketches.get(cols.clone()) {
                        Some(qs) => qs.iter().for_each(Quantiles::prefetch),
                        None => acc.x[cols.clone()].iter().for_each(|a| a.q.prefetch()),
                    }
                    let (lo, hi) = summarise_tile(rows, k, r, c0, bc0, width, acc);
                    let qs: Vec<&mut Quantiles> = match w.sketches.get_mut(cols.clone()) {
                        Some(q) => q.iter_mut().collect(),
                        None => acc.x[cols].iter_mut().map(|a| &mut a.q).collect(),
                    };
                    sketch_tile(rows, k, r, c0, &lo, &hi, qs, &mut col);
                }
            }
            let counts = |ps: &mut [Probability], hits: &mut Vec<u8>| {
                for (p, h) in ps.iter_mut().zip(hits.iter_mut()) {
                    p.n += r as u64;
                    p.hits += u64::from(*h);
                    *h = 0;
                }
            };
            counts(&mut acc.deduction, &mut b.deduction);
            counts(&mut acc.floor, &mut b.floor);
            counts(&mut acc.cap, &mut b.cap);
            b.col = col;
        }
        w.block.rows = all;
        w.block.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::{Quantiles, TILE, sketch_tile};
    use crate::stats::sketch::DEFAULT_ALPHA;

    #[test]
    fn flag_counts_survive_long_buffers() {
        use super::{VerticalAcc, VerticalModel};
        use crate::model::region::Column;
        use crate::sampling::noise::{NoiseKind, NoiseModel, Sigma};
        use crate::synth::{synth_budget, synth_formulas, synth_regions};
        let mut regions = synth_regions(40, 3, 1);
        // Quality well below every threshold: every region has a deduction in every draw.
        regions.data.col_mut(Column::EqiChange).fill(-5.0);
        let v = crate::model::Vertical {
            formulas: synth_formulas(&regions.meta),
            budget: synth_budget(&regions),
            regions,
            regions_file: Default::default(),
            region_locs: Vec::new(),
            reference: None,
            extra: Default::default(),
        };
        let noise = |column, sigma| NoiseModel {
            column,
            kind: NoiseKind::Additive,
            sigma: Sigma::Const(sigma),
            rho: 0.0,
            min: 0.0,
            max: f64::INFINITY,
        };
        let noise = vec![
            NoiseModel {
                min: f64::NEG_INFINITY,
                ..noise(Column::EqiChange, 0.5)
            },
            noise(Column::DamageIndex, 0.05),
        ];
        let m = VerticalModel::new(&v, noise, &[], 0, Vec::new());
        let (n, nf) = (40, v.formulas.len());
        // 300 draws summarised once at the end (the buffer holds at most 255: a byte per
        // count), against the same draws summarised every 10.
        let run = |every: u64| {
            let (mut w, mut acc) = (m.worker(), VerticalAcc::new(n, nf, 0));
            for d in 0..300 {
                m.draw(7, d, &mut w, &mut acc).unwrap();
                if (d + 1) % every == 0 {
                    m.finish_block(&mut w, &mut acc);
                }
            }
            m.finish_block(&mut w, &mut acc);
            acc
        };
        let (long, short) = (run(1000), run(10));
        for (a, b) in [
            (&long.deduction, &short.deduction),
            (&long.floor, &short.floor),
            (&long.cap, &short.cap),
        ] {
            assert_eq!(a, b);
            assert!(a.iter().all(|p| p.n == 300));
        }
        assert!(long.deduction.iter().all(|p| p.hits == 300));
        assert!(long.x.iter().all(|a| a.m.count() == 300));
    }

    #[test]
    fn tile_sketches_match_pushing_each_value() {
        // 33 rows of 7 values; the tile is columns 1..6: positive spread values, a column
        // with zeros, one with negatives, a constant one, and positive values again.
        let (k, r, c0, width) = (7, 33, 1, 5);
        let value = |d: usize, c: usize| {
            let x = (1.0 + d as f64 * 0.37 + c as f64).powf(1.5);
            match c {
                2 if d.is_multiple_of(5) => 0.0,
                3 => -x,
                4 => 2.5,
                _ => x,
            }
        };
        let rows: Vec<f64> = (0..r)
            .flat_map(|d| (0..k).map(move |c| value(d, c)))
            .collect();
        let (mut lo, mut hi) = ([f64::INFINITY; TILE], [f64::NEG_INFINITY; TILE]);
        for t in 0..width {
            for d in 0..r {
                lo[t] = lo[t].min(value(d, c0 + t));
                hi[t] = hi[t].max(value(d, c0 + t));
            }
        }
        // Sketches holding earlier values (one of them below the tile's range), and one
        // quantile estimator still in exact mode.
        let start = |t: usize| {
            let mut q = Quantiles::new(if t == 4 { 1000 } else { 0 }, DEFAULT_ALPHA);
            q.push(0.5 + t as f64);
            q
        };
        let mut got: Vec<Quantiles> = (0..width).map(start).collect();
        let mut want = got.clone();
        let mut col = Vec::new();
        sketch_tile(
            &rows,
            k,
            r,
            c0,
            &lo,
            &hi,
            got.iter_mut().collect(),
            &mut col,
        );
        for (t, q) in want.iter_mut().enumerate() {
            (0..r).for_each(|d| q.push(value(d, c0 + t)));
        }
        assert_eq!(got, want);
    }
}
