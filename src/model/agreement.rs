//! Validated agreement types: what [`super::settle`] reads (docs/model.md §2).
//!
//! Every number a settlement reads lives in one flat input vector ([`SettleInputs`]),
//! addressed by the slot indices stored here. The Monte Carlo engine overwrites the slots
//! listed in [`Agreement::uncertain`] per draw; [`Agreement::point_inputs`] fills central
//! values for the deterministic point estimate.

use super::gb3838::ClassTable;
use super::param::Uncertain;

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

/// How a section is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Assessment {
    /// `P = k0 · Σ k_j · C_j / C0_j`, met when `P ≤ threshold`.
    PIndex { k0: usize, threshold: f64 },
    /// The worst indicator class, met when `class ≤ target`.
    Class { target: u8 },
    /// Fraction of sub-periods whose class ≤ target, met when ≥ the required rate of the
    /// period (and, when `annual_too`, the annual class also ≤ target).
    ComplianceRate {
        target: u8,
        required: Vec<f64>,
        annual_too: bool,
    },
}

impl Assessment {
    pub fn kind(&self) -> &'static str {
        match self {
            Assessment::PIndex { .. } => "p_index",
            Assessment::Class { .. } => "class",
            Assessment::ComplianceRate { .. } => "compliance_rate",
        }
    }

    /// The target class, for class-based kinds.
    pub fn target(&self) -> Option<u8> {
        match self {
            Assessment::PIndex { .. } => None,
            Assessment::Class { target } | Assessment::ComplianceRate { target, .. } => {
                Some(*target)
            }
        }
    }
}

/// The optional pollutant-index term of a `per_class` rule: `amount_per_point · Δ`,
/// clamped to ±cap, where `I = 100 · Σ k_j · C_j / C0_j` over the section's indicators and
/// `I_prev` of the first period uses the indicators' `previous` values. Δ is read by
/// `basis` (docs/model.md §2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexChange {
    pub per_point: Vec<usize>,
    pub cap: Option<Vec<usize>>,
    pub basis: IndexBasis,
}

/// How the fall of the pollutant index is counted: the agreement text ("每同比下降1个百分
/// 点") admits both readings, so a scenario says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexBasis {
    /// Δ = I_prev − I_now, in index points.
    Points,
    /// Δ = 100 · (I_prev − I_now) / I_prev, in percent of last year's index (0 when
    /// I_prev is not positive).
    Percent,
}

/// A forfeiture entry of a pool: when a listed section fails, `party` loses its share
/// (or the flow share of the failing sections) to the non-forfeiting parties of `split`.
#[derive(Debug, Clone, PartialEq)]
pub struct Forfeit {
    pub party: usize,
    pub sections: Vec<usize>,
    /// Flow share per listed section; `None` forfeits the whole share if any fails.
    pub flow_shares: Option<Vec<f64>>,
    /// Split per party (len = parties), sums to 1.
    pub split: Vec<f64>,
}

/// A validated payment rule. Amount fields are slot indices per period.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Met: downstream pays upstream `amount`; otherwise the reverse. With `band`, pays
    /// `amount · clamp((threshold − P) / band, −1, 1)` (p_index sections only).
    Bet {
        section: usize,
        amount: Vec<usize>,
        band: Option<f64>,
    },
    /// `amount_per_class · (target − class)`, clamped to ±cap, plus the index term.
    PerClass {
        section: usize,
        per_class: Vec<usize>,
        cap: Option<Vec<usize>>,
        index: Option<IndexChange>,
    },
    /// Contributions in, payout by share, forfeiture by split.
    Pool {
        /// Contribution slots per period, per party (`None` for non-contributors).
        contributions: Vec<Option<Vec<usize>>>,
        /// Share per party, sums to 1.
        shares: Vec<f64>,
        forfeits: Vec<Forfeit>,
    },
    /// The centre pays `to` the amount, when every `when_met` section is met.
    Central {
        to: usize,
        amount: Vec<usize>,
        when_met: Vec<usize>,
    },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Bet { .. } => "bet",
            Rule::PerClass { .. } => "per_class",
            Rule::Pool { .. } => "pool_shares",
            Rule::Central { .. } => "central",
        }
    }

    /// The section a bet or per_class rule reads.
    pub fn section(&self) -> Option<usize> {
        match self {
            Rule::Bet { section, .. } | Rule::PerClass { section, .. } => Some(*section),
            _ => None,
        }
    }
}
