//! The shared look of every figure: palette, font sizes, title and legend header, tick
//! placement, number formatting and input checks.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use super::text::{FONT_FAMILY, text_size};

/// Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), ordered so that the first
/// colours are the most distinct for the common deuteranopia/protanopia cases; black is
/// last because it is also used for markers and reference lines.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

/// Colour of the `i`-th series (cycles after eight).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Font sizes in pixels, chosen for a 1200 × 800 canvas: tick labels and legend at 16 px
/// (readable when the PNG is scaled to a laptop screen), axis titles 20 px, title 28 px.
pub const TITLE_PX: f64 = 28.0;
pub const AXIS_PX: f64 = 20.0;
pub const LABEL_PX: f64 = 16.0;
pub const LEGEND_PX: f64 = 16.0;

/// Default canvas size.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 800);

/// Outer margin around the plot, in pixels.
pub const MARGIN: u32 = 16;

pub fn font(px: f64) -> TextStyle<'static> {
    (FONT_FAMILY, px).into_font().color(&BLACK)
}

/// How a legend entry's swatch is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A filled square (boxes, bars, histogram fills).
    Swatch,
    /// A short line (curves, reference lines).
    Line,
    /// A dot (point estimates, means).
    Dot,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, color: RGBColor, mark: Mark) -> Self {
        LegendEntry {
            label: label.into(),
            color,
            mark,
        }
    }
}

const SWATCH: i32 = 22;
const LEGEND_GAP: i32 = 28;
const LEGEND_ROW: i32 = 26;

/// Places legend entries left to right, wrapping to new rows; returns each entry's x
/// offset and row, and the number of rows.
fn legend_layout(entries: &[LegendEntry], width: i32) -> Result<(Vec<(i32, i32)>, i32), PlotError> {
    let mut placed = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (0i32, 0i32);
    for e in entries {
        let w = SWATCH + 8 + text_size(&e.label, LEGEND_PX)?.0 as i32;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        placed.push((x, row));
        x += w + LEGEND_GAP;
    }
    let rows = if entries.is_empty() { 0 } else { row + 1 };
    Ok((placed, rows))
}

/// Fills the canvas white, draws the title and the legend rows under it, and returns the
/// area left for the plot.
pub fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, PlotError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let (w, _) = root.dim_in_pixel();
    let w = w as i32;
    let title_h = if title.is_empty() {
        MARGIN as i32
    } else {
        TITLE_PX as i32 + 20
    };
    if !title.is_empty() {
        let style = font(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(title.to_string(), (w / 2, 10), style))
            .map_err(draw_err)?;
    }
    let inner_w = w - 2 * MARGIN as i32;
    let (placed, rows) = legend_layout(legend, inner_w)?;
    // Centre each legend row.
    let mut row_width = vec![0i32; rows.max(0) as usize];
    for (e, &(x, row)) in legend.iter().zip(&placed) {
        let ew = SWATCH + 8 + text_size(&e.label, LEGEND_PX)?.0 as i32;
        row_width[row as usize] = row_width[row as usize].max(x + ew);
    }
    for (e, &(x, row)) in legend.iter().zip(&placed) {
        let left = MARGIN as i32 + (inner_w - row_width[row as usize]) / 2 + x;
        let cy = title_h + row * LEGEND_ROW + LEGEND_ROW / 2;
        draw_mark(root, e, left, cy)?;
        let style = font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(e.label.clone(), (left + SWATCH + 8, cy), style))
            .map_err(draw_err)?;
    }
    let used = title_h + rows * LEGEND_ROW + if rows > 0 { 8 } else { 0 };
    Ok(root.split_vertically(used).1)
}

fn draw_mark<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &LegendEntry,
    left: i32,
    cy: i32,
) -> Result<(), PlotError> {
    let half = SWATCH / 2;
    match e.mark {
        Mark::Swatch => root.draw(&Rectangle::new(
            [
                (left + 3, cy - half + 4),
                (left + SWATCH - 3, cy + half - 4),
            ],
            e.color.mix(0.6).filled(),
        )),
        Mark::Line => root.draw(&PathElement::new(
            vec![(left, cy), (left + SWATCH, cy)],
            e.color.stroke_width(3),
        )),
        Mark::Dot => root.draw(&Circle::new((left + half, cy), 5, e.color.filled())),
    }
    .map_err(draw_err)
}

pub fn draw_err<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// "Nice" tick positions (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]` with about
/// `target` ticks. Returns the padded axis range and the ticks.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = if (hi - lo).abs() < f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo.abs() > 0.0 { lo.abs() * 0.1 } else { 1.0 };
        (lo - pad, hi + pad)
    } else {
        (lo.min(hi), lo.max(hi))
    };
    let raw = (hi - lo) / target.max(2) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let n = ((last - first) / step).round() as usize;
    let ticks = (0..=n).map(|i| first + i as f64 * step).collect();
    (first, last, ticks)
}

/// Formats a tick value: thousands separators for large values, and as many decimals as
/// the tick step needs.
pub fn fmt_num(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// The step between consecutive ticks (1 when there is only one).
pub fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => b - a,
        _ => 1.0,
    }
}

/// Width in pixels of the widest label, for sizing a label area.
pub fn max_label_width<'a>(
    labels: impl IntoIterator<Item = &'a str>,
    px: f64,
) -> Result<u32, PlotError> {
    let mut w = 0;
    for l in labels {
        w = w.max(text_size(l, px)?.0);
    }
    Ok(w)
}

/// Rejects NaN and infinite values, naming the chart and the field.
pub fn check_finite(chart: &str, what: &str, v: f64) -> Result<(), PlotError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(PlotError::Invalid {
            chart: chart.to_string(),
            message: format!("{what} is {v}, which cannot be plotted"),
        })
    }
}

pub fn invalid(chart: &str, message: impl Into<String>) -> PlotError {
    PlotError::Invalid {
        chart: chart.to_string(),
        message: message.into(),
    }
}

/// Range over finite values, or `None` when there are none.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Canvas height for a chart with `n` category rows of `row_px` each: at least the default
/// height, taller when the rows would otherwise be too tight for their labels.
pub fn height_for_rows(n: usize, row_px: u32, header_px: u32) -> u32 {
    DEFAULT_SIZE.1.max(header_px + 110 + n as u32 * row_px)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn nice_ticks_cover_the_range_with_round_steps() {
        let (lo, hi, t) = nice_ticks(0.13, 9.7, 8);
        assert!(lo <= 0.13 && hi >= 9.7);
        // (9.7 - 0.13) / 8 ≈ 1.2 rounds up to the next 1-2-5 step.
        assert_relative_eq!(tick_step(&t), 2.0);
        assert_eq!(t.len(), 6);
        let (lo, hi, t) = nice_ticks(-1234.0, 56_789.0, 6);
        assert!(lo <= -1234.0 && hi >= 56_789.0);
        assert_relative_eq!(tick_step(&t), 10_000.0);
        // A degenerate range is widened instead of dividing by zero.
        let (lo, hi, t) = nice_ticks(5.0, 5.0, 6);
        assert!(lo < 5.0 && hi > 5.0 && t.len() >= 2);
    }

    #[test]
    fn numbers_are_grouped_and_rounded_to_the_step() {
        assert_eq!(fmt_num(1_234_567.0, 100_000.0), "1,234,567");
        assert_eq!(fmt_num(-0.25, 0.05), "-0.25");
        assert_eq!(fmt_num(0.2, 0.1), "0.2");
        assert_eq!(fmt_num(-1e-17, 0.1), "0.0");
        assert_eq!(fmt_num(999.0, 1.0), "999");
    }

    #[test]
    fn legend_wraps_when_too_wide() {
        let entries: Vec<_> = (0..12)
            .map(|i| LegendEntry::new(format!("公式 formula {i}"), series_color(i), Mark::Swatch))
            .collect();
        let (placed, rows) = legend_layout(&entries, 1168).unwrap();
        assert!(rows >= 2);
        assert_eq!(placed[0], (0, 0));
        assert!(placed.iter().all(|&(x, _)| x < 1168));
        let (_, one_row) = legend_layout(&entries[..2], 1168).unwrap();
        assert_eq!(one_row, 1);
    }

    #[test]
    fn extent_ignores_non_finite() {
        assert_eq!(extent([3.0, f64::NAN, -1.0, 2.0]), Some((-1.0, 3.0)));
        assert_eq!(extent([f64::INFINITY]), None);
    }
}
