//! `--save-draws --draws-format parquet`: draws.parquet holds exactly the rows of
//! draws.csv, read back by the parquet crate and by pyarrow, and the flag's misuses are
//! usage errors.

use arrow_array::types::Int32Type;
use arrow_array::{Array, DictionaryArray, Float64Array, StringArray, UInt64Array};
use assert_cmd::Command;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use std::path::{Path, PathBuf};

fn ecocomp() -> Command {
    Command::cargo_bin("ecocomp").unwrap()
}

fn ok(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A scenario with formulas and a basin agreement (region, party and section rows).
fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/county_two_tier.toml")
}

/// Run the scenario with 7 saved draws into `out`, in `format`.
fn run(out: &Path, format: &str) {
    ok(ecocomp()
        .arg("run")
        .arg(scenario())
        .args(["--quiet", "--no-plots", "--draws", "7", "--seed", "5"])
        .args(["--save-draws", "--draws-format", format, "--out"])
        .arg(out));
}

/// One row: draw, kind, group, id, period ("" where blank or null) and the value.
type Row = (u64, String, String, String, String, f64);

fn csv_rows(path: &Path) -> Vec<(Row, String)> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        rdr.headers().unwrap(),
        vec!["draw", "kind", "group", "id", "period", "value"]
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let row = (
                r[0].parse().unwrap(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
                r[5].parse().unwrap(),
            );
            (row, r[5].to_string())
        })
        .collect()
}

/// The strings of a dictionary column, `None` where null.
fn strings(col: &dyn Array) -> Vec<Option<String>> {
    let d = col
        .as_any()
        .downcast_ref::<DictionaryArray<Int32Type>>()
        .expect("a dictionary column");
    let values = d.values().as_any().downcast_ref::<StringArray>().unwrap();
    d.keys()
        .iter()
        .map(|k| k.map(|k| values.value(k as usize).to_string()))
        .collect()
}

fn parquet_rows(path: &Path) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["draw", "kind", "group", "id", "period", "value"]);
    for rg in builder.metadata().row_groups() {
        for c in rg.columns() {
            assert!(
                matches!(c.compression(), Compression::ZSTD(_)),
                "{:?}",
                c.compression()
            );
        }
    }
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let b = batch.unwrap();
        let draw = b.column(0).as_any().downcast_ref::<UInt64Array>().unwrap();
        let (kind, group, id, period) = (
            strings(b.column(1)),
            strings(b.column(2)),
            strings(b.column(3)),
            strings(b.column(4)),
        );
        let value = b.column(5).as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            let not_null = |v: &Option<String>| v.clone().expect("null outside period");
            rows.push((
                draw.value(i),
                not_null(&kind[i]),
                not_null(&group[i]),
                not_null(&id[i]),
                period[i].clone().unwrap_or_default(),
                value.value(i),
            ));
            // Only region rows have no period.
            assert_eq!(period[i].is_none(), kind[i].as_deref() == Some("region"));
        }
    }
    rows
}

#[test]
fn the_parquet_file_holds_the_rows_of_the_csv_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("csv"), tmp.path().join("parquet"));
    run(&a, "csv");
    run(&b, "parquet");
    assert!(!a.join("draws.parquet").exists());
    assert!(!b.join("draws.csv").exists());
    assert!(b.join("manifest.json").exists());
    let want = csv_rows(&a.join("draws.csv"));
    let got = parquet_rows(&b.join("draws.parquet"));
    assert_eq!(got.len(), want.len());
    let kinds: std::collections::BTreeSet<&str> = got.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["party", "region", "section"]
    );
    for (g, (w, text)) in got.iter().zip(&want) {
        assert_eq!((g.0, &g.1, &g.2, &g.3, &g.4), (w.0, &w.1, &w.2, &w.3, &w.4));
        // The CSV prints the shortest text that reads back as the same double (and -0 as
        // 0): the Parquet value prints to the same text.
        assert_eq!(&ecocomp::numfmt::num(g.5), text, "{g:?}");
        assert_eq!(g.5, w.5, "{g:?}");
    }
    // The other files do not depend on the format.
    for f in ["regions.csv", "basins.csv", "sections.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Prints the file's column types, then every row, the value as Python's repr (which
/// reads back as the same double), period empty where null.
const PYARROW_DUMP: &str = r#"
import sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(",".join(str(f.type) for f in t.schema))
for r in t.to_pylist():
    p = "" if r["period"] is None else r["period"]
    print("\t".join([str(r["draw"]), r["kind"], r["group"], r["id"], p, repr(r["value"])]))
"#;

/// The Python with pyarrow: `ECOCOMP_PYTHON` (set by .ci/run), else `python3`; `None`
/// when it cannot import pyarrow.
fn python_with_pyarrow() -> Option<String> {
    let python = std::env::var("ECOCOMP_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    found.then_some(python)
}

#[test]
fn pyarrow_reads_back_exactly_what_was_written() {
    let Some(python) = python_with_pyarrow() else {
        eprintln!(
            "skipped: no Python with pyarrow (set ECOCOMP_PYTHON to one; .ci/run installs it)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    run(&out, "parquet");
    let path = out.join("draws.parquet");
    let want = parquet_rows(&path);
    let o = std::process::Command::new(&python)
        .args(["-c", PYARROW_DUMP])
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    let dict = "dictionary<values=string, indices=int32, ordered=0>";
    assert_eq!(
        lines.next().unwrap(),
        format!("uint64,{dict},{dict},{dict},{dict},double")
    );
    let got: Vec<Row> = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            let value: f64 = f[5].parse().unwrap();
            (
                f[0].parse().unwrap(),
                f[1].into(),
                f[2].into(),
                f[3].into(),
                f[4].into(),
                value,
            )
        })
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, &g.1, &g.2, &g.3, &g.4), (w.0, &w.1, &w.2, &w.3, &w.4));
        assert_eq!(g.5.to_bits(), w.5.to_bits(), "{g:?} vs {w:?}");
    }
}

fn usage_error(args: &[&str], says: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = ecocomp()
        .arg("run")
        .arg(scenario())
        .args(["--quiet", "--no-plots"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
}

#[test]
fn the_format_without_save_draws_or_unknown_is_a_usage_error() {
    usage_error(&["--draws-format", "parquet"], "--save-draws");
    usage_error(&["--save-draws", "--draws-format", "xml"], "parquet");
}

#[test]
fn parquet_draws_beyond_the_disk_are_refused_before_running() {
    // 10^15 draws would take petabytes: refused by the disk-space check, before the time
    // check and before any draw, and nothing is written.
    usage_error(
        &[
            "--draws",
            "1000000000000000",
            "--save-draws",
            "--draws-format",
            "parquet",
        ],
        "draws.parquet would take about",
    );
}
