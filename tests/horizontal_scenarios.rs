//! The shipped basin scenarios validate, settle, and reproduce the published cases of
//! docs/model.md §2.3.

use approx::assert_relative_eq;
use ecocomp::horizontal::{Settlement, settle_point};
use ecocomp::model::Agreement;
use ecocomp::report::basins as export;
use ecocomp::scenario::agreement_raw::RawAgreement;
use ecocomp::scenario::agreement_validate::validate;
use ecocomp::scenario::ctx::Ctx;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Wrapper {
    #[serde(default)]
    #[allow(dead_code)]
    scenario: Option<toml::Table>,
    #[serde(default)]
    agreement: Vec<RawAgreement>,
}

fn load(name: &str) -> Vec<(Agreement, Settlement)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let src = std::fs::read_to_string(&path).unwrap();
    let w: Wrapper = toml::from_str(&src).unwrap();
    let mut ctx = Ctx::new(&path, &src);
    let agreements = validate(&w.agreement, &mut ctx);
    let problems: Vec<String> = ctx.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{name}: {problems:#?}");
    assert_eq!(agreements.len(), w.agreement.len());
    agreements
        .into_iter()
        .map(|a| {
            let s = settle_point(&a);
            (a, s)
        })
        .collect()
}

fn party(a: &Agreement, name: &str) -> usize {
    a.parties.iter().position(|p| p == name).unwrap()
}

fn assert_zero_sum(a: &Agreement, s: &Settlement) {
    for t in 0..a.n_periods() {
        let sum: f64 = (0..a.n_parties()).map(|p| s.net[s.pt(p, t)]).sum();
        assert!(
            sum.abs() < 1e-9,
            "{} period {t}: flows sum to {sum}",
            a.name
        );
    }
}

#[test]
fn every_shipped_scenario_validates_and_settles() {
    for name in [
        "xinan.toml",
        "yellow_river.toml",
        "chishui.toml",
        "yangtze.toml",
    ] {
        let results = load(name);
        assert!(!results.is_empty(), "{name} has no agreements");
        let refs: Vec<(&Agreement, &Settlement)> = results.iter().map(|(a, s)| (a, s)).collect();
        for (a, s) in &refs {
            assert_zero_sum(a, s);
            assert!(
                s.value.iter().all(|v| v.is_finite()),
                "{name}: non-finite assessment"
            );
        }
        // Every rule and period appears in the breakdown with an explanation.
        let rows = export::breakdown_rows(&refs);
        for (a, _) in &refs {
            for def in &a.rules {
                for period in &a.periods {
                    assert!(
                        rows.iter().any(|r| r.rule == def.name
                            && &r.period == period
                            && !r.explanation.is_empty()),
                        "{name}: rule {} period {period} is not explained",
                        def.name
                    );
                }
            }
        }
        let expected_rows: usize = refs
            .iter()
            .map(|(a, _)| a.n_parties() * (a.n_periods() + 1))
            .sum();
        assert_eq!(export::basin_rows(&refs).len(), expected_rows);
    }
}

#[test]
fn xinan_round1_anhui_receives_15_over_the_round() {
    let results = load("xinan.toml");
    let (a, s) = results
        .iter()
        .find(|(a, _)| a.name == "xinan_round1")
        .unwrap();
    let ah = party(a, "安徽");
    let zj = party(a, "浙江");
    for t in 0..3 {
        assert!(
            s.met[s.st(0, t)],
            "P must be ≤ 1 in period {t}: {}",
            s.value[s.st(0, t)]
        );
    }
    // Pool 2 + centre 3 each year, three years.
    assert_relative_eq!(s.round_receipts(ah), 15.0, max_relative = 1e-12);
    // Net of its own contribution: 1 from Zhejiang and 3 from the centre per year.
    assert_relative_eq!(s.round_net(ah), 3.0, max_relative = 1e-12);
    assert_relative_eq!(s.round_central(ah), 9.0, max_relative = 1e-12);
    assert_relative_eq!(s.round_net(zj), -3.0, max_relative = 1e-12);
    let breakdown = export::breakdown_rows(&[(a, s)]);
    assert!(
        breakdown
            .iter()
            .any(|r| r.explanation.contains("街口: P = ") && r.explanation.contains("≤ 1"))
    );
}

#[test]
fn xinan_round2_central_taper_is_4_3_2() {
    let results = load("xinan.toml");
    let (a, s) = results
        .iter()
        .find(|(a, _)| a.name == "xinan_round2")
        .unwrap();
    let ah = party(a, "安徽");
    let c: Vec<f64> = (0..3).map(|t| s.central[s.pt(ah, t)]).collect();
    for (got, want) in c.iter().zip([4.0, 3.0, 2.0]) {
        assert_relative_eq!(*got, want);
    }
}

#[test]
fn chishui_all_compliant_nets_plus_4000_minus_2000_minus_2000() {
    let results = load("chishui.toml");
    let (a, s) = &results[0];
    for t in 0..a.n_periods() {
        assert!(s.met[s.st(0, t)] && s.met[s.st(1, t)]);
        assert_relative_eq!(
            s.net[s.pt(party(a, "云南"), t)],
            4000.0,
            max_relative = 1e-12
        );
        assert_relative_eq!(
            s.net[s.pt(party(a, "贵州"), t)],
            -2000.0,
            max_relative = 1e-12
        );
        assert_relative_eq!(
            s.net[s.pt(party(a, "四川"), t)],
            -2000.0,
            max_relative = 1e-12
        );
    }
    let rows = export::breakdown_rows(&[(a, s)]);
    assert!(rows.iter().any(|r| r.explanation
        == "云南 receives 6000 from the pool (share 0.3, after forfeits); net from the pool +4000"));
}

#[test]
fn yellow_river_at_class_ii_shandong_pays_henan_6000_plus_index_term() {
    let results = load("yellow_river.toml");
    let (a, s) = &results[0];
    let henan = party(a, "河南");
    for t in 0..a.n_periods() {
        assert_eq!(s.class[s.st(0, t)], 2);
        let idx = s.rule_index[s.rt(0, t)];
        assert_relative_eq!(s.rule_main[s.rt(0, t)], 6000.0);
        // The index fell, so the index term also goes to Henan, and equals 100 per point.
        let fall = s.index_prev[s.rt(0, t)] - s.index_now[s.rt(0, t)];
        assert!(fall > 0.0);
        assert_relative_eq!(idx, 100.0 * fall, max_relative = 1e-12);
        assert_relative_eq!(s.net[s.pt(henan, t)], 6000.0 + idx, max_relative = 1e-12);
    }
    let rows = export::breakdown_rows(&[(a, s)]);
    assert!(
        rows.iter()
            .any(|r| r.explanation.contains("山东 pays 河南 6000"))
    );
}

#[test]
fn yangtze_chain_net_is_the_sum_over_each_provinces_sections() {
    let results = load("yangtze.toml");
    let (a, s) = &results[0];
    for t in 0..a.n_periods() {
        for p in 0..a.n_parties() {
            // Sum the section rules' flows where p is upstream (+) or downstream (−).
            let mut expect = 0.0;
            for (r, def) in a.rules.iter().enumerate() {
                if let Some(k) = def.rule.section() {
                    let sec = &a.sections[k];
                    let amt = s.rule_main[s.rt(r, t)] + s.rule_index[s.rt(r, t)];
                    if sec.upstream == p {
                        expect += amt;
                    }
                    if sec.downstream == p {
                        expect -= amt;
                    }
                }
            }
            assert_relative_eq!(s.net[s.pt(p, t)], expect, epsilon = 1e-12);
        }
    }
    // 九江 is class III in 2025 against target II: Hubei pays Jiangxi 1亿 on the class term.
    let k = a.sections.iter().position(|x| x.name == "九江").unwrap();
    assert_eq!(s.class[s.st(k, 0)], 3);
    assert_relative_eq!(s.rule_main[s.rt(k, 0)], -1.0);
}
