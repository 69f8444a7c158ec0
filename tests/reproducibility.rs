//! Same scenario and seed give bit-identical results on any thread count (docs/model.md §3.2);
//! a different seed gives different results.

use assert_cmd::Command;
use std::path::Path;

fn run(scenario: &Path, out: &Path, threads: usize, seed: u64) {
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args(["run", "--quiet", "--no-plots", "--draws", "700"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args([
            "--threads",
            &threads.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The files whose bytes must not depend on the thread count. summary.json records the
/// thread count itself, so that one line is removed before comparing.
fn results(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for name in [
        "regions.csv",
        "groups.csv",
        "basins.csv",
        "sections.csv",
        "summary.json",
    ] {
        let p = out.join(name);
        if let Ok(bytes) = std::fs::read(&p) {
            let text = String::from_utf8(bytes).unwrap();
            let kept: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("\"threads\""))
                .map(|l| format!("{l}\n"))
                .collect();
            v.push((name.to_string(), kept.into_bytes()));
        }
    }
    assert!(!v.is_empty());
    v
}

fn check(scenario: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("t1");
    run(scenario, &base, 1, 11);
    let reference = results(&base);
    for threads in [2, 4] {
        let out = tmp.path().join(format!("t{threads}"));
        run(scenario, &out, threads, 11);
        assert_eq!(
            results(&out),
            reference,
            "{} differs with {threads} threads",
            scenario.display()
        );
    }
    let other = tmp.path().join("seed12");
    run(scenario, &other, 2, 12);
    assert_ne!(
        results(&other),
        reference,
        "{}: a different seed must change the results",
        scenario.display()
    );
}

#[test]
fn synthetic_counties_are_bit_identical_across_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = tmp.path().join("s.toml");
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args([
            "synth",
            "--regions",
            "300",
            "--groups",
            "7",
            "--seed",
            "3",
            "--classified",
            "--out",
        ])
        .arg(&scn)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check(&scn);
}

#[test]
fn shipped_scenarios_are_bit_identical_across_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for name in [
        "national.toml",
        "xinan.toml",
        "yangtze.toml",
        "county_two_tier.toml",
    ] {
        check(&root.join(name));
    }
}
