//! The figures of a change of formula, shared by `run` and `compare`: winners and losers
//! (every region's signed change, sorted, gains and losses in two colours, in money and in
//! percent, with its 90% interval and the regions a cap or floor decides) and the
//! baseline → alternative dumbbell per region.

use crate::model::RegionMeta;
use crate::plots::{self, Chart};
use crate::vertical::Allocation;

/// z for a two-sided 90% normal interval.
const Z90: f64 = 1.644_853_626_951_472_2;
/// Above this many regions a winners-and-losers chart keeps the largest gains and losses,
/// half each: a county-scale chart of thousands of rows reads as a smear.
const MAX_CHANGE_ROWS: usize = 60;
/// Regions in a dumbbell chart.
const MAX_DUMBBELL_ROWS: usize = 31;

/// One formula's change against the baseline, per region.
pub struct ChangeData<'a> {
    pub meta: &'a RegionMeta,
    pub base_name: &'a str,
    pub name: &'a str,
    /// The baseline's allocation per region (the base of the percent change).
    pub base_x: &'a [f64],
    /// Mean paired difference and its standard deviation over the draws (0 without).
    pub diff: &'a [f64],
    pub diff_sd: &'a [f64],
    /// The alternative's point allocation, to tag the regions on a cap or a floor.
    pub alloc: &'a Allocation,
    pub unit: &'a str,
}

/// The note that explains the winners-and-losers figure.
pub const WINNERS_NOTE: &str = "Every region's change when the baseline formula is replaced by the other one: the mean over the draws of (formula − baseline) on the same sampled inputs, as a bar from zero, green for gains and vermillion for losses, sorted from the largest gain to the largest loss. The whisker is the 90% interval of the change (mean ± 1.645 sd over the draws); the label gives the change in money and in percent of the baseline's amount, and \"cap\" or \"floor\" marks a region whose amount under the new formula is set by its growth cap or hold-harmless floor, not by the formula's weights.";

/// Winners and losers of one formula against the baseline.
pub fn winners_chart(d: &ChangeData) -> Chart {
    let n = d.diff.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d.diff[j].total_cmp(&d.diff[i]));
    let mut title = format!("Winners and losers: {} against {}", d.name, d.base_name);
    if n > MAX_CHANGE_ROWS {
        let half = MAX_CHANGE_ROWS / 2;
        order = order[..half]
            .iter()
            .chain(&order[n - half..])
            .copied()
            .collect();
        title.push_str(&format!(
            " (largest {half} gains and {half} losses of {n} regions)"
        ));
    }
    let items = order
        .iter()
        .map(|&i| {
            let m = d.diff[i];
            let tag = if d.alloc.cap_binds[i] {
                "cap"
            } else if d.alloc.floor_binds[i] {
                "floor"
            } else {
                ""
            };
            plots::Change {
                label: d.meta.name[i].clone(),
                change: m,
                lo: m - Z90 * d.diff_sd[i],
                hi: m + Z90 * d.diff_sd[i],
                relative: (d.base_x[i] != 0.0).then(|| m / d.base_x[i]),
                tag: tag.to_string(),
            }
        })
        .collect();
    Chart::Diverging(plots::DivergingChart {
        title,
        value_label: format!("change against {} ({})", d.base_name, d.unit),
        interval_label: "90% interval of the change over draws".into(),
        items,
    })
}

/// The note that explains the dumbbell figure.
pub const DUMBBELL_NOTE: &str = "For each region, its allocation under the baseline formula (blue dot) and under the other formula (orange dot), joined by a grey line: the length of the line is the change. The thin whiskers beside each dot are its 90% interval over the draws. Regions are the largest by the baseline's allocation.";

/// The baseline's and one formula's allocations per region, as a dumbbell: `(point, p05,
/// p95)` per region for each side.
pub fn dumbbell_chart(
    d: &ChangeData,
    base: &[(f64, f64, f64)],
    other: &[(f64, f64, f64)],
) -> Chart {
    let n = base.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| base[j].0.total_cmp(&base[i].0));
    order.truncate(MAX_DUMBBELL_ROWS);
    let ranged = |v: (f64, f64, f64)| plots::Ranged {
        value: v.0,
        lo: v.1,
        hi: v.2,
    };
    let more = if n > order.len() {
        format!(" (largest {} of {n} regions)", order.len())
    } else {
        String::new()
    };
    Chart::Dumbbell(plots::DumbbellChart {
        title: format!("{} → {} by region{more}", d.base_name, d.name),
        value_label: format!("allocation ({})", d.unit),
        from_name: d.base_name.to_string(),
        to_name: d.name.to_string(),
        categories: order.iter().map(|&i| d.meta.name[i].clone()).collect(),
        from: order.iter().map(|&i| ranged(base[i])).collect(),
        to: order.iter().map(|&i| ranged(other[i])).collect(),
    })
}

/// The note that explains the group-totals dumbbell.
pub const GROUP_DUMBBELL_NOTE: &str = "Each group's total (province or macro-region, as the regions file groups them) under the baseline formula (blue dot) and under the other formula (orange dot), joined by a grey line, with the 90% interval of the total over the draws beside each dot. Group totals are drawn apart from the regions so that their larger scale does not squeeze the regions' panel.";

/// The baseline's and one formula's group totals, `(point, p05, p95)` per group, as a
/// dumbbell of its own.
pub fn group_dumbbell_chart(
    base_name: &str,
    name: &str,
    unit: &str,
    groups: &[String],
    base: &[(f64, f64, f64)],
    other: &[(f64, f64, f64)],
) -> Chart {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&i, &j| base[j].0.total_cmp(&base[i].0));
    let ranged = |v: (f64, f64, f64)| plots::Ranged {
        value: v.0,
        lo: v.1,
        hi: v.2,
    };
    Chart::Dumbbell(plots::DumbbellChart {
        title: format!("{base_name} → {name}: group totals"),
        value_label: format!("total allocation ({unit})"),
        from_name: base_name.to_string(),
        to_name: name.to_string(),
        categories: order.iter().map(|&g| groups[g].clone()).collect(),
        from: order.iter().map(|&g| ranged(base[g])).collect(),
        to: order.iter().map(|&g| ranged(other[g])).collect(),
    })
}

/// The change of every province on the tile map: per region when the regions are the
/// provinces, else summed over each group when the groups are provinces (counties grouped
/// by their province); `None` otherwise.
pub fn change_map(d: &ChangeData) -> Option<Chart> {
    let label = format!("change against {} ({})", d.base_name, d.unit);
    if let Some(c) = super::region_figures::tile_map(
        &d.meta.name,
        d.diff,
        format!("Change by province: {} against {}", d.name, d.base_name),
        label.clone(),
    ) {
        return Some(c);
    }
    let groups = &d.meta.groups;
    let placed = groups
        .iter()
        .filter(|g| plots::tile_of(g).is_some())
        .count();
    if placed == 0 || placed * 10 < groups.len() * 9 {
        return None;
    }
    let mut sums = vec![0.0; groups.len()];
    for (i, &g) in d.meta.group_idx.iter().enumerate() {
        if let (Some(s), Some(v)) = (sums.get_mut(g as usize), d.diff.get(i)) {
            *s += v;
        }
    }
    Some(Chart::TileMap(plots::TileMapChart {
        title: format!(
            "Change by province, summed over its regions: {} against {}",
            d.name, d.base_name
        ),
        value_label: label,
        values: groups.iter().cloned().zip(sums).collect(),
    }))
}

/// The file stem of a per-formula figure: `stem` alone when one formula is compared with
/// the baseline, `stem_<formula>` when several are.
pub fn stem_for(stem: &str, formula: &str, others: usize) -> String {
    if others <= 1 {
        stem.to_string()
    } else {
        format!("{stem}_{}", super::figures::slug(formula))
    }
}
