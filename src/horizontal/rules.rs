//! Payment rules (docs/model.md §2.2): bet, per_class, pool_shares and central.
//!
//! Each rule writes its signed flows per party for one period into the [`Settlement`].
//! Horizontal rules move money between parties, so their flows sum to zero; `central`
//! money comes from outside and is recorded apart. Sign convention for `main`/`index`
//! amounts of section rules: positive means downstream pays upstream.

use super::settlement::Settlement;
use crate::model::Rule;
use crate::model::agreement::{Agreement, Forfeit, IndexBasis, IndexChange, Section};

/// `100 · Σ k_j · C_j / C0_j` with the values in `slot(j)`.
fn pollutant_index(
    sec: &Section,
    v: &[f64],
    t: usize,
    slot: impl Fn(usize) -> Option<usize>,
) -> f64 {
    let mut s = 0.0;
    for (j, ind) in sec.indicators.iter().enumerate() {
        let w = ind.weight.get(t).copied().unwrap_or(0.0);
        let c = slot(j).map_or(f64::NAN, |i| v[i]);
        let c0 = ind.baseline.map_or(f64::NAN, |b| v[b]);
        s += w * c / c0;
    }
    100.0 * s
}

/// Move `amount` (signed, positive = downstream pays upstream) on a section rule.
fn move_between(out: &mut Settlement, r: usize, t: usize, up: usize, down: usize, amount: f64) {
    let (payer, payee, a) = if amount >= 0.0 {
        (down, up, amount)
    } else {
        (up, down, -amount)
    };
    out.add_flow(r, t, payer, -a, 0.0, a);
    out.add_flow(r, t, payee, a, a, 0.0);
}

/// Apply rule `r` of `a` in period `t`. Section results of period `t` must already be in
/// `out`.
pub fn apply(a: &Agreement, r: usize, t: usize, v: &[f64], out: &mut Settlement) {
    let at = At {
        a,
        r,
        t,
        rt: out.rt(r, t),
    };
    match &a.rules[r].rule {
        Rule::Bet {
            section,
            amount,
            band,
        } => bet(at, v, out, *section, amount, *band),
        Rule::PerClass {
            section,
            per_class: per,
            cap,
            index,
        } => per_class(at, v, out, *section, per, cap.as_deref(), index.as_ref()),
        Rule::Pool {
            contributions,
            shares,
            forfeits,
        } => pool(at, v, out, contributions, shares, forfeits),
        Rule::Central {
            to,
            amount,
            when_met,
        } => central(at, v, out, *to, amount, when_met),
    }
}

/// Rule `r` of agreement `a` in period `t`, and its place `rt` in the settlement's per-rule
/// arrays.
#[derive(Clone, Copy)]
struct At<'a> {
    a: &'a Agreement,
    r: usize,
    t: usize,
    rt: usize,
}

/// A bet on `section`: the amount one way when the section is met and the other way when
/// not, or graded over `band` by the compensation index's distance to its threshold.
fn bet(
    at: At,
    v: &[f64],
    out: &mut Settlement,
    section: usize,
    amount: &[usize],
    band: Option<f64>,
) {
    let At { a, r, t, rt } = at;
    let sec = &a.sections[section];
    let st = out.st(section, t);
    let amt = v[amount[t]];
    let signed = match band {
        Some(b) => {
            let thr = match sec.assessment {
                crate::model::Assessment::PIndex { threshold, .. } => threshold,
                _ => 1.0,
            };
            amt * ((thr - out.value[st]) / b).clamp(-1.0, 1.0)
        }
        None if out.met[st] => amt,
        None => -amt,
    };
    out.rule_main[rt] = signed;
    move_between(out, r, t, sec.upstream, sec.downstream, signed);
}

/// A payment per class of difference between `section`'s class and its target (within
/// `cap`), plus, with `index`, a payment per point of change of its pollutant index.
fn per_class(
    at: At,
    v: &[f64],
    out: &mut Settlement,
    section: usize,
    per_class: &[usize],
    cap: Option<&[usize]>,
    index: Option<&IndexChange>,
) {
    let At { a, r, t, rt } = at;
    let sec = &a.sections[section];
    let st = out.st(section, t);
    let target = sec.assessment.target().unwrap_or(3);
    let diff = f64::from(target) - f64::from(out.class[st]);
    let mut main = v[per_class[t]] * diff;
    if let Some(c) = cap {
        let c = v[c[t]];
        main = main.clamp(-c, c);
    }
    let mut idx = 0.0;
    if let Some(ic) = index {
        let now = pollutant_index(sec, v, t, |j| Some(sec.indicators[j].values[t]));
        let prev = if t == 0 {
            pollutant_index(sec, v, t, |j| sec.indicators[j].previous)
        } else {
            pollutant_index(sec, v, t, |j| Some(sec.indicators[j].values[t - 1]))
        };
        let change = match ic.basis {
            IndexBasis::Points => prev - now,
            IndexBasis::Percent if prev > 0.0 => 100.0 * (prev - now) / prev,
            IndexBasis::Percent => 0.0,
        };
        idx = v[ic.per_point[t]] * change;
        if let Some(c) = &ic.cap {
            let c = v[c[t]];
            idx = idx.clamp(-c, c);
        }
        out.index_prev[rt] = prev;
        out.index_now[rt] = now;
    }
    out.rule_main[rt] = main;
    out.rule_index[rt] = idx;
    move_between(out, r, t, sec.upstream, sec.downstream, main + idx);
}

/// A pool: the parties' contributions paid out by `shares`, less what each forfeiting
/// party loses when its sections fail, which goes to the others by the forfeit's split.
fn pool(
    at: At,
    v: &[f64],
    out: &mut Settlement,
    contributions: &[Option<Vec<usize>>],
    shares: &[f64],
    forfeits: &[Forfeit],
) {
    let At { a, r, t, rt } = at;
    let np = a.n_parties();
    let mut pool = 0.0;
    for c in contributions.iter().flatten() {
        pool += v[c[t]];
    }
    out.rule_main[rt] = pool;
    // Pass 1: how much each forfeiting party loses (from its own share only).
    for f in forfeits {
        let frac = match &f.flow_shares {
            Some(fs) => f
                .sections
                .iter()
                .zip(fs)
                .filter(|&(&s, _)| !out.met[out.st(s, t)])
                .map(|(_, w)| w)
                .sum::<f64>(),
            None => {
                if f.sections.iter().any(|&s| !out.met[out.st(s, t)]) {
                    1.0
                } else {
                    0.0
                }
            }
        };
        let lost = frac * shares[f.party] * pool;
        let i = out.rtp(r, t, f.party);
        out.forfeited[i] += lost;
    }
    // Pass 2: payouts by share, less forfeits, plus redistribution to the
    // non-forfeiting parties of each split (renormalised; if all of them forfeit
    // too, by the split as given, so the pool is still paid out exactly).
    for (p, share) in shares.iter().enumerate() {
        let i = out.rtp(r, t, p);
        out.scratch[p] = share * pool - out.forfeited[i];
    }
    for f in forfeits {
        let lost = out.forfeited[out.rtp(r, t, f.party)];
        if lost <= 0.0 {
            continue;
        }
        let mut w = 0.0;
        for q in 0..np {
            if out.forfeited[out.rtp(r, t, q)] <= 0.0 {
                w += f.split[q];
            }
        }
        for q in 0..np {
            let keep = out.forfeited[out.rtp(r, t, q)] <= 0.0;
            let share = if w > 0.0 {
                if keep { f.split[q] / w } else { 0.0 }
            } else {
                f.split[q]
            };
            out.scratch[q] += lost * share;
        }
    }
    for (p, c) in contributions.iter().enumerate() {
        let paid = c.as_ref().map_or(0.0, |c| v[c[t]]);
        let got = out.scratch[p];
        out.add_flow(r, t, p, got - paid, got, paid);
    }
}

/// Central money: the centre pays party `to` the amount when every `when_met` section is
/// met.
fn central(
    at: At,
    v: &[f64],
    out: &mut Settlement,
    to: usize,
    amount: &[usize],
    when_met: &[usize],
) {
    let At { r, t, rt, .. } = at;
    let pay = when_met.iter().all(|&s| out.met[out.st(s, t)]);
    let amt = if pay { v[amount[t]] } else { 0.0 };
    out.rule_main[rt] = amt;
    let i = out.rtp(r, t, to);
    out.flow[i] += amt;
    let pt = out.pt(to, t);
    out.central[pt] += amt;
}
