//! Winners and losers: one row per category (region), a bar from zero to its change in
//! one colour for gains and another for losses, the change's interval as a whisker and a
//! dot at the change, and the change written at the bar's end in money and in percent.
//! Rows come in the caller's order (sorted by the signed change, so the winners sit on
//! top and the losers at the bottom), and a tag such as "cap" marks a row whose amount a
//! cap or a floor decides.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, at, cat_pos, category_chart, value_rule};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, PALETTE, check_finite, draw_err, extent, font, header,
    height_for_rows, invalid,
};

/// The change of one category.
#[derive(Debug, Clone)]
pub struct Change {
    pub label: String,
    pub change: f64,
    /// The change's interval (e.g. 90% over the draws); equal to `change` without one.
    pub lo: f64,
    pub hi: f64,
    /// The change relative to the baseline amount, when the baseline is not zero.
    pub relative: Option<f64>,
    /// A short note written after the values, e.g. "cap" or "floor".
    pub tag: String,
}

/// A diverging chart of changes.
#[derive(Debug, Clone)]
pub struct DivergingChart {
    pub title: String,
    pub value_label: String,
    /// What the whisker is, for the legend (e.g. "90% interval over draws").
    pub interval_label: String,
    pub items: Vec<Change>,
}

const CHART: &str = "winners and losers";

/// Gains in bluish green and losses in vermillion: the pair of the Okabe–Ito palette that
/// stays apart for every common colour-vision deficiency.
pub const GAIN: RGBColor = PALETTE[2];
pub const LOSS: RGBColor = PALETTE[3];

impl DivergingChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        height_for_rows(self.items.len(), LABEL_PX as u32 + 8, 150)
    }

    fn validate(&self) -> Result<(f64, f64), PlotError> {
        if self.items.is_empty() {
            return Err(invalid(CHART, "needs at least one row"));
        }
        for c in &self.items {
            for v in [c.change, c.lo, c.hi] {
                check_finite(CHART, &c.label, v)?;
            }
        }
        let all = self.items.iter().flat_map(|c| [c.lo, c.hi, c.change]);
        let (lo, hi) = extent(all.chain([0.0])).unwrap_or((0.0, 1.0));
        // Room for the value labels on both sides.
        let pad = 0.28 * (hi - lo).max(f64::MIN_POSITIVE);
        Ok((
            if lo < 0.0 { lo - pad } else { lo },
            if hi > 0.0 { hi + pad } else { hi },
        ))
    }

    /// The label written at a row's end: "+3.1 (+12%; 90% +5…+19%) · cap": the change in
    /// money and in percent of the baseline's amount, with the percent interval (the money
    /// interval scaled by the same base) when the draws give one.
    fn value_text(c: &Change) -> String {
        let mut s = crate::numfmt::display_signed(c.change);
        if let Some(r) = c.relative.filter(|r| r.is_finite()) {
            s.push_str(&format!(
                " ({}{:.0}%",
                if r > 0.0 { "+" } else { "" },
                100.0 * r
            ));
            // relative = change / base, so the base's reciprocal is relative / change.
            if c.change != 0.0 {
                let k = 100.0 * r / c.change;
                let (a, b) = ((c.lo * k).min(c.hi * k), (c.lo * k).max(c.hi * k));
                if a.is_finite() && b.is_finite() && b > a {
                    // A bound that rounds to zero reads "0", not "-0".
                    let pct = |x: f64| {
                        if x.abs() < 0.5 {
                            "0".to_string()
                        } else {
                            format!("{x:+.0}")
                        }
                    };
                    s.push_str(&format!("; 90% {}…{}%", pct(a), pct(b)));
                }
            }
            s.push(')');
        }
        if !c.tag.is_empty() {
            s.push_str(" · ");
            s.push_str(&c.tag);
        }
        s
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let range = self.validate()?;
        let legend = vec![
            LegendEntry::new("gains", GAIN, Mark::Swatch),
            LegendEntry::new("losses", LOSS, Mark::Swatch),
            LegendEntry::new(
                self.interval_label.clone(),
                RGBColor(0x33, 0x33, 0x33),
                Mark::Line,
            ),
        ];
        let area = header(root, &self.title, &legend)?;
        let categories: Vec<String> = self.items.iter().map(|c| c.label.clone()).collect();
        let spec = CatSpec {
            categories: &categories,
            horizontal: true,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.items.len();
        let hw = 0.32;
        let ink = RGBColor(0x33, 0x33, 0x33);
        for (i, c) in self.items.iter().enumerate() {
            let y = cat_pos(i, n, true);
            let color = if c.change >= 0.0 { GAIN } else { LOSS };
            chart
                .draw_series([
                    Rectangle::new(
                        [at(true, 0.0, y - hw), at(true, c.change, y + hw)],
                        color.mix(0.55).filled(),
                    )
                    .into_dyn(),
                    PathElement::new(vec![(c.lo, y), (c.hi, y)], ink.stroke_width(2)).into_dyn(),
                    Circle::new((c.change, y), 4, color.filled()).into_dyn(),
                ])
                .map_err(draw_err)?;
            let text = Self::value_text(c);
            let right = c.change >= 0.0;
            let end = if right {
                c.hi.max(c.change)
            } else {
                c.lo.min(c.change)
            };
            let w = super::text::text_size(&text, LABEL_PX)?.0 as i32;
            let dx = if right { 6 } else { -6 - w };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((end, y))
                        + Text::new(text, (dx, -(LABEL_PX as i32) / 2), font(LABEL_PX)),
                ))
                .map_err(draw_err)?;
        }
        value_rule(&mut chart, n, true, 0.0, BLACK.stroke_width(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(v: f64) -> Change {
        Change {
            label: "a".into(),
            change: v,
            lo: v - 1.0,
            hi: v + 1.0,
            relative: Some(v / 20.0),
            tag: String::new(),
        }
    }

    #[test]
    fn labels_carry_sign_percent_and_tag() {
        let mut c = change(-13.9);
        c.relative = Some(-0.76);
        c.tag = "cap".into();
        assert_eq!(
            DivergingChart::value_text(&c),
            "-13.9 (-76%; 90% -81…-71%) · cap"
        );
        assert_eq!(
            DivergingChart::value_text(&change(2.0)),
            "+2 (+10%; 90% +5…+15%)"
        );
        // Without an interval (no draws) only the point change is given.
        let mut c = change(2.0);
        (c.lo, c.hi) = (2.0, 2.0);
        assert_eq!(DivergingChart::value_text(&c), "+2 (+10%)");
    }

    #[test]
    fn range_spans_zero_and_the_intervals() {
        let c = DivergingChart {
            title: String::new(),
            value_label: String::new(),
            interval_label: String::new(),
            items: vec![change(3.0), change(-5.0)],
        };
        let (lo, hi) = c.validate().unwrap();
        assert!(lo < -6.0 && hi > 4.0);
        let empty = DivergingChart {
            items: Vec::new(),
            ..c
        };
        assert!(empty.validate().is_err());
    }
}
