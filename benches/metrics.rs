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

/// Perturbed allocations the `synth_draws` case cycles through.
const PERTURBED_DRAWS: usize = 64;

/// The point allocation of the synthetic scenario's first formula (`ecocomp synth`).
fn synth_allocation(n: usize) -> Vec<f64> {
    let regions = ecocomp::synth::synth_regions(n, 31, 1);
    let formulas = ecocomp::synth::synth_formulas(&regions.meta);
    let budget = ecocomp::synth::synth_budget(&regions);
    let mut out = ecocomp::vertical::Allocation::default();
    let mut ws = ecocomp::vertical::Workspace::default();
    ecocomp::vertical::allocate(&formulas[0], &regions.data, &budget, &mut ws, &mut out)
        .expect("the synthetic scenario allocates");
    out.x
}

/// The unweighted Gini the Monte Carlo engine takes of every draw and formula: on the
/// skewed vector above and on the synthetic scenario's allocation.
fn bench_gini_unweighted(c: &mut Criterion) {
    let mut group = c.benchmark_group("gini_unweighted");
    for n in SIZES {
        let (x, _, _) = inputs(n);
        let mut scratch = InequalityScratch::with_capacity(n);
        group.bench_with_input(BenchmarkId::new("skewed", n), &n, |b, _| {
            b.iter(|| scratch.gini(black_box(&x), None))
        });
        let x = synth_allocation(n);
        group.bench_with_input(BenchmarkId::new("synth", n), &n, |b, _| {
            b.iter(|| scratch.gini(black_box(&x), None))
        });
        // As in a Monte Carlo run: a different draw each call (the amounts moved by a few
        // percent), so that the branch predictor cannot learn one vector's order.
        let mut rng = ecocomp::sampling::rng::stream(5, 0, 0);
        let draws: Vec<Vec<f64>> = (0..PERTURBED_DRAWS)
            .map(|_| {
                x.iter()
                    .map(|&v| v * (0.03 * ecocomp::sampling::rng::std_normal(&mut rng)).exp())
                    .collect()
            })
            .collect();
        let mut d = 0;
        group.bench_with_input(BenchmarkId::new("synth_draws", n), &n, |b, _| {
            b.iter(|| {
                d = (d + 1) % draws.len();
                scratch.gini(black_box(&draws[d]), None)
            })
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
    targets = bench_gini, bench_gini_unweighted, bench_theil
}
criterion_main!(benches);
