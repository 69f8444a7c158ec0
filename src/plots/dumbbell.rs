//! Baseline → alternative per category: two dots joined by a line (a dumbbell), each dot
//! with its interval as a thin whisker just above or below the line, so the move and its
//! uncertainty read together.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{CatSpec, cat_pos, category_chart};
use super::frame::{
    LABEL_PX, LegendEntry, Mark, check_finite, draw_err, extent, header, height_for_rows, invalid,
    series_color,
};

/// A value with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranged {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Two values per category: `from` (the baseline) and `to`.
#[derive(Debug, Clone)]
pub struct DumbbellChart {
    pub title: String,
    pub value_label: String,
    pub from_name: String,
    pub to_name: String,
    pub categories: Vec<String>,
    pub from: Vec<Ranged>,
    pub to: Vec<Ranged>,
}

const CHART: &str = "dumbbell";

impl DumbbellChart {
    pub(crate) fn preferred_height(&self) -> u32 {
        height_for_rows(self.categories.len(), LABEL_PX as u32 + 10, 150)
    }

    fn validate(&self) -> Result<(f64, f64), PlotError> {
        let n = self.categories.len();
        if n == 0 || self.from.len() != n || self.to.len() != n {
            return Err(invalid(CHART, "needs one value of each side per category"));
        }
        for r in self.from.iter().chain(&self.to) {
            for v in [r.value, r.lo, r.hi] {
                check_finite(CHART, "a value", v)?;
            }
        }
        let all = self
            .from
            .iter()
            .chain(&self.to)
            .flat_map(|r| [r.lo, r.hi, r.value]);
        extent(all).ok_or_else(|| invalid(CHART, "no values"))
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let range = self.validate()?;
        let (cf, ct) = (series_color(0), series_color(1));
        let legend = vec![
            LegendEntry::new(self.from_name.clone(), cf, Mark::Dot),
            LegendEntry::new(self.to_name.clone(), ct, Mark::Dot),
            LegendEntry::new(
                "90% interval over draws",
                RGBColor(0x55, 0x55, 0x55),
                Mark::Line,
            ),
        ];
        let area = header(root, &self.title, &legend)?;
        let spec = CatSpec {
            categories: &self.categories,
            horizontal: true,
            value_range: range,
            value_label: &self.value_label,
        };
        let mut chart = category_chart(&area, &spec)?;
        let n = self.categories.len();
        for i in 0..n {
            let y = cat_pos(i, n, true);
            let (f, t) = (self.from[i], self.to[i]);
            chart
                .draw_series([
                    PathElement::new(
                        vec![(f.value, y), (t.value, y)],
                        RGBColor(0x99, 0x99, 0x99).stroke_width(3),
                    )
                    .into_dyn(),
                    PathElement::new(vec![(f.lo, y + 0.18), (f.hi, y + 0.18)], cf.stroke_width(2))
                        .into_dyn(),
                    PathElement::new(vec![(t.lo, y - 0.18), (t.hi, y - 0.18)], ct.stroke_width(2))
                        .into_dyn(),
                    Circle::new((f.value, y), 5, cf.filled()).into_dyn(),
                    Circle::new((t.value, y), 5, ct.filled()).into_dyn(),
                ])
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_needs_both_sides() {
        let r = Ranged {
            value: 1.0,
            lo: 0.5,
            hi: 2.0,
        };
        let mut c = DumbbellChart {
            title: String::new(),
            value_label: String::new(),
            from_name: "a".into(),
            to_name: "b".into(),
            categories: vec!["x".into()],
            from: vec![r],
            to: vec![Ranged { value: 3.0, ..r }],
        };
        assert_eq!(c.validate().unwrap(), (0.5, 3.0));
        c.to.clear();
        assert!(c.validate().is_err());
    }
}
