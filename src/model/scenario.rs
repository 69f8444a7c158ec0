//! The checked scenario: what validation hands to the engines (docs/model.md §1–§3).
//!
//! Nothing here parses a file; [`crate::scenario`] builds these types from TOML and CSV,
//! and every engine reads them.

use super::agreement::Agreement;
use super::formula::{Budget, Formula};
use super::formula_param::Target;
use super::param::Uncertain;
use super::region::{Column, Regions};
use crate::error::{Error, Problem};
use std::path::PathBuf;

/// Scenario metadata (the `[scenario]` table).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    pub name: String,
    pub description: String,
    pub year: Option<i64>,
    pub currency: String,
    pub sources: Vec<String>,
    pub assumptions: Vec<String>,
}

/// A scalar parameter given as a distribution, and what it feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct UncertainParam {
    /// Key path in the scenario file, e.g. `formula[0].key.c0`.
    pub path: String,
    pub target: Target,
    pub dist: Uncertain,
}

/// A validated noise model on a region column (docs/model.md §3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseSpec {
    pub column: Column,
    pub multiplicative: bool,
    /// Constant σ, or `None` when `sigma_column` gives one per region.
    pub sigma: Option<f64>,
    pub sigma_column: Option<String>,
    /// Loading on the group common factor.
    pub rho: f64,
    pub min: f64,
    pub max: f64,
    /// AR(1) coefficient of the shocks from one year of a path to the next, in (−1, 1);
    /// 0 (independent years) by default and without `[path]`.
    pub ar1: f64,
}

/// `[montecarlo]` settings; command-line flags override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonteCarloSettings {
    pub draws: Option<u64>,
    pub seed: Option<u64>,
}

/// The vertical part of a scenario.
#[derive(Debug, Clone)]
pub struct Vertical {
    pub regions: Regions,
    /// The file the regions came from.
    pub regions_file: PathBuf,
    /// Where each region was written in `regions_file` (`row 7`, or `regions.inline[3]`
    /// with its line); empty for regions built in code.
    pub region_locs: Vec<String>,
    /// Actual allocation per region (e.g. 2020), where known.
    pub reference: Option<Vec<Option<f64>>>,
    /// Extra per-region numeric columns (`sigma_*`).
    pub extra: std::collections::BTreeMap<String, Vec<f64>>,
    pub budget: Budget,
    pub formulas: Vec<Formula>,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    /// SHA-256 of the scenario file's bytes, hex.
    pub sha256: String,
    pub meta: Meta,
    pub vertical: Option<Vertical>,
    /// Horizontal basin agreements (docs/model.md §2).
    pub agreements: Vec<Agreement>,
    pub uncertain: Vec<UncertainParam>,
    pub noise: Vec<NoiseSpec>,
    pub montecarlo: MonteCarloSettings,
    /// `[calibrate]`, the defaults of `ecocomp calibrate`.
    pub calibrate: CalibrateSpec,
    /// `[path]`: the years of a multi-year run (docs/model.md §5); `None` for one year.
    pub policy_path: Option<super::path::Path>,
    pub warnings: Vec<String>,
    /// Every file the scenario was built from, the scenario file first, so that a shard's
    /// state can rebuild exactly this scenario wherever it is merged.
    pub inputs: std::sync::Arc<Vec<SourceFile>>,
}

/// One file read while loading a scenario.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceFile {
    /// The path as the scenario names it (the scenario file's own path for the first).
    pub name: std::path::PathBuf,
    /// Where it was read, as shown in messages.
    pub shown: std::path::PathBuf,
    #[serde(with = "as_bytes")]
    pub bytes: Vec<u8>,
}

/// What `ecocomp calibrate` fits when the command line does not say (docs/model.md §6).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalibrateSpec {
    pub formula: Option<String>,
    /// A region column: `reference_allocation`, a numeric column or a declared one.
    pub target: Option<String>,
    pub loss: Option<String>,
    /// `(path, lo, hi)` in the order written.
    pub free: Vec<(String, f64, f64)>,
}

impl Scenario {
    /// SHA-256 of every input file, names and bytes: equal only for the same scenario and
    /// the same data.
    pub fn inputs_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in self.inputs.iter() {
            let name = f.name.to_string_lossy();
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update((f.bytes.len() as u64).to_le_bytes());
            h.update(&f.bytes);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Put a file, row, column and value on an error raised where they were not known:
    /// [`Error::ClaimOverflow`] becomes an [`Error::Invalid`] problem at the region's largest
    /// input, or at the formula when every input of the region is ordinary (then its
    /// coefficients must be what overflows). Any other error is returned unchanged.
    pub fn locate(&self, e: Error) -> Error {
        let Error::ClaimOverflow {
            formula,
            region,
            draw,
        } = &e
        else {
            return e;
        };
        let (Some(v), i) = (&self.vertical, *region) else {
            return e;
        };
        let (Some(loc), Some(id)) = (v.region_locs.get(i), v.regions.meta.id.get(i)) else {
            return e;
        };
        let d = &v.regions.data;
        let Some((col, value)) = Column::ALL
            .into_iter()
            .map(|c| (c, d.cols[c as usize][i]))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        else {
            return e;
        };
        let what = format!("the claim of region '{id}' under formula '{formula}'");
        let at = if loc.starts_with("row ") {
            "column"
        } else {
            "field"
        };
        let at_input = |message: String| {
            Problem::new(
                &v.regions_file,
                format!("{loc}, {at} {}", col.name()),
                format!("{value:e}"),
                message,
            )
        };
        // The point estimate passed, so a draw's sampled inputs did it; at the point, money
        // near f64's limit does it, and far below that limit the formula's coefficients.
        let problem = if let Some(d) = draw {
            at_input(format!(
                "{what} overflows a 64-bit float in Monte Carlo draw {d}, though not at the \
                 point estimate: the draw's noise or uncertain parameters are too wide for \
                 inputs of this size (this is the region's largest input as written)"
            ))
        } else if value.abs() >= 1e100 {
            at_input(format!(
                "{what} overflows a 64-bit float (this is the region's largest input); \
                 express money in a larger unit (e.g. 亿元 instead of 元)"
            ))
        } else {
            let k = v
                .formulas
                .iter()
                .position(|f| &f.name == formula)
                .unwrap_or(0);
            Problem::new(
                &self.path,
                format!("formula[{k}] ('{formula}')"),
                "",
                format!(
                    "{what} overflows a 64-bit float although its inputs are ordinary \
                     (largest: {} = {value} at {} {loc}); the formula's coefficients are too \
                     large",
                    col.name(),
                    v.regions_file.display()
                ),
            )
        };
        Error::invalid(vec![problem])
    }
}

/// A byte vector serialised as one byte string rather than a sequence of numbers: a shard
/// state carries the scenario's data files, and byte by byte they cost a call per byte to
/// write and to read.
mod as_bytes {
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a byte string")
        }
        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut v = Vec::new();
            while let Some(b) = seq.next_element()? {
                v.push(b);
            }
            Ok(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Bytes)
    }
}
