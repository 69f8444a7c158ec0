//! Each assessment kind and payment rule on both sides of its threshold (docs/model.md §2.1–2.2),
//! including indicators exactly at a GB 3838 class limit.

use approx::assert_relative_eq;
use ecocomp::horizontal::{Settlement, settle_point};
use ecocomp::model::Agreement;
use ecocomp::scenario::agreement_raw::RawAgreement;
use ecocomp::scenario::agreement_validate::validate;
use ecocomp::scenario::ctx::Ctx;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Wrapper {
    agreement: Vec<RawAgreement>,
}

/// Settle a one-agreement TOML text; panics with the problems if it is invalid.
fn run(src: &str) -> (Agreement, Settlement) {
    let w: Wrapper = toml::from_str(src).unwrap();
    let mut ctx = Ctx::new(Path::new("test.toml"), src);
    let mut v = validate(&w.agreement, &mut ctx);
    let problems: Vec<String> = ctx.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let a = v.remove(0);
    let s = settle_point(&a);
    (a, s)
}

/// Two parties UP → DOWN, one period, one section with the given head and indicators.
fn two_party(section: &str, rules: &str) -> String {
    format!(
        "[[agreement]]\nname = \"t\"\nparties = [\"UP\", \"DOWN\"]\nperiods = [1]\n\
         [[agreement.section]]\nname = \"S\"\nupstream = \"UP\"\ndownstream = \"DOWN\"\n{section}\n{rules}"
    )
}

fn p_index_section(c: f64) -> String {
    // P = k0 · (0.5 · c / 2 + 0.5 · 1) with k0 = 1.
    format!(
        "kind = \"p_index\"\nk0 = 1.0\n\
         [[agreement.section.indicator]]\nname = \"COD_Mn\"\nweight = 0.5\nbaseline = 2.0\nvalues = [{c}]\n\
         [[agreement.section.indicator]]\nname = \"TP\"\nweight = 0.5\nbaseline = 0.1\nvalues = [0.1]\n"
    )
}

fn class_section(target: u8, nh3: f64) -> String {
    format!(
        "kind = \"class\"\ntarget_class = {target}\n\
         [[agreement.section.indicator]]\nname = \"NH3-N\"\nweight = 0.5\nbaseline = 1.0\nprevious = 0.6\nvalues = [{nh3}]\n\
         [[agreement.section.indicator]]\nname = \"COD_Mn\"\nweight = 0.5\nbaseline = 6.0\nprevious = 3.0\nvalues = [1.0]\n"
    )
}

const BET: &str = "[[agreement.rule]]\nkind = \"bet\"\nsection = \"S\"\namount = 1.0\n";

/// Net of UP in period 0.
fn up(s: &Settlement) -> f64 {
    s.net[s.pt(0, 0)]
}

#[test]
fn p_index_bet_switches_at_the_threshold() {
    // c = 2 → P = 1 exactly: met (P ≤ 1), downstream pays upstream.
    let (_, s) = run(&two_party(&p_index_section(2.0), BET));
    assert_relative_eq!(s.value[0], 1.0);
    assert!(s.met[0]);
    assert_relative_eq!(up(&s), 1.0);
    // Slightly above: upstream pays.
    let (_, s) = run(&two_party(&p_index_section(2.02), BET));
    assert!(!s.met[0]);
    assert_relative_eq!(up(&s), -1.0);
    assert_relative_eq!(s.net[s.pt(1, 0)], 1.0);
}

#[test]
fn graded_bet_is_proportional_and_clamped() {
    let rule = "[[agreement.rule]]\nkind = \"bet\"\nsection = \"S\"\namount = 2.0\nband = 0.1\n";
    // c = 1.8 → P = 0.95 → (1 − 0.95)/0.1 = 0.5 → 1.0 to upstream.
    let (_, s) = run(&two_party(&p_index_section(1.8), rule));
    assert_relative_eq!(up(&s), 1.0, max_relative = 1e-9);
    // c = 2.2 → P = 1.05 → −0.5 → upstream pays 1.0.
    let (_, s) = run(&two_party(&p_index_section(2.2), rule));
    assert_relative_eq!(up(&s), -1.0, max_relative = 1e-9);
    // c = 4 → P = 1.5 → clamped at −1 → upstream pays the full 2.
    let (_, s) = run(&two_party(&p_index_section(4.0), rule));
    assert_relative_eq!(up(&s), -2.0, max_relative = 1e-12);
}

#[test]
fn class_bet_at_a_gb3838_limit_gets_the_better_class() {
    // NH3-N exactly 0.5 is class II, which meets target II.
    let (_, s) = run(&two_party(&class_section(2, 0.5), BET));
    assert_eq!(s.class[0], 2);
    assert!(s.met[0]);
    assert_relative_eq!(up(&s), 1.0);
    // Just above the limit: class III misses target II.
    let (_, s) = run(&two_party(&class_section(2, 0.5001), BET));
    assert_eq!(s.class[0], 3);
    assert!(!s.met[0]);
    assert_relative_eq!(up(&s), -1.0);
    // Above the class V limit: worse than V (class 6).
    let (_, s) = run(&two_party(&class_section(2, 2.5), BET));
    assert_eq!(s.class[0], 6);
}

#[test]
fn per_class_pays_per_class_of_difference_with_cap() {
    let rule =
        "[[agreement.rule]]\nkind = \"per_class\"\nsection = \"S\"\namount_per_class = 6000.0\n";
    // Class II vs target III: downstream pays upstream 6000.
    let (_, s) = run(&two_party(&class_section(3, 0.5), rule));
    assert_relative_eq!(up(&s), 6000.0);
    // Exactly at the class III limit: diff 0, nothing moves.
    let (_, s) = run(&two_party(&class_section(3, 1.0), rule));
    assert_relative_eq!(up(&s), 0.0);
    // Class V (NH3-N 1.8): diff −2, upstream pays 12000; with cap 10000, 10000.
    let (_, s) = run(&two_party(&class_section(3, 1.8), rule));
    assert_relative_eq!(up(&s), -12000.0);
    let capped = format!("{rule}cap = 10000.0\n");
    let (_, s) = run(&two_party(&class_section(3, 1.8), &capped));
    assert_relative_eq!(up(&s), -10000.0);
}

#[test]
fn per_class_index_term_rewards_a_fall_and_charges_a_rise_with_cap() {
    let rule = "[[agreement.rule]]\nkind = \"per_class\"\nsection = \"S\"\namount_per_class = 6000.0\n\
                index_change = { amount_per_point = 100.0, cap = 4000.0 }\n";
    // I_prev = 100·(0.5·0.6/1 + 0.5·3/6) = 55; at NH3-N 0.5: I = 100·(0.25 + 1/12) = 33.33.
    let (_, s) = run(&two_party(&class_section(3, 0.5), rule));
    let expected_index = 100.0 * (55.0 - 100.0 * (0.25 + 1.0 / 12.0));
    assert_relative_eq!(s.rule_index[0], expected_index, max_relative = 1e-9);
    assert_relative_eq!(up(&s), 6000.0 + expected_index, max_relative = 1e-9);
    // NH3-N 0.9 (class III): I = 100·(0.45 + 1/12) = 53.33, a fall of 1.67 points.
    let (_, s) = run(&two_party(&class_section(3, 0.9), rule));
    assert!(s.rule_index[0] > 0.0);
    assert_relative_eq!(s.rule_main[0], 0.0);
    // NH3-N 1.5 (class IV): I = 100·(0.75 + 1/12) = 83.3, a rise of 28.3 points → −2833.
    let (_, s) = run(&two_party(&class_section(3, 1.5), rule));
    assert_relative_eq!(
        s.rule_index[0],
        -100.0 * (100.0 * (0.75 + 1.0 / 12.0) - 55.0),
        max_relative = 1e-9
    );
    assert_relative_eq!(up(&s), -6000.0 + s.rule_index[0], max_relative = 1e-9);
    // NH3-N 2.0 (class V, at the limit): a rise of 53.3 points → capped at −4000.
    let (_, s) = run(&two_party(&class_section(3, 2.0), rule));
    assert_eq!(s.class[0], 5);
    assert_relative_eq!(s.rule_index[0], -4000.0);
    assert_relative_eq!(up(&s), -12000.0 - 4000.0);
}

fn compliance_section(required: f64, good_months: usize, annual_too: bool) -> String {
    let months: Vec<String> = (0..12)
        .map(|m| {
            if m < good_months {
                "0.8".into()
            } else {
                "1.2".into()
            }
        })
        .collect();
    format!(
        "kind = \"compliance_rate\"\ntarget_class = 3\nrequired_rate = {required}\nrequire_annual_class = {annual_too}\n\
         [[agreement.section.indicator]]\nname = \"NH3-N\"\nvalues = [1.05]\nmonthly = [[{}]]\n",
        months.join(", ")
    )
}

#[test]
fn compliance_rate_meets_at_exactly_the_required_rate() {
    let (_, s) = run(&two_party(&compliance_section(0.75, 9, false), BET));
    assert_relative_eq!(s.value[0], 0.75);
    assert!(s.met[0]);
    assert_relative_eq!(up(&s), 1.0);
    let (_, s) = run(&two_party(&compliance_section(0.75, 8, false), BET));
    assert!(!s.met[0]);
    assert_relative_eq!(up(&s), -1.0);
    // The annual mean 1.05 is class IV, so requiring the annual class fails the section.
    let (_, s) = run(&two_party(&compliance_section(0.75, 9, true), BET));
    assert!(!s.met[0]);
    // A month exactly at the class III limit (1.0) counts as compliant.
    let src = two_party(
        &compliance_section(1.0, 12, false).replace("0.8", "1.0"),
        BET,
    );
    let (_, s) = run(&src);
    assert!(s.met[0]);
}

#[test]
fn dissolved_oxygen_is_judged_as_a_lower_limit() {
    let section = |d: f64| {
        format!(
            "kind = \"class\"\ntarget_class = 2\n[[agreement.section.indicator]]\nname = \"DO\"\nvalues = [{d}]\n"
        )
    };
    let (_, s) = run(&two_party(&section(6.0), BET));
    assert!(s.met[0]);
    let (_, s) = run(&two_party(&section(5.99), BET));
    assert!(!s.met[0]);
}

fn chishui(yn_met: bool, gz_met: bool) -> String {
    let nh3 = |met: bool| if met { 0.3 } else { 0.7 };
    format!(
        "[[agreement]]\nname = \"c\"\nparties = [\"YN\", \"GZ\", \"SC\"]\nperiods = [1]\n\
         [[agreement.section]]\nname = \"A\"\nupstream = \"YN\"\ndownstream = \"GZ\"\nkind = \"class\"\ntarget_class = 2\n\
         [[agreement.section.indicator]]\nname = \"NH3-N\"\nvalues = [{}]\n\
         [[agreement.section]]\nname = \"B\"\nupstream = \"GZ\"\ndownstream = \"SC\"\nkind = \"class\"\ntarget_class = 2\n\
         [[agreement.section.indicator]]\nname = \"NH3-N\"\nvalues = [{}]\n\
         [[agreement.rule]]\nkind = \"pool_shares\"\ncontributions = {{ YN = 2000, GZ = 10000, SC = 8000 }}\n\
         shares = {{ YN = 0.3, GZ = 0.4, SC = 0.3 }}\n\
         [[agreement.rule.forfeit]]\nsections = [\"A\"]\nsplit = {{ GZ = 0.5, SC = 0.5 }}\n\
         [[agreement.rule.forfeit]]\nsections = [\"B\"]\nsplit = {{ SC = 1.0 }}\n",
        nh3(yn_met),
        nh3(gz_met)
    )
}

fn nets(s: &Settlement) -> Vec<f64> {
    (0..s.n_parties).map(|p| s.net[s.pt(p, 0)]).collect()
}

#[test]
fn pool_forfeiture_redistributes_by_split() {
    // Yunnan fails: its 6000 is split 3000/3000.
    let (_, s) = run(&chishui(false, true));
    let n = nets(&s);
    assert_relative_eq!(n[0], -2000.0);
    assert_relative_eq!(n[1], 8000.0 + 3000.0 - 10000.0);
    assert_relative_eq!(n[2], 6000.0 + 3000.0 - 8000.0);
    // Guizhou fails: its 8000 goes to Sichuan.
    let (_, s) = run(&chishui(true, false));
    let n = nets(&s);
    assert_relative_eq!(n[0], 4000.0);
    assert_relative_eq!(n[1], -10000.0);
    assert_relative_eq!(n[2], 6000.0 + 8000.0 - 8000.0);
    // Both fail: Guizhou is forfeiting too, so Yunnan's share goes to Sichuan alone, and
    // the pool is still paid out exactly.
    let (_, s) = run(&chishui(false, false));
    let n = nets(&s);
    assert_relative_eq!(n[2], 20000.0 - 8000.0);
    let paid_out: f64 = (0..3).map(|p| s.gross_in[s.rtp(0, 0, p)]).sum();
    assert_relative_eq!(paid_out, 20000.0);
}

#[test]
fn pool_prorates_by_flow_share_of_compliant_rivers() {
    // Tingjiang–Hanjiang style: each side pays 1; upstream's share 1 is forfeited in
    // proportion to the flow share of non-compliant rivers.
    let src = |b_ok: bool| {
        format!(
            "[[agreement]]\nname = \"tj\"\nparties = [\"FJ\", \"GD\"]\nperiods = [1]\n\
             [[agreement.section]]\nname = \"A\"\nupstream = \"FJ\"\ndownstream = \"GD\"\nkind = \"class\"\ntarget_class = 3\n\
             [[agreement.section.indicator]]\nname = \"NH3-N\"\nvalues = [0.5]\n\
             [[agreement.section]]\nname = \"B\"\nupstream = \"FJ\"\ndownstream = \"GD\"\nkind = \"class\"\ntarget_class = 3\n\
             [[agreement.section.indicator]]\nname = \"NH3-N\"\nvalues = [{}]\n\
             [[agreement.rule]]\nkind = \"pool_shares\"\ncontributions = {{ FJ = 1, GD = 1 }}\nshares = {{ FJ = 1, GD = 0 }}\n\
             [[agreement.rule.forfeit]]\nsections = [\"A\", \"B\"]\nflow_shares = [0.7, 0.3]\nsplit = {{ GD = 1 }}\n",
            if b_ok { 0.9 } else { 1.6 }
        )
    };
    let (_, s) = run(&src(true));
    assert_relative_eq!(nets(&s)[0], 1.0);
    let (_, s) = run(&src(false));
    // FJ keeps 70% of 2 = 1.4, pays 1 → +0.4; GD gets 0.6, pays 1 → −0.4.
    assert_relative_eq!(nets(&s)[0], 0.4, max_relative = 1e-12);
    assert_relative_eq!(nets(&s)[1], -0.4, max_relative = 1e-12);
}

#[test]
fn central_funds_follow_schedule_and_condition() {
    let src = |c: f64| {
        format!(
            "[[agreement]]\nname = \"c\"\nparties = [\"UP\", \"DOWN\"]\nperiods = [1, 2, 3]\n\
             [[agreement.section]]\nname = \"S\"\nupstream = \"UP\"\ndownstream = \"DOWN\"\nkind = \"class\"\ntarget_class = 3\n\
             [[agreement.section.indicator]]\nname = \"TP\"\nvalues = [0.1, {c}, 0.2]\n\
             [[agreement.rule]]\nkind = \"central\"\nto = \"UP\"\namount = [4, 3, 2]\n\
             [[agreement.rule]]\nkind = \"central\"\nto = \"DOWN\"\namount = 1\nwhen_met = [\"S\"]\n"
        )
    };
    let (_, s) = run(&src(0.2));
    let c: Vec<f64> = (0..3).map(|t| s.central[s.pt(0, t)]).collect();
    assert_eq!(c, vec![4.0, 3.0, 2.0]);
    assert_relative_eq!(s.round_central(1), 3.0);
    // Period 2 at TP 0.21 (class IV) misses: no reward that period.
    let (_, s) = run(&src(0.21));
    assert_relative_eq!(s.round_central(1), 2.0);
    assert_relative_eq!(s.central[s.pt(1, 1)], 0.0);
    // Central money is not part of the horizontal net.
    assert!(s.net.iter().all(|x| x.abs() < 1e-12));
}

/// The Yellow River index term read in points and in percent of last year's index, by
/// hand: I_prev = 100 · (16/20 + 0.45/1 + 0.10/0.2) / 3 and I_now likewise.
#[test]
fn index_change_in_points_or_percent() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = std::fs::read_to_string(dir.join("yellow_river.toml")).unwrap();
    let index = |t: &str| {
        let path = dir.join("yellow_river.toml");
        let scn = ecocomp::scenario::load_bytes(
            &path,
            t.as_bytes(),
            &|rel: &std::path::Path| std::fs::read(dir.join(rel)),
            &|rel: &std::path::Path| dir.join(rel),
        )
        .unwrap();
        let s = settle_point(&scn.agreements[0]);
        let k = s.rt(0, 0);
        (s.rule_index[k], s.index_prev[k], s.index_now[k])
    };
    let (points, prev, now) = index(&text);
    let third = 1.0 / 3.0;
    let want_prev =
        100.0 * (third * 16.0 / 20.0 + third * 0.45 / 1.0 + (1.0 - 2.0 * third) * 0.10 / 0.2);
    assert!((prev - want_prev).abs() < 1e-9, "{prev} vs {want_prev}");
    assert!((points - 100.0 * (prev - now)).abs() < 1e-9);
    let (percent, _, _) = index(&text.replace("basis = \"points\"", "basis = \"percent\""));
    assert!((percent - 100.0 * 100.0 * (prev - now) / prev).abs() < 1e-9);
    assert!(
        percent > points,
        "a fall is a larger share of an index below 100"
    );
}
