//! Region noise models on numeric columns (MODEL.md §3.1).
//!
//! For region i with noise scale σ_i and group g(i):
//! `ε_i = σ_i · (ρ · Z_g(i) + √(1 − ρ²) · Z_i)`, with independent standard normals Z_g (one
//! per group, shared by the group's regions) and Z_i. Each ε_i is N(0, σ_i²); two regions of
//! the same group have corr(ε_i, ε_j) = ρ², regions of different groups are independent.
//! This gives provincial or basin-wide shocks without an n×n covariance matrix.
//!
//! - **Additive**: `x_i = base_i + ε_i` (e.g. ΔQ).
//! - **Multiplicative**: `x_i = base_i · exp(ε_i − σ_i²/2)`, so `E[x_i] = base_i`
//!   (mean-preserving; e.g. revenue).
//!
//! **Truncation** to `[min, max]` redraws the idiosyncratic Z_i, never the group factor
//! (which other regions share) and never by clamping: up to [`NOISE_REJECTION_TRIES`] plain
//! redraws, then one exact draw of Z_i from the normal restricted to the interval of Z_i
//! values that land in the window (inverse CDF). When that interval has no probability —
//! σ_i = 0 or ρ = 1 with the value outside the window, or a window beyond ~37σ of normal
//! tail — no draw of Z_i can satisfy the window: the region then gets its base value moved
//! to the nearest point of the window, and [`NoiseModel::apply`] counts it in its return
//! value so the caller can warn. It never loops without bound and never panics.
//!
//! An additive model without a group factor (ρ = 0) samples a region exactly on its
//! window's edge (a damage index of 0 in [0, 1]) without redraws: the window there asks
//! for Z_i ≥ 0 (≤ 0 at the upper edge), and Z_i given its sign is ±|Z_i|.

use crate::model::region::Column;
use crate::sampling::rng::{Rng, open01, std_normal};
use crate::sampling::special::{exp, exp_in_place, norm_mass, truncated_std_normal};

/// Plain redraws of Z_i before the exact inverse-CDF draw. A plain redraw costs about one
/// normal; the exact draw evaluates the normal CDF five times (some 80 normals' worth), so
/// plain redraws pay until a window's chance is well below one half. A value on its
/// window's edge (a damage index of 0 in [0, 1]) has a chance of one half: with 16 tries,
/// 1 such region in 65,536 reaches the exact draw instead of 1 in 256 with 8 (the exact
/// draws were 2% of a W1 run). A window of small chance wastes at most 16 redraws first.
pub const NOISE_REJECTION_TRIES: usize = 16;

/// How the noise enters the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    /// `base + ε`.
    Additive,
    /// `base · exp(ε − σ²/2)` (mean-preserving).
    Multiplicative,
}

/// The noise scale: one σ for all regions, or one per region (e.g. from a CSV column).
#[derive(Debug, Clone, PartialEq)]
pub enum Sigma {
    Const(f64),
    PerRegion(Vec<f64>),
}

/// A noise model on one region column.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseModel {
    pub column: Column,
    pub kind: NoiseKind,
    pub sigma: Sigma,
    /// Loading on the group common factor, in [0, 1]; 0 means no group factor.
    pub rho: f64,
    /// Truncation window of the resulting value (±∞ for none).
    pub min: f64,
    pub max: f64,
}

impl NoiseModel {
    /// Check the model against the region set it will be applied to. The message names the
    /// column and the offending value.
    pub fn validate(&self, n_regions: usize) -> Result<(), String> {
        let col = self.column.name();
        if !(0.0..=1.0).contains(&self.rho) {
            return Err(format!(
                "noise on {col}: rho = {} must lie in [0, 1]",
                self.rho
            ));
        }
        if self.min.is_nan() || self.max.is_nan() || self.min >= self.max {
            return Err(format!(
                "noise on {col}: truncation window [{}, {}] is empty",
                self.min, self.max
            ));
        }
        let bad_sigma = |s: f64| !(s.is_finite() && s >= 0.0);
        match &self.sigma {
            Sigma::Const(s) if bad_sigma(*s) => Err(format!(
                "noise on {col}: sigma = {s} must be a finite number ≥ 0"
            )),
            Sigma::PerRegion(v) if v.len() != n_regions => Err(format!(
                "noise on {col}: {} per-region sigmas for {n_regions} regions",
                v.len()
            )),
            Sigma::PerRegion(v) => match v.iter().position(|s| bad_sigma(*s)) {
                Some(i) => Err(format!(
                    "noise on {col}: sigma of region {} is {}; it must be a finite number ≥ 0",
                    i + 1,
                    v[i]
                )),
                None => Ok(()),
            },
            Sigma::Const(_) => Ok(()),
        }
    }

    #[inline]
    fn value(&self, base: f64, eps: f64, sigma: f64) -> f64 {
        match self.kind {
            NoiseKind::Additive => base + eps,
            NoiseKind::Multiplicative => base * exp(eps - 0.5 * sigma * sigma),
        }
    }

    /// Whether `v` lies in the window (false for NaN), without a branch.
    #[inline]
    fn inside(&self, v: f64) -> bool {
        (v >= self.min) & (v <= self.max)
    }

    /// The interval of ε that puts the value in the window.
    fn eps_window(&self, base: f64, sigma: f64) -> (f64, f64) {
        match self.kind {
            NoiseKind::Additive => (self.min - base, self.max - base),
            NoiseKind::Multiplicative => {
                let half = 0.5 * sigma * sigma;
                let ln = |r: f64| if r > 0.0 { r.ln() } else { f64::NEG_INFINITY };
                if base > 0.0 {
                    (ln(self.min / base) + half, ln(self.max / base) + half)
                } else if base < 0.0 {
                    (ln(self.max / base) + half, ln(self.min / base) + half)
                } else if self.inside(0.0) {
                    (f64::NEG_INFINITY, f64::INFINITY)
                } else {
                    (f64::INFINITY, f64::NEG_INFINITY)
                }
            }
        }
    }

    /// Perturb `base` into `out` (both of length n). `group_idx[i] < n_groups` is region i's
    /// group; `z_group` is a scratch buffer reused across calls (no allocation once it has
    /// capacity `n_groups`). Draw order from `rng`: the group factors (only when ρ > 0), then
    /// one Z_i per region in order, then, region by region in order, the redraws of the
    /// values that fell outside a truncation window.
    ///
    /// The first two stages are tight loops (the normals straight into `out`, then the
    /// transform with the model's kind and σ decided once, not per region), which is most
    /// of a Monte Carlo draw's sampling time.
    ///
    /// Returns the number of regions whose window could not be met (see the module
    /// documentation); 0 in any sensible model.
    pub fn apply(
        &self,
        base: &[f64],
        group_idx: &[u32],
        n_groups: usize,
        rng: &mut Rng,
        z_group: &mut Vec<f64>,
        out: &mut [f64],
    ) -> usize {
        crate::simd::with_simd(
            #[inline(always)]
            || self.apply_here(base, group_idx, n_groups, rng, z_group, out),
        )
    }

    /// [`apply`](Self::apply), compiled into its caller.
    #[inline(always)]
    fn apply_here(
        &self,
        base: &[f64],
        group_idx: &[u32],
        n_groups: usize,
        rng: &mut Rng,
        z_group: &mut Vec<f64>,
        out: &mut [f64],
    ) -> usize {
        z_group.clear();
        z_group.resize(n_groups, 0.0);
        if self.rho > 0.0 {
            for z in z_group.iter_mut() {
                *z = std_normal(rng);
            }
        }
        let rho = self.rho;
        let s = (1.0 - rho * rho).max(0.0).sqrt();
        let n = out.len().min(base.len());
        let (out, base) = (&mut out[..n], &base[..n]);
        // A local copy of the generator stays in registers through the loop (through the
        // `&mut` it is reloaded and stored around every normal); the same draws either way.
        let mut local = rng.clone();
        for o in out.iter_mut() {
            *o = std_normal(&mut local);
        }
        *rng = local;
        let windowed = self.min > f64::NEG_INFINITY || self.max < f64::INFINITY;
        if windowed && self.rho == 0.0 && self.kind == NoiseKind::Additive {
            self.sign_at_edges(base, out);
        }
        // Group term ρ·Z_g of region i (0 for a region without a valid group).
        let group = |i: usize| {
            group_idx
                .get(i)
                .and_then(|&k| z_group.get(k as usize))
                .map_or(0.0, |z| rho * z)
        };
        self.transform(base, &group, s, out);
        let mut impossible = 0;
        if windowed {
            impossible = self.redraw_outside(base, &group, s, rng, out);
        }
        impossible
    }

    /// Region i's σ.
    #[inline(always)]
    fn sigma_at(&self, i: usize) -> f64 {
        match &self.sigma {
            Sigma::Const(c) => *c,
            Sigma::PerRegion(v) => v.get(i).copied().unwrap_or(0.0),
        }
    }

    /// Set the sign of the normals `z` of the regions whose `base` sits on the window's
    /// edge, for additive noise without a group factor: the window asks for Z_i ≥ 0 at the
    /// lower edge (a damage index of 0 in [0, 1]) and Z_i ≤ 0 at the upper one. The standard
    /// normal is symmetric, so Z_i given its sign is distributed as ±|Z_i|: the sign is set
    /// instead of redrawing half the time. The same truncated distribution as the redraws,
    /// with one normal per region (values beyond the window's far edge are still redrawn).
    #[inline(always)]
    fn sign_at_edges(&self, base: &[f64], z: &mut [f64]) {
        // Exactly on the edge: a base a hair inside has an asymmetric window.
        #[allow(clippy::float_cmp)]
        for (z, &b) in z.iter_mut().zip(base) {
            let a = z.abs();
            *z = if b == self.min {
                a
            } else if b == self.max {
                -a
            } else {
                *z
            };
        }
    }

    /// Turn each region's normal in `out` into its value: `base` perturbed by σ·(ρ·Z_g +
    /// s·Z_i), with `group(i)` = ρ·Z_g. The kind and a constant σ are decided once, not per
    /// region.
    #[inline(always)]
    fn transform(&self, base: &[f64], group: &impl Fn(usize) -> f64, s: f64, out: &mut [f64]) {
        match (&self.sigma, self.kind) {
            (Sigma::Const(sigma), NoiseKind::Additive) => {
                for (i, (o, &b)) in out.iter_mut().zip(base).enumerate() {
                    *o = b + sigma * (group(i) + s * *o);
                }
            }
            (Sigma::Const(sigma), NoiseKind::Multiplicative) => {
                // The exponents first, then `exp` over the column in one pass that
                // vectorises ([`exp_in_place`]), then the bases.
                let half = 0.5 * sigma * sigma;
                for (i, o) in out.iter_mut().enumerate() {
                    *o = sigma * (group(i) + s * *o) - half;
                }
                exp_in_place(out);
                for (o, &b) in out.iter_mut().zip(base) {
                    *o *= b;
                }
            }
            _ => {
                for (i, (o, &b)) in out.iter_mut().zip(base).enumerate() {
                    let sigma = self.sigma_at(i);
                    *o = self.value(b, sigma * (group(i) + s * *o), sigma);
                }
            }
        }
    }

    /// Redraw, in region order, the values in `out` that fell outside the window; returns
    /// the number of regions whose window could not be met.
    ///
    /// The generator in a local (kept in registers through the loop) and the plain redraws
    /// inlined: a damage index at its window's edge redraws about every other region. The
    /// regions to redraw are listed first, chunk by chunk and without branches (whether a
    /// value fell outside is a coin flip there, which a branch per region mispredicted half
    /// the time), then redrawn in region order: the same draws as testing each region in
    /// turn.
    #[inline(always)]
    fn redraw_outside(
        &self,
        base: &[f64],
        group: &impl Fn(usize) -> f64,
        s: f64,
        rng: &mut Rng,
        out: &mut [f64],
    ) -> usize {
        const CHUNK: usize = 256;
        let n = out.len();
        let mut impossible = 0;
        let mut outside = [0u16; CHUNK];
        let mut local = rng.clone();
        for c0 in (0..n).step_by(CHUNK) {
            let chunk = &out[c0..n.min(c0 + CHUNK)];
            let mut k = 0;
            for (t, &v) in chunk.iter().enumerate() {
                outside[k] = t as u16;
                k += usize::from(!self.inside(v));
            }
            for &t in &outside[..k] {
                let i = c0 + usize::from(t);
                out[i] = self.redraw(
                    base[i],
                    self.sigma_at(i),
                    group(i),
                    s,
                    &mut local,
                    &mut impossible,
                );
            }
        }
        *rng = local;
        impossible
    }

    /// Redraw Z_i for a value that fell outside the window.
    #[inline]
    fn redraw(
        &self,
        b: f64,
        sigma: f64,
        g: f64,
        s: f64,
        rng: &mut Rng,
        impossible: &mut usize,
    ) -> f64 {
        for _ in 0..NOISE_REJECTION_TRIES {
            let v = self.value(b, sigma * (g + s * std_normal(rng)), sigma);
            if self.inside(v) {
                return v;
            }
        }
        self.redraw_exact(b, sigma, g, s, rng, impossible)
    }

    /// After [`NOISE_REJECTION_TRIES`] plain redraws: one exact draw of Z_i from the normal
    /// restricted to its window, or the base moved into the window when no Z_i can reach
    /// it (counted in `impossible`).
    #[cold]
    fn redraw_exact(
        &self,
        b: f64,
        sigma: f64,
        g: f64,
        s: f64,
        rng: &mut Rng,
        impossible: &mut usize,
    ) -> f64 {
        // ε = σ(g + s·z) ∈ [elo, ehi]  ⇔  z ∈ [(elo/σ − g)/s, (ehi/σ − g)/s].
        let (elo, ehi) = self.eps_window(b, sigma);
        let scale = sigma * s;
        if scale > 0.0 {
            let za = (elo / sigma - g) / s;
            let zb = (ehi / sigma - g) / s;
            if za < zb && norm_mass(za, zb) > 0.0 {
                let z = truncated_std_normal(za, zb, open01(rng));
                let v = self.value(b, sigma * (g + s * z), sigma);
                // Rounding guard only (z is inside its interval up to an ulp).
                return v.clamp(self.min, self.max);
            }
        }
        *impossible += 1;
        b.clamp(self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::stream;
    use crate::simd::{Tier, with_tier};
    use approx::assert_relative_eq;

    fn model(kind: NoiseKind, sigma: f64, rho: f64) -> NoiseModel {
        NoiseModel {
            column: Column::EqiChange,
            kind,
            sigma: Sigma::Const(sigma),
            rho,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
        }
    }

    /// `draws` applications to `base`, one stream per draw; returns per-draw outputs.
    fn run(
        m: &NoiseModel,
        base: &[f64],
        groups: &[u32],
        n_groups: usize,
        draws: u64,
    ) -> Vec<Vec<f64>> {
        let mut zg = Vec::new();
        let mut out = vec![0.0; base.len()];
        (0..draws)
            .map(|d| {
                let mut r = stream(17, d, 0);
                assert_eq!(
                    m.apply(base, groups, n_groups, &mut r, &mut zg, &mut out),
                    0
                );
                out.clone()
            })
            .collect()
    }

    fn corr(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in x.iter().zip(y) {
            sxy += (a - mx) * (b - my);
            sxx += (a - mx) * (a - mx);
            syy += (b - my) * (b - my);
        }
        sxy / (sxx * syy).sqrt()
    }

    fn column(draws: &[Vec<f64>], i: usize) -> Vec<f64> {
        draws.iter().map(|d| d[i]).collect()
    }

    #[test]
    fn group_factor_gives_within_group_correlation_rho_squared() {
        let rho = 0.7;
        let m = model(NoiseKind::Additive, 2.0, rho);
        let base = [0.0, 1.0, 5.0];
        let groups = [0, 0, 1];
        let d = run(&m, &base, &groups, 2, 40_000);
        let (e0, e1, e2) = (column(&d, 0), column(&d, 1), column(&d, 2));
        // se of a correlation estimate ≈ (1 − r²)/√n ≈ 0.004 here.
        assert_relative_eq!(corr(&e0, &e1), rho * rho, epsilon = 0.02);
        assert!(corr(&e0, &e2).abs() < 0.02);
        // Marginal sd stays σ whatever ρ.
        let sd = (e2.iter().map(|v| (v - 5.0) * (v - 5.0)).sum::<f64>() / e2.len() as f64).sqrt();
        assert_relative_eq!(sd, 2.0, max_relative = 0.02);
    }

    #[test]
    fn multiplicative_noise_preserves_the_mean() {
        let m = NoiseModel {
            sigma: Sigma::PerRegion(vec![0.3, 0.0]),
            ..model(NoiseKind::Multiplicative, 0.0, 0.4)
        };
        let base = [100.0, 50.0];
        let d = run(&m, &base, &[0, 0], 1, 40_000);
        let x0 = column(&d, 0);
        let mean = x0.iter().sum::<f64>() / x0.len() as f64;
        // sd of x0 ≈ 100·√(e^0.09 − 1) ≈ 30.7; se of the mean ≈ 0.15.
        assert_relative_eq!(mean, 100.0, epsilon = 0.8);
        // σ = 0 leaves the region untouched.
        assert!(column(&d, 1).iter().all(|v| (*v - 50.0).abs() < 1e-12));
    }

    #[test]
    fn truncation_redraws_without_point_mass() {
        let m = NoiseModel {
            min: 0.0,
            ..model(NoiseKind::Additive, 0.5, 0.5)
        };
        let base = [0.1, -2.0, 3.0];
        let d = run(&m, &base, &[0, 0, 1], 2, 20_000);
        for i in 0..3 {
            let x = column(&d, i);
            assert!(x.iter().all(|v| *v >= 0.0));
            let zeros = x.iter().filter(|v| **v == 0.0).count();
            assert_eq!(zeros, 0, "region {i}: {zeros} draws clamped to the bound");
        }
        // Region 1 sits 4σ below the window: every value comes from the exact path and must
        // follow the truncated shape, concentrated near 0 (median of the conditional tail).
        let mut x1 = column(&d, 1);
        x1.sort_by(f64::total_cmp);
        assert!(x1[10_000] > 0.0 && x1[10_000] < 0.2, "{}", x1[10_000]);
    }

    #[test]
    fn regions_on_the_window_edge_take_one_normal_of_the_right_sign() {
        // A damage index of 0 in [0, ∞) or of 1 in (−∞, 1], no group factor: the value is
        // the base plus or minus a half-normal, and costs exactly one normal per region
        // (no redraws).
        let sigma = 0.3;
        for (base, min, max, sign) in [
            (0.0, 0.0, f64::INFINITY, 1.0),
            (1.0, f64::NEG_INFINITY, 1.0, -1.0),
        ] {
            let m = NoiseModel {
                min,
                max,
                ..model(NoiseKind::Additive, sigma, 0.0)
            };
            let n = 40_000;
            let b = vec![base; n];
            let (mut zg, mut out) = (Vec::new(), vec![0.0; n]);
            let mut r = stream(3, 0, 0);
            assert_eq!(m.apply(&b, &[], 1, &mut r, &mut zg, &mut out), 0);
            let mut plain = stream(3, 0, 0);
            (0..n).for_each(|_| {
                std_normal(&mut plain);
            });
            assert_eq!(r, plain, "redraws happened");
            let e: Vec<f64> = out.iter().map(|v| sign * (v - base)).collect();
            assert!(e.iter().all(|v| *v >= 0.0));
            // Half-normal: mean σ√(2/π) (se ≈ 0.0009), median 0.6745σ.
            let mean = e.iter().sum::<f64>() / n as f64;
            assert_relative_eq!(
                mean,
                sigma * (2.0 / std::f64::consts::PI).sqrt(),
                epsilon = 0.005
            );
            let below = e.iter().filter(|v| **v < 0.674_49 * sigma).count() as f64 / n as f64;
            assert_relative_eq!(below, 0.5, epsilon = 0.01);
        }
        // A far edge in reach: values beyond it are redrawn, and the result is the normal
        // truncated to [0, c] with c = 0.1/σ: E[Z] = (φ(0) − φ(c)) / (Φ(c) − ½).
        let m = NoiseModel {
            min: 0.0,
            max: 0.1,
            ..model(NoiseKind::Additive, sigma, 0.0)
        };
        let n = 40_000;
        let (mut zg, mut out) = (Vec::new(), vec![0.0; n]);
        assert_eq!(
            m.apply(
                &vec![0.0; n],
                &[],
                1,
                &mut stream(4, 0, 0),
                &mut zg,
                &mut out
            ),
            0
        );
        assert!(out.iter().all(|v| (0.0..=0.1).contains(v)));
        let c = 0.1 / sigma;
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let want = sigma * (phi(0.0) - phi(c)) / (crate::sampling::special::norm_cdf(c) - 0.5);
        let mean = out.iter().sum::<f64>() / n as f64;
        assert_relative_eq!(mean, want, epsilon = 0.0005);
    }

    #[test]
    fn every_simd_copy_draws_the_baseline_bits() {
        // `apply` runs through `with_simd` (here each copy the CPU has, in turn); the body
        // called here directly is compiled for the baseline. Both kinds, a group factor,
        // a window that redraws and a region on its edge.
        let n = 1000;
        let base: Vec<f64> = (0..n).map(|i| f64::from(i as u32 % 9) * 0.15).collect();
        let groups: Vec<u32> = (0..n).map(|i| (i / 40) as u32).collect();
        let tiers = [Tier::Baseline, Tier::Avx2, Tier::Avx512];
        for ((kind, rho), t) in [(NoiseKind::Additive, 0.0), (NoiseKind::Multiplicative, 0.5)]
            .into_iter()
            .flat_map(|k| tiers.map(|t| (k, t)))
        {
            let m = NoiseModel {
                min: 0.0,
                max: 1.0,
                ..model(kind, 0.4, rho)
            };
            let (mut zg, mut a, mut b) = (Vec::new(), vec![0.0; n], vec![0.0; n]);
            let (mut ra, mut rb) = (stream(9, 2, 0), stream(9, 2, 0));
            let ia = with_tier(t, || m.apply(&base, &groups, 25, &mut ra, &mut zg, &mut a));
            let ib = m.apply_here(&base, &groups, 25, &mut rb, &mut zg, &mut b);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{kind:?} {t:?}");
            assert_eq!((ia, ra), (ib, rb));
        }
    }

    #[test]
    fn redraws_follow_region_order() {
        // The documented draw order: the untruncated values first, then, region by region
        // in order, the redraws of those outside the window. 600 regions span three
        // chunks of the branch-free listing, the last one partial.
        let n = 600;
        let base: Vec<f64> = (0..n)
            .map(|i| f64::from(i as u32 % 7) * 0.2 - 0.3)
            .collect();
        let groups: Vec<u32> = (0..n).map(|i| (i / 50) as u32).collect();
        for kind in [NoiseKind::Additive, NoiseKind::Multiplicative] {
            let m = NoiseModel {
                min: 0.0,
                max: 1.0,
                ..model(kind, 0.8, 0.5)
            };
            let free = NoiseModel {
                min: f64::NEG_INFINITY,
                max: f64::INFINITY,
                ..m.clone()
            };
            let (mut zg, mut got, mut want) = (Vec::new(), vec![0.0; n], vec![0.0; n]);
            let mut r = stream(5, 1, 0);
            let got_impossible = m.apply(&base, &groups, 12, &mut r, &mut zg, &mut got);
            let mut rr = stream(5, 1, 0);
            free.apply(&base, &groups, 12, &mut rr, &mut zg, &mut want);
            let s = (1.0 - 0.25f64).sqrt();
            let mut impossible = 0;
            let mut redrawn = 0;
            for i in 0..n {
                if !(want[i] >= 0.0 && want[i] <= 1.0) {
                    let g = 0.5 * zg[groups[i] as usize];
                    want[i] = m.redraw(base[i], 0.8, g, s, &mut rr, &mut impossible);
                    redrawn += 1;
                }
            }
            assert!(redrawn > 100, "{redrawn} redraws");
            assert_eq!(got_impossible, impossible);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{kind:?}");
            // Both consumed the same numbers.
            assert_eq!(r, rr);
        }
    }

    #[test]
    fn impossible_windows_are_counted_not_hung() {
        // σ = 0 and the base is outside the window: nothing can help.
        let m = NoiseModel {
            min: 1.0,
            max: 2.0,
            ..model(NoiseKind::Multiplicative, 0.0, 0.0)
        };
        let mut zg = Vec::new();
        let mut out = [0.0; 2];
        let n = m.apply(
            &[5.0, 1.5],
            &[0, 0],
            1,
            &mut stream(0, 0, 0),
            &mut zg,
            &mut out,
        );
        assert_eq!(n, 1);
        assert_eq!(out, [2.0, 1.5]);
        // ρ = 1: the shared factor decides; out-of-window regions are counted.
        let m = NoiseModel {
            min: 0.0,
            ..model(NoiseKind::Additive, 1.0, 1.0)
        };
        let mut bad = 0;
        for d in 0..200 {
            bad += m.apply(
                &[0.0],
                &[0],
                1,
                &mut stream(0, d, 0),
                &mut zg,
                &mut out[..1],
            );
            assert!(out[0] >= 0.0);
        }
        assert!(bad > 50 && bad < 150, "{bad}");
    }

    #[test]
    fn buffers_are_reused() {
        let m = model(NoiseKind::Additive, 1.0, 0.5);
        let mut zg = Vec::with_capacity(4);
        let ptr = zg.as_ptr();
        let mut out = vec![0.0; 3];
        for d in 0..10 {
            m.apply(
                &[0.0; 3],
                &[0, 1, 3],
                4,
                &mut stream(0, d, 0),
                &mut zg,
                &mut out,
            );
        }
        assert_eq!(zg.as_ptr(), ptr);
    }

    #[test]
    fn validation_names_the_problem() {
        let m = NoiseModel {
            sigma: Sigma::PerRegion(vec![0.1, -1.0]),
            ..model(NoiseKind::Additive, 0.0, 0.0)
        };
        let e = m.validate(2).unwrap_err();
        assert!(e.contains("eqi_change") && e.contains("region 2"), "{e}");
        assert!(
            m.validate(3)
                .unwrap_err()
                .contains("2 per-region sigmas for 3")
        );
        assert!(model(NoiseKind::Additive, 1.0, 1.5).validate(1).is_err());
        assert!(model(NoiseKind::Additive, 1.0, 0.5).validate(1).is_ok());
    }
}
