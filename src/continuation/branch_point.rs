//! Branch points of equilibria: where two equilibrium branches cross (a transcritical or a
//! pitchfork bifurcation, generic only with a symmetry or an invariant subspace), and the
//! direction of the branch that crosses, for switching onto it.
//!
//! - **Detection** ([`test_value`]): the determinant of the continuation's bordered matrix
//!   `[J  f_lambda; t^T]` changes sign between two points of a branch whose tangent `t` is
//!   oriented by continuity. At a fold it does not (the matrix stays regular there; the
//!   tangent's parameter component changes sign instead), so a real eigenvalue crossing zero
//!   with this sign change is a branch point and is not taken for a fold, even where the
//!   branch also turns there (either side of a pitchfork).
//! - **Location** ([`refine`]): Newton on the minimally extended system (as MatCont's BP
//!   continuation): `f + b psi = 0`, `J^T psi = 0`, `psi . f_lambda = 0`, `|psi|^2 = 1` in
//!   `(y, lambda, b, psi)`, regular at a simple branch point, with exact second derivatives.
//!   At a true branch point `b` = 0; a clearly non-zero `b` means the crossing is imperfect
//!   (the branches come close but do not meet) and is said.
//! - **Direction** ([`BranchPoint::other_direction`]): the null space of `[J  f_lambda]` is
//!   two-dimensional there; the algebraic branching equation `psi . F''(d, d) = 0` over it
//!   has two roots, the tangent the branch came in along and the crossing branch's.

use super::system::Family;
use crate::numerics::newton::{NewtonFailure, newton};
use nalgebra::{DMatrix, DVector};

/// A branch point of equilibria, located.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchPoint {
    /// The continued parameter, in its own unit ([`crate::continuation::Knob::unit`]).
    pub lambda: f64,
    /// The equilibrium state there (V in mV; file units for an `.ode` model).
    pub state: Vec<f64>,
    /// The unfolding term `b` of the extended system: zero (to rounding) at a true crossing.
    pub imperfection: f64,
    /// The left null vector `psi` of the Jacobian (unit length).
    pub psi: Vec<f64>,
    /// The unit direction in `(y, lambda)` of the crossing branch
    /// ([`BranchPoint::other_direction`]), where the branching equation gives one.
    pub crossing: Option<Vec<f64>>,
    /// The unit tangent of the branch it was found on, near the point (empty until set):
    /// what a switch must not fall back onto.
    pub incoming: Vec<f64>,
    /// Newton iterations of the location (quadratic convergence takes a handful).
    pub iterations: usize,
}

/// How far from zero the unfolding term may be for the crossing to count as exact, relative to
/// the scale `max(1, max |J|, max |y|)` at the point: a little above what rounding leaves
/// after Newton.
const IMPERFECTION: f64 = 1e-8;

/// The branch-point test at a point `(y, lambda)` of a branch with unit tangent `t`:
/// `det [J f_lambda; t^T]`, whose sign changes at a branch point and nowhere else.
pub fn test_value(jf: &DMatrix<f64>, t: &DVector<f64>) -> f64 {
    let n = jf.nrows();
    let mut m = DMatrix::zeros(n + 1, n + 1);
    m.view_mut((0, 0), (n, n + 1)).copy_from(jf);
    m.row_mut(n).copy_from(&t.transpose());
    m.lu().determinant()
}

/// The Hessian of `psi . f` in `(y, lambda)`: `(n+1) x (n+1)`, exact.
fn weighted_hessian(fam: &Family, y: &[f64], lambda: f64, psi: &[f64]) -> DMatrix<f64> {
    let n = y.len();
    let mut h = DMatrix::zeros(n + 1, n + 1);
    let unit = |k: usize| {
        let mut e = vec![0.0; n + 1];
        e[k] = 1.0;
        e
    };
    for a in 0..=n {
        for b in a..=n {
            let v = fam
                .second_derivative(y, lambda, &unit(a), &unit(b))
                .dot(&DVector::from_column_slice(psi));
            h[(a, b)] = v;
            h[(b, a)] = v;
        }
    }
    h
}

/// Locate the branch point near `(y, lambda)` (a branch point seen between two points of a
/// branch; start from the one with the smaller real eigenvalue).
pub fn refine(fam: &Family, y: &[f64], lambda: f64) -> Result<BranchPoint, NewtonFailure> {
    let n = y.len();
    let j = fam.jacobian(y, lambda);
    // The left null vector's guess: the left singular vector of the smallest singular value.
    let svd = j.clone().svd(true, false);
    let k = svd
        .singular_values
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(k, _)| k);
    let u = svd.u.as_ref().map(|u| u.column(k).into_owned());
    let psi0 = u.unwrap_or_else(|| DVector::from_element(n, 1.0 / (n as f64).sqrt()));
    let size = 2 * n + 2;
    let mut x0 = DVector::zeros(size);
    x0.rows_mut(0, n).copy_from(&DVector::from_column_slice(y));
    x0[n] = lambda;
    x0.rows_mut(n + 2, n).copy_from(&psi0);
    let system = |x: &DVector<f64>| {
        let ys = &x.as_slice()[..n];
        let (lam, b) = (x[n], x[n + 1]);
        let psi = x.rows(n + 2, n).into_owned();
        let (jf, f) = fam.jacobian_full(ys, lam);
        let a = jf.columns(0, n);
        let fp = jf.column(n);
        let h = weighted_hessian(fam, ys, lam, psi.as_slice());
        let mut g = DVector::zeros(size);
        let mut m = DMatrix::zeros(size, size);
        g.rows_mut(0, n).copy_from(&(&f + &psi * b));
        g.rows_mut(n, n).copy_from(&(a.transpose() * &psi));
        g[2 * n] = psi.dot(&fp);
        g[2 * n + 1] = 0.5 * (psi.dot(&psi) - 1.0);
        // f + b psi
        m.view_mut((0, 0), (n, n + 1)).copy_from(&jf);
        m.view_mut((0, n + 1), (n, 1)).copy_from(&psi);
        m.view_mut((0, n + 2), (n, n))
            .copy_from(&(DMatrix::<f64>::identity(n, n) * b));
        // J^T psi and psi . f_lambda: the weighted Hessian in (y, lambda), J^T and f_lambda^T
        // in psi.
        m.view_mut((n, 0), (n + 1, n + 1)).copy_from(&h);
        m.view_mut((n, n + 2), (n, n)).copy_from(&a.transpose());
        m.view_mut((2 * n, n + 2), (1, n))
            .copy_from(&fp.transpose());
        m.view_mut((2 * n + 1, n + 2), (1, n))
            .copy_from(&psi.transpose());
        (g, m)
    };
    let (x, iterations) = newton(system, x0, 1e-13, 30)?;
    Ok(BranchPoint {
        lambda: x[n],
        state: x.as_slice()[..n].to_vec(),
        imperfection: x[n + 1],
        psi: x.as_slice()[n + 2..].to_vec(),
        crossing: None,
        incoming: vec![],
        iterations,
    })
}

impl BranchPoint {
    /// Whether `other` is the same point (within 1e-7 relative in the parameter and in every
    /// state variable): a crossing is seen from both branches through it.
    pub fn same_as(&self, other: &BranchPoint) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs()));
        close(self.lambda, other.lambda)
            && self
                .state
                .iter()
                .zip(&other.state)
                .all(|(a, b)| close(*a, *b))
    }

    /// Whether the branches truly cross: the unfolding term is zero to rounding, relative to
    /// the scale `max(1, max |J|, max |y|)` at the point (`IMPERFECTION`).
    pub fn is_exact(&self, fam: &Family) -> bool {
        let scale = fam
            .jacobian(&self.state, self.lambda)
            .amax()
            .max(1.0)
            .max(self.state.iter().fold(0.0f64, |m, x| m.max(x.abs())));
        self.imperfection.abs() <= IMPERFECTION * scale
    }

    /// The unit direction in `(y, lambda)` of the branch crossing the one that arrived along
    /// `incoming` (its tangent near the point), or `None` when the branching equation does
    /// not single one out (a degenerate point).
    pub fn other_direction(&self, fam: &Family, incoming: &[f64]) -> Option<DVector<f64>> {
        let n = self.state.len();
        let (jf, _) = fam.jacobian_full(&self.state, self.lambda);
        // The two right singular vectors of [J f_lambda] with the smallest singular values
        // span its null space (a zero row makes the matrix square, so all n+1 are computed).
        let mut sq = DMatrix::zeros(n + 1, n + 1);
        sq.view_mut((0, 0), (n, n + 1)).copy_from(&jf);
        let svd = sq.svd(false, true);
        let v_t = svd.v_t?;
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| svd.singular_values[a].total_cmp(&svd.singular_values[b]));
        let (va, vb) = (v_t.row(order[0]).transpose(), v_t.row(order[1]).transpose());
        // phi1: the incoming tangent projected on the null space; phi2: its complement there.
        let t = DVector::from_column_slice(incoming);
        let phi1 = (&va * va.dot(&t) + &vb * vb.dot(&t)).normalize();
        let mut phi2 = &va - &phi1 * phi1.dot(&va);
        if phi2.norm() < 1e-6 {
            phi2 = &vb - &phi1 * phi1.dot(&vb);
        }
        let phi2 = phi2.normalize();
        let psi = DVector::from_column_slice(&self.psi);
        let c = |u: &DVector<f64>, w: &DVector<f64>| {
            psi.dot(&fam.second_derivative(&self.state, self.lambda, u.as_slice(), w.as_slice()))
        };
        let (c11, c12, c22) = (c(&phi1, &phi1), c(&phi1, &phi2), c(&phi2, &phi2));
        // Directions phi1 + tau phi2: c22 tau^2 + 2 c12 tau + c11 = 0. The incoming branch is
        // the root near tau = 0; the other is tau = q / c22 (tau = infinity, phi2 itself,
        // when c22 vanishes).
        let scale = c11.abs().max(c12.abs()).max(c22.abs());
        let disc = c12 * c12 - c11 * c22;
        if !scale.is_finite() || scale <= 0.0 || disc < -1e-8 * scale * scale {
            return None;
        }
        let q = -(c12 + c12.signum() * disc.max(0.0).sqrt());
        if q.abs() <= 1e-8 * scale {
            return None;
        }
        if c22.abs() <= 1e-12 * scale {
            return Some(phi2);
        }
        let tau = q / c22;
        Some((&phi1 + &phi2 * tau).normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Field;
    use crate::model::ode::OdeModel;

    fn family(text: &str) -> Family {
        let m = OdeModel::parse(text, "bp.ode", "bp").unwrap();
        Family::of_field(Field::Ode(m), "p", 0.0).unwrap()
    }

    #[test]
    fn a_transcritical_crossing_is_located_with_the_other_branch_diagonal() {
        // x' = x (p - x): branches x = 0 and x = p cross at p = 0 (slope 1).
        let fam = family("par p=0.1\nx'=x*(p-x)+0*y\ny'=-y\ndone\n");
        let bp = refine(&fam, &[0.0, 0.0], 0.02).unwrap();
        assert!(bp.lambda.abs() < 1e-12, "{bp:?}");
        assert!(bp.state.iter().all(|x| x.abs() < 1e-12), "{bp:?}");
        assert!(bp.is_exact(&fam));
        // Arriving along x = 0 (tangent (0, 0, 1)), the other branch runs along x = p.
        let d = bp.other_direction(&fam, &[0.0, 0.0, 1.0]).unwrap();
        let expected = DVector::from_vec(vec![1.0, 0.0, 1.0]).normalize();
        assert!((d.dot(&expected).abs() - 1.0).abs() < 1e-10, "{d}");
    }

    #[test]
    fn a_pitchfork_branch_leaves_at_right_angles_to_the_parameter() {
        // y' = y (p - 1 - y^2): y = 0 and y^2 = p - 1 meet at p = 1, the new branch vertical.
        let fam = family("par p=1.1\nx'=-x\ny'=y*(p-1-y*y)\ndone\n");
        let bp = refine(&fam, &[0.0, 0.0], 1.03).unwrap();
        assert!((bp.lambda - 1.0).abs() < 1e-12, "{bp:?}");
        let d = bp.other_direction(&fam, &[0.0, 0.0, 1.0]).unwrap();
        assert!((d[1].abs() - 1.0).abs() < 1e-10, "{d}");
    }

    #[test]
    fn a_crossing_in_mixed_variables_is_located_quadratically() {
        // The transcritical and pitchfork equations in u = x + y, w = x + 2 y (x = 2u - w,
        // y = w - u): the Jacobian is no longer symmetric and psi no longer a coordinate
        // vector, so a transposed block would show. Closed forms: the branch point at
        // p = 0, u = w = 0, the crossing branch x = p, y = 0, i.e. u = w = p.
        let fam = family(
            "par p=0.1\n\
             fx(u,w)=2*u-w\n\
             fy(u,w)=w-u\n\
             u'=fx(u,w)*(p-fx(u,w))+fy(u,w)*(p-1-fy(u,w)^2)\n\
             w'=fx(u,w)*(p-fx(u,w))+2*fy(u,w)*(p-1-fy(u,w)^2)\n\
             done\n",
        );
        let bp = refine(&fam, &[0.003, -0.002], 0.02).unwrap();
        assert!(bp.lambda.abs() < 1e-12, "{bp:?}");
        assert!(bp.state.iter().all(|x| x.abs() < 1e-12), "{bp:?}");
        assert!(bp.is_exact(&fam));
        // Exact second derivatives: Newton converges in a handful of steps.
        assert!(bp.iterations <= 6, "{} iterations", bp.iterations);
        // Arriving along the trivial branch (u = w = 0, tangent along p).
        let d = bp.other_direction(&fam, &[0.0, 0.0, 1.0]).unwrap();
        let expected = DVector::from_vec(vec![1.0, 1.0, 1.0]).normalize();
        assert!((d.dot(&expected).abs() - 1.0).abs() < 1e-10, "{d}");
        // The pitchfork at p = 1 on the same branch: y = +-sqrt(p - 1) with x = 0, i.e.
        // (u, w) along (1, 2), leaving at right angles to p.
        let bp = refine(&fam, &[0.001, 0.002], 1.01).unwrap();
        assert!((bp.lambda - 1.0).abs() < 1e-12, "{bp:?}");
        assert!(bp.iterations <= 6, "{} iterations", bp.iterations);
        let d = bp.other_direction(&fam, &[0.0, 0.0, 1.0]).unwrap();
        let expected = DVector::from_vec(vec![1.0, 2.0, 0.0]).normalize();
        assert!((d.dot(&expected).abs() - 1.0).abs() < 1e-10, "{d}");
    }

    #[test]
    fn an_imperfect_crossing_is_not_exact() {
        // x' = x (p - x) + 0.01: the branches no longer meet.
        let fam = family("par p=0.1\nx'=x*(p-x)+0.01\ny'=-y\ndone\n");
        // The extended system still has a solution: the nearest approach, at x = p = 0, with
        // the unfolding term equal to minus the offset.
        let bp = refine(&fam, &[0.0, 0.0], 0.0).unwrap();
        assert!((bp.imperfection + 0.01).abs() < 1e-12, "{bp:?}");
        assert!(!bp.is_exact(&fam), "{bp:?}");
    }

    #[test]
    fn the_test_changes_sign_across_a_branch_point_and_not_across_a_fold() {
        let bp = family("par p=0\nx'=x*(p-x)\ny'=-y\ndone\n");
        let t = DVector::from_vec(vec![0.0, 0.0, 1.0]);
        let before = test_value(&bp.jacobian_full(&[0.0, 0.0], -0.1).0, &t);
        let after = test_value(&bp.jacobian_full(&[0.0, 0.0], 0.1).0, &t);
        assert!(before * after < 0.0, "{before} {after}");
        // x' = p - x^2: a fold at p = 0; along x = +-sqrt(p) the oriented tangent turns.
        let fold = family("par p=0\nx'=p-x*x\ny'=-y\ndone\n");
        let at = |x: f64| {
            let t = DVector::from_vec(vec![1.0, 0.0, 2.0 * x]).normalize();
            test_value(&fold.jacobian_full(&[x, 0.0], x * x).0, &t)
        };
        // Continuing from x = -0.3 up through the fold to x = 0.3 with one orientation.
        assert!(at(-0.3) * at(0.3) > 0.0, "{} {}", at(-0.3), at(0.3));
    }
}
