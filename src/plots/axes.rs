//! A category × value chart, used by every per-region figure: categories along one axis (top
//! to bottom when horizontal, so the first category is read first), a numeric value axis
//! with round ticks along the other.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::PlotError;
use super::frame::{
    AXIS_PX, LABEL_PX, MARGIN, draw_err, fmt_num, font, max_label_width, nice_ticks, tick_step,
};

/// A numeric axis whose ticks are exactly the given values (round value ticks, or one tick
/// per category), so labels never fall between categories.
#[derive(Clone)]
pub struct TickAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickAxis {
    pub fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        TickAxis {
            inner: range.into(),
            ticks,
        }
    }
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold points only: no light grid lines between ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

pub type Coord = Cartesian2d<TickAxis, TickAxis>;
pub type CatChart<'a, DB> = ChartContext<'a, DB, Coord>;

/// Width of the band a category occupies (1.0 = touching neighbours).
pub const BAND: f64 = 0.8;

/// What a category chart shows.
pub struct CatSpec<'s> {
    pub categories: &'s [String],
    /// Categories on the y axis (rows), values along x.
    pub horizontal: bool,
    /// Data range of the values; padded to round ticks.
    pub value_range: (f64, f64),
    /// Value axis title, with units.
    pub value_label: &'s str,
}

/// Axis coordinate of category `i` of `n`.
pub fn cat_pos(i: usize, n: usize, horizontal: bool) -> f64 {
    if horizontal {
        (n - 1 - i.min(n.saturating_sub(1))) as f64
    } else {
        i as f64
    }
}

/// Centre of series `j` of `k` within category position `c`; series go top to bottom
/// (horizontal) or left to right (vertical).
pub fn slot(c: f64, j: usize, k: usize, horizontal: bool) -> f64 {
    let w = BAND / k.max(1) as f64;
    let off = -BAND / 2.0 + (j as f64 + 0.5) * w;
    if horizontal { c - off } else { c + off }
}

/// Half the thickness of one series' mark in a band shared by `k` series.
pub fn half_width(k: usize) -> f64 {
    BAND / k.max(1) as f64 * 0.38
}

/// Data coordinates for a (value, category-axis) pair in the chart's orientation.
pub fn at(horizontal: bool, value: f64, cat: f64) -> (f64, f64) {
    if horizontal {
        (value, cat)
    } else {
        (cat, value)
    }
}

fn cat_name(categories: &[String], horizontal: bool, v: f64) -> String {
    let n = categories.len();
    let k = v.round();
    if (v - k).abs() > 1e-6 || k < 0.0 || k >= n as f64 {
        return String::new();
    }
    let pos = k as usize;
    let i = if horizontal { n - 1 - pos } else { pos };
    categories.get(i).cloned().unwrap_or_default()
}

/// Builds the chart and draws its mesh and axis labels.
pub fn category_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    spec: &CatSpec<'_>,
) -> Result<CatChart<'a, DB>, PlotError> {
    let n = spec.categories.len().max(1);
    let (lo, hi) = spec.value_range;
    let (vlo, vhi, vticks) = nice_ticks(lo, hi, if spec.horizontal { 10 } else { 8 });
    let step = tick_step(&vticks);
    let value_labels: Vec<String> = vticks.iter().map(|v| fmt_num(*v, step)).collect();
    let value_w = max_label_width(value_labels.iter().map(String::as_str), LABEL_PX)?;
    let cat_w = max_label_width(spec.categories.iter().map(String::as_str), LABEL_PX)?;
    let cat_ticks: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let cat_range = -0.5..(n as f64 - 0.5);
    let value_axis = TickAxis::new(vlo..vhi, vticks);
    let cat_axis = TickAxis::new(cat_range, cat_ticks);

    let mut builder = ChartBuilder::on(area);
    builder.margin(MARGIN).margin_right(2 * MARGIN);
    let axis_title = AXIS_PX as u32 + 16;
    let label_h = LABEL_PX as u32 + 14;
    let (x_axis, y_axis) = if spec.horizontal {
        builder
            .x_label_area_size(label_h + axis_title)
            .y_label_area_size(cat_w + 16);
        (value_axis, cat_axis)
    } else {
        builder
            .x_label_area_size(label_h)
            .y_label_area_size(value_w + 16 + axis_title);
        (cat_axis, value_axis)
    };
    let mut chart = builder
        .build_cartesian_2d(x_axis, y_axis)
        .map_err(draw_err)?;

    let cats = spec.categories;
    let horizontal = spec.horizontal;
    let cat_fmt = |v: &f64| cat_name(cats, horizontal, *v);
    let val_fmt = |v: &f64| fmt_num(*v, step);
    let grid = RGBColor(0xdd, 0xdd, 0xdd);
    let mut mesh = chart.configure_mesh();
    mesh.label_style(font(LABEL_PX))
        .axis_desc_style(font(AXIS_PX))
        .bold_line_style(grid)
        .light_line_style(TRANSPARENT);
    if horizontal {
        mesh.x_label_formatter(&val_fmt)
            .y_label_formatter(&cat_fmt)
            .x_desc(spec.value_label)
            .disable_y_mesh();
    } else {
        mesh.y_label_formatter(&val_fmt)
            .x_label_formatter(&cat_fmt)
            .y_desc(spec.value_label)
            .disable_x_mesh();
    }
    mesh.draw().map_err(draw_err)?;
    Ok(chart)
}

/// A straight line across the whole category axis at `value` (zero lines, thresholds).
pub fn value_rule<DB: DrawingBackend>(
    chart: &mut CatChart<'_, DB>,
    n: usize,
    horizontal: bool,
    value: f64,
    style: ShapeStyle,
) -> Result<(), PlotError> {
    let (a, b) = (-0.5, n as f64 - 0.5);
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![at(horizontal, value, a), at(horizontal, value, b)],
            style,
        )))
        .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn horizontal_puts_first_category_on_top() {
        assert_relative_eq!(cat_pos(0, 5, true), 4.0);
        assert_relative_eq!(cat_pos(4, 5, true), 0.0);
        assert_relative_eq!(cat_pos(2, 5, false), 2.0);
        let cats: Vec<String> = ["安徽", "浙江", "黑龙江"].map(String::from).to_vec();
        assert_eq!(cat_name(&cats, true, 2.0), "安徽");
        assert_eq!(cat_name(&cats, false, 2.0), "黑龙江");
        assert_eq!(cat_name(&cats, true, 0.5), "");
        assert_eq!(cat_name(&cats, true, 3.0), "");
    }

    #[test]
    fn slots_stay_inside_the_band_and_do_not_overlap() {
        for k in 1..6 {
            let centres: Vec<f64> = (0..k).map(|j| slot(10.0, j, k, false)).collect();
            for (j, c) in centres.iter().enumerate() {
                assert!((c - 10.0).abs() + half_width(k) <= BAND / 2.0 + 1e-9);
                if j > 0 {
                    assert!(c - centres[j - 1] >= 2.0 * half_width(k));
                }
            }
        }
        // Horizontal: the first series is drawn above (larger y) the second.
        assert!(slot(3.0, 0, 2, true) > slot(3.0, 1, 2, true));
    }
}
