//! `ecocomp calibrate` end to end: the files it writes, the fitted values put back into the
//! scenario with its comments kept, and the input errors it refuses with exit code 2.

use assert_cmd::Command;
use std::path::Path;

fn national() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/national.toml")
}

fn calibrate(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("ecocomp")
        .unwrap()
        .arg("calibrate")
        .arg(national())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn writes_the_fit_and_the_calibrated_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cal");
    let o = calibrate(&[
        "--formula",
        "baseline_2017",
        "--free",
        "importance.qinghai_tibet=1:3",
        "--free",
        "protected_areas.share=0:0.3",
        "--starts",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("out of sample: Spearman"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("calibration.json")).unwrap()).unwrap();
    assert_eq!(
        json["cross_validation_folds"], 26,
        "leave-one-out over the 26 known"
    );
    assert_eq!(json["starts"].as_array().unwrap().len(), 2);
    let fitted = json["free"][0]["fitted"].as_f64().unwrap();
    assert!((1.0..=3.0).contains(&fitted));
    let in_loss = json["in_sample"]["loss"].as_f64().unwrap();
    assert!(in_loss <= json["initial_fit"]["loss"].as_f64().unwrap());
    // The calibrated scenario is the original with the fitted values in place.
    let text = std::fs::read_to_string(out.join("calibrated.toml")).unwrap();
    assert!(text.starts_with("# ecocomp default scenario"));
    assert!(
        text.contains(&format!("qinghai_tibet = {fitted}")),
        "{fitted}"
    );
    // The figure has the 45° line and both fits; the page shows the tables and the figure.
    let svg = std::fs::read_to_string(out.join("plots/fit.svg")).unwrap();
    assert!(svg.contains("fitted against reference_allocation"));
    assert!(svg.contains("out of sample (26-fold)"));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    for want in [
        "Coefficients",
        "out of sample",
        "importance.qinghai_tibet",
        "plots/fit.png",
    ] {
        assert!(page.contains(want), "report.html lacks {want}");
    }
    let csv = std::fs::read_to_string(out.join("fit.csv")).unwrap();
    assert!(csv.starts_with("id,name,group,target,fitted,residual,fold_prediction\n"));
    assert_eq!(csv.lines().count(), 32);
    // Loaded back beside a copy of its regions file, it is a valid scenario.
    let regions = national().with_file_name("national_regions.csv");
    std::fs::copy(&regions, tmp.path().join("national_regions.csv")).unwrap();
    let beside = tmp.path().join("calibrated.toml");
    std::fs::write(&beside, &text).unwrap();
    let ok = Command::cargo_bin("ecocomp")
        .unwrap()
        .arg("validate")
        .arg(&beside)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn bad_requests_exit_2_with_a_precise_message() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--formula", "baseline_2017", "--free", "redline.share=0:1"],
            "formula 'baseline_2017' has no [formula.redline]",
        ),
        (
            &["--formula", "baseline_2017", "--free", "key.c7=0:1"],
            "'key.c7' is not a coefficient path",
        ),
        (
            &[
                "--formula",
                "baseline_2017",
                "--free",
                "importance.water_source=2:1",
            ],
            "the lower bound must be below the upper",
        ),
        (
            &["--formula", "baseline_2017", "--free", "key.c0=0.001:0.01"],
            "c0 cannot be fitted under a fixed budget",
        ),
        (
            &[
                "--formula",
                "baseline_2017",
                "--target",
                "damage_index",
                "--free",
                "importance.water_source=1:2",
            ],
            "the target column has no positive value",
        ),
        (
            &[
                "--formula",
                "nosuch",
                "--free",
                "importance.water_source=1:2",
            ],
            "no such formula",
        ),
    ];
    for (args, want) in cases {
        let o = calibrate(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(
            err.contains("national.toml"),
            "{args:?} names no file: {err}"
        );
    }
}

#[test]
fn too_few_regions_for_the_free_coefficients() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("s.toml");
    std::fs::write(
        &p,
        r#"[scenario]
name = "few"
[budget]
total = 10.0
[[regions.inline]]
id = "a"
std_revenue = 1.0
std_expenditure = 5.0
reference_allocation = 4.0
tags = ["t"]
[[regions.inline]]
id = "b"
std_revenue = 1.0
std_expenditure = 6.0
reference_allocation = 6.0
[[formula]]
name = "f"
[formula.key]
c0 = 1.0
[formula.importance]
t = 1.5
[calibrate]
formula = "f"
free = { "importance.t" = [1.0, 3.0] }
"#,
    )
    .unwrap();
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .arg("calibrate")
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("2 regions have a target, fewer than the 1 free coefficients + 2"),
        "{err}"
    );
}
