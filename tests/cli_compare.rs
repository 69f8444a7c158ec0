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
    // Figures and a page: winners and losers, the dumbbell, the metrics with intervals.
    for stem in ["winners_losers", "dumbbell"] {
        for ext in ["png", "svg"] {
            assert!(
                out.join(format!("plots/{stem}.{ext}")).is_file(),
                "{stem}.{ext}"
            );
        }
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Winners and losers against baseline_2017"));
    assert!(page.contains("90% interval") && page.contains("Theil T between groups"));
    let svg = std::fs::read_to_string(out.join("plots/winners_losers.svg")).unwrap();
    // Every one of the 31 provinces is a row.
    for name in ["北京", "西藏", "新疆", "江苏"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name}");
    }
}

#[test]
fn compare_selects_formulas_and_rejects_unknown_ones() {
    let tmp = tempfile::tempdir().unwrap();
    ecocomp()
        .arg("compare")
        .arg(scenario("example.toml"))
        .args([
            "--formulas",
            "reform",
            "--baseline",
            "baseline",
            "--draws",
            "0",
        ])
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
            .args([
                "--formula",
                "reform",
                "--method",
                method,
                "--samples",
                samples,
            ])
            .args(["--regions", "c", "--threads", "2", "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("reform.key.redline_uplift"));
        let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
        assert!(csv.starts_with("method,input,output,mu_star,sigma,s1"));
        assert!(csv.contains(&format!("{method},reform.key.redline_uplift,gini,")));
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

/// Writes a 2,800-region synthetic scenario (with noise on revenue and quality, and an
/// uncertain `c0` and budget total) into `$ECOCOMP_SYNTH_DIR`, for timing `compare` and
/// `sensitivity` by hand: `ECOCOMP_SYNTH_DIR=/tmp/s cargo test --test cli_compare -- --ignored`.
#[test]
#[ignore]
fn write_synthetic_scenario_for_timing() {
    use ecocomp::model::NoiseSpec;
    use ecocomp::model::region::Column;
    use ecocomp::scenario::write::{ScenarioFile, regions_csv, scenario_toml};
    let Ok(dir) = std::env::var("ECOCOMP_SYNTH_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let regions = ecocomp::synth::synth_regions(2800, 31, 1);
    let formulas = ecocomp::synth::synth_formulas(&regions.meta);
    let budget = ecocomp::synth::synth_budget(&regions);
    let noise = [
        NoiseSpec {
            column: Column::StdRevenue,
            multiplicative: true,
            sigma: Some(0.1),
            sigma_column: None,
            rho: 0.5,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            ar1: 0.0,
        },
        NoiseSpec {
            column: Column::EqiChange,
            multiplicative: false,
            sigma: Some(1.0),
            sigma_column: None,
            rho: 0.3,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            ar1: 0.0,
        },
    ];
    let toml = scenario_toml(&ScenarioFile {
        name: "synth2800",
        description: "2,800 synthetic counties",
        assumptions: &[],
        budget: &budget,
        regions_file: "regions.csv",
        tag_names: &regions.meta.tag_names,
        extra_names: &regions.meta.extra_names,
        formulas: &formulas,
        noise: &noise,
        draws: 1000,
        seed: 1,
    });
    // Make every formula's c0 and the budget total uncertain (±20% uniform, ±5% normal).
    let toml: String = toml
        .lines()
        .map(|l| {
            if let Some(v) = l.strip_prefix("c0 = ") {
                let c: f64 = v.trim().parse().unwrap();
                format!(
                    "c0 = {{ dist = \"uniform\", low = {}, high = {} }}",
                    0.8 * c,
                    1.2 * c
                )
            } else if let Some(v) = l.strip_prefix("total = ") {
                let t: f64 = v.trim().parse().unwrap();
                format!(
                    "total = {{ dist = \"normal\", mean = {t}, sd = {}, min = 0.0 }}",
                    0.05 * t
                )
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("synth2800.toml"), toml).unwrap();
    std::fs::write(dir.join("regions.csv"), regions_csv(&regions, &[]).unwrap()).unwrap();
}
