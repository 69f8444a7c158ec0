//! Figure-level checks on the SVG files of real runs, read through their text (SVG text is
//! real `<text>`): a water-quality class is plotted on a categorical I–V axis, not as a
//! number, and a histogram of shares never runs its axis past 1.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn run(scn: Option<&Path>, out: &Path) {
    let mut cmd = Command::cargo_bin("ecocomp").unwrap();
    cmd.arg("run");
    if let Some(s) = scn {
        cmd.arg(s);
    }
    let o = cmd
        .args(["--quiet", "--draws", "200", "--plot-format", "svg", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The texts of an SVG anchored at their end: the value labels of the y axis (x-axis
/// labels are centred, legend and titles start-anchored or centred).
fn y_labels(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .filter(|t| t[..t.find('>').unwrap()].contains("text-anchor=\"end\""))
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..];
            body[..body.find("</text>").unwrap()].to_string()
        })
        .collect()
}

fn svg_files(dir: &Path, prefix: &str, suffix: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            (name.starts_with(prefix) && name.ends_with(suffix))
                .then(|| (name, std::fs::read_to_string(&p).unwrap()))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn section_classes_are_categories_and_histogram_shares_stay_below_one() {
    let tmp = tempfile::tempdir().unwrap();
    for basin in ["chishui", "yellow_river"] {
        let out = tmp.path().join(basin);
        run(Some(&scenario(&format!("{basin}.toml"))), &out);
        let sections = svg_files(&out, "", "_sections.svg");
        assert_eq!(sections.len(), 1, "{basin}: one sections figure");
        let labels = y_labels(&sections[0].1);
        for class in ["I", "II", "III", "IV", "V", "worse than V"] {
            assert!(
                labels.iter().any(|l| l == class),
                "{basin}: class {class} is not on the axis: {labels:?}"
            );
        }
        assert!(
            labels.iter().all(|l| l.parse::<f64>().is_err()),
            "{basin}: the class axis has numbers: {labels:?}"
        );
    }

    let national = tmp.path().join("national");
    run(None, &national);
    let hists = svg_files(&national, "hist_", ".svg");
    assert!(!hists.is_empty(), "the national run draws histograms");
    for (name, svg) in &hists {
        let ticks: Vec<f64> = y_labels(svg)
            .iter()
            .filter_map(|l| l.parse().ok())
            .collect();
        assert!(ticks.len() >= 3, "{name}: y ticks {ticks:?}");
        let top = ticks.iter().copied().fold(f64::MIN, f64::max);
        assert!(top <= 1.0, "{name}: the share axis runs to {top}");
    }
}

/// Counties grouped by province: the change map is drawn by province, summed over its
/// counties, and a two-tier county's waterfall shows what the province's method changed.
#[test]
fn county_scenarios_map_by_province_and_show_the_provinces_method() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(Some(&scenario("county_two_tier.toml")), &out);
    let map = std::fs::read_to_string(out.join("plots/map_change.svg")).unwrap();
    assert!(
        map.contains("summed over its regions"),
        "{}",
        &map[..200.min(map.len())]
    );
    for p in ["青海", "四川", "甘肃"] {
        assert!(map.contains(p), "the map lacks {p}");
    }
    // Qinghai's county 玛沁县 (qh01) is passed down by the province's own method.
    let out2 = tmp.path().join("out2");
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .arg("run")
        .arg(scenario("county_two_tier.toml"))
        .args(["--quiet", "--draws", "50", "--plot-format", "svg"])
        .args(["--plot-regions", "qh01", "--out"])
        .arg(&out2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(out2.join("plots/waterfall_qh01_central.svg")).unwrap();
    assert!(
        svg.contains("province&apos;s method") || svg.contains("province's method"),
        "the waterfall lacks the province's step"
    );
    assert!(svg.contains("per_unit_grassland_ban"));
}
