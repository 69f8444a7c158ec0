//! report.html stays small enough to mail and to open on a phone: under 1.5 MB for the
//! national default, every shipped basin scenario and a `compare`, with its figures and
//! its font.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const LIMIT: u64 = 1_500_000;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Runs `ecocomp ARGS --out DIR` and returns the size of the report it wrote, checking
/// that the page carries its font and figures (so a small page is not an empty one).
fn report_size(args: &[&str], out: &Path) -> u64 {
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("@font-face"),
        "{args:?}: the font is embedded"
    );
    assert!(html.contains("<svg"), "{args:?}: figures are embedded");
    std::fs::metadata(&page).unwrap().len()
}

#[test]
fn reports_of_the_shipped_scenarios_are_under_1_5_mb() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sizes = Vec::new();
    let national = ["run", "--quiet", "--draws", "300"];
    sizes.push((
        "national".to_string(),
        report_size(&national, &tmp.path().join("national")),
    ));
    for basin in ["xinan", "yellow_river", "chishui", "yangtze"] {
        let file = scenario(&format!("{basin}.toml"));
        let args = ["run", file.to_str().unwrap(), "--quiet", "--draws", "300"];
        sizes.push((
            basin.to_string(),
            report_size(&args, &tmp.path().join(basin)),
        ));
    }
    let national = scenario("national.toml");
    let compare = ["compare", national.to_str().unwrap(), "--draws", "300"];
    sizes.push((
        "compare".to_string(),
        report_size(&compare, &tmp.path().join("compare")),
    ));
    for (name, size) in &sizes {
        assert!(*size < LIMIT, "{name}: report.html is {size} bytes");
    }
}

#[test]
fn a_county_scale_report_stays_under_1_5_mb() {
    // Thousands of regions make thousands of marks (such figures go into the page as PNG)
    // and hundreds of regions on a floor or cap (the page lists the first of them).
    let tmp = tempfile::tempdir().unwrap();
    let scn = tmp.path().join("counties.toml");
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args([
            "synth",
            "--regions",
            "2800",
            "--groups",
            "10",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&scn)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = ["run", scn.to_str().unwrap(), "--quiet", "--draws", "100"];
    let out = tmp.path().join("out");
    let size = report_size(&args, &out);
    assert!(size < LIMIT, "a 2,800-region report.html is {size} bytes");
    // The list of regions on a floor or cap names the first ones and says how many more.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Not listed: "), "the long list is cut");
}
