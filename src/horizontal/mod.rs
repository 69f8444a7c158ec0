//! Horizontal basin compensation between jurisdictions (docs/model.md §2; docs/policy.md §3).
//!
//! Stages, as for the whole crate: [`raw`] mirrors the `[[agreement]]` tables of a
//! scenario file; [`validate`] checks them into an [`Agreement`]; [`settle`] computes
//! the flows of every period from a flat input vector; [`export`] turns results into
//! CSV rows and a JSON summary.
//!
//! - [`gb3838`]: the class-limit table (docs/policy.md §4).
//! - [`assess`]: section assessment kinds (P index, class, compliance rate).
//! - [`rules`]: payment rules (bet, per_class, pool_shares, central).
//! - [`rewards`]: the vertical reward for the parties of an agreement.

pub mod assess;
pub mod rewards;
pub mod rules;
pub mod settle;
pub mod settlement;

pub use assess::Assessed;
pub use settle::{settle, settle_point};
pub use settlement::Settlement;
