//! The run-time check before a very long run: a short timed pilot through the same engine,
//! extrapolated to the requested draws, so that a typo of a few zeros in `--draws` is
//! refused with an estimate instead of running for days.

use crate::error::{Error, Problem, Result};
use crate::model::Scenario;
use crate::montecarlo::Settings;

/// Draws above which a run times a pilot first; runs of up to this many pay nothing.
pub const PILOT_ABOVE_DRAWS: u64 = 100_000;
/// Longest estimated run time (seconds) that runs without `--force`: one hour.
pub const MAX_UNFORCED_SECONDS: f64 = 3600.0;

/// Estimate the wall time of `settings.draws` Monte Carlo draws by timing pilots through
/// [`crate::montecarlo::run`] (doubling from 256 draws until a pilot takes 0.2 s or reaches
/// 65,536 draws) and extrapolating linearly. Returns seconds.
pub fn estimate_seconds(scn: &Scenario, settings: &Settings) -> Result<f64> {
    let mut pilot = 256u64.min(settings.draws.max(1));
    loop {
        let s = Settings {
            draws: pilot,
            keep_regions: Vec::new(),
            save_draws: false,
            shard: None,
            ..settings.clone()
        };
        let clock = std::time::Instant::now();
        crate::montecarlo::run(scn, &s, &mut |_| {})?;
        let secs = clock.elapsed().as_secs_f64();
        if secs >= 0.2 || pilot >= 65_536 || pilot >= settings.draws {
            return Ok(secs / pilot as f64 * settings.draws as f64);
        }
        pilot *= 2;
    }
}

/// A duration in words: seconds, minutes, hours, days or years.
pub fn human_duration(secs: f64) -> String {
    const UNITS: [(f64, &str); 5] = [
        (365.25 * 86400.0, "years"),
        (86400.0, "days"),
        (3600.0, "hours"),
        (60.0, "minutes"),
        (1.0, "seconds"),
    ];
    for (size, name) in UNITS {
        if secs >= size {
            return format!("{:.1} {name}", secs / size);
        }
    }
    format!("{secs:.2} seconds")
}

/// Refuse (exit code 2) a run whose estimated time exceeds [`MAX_UNFORCED_SECONDS`]. Only
/// runs a pilot when draws exceed [`PILOT_ABOVE_DRAWS`].
pub fn check_run_time(scn: &Scenario, settings: &Settings) -> Result<()> {
    if settings.draws <= PILOT_ABOVE_DRAWS {
        return Ok(());
    }
    let secs = estimate_seconds(scn, settings)?;
    if secs > MAX_UNFORCED_SECONDS {
        return Err(Error::invalid(vec![Problem::new(
            "--draws",
            "command line",
            settings.draws,
            format!(
                "this run would take about {} on {} thread{} (estimated from a timed pilot); \
                 lower --draws, or pass --force to run it anyway",
                human_duration(secs),
                settings.threads,
                if settings.threads == 1 { "" } else { "s" }
            ),
        )]));
    }
    Ok(())
}
