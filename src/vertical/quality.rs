//! Ecological-quality grades and their reward or deduction rates (docs/model.md §1.3).
//!
//! Policy source: the county ecological-quality assessment tied to the key ecological
//! function zone transfer (docs/policy.md §2): better counties are rewarded, worse counties
//! lose a share of their transfer. The grading rule itself is [`super::rules::grade`].

use crate::model::formula::Quality;

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

impl Grade {
    /// True for the three "worse" grades (these can waive a hold-harmless floor).
    pub fn is_worse(self) -> bool {
        self < Grade::Stable
    }

    /// Signed level, −3 (markedly worse) to +3 (markedly better).
    pub fn level(self) -> i8 {
        self as i8
    }
}

/// The grade of level + 3 `k` (the value of [`super::rules::grade`]).
#[inline]
pub fn grade_of_index(k: usize) -> Grade {
    const GRADES: [Grade; 7] = [
        Grade::MarkedlyWorse,
        Grade::GenerallyWorse,
        Grade::SlightlyWorse,
        Grade::Stable,
        Grade::SlightlyBetter,
        Grade::GenerallyBetter,
        Grade::MarkedlyBetter,
    ];
    GRADES[k.min(6)]
}

/// The rate q of each grade level + 3: `+reward[k]` for the better grades and
/// `−deduction[k]` for the worse, where k is 0 for "slightly", 1 for "generally" and 2 for
/// "markedly"; 0 for stable, and 0 everywhere without a quality table. The rules look the
/// rate up instead of branching on the grade (grades come in no order, so branches
/// mispredict).
pub fn rate_table(quality: Option<&Quality>) -> [f64; 7] {
    match quality {
        Some(q) => [
            -q.deduction[2],
            -q.deduction[1],
            -q.deduction[0],
            0.0,
            q.reward[0],
            q.reward[1],
            q.reward[2],
        ],
        None => [0.0; 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::F64x4;
    use crate::vertical::rules::{Thresholds, grade};

    fn table() -> Quality {
        Quality {
            thresholds: [1.0, 2.0, 4.0],
            reward: [0.01, 0.03, 0.05],
            deduction: [0.02, 0.1, 1.0],
        }
    }

    fn grade_of(dq: f64, q: &Quality) -> Grade {
        let t = Thresholds::<F64x4>::new(&q.thresholds);
        grade_of_index(grade(F64x4::splat(dq), &t).to_array()[0] as usize)
    }

    #[test]
    fn grades_on_both_sides_of_every_threshold() {
        let q = table();
        let eps = 1e-9;
        let cases = [
            (0.0, Grade::Stable),
            (1.0 - eps, Grade::Stable),
            (1.0, Grade::SlightlyBetter),
            (2.0 - eps, Grade::SlightlyBetter),
            (2.0, Grade::GenerallyBetter),
            (4.0 - eps, Grade::GenerallyBetter),
            (4.0, Grade::MarkedlyBetter),
            (100.0, Grade::MarkedlyBetter),
            (-1.0 + eps, Grade::Stable),
            (-1.0, Grade::SlightlyWorse),
            (-2.0 + eps, Grade::SlightlyWorse),
            (-2.0, Grade::GenerallyWorse),
            (-4.0 + eps, Grade::GenerallyWorse),
            (-4.0, Grade::MarkedlyWorse),
            (-100.0, Grade::MarkedlyWorse),
        ];
        for (dq, want) in cases {
            assert_eq!(grade_of(dq, &q), want, "dq = {dq}");
        }
    }

    #[test]
    fn rates_pick_reward_or_deduction_by_level() {
        let t = rate_table(Some(&table()));
        assert_eq!(t, [-1.0, -0.1, -0.02, 0.0, 0.01, 0.03, 0.05]);
        assert_eq!(rate_table(None), [0.0; 7]);
        assert!(grade_of_index(0).is_worse() && !Grade::Stable.is_worse());
        assert_eq!(Grade::GenerallyBetter.level(), 2);
        assert_eq!(grade_of_index(99), Grade::MarkedlyBetter);
    }
}
