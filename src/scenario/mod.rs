//! Scenario files: the TOML format, loading, and validation into checked domain types.
//!
//! Stages (STYLE.md "parse, then validate, then compute"):
//! 1. [`raw`]: serde types that mirror the file, with `deny_unknown_fields`.
//! 2. [`validate`]: turns them into a [`Scenario`], reporting every problem with file,
//!    key path (and line), and value.
//! 3. The engines receive only validated types.

pub mod ctx;
pub mod source_map;
