//! Settlement of the shipped basin agreements, per Monte Carlo draw: sampling the
//! draw's monitoring concentrations and parameters and settling every period, for each
//! agreement of every scenario under `scenarios/`.

use criterion::{Criterion, criterion_group, criterion_main};
use ecocomp::montecarlo::settlements::AgreementModel;
use ecocomp::scenario::load;
use std::hint::black_box;
use std::path::Path;

/// The shipped scenarios that hold agreements.
const SCENARIOS: [&str; 5] = [
    "scenarios/xinan.toml",
    "scenarios/chishui.toml",
    "scenarios/yangtze.toml",
    "scenarios/yellow_river.toml",
    "scenarios/national.toml",
];
/// Seed of the draws.
const SEED: u64 = 1;

fn bench_settlement(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut group = c.benchmark_group("settle_per_draw");
    for file in SCENARIOS {
        let scn = load(&root.join(file)).expect("shipped scenarios are valid");
        for a in &scn.agreements {
            let model = AgreementModel::new(a).expect("shipped agreements build");
            let mut w = model.worker();
            let mut d = 0u64;
            group.bench_function(a.name.as_str(), |b| {
                b.iter(|| {
                    d += 1;
                    model.evaluate(SEED, black_box(d), &mut w);
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own report plots need a system font, which this machine may lack.
    config = Criterion::default().without_plots();
    targets = bench_settlement
}
criterion_main!(benches);
