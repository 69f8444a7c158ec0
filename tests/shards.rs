//! Sharded runs (docs/model.md §7): `run --shard K/N` then `merge` writes exactly the
//! tables of a single run, for N = 1, 2, 3, 7 and 64, with draw counts that are multiples
//! of neither the block size nor N; sensitivity shards likewise; and `merge` refuses, with
//! exit code 2 and the file named, any set of states that are not the shards of one run.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const SHARDS: [u64; 5] = [1, 2, 3, 7, 64];

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// summary.json without the thread count, which records a setting rather than a result
/// (the shards and the single run use different thread counts on purpose).
fn summary(dir: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.remove("threads");
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    strip(&mut v);
    v
}

/// `run` arguments of a scenario (`None`: the embedded default).
fn run_args(scenario: Option<&Path>, draws: u64, seed: u64) -> Vec<String> {
    let mut a = vec!["run".to_string()];
    if let Some(s) = scenario {
        a.push(s.display().to_string());
    }
    a.extend(
        [
            "--draws",
            &draws.to_string(),
            "--seed",
            &seed.to_string(),
            "--quiet",
        ]
        .map(String::from),
    );
    a
}

/// Run the shards K = 0..n of `args` (one thread each) under `dir`, and return their
/// folders in a scrambled order.
fn run_shards(args: &[String], dir: &Path, n: u64) -> Vec<PathBuf> {
    let mut outs = Vec::new();
    for k in 0..n {
        let out = dir.join(format!("shard{k}"));
        ecocomp()
            .args(args)
            .args(["--threads", "1", "--shard", &format!("{k}/{n}"), "--out"])
            .arg(&out)
            .assert()
            .success();
        assert!(
            !out.join("regions.csv").exists(),
            "a shard writes its state, not tables"
        );
        outs.push(out);
    }
    outs.reverse();
    let half = outs.len() / 2;
    outs.rotate_left(half);
    outs
}

fn merge(shards: &[PathBuf], out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    ecocomp()
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// The single run with `args`, then every N in [`SHARDS`]: the merged tables are the
/// single run's, byte for byte.
fn check_exact(name: &str, args: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    ecocomp()
        .args(args)
        .args(["--threads", "2", "--no-plots", "--out"])
        .arg(&single)
        .assert()
        .success();
    let tables: Vec<&str> = ["regions.csv", "basins.csv", "sections.csv", "groups.csv"]
        .into_iter()
        .filter(|t| single.join(t).exists())
        .collect();
    assert!(!tables.is_empty());
    for n in SHARDS {
        let dir = tmp.path().join(format!("n{n}"));
        let shards = run_shards(args, &dir, n);
        let merged = dir.join("merged");
        merge(&shards, &merged, &["--no-plots", "--threads", "2"]).success();
        for t in &tables {
            assert!(
                std::fs::read(single.join(t)).unwrap() == std::fs::read(merged.join(t)).unwrap(),
                "{name}: {t} of {n} merged shards differs from the single run"
            );
        }
        assert_eq!(
            summary(&single),
            summary(&merged),
            "{name}: summary.json of {n} merged shards differs"
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(merged.join("manifest.json")).unwrap()).unwrap();
        let listed = manifest["merged_from"].as_array().unwrap();
        assert_eq!(listed.len() as u64, n, "the manifest lists every shard");
        assert!(
            listed
                .iter()
                .enumerate()
                .all(|(k, s)| s["k"] == k as u64 && s["crc32"].as_str().unwrap().len() == 8)
        );
    }
}

#[test]
fn national_default_merges_exactly() {
    // 2,777 draws: 11 blocks of 256 and a short one.
    check_exact("national", &run_args(None, 2777, 11));
}

#[test]
fn county_scale_synth_merges_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = tmp.path().join("synth.toml");
    ecocomp()
        .args(["synth", "--regions", "2800", "--out"])
        .arg(&scn)
        .assert()
        .success();
    // Past the exact-quantile limit, so the sketches of every shard are merged too.
    check_exact("synth 2800", &run_args(Some(&scn), 10_000, 3));
}

#[test]
fn basin_agreements_merge_exactly() {
    check_exact(
        "yangtze",
        &run_args(Some(&scenarios().join("yangtze.toml")), 5001, 7),
    );
}

/// A merged run writes the same files as the single run, figures and report included.
#[test]
fn merged_run_writes_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let args = run_args(None, 600, 2);
    let single = tmp.path().join("single");
    ecocomp()
        .args(&args)
        .arg("--out")
        .arg(&single)
        .assert()
        .success();
    let shards = run_shards(&args, tmp.path(), 2);
    let merged = tmp.path().join("merged");
    merge(&shards, &merged, &[]).success();
    let list = |d: &Path| {
        let mut v: Vec<String> = walk(d)
            .into_iter()
            .map(|p| p.strip_prefix(d).unwrap().display().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(&single), list(&merged));
    assert!(merged.join("report.html").exists());
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn sensitivity_shards_merge_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = scenarios().join("example.toml");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = ["sensitivity", &scn.display().to_string()]
            .into_iter()
            .map(String::from)
            .collect();
        a.extend(
            [
                "--formula",
                "reform",
                "--method",
                "sobol",
                "--samples",
                "101",
                "--seed",
                "4",
            ]
            .map(String::from),
        );
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let single = tmp.path().join("single");
    ecocomp()
        .args(args(&["--out", single.to_str().unwrap()]))
        .assert()
        .success();
    for n in [3u64, 7] {
        let mut shards = Vec::new();
        for k in 0..n {
            let out = tmp.path().join(format!("n{n}k{k}"));
            ecocomp()
                .args(args(&[
                    "--threads",
                    "1",
                    "--shard",
                    &format!("{k}/{n}"),
                    "--out",
                    out.to_str().unwrap(),
                ]))
                .assert()
                .success();
            shards.push(out);
        }
        let merged = tmp.path().join(format!("merged{n}"));
        merge(&shards, &merged, &[]).success();
        let csvs: Vec<PathBuf> = walk(&single)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        assert!(!csvs.is_empty());
        for c in csvs {
            let rel = c.strip_prefix(&single).unwrap();
            assert!(
                std::fs::read(&c).unwrap() == std::fs::read(merged.join(rel)).unwrap(),
                "{} differs after merging {n} sensitivity shards",
                rel.display()
            );
        }
    }
}

/// Shards of a small run of `scenario` with `seed` and `draws`, N = `n`.
fn small_shards(
    dir: &Path,
    scenario: Option<&Path>,
    seed: u64,
    draws: u64,
    n: u64,
) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    run_shards(&run_args(scenario, draws, seed), dir, n)
}

fn state_file(shard_dir: &Path) -> PathBuf {
    let dir = shard_dir.join("state");
    std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

/// `merge` fails with exit code 2, names `file` in its message, and leaves `out` as it was;
/// returns the message.
fn refused(shards: &[PathBuf], file: &Path, what: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("earlier.txt"), "earlier results").unwrap();
    let assert = merge(shards, &out, &["--no-plots"]).code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        err.contains(&name) || err.contains(&file.display().to_string()),
        "{what}: the message does not name {name}: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert_eq!(
        std::fs::read_to_string(out.join("earlier.txt")).unwrap(),
        "earlier results",
        "{what}: earlier output lost"
    );
    assert!(!out.join("regions.csv").exists(), "{what}: wrote a result");
    err
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let a = small_shards(&t.join("a"), None, 1, 300, 3);
    let by_k = |v: &[PathBuf], k: usize| {
        v.iter()
            .find(|p| p.ends_with(format!("shard{k}")))
            .unwrap()
            .clone()
    };
    let (a0, a1, a2) = (by_k(&a, 0), by_k(&a, 1), by_k(&a, 2));
    // Another scenario, another seed, other draws.
    let other = small_shards(
        &t.join("other"),
        Some(&scenarios().join("example.toml")),
        1,
        300,
        3,
    );
    let seed = small_shards(&t.join("seed"), None, 2, 300, 3);
    let draws = small_shards(&t.join("draws"), None, 1, 301, 3);
    for (v, what) in [
        (&other, "another scenario"),
        (&seed, "another seed"),
        (&draws, "other draws"),
    ] {
        let odd = by_k(v, 2);
        refused(
            &[a0.clone(), a1.clone(), odd.clone()],
            &state_file(&odd),
            what,
        );
    }
    // A missing and a duplicated shard.
    refused(&[a0.clone(), a2.clone()], &state_file(&a0), "missing shard");
    refused(
        &[a0.clone(), a1.clone(), a1.clone(), a2.clone()],
        &state_file(&a1),
        "duplicate shard",
    );
    // A state file cut in half, and one with a flipped byte.
    let cut = t.join("cut");
    copy_dir(&a1, &cut);
    let f = state_file(&cut);
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    refused(
        &[a0.clone(), cut.clone(), a2.clone()],
        &f,
        "truncated state",
    );
    let flip = t.join("flip");
    copy_dir(&a1, &flip);
    let f = state_file(&flip);
    let mut bytes = std::fs::read(&f).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&f, &bytes).unwrap();
    refused(&[a0.clone(), flip.clone(), a2.clone()], &f, "flipped byte");
    // A flipped byte in the header (after the 20-byte frame and the 8-byte header length),
    // which `merge` reads before any body: refused as corrupted, not taken for another run.
    let head = t.join("head");
    copy_dir(&a1, &head);
    let f = state_file(&head);
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[40] ^= 0x01;
    std::fs::write(&f, &bytes).unwrap();
    let err = refused(
        &[a0.clone(), head.clone(), a2.clone()],
        &f,
        "flipped header byte",
    );
    assert!(err.contains("corrupted"), "{err}");
    // Another ecocomp version: the same state re-encoded with a different version.
    let ver = t.join("ver");
    copy_dir(&a1, &ver);
    let f = state_file(&ver);
    let s = ecocomp::run::shards::StateFile::read(&f).unwrap();
    let mut header = s.header.clone();
    header.tool_version = "0.0.1".into();
    std::fs::write(
        &f,
        ecocomp::run::shards::encode(&header, &s.body().unwrap()).unwrap(),
    )
    .unwrap();
    refused(
        &[a0.clone(), ver.clone(), a2.clone()],
        &f,
        "another version",
    );
    // The untouched shards still merge.
    merge(&[a2, a0, a1], &t.join("ok"), &["--no-plots"]).success();
}

fn copy_dir(from: &Path, to: &Path) {
    for p in walk(from) {
        let dest = to.join(p.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&p, &dest).unwrap();
    }
}

#[test]
fn bad_shard_arguments_are_usage_errors() {
    for bad in ["3/3", "1", "a/4", "2/0", "1/-4"] {
        let out = ecocomp()
            .args(["run", "--draws", "10", "--shard", bad])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains("--shard"), "{bad}: {err}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = ecocomp().arg("merge").arg(tmp.path()).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("state"), "{err}");
}

/// Shards with `--save-draws` write their own draws (absolute draw indices), which put
/// end to end in shard order are the single run's `draws.csv`; the merge lists the files.
#[test]
fn shards_save_their_own_draws() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = run_args(None, 700, 3);
    args.push("--save-draws".into());
    let single = tmp.path().join("single");
    ecocomp()
        .args(&args)
        .args(["--no-plots", "--out"])
        .arg(&single)
        .assert()
        .success();
    let whole = std::fs::read_to_string(single.join("draws.csv")).unwrap();
    let mut shards = run_shards(&args, &tmp.path().join("csv"), 3);
    shards.sort();
    let mut joined = String::new();
    for (k, s) in shards.iter().enumerate() {
        let text = std::fs::read_to_string(s.join("draws.csv")).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        if k == 0 {
            joined.push_str(header);
            joined.push('\n');
        }
        lines.for_each(|l| {
            joined.push_str(l);
            joined.push('\n');
        });
    }
    assert!(
        joined == whole,
        "the shards' draws.csv differ from the single run's"
    );
    let merged = tmp.path().join("merged");
    merge(&shards, &merged, &["--no-plots"]).success();
    assert!(
        !merged.join("draws.csv").exists(),
        "merge lists draw files, it does not copy them"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("manifest.json")).unwrap()).unwrap();
    for s in manifest["merged_from"].as_array().unwrap() {
        assert_eq!(s["draw_files"], serde_json::json!(["draws.csv"]));
    }
    let mut pq = args.clone();
    pq.extend(["--draws-format".into(), "parquet".into()]);
    for s in run_shards(&pq, &tmp.path().join("pq"), 2) {
        assert!(s.join("draws.parquet").metadata().unwrap().len() > 0);
    }
}
