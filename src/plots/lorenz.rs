//! Lorenz curves of allocations (one per formula) with the line of equality; each legend
//! entry carries the series' Gini coefficient.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axes::TickAxis;
use super::frame::{
    AXIS_PX, LABEL_PX, LegendEntry, MARGIN, Mark, check_finite, draw_err, fmt_num, font, header,
    invalid, series_color,
};

/// One formula's allocations (one value per region; order does not matter).
#[derive(Debug, Clone)]
pub struct LorenzSeries {
    pub name: String,
    pub values: Vec<f64>,
    /// Gini to print in the legend; computed from `values` when `None` (pass the metrics
    /// module's value to keep the figure and the tables identical).
    pub gini: Option<f64>,
    /// Weights of the units (population, area), one per value: the curve then sorts units
    /// by value per unit of weight and runs along the cumulative share of the weight.
    /// `None` counts every unit once.
    pub weights: Option<Vec<f64>>,
    /// A ranking key per value (for example the fiscal gap): the units are taken in the
    /// order of the key instead of their value, which makes a concentration curve (it may
    /// cross the diagonal) and its concentration index in the legend. `None`: a Lorenz
    /// curve.
    pub order_by: Option<Vec<f64>>,
}

/// Lorenz chart.
#[derive(Debug, Clone)]
pub struct LorenzChart {
    pub title: String,
    /// x axis title, e.g. "cumulative share of regions".
    pub x_label: String,
    /// y axis title, e.g. "cumulative share of allocation".
    pub y_label: String,
    pub series: Vec<LorenzSeries>,
}

const CHART: &str = "lorenz";

/// Points of the Lorenz curve: (0,0), then for the k smallest values (k/n, share of total).
/// Values must be finite and non-negative with a positive total.
pub fn lorenz_points(values: &[f64]) -> Result<Vec<(f64, f64)>, PlotError> {
    if values.is_empty() {
        return Err(invalid(CHART, "a series has no values"));
    }
    for &v in values {
        check_finite(CHART, "an allocation", v)?;
        if v < 0.0 {
            return Err(invalid(CHART, format!("allocation {v} is negative")));
        }
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let total: f64 = sorted.iter().sum();
    if total <= 0.0 {
        return Err(invalid(CHART, "allocations sum to zero"));
    }
    let n = sorted.len() as f64;
    let mut pts = Vec::with_capacity(sorted.len() + 1);
    pts.push((0.0, 0.0));
    let mut cum = 0.0;
    for (k, v) in sorted.iter().enumerate() {
        cum += v;
        pts.push(((k + 1) as f64 / n, cum / total));
    }
    Ok(pts)
}

/// Points of the weighted Lorenz curve: units sorted by `value / weight`, x the cumulative
/// share of the weight, y the cumulative share of the values. Weights must be positive.
pub fn weighted_lorenz_points(
    values: &[f64],
    weights: &[f64],
) -> Result<Vec<(f64, f64)>, PlotError> {
    if weights.len() != values.len() {
        return Err(invalid(CHART, "one weight per value"));
    }
    lorenz_points(values)?;
    for &w in weights {
        check_finite(CHART, "a weight", w)?;
        if w <= 0.0 {
            return Err(invalid(CHART, format!("weight {w} is not positive")));
        }
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| (values[i] / weights[i]).total_cmp(&(values[j] / weights[j])));
    let (total, wtotal): (f64, f64) = (values.iter().sum(), weights.iter().sum());
    let mut pts = Vec::with_capacity(values.len() + 1);
    pts.push((0.0, 0.0));
    let (mut cum, mut wcum) = (0.0, 0.0);
    for i in order {
        cum += values[i];
        wcum += weights[i];
        pts.push((wcum / wtotal, cum / total));
    }
    Ok(pts)
}

/// Points of the concentration curve: units in the order of `keys` (ties by value), x the
/// cumulative share of units, y the cumulative share of the values.
pub fn concentration_points(values: &[f64], keys: &[f64]) -> Result<Vec<(f64, f64)>, PlotError> {
    if keys.len() != values.len() {
        return Err(invalid(CHART, "one ranking key per value"));
    }
    lorenz_points(values)?;
    for &k in keys {
        check_finite(CHART, "a ranking key", k)?;
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| {
        keys[i]
            .total_cmp(&keys[j])
            .then(values[i].total_cmp(&values[j]))
    });
    let total: f64 = values.iter().sum();
    let n = values.len() as f64;
    let mut pts = Vec::with_capacity(values.len() + 1);
    pts.push((0.0, 0.0));
    let mut cum = 0.0;
    for (k, i) in order.into_iter().enumerate() {
        cum += values[i];
        pts.push(((k + 1) as f64 / n, cum / total));
    }
    Ok(pts)
}

/// One minus twice the area under a Lorenz curve (trapezoids).
fn gini_of(pts: &[(f64, f64)]) -> f64 {
    let area: f64 = pts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    1.0 - 2.0 * area
}

/// Gini coefficient: one minus twice the area under the Lorenz curve (trapezoids), which for
/// equal-weight units equals Σ_i Σ_j |x_i − x_j| / (2 n² μ).
pub fn gini(values: &[f64]) -> Result<f64, PlotError> {
    let pts = lorenz_points(values)?;
    let area: f64 = pts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    Ok(1.0 - 2.0 * area)
}

/// A Lorenz curve is convex, so a few hundred points draw it exactly at figure scale, while
/// thousands of short 3 px segments make the bitmap line ragged: long series are thinned.
const MAX_POINTS: usize = 400;

impl LorenzChart {
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        if self.series.is_empty() {
            return Err(invalid(CHART, "needs at least one series"));
        }
        let mut curves = Vec::with_capacity(self.series.len());
        let mut legend = Vec::with_capacity(self.series.len() + 1);
        for (j, s) in self.series.iter().enumerate() {
            let pts = match (&s.order_by, &s.weights) {
                (Some(k), _) => concentration_points(&s.values, k)?,
                (None, Some(w)) => weighted_lorenz_points(&s.values, w)?,
                (None, None) => lorenz_points(&s.values)?,
            };
            let index = if s.order_by.is_some() {
                "concentration"
            } else {
                "Gini"
            };
            let g = match s.gini {
                Some(g) => {
                    check_finite(CHART, "gini", g)?;
                    g
                }
                None => gini_of(&pts),
            };
            legend.push(LegendEntry::new(
                format!("{} ({index} {g:.3})", s.name),
                series_color(j),
                Mark::Line,
            ));
            let stride = pts.len().div_ceil(MAX_POINTS).max(1);
            let last = pts.len() - 1;
            let thinned: Vec<(f64, f64)> = pts
                .iter()
                .enumerate()
                .filter(|(i, _)| i % stride == 0 || *i == last)
                .map(|(_, p)| *p)
                .collect();
            curves.push(thinned);
        }
        legend.push(LegendEntry::new(
            "equality",
            RGBColor(0x88, 0x88, 0x88),
            Mark::Line,
        ));
        let area = header(root, &self.title, &legend)?;
        // A square plot area keeps the diagonal at 45°.
        let (w, h) = area.dim_in_pixel();
        let side = h.min(w);
        let pad = (w.saturating_sub(side)) / 2;
        let area = area.margin(0, 0, pad, pad);
        let ticks: Vec<f64> = (0..=5).map(|i| f64::from(i) * 0.2).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin(MARGIN)
            .x_label_area_size(LABEL_PX as u32 + AXIS_PX as u32 + 30)
            .y_label_area_size(LABEL_PX as u32 * 3 + AXIS_PX as u32 + 20)
            .build_cartesian_2d(
                TickAxis::new(0.0..1.0, ticks.clone()),
                TickAxis::new(0.0..1.0, ticks),
            )
            .map_err(draw_err)?;
        let f = |v: &f64| fmt_num(*v, 0.1);
        chart
            .configure_mesh()
            .label_style(font(LABEL_PX))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&f)
            .y_label_formatter(&f)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                RGBColor(0x88, 0x88, 0x88).stroke_width(2),
            )))
            .map_err(draw_err)?;
        for (j, pts) in curves.into_iter().enumerate() {
            chart
                .draw_series(LineSeries::new(pts, series_color(j).stroke_width(3)))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_curve_follows_value_per_weight() {
        // Two units with equal money, one with three times the weight: per unit of weight
        // the heavy one gets less, so it comes first and covers 3/4 of the x axis.
        let pts = weighted_lorenz_points(&[5.0, 5.0], &[1.0, 3.0]).unwrap();
        assert_eq!(pts, vec![(0.0, 0.0), (0.75, 0.5), (1.0, 1.0)]);
        assert!((gini_of(&pts) - 0.25).abs() < 1e-12);
        // Equal weights give the unweighted curve.
        let v = [1.0, 4.0, 2.0];
        assert_eq!(
            weighted_lorenz_points(&v, &[2.0; 3]).unwrap(),
            lorenz_points(&v).unwrap()
        );
        assert!(weighted_lorenz_points(&v, &[1.0, 0.0, 1.0]).is_err());
    }
    use approx::assert_relative_eq;

    fn gini_pairs(v: &[f64]) -> f64 {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let s: f64 = v
            .iter()
            .flat_map(|a| v.iter().map(move |b| (a - b).abs()))
            .sum();
        s / (2.0 * n * n * mean)
    }

    #[test]
    fn gini_matches_the_pairwise_definition() {
        for v in [
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.0, 0.0, 0.0, 10.0],
            vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0],
        ] {
            assert_relative_eq!(gini(&v).unwrap(), gini_pairs(&v), epsilon = 1e-12);
        }
        assert_relative_eq!(gini(&[2.0; 5]).unwrap(), 0.0, epsilon = 1e-12);
    }

    #[test]
    fn curve_is_monotone_and_ends_at_one() {
        let pts = lorenz_points(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(pts.len(), 4);
        assert!(pts.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 >= w[0].1));
        assert_relative_eq!(pts[1].1, 1.0 / 9.0);
        assert_relative_eq!(pts[3].0, 1.0);
        assert_relative_eq!(pts[3].1, 1.0);
    }

    #[test]
    fn bad_inputs_are_rejected() {
        assert!(lorenz_points(&[]).is_err());
        assert!(lorenz_points(&[1.0, -1.0]).is_err());
        assert!(lorenz_points(&[0.0, 0.0]).is_err());
        assert!(lorenz_points(&[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn a_concentration_curve_follows_the_ranking_key() {
        // Values 1, 2, 3 ranked by keys 3, 1, 2: taken as 2, 3, 1.
        let pts = concentration_points(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]).unwrap();
        let want = [
            (0.0, 0.0),
            (1.0 / 3.0, 2.0 / 6.0),
            (2.0 / 3.0, 5.0 / 6.0),
            (1.0, 1.0),
        ];
        assert_eq!(pts.len(), want.len());
        for (p, w) in pts.iter().zip(want) {
            assert!(
                (p.0 - w.0).abs() < 1e-12 && (p.1 - w.1).abs() < 1e-12,
                "{pts:?}"
            );
        }
        // Ranked by the values themselves it is the Lorenz curve.
        assert_eq!(
            concentration_points(&[3.0, 1.0, 2.0], &[3.0, 1.0, 2.0]).unwrap(),
            lorenz_points(&[3.0, 1.0, 2.0]).unwrap()
        );
        assert!(concentration_points(&[1.0], &[]).is_err());
    }
}
