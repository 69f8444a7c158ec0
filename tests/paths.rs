//! Multi-year paths through the command line (docs/model.md §5): a path of one year is the
//! single-year run with a year column, a path run is the same on any thread count, and it
//! writes every file of its output contract.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Write `text` as a scenario beside the shipped ones' data (national.toml's CSV).
fn scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::copy(
        scenarios().join("national_regions.csv"),
        dir.join("national_regions.csv"),
    )
    .unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(scn: &Path, out: &Path, extra: &[&str]) {
    let o = ecocomp()
        .args(["run", "--quiet", "--force", "--no-plots", "--draws", "600"])
        .args(extra)
        .arg(scn)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Drop the first column of every line.
fn without_first_column(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| l.split_once(',').map_or(l, |x| x.1).to_string() + "\n")
        .collect()
}

#[test]
fn one_year_path_is_the_single_year_run() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("national.toml")).unwrap();
    let plain = scenario(tmp.path(), "plain.toml", &text);
    let path = scenario(
        tmp.path(),
        "path.toml",
        &format!("{text}\n[path]\nyears = [2020]\n"),
    );
    run(&plain, &tmp.path().join("a"), &[]);
    run(&path, &tmp.path().join("b"), &[]);
    for table in ["regions.csv", "breakdown.csv"] {
        let a = std::fs::read(tmp.path().join("a").join(table)).unwrap();
        let b = std::fs::read(tmp.path().join("b").join(table)).unwrap();
        assert!(b.starts_with(b"year,"), "{table}");
        assert!(
            String::from_utf8_lossy(&b)
                .lines()
                .skip(1)
                .all(|l| l.starts_with("2020,")),
            "{table}"
        );
        assert_eq!(
            without_first_column(&b),
            String::from_utf8_lossy(&a),
            "{table}"
        );
    }
}

#[test]
fn path_runs_are_the_same_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = scenarios().join("path_2021_2025.toml");
    run(&scn, &tmp.path().join("t1"), &["--threads", "1"]);
    run(&scn, &tmp.path().join("t2"), &["--threads", "2"]);
    for f in ["regions.csv", "paths.csv", "breakdown.csv"] {
        let a = std::fs::read(tmp.path().join("t1").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("t2").join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    let paths = std::fs::read_to_string(tmp.path().join("t1/paths.csv")).unwrap();
    assert_eq!(paths.lines().count(), 1 + 2 * 31 * 5);
    assert!(paths.starts_with(
        "formula,id,name,group,year,point,mean,sd,p05,p25,p50,p75,p95,p_floor,p_cap\n"
    ));
}

#[test]
fn path_run_writes_its_figures_summary_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = ecocomp()
        .args([
            "run",
            "--quiet",
            "--force",
            "--draws",
            "300",
            "--plot-format",
            "png",
        ])
        .arg(scenarios().join("path_2021_2025.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "plots/fan_groups.png",
        "plots/fan_regions.png",
        "plots/floor_cap_share.png",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let path = &summary["path"];
    assert_eq!(path["years"].as_array().map(Vec::len), Some(5));
    assert_eq!(summary["years"].as_array().map(Vec::len), Some(5));
    for f in path["formulas"].as_array().unwrap() {
        let per_year: f64 = f["per_year"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["total_point"].as_f64().unwrap())
            .sum();
        let cum = f["cumulative_total_point"].as_f64().unwrap();
        assert!((per_year - cum).abs() < 1e-6 * cum, "{per_year} vs {cum}");
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("middle 50% of draws") && page.contains("floors and caps stop binding"));
}
