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
    let draws = if extra.contains(&"--draws") {
        &[][..]
    } else {
        &["--draws", "600"][..]
    };
    let o = ecocomp()
        .args(["run", "--quiet", "--force", "--no-plots"])
        .args(draws)
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

/// A strong quality response moves the later years of the formula that rewards quality
/// (its grades follow its own money of the year before), and leaves year 1 and the
/// formula without quality terms alone; the summary and report say it is on.
#[test]
fn quality_response_moves_only_later_years_of_the_quality_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("path_2021_2025.toml")).unwrap();
    let off = scenario(tmp.path(), "off.toml", &text);
    let on = scenario(
        tmp.path(),
        "on.toml",
        &format!("{text}\n[path.quality_response]\nkappa = 200.0\n"),
    );
    run(&off, &tmp.path().join("off"), &[]);
    run(&on, &tmp.path().join("on"), &[]);
    let point = |dir: &str, formula: &str, year: &str| -> Vec<String> {
        std::fs::read_to_string(tmp.path().join(dir).join("paths.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(&format!("{formula},")) && l.split(',').nth(4) == Some(year))
            .map(|l| l.split(',').nth(5).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        point("off", "redline_reform", "2021"),
        point("on", "redline_reform", "2021")
    );
    assert_eq!(
        point("off", "baseline_2017", "2024"),
        point("on", "baseline_2017", "2024")
    );
    assert_ne!(
        point("off", "redline_reform", "2024"),
        point("on", "redline_reform", "2024")
    );
    let summary = std::fs::read_to_string(tmp.path().join("on/summary.json")).unwrap();
    assert!(summary.contains("\"quality_response\": 200.0"), "{summary}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("on/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["path"]["quality_response"], 200.0);
    let off: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("off/manifest.json")).unwrap())
            .unwrap();
    assert!(off["path"]["quality_response"].is_null());
}

/// Basin agreements on a path settle in their own periods, and the tables keep the
/// periods that are years of the path.
#[test]
fn agreements_settle_in_the_years_of_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["county_two_tier.toml", "county_two_tier_regions.csv"] {
        std::fs::copy(scenarios().join(f), tmp.path().join(f)).unwrap();
    }
    let scn = tmp.path().join("county_two_tier.toml");
    let text = std::fs::read_to_string(&scn).unwrap();
    for (start, rows) in [(2023, 2), (2025, 0)] {
        let t = format!(
            "{text}\n[path]\nstart = {start}\nend = {}\ngrowth = 0.03\n",
            start + 3
        );
        std::fs::write(&scn, t).unwrap();
        let out = tmp.path().join(format!("o{start}"));
        run(&scn, &out, &[]);
        let basins = std::fs::read_to_string(out.join("basins.csv")).unwrap();
        assert!(basins.starts_with("year,agreement,party,period,"));
        assert_eq!(basins.lines().count() - 1, rows, "{basins}");
        assert!(basins.lines().skip(1).all(|l| l.starts_with("2024,")));
    }
}

/// A path shards like any run: three shards merged give the single run's tables.
#[test]
fn path_shards_merge_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = scenarios().join("path_2021_2025.toml");
    run(&scn, &tmp.path().join("whole"), &["--threads", "2"]);
    let mut shards = Vec::new();
    for k in [2, 0, 1] {
        let dir = tmp.path().join(format!("s{k}"));
        run(
            &scn,
            &dir,
            &["--threads", "1", "--shard", &format!("{k}/3")],
        );
        shards.push(dir);
    }
    let merged = tmp.path().join("merged");
    let o = ecocomp()
        .args(["merge", "--no-plots", "--threads", "1"])
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["regions.csv", "paths.csv", "breakdown.csv"] {
        let a = std::fs::read(tmp.path().join("whole").join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(
            a == b,
            "{f} of the merged shards differs from the single run's"
        );
    }
}

/// The saved draws of a path hold every year (the year in `period`), and they are the
/// Monte Carlo's own draws: their mean is the mean in paths.csv.
#[test]
fn saved_draws_of_a_path_hold_every_year() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    run(
        &scenarios().join("path_2021_2025.toml"),
        &out,
        &["--draws", "40", "--save-draws"],
    );
    let draws = std::fs::read_to_string(out.join("draws.csv")).unwrap();
    assert_eq!(draws.lines().count() - 1, 40 * 2 * 31 * 5);
    let paths = std::fs::read_to_string(out.join("paths.csv")).unwrap();
    for year in ["2021", "2023", "2025"] {
        let values: Vec<f64> = draws
            .lines()
            .filter(|l| {
                l.contains(",region,redline_reform,yunnan,") && l.contains(&format!(",{year},"))
            })
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(values.len(), 40);
        let mean = values.iter().sum::<f64>() / 40.0;
        let row = paths
            .lines()
            .find(|l| l.starts_with("redline_reform,yunnan,") && l.split(',').nth(4) == Some(year))
            .unwrap();
        let want: f64 = row.split(',').nth(6).unwrap().parse().unwrap();
        assert!(
            (mean - want).abs() <= 1e-9 * want.abs(),
            "{year}: {mean} vs {want}"
        );
    }
}

/// A budget that covers the first year's floors and pools but not a later year's is
/// refused with that year named, both at the point estimate and in a draw, and the
/// earlier output stays as it was.
#[test]
fn a_later_year_the_budget_cannot_cover_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("path_2021_2025.toml")).unwrap();
    let shrinking: String = text
        .lines()
        .map(|l| {
            if l.starts_with("growth = ") {
                "growth = -0.95".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        shrinking, text,
        "the scenario has no growth line to replace"
    );
    let scn = scenario(tmp.path(), "shrinking.toml", &shrinking);
    let out = tmp.path().join("out");
    run(
        &scenarios().join("path_2021_2025.toml"),
        &out,
        &["--draws", "20"],
    );
    let earlier = std::fs::read(out.join("regions.csv")).unwrap();
    for (draws, code, said) in [
        ("0", 2, "formula[0] ('baseline_2017'), year 2022: "),
        ("50", 1, "2022: Monte Carlo draw "),
    ] {
        let o = ecocomp()
            .args(["run", "--quiet", "--force", "--no-plots", "--draws", draws])
            .arg(&scn)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(err.contains(said), "{err}");
        assert!(err.contains("shortfall"), "{err}");
        assert_eq!(std::fs::read(out.join("regions.csv")).unwrap(), earlier);
    }
}
