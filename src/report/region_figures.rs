//! Per-region figures of a run beyond the distributions: how a region's allocation is
//! built (a waterfall of breakdown.csv's components), where the change falls on a map of
//! the provinces, and how the allocation per km² follows red-line coverage and fiscal
//! self-sufficiency.

use super::figures::{Canvas, slug};
use crate::model::{Column, Vertical};
use crate::plots::{self, Chart};
use crate::run::point::PointResults;

/// The steps of region `i`'s allocation under one formula, in the order breakdown.csv
/// computes them: the claims (each per-unit component, pool and agreement reward among
/// them), their sum S, the quality rate and the reverse-linkage cut, S′, then the budget
/// scale or the floor or cap that sets the amount, and, with two tiers (`entitlement`),
/// what the province's method changed.
pub fn waterfall_steps(
    a: &crate::vertical::Allocation,
    i: usize,
    entitlement: Option<&[f64]>,
) -> Vec<plots::Step> {
    let step = |label: &str, value: f64, subtotal: bool| plots::Step {
        label: label.to_string(),
        value,
        subtotal,
    };
    let s = a.claim_before[i];
    let quality = s * a.q[i];
    let cut = -(s + quality) * a.cut[i];
    let mut steps = vec![
        step("key subsidy K", a.key[i], false),
        step("protected areas PA", a.pa[i], false),
        step("red line RL", a.rl[i], false),
        step("guidance G", a.guidance[i], false),
        step("rangers F", a.rangers[i], false),
    ];
    for (name, v) in a.classified_names.iter().zip(&a.classified) {
        steps.push(step(name, v[i], false));
    }
    steps.extend([
        step("claim S", s, true),
        step("quality q", quality, false),
        step("reverse-linkage cut", cut, false),
        step("claim S′", a.claim[i], true),
    ]);
    let central = entitlement.map_or(a.x[i], |e| e[i]);
    let last = if a.cap_binds[i] {
        "growth cap"
    } else if a.floor_binds[i] {
        "hold-harmless floor"
    } else {
        "budget scale"
    };
    steps.push(step(last, central - a.claim[i], false));
    if entitlement.is_some() {
        steps.push(step("entitlement", central, true));
        steps.push(step("province's method", a.x[i] - central, false));
    }
    steps.push(step("allocation", a.x[i], true));
    // Components a formula does not have are left out rather than drawn as empty steps.
    steps.retain(|st| st.subtotal || st.value != 0.0 || st.label == last);
    steps
}

/// A waterfall per kept region (the largest, or `--plot-regions`) and formula.
pub(super) fn waterfalls(
    v: &Vertical,
    res: &PointResults,
    keep: &[usize],
    unit: &str,
    canvas: &mut Canvas,
) {
    let m = &v.regions.meta;
    for &i in keep {
        for fp in &res.formulas {
            canvas.draw(
                &format!("waterfall_{}_{}", slug(&m.id[i]), slug(&fp.name)),
                "How the region's point allocation is built, left to right, as in breakdown.csv: the key subsidy and each pool, guidance and per-unit amounts add up to the claim S; the quality reward or deduction and the reverse-linkage cut give S′; the budget scale (or a growth cap or hold-harmless floor, which replace it) gives the allocation. Green steps add, vermillion steps remove, blue bars are subtotals.",
                Chart::Waterfall(plots::WaterfallChart {
                    title: format!("{}: how the {} allocation is built", m.name[i], fp.name),
                    value_label: format!("amount ({unit})"),
                    steps: waterfall_steps(&fp.alloc, i, fp.entitlement.as_deref()),
                }),
            );
        }
    }
}

/// The regions' values on the province tile map, when the regions are the provinces (at
/// least 25 of the 31 named); `None` for counties or other units, which have no tiles.
pub fn tile_map(names: &[String], values: &[f64], title: String, label: String) -> Option<Chart> {
    let placed = names.iter().filter(|n| plots::tile_of(n).is_some()).count();
    (placed >= 25 && placed * 10 >= names.len() * 9).then(|| {
        Chart::TileMap(plots::TileMapChart {
            title,
            value_label: label,
            values: names.iter().cloned().zip(values.iter().copied()).collect(),
        })
    })
}

/// The note of the tile map.
pub const TILE_NOTE: &str = "Each square is a province in its approximate place (a tile-grid map: every province gets the same area, so large western provinces do not dominate). The colour is the change against the baseline, green for gains and vermillion for losses, white for none, on a scale centred on zero; the number is the change.";

/// Points to label in a scatter: the three largest and the smallest value of `y`.
fn outliers(names: &[String], y: &[f64]) -> Vec<String> {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
    let mut keep: Vec<usize> = order.iter().take(3).copied().collect();
    keep.extend(order.last());
    (0..y.len())
        .map(|i| {
            if keep.contains(&i) {
                names[i].clone()
            } else {
                String::new()
            }
        })
        .collect()
}

/// Allocation per km² against red-line coverage and against fiscal self-sufficiency, one
/// colour per formula.
pub(super) fn scatters(v: &Vertical, res: &PointResults, unit: &str, canvas: &mut Canvas) {
    let (m, area) = (&v.regions.meta, v.regions.data.col(Column::AreaKm2));
    let per_km2 = |x: &[f64]| -> Vec<f64> {
        x.iter()
            .zip(area)
            .map(|(x, a)| if *a > 0.0 { x / a * 1e4 } else { 0.0 })
            .collect()
    };
    let against = [
        (
            "scatter_redline",
            "red-line coverage (red-line area ÷ land area)",
            "red-line coverage",
        ),
        (
            "scatter_self_sufficiency",
            "fiscal self-sufficiency R/E (standard revenue ÷ standard expenditure)",
            "fiscal self-sufficiency",
        ),
    ];
    for (stem, x_label, what) in against {
        // A region is named once, at its first formula's dot, so labels do not pile up.
        let mut named = std::collections::HashSet::new();
        let series = res
            .formulas
            .iter()
            .map(|fp| {
                let xs = if stem == "scatter_redline" {
                    &fp.alloc.coverage
                } else {
                    &fp.alloc.self_sufficiency
                };
                let y = per_km2(&fp.alloc.x);
                let labels = outliers(&m.name, &y)
                    .into_iter()
                    .map(|l| {
                        if named.insert(l.clone()) {
                            l
                        } else {
                            String::new()
                        }
                    })
                    .collect();
                plots::ScatterSeries {
                    name: fp.name.clone(),
                    labels,
                    points: xs.iter().copied().zip(y).collect(),
                }
            })
            .collect();
        canvas.draw(
            stem,
            "One dot per region and formula at its point allocation: allocation per km² of land against the region's red-line coverage (or its fiscal self-sufficiency R/E). A formula that rewards ecological importance climbs to the right in the first; one that targets fiscal need falls to the right in the second. The three largest and the smallest amounts per km² are named.",
            Chart::Scatter(plots::ScatterChart {
                title: format!("Allocation per km² against {what}"),
                x_label: x_label.into(),
                y_label: format!("allocation per 10,000 km² ({unit})"),
                series,
                diagonal: false,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::waterfall_steps;

    #[test]
    fn waterfall_steps_add_up_to_each_subtotal_and_the_allocation() {
        let mut capped = 0;
        let mut classified = 0;
        for name in ["national.toml", "county_two_tier.toml", "example.toml"] {
            let scn = crate::scenario::shipped_with(name, "");
            let res = crate::run::point::point(&scn).unwrap();
            for fp in &res.formulas {
                let a = &fp.alloc;
                for i in 0..a.x.len() {
                    let steps = waterfall_steps(a, i, fp.entitlement.as_deref());
                    classified +=
                        usize::from(steps.iter().any(|s| s.label.starts_with("per_unit_")));
                    let mut total = 0.0;
                    for st in &steps {
                        if st.subtotal {
                            let tol = 1e-9 * st.value.abs().max(1.0);
                            assert!(
                                (total - st.value).abs() <= tol,
                                "{}: {total} vs {}",
                                st.label,
                                st.value
                            );
                        } else {
                            total += st.value;
                        }
                    }
                    let last = steps.last().unwrap();
                    assert_eq!(last.label, "allocation");
                    assert!((last.value - a.x[i]).abs() <= 1e-12 * a.x[i].abs().max(1.0));
                    capped += usize::from(steps.iter().any(|s| s.label == "growth cap"));
                }
            }
        }
        assert!(capped > 0, "the example's reform caps some regions");
        assert!(
            classified > 0,
            "the county scenario's per-unit components are steps"
        );
    }
}
