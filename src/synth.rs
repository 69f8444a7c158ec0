//! Deterministic synthetic scenarios at national-county scale, for scale tests and benchmarks.
//!
//! [`synth_regions`] draws counties with realistic magnitudes (money in 亿元: standard
//! expenditure 5–50, revenue mostly 5–90 % of it, areas of 300–20 000 km²), four tags, and
//! about 12 % hold-harmless regions. Prior allocations are set against the `baseline`
//! formula of [`synth_formulas`] so that, under [`synth_budget`], roughly 10 % of regions
//! sit on their floor and 10 % on their growth cap. Everything is a pure function of the
//! seed (Xoshiro256++), so benches and tests see the same data on every machine.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::model::region::{Column, RegionData, RegionMeta, Regions};
use crate::model::{
    Budget, BudgetMode, Floor, Formula, KeySubsidy, OnInfeasible, PoolSize, ProtectedAreaPool,
    Quality, RedlinePool, ReverseLinkage,
};
use crate::vertical::{Workspace, allocate};

/// Tag names of synthetic regions, with the probability that a region carries each.
const TAGS: [(&str, f64); 4] = [
    ("qinghai_tibet", 0.08),
    ("water_source", 0.25),
    ("national_park", 0.10),
    ("eco_pilot", 0.15),
];

/// Share of hold-harmless regions; about 85 % of them are clean (no damage, quality not
/// worse), so about 10 % of all regions keep a binding floor.
const HOLD_HARMLESS_SHARE: f64 = 0.12;
/// Share of the other regions whose prior is set low enough for the growth cap to bind.
const CAPPED_SHARE: f64 = 0.115;
/// Prior of a floor region relative to its baseline allocation (floor h = 1 then binds).
const FLOOR_PRIOR: f64 = 1.25;
/// Prior of a capped region relative to its baseline allocation (cap 1.2 · 0.7 = 0.84).
const CAP_PRIOR: f64 = 0.7;
/// Growth cap g of the synthetic formulas.
const GROWTH_CAP: f64 = 0.2;

/// `n` synthetic regions in `groups` contiguous groups (`g01`, `g02`, …), deterministic in
/// `seed`. Ids are `r00001`…, names `合成县00001`….
pub fn synth_regions(n: usize, groups: usize, seed: u64) -> Regions {
    let groups = groups.clamp(1, n.max(1));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = RegionData::zeros(n);
    let mut capped = Vec::with_capacity(n);
    for i in 0..n {
        let e = 5.0 + 45.0 * rng.random::<f64>().powi(2);
        let ratio = if rng.random_bool(0.05) {
            rng.random_range(1.0..1.5)
        } else {
            rng.random_range(0.05..0.9)
        };
        let area = 300.0 + 19_700.0 * rng.random::<f64>().powi(2);
        let has_pa = rng.random_bool(0.65);
        let hold = rng.random_bool(HOLD_HARMLESS_SHARE);
        let clean = hold && rng.random_bool(0.85);
        let mut tags = 0u64;
        for (t, &(_, p)) in TAGS.iter().enumerate() {
            if rng.random_bool(p) {
                tags |= 1 << t;
            }
        }
        // Roughly normal ΔQ with sd ≈ 1.5: the sum of three uniforms, centred.
        let dq = (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5) * 3.0;
        let damage = if rng.random_bool(0.3) {
            rng.random_range(0.0..0.4)
        } else {
            0.0
        };
        let row = [
            (Column::StdRevenue, e * ratio),
            (Column::StdExpenditure, e),
            (Column::EcoSpending, e * rng.random_range(0.02..0.12)),
            (Column::AreaKm2, area),
            (Column::RedlineKm2, area * rng.random_range(0.05..0.8)),
            (
                Column::PaKm2,
                if has_pa {
                    area * rng.random_range(0.0..0.3)
                } else {
                    0.0
                },
            ),
            (
                Column::PaCount,
                if has_pa {
                    rng.random_range(1..9) as f64
                } else {
                    0.0
                },
            ),
            (Column::PaScore, rng.random_range(0.4..1.0)),
            (Column::Rangers, rng.random_range(0..2000) as f64),
            (Column::Population, rng.random_range(50_000.0..1_050_000.0)),
            (Column::EqiChange, if clean { dq.abs() } else { dq }),
            (Column::DamageIndex, if clean { 0.0 } else { damage }),
        ];
        for (c, v) in row {
            data.col_mut(c)[i] = v;
        }
        data.tags[i] = tags;
        data.hold_harmless[i] = hold;
        capped.push(!hold && rng.random_bool(CAPPED_SHARE));
    }

    let group_idx: Vec<u32> = (0..n).map(|i| (i * groups / n.max(1)) as u32).collect();
    let group_names: Vec<String> = (1..=groups).map(|g| format!("g{g:02}")).collect();
    let meta = RegionMeta {
        id: (1..=n).map(|i| format!("r{i:05}")).collect(),
        name: (1..=n).map(|i| format!("合成县{i:05}")).collect(),
        group: group_idx
            .iter()
            .map(|&g| group_names[g as usize].clone())
            .collect(),
        group_idx,
        groups: if n == 0 { Vec::new() } else { group_names },
        tag_names: TAGS.iter().map(|(t, _)| t.to_string()).collect(),
        extra_names: Vec::new(),
    };

    let (_, x0) = baseline_fixed_point(&data, &meta);
    for i in 0..n {
        let factor = if data.hold_harmless[i] {
            FLOOR_PRIOR
        } else if capped[i] {
            CAP_PRIOR
        } else {
            rng.random_range(0.95..1.05)
        };
        data.col_mut(Column::PriorAllocation)[i] = x0[i] * factor;
    }
    Regions { meta, data }
}

/// A key subsidy for every region with coefficient `c0`, eco-spending weight `a`, red-line
/// uplift `beta` and `bands`.
fn key(c0: f64, a: f64, beta: f64, bands: &[(f64, f64)]) -> KeySubsidy {
    KeySubsidy {
        c0,
        eco_weight: a,
        redline_uplift: beta,
        eco_weight_tags: Vec::new(),
        bands: bands.to_vec(),
    }
}

/// Three formulas over the tags of `meta`, each using every component: `baseline`,
/// `redline_reform` (heavier red-line weighting) and `quality_weighted` (stronger rewards,
/// deductions and reverse linkage). Tags missing from `meta` are skipped.
pub fn synth_formulas(meta: &RegionMeta) -> Vec<Formula> {
    let tagged = |pairs: &[(&str, f64)]| -> Vec<(u32, f64)> {
        pairs
            .iter()
            .filter_map(|&(t, v)| meta.tag_index(t).map(|i| (i, v)))
            .collect()
    };
    let importance = tagged(&[
        ("qinghai_tibet", 1.5),
        ("water_source", 1.2),
        ("national_park", 1.3),
        ("eco_pilot", 1.1),
    ]);
    let guidance = tagged(&[("national_park", 0.2), ("eco_pilot", 0.1)]);
    let bands = vec![(0.0, 1.0), (0.4, 0.8), (0.7, 0.5), (1.0, 0.0)];

    let baseline = Formula {
        name: "baseline".to_string(),
        description: "Gap subsidy with moderate pools, rewards and linkage".to_string(),
        key: Some(key(0.6, 0.0, 0.2, &bands)),
        importance: importance.clone(),
        protected_areas: Some(ProtectedAreaPool {
            size: PoolSize::Share(0.08),
            w_area: 0.6,
            w_count: 0.4,
            w_score: 0.3,
        }),
        redline: Some(RedlinePool {
            size: PoolSize::Share(0.10),
            gamma: 1.0,
            threshold: 0.3,
        }),
        guidance: guidance.clone(),
        // Summed, as the synthetic workloads were defined.
        guidance_combine: crate::model::GuidanceCombine::Sum,
        // 亿元 per ranger: 1万元 a year.
        rangers: Some(0.0001),
        quality: Some(Quality {
            thresholds: [1.0, 2.0, 3.0],
            reward: [0.0, 0.02, 0.05],
            deduction: [0.02, 0.05, 0.1],
        }),
        reverse_linkage: Some(ReverseLinkage {
            lambda: 0.5,
            max_cut: 0.2,
            tags: Vec::new(),
        }),
        floor: Some(Floor {
            h: 1.0,
            waived_on: crate::model::WaivedOn::BOTH,
        }),
        cap: Some(GROWTH_CAP),
        per_unit: Vec::new(),
        pools: Vec::new(),
        rewards: Vec::new(),
        provincial: Vec::new(),
    };
    let mut redline_reform = baseline.clone();
    redline_reform.name = "redline_reform".to_string();
    redline_reform.description = "Larger red-line pool and uplift".to_string();
    redline_reform.key = Some(key(0.55, 0.1, 0.35, &bands));
    redline_reform.protected_areas = Some(ProtectedAreaPool {
        size: PoolSize::Share(0.05),
        w_area: 0.7,
        w_count: 0.3,
        w_score: 0.5,
    });
    redline_reform.redline = Some(RedlinePool {
        size: PoolSize::Share(0.13),
        gamma: 1.5,
        threshold: 0.3,
    });

    let mut quality_weighted = baseline.clone();
    quality_weighted.name = "quality_weighted".to_string();
    quality_weighted.description = "Stronger quality rewards, deductions and linkage".to_string();
    quality_weighted.key = Some(key(0.55, 0.5, 0.2, &bands));
    quality_weighted.quality = Some(Quality {
        thresholds: [1.0, 2.0, 3.0],
        reward: [0.02, 0.05, 0.1],
        deduction: [0.05, 0.1, 0.3],
    });
    quality_weighted.reverse_linkage = Some(ReverseLinkage {
        lambda: 1.0,
        max_cut: 0.3,
        tags: Vec::new(),
    });
    quality_weighted.guidance = guidance;
    quality_weighted.importance = importance;

    vec![baseline, redline_reform, quality_weighted]
}

/// The extra columns [`add_classified`] declares.
pub const CLASSIFIED_COLUMNS: [&str; 3] = ["forest_public_mu", "grassland_ban_mu", "wetland_km2"];

/// Add the declared extra columns of classified compensation to `regions`: state-owned
/// public-welfare forest in mu (about a third of a county's land, with wide spread),
/// grassland under a grazing ban in mu (on about a fifth of the counties) and wetland in
/// km² (a few percent of the land). Drawn from a stream of its own, so the other columns
/// stay those of [`synth_regions`] with the same seed.
pub fn add_classified(regions: &mut Regions, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x636c_6173_7369_6669);
    let area = regions.data.col(Column::AreaKm2).to_vec();
    // 1 km² = 1500 mu.
    let forest: Vec<f64> = area
        .iter()
        .map(|a| (a * 1500.0 * rng.random_range(0.0..0.7)).round())
        .collect();
    let grassland: Vec<f64> = area
        .iter()
        .map(|a| {
            if rng.random_bool(0.2) {
                (a * 1500.0 * rng.random_range(0.1..0.6)).round()
            } else {
                0.0
            }
        })
        .collect();
    let wetland: Vec<f64> = area
        .iter()
        .map(|a| a * rng.random_range(0.0..0.08))
        .collect();
    regions.data.extra = vec![forest, grassland, wetland];
    regions.meta.extra_names = CLASSIFIED_COLUMNS.map(String::from).to_vec();
}

/// Give every formula two per-unit components (forest ecological-benefit compensation at
/// 10 元/mu and the grassland grazing-ban subsidy at 7.5 元/mu, in 亿元) and a wetland pool
/// of 5 % of the budget weighted by wetland area and red-line coverage above 30 %. `meta`
/// must come from [`add_classified`].
pub fn add_classified_components(formulas: &mut [Formula], meta: &RegionMeta) {
    let resolve = |name: &str| crate::model::expr::resolve(meta, name);
    let weight_text = "wetland_km2 * (1 + 0.5 * max(0, redline_km2 / area_km2 - 0.3))";
    let Ok(weight) = crate::model::expr::Expr::parse(weight_text, &resolve) else {
        return;
    };
    let (Some(forest), Some(grassland)) =
        (resolve("forest_public_mu"), resolve("grassland_ban_mu"))
    else {
        return;
    };
    for f in formulas {
        for (name, column, rate) in [
            ("forest", forest, 1e-7),
            ("grassland_ban", grassland, 7.5e-8),
        ] {
            f.per_unit.push(crate::model::PerUnit {
                name: name.into(),
                column,
                rate,
                tags: Vec::new(),
            });
        }
        f.pools.push(crate::model::GeneralPool {
            name: "wetland".into(),
            size: PoolSize::Share(0.05),
            weight: weight.clone(),
            weight_text: weight_text.into(),
        });
    }
}

/// A fixed budget for `regions`: the total at which the `baseline` formula, ignoring floors
/// and caps, pays exactly its claims (scale 1). With the priors of [`synth_regions`], about
/// 10 % of floors and 10 % of caps then bind.
pub fn synth_budget(regions: &Regions) -> Budget {
    let mut data = regions.data.clone();
    data.col_mut(Column::PriorAllocation).fill(0.0);
    let (total, _) = baseline_fixed_point(&data, &regions.meta);
    Budget {
        total: Some(total),
        mode: BudgetMode::Fixed,
        on_infeasible: OnInfeasible::Error,
        scale: Default::default(),
    }
}

/// The total T* at which the baseline formula's open-mode claims sum to T* (its share pools
/// depend on T linearly: Σ S'(T) = A + B·T, so T* = A / (1 − B)), and each region's claim
/// at T*. Priors in `data` must be zero (no floors, no caps).
fn baseline_fixed_point(data: &RegionData, meta: &RegionMeta) -> (f64, Vec<f64>) {
    let formulas = synth_formulas(meta);
    let Some(baseline) = formulas.first() else {
        return (0.0, vec![0.0; data.n]);
    };
    let claims_at = |t: f64| -> Vec<f64> {
        let budget = Budget {
            total: Some(t),
            mode: BudgetMode::Open,
            on_infeasible: OnInfeasible::Error,
            scale: Default::default(),
        };
        let mut out = Default::default();
        // Open mode without floors cannot fail; an empty result only weakens the synthetic
        // priors.
        match allocate(baseline, data, &budget, &mut Workspace::default(), &mut out) {
            Ok(()) => out.claim,
            Err(_) => vec![0.0; data.n],
        }
    };
    let c0 = claims_at(0.0);
    let c1 = claims_at(1.0);
    let a: f64 = c0.iter().sum();
    let b: f64 = c1.iter().sum::<f64>() - a;
    // Pool shares sum well below 1, so B < 1; the guard only keeps T* finite.
    let t = a / (1.0 - b).max(0.01);
    let x0 = c0.iter().zip(&c1).map(|(p, q)| p + (q - p) * t).collect();
    (t, x0)
}

/// The noise models of the synthetic scenario (workload W1 of BENCHMARKS.md): additive noise on
/// the quality change with a group common factor, multiplicative noise on revenue, and
/// additive noise on the damage index truncated to [0, 1].
pub fn synth_noise() -> Vec<crate::model::NoiseSpec> {
    use crate::model::region::Column;
    let spec = |column, multiplicative, sigma, rho, min, max| crate::model::NoiseSpec {
        column,
        multiplicative,
        sigma: Some(sigma),
        sigma_column: None,
        rho,
        min,
        max,
        ar1: 0.0,
    };
    vec![
        spec(
            Column::EqiChange,
            false,
            1.0,
            0.6,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ),
        spec(
            Column::StdRevenue,
            true,
            0.08,
            0.5,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ),
        spec(Column::DamageIndex, false, 0.05, 0.0, 0.0, 1.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vertical::Allocation;

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = synth_regions(300, 7, 42);
        let b = synth_regions(300, 7, 42);
        let c = synth_regions(300, 7, 43);
        assert_eq!(a, b);
        assert_ne!(a.data, c.data);
        assert_eq!(synth_budget(&a), synth_budget(&b));
        assert_eq!(synth_formulas(&a.meta), synth_formulas(&b.meta));
    }

    #[test]
    fn metadata_shape() {
        let r = synth_regions(31, 4, 1);
        assert_eq!(r.data.n, 31);
        assert_eq!(r.meta.id[0], "r00001");
        assert_eq!(r.meta.id[30], "r00031");
        assert_eq!(r.meta.groups, vec!["g01", "g02", "g03", "g04"]);
        assert_eq!(r.meta.group[0], "g01");
        assert_eq!(r.meta.group[30], "g04");
        assert_eq!(r.meta.tag_names.len(), 4);
        assert!(r.data.cols.iter().all(|c| c.len() == 31));
        let redline = r.data.col(Column::RedlineKm2);
        let area = r.data.col(Column::AreaKm2);
        assert!(redline.iter().zip(area).all(|(l, a)| l <= a));
        let names: Vec<_> = synth_formulas(&r.meta)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["baseline", "redline_reform", "quality_weighted"]);
    }

    #[test]
    fn roughly_ten_percent_floors_and_caps_bind() {
        let r = synth_regions(3_000, 31, 7);
        let budget = synth_budget(&r);
        let mut ws = Workspace::default();
        let mut out = Allocation::default();
        for f in synth_formulas(&r.meta) {
            allocate(&f, &r.data, &budget, &mut ws, &mut out).unwrap();
            let n = r.data.n as f64;
            let floors = out.floor_binds.iter().filter(|&&b| b).count() as f64 / n;
            let caps = out.cap_binds.iter().filter(|&&b| b).count() as f64 / n;
            assert!(
                (0.05..0.16).contains(&floors),
                "{}: floors {floors}",
                f.name
            );
            assert!((0.05..0.16).contains(&caps), "{}: caps {caps}", f.name);
            let t = budget.total.unwrap();
            assert!((out.total + out.unallocated() - t).abs() <= 1e-9 * t);
        }
    }
}
