//! Every chart kind renders to a valid PNG and SVG from hand-made data with Chinese names.
//!
//! Set `ECOCOMP_PLOT_DIR=/some/dir` to also write the figures there for a visual check.

use std::time::Instant;

use ecocomp::plots::{
    BarPart, Change, DivergingChart, DumbbellChart, Ranged, ScatterChart, ScatterSeries,
    SplitBarChart, Step, TileMapChart, WaterfallChart,
};
use ecocomp::plots::{
    BoxStats, Chart, ClassChart, ClassSeries, DiffSeries, HistogramChart, Interval, IntervalChart,
    IntervalSeries, LorenzChart, LorenzSeries, MarkKind, Orientation, PairedDiffChart, PlotFormat,
    ProbabilityChart, ProbabilityLayout, ProbabilitySeries, RefLine, Sample, SampleMark,
    TornadoChart, TornadoItem, render,
};

const PROVINCES: [&str; 31] = [
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
];

/// Deterministic pseudo-random numbers in [0, 1) (no RNG dependency needed for fixtures).
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn categories(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let p = PROVINCES[i % PROVINCES.len()];
            if i < PROVINCES.len() {
                p.to_string()
            } else {
                format!("{p}·其他{}", i / PROVINCES.len())
            }
        })
        .collect()
}

fn interval_chart(n: usize, formulas: usize) -> IntervalChart {
    let mut r = lcg(7);
    let cats = categories(n);
    let series = (0..formulas)
        .map(|f| IntervalSeries {
            name: ["baseline 基准", "按面积", "按人口"][f % 3].to_string(),
            items: (0..n)
                .map(|i| {
                    let m = 5_000.0 + 40_000.0 * r() + 3_000.0 * f as f64 - 50.0 * i as f64;
                    let s = m * (0.1 + 0.2 * r());
                    Some(BoxStats {
                        p05: m - 1.8 * s,
                        p25: m - 0.7 * s,
                        p50: m,
                        p75: m + 0.7 * s,
                        p95: m + 1.8 * s,
                        point: Some(m + 0.3 * s * (r() - 0.5)),
                    })
                })
                .collect(),
        })
        .collect();
    IntervalChart {
        title: format!("各省分配分布（{n} 个地区）"),
        value_label: "allocation (万元)".into(),
        categories: cats,
        series,
        orientation: Orientation::Auto,
        reference: Vec::new(),
    }
}

fn gallery() -> Vec<(&'static str, Chart)> {
    let mut r = lcg(11);
    let sample = |shift: f64, r: &mut dyn FnMut() -> f64| -> Vec<f64> {
        (0..5000)
            .map(|_| shift + (0..6).map(|_| r()).sum::<f64>())
            .collect()
    };
    let s1 = sample(0.0, &mut r);
    let s2 = sample(0.8, &mut r);
    let p_index: Vec<f64> = (0..5000)
        .map(|_| 0.6 + 0.6 * r() * r() + 0.2 * r())
        .collect();
    let alloc_a: Vec<f64> = (0..2800).map(|_| r().powi(2) * 1000.0).collect();
    let alloc_b: Vec<f64> = (0..2800).map(|_| 200.0 + r() * 600.0).collect();
    let cats = categories(30);
    vec![
        ("interval_vertical", Chart::Interval(interval_chart(6, 3))),
        ("interval_40", Chart::Interval(interval_chart(40, 3))),
        (
            "histogram",
            Chart::Histogram(HistogramChart {
                title: "安徽 分配分布".into(),
                x_label: "allocation (万元)".into(),
                y_label: "share of draws".into(),
                samples: vec![
                    Sample {
                        name: "baseline".into(),
                        values: s1,
                    },
                    Sample {
                        name: "按面积".into(),
                        values: s2,
                    },
                ],
                bins: 40,
                thresholds: vec![],
                marks: vec![SampleMark {
                    sample: 1,
                    value: 9.5,
                    kind: MarkKind::Point,
                }],
            }),
        ),
        (
            "threshold",
            Chart::Histogram(HistogramChart {
                title: "新安江 跨省断面 P 指数".into(),
                x_label: "P index".into(),
                y_label: "share of draws".into(),
                samples: vec![Sample {
                    name: "P index".into(),
                    values: p_index,
                }],
                bins: 50,
                thresholds: vec![RefLine {
                    value: 1.0,
                    label: "threshold P = 1.0".into(),
                }],
                marks: vec![],
            }),
        ),
        (
            "winners_losers",
            Chart::Diverging(DivergingChart {
                title: "赢家与输家".into(),
                value_label: "change (亿元)".into(),
                interval_label: "90% interval".into(),
                items: PROVINCES[..8]
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let c = 4.0 - i as f64;
                        Change {
                            label: p.to_string(),
                            change: c,
                            lo: c - 0.5,
                            hi: c + 0.5,
                            relative: Some(c / 20.0),
                            tag: if i == 7 { "cap".into() } else { String::new() },
                        }
                    })
                    .collect(),
            }),
        ),
        (
            "dumbbell",
            Chart::Dumbbell(DumbbellChart {
                title: "baseline → reform".into(),
                value_label: "allocation (亿元)".into(),
                from_name: "baseline".into(),
                to_name: "reform".into(),
                categories: PROVINCES[..5].iter().map(|p| p.to_string()).collect(),
                from: (0..5)
                    .map(|i| Ranged {
                        value: 10.0 + i as f64,
                        lo: 9.0 + i as f64,
                        hi: 11.0 + i as f64,
                    })
                    .collect(),
                to: (0..5)
                    .map(|i| Ranged {
                        value: 14.0 - i as f64,
                        lo: 13.0 - i as f64,
                        hi: 15.0 - i as f64,
                    })
                    .collect(),
            }),
        ),
        (
            "waterfall",
            Chart::Waterfall(WaterfallChart {
                title: "安徽: how the allocation is built".into(),
                value_label: "amount (亿元)".into(),
                steps: vec![
                    Step {
                        label: "K".into(),
                        value: 20.0,
                        subtotal: false,
                    },
                    Step {
                        label: "RL".into(),
                        value: 3.0,
                        subtotal: false,
                    },
                    Step {
                        label: "S".into(),
                        value: 23.0,
                        subtotal: true,
                    },
                    Step {
                        label: "scale".into(),
                        value: -4.0,
                        subtotal: false,
                    },
                    Step {
                        label: "final".into(),
                        value: 19.0,
                        subtotal: true,
                    },
                ],
            }),
        ),
        (
            "scatter",
            Chart::Scatter(ScatterChart {
                title: "per km² against coverage".into(),
                x_label: "coverage".into(),
                y_label: "per km²".into(),
                series: vec![ScatterSeries {
                    name: "reform".into(),
                    points: (0..10).map(|i| (i as f64 / 20.0, (i * i) as f64)).collect(),
                    labels: (0..10)
                        .map(|i| {
                            if i == 9 {
                                "西藏".into()
                            } else {
                                String::new()
                            }
                        })
                        .collect(),
                }],
                diagonal: true,
            }),
        ),
        (
            "tile_map",
            Chart::TileMap(TileMapChart {
                title: "change by province".into(),
                value_label: "change (亿元)".into(),
                values: PROVINCES
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.to_string(), i as f64 - 15.0))
                    .collect(),
            }),
        ),
        (
            "split_bars",
            Chart::SplitBars(SplitBarChart {
                title: "新安江: money per party".into(),
                value_label: "亿元".into(),
                categories: vec!["安徽 · 2012".into(), "浙江 · 2012".into()],
                parts: vec![
                    BarPart {
                        name: "horizontal".into(),
                        values: vec![1.0, -1.0],
                    },
                    BarPart {
                        name: "central".into(),
                        values: vec![3.0, 0.0],
                    },
                ],
            }),
        ),
        (
            "classes",
            Chart::Classes(ClassChart {
                title: "赤水河 断面水质类别".into(),
                periods: vec!["2018".into(), "2019".into(), "2020".into()],
                series: vec![ClassSeries {
                    name: "清水铺".into(),
                    shares: vec![[0.1, 0.8, 0.1, 0.0, 0.0, 0.0]; 3],
                    target: 2,
                    p_met: vec![0.9; 3],
                }],
            }),
        ),
        (
            "lorenz",
            Chart::Lorenz(LorenzChart {
                title: "洛伦兹曲线".into(),
                x_label: "cumulative share of regions".into(),
                y_label: "cumulative share of allocation".into(),
                series: vec![
                    LorenzSeries {
                        name: "baseline".into(),
                        values: alloc_a,
                        gini: None,
                        weights: None,
                        order_by: None,
                    },
                    LorenzSeries {
                        name: "按面积".into(),
                        values: alloc_b,
                        gini: None,
                        weights: None,
                        order_by: None,
                    },
                ],
            }),
        ),
        (
            "paired",
            Chart::PairedDiff(PairedDiffChart {
                title: "与基准公式的差异".into(),
                value_label: "difference to baseline (万元)".into(),
                interval_label: "90% interval".into(),
                categories: cats.clone(),
                series: vec![DiffSeries {
                    name: "按面积 − baseline".into(),
                    items: (0..30)
                        .map(|i| {
                            let m = (i as f64 - 15.0) * 80.0 + 300.0 * (r() - 0.5);
                            Some(Interval {
                                mean: m,
                                lo: m - 400.0 * r() - 50.0,
                                hi: m + 400.0 * r() + 50.0,
                            })
                        })
                        .collect(),
                }],
            }),
        ),
        (
            "probability",
            Chart::Probability(ProbabilityChart {
                title: "支付方向概率".into(),
                value_label: "probability".into(),
                categories: cats.clone(),
                series: vec![
                    ProbabilitySeries {
                        name: "P(pays)".into(),
                        values: (0..30).map(|i| i as f64 / 60.0).collect(),
                    },
                    ProbabilitySeries {
                        name: "P(receives)".into(),
                        values: (0..30).map(|i| 0.5 - i as f64 / 60.0).collect(),
                    },
                ],
                layout: ProbabilityLayout::Stacked,
            }),
        ),
        (
            "probability_grouped",
            Chart::Probability(ProbabilityChart {
                title: "断面达标概率".into(),
                value_label: "probability".into(),
                categories: cats[..12].to_vec(),
                series: vec![
                    ProbabilitySeries {
                        name: "P(section met)".into(),
                        values: (0..12).map(|_| r()).collect(),
                    },
                    ProbabilitySeries {
                        name: "P(pays)".into(),
                        values: (0..12).map(|_| r()).collect(),
                    },
                    ProbabilitySeries {
                        name: "P(receives)".into(),
                        values: (0..12).map(|_| r()).collect(),
                    },
                ],
                layout: ProbabilityLayout::Grouped,
            }),
        ),
        (
            "tornado",
            Chart::Tornado(TornadoChart {
                title: "敏感性指数".into(),
                value_label: "first-order Sobol index".into(),
                items: [
                    "红线面积",
                    "重点功能区系数",
                    "环保支出",
                    "ΔQ 阈值",
                    "预算",
                    "人口",
                ]
                .iter()
                .map(|l| {
                    let v = r() * 0.5 - 0.05;
                    TornadoItem {
                        label: (*l).into(),
                        value: v,
                        interval: Some((v - 0.05, v + 0.05)),
                    }
                })
                .collect(),
            }),
        ),
    ]
}

#[test]
fn every_chart_renders_png_and_svg() {
    let dir = std::env::var_os("ECOCOMP_PLOT_DIR").map(std::path::PathBuf::from);
    for (name, chart) in gallery() {
        let r = render(&chart, PlotFormat::Both).unwrap_or_else(|e| panic!("{name}: {e}"));
        let png = r.png.unwrap();
        let svg = r.svg.unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        assert!(
            svg.starts_with("<svg") && svg.ends_with("</svg>\n"),
            "{name}"
        );
        assert!(svg.contains("</text>"), "{name}: text written");
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), &svg).unwrap();
        }
    }
}

#[test]
fn forty_category_box_plot_is_tall_enough_for_its_labels() {
    let chart = Chart::Interval(interval_chart(40, 3));
    let (w, h) = chart.preferred_size();
    assert_eq!(w, 1200);
    // 40 rows of at least 22 px (16 px labels plus spacing) plus title, legend and axis.
    assert!(h >= 40 * 22 + 150, "height {h}");
    let t = Instant::now();
    let r = render(&chart, PlotFormat::Both).unwrap();
    // Reported, never asserted (STYLE.md: tests do not assert wall-clock time).
    eprintln!(
        "40-category box plot, 3 formulas, {w}x{h}: PNG+SVG in {:?} (png {} KiB, svg {} KiB)",
        t.elapsed(),
        r.png.as_ref().map_or(0, Vec::len) / 1024,
        r.svg.as_ref().map_or(0, String::len) / 1024
    );
}

#[test]
fn invalid_data_is_an_error_not_a_panic() {
    let mut c = interval_chart(3, 1);
    c.series[0].items.truncate(2);
    assert!(render(&Chart::Interval(c), PlotFormat::Both).is_err());
    let l = LorenzChart {
        title: String::new(),
        x_label: String::new(),
        y_label: String::new(),
        series: vec![LorenzSeries {
            name: "x".into(),
            values: vec![-1.0, 2.0],
            gini: None,
            weights: None,
            order_by: None,
        }],
    };
    assert!(render(&Chart::Lorenz(l), PlotFormat::Png).is_err());
}
