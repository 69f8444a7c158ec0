//! The outputs of `ecocomp sensitivity`: `sensitivity.csv`, one tornado chart per output,
//! and the console table.

use crate::error::{Error, Result};
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

/// One tornado chart per output (file stem, chart): Morris μ*, or the total Sobol index
/// with its bootstrap interval.
pub fn tornado_charts(r: &SensitivityRun) -> Vec<(String, Chart)> {
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
                        label: input.clone(),
                        value: m.index(i, o).map_or(0.0, |x| x.mu_star),
                        interval: None,
                    },
                    Indices::Sobol(s) => {
                        let x = s.index(i, o).copied().unwrap_or_default();
                        TornadoItem {
                            label: input.clone(),
                            value: x.st,
                            interval: Some((x.st_low, x.st_high)),
                        }
                    }
                })
                .collect();
            let (title, value_label) = match r.indices {
                Indices::Morris(_) => ("Morris μ*", "mean absolute elementary effect μ*"),
                Indices::Sobol(_) => ("Sobol total index", "total Sobol index (90% interval)"),
            };
            (
                format!("tornado_{}", file_stem(output)),
                Chart::Tornado(TornadoChart {
                    title: format!("{title}: {output} ({})", r.formula),
                    value_label: value_label.to_string(),
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
