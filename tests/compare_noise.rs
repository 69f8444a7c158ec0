//! `ecocomp compare` counts a region as a winner or a loser only when its difference is
//! told apart from zero, says so, and prints zero as zero.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

/// example.toml with a third formula: the baseline again, but with `c0` uncertain around
/// the same centre, so that its differences from the baseline are noise around zero.
fn noisy_twin(dir: &Path) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/example.toml");
    let mut text = std::fs::read_to_string(example).unwrap();
    text.push_str(include_str!("fixtures/noisy_twin.toml"));
    let path = dir.join("twin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn compare(scn: &Path, draws: &str, out: &Path) -> String {
    let o = ecocomp()
        .arg("compare")
        .arg(scn)
        .args([
            "--formulas",
            "twin",
            "--baseline",
            "baseline",
            "--draws",
            draws,
        ])
        .args(["--seed", "1", "--threads", "2", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn noise_is_no_winner_and_the_net_of_a_fixed_budget_prints_as_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = noisy_twin(tmp.path());
    let out = tmp.path().join("cmp");
    let stdout = compare(&scn, "20", &out);
    assert!(
        stdout.contains(
            "twin vs baseline: 0 winners (0 亿元), 0 losers (0 亿元), 4 unchanged, net 0 亿元"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("e-1"),
        "no rounding residue printed:\n{stdout}"
    );
    // The differences are there, only not told apart from zero.
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let twin: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .filter(|r: &Vec<String>| r[0] == "twin")
        .collect();
    assert_eq!(twin.len(), 4);
    assert!(twin.iter().all(|r| r[6].parse::<f64>().unwrap() != 0.0));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let overall = &json["formulas"][1]["winners_losers"]["overall"];
    assert_eq!(overall["winners"], 0);
    assert_eq!(overall["losers"], 0);
    assert_eq!(overall["unchanged"], 4);
    assert_eq!(
        json["formulas"][1]["winners_losers"]["largest_winners"],
        serde_json::json!([])
    );
}

#[test]
fn the_rule_is_stated_in_the_table_and_in_metrics_json() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = noisy_twin(tmp.path());
    let out = tmp.path().join("cmp");
    let stdout = compare(&scn, "20", &out);
    assert!(
        stdout.contains(
            "winners and losers: a region wins (loses) when the 90% interval of its paired difference, mean ± 1.645 × SE, lies above (below) 0 and the difference exceeds 1e-8 亿元 (1e-9 × the baseline's total) in size; every other region is unchanged."
        ),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let rule = &json["rule"];
    assert!(
        rule["text"].as_str().unwrap().contains("90% interval"),
        "{rule}"
    );
    assert_eq!(rule["z"], 1.645);
    assert!(
        (rule["tolerance"].as_f64().unwrap() - 1e-8).abs() < 1e-20,
        "{rule}"
    );
    // Without draws there is no interval, and the rule says so.
    let stdout = compare(&scn, "0", &tmp.path().join("cmp0"));
    assert!(
        stdout.contains("when its point difference exceeds 1e-8 亿元"),
        "{stdout}"
    );
    assert!(stdout.contains("0 winners"), "{stdout}");
}

#[test]
fn real_moves_are_still_winners_and_losers_with_six_digit_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let national = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/national.toml");
    let o = ecocomp()
        .arg("compare")
        .arg(&national)
        .args(["--draws", "40", "--seed", "3", "--threads", "2", "--out"])
        .arg(tmp.path().join("cmp"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("redline_reform vs baseline_2017:"))
        .unwrap();
    assert!(line.ends_with(", net 0 亿元"), "{line}");
    assert!(
        !line.starts_with("redline_reform vs baseline_2017: 0 winners"),
        "{line}"
    );
    // Every listed winner's and loser's interval excludes zero.
    for l in stdout
        .lines()
        .filter(|l| l.starts_with("  gain") || l.starts_with("  loss"))
    {
        let cells: Vec<&str> = l.split_whitespace().collect();
        let d: f64 = cells[3].parse().unwrap();
        let se: f64 = cells[5].parse().unwrap();
        assert!(d.abs() - 1.645 * se > 0.0, "{l}");
        assert!(
            cells[3].chars().filter(char::is_ascii_digit).count() <= 6,
            "{l}"
        );
    }
}
