//! `ecocomp calibrate` on the national default: 31 regions, 4 free coefficients,
//! leave-one-out cross-validation over the 26 regions with a 2020 figure (the target:
//! at most 2 s on the reference machine, BENCHMARKS.md).

use criterion::{Criterion, criterion_group, criterion_main};
use ecocomp::cancel::Cancel;
use ecocomp::run::calibration::{CalibrateJob, run};
use std::hint::black_box;
use std::path::Path;

fn bench_calibrate(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/national.toml");
    let scn = ecocomp::scenario::load(&path).expect("the national scenario is valid");
    let job = CalibrateJob {
        formula: Some("baseline_2017".into()),
        free: vec![
            ("importance.qinghai_tibet".into(), 1.0, 3.0),
            ("importance.water_source".into(), 1.0, 3.0),
            ("protected_areas.share".into(), 0.0, 0.3),
            ("key.redline_uplift".into(), 0.0, 2.0),
        ],
        starts: 4,
        ..CalibrateJob::default()
    };
    let mut group = c.benchmark_group("calibrate");
    group.sample_size(10);
    group.bench_function("national_4free_loo", |b| {
        b.iter(|| run(black_box(&scn), &job, &Cancel::new(), &mut |_, _| {}).map(|r| r.result.best))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_calibrate
}
criterion_main!(benches);
