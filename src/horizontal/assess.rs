//! Section assessment kinds (docs/model.md §2.1): the P index, the GB 3838 class, and the
//! compliance rate over sub-periods.

use crate::model::Assessment;
use crate::model::agreement::Section;
use crate::model::gb3838::ClassTable;

/// The outcome of assessing one section in one period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessed {
    /// P for `p_index`, the class number for `class`, the compliant fraction for
    /// `compliance_rate`.
    pub value: f64,
    /// The observed class 1..=6 of the period means, or 0 when an indicator has no limits.
    pub class: u8,
    pub met: bool,
}

/// The worst class over indicators of a set of values, or 0 when one has no limits.
fn worst_class(sec: &Section, table: &ClassTable, v: &[f64], slot: impl Fn(usize) -> usize) -> u8 {
    let mut worst = 1u8;
    for (j, ind) in sec.indicators.iter().enumerate() {
        let Some(lim) = ind.class_row.and_then(|r| table.limits[r]) else {
            return 0;
        };
        worst = worst.max(lim.class_of(v[slot(j)]));
    }
    worst
}

/// `k0 · Σ k_j · C_j / C0_j` for period `t`. Validation guarantees weights and non-zero
/// baselines for `p_index` sections.
pub fn p_index(sec: &Section, k0: f64, v: &[f64], t: usize) -> f64 {
    let mut s = 0.0;
    for ind in &sec.indicators {
        let w = ind.weight.get(t).copied().unwrap_or(0.0);
        let c0 = ind.baseline.map_or(f64::NAN, |b| v[b]);
        s += w * v[ind.values[t]] / c0;
    }
    k0 * s
}

/// Assess one section in period `t`.
pub fn assess(sec: &Section, table: &ClassTable, v: &[f64], t: usize) -> Assessed {
    let class = worst_class(sec, table, v, |j| sec.indicators[j].values[t]);
    match &sec.assessment {
        Assessment::PIndex { k0, threshold } => {
            let p = p_index(sec, v[*k0], v, t);
            Assessed {
                value: p,
                class,
                met: p <= *threshold,
            }
        }
        Assessment::Class { target } => Assessed {
            value: f64::from(class),
            class,
            met: class != 0 && class <= *target,
        },
        Assessment::ComplianceRate {
            target,
            required,
            annual_too,
        } => {
            let months = sec
                .indicators
                .first()
                .map_or(0, |i| i.monthly.get(t).map_or(0, Vec::len));
            let mut ok = 0usize;
            for m in 0..months {
                let c = worst_class(sec, table, v, |j| sec.indicators[j].monthly[t][m]);
                if c != 0 && c <= *target {
                    ok += 1;
                }
            }
            let frac = if months == 0 {
                0.0
            } else {
                ok as f64 / months as f64
            };
            let req = required.get(t).copied().unwrap_or(1.0);
            // A tiny tolerance so that 10/12 meets a required 0.8333 written to 4 places
            // is not decided by the last bit of the division.
            let mut met = frac + 1e-12 >= req;
            if *annual_too {
                met &= class != 0 && class <= *target;
            }
            Assessed {
                value: frac,
                class,
                met,
            }
        }
    }
}
