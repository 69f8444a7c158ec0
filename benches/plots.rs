//! Rendering time of the figures a large run produces: the 40-category box plot (top-N plus
//! group aggregates of a 2,800-region run) and a 2,800-region Lorenz chart, PNG and SVG.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ecocomp::plots::{
    BoxStats, Chart, IntervalChart, IntervalSeries, LorenzChart, LorenzSeries, Orientation,
    PlotFormat, render,
};

/// Categories the integrator passes at most (top-N regions plus group aggregates).
const CATEGORIES: usize = 40;
/// Formulas compared side by side.
const FORMULAS: usize = 3;
/// Regions in the largest scenario.
const REGIONS: usize = 2_800;

const NAMES: [&str; 8] = [
    "安徽",
    "浙江",
    "黑龙江",
    "内蒙古",
    "新疆",
    "广西",
    "四川",
    "云南",
];

fn interval() -> Chart {
    let series = (0..FORMULAS)
        .map(|f| IntervalSeries {
            name: format!("公式 {f}"),
            items: (0..CATEGORIES)
                .map(|i| {
                    let m = 1_000.0 + 37.0 * ((i * 7 + f * 13) % 29) as f64;
                    Some(BoxStats {
                        p05: m * 0.7,
                        p25: m * 0.9,
                        p50: m,
                        p75: m * 1.1,
                        p95: m * 1.3,
                        point: Some(m * 1.02),
                    })
                })
                .collect(),
        })
        .collect();
    Chart::Interval(IntervalChart {
        title: "各地区分配分布".into(),
        value_label: "allocation (万元)".into(),
        categories: (0..CATEGORIES)
            .map(|i| format!("{}{}", NAMES[i % NAMES.len()], i))
            .collect(),
        series,
        orientation: Orientation::Auto,
        reference: Vec::new(),
    })
}

fn lorenz() -> Chart {
    Chart::Lorenz(LorenzChart {
        title: "洛伦兹曲线".into(),
        x_label: "cumulative share of regions".into(),
        y_label: "cumulative share of allocation".into(),
        series: (0..FORMULAS)
            .map(|f| LorenzSeries {
                name: format!("公式 {f}"),
                values: (0..REGIONS)
                    .map(|i| 1.0 + ((i * (f + 3)) % 997) as f64)
                    .collect(),
                gini: None,
                weights: None,
                order_by: None,
            })
            .collect(),
    })
}

fn bench_plots(c: &mut Criterion) {
    let mut g = c.benchmark_group("plots");
    g.sample_size(10);
    let box_plot = interval();
    let lorenz = lorenz();
    g.bench_function("interval_40x3_png", |b| {
        b.iter(|| render(black_box(&box_plot), PlotFormat::Png))
    });
    g.bench_function("interval_40x3_svg", |b| {
        b.iter(|| render(black_box(&box_plot), PlotFormat::Svg))
    });
    g.bench_function("lorenz_2800x3_both", |b| {
        b.iter(|| render(black_box(&lorenz), PlotFormat::Both))
    });
    g.finish();
}

// plotters is built with its ab_glyph feature (no system fonts), so criterion's own report
// plots find no "sans-serif" font and panic: measure without them.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench_plots
}
criterion_main!(benches);
