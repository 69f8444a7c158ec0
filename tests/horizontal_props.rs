//! Property tests of the horizontal invariants (docs/model.md §2.3): in every period of random
//! agreements, horizontal flows sum to zero over parties, and pool rules pay out exactly
//! the pool.

use ecocomp::horizontal::{Settlement, settle};
use ecocomp::model::Rule;
use ecocomp::scenario::agreement_raw::RawAgreement;
use ecocomp::scenario::agreement_validate::validate;
use ecocomp::scenario::ctx::Ctx;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Wrapper {
    agreement: Vec<RawAgreement>,
}

/// Reads uniform numbers in [0, 1) in turn, cycling when they run out.
struct Dice<'a> {
    u: &'a [f64],
    i: usize,
}

impl Dice<'_> {
    fn next(&mut self) -> f64 {
        let x = self.u[self.i % self.u.len()];
        self.i += 1;
        x
    }
    fn pick(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn list(xs: &[String]) -> String {
    format!("[{}]", xs.join(", "))
}

/// Shares over `names` that sum to 1 (the last one takes the remainder).
fn shares(d: &mut Dice, names: &[String]) -> String {
    let w: Vec<f64> = names.iter().map(|_| d.range(0.05, 1.0)).collect();
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    let mut parts = Vec::new();
    for (k, n) in names.iter().enumerate() {
        let x = if k + 1 == names.len() {
            1.0 - acc
        } else {
            w[k] / total
        };
        acc += x;
        parts.push(format!("\"{n}\" = {x}"));
    }
    format!("{{ {} }}", parts.join(", "))
}

/// A random valid agreement: a chain of sections of random kinds, with random rules.
fn random_agreement(d: &mut Dice) -> String {
    let np = 2 + d.pick(5);
    let nt = 1 + d.pick(4);
    let parties: Vec<String> = (0..np).map(|p| format!("P{p}")).collect();
    let quoted: Vec<String> = parties.iter().map(|p| format!("\"{p}\"")).collect();
    let periods: Vec<String> = (0..nt).map(|t| (2000 + t).to_string()).collect();
    let mut s = format!(
        "[[agreement]]\nname = \"random\"\nparties = {}\nperiods = {}\n",
        list(&quoted),
        list(&periods)
    );
    let vals = |d: &mut Dice, lo: f64, hi: f64| -> String {
        let v: Vec<String> = (0..nt).map(|_| d.range(lo, hi).to_string()).collect();
        list(&v)
    };
    let mut kinds = Vec::new();
    for k in 0..np - 1 {
        let kind = ["p_index", "class", "compliance_rate"][d.pick(3)];
        kinds.push(kind);
        s += &format!(
            "[[agreement.section]]\nname = \"S{k}\"\nupstream = \"P{k}\"\ndownstream = \"P{}\"\nkind = \"{kind}\"\n",
            k + 1
        );
        match kind {
            "p_index" => s += &format!("k0 = {}\n", d.range(0.8, 1.0)),
            "class" => s += &format!("target_class = {}\n", 1 + d.pick(5)),
            _ => {
                s += &format!(
                    "target_class = {}\nrequired_rate = {}\n",
                    1 + d.pick(5),
                    d.range(0.0, 1.0)
                )
            }
        }
        for (name, hi) in [("NH3-N", 2.5), ("TP", 0.5)] {
            s += &format!(
                "[[agreement.section.indicator]]\nname = \"{name}\"\nweight = 0.5\nbaseline = {}\nprevious = {}\nvalues = {}\n",
                d.range(0.05, hi),
                d.range(0.0, hi),
                vals(d, 0.0, hi)
            );
            if kind == "compliance_rate" {
                let months: Vec<String> = (0..nt).map(|_| vals(d, 0.0, hi)).collect();
                // `vals` gives nt values; reuse it as a sub-period list of length nt.
                s += &format!("monthly = {}\n", list(&months));
            }
        }
    }
    for (k, kind) in kinds.iter().enumerate() {
        let amount = d.range(0.0, 10.0);
        if *kind != "p_index" && d.next() < 0.5 {
            s += &format!(
                "[[agreement.rule]]\nkind = \"per_class\"\nsection = \"S{k}\"\namount_per_class = {amount}\n\
                 index_change = {{ amount_per_point = {}, cap = {} }}\n",
                d.range(0.0, 1.0),
                d.range(0.0, 5.0)
            );
        } else if *kind == "p_index" && d.next() < 0.5 {
            s += &format!(
                "[[agreement.rule]]\nkind = \"bet\"\nsection = \"S{k}\"\namount = {amount}\nband = {}\n",
                d.range(0.01, 0.5)
            );
        } else {
            s += &format!(
                "[[agreement.rule]]\nkind = \"bet\"\nsection = \"S{k}\"\namount = {}\n",
                vals(d, 0.0, 10.0)
            );
        }
    }
    // A pool over all parties, with forfeiture of each section's upstream share.
    let contribs: Vec<String> = parties
        .iter()
        .map(|p| format!("\"{p}\" = {}", vals(d, 0.0, 10.0)))
        .collect();
    s += &format!(
        "[[agreement.rule]]\nkind = \"pool_shares\"\ncontributions = {{ {} }}\nshares = {}\n",
        contribs.join(", "),
        shares(d, &parties)
    );
    for k in 0..np - 1 {
        if d.next() < 0.6 {
            let others: Vec<String> = parties
                .iter()
                .filter(|p| **p != parties[k])
                .cloned()
                .collect();
            s += &format!(
                "[[agreement.rule.forfeit]]\nsections = [\"S{k}\"]\nsplit = {}\n",
                shares(d, &others)
            );
        }
    }
    s += "[[agreement.rule]]\nkind = \"central\"\nto = \"P0\"\namount = 1.0\nwhen_met = [\"S0\"]\n";
    s
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/horizontal_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn flows_sum_to_zero_and_pools_pay_out_exactly(u in prop::collection::vec(0.0f64..1.0, 64..256)) {
        let mut d = Dice { u: &u, i: 0 };
        let src = random_agreement(&mut d);
        let w: Wrapper = toml::from_str(&src).unwrap();
        let mut ctx = Ctx::new(Path::new("random.toml"), &src);
        let agreements = validate(&w.agreement, &mut ctx);
        let problems: Vec<String> = ctx.problems.iter().map(ToString::to_string).collect();
        prop_assert!(problems.is_empty(), "{}\n{:#?}", src, problems);
        let a = &agreements[0];
        let mut s = Settlement::for_agreement(a);
        settle(a, &a.point_inputs(), &mut s);
        for t in 0..a.n_periods() {
            let total: f64 = (0..a.n_parties()).map(|p| s.net[s.pt(p, t)]).sum();
            let scale: f64 = (0..a.n_parties()).map(|p| s.received[s.pt(p, t)]).sum::<f64>().max(1.0);
            prop_assert!(total.abs() <= 1e-9 * scale, "period {}: flows sum to {}", t, total);
            for (r, def) in a.rules.iter().enumerate() {
                if let Rule::Pool { .. } = def.rule {
                    let pool = s.rule_main[s.rt(r, t)];
                    let paid_in: f64 = (0..a.n_parties()).map(|p| s.gross_out[s.rtp(r, t, p)]).sum();
                    let paid_out: f64 = (0..a.n_parties()).map(|p| s.gross_in[s.rtp(r, t, p)]).sum();
                    prop_assert!((paid_in - pool).abs() <= 1e-9 * pool.max(1.0));
                    prop_assert!((paid_out - pool).abs() <= 1e-9 * pool.max(1.0), "pool {} paid out {}", pool, paid_out);
                    for p in 0..a.n_parties() {
                        prop_assert!(s.gross_in[s.rtp(r, t, p)] >= -1e-12);
                    }
                }
            }
        }
        // Settling again into the same buffers gives the same result (no stale state).
        let first = s.clone();
        settle(a, &a.point_inputs(), &mut s);
        prop_assert_eq!(&first.net, &s.net);
        prop_assert_eq!(&first.central, &s.central);
        prop_assert_eq!(&first.flow, &s.flow);
    }
}
