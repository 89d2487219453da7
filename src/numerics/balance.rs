//! Balancing before the eigenvalues: a diagonal similarity by powers of two that makes each
//! row and column of a matrix about equally large.
//!
//! A Jacobian whose variables live on very different scales (V near -550 mV next to a
//! calcium concentration of 1e-4 mM) has entries spread over many decades, and the QR
//! iteration's rounding, which is relative to the largest entry, can then move small
//! eigenvalues across zero: a stable equilibrium read as unstable. `D^-1 A D` has the same
//! eigenvalues, and with D a power of two per variable it is formed without rounding. The
//! method is the classical one of Parlett and Reinsch (as in LAPACK's `gebal`, without the
//! permutation step).

use nalgebra::DMatrix;

/// Sweeps at most this many times over the rows (each sweep changes scales by powers of 2).
const MAX_SWEEPS: usize = 100;

/// `D^-1 A D`, with D diagonal powers of two chosen so that each variable's off-diagonal row
/// and column norms are within a factor of 2 of each other where they can be.
pub fn balance(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    let mut b = a.clone();
    for _ in 0..MAX_SWEEPS {
        let mut changed = false;
        for i in 0..n {
            let (mut c, mut r) = (0.0, 0.0);
            for j in 0..n {
                if j != i {
                    c += b[(j, i)].abs();
                    r += b[(i, j)].abs();
                }
            }
            if c == 0.0 || r == 0.0 || !c.is_finite() || !r.is_finite() {
                continue;
            }
            // f = 2^k with c f close to r / f.
            let k = (0.5 * (r / c).log2()).round();
            if k == 0.0 || !k.is_finite() {
                continue;
            }
            let f = 2f64.powi(k as i32);
            if c * f + r / f >= 0.95 * (c + r) {
                continue;
            }
            for j in 0..n {
                b[(j, i)] *= f;
                b[(i, j)] /= f;
            }
            changed = true;
        }
        if !changed {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix with entries over 24 decades, similar to a symmetric one: balancing gives the
    /// eigenvalues of that one to 1e-12 and brings the row and column norms together.
    #[test]
    fn balancing_keeps_eigenvalues_and_evens_the_norms() {
        let a =
            DMatrix::from_row_slice(3, 3, &[-1.0, 1e12, 0.0, 1e-12, -2.0, 1e6, 0.0, 1e-6, -3.0]);
        let b = balance(&a);
        // D^-1 A D with D = diag(1, 1e-12, 1e-18) is this symmetric matrix.
        let even = DMatrix::from_row_slice(3, 3, &[-1.0, 1.0, 0.0, 1.0, -2.0, 1.0, 0.0, 1.0, -3.0]);
        let mut ra: Vec<f64> = even.symmetric_eigenvalues().iter().copied().collect();
        let mut rb: Vec<f64> = b
            .clone()
            .complex_eigenvalues()
            .iter()
            .map(|z| z.re)
            .collect();
        ra.sort_by(f64::total_cmp);
        rb.sort_by(f64::total_cmp);
        for (x, y) in ra.iter().zip(&rb) {
            assert!((x - y).abs() < 1e-12, "{ra:?} vs {rb:?}");
        }
        assert!(b.abs().max() < 10.0, "{b}");
        // The diagonal is untouched.
        for i in 0..3 {
            assert_eq!(b[(i, i)], a[(i, i)]);
        }
    }
}
