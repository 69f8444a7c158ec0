//! Region inputs from a CSV file or inline TOML tables (docs/model.md §1.1), validated into
//! [`Regions`]. CSV problems name the file, the row (1-based, header = row 1) and column,
//! and the value. A UTF-8 byte-order mark and CRLF line endings are accepted, since that
//! is how spreadsheets export.

use super::ctx::Ctx;
use super::raw::RawRegion;
use crate::error::Problem;
use crate::model::region::{Column, MAX_TAGS, RegionData, RegionMeta, Regions};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Columns that are not numeric region inputs but are accepted in a regions CSV.
const TEXT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "group",
    "hold_harmless",
    "tags",
    "source",
    "note",
];
/// Column holding an actual allocation to compare with (e.g. the 2020 transfer).
pub const REFERENCE_COLUMN: &str = "reference_allocation";
/// Prefix of extra numeric columns (e.g. per-region noise σ), kept by name.
pub const EXTRA_PREFIX: &str = "sigma_";

/// Regions plus the optional per-region columns that are not model inputs.
#[derive(Debug, Clone)]
pub struct LoadedRegions {
    pub regions: Regions,
    /// `reference_allocation` per region, `None` where blank.
    pub reference: Option<Vec<Option<f64>>>,
    /// Extra numeric columns (`sigma_*`) by name.
    pub extra: BTreeMap<String, Vec<f64>>,
    /// The file the regions came from (the scenario file when inline).
    pub file: std::path::PathBuf,
    /// Where each region was written: `row 7` in a CSV file, or `regions.inline[3]` with
    /// its line in the scenario file. For errors found after loading.
    pub locs: Vec<String>,
}

/// One region before validation: text fields and numeric cells as strings with their
/// location, so all checks can report row and column.
struct Row {
    loc: Loc,
    id: String,
    name: Option<String>,
    group: Option<String>,
    nums: Vec<(Column, Option<f64>)>,
    reference: Option<f64>,
    extra: Vec<(String, f64)>,
    hold_harmless: bool,
    tags: Vec<String>,
    /// Columns whose cell was present but unreadable (already reported).
    unreadable: Vec<Column>,
}

/// Where a row lives: a CSV row or an inline TOML table.
#[derive(Clone)]
enum Loc {
    Csv(usize),
    Toml(usize),
}

impl Loc {
    /// `row 7` or `regions.inline[3]`.
    fn name(&self) -> String {
        match self {
            Loc::Csv(r) => format!("row {r}"),
            Loc::Toml(k) => format!("regions.inline[{k}]"),
        }
    }
}

struct Sink<'a, 'c> {
    file: &'a Path,
    ctx: &'a mut Ctx<'c>,
}

impl Sink<'_, '_> {
    fn at(
        &mut self,
        loc: &Loc,
        column: &str,
        value: impl std::fmt::Display,
        msg: impl Into<String>,
    ) {
        match loc {
            Loc::Csv(row) => self.ctx.problems.push(Problem::new(
                self.file,
                format!("row {row}, column {column}"),
                value,
                msg,
            )),
            Loc::Toml(i) => self
                .ctx
                .problem(&format!("regions.inline[{i}].{column}"), value, msg),
        }
    }
}

/// Read regions from CSV bytes (as read from `path`). Problems are pushed to `ctx` with
/// the CSV file's name.
pub fn load_csv(
    path: &Path,
    bytes: std::io::Result<Vec<u8>>,
    declared: &[String],
    ctx: &mut Ctx,
) -> Option<LoadedRegions> {
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            ctx.problems.push(Problem::new(
                path,
                "regions file",
                path.display(),
                format!("cannot be read: {e}"),
            ));
            return None;
        }
    };
    // Cells are trimmed as they are read (`csv_row`), once.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(&bytes[..]);
    let names = csv_columns(path, &mut reader, declared, ctx)?;
    let kinds: Vec<Cell> = names.iter().map(|n| Cell::of(n)).collect();
    let mut rows = Vec::new();
    let mut sink = Sink { file: path, ctx };
    for (k, rec) in reader.byte_records().enumerate() {
        let rowno = k + 2;
        let loc = Loc::Csv(rowno);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                sink.at(&loc, "*", "", format!("malformed CSV: {e}"));
                continue;
            }
        };
        rows.push(csv_row(loc, &rec, &names, &kinds, &mut sink));
    }
    let file = path.to_path_buf();
    build(
        rows,
        &mut sink,
        names.iter().any(|n| n == REFERENCE_COLUMN),
        declared,
        file,
    )
}

/// The column names of the CSV header, once each is known, none repeats and the required
/// ones are there.
fn csv_columns(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    declared: &[String],
    ctx: &mut Ctx,
) -> Option<Vec<String>> {
    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            ctx.problems.push(Problem::new(
                path,
                "row 1 (header)",
                "",
                format!("malformed CSV: {e}"),
            ));
            return None;
        }
    };
    let mut names = Vec::new();
    let mut bad = false;
    for (j, h) in headers.iter().enumerate() {
        let h = String::from_utf8_lossy(h);
        let h = h.trim_start_matches('\u{feff}').trim().to_string();
        let known = TEXT_COLUMNS.contains(&h.as_str())
            || Column::from_name(&h).is_some()
            || h == REFERENCE_COLUMN
            || h.starts_with(EXTRA_PREFIX)
            || declared.contains(&h);
        if !known {
            ctx.problems.push(Problem::new(
                path,
                format!("row 1, column {}", j + 1),
                &h,
                format!(
                    "unknown column; expected id, name, group, {}, hold_harmless, tags, source, note, {REFERENCE_COLUMN}, {EXTRA_PREFIX}* or a column declared in the scenario's [regions] extra",
                    Column::ALL.map(|c| c.name()).join(", ")
                ),
            ));
            bad = true;
        }
        if names.contains(&h) {
            ctx.problems.push(Problem::new(
                path,
                format!("row 1, column {}", j + 1),
                &h,
                "duplicate column",
            ));
            bad = true;
        }
        names.push(h);
    }
    for required in ["id", "std_revenue", "std_expenditure"] {
        if !names.iter().any(|n| n == required) {
            ctx.problems.push(Problem::new(
                path,
                "row 1 (header)",
                "",
                format!("required column `{required}` is missing"),
            ));
            bad = true;
        }
    }
    for d in declared {
        if !names.contains(d) {
            ctx.problems.push(Problem::new(
                path,
                "row 1 (header)",
                d,
                "is declared in the scenario's [regions] extra but the CSV has no such column",
            ));
            bad = true;
        }
    }
    (!bad).then_some(names)
}

/// What a CSV column holds, decided once from its header rather than for every cell.
#[derive(Clone, Copy)]
enum Cell {
    Id,
    Name,
    Group,
    Ignored,
    HoldHarmless,
    Tags,
    Number(Column),
    Reference,
    Extra,
}

impl Cell {
    fn of(name: &str) -> Cell {
        match name {
            "id" => Cell::Id,
            "name" => Cell::Name,
            "group" => Cell::Group,
            "source" | "note" => Cell::Ignored,
            "hold_harmless" => Cell::HoldHarmless,
            "tags" => Cell::Tags,
            REFERENCE_COLUMN => Cell::Reference,
            _ => Column::from_name(name).map_or(Cell::Extra, Cell::Number),
        }
    }
}

/// The cells of CSV record `rec` (at `loc`, under the columns `names` of kinds `kinds`)
/// read into a row; a cell that cannot be read is reported and left out.
fn csv_row(
    loc: Loc,
    rec: &csv::ByteRecord,
    names: &[String],
    kinds: &[Cell],
    sink: &mut Sink,
) -> Row {
    let mut row = Row {
        loc: loc.clone(),
        id: String::new(),
        name: None,
        group: None,
        nums: Vec::with_capacity(kinds.len()),
        reference: None,
        extra: Vec::new(),
        hold_harmless: false,
        tags: Vec::new(),
        unreadable: Vec::new(),
    };
    for (j, cell) in rec.iter().enumerate() {
        let col = names[j].as_str();
        let Ok(text) = std::str::from_utf8(cell) else {
            sink.at(
                &loc,
                col,
                String::from_utf8_lossy(cell),
                "is not valid UTF-8 (save the file as UTF-8)",
            );
            continue;
        };
        let text = text.trim();
        match kinds[j] {
            Cell::Id => row.id = text.to_string(),
            Cell::Name => row.name = (!text.is_empty()).then(|| text.to_string()),
            Cell::Group => row.group = (!text.is_empty()).then(|| text.to_string()),
            Cell::Ignored => {}
            Cell::HoldHarmless => match text.to_ascii_lowercase().as_str() {
                "" | "false" | "0" | "no" => row.hold_harmless = false,
                "true" | "1" | "yes" => row.hold_harmless = true,
                _ => sink.at(
                    &loc,
                    col,
                    text,
                    "must be true or false (also 1/0 or yes/no, in any case; empty is false)",
                ),
            },
            Cell::Tags => {
                row.tags = text
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            }
            kind @ (Cell::Number(_) | Cell::Reference | Cell::Extra) => {
                let v = if text.is_empty() {
                    None
                } else {
                    match text.parse::<f64>() {
                        Ok(v) => Some(v),
                        Err(_) => {
                            sink.at(&loc, col, text, "is not a number");
                            if let Cell::Number(c) = kind {
                                row.unreadable.push(c);
                            }
                            continue;
                        }
                    }
                };
                match kind {
                    Cell::Number(c) => row.nums.push((c, v)),
                    Cell::Reference => row.reference = v,
                    _ => {
                        if let Some(v) = v {
                            row.extra.push((col.to_string(), v));
                        }
                    }
                }
            }
        }
    }
    row
}

/// Build regions from inline TOML tables.
pub fn from_inline(
    raw: &[RawRegion],
    file: &Path,
    declared: &[String],
    ctx: &mut Ctx,
) -> Option<LoadedRegions> {
    let has_ref = raw.iter().any(|r| r.reference_allocation.is_some());
    let extra = inline_extra(raw, declared, ctx);
    let rows = raw
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let nums = [
                (Column::StdRevenue, r.std_revenue),
                (Column::StdExpenditure, r.std_expenditure),
                (Column::EcoSpending, r.eco_spending),
                (Column::AreaKm2, r.area_km2),
                (Column::RedlineKm2, r.redline_km2),
                (Column::PaKm2, r.pa_km2),
                (Column::PaCount, r.pa_count),
                (Column::PaScore, r.pa_score),
                (Column::Rangers, r.rangers),
                (Column::Population, r.population),
                (Column::EqiChange, r.eqi_change),
                (Column::DamageIndex, r.damage_index),
                (Column::PriorAllocation, r.prior_allocation),
            ];
            Row {
                loc: Loc::Toml(i),
                id: r.id.clone(),
                name: r.name.clone(),
                group: r.group.clone(),
                nums: nums.to_vec(),
                reference: r.reference_allocation,
                extra: extra[i].clone(),
                hold_harmless: r.hold_harmless,
                tags: r.tags.clone(),
                unreadable: Vec::new(),
            }
        })
        .collect();
    let mut sink = Sink { file, ctx };
    build(rows, &mut sink, has_ref, declared, file.to_path_buf())
}

/// Check the names of `[regions] extra`: each a new identifier (so that pool expressions
/// can name it), none repeated.
pub fn declared_ok(declared: &[String], ctx: &mut Ctx) -> bool {
    let before = ctx.problems.len();
    for (k, d) in declared.iter().enumerate() {
        let at = format!("regions.extra[{k}]");
        let ident = d
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            ctx.problem(
                &at,
                d,
                "must be a column name of letters, digits and underscores, starting with a \
                 letter",
            );
        } else if TEXT_COLUMNS.contains(&d.as_str())
            || Column::from_name(d).is_some()
            || d == REFERENCE_COLUMN
            || d.starts_with(EXTRA_PREFIX)
        {
            ctx.problem(
                &at,
                d,
                "is already a column of the region table; declare only new columns",
            );
        } else if declared[..k].contains(d) {
            ctx.problem(&at, d, "is declared twice");
        }
    }
    ctx.problems.len() == before
}

/// The declared extra columns of each inline region. A field that is neither a known
/// column nor declared is an error, as in a CSV header, so that typos are still caught.
fn inline_extra(raw: &[RawRegion], declared: &[String], ctx: &mut Ctx) -> Vec<Vec<(String, f64)>> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let mut row = Vec::new();
        for (k, v) in &r.extra {
            let at = format!("regions.inline[{i}].{k}");
            if !declared.contains(k) {
                ctx.problem(
                    &at,
                    k,
                    "unknown field; a further numeric column must be declared in [regions] \
                     extra",
                );
                continue;
            }
            match v.as_float().or_else(|| v.as_integer().map(|x| x as f64)) {
                Some(x) => row.push((k.clone(), x)),
                None => ctx.problem(&at, v, "must be a number"),
            }
        }
        out.push(row);
    }
    out
}

/// Check each row and assemble the SoA region set.
fn build(
    rows: Vec<Row>,
    sink: &mut Sink,
    has_reference: bool,
    declared: &[String],
    file: std::path::PathBuf,
) -> Option<LoadedRegions> {
    let before = sink.ctx.problems.len();
    if rows.is_empty() {
        sink.ctx.problems.push(Problem::new(
            &file,
            "regions",
            "",
            "the region list is empty",
        ));
        return None;
    }
    let n = rows.len();
    let mut data = RegionData::zeros(n);
    let mut meta = RegionMeta::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut group_pos: HashMap<String, u32> = HashMap::new();
    let mut reference = Vec::with_capacity(n);
    let mut extra: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut locs = Vec::with_capacity(n);
    for (i, row) in rows.iter().enumerate() {
        let loc = &row.loc;
        locs.push(match loc {
            Loc::Csv(_) => loc.name(),
            Loc::Toml(_) => sink.ctx.locate(&loc.name()),
        });
        if row.id.is_empty() {
            sink.at(loc, "id", "", "is required and must not be empty");
        } else if let Some(first) = seen.insert(row.id.clone(), i) {
            let first_loc = rows[first].loc.name();
            sink.at(
                loc,
                "id",
                &row.id,
                format!("duplicate region id (first used at {first_loc})"),
            );
        }
        numbers(i, row, &mut data, sink);
        if let Some(r) = row.reference
            && (!r.is_finite() || r < 0.0)
        {
            sink.at(loc, REFERENCE_COLUMN, r, "must be a finite number ≥ 0");
        }
        reference.push(row.reference);
        for (k, v) in &row.extra {
            if !v.is_finite() || *v < 0.0 {
                sink.at(loc, k, v, "must be a finite number ≥ 0");
            }
            extra.entry(k.clone()).or_insert_with(|| vec![0.0; n])[i] = *v;
        }
        data.hold_harmless[i] = row.hold_harmless;
        data.tags[i] = tag_mask(row, &mut meta, sink);
        let group = row.group.as_deref().unwrap_or("all");
        let g = match group_pos.get(group) {
            Some(&g) => g,
            None => {
                let g = group_pos.len() as u32;
                group_pos.insert(group.to_string(), g);
                meta.groups.push(group.to_string());
                g
            }
        };
        meta.group_idx.push(g);
        meta.group.push(group.to_string());
        meta.id.push(row.id.clone());
        meta.name
            .push(row.name.clone().unwrap_or_else(|| row.id.clone()));
    }
    if sink.ctx.problems.len() > before {
        return None;
    }
    data.extra = declared
        .iter()
        .map(|d| extra.get(d).cloned().unwrap_or_else(|| vec![0.0; n]))
        .collect();
    meta.extra_names = declared.to_vec();
    Some(LoadedRegions {
        regions: Regions { meta, data },
        reference: has_reference.then_some(reference),
        extra,
        file,
        locs,
    })
}

/// Check region `i`'s numeric columns (each in its range, the required ones present, the
/// red line within the land area) and write them into `data`.
fn numbers(i: usize, row: &Row, data: &mut RegionData, sink: &mut Sink) {
    let loc = &row.loc;
    let mut present = [false; crate::model::region::NUM_COLUMNS];
    for &(c, v) in &row.nums {
        let Some(v) = v else { continue };
        present[c as usize] = true;
        if !v.is_finite() {
            sink.at(
                loc,
                c.name(),
                v,
                "must be a finite number (NaN and Inf are not allowed)",
            );
            continue;
        }
        let problem = match c {
            Column::EqiChange => None,
            Column::StdExpenditure if v <= 0.0 => Some("must be > 0"),
            Column::PaScore | Column::DamageIndex if !(0.0..=1.0).contains(&v) => {
                Some("must lie in [0, 1]")
            }
            _ if v < 0.0 => Some("must be ≥ 0 (money, areas and counts cannot be negative)"),
            _ => None,
        };
        if let Some(msg) = problem {
            sink.at(loc, c.name(), v, msg);
        }
        data.col_mut(c)[i] = v;
    }
    for c in [Column::StdRevenue, Column::StdExpenditure] {
        if !present[c as usize] && !row.unreadable.contains(&c) {
            sink.at(loc, c.name(), "", "is required");
        }
    }
    let (a, l) = (
        data.col(Column::AreaKm2)[i],
        data.col(Column::RedlineKm2)[i],
    );
    if l > 0.0 && a <= 0.0 {
        sink.at(
            loc,
            "redline_km2",
            l,
            "needs a positive area_km2 to compute red-line coverage",
        );
    } else if l > a {
        sink.at(
            loc,
            "redline_km2",
            l,
            format!("red-line area exceeds the land area area_km2 = {a}"),
        );
    }
}

/// The bit mask of a row's tags, each new tag added to `meta`'s tag names.
fn tag_mask(row: &Row, meta: &mut RegionMeta, sink: &mut Sink) -> u64 {
    let mut mask = 0u64;
    for t in &row.tags {
        let idx = match meta.tag_index(t) {
            Some(k) => k as usize,
            None => {
                meta.tag_names.push(t.clone());
                meta.tag_names.len() - 1
            }
        };
        if idx >= MAX_TAGS {
            sink.at(
                &row.loc,
                "tags",
                t,
                format!("too many distinct tags (at most {MAX_TAGS})"),
            );
            continue;
        }
        mask |= 1u64 << idx;
    }
    mask
}
