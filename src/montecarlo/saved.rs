//! `--save-draws`: every draw of every output, in long form. As CSV the draws are held in
//! memory ([`save_draws`]), so the run is refused before it starts when the file would
//! exceed [`MAX_SAVED_VALUES`] values. As Parquet they are streamed ([`stream_draws`]) to
//! a writer that keeps one row group at a time, so the only limit is the disk
//! ([`check_space`]).

use super::Settings;
use super::allocations::VerticalModel;
use super::settlements::AgreementModel;
use crate::cancel::Cancel;
use crate::error::{Error, Problem, Result};
use crate::model::Scenario;
use std::ops::Range;
use std::path::Path;

/// Most values `--save-draws` writes (about 40 bytes each in the CSV: ~200 MB).
pub const MAX_SAVED_VALUES: u64 = 5_000_000;

/// The file format of `--save-draws`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DrawsFormat {
    /// `draws.csv`, built in memory: small runs only ([`MAX_SAVED_VALUES`]).
    #[default]
    Csv,
    /// `draws.parquet`, streamed in row groups: bounded memory, any number of draws that
    /// fits the disk.
    Parquet,
}

impl DrawsFormat {
    /// The file the draws are saved in.
    pub fn file_name(self) -> &'static str {
        match self {
            DrawsFormat::Csv => "draws.csv",
            DrawsFormat::Parquet => "draws.parquet",
        }
    }
}

/// Bytes `draws.parquet` takes per value, an upper estimate for the disk-space check:
/// measured at 6.5 (the national scenario, 1,000,000 draws). The values are drawn
/// doubles, which zstd shrinks little (the national default's are cheaper than 8 bytes
/// because its capped and floored regions repeat their amounts), while the draw, kind,
/// group, id and period columns cost almost nothing once dictionary- and
/// run-length-encoded.
pub const PARQUET_BYTES_PER_VALUE: u64 = 10;

/// Room left free on the output's file system beyond the estimate, for the other files
/// and whatever else writes there meanwhile.
pub const SPACE_MARGIN_BYTES: u64 = 64 << 20;

/// Values one draw produces: one per formula × region, agreement × party × period and
/// agreement × section × period.
pub fn values_per_draw(scn: &Scenario) -> u64 {
    let years = scn.policy_path.as_ref().map_or(1, |p| p.len().max(1));
    let v = scn
        .vertical
        .as_ref()
        .map_or(0, |v| v.regions.data.n * v.formulas.len() * years);
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

/// Refuse early (exit code 2) when `draws` draws in Parquet would not fit the file
/// system holding `dir` (the output's staging folder), by [`PARQUET_BYTES_PER_VALUE`].
pub fn check_space(scn: &Scenario, draws: u64, dir: &Path) -> Result<()> {
    let need = values_per_draw(scn)
        .saturating_mul(draws)
        .saturating_mul(PARQUET_BYTES_PER_VALUE);
    let free = fs4::available_space(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    if need.saturating_add(SPACE_MARGIN_BYTES) > free {
        return Err(Error::invalid(vec![Problem::new(
            "--save-draws",
            "command line",
            format!("--draws {draws}"),
            format!(
                "draws.parquet would take about {} MB, and the file system of {} has {} MB free; free some space, write elsewhere with --out, or save fewer draws",
                need / 1_000_000,
                dir.display(),
                free / 1_000_000
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

/// Receives the draws of [`stream_draws`] one at a time, in draw order.
pub trait DrawSink {
    /// Draw `d`'s [`values_per_draw`] values, in the order of [`SavedDraws`]. The slice is
    /// reused for the next draw.
    fn draw(&mut self, d: u64, values: &[f64]) -> Result<()>;
}

impl DrawSink for SavedDraws {
    fn draw(&mut self, _d: u64, values: &[f64]) -> Result<()> {
        self.values.extend_from_slice(values);
        Ok(())
    }
}

/// Evaluate the draws of `draws` again with the general allocator and settlement, in
/// order, and hand each draw's values to `sink` (see [`SavedDraws`] for their order).
/// Only one draw is held at a time, so memory does not grow with the number of draws.
/// Stops between draws once `cancel` is cancelled.
pub fn stream_draws(
    scn: &Scenario,
    seed: u64,
    draws: Range<u64>,
    vmodel: Option<&VerticalModel>,
    amodels: &[AgreementModel],
    cancel: &Cancel,
    sink: &mut dyn DrawSink,
) -> Result<()> {
    let mut values = Vec::with_capacity(values_per_draw(scn) as usize);
    let mut vw = vmodel.map(VerticalModel::worker);
    // The later years of a path, evaluated after the first, year by year.
    let pm = match (&scn.policy_path, &scn.vertical) {
        (Some(p), Some(v)) if p.len() > 1 => Some(super::path::PathModel::new(
            p,
            v,
            super::noise_models(&scn.noise, v),
            scn.noise.iter().map(|s| s.ar1).collect(),
        )),
        _ => None,
    };
    let mut yw = match (&pm, vmodel) {
        (Some(p), Some(m)) => Some(p.workers(m, None)),
        _ => None,
    };
    let mut aws: Vec<_> = amodels.iter().map(AgreementModel::worker).collect();
    for d in draws {
        cancel.check()?;
        values.clear();
        if let (Some(m), Some(wk), Some(v)) = (vmodel, vw.as_mut(), scn.vertical.as_ref()) {
            m.evaluate(seed, d, wk)?;
            for f in 0..v.formulas.len() {
                values.extend_from_slice(&wk.allocs[f].x);
            }
            if let (Some(p), Some(yw)) = (&pm, yw.as_mut()) {
                p.evaluate_rest(m, seed, d, wk, yw, &mut |w| {
                    for a in &w.allocs {
                        values.extend_from_slice(&a.x);
                    }
                })?;
            }
        }
        for (m, wk) in amodels.iter().zip(aws.iter_mut()) {
            m.evaluate(seed, d, wk);
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
        sink.draw(d, &values)?;
    }
    Ok(())
}

/// [`stream_draws`] with the models built here from the scenario, as the Monte Carlo
/// builds them: for a writer that runs after the Monte Carlo and holds only its outcome.
/// The values depend on the scenario, `seed` and the draw index only.
pub fn stream_scenario_draws(
    scn: &Scenario,
    seed: u64,
    draws: Range<u64>,
    cancel: &Cancel,
    sink: &mut dyn DrawSink,
) -> Result<()> {
    let vmodel = scn.vertical.as_ref().map(|v| {
        // The baseline and the kept regions only steer the accumulators, never a draw's
        // values, so any valid ones will do.
        VerticalModel::new(
            v,
            super::noise_models(&scn.noise, v),
            &scn.uncertain,
            0,
            Vec::new(),
        )
    });
    let amodels = scn
        .agreements
        .iter()
        .map(AgreementModel::new)
        .collect::<std::result::Result<Vec<_>, String>>()
        .map_err(Error::Runtime)?;
    stream_draws(scn, seed, draws, vmodel.as_ref(), &amodels, cancel, sink)
        .map_err(|e| scn.locate(e))
}

/// Every draw of the run, in memory ([`stream_draws`] into a [`SavedDraws`]). Stops
/// between draws once `settings.cancel` is cancelled.
pub fn save_draws(
    scn: &Scenario,
    settings: &Settings,
    vmodel: Option<&VerticalModel>,
    amodels: &[AgreementModel],
) -> Result<SavedDraws> {
    let per_draw = values_per_draw(scn) as usize;
    let mut saved = SavedDraws {
        per_draw,
        values: Vec::with_capacity(per_draw.saturating_mul(settings.draws as usize)),
    };
    stream_draws(
        scn,
        settings.seed,
        0..settings.draws,
        vmodel,
        amodels,
        &settings.cancel,
        &mut saved,
    )?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects the draw indices and values it is handed.
    #[derive(Default)]
    struct Collect {
        draws: Vec<u64>,
        values: Vec<f64>,
    }

    impl DrawSink for Collect {
        fn draw(&mut self, d: u64, values: &[f64]) -> Result<()> {
            self.draws.push(d);
            self.values.extend_from_slice(values);
            Ok(())
        }
    }

    #[test]
    fn a_range_of_draws_streams_the_same_values_as_the_whole_run_holds() {
        let scn = crate::scenario::shipped_with("county_two_tier.toml", "");
        let settings = Settings {
            draws: 9,
            seed: 4,
            threads: 2,
            baseline: 0,
            keep_regions: Vec::new(),
            save_draws: true,
            cancel: Cancel::new(),
            shard: None,
        };
        let run = super::super::run(&scn, &settings, &mut |_| {}).unwrap();
        let saved = run.saved.unwrap();
        assert_eq!(saved.draws(), 9);
        let mut part = Collect::default();
        stream_scenario_draws(&scn, 4, 3..7, &Cancel::new(), &mut part).unwrap();
        assert_eq!(part.draws, [3, 4, 5, 6]);
        let want: Vec<u64> = (3..7)
            .flat_map(|d| saved.draw(d))
            .map(|v| v.to_bits())
            .collect();
        let got: Vec<u64> = part.values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn streaming_stops_once_cancelled() {
        let scn = crate::scenario::shipped_with("example.toml", "");
        let cancel = Cancel::new();
        cancel.cancel();
        let mut sink = Collect::default();
        let r = stream_scenario_draws(&scn, 1, 0..5, &cancel, &mut sink);
        assert!(matches!(r, Err(Error::Interrupted)));
        assert!(sink.draws.is_empty());
    }

    #[test]
    fn parquet_draws_beyond_the_free_space_are_a_usage_error() {
        let scn = crate::scenario::shipped_with("example.toml", "");
        let dir = tempfile::tempdir().unwrap();
        check_space(&scn, 10, dir.path()).unwrap();
        let e = check_space(&scn, u64::MAX / 4, dir.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains("draws.parquet would take"), "{e}");
    }
}
