//! The commands a newcomer uses: run on the embedded default, init → validate → run, synth.

use assert_cmd::Command;
use std::path::Path;

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Point allocations per formula from regions.csv.
fn totals(out: &Path) -> std::collections::BTreeMap<String, f64> {
    let mut rdr = csv::Reader::from_path(out.join("regions.csv")).unwrap();
    let mut t = std::collections::BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        *t.entry(r[0].to_string()).or_insert(0.0) += r[4].parse::<f64>().unwrap();
    }
    t
}

#[test]
fn default_run_from_any_directory_writes_every_output_and_meets_the_budget() {
    let tmp = tempfile::tempdir().unwrap();
    // No scenario argument, run from a folder without the repository: the embedded default.
    ok(ecocomp()
        .current_dir(tmp.path())
        .args(["run", "--quiet", "--draws", "200"]));
    let out = tmp.path().join("output/national");
    for f in [
        "regions.csv",
        "breakdown.csv",
        "summary.json",
        "manifest.json",
        "report.html",
        "plots/lorenz.png",
        "plots/lorenz.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let t = totals(&out);
    assert_eq!(t.len(), 2);
    for (name, total) in t {
        assert!((total - 795.0).abs() <= 1e-9 * 795.0, "{name}: {total}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let rho = summary["reference_rank_correlation"][0]["spearman"]
        .as_f64()
        .unwrap();
    assert!((-1.0..=1.0).contains(&rho));
    assert_eq!(summary["reference_rank_correlation"][0]["regions"], 26);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["draws"], 200);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn init_then_validate_then_run() {
    let tmp = tempfile::tempdir().unwrap();
    ok(ecocomp().arg("init").arg(tmp.path()));
    let scn = tmp.path().join("example.toml");
    assert!(ok(ecocomp().arg("validate").arg(&scn)).contains("valid"));
    // The template shows the classified-compensation forms in comments.
    let text = std::fs::read_to_string(&scn).unwrap();
    for form in [
        "#   [[formula.per_unit]]",
        "#   [[formula.pool]]",
        "#   extra = [",
    ] {
        assert!(text.contains(form), "init lacks {form}");
    }
    ok(ecocomp()
        .args(["run", "--quiet", "--draws", "100", "--no-plots"])
        .arg(&scn)
        .arg("--out")
        .arg(tmp.path().join("out")));
    let t = totals(&tmp.path().join("out"));
    assert!(t.values().all(|x| (x - 10.0).abs() < 1e-9), "{t:?}");
    // init never overwrites.
    let o = ecocomp().arg("init").arg(tmp.path()).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}

#[test]
fn synth_is_deterministic_and_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.toml");
    let b = tmp.path().join("b.toml");
    for p in [&a, &b] {
        ok(ecocomp()
            .args([
                "synth",
                "--regions",
                "120",
                "--groups",
                "6",
                "--seed",
                "9",
                "--out",
            ])
            .arg(p));
    }
    assert_eq!(
        std::fs::read(tmp.path().join("a_regions.csv")).unwrap(),
        std::fs::read(tmp.path().join("b_regions.csv")).unwrap()
    );
    let text = std::fs::read_to_string(&a).unwrap();
    assert!(text.contains("[[noise]]") && text.matches("[[formula]]").count() == 3);
    assert!(ok(ecocomp().arg("validate").arg(&a)).contains("120 regions, 3 formulas"));
    ok(ecocomp()
        .args(["run", "--quiet", "--draws", "50", "--no-plots"])
        .arg(&a)
        .arg("--out")
        .arg(tmp.path().join("o")));
}

#[test]
fn basin_scenarios_run_and_explain_every_payment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for name in ["xinan", "yellow_river", "chishui", "yangtze"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("o");
        ok(ecocomp()
            .args(["run", "--quiet", "--draws", "100"])
            .arg(root.join(format!("{name}.toml")))
            .arg("--out")
            .arg(&out));
        for f in [
            "basins.csv",
            "sections.csv",
            "basins_breakdown.csv",
            "summary.json",
            "report.html",
        ] {
            assert!(out.join(f).is_file(), "{name}: {f} missing");
        }
        let breakdown = std::fs::read_to_string(out.join("basins_breakdown.csv")).unwrap();
        assert!(breakdown.lines().count() > 2, "{name}: empty breakdown");
    }
}

#[test]
fn save_draws_matches_the_summary_and_refuses_large_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    ok(ecocomp()
        .args([
            "run",
            "--quiet",
            "--no-plots",
            "--draws",
            "40",
            "--save-draws",
            "--out",
        ])
        .arg(&out));
    // The mean of the saved draws of one region equals regions.csv's mean.
    let mut rdr = csv::Reader::from_path(out.join("draws.csv")).unwrap();
    let vals: Vec<f64> = rdr
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[1] == "region" && &r[2] == "redline_reform" && &r[3] == "sichuan")
        .map(|r| r[5].parse().unwrap())
        .collect();
    assert_eq!(vals.len(), 40);
    let mean = vals.iter().sum::<f64>() / 40.0;
    let mut rdr = csv::Reader::from_path(out.join("regions.csv")).unwrap();
    let row = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "redline_reform" && &r[1] == "sichuan")
        .unwrap();
    let summary_mean: f64 = row[5].parse().unwrap();
    assert!(
        (mean - summary_mean).abs() <= 1e-9 * mean.abs(),
        "{mean} vs {summary_mean}"
    );
    // Too many values: refused before running, nothing written.
    let big = tmp.path().join("big");
    let o = ecocomp()
        .args([
            "run",
            "--quiet",
            "--draws",
            "10000000",
            "--save-draws",
            "--out",
        ])
        .arg(&big)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--save-draws is for small runs"));
    assert!(!big.exists());
}

/// The shipped 2021–2025 path is checked in full by `validate` (years, budget growth,
/// trends, AR(1), the phased-in red-line share), and `compare`, which does not handle
/// paths yet, refuses it rather than compare its first year as if it were the path,
/// leaving an earlier output alone.
#[test]
fn path_scenario_validates_and_compare_refuses_it() {
    let scn = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/path_2021_2025.toml");
    let out = ecocomp().arg("validate").arg(&scn).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("path: 5 years (2021–2025)")
            && text.contains("1 per-year formula parameters"),
        "{text}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("o");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("manifest.json"), "{}").unwrap();
    let out = ecocomp()
        .args(["compare"])
        .arg(&scn)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("path_2021_2025.toml") && err.contains("only `run` and `validate`"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("manifest.json")).unwrap(),
        "{}"
    );
}
