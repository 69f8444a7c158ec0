//! A tile-grid map of China's 31 mainland provinces: one square per province in its
//! approximate place (the layout newspapers use when area would mislead: Tibet and
//! Xinjiang are not thirty times Beijing here), coloured on a diverging scale centred on
//! zero and labelled with the province and its value. It needs no boundary data.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::diverging::{GAIN, LOSS};
use super::frame::{LABEL_PX, check_finite, draw_err, font, header, invalid};

/// Column and row (west to east, north to south) of each province's tile.
pub const PROVINCE_TILES: [(&str, u8, u8); 31] = [
    ("黑龙江", 7, 0),
    ("内蒙古", 4, 1),
    ("北京", 5, 1),
    ("辽宁", 6, 1),
    ("吉林", 7, 1),
    ("新疆", 0, 2),
    ("宁夏", 3, 2),
    ("山西", 4, 2),
    ("河北", 5, 2),
    ("天津", 6, 2),
    ("青海", 1, 3),
    ("甘肃", 2, 3),
    ("陕西", 3, 3),
    ("河南", 4, 3),
    ("山东", 5, 3),
    ("西藏", 0, 4),
    ("四川", 2, 4),
    ("重庆", 3, 4),
    ("湖北", 4, 4),
    ("安徽", 5, 4),
    ("江苏", 6, 4),
    ("上海", 7, 4),
    ("贵州", 3, 5),
    ("湖南", 4, 5),
    ("江西", 5, 5),
    ("浙江", 6, 5),
    ("云南", 2, 6),
    ("广西", 3, 6),
    ("广东", 4, 6),
    ("福建", 5, 6),
    ("海南", 4, 7),
];

/// The tile of a province by its Chinese name (with or without 省, 市 or 自治区 suffixes).
pub fn tile_of(name: &str) -> Option<(u8, u8)> {
    PROVINCE_TILES
        .iter()
        .find(|(p, _, _)| name.starts_with(p))
        .map(|&(_, c, r)| (c, r))
}

/// Values per province, by name.
#[derive(Debug, Clone)]
pub struct TileMapChart {
    pub title: String,
    /// What the colour shows, with its unit (the legend).
    pub value_label: String,
    pub values: Vec<(String, f64)>,
}

const CHART: &str = "tile map";

/// The colour of `v` on a scale from `-max` (vermillion) through white to `+max` (green).
pub(crate) fn diverging_color(v: f64, max: f64) -> RGBColor {
    let t = if max > 0.0 {
        (v / max).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let end = if t >= 0.0 { GAIN } else { LOSS };
    let mix = |c: u8| (255.0 + (f64::from(c) - 255.0) * t.abs()).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

impl TileMapChart {
    fn validate(&self) -> Result<f64, PlotError> {
        let placed = self
            .values
            .iter()
            .filter(|(n, _)| tile_of(n).is_some())
            .count();
        if placed == 0 {
            return Err(invalid(CHART, "no value belongs to a mainland province"));
        }
        for (n, v) in &self.values {
            check_finite(CHART, n, *v)?;
        }
        Ok(self.values.iter().map(|(_, v)| v.abs()).fold(0.0, f64::max))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let max = self.validate()?;
        let area = header(root, &self.title, &[])?;
        let (w, h) = area.dim_in_pixel();
        // Eight columns and eight rows of tiles, with a colour bar below.
        let size = ((w as i32 - 40) / 8).min((h as i32 - 90) / 8).max(10);
        let left = (w as i32 - 8 * size) / 2;
        let top = 10;
        for (name, v) in &self.values {
            let Some((c, r)) = tile_of(name) else {
                continue;
            };
            let (x, y) = (left + i32::from(c) * size, top + i32::from(r) * size);
            let fill = diverging_color(*v, max);
            let label = PROVINCE_TILES
                .iter()
                .find(|(p, _, _)| name.starts_with(p))
                .map_or(name.as_str(), |(p, _, _)| p);
            let value = crate::numfmt::display_signed(round3(*v));
            area.draw(&Rectangle::new(
                [(x + 2, y + 2), (x + size - 2, y + size - 2)],
                fill.filled(),
            ))
            .map_err(draw_err)?;
            area.draw(&Rectangle::new(
                [(x + 2, y + 2), (x + size - 2, y + size - 2)],
                RGBColor(0x88, 0x88, 0x88).stroke_width(1),
            ))
            .map_err(draw_err)?;
            for (k, text) in [label, value.as_str()].into_iter().enumerate() {
                let tw = super::text::text_size(text, LABEL_PX)?.0 as i32;
                let ty = y + size / 2 - LABEL_PX as i32 + k as i32 * (LABEL_PX as i32 + 4) - 2;
                area.draw(&Text::new(
                    text.to_string(),
                    (x + (size - tw) / 2, ty),
                    font(LABEL_PX),
                ))
                .map_err(draw_err)?;
            }
        }
        self.colour_bar(&area, max, (left, top + 8 * size + 20), 8 * size)
    }

    /// The scale: from −max through 0 to +max, with the value label.
    fn colour_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        max: f64,
        (x, y): (i32, i32),
        width: i32,
    ) -> Result<(), PlotError> {
        let steps = 40;
        for k in 0..steps {
            let v = -max + 2.0 * max * (f64::from(k) + 0.5) / f64::from(steps);
            let x0 = x + width * k / steps;
            let x1 = x + width * (k + 1) / steps;
            area.draw(&Rectangle::new(
                [(x0, y), (x1, y + 14)],
                diverging_color(v, max).filled(),
            ))
            .map_err(draw_err)?;
        }
        let labels = [
            (crate::numfmt::display(round3(-max)), x),
            ("0".to_string(), x + width / 2),
            (crate::numfmt::display_signed(round3(max)), x + width),
        ];
        for (text, at) in labels {
            let tw = super::text::text_size(&text, LABEL_PX)?.0 as i32;
            area.draw(&Text::new(text, (at - tw / 2, y + 18), font(LABEL_PX)))
                .map_err(draw_err)?;
        }
        let tw = super::text::text_size(&self.value_label, LABEL_PX)?.0 as i32;
        area.draw(&Text::new(
            self.value_label.clone(),
            (x + (width - tw) / 2, y + 40),
            font(LABEL_PX),
        ))
        .map_err(draw_err)?;
        Ok(())
    }
}

/// Three significant digits: a tile has room for "+17.8", not "+17.8306".
fn round3(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let mag = 10f64.powi(2 - v.abs().log10().floor() as i32);
    (v * mag).round() / mag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_has_its_own_tile() {
        let mut seen = std::collections::HashSet::new();
        for (name, c, r) in PROVINCE_TILES {
            assert!(seen.insert((c, r)), "{name} shares a tile");
            assert!(c < 8 && r < 8);
        }
        assert_eq!(tile_of("新疆维吾尔自治区"), Some((0, 2)));
        assert_eq!(tile_of("黄山市"), None);
    }

    #[test]
    fn scale_is_white_at_zero_and_saturates_at_the_ends() {
        assert_eq!(diverging_color(0.0, 5.0), RGBColor(255, 255, 255));
        assert_eq!(diverging_color(5.0, 5.0), GAIN);
        assert_eq!(diverging_color(-9.0, 5.0), LOSS);
        assert!((round3(17.8306) - 17.8).abs() < 1e-9);
        assert!((round3(-0.0123456) + 0.0123).abs() < 1e-12);
    }
}
