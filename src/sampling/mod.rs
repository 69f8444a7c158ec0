//! Random streams, distributions, noise models and the Gaussian copula (docs/model.md §3.1).
//!
//! - [`rng`]: reproducible streams derived from `(seed, draw, substream)`.
//! - [`dist`]: sampling every [`crate::model::param::Dist`] family, with truncation by resampling
//!   or by inverse CDF (never by clamping), and [`dist::check_truncation`].
//! - [`noise`]: additive and mean-preserving multiplicative region noise with a group factor.
//! - [`copula`]: correlated lognormal indicator concentrations through a Cholesky factor.
//! - [`special`]: erf/erfc, the normal CDF and quantile, ln Γ and the incomplete beta.

pub mod copula;
pub mod dist;
pub mod noise;
pub mod rng;
pub mod special;

pub use rng::{Rng, stream};
