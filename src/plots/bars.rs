//! Per-category bar-like figures, all laid out as rows (categories top to bottom):
//! - paired differences against a baseline: mean with an interval (error bar) around zero;
//! - probabilities in [0, 1], grouped or stacked;
//! - tornado: effects sorted by size with optional intervals (sensitivity indices).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, at, cat_pos, category_chart, half_width, slot, value_rule};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, check_finite, draw_err, extent, header, height_for_rows, invalid,
    series_color,
};

/// Row height for `k` series per category, keeping labels apart.
fn row_px(k: usize) -> u32 {
    (LABEL_PX as u32 + 6).max(6 + 8 * k as u32)
}

/// A mean with an interval, e.g. the paired difference and its 90% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One comparison (e.g. "formula B − baseline"), one interval per category.
#[derive(Debug, Clone)]
pub struct DiffSeries {
    pub name: String,
    pub items: Vec<Option<Interval>>,
}

/// Paired differences around zero.
#[derive(Debug, Clone)]
pub struct PairedDiffChart {
    pub title: String,
    /// Value axis title with units, e.g. "difference to baseline (万元)".
    pub value_label: String,
    /// Name of the interval for the legend, e.g. "90% interval".
    pub interval_label: String,
    pub categories: Vec<String>,
    pub series: Vec<DiffSeries>,
}

impl PairedDiffChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        height_for_rows(self.categories.len(), row_px(self.series.len()), 120)
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        const CHART: &str = "paired differences";
        check_shape(
            CHART,
            &self.categories,
            self.series.iter().map(|s| (&s.name, s.items.len())),
        )?;
        for s in &self.series {
            for iv in s.items.iter().flatten() {
                for (what, v) in [("mean", iv.mean), ("lo", iv.lo), ("hi", iv.hi)] {
                    check_finite(CHART, &format!("{} {what}", s.name), v)?;
                }
            }
        }
        let all = self.series.iter().flat_map(|s| s.items.iter().flatten());
        let (lo, hi) = extent(all.flat_map(|iv| [iv.lo, iv.hi, iv.mean, 0.0]))
            .ok_or_else(|| invalid(CHART, "no category has a value"))?;
        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(j, s)| {
                LegendEntry::new(format!("{} (mean)", s.name), series_color(j), Mark::Dot)
            })
            .collect();
        legend.push(LegendEntry::new(
            self.interval_label.clone(),
            RGBColor(0x55, 0x55, 0x55),
            Mark::Line,
        ));
        let area = header(root, &self.title, &legend)?;
        let spec = CatSpec {
            categories: &self.categories,
            horizontal: true,
            value_range: (lo, hi),
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.categories.len();
        value_rule(&mut chart, n, true, 0.0, BLACK.stroke_width(2))?;
        let k = self.series.len();
        let hw = half_width(k);
        for (j, s) in self.series.iter().enumerate() {
            let color = series_color(j);
            let st = color.stroke_width(2);
            let mut bars = Vec::new();
            let mut means = Vec::new();
            for (i, iv) in s.items.iter().enumerate() {
                let Some(iv) = iv else { continue };
                let c = slot(cat_pos(i, n, true), j, k, true);
                bars.push(vec![(iv.lo, c), (iv.hi, c)]);
                for v in [iv.lo, iv.hi] {
                    bars.push(vec![(v, c - hw * 0.7), (v, c + hw * 0.7)]);
                }
                means.push((iv.mean, c));
            }
            chart
                .draw_series(bars.into_iter().map(|p| PathElement::new(p, st)))
                .map_err(draw_err)?;
            chart
                .draw_series(
                    means
                        .into_iter()
                        .map(|p| EmptyElement::at(p) + Circle::new((0, 0), 5, color.filled())),
                )
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

fn check_shape<'a>(
    chart: &str,
    categories: &[String],
    series: impl Iterator<Item = (&'a String, usize)>,
) -> Result<(), PlotError> {
    if categories.is_empty() {
        return Err(invalid(chart, "needs at least one category"));
    }
    let mut any = false;
    for (name, len) in series {
        any = true;
        if len != categories.len() {
            return Err(invalid(
                chart,
                format!(
                    "series '{name}' has {len} items for {} categories",
                    categories.len()
                ),
            ));
        }
    }
    if any {
        Ok(())
    } else {
        Err(invalid(chart, "needs at least one series"))
    }
}

/// One probability per category (e.g. P(pays)).
#[derive(Debug, Clone)]
pub struct ProbabilitySeries {
    pub name: String,
    pub values: Vec<f64>,
}

/// How several probabilities per category are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbabilityLayout {
    /// Side by side, each from 0.
    Grouped,
    /// End to end; for mutually exclusive outcomes whose probabilities sum to at most 1.
    Stacked,
}

/// Probability bars in [0, 1].
#[derive(Debug, Clone)]
pub struct ProbabilityChart {
    pub title: String,
    /// Value axis title, e.g. "probability".
    pub value_label: String,
    pub categories: Vec<String>,
    pub series: Vec<ProbabilitySeries>,
    pub layout: ProbabilityLayout,
}

/// Tolerance on probabilities: Monte Carlo shares are exact ratios, but stacked sums are
/// computed in floating point.
const PROB_TOL: f64 = 1e-9;

impl ProbabilityChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        let k = match self.layout {
            ProbabilityLayout::Grouped => self.series.len(),
            ProbabilityLayout::Stacked => 1,
        };
        height_for_rows(self.categories.len(), row_px(k), 120)
    }

    fn validate(&self) -> Result<(), PlotError> {
        const CHART: &str = "probability";
        check_shape(
            CHART,
            &self.categories,
            self.series.iter().map(|s| (&s.name, s.values.len())),
        )?;
        for s in &self.series {
            for &p in &s.values {
                check_finite(CHART, &s.name, p)?;
                if !(-PROB_TOL..=1.0 + PROB_TOL).contains(&p) {
                    return Err(invalid(
                        CHART,
                        format!("{} = {p} is not a probability", s.name),
                    ));
                }
            }
        }
        if self.layout == ProbabilityLayout::Stacked {
            for (i, c) in self.categories.iter().enumerate() {
                let sum: f64 = self.series.iter().map(|s| s.values[i]).sum();
                if sum > 1.0 + PROB_TOL {
                    return Err(invalid(
                        CHART,
                        format!("stacked probabilities for '{c}' sum to {sum}, more than 1"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        self.validate()?;
        let legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(j, s)| LegendEntry::new(s.name.clone(), series_color(j), Mark::Swatch))
            .collect();
        let area = header(root, &self.title, &legend)?;
        let spec = CatSpec {
            categories: &self.categories,
            horizontal: true,
            value_range: (0.0, 1.0),
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.categories.len();
        let k = self.series.len();
        let mut base = vec![0.0f64; n];
        for (j, s) in self.series.iter().enumerate() {
            let color = series_color(j);
            let mut bars = Vec::with_capacity(n);
            for (i, &p) in s.values.iter().enumerate() {
                let p = p.clamp(0.0, 1.0);
                let c = cat_pos(i, n, true);
                let (c, hw, from) = match self.layout {
                    ProbabilityLayout::Grouped => (slot(c, j, k, true), half_width(k), 0.0),
                    ProbabilityLayout::Stacked => (c, half_width(1), base[i]),
                };
                base[i] = from + p;
                if p > 0.0 {
                    bars.push(Rectangle::new(
                        [(from, c - hw), (from + p, c + hw)],
                        color.mix(0.85).filled(),
                    ));
                }
            }
            chart.draw_series(bars).map_err(draw_err)?;
        }
        Ok(())
    }
}

/// One bar of a tornado chart.
#[derive(Debug, Clone)]
pub struct TornadoItem {
    pub label: String,
    pub value: f64,
    /// Interval around `value` (e.g. a bootstrap 90% interval), if known.
    pub interval: Option<(f64, f64)>,
}

/// Tornado chart: bars from zero, largest magnitude on top.
#[derive(Debug, Clone)]
pub struct TornadoChart {
    pub title: String,
    /// Value axis title, e.g. "first-order Sobol index".
    pub value_label: String,
    pub items: Vec<TornadoItem>,
}

impl TornadoChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        height_for_rows(self.items.len(), row_px(1), 90)
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        const CHART: &str = "tornado";
        if self.items.is_empty() {
            return Err(invalid(CHART, "needs at least one item"));
        }
        for it in &self.items {
            check_finite(CHART, &it.label, it.value)?;
            if let Some((lo, hi)) = it.interval {
                check_finite(CHART, &format!("{} interval", it.label), lo)?;
                check_finite(CHART, &format!("{} interval", it.label), hi)?;
            }
        }
        let mut items: Vec<&TornadoItem> = self.items.iter().collect();
        items.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
        let categories: Vec<String> = items.iter().map(|it| it.label.clone()).collect();
        let values = items.iter().flat_map(|it| {
            let (lo, hi) = it.interval.unwrap_or((it.value, it.value));
            [it.value, lo, hi, 0.0]
        });
        let range = extent(values).ok_or_else(|| invalid(CHART, "no values"))?;
        let pos_color = series_color(0);
        let neg_color = series_color(3);
        let mut legend = Vec::new();
        if items.iter().any(|it| it.value >= 0.0) {
            legend.push(LegendEntry::new("positive", pos_color, Mark::Swatch));
        }
        if items.iter().any(|it| it.value < 0.0) {
            legend.push(LegendEntry::new("negative", neg_color, Mark::Swatch));
        }
        if items.iter().any(|it| it.interval.is_some()) {
            legend.push(LegendEntry::new("interval", BLACK, Mark::Line));
        }
        let area = header(root, &self.title, &legend)?;
        let spec = CatSpec {
            categories: &categories,
            horizontal: true,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = items.len();
        let hw = half_width(1);
        let mut bars = Vec::with_capacity(n);
        let mut whiskers = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let c = cat_pos(i, n, true);
            let color = if it.value < 0.0 { neg_color } else { pos_color };
            bars.push(Rectangle::new(
                [at(true, 0.0, c - hw), at(true, it.value, c + hw)],
                color.mix(0.85).filled(),
            ));
            if let Some((lo, hi)) = it.interval {
                whiskers.push(vec![(lo, c), (hi, c)]);
                for v in [lo, hi] {
                    whiskers.push(vec![(v, c - hw * 0.5), (v, c + hw * 0.5)]);
                }
            }
        }
        chart.draw_series(bars).map_err(draw_err)?;
        chart
            .draw_series(
                whiskers
                    .into_iter()
                    .map(|p| PathElement::new(p, BLACK.stroke_width(2))),
            )
            .map_err(draw_err)?;
        value_rule(&mut chart, n, true, 0.0, BLACK.stroke_width(1))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prob(layout: ProbabilityLayout, a: f64, b: f64) -> ProbabilityChart {
        ProbabilityChart {
            title: String::new(),
            value_label: "p".into(),
            categories: vec!["安徽".into()],
            series: vec![
                ProbabilitySeries {
                    name: "pays".into(),
                    values: vec![a],
                },
                ProbabilitySeries {
                    name: "receives".into(),
                    values: vec![b],
                },
            ],
            layout,
        }
    }

    #[test]
    fn probabilities_are_checked() {
        assert!(
            prob(ProbabilityLayout::Stacked, 0.4, 0.6)
                .validate()
                .is_ok()
        );
        let e = prob(ProbabilityLayout::Stacked, 0.5, 0.6)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("sum to"), "{e}");
        assert!(
            prob(ProbabilityLayout::Grouped, 0.5, 0.6)
                .validate()
                .is_ok()
        );
        assert!(
            prob(ProbabilityLayout::Grouped, 1.5, 0.6)
                .validate()
                .is_err()
        );
        assert!(
            prob(ProbabilityLayout::Grouped, f64::NAN, 0.6)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn shape_mismatch_is_reported() {
        let cats = vec!["a".to_string(), "b".to_string()];
        let name = "s".to_string();
        let e = check_shape("x", &cats, std::iter::once((&name, 1))).unwrap_err();
        assert!(e.to_string().contains("1 items for 2 categories"));
        assert!(check_shape("x", &cats, std::iter::empty()).is_err());
        assert!(check_shape("x", &[], std::iter::once((&name, 0))).is_err());
    }

    #[test]
    fn taller_for_more_rows() {
        let c = |n: usize| TornadoChart {
            title: String::new(),
            value_label: String::new(),
            items: (0..n)
                .map(|i| TornadoItem {
                    label: format!("x{i}"),
                    value: i as f64,
                    interval: None,
                })
                .collect(),
        };
        assert!(c(60).preferred_height() > c(5).preferred_height());
    }
}
