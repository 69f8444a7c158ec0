//! Formula comparison and sensitivity analysis for users: `ecocomp compare` and
//! `ecocomp sensitivity`.
//!
//! - [`compare`]: every formula's inequality, targeting and budget metrics as a point value
//!   and as a Monte Carlo distribution (mean and 90% interval p05–p95), and per-region
//!   winners and losers against a baseline formula under common random numbers
//!   (docs/model.md §3.2). The per-draw metrics come from the Monte Carlo engine itself
//!   ([`crate::montecarlo::run_with`] with `draw_metrics`), so they share its draws,
//!   block order and bit-reproducibility.
//! - [`metrics`]: which inputs each metric sees (the arithmetic is in [`crate::metrics`]).
//! - [`export`]: `comparison.csv`, `metrics.json` and the terminal table.
//! - [`sensitivity`]: Morris and Sobol analyses of one formula over the scenario's uncertain
//!   parameters.

use crate::error::{Error, Result};
use crate::metrics::allocation::{Metric, MetricScratch, MetricValues};
use crate::metrics::paired::{ChangeRule, Z_90};
use crate::metrics::{WinnersLosers, winners_losers};
use crate::model::Scenario;
use crate::model::formula_param::Target;
use crate::montecarlo::{RunOptions, Settings};

/// Largest winners and losers listed per formula.
pub const TOP_K: usize = 5;
/// A region whose difference is within this fraction of the baseline's total is neither a
/// winner nor a loser: fixed-mode rescaling leaves differences of rounding size.
pub const UNCHANGED_REL_TOL: f64 = crate::numfmt::ROUNDING_REL;

/// The rule that makes a region a winner or a loser against the baseline allocation
/// `base_x`: its paired difference's 90% interval excludes 0 and the difference exceeds
/// [`UNCHANGED_REL_TOL`] × the baseline's total in size. The report page and `compare`
/// both use it, so they count the same regions.
pub fn change_rule(base_x: &[f64]) -> ChangeRule {
    ChangeRule {
        tol: UNCHANGED_REL_TOL * base_x.iter().map(|x| x.abs()).sum::<f64>(),
        z: Z_90,
    }
}

/// A metric's Monte Carlo distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDist {
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
    /// Draws in which the metric was defined.
    pub draws: u64,
}

/// One formula compared with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaComparison {
    pub name: String,
    /// Metrics of the point allocation.
    pub point: MetricValues,
    /// Per [`Metric`], its distribution over draws (`None` without draws, or when it was
    /// never defined).
    pub dist: Vec<Option<MetricDist>>,
    /// Per region: point allocation, Monte Carlo mean (the point without draws).
    pub point_x: Vec<f64>,
    pub mean_x: Vec<f64>,
    /// Per region: paired difference against the baseline, its standard error, P(gain).
    /// Without draws these are the point difference, 0 and the sign of the difference.
    pub diff_mean: Vec<f64>,
    pub diff_se: Vec<f64>,
    pub p_gain: Vec<f64>,
    /// Per region: the 5th and 95th percentiles of the allocation over draws, and the
    /// standard deviation of the paired difference (the spread of the change itself, for
    /// its 90% interval in figures). Without draws: the point twice, and 0.
    pub x_p05: Vec<f64>,
    pub x_p95: Vec<f64>,
    pub diff_sd: Vec<f64>,
    /// Winners and losers by `diff_mean` and `diff_se` under [`Comparison::rule`], per
    /// group of the scenario.
    pub winners: WinnersLosers,
}

/// The comparison of a scenario's formulas.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub draws: u64,
    pub seed: u64,
    /// Index of the baseline in `formulas`.
    pub baseline: usize,
    /// Which differences count as a win or a loss.
    pub rule: ChangeRule,
    pub formulas: Vec<FormulaComparison>,
}

fn problem(flag: &str, value: &str, msg: impl Into<String>) -> Error {
    Error::invalid(vec![crate::Problem::new(flag, "command line", value, msg)])
}

/// Restrict `scn` to the named formulas (all when `names` is `None`), in the given order,
/// with the baseline (first formula by default) added in front when not listed. Uncertain
/// parameters of dropped formulas are dropped; the others are re-addressed. Returns the
/// restricted scenario and the baseline's index in it.
pub fn select(
    scn: &Scenario,
    names: Option<&[String]>,
    baseline: Option<&str>,
) -> Result<(Scenario, usize)> {
    let Some(v) = &scn.vertical else {
        return Err(problem(
            "SCENARIO",
            &scn.meta.name,
            "the scenario has no vertical formulas to compare",
        ));
    };
    let all: Vec<&str> = v.formulas.iter().map(|f| f.name.as_str()).collect();
    let find = |flag: &str, name: &str| {
        all.iter().position(|f| *f == name).ok_or_else(|| {
            problem(
                flag,
                name,
                format!("no such formula; the scenario has {}", all.join(", ")),
            )
        })
    };
    let mut picked: Vec<usize> = match names {
        Some(ns) => ns
            .iter()
            .map(|n| find("--formulas", n.trim()))
            .collect::<Result<_>>()?,
        None => (0..all.len()).collect(),
    };
    // Keep the first mention of a formula listed twice.
    let mut seen = vec![false; all.len()];
    picked.retain(|&i| !std::mem::replace(&mut seen[i], true));
    let base = match baseline {
        Some(b) => find("--baseline", b)?,
        None => picked.first().copied().unwrap_or(0),
    };
    if !picked.contains(&base) {
        picked.insert(0, base);
    }
    let mut out = scn.clone();
    if let Some(ov) = out.vertical.as_mut() {
        ov.formulas = picked.iter().map(|&i| v.formulas[i].clone()).collect();
    }
    out.uncertain = scn
        .uncertain
        .iter()
        .filter_map(|u| match u.target {
            Target::BudgetTotal => Some(u.clone()),
            Target::Formula { formula, param } => {
                picked.iter().position(|&p| p == formula).map(|k| {
                    let mut u = u.clone();
                    u.target = Target::Formula { formula: k, param };
                    u
                })
            }
        })
        .collect();
    let b = picked.iter().position(|&p| p == base).unwrap_or(0);
    Ok((out, b))
}

/// Compare every formula of `scn` against `settings.baseline`: point metrics, Monte Carlo
/// metric distributions and paired differences per region. `progress` is called with the
/// number of draws done.
pub fn compare(
    scn: &Scenario,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Comparison> {
    let Some(v) = &scn.vertical else {
        return Err(problem(
            "SCENARIO",
            &scn.meta.name,
            "the scenario has no vertical formulas to compare",
        ));
    };
    let res = crate::run::point::point(scn)?;
    let mc =
        crate::montecarlo::run_with(scn, settings, RunOptions { draw_metrics: true }, progress)?;
    let n = v.regions.data.n;
    let groups = &v.regions.meta.group_idx;
    let base = settings.baseline.min(res.formulas.len().saturating_sub(1));
    let base_x = res
        .formulas
        .get(base)
        .map(|f| f.alloc.x.clone())
        .unwrap_or_default();
    let rule = change_rule(&base_x);
    let acc = mc.vertical.as_ref().filter(|_| mc.draws > 0);
    let mut scratch = MetricScratch::default();
    let k = Metric::COUNT;
    let mut formulas = Vec::with_capacity(res.formulas.len());
    for (f, fp) in res.formulas.iter().enumerate() {
        let point = scratch.compute(&v.formulas[f], &v.regions.data, groups, &fp.alloc);
        let point_x = fp.alloc.x.clone();
        let point_diff: Vec<f64> = point_x.iter().zip(&base_x).map(|(a, b)| a - b).collect();
        let spread = spread(acc, f * n..(f + 1) * n, &point_x);
        let (dist, mean_x, diff_mean, diff_se, p_gain) = match acc {
            Some(a) => {
                let dist = a.metrics[f * k..(f + 1) * k]
                    .iter()
                    .map(|m| {
                        (m.m.count() > 0).then(|| {
                            let q = m.q.quantiles(&[0.05, 0.95]);
                            MetricDist {
                                mean: m.m.mean(),
                                p05: q[0],
                                p95: q[1],
                                draws: m.m.count(),
                            }
                        })
                    })
                    .collect();
                let r = f * n..(f + 1) * n;
                (
                    dist,
                    a.x[r.clone()].iter().map(|x| x.m.mean()).collect(),
                    a.diff[r.clone()].iter().map(|d| d.mean()).collect(),
                    a.diff[r.clone()].iter().map(|d| d.se()).collect(),
                    a.gain[r].iter().map(|g| g.p()).collect(),
                )
            }
            None => (
                vec![None; k],
                point_x.clone(),
                point_diff.clone(),
                vec![0.0; n],
                point_diff
                    .iter()
                    .map(|&d| if d > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
            ),
        };
        let winners = winners_losers(&diff_mean, &diff_se, groups, rule, TOP_K)
            .map_err(|e| Error::Runtime(format!("winners and losers: {e}")))?;
        formulas.push(FormulaComparison {
            name: fp.name.clone(),
            point,
            dist,
            point_x,
            mean_x,
            diff_mean,
            diff_se,
            p_gain,
            x_p05: spread.0,
            x_p95: spread.1,
            diff_sd: spread.2,
            winners,
        });
    }
    Ok(Comparison {
        draws: mc.draws,
        seed: settings.seed,
        baseline: base,
        rule,
        formulas,
    })
}

/// Per region of one formula (`r`, its slice of the accumulators): the allocation's 5th
/// and 95th percentiles and the paired difference's standard deviation; without draws the
/// point allocation twice and 0.
fn spread(
    acc: Option<&crate::montecarlo::allocations::VerticalAcc>,
    r: std::ops::Range<usize>,
    point_x: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    match acc {
        Some(a) => {
            let q: Vec<Vec<f64>> = a.x[r.clone()]
                .iter()
                .map(|x| x.q.quantiles(&[0.05, 0.95]))
                .collect();
            (
                q.iter().map(|q| q[0]).collect(),
                q.iter().map(|q| q[1]).collect(),
                a.diff[r].iter().map(|d| d.sd()).collect(),
            )
        }
        None => (point_x.to_vec(), point_x.to_vec(), vec![0.0; point_x.len()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::montecarlo::allocations::VerticalModel;
    use crate::scenario::shipped_with;
    use approx::assert_relative_eq;

    /// The national scenario already carries revenue and quality noise, so its draws
    /// differ; nothing needs appending.
    const NOISE: &str = "";

    fn settings(draws: u64, threads: usize, baseline: usize) -> Settings {
        Settings {
            draws,
            seed: 7,
            threads,
            baseline,
            keep_regions: Vec::new(),
            save_draws: false,
            cancel: Default::default(),
            shard: None,
        }
    }

    #[test]
    fn fixed_budget_differences_sum_to_zero() {
        let scn = shipped_with("national.toml", NOISE);
        let total = scn.vertical.as_ref().unwrap().budget.total.unwrap();
        for draws in [0, 64] {
            let c = compare(&scn, &settings(draws, 2, 0), &mut |_| {}).unwrap();
            for f in &c.formulas {
                let sum: f64 = f.diff_mean.iter().sum();
                assert!(sum.abs() <= 1e-9 * total, "{} draws {draws}: {sum}", f.name);
                let o = &f.winners.overall;
                // Gains and losses count only the regions told apart from zero; with none
                // undecided they make the net on their own.
                if o.unchanged == 0 {
                    assert_relative_eq!(o.gain_total + o.loss_total, o.net, epsilon = 1e-9);
                } else {
                    assert!(o.gain_total >= 0.0 && o.loss_total <= 0.0);
                }
                assert!(o.net.abs() <= 1e-9 * total);
                assert_eq!(o.winners + o.losers + o.unchanged, f.point_x.len());
            }
            // The reform moves money: someone gains and someone loses.
            let o = &c.formulas[1].winners.overall;
            assert!(o.winners > 0 && o.losers > 0);
            assert!(o.gain_total > 0.0);
        }
    }

    /// example.toml's baseline again, with the water-source multiplier uncertain around the
    /// same centre: the differences are Monte Carlo noise around (almost) zero.
    const NOISY_TWIN: &str = include_str!("../../tests/fixtures/noisy_twin.toml");

    #[test]
    fn noise_makes_no_winners_and_every_winner_is_told_apart_from_zero() {
        let scn = shipped_with("example.toml", NOISY_TWIN);
        let (scn, b) = select(&scn, Some(&["twin".to_string()]), Some("baseline")).unwrap();
        let c = compare(&scn, &settings(40, 2, b), &mut |_| {}).unwrap();
        let twin = &c.formulas[1];
        let o = &twin.winners.overall;
        assert_eq!((o.winners, o.losers, o.unchanged), (0, 0, 4), "{twin:?}");
        // Yet every region moved a little in the mean, as the sign alone would count.
        assert!(twin.diff_mean.iter().all(|d| d.abs() > c.rule.tol));
        // Without draws the twin is the baseline at its central multiplier: nothing changes.
        let c0 = compare(&scn, &settings(0, 1, b), &mut |_| {}).unwrap();
        assert_eq!(c0.formulas[1].winners.overall.unchanged, 4);
        // On the national scenario every listed winner's interval lies above zero.
        let nat = shipped_with("national.toml", NOISE);
        let c = compare(&nat, &settings(64, 2, 0), &mut |_| {}).unwrap();
        let f = &c.formulas[1];
        for r in &f.winners.largest_winners {
            assert!(r.diff - 1.645 * f.diff_se[r.index] > 0.0);
        }
        for r in &f.winners.largest_losers {
            assert!(r.diff + 1.645 * f.diff_se[r.index] < 0.0);
        }
        let total: f64 = f.point_x.iter().sum();
        assert!((c.rule.tol - 1e-9 * total).abs() <= 1e-12 * total);
    }

    #[test]
    fn draw_metrics_are_identical_on_any_thread_count() {
        let scn = shipped_with("national.toml", NOISE);
        let a = compare(&scn, &settings(300, 1, 0), &mut |_| {}).unwrap();
        let b = compare(&scn, &settings(300, 3, 0), &mut |_| {}).unwrap();
        assert_eq!(a, b);
        // The draws vary the metrics, and the point value lies near the distribution.
        let g = a.formulas[1].dist[Metric::Gini as usize].unwrap();
        assert_eq!(g.draws, 300);
        assert!(g.p05 < g.p95);
        let p = a.formulas[1].point[Metric::Gini as usize].unwrap();
        assert!((g.p05 - 0.05..=g.p95 + 0.05).contains(&p));
    }

    #[test]
    fn select_reorders_formulas_and_readdresses_uncertain_parameters() {
        let scn = shipped_with("example.toml", "");
        // example.toml: formulas baseline, reform; reform's red-line uplift is uncertain.
        let (s, b) = select(&scn, Some(&["reform".to_string()]), Some("baseline")).unwrap();
        let names: Vec<&str> = s
            .vertical
            .as_ref()
            .unwrap()
            .formulas
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["baseline", "reform"]);
        assert_eq!(b, 0);
        let (s, b) = select(&scn, Some(&["reform".to_string()]), None).unwrap();
        assert_eq!(b, 0);
        assert_eq!(s.vertical.as_ref().unwrap().formulas.len(), 1);
        assert!(
            s.uncertain
                .iter()
                .all(|u| matches!(u.target, Target::Formula { formula: 0, .. }))
        );
        let err = select(&scn, Some(&["nope".to_string()]), None).unwrap_err();
        assert!(err.to_string().contains("nope") || format!("{err:?}").contains("nope"));
    }

    /// The national baseline (as calibrated in scenarios/national.toml) with a red-line
    /// uplift β = 0.5: a coefficient variant, the usual subject of a paired comparison.
    const UPLIFT_VARIANT: &str = "
[[formula]]
name = \"baseline_uplift\"

[formula.key]
c0 = 0.006
redline_uplift = 0.5
bands = [[0.0, 1.0], [0.5, 0.6], [0.7, 0.4]]

[formula.importance]
qinghai_tibet = 1.141
water_source = 1.0
national_park = 1.0
eco_pilot = 1.0

[formula.protected_areas]
share = 0.1177
w_area = 0.5
w_count = 0.5

[formula.guidance]
national_park = 2.0
eco_pilot = 2.0

[[formula.pool]]
name = \"poverty\"
share = 0.4469
weight = \"poverty_counties\"
";

    /// Variance ratio (independent streams / common random numbers) of the difference
    /// `formula f − formula 0`, summed over regions, over `draws` draws.
    fn crn_ratio(scn: &Scenario, f: usize, draws: u64) -> f64 {
        let v = scn.vertical.as_ref().unwrap();
        let model = VerticalModel::new(
            v,
            crate::montecarlo::noise_models(&scn.noise, v),
            &scn.uncertain,
            0,
            Vec::new(),
        );
        let n = v.regions.data.n;
        let (mut w1, mut w2) = (model.worker(), model.worker());
        let (mut crn, mut ind) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        for d in 0..draws {
            // Same draw index, other seed: the second formula's inputs are independent.
            model.evaluate(11, d, &mut w1).unwrap();
            model.evaluate(12, d, &mut w2).unwrap();
            for i in 0..n {
                let base = w1.allocs[0].x[i];
                crn[i].push(w1.allocs[f].x[i] - base);
                ind[i].push(w2.allocs[f].x[i] - base);
            }
        }
        let var = |x: &[f64]| {
            let m = x.iter().sum::<f64>() / x.len() as f64;
            x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
        };
        let v_crn: f64 = crn.iter().map(|x| var(x)).sum();
        let v_ind: f64 = ind.iter().map(|x| var(x)).sum();
        v_ind / v_crn
    }

    /// Acceptance 4: the variance of a formula difference under common random numbers is
    /// far below its variance when the second formula sees independent draws.
    #[test]
    fn common_random_numbers_shrink_the_variance_of_differences() {
        let extra = format!("{NOISE}{UPLIFT_VARIANT}");
        let scn = shipped_with("national.toml", &extra);
        let variant = crn_ratio(&scn, 2, 400);
        let reform = crn_ratio(&scn, 1, 400);
        eprintln!(
            "variance of differences, independent / common random numbers: \
             uplift variant {variant:.1}, redline_reform {reform:.2}"
        );
        // A coefficient variant responds to the shared noise almost like the baseline.
        assert!(variant > 20.0, "variant ratio {variant}");
        // A structurally different formula still gains, if less.
        assert!(reform > 1.2, "reform ratio {reform}");
    }
}
