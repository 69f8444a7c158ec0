//! Region noise models on numeric columns (docs/model.md §3.1).
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
        self.group_factors(n_groups, rng, z_group);
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

    /// [`apply`](Self::apply) for a later year of a path, with shocks that persist: each
    /// region's standardised shock `u = ρ·Z_g + √(1 − ρ²)·Z_i` becomes
    /// `u_t = φ·u_{t−1} + √(1 − φ²)·η_t`, with `η_t` the year's fresh `ρ·Z_g + √(1 − ρ²)·Z_i`
    /// (so `u_t` is still standard normal, group-correlated as before, and correlated φ with
    /// last year's). `prev` holds `u_{t−1}` and receives `u_t`. The same draw order as
    /// [`apply`](Self::apply); a truncation window redraws the year's idiosyncratic part.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_persistent(
        &self,
        base: &[f64],
        group_idx: &[u32],
        n_groups: usize,
        rng: &mut Rng,
        z_group: &mut Vec<f64>,
        phi: f64,
        prev: &mut [f64],
        out: &mut [f64],
    ) -> usize {
        crate::simd::with_simd(
            #[inline(always)]
            || self.persistent_here(base, group_idx, n_groups, rng, z_group, phi, prev, out),
        )
    }

    /// [`apply_persistent`](Self::apply_persistent), compiled into its caller.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn persistent_here(
        &self,
        base: &[f64],
        group_idx: &[u32],
        n_groups: usize,
        rng: &mut Rng,
        z_group: &mut Vec<f64>,
        phi: f64,
        prev: &mut [f64],
        out: &mut [f64],
    ) -> usize {
        self.group_factors(n_groups, rng, z_group);
        let c = (1.0 - phi * phi).max(0.0).sqrt();
        let rho = self.rho;
        let s = c * (1.0 - rho * rho).max(0.0).sqrt();
        let n = out.len().min(base.len()).min(prev.len());
        let (out, base) = (&mut out[..n], &base[..n]);
        for o in out.iter_mut() {
            *o = std_normal(rng);
        }
        // Everything in u_t but the idiosyncratic part of the year's innovation.
        let fixed = |i: usize| {
            let g = group_idx
                .get(i)
                .and_then(|&k| z_group.get(k as usize))
                .map_or(0.0, |z| rho * z);
            phi * prev[i] + c * g
        };
        self.transform(base, &fixed, s, out);
        let windowed = self.min > f64::NEG_INFINITY || self.max < f64::INFINITY;
        let impossible = if windowed {
            self.redraw_outside(base, &fixed, s, rng, out)
        } else {
            0
        };
        self.shocks_into(base, out, &mut prev[..n]);
        impossible
    }

    /// The standardised shocks `u` behind the values `out` drawn from `base` (0 where σ is
    /// 0 or the value says nothing of the shock): what [`apply_persistent`]
    /// (Self::apply_persistent) carries from one year to the next.
    pub fn shocks_into(&self, base: &[f64], out: &[f64], u: &mut [f64]) {
        for (i, ((u, &b), &v)) in u.iter_mut().zip(base).zip(out).enumerate() {
            let sigma = self.sigma_at(i);
            let e = match self.kind {
                NoiseKind::Additive => v - b,
                NoiseKind::Multiplicative if b != 0.0 && v / b > 0.0 => {
                    (v / b).ln() + 0.5 * sigma * sigma
                }
                NoiseKind::Multiplicative => 0.0,
            };
            *u = if sigma > 0.0 { e / sigma } else { 0.0 };
        }
    }

    /// The year's group factors Z_g into `z_group` (zeros, and no draws, when ρ = 0).
    #[inline(always)]
    fn group_factors(&self, n_groups: usize, rng: &mut Rng, z_group: &mut Vec<f64>) {
        z_group.clear();
        z_group.resize(n_groups, 0.0);
        if self.rho > 0.0 {
            for z in z_group.iter_mut() {
                *z = std_normal(rng);
            }
        }
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
mod tests;
