//! Gaussian copula for correlated indicator concentrations within a section (docs/model.md §3.1).
//!
//! A correlation matrix R is factored once as R = L·Lᵀ (nalgebra Cholesky). Each draw takes
//! k independent standard normals z and returns L·z, whose correlation is R; concentrations
//! are then lognormal, `c_j = exp(mu_j + sigma_j · (L·z)_j)`.

use crate::sampling::rng::std_normal;

/// Tolerance for symmetry and for the unit diagonal: matrices typed with a few decimals are
/// symmetric exactly, so this only absorbs round-off in generated matrices.
const MATRIX_TOL: f64 = 1e-9;

/// A validated correlation matrix and its Cholesky factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Copula {
    k: usize,
    /// Row-major lower-triangular factor L (k × k; the upper part is zero).
    l: Vec<f64>,
}

impl Copula {
    /// Validate `corr` (square, finite, symmetric, unit diagonal, entries in [−1, 1], positive
    /// definite) and factor it. Errors name the matrix (`name`) and the offending entry.
    pub fn new(corr: &[Vec<f64>], name: &str) -> Result<Copula, String> {
        let k = corr.len();
        if k == 0 {
            return Err(format!("correlation matrix {name} is empty"));
        }
        for (i, row) in corr.iter().enumerate() {
            if row.len() != k {
                return Err(format!(
                    "correlation matrix {name} is not square: row {} has {} entries, expected {k}",
                    i + 1,
                    row.len()
                ));
            }
        }
        for (i, row) in corr.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let at = format!("entry ({}, {}) = {v}", i + 1, j + 1);
                if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
                    return Err(format!(
                        "correlation matrix {name}: {at} is outside [-1, 1]"
                    ));
                }
                if i == j && (v - 1.0).abs() > MATRIX_TOL {
                    return Err(format!(
                        "correlation matrix {name}: diagonal {at} must be 1"
                    ));
                }
                let mirror = corr[j][i];
                if (v - mirror).abs() > MATRIX_TOL {
                    return Err(format!(
                        "correlation matrix {name} is not symmetric: {at} but entry ({}, {}) = \
                         {mirror}",
                        j + 1,
                        i + 1,
                    ));
                }
            }
        }
        let m = nalgebra::DMatrix::from_fn(k, k, |i, j| corr[i][j]);
        let Some(chol) = m.cholesky() else {
            return Err(format!(
                "correlation matrix {name} is not positive definite (its Cholesky factorisation \
                 fails); check for inconsistent correlations such as r12 = r13 = 0.9, r23 = -0.9"
            ));
        };
        let lm = chol.l();
        let mut l = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..=i {
                l[i * k + j] = lm[(i, j)];
            }
        }
        // A singular (positive semi-definite) matrix can pass nalgebra with a zero pivot.
        if (0..k).any(|i| l[i * k + i].is_nan() || l[i * k + i] <= 0.0) {
            return Err(format!(
                "correlation matrix {name} is not positive definite (singular)"
            ));
        }
        Ok(Copula { k, l })
    }

    /// Number of variables.
    pub fn dim(&self) -> usize {
        self.k
    }

    /// Fill `out` (length [`dim`](Self::dim)) with standard normals whose correlation matrix
    /// is the copula's. Draws `dim` normals from `rng`; no allocation.
    pub fn correlated_normals<R: rand::Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        let k = self.k.min(out.len());
        for z in out[..k].iter_mut() {
            *z = std_normal(rng);
        }
        // In place, bottom row first: row i reads only z_0..z_i, still unmodified.
        for i in (0..k).rev() {
            let row = &self.l[i * self.k..i * self.k + i + 1];
            out[i] = row.iter().zip(&out[..=i]).map(|(a, z)| a * z).sum();
        }
    }

    /// Correlated lognormal concentrations `out_j = exp(mu_j + sigma_j · (L·z)_j)`.
    pub fn lognormals<R: rand::Rng + ?Sized>(
        &self,
        rng: &mut R,
        mu: &[f64],
        sigma: &[f64],
        out: &mut [f64],
    ) {
        self.correlated_normals(rng, out);
        for ((o, m), s) in out.iter_mut().zip(mu).zip(sigma) {
            *o = (m + s * *o).exp();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampling::rng::stream;
    use approx::assert_relative_eq;

    fn target() -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 0.6, 0.3, -0.2],
            vec![0.6, 1.0, 0.5, 0.0],
            vec![0.3, 0.5, 1.0, 0.4],
            vec![-0.2, 0.0, 0.4, 1.0],
        ]
    }

    #[test]
    fn reproduces_the_target_correlation() {
        let c = Copula::new(&target(), "section A").unwrap();
        let n = 50_000;
        let mut r = stream(5, 0, 0);
        let mut z = [0.0; 4];
        let mut s = [[0.0; 4]; 4];
        let mut m = [0.0; 4];
        for _ in 0..n {
            c.correlated_normals(&mut r, &mut z);
            for i in 0..4 {
                m[i] += z[i];
                for j in 0..4 {
                    s[i][j] += z[i] * z[j];
                }
            }
        }
        let nf = n as f64;
        let t = target();
        for i in 0..4 {
            assert!((m[i] / nf).abs() < 0.02);
            for j in 0..4 {
                let cov = s[i][j] / nf - m[i] * m[j] / (nf * nf);
                let sd = |k: usize| (s[k][k] / nf - (m[k] / nf).powi(2)).sqrt();
                let r = cov / (sd(i) * sd(j));
                // se of a correlation ≈ 1/√n ≈ 0.0045.
                assert_relative_eq!(r, t[i][j], epsilon = 0.02);
            }
        }
    }

    #[test]
    fn lognormal_medians_follow_mu() {
        let c = Copula::new(&target(), "s").unwrap();
        let (mu, sg) = ([0.0, 1.0, 2.0, -1.0], [0.2, 0.3, 0.1, 0.5]);
        let mut r = stream(1, 0, 0);
        let mut out = [0.0; 4];
        let mut below = [0usize; 4];
        let n = 20_000;
        for _ in 0..n {
            c.lognormals(&mut r, &mu, &sg, &mut out);
            for j in 0..4 {
                below[j] += usize::from(out[j] < mu[j].exp());
            }
        }
        for b in below {
            assert_relative_eq!(b as f64 / n as f64, 0.5, epsilon = 0.02);
        }
    }

    #[test]
    fn invalid_matrices_name_the_matrix() {
        let mut t = target();
        t[0][1] = 0.9;
        t[1][0] = 0.9;
        t[0][2] = 0.9;
        t[2][0] = 0.9;
        t[1][2] = -0.9;
        t[2][1] = -0.9;
        let e = Copula::new(&t, "section X indicators").unwrap_err();
        assert!(
            e.contains("section X indicators") && e.contains("not positive definite"),
            "{e}"
        );
        let mut t = target();
        t[0][1] = 0.1;
        assert!(Copula::new(&t, "m").unwrap_err().contains("not symmetric"));
        let mut t = target();
        t[2][2] = 0.9;
        assert!(Copula::new(&t, "m").unwrap_err().contains("diagonal"));
        let mut t = target();
        t[0][3] = 1.5;
        t[3][0] = 1.5;
        assert!(
            Copula::new(&t, "m")
                .unwrap_err()
                .contains("outside [-1, 1]")
        );
        assert!(
            Copula::new(&[vec![1.0, 1.0], vec![1.0, 1.0]], "m")
                .unwrap_err()
                .contains("positive definite")
        );
        assert!(
            Copula::new(&[vec![1.0, 0.0]], "m")
                .unwrap_err()
                .contains("not square")
        );
    }
}
