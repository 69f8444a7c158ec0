//! `--save-draws`: every draw of every output as a long CSV, for small runs only. The run
//! is refused before it starts when the file would exceed [`MAX_SAVED_VALUES`] values.

use super::Settings;
use super::allocations::VerticalModel;
use super::settlements::AgreementModel;
use crate::error::{Error, Problem, Result};
use crate::model::Scenario;

/// Most values `--save-draws` writes (about 40 bytes each in the CSV: ~200 MB).
pub const MAX_SAVED_VALUES: u64 = 5_000_000;

/// Values one draw produces: one per formula × region, agreement × party × period and
/// agreement × section × period.
pub fn values_per_draw(scn: &Scenario) -> u64 {
    let v = scn
        .vertical
        .as_ref()
        .map_or(0, |v| v.regions.data.n * v.formulas.len());
    let h: usize = scn
        .agreements
        .iter()
        .map(|a| a.n_periods() * (a.n_parties() + a.sections.len()))
        .sum();
    (v + h) as u64
}

/// Refuse early (exit code 2) when the draws would not fit the limit.
pub fn check_size(scn: &Scenario, draws: u64) -> Result<()> {
    let per = values_per_draw(scn).max(1);
    let total = per.saturating_mul(draws);
    if total > MAX_SAVED_VALUES {
        return Err(Error::invalid(vec![Problem::new(
            "--save-draws",
            "command line",
            format!("--draws {draws}"),
            format!(
                "saving every draw would write {total} values (about {} MB); --save-draws is for small runs: use at most {} draws for this scenario, or drop --save-draws",
                total * 40 / 1_000_000,
                MAX_SAVED_VALUES / per
            ),
        )]));
    }
    Ok(())
}

/// Every draw of every output, in memory: per draw, [`values_per_draw`] values in a fixed
/// order (each formula's regions, then each agreement's parties × periods and its
/// sections × periods). The report layer writes them as `draws.csv`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SavedDraws {
    /// Values per draw.
    pub per_draw: usize,
    /// `draws × per_draw` values, draw-major.
    pub values: Vec<f64>,
}

impl SavedDraws {
    /// The values of draw `d`.
    pub fn draw(&self, d: usize) -> &[f64] {
        &self.values[d * self.per_draw..(d + 1) * self.per_draw]
    }

    /// Number of draws held.
    pub fn draws(&self) -> usize {
        self.values.len().checked_div(self.per_draw).unwrap_or(0)
    }
}

/// Evaluate every draw again with the general allocator and settlement, and keep each
/// output's value (see [`SavedDraws`] for the order). Stops between draws once
/// `settings.cancel` is cancelled.
pub fn save_draws(
    scn: &Scenario,
    settings: &Settings,
    vmodel: Option<&VerticalModel>,
    amodels: &[AgreementModel],
) -> Result<SavedDraws> {
    let per_draw = values_per_draw(scn) as usize;
    let mut values = Vec::with_capacity(per_draw.saturating_mul(settings.draws as usize));
    let mut vw = vmodel.map(VerticalModel::worker);
    let mut aws: Vec<_> = amodels.iter().map(AgreementModel::worker).collect();
    for d in 0..settings.draws {
        settings.cancel.check()?;
        if let (Some(m), Some(wk), Some(v)) = (vmodel, vw.as_mut(), scn.vertical.as_ref()) {
            m.evaluate(settings.seed, d, wk)?;
            for f in 0..v.formulas.len() {
                values.extend_from_slice(&wk.allocs[f].x);
            }
        }
        for (m, wk) in amodels.iter().zip(aws.iter_mut()) {
            m.evaluate(settings.seed, d, wk);
            let (a, s) = (m.a, &wk.out);
            for p in 0..a.parties.len() {
                for t in 0..a.periods.len() {
                    let k = s.pt(p, t);
                    values.push(s.net[k] + s.central[k]);
                }
            }
            for j in 0..a.sections.len() {
                for t in 0..a.periods.len() {
                    values.push(s.value[s.st(j, t)]);
                }
            }
        }
    }
    Ok(SavedDraws { per_draw, values })
}
