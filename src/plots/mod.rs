//! Figures as PNG and SVG, with Chinese names drawn from an embedded CJK font.
//!
//! Each chart is a plain data struct (already summarised: quantiles, means, probabilities)
//! wrapped in [`Chart`]; [`render`] draws it into memory as PNG bytes and/or an SVG string.
//! Nothing here touches the file system: the output module decides file names and writes
//! them atomically (STYLE.md, "exporters are pure serialisers").
//!
//! Text is drawn with the font in `assets/fonts/` (WenQuanYi Micro Hei, Apache-2.0), compiled
//! in, so region names such as 安徽 or 黑龙江 render on a machine without CJK fonts. In SVG
//! the text is real `<text>` in that font, embedded cut down to the characters used (see
//! [`backend`]), so browsers need no font either and the text can be searched and edited.

mod axes;
mod backend;
mod bars;
mod classes;
mod distribution;
mod diverging;
mod dumbbell;
mod fan;
mod frame;
mod interval;
mod lorenz;
mod scatter;
mod split;
pub mod text;
mod tiles;
mod waterfall;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use bars::{
    DiffSeries, Interval, PairedDiffChart, ProbabilityChart, ProbabilityLayout, ProbabilitySeries,
    TornadoChart, TornadoItem,
};
pub use classes::{CLASS_NAMES, ClassChart, ClassSeries};
pub use distribution::{HistogramChart, MarkKind, RefLine, Sample, SampleMark};
pub use diverging::{Change, DivergingChart};
pub use dumbbell::{DumbbellChart, Ranged};
pub use fan::{FanChart, FanPanel, FanSeries};
pub use frame::{DEFAULT_SIZE, PALETTE};
pub use interval::{BoxStats, IntervalChart, IntervalSeries, Orientation};
pub use lorenz::{LorenzChart, LorenzSeries, gini, lorenz_points};
pub use scatter::{ScatterChart, ScatterSeries};
pub use split::{BarPart, SplitBarChart};
pub use tiles::{PROVINCE_TILES, TileMapChart, tile_of};
pub use waterfall::{Step, WaterfallChart};

/// Errors from rendering a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font could not be parsed (a build problem, not an input problem).
    #[error("the embedded CJK font could not be loaded")]
    Font,
    /// The chart data cannot be drawn (empty, mismatched lengths, non-finite values).
    #[error("chart '{chart}': {message}")]
    Invalid { chart: String, message: String },
    /// The drawing backend failed.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Which formats to produce (the `--plot-format` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
    Svg,
    Both,
}

impl PlotFormat {
    fn png(self) -> bool {
        matches!(self, PlotFormat::Png | PlotFormat::Both)
    }
    fn svg(self) -> bool {
        matches!(self, PlotFormat::Svg | PlotFormat::Both)
    }
}

/// A rendered figure. A field is `None` when its format was not asked for.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub png: Option<Vec<u8>>,
    pub svg: Option<String>,
    /// Canvas size in pixels (the PNG's size and the SVG's viewBox).
    pub size: (u32, u32),
}

/// Every kind of figure.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Box/interval plot per category, several formulas side by side.
    Interval(IntervalChart),
    /// Overlaid histograms, optionally with threshold lines.
    Histogram(HistogramChart),
    /// Lorenz curves with the equality diagonal.
    Lorenz(LorenzChart),
    /// Paired differences (mean and interval) around zero.
    PairedDiff(PairedDiffChart),
    /// Probabilities per category as horizontal bars.
    Probability(ProbabilityChart),
    /// Tornado chart of effects with intervals (sensitivity indices).
    Tornado(TornadoChart),
    /// Water-quality classes per section and period on a categorical class axis.
    Classes(ClassChart),
    /// Signed bars split into parts, with their totals written at the ends.
    SplitBars(SplitBarChart),
    /// Winners and losers: signed changes as bars from zero in two colours.
    Diverging(DivergingChart),
    /// Baseline → alternative per category.
    Dumbbell(DumbbellChart),
    /// How an amount is built, step by step.
    Waterfall(WaterfallChart),
    /// Points of several series, outliers labelled.
    Scatter(ScatterChart),
    /// China's provinces as a tile grid, coloured on a diverging scale.
    TileMap(TileMapChart),
    Fan(FanChart),
}

impl Chart {
    /// The canvas size this chart wants: 1200 × 800, taller for many categories.
    pub fn preferred_size(&self) -> (u32, u32) {
        let h = match self {
            Chart::Interval(c) => c.preferred_height(),
            Chart::Histogram(_)
            | Chart::Lorenz(_)
            | Chart::Classes(_)
            | Chart::Waterfall(_)
            | Chart::Scatter(_) => DEFAULT_SIZE.1,
            Chart::TileMap(_) => 1000,
            Chart::PairedDiff(c) => c.preferred_height(),
            Chart::Probability(c) => c.preferred_height(),
            Chart::Tornado(c) => c.preferred_height(),
            Chart::SplitBars(c) => c.preferred_height(),
            Chart::Diverging(c) => c.preferred_height(),
            Chart::Dumbbell(c) => c.preferred_height(),
            Chart::Fan(c) => c.preferred_height(),
        };
        (DEFAULT_SIZE.0, h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        match self {
            Chart::Interval(c) => c.draw(root),
            Chart::Histogram(c) => c.draw(root),
            Chart::Lorenz(c) => c.draw(root),
            Chart::PairedDiff(c) => c.draw(root),
            Chart::Probability(c) => c.draw(root),
            Chart::Tornado(c) => c.draw(root),
            Chart::Classes(c) => c.draw(root),
            Chart::SplitBars(c) => c.draw(root),
            Chart::Diverging(c) => c.draw(root),
            Chart::Dumbbell(c) => c.draw(root),
            Chart::Waterfall(c) => c.draw(root),
            Chart::Scatter(c) => c.draw(root),
            Chart::TileMap(c) => c.draw(root),
            Chart::Fan(c) => c.draw(root),
        }
    }
}

/// Renders a chart at its preferred size.
pub fn render(chart: &Chart, format: PlotFormat) -> Result<Rendered, PlotError> {
    render_sized(chart, format, chart.preferred_size())
}

/// Renders a chart at a given canvas size (pixels; the SVG uses the same user units).
pub fn render_sized(
    chart: &Chart,
    format: PlotFormat,
    size: (u32, u32),
) -> Result<Rendered, PlotError> {
    text::register_with_plotters()?;
    let (w, h) = (size.0.max(1), size.1.max(1));
    let mut out = Rendered {
        size: (w, h),
        ..Rendered::default()
    };
    if format.png() {
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        {
            let root = backend::PngCanvas::new(&mut buf, (w, h)).into_drawing_area();
            chart.draw(&root)?;
            root.present().map_err(frame::draw_err)?;
        }
        out.png = Some(encode_png(&buf, (w, h))?);
    }
    if format.svg() {
        let mut svg = String::new();
        {
            let root = backend::SvgCanvas::new(&mut svg, (w, h)).into_drawing_area();
            chart.draw(&root)?;
            root.present().map_err(frame::draw_err)?;
        }
        out.svg = Some(svg);
    }
    Ok(out)
}

/// Encodes an RGB buffer as PNG.
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, PlotError> {
    let mut bytes = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // Fast compression: figures are mostly flat colour, and a 2,800-region run renders
        // many of them.
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc
            .write_header()
            .map_err(|e| PlotError::Png(e.to_string()))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| PlotError::Png(e.to_string()))?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_chart() -> Chart {
        Chart::Probability(ProbabilityChart {
            title: "达标概率".into(),
            value_label: "probability".into(),
            categories: vec!["安徽".into(), "浙江".into()],
            series: vec![ProbabilitySeries {
                name: "P(达标)".into(),
                values: vec![0.4, 0.9],
            }],
            layout: ProbabilityLayout::Grouped,
        })
    }

    #[test]
    fn formats_are_produced_only_when_asked() {
        let c = small_chart();
        let png = render_sized(&c, PlotFormat::Png, (400, 300)).unwrap();
        assert!(png.png.is_some() && png.svg.is_none());
        let svg = render_sized(&c, PlotFormat::Svg, (400, 300)).unwrap();
        assert!(svg.png.is_none() && svg.svg.is_some());
        let both = render_sized(&c, PlotFormat::Both, (400, 300)).unwrap();
        let bytes = both.png.unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(both.svg.unwrap().starts_with("<svg"));
    }

    #[test]
    fn png_has_the_requested_size() {
        let r = render_sized(&small_chart(), PlotFormat::Png, (640, 480)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(r.png.unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, 640);
        assert_eq!(reader.info().height, 480);
        assert_eq!(r.size, (640, 480));
    }
}
