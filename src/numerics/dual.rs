//! Exact Jacobians by forward-mode dual numbers: the same equations the simulators integrate,
//! differentiated to machine precision (no step size).

use nalgebra::DMatrix;
use num_dual::Dual64;

/// The Jacobian of any right-hand side `f(y, dy)` written over dual numbers, at `y`: one
/// forward sweep per column.
pub fn dual_jacobian(y: &[f64], mut f: impl FnMut(&[Dual64], &mut [Dual64])) -> DMatrix<f64> {
    let n = y.len();
    let mut yd: Vec<Dual64> = y.iter().map(|&x| Dual64::from(x)).collect();
    let mut dy = vec![Dual64::from(0.0); n];
    let mut j = DMatrix::zeros(n, n);
    for col in 0..n {
        yd[col].eps = 1.0;
        f(&yd, &mut dy);
        yd[col].eps = 0.0;
        for row in 0..n {
            j[(row, col)] = dy[row].eps;
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::DualNum;

    #[test]
    fn jacobian_of_a_polynomial_map_is_exact() {
        // f(x, y) = (x^2 y, sin x + y^3): J = [[2xy, x^2], [cos x, 3y^2]].
        let (x, y) = (0.7, -1.3);
        let j = dual_jacobian(&[x, y], |v, out| {
            out[0] = v[0] * v[0] * v[1];
            out[1] = v[0].sin() + v[1] * v[1] * v[1];
        });
        let want = [2.0 * x * y, x * x, f64::cos(x), 3.0 * y * y];
        for (k, w) in want.iter().enumerate() {
            assert!((j[(k / 2, k % 2)] - w).abs() < 1e-15, "{j}");
        }
    }
}
