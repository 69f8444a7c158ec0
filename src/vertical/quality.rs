//! Ecological-quality grades from ΔQ and the reward/deduction rate (MODEL.md §1.3).

/// Grade of ecological-quality change, from markedly worse (−3) to markedly better (+3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(i8)]
pub enum Grade {
    MarkedlyWorse = -3,
    GenerallyWorse = -2,
    SlightlyWorse = -1,
    #[default]
    Stable = 0,
    SlightlyBetter = 1,
    GenerallyBetter = 2,
    MarkedlyBetter = 3,
}
