//! Text layout with the embedded CJK font.
//!
//! Every figure draws its text with one font compiled into the binary (WenQuanYi Micro Hei,
//! Apache-2.0, see `assets/fonts/README.md`), so Chinese region names render on a machine
//! with no CJK system font. The same layout feeds both backends: the PNG backend rasterises
//! the glyph outlines, the SVG backend places `<text>` by it and embeds the font cut down to
//! the characters used ([`subset_font`]). Plotters' own ab_glyph text path
//! is not used for drawing because it puts the baseline at half the font size inside a box
//! of 0.8 × size, which draws CJK glyphs above their layout box; the font is still registered
//! with plotters ([`register_with_plotters`]) so any plotters code that measures text by
//! family name finds it.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, point};
use plotters_backend::FontTransform;
use plotters_backend::text_anchor::{HPos, Pos, VPos};

use super::PlotError;

/// The embedded font: a subset of WenQuanYi Micro Hei covering ASCII, Latin-1, common
/// punctuation and symbols, and all CJK Unified Ideographs U+4E00–U+9FFF.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei-subset.ttf");

/// The embedded CJK font (TrueType), for other outputs that must render Chinese text on a
/// machine without CJK fonts (report.html embeds it as a web font).
pub fn font_bytes() -> &'static [u8] {
    FONT_BYTES
}

/// The family name under which the font is registered with plotters, which chart code
/// passes in its text styles, and under which SVG figures and report.html declare it.
pub const FONT_FAMILY: &str = "ecocomp-cjk";

/// The embedded font cut down to `chars` (plus printable ASCII, so digits and labels added
/// later by a viewer still render), as TrueType bytes. The whole font is 3 MB; a page or a
/// figure uses a few hundred of its 21,000 glyphs, so embedding only those keeps a report
/// small enough to mail.
pub fn subset_font(chars: impl IntoIterator<Item = char>) -> Result<Vec<u8>, PlotError> {
    let mut keep: std::collections::BTreeSet<char> = (' '..='~').collect();
    keep.extend(chars.into_iter().filter(|c| !c.is_control()));
    let reader = font_subset::FontReader::new(FONT_BYTES).map_err(|_| PlotError::Font)?;
    let font = reader.read().map_err(|_| PlotError::Font)?;
    let subset = font.subset(&keep).map_err(|_| PlotError::Font)?;
    Ok(subset.to_opentype())
}

/// A CSS `@font-face` rule declaring [`FONT_FAMILY`] as the embedded font cut down to
/// `chars`, as a data URI (no network request).
pub fn font_face_css(chars: impl IntoIterator<Item = char>) -> Result<String, PlotError> {
    Ok(format!(
        "@font-face {{ font-family: '{FONT_FAMILY}'; src: url(data:font/ttf;base64,{}) format('truetype'); }}",
        base64(&subset_font(chars)?)
    ))
}

/// Standard base64 (RFC 4648) with padding, for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The parsed embedded font, shared by all renders.
pub(crate) fn font() -> Result<&'static FontRef<'static>, PlotError> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or(PlotError::Font)
}

/// Registers the embedded font with plotters' ab_glyph font table under [`FONT_FAMILY`].
/// Idempotent.
pub(crate) fn register_with_plotters() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, plotters::style::FontStyle::Normal, FONT_BYTES)
            .is_ok()
    });
    if *ok { Ok(()) } else { Err(PlotError::Font) }
}

/// Whether the embedded font has a real glyph for `c` (not the missing-glyph box).
pub fn has_glyph(c: char) -> bool {
    font().is_ok_and(|f| f.glyph_id(c) != GlyphId(0))
}

/// A line of text laid out at one font size, in pixels, before anchoring and rotation.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// Each glyph and the x of its origin on the baseline.
    pub glyphs: Vec<(GlyphId, f32)>,
    /// Advance width of the whole line.
    pub width: f32,
    /// Distance from the top of the line box to the baseline.
    pub ascent: f32,
    /// Height of the line box (the font size).
    pub height: f32,
    /// Pixels per font unit.
    pub scale: f32,
}

/// Lays out one line of text at `size` pixels (ascent + descent = `size`).
pub(crate) fn layout(font: &FontRef<'_>, text: &str, size: f64) -> Run {
    let size = size as f32;
    let scale = size / font.height_unscaled();
    let mut glyphs = Vec::with_capacity(text.len());
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars().filter(|c| !c.is_control()) {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += font.kern_unscaled(p, id) * scale;
        }
        glyphs.push((id, x));
        x += font.h_advance_unscaled(id) * scale;
        prev = Some(id);
    }
    Run {
        glyphs,
        width: x,
        ascent: font.ascent_unscaled() * scale,
        height: size,
        scale,
    }
}

/// Size of the layout box in pixels, as plotters expects from `estimate_text_size`
/// (unrotated: plotters rotates the box itself).
pub(crate) fn text_size(text: &str, size: f64) -> Result<(u32, u32), PlotError> {
    let run = layout(font()?, text, size);
    Ok((run.width.ceil().max(0.0) as u32, run.height.ceil() as u32))
}

/// Quarter turns clockwise (in screen coordinates, y down) for a plotters font transform.
pub(crate) fn quarter_turns(t: &FontTransform) -> u8 {
    match t {
        FontTransform::None => 0,
        FontTransform::Rotate90 => 1,
        FontTransform::Rotate180 => 2,
        FontTransform::Rotate270 => 3,
    }
}

/// Offset from the anchor point to the left end of the baseline, in unrotated text
/// coordinates.
pub(crate) fn baseline_offset(run: &Run, anchor: Pos) -> (f32, f32) {
    let dx = match anchor.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -run.width / 2.0,
        HPos::Right => -run.width,
    };
    let dy = match anchor.v_pos {
        VPos::Top => 0.0,
        VPos::Center => -run.height / 2.0,
        VPos::Bottom => -run.height,
    };
    (dx, dy + run.ascent)
}

/// Rasterises a laid-out run: calls `pixel(x, y, coverage)` with device coordinates for every
/// covered pixel. `pos` is the anchor point, `q` the quarter turns.
pub(crate) fn rasterise(
    font: &FontRef<'_>,
    run: &Run,
    size: f64,
    pos: (i32, i32),
    anchor: Pos,
    q: u8,
    mut pixel: impl FnMut(i32, i32, f32),
) {
    let (bx, by) = baseline_offset(run, anchor);
    let scale = PxScale::from(size as f32);
    for &(id, gx) in &run.glyphs {
        let glyph = id.with_scale_and_position(scale, point(bx + gx, by));
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        let (x0, y0) = (b.min.x as i32, b.min.y as i32);
        outlined.draw(|x, y, c| {
            if c <= 0.0 {
                return;
            }
            let (lx, ly) = (x0 + x as i32, y0 + y as i32);
            // Map the pixel cell [lx, lx+1] × [ly, ly+1] through the rotation.
            let (dx, dy) = match q % 4 {
                0 => (lx, ly),
                1 => (-ly - 1, lx),
                2 => (-lx - 1, -ly - 1),
                _ => (ly, -lx - 1),
            };
            pixel(pos.0 + dx, pos.1 + dy, c.min(1.0));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rotates a point by `q` quarter turns clockwise on screen, the same mapping as
    /// `FontTransform::transform`.
    fn rotate(q: u8, x: f32, y: f32) -> (f32, f32) {
        match q % 4 {
            0 => (x, y),
            1 => (-y, x),
            2 => (-x, -y),
            _ => (y, -x),
        }
    }

    /// All 34 provincial-level names, plus characters from county names that are rare
    /// outside place names.
    const NAMES: &str = "北京天津河北山西内蒙古辽宁吉林黑龙江上海江苏浙江安徽福建江西山东河南湖北湖南\
        广东广西海南重庆四川贵州云南西藏陕西甘肃青海宁夏新疆香港澳门台湾亳濉筠珙邛郫婺";

    #[test]
    fn font_parses_and_covers_region_names() {
        let f = font().unwrap();
        let missing: Vec<char> = NAMES
            .chars()
            .filter(|&c| f.glyph_id(c) == GlyphId(0))
            .collect();
        assert!(missing.is_empty(), "missing glyphs: {missing:?}");
        assert!(has_glyph('A') && has_glyph('0') && has_glyph('%'));
        // A private-use character is not in the font: the missing-glyph case is detectable.
        assert!(!has_glyph('\u{E000}'));
    }

    #[test]
    fn subset_keeps_the_asked_glyphs_and_is_small() {
        let bytes = subset_font("黑龙江安徽".chars()).unwrap();
        assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
        let sub = FontRef::try_from_slice(&bytes).unwrap();
        for c in "黑龙江安徽Az09".chars() {
            let id = sub.glyph_id(c);
            assert_ne!(id, GlyphId(0), "{c} kept");
            assert!(sub.outline(id).is_some(), "{c} has its outline");
        }
        // A character not asked for is left out.
        assert_eq!(sub.glyph_id('新'), GlyphId(0));
        assert!(
            font_face_css("新".chars())
                .unwrap()
                .contains("data:font/ttf;base64,")
        );
    }

    #[test]
    fn registers_with_plotters() {
        register_with_plotters().unwrap();
        register_with_plotters().unwrap();
    }

    #[test]
    fn layout_width_grows_with_text_and_size() {
        let f = font().unwrap();
        let one = layout(f, "安徽", 16.0);
        let two = layout(f, "安徽浙江", 16.0);
        let big = layout(f, "安徽", 32.0);
        assert!(one.width > 0.0);
        assert!(
            (two.width - 2.0 * one.width).abs() < 1.0,
            "CJK glyphs are full-width"
        );
        assert!((big.width - 2.0 * one.width).abs() < 1.0);
        assert!(one.ascent > 0.0 && one.ascent < one.height);
        assert_eq!(text_size("", 16.0).unwrap().0, 0);
    }

    #[test]
    fn rasterise_stays_inside_the_anchored_box() {
        let f = font().unwrap();
        let run = layout(f, "黑龙江", 20.0);
        let anchor = Pos::new(HPos::Left, VPos::Top);
        let (mut n, mut min_x, mut min_y, mut max_x, mut max_y) = (0, i32::MAX, i32::MAX, 0, 0);
        rasterise(f, &run, 20.0, (100, 50), anchor, 0, |x, y, _| {
            n += 1;
            min_x = min_x.min(x);
            min_y = min_y.min(y);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        });
        assert!(n > 50, "glyphs produce ink");
        assert!(min_x >= 99 && min_y >= 49, "({min_x}, {min_y})");
        assert!(max_x <= 100 + run.width.ceil() as i32 && max_y <= 50 + 21);
        // Rotated a quarter turn clockwise, the text runs downwards left of the anchor.
        let (mut rx, mut ry) = (i32::MIN, i32::MIN);
        rasterise(f, &run, 20.0, (100, 50), anchor, 1, |x, y, _| {
            rx = rx.max(x);
            ry = ry.max(y);
        });
        assert!(rx <= 100 && ry > 50 + 40, "({rx}, {ry})");
    }

    #[test]
    fn rotation_matches_plotters() {
        for (q, t) in [
            (0, FontTransform::None),
            (1, FontTransform::Rotate90),
            (2, FontTransform::Rotate180),
            (3, FontTransform::Rotate270),
        ] {
            assert_eq!(quarter_turns(&t), q);
            let (x, y) = t.transform(3, 7);
            let (fx, fy) = rotate(q, 3.0, 7.0);
            assert_eq!((x as f32, y as f32), (fx, fy));
        }
    }
}
