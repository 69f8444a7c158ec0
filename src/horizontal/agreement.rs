//! Validated agreement types: what [`super::settle`] reads (MODEL.md §2).
//!
//! Every number a settlement reads lives in one flat input vector ([`SettleInputs`]),
//! addressed by the slot indices stored here. The Monte Carlo engine overwrites the slots
//! listed in [`Agreement::uncertain`] per draw; [`Agreement::point_inputs`] fills central
//! values for the deterministic point estimate.

use super::assess::Assessment;
use super::gb3838::ClassTable;
use super::rules::Rule;
use crate::param::Uncertain;

/// The flat input vector of one settlement, indexed by slot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SettleInputs {
    pub values: Vec<f64>,
}

/// One measured quantity at a section.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub name: String,
    /// Row of the agreement's class table that has limits, if any.
    pub class_row: Option<usize>,
    /// Weight per period (empty when the indicator has no weight).
    pub weight: Vec<f64>,
    /// Slot of the baseline C0.
    pub baseline: Option<usize>,
    /// Slot of the period mean, per period.
    pub values: Vec<usize>,
    /// Slot of the mean of the period before the round.
    pub previous: Option<usize>,
    /// Slots of the sub-period values, per period (empty when none).
    pub monthly: Vec<Vec<usize>>,
}

/// A monitoring section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    /// Party indices.
    pub upstream: usize,
    pub downstream: usize,
    pub assessment: Assessment,
    pub indicators: Vec<Indicator>,
}

/// A correlation matrix (row-major, n×n) between the indicators of one section, and the
/// slot groups it applies to: one group per period (annual means) and per sub-period.
/// Each group lists n slots in indicator order.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelatedGroup {
    pub section: usize,
    pub n: usize,
    pub matrix: Vec<f64>,
    pub slot_groups: Vec<Vec<usize>>,
}

/// A named rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    pub name: String,
    pub rule: Rule,
}

/// A validated agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub name: String,
    pub description: String,
    pub parties: Vec<String>,
    pub periods: Vec<String>,
    pub table: ClassTable,
    pub sections: Vec<Section>,
    pub rules: Vec<RuleDef>,
    /// The TOML key path of every slot, e.g. `agreement[0].section[1].indicator[2].values[0]`.
    pub slot_labels: Vec<String>,
    /// Central value of every slot.
    pub central: Vec<f64>,
    /// The slots whose value is a distribution.
    pub uncertain: Vec<(usize, Uncertain)>,
    /// Correlated indicator groups.
    pub correlated: Vec<CorrelatedGroup>,
}

impl Agreement {
    /// Inputs at central values: the point estimate.
    pub fn point_inputs(&self) -> SettleInputs {
        SettleInputs {
            values: self.central.clone(),
        }
    }

    pub fn n_slots(&self) -> usize {
        self.central.len()
    }

    pub fn n_periods(&self) -> usize {
        self.periods.len()
    }

    pub fn n_parties(&self) -> usize {
        self.parties.len()
    }
}
