//! ecocomp: a simulator of ecological-compensation transfer payments.
//!
//! The modules form layers, and a module imports only from its own layer or below
//! (ARCHITECTURE.md; `tests/architecture.rs` enforces it):
//!
//! 1. foundation: [`error`], [`cancel`], [`simd`], [`numfmt`], [`plots`] (a chart library
//!    that knows nothing of ecocomp);
//! 2. [`model`]: regions, parameters, formulas, agreements, the checked scenario;
//! 3. [`sampling`] and [`stats`];
//! 4. engines: [`vertical`], [`horizontal`], [`metrics`], [`sensitivity`], [`synth`],
//!    [`calibrate`] (fitting coefficients to an observed allocation), and [`scenario`]
//!    (reading and writing scenario files);
//! 5. [`montecarlo`], which draws over the engines;
//! 6. [`run`]: the one pipeline every command goes through;
//! 7. [`report`]: the files a run writes (CSV, JSON, figures, HTML).
//!
//! The command line (clap, the console, exit codes) is the `ecocomp` binary, not this
//! library. The rules are documented in `docs/model.md`, their policy background in
//! `docs/policy.md`.

// Money is compared with tolerances everywhere; an exact float comparison is almost always
// a bug in this domain.
#![deny(clippy::float_cmp)]
// Input must never be able to cause a panic in the library.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)
)]

pub mod calibrate;
pub mod cancel;
pub mod error;
pub mod horizontal;
pub mod metrics;
pub mod model;
pub mod montecarlo;
pub mod numfmt;
pub mod plots;
pub mod report;
pub mod run;
pub mod sampling;
pub mod scenario;
pub mod sensitivity;
pub mod simd;
pub mod stats;
pub mod synth;
pub mod vertical;

pub use cancel::Cancel;
pub use error::{Error, Problem, Problems, Result};
