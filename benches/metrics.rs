//! Inequality metrics per Monte Carlo draw: Gini and Theil at county and township scale.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ecocomp::metrics::InequalityScratch;
use std::hint::black_box;

/// Region counts: about the number of counties (2,800) and of townships-scale runs (30,000).
const SIZES: [usize; 2] = [2_800, 30_000];
/// Number of provinces used as Theil groups.
const GROUPS: u32 = 31;

/// A deterministic, skewed allocation vector with populations and province groups.
fn inputs(n: usize) -> (Vec<f64>, Vec<f64>, Vec<u32>) {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = (0..n)
        .map(|_| (-next().max(1e-12).ln()).powi(2) * 1e4)
        .collect();
    let w = (0..n).map(|_| 1e4 + 1e6 * next()).collect();
    let g = (0..n as u32).map(|i| i % GROUPS).collect();
    (x, w, g)
}

fn bench_gini(c: &mut Criterion) {
    let mut group = c.benchmark_group("gini_weighted");
    for n in SIZES {
        let (x, w, _) = inputs(n);
        let mut scratch = InequalityScratch::with_capacity(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| scratch.gini(black_box(&x), Some(black_box(&w))))
        });
    }
    group.finish();
}

fn bench_theil(c: &mut Criterion) {
    let mut group = c.benchmark_group("theil_decomposed");
    for n in SIZES {
        let (x, w, g) = inputs(n);
        let mut scratch = InequalityScratch::with_capacity(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| scratch.theil_decomposed(black_box(&x), Some(black_box(&w)), black_box(&g)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own report plots need a system font, which this machine may lack.
    config = Criterion::default().without_plots();
    targets = bench_gini, bench_theil
}
criterion_main!(benches);
