//! Ctrl-C and concurrent runs: an interrupted run exits with 130, leaves the
//! previous output folder byte-for-byte as it was and no temporary folders behind; two
//! runs writing to one folder at once never mix their files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ecocomp"))
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn run_ok(args: &[&str], out: &Path) {
    let o = Command::new(bin())
        .arg("run")
        .args(args)
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn sigint_stops_the_run_and_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_ok(&["--draws", "0"], &out);
    let before = snapshot(&out);
    assert!(before.contains_key(Path::new("manifest.json")));

    let mut child = Command::new(bin())
        .args(["run", "--quiet", "--force", "--draws", "200000000", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be interrupted"
    );
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the run did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    eprintln!("stopped {:?} after SIGINT", sent.elapsed());
    assert_eq!(snapshot(&out), before, "the previous output changed");
    assert_eq!(names(tmp.path()), vec!["out".to_string()], "stray folders");
}

fn seed_of(json: &Path) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    fn find(v: &serde_json::Value) -> Option<u64> {
        match v {
            serde_json::Value::Object(m) => m
                .get("seed")
                .and_then(serde_json::Value::as_u64)
                .or_else(|| m.values().find_map(find)),
            _ => None,
        }
    }
    find(&v).unwrap_or_else(|| panic!("no seed in {}", json.display()))
}

#[test]
fn concurrent_runs_never_interleave_files() {
    let tmp = tempfile::tempdir().unwrap();
    // The example scenario has an uncertain coefficient, so regions.csv depends on the seed.
    let init = Command::new(bin())
        .arg("init")
        .arg(tmp.path().join("scn"))
        .output()
        .unwrap();
    assert!(init.status.success());
    let scn = tmp.path().join("scn/example.toml");
    let scn = scn.to_str().unwrap();
    let seeds = [11u64, 22];
    // Reference outputs, one run per seed on its own.
    let mut reference = BTreeMap::new();
    for s in seeds {
        let dir = tmp.path().join(format!("ref{s}"));
        run_ok(&[scn, "--draws", "300", "--seed", &s.to_string()], &dir);
        reference.insert(s, std::fs::read(dir.join("regions.csv")).unwrap());
    }
    assert!(
        reference[&11] != reference[&22],
        "seeds must change regions.csv"
    );
    let out = tmp.path().join("shared");
    for round in 0..3 {
        let children: Vec<_> = seeds
            .iter()
            .map(|s| {
                Command::new(bin())
                    .args([
                        "run",
                        scn,
                        "--quiet",
                        "--draws",
                        "300",
                        "--seed",
                        &s.to_string(),
                    ])
                    .arg("--out")
                    .arg(&out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let m = seed_of(&out.join("manifest.json"));
        let s = seed_of(&out.join("summary.json"));
        assert_eq!(
            m, s,
            "round {round}: manifest and summary from different runs"
        );
        assert!(
            std::fs::read(out.join("regions.csv")).unwrap() == reference[&m],
            "round {round}: regions.csv is not from the run in manifest.json"
        );
        let stray: Vec<_> = names(tmp.path())
            .into_iter()
            .filter(|n| n.starts_with(".ecocomp-"))
            .collect();
        assert!(stray.is_empty(), "round {round}: {stray:?}");
    }
}
