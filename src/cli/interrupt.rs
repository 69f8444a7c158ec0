//! Ctrl-C (SIGINT). The first interrupt cancels the run's [`Cancel`] token: the library
//! stops after the current block of draws, drops its staging folder and leaves the previous
//! output folder as it was. A second interrupt removes the staging folder itself and exits
//! at once with code 130.

use ecocomp::Cancel;
use ecocomp::error::EXIT_INTERRUPTED;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The token the handler cancels, and the staging folder of the run in progress.
struct State {
    cancel: Cancel,
    staging: Mutex<Option<PathBuf>>,
}

static STATE: OnceLock<State> = OnceLock::new();

fn state() -> &'static State {
    STATE.get_or_init(|| State {
        cancel: Cancel::new(),
        staging: Mutex::new(None),
    })
}

/// Install the handler (once per process) and return the token it cancels.
pub fn install() -> Cancel {
    let st = state();
    let _ = ctrlc::set_handler(|| {
        let st = state();
        if st.cancel.is_cancelled() {
            if let Ok(guard) = st.staging.lock()
                && let Some(dir) = guard.as_ref()
            {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(EXIT_INTERRUPTED);
        }
        st.cancel.cancel();
        eprintln!(
            "\ninterrupted: stopping after the current block (press Ctrl-C again to stop at once)"
        );
    });
    st.cancel.clone()
}

/// Remember the staging folder, so that a second interrupt can remove it.
pub fn register_staging(dir: Option<&Path>) {
    if let Ok(mut guard) = state().staging.lock() {
        *guard = dir.map(Path::to_path_buf);
    }
}
