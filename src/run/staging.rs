//! The output folder of a run, written all or nothing (docs/model.md §4).
//!
//! Writing is all-or-nothing: a run writes every file into a staging folder beside the
//! output folder, created before any computation so a bad path fails early, and swaps the
//! whole set in only at the end ([`Staging::commit`]). An error, a panic or an interrupt
//! before that leaves the previous output folder untouched, and the staging folder is
//! removed (by `Drop`, or by the interrupt handler).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The marker file that identifies a folder as ecocomp output (so a run never replaces a
/// folder it did not create).
pub const MARKER: &str = "manifest.json";

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A staging folder for one run's files.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

/// Prefix of staging and retired folders, so leftovers are recognisable.
const STAGING_PREFIX: &str = ".ecocomp-staging-";
const RETIRED_PREFIX: &str = ".ecocomp-old-";

impl Staging {
    /// Create a staging folder for `target`. Fails early if the target's parent cannot be
    /// created or written, or if `target` exists and is not an ecocomp output folder.
    pub fn new(target: &Path) -> Result<Staging> {
        // One look at the folder, tolerant of another run swapping it in or out meanwhile
        // (checking `exists`, then the listing, then the marker separately raced with a
        // concurrent commit that renamed the folder aside between the checks).
        match std::fs::metadata(target) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::Runtime(format!(
                    "output path {} exists and is not a directory",
                    target.display()
                )));
            }
            Ok(_) => match std::fs::read_dir(target) {
                Ok(entries) => {
                    let (mut empty, mut marked) = (true, false);
                    for entry in entries {
                        let entry = entry.map_err(|e| io_err(target, e))?;
                        empty = false;
                        marked |= entry.file_name() == MARKER
                            && entry.file_type().is_ok_and(|t| t.is_file());
                    }
                    if !empty && !marked {
                        return Err(Error::Runtime(format!(
                            "output directory {} is not empty and holds no {MARKER}: it does \
                             not look like ecocomp output, so it will not be replaced; choose \
                             another --out",
                            target.display()
                        )));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(target, e)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(target, e)),
        }
        let name = target
            .file_name()
            .ok_or_else(|| {
                Error::Runtime(format!(
                    "output path {} has no folder name",
                    target.display()
                ))
            })?
            .to_string_lossy()
            .to_string();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| io_err(&parent, e))?;
        let dir = parent.join(format!(
            "{STAGING_PREFIX}{name}-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir(&dir).map_err(|e| io_err(&dir, e))?;
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// The staging folder (for an interrupt handler that must remove it).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The final output folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Write one file (relative name, e.g. `plots/lorenz.svg`) into the staging folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io_err(&path, e))
    }

    /// Swap the staged set in for the target folder. The previous folder, if any, is
    /// renamed aside first and removed after the new one is in place.
    pub fn commit(mut self) -> Result<PathBuf> {
        // Two runs committing to the same folder at once would otherwise race between the
        // two renames; the lock makes each swap whole.
        let _lock = CommitLock::acquire(&self.dir, &self.target)?;
        let retired = if self.target.exists() {
            let name = self
                .target
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let parent = self
                .dir
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            let old = parent.join(format!(
                "{RETIRED_PREFIX}{name}-{}-{}",
                std::process::id(),
                unique()
            ));
            std::fs::rename(&self.target, &old).map_err(|e| io_err(&self.target, e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if let Some(old) = &retired {
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(io_err(&self.target, e));
        }
        self.committed = true;
        if let Some(old) = retired {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Write one file atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}-{}", std::process::id(), unique()));
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(path, e)
    })
}

/// Prefix of the lock folder held while a run swaps its files in.
const LOCK_PREFIX: &str = ".ecocomp-lock-";

/// An exclusive lock on committing to one output folder: a lock folder beside it, created
/// atomically and removed on drop. A lock older than [`CommitLock::STALE`] is taken to be
/// left by a killed process and broken.
struct CommitLock(PathBuf);

impl CommitLock {
    const STALE: std::time::Duration = std::time::Duration::from_secs(30);
    const GIVE_UP: std::time::Duration = std::time::Duration::from_secs(120);

    fn acquire(staging: &Path, target: &Path) -> Result<CommitLock> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let parent = staging.parent().unwrap_or_else(|| Path::new("."));
        let path = parent.join(format!("{LOCK_PREFIX}{name}"));
        let start = std::time::Instant::now();
        loop {
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(CommitLock(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Self::STALE);
                    if stale {
                        let _ = std::fs::remove_dir(&path);
                    } else if start.elapsed() > Self::GIVE_UP {
                        return Err(Error::Runtime(format!(
                            "another run has held {} for over {} s; if no other ecocomp run is \
                             writing to {}, remove that folder",
                            path.display(),
                            Self::GIVE_UP.as_secs(),
                            target.display()
                        )));
                    } else {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
                Err(e) => return Err(io_err(&path, e)),
            }
        }
    }
}

impl Drop for CommitLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A value unique within this process (nanoseconds plus a counter).
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:09}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_swaps_whole_set_and_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let s = Staging::new(&target).unwrap();
        s.write("manifest.json", b"{}").unwrap();
        s.write("a.csv", b"1").unwrap();
        s.commit().unwrap();
        assert!(target.join("a.csv").is_file());
        // A second run replaces the set: a.csv disappears, b.csv appears.
        let s = Staging::new(&target).unwrap();
        s.write("manifest.json", b"{}").unwrap();
        s.write("b.csv", b"2").unwrap();
        s.commit().unwrap();
        assert!(!target.join("a.csv").exists());
        assert!(target.join("b.csv").is_file());
        // A dropped (failed) run leaves the previous set and no staging folder behind.
        let s = Staging::new(&target).unwrap();
        s.write("c.csv", b"3").unwrap();
        drop(s);
        assert!(target.join("b.csv").is_file());
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn concurrent_commits_never_interleave() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        std::thread::scope(|scope| {
            for k in 0..8 {
                let target = &target;
                scope.spawn(move || {
                    let s = Staging::new(target).unwrap();
                    s.write("manifest.json", k.to_string().as_bytes()).unwrap();
                    s.write("regions.csv", k.to_string().as_bytes()).unwrap();
                    s.commit().unwrap();
                });
            }
        });
        let m = std::fs::read(target.join("manifest.json")).unwrap();
        let r = std::fs::read(target.join("regions.csv")).unwrap();
        assert_eq!(m, r, "files from different runs");
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn refuses_to_replace_a_foreign_folder() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("thesis.tex"), b"x").unwrap();
        let err = Staging::new(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("does not look like ecocomp output"), "{err}");
    }
}
