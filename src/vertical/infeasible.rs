//! What makes up a budget shortfall (docs/model.md §1.5): when the floors plus the
//! components paid as stated already cost more than the fixed budget at a key-subsidy
//! scale of 0, the error names each part, so that a researcher knows whether to lower a
//! floor, shrink a pool or raise the budget.

use super::allocate::Allocation;

/// The money owed at a key-subsidy scale of 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Owed {
    /// Paid to the regions that their floor holds.
    pub floors: f64,
    /// The unscaled components of the other regions (after their quality rate, cut and
    /// cap).
    pub unscaled: f64,
    /// `unscaled` by component, largest first, zero parts left out.
    pub parts: Vec<(String, f64)>,
}

impl Owed {
    /// The parts of `at0`, each region's payment at scale 0, in `a`.
    pub fn of(a: &Allocation, at0: &[f64]) -> Owed {
        let n = at0.len();
        let mut owed = Owed {
            floors: 0.0,
            unscaled: 0.0,
            parts: Vec::new(),
        };
        let components = a.unscaled_components();
        let mut sums = vec![0.0; components.len()];
        for i in 0..n {
            if a.floor[i] > 0.0 && a.floor[i] >= at0[i] {
                owed.floors += at0[i];
                continue;
            }
            owed.unscaled += at0[i];
            // The unscaled amount is Σ C_k · m (m the quality rate and cut), capped to
            // at0: each component's part is its share of the uncapped amount.
            let m = (1.0 + a.q[i]) * (1.0 - a.cut[i]);
            if a.fixed[i] > 0.0 {
                let capped = at0[i] / a.fixed[i];
                for (sum, (_, v)) in sums.iter_mut().zip(&components) {
                    *sum += v[i] * m * capped;
                }
            }
        }
        owed.parts = components
            .into_iter()
            .zip(sums)
            .filter(|(_, s)| *s > 0.0)
            .map(|((name, _), s)| (name, s))
            .collect();
        owed.parts.sort_by(|x, y| y.1.total_cmp(&x.1));
        owed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn floors_and_each_unscaled_component_are_named() {
        let mut a = Allocation::paid(&[0.0, 0.0, 0.0]);
        // Region 0 is held by its floor of 5; region 1 gets a red-line share of 4 and
        // guidance 2 at a deduction of 50 %; region 2 a guidance of 3 capped to 1.5.
        a.floor = vec![5.0, 0.0, 0.0];
        a.cap = vec![f64::INFINITY, f64::INFINITY, 1.5];
        a.rl = vec![1.0, 4.0, 0.0];
        a.guidance = vec![0.0, 2.0, 3.0];
        a.q = vec![0.0, -0.5, 0.0];
        a.fixed = vec![1.0, 3.0, 3.0];
        let owed = Owed::of(&a, &[5.0, 3.0, 1.5]);
        assert_relative_eq!(owed.floors, 5.0);
        assert_relative_eq!(owed.unscaled, 4.5);
        assert_eq!(owed.parts.len(), 2);
        assert_eq!(owed.parts[0].0, "guidance");
        assert_relative_eq!(owed.parts[0].1, 1.0 + 1.5);
        assert_eq!(owed.parts[1].0, "red-line pool");
        assert_relative_eq!(owed.parts[1].1, 2.0);
    }
}
