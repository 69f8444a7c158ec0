//! Validation of `[[agreement]]` tables into [`Agreement`]s (docs/model.md §2).
//!
//! Every problem is recorded in the [`Ctx`] with its key path (e.g.
//! `agreement[0].section[1].indicator[2].baseline`), line and value, and validation
//! carries on so the user sees all problems at once. Only agreements without problems
//! are returned.
//!
//! This file holds the agreement as a whole (parties, periods, class table) and the
//! builder's helpers; `sections.rs` validates the sections and their indicators,
//! `rules.rs` the payment rules, one validator per rule kind.

use super::agreement_raw::{OneOrMany, RawAgreement, RawSchedule};
use super::ctx::Ctx;
use crate::model::agreement::{Agreement, RuleDef};
use crate::model::gb3838::{ClassLimit, ClassTable};
use crate::model::param::{RawParam, Uncertain};

mod rules;
mod sections;

/// Tolerance on weights, shares, splits and flow shares summing to 1.
const SUM_TOL: f64 = 1e-6;

/// Validate all agreements. Returns those that have no problems.
pub fn validate(raw: &[RawAgreement], ctx: &mut Ctx) -> Vec<Agreement> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, ra) in raw.iter().enumerate() {
        let path = format!("agreement[{i}]");
        let before = ctx.problems.len();
        if ra.name.trim().is_empty() {
            ctx.problem(&format!("{path}.name"), "", "must not be empty");
        } else if seen.contains(&ra.name.as_str()) {
            ctx.problem(
                &format!("{path}.name"),
                &ra.name,
                "duplicate agreement name",
            );
        }
        seen.push(&ra.name);
        let a = Builder::new(ctx, path).agreement(ra);
        if ctx.problems.len() == before {
            out.push(a);
        }
    }
    out
}

struct Builder<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    path: String,
    n_periods: usize,
    periods: Vec<String>,
    parties: Vec<String>,
    labels: Vec<String>,
    central: Vec<f64>,
    uncertain: Vec<(usize, Uncertain)>,
}

fn sum_is_one(s: f64) -> bool {
    (s - 1.0).abs() <= SUM_TOL
}

fn list<T: std::fmt::Display>(xs: &[T]) -> String {
    let v: Vec<String> = xs.iter().map(ToString::to_string).collect();
    format!("[{}]", v.join(", "))
}

impl<'c, 's> Builder<'c, 's> {
    fn new(ctx: &'c mut Ctx<'s>, path: String) -> Self {
        Builder {
            ctx,
            path,
            n_periods: 0,
            periods: Vec::new(),
            parties: Vec::new(),
            labels: Vec::new(),
            central: Vec::new(),
            uncertain: Vec::new(),
        }
    }

    fn period_label(&self, t: usize) -> &str {
        self.periods.get(t).map_or("?", String::as_str)
    }

    fn problem(&mut self, sub: &str, value: impl std::fmt::Display, msg: impl Into<String>) {
        let p = format!("{}.{sub}", self.path);
        self.ctx.problem(&p, value, msg);
    }

    /// A slot for a parameter (a placeholder 0 when it was invalid; the agreement is then
    /// dropped anyway).
    fn slot(&mut self, sub: &str, raw: &RawParam, chk: fn(f64) -> Option<String>) -> usize {
        let full = format!("{}.{sub}", self.path);
        let (c, u) = self
            .ctx
            .param_in(&full, raw, chk)
            .unwrap_or((0.0, Uncertain::fixed(0.0)));
        let i = self.central.len();
        self.central.push(c);
        self.labels.push(full);
        if !u.is_fixed() {
            self.uncertain.push((i, u));
        }
        i
    }

    /// One slot per period; a scalar gives one slot shared by every period.
    fn schedule(
        &mut self,
        sub: &str,
        raw: &RawSchedule,
        chk: fn(f64) -> Option<String>,
    ) -> Vec<usize> {
        let n = self.n_periods;
        match raw {
            OneOrMany::One(p) => vec![self.slot(sub, p, chk); n],
            OneOrMany::Many(ps) => {
                if ps.len() != n {
                    self.problem(
                        sub,
                        format!("{} entries", ps.len()),
                        format!("has {} entries but the agreement has {n} periods", ps.len()),
                    );
                }
                let mut v: Vec<usize> = ps
                    .iter()
                    .enumerate()
                    .map(|(k, p)| self.slot(&format!("{sub}[{k}]"), p, chk))
                    .collect();
                v.resize(n, v.last().copied().unwrap_or(0));
                v
            }
        }
    }

    /// Plain per-period numbers (weights, required rates).
    fn numbers(
        &mut self,
        sub: &str,
        raw: &OneOrMany<f64>,
        chk: fn(f64) -> Option<String>,
    ) -> Vec<f64> {
        let n = self.n_periods;
        let v: Vec<f64> = match raw {
            OneOrMany::One(x) => vec![*x; n],
            OneOrMany::Many(xs) => {
                if xs.len() != n {
                    self.problem(
                        sub,
                        format!("{} entries", xs.len()),
                        format!("has {} entries but the agreement has {n} periods", xs.len()),
                    );
                }
                xs.clone()
            }
        };
        for (k, &x) in v.iter().enumerate() {
            let at = if matches!(raw, OneOrMany::One(_)) {
                sub.to_string()
            } else {
                format!("{sub}[{k}]")
            };
            if !x.is_finite() {
                self.problem(
                    &at,
                    x,
                    "must be a finite number (NaN and Inf are not allowed)",
                );
                break;
            }
            if let Some(m) = chk(x) {
                self.problem(&at, x, m);
                break;
            }
        }
        let mut v = v;
        v.resize(n, 0.0);
        v
    }

    fn finite(&mut self, sub: &str, x: f64) -> bool {
        if x.is_finite() {
            true
        } else {
            self.problem(
                sub,
                x,
                "must be a finite number (NaN and Inf are not allowed)",
            );
            false
        }
    }

    fn party(&mut self, sub: &str, name: &str) -> Option<usize> {
        let i = self.parties.iter().position(|p| p == name);
        if i.is_none() {
            let known = self.parties.join(", ");
            self.problem(
                sub,
                name,
                format!("unknown party; the agreement's parties are [{known}]"),
            );
        }
        i
    }

    fn agreement(mut self, ra: &RawAgreement) -> Agreement {
        // Parties and periods.
        for (k, p) in ra.parties.iter().enumerate() {
            if p.trim().is_empty() {
                self.problem(&format!("parties[{k}]"), "", "party name must not be empty");
            } else if ra.parties[..k].contains(p) {
                self.problem(&format!("parties[{k}]"), p, "duplicate party name");
            }
        }
        if ra.parties.len() < 2 {
            self.problem(
                "parties",
                list(&ra.parties),
                "an agreement needs at least two parties",
            );
        }
        self.parties = ra.parties.clone();
        let periods: Vec<String> = ra.periods.iter().map(ToString::to_string).collect();
        if periods.is_empty() {
            self.problem("periods", "[]", "an agreement needs at least one period");
        }
        for (k, p) in periods.iter().enumerate() {
            if periods[..k].contains(p) {
                self.problem(&format!("periods[{k}]"), p, "duplicate period label");
            }
        }
        self.n_periods = periods.len();
        self.periods = periods.clone();

        let table = self.class_table(ra);

        // Sections.
        let mut sections = Vec::new();
        let mut correlated = Vec::new();
        for (s, rs) in ra.section.iter().enumerate() {
            if ra.section[..s].iter().any(|o| o.name == rs.name) {
                self.problem(
                    &format!("section[{s}].name"),
                    &rs.name,
                    "duplicate section name",
                );
            }
            let (sec, corr) = self.section(s, rs, &table);
            if let Some(c) = corr {
                correlated.push(c);
            }
            sections.push(sec);
        }

        // Rules.
        let mut rules = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (r, rr) in ra.rule.iter().enumerate() {
            let name = rr
                .name
                .clone()
                .unwrap_or_else(|| format!("rule[{r}] {}", rr.kind));
            if names.contains(&name) {
                self.problem(&format!("rule[{r}].name"), &name, "duplicate rule name");
            }
            names.push(name.clone());
            if let Some(rule) = self.rule(r, rr, &ra.section, &sections) {
                rules.push(RuleDef { name, rule });
            }
        }
        if ra.rule.is_empty() {
            self.ctx
                .warn(&self.path, "agreement has no rules: nothing is paid");
        }

        Agreement {
            name: ra.name.clone(),
            description: ra.description.clone(),
            parties: self.parties,
            periods,
            table,
            sections,
            rules,
            slot_labels: self.labels,
            central: self.central,
            uncertain: self.uncertain,
            correlated,
        }
    }

    fn class_table(&mut self, ra: &RawAgreement) -> ClassTable {
        let mut table = ClassTable::gb3838();
        for (k, cl) in ra.class_limits.iter().enumerate() {
            let at = format!("class_limits[{k}]");
            if ra.class_limits[..k]
                .iter()
                .any(|o| o.indicator == cl.indicator)
            {
                self.problem(
                    &format!("{at}.indicator"),
                    &cl.indicator,
                    "duplicate class_limits entry",
                );
            }
            let limit = match &cl.limits {
                None => None,
                Some(l) => {
                    if l.len() != 5 {
                        self.problem(
                            &format!("{at}.limits"),
                            list(l),
                            "needs exactly 5 limits, for classes I to V",
                        );
                        continue;
                    }
                    if let Some(x) = l.iter().find(|x| !x.is_finite()) {
                        self.problem(&format!("{at}.limits"), x, "limits must be finite numbers");
                        continue;
                    }
                    let ordered = l.windows(2).all(|w| {
                        if cl.lower_limit {
                            w[1] <= w[0]
                        } else {
                            w[1] >= w[0]
                        }
                    });
                    if !ordered {
                        let dir = if cl.lower_limit {
                            "non-increasing (a lower limit)"
                        } else {
                            "non-decreasing"
                        };
                        self.problem(
                            &format!("{at}.limits"),
                            list(l),
                            format!("limits must be {dir} from class I to V"),
                        );
                        continue;
                    }
                    Some(ClassLimit {
                        limits: [l[0], l[1], l[2], l[3], l[4]],
                        lower: cl.lower_limit,
                    })
                }
            };
            table.set(&cl.indicator, limit);
        }
        table
    }
}

#[cfg(test)]
pub(crate) mod tests;
