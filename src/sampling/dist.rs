//! Sampling the distribution families of [`crate::model::param::Dist`] (docs/model.md §3.1).
//!
//! Truncation to `[min, max]` never clamps samples. How it is done depends on the family:
//! - **uniform, triangular**: the inverse-CDF method restricted to the window,
//!   `x = F⁻¹(F(min) + u·(F(max) − F(min)))`. One uniform per draw, no rejection loop.
//! - **normal, lognormal**: up to [`DIRECT_TRIES`] plain draws (cheap, and accepted at once
//!   for the usual wide windows such as `min = 0` on a positive quantity), then the
//!   inverse-CDF method as above. Either way the value has exactly the truncated
//!   distribution, whatever the window's mass. The normal CDF is evaluated on the lighter
//!   tail (see [`special::truncated_std_normal`]) so windows far in a tail keep their
//!   precision.
//! - **beta, PERT**: rejection — draw from the full distribution until the value lands in the
//!   window — for at most [`REJECTION_TRIES`] tries, then the inverse-CDF method with the
//!   incomplete beta function inverted by bisection. Each draw therefore does a bounded amount
//!   of work and never hangs, even for a tiny window.
//!
//! [`check_truncation`] rejects windows that hold less than [`MIN_WINDOW_MASS`] of the
//! probability, so a mistyped window is reported during validation instead of silently
//! sampling from a sliver of the distribution. [`Uncertain::sample`] assumes the check has
//! passed; if it has not, it still returns promptly (a value in or at the edge of the window).

use crate::model::param::{Dist, Uncertain};
use crate::sampling::rng::{open01, std_normal};
use crate::sampling::special::{beta_cdf, norm_mass, truncated_std_normal};
use rand_distr::Distribution;

/// The smallest probability mass a truncation window may hold. Below it, draws would come
/// from a region the distribution considers practically impossible, which is almost always a
/// typo in `min`/`max`.
pub const MIN_WINDOW_MASS: f64 = 1e-6;

/// Rejection tries for truncated beta/PERT before switching to the inverse CDF. With a window
/// holding 10% of the mass, the switch happens in 0.9⁶⁴ ≈ 0.1% of draws.
pub const REJECTION_TRIES: usize = 64;

/// Plain normal draws tried before the inverse-CDF method for a truncated normal or
/// lognormal. The inverse CDF costs three erfc evaluations (~1 µs); a window holding half the
/// mass needs it in only 1/16 of draws.
pub const DIRECT_TRIES: usize = 4;

/// Bisection steps for the beta inverse CDF: 2⁻⁶⁰ of the unit interval is below f64 resolution.
const BISECTION_STEPS: usize = 60;

/// Shape parameters of the beta distribution behind a PERT(low, mode, high) with λ = 4.
pub fn pert_shape(low: f64, mode: f64, high: f64) -> (f64, f64) {
    let r = high - low;
    (1.0 + 4.0 * (mode - low) / r, 1.0 + 4.0 * (high - mode) / r)
}

/// The family's own support, before truncation.
fn natural_support(d: &Dist) -> (f64, f64) {
    d.natural_support()
}

fn family_name(d: &Dist) -> &'static str {
    match d {
        Dist::Fixed(_) => "fixed",
        Dist::Normal { .. } => "normal",
        Dist::LogNormal { .. } => "lognormal",
        Dist::Uniform { .. } => "uniform",
        Dist::Triangular { .. } => "triangular",
        Dist::Beta { .. } => "beta",
        Dist::Pert { .. } => "pert",
    }
}

/// CDF of the triangular distribution on [low, high] with the given mode.
pub(crate) fn triangular_cdf(low: f64, mode: f64, high: f64, x: f64) -> f64 {
    if x <= low {
        0.0
    } else if x >= high {
        1.0
    } else if x <= mode {
        (x - low) * (x - low) / ((high - low) * (mode - low))
    } else {
        1.0 - (high - x) * (high - x) / ((high - low) * (high - mode))
    }
}

fn triangular_inv(low: f64, mode: f64, high: f64, u: f64) -> f64 {
    let f_mode = (mode - low) / (high - low);
    if u < f_mode {
        low + (u * (high - low) * (mode - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
    }
}

/// The (alpha, beta, low, high) of a beta-type family.
fn beta_params(d: &Dist) -> Option<(f64, f64, f64, f64)> {
    match *d {
        Dist::Beta {
            alpha,
            beta,
            low,
            high,
        } => Some((alpha, beta, low, high)),
        Dist::Pert { low, mode, high } => {
            let (a, b) = pert_shape(low, mode, high);
            Some((a, b, low, high))
        }
        _ => None,
    }
}

/// Standard normal bounds of a window on a normal (or on the log of a lognormal).
fn z_window(mean: f64, sd: f64, lo: f64, hi: f64) -> (f64, f64) {
    ((lo - mean) / sd, (hi - mean) / sd)
}

fn ln_or_neg_inf(x: f64) -> f64 {
    if x > 0.0 { x.ln() } else { f64::NEG_INFINITY }
}

/// Probability mass of the truncation window `[min, max]` under the untruncated family.
/// Analytic for every family (the incomplete beta for beta and PERT).
pub fn window_mass(u: &Uncertain) -> f64 {
    let (lo, hi) = natural_support(&u.dist);
    let (wlo, whi) = (u.min.max(lo), u.max.min(hi));
    match u.dist {
        Dist::Fixed(v) => {
            if (u.min..=u.max).contains(&v) {
                1.0
            } else {
                0.0
            }
        }
        _ if wlo > whi => 0.0,
        Dist::Normal { mean, sd } => {
            let (a, b) = z_window(mean, sd, wlo, whi);
            norm_mass(a, b)
        }
        Dist::LogNormal { mu, sigma } => {
            let (a, b) = z_window(mu, sigma, ln_or_neg_inf(wlo), whi.ln());
            norm_mass(a, b)
        }
        Dist::Uniform { low, high } => (whi - wlo) / (high - low),
        Dist::Triangular { low, mode, high } => {
            triangular_cdf(low, mode, high, whi) - triangular_cdf(low, mode, high, wlo)
        }
        Dist::Beta { .. } | Dist::Pert { .. } => match beta_params(&u.dist) {
            Some((a, b, low, high)) => {
                let s = |x: f64| (x - low) / (high - low);
                beta_cdf(a, b, s(whi)) - beta_cdf(a, b, s(wlo))
            }
            None => 0.0,
        },
    }
}

/// Check that `u`'s parameters can be sampled and that its truncation window holds at least
/// [`MIN_WINDOW_MASS`] of the probability. The message names the window and its mass.
pub fn check_truncation(u: &Uncertain) -> Result<(), String> {
    let family = family_name(&u.dist);
    let bad_params = match u.dist {
        Dist::Fixed(v) => !v.is_finite(),
        Dist::Normal { mean, sd } => !(mean.is_finite() && sd.is_finite() && sd > 0.0),
        Dist::LogNormal { mu, sigma } => !(mu.is_finite() && sigma.is_finite() && sigma > 0.0),
        Dist::Uniform { low, high } => !(low.is_finite() && high.is_finite() && low < high),
        Dist::Triangular { low, mode, high } | Dist::Pert { low, mode, high } => {
            !(low.is_finite() && high.is_finite() && low < high && (low..=high).contains(&mode))
        }
        Dist::Beta {
            alpha,
            beta,
            low,
            high,
        } => {
            !(alpha > 0.0 && beta > 0.0 && alpha.is_finite() && beta.is_finite())
                || !(low.is_finite() && high.is_finite() && low < high)
        }
    };
    if bad_params {
        return Err(format!(
            "invalid parameters for a {family} distribution: {:?}",
            u.dist
        ));
    }
    if u.min.is_nan() || u.max.is_nan() || u.min >= u.max {
        return Err(format!(
            "truncation window [{}, {}] is empty: max must exceed min",
            u.min, u.max
        ));
    }
    let mass = window_mass(u);
    if mass.is_nan() || mass < MIN_WINDOW_MASS {
        return Err(format!(
            "truncation window [{}, {}] holds only {mass:.3e} of the {family} distribution's \
             probability (at least {MIN_WINDOW_MASS:e} is required); widen min/max or change \
             the distribution",
            u.min, u.max
        ));
    }
    Ok(())
}

/// Inverse CDF of Beta(a, b) restricted to standardized [ylo, yhi], by bisection.
fn beta_inv_window(a: f64, b: f64, ylo: f64, yhi: f64, u: f64) -> f64 {
    let (flo, fhi) = (beta_cdf(a, b, ylo), beta_cdf(a, b, yhi));
    let target = flo + u * (fhi - flo);
    let (mut lo, mut hi) = (ylo, yhi);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (lo + hi);
        if beta_cdf(a, b, mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A standard normal restricted to [a, b]: [`DIRECT_TRIES`] plain draws, then the inverse
/// CDF. Accepting the first plain draw inside the window and falling back to an exact
/// truncated draw keeps the result exactly truncated-normal.
fn window_std_normal<R: rand::Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> f64 {
    for _ in 0..DIRECT_TRIES {
        let z = std_normal(rng);
        if z >= a && z <= b {
            return z;
        }
    }
    truncated_std_normal(a, b, open01(rng))
}

fn sample_beta<R: rand::Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> f64 {
    match rand_distr::Beta::new(a, b) {
        Ok(d) => d.sample(rng),
        // Only reachable with unvalidated parameters; check_truncation reports them.
        Err(_) => f64::NAN,
    }
}

impl Uncertain {
    /// Whether the window `[min, max]` cuts into the family's own support.
    pub fn is_truncated(&self) -> bool {
        let (lo, hi) = natural_support(&self.dist);
        self.min > lo || self.max < hi
    }

    /// One draw. Truncation is honoured by the inverse CDF or by bounded rejection (see the
    /// module documentation); the result lies in `[min, max]`.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let truncated = self.is_truncated();
        let (lo, hi) = natural_support(&self.dist);
        let (wlo, whi) = (self.min.max(lo), self.max.min(hi));
        let x = match self.dist {
            Dist::Fixed(v) => return v,
            Dist::Normal { mean, sd } => {
                if !truncated {
                    return mean + sd * std_normal(rng);
                }
                let (a, b) = z_window(mean, sd, wlo, whi);
                mean + sd * window_std_normal(a, b, rng)
            }
            Dist::LogNormal { mu, sigma } => {
                if !truncated {
                    return (mu + sigma * std_normal(rng)).exp();
                }
                let (a, b) = z_window(mu, sigma, ln_or_neg_inf(wlo), whi.ln());
                (mu + sigma * window_std_normal(a, b, rng)).exp()
            }
            Dist::Uniform { .. } => wlo + (whi - wlo) * open01(rng),
            Dist::Triangular { low, mode, high } => {
                let u = open01(rng);
                if !truncated {
                    return triangular_inv(low, mode, high, u);
                }
                let flo = triangular_cdf(low, mode, high, wlo);
                let fhi = triangular_cdf(low, mode, high, whi);
                triangular_inv(low, mode, high, flo + u * (fhi - flo))
            }
            Dist::Beta { .. } | Dist::Pert { .. } => {
                let Some((a, b, low, high)) = beta_params(&self.dist) else {
                    return f64::NAN;
                };
                let scale = high - low;
                if !truncated {
                    return low + scale * sample_beta(a, b, rng);
                }
                for _ in 0..REJECTION_TRIES {
                    let x = low + scale * sample_beta(a, b, rng);
                    if x >= wlo && x <= whi {
                        return x;
                    }
                }
                let y =
                    beta_inv_window(a, b, (wlo - low) / scale, (whi - low) / scale, open01(rng));
                low + scale * y
            }
        };
        // Rounding guard only: the inverse-CDF value is inside the window up to an ulp of
        // arithmetic; this is not truncation by clamping (no mass is moved to the bounds).
        if x.is_nan() { x } else { x.clamp(wlo, whi) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::stream;
    use crate::sampling::special::norm_cdf;
    use approx::assert_relative_eq;

    const N: usize = 200_000;

    fn draws(u: &Uncertain, seed: u64) -> Vec<f64> {
        let mut r = stream(seed, 0, 0);
        (0..N).map(|_| u.sample(&mut r)).collect()
    }

    fn mean_var(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    fn un(dist: Dist) -> Uncertain {
        Uncertain {
            dist,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
        }
    }

    /// Mean within 5 standard errors, variance within 3%.
    fn check_moments(u: &Uncertain, mean: f64, var: f64) {
        let x = draws(u, 11);
        let (m, v) = mean_var(&x);
        let se = (var / N as f64).sqrt();
        assert!(
            (m - mean).abs() < 5.0 * se,
            "{u:?}: mean {m} vs {mean} (se {se})"
        );
        assert_relative_eq!(v, var, max_relative = 0.03);
    }

    #[test]
    fn moments_of_every_family() {
        check_moments(&un(Dist::Normal { mean: 3.0, sd: 2.0 }), 3.0, 4.0);
        let (mu, s) = (1.0f64, 0.4f64);
        let ln_mean = (mu + 0.5 * s * s).exp();
        let ln_var = ((s * s).exp() - 1.0) * (2.0 * mu + s * s).exp();
        check_moments(&un(Dist::LogNormal { mu, sigma: s }), ln_mean, ln_var);
        check_moments(
            &un(Dist::Uniform {
                low: -1.0,
                high: 5.0,
            }),
            2.0,
            3.0,
        );
        let (a, m, c) = (1.0, 2.0, 6.0);
        let tri_var = (a * a + m * m + c * c - a * m - a * c - m * c) / 18.0;
        check_moments(
            &un(Dist::Triangular {
                low: a,
                mode: m,
                high: c,
            }),
            (a + m + c) / 3.0,
            tri_var,
        );
        let (al, be, lo, hi) = (2.0f64, 5.0f64, 10.0, 20.0);
        let w = hi - lo;
        let bvar = al * be / ((al + be).powi(2) * (al + be + 1.0));
        check_moments(
            &un(Dist::Beta {
                alpha: al,
                beta: be,
                low: lo,
                high: hi,
            }),
            lo + w * al / (al + be),
            w * w * bvar,
        );
        let (pa, pb) = pert_shape(a, m, c);
        let pvar = pa * pb / ((pa + pb).powi(2) * (pa + pb + 1.0)) * (c - a) * (c - a);
        check_moments(
            &un(Dist::Pert {
                low: a,
                mode: m,
                high: c,
            }),
            (a + 4.0 * m + c) / 6.0,
            pvar,
        );
        let f = un(Dist::Fixed(7.5));
        assert_eq!(f.sample(&mut stream(0, 0, 0)), 7.5);
    }

    #[test]
    fn truncated_normal_has_the_truncated_mean() {
        // E[X | a < X < b] = μ + σ (φ(α) − φ(β)) / (Φ(β) − Φ(α)).
        let u = Uncertain {
            dist: Dist::Normal { mean: 0.0, sd: 1.0 },
            min: 0.5,
            max: 2.0,
        };
        let phi = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let want = (phi(0.5) - phi(2.0)) / (norm_cdf(2.0) - norm_cdf(0.5));
        let (m, v) = mean_var(&draws(&u, 3));
        assert!(
            (m - want).abs() < 5.0 * (v / N as f64).sqrt(),
            "{m} vs {want}"
        );
    }

    fn assert_no_point_mass(u: &Uncertain) {
        let x = draws(u, 5);
        let (lo, hi) = u.support();
        assert!(
            x.iter().all(|v| *v >= lo && *v <= hi),
            "{u:?}: draw outside window"
        );
        let at_bound = x.iter().filter(|v| **v == lo || **v == hi).count();
        assert!(
            at_bound <= 1,
            "{u:?}: {at_bound} draws sit exactly on a bound"
        );
        let mut s = x.clone();
        s.sort_by(f64::total_cmp);
        let dups = s.windows(2).filter(|w| w[0] == w[1]).count();
        // 52-bit uniforms: even 2e5 draws collide rarely; a clamp would give thousands.
        assert!(dups < 20, "{u:?}: {dups} repeated values");
    }

    #[test]
    fn truncation_leaves_no_point_mass() {
        let t = |dist, min, max| Uncertain { dist, min, max };
        assert_no_point_mass(&t(Dist::Normal { mean: 0.0, sd: 1.0 }, -0.5, 1.0));
        assert_no_point_mass(&t(Dist::Normal { mean: 0.0, sd: 1.0 }, 4.0, 4.5));
        assert_no_point_mass(&t(
            Dist::LogNormal {
                mu: 0.0,
                sigma: 1.0,
            },
            0.5,
            3.0,
        ));
        assert_no_point_mass(&t(
            Dist::Uniform {
                low: 0.0,
                high: 10.0,
            },
            2.0,
            3.0,
        ));
        assert_no_point_mass(&t(
            Dist::Triangular {
                low: 0.0,
                mode: 1.0,
                high: 4.0,
            },
            0.5,
            3.5,
        ));
        let beta = Dist::Beta {
            alpha: 2.0,
            beta: 3.0,
            low: 0.0,
            high: 1.0,
        };
        assert_no_point_mass(&t(beta, 0.2, 0.6));
        // A narrow beta window exercises the inverse-CDF fallback.
        assert_no_point_mass(&t(beta, 0.95, 0.99));
        assert_no_point_mass(&t(
            Dist::Pert {
                low: 0.0,
                mode: 1.0,
                high: 4.0,
            },
            2.0,
            4.0,
        ));
    }

    #[test]
    fn truncated_beta_fallback_matches_window_distribution() {
        // Mass of [0.95, 0.99] under Beta(2, 3) is ≈ 0.0013, so nearly every draw takes the
        // bisection path. Its median must match the window's conditional median.
        let u = Uncertain {
            dist: Dist::Beta {
                alpha: 2.0,
                beta: 3.0,
                low: 0.0,
                high: 1.0,
            },
            min: 0.95,
            max: 0.99,
        };
        let mut r = stream(9, 0, 0);
        let mut x: Vec<f64> = (0..4000).map(|_| u.sample(&mut r)).collect();
        x.sort_by(f64::total_cmp);
        let med = x[2000];
        let (f1, f2) = (beta_cdf(2.0, 3.0, 0.95), beta_cdf(2.0, 3.0, 0.99));
        let fm = beta_cdf(2.0, 3.0, med);
        assert_relative_eq!((fm - f1) / (f2 - f1), 0.5, epsilon = 0.04);
    }

    #[test]
    fn empty_windows_are_clear_errors() {
        let u = Uncertain {
            dist: Dist::Normal { mean: 0.0, sd: 1.0 },
            min: 8.0,
            max: 9.0,
        };
        let e = check_truncation(&u).unwrap_err();
        assert!(e.contains("[8, 9]") && e.contains("e-16"), "{e}");
        // Sampling it anyway returns promptly, inside the window.
        let x = u.sample(&mut stream(0, 0, 0));
        assert!((8.0..=9.0).contains(&x));
        let beta = Uncertain {
            dist: Dist::Beta {
                alpha: 50.0,
                beta: 50.0,
                low: 0.0,
                high: 1.0,
            },
            min: 0.95,
            max: 1.0,
        };
        assert!(check_truncation(&beta).unwrap_err().contains("beta"));
        let ok = Uncertain { min: 0.5, ..beta };
        assert!(check_truncation(&ok).is_ok());
        let x = beta.sample(&mut stream(0, 0, 0));
        assert!((0.95..=1.0).contains(&x));
        for u in [
            Uncertain {
                dist: Dist::Uniform {
                    low: 0.0,
                    high: 1.0,
                },
                min: 0.2,
                max: 0.3,
            },
            Uncertain {
                dist: Dist::LogNormal {
                    mu: 0.0,
                    sigma: 0.5,
                },
                min: 0.5,
                max: 2.0,
            },
            Uncertain {
                dist: Dist::Triangular {
                    low: 0.0,
                    mode: 0.5,
                    high: 1.0,
                },
                min: 0.0,
                max: 0.1,
            },
        ] {
            assert!(check_truncation(&u).is_ok(), "{u:?}");
        }
        let far = Uncertain {
            dist: Dist::LogNormal {
                mu: 0.0,
                sigma: 0.1,
            },
            min: 3.0,
            max: f64::INFINITY,
        };
        assert!(check_truncation(&far).is_err());
        let fixed_out = Uncertain {
            dist: Dist::Fixed(5.0),
            min: 0.0,
            max: 1.0,
        };
        assert!(check_truncation(&fixed_out).is_err());
        let bad = Uncertain {
            dist: Dist::Normal {
                mean: 0.0,
                sd: -1.0,
            },
            ..Uncertain::fixed(0.0)
        };
        assert!(
            check_truncation(&bad)
                .unwrap_err()
                .contains("invalid parameters")
        );
    }

    #[test]
    fn window_mass_matches_closed_forms() {
        let u = Uncertain {
            dist: Dist::Normal { mean: 1.0, sd: 2.0 },
            min: 1.0,
            max: f64::INFINITY,
        };
        assert_relative_eq!(window_mass(&u), 0.5, max_relative = 1e-14);
        let u = Uncertain {
            dist: Dist::Uniform {
                low: 0.0,
                high: 4.0,
            },
            min: 1.0,
            max: 9.0,
        };
        assert_relative_eq!(window_mass(&u), 0.75, max_relative = 1e-14);
        let u = Uncertain {
            dist: Dist::LogNormal {
                mu: 2.0,
                sigma: 0.3,
            },
            min: 2f64.exp(),
            max: f64::INFINITY,
        };
        assert_relative_eq!(window_mass(&u), 0.5, max_relative = 1e-12);
        let u = Uncertain {
            dist: Dist::Triangular {
                low: 0.0,
                mode: 1.0,
                high: 2.0,
            },
            min: 1.0,
            max: 5.0,
        };
        assert_relative_eq!(window_mass(&u), 0.5, max_relative = 1e-14);
        let u = Uncertain {
            dist: Dist::Pert {
                low: 0.0,
                mode: 1.0,
                high: 2.0,
            },
            min: 1.0,
            max: 5.0,
        };
        assert_relative_eq!(window_mass(&u), 0.5, max_relative = 1e-12);
    }
}
