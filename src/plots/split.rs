//! Signed bars split into parts (for a basin party and period: the horizontal money and
//! the central money), one row per category, with the total written at the bar's end and a
//! heavy line at zero, so who pays and who receives reads at a glance.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, at, cat_pos, category_chart, value_rule};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, check_finite, draw_err, extent, font, header, height_for_rows,
    invalid, series_color,
};

/// One part of every bar, e.g. "central funds".
#[derive(Debug, Clone)]
pub struct BarPart {
    pub name: String,
    pub values: Vec<f64>,
}

/// Bars per category, each the sum of its parts; positive parts stack right of zero and
/// negative parts left of it.
#[derive(Debug, Clone)]
pub struct SplitBarChart {
    pub title: String,
    pub value_label: String,
    pub categories: Vec<String>,
    pub parts: Vec<BarPart>,
}

const CHART: &str = "split bars";

impl SplitBarChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        height_for_rows(self.categories.len(), LABEL_PX as u32 + 16, 160)
    }

    /// The extent of the stacks, zero included.
    fn validate(&self) -> Result<(f64, f64), PlotError> {
        if self.categories.is_empty() || self.parts.is_empty() {
            return Err(invalid(CHART, "needs at least one category and one part"));
        }
        for p in &self.parts {
            if p.values.len() != self.categories.len() {
                return Err(invalid(
                    CHART,
                    format!("part '{}' has a wrong length", p.name),
                ));
            }
            for v in &p.values {
                check_finite(CHART, &p.name, *v)?;
            }
        }
        let (pos, neg) = self.stacks();
        let (lo, hi) = extent(pos.into_iter().chain(neg).chain([0.0])).unwrap_or((0.0, 1.0));
        // Room for the total's label beyond the longest bar.
        let pad = 0.12 * (hi - lo).max(f64::MIN_POSITIVE);
        Ok((if lo < 0.0 { lo - pad } else { lo }, hi + pad))
    }

    /// Per category, the sum of the positive parts and of the negative parts.
    fn stacks(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.categories.len();
        let sum = |keep: fn(f64) -> bool| -> Vec<f64> {
            (0..n)
                .map(|i| {
                    self.parts
                        .iter()
                        .map(|p| p.values[i])
                        .filter(|v| keep(*v))
                        .sum()
                })
                .collect()
        };
        (sum(|v| v > 0.0), sum(|v| v < 0.0))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let range = self.validate()?;
        let legend: Vec<LegendEntry> = self
            .parts
            .iter()
            .enumerate()
            .map(|(j, p)| LegendEntry::new(p.name.clone(), series_color(j), Mark::Swatch))
            .collect();
        let area = header(root, &self.title, &legend)?;
        let spec = CatSpec {
            categories: &self.categories,
            horizontal: true,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.categories.len();
        let hw = 0.34;
        for i in 0..n {
            let c = cat_pos(i, n, true);
            let (mut up, mut down) = (0.0, 0.0);
            for (j, p) in self.parts.iter().enumerate() {
                let v = p.values[i];
                let (a, b) = if v >= 0.0 {
                    up += v;
                    (up - v, up)
                } else {
                    down += v;
                    (down - v, down)
                };
                if v != 0.0 {
                    let rect = [at(true, a, c - hw), at(true, b, c + hw)];
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            rect,
                            series_color(j).filled(),
                        )))
                        .map_err(draw_err)?;
                }
            }
            let total = up + down;
            let end = if total >= 0.0 { up } else { down };
            let label = crate::numfmt::display(total);
            let dx = if total >= 0.0 {
                6
            } else {
                -6 - label_width(&label)?
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(at(true, end, c))
                        + Text::new(label, (dx, -(LABEL_PX as i32) / 2), font(LABEL_PX)),
                ))
                .map_err(draw_err)?;
        }
        value_rule(&mut chart, n, true, 0.0, BLACK.stroke_width(2))
    }
}

fn label_width(s: &str) -> Result<i32, PlotError> {
    Ok(super::text::text_size(s, LABEL_PX)?.0 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_split_signs_and_range_keeps_zero() {
        let c = SplitBarChart {
            title: String::new(),
            value_label: String::new(),
            categories: vec!["a".into(), "b".into()],
            parts: vec![
                BarPart {
                    name: "h".into(),
                    values: vec![3.0, -2.0],
                },
                BarPart {
                    name: "c".into(),
                    values: vec![9.0, 0.0],
                },
            ],
        };
        let (pos, neg) = c.stacks();
        assert_eq!(pos, vec![12.0, 0.0]);
        assert_eq!(neg, vec![0.0, -2.0]);
        let (lo, hi) = c.validate().unwrap();
        assert!(lo < -2.0 && hi > 12.0);
        let mut bad = c.clone();
        bad.parts[0].values.pop();
        assert!(bad.validate().is_err());
    }
}
