//! The vertical reward for taking part in a basin agreement (纵横结合, docs/model.md §1.7):
//! per region, how many of the agreement's counted periods it is paid for
//! (participation), or the share of its sections met in each counted period, summed
//! (performance). A party's sections are those it is upstream or downstream of: both
//! sides of a border section answer for its water quality under the agreement.

use super::Settlement;
use crate::model::{AgreementReward, RewardBasis};

/// Fill `r.factor` (one entry per region, `n` regions) from the settlement `s` of
/// `r.agreement`. Regions that are not parties get 0.
pub fn reward_factors(r: &mut AgreementReward, s: &Settlement, n: usize) {
    r.factor.clear();
    r.factor.resize(n, 0.0);
    let a = &r.agreement;
    for &(region, party) in &r.parties {
        let Some(f) = r.factor.get_mut(region) else {
            continue;
        };
        *f += match r.basis {
            RewardBasis::Participation => r.periods.len() as f64,
            RewardBasis::Performance => {
                let own: Vec<usize> = (0..a.sections.len())
                    .filter(|&k| {
                        a.sections[k].upstream == party || a.sections[k].downstream == party
                    })
                    .collect();
                if own.is_empty() {
                    0.0
                } else {
                    r.periods
                        .iter()
                        .map(|&t| {
                            let met = own
                                .iter()
                                .filter(|&&k| s.met.get(s.st(k, t)).copied().unwrap_or(false))
                                .count();
                            met as f64 / own.len() as f64
                        })
                        .sum()
                }
            }
        };
    }
}
