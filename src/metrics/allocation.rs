//! The set of comparison metrics computed for one allocation vector: inequality,
//! targeting and budget flows, as one fixed-size array so that the Monte Carlo engine can
//! accumulate every metric of every draw without allocating.
//!
//! The arithmetic lives in [`crate::metrics`]; this module only decides which inputs each
//! metric sees:
//! - population- and area-weighted Ginis are the Ginis of allocation per capita and per km²,
//!   each region weighted by its population or area (the weighting convention of
//!   [`crate::metrics`]); the red-line Gini is the same per km² of red line. So the
//!   "population-weighted Gini" and the "Gini of allocation per capita" are one number.
//! - rank correlations are Spearman's, against red-line coverage `L/A`, the fiscal gap
//!   `E + a·X − R` (with the formula's eco-spending weight `a`, 0 without a key subsidy) and
//!   the importance multiplier (docs/model.md §1.2).
//! - the Suits-style index ranks regions by fiscal self-sufficiency `R/E` with population as
//!   the ranking base (one per region when no population is recorded); positive means
//!   progressive.
//! - budget flows follow the Monte Carlo engine's definitions: money removed by quality
//!   deductions and money added by floors, at the scale the region was paid.
//!
//! A metric that cannot be measured (no population recorded, a constant series) is `None`.

use super::{InequalityScratch, TargetingScratch};
use crate::model::Formula;
use crate::model::region::{Column, RegionData};
use crate::vertical::Allocation;
use crate::vertical::components::importance_multiplier;
use crate::vertical::flows::budget_flows;

/// One comparison metric. The discriminant indexes [`MetricValues`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Gini = 0,
    GiniPopulation,
    GiniArea,
    Theil,
    TheilBetween,
    TheilWithin,
    Cv,
    Top10Share,
    PerRedlineKm2,
    GiniPerRedline,
    PerCapita,
    RankCoverage,
    RankFiscalGap,
    RankImportance,
    Suits,
    Deducted,
    FloorPaid,
    Capped,
    Total,
    Unallocated,
}

/// The values of every [`Metric`] for one allocation.
pub type MetricValues = [Option<f64>; Metric::COUNT];

impl Metric {
    pub const COUNT: usize = 20;
    pub const ALL: [Metric; Metric::COUNT] = [
        Metric::Gini,
        Metric::GiniPopulation,
        Metric::GiniArea,
        Metric::Theil,
        Metric::TheilBetween,
        Metric::TheilWithin,
        Metric::Cv,
        Metric::Top10Share,
        Metric::PerRedlineKm2,
        Metric::GiniPerRedline,
        Metric::PerCapita,
        Metric::RankCoverage,
        Metric::RankFiscalGap,
        Metric::RankImportance,
        Metric::Suits,
        Metric::Deducted,
        Metric::FloorPaid,
        Metric::Capped,
        Metric::Total,
        Metric::Unallocated,
    ];

    /// The metric's key in `metrics.json`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Gini => "gini",
            Metric::GiniPopulation => "gini_per_capita",
            Metric::GiniArea => "gini_per_km2_area",
            Metric::Theil => "theil",
            Metric::TheilBetween => "theil_between",
            Metric::TheilWithin => "theil_within",
            Metric::Cv => "cv",
            Metric::Top10Share => "top10_share",
            Metric::PerRedlineKm2 => "per_redline_km2",
            Metric::GiniPerRedline => "gini_per_redline_km2",
            Metric::PerCapita => "per_capita",
            Metric::RankCoverage => "spearman_redline_coverage",
            Metric::RankFiscalGap => "spearman_fiscal_gap",
            Metric::RankImportance => "spearman_importance",
            Metric::Suits => "suits_progressivity",
            Metric::Deducted => "total_deducted",
            Metric::FloorPaid => "total_floor_paid",
            Metric::Capped => "regions_capped",
            Metric::Total => "total_allocated",
            Metric::Unallocated => "unallocated",
        }
    }
}

/// Buffers for [`MetricScratch::compute`], one per worker; they grow on first use only.
#[derive(Debug, Clone, Default)]
pub struct MetricScratch {
    ineq: InequalityScratch,
    targ: TargetingScratch,
    key: Vec<f64>,
    base: Vec<f64>,
}

fn total_positive(v: &[f64]) -> f64 {
    v.iter().filter(|x| x.is_finite() && **x > 0.0).sum()
}

impl MetricScratch {
    /// Every metric of allocation `a` of formula `f` on region data `data` (whose groups are
    /// `groups`).
    pub fn compute(
        &mut self,
        f: &Formula,
        data: &RegionData,
        groups: &[u32],
        a: &Allocation,
    ) -> MetricValues {
        let mut v: MetricValues = [None; Metric::COUNT];
        let x = &a.x;
        let total: f64 = x.iter().sum();
        let pop_t = total_positive(data.col(Column::Population));
        self.inequality(data, groups, x, total, pop_t, &mut v);
        self.targeting(f, data, x, pop_t, &mut v);
        let flows = budget_flows(a);
        let mut set = |m: Metric, val: Option<f64>| v[m as usize] = val;
        set(Metric::Deducted, Some(flows.deducted));
        set(Metric::FloorPaid, Some(flows.floor_paid));
        set(Metric::Capped, Some(flows.capped as f64));
        set(Metric::Total, Some(total));
        set(Metric::Unallocated, Some(a.unallocated()));
        v
    }

    /// The inequality metrics of the amounts `x` (which sum to `total`), into `v`: over the
    /// regions, and per capita, per km² and per km² of red line (`pop_t`: the total
    /// population).
    fn inequality(
        &mut self,
        data: &RegionData,
        groups: &[u32],
        x: &[f64],
        total: f64,
        pop_t: f64,
        v: &mut MetricValues,
    ) {
        let mut set = |m: Metric, val: Option<f64>| v[m as usize] = val;
        let pop = data.col(Column::Population);
        let area = data.col(Column::AreaKm2);
        let red = data.col(Column::RedlineKm2);

        // One value sort and one group sort for Gini, Theil, CV and the top-decile share.
        if let Ok(sum) = self.ineq.summary(x, None, groups) {
            set(Metric::Gini, Some(sum.gini));
            set(Metric::Theil, Some(sum.theil.total));
            set(Metric::TheilBetween, Some(sum.theil.between));
            set(Metric::TheilWithin, Some(sum.theil.within));
            set(Metric::Cv, Some(sum.cv));
            set(Metric::Top10Share, Some(sum.top10_share));
        }
        let (area_t, red_t) = (total_positive(area), total_positive(red));
        if pop_t > 0.0 {
            set(Metric::GiniPopulation, self.ineq.gini_per_unit(x, pop).ok());
            set(Metric::PerCapita, Some(total / pop_t));
        }
        if area_t > 0.0 {
            set(Metric::GiniArea, self.ineq.gini_per_unit(x, area).ok());
        }
        if red_t > 0.0 {
            set(Metric::GiniPerRedline, self.ineq.gini_per_unit(x, red).ok());
            set(Metric::PerRedlineKm2, Some(total / red_t));
        }
    }

    /// The targeting metrics of the amounts `x` of formula `f`, into `v`: rank correlations
    /// against red-line coverage, the fiscal gap and the importance multiplier, and the
    /// Suits-style index (`pop_t`: the total population).
    fn targeting(
        &mut self,
        f: &Formula,
        data: &RegionData,
        x: &[f64],
        pop_t: f64,
        v: &mut MetricValues,
    ) {
        let mut set = |m: Metric, val: Option<f64>| v[m as usize] = val;
        let pop = data.col(Column::Population);
        let area = data.col(Column::AreaKm2);
        let red = data.col(Column::RedlineKm2);

        // Rank correlations, reusing one key buffer.
        self.key.clear();
        self.key.extend(
            red.iter()
                .zip(area)
                .map(|(&l, &ar)| if ar > 0.0 { l / ar } else { 0.0 }),
        );
        set(
            Metric::RankCoverage,
            self.targ.spearman(x, &self.key).ok().flatten(),
        );
        let eco_w = f.key.as_ref().map_or(0.0, |k| k.eco_weight);
        let (r, e, eco) = (
            data.col(Column::StdRevenue),
            data.col(Column::StdExpenditure),
            data.col(Column::EcoSpending),
        );
        self.key.clear();
        self.key.extend(
            e.iter()
                .zip(eco)
                .zip(r)
                .map(|((&e, &xx), &r)| e + eco_w * xx - r),
        );
        set(
            Metric::RankFiscalGap,
            self.targ.spearman(x, &self.key).ok().flatten(),
        );
        self.key.clear();
        self.key.extend(
            data.tags
                .iter()
                .map(|&t| importance_multiplier(&f.importance, t)),
        );
        set(
            Metric::RankImportance,
            self.targ.spearman(x, &self.key).ok().flatten(),
        );
        self.key.clear();
        self.key.extend(
            r.iter()
                .zip(e)
                .map(|(&r, &e)| if e > 0.0 { r / e } else { f64::INFINITY }),
        );
        self.base.clear();
        if pop_t > 0.0 {
            self.base.extend(pop.iter().map(|&p| p.max(0.0)));
        } else {
            self.base.resize(x.len(), 1.0);
        }
        set(
            Metric::Suits,
            self.targ
                .suits_index(x, &self.key, &self.base)
                .ok()
                .flatten(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn data(n: usize) -> RegionData {
        let mut d = RegionData::zeros(n);
        for i in 0..n {
            d.col_mut(Column::StdRevenue)[i] = 1.0 + i as f64;
            d.col_mut(Column::StdExpenditure)[i] = 10.0;
            d.col_mut(Column::AreaKm2)[i] = 100.0;
            d.col_mut(Column::RedlineKm2)[i] = 10.0 * (i + 1) as f64;
            d.col_mut(Column::Population)[i] = 2.0;
        }
        d
    }

    #[test]
    fn equal_allocation_has_no_inequality_and_matches_units() {
        let a = Allocation::paid(&[5.0; 4]);
        let d = data(4);
        let v = MetricScratch::default().compute(&Formula::empty("f"), &d, &[0, 0, 1, 1], &a);
        let get = |m: Metric| v[m as usize].unwrap();
        assert_relative_eq!(get(Metric::Gini), 0.0, epsilon = 1e-12);
        assert_relative_eq!(get(Metric::GiniPopulation), 0.0, epsilon = 1e-12);
        assert_relative_eq!(get(Metric::Theil), 0.0, epsilon = 1e-12);
        assert_relative_eq!(get(Metric::Top10Share), 0.1, epsilon = 1e-12);
        // 20 money over 8 people and 100 km² of red line.
        assert_relative_eq!(get(Metric::PerCapita), 20.0 / 8.0);
        assert_relative_eq!(get(Metric::PerRedlineKm2), 20.0 / 100.0);
        // A constant allocation has no rank correlation.
        assert!(v[Metric::RankCoverage as usize].is_none());
        assert_relative_eq!(get(Metric::Total), 20.0);
    }

    #[test]
    fn allocation_following_coverage_ranks_perfectly_and_is_regressive_here() {
        // Coverage and allocation rise with i; R/E rises with i too, so the money goes to
        // the fiscally stronger regions: regressive (negative Suits index).
        let a = Allocation::paid(&[1.0, 2.0, 3.0, 4.0]);
        let d = data(4);
        let v = MetricScratch::default().compute(&Formula::empty("f"), &d, &[0, 0, 1, 1], &a);
        assert_relative_eq!(v[Metric::RankCoverage as usize].unwrap(), 1.0);
        assert_relative_eq!(v[Metric::RankFiscalGap as usize].unwrap(), -1.0);
        assert!(v[Metric::Suits as usize].unwrap() < 0.0);
        let t = v[Metric::Theil as usize].unwrap();
        let sum =
            v[Metric::TheilBetween as usize].unwrap() + v[Metric::TheilWithin as usize].unwrap();
        assert_relative_eq!(t, sum, max_relative = 1e-12);
        // No population: the per-capita metrics are absent, not zero.
        let mut d0 = d.clone();
        d0.col_mut(Column::Population).fill(0.0);
        let v0 = MetricScratch::default().compute(&Formula::empty("f"), &d0, &[0, 0, 1, 1], &a);
        assert!(v0[Metric::GiniPopulation as usize].is_none());
        assert!(v0[Metric::PerCapita as usize].is_none());
    }
}
