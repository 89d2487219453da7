//! Eigenvalues and eigenvectors of a real matrix.
//!
//! nalgebra gives the complex eigenvalues (from the real Schur form) but no general eigenvector
//! routine, so each eigenvector comes from inverse iteration on `A - mu I` with `mu` a hair off
//! the eigenvalue, in complex arithmetic; each pair is checked by its residual `|A v - lambda v|`.

use crate::error::AnalysisError;
use nalgebra::{Complex, DMatrix, DVector};

/// A complex number of two `f64`s: eigenvalues, eigenvectors and Floquet multipliers.
pub type C64 = Complex<f64>;

/// An eigenvalue (1/ms) with its unit eigenvector (largest component real and positive).
#[derive(Debug, Clone, PartialEq)]
pub struct EigenPair {
    /// The eigenvalue lambda (1/ms: the Jacobian of a model with time in ms).
    pub value: C64,
    /// Its eigenvector, of unit 2-norm, scaled so its largest component is real and positive.
    pub vector: Vec<C64>,
    /// `|A v - lambda v|` of the returned pair.
    pub residual: f64,
}

impl EigenPair {
    /// Time constant 1/|Re lambda| in ms (infinite on the imaginary axis).
    pub fn time_constant_ms(&self) -> f64 {
        1.0 / self.value.re.abs()
    }

    /// Oscillation frequency |Im lambda| / 2 pi in Hz (lambda is per ms).
    pub fn frequency_hz(&self) -> f64 {
        self.value.im.abs() / (2.0 * std::f64::consts::PI) * 1000.0
    }
}

/// All eigenpairs of `a`, sorted by decreasing real part (then decreasing imaginary part).
pub fn eigen(a: &DMatrix<f64>) -> Result<Vec<EigenPair>, AnalysisError> {
    let n = a.nrows();
    // Balanced first: the eigenvalues of a badly scaled Jacobian are otherwise only as good
    // as its largest entry allows (see [`super::balance`]).
    let mut values: Vec<C64> = super::balance::balance(a)
        .try_schur(1e-15, 10_000)
        .ok_or_else(|| AnalysisError::Numerical {
            what: "eigenvalues".into(),
            reason: "the Schur iteration did not converge".into(),
        })?
        .complex_eigenvalues()
        .iter()
        .copied()
        .collect();
    if values
        .iter()
        .any(|v| !v.re.is_finite() || !v.im.is_finite())
    {
        return Err(AnalysisError::Numerical {
            what: "eigenvalues".into(),
            reason: "non-finite eigenvalue (is the Jacobian finite?)".into(),
        });
    }
    values.sort_by(|x, y| y.re.total_cmp(&x.re).then(y.im.total_cmp(&x.im)));
    let ac: DMatrix<C64> = a.map(|x| C64::new(x, 0.0));
    let scale = a.abs().max().max(1e-300);
    values
        .into_iter()
        .map(|lambda| eigenvector(&ac, lambda, scale, n))
        .collect()
}

fn eigenvector(
    ac: &DMatrix<C64>,
    lambda: C64,
    scale: f64,
    n: usize,
) -> Result<EigenPair, AnalysisError> {
    let mut x = match inverse_iteration(ac, lambda, scale, n) {
        Some(x) => x,
        // Entries spanning hundreds of decades (gates far outside their voltage range) can
        // break the iteration down: the right singular vector of `A - lambda I` for its
        // smallest singular value is the eigenvector too, at more cost.
        None => null_vector(ac, lambda, n).ok_or_else(|| AnalysisError::Numerical {
            what: "eigenvector".into(),
            reason: format!("neither inverse iteration nor the SVD converged at {lambda}"),
        })?,
    };
    // Fix the phase: largest component real and positive.
    let big = x
        .iter()
        .copied()
        .max_by(|p, q| p.norm().total_cmp(&q.norm()))
        .unwrap_or(C64::new(1.0, 0.0));
    x *= big.conj() / C64::new(big.norm(), 0.0);
    let residual = (ac * &x - &x * lambda).norm();
    Ok(EigenPair {
        value: lambda,
        vector: x.iter().copied().collect(),
        residual,
    })
}

/// Four steps of inverse iteration on `A - mu I`, `mu` a hair off `lambda`; `None` if it breaks
/// down (a singular or overflowing solve).
fn inverse_iteration(ac: &DMatrix<C64>, lambda: C64, scale: f64, n: usize) -> Option<DVector<C64>> {
    let shift = lambda + C64::new(1e-10 * scale, 1e-10 * scale);
    let lu = (ac - DMatrix::<C64>::identity(n, n) * shift).lu();
    // A start vector with no special structure.
    let mut x = DVector::<C64>::from_fn(n, |i, _| {
        C64::new(1.0 + 0.37 * i as f64, 0.11 * i as f64 - 0.5)
    });
    for _ in 0..4 {
        x = lu.solve(&x)?;
        let norm = x.norm();
        if !norm.is_finite() || norm == 0.0 {
            return None;
        }
        x /= C64::new(norm, 0.0);
    }
    Some(x)
}

/// The unit right singular vector of `A - lambda I` for its smallest singular value.
fn null_vector(ac: &DMatrix<C64>, lambda: C64, n: usize) -> Option<DVector<C64>> {
    let m = ac - DMatrix::<C64>::identity(n, n) * lambda;
    let svd = m.try_svd(false, true, 1e-15, 10_000)?;
    let k = (0..n).min_by(|&a, &b| svd.singular_values[a].total_cmp(&svd.singular_values[b]))?;
    let v_t = svd.v_t?;
    let x: DVector<C64> = v_t.row(k).adjoint();
    let norm = x.norm();
    (norm.is_finite() && norm > 0.0).then(|| x / C64::new(norm, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_with_decay_has_the_known_pair() {
        // [[-1, -2], [2, -1]]: eigenvalues -1 ± 2i, eigenvectors (1, ∓i)/sqrt 2.
        let a = DMatrix::from_row_slice(2, 2, &[-1.0, -2.0, 2.0, -1.0]);
        let e = eigen(&a).unwrap();
        assert!((e[0].value - C64::new(-1.0, 2.0)).norm() < 1e-14);
        assert!((e[1].value - C64::new(-1.0, -2.0)).norm() < 1e-14);
        for p in &e {
            assert!(p.residual < 1e-12, "{}", p.residual);
        }
        assert!((e[0].frequency_hz() - 2000.0 / (2.0 * std::f64::consts::PI)).abs() < 1e-9);
    }
}
