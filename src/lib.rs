//! ecocomp: a simulator of ecological-compensation transfer payments.
//!
//! - Vertical allocation of central transfers by formula under a budget ([`vertical`]).
//! - Horizontal basin agreements between upstream and downstream parties ([`horizontal`]).
//! - Monte Carlo over uncertain inputs, reproducible on any thread count ([`montecarlo`]).
//! - Formula comparison metrics ([`metrics`]) and outputs ([`output`], [`plots`]).
//!
//! The specification is MODEL.md; the policy background is POLICY.md.

// Money is compared with tolerances everywhere; an exact float comparison is almost always
// a bug in this domain.
#![deny(clippy::float_cmp)]
// Input must never be able to cause a panic in the library.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)
)]

pub mod cli;
pub mod compare;
pub mod error;
pub mod horizontal;
pub mod interrupt;
pub mod metrics;
pub mod model;
pub mod montecarlo;
pub mod output;
pub mod pipeline;
pub mod plots;
pub mod sampling;
pub mod scenario;
pub mod sensitivity;
pub mod simd;
pub mod stats;
pub mod synth;
pub mod vertical;

pub use error::{Error, Problem, Problems, Result};
