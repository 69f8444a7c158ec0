//! Chinese text in figures: titles and labels in Chinese must render
//! as real glyphs from the embedded font, in PNG and in SVG, without any system font.
//!
//! The PNG checks compare pixel regions of the same chart rendered three ways: with Chinese
//! text, with the same number of characters the font lacks (what a missing font produces:
//! `.notdef` boxes or nothing), and with no text. Chinese text must put ink in the region and
//! differ from both; two different Chinese strings must differ from each other, so identical
//! boxes for every character would also fail.

use ecocomp::plots::{
    BoxStats, Chart, IntervalChart, IntervalSeries, Orientation, PlotFormat, Rendered,
    render_sized, text::has_glyph,
};

const SIZE: (u32, u32) = (1200, 800);
/// Title band: the title is drawn 10 px from the top at 28 px.
const TITLE_ROWS: std::ops::Range<u32> = 0..46;
/// A character the embedded font does not have (private use area).
const MISSING: char = '\u{E000}';

fn stats(m: f64) -> BoxStats {
    BoxStats {
        p05: m * 0.6,
        p25: m * 0.8,
        p50: m,
        p75: m * 1.2,
        p95: m * 1.5,
        point: Some(m * 1.05),
    }
}

fn chart(title: &str, categories: &[&str]) -> Chart {
    Chart::Interval(IntervalChart {
        title: title.to_string(),
        value_label: "allocation (万元)".into(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        series: vec![
            IntervalSeries {
                name: "baseline".into(),
                items: (0..categories.len())
                    .map(|i| Some(stats(100.0 + 40.0 * i as f64)))
                    .collect(),
            },
            IntervalSeries {
                name: "按面积".into(),
                items: (0..categories.len())
                    .map(|i| Some(stats(120.0 + 30.0 * i as f64)))
                    .collect(),
            },
        ],
        orientation: Orientation::Vertical,
        reference: Vec::new(),
    })
}

fn missing_like(s: &str) -> String {
    s.chars()
        .map(|c| if c == ' ' { ' ' } else { MISSING })
        .collect()
}

struct Image {
    w: u32,
    rgb: Vec<u8>,
}

fn decode(r: &Rendered) -> Image {
    let bytes = r.png.as_ref().expect("png requested");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.as_slice()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!((info.width, info.height), SIZE);
    buf.truncate(info.buffer_size());
    Image {
        w: info.width,
        rgb: buf,
    }
}

impl Image {
    fn px(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.w + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
    /// Pixels darker than mid-grey in the rows `rows` (text is black on white).
    fn ink(&self, rows: std::ops::Range<u32>) -> usize {
        rows.flat_map(|y| (0..self.w).map(move |x| (x, y)))
            .filter(|&(x, y)| self.px(x, y).iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 128)
            .count()
    }
    fn differing(&self, other: &Image, rows: std::ops::Range<u32>) -> usize {
        rows.flat_map(|y| (0..self.w).map(move |x| (x, y)))
            .filter(|&(x, y)| self.px(x, y) != other.px(x, y))
            .count()
    }
}

fn png_of(c: &Chart) -> Image {
    decode(&render_sized(c, PlotFormat::Png, SIZE).unwrap())
}

#[test]
fn test_characters_are_in_the_font_and_the_missing_one_is_not() {
    for c in "安徽浙江黑龙江按面积万元".chars() {
        assert!(has_glyph(c), "font lacks {c}");
    }
    assert!(!has_glyph(MISSING));
}

#[test]
fn chinese_title_renders_glyphs_not_missing_glyph_boxes() {
    let cats = ["安徽", "浙江", "黑龙江"];
    let title = "安徽 浙江 黑龙江 生态补偿分配";
    let cjk = png_of(&chart(title, &cats));
    let missing = png_of(&chart(&missing_like(title), &cats));
    // Same layout, no ink: a title of spaces.
    let blank = png_of(&chart(&" ".repeat(title.chars().count()), &cats));
    let other = png_of(&chart("江西 湖南 云南 四川 生态补偿分配", &cats));

    let ink = cjk.ink(TITLE_ROWS);
    assert!(ink > 400, "Chinese title leaves only {ink} dark pixels");
    assert_eq!(
        blank.ink(TITLE_ROWS),
        0,
        "the title band is empty without a title"
    );
    let vs_missing = cjk.differing(&missing, TITLE_ROWS);
    assert!(
        vs_missing > 400,
        "title differs from the missing-glyph rendering in only {vs_missing} pixels"
    );
    let vs_other = cjk.differing(&other, TITLE_ROWS);
    assert!(
        vs_other > 400,
        "different Chinese titles differ in only {vs_other} pixels"
    );
}

#[test]
fn chinese_category_labels_render_glyphs() {
    let title = "Allocation";
    let cats = ["安徽", "浙江", "黑龙江"];
    let missing_cats: Vec<String> = cats.iter().map(|c| missing_like(c)).collect();
    let missing_refs: Vec<&str> = missing_cats.iter().map(String::as_str).collect();
    let cjk = png_of(&chart(title, &cats));
    let missing = png_of(&chart(title, &missing_refs));
    // Vertical layout: category labels sit in the bottom label band (the category axis has
    // no title), between the plot area's bottom edge and the margin.
    let rows = SIZE.1 - 50..SIZE.1 - 16;
    let ink = cjk.ink(rows.clone());
    assert!(ink > 150, "category labels leave only {ink} dark pixels");
    let diff = cjk.differing(&missing, rows);
    assert!(
        diff > 150,
        "labels differ from missing glyphs in only {diff} pixels"
    );
    // Everything above the label band (boxes, title) is identical: only the labels changed.
    assert_eq!(cjk.differing(&missing, 0..SIZE.1 - 60), 0);
}

/// The size of the font an SVG embeds, in base64 characters.
fn embedded_font_len(svg: &str) -> usize {
    let start = svg.find("data:font/ttf;base64,").expect("an embedded font") + 21;
    svg[start..].find(')').unwrap()
}

#[test]
fn svg_carries_the_text_as_text_and_its_font() {
    let title = "安徽 浙江 黑龙江 生态补偿分配";
    let r = render_sized(
        &chart(title, &["安徽", "浙江", "黑龙江"]),
        PlotFormat::Svg,
        SIZE,
    )
    .unwrap();
    let svg = r.svg.unwrap();
    // Real text: searchable, selectable and editable in a drawing program.
    assert!(svg.contains(&format!(">{title}</text>")), "title text kept");
    assert!(svg.contains(">黑龙江</text>"), "category label kept");
    assert!(
        svg.contains("font-family=\"ecocomp-cjk"),
        "set in the embedded font"
    );
    assert_eq!(svg.matches("@font-face").count(), 1);
    // The font is cut down to the characters used: far below the 3 MB font.
    assert!(
        embedded_font_len(&svg) < 200_000,
        "{}",
        embedded_font_len(&svg)
    );
}

#[test]
fn svg_of_missing_characters_embeds_a_smaller_font() {
    // The check above can fail: text made only of characters the font lacks adds no glyph
    // to the embedded font.
    let r = render_sized(&chart(&missing_like("安徽"), &["a"]), PlotFormat::Svg, SIZE).unwrap();
    let with = render_sized(&chart("安徽", &["a"]), PlotFormat::Svg, SIZE).unwrap();
    let missing = embedded_font_len(&r.svg.unwrap());
    let cjk = embedded_font_len(&with.svg.unwrap());
    assert!(cjk > missing, "{cjk} vs {missing}");
}
