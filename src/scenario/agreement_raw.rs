//! Serde types that mirror the `[[agreement]]` tables of a scenario file (docs/model.md §2).
//!
//! Every struct denies unknown fields so a typo is caught at parse time. Scalars that the
//! Monte Carlo engine may make uncertain (amounts, baselines, concentrations, k0) are
//! [`RawParam`]s: a number or a distribution table. Checking happens in
//! [`super::validate`].
//!
//! ```toml
//! [[agreement]]
//! name = "xinan_round1"
//! parties = ["安徽", "浙江"]
//! periods = [2012, 2013, 2014]
//!
//! [[agreement.section]]
//! name = "街口"
//! upstream = "安徽"
//! downstream = "浙江"
//! kind = "p_index"            # p_index | class | compliance_rate
//! k0 = 0.85
//!
//! [[agreement.section.indicator]]
//! name = "COD_Mn"
//! weight = 0.25
//! baseline = 1.9
//! values = [1.8, 1.7, 1.75]   # one per period; a scalar means every period
//!
//! [[agreement.rule]]
//! kind = "bet"
//! section = "街口"
//! amount = 1.0
//! ```

use crate::model::param::RawParam;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A value given once for every period, or once per period.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    // A list first: a parameter can itself be a list (per-year values of a path), and a
    // list here means one value per period.
    Many(Vec<T>),
    One(T),
}

/// A per-period amount: one parameter for the whole round, or one per period.
pub type RawSchedule = OneOrMany<RawParam>;

/// A period label: `2012` or `"2012–14"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawLabel {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for RawLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawLabel::Int(i) => write!(f, "{i}"),
            RawLabel::Text(s) => f.write_str(s),
        }
    }
}

/// One agreement (a round of a basin compensation mechanism).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgreement {
    /// Unique name, used in every output row.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The jurisdictions that pay or receive (the centre is implicit).
    pub parties: Vec<String>,
    /// Period labels; their number is the round length.
    pub periods: Vec<RawLabel>,
    /// Additions to, or overrides of, the GB 3838 class table (docs/policy.md §4).
    #[serde(default)]
    pub class_limits: Vec<RawClassLimit>,
    #[serde(default)]
    pub section: Vec<RawSection>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// A class-limit row: five limits for classes I–V. `limits` may be left out for an
/// indicator used only in `p_index` sections (e.g. flow).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassLimit {
    pub indicator: String,
    #[serde(default)]
    pub limits: Option<Vec<f64>>,
    /// True for a lower limit such as dissolved oxygen (higher is better).
    #[serde(default)]
    pub lower_limit: bool,
}

/// A monitoring section between an upstream and a downstream party.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSection {
    pub name: String,
    pub upstream: String,
    pub downstream: String,
    /// `p_index`, `class` or `compliance_rate`.
    pub kind: String,
    /// Stability coefficient k0 (`p_index`).
    #[serde(default)]
    pub k0: Option<RawParam>,
    /// Met when P ≤ threshold (`p_index`; default 1).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Target class 1..5 (`class`, `compliance_rate`).
    #[serde(default)]
    pub target_class: Option<i64>,
    /// Required fraction of compliant sub-periods (`compliance_rate`), once or per period.
    #[serde(default)]
    pub required_rate: Option<OneOrMany<f64>>,
    /// `compliance_rate` only: the annual mean must also reach the target class.
    #[serde(default)]
    pub require_annual_class: bool,
    /// Correlation matrix between the section's indicators, in indicator order.
    #[serde(default)]
    pub correlation: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub indicator: Vec<RawIndicator>,
}

/// One measured quantity at a section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndicator {
    pub name: String,
    /// Weight k_j in the P index or pollutant index, once or per period.
    #[serde(default)]
    pub weight: Option<OneOrMany<f64>>,
    /// Baseline C0_j.
    #[serde(default)]
    pub baseline: Option<RawParam>,
    /// Period means C_j, one per period (a scalar means the same value every period).
    pub values: RawSchedule,
    /// The mean of the period before the round (for the `index_change` term).
    #[serde(default)]
    pub previous: Option<RawParam>,
    /// Sub-period (monthly) values, one list per period (`compliance_rate`).
    #[serde(default)]
    pub monthly: Option<Vec<Vec<RawParam>>>,
}

/// A payment rule. `kind` selects which of the optional fields apply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// `bet`, `per_class`, `pool_shares` or `central`.
    pub kind: String,
    /// Label for the breakdown; defaults to `rule[i] kind`.
    #[serde(default)]
    pub name: Option<String>,
    /// The section a `bet` or `per_class` rule reads.
    #[serde(default)]
    pub section: Option<String>,
    /// `bet` and `central`: the amount, once or per period.
    #[serde(default)]
    pub amount: Option<RawSchedule>,
    /// `bet`: graded form `amount · clamp((threshold − P) / band, −1, 1)`.
    #[serde(default)]
    pub band: Option<f64>,
    /// `per_class`: money per class of difference.
    #[serde(default)]
    pub amount_per_class: Option<RawSchedule>,
    /// `per_class`: cap on the class term's absolute value.
    #[serde(default)]
    pub cap: Option<RawSchedule>,
    /// `per_class`: the optional pollutant-index term.
    #[serde(default)]
    pub index_change: Option<RawIndexChange>,
    /// `pool_shares`: party → contribution (once or per period).
    #[serde(default)]
    pub contributions: Option<BTreeMap<String, RawSchedule>>,
    /// `pool_shares`: party → payout share; shares sum to 1.
    #[serde(default)]
    pub shares: Option<BTreeMap<String, f64>>,
    /// `pool_shares`: forfeiture entries.
    #[serde(default)]
    pub forfeit: Vec<RawForfeit>,
    /// `central`: the receiving party.
    #[serde(default)]
    pub to: Option<String>,
    /// `central`: paid only when all these sections are met (empty: always).
    #[serde(default)]
    pub when_met: Vec<String>,
}

/// `amount_per_point · (I_prev − I_now)`, capped in absolute value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndexChange {
    pub amount_per_point: RawSchedule,
    #[serde(default)]
    pub cap: Option<RawSchedule>,
    /// `"points"` (the default) or `"percent"`.
    #[serde(default)]
    pub basis: Option<String>,
}

/// When a listed section fails, `party` (default: the first section's upstream) loses its
/// pool share, redistributed by `split`. With `flow_shares`, only the flow share of the
/// failing sections is forfeited (proration by flow share of compliant rivers).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForfeit {
    pub sections: Vec<String>,
    #[serde(default)]
    pub party: Option<String>,
    pub split: BTreeMap<String, f64>,
    #[serde(default)]
    pub flow_shares: Option<Vec<f64>>,
}
