//! Agreement rewards (纵横结合, docs/model.md §1.7): under Monte Carlo a performance reward
//! follows the same draw's horizontal outcome, so a draw in which the party's section
//! fails pays less than one in which it is met.

use ecocomp::horizontal::settle_point;
use ecocomp::montecarlo::allocations::VerticalModel;
use ecocomp::montecarlo::settlements::AgreementModel;
use std::path::Path;

fn fixture() -> ecocomp::model::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reward_coupled.toml");
    ecocomp::scenario::load(&path).unwrap()
}

#[test]
fn a_performance_reward_follows_the_draws_settlement() {
    let scn = fixture();
    let v = scn.vertical.as_ref().unwrap();
    let model = VerticalModel::new(v, Vec::new(), &scn.uncertain, 0, Vec::new());
    let mut w = model.worker();
    let agreement = AgreementModel::new(&scn.agreements[0]).unwrap();
    let mut aw = agreement.worker();
    let (yn, gz) = (0, 1);
    let (mut met_pay, mut failed_pay) = (Vec::new(), Vec::new());
    for d in 0..200 {
        model.evaluate(7, d, &mut w).unwrap();
        agreement.evaluate(7, d, &mut aw);
        let a = &w.allocs[0];
        assert_eq!(a.classified_names, ["reward_chishui"]);
        let reward = &a.classified[0];
        // 清水铺 (云南 upstream, 贵州 downstream) in 2018, the scenario's year; 鲢鱼溪
        // (贵州 upstream) is met at its fixed values.
        let met = aw.out.met[aw.out.st(0, 0)];
        assert!(aw.out.met[aw.out.st(1, 0)]);
        assert_eq!(reward[yn], if met { 100.0 } else { 0.0 }, "draw {d}");
        assert_eq!(reward[gz], if met { 100.0 } else { 50.0 }, "draw {d}");
        if met {
            met_pay.push(a.x[yn]);
        } else {
            failed_pay.push(a.x[yn]);
        }
    }
    assert!(!met_pay.is_empty() && !failed_pay.is_empty());
    // Only the key subsidy is scaled and 云南's key claim does not move, so every met draw
    // pays it the same amount, more than every failed one.
    let lowest_met = met_pay.iter().copied().fold(f64::INFINITY, f64::min);
    let highest_failed = failed_pay.iter().copied().fold(0.0, f64::max);
    assert!(
        lowest_met > highest_failed,
        "{lowest_met} vs {highest_failed}"
    );
}

#[test]
fn the_point_estimate_uses_the_central_settlement_and_participation_counts_periods() {
    let scn = fixture();
    let v = scn.vertical.as_ref().unwrap();
    let r = &v.formulas[0].rewards[0];
    // At the central TP of 0.1 清水铺 is class II: both sections met in 2018.
    let s = settle_point(&scn.agreements[0]);
    assert!(s.met[s.st(0, 0)] && s.met[s.st(1, 0)]);
    assert_eq!(r.periods, [0]);
    assert_eq!(r.factor, [1.0, 1.0, 1.0]);
    // Participation pays per counted period, whatever the outcome.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reward_coupled.toml"),
    )
    .unwrap()
    .replace("basis = \"performance\"", "basis = \"participation\"")
    .replace("year = 2018\n", "");
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("s.toml");
    std::fs::write(&p, text).unwrap();
    let scn = ecocomp::scenario::load(&p).unwrap();
    let r = &scn.vertical.as_ref().unwrap().formulas[0].rewards[0];
    // Without a year every one of the three periods counts.
    assert_eq!(r.factor, [3.0, 3.0, 3.0]);
}
