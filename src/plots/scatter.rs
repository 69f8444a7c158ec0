//! A scatter plot of several series (one colour per formula), with chosen points labelled
//! (the outliers a reader asks about).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::TickAxis;
use super::frame::{
    AXIS_PX, LABEL_PX, LegendEntry, MARGIN, Mark, check_finite, draw_err, extent, fmt_num, font,
    header, invalid, max_label_width, nice_ticks, series_color, tick_step,
};

/// One series of points, and which of them to label.
#[derive(Debug, Clone)]
pub struct ScatterSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Labels of the points, by index; empty for a point left unlabelled.
    pub labels: Vec<String>,
}

/// Points of several series on common axes.
#[derive(Debug, Clone)]
pub struct ScatterChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<ScatterSeries>,
    /// Draw the line y = x (for fitted against observed values, where points on it are
    /// fitted exactly), and give both axes the same range.
    pub diagonal: bool,
}

const CHART: &str = "scatter";

/// Above this many points a series is drawn as small dots.
const MANY_POINTS: usize = 300;

/// The x and y extents of the points.
type Extents = ((f64, f64), (f64, f64));

impl ScatterChart {
    fn validate(&self) -> Result<Extents, PlotError> {
        if self.series.iter().all(|s| s.points.is_empty()) {
            return Err(invalid(CHART, "needs at least one point"));
        }
        for s in &self.series {
            if !s.labels.is_empty() && s.labels.len() != s.points.len() {
                return Err(invalid(
                    CHART,
                    format!("series '{}': one label per point", s.name),
                ));
            }
            for &(x, y) in &s.points {
                check_finite(CHART, &s.name, x)?;
                check_finite(CHART, &s.name, y)?;
            }
        }
        let pts = || self.series.iter().flat_map(|s| s.points.iter().copied());
        let xs = extent(pts().map(|p| p.0)).ok_or_else(|| invalid(CHART, "no points"))?;
        let ys = extent(pts().map(|p| p.1)).ok_or_else(|| invalid(CHART, "no points"))?;
        Ok((xs, ys))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let ((mut x0, mut x1), (mut y0, mut y1)) = self.validate()?;
        if self.diagonal {
            let (lo, hi) = (x0.min(y0).min(0.0), x1.max(y1));
            (x0, x1, y0, y1) = (lo, hi, lo, hi);
        }
        let legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(j, s)| LegendEntry::new(s.name.clone(), series_color(j), Mark::Dot))
            .collect();
        let area = header(root, &self.title, &legend)?;
        let (xlo, xhi, xt) = nice_ticks(x0, x1, 10);
        let (ylo, yhi, yt) = nice_ticks(y0.min(0.0), y1, 8);
        let (xs, ys) = (tick_step(&xt), tick_step(&yt));
        let ylabels: Vec<String> = yt.iter().map(|v| fmt_num(*v, ys)).collect();
        let yw = max_label_width(ylabels.iter().map(String::as_str), LABEL_PX)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .margin_right(2 * MARGIN)
            .x_label_area_size(LABEL_PX as u32 + AXIS_PX as u32 + 30)
            .y_label_area_size(yw + AXIS_PX as u32 + 32)
            .build_cartesian_2d(TickAxis::new(xlo..xhi, xt), TickAxis::new(ylo..yhi, yt))
            .map_err(draw_err)?;
        let xf = |v: &f64| fmt_num(*v, xs);
        let yf = |v: &f64| fmt_num(*v, ys);
        chart
            .configure_mesh()
            .label_style(font(LABEL_PX))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .draw()
            .map_err(draw_err)?;
        if self.diagonal {
            let (a, b) = (xlo.max(ylo), xhi.min(yhi));
            chart
                .draw_series(LineSeries::new(
                    [(a, a), (b, b)],
                    RGBColor(0x88, 0x88, 0x88).stroke_width(2),
                ))
                .map_err(draw_err)?;
        }
        for (j, s) in self.series.iter().enumerate() {
            let color = series_color(j);
            // Thousands of counties: small dots without a rim, in few colours, so the cloud
            // reads and the PNG compresses.
            if s.points.len() > MANY_POINTS {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 2, color.filled())))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(s.points.iter().map(|&p| {
                        EmptyElement::at(p)
                            + Circle::new((0, 0), 5, color.mix(0.8).filled())
                            + Circle::new((0, 0), 5, BLACK.stroke_width(1))
                    }))
                    .map_err(draw_err)?;
            }
            let labelled = s
                .points
                .iter()
                .zip(&s.labels)
                .filter(|(_, l)| !l.is_empty());
            chart
                .draw_series(labelled.map(|(&p, l)| {
                    EmptyElement::at(p)
                        + Text::new(l.clone(), (8, -(LABEL_PX as i32) / 2), font(LABEL_PX))
                }))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_checks_labels_and_values() {
        let mut c = ScatterChart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: vec![ScatterSeries {
                name: "a".into(),
                points: vec![(0.1, 2.0), (0.3, 5.0)],
                labels: vec![String::new(), "top".into()],
            }],
            diagonal: false,
        };
        assert_eq!(c.validate().unwrap(), ((0.1, 0.3), (2.0, 5.0)));
        c.series[0].labels.pop();
        assert!(c.validate().is_err());
        c.series[0].labels.clear();
        c.series[0].points[0].1 = f64::INFINITY;
        assert!(c.validate().is_err());
    }
}
