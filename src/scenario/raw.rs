//! Serde types that mirror the scenario TOML file one to one. Unknown keys are errors
//! (`deny_unknown_fields`), so a typo is reported rather than silently ignored.
//! The user-facing description of every field is in `docs/scenario-format.md`.

use crate::model::param::RawParam;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    pub budget: Option<RawBudget>,
    pub regions: Option<RawRegions>,
    #[serde(default)]
    pub formula: Vec<RawFormula>,
    #[serde(default)]
    pub agreement: Vec<super::agreement_raw::RawAgreement>,
    pub montecarlo: Option<RawMonteCarlo>,
    #[serde(default)]
    pub noise: Vec<RawNoise>,
    /// `[calibrate]`: what `ecocomp calibrate` fits by default.
    pub calibrate: Option<RawCalibrate>,
    /// `[path]`: a multi-year run (docs/model.md §5).
    pub path: Option<RawPath>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPath {
    /// The years, or `start` and `end`.
    pub years: Option<Vec<i64>>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// One budget total per year.
    pub total: Option<Vec<RawParam>>,
    /// Budget growth from the second year: one parameter, or one per step.
    pub growth: Option<RawParam>,
    #[serde(default)]
    pub trend: Vec<RawTrend>,
    pub quality_response: Option<RawQualityResponse>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrend {
    pub column: String,
    pub kind: String,
    /// One parameter, or one per step.
    pub rate: RawParam,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQualityResponse {
    pub kappa: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibrate {
    pub formula: Option<String>,
    pub target: Option<String>,
    pub loss: Option<String>,
    /// Path → `[lo, hi]`.
    #[serde(default)]
    pub free: BTreeMap<String, Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub year: Option<i64>,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// Id → actual allocation, for the rank correlation reported in summary.json.
    #[serde(default)]
    pub reference_allocation_column: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub total: Option<RawParam>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub on_infeasible: Option<String>,
    /// `"key"` (default) or `"all"`: which components the budget scale multiplies.
    #[serde(default)]
    pub scale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegions {
    /// CSV file, relative to the scenario file.
    pub file: Option<String>,
    /// Regions written inline.
    #[serde(default)]
    pub inline: Vec<RawRegion>,
    /// Further numeric columns the formulas use (per-unit components, pool weights).
    #[serde(default)]
    pub extra: Vec<String>,
}

/// One region written inline in TOML (same fields as the CSV columns). Fields beyond these
/// land in `extra` and must be declared in `[regions] extra` (checked when loading, since
/// serde cannot combine `deny_unknown_fields` with a flattened map).
#[derive(Debug, Clone, Deserialize)]
pub struct RawRegion {
    pub id: String,
    pub name: Option<String>,
    pub group: Option<String>,
    pub std_revenue: Option<f64>,
    pub std_expenditure: Option<f64>,
    pub eco_spending: Option<f64>,
    pub area_km2: Option<f64>,
    pub redline_km2: Option<f64>,
    pub pa_km2: Option<f64>,
    pub pa_count: Option<f64>,
    pub pa_score: Option<f64>,
    pub rangers: Option<f64>,
    pub population: Option<f64>,
    pub eqi_change: Option<f64>,
    pub damage_index: Option<f64>,
    pub prior_allocation: Option<f64>,
    pub reference_allocation: Option<f64>,
    #[serde(default)]
    pub hold_harmless: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    pub source: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormula {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub key: Option<RawKey>,
    /// Tag → importance multiplier.
    #[serde(default)]
    pub importance: BTreeMap<String, RawParam>,
    pub protected_areas: Option<RawPaPool>,
    pub redline: Option<RawRedline>,
    /// Guidance amounts by tag, and how they combine.
    pub guidance: Option<RawGuidance>,
    pub rangers: Option<RawRangers>,
    pub quality: Option<RawQuality>,
    pub reverse_linkage: Option<RawReverseLinkage>,
    pub floor: Option<RawFloor>,
    pub cap: Option<RawCap>,
    /// `[[formula.per_unit]]`: classified compensation, `rate · column`.
    #[serde(default)]
    pub per_unit: Vec<RawPerUnit>,
    /// `[[formula.pool]]`: general pools with a weight expression.
    #[serde(default)]
    pub pool: Vec<RawPool>,
    /// `[[formula.agreement_reward]]`: rewards to the parties of a basin agreement.
    #[serde(default)]
    pub agreement_reward: Vec<RawAgreementReward>,
    /// `[[formula.provincial]]`: the provinces' own methods (two tiers).
    #[serde(default)]
    pub provincial: Vec<RawProvincial>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvincial {
    /// A list of group names, or `"all"`.
    pub groups: toml::Value,
    pub method: String,
    pub retain: Option<RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgreementReward {
    pub agreement: String,
    pub amount: RawParam,
    pub basis: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerUnit {
    pub name: String,
    pub column: String,
    pub rate: RawParam,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub name: String,
    pub share: Option<RawParam>,
    pub amount: Option<RawParam>,
    pub weight: String,
}

/// `[formula.guidance]`: `combine = "highest" | "sum"` with `[formula.guidance.amounts]`
/// tag = amount, or the earlier form of tag = amount directly (read as "sum").
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawGuidance {
    Combined(RawGuidanceCombined),
    Summed(BTreeMap<String, RawParam>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuidanceCombined {
    pub combine: Option<String>,
    pub amounts: BTreeMap<String, RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub c0: RawParam,
    pub eco_weight: Option<RawParam>,
    pub redline_uplift: Option<RawParam>,
    /// Tags of the regions the eco-spending weight applies to (all regions when absent).
    pub eco_weight_tags: Option<Vec<String>>,
    /// `[[lower_bound, multiplier], ...]`.
    #[serde(default)]
    pub bands: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaPool {
    pub share: Option<RawParam>,
    pub amount: Option<RawParam>,
    pub w_area: Option<RawParam>,
    pub w_count: Option<RawParam>,
    pub w_score: Option<RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedline {
    pub share: Option<RawParam>,
    pub amount: Option<RawParam>,
    pub gamma: Option<RawParam>,
    pub threshold: Option<RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRangers {
    pub unit_rate: RawParam,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// `[t1, t2, t3]`.
    pub thresholds: Vec<f64>,
    #[serde(default)]
    pub reward: RawGradeRates,
    #[serde(default)]
    pub deduction: RawGradeRates,
}

/// Rates per grade: `slightly`, `generally`, `markedly` (all default 0).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGradeRates {
    pub slightly: Option<RawParam>,
    pub generally: Option<RawParam>,
    pub markedly: Option<RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReverseLinkage {
    pub lambda: RawParam,
    pub max_cut: Option<RawParam>,
    /// Tags of the regions the cut applies to (all regions when absent).
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFloor {
    pub h: Option<RawParam>,
    /// `["worse_grade", "damage"]`: the violations that waive the floor.
    pub waived_on: Option<Vec<String>>,
    /// The earlier form: true waives on both violations, false on none.
    pub waived_on_violation: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    pub growth: RawParam,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonteCarlo {
    pub draws: Option<i64>,
    pub seed: Option<i64>,
}

/// A noise model on a region column (docs/model.md §3.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNoise {
    pub column: String,
    pub kind: String,
    pub sigma: Option<f64>,
    /// A CSV column holding a per-region σ.
    pub sigma_column: Option<String>,
    pub rho: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Persistence of the shocks across the years of a path.
    pub ar1: Option<f64>,
}
