//! Box/interval plot: per category (region or group) and formula, a box from p25 to p75,
//! whiskers from p05 to p95, a line at the median and a dot at the point estimate.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, at, cat_pos, category_chart, half_width, slot, value_rule};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, check_finite, draw_err, extent, header, height_for_rows, invalid,
    series_color,
};

/// Above this many categories `Orientation::Auto` lays categories out as rows.
const AUTO_HORIZONTAL_ABOVE: usize = 8;

/// Summary of one distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxStats {
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    /// The deterministic (point) estimate, when there is one.
    pub point: Option<f64>,
}

/// One formula's boxes, one per category (`None` where it has no value).
#[derive(Debug, Clone)]
pub struct IntervalSeries {
    pub name: String,
    pub items: Vec<Option<BoxStats>>,
}

/// Where the categories go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    /// Rows when there are more than a handful of categories, columns otherwise.
    #[default]
    Auto,
    /// Categories as rows, values along x.
    Horizontal,
    /// Categories as columns, values along y.
    Vertical,
}

/// Box/interval chart. The caller keeps it to about 40 categories (top-N plus group
/// aggregates).
#[derive(Debug, Clone)]
pub struct IntervalChart {
    pub title: String,
    /// Value axis title with units, e.g. "allocation (万元)".
    pub value_label: String,
    pub categories: Vec<String>,
    pub series: Vec<IntervalSeries>,
    pub orientation: Orientation,
    /// Lines across the chart at a value (a threshold, zero), drawn in black and named in
    /// the legend.
    pub reference: Vec<super::RefLine>,
}

const CHART: &str = "interval";

impl IntervalChart {
    fn horizontal(&self) -> bool {
        match self.orientation {
            Orientation::Auto => self.categories.len() > AUTO_HORIZONTAL_ABOVE,
            Orientation::Horizontal => true,
            Orientation::Vertical => false,
        }
    }

    pub(crate) fn preferred_height(&self) -> u32 {
        if !self.horizontal() {
            return super::DEFAULT_SIZE.1;
        }
        let k = self.series.len().max(1) as u32;
        // Each row needs room for its label; each extra formula adds a box of ~8 px.
        let row = (LABEL_PX as u32 + 6).max(6 + 9 * k);
        height_for_rows(self.categories.len(), row, 120)
    }

    fn validate(&self) -> Result<(f64, f64), PlotError> {
        if self.categories.is_empty() || self.series.is_empty() {
            return Err(invalid(CHART, "needs at least one category and one series"));
        }
        for s in &self.series {
            if s.items.len() != self.categories.len() {
                return Err(invalid(
                    CHART,
                    format!(
                        "series '{}' has {} items for {} categories",
                        s.name,
                        s.items.len(),
                        self.categories.len()
                    ),
                ));
            }
            for b in s.items.iter().flatten() {
                for (what, v) in [
                    ("p05", b.p05),
                    ("p25", b.p25),
                    ("p50", b.p50),
                    ("p75", b.p75),
                    ("p95", b.p95),
                ] {
                    check_finite(CHART, &format!("{} {what}", s.name), v)?;
                }
                if let Some(p) = b.point {
                    check_finite(CHART, &format!("{} point estimate", s.name), p)?;
                }
            }
        }
        for r in &self.reference {
            check_finite(CHART, &format!("line '{}'", r.label), r.value)?;
        }
        let all = self.series.iter().flat_map(|s| s.items.iter().flatten());
        let lines = self.reference.iter().map(|r| r.value);
        extent(
            all.flat_map(|b| [b.p05, b.p95, b.point.unwrap_or(b.p50)])
                .chain(lines),
        )
        .ok_or_else(|| invalid(CHART, "no category has a value"))
    }

    /// The legend: formulas, what the dot and box mean, and the reference lines.
    fn legend(&self) -> Vec<LegendEntry> {
        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(j, s)| LegendEntry::new(s.name.clone(), series_color(j), Mark::Swatch))
            .collect();
        let has_point = self
            .series
            .iter()
            .any(|s| s.items.iter().flatten().any(|b| b.point.is_some()));
        if has_point {
            legend.push(LegendEntry::new(
                "point estimate (dot, in the formula's colour)",
                RGBColor(0x55, 0x55, 0x55),
                Mark::Dot,
            ));
        }
        for r in &self.reference {
            legend.push(LegendEntry::new(r.label.clone(), BLACK, Mark::Line));
        }
        legend.push(LegendEntry::new(
            "box p25–p75, whiskers p05–p95, line median",
            RGBColor(0x55, 0x55, 0x55),
            Mark::Line,
        ));
        legend
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let range = self.validate()?;
        let area = header(root, &self.title, &self.legend())?;
        let horizontal = self.horizontal();
        let spec = CatSpec {
            categories: &self.categories,
            horizontal,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.categories.len();
        for r in &self.reference {
            value_rule(&mut chart, n, horizontal, r.value, BLACK.stroke_width(2))?;
        }
        let k = self.series.len();
        let hw = half_width(k);
        let h = horizontal;
        for (j, s) in self.series.iter().enumerate() {
            let color = series_color(j);
            let thin = color.stroke_width(2);
            let mut whiskers = Vec::new();
            let mut boxes = Vec::new();
            let mut medians = Vec::new();
            let mut points = Vec::new();
            for (i, b) in s.items.iter().enumerate() {
                let Some(b) = b else { continue };
                let c = slot(cat_pos(i, n, h), j, k, h);
                let seg = |v0: f64, c0: f64, v1: f64, c1: f64| vec![at(h, v0, c0), at(h, v1, c1)];
                whiskers.push(seg(b.p05, c, b.p25, c));
                whiskers.push(seg(b.p75, c, b.p95, c));
                whiskers.push(seg(b.p05, c - hw * 0.6, b.p05, c + hw * 0.6));
                whiskers.push(seg(b.p95, c - hw * 0.6, b.p95, c + hw * 0.6));
                boxes.push([at(h, b.p25, c - hw), at(h, b.p75, c + hw)]);
                medians.push(seg(b.p50, c - hw, b.p50, c + hw));
                if let Some(p) = b.point {
                    points.push(at(h, p, c));
                }
            }
            chart
                .draw_series(whiskers.into_iter().map(|p| PathElement::new(p, thin)))
                .map_err(draw_err)?;
            chart
                .draw_series(
                    boxes
                        .iter()
                        .map(|r| Rectangle::new(*r, color.mix(0.45).filled())),
                )
                .map_err(draw_err)?;
            chart
                .draw_series(
                    boxes
                        .iter()
                        .map(|r| Rectangle::new(*r, color.stroke_width(1))),
                )
                .map_err(draw_err)?;
            chart
                .draw_series(
                    medians
                        .into_iter()
                        .map(|p| PathElement::new(p, BLACK.stroke_width(2))),
                )
                .map_err(draw_err)?;
            chart
                .draw_series(points.into_iter().map(|p| {
                    // The formula's own colour with a dark rim: two formulas' points
                    // at nearby values stay told apart.
                    EmptyElement::at(p)
                        + Circle::new((0, 0), 5, color.filled())
                        + Circle::new((0, 0), 5, BLACK.stroke_width(1))
                }))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(m: f64) -> BoxStats {
        BoxStats {
            p05: m - 2.0,
            p25: m - 1.0,
            p50: m,
            p75: m + 1.0,
            p95: m + 2.0,
            point: Some(m + 0.2),
        }
    }

    fn chart(n: usize) -> IntervalChart {
        IntervalChart {
            title: "t".into(),
            value_label: "万元".into(),
            categories: (0..n).map(|i| format!("region {i}")).collect(),
            series: vec![IntervalSeries {
                name: "a".into(),
                items: (0..n).map(|i| Some(stats(i as f64))).collect(),
            }],
            orientation: Orientation::Auto,
            reference: Vec::new(),
        }
    }

    #[test]
    fn auto_orientation_switches_with_category_count() {
        assert!(!chart(5).horizontal());
        assert!(chart(30).horizontal());
        assert!(chart(40).preferred_height() > chart(10).preferred_height());
        assert!(chart(40).preferred_height() >= 40 * (LABEL_PX as u32 + 6));
    }

    #[test]
    fn validation_names_the_problem() {
        let mut c = chart(3);
        c.series[0].items.pop();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("2 items for 3 categories"), "{e}");
        let mut c = chart(3);
        c.series[0].items[1] = Some(BoxStats {
            p95: f64::NAN,
            ..stats(1.0)
        });
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("p95") && e.contains("NaN"), "{e}");
        let mut c = chart(2);
        c.series[0].items = vec![None, None];
        assert!(c.validate().is_err());
    }

    #[test]
    fn range_covers_whiskers_and_points() {
        let (lo, hi) = chart(4).validate().unwrap();
        assert!(lo <= -2.0 && hi >= 5.0);
    }
}
