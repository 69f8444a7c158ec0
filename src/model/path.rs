//! A multi-year policy path (docs/model.md §5): the years, how the budget and the region
//! columns move from one year to the next, an optional quality
//! response, and formula parameters scheduled year by year (persistent shocks are a
//! property of each noise model: [`super::NoiseSpec::ar1`]). Each year is allocated by the
//! single-year model; this module only describes how the years are linked.

use super::formula_param::Target;
use super::param::Uncertain;
use super::region::Column;

/// How the budget total moves along the path.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum BudgetPath {
    /// `[budget] total` every year.
    #[default]
    Constant,
    /// One total per year (`path.total`).
    Totals(Vec<Uncertain>),
    /// `T_t = T_{t−1}·(1 + g_t)` from the second year, with year 1 at `[budget] total`
    /// (`path.growth`): one rate for every step, or one per step.
    Growth(Steps),
}

impl BudgetPath {
    /// The parameter of year t's budget (t ≥ 1, 0-based): its total, or the growth into
    /// it; `None` for a constant budget.
    pub fn param(&self, t: usize) -> Option<&Uncertain> {
        match self {
            BudgetPath::Constant => None,
            BudgetPath::Totals(v) => v.get(t),
            BudgetPath::Growth(g) => Some(g.at(t - 1)),
        }
    }

    /// Year t's total from the year before's, `prev`, and the value drawn (or the central
    /// value) of [`param`](Self::param)`(t)`.
    pub fn next(&self, prev: f64, value: f64) -> f64 {
        match self {
            BudgetPath::Constant => prev,
            BudgetPath::Totals(_) => value,
            BudgetPath::Growth(_) => prev * (1.0 + value),
        }
    }
}

/// A rate applied at each step from one year to the next: one parameter for every step,
/// or one per step (years − 1 of them). A single uncertain rate is drawn once per path, so
/// a draw's path keeps its rate; per-step rates are drawn step by step.
#[derive(Debug, Clone, PartialEq)]
pub enum Steps {
    Same(Uncertain),
    Each(Vec<Uncertain>),
}

impl Steps {
    /// The parameter of step `s` (0 is the step into the second year).
    pub fn at(&self, s: usize) -> &Uncertain {
        match self {
            Steps::Same(u) => u,
            Steps::Each(v) => &v[s.min(v.len().saturating_sub(1))],
        }
    }
}

/// `[[path.trend]]`: a column's year-on-year change.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// A standard numeric column (extra columns are read into the formulas when the
    /// scenario is loaded, so they cannot move).
    pub column: Column,
    /// `value_t = value_{t−1}·(1 + rate)` when true, else `value_{t−1} + rate`.
    pub multiplicative: bool,
    pub rate: Steps,
}

impl Trend {
    /// Move a year's column on to the next year at rate `r`.
    pub fn step(&self, col: &mut [f64], r: f64) {
        if self.multiplicative {
            col.iter_mut().for_each(|v| *v *= 1.0 + r);
        } else {
            col.iter_mut().for_each(|v| *v += r);
        }
    }
}

/// The quality response: what a region's ΔQ of year t+1 gains from `x`, the money a
/// formula paid it in year t, against its standard expenditure `e` of year t.
#[inline]
pub fn quality_response(kappa: f64, x: f64, e: f64) -> f64 {
    kappa * x / e
}

/// A formula parameter that takes one value per year (a reform phased in).
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// Key path in the scenario file, e.g. `formula[1].redline.share`.
    pub path: String,
    pub target: Target,
    /// One per year; the formula itself holds year 1's central value.
    pub values: Vec<Uncertain>,
}

/// `[path]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Path {
    /// Strictly increasing.
    pub years: Vec<i64>,
    pub budget: BudgetPath,
    pub trends: Vec<Trend>,
    /// `[path.quality_response] kappa`: ΔQ of year t+1 gains `κ·x_t/E_t`. `None` when off.
    pub kappa: Option<f64>,
    pub schedule: Vec<Scheduled>,
}

impl Path {
    /// Number of years.
    pub fn len(&self) -> usize {
        self.years.len()
    }

    pub fn is_empty(&self) -> bool {
        self.years.is_empty()
    }
}
