//! `ecocomp validate --list`: what a scenario holds, as its author wrote it, so that a
//! typo in a tag or a formula that lost a component shows before any run.

use ecocomp::model::param::Dist;
use ecocomp::model::{Agreement, Formula, PoolSize, Scenario, Vertical};
use ecocomp::numfmt::num;
use std::fmt::Write;

/// Regions listed one by one before the rest are only counted.
const FIRST_ROWS: usize = 5;

/// The listing of `scn`.
pub fn listing(scn: &Scenario) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "scenario '{}': {}", scn.meta.name, scn.meta.description);
    if let Some(v) = &scn.vertical {
        formulas(&mut s, v);
        regions(&mut s, v);
        tags(&mut s, v);
    }
    agreements(&mut s, &scn.agreements);
    uncertain(&mut s, scn);
    s
}

fn pool(size: PoolSize) -> String {
    match size {
        PoolSize::Share(x) => format!("{} of the budget", num(x)),
        PoolSize::Amount(x) => num(x),
    }
}

/// The components a formula has, in the order they are computed.
fn components(f: &Formula, v: &Vertical) -> Vec<String> {
    let tag = |t: u32| v.regions.meta.tag_names[t as usize].clone();
    let mut c = Vec::new();
    if let Some(k) = &f.key {
        c.push(format!(
            "key subsidy (c0 {}, eco weight {}, red-line uplift {}, {} bands)",
            num(k.c0),
            num(k.eco_weight),
            num(k.redline_uplift),
            k.bands.len()
        ));
    }
    if !f.importance.is_empty() {
        let list: Vec<String> = f
            .importance
            .iter()
            .map(|&(t, m)| format!("{} ×{}", tag(t), num(m)))
            .collect();
        c.push(format!("importance ({})", list.join(", ")));
    }
    if let Some(p) = &f.protected_areas {
        c.push(format!("protected-area pool ({})", pool(p.size)));
    }
    if let Some(p) = &f.redline {
        c.push(format!("red-line pool ({})", pool(p.size)));
    }
    if !f.guidance.is_empty() {
        let list: Vec<String> = f
            .guidance
            .iter()
            .map(|&(t, a)| format!("{} {}", tag(t), num(a)))
            .collect();
        c.push(format!("guidance ({})", list.join(", ")));
    }
    if let Some(r) = f.rangers {
        c.push(format!("rangers ({} each)", num(r)));
    }
    c.extend(classified(f, v));
    if f.quality.is_some() {
        c.push("quality rewards and deductions".into());
    }
    if let Some(r) = &f.reverse_linkage {
        c.push(format!(
            "reverse linkage (λ {}, max cut {})",
            num(r.lambda),
            num(r.max_cut)
        ));
    }
    if let Some(fl) = &f.floor {
        c.push(format!("floor h = {}", num(fl.h)));
    }
    if let Some(g) = f.cap {
        c.push(format!("growth cap {}", num(g)));
    }
    c
}

/// The per-unit components, general pools, agreement rewards and provincial methods.
fn classified(f: &Formula, v: &Vertical) -> Vec<String> {
    let meta = &v.regions.meta;
    let column = |c: ecocomp::model::expr::ColumnRef| match c {
        ecocomp::model::expr::ColumnRef::Base(c) => c.name().to_string(),
        ecocomp::model::expr::ColumnRef::Extra(k) => meta.extra_names[k].clone(),
    };
    let mut c = Vec::new();
    for u in &f.per_unit {
        c.push(format!(
            "per-unit {} ({} × {})",
            u.name,
            num(u.rate),
            column(u.column)
        ));
    }
    for p in &f.pools {
        c.push(format!(
            "pool {} ({}, weight {})",
            p.name,
            pool(p.size),
            p.weight_text
        ));
    }
    for r in &f.rewards {
        let basis = match r.basis {
            ecocomp::model::RewardBasis::Participation => "participation",
            ecocomp::model::RewardBasis::Performance => "performance",
        };
        c.push(format!(
            "reward for agreement {} ({} by {basis})",
            r.agreement.name,
            num(r.amount)
        ));
    }
    for p in &f.provincial {
        let groups = match &p.groups {
            None => "every group".to_string(),
            Some(g) => g
                .iter()
                .map(|&g| meta.groups[g as usize].clone())
                .collect::<Vec<_>>()
                .join(", "),
        };
        c.push(format!(
            "provincial method {} for {groups} (retains {})",
            p.method_name,
            num(p.retain)
        ));
    }
    c
}

fn formulas(s: &mut String, v: &Vertical) {
    let _ = writeln!(s, "formulas ({}):", v.formulas.len());
    for f in &v.formulas {
        let _ = writeln!(s, "  {}: {}", f.name, components(f, v).join("; "));
    }
}

fn regions(s: &mut String, v: &Vertical) {
    let m = &v.regions.meta;
    let _ = writeln!(
        s,
        "regions ({}, from {}):",
        v.regions.data.n,
        v.regions_file.display()
    );
    for i in 0..v.regions.data.n.min(FIRST_ROWS) {
        let _ = writeln!(s, "  {} {} ({})", m.id[i], m.name[i], m.group[i]);
    }
    if v.regions.data.n > FIRST_ROWS {
        let _ = writeln!(s, "  … and {} more", v.regions.data.n - FIRST_ROWS);
    }
    let mut counts = vec![0usize; m.groups.len()];
    for &g in &m.group_idx {
        counts[g as usize] += 1;
    }
    let per: Vec<String> = m
        .groups
        .iter()
        .zip(&counts)
        .map(|(g, c)| format!("{g} {c}"))
        .collect();
    let _ = writeln!(s, "  per group: {}", per.join(", "));
}

fn tags(s: &mut String, v: &Vertical) {
    let names = &v.regions.meta.tag_names;
    if names.is_empty() {
        return;
    }
    let per: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(t, name)| {
            let n = v
                .regions
                .data
                .tags
                .iter()
                .filter(|&&x| x >> t & 1 == 1)
                .count();
            format!("{name} ({n} region{})", if n == 1 { "" } else { "s" })
        })
        .collect();
    let _ = writeln!(s, "tags: {}", per.join(", "));
}

fn agreements(s: &mut String, list: &[Agreement]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(s, "agreements ({}):", list.len());
    for a in list {
        let sections: Vec<&str> = a.sections.iter().map(|x| x.name.as_str()).collect();
        let _ = writeln!(
            s,
            "  {}: parties {}; periods {}; sections {}; {} rules",
            a.name,
            a.parties.join(", "),
            a.periods.join(", "),
            sections.join(", "),
            a.rules.len()
        );
    }
}

fn dist(d: &Dist) -> String {
    match *d {
        Dist::Fixed(x) => num(x),
        Dist::Normal { mean, sd } => format!("normal(mean {}, sd {})", num(mean), num(sd)),
        Dist::LogNormal { mu, sigma } => {
            format!("lognormal(median {}, sigma {})", num(mu.exp()), num(sigma))
        }
        Dist::Uniform { low, high } => format!("uniform({}, {})", num(low), num(high)),
        Dist::Triangular { low, mode, high } => {
            format!("triangular({}, {}, {})", num(low), num(mode), num(high))
        }
        Dist::Beta {
            alpha,
            beta,
            low,
            high,
        } => format!(
            "beta({}, {}) on [{}, {}]",
            num(alpha),
            num(beta),
            num(low),
            num(high)
        ),
        Dist::Pert { low, mode, high } => {
            format!("pert({}, {}, {})", num(low), num(mode), num(high))
        }
    }
}

fn uncertain(s: &mut String, scn: &Scenario) {
    let mut lines: Vec<String> = scn
        .uncertain
        .iter()
        .map(|u| format!("  {}: {}", u.path, dist(&u.dist.dist)))
        .collect();
    for n in &scn.noise {
        lines.push(format!(
            "  noise on {}: {} σ {}{}",
            n.column.name(),
            if n.multiplicative {
                "multiplicative"
            } else {
                "additive"
            },
            n.sigma
                .map_or_else(|| n.sigma_column.clone().unwrap_or_default(), num),
            if n.rho > 0.0 {
                format!(", group factor ρ {}", num(n.rho))
            } else {
                String::new()
            }
        ));
    }
    for a in &scn.agreements {
        for (slot, u) in &a.uncertain {
            lines.push(format!("  {}: {}", a.slot_labels[*slot], dist(&u.dist)));
        }
    }
    let _ = writeln!(s, "uncertain parameters ({}):", lines.len());
    for l in lines {
        let _ = writeln!(s, "{l}");
    }
}
