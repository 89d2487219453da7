//! Newton's method on a small dense system, with the stopping rule every corrector shares.

use nalgebra::{DMatrix, DVector};

/// Why a Newton solve stopped without converging.
#[derive(Debug, Clone, PartialEq)]
pub enum NewtonFailure {
    /// The Jacobian could not be factorised (LU found it singular).
    Singular {
        /// The 1-based iteration at which it happened.
        iteration: usize,
    },
    /// The residual grew, or the iteration limit was reached before the step became small.
    NoConvergence {
        /// The residual's max-norm when it gave up.
        residual: f64,
    },
    /// The residual or the iterate became NaN or infinite.
    NotFinite,
}

impl std::fmt::Display for NewtonFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NewtonFailure::Singular { iteration } => {
                write!(f, "singular Jacobian at Newton iteration {iteration}")
            }
            NewtonFailure::NoConvergence { residual } => {
                write!(f, "Newton did not converge (residual {residual:.3e})")
            }
            NewtonFailure::NotFinite => f.write_str("the iterate became NaN or infinite"),
        }
    }
}

/// Solve `g(x) = 0` from `x`, where `system(x)` returns `(g(x), dg/dx)`. Converged when the
/// step's max-norm is below `tol * (1 + |x|_max)` and the residual does not grow.
/// Returns the root and the number of iterations.
pub fn newton(
    mut system: impl FnMut(&DVector<f64>) -> (DVector<f64>, DMatrix<f64>),
    mut x: DVector<f64>,
    tol: f64,
    max_iter: usize,
) -> Result<(DVector<f64>, usize), NewtonFailure> {
    let mut last = f64::INFINITY;
    for it in 1..=max_iter {
        let (g, j) = system(&x);
        let res = g.amax();
        if !res.is_finite() {
            return Err(NewtonFailure::NotFinite);
        }
        let dx = j
            .lu()
            .solve(&(-&g))
            .ok_or(NewtonFailure::Singular { iteration: it })?;
        x += &dx;
        if !x.iter().all(|v| v.is_finite()) {
            return Err(NewtonFailure::NotFinite);
        }
        if dx.amax() <= tol * (1.0 + x.amax()) {
            return Ok((x, it));
        }
        if it > 3 && res > 2.0 * last {
            return Err(NewtonFailure::NoConvergence { residual: res });
        }
        last = res;
    }
    let (g, _) = system(&x);
    Err(NewtonFailure::NoConvergence { residual: g.amax() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_root_quadratically() {
        let (x, it) = newton(
            |x| {
                (
                    DVector::from_vec(vec![x[0] * x[0] - 2.0]),
                    DMatrix::from_element(1, 1, 2.0 * x[0]),
                )
            },
            DVector::from_vec(vec![1.0]),
            1e-14,
            20,
        )
        .unwrap();
        assert!((x[0] - 2f64.sqrt()).abs() < 1e-15);
        assert!(it <= 7);
        let bad = newton(
            |_| (DVector::from_vec(vec![1.0]), DMatrix::zeros(1, 1)),
            DVector::from_vec(vec![0.0]),
            1e-12,
            5,
        );
        assert_eq!(bad, Err(NewtonFailure::Singular { iteration: 1 }));
    }
}
