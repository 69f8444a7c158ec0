//! JSON serialisers: `summary.json` and `manifest.json` (docs/model.md §4).

use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::model::{BudgetMode, BudgetScale};
use crate::run::pipeline::{Outcome, RunInfo};
use serde_json::{Value, json};

fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v)
        .map_err(|e| Error::Runtime(format!("JSON serialisation failed: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// Finite numbers as JSON numbers; ±∞ and NaN as strings (JSON has no such numbers).
pub fn jnum(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        json!(crate::numfmt::num(v))
    }
}

/// `summary.json`: scenario, settings, per-formula totals and unallocated money, warnings.
pub fn summary_json(out: &Outcome, extra: Value) -> Result<Vec<u8>> {
    let (scn, res, info) = (&out.scenario, &out.point, &out.info);
    let mut formulas = Vec::new();
    if let Some(v) = &scn.vertical {
        for fp in &res.formulas {
            let a = &fp.alloc;
            formulas.push(json!({
                "name": fp.name,
                "total": jnum(a.total),
                "unallocated": jnum(a.unallocated()),
                "pool_unallocated": jnum(a.pool_unallocated),
                "cap_unallocated": jnum(a.cap_unallocated),
                "budget_scale": jnum(a.scale),
                "floors_scaled": a.floors_scaled,
                "regions_floor_binding": a.floor_binds.iter().filter(|b| **b).count(),
                "regions_capped": a.cap_binds.iter().filter(|b| **b).count(),
                "regions_deducted": a.q.iter().filter(|q| **q < 0.0).count(),
                "regions_rewarded": a.q.iter().filter(|q| **q > 0.0).count(),
            }));
            if !fp.groups.is_empty()
                && let Some(Value::Object(o)) = formulas.last_mut()
            {
                o.insert("groups".into(), groups_value(v, fp));
            }
        }
    }
    let budget = scn.vertical.as_ref().map(|v| {
        json!({
            "total": v.budget.total.map(jnum),
            "mode": match v.budget.mode { BudgetMode::Fixed => "fixed", BudgetMode::Open => "open" },
            "scale": match v.budget.scale { BudgetScale::Key => "key", BudgetScale::All => "all" },
        })
    });
    let mut doc = json!({
        "scenario": {
            "name": scn.meta.name,
            "description": scn.meta.description,
            "year": scn.meta.year,
            "currency": scn.meta.currency,
            "path": scn.path.display().to_string(),
            "sha256": scn.sha256,
        },
        "seed": info.seed,
        "draws": info.draws,
        "threads": info.threads,
        "budget": budget,
        "formulas": formulas,
        "unallocated": res.formulas.iter().map(|f| (f.name.clone(), jnum(f.alloc.unallocated()))).collect::<serde_json::Map<_, _>>(),
        "warnings": scn.warnings,
    });
    if !scn.agreements.is_empty()
        && let Value::Object(d) = &mut doc
    {
        d.insert(
            "basins".into(),
            crate::report::basins::summary_value(&res.basins(scn)),
        );
    }
    if let (Value::Object(d), Value::Object(e)) = (&mut doc, extra) {
        d.extend(e);
    }
    to_bytes(&doc)
}

/// Two tiers: per group, the central total, what the province retained and what its
/// counties received, and the method it used (`null`: passed through).
fn groups_value(v: &crate::model::Vertical, fp: &crate::run::point::FormulaPoint) -> Value {
    let meta = &v.regions.meta;
    let groups: Vec<Value> = fp
        .groups
        .iter()
        .enumerate()
        .map(|(g, flow)| {
            let received: f64 = (0..v.regions.data.n)
                .filter(|&i| meta.group_idx[i] as usize == g)
                .map(|i| fp.alloc.x[i])
                .sum();
            json!({
                "group": meta.groups[g],
                "method": flow.method.and_then(|k| v.formulas.get(k)).map(|f| f.name.clone()),
                "total": jnum(flow.total),
                "retained": jnum(flow.retained),
                "received": jnum(received),
                "unallocated": jnum(flow.unallocated),
            })
        })
        .collect();
    Value::Array(groups)
}

/// `manifest.json`: tool version, command line, scenario path and hash, seed, times.
/// `plot_seconds` is the time spent drawing figures.
pub fn manifest_json(scn: &Scenario, info: &RunInfo, plot_seconds: f64) -> Result<Vec<u8>> {
    to_bytes(&json!({
        "tool": "ecocomp",
        "version": env!("CARGO_PKG_VERSION"),
        "command_line": info.command_line,
        "scenario_path": scn.path.display().to_string(),
        "scenario_sha256": scn.sha256,
        "seed": info.seed,
        "draws": info.draws,
        "threads": info.threads,
        "start_time": rfc3339(info.started),
        "wall_time_seconds": info.wall_seconds,
        "compute_seconds": info.compute_seconds,
        "plot_seconds": plot_seconds,
        "shard": info.shard.as_ref().map(|(s, r)| json!({ "k": s.k, "n": s.n, "first": r.start, "end": r.end })),
        // A multi-year path, and whether its quality response was on: every output of a
        // run with the response says so.
        "path": scn.policy_path.as_ref().map(|p| json!({
            "years": p.years,
            "quality_response": p.kappa,
        })),
        "merged_from": info.merged.iter().map(|r| json!({
            "k": r.k,
            "state_file": r.file.display().to_string(),
            "crc32": r.checksum,
            "draw_files": r.draw_files,
        })).collect::<Vec<_>>(),
    }))
}

/// RFC 3339 UTC timestamp of a system time (civil-from-days, no time-zone database).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A distribution summary as JSON (`null` without draws).
pub fn summary_value(acc: &crate::montecarlo::allocations::Acc) -> Value {
    if acc.m.count() == 0 {
        return Value::Null;
    }
    let q = acc.q.quantiles(&crate::report::csv::QUANTILES);
    json!({
        "mean": jnum(acc.m.mean()), "sd": jnum(acc.m.sd()), "se": jnum(acc.m.se()),
        "min": jnum(acc.m.min()), "max": jnum(acc.m.max()),
        "p05": jnum(q[0]), "p25": jnum(q[1]), "p50": jnum(q[2]), "p75": jnum(q[3]), "p95": jnum(q[4]),
    })
}

/// Monte Carlo part of `summary.json`: per formula, the distributions of the money moved by
/// deductions, rewards and floors, of the unallocated amount and of the Gini coefficient.
pub fn mc_summary(out: &Outcome, mc: &crate::montecarlo::McResults, warnings: &[String]) -> Value {
    let scn = &out.scenario;
    let mut formulas = serde_json::Map::new();
    if let (Some(v), Some(acc)) = (&scn.vertical, &mc.vertical) {
        for (f, formula) in v.formulas.iter().enumerate() {
            formulas.insert(
                formula.name.clone(),
                json!({
                    "deducted": summary_value(&acc.deducted[f]),
                    "rewarded": summary_value(&acc.rewarded[f]),
                    "floor_paid": summary_value(&acc.floor_paid[f]),
                    "unallocated": summary_value(&acc.unallocated[f]),
                    "gini": summary_value(&acc.gini[f]),
                }),
            );
        }
    }
    let reference: Vec<Value> = out
        .metrics
        .reference
        .iter()
        .map(|(name, n, rho)| json!({ "formula": name, "regions": n, "spearman": rho.map(jnum) }))
        .collect();
    json!({
        "monte_carlo": {
            "draws": mc.draws,
            "quantiles": if (mc.draws as usize) <= mc.exact_limit { "exact (type 7)" } else { "sketch (relative error ≤ 0.5%)" },
            "exact_limit_per_output": mc.exact_limit,
            "formulas": formulas,
        },
        "reference_rank_correlation": reference,
        "comparison_point": out
            .metrics
            .formulas
            .iter()
            .map(|(name, vals)| {
                let m: serde_json::Map<String, Value> = crate::metrics::allocation::Metric::ALL
                    .iter()
                    .map(|k| (k.name().to_string(), vals[*k as usize].map_or(Value::Null, jnum)))
                    .collect();
                (name.clone(), Value::Object(m))
            })
            .collect::<serde_json::Map<_, _>>(),
        "warnings": warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        let at = |s: u64| rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_909_069), "2026-11-28T23:37:49Z");
    }
}
