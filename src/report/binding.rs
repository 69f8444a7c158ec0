//! The report's list of regions paid their hold-harmless floor or their growth cap: for
//! those regions the formula's weights decide nothing, and a reader of a briefing needs to
//! know which they are.

use super::html::Table;
use crate::model::Scenario;
use crate::montecarlo::McResults;
use crate::run::point::PointResults;

/// Most regions listed per formula.
const MAX_ROWS: usize = 40;

/// Regions on a floor or a cap, per formula: at the point estimate, or in any draw.
pub fn binding_table(scn: &Scenario, res: &PointResults, mc: Option<&McResults>) -> Option<Table> {
    let v = scn.vertical.as_ref()?;
    let n = v.regions.data.n;
    let acc = mc.and_then(|mc| mc.vertical.as_ref().filter(|_| mc.draws > 0));
    let mut header: Vec<String> = ["formula", "region", "group", "allocation", "at the point"]
        .map(String::from)
        .to_vec();
    if acc.is_some() {
        header.extend(["P(floor)".to_string(), "P(cap)".to_string()]);
    }
    let mut rows = Vec::new();
    let mut left_out = Vec::new();
    for (f, fp) in res.formulas.iter().enumerate() {
        let a = &fp.alloc;
        let p = |i: usize| acc.map_or(0.0, |acc| acc.floor[f * n + i].p() + acc.cap[f * n + i].p());
        let bound = |i: usize| a.floor_binds[i] || a.cap_binds[i] || p(i) > 0.0;
        // The regions most often bound first; a county-scale formula lists the first
        // MAX_ROWS, and the CSV files have every region.
        let mut order: Vec<usize> = (0..n).filter(|&i| bound(i)).collect();
        order.sort_by(|&i, &j| {
            let point = |k: usize| u8::from(a.floor_binds[k] || a.cap_binds[k]);
            (point(j), p(j))
                .partial_cmp(&(point(i), p(i)))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        if order.len() > MAX_ROWS {
            left_out.push(format!("{} more of {}", order.len() - MAX_ROWS, fp.name));
            order.truncate(MAX_ROWS);
        }
        for i in order {
            let (p_floor, p_cap) = acc.map_or((0.0, 0.0), |acc| {
                (acc.floor[f * n + i].p(), acc.cap[f * n + i].p())
            });
            let (floor, cap) = (a.floor_binds[i], a.cap_binds[i]);
            if !(floor || cap || p_floor > 0.0 || p_cap > 0.0) {
                continue;
            }
            let at_point = match (floor, cap) {
                (true, _) => format!("floor {}", crate::numfmt::display(a.floor[i])),
                (_, true) => format!("cap {}", crate::numfmt::display(a.cap[i])),
                _ => "neither".to_string(),
            };
            let mut row = vec![
                fp.name.clone(),
                v.regions.meta.name[i].clone(),
                v.regions.meta.group[i].clone(),
                crate::numfmt::display(a.x[i]),
                at_point,
            ];
            if acc.is_some() {
                row.extend([pct(p_floor), pct(p_cap)]);
            }
            rows.push(row);
        }
    }
    let mut note = if rows.is_empty() {
        "No region is paid its floor or its cap, in any formula or draw.".to_string()
    } else {
        "A region on its hold-harmless floor gets the floor whatever the formula's weights say; one on its growth cap gets the cap. P(floor) and P(cap) are the shares of Monte Carlo draws in which that happens.".to_string()
    };
    if !left_out.is_empty() {
        note.push_str(&format!(
            " Not listed: {} (regions.csv has p_floor and p_cap for every region, breakdown.csv the point estimate).",
            left_out.join(", ")
        ));
    }
    Some(Table {
        title: "Regions paid their floor or cap".into(),
        note,
        header,
        rows,
    })
}

fn pct(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

#[cfg(test)]
mod tests {
    use super::binding_table;
    use crate::run::pipeline::{Exporters, Job, McOptions, Quiet, Request, RunJob, execute};

    #[test]
    fn lists_exactly_the_regions_on_a_floor_or_cap() {
        let req = Request {
            scenario: crate::scenario::shipped_with("example.toml", ""),
            shards: Default::default(),
            job: Job::Run(RunJob {
                mc: McOptions {
                    draws: Some(0),
                    seed: Some(1),
                    threads: 1,
                },
                ..RunJob::default()
            }),
            out: None,
            command_line: Vec::new(),
        };
        let (out, _) = execute(req, &Exporters::default(), &Quiet, &Default::default()).unwrap();
        let t = binding_table(&out.scenario, &out.point, None).unwrap();
        let want: usize = out
            .point
            .formulas
            .iter()
            .map(|f| {
                (0..f.alloc.x.len())
                    .filter(|&i| f.alloc.floor_binds[i] || f.alloc.cap_binds[i])
                    .count()
            })
            .sum();
        // The national default has no floors or caps (no public 2019 allocation); the
        // example's reform caps two of its four regions.
        assert!(want > 0, "the example's reform has binding floors or caps");
        assert_eq!(t.rows.len(), want);
        assert!(
            t.rows
                .iter()
                .all(|r| r[4].starts_with("floor") || r[4].starts_with("cap"))
        );
        // Without draws there are no probability columns.
        assert_eq!(t.header.len(), 5);
    }
}
