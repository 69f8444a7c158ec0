//! The two drawing backends every figure is rendered through.
//!
//! - [`PngCanvas`] wraps plotters' `BitMapBackend` (an RGB buffer in memory) and draws text
//!   by rasterising the embedded font's outlines itself.
//! - [`SvgCanvas`] writes SVG into a `String`. Text is real `<text>` (searchable, editable,
//!   read by screen readers), set in the embedded font, which the document carries as a
//!   `@font-face` data URI cut down to the characters it uses: a browser without any CJK
//!   font still shows the glyphs, and the file stays small where the whole 3 MB font would
//!   not.

use std::collections::BTreeSet;
use std::fmt::Write;

use plotters::backend::BitMapBackend;
use plotters_backend::text_anchor::HPos;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

use super::text;

fn font_error<E: std::error::Error + Send + Sync>(e: super::PlotError) -> DrawingErrorKind<E> {
    DrawingErrorKind::FontError(Box::new(e))
}

/// A bitmap canvas whose text is drawn with the embedded font.
pub(crate) struct PngCanvas<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> PngCanvas<'a> {
    /// A canvas drawing into `buf`, which must hold `w * h * 3` bytes (RGB).
    pub(crate) fn new(buf: &'a mut [u8], size: (u32, u32)) -> Self {
        PngCanvas {
            inner: BitMapBackend::with_buffer(buf, size),
        }
    }
}

type BitmapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

impl DrawingBackend for PngCanvas<'_> {
    type ErrorType = BitmapError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        text::text_size(text, style.size()).map_err(font_error)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        s: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha <= 0.0 {
            return Ok(());
        }
        let font = text::font().map_err(font_error)?;
        let run = text::layout(font, s, style.size());
        let q = text::quarter_turns(&style.transform());
        let inner = &mut self.inner;
        let mut result = Ok(());
        text::rasterise(
            font,
            &run,
            style.size(),
            pos,
            style.anchor(),
            q,
            |x, y, c| {
                if result.is_ok() {
                    let px = BackendColor {
                        alpha: color.alpha * f64::from(c),
                        rgb: color.rgb,
                    };
                    result = inner.draw_pixel((x, y), px);
                }
            },
        );
        result
    }
}

/// Error type of [`SvgCanvas`]; writing to a `String` cannot fail, so this only carries
/// font problems through plotters' error plumbing.
#[derive(Debug, thiserror::Error)]
#[error("svg canvas error")]
pub(crate) struct SvgError;

/// An SVG canvas; `present` writes the complete document into the target `String`.
pub(crate) struct SvgCanvas<'a> {
    target: &'a mut String,
    size: (u32, u32),
    body: String,
    chars: BTreeSet<char>,
}

impl<'a> SvgCanvas<'a> {
    pub(crate) fn new(target: &'a mut String, size: (u32, u32)) -> Self {
        SvgCanvas {
            target,
            size,
            body: String::with_capacity(64 * 1024),
            chars: BTreeSet::new(),
        }
    }

    /// The complete SVG document: the font its text uses, then the drawing.
    fn document(&self) -> Result<String, super::PlotError> {
        let (w, h) = self.size;
        let css = text::font_face_css(self.chars.iter().copied())?;
        let mut out = String::with_capacity(self.body.len() + css.len() + 512);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">"
        );
        let _ = writeln!(out, "<style>{css}</style>");
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        Ok(out)
    }
}

/// `fill`/`stroke` colour attributes, with opacity only when not opaque.
fn paint(attr: &str, c: BackendColor) -> String {
    let (r, g, b) = c.rgb;
    if c.alpha >= 1.0 {
        format!("{attr}=\"#{r:02x}{g:02x}{b:02x}\"")
    } else {
        format!(
            "{attr}=\"#{r:02x}{g:02x}{b:02x}\" {attr}-opacity=\"{:.3}\"",
            c.alpha
        )
    }
}

/// An SVG `points` list: `x,y x,y …`.
fn svg_points(pts: impl IntoIterator<Item = BackendCoord>) -> String {
    let mut out = String::new();
    for (x, y) in pts {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{x},{y}");
    }
    out
}

/// Escapes text for an XML attribute value.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

impl DrawingBackend for SvgCanvas<'_> {
    type ErrorType = SvgError;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<SvgError>> {
        Ok(())
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<SvgError>> {
        *self.target = self.document().map_err(font_error)?;
        Ok(())
    }
    fn draw_pixel(
        &mut self,
        (x, y): BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if color.alpha > 0.0 {
            let _ = writeln!(
                self.body,
                "<rect x=\"{x}\" y=\"{y}\" width=\"1\" height=\"1\" {}/>",
                paint("fill", color)
            );
        }
        Ok(())
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        (x1, y1): BackendCoord,
        (x2, y2): BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if style.color().alpha > 0.0 {
            let _ = writeln!(
                self.body,
                "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" {} stroke-width=\"{}\"/>",
                paint("stroke", style.color()),
                style.stroke_width()
            );
        }
        Ok(())
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        (x1, y1): BackendCoord,
        (x2, y2): BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if style.color().alpha <= 0.0 {
            return Ok(());
        }
        let (x, y) = (x1.min(x2), y1.min(y2));
        let (w, h) = ((x2 - x1).abs(), (y2 - y1).abs());
        let paint_attrs = if fill {
            // plotters' bitmap fills include both corner pixels.
            paint("fill", style.color())
        } else {
            format!(
                "fill=\"none\" {} stroke-width=\"{}\"",
                paint("stroke", style.color()),
                style.stroke_width()
            )
        };
        let extra = i32::from(fill);
        let _ = writeln!(
            self.body,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" {paint_attrs}/>",
            w + extra,
            h + extra
        );
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if style.color().alpha <= 0.0 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\" {} stroke-width=\"{}\" stroke-linejoin=\"round\"/>",
            svg_points(path),
            paint("stroke", style.color()),
            style.stroke_width()
        );
        Ok(())
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        (x, y): BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if style.color().alpha <= 0.0 {
            return Ok(());
        }
        let paint_attrs = if fill {
            paint("fill", style.color())
        } else {
            format!(
                "fill=\"none\" {} stroke-width=\"{}\"",
                paint("stroke", style.color()),
                style.stroke_width()
            )
        };
        let _ = writeln!(
            self.body,
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"{radius}\" {paint_attrs}/>"
        );
        Ok(())
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        if style.color().alpha <= 0.0 {
            return Ok(());
        }
        let _ = writeln!(
            self.body,
            "<polygon points=\"{}\" {}/>",
            svg_points(vert),
            paint("fill", style.color())
        );
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<SvgError>> {
        text::text_size(text, style.size()).map_err(font_error)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        s: &str,
        style: &TStyle,
        (x, y): BackendCoord,
    ) -> Result<(), DrawingErrorKind<SvgError>> {
        let color = style.color();
        if color.alpha <= 0.0 || s.trim().is_empty() {
            return Ok(());
        }
        let font = text::font().map_err(font_error)?;
        let run = text::layout(font, s, style.size());
        let q = text::quarter_turns(&style.transform());
        let anchor = style.anchor();
        // The baseline sits where the layout puts it; the horizontal anchor is left to the
        // viewer (`text-anchor`), so a label stays aligned even if its width differs a little.
        let (_, by) = text::baseline_offset(&run, anchor);
        let h = match anchor.h_pos {
            HPos::Left => "start",
            HPos::Center => "middle",
            HPos::Right => "end",
        };
        // CSS sizes a font by its em; the layout by ascent + descent.
        let em = ab_glyph::Font::units_per_em(font).unwrap_or(1000.0) * run.scale;
        let rotate = if q == 0 {
            String::new()
        } else {
            format!(" transform=\"rotate({} {x} {y})\"", u32::from(q) * 90)
        };
        self.chars.extend(s.chars());
        let _ = writeln!(
            self.body,
            "<text x=\"{x}\" y=\"{:.2}\" font-family=\"{}, sans-serif\" font-size=\"{em:.2}\" text-anchor=\"{h}\" {}{rotate}>{}</text>",
            f64::from(y) + f64::from(by),
            text::FONT_FAMILY,
            paint("fill", color),
            xml_escape(s)
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn svg_text_is_real_text_in_an_embedded_subset_font() {
        let mut svg = String::new();
        {
            let area = SvgCanvas::new(&mut svg, (200, 100)).into_drawing_area();
            area.fill(&WHITE).unwrap();
            area.draw(&Text::new("安徽 & 浙江", (10, 10), ("sans-serif", 20)))
                .unwrap();
            area.present().unwrap();
        }
        assert!(svg.contains(">安徽 &amp; 浙江</text>"), "{svg}");
        assert_eq!(svg.matches("<text ").count(), 1);
        assert!(svg.contains("@font-face") && svg.contains("data:font/ttf;base64,"));
        // The embedded font is a subset, far smaller than the 3 MB font.
        assert!(svg.len() < 150_000, "{} bytes", svg.len());
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn png_text_draws_ink_where_anchored() {
        let (w, h) = (200u32, 60u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let area = PngCanvas::new(&mut buf, (w, h)).into_drawing_area();
            area.draw(&Text::new("安徽", (100, 10), ("sans-serif", 30)))
                .unwrap();
            area.present().unwrap();
        }
        let dark = |x: u32, y: u32| buf[((y * w + x) * 3) as usize] < 128;
        let ink_right = (100..w).flat_map(|x| (0..h).map(move |y| (x, y)));
        let n_right = ink_right.filter(|&(x, y)| dark(x, y)).count();
        let n_left = (0..95u32)
            .flat_map(|x| (0..h).map(move |y| (x, y)))
            .filter(|&(x, y)| dark(x, y))
            .count();
        assert!(n_right > 100, "{n_right}");
        assert_eq!(n_left, 0);
    }
}
