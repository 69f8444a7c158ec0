//! Region inputs of the vertical model (docs/model.md §1.1), in structure-of-arrays form.
//!
//! Numeric columns live in one `Vec<f64>` each, indexed by [`Column`], so the Monte Carlo
//! engine can perturb any column in a per-worker copy without touching strings, and the
//! allocator's per-region loop reads plain slices.

/// A numeric region column. The discriminant indexes [`RegionData::cols`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    StdRevenue = 0,
    StdExpenditure,
    EcoSpending,
    AreaKm2,
    RedlineKm2,
    PaKm2,
    PaCount,
    PaScore,
    Rangers,
    Population,
    EqiChange,
    DamageIndex,
    PriorAllocation,
}

/// Number of numeric columns.
pub const NUM_COLUMNS: usize = 13;

impl Column {
    pub const ALL: [Column; NUM_COLUMNS] = [
        Column::StdRevenue,
        Column::StdExpenditure,
        Column::EcoSpending,
        Column::AreaKm2,
        Column::RedlineKm2,
        Column::PaKm2,
        Column::PaCount,
        Column::PaScore,
        Column::Rangers,
        Column::Population,
        Column::EqiChange,
        Column::DamageIndex,
        Column::PriorAllocation,
    ];

    /// The column's name in CSV files and scenario keys.
    pub fn name(self) -> &'static str {
        match self {
            Column::StdRevenue => "std_revenue",
            Column::StdExpenditure => "std_expenditure",
            Column::EcoSpending => "eco_spending",
            Column::AreaKm2 => "area_km2",
            Column::RedlineKm2 => "redline_km2",
            Column::PaKm2 => "pa_km2",
            Column::PaCount => "pa_count",
            Column::PaScore => "pa_score",
            Column::Rangers => "rangers",
            Column::Population => "population",
            Column::EqiChange => "eqi_change",
            Column::DamageIndex => "damage_index",
            Column::PriorAllocation => "prior_allocation",
        }
    }

    pub fn from_name(s: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == s)
    }

    /// True for columns measured in money (scaled by the scale-equivariance invariant).
    pub fn is_money(self) -> bool {
        matches!(
            self,
            Column::StdRevenue
                | Column::StdExpenditure
                | Column::EcoSpending
                | Column::PriorAllocation
        )
    }
}

/// Numeric and boolean region inputs, validated. Every column has length `n`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionData {
    pub n: usize,
    pub cols: [Vec<f64>; NUM_COLUMNS],
    pub hold_harmless: Vec<bool>,
    /// Bit `t` set when the region carries tag `t` of [`RegionMeta::tag_names`].
    pub tags: Vec<u64>,
    /// The scenario's declared extra columns (`[regions] extra`), in declaration order:
    /// [`RegionMeta::extra_names`] names them.
    pub extra: Vec<Vec<f64>>,
}

impl Default for RegionData {
    fn default() -> Self {
        RegionData::zeros(0)
    }
}

impl RegionData {
    /// Zero-filled data for `n` regions.
    pub fn zeros(n: usize) -> Self {
        RegionData {
            n,
            cols: std::array::from_fn(|_| vec![0.0; n]),
            hold_harmless: vec![false; n],
            tags: vec![0; n],
            extra: Vec::new(),
        }
    }

    #[inline]
    pub fn col(&self, c: Column) -> &[f64] {
        &self.cols[c as usize]
    }

    #[inline]
    pub fn col_mut(&mut self, c: Column) -> &mut [f64] {
        &mut self.cols[c as usize]
    }
}

/// The most distinct tags a scenario may use (they are stored as a `u64` bit set).
pub const MAX_TAGS: usize = 64;

/// Descriptive region data: identifiers, names and groups. Not touched per draw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionMeta {
    pub id: Vec<String>,
    pub name: Vec<String>,
    pub group: Vec<String>,
    /// Index of each region's group in `groups`.
    pub group_idx: Vec<u32>,
    /// Distinct groups in first-appearance order.
    pub groups: Vec<String>,
    /// Tag names; tag `t` is bit `t` of [`RegionData::tags`].
    pub tag_names: Vec<String>,
    /// Names of the declared extra columns ([`RegionData::extra`]).
    pub extra_names: Vec<String>,
}

impl RegionMeta {
    pub fn tag_index(&self, tag: &str) -> Option<u32> {
        self.tag_names
            .iter()
            .position(|t| t == tag)
            .map(|i| i as u32)
    }
}

/// Validated regions: metadata plus numeric data.
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    pub meta: RegionMeta,
    pub data: RegionData,
}
