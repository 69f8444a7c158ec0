//! Validation of `[[agreement]]` tables into [`Agreement`]s (docs/model.md §2).
//!
//! Every problem is recorded in the [`Ctx`] with its key path (e.g.
//! `agreement[0].section[1].indicator[2].baseline`), line and value, and validation
//! carries on so the user sees all problems at once. Only agreements without problems
//! are returned.

use super::agreement_raw::{
    OneOrMany, RawAgreement, RawForfeit, RawIndicator, RawRule, RawSchedule, RawSection,
};
use super::ctx::{Ctx, check};
use crate::model::Assessment;
use crate::model::agreement::{Agreement, CorrelatedGroup, Indicator, RuleDef, Section};
use crate::model::gb3838::{ClassLimit, ClassTable};
use crate::model::param::{RawParam, Uncertain};
use crate::model::{Forfeit, IndexChange, Rule};
use std::collections::BTreeMap;

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

    fn target_class(&mut self, at: &str, t: Option<i64>, kind: &str) -> u8 {
        match t {
            None => {
                self.problem(
                    at,
                    "",
                    format!("is required for a {kind} section (1..5 for classes I to V)"),
                );
                3
            }
            Some(c @ 1..=5) => c as u8,
            Some(c) => {
                self.problem(at, c, "target class must be 1..5 (classes I to V)");
                3
            }
        }
    }

    fn section(
        &mut self,
        s: usize,
        rs: &RawSection,
        table: &ClassTable,
    ) -> (Section, Option<CorrelatedGroup>) {
        let at = format!("section[{s}]");
        let up = self.party(&format!("{at}.upstream"), &rs.upstream);
        let down = self.party(&format!("{at}.downstream"), &rs.downstream);
        if rs.upstream == rs.downstream {
            self.problem(
                &format!("{at}.downstream"),
                &rs.downstream,
                "a section's upstream and downstream must be different parties",
            );
        }
        let not_for = |me: &mut Self, present: bool, key: &str| {
            if present {
                me.problem(
                    &format!("{at}.{key}"),
                    "",
                    format!("does not apply to a {} section", rs.kind),
                );
            }
        };
        let assessment = match rs.kind.as_str() {
            "p_index" => {
                not_for(self, rs.target_class.is_some(), "target_class");
                not_for(self, rs.required_rate.is_some(), "required_rate");
                let k0 = match &rs.k0 {
                    Some(k) => self.slot(&format!("{at}.k0"), k, check::positive),
                    None => {
                        self.problem(
                            &format!("{at}.k0"),
                            "",
                            "is required for a p_index section (the stability coefficient)",
                        );
                        0
                    }
                };
                let threshold = rs.threshold.unwrap_or(1.0);
                if self.finite(&format!("{at}.threshold"), threshold) && threshold <= 0.0 {
                    self.problem(&format!("{at}.threshold"), threshold, "must be > 0");
                }
                Assessment::PIndex { k0, threshold }
            }
            "class" => {
                not_for(self, rs.k0.is_some(), "k0");
                not_for(self, rs.threshold.is_some(), "threshold");
                not_for(self, rs.required_rate.is_some(), "required_rate");
                Assessment::Class {
                    target: self.target_class(
                        &format!("{at}.target_class"),
                        rs.target_class,
                        "class",
                    ),
                }
            }
            "compliance_rate" => {
                not_for(self, rs.k0.is_some(), "k0");
                not_for(self, rs.threshold.is_some(), "threshold");
                let target = self.target_class(
                    &format!("{at}.target_class"),
                    rs.target_class,
                    "compliance_rate",
                );
                let required = match &rs.required_rate {
                    Some(r) => {
                        self.numbers(&format!("{at}.required_rate"), r, check::unit_interval)
                    }
                    None => {
                        self.problem(
                            &format!("{at}.required_rate"),
                            "",
                            "is required for a compliance_rate section",
                        );
                        Vec::new()
                    }
                };
                Assessment::ComplianceRate {
                    target,
                    required,
                    annual_too: rs.require_annual_class,
                }
            }
            other => {
                self.problem(
                    &format!("{at}.kind"),
                    other,
                    "unknown section kind; expected p_index, class or compliance_rate",
                );
                Assessment::Class { target: 3 }
            }
        };
        if rs.require_annual_class && rs.kind != "compliance_rate" {
            self.problem(
                &format!("{at}.require_annual_class"),
                "true",
                "applies only to a compliance_rate section",
            );
        }
        if rs.indicator.is_empty() {
            self.problem(
                &format!("{at}.indicator"),
                "",
                "a section needs at least one indicator",
            );
        }
        let mut indicators = Vec::new();
        for (j, ri) in rs.indicator.iter().enumerate() {
            if rs.indicator[..j].iter().any(|o| o.name == ri.name) {
                self.problem(
                    &format!("{at}.indicator[{j}].name"),
                    &ri.name,
                    "duplicate indicator in this section",
                );
            }
            indicators.push(self.indicator(&format!("{at}.indicator[{j}]"), ri, rs, table));
        }
        // Weights, when given, must be given for all indicators and sum to 1.
        let weighted = indicators.iter().filter(|i| !i.weight.is_empty()).count();
        if weighted > 0 && weighted < indicators.len() {
            self.problem(
                &format!("{at}.indicator"),
                format!("{weighted} of {}", indicators.len()),
                "either every indicator has a weight or none does",
            );
        } else if weighted > 0 {
            for t in 0..self.n_periods {
                let sum: f64 = indicators
                    .iter()
                    .map(|i| i.weight.get(t).copied().unwrap_or(0.0))
                    .sum();
                if !sum_is_one(sum) {
                    self.problem(
                        &format!("{at}.indicator"),
                        sum,
                        format!(
                            "weights sum to {sum} in period {}; they must sum to 1",
                            self.period_label(t)
                        ),
                    );
                    break;
                }
            }
        }
        // Sub-period values, wherever given, must come for every indicator in equal
        // numbers (a compliance rate needs them; correlation groups assume them).
        if indicators.iter().any(|i| !i.monthly.is_empty()) {
            for t in 0..self.n_periods {
                let counts: Vec<usize> = indicators
                    .iter()
                    .map(|i| i.monthly.get(t).map_or(0, Vec::len))
                    .collect();
                if counts.windows(2).any(|w| w[0] != w[1]) {
                    self.problem(
                        &format!("{at}.indicator"),
                        list(&counts),
                        format!(
                            "indicators have different numbers of sub-periods in period {}",
                            self.period_label(t)
                        ),
                    );
                    break;
                }
            }
        }
        let corr = rs
            .correlation
            .as_ref()
            .and_then(|m| self.correlation(&format!("{at}.correlation"), m, s, &indicators));
        let sec = Section {
            name: rs.name.clone(),
            upstream: up.unwrap_or(0),
            downstream: down.unwrap_or(0),
            assessment,
            indicators,
        };
        (sec, corr)
    }

    fn indicator(
        &mut self,
        at: &str,
        ri: &RawIndicator,
        rs: &RawSection,
        table: &ClassTable,
    ) -> Indicator {
        let row = table.find(&ri.name);
        let mut class_row = None;
        match row {
            None => self.problem(
                &format!("{at}.name"),
                &ri.name,
                format!(
                    "unknown indicator: not in the class table [{}]; add it with [[agreement.class_limits]]",
                    table.names.join(", ")
                ),
            ),
            Some(r) => {
                if table.limits[r].is_some() {
                    class_row = Some(r);
                } else if rs.kind != "p_index" {
                    self.problem(&format!("{at}.name"), &ri.name, format!("has no class limits, so it cannot be used in a {} section", rs.kind));
                }
            }
        }
        let weight = match &ri.weight {
            Some(w) => self.numbers(&format!("{at}.weight"), w, check::non_negative),
            None => {
                if rs.kind == "p_index" {
                    self.problem(
                        &format!("{at}.weight"),
                        "",
                        "is required in a p_index section",
                    );
                }
                Vec::new()
            }
        };
        let baseline = match &ri.baseline {
            Some(b) => {
                // A baseline divides the concentration wherever the indicator is weighted
                // (P index, pollutant index), so it must then be positive.
                let chk = if weight.is_empty() {
                    check::non_negative
                } else {
                    positive_baseline
                };
                Some(self.slot(&format!("{at}.baseline"), b, chk))
            }
            None => {
                if rs.kind == "p_index" {
                    self.problem(
                        &format!("{at}.baseline"),
                        "",
                        "is required in a p_index section",
                    );
                }
                None
            }
        };
        let values = self.schedule(&format!("{at}.values"), &ri.values, check::non_negative);
        let previous = ri
            .previous
            .as_ref()
            .map(|p| self.slot(&format!("{at}.previous"), p, check::non_negative));
        let mut monthly = Vec::new();
        match &ri.monthly {
            Some(m) => {
                if m.len() != self.n_periods {
                    self.problem(
                        &format!("{at}.monthly"),
                        format!("{} entries", m.len()),
                        format!(
                            "has {} lists but the agreement has {} periods",
                            m.len(),
                            self.n_periods
                        ),
                    );
                }
                for (t, months) in m.iter().enumerate() {
                    if months.is_empty() {
                        self.problem(
                            &format!("{at}.monthly[{t}]"),
                            "[]",
                            "needs at least one sub-period value",
                        );
                    }
                    let slots = months
                        .iter()
                        .enumerate()
                        .map(|(k, p)| {
                            self.slot(&format!("{at}.monthly[{t}][{k}]"), p, check::non_negative)
                        })
                        .collect();
                    monthly.push(slots);
                }
                monthly.resize(self.n_periods, Vec::new());
            }
            None => {
                if rs.kind == "compliance_rate" {
                    self.problem(&format!("{at}.monthly"), "", "is required in a compliance_rate section (one list of sub-period values per period)");
                }
            }
        }
        Indicator {
            name: ri.name.clone(),
            class_row,
            weight,
            baseline,
            values,
            previous,
            monthly,
        }
    }

    fn correlation(
        &mut self,
        at: &str,
        m: &[Vec<f64>],
        s: usize,
        inds: &[Indicator],
    ) -> Option<CorrelatedGroup> {
        let n = inds.len();
        if m.len() != n || m.iter().any(|r| r.len() != n) {
            self.problem(
                at,
                format!("{}x{}", m.len(), m.first().map_or(0, Vec::len)),
                format!("must be a {n}x{n} matrix, one row and column per indicator"),
            );
            return None;
        }
        let mut flat = Vec::with_capacity(n * n);
        for (i, row) in m.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                let bad = if !x.is_finite() || !(-1.0..=1.0).contains(&x) {
                    Some("entries must lie in [-1, 1]")
                } else if i == j && (x - 1.0).abs() > 1e-12 {
                    Some("diagonal entries must be 1")
                } else if (x - m[j][i]).abs() > 1e-12 {
                    Some("the matrix must be symmetric")
                } else {
                    None
                };
                if let Some(msg) = bad {
                    self.problem(&format!("{at}[{i}][{j}]"), x, msg);
                    return None;
                }
                flat.push(x);
            }
        }
        let mat = nalgebra::DMatrix::from_row_slice(n, n, &flat);
        if nalgebra::Cholesky::new(mat).is_none() {
            self.problem(
                at,
                format!("{m:?}"),
                "correlation matrix is not positive definite",
            );
            return None;
        }
        let mut slot_groups = Vec::new();
        for t in 0..self.n_periods {
            slot_groups.push(inds.iter().map(|i| i.values[t]).collect());
            let months = inds
                .first()
                .map_or(0, |i| i.monthly.get(t).map_or(0, Vec::len));
            for k in 0..months {
                slot_groups.push(
                    inds.iter()
                        .map(|i| {
                            i.monthly
                                .get(t)
                                .and_then(|m| m.get(k))
                                .copied()
                                .unwrap_or(0)
                        })
                        .collect(),
                );
            }
        }
        Some(CorrelatedGroup {
            section: s,
            n,
            matrix: flat,
            slot_groups,
        })
    }

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

    fn rule(
        &mut self,
        r: usize,
        rr: &RawRule,
        raw_secs: &[RawSection],
        secs: &[Section],
    ) -> Option<Rule> {
        let at = format!("rule[{r}]");
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
        let required = |me: &mut Self, key: &str| {
            me.problem(
                &format!("{at}.{key}"),
                "",
                format!("is required for a {} rule", rr.kind),
            );
        };
        let mut section = || -> Option<usize> {
            match &rr.section {
                Some(s) => self.section_ref(&format!("{at}.section"), s, raw_secs),
                None => {
                    required(self, "section");
                    None
                }
            }
        };
        match rr.kind.as_str() {
            "bet" => {
                let s = section();
                let amount = match &rr.amount {
                    Some(a) => self.schedule(&format!("{at}.amount"), a, check::non_negative),
                    None => {
                        required(self, "amount");
                        Vec::new()
                    }
                };
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
            "per_class" => {
                let s = section();
                if let Some(s) = s
                    && let Some(Assessment::PIndex { .. }) = secs.get(s).map(|x| &x.assessment)
                {
                    self.problem(
                        &format!("{at}.section"),
                        &raw_secs[s].name,
                        "a per_class rule needs a class or compliance_rate section",
                    );
                }
                let per_class = match &rr.amount_per_class {
                    Some(a) => {
                        self.schedule(&format!("{at}.amount_per_class"), a, check::non_negative)
                    }
                    None => {
                        required(self, "amount_per_class");
                        Vec::new()
                    }
                };
                let cap = rr
                    .cap
                    .as_ref()
                    .map(|c| self.schedule(&format!("{at}.cap"), c, check::non_negative));
                let index = match &rr.index_change {
                    None => None,
                    Some(ic) => {
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
                        Some(IndexChange {
                            per_point: self.schedule(
                                &format!("{at}.index_change.amount_per_point"),
                                &ic.amount_per_point,
                                check::non_negative,
                            ),
                            cap: ic.cap.as_ref().map(|c| {
                                self.schedule(
                                    &format!("{at}.index_change.cap"),
                                    c,
                                    check::non_negative,
                                )
                            }),
                        })
                    }
                };
                Some(Rule::PerClass {
                    section: s?,
                    per_class,
                    cap,
                    index,
                })
            }
            "pool_shares" => self.pool(&at, rr, raw_secs, secs),
            _ => {
                let to = match &rr.to {
                    Some(p) => self.party(&format!("{at}.to"), p),
                    None => {
                        required(self, "to");
                        None
                    }
                };
                let amount = match &rr.amount {
                    Some(a) => self.schedule(&format!("{at}.amount"), a, check::non_negative),
                    None => {
                        required(self, "amount");
                        Vec::new()
                    }
                };
                let mut when_met = Vec::new();
                for (k, name) in rr.when_met.iter().enumerate() {
                    if let Some(s) =
                        self.section_ref(&format!("{at}.when_met[{k}]"), name, raw_secs)
                    {
                        when_met.push(s);
                    }
                }
                Some(Rule::Central {
                    to: to?,
                    amount,
                    when_met,
                })
            }
        }
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

fn positive_baseline(v: f64) -> Option<String> {
    if v < 0.0 {
        Some("must be ≥ 0".to_string())
    } else if v == 0.0 {
        Some("must be > 0: the baseline divides the concentration (C / C0)".to_string())
    } else {
        None
    }
}

fn non_negative_contribution(v: f64) -> Option<String> {
    (v < 0.0).then(|| "a contribution must be ≥ 0 (negative contribution)".to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde::Deserialize;
    use std::path::Path;

    #[derive(Deserialize)]
    struct Wrapper {
        agreement: Vec<RawAgreement>,
    }

    /// Validate a TOML text of `[[agreement]]` tables; returns agreements and problems.
    pub(crate) fn load(src: &str) -> (Vec<Agreement>, Vec<String>) {
        let w: Wrapper = toml::from_str(src).unwrap();
        let mut ctx = Ctx::new(Path::new("t.toml"), src);
        let a = validate(&w.agreement, &mut ctx);
        (a, ctx.problems.iter().map(ToString::to_string).collect())
    }

    pub(crate) const TWO: &str = "[[agreement]]\nname = \"a\"\nparties = [\"安徽\", \"浙江\"]\nperiods = [2012, 2013]\n\
        [[agreement.section]]\nname = \"街口\"\nupstream = \"安徽\"\ndownstream = \"浙江\"\nkind = \"p_index\"\nk0 = 0.87\n\
        [[agreement.section.indicator]]\nname = \"TN\"\nweight = 1.0\nbaseline = 1.0\nvalues = [1.0, 1.2]\n\
        [[agreement.rule]]\nkind = \"bet\"\nsection = \"街口\"\namount = 1.0\n";

    #[test]
    fn valid_agreement_has_one_slot_per_number() {
        let (a, p) = load(TWO);
        assert!(p.is_empty(), "{p:?}");
        // k0, baseline, two values, one shared amount.
        assert_eq!(a[0].n_slots(), 5);
        assert!(
            a[0].slot_labels
                .contains(&"agreement[0].section[0].indicator[0].values[1]".to_string())
        );
        assert!(a[0].uncertain.is_empty());
    }

    #[test]
    fn distributions_are_listed_as_uncertain_slots() {
        let src = TWO.replace(
            "k0 = 0.87",
            "k0 = { dist = \"uniform\", low = 0.85, high = 0.89 }",
        );
        let (a, p) = load(&src);
        assert!(p.is_empty(), "{p:?}");
        let (slot, u) = a[0].uncertain[0];
        assert_eq!(a[0].slot_labels[slot], "agreement[0].section[0].k0");
        approx::assert_relative_eq!(a[0].central[slot], u.central());
    }

    #[test]
    fn fields_of_another_kind_and_duplicate_names_are_reported() {
        let src = format!("{TWO}cap = 2.0\n{TWO}");
        let (a, p) = load(&src);
        assert!(a.is_empty());
        assert!(
            p.iter().any(|m| m.contains("agreement[0].rule[0].cap")
                && m.contains("does not apply to a bet rule")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.contains("agreement[1].name") && m.contains("duplicate agreement name")),
            "{p:?}"
        );
    }

    #[test]
    fn index_change_needs_previous_values() {
        let src = "[[agreement]]\nname = \"y\"\nparties = [\"河南\", \"山东\"]\nperiods = [2021]\n\
            [[agreement.section]]\nname = \"刘庄\"\nupstream = \"河南\"\ndownstream = \"山东\"\nkind = \"class\"\ntarget_class = 3\n\
            [[agreement.section.indicator]]\nname = \"COD\"\nweight = 1.0\nbaseline = 20.0\nvalues = [15.0]\n\
            [[agreement.rule]]\nkind = \"per_class\"\nsection = \"刘庄\"\namount_per_class = 6000\n\
            index_change = { amount_per_point = 100, cap = 4000 }\n";
        let (_, p) = load(src);
        assert!(
            p.iter()
                .any(|m| m.contains("section[0].indicator[0]") && m.contains("needs previous")),
            "{p:?}"
        );
    }

    #[test]
    fn correlation_groups_cover_every_period() {
        let src = TWO.replace("k0 = 0.87", "k0 = 0.87\ncorrelation = [[1.0]]");
        let (a, p) = load(&src);
        assert!(p.is_empty(), "{p:?}");
        let g = &a[0].correlated[0];
        assert_eq!(g.slot_groups.len(), 2);
        assert_eq!(
            g.slot_groups[1],
            vec![a[0].sections[0].indicators[0].values[1]]
        );
    }

    #[test]
    fn class_limit_overrides_are_checked() {
        let src = format!(
            "{TWO}[[agreement.class_limits]]\nindicator = \"PM2.5\"\nlimits = [75, 35, 115, 150, 250]\n"
        );
        let (_, p) = load(&src);
        assert!(
            p.iter()
                .any(|m| m.contains("class_limits[0].limits") && m.contains("non-decreasing")),
            "{p:?}"
        );
    }

    #[test]
    fn sub_periods_must_be_given_for_every_indicator() {
        let src = TWO
            .replace("k0 = 0.87", "k0 = 0.87\ncorrelation = [[1.0, 0.5], [0.5, 1.0]]")
            .replace(
                "values = [1.0, 1.2]\n",
                "values = [1.0, 1.2]\nmonthly = [[1.0, 1.1], [1.2]]\n\
                 [[agreement.section.indicator]]\nname = \"TP\"\nweight = 0.0\nbaseline = 0.1\nvalues = [0.1, 0.1]\n",
            );
        let (a, p) = load(&src);
        assert!(a.is_empty());
        assert!(
            p.iter()
                .any(|m| m.contains("different numbers of sub-periods in period 2012")),
            "{p:?}"
        );
    }
}
