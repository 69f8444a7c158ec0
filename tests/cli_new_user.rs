//! What a new user meets first: the README's install path, and the warnings and messages
//! that must say what happened (scaled floors, formulas decided by their floors and caps,
//! tags nobody carries), without false alarms after a broken regions file.

use assert_cmd::Command;
use std::path::Path;

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

/// Run `args` in `dir`; returns (success, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = ecocomp().current_dir(dir).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The README's path after `cargo install --path .`: the default run, a new scenario from
/// `init` validated and run, and shell completions, all with the built binary.
#[test]
fn the_readme_path_works_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (ok, out, err) = run_in(d, &["run", "--draws", "200", "--no-plots", "--quiet"]);
    assert!(ok, "{err}");
    assert!(out.contains("wrote output/national"), "{out}");
    assert!(d.join("output/national/regions.csv").is_file());
    let (ok, _, err) = run_in(d, &["init", "x"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run_in(d, &["validate", "x/example.toml"]);
    assert!(ok && out.contains("valid"), "{out}{err}");
    let (ok, out, err) = run_in(
        d,
        &["run", "x/example.toml", "--draws", "100", "--no-plots"],
    );
    assert!(ok && out.contains("wrote output/example"), "{out}{err}");
    let (ok, out, _) = run_in(d, &["completions", "bash"]);
    assert!(
        ok && out.contains("_ecocomp()") && out.contains("validate"),
        "{out}"
    );
    let (ok, out, _) = run_in(d, &["man"]);
    assert!(ok && out.contains(".TH ecocomp 1"), "{out}");
}

#[test]
fn validate_list_shows_what_the_scenario_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, out, err) = run_in(root, &["validate", "scenarios/example.toml", "--list"]);
    assert!(ok, "{err}");
    for want in [
        "formulas (2):",
        "reform: key subsidy",
        "reverse linkage",
        "regions (4,",
        "甲县 (north)",
        "per group: north 2, south 2",
        "tags: water_source (2 regions), eco_pilot (1 region)",
        "uncertain parameters (1):",
        "formula[1].key.redline_uplift: uniform(0.25, 0.75)",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let (ok, out, _) = run_in(root, &["validate", "scenarios/chishui.toml", "--list"]);
    assert!(
        ok && out.contains("agreements (1):") && out.contains("parties 云南"),
        "{out}"
    );
    let (ok, out, _) = run_in(
        root,
        &["validate", "scenarios/county_two_tier.toml", "--list"],
    );
    assert!(ok, "{out}");
    for want in [
        "per-unit grassland_ban (0.00075 × grassland_ban_mu)",
        "pool wetland (0.04 of the budget, weight wetland_km2 *",
        "reward for agreement ruoergai_maqu (2000 by performance)",
        "provincial method qinghai_method for 青海 (retains 0.05)",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

/// A scenario of three counties, two of them hold-harmless, whose floors exceed the budget.
const SCALED: &str = r#"
[scenario]
name = "scaled"
[budget]
total = 10.0
on_infeasible = "scale_floors"
[[regions.inline]]
id = "a"
name = "甲县"
std_revenue = 1.0
std_expenditure = 5.0
prior_allocation = 8.0
hold_harmless = true
[[regions.inline]]
id = "b"
name = "乙县"
std_revenue = 1.0
std_expenditure = 5.0
prior_allocation = 6.0
hold_harmless = true
[[regions.inline]]
id = "c"
name = "丙县"
std_revenue = 1.0
std_expenditure = 5.0
[[formula]]
name = "f"
[formula.key]
c0 = 0.5
[formula.floor]
h = 1.0
"#;

#[test]
fn floors_paid_pro_rata_are_announced_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = tmp.path().join("s.toml");
    std::fs::write(&scn, SCALED).unwrap();
    let out = tmp.path().join("out");
    let (ok, _, err) = run_in(
        tmp.path(),
        &[
            "run",
            scn.to_str().unwrap(),
            "--draws",
            "20",
            "--no-plots",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("warning: formula 'f': the hold-harmless floors total 14"),
        "{err}"
    );
    assert!(
        err.contains("regions without a floor get nothing (丙县)"),
        "{err}"
    );
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("scale_floors"), "{summary}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("regions without a floor get nothing"));
    // validate says it too.
    let (ok, _, err) = run_in(tmp.path(), &["validate", scn.to_str().unwrap()]);
    assert!(ok && err.contains("scale_floors"), "{err}");
}

#[test]
fn formulas_decided_by_their_caps_are_named() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (ok, _, err) = run_in(
        root,
        &[
            "run",
            "scenarios/example.toml",
            "--draws",
            "50",
            "--no-plots",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("formula 'reform': 2 of 4 regions sit on their floor or cap")
            && err.contains("甲县 (cap)"),
        "{err}"
    );
    // The baseline has neither floors nor caps: no warning for it.
    assert!(!err.contains("formula 'baseline': "), "{err}");
}

#[test]
fn a_broken_regions_file_brings_no_false_noise_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("r.csv"), "id,std_revenue\nx,1\n").unwrap();
    let scn = r#"
[scenario]
name = "broken"
[budget]
total = 10.0
[regions]
file = "r.csv"
[[noise]]
column = "eqi_change"
kind = "additive"
sigma = 0.5
[[formula]]
name = "f"
[formula.key]
c0 = 0.5
"#;
    std::fs::write(tmp.path().join("s.toml"), scn).unwrap();
    let (ok, _, err) = run_in(tmp.path(), &["validate", "s.toml"]);
    assert!(!ok);
    assert!(err.contains("std_expenditure"), "{err}");
    assert!(!err.contains("noise models need"), "{err}");
}

#[test]
fn a_tag_nobody_carries_is_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = r#"
[scenario]
name = "tags"
[budget]
total = 10.0
[[regions.inline]]
id = "a"
std_revenue = 1.0
std_expenditure = 5.0
tags = ["eco_pilot"]
[[formula]]
name = "one"
[formula.key]
c0 = 0.5
[formula.importance]
eco_pilot = 1.2
national_park = 1.5
[[formula]]
name = "two"
[formula.key]
c0 = 0.6
[formula.importance]
eco_pilot = 1.2
national_park = 1.4
"#;
    std::fs::write(tmp.path().join("s.toml"), scn).unwrap();
    let (ok, _, err) = run_in(tmp.path(), &["validate", "s.toml"]);
    assert!(ok, "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("national_park")).count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("formulas 'one', 'two' use tag 'national_park' but no region has it"),
        "{err}"
    );
}

#[test]
fn breakdown_names_every_factor_and_says_when_the_scale_does_not_apply() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (ok, _, err) = run_in(
        root,
        &[
            "run",
            "scenarios/example.toml",
            "--draws",
            "0",
            "--no-plots",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(out.join("breakdown.csv")).unwrap();
    let header = text.lines().next().unwrap();
    for col in [
        "band_multiplier",
        "c0",
        "importance_m",
        "importance_tag",
        "redline_uplift_factor",
        "key_K",
        "pa_weight_share",
        "rl_weight_share",
        "rangers_F",
        "claim_S_prime",
    ] {
        assert!(header.split(',').any(|h| h == col), "no {col} in {header}");
    }
    let scale = header.split(',').position(|h| h == "budget_scale").unwrap();
    let capped = header.split(',').position(|h| h == "cap_binds").unwrap();
    let mut seen_capped = false;
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[capped] == "true" {
            assert_eq!(cells[scale], "capped", "{line}");
            seen_capped = true;
        }
    }
    assert!(seen_capped, "the example should cap someone");
    assert!(text.contains("claims S = K "), "{text}");
    // The water-source county's importance comes from its tag.
    assert!(text.contains(",water_source,"), "{text}");
}

#[test]
fn basin_outputs_leave_out_what_does_not_apply_and_fill_the_round() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (ok, _, err) = run_in(
        root,
        &[
            "run",
            "scenarios/xinan.toml",
            "--draws",
            "100",
            "--no-plots",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let sections = std::fs::read_to_string(out.join("sections.csv")).unwrap();
    for line in sections.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[5], "p_index");
        assert_eq!(cells[7], "", "a P-index section shows no class: {line}");
    }
    let basins = std::fs::read_to_string(out.join("basins.csv")).unwrap();
    let header: Vec<&str> = basins.lines().next().unwrap().split(',').collect();
    let pays = header.iter().position(|h| *h == "p_pays").unwrap();
    let rounds: Vec<&str> = basins
        .lines()
        .filter(|l| l.split(',').nth(2) == Some("round"))
        .collect();
    assert!(!rounds.is_empty());
    for l in rounds {
        assert!(!l.split(',').nth(pays).unwrap().is_empty(), "{l}");
    }
}

#[test]
fn run_help_says_one_hour() {
    let out = ecocomp().args(["run", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("one hour") && !text.contains("MAX_UNFORCED"),
        "{text}"
    );
}

#[test]
fn the_summary_table_lists_top_n_or_all_and_regions_csv_leaves_the_baselines_own_diff_empty() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let rows = |text: &str| text.lines().filter(|l| l.contains("县")).count();
    let (ok, text, err) = run_in(
        root,
        &[
            "run",
            "scenarios/example.toml",
            "--draws",
            "50",
            "--no-plots",
            "--out",
            o,
            "--all",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(rows(&text), 8, "4 regions × 2 formulas:\n{text}");
    let (ok, text, _) = run_in(
        root,
        &[
            "run",
            "scenarios/example.toml",
            "--draws",
            "50",
            "--no-plots",
            "--out",
            o,
            "--top",
            "1",
        ],
    );
    assert!(ok);
    assert_eq!(rows(&text), 2, "1 region × 2 formulas:\n{text}");
    let csv = std::fs::read_to_string(out.join("regions.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let gain = header.iter().position(|h| *h == "p_gain").unwrap();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let empty = cells[gain].is_empty();
        assert_eq!(empty, cells[0] == "baseline", "{line}");
    }
}

#[test]
fn comparison_csv_leaves_the_baselines_own_difference_empty_and_sensitivity_prints_six_digits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = out.to_str().unwrap();
    let (ok, _, err) = run_in(
        root,
        &[
            "compare",
            "scenarios/example.toml",
            "--draws",
            "50",
            "--out",
            o,
        ],
    );
    assert!(ok, "{err}");
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let empty = cells[6..9].iter().all(|c| c.is_empty());
        assert_eq!(empty, cells[0] == "baseline", "{line}");
    }
    let out = tmp.path().join("sens");
    let (ok, text, err) = run_in(
        root,
        &[
            "sensitivity",
            "scenarios/example.toml",
            "--formula",
            "reform",
            "--method",
            "morris",
            "--samples",
            "4",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    // No number carries more than six significant digits.
    for word in text.split_whitespace() {
        let digits = word.trim_start_matches('-').replace('.', "");
        if word.parse::<f64>().is_ok() && digits.chars().all(|c| c.is_ascii_digit()) {
            assert!(
                digits.trim_start_matches('0').len() <= 6,
                "{word} in\n{text}"
            );
        }
    }
}
