//! The domain types every other layer works on: regions and their columns, scalar
//! parameters that may be distributions, allocation formulas, basin agreements, and the
//! checked scenario that ties them together.
//!
//! This layer reads no file and computes nothing beyond the small weight-expression
//! language of general pools ([`expr`]): [`crate::scenario`] builds these types
//! from scenario files, and the engines ([`crate::vertical`], [`crate::horizontal`],
//! [`crate::montecarlo`]) compute with them.

pub mod agreement;
pub mod expr;
pub mod formula;
pub mod formula_param;
pub mod gb3838;
pub mod param;
pub mod path;
pub mod region;
pub mod scenario;
pub mod shard;

pub use agreement::{
    Agreement, Assessment, CorrelatedGroup, Forfeit, IndexBasis, IndexChange, Indicator, Rule,
    RuleDef, Section, SettleInputs,
};
pub use formula::{
    AgreementReward, Budget, BudgetMode, BudgetScale, Floor, Formula, GeneralPool, GuidanceCombine,
    KeySubsidy, OnInfeasible, PerUnit, PoolSize, ProtectedAreaPool, Provincial, Quality,
    RedlinePool, ReverseLinkage, RewardBasis, WaivedOn,
};
pub use formula_param::{FormulaParam, Target};
pub use region::{Column, RegionData, RegionMeta, Regions};
pub use scenario::{
    CalibrateSpec, Meta, MonteCarloSettings, NoiseSpec, Scenario, SourceFile, UncertainParam,
    Vertical,
};
pub use shard::Shard;
