//! How `allocate`'s cost grows from 2,800 to 30,000 regions, measured
//! so that the shared machine's bursts hurt less than in a criterion run: the two sizes are
//! timed alternately, in batches, and each keeps its fastest batch.
//!
//! ```sh
//! cargo run --release --example allocate_ratio            # 50 rounds
//! cargo run --release --example allocate_ratio -- 200     # more rounds
//! ```
//!
//! Criterion's `allocate/2800` and `allocate/30000` (`benches/allocate.rs`) remain the
//! reference figures; this is the cross-check BENCHMARKS.md quotes beside them.

use std::time::Instant;

use ecocomp::synth::{synth_budget, synth_formulas, synth_regions};
use ecocomp::vertical::{Allocation, Workspace, allocate};

/// The sizes compared, with the calls per timed batch (about 20 ms of work each).
const SIZES: [(usize, u32); 2] = [(2_800, 200), (30_000, 20)];
/// Provinces and seed of the synthetic data, as in `benches/allocate.rs`.
const GROUPS: usize = 31;
const SEED: u64 = 20_240_601;

fn main() {
    let rounds: u32 = match std::env::args().nth(1) {
        None => 50,
        Some(a) => match a.parse() {
            Ok(r) if r > 0 => r,
            _ => {
                eprintln!("allocate_ratio: rounds must be a positive integer, got '{a}'");
                std::process::exit(2);
            }
        },
    };
    let cases: Vec<_> = SIZES
        .iter()
        .map(|&(n, calls)| {
            let regions = synth_regions(n, GROUPS, SEED);
            let formula = synth_formulas(&regions.meta)[0].clone();
            let budget = synth_budget(&regions);
            (regions, formula, budget, calls)
        })
        .collect();
    let mut best = [f64::INFINITY; SIZES.len()];
    let mut scratch: Vec<(Workspace, Allocation)> = SIZES
        .iter()
        .map(|_| (Workspace::default(), Allocation::default()))
        .collect();
    for _ in 0..rounds {
        for (k, (regions, formula, budget, calls)) in cases.iter().enumerate() {
            let (ws, out) = &mut scratch[k];
            let mut once = || {
                if let Err(e) = allocate(formula, &regions.data, budget, ws, out) {
                    eprintln!("allocate_ratio: {e}");
                    std::process::exit(1);
                }
                std::hint::black_box(out.total);
            };
            once();
            let t = Instant::now();
            for _ in 0..*calls {
                once();
            }
            best[k] = best[k].min(t.elapsed().as_secs_f64() / f64::from(*calls));
        }
    }
    println!(
        "allocate, fastest of {rounds} batches: {} regions {:.1} µs, {} regions {:.3} ms, ratio {:.2} (regions ratio {:.2})",
        SIZES[0].0,
        best[0] * 1e6,
        SIZES[1].0,
        best[1] * 1e3,
        best[1] / best[0],
        SIZES[1].0 as f64 / SIZES[0].0 as f64
    );
}
