//! `draws.parquet`: the rows of `draws.csv` (`draw, kind, group, id, period, value`, in the
//! same order) in Parquet, written as the draws are evaluated, so that memory stays
//! bounded whatever the number of draws.
//!
//! Columns: `draw` (UInt64), `kind`, `group`, `id` and `period` (dictionary-encoded
//! strings), `value` (Float64, bit for bit the value the CSV prints). `period` is null on
//! region rows, where the CSV leaves it blank (readers of the CSV see null there too).
//! The file is zstd-compressed, in row groups of at most [`ROW_GROUP_ROWS`] rows.

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::model::Scenario;
use crate::montecarlo::saved::{DrawSink, DrawsFormat, stream_scenario_draws};
use crate::run::pipeline::{Hooks, Outcome, StreamExporter, Streamed, draw_range};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

/// The file's name in the output folder.
pub const NAME: &str = "draws.parquet";

/// Most rows in a row group: the writer holds one row group, compressed, until it is
/// flushed (about 9 MB at this size), so this bounds its memory.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Rows handed to the writer at a time (whole draws, at least one).
const BATCH_ROWS: usize = 1 << 16;

/// Writes `draws.parquet` when the run saves its draws in Parquet.
pub struct DrawsParquet;

impl StreamExporter for DrawsParquet {
    fn write(
        &self,
        out: &Outcome,
        dir: &Path,
        cancel: &Cancel,
        hooks: &dyn Hooks,
    ) -> Result<Streamed> {
        if out.info.save_draws != Some(DrawsFormat::Parquet)
            || (out.mc.is_none() && out.state.is_none())
        {
            return Ok(Streamed::default());
        }
        let path = dir.join(NAME);
        hooks.stage(&format!("writing {NAME}"), "draws");
        let draws = draw_range(out);
        write_draws(&out.scenario, out.info.seed, draws, &path, cancel, hooks)?;
        Ok(Streamed {
            names: vec![NAME.into()],
            warnings: Vec::new(),
        })
    }
}

/// Evaluate the draws of `draws` of `scn` with `seed` and write them to `path`, telling
/// `hooks` how many are written: this second pass over the draws takes most of the time
/// of a run that saves them.
pub fn write_draws(
    scn: &Scenario,
    seed: u64,
    draws: std::ops::Range<u64>,
    path: &Path,
    cancel: &Cancel,
    hooks: &dyn Hooks,
) -> Result<()> {
    let err =
        |e: &dyn std::fmt::Display| Error::Runtime(format!("cannot write {}: {e}", path.display()));
    let file = File::create(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let layout = Layout::of(scn);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Drawn doubles rarely repeat, so a dictionary overflows and is dropped at a cost.
        // They are stored plain: zstd then still finds the regions paid exactly their cap
        // or floor, which byte-stream splitting hid (6.5 against 6.8 bytes a value, the
        // national default).
        .set_column_dictionary_enabled("value".into(), false);
    // Every row group holds every kind, group, id and period, so their min and max would
    // let a reader skip nothing, and comparing strings row by row to find them took 2 s
    // of the 13.4 s a run of a million national draws took.
    let props = ["kind", "group", "id", "period"]
        .into_iter()
        .fold(props, |p, c| {
            p.set_column_statistics_enabled(c.into(), EnabledStatistics::None)
        })
        .build();
    let writer = ArrowWriter::try_new(BufWriter::new(file), layout.schema.clone(), Some(props))
        .map_err(|e| err(&e))?;
    let mut sink = Sink {
        batch_draws: (BATCH_ROWS / layout.kind.len().max(1)).max(1),
        layout,
        writer,
        draws: Vec::new(),
        values: Vec::new(),
        progress: Progress {
            hooks,
            first: draws.start,
            total: draws.end.saturating_sub(draws.start),
        },
    };
    stream_scenario_draws(scn, seed, draws, cancel, &mut sink)?;
    sink.flush()?;
    sink.writer.close().map_err(|e| err(&e))?;
    Ok(())
}

/// The repeated columns of one draw's rows, as dictionary keys, and the schema.
struct Layout {
    schema: SchemaRef,
    kind: Vec<i32>,
    group: Vec<i32>,
    id: Vec<i32>,
    period: Vec<Option<i32>>,
    dicts: [ArrayRef; 4],
}

/// Distinct strings in first-seen order, and each one's key.
#[derive(Default)]
struct Dict {
    keys: HashMap<String, i32>,
    values: Vec<String>,
}

impl Dict {
    fn key(&mut self, s: &str) -> i32 {
        if let Some(&k) = self.keys.get(s) {
            return k;
        }
        let k = self.values.len() as i32;
        self.keys.insert(s.to_string(), k);
        self.values.push(s.to_string());
        k
    }

    fn array(self) -> ArrayRef {
        Arc::new(StringArray::from(self.values))
    }
}

impl Layout {
    /// The rows of one draw, in the order of `draws.csv`.
    fn of(scn: &Scenario) -> Layout {
        let mut d: [Dict; 4] = Default::default();
        let (mut kind, mut group, mut id, mut period) = (vec![], vec![], vec![], vec![]);
        let mut row = |k: &str, g: &str, i: &str, p: Option<&str>| {
            kind.push(d[0].key(k));
            group.push(d[1].key(g));
            id.push(d[2].key(i));
            period.push(p.map(|p| d[3].key(p)));
        };
        if let Some(v) = &scn.vertical {
            for year in super::draws::path_periods(scn) {
                let year = Some(year.as_str()).filter(|y| !y.is_empty());
                for formula in &v.formulas {
                    for rid in &v.regions.meta.id {
                        row("region", &formula.name, rid, year);
                    }
                }
            }
        }
        for a in &scn.agreements {
            for party in &a.parties {
                for p in &a.periods {
                    row("party", &a.name, party, Some(p));
                }
            }
            for sec in &a.sections {
                for p in &a.periods {
                    row("section", &a.name, &sec.name, Some(p));
                }
            }
        }
        let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![
            Field::new("draw", DataType::UInt64, false),
            Field::new("kind", dict(), false),
            Field::new("group", dict(), false),
            Field::new("id", dict(), false),
            Field::new("period", dict(), true),
            Field::new("value", DataType::Float64, false),
        ]));
        Layout {
            schema,
            kind,
            group,
            id,
            period,
            dicts: d.map(Dict::array),
        }
    }
}

/// Where the draws written are counted: draw `d` done is `d − first + 1` of `total`.
struct Progress<'a> {
    hooks: &'a dyn Hooks,
    first: u64,
    total: u64,
}

/// Buffers whole draws and hands them to the writer [`BATCH_ROWS`] rows at a time.
struct Sink<'a> {
    layout: Layout,
    writer: ArrowWriter<BufWriter<File>>,
    batch_draws: usize,
    /// The draw index of every buffered row, and its value.
    draws: Vec<u64>,
    values: Vec<f64>,
    progress: Progress<'a>,
}

impl DrawSink for Sink<'_> {
    fn draw(&mut self, d: u64, values: &[f64]) -> Result<()> {
        self.draws.extend(std::iter::repeat_n(d, values.len()));
        self.values.extend_from_slice(values);
        if self.draws.len() >= self.batch_draws * self.layout.kind.len() {
            self.flush()?;
        }
        Ok(())
    }
}

impl Sink<'_> {
    /// Write the buffered draws as one record batch.
    fn flush(&mut self) -> Result<()> {
        let rows = self.draws.len();
        let Some(&last) = self.draws.last() else {
            return Ok(());
        };
        let l = &self.layout;
        let per = l.kind.len();
        let tile =
            |keys: &[i32]| Int32Array::from_iter_values(keys.iter().copied().cycle().take(rows));
        let dict = |keys: Int32Array, k: usize| -> Result<ArrayRef> {
            DictionaryArray::<Int32Type>::try_new(keys, l.dicts[k].clone())
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| Error::Runtime(format!("cannot build the draws' columns: {e}")))
        };
        let period = Int32Array::from_iter(l.period.iter().copied().cycle().take(rows));
        debug_assert_eq!(rows % per.max(1), 0);
        let columns = vec![
            Arc::new(UInt64Array::from(std::mem::take(&mut self.draws))) as ArrayRef,
            dict(tile(&l.kind), 0)?,
            dict(tile(&l.group), 1)?,
            dict(tile(&l.id), 2)?,
            dict(period, 3)?,
            Arc::new(Float64Array::from(std::mem::take(&mut self.values))),
        ];
        let batch = RecordBatch::try_new(l.schema.clone(), columns)
            .map_err(|e| Error::Runtime(format!("cannot build the draws' columns: {e}")))?;
        self.writer
            .write(&batch)
            .map_err(|e| Error::Runtime(format!("cannot write {NAME}: {e}")))?;
        let p = &self.progress;
        p.hooks.progress(last + 1 - p.first, p.total);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::run::pipeline::{
        Exporters, Hooks, Job, McOptions, Request, RunJob, StreamExporter, execute,
    };
    use std::sync::Mutex;

    /// Every hook call, in order.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, u64, u64)>>);

    impl Hooks for Recorder {
        fn progress(&self, done: u64, total: u64) {
            self.0.lock().unwrap().push((String::new(), done, total));
        }
        fn stage(&self, what: &str, _unit: &str) {
            self.0.lock().unwrap().push((what.into(), 0, 0));
        }
    }

    /// Writing the draws is a stage of its own, whose progress climbs to every draw.
    #[test]
    fn writing_the_draws_reports_its_stage_and_progress() {
        let tmp = tempfile::tempdir().unwrap();
        let scn =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/national.toml");
        let req = Request {
            scenario: crate::scenario::load(&scn).unwrap(),
            shards: Default::default(),
            job: Job::Run(RunJob {
                mc: McOptions {
                    draws: Some(3000),
                    seed: Some(1),
                    threads: 1,
                },
                save_draws: true,
                draws_format: super::DrawsFormat::Parquet,
                ..RunJob::default()
            }),
            out: Some(tmp.path().join("out")),
            command_line: Vec::new(),
        };
        let exporters = Exporters {
            stream: vec![Box::new(super::DrawsParquet) as Box<dyn StreamExporter>],
            ..Exporters::default()
        };
        let hooks = Recorder::default();
        execute(req, &exporters, &hooks, &crate::Cancel::new()).unwrap();
        let calls = hooks.0.into_inner().unwrap();
        let at = calls
            .iter()
            .position(|c| c.0 == "writing draws.parquet")
            .expect("a stage for the draws");
        let after = &calls[at + 1..];
        assert!(after.len() >= 2, "progress within the stage: {after:?}");
        assert!(after.iter().all(|c| c.0.is_empty() && c.2 == 3000));
        assert!(after.windows(2).all(|w| w[0].1 < w[1].1), "{after:?}");
        assert_eq!(after.last().unwrap().1, 3000);
        assert!(tmp.path().join("out").join(super::NAME).exists());
    }
}
