//! The vertical allocator: central → regional transfers by formula under a budget
//! (MODEL.md §1; POLICY.md §2, the Key Ecological Function Zone transfer).
//!
//! - [`formula`]: validated formula and budget parameters.
//! - [`components`]: the pre-budget claims K, PA, RL, G, F.
//! - [`quality`]: grades from ΔQ and the reward/deduction rate.
//! - [`budget`]: the exact piecewise-linear budget solve with floors and caps.
//! - [`allocate`]: puts them together into an [`Allocation`].
//! - [`kernel`]: the same allocation prepared for repeated Monte Carlo draws.

pub mod allocate;
pub mod budget;
pub mod components;
pub mod flows;
pub mod kernel;
pub mod quality;

pub use allocate::{Allocation, Workspace, allocate};
pub use quality::Grade;
