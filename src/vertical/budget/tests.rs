use super::*;
use approx::assert_relative_eq;

const INF: f64 = f64::INFINITY;

fn solve(c: &[f64], f: &[f64], u: &[f64], t: f64) -> (BudgetSolution, Vec<f64>) {
    solve_fixed(c, &vec![0.0; c.len()], f, u, t)
}

fn solve_fixed(c: &[f64], b: &[f64], f: &[f64], u: &[f64], t: f64) -> (BudgetSolution, Vec<f64>) {
    let mut scratch = Vec::new();
    let sol = solve_scale(Terms::new(c, b, f, u), t, &mut scratch);
    let x = (0..c.len())
        .map(|i| pay_one(c[i], b[i], f[i], u[i], sol.scale))
        .collect();
    (sol, x)
}

#[test]
fn plain_proportional_scaling() {
    let (sol, x) = solve(&[1.0, 3.0], &[0.0, 0.0], &[INF, INF], 8.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    assert_relative_eq!(sol.scale, 2.0);
    assert_relative_eq!(x[0], 2.0);
    assert_relative_eq!(x[1], 6.0);
}

#[test]
fn floors_binding() {
    // Region 0 has a floor of 5 that proportional scaling (s = 1 → 1) would break.
    let (sol, x) = solve(&[1.0, 4.0, 5.0], &[5.0, 0.0, 0.0], &[INF; 3], 14.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    // 5 + 9 s = 14 → s = 1, and region 0 stays on its floor (1 < 5).
    assert_relative_eq!(sol.scale, 1.0, epsilon = 1e-12);
    assert_relative_eq!(x[0], 5.0);
    assert_relative_eq!(x[1], 4.0, epsilon = 1e-12);
    assert_relative_eq!(x.iter().sum::<f64>(), 14.0, epsilon = 1e-12);
}

#[test]
fn caps_binding() {
    let (sol, x) = solve(&[1.0, 1.0, 2.0], &[0.0; 3], &[2.0, INF, INF], 20.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    // Region 0 capped at 2; 3 s = 18 → s = 6.
    assert_relative_eq!(sol.scale, 6.0, epsilon = 1e-12);
    assert_relative_eq!(x[0], 2.0);
    assert_relative_eq!(x[2], 12.0, epsilon = 1e-12);
    assert_relative_eq!(sol.paid_total, 20.0, epsilon = 1e-12);
}

#[test]
fn floors_and_caps_binding_together() {
    let c = [1.0, 2.0, 3.0, 4.0, 0.0];
    let f = [6.0, 0.0, 0.0, 0.0, 1.0];
    let u = [INF, 3.0, INF, 10.0, INF];
    let (sol, x) = solve(&c, &f, &u, 30.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    // s = 3: x = [6 (floor), 3 (cap), 9, 10 (cap), 1 (floor of a zero claim)] → 29.
    // So s is a little above 3: 6 + 3 + 3 s + 10 + 1 = 30 → s = 10/3.
    assert_relative_eq!(sol.scale, 10.0 / 3.0, epsilon = 1e-12);
    assert_relative_eq!(x[0], 6.0);
    assert_relative_eq!(x[1], 3.0);
    assert_relative_eq!(x[3], 10.0);
    assert_relative_eq!(x[4], 1.0);
    assert_relative_eq!(x.iter().sum::<f64>(), 30.0, epsilon = 1e-12);
}

#[test]
fn floor_wins_over_a_lower_cap() {
    let (_, x) = solve(&[1.0, 1.0], &[5.0, 0.0], &[2.0, INF], 10.0);
    assert_relative_eq!(x[0], 5.0);
    assert_relative_eq!(x[1], 5.0, epsilon = 1e-12);
}

#[test]
fn infeasible_floors_are_reported() {
    let (sol, _) = solve(&[1.0, 1.0], &[5.0, 6.0], &[INF, INF], 10.0);
    assert_eq!(sol.status, SolveStatus::FloorsExceedTarget);
    assert_relative_eq!(sol.floors_total, 11.0);
}

#[test]
fn saturation_when_everyone_is_capped() {
    let (sol, x) = solve(&[1.0, 2.0, 0.0], &[0.0, 0.0, 0.5], &[3.0, 2.0, INF], 10.0);
    assert_eq!(sol.status, SolveStatus::Saturated);
    assert_relative_eq!(x[0], 3.0);
    assert_relative_eq!(x[1], 2.0);
    assert_relative_eq!(x[2], 0.5);
    assert_relative_eq!(sol.paid_total, 5.5);
    assert_relative_eq!(sol.unallocated(10.0), 4.5);
    // All claims zero: only the floors are paid.
    let (sol, _) = solve(&[0.0, 0.0], &[1.0, 0.0], &[INF, INF], 3.0);
    assert_eq!(sol.status, SolveStatus::Saturated);
    assert_relative_eq!(sol.unallocated(3.0), 2.0);
}

#[test]
fn warm_start_gives_the_same_bits_from_any_start() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut confirmed = 0;
    for case in 0..50 {
        let n = 1 + case * 37;
        let c: Vec<f64> = (0..n).map(|_| next() * 10.0).collect();
        let f: Vec<f64> = c
            .iter()
            .map(|&ci| {
                if next() < 0.2 {
                    ci * (0.5 + next())
                } else {
                    0.0
                }
            })
            .collect();
        let u: Vec<f64> = c
            .iter()
            .map(|&ci| {
                if next() < 0.2 {
                    ci * (0.5 + next())
                } else {
                    INF
                }
            })
            .collect();
        let t = c.iter().sum::<f64>() * (0.8 + 0.4 * next());
        // Every third case also has unscaled amounts (the default budget rule).
        let b: Vec<f64> = c
            .iter()
            .map(|&ci| if case % 3 == 1 { ci * next() } else { 0.0 })
            .collect();
        let terms = Terms::new(&c, &b, &f, &u);
        let t = t + b.iter().sum::<f64>();
        let mut scratch = Vec::new();
        let want = solve_scale(terms, t, &mut scratch);
        for start in [1e-6, 0.3, 0.9, 1.0, 1.1, 3.0, 1e6, f64::NAN, -1.0] {
            // A confirmed first step (the caller's own pass) is the same answer.
            if let Some(step) = warm_step(terms, t, start)
                && let Some(sol) = step.confirm(segment_at::<F64x4>(terms, step.scale))
            {
                assert_eq!(sol.scale.to_bits(), want.scale.to_bits(), "case {case}");
                assert_eq!(sol.status, SolveStatus::Exact);
                confirmed += 1;
            }
            let got = solve_scale_from::<F64x4>(terms, t, start, &mut scratch);
            assert_eq!(got.status, want.status, "case {case} start {start}");
            assert_eq!(
                got.scale.to_bits(),
                want.scale.to_bits(),
                "case {case} start {start}: {} vs {}",
                got.scale,
                want.scale
            );
        }
    }
    assert!(confirmed > 0, "no first step was confirmed");
}

#[test]
fn unscaled_amounts_are_paid_as_stated() {
    // Key claims 1 and 3 scale; region 1 also has 4 paid as stated: 4 + 4 s = 12 →
    // s = 2, x = [2, 10].
    let (sol, x) = solve_fixed(&[1.0, 3.0], &[0.0, 4.0], &[0.0; 2], &[INF; 2], 12.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    assert_relative_eq!(sol.scale, 2.0, epsilon = 1e-12);
    assert_relative_eq!(x[0], 2.0, epsilon = 1e-12);
    assert_relative_eq!(x[1], 10.0, epsilon = 1e-12);
    // A floor of 3 under an unscaled 1 holds region 0 until s·2 + 1 > 3 (s > 1);
    // region 1's cap of 5 binds from s = (5 − 2)/1 = 3. Target 9: at s = 1 the total
    // is 3 + (2 + 1) = 6, then slope 2 + 1 = 3 until s = 2 (9). So s = 2, x = [5, 4].
    let (sol, x) = solve_fixed(&[2.0, 1.0], &[1.0, 2.0], &[3.0, 0.0], &[INF, 5.0], 9.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    assert_relative_eq!(sol.scale, 2.0, epsilon = 1e-12);
    assert_relative_eq!(x[0], 5.0, epsilon = 1e-12);
    assert_relative_eq!(x[1], 4.0, epsilon = 1e-12);
    // An unscaled amount above the cap is paid the cap at any scale.
    let (sol, x) = solve_fixed(&[1.0, 1.0], &[9.0, 0.0], &[0.0; 2], &[4.0, INF], 10.0);
    assert_eq!(sol.status, SolveStatus::Exact);
    assert_relative_eq!(x[0], 4.0);
    assert_relative_eq!(x[1], 6.0, epsilon = 1e-12);
}

#[test]
fn unscaled_amounts_above_the_target_are_infeasible() {
    // Floors 2 plus the unscaled 9 of the region no floor holds: 11 > 10.
    let (sol, _) = solve_fixed(&[1.0, 1.0], &[0.0, 9.0], &[2.0, 0.0], &[INF; 2], 10.0);
    assert_eq!(sol.status, SolveStatus::FloorsExceedTarget);
    assert_relative_eq!(sol.paid_total, 11.0);
    assert_relative_eq!(sol.floors_total, 2.0);
}

#[test]
fn exact_on_many_breakpoints() {
    // Deterministic pseudo-random instance with many floors and caps.
    let n = 2_000;
    let mut c = Vec::with_capacity(n);
    let mut f = Vec::with_capacity(n);
    let mut u = Vec::with_capacity(n);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..n {
        let ci = next() * 10.0;
        c.push(ci);
        f.push(if next() < 0.2 {
            ci * (0.5 + next())
        } else {
            0.0
        });
        u.push(if next() < 0.2 {
            ci * (0.5 + next())
        } else {
            INF
        });
    }
    let t = c.iter().sum::<f64>() * 1.1;
    let (sol, x) = solve(&c, &f, &u, t);
    assert_eq!(sol.status, SolveStatus::Exact);
    let sum: f64 = x.iter().sum();
    assert!((sum - t).abs() <= 1e-9 * t, "sum {sum} target {t}");
}
