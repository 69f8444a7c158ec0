//! Every bad scenario under tests/bad/ must fail cleanly: exit code 2, no panic, a message
//! naming the file, the field (or CSV row and column) and the value, and an untouched
//! output folder. Each fixture's first line is `# expect: fragment | fragment | ...`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn expectations(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let list = first
        .strip_prefix("# expect:")
        .unwrap_or_else(|| panic!("{} must start with `# expect:`", path.display()));
    list.split('|')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A previous run's output, to check that a failing run leaves it alone.
fn seed_output(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::create_dir_all(dir).unwrap();
    let files = vec![
        (
            dir.join("manifest.json"),
            b"{\"previous\": true}\n".to_vec(),
        ),
        (dir.join("regions.csv"), b"formula,id\nold,1\n".to_vec()),
    ];
    for (p, b) in &files {
        std::fs::write(p, b).unwrap();
    }
    files
}

#[test]
fn corpus_is_large_enough() {
    assert!(
        fixtures().len() >= 15,
        "need at least 15 bad scenarios, have {}",
        fixtures().len()
    );
}

#[test]
fn every_bad_scenario_fails_cleanly() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let expect = expectations(&path);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let before = seed_output(&out);
        for sub in ["validate", "run"] {
            let mut cmd = Command::cargo_bin("ecocomp").unwrap();
            cmd.arg(sub).arg(&path);
            if sub == "run" {
                cmd.arg("--out").arg(&out);
            }
            let o = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            let name = path.file_name().unwrap().to_string_lossy();
            if o.status.code() != Some(2) {
                failures.push(format!(
                    "{name} ({sub}): exit {:?}, want 2\n{stderr}",
                    o.status.code()
                ));
            }
            if stderr.contains("panicked") {
                failures.push(format!("{name} ({sub}): panicked\n{stderr}"));
            }
            for frag in &expect {
                if !stderr.contains(frag.as_str()) {
                    failures.push(format!("{name} ({sub}): stderr lacks {frag:?}\n{stderr}"));
                }
            }
        }
        for (p, b) in &before {
            assert_eq!(&std::fs::read(p).unwrap(), b, "{} changed", p.display());
        }
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("out")],
            "stray files after a failed run"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
