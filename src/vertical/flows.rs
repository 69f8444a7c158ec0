//! Money the budget rules move in one allocation: removed by quality deductions, added by
//! rewards and paid to lift regions to their floors, and the number of capped regions
//! (docs/model.md §1.3–§1.5). The Monte Carlo engine reports their distributions and the
//! comparison metrics include them.

use super::allocate::Allocation;
use super::rules::{self, Pay, Tail};
use crate::simd::{F64x4, LANES};

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
/// (at the budget scale the region was paid; none when floors were scaled pro rata), and
/// money paid to lift regions to their floors ([`rules::flows`]), summed in the four lanes
/// of [`crate::simd::lane_of`] as the Monte Carlo kernel sums them, so both give the same
/// bits. The Monte Carlo engine accumulates these per draw.
pub fn budget_flows(a: &Allocation) -> BudgetFlows {
    let s = if a.floors_scaled { 0.0 } else { a.scale };
    let n = a.x.len();
    let (sv, zero) = (F64x4::splat(s), F64x4::splat(0.0));
    let mask = |b: &[bool], at: usize, len: usize| {
        let mut v = [0.0; LANES];
        for k in 0..len {
            v[k] = if b[at + k] { 1.0 } else { 0.0 };
        }
        F64x4::from_array(v).gt(zero)
    };
    let terms = |load: &dyn Fn(&[f64]) -> F64x4, at: usize, len: usize| {
        let x = load(&a.x);
        let c = load(&a.scaled);
        let p = Pay {
            raw: (sv * c).and(c.gt(zero)) + load(&a.fixed),
            x,
            floor_binds: mask(&a.floor_binds, at, len),
            cap_binds: mask(&a.cap_binds, at, len),
        };
        rules::flows(load(&a.net), load(&a.net_fixed), load(&a.q), sv, &p)
    };
    let mut sums = [zero; 3];
    let tail = Tail::of(n);
    for i in (0..tail.start).step_by(LANES) {
        let [d, w, f] = terms(&|v: &[f64]| F64x4::load(&v[i..]), i, LANES);
        sums = [sums[0] - d, sums[1] + w, sums[2] + f];
    }
    let mut lanes = sums.map(F64x4::to_array);
    if tail.len > 0 {
        let [d, w, f] = terms(&|v: &[f64]| tail.load(v), tail.start, tail.len);
        for v in &d.to_array()[..tail.len] {
            lanes[0][0] -= v;
        }
        tail.add_to_lane0(w, &mut lanes[1]);
        tail.add_to_lane0(f, &mut lanes[2]);
    }
    let [deducted, rewarded, floor_paid] = lanes.map(crate::simd::reduce);
    BudgetFlows {
        deducted,
        rewarded,
        floor_paid,
        capped: a.cap_binds.iter().filter(|&&b| b).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn budget_flows_count_deductions_floors_and_caps() {
        let mut a = Allocation::paid(&[10.0, 10.0, 10.0]);
        a.q = vec![-0.2, 0.1, 0.0];
        a.claim = vec![8.0, 11.0, 10.0];
        a.scaled = a.claim.clone();
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
