//! Scenario files: the TOML format, loading, and validation into checked domain types.
//!
//! Stages (STYLE.md "parse, then validate, then compute"):
//! 1. [`raw`]: serde types that mirror the file, with `deny_unknown_fields`.
//! 2. [`validate`], [`formula_validate`], [`agreement_validate`] and [`regions`]: turn them
//!    into a [`Scenario`], reporting every problem with file, key path (and line) or CSV
//!    row and column, and value.
//! 3. The engines receive only validated types.
//!
//! The user-facing format reference is `docs/scenario-format.md`.

pub mod agreement_raw;
pub mod agreement_validate;
mod classified;
pub mod ctx;
pub mod edit;
pub mod formula_validate;
pub mod path_validate;
pub mod raw;
pub mod regions;
pub mod source_map;
pub mod validate;
pub mod write;

use crate::error::{Error, Problem, Result};
use crate::model::{Meta, Scenario, SourceFile, UncertainParam, Vertical};
use ctx::Ctx;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The scenario compiled into the binary, run by `ecocomp run` with no argument.
pub const DEFAULT_SCENARIO_NAME: &str = "scenarios/national.toml";
const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/national.toml");
const DEFAULT_REGIONS_NAME: &str = "national_regions.csv";
const DEFAULT_REGIONS: &str = include_str!("../../scenarios/national_regions.csv");

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Load and validate a scenario file from disk.
pub fn load(path: &Path) -> Result<Scenario> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let msg = if path.is_dir() {
                "is a directory, not a scenario file".to_string()
            } else {
                format!("cannot be read: {e}")
            };
            return Err(Error::invalid(vec![Problem::new(
                path,
                "scenario file",
                path.display(),
                msg,
            )]));
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_bytes(
        path,
        &bytes,
        &|rel: &Path| std::fs::read(base.join(rel)),
        &|rel: &Path| base.join(rel),
    )
}

/// Load the scenario compiled into the binary.
pub fn load_default() -> Result<Scenario> {
    let read = |rel: &Path| {
        if rel == Path::new(DEFAULT_REGIONS_NAME) {
            Ok(DEFAULT_REGIONS.as_bytes().to_vec())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the embedded scenario has no such file",
            ))
        }
    };
    let resolve = |rel: &Path| Path::new("scenarios").join(rel);
    load_bytes(
        Path::new(DEFAULT_SCENARIO_NAME),
        DEFAULT_SCENARIO.as_bytes(),
        &read,
        &resolve,
    )
}

type ReadFn<'a> = &'a dyn Fn(&Path) -> std::io::Result<Vec<u8>>;
type ResolveFn<'a> = &'a dyn Fn(&Path) -> PathBuf;

/// Parse and validate scenario bytes. `read` loads files referenced relative to the
/// scenario; `resolve` turns such a reference into the path shown in messages.
pub fn load_bytes(path: &Path, bytes: &[u8], read: ReadFn, resolve: ResolveFn) -> Result<Scenario> {
    let inputs = std::cell::RefCell::new(vec![SourceFile {
        name: path.to_path_buf(),
        shown: path.to_path_buf(),
        bytes: bytes.to_vec(),
    }]);
    let recording = |rel: &Path| {
        let got = read(rel);
        if let Ok(b) = &got {
            inputs.borrow_mut().push(SourceFile {
                name: rel.to_path_buf(),
                shown: resolve(rel),
                bytes: b.clone(),
            });
        }
        got
    };
    let mut scn = load_unrecorded(path, bytes, &recording, resolve)?;
    scn.inputs = std::sync::Arc::new(inputs.into_inner());
    Ok(scn)
}

/// Rebuild a scenario from the files it was built from ([`Scenario::inputs`]), without
/// reading anything from disk.
pub fn load_inputs(inputs: &[SourceFile]) -> Result<Scenario> {
    let Some((first, rest)) = inputs.split_first() else {
        return Err(Error::Runtime("no scenario file among the inputs".into()));
    };
    let find = |rel: &Path| rest.iter().find(|f| f.name == rel);
    let read = |rel: &Path| {
        find(rel).map(|f| f.bytes.clone()).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not among the recorded inputs",
            )
        })
    };
    let resolve = |rel: &Path| find(rel).map_or_else(|| rel.to_path_buf(), |f| f.shown.clone());
    load_bytes(&first.name, &first.bytes, &read, &resolve)
}

fn load_unrecorded(
    path: &Path,
    bytes: &[u8],
    read: ReadFn,
    resolve: ResolveFn,
) -> Result<Scenario> {
    let (text, raw) = parse(path, bytes)?;
    let mut ctx = Ctx::new(path, text);
    if let Some(p) = &raw.path {
        ctx.years = path_validate::years(p, &mut ctx);
    }
    let meta = scenario_meta(&raw, &mut ctx);
    let mut uncertain = Vec::new();
    let montecarlo = validate::montecarlo(raw.montecarlo.as_ref(), &mut ctx);
    let loaded = load_regions(&raw, path, read, resolve, &mut ctx);
    let noise = match &loaded {
        Some(l) => validate::noise(&raw.noise, &l.extra, &mut ctx),
        // Regions that failed to load have their own problems already; only a scenario
        // with no [regions] table at all makes noise models an error of their own.
        None => {
            if !raw.noise.is_empty() && raw.regions.is_none() {
                ctx.problem("noise", "", "noise models need a [regions] table");
            }
            Vec::new()
        }
    };
    let agreements = agreement_validate::validate(&raw.agreement, &mut ctx);
    let vertical = vertical_model(
        &raw,
        loaded,
        &agreements,
        meta.year,
        &mut ctx,
        &mut uncertain,
    );
    if raw.formula.is_empty() && raw.agreement.is_empty() {
        ctx.problem("scenario", &meta.name, "the scenario has nothing to compute: add [[formula]] tables (with regions and a budget) or [[agreement]] tables");
    }
    let calibrate = validate::calibrate(raw.calibrate.as_ref(), &mut ctx);
    let policy_path = match (&raw.path, &vertical) {
        (Some(p), Some(v)) if !ctx.years.is_empty() => {
            path_validate::path(p, &v.extra, v.budget.total.is_some(), &mut ctx)
        }
        (Some(_), None) if !raw.formula.is_empty() => None,
        (Some(_), None) => {
            ctx.problem(
                "path",
                "",
                "a multi-year path allocates [[formula]] tables year by year, and the scenario has none",
            );
            None
        }
        _ => None,
    };
    if !ctx.ok() {
        return Err(Error::invalid(ctx.problems));
    }
    Ok(Scenario {
        path: path.to_path_buf(),
        sha256: sha256_hex(bytes),
        meta,
        vertical,
        agreements,
        uncertain,
        noise,
        montecarlo,
        calibrate,
        policy_path,
        warnings: ctx.warnings,
        inputs: Default::default(),
    })
}

/// The scenario file's text (without a byte-order mark) and its TOML tables, or the one
/// problem that stops it being read: not UTF-8, or not the scenario format.
fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(&'a str, raw::RawScenario)> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(e) => {
            return Err(Error::invalid(vec![Problem::new(
                path,
                format!("byte {}", e.valid_up_to()),
                "",
                "the scenario file is not valid UTF-8 (save it as UTF-8)",
            )]));
        }
    };
    let raw: raw::RawScenario = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let (location, value) = match e.span() {
                Some(span) => {
                    let start = span.start.min(text.len());
                    // `get`: a span inside a multi-byte character must not panic.
                    let line = text
                        .get(..start)
                        .map_or(0, |head| head.matches('\n').count())
                        + 1;
                    let snippet = text.lines().nth(line - 1).unwrap_or_default().trim();
                    (format!("line {line}"), format!("`{snippet}`"))
                }
                None => ("TOML".to_string(), String::new()),
            };
            let message = e.message().trim().replace(
                "data did not match any variant of untagged enum RawParam",
                "expected a number or a distribution table such as { dist = \"normal\", mean = 1.0, sd = 0.1 }",
            );
            return Err(Error::invalid(vec![Problem::new(
                path,
                location,
                value,
                format!("invalid scenario: {message}"),
            )]));
        }
    };
    Ok((text, raw))
}

/// The `[scenario]` table; its name must be usable as a folder name.
fn scenario_meta(raw: &raw::RawScenario, ctx: &mut Ctx) -> Meta {
    let meta = Meta {
        name: raw.scenario.name.clone(),
        description: raw.scenario.description.clone(),
        year: raw.scenario.year,
        currency: raw.scenario.currency.clone(),
        sources: raw.scenario.sources.clone(),
        assumptions: raw.scenario.assumptions.clone(),
    };
    let name_ok = !meta.name.is_empty()
        && meta
            .name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !meta.name.starts_with('.');
    if !name_ok {
        ctx.problem("scenario.name", format!("{:?}", meta.name), "must be a non-empty name of letters, digits, '_', '-' or '.' (it names the output folder)");
    }
    meta
}

/// The regions of the `[regions]` table: from its CSV file or its inline tables.
fn load_regions(
    raw: &raw::RawScenario,
    path: &Path,
    read: ReadFn,
    resolve: ResolveFn,
    ctx: &mut Ctx,
) -> Option<regions::LoadedRegions> {
    let r = raw.regions.as_ref()?;
    if !regions::declared_ok(&r.extra, ctx) {
        return None;
    }
    match (&r.file, r.inline.is_empty()) {
        (Some(file), true) => {
            let rel = Path::new(file);
            regions::load_csv(&resolve(rel), read(rel), &r.extra, ctx)
        }
        (None, false) => regions::from_inline(&r.inline, path, &r.extra, ctx),
        (Some(_), false) => {
            ctx.problem(
                "regions",
                "",
                "give either `file` or `[[regions.inline]]`, not both",
            );
            None
        }
        (None, true) => {
            ctx.problem(
                "regions",
                "",
                "needs `file = \"regions.csv\"` or `[[regions.inline]]` tables",
            );
            None
        }
    }
}

/// The vertical model: the budget and formulas over the `loaded` regions (`None` without
/// formulas, or when any of them is invalid). Uncertain parameters go to `uncertain`.
fn vertical_model(
    raw: &raw::RawScenario,
    loaded: Option<regions::LoadedRegions>,
    agreements: &[crate::model::Agreement],
    year: Option<i64>,
    ctx: &mut Ctx,
    uncertain: &mut Vec<UncertainParam>,
) -> Option<Vertical> {
    if raw.formula.is_empty() {
        if raw.regions.is_some() {
            ctx.warn("regions", "regions are given but no [[formula]] uses them");
        }
        return None;
    }
    let budget = validate::budget(raw.budget.as_ref(), ctx, uncertain);
    if raw.regions.is_none() {
        ctx.problem("regions", "", "is missing: formulas need regions");
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, f) in raw.formula.iter().enumerate() {
        if !names.insert(f.name.as_str()) {
            ctx.problem(
                &format!("formula[{i}].name"),
                &f.name,
                "duplicate formula name",
            );
        }
    }
    let (Some(mut l), Some(budget)) = (loaded, budget) else {
        return None;
    };
    let mut formulas = Vec::new();
    let scope = formula_validate::Scope {
        data: &l.regions.data,
        agreements,
        year,
        formulas: &raw.formula,
    };
    for (i, rf) in raw.formula.iter().enumerate() {
        if let Some(f) =
            formula_validate::formula(rf, i, &mut l.regions.meta, &scope, &budget, ctx, uncertain)
        {
            formulas.push(f);
        }
    }
    if budget.key_only() {
        // Only s·c0 enters a fixed budget's allocation (s rescales whatever c0 is), so
        // draws of c0 move nothing: say so instead of reporting noise-free "uncertainty".
        for u in uncertain.iter().filter(|u| u.path.ends_with(".key.c0")) {
            ctx.warn(
                &u.path,
                "c0 is uncertain, but under a fixed budget the budget sets the key subsidy's \
                 level (only s·c0 matters), so its draws change no allocation; vary it in \
                 open mode or under budget.scale = \"all\", or make another parameter \
                 uncertain",
            );
        }
    }
    if formulas.len() == raw.formula.len() {
        formula_validate::tag_warnings(
            &formulas,
            &raw.formula,
            &l.regions.meta,
            &l.regions.data.tags,
            ctx,
        );
    }
    Some(Vertical {
        regions: l.regions,
        regions_file: l.file,
        region_locs: l.locs,
        reference: l.reference,
        extra: l.extra,
        budget,
        formulas,
    })
}

#[cfg(test)]
/// A scenario file from `scenarios/` with `extra` TOML appended.
pub(crate) fn shipped_with(name: &str, extra: &str) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut text = std::fs::read_to_string(dir.join(name)).unwrap();
    text.push_str(extra);
    load_bytes(
        &dir.join(name),
        text.as_bytes(),
        &|rel: &Path| std::fs::read(dir.join(rel)),
        &|rel: &Path| dir.join(rel),
    )
    .unwrap()
}
