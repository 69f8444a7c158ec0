//! What a settlement produces: flows per party, assessments per section and the terms
//! of every rule, per period (docs/model.md §2.3). [`super::settle`] fills it; the rules
//! ([`super::rules`]) write their flows into it.

use crate::model::agreement::Agreement;

/// Results of one settlement. Layouts: party × period (`p * periods + t`),
/// section × period, rule × period, and rule × period × party.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settlement {
    pub n_parties: usize,
    pub n_periods: usize,
    pub n_sections: usize,
    pub n_rules: usize,
    /// Horizontal net flow per party × period (received − paid); sums to zero over
    /// parties in every period.
    pub net: Vec<f64>,
    /// Central funds received per party × period (not zero-sum).
    pub central: Vec<f64>,
    /// Gross horizontal money received / paid per party × period (pool payouts and
    /// contributions count gross).
    pub received: Vec<f64>,
    pub paid: Vec<f64>,
    /// Assessment value per section × period: P, class number, or compliant fraction.
    pub value: Vec<f64>,
    /// Observed class 1..=6 per section × period (0 when an indicator has no limits).
    pub class: Vec<u8>,
    pub met: Vec<bool>,
    /// Per rule × period: bet and per_class class term (signed, positive = downstream
    /// pays upstream); the pool size for pools; the amount paid for central rules.
    pub rule_main: Vec<f64>,
    /// Per rule × period: the index term of per_class (signed like `rule_main`).
    pub rule_index: Vec<f64>,
    /// Per rule × period: the pollutant index before and now (NaN when not used).
    pub index_prev: Vec<f64>,
    pub index_now: Vec<f64>,
    /// Per rule × period × party: signed flow to the party (central rules: the amount
    /// the centre paid).
    pub flow: Vec<f64>,
    /// Per rule × period × party: gross received from and paid into the rule.
    pub gross_in: Vec<f64>,
    pub gross_out: Vec<f64>,
    /// Per rule × period × party: pool share forfeited.
    pub forfeited: Vec<f64>,
    /// One value per party, reused inside a rule.
    pub scratch: Vec<f64>,
}

fn refill<T: Copy>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

impl Settlement {
    /// Buffers sized for `a`.
    pub fn for_agreement(a: &Agreement) -> Self {
        let mut s = Settlement::default();
        s.reset(a);
        s
    }

    /// Zero every buffer, resizing (allocating) only when the shape changed.
    pub fn reset(&mut self, a: &Agreement) {
        let (np, nt, ns, nr) = (
            a.n_parties(),
            a.n_periods(),
            a.sections.len(),
            a.rules.len(),
        );
        self.n_parties = np;
        self.n_periods = nt;
        self.n_sections = ns;
        self.n_rules = nr;
        for v in [
            &mut self.net,
            &mut self.central,
            &mut self.received,
            &mut self.paid,
        ] {
            refill(v, np * nt, 0.0);
        }
        refill(&mut self.value, ns * nt, f64::NAN);
        refill(&mut self.class, ns * nt, 0);
        refill(&mut self.met, ns * nt, false);
        for v in [&mut self.rule_main, &mut self.rule_index] {
            refill(v, nr * nt, 0.0);
        }
        for v in [&mut self.index_prev, &mut self.index_now] {
            refill(v, nr * nt, f64::NAN);
        }
        for v in [
            &mut self.flow,
            &mut self.gross_in,
            &mut self.gross_out,
            &mut self.forfeited,
        ] {
            refill(v, nr * nt * np, 0.0);
        }
        refill(&mut self.scratch, np, 0.0);
    }

    pub fn pt(&self, p: usize, t: usize) -> usize {
        p * self.n_periods + t
    }
    pub fn st(&self, s: usize, t: usize) -> usize {
        s * self.n_periods + t
    }
    pub fn rt(&self, r: usize, t: usize) -> usize {
        r * self.n_periods + t
    }
    pub fn rtp(&self, r: usize, t: usize, p: usize) -> usize {
        (r * self.n_periods + t) * self.n_parties + p
    }

    /// Record a horizontal flow of rule `r` to party `p`.
    pub fn add_flow(
        &mut self,
        r: usize,
        t: usize,
        p: usize,
        signed: f64,
        gross_in: f64,
        gross_out: f64,
    ) {
        let i = self.rtp(r, t, p);
        self.flow[i] += signed;
        self.gross_in[i] += gross_in;
        self.gross_out[i] += gross_out;
        let pt = self.pt(p, t);
        self.net[pt] += signed;
        self.received[pt] += gross_in;
        self.paid[pt] += gross_out;
    }

    /// Horizontal net of party `p` summed over the round.
    pub fn round_net(&self, p: usize) -> f64 {
        self.net[p * self.n_periods..(p + 1) * self.n_periods]
            .iter()
            .sum()
    }

    /// Central funds to party `p` summed over the round.
    pub fn round_central(&self, p: usize) -> f64 {
        self.central[p * self.n_periods..(p + 1) * self.n_periods]
            .iter()
            .sum()
    }

    /// Gross receipts of party `p` over the round: horizontal receipts plus central funds.
    pub fn round_receipts(&self, p: usize) -> f64 {
        let r = p * self.n_periods..(p + 1) * self.n_periods;
        self.received[r.clone()].iter().sum::<f64>() + self.central[r].iter().sum::<f64>()
    }
}
