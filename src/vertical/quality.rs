//! Ecological-quality grades from ΔQ and the reward/deduction rate (MODEL.md §1.3).
//!
//! Policy source: the county ecological-quality assessment tied to the key ecological
//! function zone transfer (POLICY.md §2): better counties are rewarded, worse counties lose
//! a share of their transfer.

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
    /// The grade of a change `dq` under thresholds `t1 < t2 < t3` (MODEL.md §1.3):
    /// `dq ≥ t3` markedly better, `≥ t2` generally better, `≥ t1` slightly better;
    /// `dq ≤ −t3` markedly worse, `≤ −t2` generally worse, `≤ −t1` slightly worse;
    /// otherwise stable. The boundaries themselves belong to the stronger grade.
    /// A NaN change (never produced by validated input) grades as stable.
    pub fn from_change(dq: f64, quality: &Quality) -> Grade {
        let [t1, t2, t3] = quality.thresholds;
        if dq >= t3 {
            Grade::MarkedlyBetter
        } else if dq >= t2 {
            Grade::GenerallyBetter
        } else if dq >= t1 {
            Grade::SlightlyBetter
        } else if dq <= -t3 {
            Grade::MarkedlyWorse
        } else if dq <= -t2 {
            Grade::GenerallyWorse
        } else if dq <= -t1 {
            Grade::SlightlyWorse
        } else {
            Grade::Stable
        }
    }

    /// The reward (positive) or deduction (negative) rate q of this grade:
    /// `+reward[k]` for better grades and `−deduction[k]` for worse grades, where k is 0 for
    /// "slightly", 1 for "generally" and 2 for "markedly"; 0 for stable.
    pub fn rate(self, quality: &Quality) -> f64 {
        match self {
            Grade::MarkedlyWorse => -quality.deduction[2],
            Grade::GenerallyWorse => -quality.deduction[1],
            Grade::SlightlyWorse => -quality.deduction[0],
            Grade::Stable => 0.0,
            Grade::SlightlyBetter => quality.reward[0],
            Grade::GenerallyBetter => quality.reward[1],
            Grade::MarkedlyBetter => quality.reward[2],
        }
    }

    /// True for the three "worse" grades (these can waive a hold-harmless floor).
    pub fn is_worse(self) -> bool {
        self < Grade::Stable
    }

    /// Signed level, −3 (markedly worse) to +3 (markedly better).
    pub fn level(self) -> i8 {
        self as i8
    }
}

/// Grade level + 3 (0 = markedly worse … 6 = markedly better) of `dq` under thresholds
/// `t`, without branches: the same grade as [`Grade::from_change`] (tested), for the hot
/// loops of the allocator and the Monte Carlo kernel.
#[inline]
pub fn grade_index(dq: f64, t: &[f64; 3]) -> usize {
    let better = usize::from(dq >= t[0]) + usize::from(dq >= t[1]) + usize::from(dq >= t[2]);
    let worse = usize::from(dq <= -t[0]) + usize::from(dq <= -t[1]) + usize::from(dq <= -t[2]);
    // `from_change` tests the better grades first.
    let worse = if better > 0 { 0 } else { worse };
    3 + better - worse
}

/// The grade of level + 3 `k` ([`grade_index`]).
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

/// The rate of each grade level + 3 ([`grade_index`]): `table[k]` is
/// `grade_of_index(k).rate(q)` (all 0 without a quality table), so the hot loops look the
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

/// Grade and rate of a change `dq`; `(Stable, 0)` when the formula has no quality table.
pub fn grade_and_rate(dq: f64, quality: Option<&Quality>) -> (Grade, f64) {
    match quality {
        Some(q) => {
            let g = grade_of_index(grade_index(dq, &q.thresholds));
            (g, g.rate(q))
        }
        None => (Grade::Stable, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn table() -> Quality {
        Quality {
            thresholds: [1.0, 2.0, 4.0],
            reward: [0.01, 0.03, 0.05],
            deduction: [0.02, 0.1, 1.0],
        }
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
            (f64::NAN, Grade::Stable),
        ];
        for (dq, want) in cases {
            assert_eq!(Grade::from_change(dq, &q), want, "dq = {dq}");
        }
    }

    #[test]
    fn rate_table_matches_rate_of_every_grade() {
        let q = table();
        let t = rate_table(Some(&q));
        for (k, &r) in t.iter().enumerate() {
            assert_eq!(
                r.to_bits(),
                grade_of_index(k).rate(&q).to_bits(),
                "level {k}"
            );
        }
        assert_eq!(rate_table(None), [0.0; 7]);
    }

    #[test]
    fn rates_pick_reward_or_deduction_by_level() {
        let q = table();
        assert_relative_eq!(Grade::SlightlyBetter.rate(&q), 0.01);
        assert_relative_eq!(Grade::GenerallyBetter.rate(&q), 0.03);
        assert_relative_eq!(Grade::MarkedlyBetter.rate(&q), 0.05);
        assert_relative_eq!(Grade::SlightlyWorse.rate(&q), -0.02);
        assert_relative_eq!(Grade::GenerallyWorse.rate(&q), -0.1);
        assert_relative_eq!(Grade::MarkedlyWorse.rate(&q), -1.0);
        assert_relative_eq!(Grade::Stable.rate(&q), 0.0);
    }

    #[test]
    fn no_table_means_stable_and_zero() {
        let (g, r) = grade_and_rate(-50.0, None);
        assert_eq!(g, Grade::Stable);
        assert_relative_eq!(r, 0.0);
        let (g, r) = grade_and_rate(-50.0, Some(&table()));
        assert_eq!(g, Grade::MarkedlyWorse);
        assert_relative_eq!(r, -1.0);
        assert!(g.is_worse());
        assert!(!Grade::Stable.is_worse());
        assert_eq!(Grade::GenerallyBetter.level(), 2);
    }
}
