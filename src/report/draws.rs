//! `draws.csv`: every draw of every output in long form, `draw, kind, group, id, period,
//! value`, where kind is `region` (group = formula; period = the year on a multi-year
//! path, else blank), `party` or `section` (group = agreement).

use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::montecarlo::saved::SavedDraws;
use crate::numfmt::num;

/// The `period` of the region rows: each year of a path in turn (year-major, as the draws
/// hold them), or one blank period without a path.
pub fn path_periods(scn: &Scenario) -> Vec<String> {
    match &scn.policy_path {
        Some(p) => p.years.iter().map(i64::to_string).collect(),
        None => vec![String::new()],
    }
}

/// The CSV of `saved`, whose values follow the order of
/// [`crate::montecarlo::saved::SavedDraws`].
/// `first` is the index of the first draw held (a shard's draws start past 0).
pub fn draws_csv(scn: &Scenario, saved: &SavedDraws, first: u64) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Runtime(format!("CSV serialisation failed: {e}"));
    w.write_record(["draw", "kind", "group", "id", "period", "value"])
        .map_err(err)?;
    let years = path_periods(scn);
    for d in 0..saved.draws() {
        let ds = (first + d as u64).to_string();
        let mut values = saved.draw(d).iter();
        let mut row = |kind: &str, group: &str, id: &str, period: &str| {
            let v = values.next().copied().unwrap_or(f64::NAN);
            w.write_record([ds.as_str(), kind, group, id, period, &num(v)])
        };
        if let Some(v) = &scn.vertical {
            for year in &years {
                for formula in &v.formulas {
                    for id in &v.regions.meta.id {
                        row("region", &formula.name, id, year).map_err(err)?;
                    }
                }
            }
        }
        for a in &scn.agreements {
            for party in &a.parties {
                for period in &a.periods {
                    row("party", &a.name, party, period).map_err(err)?;
                }
            }
            for sec in &a.sections {
                for period in &a.periods {
                    row("section", &a.name, &sec.name, period).map_err(err)?;
                }
            }
        }
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}
