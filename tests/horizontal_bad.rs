//! Every bad-agreement fixture in `tests/bad/agreement_*.toml` is rejected by validation
//! with a problem that names the key path and the bad value listed on its first line
//! (`# expect: fragment | fragment`).

use ecocomp::scenario::agreement_raw::RawAgreement;
use ecocomp::scenario::agreement_validate::validate;
use ecocomp::scenario::ctx::Ctx;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Wrapper {
    #[serde(default)]
    #[allow(dead_code)]
    scenario: Option<toml::Table>,
    #[serde(default)]
    agreement: Vec<RawAgreement>,
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("agreement_") && n.ends_with(".toml")
        })
        .collect();
    v.sort();
    v
}

fn problems_of(path: &Path, src: &str) -> Vec<String> {
    let w: Wrapper =
        toml::from_str(src).unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
    let mut ctx = Ctx::new(path, src);
    let agreements = validate(&w.agreement, &mut ctx);
    // Only agreements without problems come back.
    assert_eq!(agreements.is_empty(), !ctx.problems.is_empty());
    ctx.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn at_least_ten_fixtures_exist() {
    assert!(fixtures().len() >= 10, "found {}", fixtures().len());
}

#[test]
fn every_fixture_reports_its_key_path_and_value() {
    for path in fixtures() {
        let src = std::fs::read_to_string(&path).unwrap();
        let first = src.lines().next().unwrap();
        let expect = first
            .strip_prefix("# expect:")
            .unwrap_or_else(|| panic!("{}: first line must be `# expect: ...`", path.display()));
        let fragments: Vec<&str> = expect
            .split('|')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        assert!(!fragments.is_empty());
        let problems = problems_of(&path, &src);
        assert!(
            !problems.is_empty(),
            "{}: no problem reported",
            path.display()
        );
        if std::env::var_os("SHOW_PROBLEMS").is_some() {
            eprintln!("{problems:#?}");
        }
        // One problem must carry every fragment, and name the file and a line.
        let hit = problems
            .iter()
            .find(|p| fragments.iter().all(|f| p.contains(f)));
        let Some(hit) = hit else {
            panic!(
                "{}: no problem contains all of {fragments:?}:\n{problems:#?}",
                path.display()
            );
        };
        assert!(hit.contains(&path.display().to_string()), "{hit}");
        assert!(
            hit.contains("(line "),
            "{}: no line number in {hit}",
            path.display()
        );
    }
}

#[test]
fn fixtures_without_their_mistake_are_valid() {
    // The fixtures share one valid base; removing the mistake by restoring the base's
    // first agreement must leave no problem. Checked on the base of the weights fixture.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/agreement_weights_sum.toml");
    let src = std::fs::read_to_string(&path)
        .unwrap()
        .replace("weight = 0.75", "weight = 0.5");
    assert!(
        problems_of(&path, &src).is_empty(),
        "{:#?}",
        problems_of(&path, &src)
    );
}
