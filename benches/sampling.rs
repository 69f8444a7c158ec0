//! Sampling and streaming-statistics hot paths: one group per hot function.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ecocomp::model::param::{Dist, Uncertain};
use ecocomp::model::region::Column;
use ecocomp::sampling::copula::Copula;
use ecocomp::sampling::noise::{NoiseKind, NoiseModel, Sigma};
use ecocomp::sampling::rng::{std_normal, stream};
use ecocomp::stats::{Quantiles, Sketch};
use std::hint::black_box;

/// National county scale (workload W1, BENCHMARKS.md).
const REGIONS: usize = 2_800;
/// Provinces.
const GROUPS: usize = 31;
/// Indicators in a section.
const INDICATORS: usize = 4;

fn bench_rng(c: &mut Criterion) {
    let mut g = c.benchmark_group("rng");
    g.bench_function("stream_new", |b| {
        let mut d = 0u64;
        b.iter(|| {
            d += 1;
            black_box(stream(1, black_box(d), 0))
        })
    });
    let mut r = stream(1, 0, 0);
    g.bench_function("normal_ziggurat_x1000", |b| {
        b.iter(|| (0..1000).map(|_| std_normal(&mut r)).sum::<f64>())
    });
    let mut r = stream(1, 0, 0);
    g.bench_function("normal_box_muller_x1000", |b| {
        b.iter(|| {
            let mut s = 0.0;
            for _ in 0..500 {
                let u1 = ecocomp::sampling::rng::open01(&mut r);
                let u2 = ecocomp::sampling::rng::open01(&mut r);
                let rad = (-2.0 * u1.ln()).sqrt();
                let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
                s += rad * sn + rad * cs;
            }
            s
        })
    });
    let trunc = Uncertain {
        dist: Dist::Normal { mean: 0.0, sd: 1.0 },
        min: 0.0,
        max: 2.0,
    };
    let mut r = stream(1, 0, 0);
    g.bench_function("truncated_normal_sample", |b| {
        b.iter(|| black_box(&trunc).sample(&mut r))
    });
    g.finish();
}

fn bench_noise(c: &mut Criterion) {
    let mut g = c.benchmark_group("noise_2800_regions");
    let base: Vec<f64> = (0..REGIONS).map(|i| 1.0 + (i % 97) as f64).collect();
    let groups: Vec<u32> = (0..REGIONS).map(|i| (i % GROUPS) as u32).collect();
    let models = [
        (
            "additive_group",
            NoiseKind::Additive,
            0.6,
            f64::NEG_INFINITY,
        ),
        (
            "multiplicative",
            NoiseKind::Multiplicative,
            0.0,
            f64::NEG_INFINITY,
        ),
        ("additive_truncated_at_0", NoiseKind::Additive, 0.0, 0.0),
    ];
    for (name, kind, rho, min) in models {
        let m = NoiseModel {
            column: Column::EqiChange,
            kind,
            sigma: Sigma::Const(0.5),
            rho,
            min,
            max: f64::INFINITY,
        };
        let mut zg = Vec::with_capacity(GROUPS);
        let mut out = vec![0.0; REGIONS];
        let mut d = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                d += 1;
                let mut r = stream(1, d, 0);
                m.apply(black_box(&base), &groups, GROUPS, &mut r, &mut zg, &mut out)
            })
        });
    }
    g.finish();
}

fn bench_copula(c: &mut Criterion) {
    let corr = vec![
        vec![1.0, 0.6, 0.3, -0.2],
        vec![0.6, 1.0, 0.5, 0.0],
        vec![0.3, 0.5, 1.0, 0.4],
        vec![-0.2, 0.0, 0.4, 1.0],
    ];
    let cop = Copula::new(&corr, "bench").unwrap();
    let (mu, sigma) = ([0.0; INDICATORS], [0.3; INDICATORS]);
    let mut out = [0.0; INDICATORS];
    let mut r = stream(1, 0, 0);
    c.bench_function("copula_4_indicators", |b| {
        b.iter(|| {
            cop.lognormals(&mut r, &mu, &sigma, &mut out);
            black_box(out[0])
        })
    });
}

fn bench_sketch(c: &mut Criterion) {
    let mut g = c.benchmark_group("sketch");
    let mut r = stream(1, 0, 0);
    let xs: Vec<f64> = (0..10_000)
        .map(|_| 1e6 * (1.0 + 0.3 * std_normal(&mut r)))
        .collect();
    g.bench_function("update_x10000", |b| {
        b.iter_batched_ref(
            Sketch::default,
            |s| xs.iter().for_each(|x| s.add(*x)),
            BatchSize::SmallInput,
        )
    });
    let mut one = Sketch::default();
    xs.iter().for_each(|x| one.add(*x));
    g.bench_function("merge", |b| {
        b.iter_batched_ref(
            || one.clone(),
            |s| s.merge(black_box(&one)),
            BatchSize::SmallInput,
        )
    });
    let mut q = Quantiles::new(1_000, ecocomp::stats::sketch::DEFAULT_ALPHA);
    xs.iter().for_each(|x| q.push(*x));
    g.bench_function("quantiles_5", |b| {
        b.iter(|| black_box(&q).quantiles(&[0.05, 0.25, 0.5, 0.75, 0.95]))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own report plots need a system font, which this machine may lack.
    config = Criterion::default().without_plots();
    targets = bench_rng, bench_noise, bench_copula, bench_sketch
}
criterion_main!(benches);
