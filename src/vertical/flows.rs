//! Money the budget rules move in one allocation: removed by quality deductions, added by
//! rewards and paid to lift regions to their floors, and the number of capped regions
//! (docs/model.md §1.3–§1.5). The Monte Carlo engine reports their distributions and the
//! comparison metrics include them.

use super::allocate::Allocation;

/// Money moved by the budget rules in one allocation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BudgetFlows {
    /// Removed by quality deductions (≥ 0).
    pub deducted: f64,
    /// Added by quality rewards (≥ 0).
    pub rewarded: f64,
    /// Paid to lift regions to their floors (≥ 0).
    pub floor_paid: f64,
    /// Regions held down by their growth cap.
    pub capped: usize,
}

/// Budget flows of an allocation: money removed by quality deductions and added by rewards
/// (at the budget scale the region was paid), and money paid to lift regions to their
/// floors. The Monte Carlo engine accumulates these per draw.
pub fn budget_flows(a: &Allocation) -> BudgetFlows {
    let s = if a.floors_scaled { 0.0 } else { a.scale };
    let mut out = BudgetFlows::default();
    // Money sums run in four lanes ([`crate::simd::lane_of`]), the order of the Monte
    // Carlo kernel's vector loop, so that both give the same bits.
    let (mut deducted, mut rewarded, mut floor_paid) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let n = a.x.len();
    for i in 0..n {
        let k = crate::simd::lane_of(i, n);
        let claims =
            super::components::claim_sum(a.key[i], a.pa[i], a.rl[i], a.guidance[i], a.rangers[i]);
        let q_money = claims * (1.0 - a.cut[i]) * a.q[i] * s;
        if a.q[i] < 0.0 {
            deducted[k] -= q_money;
        } else if a.q[i] > 0.0 {
            rewarded[k] += q_money;
        }
        if a.floor_binds[i] {
            floor_paid[k] += a.x[i] - s * a.claim[i];
        }
        if a.cap_binds[i] {
            out.capped += 1;
        }
    }
    out.deducted = crate::simd::reduce(deducted);
    out.rewarded = crate::simd::reduce(rewarded);
    out.floor_paid = crate::simd::reduce(floor_paid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn alloc(x: &[f64]) -> Allocation {
        let n = x.len();
        Allocation {
            key: x.to_vec(),
            pa: vec![0.0; n],
            rl: vec![0.0; n],
            guidance: vec![0.0; n],
            rangers: vec![0.0; n],
            q: vec![0.0; n],
            cut: vec![0.0; n],
            claim: x.to_vec(),
            x: x.to_vec(),
            floor_binds: vec![false; n],
            cap_binds: vec![false; n],
            scale: 1.0,
            total: x.iter().sum(),
            ..Allocation::default()
        }
    }

    #[test]
    fn budget_flows_count_deductions_floors_and_caps() {
        let mut a = alloc(&[10.0, 10.0, 10.0]);
        a.q = vec![-0.2, 0.1, 0.0];
        a.claim = vec![8.0, 11.0, 10.0];
        a.x = vec![9.0, 11.0, 10.0];
        a.floor_binds = vec![true, false, false];
        a.cap_binds = vec![false, false, true];
        let b = budget_flows(&a);
        assert_relative_eq!(b.deducted, 2.0);
        assert_relative_eq!(b.rewarded, 1.0);
        assert_relative_eq!(b.floor_paid, 1.0);
        assert_eq!(b.capped, 1);
    }
}
