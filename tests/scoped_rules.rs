//! The eco-spending weight and the reverse-linkage cut limited to tagged regions, and the
//! floor's waiver by violation, as a scenario writes them (docs/model.md §1.2, §1.4,
//! §1.5), end to end through `ecocomp run`.

use assert_cmd::Command;

const SCENARIO: &str = r#"
[scenario]
name = "scoped"
[budget]
mode = "open"
[[regions.inline]]
id = "a"
std_revenue = 10.0
std_expenditure = 20.0
eco_spending = 4.0
damage_index = 0.2
prior_allocation = 50.0
hold_harmless = true
tags = ["qinghai_tibet"]
[[regions.inline]]
id = "b"
std_revenue = 10.0
std_expenditure = 20.0
eco_spending = 4.0
damage_index = 0.2
prior_allocation = 50.0
hold_harmless = true
tags = ["damaging"]
[[formula]]
name = "f"
[formula.key]
c0 = 1.0
eco_weight = 0.5
eco_weight_tags = ["qinghai_tibet"]
[formula.reverse_linkage]
lambda = 0.5
max_cut = 0.3
tags = ["damaging"]
[formula.floor]
h = 1.0
waived_on = []
"#;

#[test]
fn scoped_rules_apply_to_their_tags_only() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.toml"), SCENARIO).unwrap();
    let out = tmp.path().join("out");
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .current_dir(tmp.path())
        .args([
            "run",
            "s.toml",
            "--draws",
            "0",
            "--no-plots",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("breakdown.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |row: usize, name: &str| -> String {
        let k = header.iter().position(|h| *h == name).unwrap();
        text.lines()
            .nth(row)
            .unwrap()
            .split(',')
            .nth(k)
            .unwrap()
            .to_string()
    };
    // Region a: gap 20 + 0.5·4 − 10 = 12, no cut; region b: gap 10, cut 0.1.
    assert_eq!(col(1, "fiscal_gap"), "12");
    assert_eq!(col(2, "fiscal_gap"), "10");
    assert_eq!(col(1, "reverse_linkage_cut"), "0");
    assert_eq!(col(2, "reverse_linkage_cut"), "0.1");
    // `waived_on = []` keeps both floors although D > 0.
    assert_eq!(col(1, "floor_waived"), "false");
    assert_eq!(col(2, "floor"), "50");
}

/// Guidance of a region with two guidance tags: the highest amount by default, the sum with
/// `combine = "sum"` and in the earlier form without `amounts`.
#[test]
fn guidance_takes_the_highest_tag_unless_told_to_sum() {
    let base = r#"
[scenario]
name = "guidance"
[budget]
mode = "open"
[[regions.inline]]
id = "a"
std_revenue = 10.0
std_expenditure = 20.0
tags = ["national_park", "eco_pilot"]
[[formula]]
name = "f"
[formula.key]
c0 = 0.0
"#;
    let forms = [
        (
            "[formula.guidance.amounts]\nnational_park = 2.0\neco_pilot = 1.5\n",
            "2",
        ),
        (
            "[formula.guidance]\ncombine = \"sum\"\n[formula.guidance.amounts]\nnational_park = 2.0\neco_pilot = 1.5\n",
            "3.5",
        ),
        (
            "[formula.guidance]\nnational_park = 2.0\neco_pilot = 1.5\n",
            "3.5",
        ),
    ];
    for (table, want) in forms {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("s.toml"), format!("{base}{table}")).unwrap();
        let out = tmp.path().join("out");
        let o = Command::cargo_bin("ecocomp")
            .unwrap()
            .current_dir(tmp.path())
            .args([
                "run",
                "s.toml",
                "--draws",
                "0",
                "--no-plots",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(out.join("breakdown.csv")).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let k = header.iter().position(|h| *h == "guidance_G").unwrap();
        let got = text.lines().nth(1).unwrap().split(',').nth(k).unwrap();
        assert_eq!(got, want, "{table}");
    }
}
