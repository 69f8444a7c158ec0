//! What the binary prints: warnings, the progress bar, and the short result tables. Nothing
//! here computes; it reads the outcome of the pipeline.

use ecocomp::model::Scenario;
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
                "{spinner} [{bar:40}] {pos}/{len} draws · {per_sec} · ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
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
}

/// A short summary of a run: per formula the total and the top regions, with the Monte
/// Carlo 90% interval where there were draws.
pub fn print_run_table(out: &Outcome) {
    let scn: &Scenario = &out.scenario;
    let Some(v) = &scn.vertical else { return };
    let unit = &scn.meta.currency;
    let n = v.regions.data.n;
    let acc = out
        .mc
        .as_ref()
        .filter(|m| m.draws > 0)
        .and_then(|m| m.vertical.as_ref());
    for (f, fp) in out.point.formulas.iter().enumerate() {
        let a = &fp.alloc;
        outln!(
            "formula {}: total {:.4} {unit}, unallocated {:.4}, scale {:.6}",
            fp.name,
            a.total,
            a.unallocated(),
            a.scale
        );
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| a.x[j].total_cmp(&a.x[i]));
        for &i in order.iter().take(5) {
            match acc {
                Some(m) => {
                    let q = m.x[f * n + i].q.quantiles(&[0.05, 0.95]);
                    outln!(
                        "    {:<16} {:>12.4}   90% [{:.4}, {:.4}]",
                        v.regions.meta.name[i],
                        a.x[i],
                        q[0],
                        q[1]
                    );
                }
                None => outln!("    {:<16} {:>12.4}", v.regions.meta.name[i], a.x[i]),
            }
        }
    }
}
