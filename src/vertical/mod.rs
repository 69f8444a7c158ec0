//! The vertical allocator: central → regional transfers by formula under a budget
//! (docs/model.md §1; docs/policy.md §2, the Key Ecological Function Zone transfer).
//!
//! - [`rules`]: every per-region rule, once, generic over the lane type: the key subsidy,
//!   the grade, the cut, the claim, the floor and its waiver, the payment and its flows.
//! - [`components`]: the terms computed once per formula: pool weights and shares,
//!   importance, guidance, rangers, the key subsidy's factor.
//! - [`prepare`]: those terms for every region, and the pass that applies the rules.
//! - [`quality`]: grades and their reward/deduction rates.
//! - [`budget`]: the exact piecewise-linear budget solve with floors and caps.
//! - [`allocate`]: the point allocation with its full breakdown ([`Allocation`]), and
//!   `payment`: the budget scale and the payment pass it ends with.
//! - [`kernel`]: the same allocation for repeated Monte Carlo draws.
//! - [`flows`]: the money the budget rules move.
//! - [`infeasible`]: what makes up a budget shortfall.
//! - [`tiers`]: two tiers, the provinces' methods passing their totals to counties.

pub mod allocate;
pub mod budget;
pub mod components;
pub mod flows;
pub mod infeasible;
pub mod kernel;
mod payment;
pub mod prepare;
pub mod quality;
pub mod rules;
pub mod tiers;

pub use allocate::{Allocation, Workspace, allocate};
pub use quality::Grade;
