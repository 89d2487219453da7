//! Eigenvalues of a long product of small matrices `F_{N-1} … F_1 F_0` without forming it:
//! the periodic QR (orthogonal) iteration. Each sweep pushes an orthonormal basis through the
//! factors one at a time, `F_j Z_j = Z_{j+1} R_j`, so every step is a well-conditioned QR of an
//! `n x n` matrix. At convergence `Z_0^T M Z_0 = (Z_0^T Z_N) R_{N-1} … R_0` is (block)
//! upper-triangular and the eigenvalues are products of diagonal entries, each accurate to
//! a few ulps relative to *itself*, however many decades the spectrum spans. A single
//! monodromy product in floating point, by contrast, resolves only eigenvalues within about
//! 16 decades of the largest.

use crate::numerics::eigen::C64;
use nalgebra::allocator::Allocator;
use nalgebra::{Const, DMatrix, DefaultAllocator, DimMin, Dyn, OMatrix, SMatrix};

/// Eigenvalues of `factors[N-1] * … * factors[0]`, by decreasing modulus. Complex pairs are
/// resolved from 2x2 diagonal blocks. `sweeps` bounds the number of passes (each costs N
/// small QR factorisations); convergence per pass is linear in the ratio of neighbouring
/// moduli, so well-separated spectra converge in two or three.
pub fn product_eigenvalues(factors: &[DMatrix<f64>], sweeps: usize) -> Vec<C64> {
    let Some(first) = factors.first() else {
        return vec![];
    };
    let n = first.nrows();
    debug_assert!(factors.iter().all(|f| f.shape() == (n, n)));
    // States of up to 8 variables iterate on matrices of fixed size, on the stack: a pass
    // then allocates nothing (with heap matrices each factor cost five allocations, about
    // half of the iteration's time; a branch runs it at every point, tens of passes each).
    macro_rules! fixed {
        ($($n:literal)*) => {
            match n {
                $($n => {
                    let fixed: Vec<SMatrix<f64, $n, $n>> =
                        factors.iter().map(|f| f.fixed_view::<$n, $n>(0, 0).into_owned()).collect();
                    return iterate(&fixed, Const::<$n>, sweeps);
                })*
                _ => {}
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8);
    iterate(factors, Dyn(n), sweeps)
}

/// The periodic QR iteration of [`product_eigenvalues`] on `n x n` matrices of any storage.
fn iterate<D: DimMin<D, Output = D>>(
    factors: &[OMatrix<f64, D, D>],
    dim: D,
    sweeps: usize,
) -> Vec<C64>
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    let n = dim.value();
    let mut q0 = OMatrix::<f64, D, D>::identity_generic(dim, dim);
    let mut fz = OMatrix::<f64, D, D>::zeros_generic(dim, dim);
    let mut r_new = OMatrix::<f64, D, D>::zeros_generic(dim, dim);
    let mut result = vec![];
    for sweep in 0..sweeps.max(1) {
        let mut z = q0.clone();
        // Product of the R factors, kept scaled: r_acc * exp(log_scale).
        let mut r_acc = OMatrix::<f64, D, D>::identity_generic(dim, dim);
        let mut log_scale = 0.0;
        for f in factors {
            f.mul_to(&z, &mut fz);
            let qr = fz.clone().qr();
            let (mut qm, mut r) = (qr.q(), qr.r());
            // Positive diagonal in R, so the basis does not flip sign from step to step.
            for i in 0..n {
                if r[(i, i)] < 0.0 {
                    r.row_mut(i).neg_mut();
                    qm.column_mut(i).neg_mut();
                }
            }
            r.mul_to(&r_acc, &mut r_new);
            std::mem::swap(&mut r_acc, &mut r_new);
            let big = r_acc.amax();
            if big > 0.0 && big.is_finite() {
                r_acc /= big;
                log_scale += big.ln();
            }
            z = qm;
        }
        let g = q0.transpose() * &z;
        // Converged when G is block diagonal (1x1 or rotating 2x2 blocks).
        let mut off = 0.0f64;
        let mut i = 0;
        let mut blocks = vec![];
        while i < n {
            let two = i + 1 < n && g[(i + 1, i)].abs() > 1e-6;
            let size = if two { 2 } else { 1 };
            for r in i + size..n {
                for c in i..i + size {
                    off = off.max(g[(r, c)].abs());
                }
            }
            blocks.push((i, size));
            i += size;
        }
        result = blocks
            .iter()
            .flat_map(|&(i, size)| {
                // At convergence Z_N = Z_0 G with G block diagonal, so each eigenvalue comes
                // from a diagonal block of G times the matching block of R alone (never a sum
                // over entries of R that may be dozens of decades larger).
                if size == 1 {
                    vec![scaled(C64::new(g[(i, i)] * r_acc[(i, i)], 0.0), log_scale)]
                } else {
                    let gb = g.fixed_view::<2, 2>(i, i).into_owned();
                    let rb = r_acc.fixed_view::<2, 2>(i, i).into_owned();
                    let t = gb * rb;
                    let (a, b, c, d) = (t[(0, 0)], t[(0, 1)], t[(1, 0)], t[(1, 1)]);
                    let tr = 0.5 * (a + d);
                    let disc = C64::new(tr * tr - (a * d - b * c), 0.0).sqrt();
                    vec![
                        scaled(C64::new(tr, 0.0) + disc, log_scale),
                        scaled(C64::new(tr, 0.0) - disc, log_scale),
                    ]
                }
            })
            .collect();
        q0 = z;
        if off < 1e-13 && sweep > 0 {
            break;
        }
    }
    result.sort_by(|a, b| log_norm(*b).total_cmp(&log_norm(*a)));
    result
}

/// `z * exp(log_scale)`, saturating to infinity rather than NaN.
fn scaled(z: C64, log_scale: f64) -> C64 {
    z * log_scale.exp()
}

fn log_norm(z: C64) -> f64 {
    z.norm().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation(n: usize, seed: f64) -> DMatrix<f64> {
        let a = DMatrix::from_fn(n, n, |i, j| ((i * 7 + j * 3) as f64 * seed).sin());
        a.qr().q()
    }

    #[test]
    fn resolves_a_spectrum_spanning_forty_decades() {
        // F_j = U_{j+1} D_j U_j^T with U_N = U_0: the product is U_0 (prod D_j) U_0^T, whose
        // eigenvalues are the products of the diagonals: 1e20, -1, 1e-3, 1e-20.
        let n = 4;
        let nf = 50;
        let us: Vec<DMatrix<f64>> = (0..nf)
            .map(|j| rotation(n, 0.3 + j as f64 * 0.17))
            .collect();
        let target = [1e20f64, -1.0, 1e-3, 1e-20];
        let factors: Vec<DMatrix<f64>> = (0..nf)
            .map(|j| {
                let d = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
                    n,
                    target.iter().map(|t| {
                        t.abs().powf(1.0 / nf as f64) * if *t < 0.0 && j == 0 { -1.0 } else { 1.0 }
                    }),
                ));
                &us[(j + 1) % nf] * d * us[j].transpose()
            })
            .collect();
        let eig = product_eigenvalues(&factors, 50);
        for (z, t) in eig.iter().zip(target) {
            assert!(
                (z.re - t).abs() < 1e-9 * t.abs() && z.im.abs() < 1e-9 * t.abs(),
                "{z} vs {t}"
            );
        }
    }

    /// The fixed-size path (n <= 8) and the heap path (larger n, or `iterate` called on heap
    /// matrices directly) are the same iteration: the same eigenvalues to rounding, here on a
    /// 9-variable product (heap) whose leading 4 x 4 block is also run alone both ways.
    #[test]
    fn fixed_and_heap_matrices_give_the_same_eigenvalues() {
        let n = 9;
        let factors: Vec<DMatrix<f64>> = (0..20)
            .map(|j| {
                let d =
                    DMatrix::from_fn(n, n, |r, c| if r == c { 0.5 + 0.1 * r as f64 } else { 0.0 });
                &rotation(n, 0.2 + 0.05 * j as f64) * d
            })
            .collect();
        let heap = product_eigenvalues(&factors, 200);
        assert_eq!(heap.len(), n);
        let small: Vec<DMatrix<f64>> = factors
            .iter()
            .map(|f| f.view((0, 0), (4, 4)).into_owned())
            .collect();
        let fixed = product_eigenvalues(&small, 200);
        let on_heap = iterate(&small, Dyn(4), 200);
        assert_eq!(fixed.len(), 4);
        for (a, b) in fixed.iter().zip(&on_heap) {
            assert!((a - b).norm() <= 1e-12 * a.norm(), "{a} vs {b}");
        }
        // The 9-variable product's eigenvalues multiply to its determinant.
        let det: f64 = factors.iter().map(|f| f.determinant()).product();
        let prod = heap.iter().fold(C64::new(1.0, 0.0), |p, z| p * z);
        assert!((prod.re - det).abs() <= 1e-9 * det.abs() && prod.im.abs() <= 1e-9 * det.abs());
    }

    /// One variable: the product of the scalars.
    #[test]
    fn a_one_variable_product_is_the_product_of_its_factors() {
        let factors: Vec<DMatrix<f64>> = [0.5, -3.0, 1.25]
            .iter()
            .map(|&x| DMatrix::from_element(1, 1, x))
            .collect();
        let eig = product_eigenvalues(&factors, 10);
        assert_eq!(eig.len(), 1);
        assert!(
            (eig[0].re + 1.875).abs() < 1e-15 && eig[0].im == 0.0,
            "{eig:?}"
        );
    }

    #[test]
    fn finds_a_complex_pair() {
        // A rotation by 0.3 rad scaled by 1.1 per factor, plus a decaying direction.
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let f = DMatrix::from_row_slice(
            3,
            3,
            &[1.1 * c, -1.1 * s, 0.0, 1.1 * s, 1.1 * c, 0.0, 0.0, 0.0, 0.5],
        );
        let eig = product_eigenvalues(&vec![f; 10], 50);
        let expect = C64::from_polar(1.1f64.powi(10), 3.0);
        assert!(
            (eig[0] - expect).norm() < 1e-10 * expect.norm()
                || (eig[0] - expect.conj()).norm() < 1e-10 * expect.norm(),
            "{eig:?}"
        );
        assert!((eig[2].re - 0.5f64.powi(10)).abs() < 1e-14);
    }
}
