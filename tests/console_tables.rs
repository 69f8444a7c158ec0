//! What `ecocomp run` prints: the top regions per formula, lined up by terminal width
//! whatever the script of the names, and each basin agreement's net per party.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// stdout of `ecocomp run SCENARIO --draws D --no-plots` into a temporary folder, for a
/// shipped scenario.
fn run(name: &str, draws: &str) -> String {
    run_path(&scenario(name), draws)
}

fn run_path(path: &Path, draws: &str) -> String {
    run_with(path, &["--draws", draws])
}

/// stdout of `ecocomp run SCENARIO ARGS… --no-plots` into a temporary folder.
fn run_with(path: &Path, args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .arg("run")
        .arg(path)
        .args(args)
        .args(["--seed", "3", "--threads", "2", "--no-plots", "--out"])
        .arg(tmp.path().join("out"))
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

/// Terminal columns of `s`: two for CJK characters (every name in the shipped
/// scenarios), one for the rest of what the tables print.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum()
}

/// The region rows under each `formula …:` line.
fn blocks(stdout: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut lines = stdout.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("formula ") {
            lines.next(); // the header
            let mut rows = Vec::new();
            while let Some(r) = lines.next_if(|r| r.starts_with("  ") && !r.starts_with("  (")) {
                rows.push(r);
            }
            out.push(rows);
        }
    }
    out
}

/// example.toml with region names of every width: six CJK characters, Latin, one CJK
/// character.
fn mixed_names(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(scenario("example.toml"))
        .unwrap()
        .replace("name = \"甲县\"", "name = \"内蒙古自治区\"")
        .replace("name = \"乙县\"", "name = \"Tibet\"")
        .replace("name = \"丁县\"", "name = \"丁\"");
    let path = dir.join("mixed.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn region_names_of_any_width_keep_the_columns_in_line() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = run_path(&mixed_names(tmp.path()), "30");
    let blocks = blocks(&stdout);
    assert_eq!(blocks.len(), 2, "{stdout}");
    for rows in &blocks {
        assert_eq!(rows.len(), 4, "{stdout}");
        // The points are right-aligned and the intervals start in one column.
        let point_end = |l: &str| width(l[..l.find('[').unwrap()].trim_end());
        let interval = |l: &str| width(&l[..l.find('[').unwrap()]);
        for r in rows {
            assert_eq!(point_end(r), point_end(rows[0]), "{stdout}");
            assert_eq!(interval(r), interval(rows[0]), "{stdout}");
        }
    }
    assert!(
        stdout.contains("内蒙古自治区") && stdout.contains("Tibet"),
        "{stdout}"
    );
    // The header's "point" ends where the numbers below it end.
    let header = stdout.lines().nth(1).unwrap();
    let first = blocks[0][0];
    assert_eq!(
        width(&header[..header.find("point").unwrap() + "point".len()]),
        width(first[..first.find('[').unwrap()].trim_end()),
        "{stdout}"
    );
}

#[test]
fn the_top_five_regions_by_default() {
    let stdout = run("national.toml", "0");
    let blocks = blocks(&stdout);
    assert_eq!(blocks.len(), 2, "{stdout}");
    assert!(blocks.iter().all(|rows| rows.len() == 5), "{stdout}");
    assert_eq!(
        stdout.matches("(5 of 31 regions, largest first").count(),
        2,
        "{stdout}"
    );
}

#[test]
fn numbers_print_to_six_significant_digits() {
    let stdout = run("national.toml", "0");
    // 795 is the budget: no `795.0000`, and no residue of the budget solve.
    assert!(
        stdout.contains("total 795 亿元, unallocated 0, scale "),
        "{stdout}"
    );
    for token in stdout.split_whitespace() {
        let mantissa = token.split('e').next().unwrap_or(token);
        let significant = mantissa.trim_start_matches(['-', '0', '.']);
        let digits = significant.chars().filter(char::is_ascii_digit).count();
        if token.parse::<f64>().is_ok() {
            assert!(digits <= 6, "{token} in\n{stdout}");
        }
    }
}

#[test]
fn a_basin_only_run_prints_each_party_net_over_the_round() {
    let stdout = run("xinan.toml", "0");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("basin agreements: net per party over the round, in 亿元"),
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = lines[2..8]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    // Round 1 (2012–14): 浙江 pays 安徽 1 a year; the centre adds 3 a year to 安徽.
    assert_eq!(rows[0], ["xinan_round1", "安徽", "12", "9"], "{stdout}");
    assert_eq!(rows[1], ["xinan_round1", "浙江", "-3", "0"], "{stdout}");
    assert!(rows.iter().all(|r| r.len() == 4), "{stdout}");
    assert!(lines[8].starts_with("wrote "), "{stdout}");
}

#[test]
fn basin_rows_line_up_and_carry_the_monte_carlo_interval() {
    let stdout = run("chishui.toml", "40");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains("Monte Carlo over 40 draws"), "{stdout}");
    assert!(lines[1].ends_with("MC mean  90% interval"), "{stdout}");
    let rows: Vec<&str> = lines[2..]
        .iter()
        .copied()
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    let interval = |l: &str| width(&l[..l.find('[').unwrap()]);
    let net_end = |l: &str| {
        let cells: Vec<&str> = l.split_whitespace().collect();
        width(&l[..l.find(cells[2]).unwrap() + cells[2].len()])
    };
    for r in &rows {
        assert_eq!(interval(r), interval(rows[0]), "{stdout}");
        assert_eq!(net_end(r), net_end(rows[0]), "{stdout}");
    }
    assert!(
        rows[0].contains("云南") && rows[0].contains("12000"),
        "{stdout}"
    );
}

#[test]
fn top_n_and_all_choose_how_many_regions_are_listed() {
    let national = scenario("national.toml");
    let three = run_with(&national, &["--draws", "0", "--top", "3"]);
    let blocks3 = blocks(&three);
    assert_eq!(blocks3.len(), 2, "{three}");
    assert!(blocks3.iter().all(|rows| rows.len() == 3), "{three}");
    assert!(three.contains("(3 of 31 regions"), "{three}");
    let all = run_with(&national, &["--draws", "20", "--all"]);
    let blocks_all = blocks(&all);
    assert!(blocks_all.iter().all(|rows| rows.len() == 31), "{all}");
    assert!(!all.contains(" of 31 regions"), "{all}");
    // Every province, 内蒙古 and 黑龙江 among them, in line with the two-character names.
    for rows in &blocks_all {
        let interval = |l: &str| width(&l[..l.find('[').unwrap()]);
        assert!(
            rows.iter().all(|r| interval(r) == interval(rows[0])),
            "{all}"
        );
    }
    assert!(all.contains("内蒙古") && all.contains("黑龙江"), "{all}");
}
