//! The payment rules of an agreement: which keys each rule kind takes, and one validator
//! per kind (bet, per_class, pool_shares with its forfeits, central).

use super::{Builder, list, sum_is_one};
use crate::model::agreement::Section;
use crate::model::{Assessment, Forfeit, IndexBasis, IndexChange, Rule};
use crate::scenario::agreement_raw::{
    RawForfeit, RawIndexChange, RawRule, RawSchedule, RawSection,
};
use crate::scenario::ctx::check;
use std::collections::BTreeMap;

impl Builder<'_, '_> {
    fn section_ref(&mut self, at: &str, name: &str, raw: &[RawSection]) -> Option<usize> {
        let i = raw.iter().position(|s| s.name == name);
        if i.is_none() {
            let known: Vec<&str> = raw.iter().map(|s| s.name.as_str()).collect();
            self.problem(
                at,
                name,
                format!(
                    "unknown section; the agreement's sections are [{}]",
                    known.join(", ")
                ),
            );
        }
        i
    }

    /// Rule `r` of the agreement (`rr` as written); `raw_secs` and `secs` are its sections
    /// as written and as validated. `None` when the rule cannot be built.
    pub(super) fn rule(
        &mut self,
        r: usize,
        rr: &RawRule,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Rule> {
        let at = format!("rule[{r}]");
        self.rule_keys(&at, rr)?;
        match rr.kind.as_str() {
            "bet" => self.bet(&at, rr, raw_secs, secs),
            "per_class" => self.per_class(&at, rr, raw_secs, secs),
            "pool_shares" => self.pool(&at, rr, raw_secs, secs),
            _ => self.central(&at, rr, raw_secs),
        }
    }

    /// Checks that every key of rule `rr` applies to its kind; `None` for an unknown kind.
    fn rule_keys(&mut self, at: &str, rr: &RawRule) -> Option<()> {
        let fields: [(&str, bool); 10] = [
            ("section", rr.section.is_some()),
            ("amount", rr.amount.is_some()),
            ("band", rr.band.is_some()),
            ("amount_per_class", rr.amount_per_class.is_some()),
            ("cap", rr.cap.is_some()),
            ("index_change", rr.index_change.is_some()),
            ("contributions", rr.contributions.is_some()),
            ("shares", rr.shares.is_some()),
            ("forfeit", !rr.forfeit.is_empty()),
            ("to", rr.to.is_some() || !rr.when_met.is_empty()),
        ];
        let allowed: &[&str] = match rr.kind.as_str() {
            "bet" => &["section", "amount", "band"],
            "per_class" => &["section", "amount_per_class", "cap", "index_change"],
            "pool_shares" => &["contributions", "shares", "forfeit"],
            "central" => &["amount", "to"],
            other => {
                self.problem(
                    &format!("{at}.kind"),
                    other,
                    "unknown rule kind; expected bet, per_class, pool_shares or central",
                );
                return None;
            }
        };
        for (f, present) in fields {
            if present && !allowed.contains(&f) {
                let key = if f == "to" && rr.to.is_none() {
                    "when_met"
                } else {
                    f
                };
                self.problem(
                    &format!("{at}.{key}"),
                    "",
                    format!("does not apply to a {} rule", rr.kind),
                );
            }
        }
        Some(())
    }

    /// Key `key`, which a rule of `rr`'s kind needs, is missing.
    fn required(&mut self, at: &str, rr: &RawRule, key: &str) {
        self.problem(
            &format!("{at}.{key}"),
            "",
            format!("is required for a {} rule", rr.kind),
        );
    }

    /// The section a bet or per_class rule reads.
    fn rule_section(&mut self, at: &str, rr: &RawRule, raw_secs: &[RawSection]) -> Option<usize> {
        match &rr.section {
            Some(s) => self.section_ref(&format!("{at}.section"), s, raw_secs),
            None => {
                self.required(at, rr, "section");
                None
            }
        }
    }

    /// A schedule a rule of `rr`'s kind needs (`raw`, at key `key`): its slots, or none
    /// when it is missing.
    fn required_schedule(
        &mut self,
        at: &str,
        rr: &RawRule,
        key: &str,
        raw: Option<&RawSchedule>,
    ) -> Vec<usize> {
        match raw {
            Some(a) => self.schedule(&format!("{at}.{key}"), a, check::non_negative),
            None => {
                self.required(at, rr, key);
                Vec::new()
            }
        }
    }

    fn bet(
        &mut self,
        at: &str,
        rr: &RawRule,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Rule> {
        let s = self.rule_section(at, rr, raw_secs);
        let amount = self.required_schedule(at, rr, "amount", rr.amount.as_ref());
        if let Some(b) = rr.band {
            if self.finite(&format!("{at}.band"), b) && b <= 0.0 {
                self.problem(&format!("{at}.band"), b, "must be > 0");
            }
            if let Some(s) = s
                && !matches!(
                    secs.get(s).map(|x| &x.assessment),
                    Some(Assessment::PIndex { .. })
                )
            {
                self.problem(
                    &format!("{at}.band"),
                    b,
                    "the graded form needs a p_index section",
                );
            }
        }
        Some(Rule::Bet {
            section: s?,
            amount,
            band: rr.band,
        })
    }

    fn per_class(
        &mut self,
        at: &str,
        rr: &RawRule,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Rule> {
        let s = self.rule_section(at, rr, raw_secs);
        if let Some(s) = s
            && let Some(Assessment::PIndex { .. }) = secs.get(s).map(|x| &x.assessment)
        {
            self.problem(
                &format!("{at}.section"),
                &raw_secs[s].name,
                "a per_class rule needs a class or compliance_rate section",
            );
        }
        let per_class =
            self.required_schedule(at, rr, "amount_per_class", rr.amount_per_class.as_ref());
        let cap = rr
            .cap
            .as_ref()
            .map(|c| self.schedule(&format!("{at}.cap"), c, check::non_negative));
        let index = rr
            .index_change
            .as_ref()
            .map(|ic| self.index_change(at, ic, s, secs));
        Some(Rule::PerClass {
            section: s?,
            per_class,
            cap,
            index,
        })
    }

    /// The pollutant-index term of a per_class rule on section `s`, which needs a weight, a
    /// baseline and a previous value on every indicator of the section.
    fn index_change(
        &mut self,
        at: &str,
        ic: &RawIndexChange,
        s: Option<usize>,
        secs: &[Section],
    ) -> IndexChange {
        if let Some(sec) = s.and_then(|s| secs.get(s)) {
            for (j, ind) in sec.indicators.iter().enumerate() {
                let missing: Vec<&str> = [
                    ("weight", ind.weight.is_empty()),
                    ("baseline", ind.baseline.is_none()),
                    ("previous", ind.previous.is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(k, _)| *k)
                .collect();
                if !missing.is_empty() {
                    let p = format!("section[{}].indicator[{j}]", s.unwrap_or(0));
                    self.problem(&p, &ind.name, format!("the index_change term of {at} needs {} on every indicator of the section", missing.join(", ")));
                }
            }
        }
        let basis = match ic.basis.as_deref() {
            None | Some("points") => IndexBasis::Points,
            Some("percent") => IndexBasis::Percent,
            Some(other) => {
                let p = format!("{at}.index_change.basis");
                self.problem(&p, other, "must be \"points\" or \"percent\"");
                IndexBasis::Points
            }
        };
        IndexChange {
            basis,
            per_point: self.schedule(
                &format!("{at}.index_change.amount_per_point"),
                &ic.amount_per_point,
                check::non_negative,
            ),
            cap: ic
                .cap
                .as_ref()
                .map(|c| self.schedule(&format!("{at}.index_change.cap"), c, check::non_negative)),
        }
    }

    fn central(&mut self, at: &str, rr: &RawRule, raw_secs: &[RawSection]) -> Option<Rule> {
        let to = match &rr.to {
            Some(p) => self.party(&format!("{at}.to"), p),
            None => {
                self.required(at, rr, "to");
                None
            }
        };
        let amount = self.required_schedule(at, rr, "amount", rr.amount.as_ref());
        let mut when_met = Vec::new();
        for (k, name) in rr.when_met.iter().enumerate() {
            if let Some(s) = self.section_ref(&format!("{at}.when_met[{k}]"), name, raw_secs) {
                when_met.push(s);
            }
        }
        Some(Rule::Central {
            to: to?,
            amount,
            when_met,
        })
    }

    /// Party → value map into a per-party vector that must sum to 1.
    fn shares_map(&mut self, at: &str, m: &BTreeMap<String, f64>) -> Vec<f64> {
        let mut v = vec![0.0; self.parties.len()];
        for (p, &x) in m {
            let key = format!("{at}.{p}");
            if !self.finite(&key, x) {
                continue;
            }
            if !(0.0..=1.0).contains(&x) {
                self.problem(&key, x, "must lie in [0, 1]");
            }
            if let Some(i) = self.party(&key, p) {
                v[i] = x;
            }
        }
        let sum: f64 = m.values().sum();
        if sum.is_finite() && !sum_is_one(sum) {
            self.problem(at, sum, format!("sum to {sum}; they must sum to 1"));
        }
        v
    }

    fn pool(
        &mut self,
        at: &str,
        rr: &RawRule,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Rule> {
        let mut contributions = vec![None; self.parties.len()];
        match &rr.contributions {
            Some(m) if !m.is_empty() => {
                for (p, sched) in m {
                    let key = format!("{at}.contributions.{p}");
                    let slots = self.schedule(&key, sched, non_negative_contribution);
                    if let Some(i) = self.party(&key, p) {
                        contributions[i] = Some(slots);
                    }
                }
            }
            _ => self.problem(
                &format!("{at}.contributions"),
                "",
                "a pool_shares rule needs at least one contribution",
            ),
        }
        let shares = match &rr.shares {
            Some(m) => self.shares_map(&format!("{at}.shares"), m),
            None => {
                self.problem(
                    &format!("{at}.shares"),
                    "",
                    "is required for a pool_shares rule",
                );
                vec![0.0; self.parties.len()]
            }
        };
        let mut forfeits = Vec::new();
        for (k, rf) in rr.forfeit.iter().enumerate() {
            if let Some(f) = self.forfeit(&format!("{at}.forfeit[{k}]"), rf, raw_secs, secs) {
                if forfeits.iter().any(|o: &Forfeit| o.party == f.party) {
                    self.problem(
                        &format!("{at}.forfeit[{k}].party"),
                        self.parties[f.party].clone(),
                        "a party may appear in only one forfeit entry",
                    );
                }
                forfeits.push(f);
            }
        }
        Some(Rule::Pool {
            contributions,
            shares,
            forfeits,
        })
    }

    fn forfeit(
        &mut self,
        at: &str,
        rf: &RawForfeit,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Forfeit> {
        let mut sections = Vec::new();
        for (k, name) in rf.sections.iter().enumerate() {
            if let Some(s) = self.section_ref(&format!("{at}.sections[{k}]"), name, raw_secs) {
                sections.push(s);
            }
        }
        if rf.sections.is_empty() {
            self.problem(
                &format!("{at}.sections"),
                "[]",
                "a forfeit entry needs at least one section",
            );
        }
        let party = match &rf.party {
            Some(p) => self.party(&format!("{at}.party"), p),
            None => sections
                .first()
                .and_then(|&s| secs.get(s))
                .map(|s| s.upstream),
        };
        let split = self.shares_map(&format!("{at}.split"), &rf.split);
        let flow_shares = match &rf.flow_shares {
            None => None,
            Some(fs) => {
                if fs.len() != rf.sections.len() {
                    self.problem(
                        &format!("{at}.flow_shares"),
                        list(fs),
                        format!("needs one flow share per section ({})", rf.sections.len()),
                    );
                }
                for (k, &x) in fs.iter().enumerate() {
                    if !x.is_finite() || x < 0.0 {
                        self.problem(
                            &format!("{at}.flow_shares[{k}]"),
                            x,
                            "flow shares must be finite and ≥ 0",
                        );
                    }
                }
                let sum: f64 = fs.iter().sum();
                if sum.is_finite() && !sum_is_one(sum) {
                    self.problem(
                        &format!("{at}.flow_shares"),
                        sum,
                        format!("sum to {sum}; they must sum to 1"),
                    );
                }
                Some(fs.clone())
            }
        };
        Some(Forfeit {
            party: party?,
            sections,
            flow_shares,
            split,
        })
    }
}

fn non_negative_contribution(v: f64) -> Option<String> {
    (v < 0.0).then(|| "a contribution must be ≥ 0 (negative contribution)".to_string())
}
