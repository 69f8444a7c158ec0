//! Water-quality classes per period: for each monitoring section and period, a dot on each
//! class the draws reach, sized by the share of draws in it, on a categorical axis from
//! class I (best, at the top) to worse than V, with the section's target and the chance
//! that the period meets it. A class is a category, not a number: a continuous axis would
//! put class II at "2.0" among decimals no reader uses.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::{TickAxis, slot};
use super::frame::{
    AXIS_PX, LABEL_PX, LegendEntry, MARGIN, Mark, draw_err, font, header, invalid, max_label_width,
    series_color,
};

/// The class names from best to worst, GB 3838's I–V and "worse than V".
pub const CLASS_NAMES: [&str; 6] = ["I", "II", "III", "IV", "V", "worse than V"];

/// One section's classes over the periods.
#[derive(Debug, Clone)]
pub struct ClassSeries {
    pub name: String,
    /// Per period, the share of draws in class I … worse than V.
    pub shares: Vec<[f64; 6]>,
    /// The target class (1 = I … 5 = V): met at this class or better.
    pub target: u8,
    /// Per period, the probability that the section meets its target.
    pub p_met: Vec<f64>,
}

/// Class dots per section and period.
#[derive(Debug, Clone)]
pub struct ClassChart {
    pub title: String,
    pub periods: Vec<String>,
    pub series: Vec<ClassSeries>,
}

const CHART: &str = "classes";

/// Axis position of class `c` (1-based): class I on top.
fn class_y(c: usize) -> f64 {
    (7 - c) as f64
}

impl ClassChart {
    fn validate(&self) -> Result<(), PlotError> {
        if self.periods.is_empty() || self.series.is_empty() {
            return Err(invalid(CHART, "needs at least one period and one section"));
        }
        for s in &self.series {
            if s.shares.len() != self.periods.len() || s.p_met.len() != self.periods.len() {
                return Err(invalid(
                    CHART,
                    format!("section '{}' does not have one value per period", s.name),
                ));
            }
            if !(1..=6).contains(&s.target) {
                return Err(invalid(CHART, format!("target class {}", s.target)));
            }
            let all = s.shares.iter().flatten().chain(&s.p_met);
            if all.into_iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(invalid(CHART, format!("section '{}': a share", s.name)));
            }
        }
        Ok(())
    }

    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        self.validate()?;
        let mut legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(j, s)| LegendEntry::new(s.name.clone(), series_color(j), Mark::Dot))
            .collect();
        let mut targets: Vec<u8> = self.series.iter().map(|s| s.target).collect();
        targets.sort_unstable();
        targets.dedup();
        for t in &targets {
            let name = CLASS_NAMES[usize::from(*t) - 1];
            legend.push(LegendEntry::new(
                format!("target: class {name} or better"),
                BLACK,
                Mark::Line,
            ));
        }
        let area = header(root, &self.title, &legend)?;
        let n = self.periods.len();
        let class_w = max_label_width(CLASS_NAMES, LABEL_PX)?;
        let x_axis = TickAxis::new(-0.5..n as f64 - 0.5, (0..n).map(|i| i as f64).collect());
        let y_axis = TickAxis::new(0.5..7.0, (1..=6).map(|c| c as f64).collect());
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .margin_right(2 * MARGIN)
            .x_label_area_size(LABEL_PX as u32 + AXIS_PX as u32 + 30)
            .y_label_area_size(class_w + AXIS_PX as u32 + 32)
            .build_cartesian_2d(x_axis, y_axis)
            .map_err(draw_err)?;
        let periods = &self.periods;
        let xf = |v: &f64| periods.get(v.round() as usize).cloned().unwrap_or_default();
        let yf = |v: &f64| {
            let c = 7 - v.round() as usize;
            CLASS_NAMES
                .get(c.wrapping_sub(1))
                .copied()
                .unwrap_or("")
                .to_string()
        };
        chart
            .configure_mesh()
            .label_style(font(LABEL_PX))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_desc("period")
            .y_desc("water-quality class (GB 3838)")
            .disable_x_mesh()
            .draw()
            .map_err(draw_err)?;
        for t in &targets {
            // Met at the target or better: the line runs between the target and the next
            // worse class.
            let y = class_y(usize::from(*t)) - 0.5;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(-0.5, y), (n as f64 - 0.5, y)],
                    BLACK.stroke_width(2),
                )))
                .map_err(draw_err)?;
        }
        self.draw_dots(&mut chart)
    }

    fn draw_dots<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<TickAxis, TickAxis>>,
    ) -> Result<(), PlotError> {
        let k = self.series.len();
        for (j, s) in self.series.iter().enumerate() {
            let color = series_color(j);
            for (t, shares) in s.shares.iter().enumerate() {
                let x = slot(t as f64, j, k, false);
                for (c, share) in shares.iter().enumerate().filter(|(_, s)| **s > 0.0) {
                    let r = (4.0 + 14.0 * share.sqrt()) as i32;
                    let label = format!("{:.0}%", 100.0 * share);
                    chart
                        .draw_series(std::iter::once(
                            EmptyElement::at((x, class_y(c + 1)))
                                + Circle::new((0, 0), r, color.mix(0.85).filled())
                                + Circle::new((0, 0), r, BLACK.stroke_width(1))
                                + Text::new(label, (r + 4, -(LABEL_PX as i32) / 2), font(LABEL_PX)),
                        ))
                        .map_err(draw_err)?;
                }
                let met = format!("met {:.0}%", 100.0 * s.p_met[t]);
                chart
                    .draw_series(std::iter::once(Text::new(
                        met,
                        (x - 0.12, 6.75),
                        font(LABEL_PX).color(&color),
                    )))
                    .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> ClassChart {
        ClassChart {
            title: "t".into(),
            periods: vec!["2018".into(), "2019".into()],
            series: vec![ClassSeries {
                name: "s".into(),
                shares: vec![[0.0, 1.0, 0.0, 0.0, 0.0, 0.0]; 2],
                target: 2,
                p_met: vec![1.0, 1.0],
            }],
        }
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(chart().validate().is_ok());
        let mut c = chart();
        c.series[0].p_met.pop();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("one value per period")
        );
        let mut c = chart();
        c.series[0].target = 0;
        assert!(c.validate().is_err());
        let mut c = chart();
        c.series[0].shares[0][3] = f64::NAN;
        assert!(c.validate().is_err());
    }

    #[test]
    fn class_one_is_on_top() {
        assert!(class_y(1) > class_y(2) && class_y(6) > 0.5);
    }
}
