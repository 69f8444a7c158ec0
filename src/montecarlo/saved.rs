//! `--save-draws`: every draw of every output as a long CSV, for small runs only. The run
//! is refused before it starts when the file would exceed [`MAX_SAVED_VALUES`] values.

use super::Settings;
use super::settlements::AgreementModel;
use super::allocations::VerticalModel;
use crate::error::{Error, Problem, Result};
use crate::output::num;
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

/// The long CSV `draw, kind, group, id, period, value`: kind is `region` (group = formula),
/// `party` or `section` (group = agreement).
pub fn draws_csv(
    scn: &Scenario,
    settings: &Settings,
    vmodel: Option<&VerticalModel>,
    amodels: &[AgreementModel],
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Runtime(format!("CSV serialisation failed: {e}"));
    w.write_record(["draw", "kind", "group", "id", "period", "value"])
        .map_err(err)?;
    let mut vw = vmodel.map(VerticalModel::worker);
    let mut aws: Vec<_> = amodels.iter().map(AgreementModel::worker).collect();
    for d in 0..settings.draws {
        if crate::interrupt::interrupted() {
            return Err(Error::Interrupted);
        }
        let ds = d.to_string();
        if let (Some(m), Some(wk), Some(v)) = (vmodel, vw.as_mut(), scn.vertical.as_ref()) {
            m.evaluate(settings.seed, d, wk)?;
            for (f, formula) in v.formulas.iter().enumerate() {
                for (i, id) in v.regions.meta.id.iter().enumerate() {
                    w.write_record([
                        ds.as_str(),
                        "region",
                        &formula.name,
                        id,
                        "",
                        &num(wk.allocs[f].x[i]),
                    ])
                    .map_err(err)?;
                }
            }
        }
        for (m, wk) in amodels.iter().zip(aws.iter_mut()) {
            m.evaluate(settings.seed, d, wk);
            let a = m.a;
            let s = &wk.out;
            for (p, party) in a.parties.iter().enumerate() {
                for (t, period) in a.periods.iter().enumerate() {
                    let k = s.pt(p, t);
                    w.write_record([
                        ds.as_str(),
                        "party",
                        &a.name,
                        party,
                        period,
                        &num(s.net[k] + s.central[k]),
                    ])
                    .map_err(err)?;
                }
            }
            for (j, sec) in a.sections.iter().enumerate() {
                for (t, period) in a.periods.iter().enumerate() {
                    w.write_record([
                        ds.as_str(),
                        "section",
                        &a.name,
                        &sec.name,
                        period,
                        &num(s.value[s.st(j, t)]),
                    ])
                    .map_err(err)?;
                }
            }
        }
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}
