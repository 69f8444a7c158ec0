//! A waterfall: how an amount is built, step by step. Each step is a bar floating from
//! the running total before it to the total after it (gains in green, cuts in vermillion),
//! and subtotals stand on zero in blue, each with its value written above it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, at, cat_pos, category_chart, value_rule};
use super::diverging::{GAIN, LOSS};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, PALETTE, check_finite, draw_err, extent, font, header, invalid,
};

/// One step: a change of the running total, or a subtotal shown from zero.
#[derive(Debug, Clone)]
pub struct Step {
    pub label: String,
    pub value: f64,
    /// A subtotal: `value` is the running total itself, drawn from zero.
    pub subtotal: bool,
}

/// A waterfall of steps, left to right.
#[derive(Debug, Clone)]
pub struct WaterfallChart {
    pub title: String,
    pub value_label: String,
    pub steps: Vec<Step>,
}

const CHART: &str = "waterfall";

impl WaterfallChart {
    /// Per step, the bar's two ends.
    fn spans(&self) -> Vec<(f64, f64)> {
        let mut total = 0.0;
        self.steps
            .iter()
            .map(|s| {
                if s.subtotal {
                    total = s.value;
                    (0.0, s.value)
                } else {
                    let from = total;
                    total += s.value;
                    (from, total)
                }
            })
            .collect()
    }

    fn validate(&self) -> Result<(f64, f64), PlotError> {
        if self.steps.is_empty() {
            return Err(invalid(CHART, "needs at least one step"));
        }
        for s in &self.steps {
            check_finite(CHART, &s.label, s.value)?;
        }
        let all = self.spans().into_iter().flat_map(|(a, b)| [a, b]);
        let (lo, hi) = extent(all.chain([0.0])).unwrap_or((0.0, 1.0));
        let pad = 0.1 * (hi - lo).max(f64::MIN_POSITIVE);
        Ok((if lo < 0.0 { lo - pad } else { lo }, hi + pad))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let range = self.validate()?;
        let legend = vec![
            LegendEntry::new("adds", GAIN, Mark::Swatch),
            LegendEntry::new("removes", LOSS, Mark::Swatch),
            LegendEntry::new("subtotal", PALETTE[0], Mark::Swatch),
        ];
        let area = header(root, &self.title, &legend)?;
        let categories: Vec<String> = self.steps.iter().map(|s| s.label.clone()).collect();
        let spec = CatSpec {
            categories: &categories,
            horizontal: false,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.steps.len();
        for (i, (s, (a, b))) in self.steps.iter().zip(self.spans()).enumerate() {
            let c = cat_pos(i, n, false);
            let color = if s.subtotal {
                PALETTE[0]
            } else if s.value >= 0.0 {
                GAIN
            } else {
                LOSS
            };
            let text = if s.subtotal {
                crate::numfmt::display(s.value)
            } else {
                crate::numfmt::display_signed(s.value)
            };
            let w = super::text::text_size(&text, LABEL_PX)?.0 as i32;
            let bar = [at(false, a, c - 0.35), at(false, b, c + 0.35)];
            let above = (-w / 2, -(LABEL_PX as i32) - 4);
            chart
                .draw_series(std::iter::once(Rectangle::new(bar, color.filled())))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((c, a.max(b))) + Text::new(text, above, font(LABEL_PX)),
                ))
                .map_err(draw_err)?;
        }
        value_rule(&mut chart, n, false, 0.0, BLACK.stroke_width(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_run_from_total_to_total_and_subtotals_from_zero() {
        let step = |label: &str, value: f64, subtotal: bool| Step {
            label: label.into(),
            value,
            subtotal,
        };
        let c = WaterfallChart {
            title: String::new(),
            value_label: String::new(),
            steps: vec![
                step("K", 10.0, false),
                step("PA", 2.0, false),
                step("S", 12.0, true),
                step("cut", -3.0, false),
                step("final", 9.0, true),
            ],
        };
        assert_eq!(
            c.spans(),
            vec![
                (0.0, 10.0),
                (10.0, 12.0),
                (0.0, 12.0),
                (12.0, 9.0),
                (0.0, 9.0)
            ]
        );
        let (lo, hi) = c.validate().unwrap();
        assert!(lo <= 0.0 && hi > 12.0);
    }
}
