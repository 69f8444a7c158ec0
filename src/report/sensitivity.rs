//! The outputs of `ecocomp sensitivity`: `sensitivity.csv`, one tornado chart per output,
//! and the console table.

use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::numfmt::{display, snap_zero};
use crate::plots::{Chart, TornadoChart, TornadoItem};
use crate::sensitivity::analysis::{Indices, SensitivityRun};

/// `sensitivity.csv`: one row per input × output. Morris fills `mu_star` and `sigma`, Sobol
/// the index columns; the other method's columns are empty.
pub fn sensitivity_csv(r: &SensitivityRun) -> Result<Vec<u8>> {
    use crate::numfmt::num;
    let err = |e: csv::Error| Error::Runtime(format!("CSV serialisation failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "method", "input", "output", "mu_star", "sigma", "s1", "s1_low", "s1_high", "st", "st_low",
        "st_high",
    ])
    .map_err(err)?;
    let blank = String::new;
    for (i, input) in r.inputs.iter().enumerate() {
        for (o, output) in r.outputs.iter().enumerate() {
            let cells: Vec<String> = match &r.indices {
                Indices::Morris(m) => {
                    let x = m.index(i, o).copied().unwrap_or_default();
                    let mut c = vec!["morris".into(), input.clone(), output.clone()];
                    c.extend([num(x.mu_star), num(x.sigma)]);
                    c.extend((0..6).map(|_| blank()));
                    c
                }
                Indices::Sobol(sr) => {
                    let x = sr.index(i, o).copied().unwrap_or_default();
                    let mut c = vec!["sobol".into(), input.clone(), output.clone()];
                    c.extend([blank(), blank()]);
                    c.extend([x.s1, x.s1_low, x.s1_high, x.st, x.st_low, x.st_high].map(num));
                    c
                }
            };
            w.write_record(&cells).map_err(err)?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("CSV serialisation failed: {e}")))
}

/// A file-name-safe version of an output name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A parameter's name for people: `redline_reform.redline.share` (or the file's
/// `formula[1].redline.share`) reads "redline_reform:
/// red-line pool share" (the formula's name, then its field in words where it is a known
/// one, the field path otherwise), `budget.total` reads "budget total".
pub fn input_label(scn: &Scenario, path: &str) -> String {
    const FIELDS: [(&str, &str); 15] = [
        ("key.c0", "base coefficient c0"),
        ("key.eco_weight", "eco-spending weight a"),
        ("key.redline_uplift", "red-line uplift β"),
        ("redline.share", "red-line pool share"),
        (
            "redline.gamma",
            "red-line weight slope γ above the threshold",
        ),
        ("redline.threshold", "red-line coverage threshold"),
        ("protected_areas.share", "protected-area pool share"),
        ("rangers.unit_rate", "ranger unit rate"),
        ("reverse_linkage.lambda", "reverse-linkage rate λ"),
        ("reverse_linkage.max_cut", "largest reverse-linkage cut"),
        ("cap.growth", "growth cap"),
        ("floor.h", "hold-harmless floor share h"),
        ("quality.deduction", "quality deduction rate"),
        ("quality.reward", "quality reward rate"),
        ("quality.thresholds", "quality grade thresholds"),
    ];
    if path == "budget.total" {
        return "budget total".to_string();
    }
    // `<formula>.<field>` (as sensitivity names inputs), or the scenario file's
    // `formula[k].<field>`.
    let by_name = scn.vertical.as_ref().and_then(|v| {
        v.formulas.iter().find_map(|f| {
            path.strip_prefix(f.name.as_str())
                .and_then(|r| r.strip_prefix('.'))
                .map(|field| (f.name.clone(), field))
        })
    });
    let (name, field) = match by_name {
        Some(nf) => nf,
        None => {
            let Some(rest) = path.strip_prefix("formula[") else {
                return path.to_string();
            };
            let Some((k, field)) = rest.split_once("].") else {
                return path.to_string();
            };
            let name = k
                .parse::<usize>()
                .ok()
                .and_then(|k| scn.vertical.as_ref()?.formulas.get(k))
                .map_or_else(|| format!("formula {k}"), |f| f.name.clone());
            (name, field)
        }
    };
    let field = FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(field, |(_, words)| words);
    format!("{name}: {field}")
}

/// An output's name for people, with its unit: `alloc:xinjiang` reads "allocation of 新疆
/// (亿元)".
pub fn output_label(scn: &Scenario, output: &str) -> String {
    let unit = if scn.meta.currency.is_empty() {
        "money"
    } else {
        scn.meta.currency.as_str()
    };
    if let Some(id) = output.strip_prefix("alloc:") {
        let name = scn
            .vertical
            .as_ref()
            .and_then(|v| {
                let m = &v.regions.meta;
                m.id.iter().position(|x| x == id).map(|i| m.name[i].clone())
            })
            .unwrap_or_else(|| id.to_string());
        return format!("allocation of {name} ({unit})");
    }
    match output {
        "gini" => "Gini of the allocation".to_string(),
        "total_deducted" => format!("total deducted ({unit})"),
        _ => output.to_string(),
    }
}

/// One tornado chart per output (file stem, chart): Morris μ*, or the total Sobol index
/// with its bootstrap interval, with the parameters and the output named for people.
pub fn tornado_charts(scn: &Scenario, r: &SensitivityRun) -> Vec<(String, Chart)> {
    r.outputs
        .iter()
        .enumerate()
        .filter(|&(o, _)| !r.constant[o])
        .map(|(o, output)| {
            let items = r
                .inputs
                .iter()
                .enumerate()
                .map(|(i, input)| match &r.indices {
                    Indices::Morris(m) => TornadoItem {
                        label: input_label(scn, input),
                        value: m.index(i, o).map_or(0.0, |x| x.mu_star),
                        interval: None,
                    },
                    Indices::Sobol(s) => {
                        let x = s.index(i, o).copied().unwrap_or_default();
                        TornadoItem {
                            label: input_label(scn, input),
                            value: x.st,
                            interval: Some((x.st_low, x.st_high)),
                        }
                    }
                })
                .collect();
            let what = output_label(scn, output);
            let (title, value_label) = match r.indices {
                Indices::Morris(_) => (
                    "Morris μ*",
                    format!("mean absolute elementary effect μ*, in the unit of the {what}"),
                ),
                Indices::Sobol(_) => (
                    "Sobol total index",
                    "total Sobol index: share of the output's variance (90% interval)".to_string(),
                ),
            };
            (
                format!("tornado_{}", file_stem(output)),
                Chart::Tornado(TornadoChart {
                    title: format!("{title}: {what}, formula {}", r.formula),
                    value_label,
                    items,
                }),
            )
        })
        .collect()
}

/// A terminal summary: per output, every input with μ* and σ (Morris) or S1 and ST with
/// their intervals (Sobol).
pub fn table(r: &SensitivityRun) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (o, output) in r.outputs.iter().enumerate() {
        if r.constant[o] {
            let _ = writeln!(
                s,
                "{output}: constant over the design, nothing to apportion"
            );
            continue;
        }
        let _ = writeln!(s, "{output}");
        for (i, input) in r.inputs.iter().enumerate() {
            let _ = match &r.indices {
                Indices::Morris(m) => {
                    let x = m.index(i, o).copied().unwrap_or_default();
                    writeln!(
                        s,
                        "  {input:<36} μ* {:>12}  σ {:>12}",
                        display(x.mu_star),
                        display(x.sigma)
                    )
                }
                Indices::Sobol(sr) => {
                    let x = sr.index(i, o).copied().unwrap_or_default();
                    let d = |v: f64| display(snap_zero(v, 1e-12));
                    writeln!(
                        s,
                        "  {input:<36} S1 {:>9} [{}, {}]  ST {:>9} [{}, {}]",
                        d(x.s1),
                        d(x.s1_low),
                        d(x.s1_high),
                        d(x.st),
                        d(x.st_low),
                        d(x.st_high)
                    )
                }
            };
        }
    }
    s
}

#[cfg(test)]
mod label_tests {
    use super::{input_label, output_label};

    #[test]
    fn parameters_and_outputs_read_as_words_with_units() {
        let scn = crate::scenario::shipped_with("national.toml", "");
        assert_eq!(
            input_label(&scn, "formula[1].redline.share"),
            "redline_reform: red-line pool share"
        );
        assert_eq!(
            input_label(&scn, "redline_reform.key.redline_uplift"),
            "redline_reform: red-line uplift β"
        );
        assert_eq!(input_label(&scn, "budget.total"), "budget total");
        // An unknown field keeps its path after the formula's name.
        assert_eq!(
            input_label(&scn, "formula[0].odd.field"),
            "baseline_2017: odd.field"
        );
        assert_eq!(
            output_label(&scn, "alloc:xinjiang"),
            "allocation of 新疆 (亿元)"
        );
        assert_eq!(
            output_label(&scn, "total_deducted"),
            "total deducted (亿元)"
        );
    }
}
