//! `ecocomp compare` and `ecocomp sensitivity` end to end, with small draw and sample
//! counts.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

#[test]
fn compare_national_prints_the_table_and_writes_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    ecocomp()
        .arg("compare")
        .arg(scenario("national.toml"))
        .args(["--draws", "40", "--seed", "3", "--threads", "2", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("baseline_2017"))
        .stdout(predicate::str::contains("redline_reform vs baseline_2017"))
        .stdout(predicate::str::contains("winners"));
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "formula,id,name,group,point,mean,diff_mean,diff_se,p_gain"
    );
    // 31 provinces × 2 formulas.
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 62);
    // Fixed budget: the reform's differences sum to zero.
    let sum: f64 = rows
        .iter()
        .filter(|r| r[0] == "redline_reform")
        .map(|r| r[6].parse::<f64>().unwrap())
        .sum();
    assert!(sum.abs() < 1e-6, "{sum}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(json["baseline"], "baseline_2017");
    let gini = &json["formulas"][1]["metrics"]["gini"];
    assert!(gini["point"].as_f64().unwrap() > 0.0);
    assert_eq!(gini["draws"], 40);
    assert!(out.join("manifest.json").is_file());
}

#[test]
fn compare_selects_formulas_and_rejects_unknown_ones() {
    let tmp = tempfile::tempdir().unwrap();
    ecocomp()
        .arg("compare")
        .arg(scenario("example.toml"))
        .args(["--formulas", "reform", "--baseline", "baseline", "--draws", "0"])
        .arg("--out")
        .arg(tmp.path().join("a"))
        .assert()
        .success()
        .stdout(predicate::str::contains("reform vs baseline"));
    ecocomp()
        .arg("compare")
        .arg(scenario("example.toml"))
        .args(["--formulas", "nosuch", "--draws", "0"])
        .arg("--out")
        .arg(tmp.path().join("b"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nosuch"));
}

#[test]
fn sensitivity_runs_morris_and_sobol_with_charts() {
    let tmp = tempfile::tempdir().unwrap();
    for (method, samples) in [("morris", "6"), ("sobol", "64")] {
        let out = tmp.path().join(method);
        ecocomp()
            .arg("sensitivity")
            .arg(scenario("example.toml"))
            .args(["--formula", "reform", "--method", method, "--samples", samples])
            .args(["--regions", "c", "--threads", "2", "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("formula[1].key.c0"));
        let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
        assert!(csv.starts_with("method,input,output,mu_star,sigma,s1"));
        assert!(csv.contains(&format!("{method},formula[1].key.c0,gini,")));
        assert!(out.join("plots/tornado_gini.png").is_file());
        assert!(out.join("plots/tornado_gini.svg").is_file());
    }
}

#[test]
fn sensitivity_without_uncertain_parameters_says_what_to_add() {
    let tmp = tempfile::tempdir().unwrap();
    ecocomp()
        .arg("sensitivity")
        .arg(scenario("national.toml"))
        .args(["--formula", "baseline_2017", "--method", "morris", "--out"])
        .arg(tmp.path().join("s"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("national"))
        .stderr(predicate::str::contains("dist"));
}
