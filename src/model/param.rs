//! Scalar parameters that may be uncertain (docs/model.md §3.1).
//!
//! In a scenario file any scalar parameter is either a number or a distribution table such
//! as `{ dist = "normal", mean = 800, sd = 20, min = 700 }`. Parsing keeps the raw form;
//! validation ([`Uncertain::from_raw`]) checks the parameters and yields a [`Uncertain`]
//! whose [`central`](Uncertain::central) value is used for the deterministic point
//! estimate. Sampling lives in [`crate::sampling`].

use serde::Deserialize;
use std::collections::BTreeMap;

/// A scalar as written in a scenario file: a number, or a distribution table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawParam {
    Int(i64),
    Float(f64),
    Dist(BTreeMap<String, toml::Value>),
    /// One parameter per year of a multi-year path (docs/model.md §5).
    List(Vec<RawParam>),
}

impl From<f64> for RawParam {
    fn from(v: f64) -> Self {
        RawParam::Float(v)
    }
}

/// A validated distribution family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// A fixed value.
    Fixed(f64),
    Normal {
        mean: f64,
        sd: f64,
    },
    /// `exp(N(mu, sigma²))`; written with `median` and `sigma` (mu = ln median), or with
    /// `mean` and `cv`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    Triangular {
        low: f64,
        mode: f64,
        high: f64,
    },
    /// Beta(alpha, beta) rescaled to [low, high] (default [0, 1]).
    Beta {
        alpha: f64,
        beta: f64,
        low: f64,
        high: f64,
    },
    /// PERT on [low, high] with the given mode (shape λ = 4).
    Pert {
        low: f64,
        mode: f64,
        high: f64,
    },
}

impl Dist {
    /// The family's own support, before truncation.
    pub fn natural_support(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed(v) => (v, v),
            Dist::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Dist::LogNormal { .. } => (0.0, f64::INFINITY),
            Dist::Uniform { low, high }
            | Dist::Triangular { low, high, .. }
            | Dist::Beta { low, high, .. }
            | Dist::Pert { low, high, .. } => (low, high),
        }
    }
}

/// A distribution, optionally truncated to `[min, max]` by resampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uncertain {
    pub dist: Dist,
    pub min: f64,
    pub max: f64,
}

/// The keys each family accepts (besides `dist`, `min` and `max`).
const FAMILY_KEYS: &[(&str, &[&str])] = &[
    ("fixed", &["value"]),
    ("normal", &["mean", "sd"]),
    ("lognormal", &["median", "sigma", "mean", "cv"]),
    ("uniform", &["low", "high"]),
    ("triangular", &["low", "mode", "high"]),
    ("beta", &["alpha", "beta", "low", "high"]),
    ("pert", &["low", "mode", "high"]),
];

impl Uncertain {
    /// A degenerate distribution at `v`.
    pub fn fixed(v: f64) -> Self {
        Uncertain {
            dist: Dist::Fixed(v),
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
        }
    }

    /// True when the value is not random.
    pub fn is_fixed(&self) -> bool {
        matches!(self.dist, Dist::Fixed(_))
    }

    /// The central value used for the point estimate: the mean for normal, uniform and
    /// beta; the mode for triangular and PERT; the median for lognormal; the value for
    /// fixed. Clamped into the truncation window (the point estimate is a single number,
    /// not a draw, so clamping it is not truncation-by-clamping of samples).
    pub fn central(&self) -> f64 {
        let c = match self.dist {
            Dist::Fixed(v) => v,
            Dist::Normal { mean, .. } => mean,
            Dist::LogNormal { mu, .. } => mu.exp(),
            Dist::Uniform { low, high } => 0.5 * (low + high),
            Dist::Triangular { mode, .. } | Dist::Pert { mode, .. } => mode,
            Dist::Beta {
                alpha,
                beta,
                low,
                high,
            } => low + (high - low) * alpha / (alpha + beta),
        };
        c.clamp(self.min, self.max)
    }

    /// The smallest and largest values a draw can take (support ∩ truncation window).
    pub fn support(&self) -> (f64, f64) {
        let (lo, hi) = self.dist.natural_support();
        (lo.max(self.min), hi.min(self.max))
    }

    /// Validate a raw parameter. `Err` carries `(key, value, message)` relative to the
    /// parameter, for the caller to turn into a [`crate::error::Problem`].
    pub fn from_raw(raw: &RawParam) -> Result<Uncertain, ParamError> {
        match raw {
            RawParam::Int(i) => finite_fixed(*i as f64),
            RawParam::Float(f) => finite_fixed(*f),
            RawParam::Dist(table) => from_table(table),
            RawParam::List(items) => Err(ParamError {
                key: String::new(),
                value: format!("a list of {}", items.len()),
                message: "one value per year is allowed only for a formula parameter of a \
                          scenario with a [path] table; elsewhere give a number or a \
                          distribution table"
                    .into(),
            }),
        }
    }
}

/// A problem with one parameter: the sub-key (empty for the parameter itself), the value
/// and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    pub key: String,
    pub value: String,
    pub message: String,
}

fn perr(key: &str, value: impl std::fmt::Display, message: impl Into<String>) -> ParamError {
    ParamError {
        key: key.to_string(),
        value: value.to_string(),
        message: message.into(),
    }
}

fn finite_fixed(v: f64) -> Result<Uncertain, ParamError> {
    if v.is_finite() {
        Ok(Uncertain::fixed(v))
    } else {
        Err(perr(
            "",
            v,
            "must be a finite number (NaN and Inf are not allowed)",
        ))
    }
}

fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Uncertain, ParamError> {
    let keys = Keys {
        table,
        family: family_of(table)?,
    };
    let dist = dist_of(&keys)?;
    let min = keys.num("min")?.unwrap_or(f64::NEG_INFINITY);
    let max = keys.num("max")?.unwrap_or(f64::INFINITY);
    if min >= max {
        return Err(perr(
            "max",
            max,
            format!("truncation window is empty: max must exceed min ({min})"),
        ));
    }
    let u = Uncertain { dist, min, max };
    let (lo, hi) = u.support();
    if lo > hi {
        return Err(perr(
            "min",
            min,
            format!("truncation window [{min}, {max}] does not overlap the distribution's support"),
        ));
    }
    Ok(u)
}

/// The family a distribution table names in `dist`, once every other key of the table is
/// checked to be one of the family's (or `min` and `max`).
fn family_of(table: &BTreeMap<String, toml::Value>) -> Result<&str, ParamError> {
    let family = match table.get("dist") {
        Some(toml::Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(perr(
                "dist",
                other,
                "must be a string naming the distribution",
            ));
        }
        None => {
            return Err(perr(
                "dist",
                "",
                "is missing: a distribution table needs `dist = \"normal\"` (or fixed, \
                 lognormal, uniform, triangular, beta, pert)",
            ));
        }
    };
    let Some((_, keys)) = FAMILY_KEYS.iter().find(|(f, _)| *f == family) else {
        return Err(perr(
            "dist",
            family,
            "unknown distribution; expected one of fixed, normal, lognormal, uniform, \
             triangular, beta, pert",
        ));
    };
    for k in table.keys() {
        if k != "dist" && k != "min" && k != "max" && !keys.contains(&k.as_str()) {
            return Err(perr(
                k,
                &table[k],
                format!(
                    "unknown key for a {family} distribution; allowed: {}, min, max",
                    keys.join(", ")
                ),
            ));
        }
    }
    Ok(family)
}

/// The numbers of a distribution table of `family`.
struct Keys<'a> {
    table: &'a BTreeMap<String, toml::Value>,
    family: &'a str,
}

impl Keys<'_> {
    /// Key `k`'s number, if the table has it.
    fn num(&self, k: &str) -> Result<Option<f64>, ParamError> {
        match self.table.get(k) {
            None => Ok(None),
            Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(v) => Err(perr(k, v, "must be a finite number")),
        }
    }

    /// Key `k`'s number, which the family requires.
    fn req(&self, k: &str) -> Result<f64, ParamError> {
        let family = self.family;
        self.num(k)?
            .ok_or_else(|| perr(k, "", format!("is required for a {family} distribution")))
    }
}

/// `v`, the value of key `k`, when it is positive.
fn positive(k: &str, v: f64) -> Result<f64, ParamError> {
    if v > 0.0 {
        Ok(v)
    } else {
        Err(perr(k, v, "must be > 0"))
    }
}

/// Checks that `low < high`.
fn ordered(lo: f64, hi: f64) -> Result<(), ParamError> {
    if lo < hi {
        Ok(())
    } else {
        Err(perr("high", hi, format!("must be greater than low ({lo})")))
    }
}

/// The distribution a table of a known family describes, its parameters checked.
fn dist_of(keys: &Keys) -> Result<Dist, ParamError> {
    let family = keys.family;
    let (num, req) = (|k| keys.num(k), |k| keys.req(k));
    Ok(match family {
        "fixed" => Dist::Fixed(req("value")?),
        "normal" => Dist::Normal {
            mean: req("mean")?,
            sd: positive("sd", req("sd")?)?,
        },
        "lognormal" => lognormal(keys)?,
        "uniform" => {
            let (low, high) = (req("low")?, req("high")?);
            ordered(low, high)?;
            Dist::Uniform { low, high }
        }
        "triangular" | "pert" => {
            let (low, mode, high) = (req("low")?, req("mode")?, req("high")?);
            ordered(low, high)?;
            if !(low..=high).contains(&mode) {
                return Err(perr(
                    "mode",
                    mode,
                    format!("must lie in [low, high] = [{low}, {high}]"),
                ));
            }
            if family == "pert" {
                Dist::Pert { low, mode, high }
            } else {
                Dist::Triangular { low, mode, high }
            }
        }
        "beta" => {
            let (low, high) = (num("low")?.unwrap_or(0.0), num("high")?.unwrap_or(1.0));
            ordered(low, high)?;
            Dist::Beta {
                alpha: positive("alpha", req("alpha")?)?,
                beta: positive("beta", req("beta")?)?,
                low,
                high,
            }
        }
        _ => unreachable_family(family)?,
    })
}

/// A lognormal, from its `median` and `sigma` or from its `mean` and `cv`.
fn lognormal(keys: &Keys) -> Result<Dist, ParamError> {
    let num = |k| keys.num(k);
    Ok(
        match (num("median")?, num("sigma")?, num("mean")?, num("cv")?) {
            (Some(median), Some(sigma), None, None) => Dist::LogNormal {
                mu: positive("median", median)?.ln(),
                sigma: positive("sigma", sigma)?,
            },
            (None, None, Some(mean), Some(cv)) => {
                let mean = positive("mean", mean)?;
                let cv = positive("cv", cv)?;
                // For a lognormal, cv² = exp(σ²) − 1 and mean = exp(μ + σ²/2).
                let s2 = (1.0 + cv * cv).ln();
                Dist::LogNormal {
                    mu: mean.ln() - 0.5 * s2,
                    sigma: s2.sqrt(),
                }
            }
            _ => {
                return Err(perr(
                    "",
                    "",
                    "a lognormal needs either `median` and `sigma`, or `mean` and `cv`",
                ));
            }
        },
    )
}

fn unreachable_family(family: &str) -> Result<Dist, ParamError> {
    Err(perr("dist", family, "unknown distribution"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RawParam {
        #[derive(Deserialize)]
        struct W {
            p: RawParam,
        }
        toml::from_str::<W>(s).unwrap().p
    }

    #[test]
    fn numbers_are_fixed() {
        assert_eq!(
            Uncertain::from_raw(&parse("p = 3")).unwrap(),
            Uncertain::fixed(3.0)
        );
        assert_eq!(
            Uncertain::from_raw(&parse("p = 2.5")).unwrap().central(),
            2.5
        );
        assert!(Uncertain::from_raw(&parse("p = nan")).is_err());
        assert!(Uncertain::from_raw(&parse("p = inf")).is_err());
    }

    #[test]
    fn lognormal_mean_cv_round_trips() {
        let u = Uncertain::from_raw(&parse(
            "p = { dist = \"lognormal\", mean = 10.0, cv = 0.2 }",
        ))
        .unwrap();
        let Dist::LogNormal { mu, sigma } = u.dist else {
            panic!()
        };
        let mean = (mu + 0.5 * sigma * sigma).exp();
        approx::assert_relative_eq!(mean, 10.0, max_relative = 1e-12);
    }

    #[test]
    fn errors_name_the_key() {
        let e = Uncertain::from_raw(&parse("p = { dist = \"normal\", mean = 1 }")).unwrap_err();
        assert_eq!(e.key, "sd");
        let e = Uncertain::from_raw(&parse("p = { dist = \"normall\", mean = 1 }")).unwrap_err();
        assert_eq!(e.value, "normall");
        let e = Uncertain::from_raw(&parse(
            "p = { dist = \"normal\", mean = 1, sd = 1, sdd = 2 }",
        ))
        .unwrap_err();
        assert_eq!(e.key, "sdd");
        let e = Uncertain::from_raw(&parse(
            "p = { dist = \"uniform\", low = 0, high = 1, min = 2, max = 3 }",
        ))
        .unwrap_err();
        assert!(e.message.contains("does not overlap"));
    }
}
