//! Ctrl-C (SIGINT) handling. The first interrupt sets a flag that long loops poll between
//! blocks of draws; they return [`crate::Error::Interrupted`], the staging folder is
//! dropped (removed), and the previous output folder stays as it was. A second interrupt
//! removes the registered staging folder and exits at once with code 130.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Exit code after an interrupt (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Install the handler (once per process; later calls are no-ops).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            if let Ok(guard) = STAGING.lock()
                && let Some(dir) = guard.as_ref()
            {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!(
            "\ninterrupted: stopping after the current block (press Ctrl-C again to stop at once)"
        );
    });
}

/// True once an interrupt has been received.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Remember the staging folder so a second interrupt can remove it.
pub fn register_staging(dir: Option<PathBuf>) {
    if let Ok(mut guard) = STAGING.lock() {
        *guard = dir;
    }
}
