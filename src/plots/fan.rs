//! Fan charts: a value over years, as a median line with a 50% band (p25–p75) and a 90%
//! band (p5–p95) per series, in one panel or a grid of small panels sharing the series.
//! A series without bands (all quantiles equal) is a plain line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::TickAxis;
use super::frame::{
    AXIS_PX, LABEL_PX, LegendEntry, MARGIN, Mark, check_finite, draw_err, fmt_num, font, header,
    invalid, nice_ticks, series_color, tick_step,
};

/// One series of a panel: per year, the 5th, 25th, 50th, 75th and 95th percentiles.
#[derive(Debug, Clone)]
pub struct FanSeries {
    pub name: String,
    pub q: Vec<[f64; 5]>,
}

/// One panel: a label (empty for a single-panel chart) and its series, in legend order.
#[derive(Debug, Clone)]
pub struct FanPanel {
    pub label: String,
    pub series: Vec<FanSeries>,
}

#[derive(Debug, Clone)]
pub struct FanChart {
    pub title: String,
    pub y_label: String,
    pub years: Vec<i64>,
    pub panels: Vec<FanPanel>,
    /// Panels per row (1 for a single panel).
    pub columns: usize,
}

const CHART: &str = "fan";

impl FanChart {
    pub fn preferred_height(&self) -> u32 {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        if rows <= 1 {
            super::DEFAULT_SIZE.1
        } else {
            160 + rows * 230
        }
    }

    fn check(&self) -> Result<(), PlotError> {
        if self.years.is_empty() || self.panels.is_empty() {
            return Err(invalid(CHART, "needs at least one year and one panel"));
        }
        for p in &self.panels {
            for s in &p.series {
                if s.q.len() != self.years.len() {
                    return Err(invalid(CHART, format!("{}: one value per year", s.name)));
                }
                for v in s.q.iter().flatten() {
                    check_finite(CHART, "a quantile", *v)?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        self.check()?;
        let names = self.panels[0].series.iter().map(|s| s.name.clone());
        let mut legend: Vec<LegendEntry> = names
            .enumerate()
            .map(|(j, n)| LegendEntry::new(n, series_color(j), Mark::Line))
            .collect();
        if self.panels.iter().flat_map(|p| &p.series).any(has_bands) {
            let grey = |v: u8| RGBColor(v, v, v);
            legend.push(LegendEntry::new("50% of draws", grey(0x66), Mark::Swatch));
            legend.push(LegendEntry::new("90% of draws", grey(0xbb), Mark::Swatch));
        }
        let area = header(root, &self.title, &legend)?;
        let cols = self.columns.max(1);
        let rows = self.panels.len().div_ceil(cols);
        let cells = area.split_evenly((rows, cols));
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            self.panel(panel, cell, rows > 1)?;
        }
        Ok(())
    }

    fn panel<DB: DrawingBackend>(
        &self,
        p: &FanPanel,
        area: &DrawingArea<DB, Shift>,
        small: bool,
    ) -> Result<(), PlotError> {
        let values = p.series.iter().flat_map(|s| s.q.iter().flatten().copied());
        let (lo, hi) = super::frame::extent(values).unwrap_or((0.0, 1.0));
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo.min(0.0), hi.max(0.0) + 1.0)
        };
        let (y0, y1, yticks) = nice_ticks(lo.min(0.0), hi, if small { 3 } else { 6 });
        let (first, last) = (
            self.years[0] as f64,
            self.years[self.years.len() - 1] as f64,
        );
        let span = (last - first).max(1.0);
        let step = (span / if small { 3.0 } else { 8.0 }).ceil().max(1.0);
        let xticks: Vec<f64> = (0..)
            .map(|k| first + step * f64::from(k))
            .take_while(|x| *x <= last)
            .collect();
        let label_px = if small { LABEL_PX * 0.75 } else { LABEL_PX };
        let mut chart = ChartBuilder::on(area);
        chart
            .margin(if small { 6 } else { MARGIN })
            .x_label_area_size(label_px as u32 + if small { 10 } else { AXIS_PX as u32 + 30 })
            .y_label_area_size(label_px as u32 * 3 + if small { 10 } else { AXIS_PX as u32 + 20 });
        if !p.label.is_empty() {
            chart.caption(&p.label, font(label_px));
        }
        let pad = span * 0.03;
        let mut chart = chart
            .build_cartesian_2d(
                TickAxis::new(first - pad..last + pad, xticks),
                TickAxis::new(y0..y1, yticks.clone()),
            )
            .map_err(draw_err)?;
        let ystep = tick_step(&yticks);
        let fy = |v: &f64| fmt_num(*v, ystep);
        let fx = |v: &f64| format!("{v:.0}");
        let mut mesh = chart.configure_mesh();
        mesh.label_style(font(label_px))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy);
        if !small {
            mesh.x_desc("year").y_desc(self.y_label.as_str());
        }
        mesh.draw().map_err(draw_err)?;
        let years: Vec<f64> = self.years.iter().map(|&y| y as f64).collect();
        for (j, s) in p.series.iter().enumerate() {
            let c = series_color(j);
            for (a, b, alpha) in [(0, 4, 0.15), (1, 3, 0.3)] {
                if !has_bands(s) {
                    break;
                }
                let mut band: Vec<(f64, f64)> =
                    years.iter().zip(&s.q).map(|(&x, q)| (x, q[a])).collect();
                band.extend(years.iter().zip(&s.q).rev().map(|(&x, q)| (x, q[b])));
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(alpha).filled())))
                    .map_err(draw_err)?;
            }
            let median: Vec<(f64, f64)> = years.iter().zip(&s.q).map(|(&x, q)| (x, q[2])).collect();
            let width = if small { 2 } else { 3 };
            chart
                .draw_series(LineSeries::new(median.clone(), c.stroke_width(width)))
                .map_err(draw_err)?;
            if !small {
                chart
                    .draw_series(median.into_iter().map(|p| Circle::new(p, 4, c.filled())))
                    .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}

/// True when some year's quantiles spread (an uncertain series).
fn has_bands(s: &FanSeries) -> bool {
    s.q.iter().any(|q| q[4] > q[0])
}
