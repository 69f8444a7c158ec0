//! Each per-region vertical rule is written once (`src/vertical/rules.rs`) and both the
//! point allocator and the Monte Carlo kernel call it. This test proves it the direct way:
//! it copies the sources, changes the reverse-linkage cut in that one place, builds the
//! changed copy, and checks that both the point estimate (`breakdown.csv`) and the Monte
//! Carlo distribution (`regions.csv`) change, while the rest of the tree never mentions the
//! cut's formula.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cut rule as `rules.rs` writes it.
const CUT: &str = "let cut = (x.lambda * x.damage).min_lt(r.max_cut);";
/// The same rule, halved: a changed rule that keeps every amount finite and valid.
const HALVED: &str = "let cut = (x.lambda * x.damage).min_lt(r.max_cut) * V::splat(0.5);";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Every `.rs` file under `dir` with its text.
fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn run(bin: &Path, args: &[&str]) {
    let out = Command::new(bin).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The values of `column` in a CSV file, in row order.
fn column(file: &Path, column: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|l| l.split(',').nth(k).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_reverse_linkage_cut_lives_in_one_place_and_reaches_both_paths() {
    // The rule is in rules.rs exactly once, and no other file computes a cut from
    // λ and the damage index.
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let holders: Vec<_> = files
        .iter()
        .filter(|(_, t)| {
            t.contains("max_cut") && (t.contains("lambda *") || t.contains("* lambda"))
        })
        .map(|(p, _)| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        holders,
        ["src/vertical/rules.rs"],
        "the cut is computed in {holders:?}"
    );
    let rules = root().join("src/vertical/rules.rs");
    let text = std::fs::read_to_string(&rules).unwrap();
    assert_eq!(
        text.matches(CUT).count(),
        1,
        "rules.rs no longer writes `{CUT}`"
    );

    // A copy of the sources with the cut halved, built as a separate binary.
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("tree");
    for d in ["src", "lib", "scenarios", "benches", "assets"] {
        copy_dir(&root().join(d), &copy.join(d));
    }
    for f in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root().join(f), copy.join(f)).unwrap();
    }
    // The mutant only runs 200 draws of 60 regions: built without the optimisation the
    // test profile gives every crate, it compiles in a fraction of the time.
    let manifest = copy.join("Cargo.toml");
    let unoptimised = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("opt-level = 2", "opt-level = 0");
    std::fs::write(&manifest, unoptimised).unwrap();
    let mutated = copy.join("src/vertical/rules.rs");
    std::fs::write(&mutated, text.replace(CUT, HALVED)).unwrap();
    let target = root().join("target/rule-mutant");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bin", "ecocomp"])
        .current_dir(&copy)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the mutant does not build: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let mutant = target.join("debug/ecocomp");
    let original = PathBuf::from(env!("CARGO_BIN_EXE_ecocomp"));

    // A synthetic scenario: three formulas with reverse linkage and noise on the damage
    // index, so the cut binds at the point estimate and in every draw.
    let scn = tmp.path().join("s.toml");
    let s = scn.to_str().unwrap();
    run(
        &original,
        &["synth", "--regions", "60", "--groups", "4", "--out", s],
    );
    let outputs = |bin: &Path, name: &str| {
        let dir = tmp.path().join(name);
        let d = dir.to_str().unwrap();
        run(
            bin,
            &[
                "run",
                s,
                "--draws",
                "200",
                "--no-plots",
                "--quiet",
                "--out",
                d,
            ],
        );
        (
            column(&dir.join("breakdown.csv"), "reverse_linkage_cut"),
            column(&dir.join("breakdown.csv"), "final"),
            column(&dir.join("regions.csv"), "mean"),
        )
    };
    let (cut0, point0, mean0) = outputs(&original, "original");
    let (cut1, point1, mean1) = outputs(&mutant, "mutant");
    assert!(
        cut0.iter().any(|c| c != "0"),
        "no region is cut: the test proves nothing"
    );
    assert_ne!(cut0, cut1, "the breakdown's cut did not change");
    assert_ne!(point0, point1, "the point allocation did not change");
    assert_ne!(mean0, mean1, "the Monte Carlo means did not change");
}
