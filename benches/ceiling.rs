//! What two threads can give on this machine: a compute-only loop
//! (16 independent multiply-add chains, no memory traffic, no shared data) run once on one
//! thread and as two copies on two threads. On a machine with two independent cores the two
//! copies take as long as one; the ratio `2 · t(1 copy) / t(2 copies)` is the most any
//! program can speed up from 1 to 2 threads here when its work is arithmetic, and is the
//! yardstick for the Monte Carlo engine's own 1 → 2 thread speed-up (`montecarlo` bench).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

/// Multiply-add steps per chain and copy.
const STEPS: u64 = 100_000_000;
/// Independent chains: enough to keep the floating-point units busy (throughput-bound).
const CHAINS: usize = 24;

/// The compute-only work of one copy.
fn spin(seed: f64) -> f64 {
    let mut a = [0.0f64; CHAINS];
    for (k, v) in a.iter_mut().enumerate() {
        *v = seed + k as f64;
    }
    for _ in 0..STEPS {
        for (k, v) in a.iter_mut().enumerate() {
            *v = *v * 0.999_999_9 + 1e-9 * k as f64;
        }
    }
    a.iter().sum()
}

fn bench_ceiling(c: &mut Criterion) {
    let mut g = c.benchmark_group("ceiling");
    g.sample_size(10);
    g.bench_function("one_copy_1t", |b| b.iter(|| spin(black_box(1.0))));
    g.bench_function("two_copies_2t", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let h = s.spawn(|| spin(black_box(2.0)));
                let mine = spin(black_box(1.0));
                mine + h.join().unwrap_or(f64::NAN)
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench_ceiling);
criterion_main!(benches);
