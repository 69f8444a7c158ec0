//! Monte Carlo results do not depend on the thread count (docs/model.md §3): the same seed on
//! 1, 2 and 4 threads writes a byte-identical regions.csv and a summary.json equal in every
//! value but the recorded thread count (compared as parsed JSON, so every float's printed
//! digits must match), and another seed writes different ones.

use assert_cmd::Command;
use std::path::Path;

/// Draws: several blocks at 300 regions × 3 formulas (more than the merge window on 1
/// thread), and past the exact quantile limit, so both the block merge order and the
/// sketch path are exercised.
const DRAWS: &str = "1000";

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

/// summary.json without the fields that record the run settings rather than results (the
/// thread count).
fn without_settings(summary: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("threads");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(summary).unwrap();
    strip(&mut v);
    v
}

/// Run the scenario and return (regions.csv, summary.json).
fn run(scenario: &Path, out: &Path, threads: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    ecocomp()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(["--draws", DRAWS, "--quiet"])
        .args([
            "--threads",
            &threads.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .assert()
        .success();
    let read = |f: &str| std::fs::read(out.join(f)).unwrap();
    (read("regions.csv"), read("summary.json"))
}

#[test]
fn results_are_byte_identical_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    ecocomp()
        .args(["synth", "--regions", "300", "--seed", "3", "--out"])
        .arg(&scenario)
        .assert()
        .success();
    let one = run(&scenario, &dir.path().join("t1"), 1, 7);
    assert!(!one.0.is_empty() && !one.1.is_empty());
    for threads in [2, 4] {
        let got = run(
            &scenario,
            &dir.path().join(format!("t{threads}")),
            threads,
            7,
        );
        assert!(got.0 == one.0, "regions.csv differs on {threads} threads");
        // Byte-identical apart from the recorded thread count: same values, and the JSON
        // text has the same length once that one digit is accounted for.
        assert_eq!(got.1.len(), one.1.len());
        assert!(
            without_settings(&got.1) == without_settings(&one.1),
            "summary.json differs on {threads} threads"
        );
    }
    let other = run(&scenario, &dir.path().join("seed8"), 2, 8);
    assert!(other.0 != one.0, "regions.csv ignores the seed");
    assert!(
        without_settings(&other.1) != without_settings(&one.1),
        "summary.json ignores the seed"
    );
}
