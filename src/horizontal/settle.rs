//! Settlement of one agreement for every period of its round (docs/model.md §2.3).
//!
//! [`settle`] runs once per Monte Carlo draw: it reuses the buffers of a [`Settlement`]
//! sized once with [`Settlement::for_agreement`], and allocates nothing in steady state.

use super::assess::assess;
use super::rules::apply;
use super::settlement::Settlement;
use crate::model::agreement::{Agreement, SettleInputs};

/// Settle agreement `a` on `inputs` (one value per slot) into `out`.
pub fn settle(a: &Agreement, inputs: &SettleInputs, out: &mut Settlement) {
    out.reset(a);
    let v = inputs.values.as_slice();
    for t in 0..a.n_periods() {
        for (s, sec) in a.sections.iter().enumerate() {
            let r = assess(sec, &a.table, v, t);
            let i = out.st(s, t);
            out.value[i] = r.value;
            out.class[i] = r.class;
            out.met[i] = r.met;
        }
        for r in 0..a.rules.len() {
            apply(a, r, t, v, out);
        }
    }
}

/// Settle at central values (the point estimate).
pub fn settle_point(a: &Agreement) -> Settlement {
    let mut out = Settlement::for_agreement(a);
    settle(a, &a.point_inputs(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::agreement_validate::tests::{TWO, load};

    #[test]
    fn settling_again_reuses_the_buffers() {
        let (a, _) = load(TWO);
        let a = &a[0];
        let mut out = Settlement::for_agreement(a);
        let inputs = a.point_inputs();
        settle(a, &inputs, &mut out);
        let ptrs = (out.net.as_ptr(), out.flow.as_ptr(), out.value.as_ptr());
        settle(a, &inputs, &mut out);
        assert_eq!(
            ptrs,
            (out.net.as_ptr(), out.flow.as_ptr(), out.value.as_ptr())
        );
    }

    #[test]
    fn inputs_drive_the_result() {
        let (a, _) = load(TWO);
        let a = &a[0];
        let mut out = Settlement::for_agreement(a);
        let mut inputs = a.point_inputs();
        settle(a, &inputs, &mut out);
        // 2012: P = 0.87 (met); 2013: P = 1.044 (not met).
        assert!(out.met[0] && !out.met[1]);
        approx::assert_relative_eq!(out.round_net(0), 0.0);
        // Raise k0 above 1/1.0 in slot 0: 2012 fails too.
        inputs.values[0] = 1.1;
        settle(a, &inputs, &mut out);
        assert!(!out.met[0]);
        approx::assert_relative_eq!(out.round_net(0), -2.0);
    }
}
