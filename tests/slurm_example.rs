//! The SLURM example (examples/slurm) run as written, with a stand-in `sbatch` that runs
//! each array task as its own process on this machine: the 64 shards and the dependent
//! merge reproduce a single run's tables exactly, and a failed array never merges.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copy examples/slurm into `dir` (so its logs land there) and run its submit.sh with the
/// stub sbatch first on PATH.
fn submit(dir: &Path, envs: &[(&str, String)]) -> std::process::Output {
    let ex = dir.join("slurm");
    std::fs::create_dir_all(&ex).unwrap();
    for f in ["run_array.sbatch", "merge.sbatch", "submit.sh"] {
        std::fs::copy(repo().join("examples/slurm").join(f), ex.join(f)).unwrap();
    }
    let path = format!(
        "{}:{}",
        repo().join("examples/slurm/stub").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(ex.join("submit.sh"))
        .env("PATH", path)
        .env("SBATCH_STUB_DIR", dir.join("stub-state"))
        .env("ECOCOMP", env!("CARGO_BIN_EXE_ecocomp"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn array_of_64_shards_then_merge_equals_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let scenario = repo().join("scenarios/national.toml");
    let (work, out) = (t.join("work"), t.join("merged"));
    let done = submit(
        t,
        &[
            ("SCENARIO", scenario.display().to_string()),
            ("DRAWS", "1500".into()),
            ("SEED", "9".into()),
            ("WORK", work.display().to_string()),
            ("OUT", out.display().to_string()),
        ],
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let shards = std::fs::read_dir(&work).unwrap().count();
    assert_eq!(shards, 64, "one output folder per array task");
    assert!(t.join("slurm/logs/shard-63.log").exists());

    let single = t.join("single");
    let ok = Command::new(env!("CARGO_BIN_EXE_ecocomp"))
        .arg("run")
        .arg(&scenario)
        .args([
            "--draws",
            "1500",
            "--seed",
            "9",
            "--quiet",
            "--no-plots",
            "--out",
        ])
        .arg(&single)
        .status()
        .unwrap();
    assert!(ok.success());
    for table in ["regions.csv", "groups.csv"] {
        if single.join(table).exists() {
            assert!(
                std::fs::read(single.join(table)).unwrap()
                    == std::fs::read(out.join(table)).unwrap(),
                "{table} of the SLURM merge differs from the single run"
            );
        }
    }
    assert!(
        out.join("report.html").exists(),
        "the merge writes the report"
    );
}

#[test]
fn a_failed_array_is_never_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let out = t.join("merged");
    let done = submit(
        t,
        &[
            ("SCENARIO", t.join("missing.toml").display().to_string()),
            ("DRAWS", "100".into()),
            ("WORK", t.join("work").display().to_string()),
            ("OUT", out.display().to_string()),
        ],
    );
    assert!(done.status.success(), "submission itself succeeds");
    assert!(!out.exists(), "the merge ran although the shards failed");
    let log = std::fs::read_to_string(t.join("slurm/logs/shard-0.log")).unwrap();
    assert!(log.contains("missing.toml"), "{log}");
}
