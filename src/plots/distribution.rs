//! Overlaid histograms of several samples (one colour per formula, or one sample with a
//! threshold line such as a P index limit of 1.0). Bars show the share of each sample's
//! draws per bin, so samples of different sizes compare directly.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::TickAxis;
use super::frame::{
    AXIS_PX, LABEL_PX, LegendEntry, MARGIN, Mark, check_finite, draw_err, extent, fmt_num, font,
    header, invalid, max_label_width, nice_ticks, series_color, tick_step,
};

/// One sample (e.g. a region's allocation over Monte Carlo draws under one formula).
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub values: Vec<f64>,
}

/// A vertical reference line (threshold), drawn in black and named in the legend.
#[derive(Debug, Clone)]
pub struct RefLine {
    pub value: f64,
    pub label: String,
}

/// A value of one sample marked on the axis in that sample's colour: its point estimate
/// (a solid line) or its median (a dashed line).
#[derive(Debug, Clone)]
pub struct SampleMark {
    /// Index of the sample in [`HistogramChart::samples`].
    pub sample: usize,
    pub value: f64,
    pub kind: MarkKind,
}

/// What a [`SampleMark`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Point,
    Median,
}

/// Overlaid histograms with optional threshold lines.
#[derive(Debug, Clone)]
pub struct HistogramChart {
    pub title: String,
    /// x axis title with units.
    pub x_label: String,
    /// y axis title, e.g. "share of draws".
    pub y_label: String,
    pub samples: Vec<Sample>,
    /// Number of bins over the common range (at least 1).
    pub bins: usize,
    pub thresholds: Vec<RefLine>,
    /// Point estimates and medians of the samples.
    pub marks: Vec<SampleMark>,
}

const CHART: &str = "histogram";

/// Bin counts as shares of each sample, over common edges `lo + i * width`.
pub(crate) fn bin_shares(values: &[f64], lo: f64, width: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    for &v in values {
        let i = ((v - lo) / width).floor();
        let i = if i < 0.0 {
            0
        } else {
            (i as usize).min(bins - 1)
        };
        counts[i] += 1;
    }
    let n = values.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / n).collect()
}

impl HistogramChart {
    fn validate(&self) -> Result<(f64, f64), PlotError> {
        if self.samples.is_empty() || self.samples.iter().all(|s| s.values.is_empty()) {
            return Err(invalid(CHART, "needs at least one non-empty sample"));
        }
        if self.bins == 0 {
            return Err(invalid(CHART, "bins must be at least 1"));
        }
        for s in &self.samples {
            for &v in &s.values {
                check_finite(CHART, &format!("a value of '{}'", s.name), v)?;
            }
        }
        for t in &self.thresholds {
            check_finite(CHART, &format!("threshold '{}'", t.label), t.value)?;
        }
        for m in &self.marks {
            if m.sample >= self.samples.len() {
                return Err(invalid(CHART, format!("a mark names sample {}", m.sample)));
            }
            check_finite(CHART, "a marked value", m.value)?;
        }
        let all = self.samples.iter().flat_map(|s| s.values.iter().copied());
        let (lo, hi) = extent(all).ok_or_else(|| invalid(CHART, "no values"))?;
        let lines = self.thresholds.iter().map(|t| t.value);
        let t = extent(lines.chain(self.marks.iter().map(|m| m.value))).unwrap_or((lo, hi));
        Ok((lo.min(t.0), hi.max(t.1)))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let (lo, hi) = self.validate()?;
        let (data_lo, data_hi) = {
            let all = self.samples.iter().flat_map(|s| s.values.iter().copied());
            extent(all).unwrap_or((lo, hi))
        };
        // Bins span the data; the axis also spans the thresholds.
        let span = data_hi - data_lo;
        let width = if span > 0.0 {
            span / self.bins as f64
        } else {
            1.0
        };
        let bin_lo = if span > 0.0 { data_lo } else { data_lo - 0.5 };
        let shares: Vec<Vec<f64>> = self
            .samples
            .iter()
            .map(|s| bin_shares(&s.values, bin_lo, width, self.bins))
            .collect();
        let ymax = shares.iter().flatten().copied().fold(0.0, f64::max);

        let area = header(root, &self.title, &self.legend())?;

        let (xlo, xhi, xt) = nice_ticks(
            lo.min(bin_lo),
            hi.max(bin_lo + width * self.bins as f64),
            10,
        );
        // Bars are shares of draws: the axis never runs past 1, the largest possible share.
        let (_, yhi, mut yt) = nice_ticks(0.0, (ymax * 1.05).min(1.0), 6);
        let yhi = yhi.min(1.0);
        yt.retain(|v| *v <= 1.0 + 1e-12);
        let (xs, ys) = (tick_step(&xt), tick_step(&yt));
        let ylabels: Vec<String> = yt.iter().map(|v| fmt_num(*v, ys)).collect();
        let yw = max_label_width(ylabels.iter().map(String::as_str), LABEL_PX)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .margin_right(2 * MARGIN)
            .x_label_area_size(LABEL_PX as u32 + AXIS_PX as u32 + 30)
            .y_label_area_size(yw + AXIS_PX as u32 + 32)
            .build_cartesian_2d(TickAxis::new(xlo..xhi, xt), TickAxis::new(0.0..yhi, yt))
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

        for (j, sh) in shares.iter().enumerate() {
            let color = series_color(j);
            // Step outline, so overlapping samples stay distinguishable.
            let outline = step_outline(sh, bin_lo, width);
            // One polygon, not a rectangle per bin: adjacent translucent rectangles share an
            // edge pixel and would show as stripes.
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline.clone(),
                    color.mix(0.25).filled(),
                )))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    outline,
                    color.stroke_width(2),
                )))
                .map_err(draw_err)?;
        }
        self.draw_lines(&mut chart, yhi)
    }

    /// The legend: samples, thresholds, and what the marks mean.
    fn legend(&self) -> Vec<LegendEntry> {
        let mut legend: Vec<LegendEntry> = self
            .samples
            .iter()
            .enumerate()
            .map(|(j, s)| LegendEntry::new(s.name.clone(), series_color(j), Mark::Swatch))
            .collect();
        for t in &self.thresholds {
            legend.push(LegendEntry::new(t.label.clone(), BLACK, Mark::Line));
        }
        let grey = RGBColor(0x55, 0x55, 0x55);
        for (kind, label) in [
            (MarkKind::Point, "point estimate (solid)"),
            (MarkKind::Median, "median (dashed)"),
        ] {
            if self.marks.iter().any(|m| m.kind == kind) {
                legend.push(LegendEntry::new(label, grey, Mark::Line));
            }
        }
        legend
    }

    /// Threshold lines in black, and each sample's marks in its colour.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<TickAxis, TickAxis>>,
        yhi: f64,
    ) -> Result<(), PlotError> {
        for t in &self.thresholds {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(t.value, 0.0), (t.value, yhi)],
                    BLACK.stroke_width(3),
                )))
                .map_err(draw_err)?;
        }
        for m in &self.marks {
            let style = series_color(m.sample).stroke_width(2);
            let segments = match m.kind {
                MarkKind::Point => vec![(0.0, yhi)],
                MarkKind::Median => dashes(yhi, 12),
            };
            chart
                .draw_series(
                    segments
                        .into_iter()
                        .map(|(a, b)| PathElement::new(vec![(m.value, a), (m.value, b)], style)),
                )
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

/// The dashes of a dashed line from 0 to `top`: `n` dashes with gaps as long.
fn dashes(top: f64, n: usize) -> Vec<(f64, f64)> {
    let step = top / (2 * n) as f64;
    (0..n)
        .map(|i| (2.0 * i as f64 * step, (2.0 * i as f64 + 1.0) * step))
        .collect()
}

/// The outline of a histogram's bars, `shares[i]` high over bin i (bins of `width` from
/// `bin_lo`), from the axis at the left edge to the axis at the right edge.
fn step_outline(shares: &[f64], bin_lo: f64, width: f64) -> Vec<(f64, f64)> {
    let mut outline = Vec::with_capacity(2 * shares.len() + 2);
    outline.push((bin_lo, 0.0));
    for (i, s) in shares.iter().enumerate() {
        let x0 = bin_lo + i as f64 * width;
        outline.push((x0, *s));
        outline.push((x0 + width, *s));
    }
    outline.push((bin_lo + width * shares.len() as f64, 0.0));
    outline
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn shares_sum_to_one_and_clamp_the_top_edge() {
        let v = [0.0, 0.1, 0.5, 0.99, 1.0, 1.0];
        let s = bin_shares(&v, 0.0, 0.25, 4);
        assert_relative_eq!(s.iter().sum::<f64>(), 1.0);
        // 0.99 and both 1.0 (the top edge) fall in the last bin.
        assert_relative_eq!(s[3], 3.0 / 6.0);
        assert_relative_eq!(s[0], 2.0 / 6.0);
    }

    #[test]
    fn range_includes_thresholds_and_rejects_nan() {
        let mut c = HistogramChart {
            title: String::new(),
            x_label: "P".into(),
            y_label: "share".into(),
            samples: vec![Sample {
                name: "s".into(),
                values: vec![0.2, 0.4],
            }],
            bins: 10,
            thresholds: vec![RefLine {
                value: 1.0,
                label: "limit".into(),
            }],
            marks: vec![SampleMark {
                sample: 0,
                value: 1.5,
                kind: MarkKind::Point,
            }],
        };
        let (lo, hi) = c.validate().unwrap();
        assert_relative_eq!(lo, 0.2);
        assert_relative_eq!(hi, 1.5);
        c.marks[0].sample = 1;
        assert!(
            c.validate().is_err(),
            "a mark of a sample that is not there"
        );
        c.marks.clear();
        let (_, hi) = c.validate().unwrap();
        assert_relative_eq!(hi, 1.0);
        c.samples[0].values.push(f64::NAN);
        assert!(c.validate().is_err());
        c.samples[0].values.pop();
        c.bins = 0;
        assert!(c.validate().is_err());
    }
}
