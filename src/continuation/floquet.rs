//! Eigenvalues of a long product of small matrices `F_{N-1} … F_1 F_0` without forming it:
//! the periodic QR (orthogonal) iteration. Each sweep pushes an orthonormal basis through the
//! factors one at a time, `F_j Z_j = Z_{j+1} R_j`, so every step is a well-conditioned QR of an
//! `n x n` matrix. At convergence `Z_0^T M Z_0 = (Z_0^T Z_N) R_{N-1} … R_0` is (block)
//! upper-triangular and the eigenvalues are products of diagonal entries, each accurate to
//! a few ulps relative to *itself*, however many decades the spectrum spans. A single
//! monodromy product in floating point, by contrast, resolves only eigenvalues within about
//! 16 decades of the largest.
//!
//! The second sweep starts from the eigenvectors of the product that the first one formed,
//! ordered by modulus (`ordered_eigenbasis`): close to the converged basis at once, so the
//! orbits of `hh`'s default diagram take two to five sweeps instead of up to the 40 allowed
//! (447 sweeps for its 156 products, 1360 before).

use crate::numerics::eigen::C64;
use nalgebra::allocator::Allocator;
use nalgebra::{Const, DMatrix, DefaultAllocator, DimMin, Dyn, OMatrix, SMatrix};

/// Eigenvalues of `factors[N-1] * … * factors[0]`, by decreasing modulus. Complex pairs are
/// resolved from 2x2 diagonal blocks. `sweeps` bounds the number of passes (each costs N
/// small QR factorisations); convergence per pass is linear in the ratio of neighbouring
/// moduli, so well-separated spectra converge in two or three; the eigenvector start (in
/// `iterate`) makes close moduli converge in a few too.
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
                    return iterate(&fixed, Const::<$n>, sweeps).0;
                })*
                _ => {}
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8);
    iterate(factors, Dyn(n), sweeps).0
}

/// The periodic QR iteration of [`product_eigenvalues`] on `n x n` matrices of any storage,
/// with the number of sweeps it took.
fn iterate<D: DimMin<D, Output = D>>(
    factors: &[OMatrix<f64, D, D>],
    dim: D,
    sweeps: usize,
) -> (Vec<C64>, usize)
where
    DefaultAllocator: Allocator<D, D> + Allocator<D>,
{
    let n = dim.value();
    let mut q0 = OMatrix::<f64, D, D>::identity_generic(dim, dim);
    let mut fz = OMatrix::<f64, D, D>::zeros_generic(dim, dim);
    let mut r_new = OMatrix::<f64, D, D>::zeros_generic(dim, dim);
    let mut result = vec![];
    let mut taken = 0;
    for sweep in 0..sweeps.max(1) {
        taken = sweep + 1;
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
            // A 2x2 block: a rotating pair, or two multipliers within a factor of ten in
            // modulus not yet told apart. Those converge at their ratio of moduli, which near a
            // fold, a flip or the trivial multiplier is 1 to a few digits; their block's
            // eigenvalues are as accurate as each alone to about rounding times their modulus
            // over their gap.
            let two = i + 1 < n && {
                let sub = g[(i + 1, i)].abs();
                let (a, b) = (
                    (g[(i, i)] * r_acc[(i, i)]).abs(),
                    (g[(i + 1, i + 1)] * r_acc[(i + 1, i + 1)]).abs(),
                );
                sub > 1e-6 || (sub > 1e-13 && a.max(b) < 10.0 * a.min(b))
            };
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
        // Each block's eigenvalues start at its index. Two real ones far apart in modulus say
        // the block is a basis still turning in the plane of a real pair (as right after the
        // eigenvector start below), not a rotating pair: not converged, and its formula loses
        // the smaller one.
        let turning = blocks.iter().any(|&(i, size)| {
            let (p, q) = (result[i], result[i + size - 1]);
            size == 2
                && p.im == 0.0
                && q.im == 0.0
                && p.norm().max(q.norm()) > 10.0 * p.norm().min(q.norm())
        });
        // After the first sweep, `G R` is the product itself in the basis `q0`, scaled. Its
        // eigenvectors, ordered by decreasing modulus and orthonormalised, start the next sweep
        // next to the converged basis. Subspace iteration alone gains log10 of its slowest
        // ratio of moduli in digits per sweep: a small fraction of a digit near a fold of
        // cycles (a multiplier near the trivial 1), where it ran to the 40 allowed. The sweeps
        // that follow keep each multiplier accurate relative to itself: the start only has to
        // be close in the dominant directions.
        let start = (sweep == 0)
            .then(|| ordered_eigenbasis(&(&g * &r_acc)))
            .flatten();
        q0 = match start {
            Some(basis) => {
                &q0 * OMatrix::<f64, D, D>::from_fn_generic(dim, dim, |r, c| basis[(r, c)])
            }
            None => z,
        };
        if off < 1e-13 && sweep > 0 && !turning {
            break;
        }
    }
    result.sort_by(|a, b| log_norm(*b).total_cmp(&log_norm(*a)));
    (result, taken)
}

/// An orthonormal basis whose leading `k` columns span the eigenvectors of `t`'s `k` largest
/// eigenvalues by modulus (a complex pair by its real and imaginary parts), for every `k`:
/// the ordered Schur basis, up to rounding relative to the largest eigenvalue (eigenvectors
/// some 16 decades below it are not resolved; the sweeps that follow find them). `None` when
/// an eigenvector is not found, the pairs do not fill n columns, or the basis is not finite.
fn ordered_eigenbasis<D: nalgebra::Dim, S: nalgebra::Storage<f64, D, D>>(
    t: &nalgebra::Matrix<f64, D, D, S>,
) -> Option<DMatrix<f64>> {
    let n = t.nrows();
    let t = DMatrix::from_fn(n, n, |r, c| t[(r, c)]);
    let mut pairs = crate::numerics::eigen::eigen(&t).ok()?;
    pairs.sort_by(|a, b| log_norm(b.value).total_cmp(&log_norm(a.value)));
    let mut v = DMatrix::zeros(n, n);
    let mut col = 0;
    // One column for a real eigenvalue, two for the member of a pair with positive imaginary
    // part; its conjugate adds nothing new.
    for p in pairs.iter().filter(|p| p.value.im >= 0.0) {
        let parts: &[fn(&C64) -> f64] = if p.value.im == 0.0 {
            &[|z| z.re]
        } else {
            &[|z| z.re, |z| z.im]
        };
        for part in parts {
            if col == n {
                return None;
            }
            v.column_mut(col)
                .iter_mut()
                .zip(&p.vector)
                .for_each(|(x, z)| *x = part(z));
            col += 1;
        }
    }
    let q = v.qr().q();
    (col == n && q.iter().all(|x| x.is_finite())).then_some(q)
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
        // The product is U_0 (prod D_j) U_0^T, whose eigenvalues are the products of the
        // diagonals: 1e20, -1, 1e-3, 1e-20.
        let target = [1e20, -1.0, 1e-3, 1e-20];
        assert_close(
            &product_eigenvalues(&product_with(&target, 50), 50),
            &target,
            1e-9,
        );
    }

    /// A product `U_0 (prod D_j) U_0^T` of `nf` factors with the given real eigenvalues.
    fn product_with(target: &[f64], nf: usize) -> Vec<DMatrix<f64>> {
        product_coupled(target, nf, 0.0)
    }

    /// [`product_with`] with each factor's diagonal part coupled upwards by `c`: the same
    /// eigenvalues, far from orthogonal eigenvectors.
    fn product_coupled(target: &[f64], nf: usize, c: f64) -> Vec<DMatrix<f64>> {
        let n = target.len();
        let us: Vec<DMatrix<f64>> = (0..nf)
            .map(|j| rotation(n, 0.3 + j as f64 * 0.17))
            .collect();
        (0..nf)
            .map(|j| {
                let d = DMatrix::from_fn(n, n, |r, k| match r.cmp(&k) {
                    std::cmp::Ordering::Equal => {
                        let t = target[r];
                        t.abs().powf(1.0 / nf as f64) * if t < 0.0 && j == 0 { -1.0 } else { 1.0 }
                    }
                    std::cmp::Ordering::Less => c,
                    std::cmp::Ordering::Greater => 0.0,
                });
                &us[(j + 1) % nf] * d * us[j].transpose()
            })
            .collect()
    }

    fn assert_close(eig: &[C64], target: &[f64], rel: f64) {
        assert_eq!(eig.len(), target.len());
        for (z, t) in eig.iter().zip(target) {
            assert!(
                (z.re - t).abs() <= rel * t.abs() && z.im.abs() <= rel * t.abs(),
                "{z} vs {t} in {eig:?}"
            );
        }
    }

    /// Moduli a factor of two apart: subspace iteration from the identity gains a bit per
    /// sweep (three sweeps leave errors near 1/8), the eigenvector start after the first sweep
    /// makes three enough for every multiplier to 1e-10, the smallest 1e-30 included.
    #[test]
    fn three_sweeps_resolve_moduli_a_factor_of_two_apart() {
        let target = [8.0, -4.0, 2.0, 1e-30];
        assert_close(
            &product_eigenvalues(&product_with(&target, 60), 3),
            &target,
            1e-10,
        );
    }

    /// The sweeps a branch pays for at each point: a product alike to one of `hh`'s cycles
    /// (a multiplier 3% from the trivial one, both small beside the largest) converges in a
    /// handful, not the 40 allowed.
    #[test]
    fn a_fold_like_spectrum_converges_in_a_few_sweeps() {
        let target = [3000.0, 1.03, 0.99999, 1e-50];
        let factors: Vec<SMatrix<f64, 4, 4>> = product_coupled(&target, 60, 1.0)
            .iter()
            .map(|f| f.fixed_view::<4, 4>(0, 0).into_owned())
            .collect();
        let (eig, taken) = iterate(&factors, Const::<4>, 40);
        assert_close(&eig, &target, 1e-9);
        assert!(taken <= 4, "{taken} sweeps");
    }

    /// The two smallest multipliers, decades apart, are told apart even when the basis still
    /// turns between them after the eigenvector start (on `hh`'s cycles, read as a rotating
    /// pair, the smaller came out as 0).
    #[test]
    fn distant_moduli_are_not_read_as_a_pair_after_the_start() {
        let target = [1.0e3, 1.0001, 0.9999, 1e-11, 1e-60];
        assert_close(
            &product_eigenvalues(&product_with(&target, 60), 40),
            &target,
            1e-9,
        );
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
        let on_heap = iterate(&small, Dyn(4), 200).0;
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
