//! The years after the first of a multi-year path (docs/model.md §5), draw by draw.
//!
//! Year 1 of draw d is the single-year draw itself, on its usual streams, so a path of one
//! year is the single-year run. Each later year t is sampled from the stream
//! `(seed, d, SUB_PATH_BASE + t)`, in this order: the budget (a total or a growth rate),
//! the trend rates given per step, the noise of every noise model in scenario order, then
//! the scheduled formula parameters in scenario order. What is drawn once per path (a
//! single growth or trend rate) comes from `(seed, d, SUB_PATH_BASE)`. A draw's whole path
//! therefore depends on (seed, d) alone, whatever thread runs it.

use super::allocations::{VerticalAcc, VerticalModel, Worker, YearLink};
use crate::error::Result;
use crate::model::Vertical;
use crate::model::path::{BudgetPath, Path, Steps};
use crate::model::region::Column;
use crate::sampling::noise::NoiseModel;
use crate::sampling::rng::{Rng, SUB_PATH_BASE, stream};
use crate::vertical::kernel::Kernel;

/// What every draw's path shares: the path, the scenario's regions and its noise models.
pub struct PathModel<'a> {
    pub path: &'a Path,
    v: &'a Vertical,
    noise: Vec<NoiseModel>,
    /// The AR(1) coefficient of each noise model.
    ar1: Vec<f64>,
    /// A year's draw changes what the kernels precompute beyond the floors and caps: an
    /// uncertain budget path or scheduled value, or a trend on a precomputed column.
    /// Otherwise each year's worker is prepared once for its year ([`PathModel::workers`]).
    full_refresh: bool,
}

/// One draw's path so far: what links year t to year t + 1.
#[derive(Debug, Clone, Default)]
pub struct PathState {
    /// Per noise model, each region's standardised shock of the last year.
    shocks: Vec<Vec<f64>>,
    /// Per trend, its column before noise in the last year.
    trended: Vec<Vec<f64>>,
    /// The rates drawn once per path: the budget growth, then each trend's.
    growth: f64,
    rates: Vec<f64>,
    /// The last year's budget total.
    total: f64,
    /// The last year's allocation of every formula, `formula * n + region`.
    pub prior: Vec<f64>,
    /// With a quality response: the last year's standard expenditure, and this year's
    /// ΔQ before the response.
    expenditure: Vec<f64>,
    quality: Vec<f64>,
}

impl<'a> PathModel<'a> {
    pub fn new(path: &'a Path, v: &'a Vertical, noise: Vec<NoiseModel>, ar1: Vec<f64>) -> Self {
        let random = |u: &crate::model::param::Uncertain| !u.is_fixed();
        let steps = |s: &Steps| match s {
            Steps::Same(u) => random(u),
            Steps::Each(v) => v.iter().any(random),
        };
        let full_refresh = match &path.budget {
            BudgetPath::Constant => false,
            BudgetPath::Totals(v) => v.iter().any(random),
            BudgetPath::Growth(g) => steps(g),
        } || path.schedule.iter().any(|s| s.values.iter().any(random))
            || path.trends.iter().any(|t| Kernel::depends_on(t.column));
        PathModel {
            path,
            v,
            noise,
            ar1,
            full_refresh,
        }
    }

    /// Year t's budget total and scheduled values where they are not random, and its
    /// kernels prepared for them, in `w` (a worker for that year).
    fn prepare_year(&self, t: usize, w: &mut Worker) {
        let mut total = self.v.budget.total;
        for s in 1..=t {
            let step = self.path.budget.param(s).map_or(0.0, |u| u.central());
            total = total.map(|x| self.path.budget.next(x, step));
        }
        w.budget.total = total;
        for s in &self.path.schedule {
            s.target
                .set(&mut w.budget, &mut w.formulas, s.values[t].central());
        }
        for (k, f) in w.kernels.iter_mut().zip(&w.formulas) {
            k.refresh(f, &w.data, &w.budget);
        }
    }

    /// Start draw `d`'s path from its first year, sampled into `first` (whose amounts are
    /// `x`, `formula * n + region`).
    pub fn start(&self, seed: u64, d: u64, first: &Worker, x: &[f64], state: &mut PathState) {
        let base = &self.v.regions.data;
        state.shocks.resize(self.noise.len(), Vec::new());
        for ((m, u), &phi) in self
            .noise
            .iter()
            .zip(state.shocks.iter_mut())
            .zip(&self.ar1)
        {
            u.clear();
            if phi != 0.0 {
                u.resize(base.n, 0.0);
                m.shocks_into(base.col(m.column), first.data.col(m.column), u);
            }
        }
        state.trended.resize(self.path.trends.len(), Vec::new());
        for (t, col) in self.path.trends.iter().zip(state.trended.iter_mut()) {
            col.clear();
            col.extend_from_slice(base.col(t.column));
        }
        let mut rng: Rng = stream(seed, d, SUB_PATH_BASE);
        state.growth = match &self.path.budget {
            BudgetPath::Growth(Steps::Same(u)) => u.sample(&mut rng),
            _ => 0.0,
        };
        state.rates.clear();
        for t in &self.path.trends {
            state.rates.push(match &t.rate {
                Steps::Same(u) => u.sample(&mut rng),
                Steps::Each(_) => 0.0,
            });
        }
        state.total = first.budget.total.unwrap_or(0.0);
        self.carry(state, first, x);
    }

    /// What links year t (sampled into `w`) to the year before.
    pub fn link<'s>(&self, state: &'s mut PathState, w: &Worker) -> YearLink<'s> {
        if self.path.kappa.is_some() {
            state.quality.clear();
            state
                .quality
                .extend_from_slice(w.data.col(Column::EqiChange));
        }
        let response = self.path.kappa;
        YearLink {
            prior: &state.prior,
            full: self.full_refresh,
            response: response.map(|k| (k, &state.expenditure[..], &state.quality[..])),
        }
    }

    /// Carry year t's amounts `x` (and expenditure, in `w`) over to year t + 1.
    fn carry(&self, state: &mut PathState, w: &Worker, x: &[f64]) {
        state.prior.clear();
        state.prior.extend_from_slice(x);
        if self.path.kappa.is_some() {
            state.expenditure.clear();
            state
                .expenditure
                .extend_from_slice(w.data.col(Column::StdExpenditure));
        }
    }

    /// Sample year `t` (≥ 1) of draw `d` into `w`: the budget, the moved and perturbed
    /// columns and the scheduled parameters. The priors are set per formula by the draw.
    pub fn sample_year(&self, seed: u64, d: u64, t: usize, state: &mut PathState, w: &mut Worker) {
        let mut rng: Rng = stream(seed, d, SUB_PATH_BASE + t as u64);
        // A single growth rate is the path's own, drawn in `start`.
        let step = match (&self.path.budget, self.path.budget.param(t)) {
            (BudgetPath::Growth(Steps::Same(_)), _) => state.growth,
            (_, Some(u)) => u.sample(&mut rng),
            (_, None) => 0.0,
        };
        state.total = self.path.budget.next(state.total, step);
        // An open budget has no total to move.
        if w.budget.total.is_some() {
            w.budget.total = Some(state.total);
        }
        for (k, trend) in self.path.trends.iter().enumerate() {
            let r = match &trend.rate {
                Steps::Same(_) => state.rates[k],
                Steps::Each(_) => trend.rate.at(t - 1).sample(&mut rng),
            };
            trend.step(&mut state.trended[k], r);
            w.data
                .col_mut(trend.column)
                .copy_from_slice(&state.trended[k]);
        }
        let meta = &self.v.regions.meta;
        for (k, m) in self.noise.iter().enumerate() {
            let base = match self.path.trends.iter().position(|tr| tr.column == m.column) {
                Some(j) => &state.trended[j][..],
                None => self.v.regions.data.col(m.column),
            };
            let (groups, out) = (meta.groups.len(), w.data.col_mut(m.column));
            if self.ar1[k] == 0.0 {
                // Independent years: the single-year sampler (same distribution).
                m.apply(base, &meta.group_idx, groups, &mut rng, &mut w.z_group, out);
            } else {
                let (phi, u) = (self.ar1[k], &mut state.shocks[k]);
                m.apply_persistent(
                    base,
                    &meta.group_idx,
                    groups,
                    &mut rng,
                    &mut w.z_group,
                    phi,
                    u,
                    out,
                );
            }
        }
        for s in &self.path.schedule {
            let v = s.values[t].sample(&mut rng);
            s.target.set(&mut w.budget, &mut w.formulas, v);
        }
    }
}

/// A pool thread's workers for the later years of a path (year 1 has the run's usual
/// worker), and the path state of its current draw.
pub struct YearWorkers {
    pub years: Vec<Worker>,
    pub state: PathState,
}

impl PathModel<'_> {
    /// Workers for years 2, 3, …; with `sketches`, each keeps its own sketches of that
    /// many outputs.
    pub fn workers(&self, m: &VerticalModel, sketches: Option<usize>) -> YearWorkers {
        let years = (1..self.path.len())
            .map(|t| {
                let mut w = m.worker();
                if let Some(k) = sketches {
                    w.keep_sketches(k);
                }
                self.prepare_year(t, &mut w);
                w
            })
            .collect();
        YearWorkers {
            years,
            state: PathState::default(),
        }
    }

    /// The years after the first of draw `d` evaluated with the general allocator (every
    /// formula's full allocation in `years[t].allocs`), after the first year's in
    /// `first.allocs`: what the saved draws hold. Calls `each` with every later year's
    /// worker.
    pub fn evaluate_rest(
        &self,
        m: &VerticalModel,
        seed: u64,
        d: u64,
        first: &Worker,
        yw: &mut YearWorkers,
        each: &mut dyn FnMut(&Worker),
    ) -> Result<()> {
        let YearWorkers { years, state } = yw;
        let amounts = |w: &Worker| -> Vec<f64> {
            w.allocs.iter().flat_map(|a| a.x.iter().copied()).collect()
        };
        self.start(seed, d, first, &amounts(first), state);
        for (t, w) in years.iter_mut().enumerate() {
            self.sample_year(seed, d, t + 1, state, w);
            let link = self.link(state, w);
            m.evaluate_sampled(seed, d, w, Some(&link))
                .map_err(|e| e.in_year(self.path.years[t + 1]))?;
            each(w);
            let x = amounts(w);
            self.carry(state, w, &x);
        }
        Ok(())
    }

    /// The years after the first of draw `d`, whose first year `first` has just drawn:
    /// year t + 1 into `accs[t]`.
    pub fn draw_rest(
        &self,
        m: &VerticalModel,
        seed: u64,
        d: u64,
        first: &Worker,
        yw: &mut YearWorkers,
        accs: &mut [VerticalAcc],
    ) -> Result<()> {
        let YearWorkers { years, state } = yw;
        self.start(seed, d, first, first.last_draw(), state);
        for (t, (w, acc)) in years.iter_mut().zip(accs.iter_mut()).enumerate() {
            self.sample_year(seed, d, t + 1, state, w);
            let link = self.link(state, w);
            m.draw_sampled(seed, d, w, acc, Some(&link))
                .map_err(|e| e.in_year(self.path.years[t + 1]))?;
            self.carry(state, w, w.last_draw());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scenario;
    use crate::model::region::Column;
    use crate::montecarlo::noise_models;

    /// `scenarios/example.toml` with floors that are never waived, edited by `edit`, plus
    /// `extra`.
    fn example(edit: &dyn Fn(String) -> String, extra: &str) -> Scenario {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let text = std::fs::read_to_string(dir.join("example.toml")).unwrap();
        let text = edit(text.replace("waived_on_violation = true", "waived_on = []")) + extra;
        crate::scenario::load_bytes(
            &dir.join("example.toml"),
            text.as_bytes(),
            &|rel: &std::path::Path| std::fs::read(dir.join(rel)),
            &|rel: &std::path::Path| dir.join(rel),
        )
        .unwrap()
    }

    const PATH: &str = "
[path]
start = 2024
end = 2028
growth = { dist = \"normal\", mean = 0.08, sd = 0.02, min = 0.06 }

[[path.trend]]
column = \"std_revenue\"
kind = \"multiplicative\"
rate = { dist = \"normal\", mean = 0.03, sd = 0.02, min = -0.5 }

[[noise]]
column = \"eqi_change\"
kind = \"additive\"
sigma = 1.5
ar1 = 0.8
";

    /// Run `draws` draws of `scn`'s path, calling `check(t, prior, x, worker)` after every
    /// later year t with the year's amounts and the year before's.
    /// What `walk` calls after each later year: the year, its priors, its amounts.
    type Check<'c> = &'c mut dyn FnMut(usize, &[f64], &[f64], &Worker);

    fn walk(scn: &Scenario, draws: u64, check: Check) {
        let (Some(v), Some(p)) = (&scn.vertical, &scn.policy_path) else {
            panic!("no path");
        };
        let m = VerticalModel::new(
            v,
            noise_models(&scn.noise, v),
            &scn.uncertain,
            0,
            Vec::new(),
        );
        let ar1 = scn.noise.iter().map(|s| s.ar1).collect();
        let pm = PathModel::new(p, v, noise_models(&scn.noise, v), ar1);
        let mut first = m.worker();
        let mut acc = VerticalAcc::new(v.regions.data.n, v.formulas.len(), 0);
        let mut accs: Vec<VerticalAcc> = (1..p.len()).map(|_| acc.clone()).collect();
        let mut yw = pm.workers(&m, None);
        for d in 0..draws {
            m.draw(7, d, &mut first, &mut acc).unwrap();
            let YearWorkers { years, state } = &mut yw;
            pm.start(7, d, &first, first.last_draw(), state);
            for (t, (w, a)) in years.iter_mut().zip(accs.iter_mut()).enumerate() {
                pm.sample_year(7, d, t + 1, state, w);
                let link = pm.link(state, w);
                m.draw_sampled(7, d, w, a, Some(&link)).unwrap();
                check(t + 1, &state.prior, w.last_draw(), w);
                pm.carry(state, w, w.last_draw());
            }
            if d % 64 == 63 {
                m.finish_block(&mut first, &mut acc);
                for (w, a) in yw.years.iter_mut().zip(accs.iter_mut()) {
                    m.finish_block(w, a);
                }
            }
        }
    }

    /// With h = 1 floors that are never waived, a hold-harmless region gets at least what
    /// the same formula paid it the year before, in every year of every draw; the regions
    /// without a floor do fall at times, so the check can fail.
    #[test]
    fn floors_roll_forward() {
        let scn = example(&|t| t, PATH);
        let v = scn.vertical.as_ref().unwrap();
        let (n, hh) = (v.regions.data.n, v.regions.data.hold_harmless.clone());
        let floored: Vec<bool> = v.formulas.iter().map(|f| f.floor.is_some()).collect();
        let (mut held, mut fell_elsewhere) = (0, 0);
        walk(&scn, 400, &mut |_, prior, x, _| {
            for (f, &has_floor) in floored.iter().enumerate() {
                for i in 0..n {
                    let (before, now) = (prior[f * n + i], x[f * n + i]);
                    if has_floor && hh[i] {
                        assert!(
                            now >= before * (1.0 - 1e-12),
                            "formula {f} region {i}: {now} < {before}"
                        );
                        held += 1;
                    } else if now < before {
                        fell_elsewhere += 1;
                    }
                }
            }
        });
        assert!(
            held > 1000 && fell_elsewhere > 100,
            "{held} {fell_elsewhere}"
        );
    }

    /// The correlation of a region's quality shock between consecutive years is φ: 0.8
    /// with `ar1 = 0.8`, 0 with `ar1 = 0`, within ±0.05 over 10,000 draws.
    #[test]
    fn shocks_persist_with_ar1() {
        for (phi, text) in [
            (0.8, PATH.to_string()),
            (0.0, PATH.replace("ar1 = 0.8", "ar1 = 0.0")),
        ] {
            let scn = example(&|t| t, &text);
            let v = scn.vertical.as_ref().unwrap();
            let base = v.regions.data.col(Column::EqiChange)[0];
            let (Some(p), n) = (&scn.policy_path, 10_000u64) else {
                panic!()
            };
            let m = VerticalModel::new(
                v,
                noise_models(&scn.noise, v),
                &scn.uncertain,
                0,
                Vec::new(),
            );
            let pm = PathModel::new(p, v, noise_models(&scn.noise, v), vec![phi]);
            let (mut w0, mut w1) = (m.worker(), m.worker());
            let mut state = PathState::default();
            let mut pairs = Vec::new();
            for d in 0..n {
                m.sample_shared(3, d, &mut w0);
                pm.start(3, d, &w0, &[], &mut state);
                pm.sample_year(3, d, 1, &mut state, &mut w1);
                let u = |w: &Worker| (w.data.col(Column::EqiChange)[0] - base) / 1.5;
                pairs.push((u(&w0), u(&w1)));
            }
            let mean = |k: usize| {
                pairs
                    .iter()
                    .map(|p| if k == 0 { p.0 } else { p.1 })
                    .sum::<f64>()
                    / n as f64
            };
            let (m0, m1) = (mean(0), mean(1));
            let cov = pairs.iter().map(|p| (p.0 - m0) * (p.1 - m1)).sum::<f64>();
            let var = |k: usize, m: f64| {
                pairs
                    .iter()
                    .map(|p| (if k == 0 { p.0 } else { p.1 } - m).powi(2))
                    .sum::<f64>()
            };
            let r = cov / (var(0, m0) * var(1, m1)).sqrt();
            assert!((r - phi).abs() < 0.05, "ar1 {phi}: correlation {r}");
            // Each year's shock is still standard normal.
            assert!((var(1, m1) / n as f64 - 1.0).abs() < 0.05);
        }
    }
}
