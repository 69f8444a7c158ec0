//! Speed of whole Monte Carlo runs: workload W1 (2,800 synthetic counties,
//! 10,000 draws, 3 formulas, the synthetic noise) on 1 and 2 threads, and W2 (30,000
//! regions, 1,000 draws, 3 formulas). Each iteration is one full run, so criterion takes
//! its minimum of 10 samples.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ecocomp::model::Scenario;
use ecocomp::montecarlo::{Settings, run};
use ecocomp::scenario::load;
use ecocomp::scenario::write::{ScenarioFile, regions_csv, scenario_toml};
use ecocomp::synth::{
    add_classified, add_classified_components, synth_budget, synth_formulas, synth_noise,
    synth_regions,
};

/// W1: regions and draws.
const W1: (usize, u64) = (2_800, 10_000);
/// W2: regions and draws.
const W2: (usize, u64) = (30_000, 1_000);
/// Groups (provinces) and generator seed, as `ecocomp synth --regions N --seed 1`.
const GROUPS: usize = 31;
const SEED: u64 = 1;

/// The scenario `ecocomp synth` writes (with `--classified` when `classified`), loaded
/// back through the validator.
fn synth_scenario(dir: &Path, n: usize, classified: bool) -> Scenario {
    synth_with(dir, n, classified, "", 0.0)
}

/// [`synth_scenario`] with `extra` TOML appended and AR(1) shocks `ar1` on the quality
/// change.
fn synth_with(dir: &Path, n: usize, classified: bool, extra: &str, ar1: f64) -> Scenario {
    let mut regions = synth_regions(n, GROUPS, SEED);
    let mut formulas = synth_formulas(&regions.meta);
    let budget = synth_budget(&regions);
    if classified {
        add_classified(&mut regions, SEED);
        add_classified_components(&mut formulas, &regions.meta);
    }
    let mut noise = synth_noise();
    noise[0].ar1 = ar1;
    let toml = scenario_toml(&ScenarioFile {
        name: "bench",
        description: "synthetic benchmark scenario",
        assumptions: &[],
        budget: &budget,
        regions_file: "bench_regions.csv",
        tag_names: &regions.meta.tag_names,
        extra_names: &regions.meta.extra_names,
        formulas: &formulas,
        noise: &noise,
        draws: 10_000,
        seed: SEED,
    });
    let csv = regions_csv(&regions, &[]).expect("synthetic regions serialise");
    std::fs::write(dir.join("bench_regions.csv"), csv).expect("write regions");
    let path = dir.join("bench.toml");
    std::fs::write(&path, toml + extra).expect("write scenario");
    load(&path).expect("synthetic scenario is valid")
}

fn bench_runs(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut group = c.benchmark_group("montecarlo");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    // W1c: W1 with two per-unit components and an expression pool in every formula.
    let cases = [
        ("W1", W1, 1, false),
        ("W1", W1, 2, false),
        ("W1c", W1, 2, true),
        ("W2", W2, 2, false),
    ];
    for (name, (n, draws), threads, classified) in cases {
        let scn = synth_scenario(dir.path(), n, classified);
        let settings = Settings {
            draws,
            seed: SEED,
            threads,
            baseline: 0,
            keep_regions: Vec::new(),
            save_draws: false,
            cancel: Default::default(),
            shard: None,
        };
        let id = BenchmarkId::new(name, format!("{threads}t"));
        group.bench_function(id, |b| {
            b.iter(|| run(black_box(&scn), &settings, &mut |_| {}).map(|r| r.draws))
        });
    }
    group.finish();
}

/// W1 on one thread as one run, against 8 shards run one after another, each writing its
/// state file, plus the merge (reading, checking and combining the 8 files, then the
/// totals). One thread, so wall time is CPU time: the ratio is the sharding overhead.
fn bench_shards(c: &mut Criterion) {
    use ecocomp::montecarlo::{RunOptions, Shard, finish, run_state};
    use ecocomp::run::shards::{Body, Header, JobSpec, Payload, encode, merge};
    let dir = tempfile::tempdir().expect("temporary folder");
    let scn = synth_scenario(dir.path(), W1.0, false);
    let settings = Settings {
        draws: W1.1,
        seed: SEED,
        threads: 1,
        baseline: 0,
        keep_regions: Vec::new(),
        save_draws: false,
        cancel: Default::default(),
        shard: None,
    };
    let opts = RunOptions::default();
    let mut group = c.benchmark_group("shards");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(40));
    group.bench_function("W1/whole/1t", |b| {
        b.iter(|| {
            let state = run_state(&scn, &settings, opts, &mut |_| {}).expect("runs");
            finish(&scn, &settings, opts, state).map(|r| r.draws)
        })
    });
    let n = 8;
    group.bench_function("W1/8-shards+merge/1t", |b| {
        b.iter(|| {
            let files: Vec<_> = (0..n)
                .map(|k| {
                    let shard = Shard { k, n };
                    let s = Settings {
                        shard: Some(shard),
                        ..settings.clone()
                    };
                    let state = run_state(&scn, &s, opts, &mut |_| {}).expect("runs");
                    let header = Header {
                        tool_version: "bench".into(),
                        scenario_sha256: scn.inputs_sha256(),
                        scenario_name: scn.meta.name.clone(),
                        seed: SEED,
                        draws: W1.1,
                        shard,
                        job: JobSpec::Run {
                            baseline: None,
                            plot_regions: Vec::new(),
                            save_draws: false,
                            draws_format: "csv".into(),
                        },
                    };
                    let body = Body {
                        inputs: scn.inputs.as_ref().clone(),
                        payload: Payload::Run(state),
                        draw_files: Vec::new(),
                    };
                    let path = dir.path().join(format!("shard-{k}.bin"));
                    std::fs::write(&path, encode(&header, &body).expect("encodes")).expect("write");
                    path
                })
                .collect();
            let merged = merge(&files).expect("merges");
            let Payload::Run(state) = merged.payload else {
                unreachable!("a run's shards")
            };
            finish(&scn, &settings, opts, state).map(|r| r.draws)
        })
    });
    group.finish();
}

/// W3 (BENCHMARKS.md): W1's scenario over a five-year path (budget growth, a revenue
/// trend with an uncertain rate, AR(1) quality shocks) at 2,000 draws on two threads,
/// against five single-year W1 runs of 2,000 draws. The target is at most 1.2×.
const W3_PATH: &str = "
[path]
start = 2021
end = 2025
growth = 0.05

[[path.trend]]
column = \"std_revenue\"
kind = \"multiplicative\"
rate = { dist = \"normal\", mean = 0.04, sd = 0.02, min = -0.5 }
";

fn bench_paths(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut group = c.benchmark_group("paths");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    let settings = Settings {
        draws: 2_000,
        seed: SEED,
        threads: 2,
        baseline: 0,
        keep_regions: Vec::new(),
        save_draws: false,
        cancel: Default::default(),
        shard: None,
    };
    let w1 = synth_scenario(dir.path(), W1.0, false);
    group.bench_function("W1@2000x5/2t", |b| {
        b.iter(|| {
            (0..5)
                .map(|_| run(black_box(&w1), &settings, &mut |_| {}).map(|r| r.draws))
                .collect::<Vec<_>>()
        })
    });
    let w3 = synth_with(dir.path(), W1.0, false, W3_PATH, 0.5);
    group.bench_function("W3/2t", |b| {
        b.iter(|| run(black_box(&w3), &settings, &mut |_| {}).map(|r| r.draws))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_runs, bench_shards, bench_paths
}
criterion_main!(benches);
