//! Speed of the vertical allocator (docs/model.md §1.2–§1.5) on synthetic counties, fixed mode
//! with floors and caps binding, and of the budget solve alone.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ecocomp::synth::{synth_budget, synth_formulas, synth_regions};
use ecocomp::vertical::budget::{Terms, solve_scale};
use ecocomp::vertical::{Allocation, Workspace, allocate};

/// Region counts: provinces (31), a sample of key counties (810), all counties with
/// key-zone status (2,800), and a township-scale stress size (30,000).
const SIZES: [usize; 4] = [31, 810, 2_800, 30_000];
/// Groups (provinces) in the synthetic data.
const GROUPS: usize = 31;
/// Fixed seed so every run measures the same data.
const SEED: u64 = 20_240_601;

fn bench_allocate(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocate");
    for n in SIZES {
        let regions = synth_regions(n, GROUPS, SEED);
        let formula = &synth_formulas(&regions.meta)[0];
        let budget = synth_budget(&regions);
        let mut ws = Workspace::default();
        let mut out = Allocation::default();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                allocate(
                    black_box(formula),
                    black_box(&regions.data),
                    black_box(&budget),
                    &mut ws,
                    &mut out,
                )
                .ok();
                black_box(out.total)
            })
        });
    }
    group.finish();
}

fn bench_budget_solve(c: &mut Criterion) {
    let mut group = c.benchmark_group("budget_solve");
    for n in SIZES {
        let regions = synth_regions(n, GROUPS, SEED);
        let formula = &synth_formulas(&regions.meta)[0];
        let budget = synth_budget(&regions);
        let mut out = Allocation::default();
        // Claims, floors and caps as the allocator hands them to the solver.
        allocate(
            formula,
            &regions.data,
            &budget,
            &mut Workspace::default(),
            &mut out,
        )
        .ok();
        let target = budget.total.unwrap_or(0.0) - out.pool_unallocated;
        let mut scratch = Vec::new();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                solve_scale(
                    black_box(Terms::new(&out.scaled, &out.fixed, &out.floor, &out.cap)),
                    black_box(target),
                    &mut scratch,
                )
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own report plots need a system font, which this machine may lack.
    config = Criterion::default().without_plots();
    targets = bench_allocate, bench_budget_solve
}
criterion_main!(benches);
