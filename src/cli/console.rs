//! What the binary prints: warnings, the progress bar, and the short result tables. Nothing
//! here computes; it reads the outcome of the pipeline.

use ecocomp::model::Scenario;
use ecocomp::numfmt::table::{Align, Table};
use ecocomp::numfmt::{ROUNDING_REL, display, snap_zero};
use ecocomp::run::pipeline::{Hooks, Outcome};
use std::path::Path;

/// Print a line to stdout, ignoring a closed pipe (`ecocomp run | head` must not panic).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::console::print_out(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// Print text to stdout; a closed pipe is not an error.
pub fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Print the scenario's warnings to stderr.
pub fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// Print the warnings the run added to the scenario's (figures that were not drawn).
pub fn print_new_warnings(out: &Outcome, scn_warnings: usize) {
    print_warnings(out.warnings.get(scn_warnings..).unwrap_or_default());
}

/// The console's view of a run: a progress bar on stderr with draws per second and an ETA
/// (hidden when stderr is not a terminal or with `--quiet`), and the staging folder handed
/// to the Ctrl-C handler.
pub struct Console {
    bar: indicatif::ProgressBar,
}

impl Console {
    pub fn new(show_progress: bool) -> Self {
        use std::io::IsTerminal;
        let bar = if show_progress && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} {msg}[{bar:40}] {pos}/{len} {prefix} · {rate} · ETA {eta}",
            ) {
                // indicatif's own `per_sec` prints four decimals of a rate in the thousands.
                let rate = |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", s.per_sec());
                };
                bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
            }
            bar.set_prefix("draws");
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Console { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Hooks for Console {
    fn staging(&self, dir: Option<&Path>) {
        super::interrupt::register_staging(dir);
    }

    fn progress(&self, done: u64, total: u64) {
        if self.bar.length() != Some(total) {
            self.bar.set_length(total);
        }
        self.bar.set_position(done);
    }

    fn stage(&self, what: &str, unit: &str) {
        // A fresh start, so that the rate and the ETA are the stage's own.
        self.bar.reset();
        self.bar.set_message(if what.is_empty() {
            String::new()
        } else {
            format!("{what} ")
        });
        self.bar.set_prefix(unit.to_string());
    }
}

/// Regions listed per formula after `run` unless told otherwise.
pub const DEFAULT_TOP: usize = 5;

/// Print the summary of a run: per formula the total and its `top` largest regions (all
/// of them with `None`), then each basin agreement's net per party over the round.
pub fn print_run_tables(out: &Outcome, top: Option<usize>) {
    print_out(&run_tables(out, top));
}

/// The text of [`print_run_tables`].
pub fn run_tables(out: &Outcome, top: Option<usize>) -> String {
    let Some(path) = &out.path else {
        let mut s = formula_tables(out, top);
        s.push_str(&basin_table(out));
        return s;
    };
    let mut s = path_tables(out, path, top);
    s.push_str(&basin_table(out));
    if let Some(k) = out.scenario.policy_path.as_ref().and_then(|p| p.kappa) {
        s.push_str(&format!(
            "quality response ON (κ = {k}): each formula's ΔQ follows its own money of the year before\n"
        ));
    }
    s
}

/// A path, per formula: its totals, then its `top` regions by the last year's point
/// estimate with one column per year, so that a region's path reads along one line, and
/// the last year's 90% interval where there were draws.
fn path_tables(out: &Outcome, path: &ecocomp::run::path::PathRun, top: Option<usize>) -> String {
    let (Some((y0, first)), Some((yn, last))) = (path.years.first(), path.years.last()) else {
        return String::new();
    };
    let Some(v) = &first.scenario.vertical else {
        return String::new();
    };
    let unit = unit(&out.scenario.meta.currency);
    let n = v.regions.data.n;
    let shown = top.map_or(n, |k| k.min(n));
    let acc = drawn(last);
    let mut s = String::new();
    for (f, fp) in first.point.formulas.iter().enumerate() {
        let years: Vec<&[f64]> = path
            .years
            .iter()
            .map(|(_, o)| o.point.formulas.get(f).map_or(&[][..], |p| &p.alloc.x[..]))
            .collect();
        let totals: Vec<f64> = years.iter().map(|x| x.iter().sum()).collect();
        s.push_str(&format!(
            "formula {}: total {}{unit} in {y0}, {}{unit} in {yn}; {}{unit} over the path\n",
            fp.name,
            display(totals[0]),
            display(totals[totals.len() - 1]),
            display(totals.iter().sum()),
        ));
        let order = largest_first(years[years.len() - 1]);
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Right, years.len()));
        align.push(Align::Left);
        let mut t = Table::new(&align).indent("  ");
        let mut header = vec!["region".to_string()];
        header.extend(path.years.iter().map(|(y, _)| y.to_string()));
        if acc.is_some() {
            header.push(format!("{yn} 90% interval"));
        }
        t.row(header);
        for &i in order.iter().take(shown) {
            let mut row = vec![v.regions.meta.name[i].clone()];
            row.extend(
                years
                    .iter()
                    .map(|x| x.get(i).map_or(String::new(), |v| display(*v))),
            );
            if let Some(m) = acc {
                row.push(interval(m, f * n + i));
            }
            t.row(row);
        }
        let mut total = vec!["total".to_string()];
        total.extend(totals.iter().map(|t| display(*t)));
        t.row(total);
        s.push_str(&t.render());
        if shown < n {
            s.push_str(&format!(
                "  ({shown} of {n} regions, largest in {yn} first; --top N or --all for more)\n"
            ));
        }
    }
    s
}

/// Per formula: its total, then its `top` largest regions with the Monte Carlo 90%
/// interval where there were draws.
fn formula_tables(out: &Outcome, top: Option<usize>) -> String {
    let scn: &Scenario = &out.scenario;
    let Some(v) = &scn.vertical else {
        return String::new();
    };
    let unit = unit(&scn.meta.currency);
    let n = v.regions.data.n;
    let shown = top.map_or(n, |k| k.min(n));
    let acc = drawn(out);
    let mut s = String::new();
    for (f, fp) in out.point.formulas.iter().enumerate() {
        let a = &fp.alloc;
        // What the budget solve leaves over is rounding residue below this.
        let tol = ROUNDING_REL * (a.total.abs() + a.unallocated().abs());
        s.push_str(&format!(
            "formula {}: total {}{unit}, unallocated {}, scale {}\n",
            fp.name,
            display(a.total),
            display(snap_zero(a.unallocated(), tol)),
            display(a.scale)
        ));
        let order = largest_first(&a.x);
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]).indent("  ");
        t.row(if acc.is_some() {
            vec!["region", "point", "90% interval"]
        } else {
            vec!["region", "point"]
        });
        for &i in order.iter().take(shown) {
            let mut row = vec![v.regions.meta.name[i].clone(), display(a.x[i])];
            if let Some(m) = acc {
                row.push(interval(m, f * n + i));
            }
            t.row(row);
        }
        s.push_str(&t.render());
        if shown < n {
            s.push_str(&format!(
                "  ({shown} of {n} regions, largest first; --top N or --all for more)\n"
            ));
        }
    }
    s
}

/// The vertical Monte Carlo results of `out`, when it drew.
fn drawn(out: &Outcome) -> Option<&ecocomp::montecarlo::allocations::VerticalAcc> {
    out.mc
        .as_ref()
        .filter(|m| m.draws > 0)
        .and_then(|m| m.vertical.as_ref())
}

/// Output `k`'s 90% interval over the draws, as `[p5, p95]`.
fn interval(m: &ecocomp::montecarlo::allocations::VerticalAcc, k: usize) -> String {
    let q = m.x[k].q.quantiles(&[0.05, 0.95]);
    format!("[{}, {}]", display(q[0]), display(q[1]))
}

/// The indices of `x`, largest value first.
fn largest_first(x: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[j].total_cmp(&x[i]));
    order
}

/// One line per basin agreement × party: the net receipt over the round (horizontal
/// transfers received minus paid, plus central funds), the central funds in it, and with
/// draws the Monte Carlo mean and 90% interval. Empty without agreements.
fn basin_table(out: &Outcome) -> String {
    let scn: &Scenario = &out.scenario;
    if scn.agreements.is_empty() {
        return String::new();
    }
    let mc = out.mc.as_ref().filter(|m| m.draws > 0);
    let mut t = Table::new(&[
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
    ])
    .indent("  ");
    let mut header = vec!["agreement", "party", "net", "of which central"];
    if mc.is_some() {
        header.extend(["MC mean", "90% interval"]);
    }
    t.row(header);
    for (k, (a, st)) in out.point.basins(scn).into_iter().enumerate() {
        // Amounts this small beside the money the agreement moves are rounding residue.
        let moved: f64 = (0..a.n_parties()).map(|p| st.round_receipts(p)).sum();
        let z = |v: f64| display(snap_zero(v, ROUNDING_REL * moved));
        let acc = mc.and_then(|m| m.agreements.get(k));
        for (p, party) in a.parties.iter().enumerate() {
            let central = st.round_central(p);
            let mut row = vec![
                a.name.clone(),
                party.clone(),
                z(st.round_net(p) + central),
                z(central),
            ];
            if let Some(acc) = acc {
                let q = acc.round[p].q.quantiles(&[0.05, 0.95]);
                row.push(z(acc.round[p].m.mean()));
                row.push(format!("[{}, {}]", z(q[0]), z(q[1])));
            }
            t.row(row);
        }
    }
    let draws = mc.map_or(String::new(), |m| {
        format!("; Monte Carlo over {} draws", m.draws)
    });
    format!(
        "basin agreements: net per party over the round{} (horizontal received − paid, plus central funds{draws})\n{}",
        unit_suffix(&scn.meta.currency),
        t.render()
    )
}

/// ` 亿元` after an amount, or nothing when the scenario names no currency.
fn unit(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(" {currency}")
    }
}

/// `, in 亿元` after a title, or nothing when the scenario names no currency.
fn unit_suffix(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(", in {currency}")
    }
}

#[cfg(test)]
mod tests {
    use super::run_tables;
    use ecocomp::numfmt::display;
    use ecocomp::numfmt::table::width;
    use ecocomp::run::pipeline::{Exporters, Job, McOptions, Outcome, Quiet, Request, RunJob};
    use std::path::Path;

    fn outcome(file: &str, draws: u64) -> Outcome {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(file);
        let req = Request {
            scenario: ecocomp::scenario::load(&path).unwrap(),
            shards: Default::default(),
            job: Job::Run(RunJob {
                mc: McOptions {
                    draws: Some(draws),
                    seed: Some(3),
                    threads: 2,
                },
                ..RunJob::default()
            }),
            out: None,
            command_line: Vec::new(),
        };
        let cancel = ecocomp::Cancel::new();
        ecocomp::run::pipeline::execute(req, &Exporters::default(), &Quiet, &cancel)
            .unwrap()
            .0
    }

    /// The region rows of the first formula's table.
    fn first_rows(text: &str) -> Vec<&str> {
        text.lines()
            .skip(2)
            .take_while(|l| l.starts_with("  ") && !l.starts_with("  ("))
            .collect()
    }

    #[test]
    fn top_n_lists_that_many_regions_and_none_lists_all() {
        let out = outcome("national.toml", 20);
        let three = run_tables(&out, Some(3));
        assert_eq!(first_rows(&three).len(), 3, "{three}");
        assert!(three.contains("(3 of 31 regions"), "{three}");
        let all = run_tables(&out, None);
        assert_eq!(first_rows(&all).len(), 31, "{all}");
        assert!(!all.contains(" of 31 regions"), "{all}");
        // More than there are is all of them.
        let many = run_tables(&out, Some(100));
        assert_eq!(first_rows(&many).len(), 31);
    }

    #[test]
    fn region_rows_line_up_by_terminal_width() {
        let out = outcome("national.toml", 20);
        let text = run_tables(&out, None);
        let rows = first_rows(&text);
        // Right-aligned points end, and intervals start, at one terminal column.
        let point_end = |l: &str| width(&l[..l.find(" [").unwrap()]);
        let bracket = |l: &str| width(&l[..l.find('[').unwrap()]);
        assert!(
            rows.iter().all(|l| point_end(l) == point_end(rows[0])),
            "{text}"
        );
        assert!(
            rows.iter().all(|l| bracket(l) == bracket(rows[0])),
            "{text}"
        );
        assert!(rows.iter().any(|l| l.contains("内蒙古")));
        assert!(rows.iter().any(|l| l.contains("四川")));
    }

    /// A path prints one table per formula: a column per year, regions in the order of the
    /// last year, a total row that is each year's total, and the last year's interval.
    #[test]
    fn a_path_reads_along_one_line_per_region() {
        let out = outcome("path_2021_2025.toml", 20);
        let path = out.path.as_ref().unwrap();
        let text = run_tables(&out, Some(4));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("formula baseline_2017: total 902 亿元 in 2021, "));
        let header: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            header,
            [
                "region", "2021", "2022", "2023", "2024", "2025", "2025", "90%", "interval"
            ]
        );
        let rows = first_rows(&text);
        assert_eq!(rows.len(), 5, "four regions and the total: {text}");
        let cells = |l: &str| -> Vec<f64> {
            l.split_whitespace()
                .skip(1)
                .take(5)
                .map(|c| c.parse().unwrap())
                .collect()
        };
        let last: Vec<f64> = rows[..4].iter().map(|l| cells(l)[4]).collect();
        assert!(last.windows(2).all(|w| w[0] >= w[1]), "{text}");
        assert!(rows[0].contains(" ["), "{text}");
        assert!(rows[4].starts_with("  total "), "{text}");
        for (t, (_, o)) in path.years.iter().enumerate() {
            let total = o.point.formulas[0].alloc.total;
            assert_eq!(cells(rows[4])[t], display(total).parse::<f64>().unwrap());
        }
        assert!(
            text.contains("(4 of 31 regions, largest in 2025 first"),
            "{text}"
        );
        assert_eq!(text.matches("formula ").count(), 2, "{text}");
    }

    #[test]
    fn basin_agreements_print_net_and_central_per_party() {
        let text = run_tables(&outcome("xinan.toml", 0), Some(5));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("basin agreements: net per party over the round, in 亿元"));
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["agreement", "party", "net", "of", "which", "central"]
        );
        // Round 1: 安徽 receives 3 from 浙江 and 9 of central funds.
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(cells, ["xinan_round1", "安徽", "12", "9"]);
        assert_eq!(lines.len(), 2 + 6);
        let with_draws = run_tables(&outcome("xinan.toml", 50), Some(5));
        assert!(
            with_draws.contains("Monte Carlo over 50 draws"),
            "{with_draws}"
        );
        assert!(with_draws.contains("MC mean  90% interval"), "{with_draws}");
    }
}
