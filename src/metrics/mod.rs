//! Formula comparison metrics: inequality, targeting, winners and losers.
//!
//! Everything here is pure arithmetic on slices, so the same functions serve the
//! deterministic point estimate and every Monte Carlo draw:
//!
//! - [`inequality`]: weighted Gini, Lorenz curve, Theil T with its between/within-group
//!   decomposition, coefficient of variation, top-decile share. Per-draw callers reuse an
//!   [`InequalityScratch`] so that no allocation happens inside the draw loop.
//! - [`targeting`]: Spearman rank correlation (average ranks for ties), per-unit allocations
//!   (per km² of red line, per capita) and a Suits-style progressivity index against fiscal
//!   self-sufficiency R/E.
//! - [`paired`]: paired-difference statistics between a formula and a baseline under common
//!   random numbers (docs/model.md §3.2), and a winners/losers summary per group.
//!
//! Conventions shared by all metrics:
//! - **Weights** are optional (`Option<&[f64]>`). With weights, `x_i` is a value per unit of
//!   weight (for example allocation per capita with `w_i` = population) and region `i`
//!   holds `w_i · x_i` of the total. Without weights every region counts once. Weights are
//!   expected to be non-negative; a weight slice of the wrong length is a
//!   [`MetricsError::LengthMismatch`], never a panic.
//! - **Degenerate input** (empty, zero total weight, zero total value) gives 0 for
//!   inequality measures (no inequality can be measured) and `None` where a number would be
//!   meaningless (a rank correlation of a constant, a progressivity index of nothing).
//! - Sorting uses `f64::total_cmp`, so NaN input cannot panic; it simply propagates.

pub mod allocation;
mod gini;
pub mod inequality;
pub mod paired;
pub mod targeting;

pub use inequality::{
    InequalityScratch, InequalitySummary, TOP_DECILE, TheilDecomposition, coefficient_of_variation,
    gini, lorenz, theil, theil_decomposed, top_share,
};
pub use paired::{
    GroupTally, PairedAccumulator, PairedStats, RegionDiff, WinnersLosers, paired_stats,
    winners_losers,
};
pub use targeting::{TargetingScratch, per_unit_into, spearman, suits_index};

/// Misuse of a metric function by its caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// A companion slice (weights, groups, a second series) does not match the values.
    #[error("{what} has {got} entries but there are {expected} values")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
}

/// Checks that a companion slice has the same length as the values.
pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), MetricsError> {
    if expected == got {
        Ok(())
    } else {
        Err(MetricsError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Checks optional weights against the values.
pub(crate) fn check_weights(n: usize, w: Option<&[f64]>) -> Result<(), MetricsError> {
    match w {
        Some(w) => check_len("weights", n, w.len()),
        None => Ok(()),
    }
}

/// Weight of item `i`: the given weight, or 1 when unweighted.
#[inline]
pub(crate) fn weight_at(w: Option<&[f64]>, i: usize) -> f64 {
    match w {
        Some(w) => w[i],
        None => 1.0,
    }
}
