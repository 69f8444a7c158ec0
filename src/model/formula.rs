//! Validated formula and budget parameters of the vertical allocator (docs/model.md §1).
//!
//! A component is switched off by leaving its table out of the scenario, which is an
//! `Option::None` (or an empty list) here.

use super::agreement::Agreement;
use super::expr::{ColumnRef, Expr};
use std::sync::Arc;

/// Budget mode (docs/model.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetMode {
    /// Scale claims so that allocations sum to the total.
    Fixed,
    /// No scaling: pay the claims (clamped by floors and caps) and report the cost.
    Open,
}

/// What to do when the hold-harmless floors exceed the fixed budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInfeasible {
    /// Stop with an error that states the shortfall.
    Error,
    /// Pay floors pro rata to the budget, with a warning.
    ScaleFloors,
}

/// Which components the budget scale multiplies in fixed mode (docs/model.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BudgetScale {
    /// Only the key subsidy: pools keep their stated share, and guidance, rangers,
    /// per-unit amounts and agreement rewards are paid as stated (the default).
    #[default]
    Key,
    /// Every component (the earlier rule, kept so the two readings can be compared).
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Total T. `None` only in open mode without a total.
    pub total: Option<f64>,
    pub mode: BudgetMode,
    pub on_infeasible: OnInfeasible,
    pub scale: BudgetScale,
}

impl Budget {
    /// True when the budget scale multiplies only the key subsidy: fixed mode under
    /// [`BudgetScale::Key`]. (Open mode pays claims unscaled, so the split does not arise.)
    pub fn key_only(&self) -> bool {
        self.mode == BudgetMode::Fixed && self.scale == BudgetScale::Key
    }
}

/// Key subsidy: `max(0, E + a·X − R) · c0 · band(R/E) · m · (1 + β·r)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySubsidy {
    /// c0, the base coefficient.
    pub c0: f64,
    /// a, the eco-spending weight (加计).
    pub eco_weight: f64,
    /// β, the red-line uplift.
    pub redline_uplift: f64,
    /// Tags (indices) of the regions the eco-spending weight applies to; empty: every
    /// region (the Opinions single out the Qinghai–Tibet Plateau and the South-to-North
    /// source areas).
    pub eco_weight_tags: Vec<u32>,
    /// `(lower_bound, multiplier)` pairs sorted by strictly increasing lower bound. The
    /// highest lower bound ≤ R/E applies; below the first bound the multiplier is 1.
    pub bands: Vec<(f64, f64)>,
}

/// Size of a pool: a share of the total budget or a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PoolSize {
    Share(f64),
    Amount(f64),
}

/// Protected-area pool (docs/model.md §1.2 item 2).
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedAreaPool {
    pub size: PoolSize,
    pub w_area: f64,
    pub w_count: f64,
    /// Weight of the management-effectiveness score, in [0, 1].
    pub w_score: f64,
}

/// Red-line pool (docs/model.md §1.2 item 3): weight `L · (1 + γ · max(0, r − r*))`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedlinePool {
    pub size: PoolSize,
    /// γ.
    pub gamma: f64,
    /// r*, the coverage threshold.
    pub threshold: f64,
}

/// Reward and deduction by ecological-quality grade (docs/model.md §1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// `[t1, t2, t3]`, strictly increasing and positive.
    pub thresholds: [f64; 3],
    /// Reward rates for `[slightly, generally, markedly]` better.
    pub reward: [f64; 3],
    /// Deduction rates for `[slightly, generally, markedly]` worse, each in [0, 1].
    pub deduction: [f64; 3],
}

/// Reverse-linkage cut `min(max_cut, λ · D)` (docs/model.md §1.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ReverseLinkage {
    pub lambda: f64,
    pub max_cut: f64,
    /// Tags (indices) of the regions the cut applies to; empty: every region.
    pub tags: Vec<u32>,
}

/// Hold-harmless floor `h · prior` (docs/model.md §1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub h: f64,
    /// When the floor does not apply.
    pub waived_on: WaivedOn,
}

/// The violations that waive a hold-harmless floor (docs/model.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaivedOn {
    /// A grade worse than stable.
    pub worse_grade: bool,
    /// Damaging industry, D > 0.
    pub damage: bool,
}

impl WaivedOn {
    /// Both violations waive the floor: nobody enjoys compensation while damaging the
    /// environment (the default).
    pub const BOTH: WaivedOn = WaivedOn {
        worse_grade: true,
        damage: true,
    };
    /// Every floor is kept (support for former deep-poverty areas must not fall).
    pub const NONE: WaivedOn = WaivedOn {
        worse_grade: false,
        damage: false,
    };
}

/// How a region's guidance amounts combine when it carries several guidance tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidanceCombine {
    /// The highest amount (就高不就低), the default.
    Highest,
    /// The sum of the amounts.
    Sum,
}

/// A per-unit (classified) component, `rate · column` (docs/model.md §1.2 item 6): 森林
/// per mu, 草原 禁牧 and 草畜平衡 per mu, and so on, one entry per element.
#[derive(Debug, Clone, PartialEq)]
pub struct PerUnit {
    /// The component's name, also its breakdown column (`per_unit_<name>`).
    pub name: String,
    pub column: ColumnRef,
    /// Money per unit of the column.
    pub rate: f64,
    /// Tags (indices) of the regions it is paid to; empty: every region.
    pub tags: Vec<u32>,
}

/// A general pool (docs/model.md §1.2 item 7): `share · T` or an amount, split in
/// proportion to a weight expression over the region columns.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralPool {
    /// The pool's name, also its breakdown column (`pool_<name>`).
    pub name: String,
    pub size: PoolSize,
    pub weight: Expr,
    /// The expression as written, for messages.
    pub weight_text: String,
}

/// What an agreement reward pays for (docs/model.md §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardBasis {
    /// `amount` per period of the agreement in the scenario's year (every period when the
    /// scenario names no year): for taking part.
    Participation,
    /// `amount` × the share of the party's sections met, summed over those periods.
    Performance,
}

/// A reward to the regions that are parties of a basin agreement (纵横结合, docs/model.md
/// §1.7). An unscaled component.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementReward {
    /// The agreement (shared, so that cloning a formula per draw stays cheap).
    pub agreement: Arc<Agreement>,
    pub amount: f64,
    pub basis: RewardBasis,
    /// `(region, party)` pairs: the regions whose id or name is a party.
    pub parties: Vec<(usize, usize)>,
    /// The agreement's periods that count.
    pub periods: Vec<usize>,
    /// Per region: the periods counted (participation) or the summed shares of sections
    /// met (performance) in the settlement the reward was last computed on (the point
    /// estimate's, or the Monte Carlo draw's); the reward is `amount · factor`.
    pub factor: Vec<f64>,
}

/// A province's own method of passing its central total down to its counties
/// (省级对下, docs/model.md §1.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Provincial {
    /// The groups (indices into [`super::RegionMeta::groups`]) it applies to; `None`: all.
    pub groups: Option<Vec<u32>>,
    /// The formula (index in the scenario) that allocates within the province.
    pub method: usize,
    pub method_name: String,
    /// The share of the province's total it keeps for province-level spending, in [0, 1).
    pub retain: f64,
}

/// A named allocation formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    pub name: String,
    pub description: String,
    pub key: Option<KeySubsidy>,
    /// Importance multipliers `(tag index, multiplier)`; a region gets the maximum over
    /// its tags (就高不就低), or 1.0 when none applies.
    pub importance: Vec<(u32, f64)>,
    pub protected_areas: Option<ProtectedAreaPool>,
    pub redline: Option<RedlinePool>,
    /// Guidance amounts `(tag index, amount)`, combined over a region's tags by
    /// `guidance_combine`.
    pub guidance: Vec<(u32, f64)>,
    pub guidance_combine: GuidanceCombine,
    /// Ranger unit rate (money per ranger).
    pub rangers: Option<f64>,
    pub quality: Option<Quality>,
    pub reverse_linkage: Option<ReverseLinkage>,
    pub floor: Option<Floor>,
    /// Growth cap g: allocation ≤ (1 + g) · prior for regions with prior > 0.
    pub cap: Option<f64>,
    /// Per-unit components, in the order written.
    pub per_unit: Vec<PerUnit>,
    /// General pools, in the order written.
    pub pools: Vec<GeneralPool>,
    /// Rewards for basin agreements, in the order written.
    pub rewards: Vec<AgreementReward>,
    /// The provinces' methods (two tiers); empty: every entitlement is paid as computed.
    pub provincial: Vec<Provincial>,
}

impl Formula {
    /// A formula with every component switched off.
    pub fn empty(name: &str) -> Self {
        Formula {
            name: name.to_string(),
            description: String::new(),
            key: None,
            importance: Vec::new(),
            protected_areas: None,
            redline: None,
            guidance: Vec::new(),
            guidance_combine: GuidanceCombine::Highest,
            rangers: None,
            quality: None,
            reverse_linkage: None,
            floor: None,
            cap: None,
            per_unit: Vec::new(),
            pools: Vec::new(),
            rewards: Vec::new(),
            provincial: Vec::new(),
        }
    }
}
