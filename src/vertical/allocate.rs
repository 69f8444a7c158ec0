//! Puts the components, grades, reverse linkage and budget solve together
//! (MODEL.md §1.2–§1.5).

use super::formula::{Budget, Formula};
use super::quality::Grade;
use crate::error::Result;
use crate::region::RegionData;

/// Result of allocating one formula over all regions. Every `Vec` has one entry per
/// region, in region order. Reused across draws: [`allocate`] overwrites every field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allocation {
    /// Key subsidy K.
    pub key: Vec<f64>,
    /// Protected-area pool share PA.
    pub pa: Vec<f64>,
    /// Red-line pool share RL.
    pub rl: Vec<f64>,
    /// Guidance G.
    pub guidance: Vec<f64>,
    /// Rangers F.
    pub rangers: Vec<f64>,
    /// Quality grade (Stable when the formula has no quality table).
    pub grade: Vec<Grade>,
    /// Reward (> 0) or deduction (< 0) rate q.
    pub q: Vec<f64>,
    /// Reverse-linkage cut fraction `min(max_cut, λ·D)`.
    pub cut: Vec<f64>,
    /// Claim after reward/penalty and reverse linkage, S'.
    pub claim: Vec<f64>,
    /// Floor f (0 when none or waived).
    pub floor: Vec<f64>,
    /// Cap u (+∞ when none).
    pub cap: Vec<f64>,
    /// True when the region had a hold-harmless floor that was waived for a violation.
    pub floor_waived: Vec<bool>,
    /// Final allocation x.
    pub x: Vec<f64>,
    /// True when the final amount equals a binding floor (the floor lifted it).
    pub floor_binds: Vec<bool>,
    /// True when the final amount equals a binding cap (the cap cut it).
    pub cap_binds: Vec<bool>,
    /// Budget scale factor s (1 in open mode; in scale_floors mode, T / Σ floors).
    pub scale: f64,
    /// Pool money with zero total weight, allocated to nobody.
    pub pool_unallocated: f64,
    /// Budget left over because every region is capped (fixed mode).
    pub cap_unallocated: f64,
    /// True when infeasible floors were scaled pro rata (`on_infeasible = scale_floors`).
    pub floors_scaled: bool,
    /// Σ x.
    pub total: f64,
}

impl Allocation {
    /// Total unallocated money: pools with zero weight plus the capped remainder.
    pub fn unallocated(&self) -> f64 {
        self.pool_unallocated + self.cap_unallocated
    }
}

/// Scratch buffers reused across calls (sort keys for the budget solve, pool weights).
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub(crate) buf_a: Vec<f64>,
    pub(crate) buf_b: Vec<f64>,
}

/// Allocate `formula` over `regions` under `budget`, writing into `out` (resized as needed;
/// no allocation once sizes are stable).
///
/// Errors only on infeasible floors with `OnInfeasible::Error`.
pub fn allocate(
    formula: &Formula,
    regions: &RegionData,
    budget: &Budget,
    ws: &mut Workspace,
    out: &mut Allocation,
) -> Result<()> {
    let _ = (formula, regions, budget, ws, out);
    todo!("vertical allocator")
}
