//! Monte Carlo over horizontal agreements: per draw, sample each agreement's uncertain
//! slots (correlated indicator groups through a Gaussian copula), settle, and accumulate
//! per party × period and per section × period.
//!
//! Streams: an agreement draws from the substream keyed by the names of its sections, so
//! two variants of an agreement over the same sections see the same sampled water quality
//! (common random numbers), while different basins are independent.

use super::Kept;
use super::allocations::Acc;
use crate::horizontal::{Settlement, settle};
use crate::model::param::{Dist, Uncertain};
use crate::model::{Agreement, SettleInputs};
use crate::sampling::copula::Copula;
use crate::sampling::rng::{SUB_AGREEMENT_BASE, stream};
use crate::sampling::special::{norm_cdf, norm_inv_cdf};
use crate::stats::Probability;

/// Accumulators for one agreement. Party-level vectors are indexed `party * periods +
/// period`; section-level ones `section * periods + period`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgreementAcc {
    /// Net receipt (horizontal + central) per party × period.
    #[serde(with = "super::acc::accs")]
    pub net: Vec<Acc>,
    #[serde(with = "crate::stats::columns::vec")]
    pub receives: Vec<Probability>,
    #[serde(with = "crate::stats::columns::vec")]
    pub pays: Vec<Probability>,
    /// Net over the round per party.
    #[serde(with = "super::acc::accs")]
    pub round: Vec<Acc>,
    #[serde(with = "crate::stats::columns::vec")]
    pub round_receives: Vec<Probability>,
    #[serde(with = "crate::stats::columns::vec")]
    pub round_pays: Vec<Probability>,
    /// Assessment value per section × period (P index, class number or compliance rate).
    #[serde(with = "super::acc::accs")]
    pub value: Vec<Acc>,
    #[serde(with = "crate::stats::columns::vec")]
    pub met: Vec<Probability>,
    /// Kept draws of each section's assessment value (all periods, in draw order).
    pub kept_value: Vec<Kept>,
    /// Kept draws of each party's net over the round.
    pub kept_round: Vec<Kept>,
}

impl AgreementAcc {
    pub fn new(a: &Agreement, exact_limit: usize) -> Self {
        let (np, nt, ns) = (a.n_parties(), a.n_periods(), a.sections.len());
        AgreementAcc {
            net: vec![Acc::new(exact_limit); np * nt],
            receives: vec![Probability::default(); np * nt],
            pays: vec![Probability::default(); np * nt],
            round: vec![Acc::new(exact_limit); np],
            round_receives: vec![Probability::default(); np],
            round_pays: vec![Probability::default(); np],
            value: vec![Acc::new(exact_limit); ns * nt],
            met: vec![Probability::default(); ns * nt],
            kept_value: vec![Kept::default(); ns],
            kept_round: vec![Kept::default(); np],
        }
    }

    /// Quantile outputs of an agreement (for the memory budget).
    pub fn outputs(a: &Agreement) -> usize {
        a.n_parties() * (a.n_periods() + 1) + a.sections.len() * a.n_periods()
    }

    pub fn merge(&mut self, o: &AgreementAcc) {
        fn zip<T>(a: &mut [T], b: &[T], f: impl Fn(&mut T, &T)) {
            a.iter_mut().zip(b).for_each(|(x, y)| f(x, y));
        }
        zip(&mut self.net, &o.net, Acc::merge);
        zip(&mut self.receives, &o.receives, Probability::merge);
        zip(&mut self.pays, &o.pays, Probability::merge);
        zip(&mut self.round, &o.round, Acc::merge);
        zip(
            &mut self.round_receives,
            &o.round_receives,
            Probability::merge,
        );
        zip(&mut self.round_pays, &o.round_pays, Probability::merge);
        zip(&mut self.value, &o.value, Acc::merge);
        zip(&mut self.met, &o.met, Probability::merge);
        zip(&mut self.kept_value, &o.kept_value, Kept::merge);
        zip(&mut self.kept_round, &o.kept_round, Kept::merge);
    }
}

/// A correlated group ready to sample: its copula and, per slot group, the slots.
struct Group {
    copula: Copula,
    slot_groups: Vec<Vec<usize>>,
}

/// Everything about one agreement that does not change between draws.
pub struct AgreementModel<'a> {
    pub a: &'a Agreement,
    sub: u64,
    groups: Vec<Group>,
    /// Uncertain slots sampled independently (not in a correlated group).
    independent: Vec<(usize, Uncertain)>,
    /// Uncertain slot → its distribution, for slots in correlated groups.
    dist_of: Vec<Option<Uncertain>>,
}

/// Per-worker buffers for one agreement.
pub struct AgreementWorker {
    inputs: SettleInputs,
    /// The settlement of the last evaluated draw.
    pub out: Settlement,
    z: Vec<f64>,
}

/// FNV-1a over the section names: the agreement's substream key.
fn section_key(a: &Agreement) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in &a.sections {
        for b in s.name.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    SUB_AGREEMENT_BASE + (h >> 1)
}

/// Map a standard normal `z` to the marginal of `u` (normal or lognormal), respecting its
/// truncation window by inverse-CDF within the window. Other families are not mapped
/// (returns `None`): they are drawn independently.
fn marginal(u: &Uncertain, z: f64) -> Option<f64> {
    let (loc, scale, log) = match u.dist {
        Dist::Normal { mean, sd } => (mean, sd, false),
        Dist::LogNormal { mu, sigma } => (mu, sigma, true),
        _ => return None,
    };
    let to_z = |x: f64| {
        let t = if log {
            if x > 0.0 { x.ln() } else { f64::NEG_INFINITY }
        } else {
            x
        };
        (t - loc) / scale
    };
    let zz = if u.min.is_finite() || u.max.is_finite() {
        let (pa, pb) = (norm_cdf(to_z(u.min)), norm_cdf(to_z(u.max)));
        norm_inv_cdf(pa + norm_cdf(z) * (pb - pa))
    } else {
        z
    };
    let t = loc + scale * zz;
    Some(if log { t.exp() } else { t })
}

impl<'a> AgreementModel<'a> {
    /// Build the copulas. Matrices were checked positive definite during validation.
    pub fn new(a: &'a Agreement) -> Result<Self, String> {
        let mut dist_of = vec![None; a.n_slots()];
        for (slot, u) in &a.uncertain {
            if let Some(d) = dist_of.get_mut(*slot) {
                *d = Some(*u);
            }
        }
        let mut grouped = vec![false; a.n_slots()];
        let mut groups = Vec::new();
        for g in &a.correlated {
            let rows: Vec<Vec<f64>> = (0..g.n)
                .map(|i| g.matrix[i * g.n..(i + 1) * g.n].to_vec())
                .collect();
            let name = format!(
                "agreement '{}' section '{}' correlation",
                a.name,
                a.sections.get(g.section).map_or("", |s| s.name.as_str())
            );
            let copula = Copula::new(&rows, &name)?;
            for sg in &g.slot_groups {
                for &s in sg {
                    let mappable = dist_of
                        .get(s)
                        .copied()
                        .flatten()
                        .is_some_and(|u| marginal(&u, 0.0).is_some());
                    if mappable {
                        grouped[s] = true;
                    }
                }
            }
            groups.push(Group {
                copula,
                slot_groups: g.slot_groups.clone(),
            });
        }
        let independent = a
            .uncertain
            .iter()
            .filter(|(s, _)| !grouped[*s])
            .copied()
            .collect();
        Ok(AgreementModel {
            a,
            sub: section_key(a),
            groups,
            independent,
            dist_of,
        })
    }

    pub fn worker(&self) -> AgreementWorker {
        AgreementWorker {
            inputs: self.a.point_inputs(),
            out: Settlement::for_agreement(self.a),
            z: Vec::new(),
        }
    }

    /// Sample draw `d` and settle it into the worker's settlement.
    pub fn evaluate(&self, seed: u64, d: u64, w: &mut AgreementWorker) {
        let a = self.a;
        w.inputs.values.copy_from_slice(&a.central);
        let mut rng = stream(seed, d, self.sub);
        for g in &self.groups {
            for sg in &g.slot_groups {
                w.z.resize(g.copula.dim(), 0.0);
                g.copula.correlated_normals(&mut rng, &mut w.z);
                for (&slot, &z) in sg.iter().zip(&w.z) {
                    if let Some(x) = self.dist_of[slot].and_then(|u| marginal(&u, z)) {
                        w.inputs.values[slot] = x;
                    }
                }
            }
        }
        for (slot, u) in &self.independent {
            w.inputs.values[*slot] = u.sample(&mut rng);
        }
        settle(a, &w.inputs, &mut w.out);
    }

    /// Sample draw `d`, settle it and add it to `acc`.
    pub fn draw(&self, seed: u64, d: u64, w: &mut AgreementWorker, acc: &mut AgreementAcc) {
        let a = self.a;
        self.evaluate(seed, d, w);
        let (np, nt) = (a.n_parties(), a.n_periods());
        for p in 0..np {
            for t in 0..nt {
                let k = w.out.pt(p, t);
                let v = w.out.net[k] + w.out.central[k];
                let j = p * nt + t;
                acc.net[j].push(v);
                acc.receives[j].push(v > 0.0);
                acc.pays[j].push(v < 0.0);
            }
            let round = w.out.round_net(p) + w.out.round_central(p);
            acc.round[p].push(round);
            acc.kept_round[p].push(round);
            acc.round_receives[p].push(round > 0.0);
            acc.round_pays[p].push(round < 0.0);
        }
        for s in 0..a.sections.len() {
            for t in 0..nt {
                let k = w.out.st(s, t);
                let j = s * nt + t;
                acc.value[j].push(w.out.value[k]);
                acc.kept_value[s].push(w.out.value[k]);
                acc.met[j].push(w.out.met[k]);
            }
        }
    }
}
