//! Hopf points: Newton on the standard augmented system, and the first Lyapunov coefficient
//! from Kuznetsov's invariant formula with exact second and third derivatives.
//!
//! Normalisation (as MatCont): `A q = i w q`, `A^T p = -i w p`, `q^H q = 1`, `p^H q = 1`; then
//! `l1 = Re[p^H C(q,q,q*) - 2 p^H B(q, A^-1 B(q,q*)) + p^H B(q*, (2iw - A)^-1 B(q,q))] / (2w)`.
//! Negative `l1`: supercritical (a small stable cycle is born); positive: subcritical (an
//! unstable cycle, so the rest state loses stability to a jump onto a large cycle).

use super::system::Family;
use crate::numerics::eigen::C64;
use crate::numerics::newton::{NewtonFailure, newton};
use nalgebra::{DMatrix, DVector};

/// A Hopf point, refined.
#[derive(Debug, Clone, PartialEq)]
pub struct Hopf {
    /// The continued parameter, in its own unit ([`crate::continuation::Knob::unit`]).
    pub lambda: f64,
    /// The equilibrium state `[V, gates…]` (V in mV; file units for an `.ode` model).
    pub state: Vec<f64>,
    /// Angular frequency at onset (rad/ms).
    pub omega: f64,
    /// Critical eigenvector `q` (unit length), as real and imaginary parts.
    pub q_re: Vec<f64>,
    /// Imaginary part of the critical eigenvector `q`.
    pub q_im: Vec<f64>,
    /// First Lyapunov coefficient (see the module documentation for its normalisation).
    pub lyapunov: f64,
}

impl Hopf {
    /// Frequency at onset in Hz.
    pub fn frequency_hz(&self) -> f64 {
        self.omega / (2.0 * std::f64::consts::PI) * 1000.0
    }

    /// Period at onset in ms.
    pub fn period_ms(&self) -> f64 {
        2.0 * std::f64::consts::PI / self.omega
    }

    /// Whether the Hopf point is subcritical (`l1 > 0`): an unstable cycle is born, and the
    /// rest state, losing stability, jumps to a large cycle.
    pub fn is_subcritical(&self) -> bool {
        self.lyapunov > 0.0
    }
}

/// Refine a Hopf point from a guess `(y, lambda)` with an eigenvalue `i w` and eigenvector `q`
/// nearby. Unknowns `(y, lambda, q_re, q_im, w)`; equations `f = 0`, `J q = i w q` in real form,
/// `c.q_re = 1`, `c.q_im = 0` with `c` the guessed `q_re` (fixes the phase and scale of `q`).
pub fn refine(
    fam: &Family,
    y: &[f64],
    lambda: f64,
    omega: f64,
    q: &[C64],
) -> Result<Hopf, NewtonFailure> {
    let n = y.len();
    let qn = q.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    let qr: Vec<f64> = q.iter().map(|z| z.re / qn).collect();
    let qi: Vec<f64> = q.iter().map(|z| z.im / qn).collect();
    // Fix the phase so that c = q_re is a good normalisation direction.
    let c = DVector::from_vec(qr.clone());
    let cc = c.dot(&c);
    let mut x0 = DVector::zeros(3 * n + 2);
    for i in 0..n {
        x0[i] = y[i];
        x0[n + 1 + i] = qr[i] / cc;
        x0[2 * n + 1 + i] = qi[i] / cc;
    }
    x0[n] = lambda;
    x0[3 * n + 1] = omega.abs();
    let system = |x: &DVector<f64>| {
        let ys = &x.as_slice()[..n];
        let lam = x[n];
        let vr = &x.as_slice()[n + 1..2 * n + 1];
        let vi = &x.as_slice()[2 * n + 1..3 * n + 1];
        let (jf, f) = fam.jacobian_full(ys, lam);
        let dr = fam.jacobian_times_derivative(ys, lam, vr);
        let di = fam.jacobian_times_derivative(ys, lam, vi);
        augmented_system(&jf, &f, &dr, &di, vr, vi, x[3 * n + 1], &c)
    };
    let (x, _) = newton(system, x0, 1e-14, 30)?;
    let state: Vec<f64> = x.as_slice()[..n].to_vec();
    let lam = x[n];
    let w = x[3 * n + 1].abs();
    let a = fam.jacobian(&state, lam);
    let lyapunov =
        first_lyapunov(fam, &state, lam, &a, w).ok_or(NewtonFailure::Singular { iteration: 0 })?;
    let (vr, vi) = (
        &x.as_slice()[n + 1..2 * n + 1],
        &x.as_slice()[2 * n + 1..3 * n + 1],
    );
    let norm = vr.iter().chain(vi).map(|v| v * v).sum::<f64>().sqrt();
    Ok(Hopf {
        lambda: lam,
        state,
        omega: w,
        q_re: vr.iter().map(|v| v / norm).collect(),
        q_im: vi.iter().map(|v| v / norm).collect(),
        lyapunov,
    })
}

/// The Hopf system `f = 0`, `J q_re + w q_im = 0`, `J q_im - w q_re = 0`, `c.q_re = 1`,
/// `c.q_im = 0` and its Jacobian, for unknowns `(y, k parameters, q_re, q_im, w)`.
/// `jf` = `[df/dy | df/dparams]` (n x (n+k)), `dr`/`di` = `d(J q_re)`, `d(J q_im)` over the
/// same columns. Shared by the refinement here (k = 1) and the two-parameter Hopf curve (k = 2).
#[allow(clippy::too_many_arguments)]
pub(crate) fn augmented_system(
    jf: &DMatrix<f64>,
    f: &DVector<f64>,
    dr: &DMatrix<f64>,
    di: &DMatrix<f64>,
    vr: &[f64],
    vi: &[f64],
    w: f64,
    c: &DVector<f64>,
) -> (DVector<f64>, DMatrix<f64>) {
    let n = f.len();
    let k = jf.ncols() - n;
    let a = jf.columns(0, n);
    let (vrv, viv) = (
        DVector::from_column_slice(vr),
        DVector::from_column_slice(vi),
    );
    let ar = a * &vrv + &viv * w;
    let ai = a * &viv - &vrv * w;
    let mut g = DVector::zeros(3 * n + 2);
    g.rows_mut(0, n).copy_from(f);
    g.rows_mut(n, n).copy_from(&ar);
    g.rows_mut(2 * n, n).copy_from(&ai);
    g[3 * n] = c.dot(&vrv) - 1.0;
    g[3 * n + 1] = c.dot(&viv);
    let (qr0, qi0, w0) = (n + k, 2 * n + k, 3 * n + k);
    let mut m = DMatrix::zeros(3 * n + 2, 3 * n + k + 1);
    m.view_mut((0, 0), (n, n + k)).copy_from(jf);
    m.view_mut((n, 0), (n, n + k)).copy_from(dr);
    m.view_mut((2 * n, 0), (n, n + k)).copy_from(di);
    m.view_mut((n, qr0), (n, n)).copy_from(&a);
    m.view_mut((2 * n, qi0), (n, n)).copy_from(&a);
    for i in 0..n {
        m[(n + i, qi0 + i)] = w;
        m[(2 * n + i, qr0 + i)] = -w;
        m[(n + i, w0)] = vi[i];
        m[(2 * n + i, w0)] = -vr[i];
        m[(3 * n, qr0 + i)] = c[i];
        m[(3 * n + 1, qi0 + i)] = c[i];
    }
    (g, m)
}

/// Complex vector helpers over split real/imaginary parts.
fn cvec(re: &DVector<f64>, im: &DVector<f64>) -> DVector<C64> {
    DVector::from_iterator(re.len(), re.iter().zip(im).map(|(&a, &b)| C64::new(a, b)))
}

/// `B(x, z)` for complex `x`, `z` by bilinearity over real forms.
fn b_complex(
    fam: &Family,
    y: &[f64],
    lam: f64,
    x: &DVector<C64>,
    z: &DVector<C64>,
) -> DVector<C64> {
    let (xr, xi): (Vec<f64>, Vec<f64>) = x.iter().map(|c| (c.re, c.im)).unzip();
    let (zr, zi): (Vec<f64>, Vec<f64>) = z.iter().map(|c| (c.re, c.im)).unzip();
    let rr = fam.bilinear(y, lam, &xr, &zr);
    let ii = fam.bilinear(y, lam, &xi, &zi);
    let ri = fam.bilinear(y, lam, &xr, &zi);
    let ir = fam.bilinear(y, lam, &xi, &zr);
    cvec(&(rr - ii), &(ri + ir))
}

/// The first Lyapunov coefficient at a Hopf point `(y, lam)` with Jacobian `a` and frequency
/// `w`; `None` if the eigenvectors cannot be found (not a Hopf point).
pub fn first_lyapunov(fam: &Family, y: &[f64], lam: f64, a: &DMatrix<f64>, w: f64) -> Option<f64> {
    first_lyapunov_with(
        a,
        w,
        |x, z| b_complex(fam, y, lam, x, z),
        |x, z, v| {
            // C(x, z, v) with x = z = q, v = conj(q): expand over real parts.
            let re = |c: &DVector<C64>| c.map(|c| c.re);
            let im = |c: &DVector<C64>| c.map(|c| c.im);
            let t = |u: &DVector<f64>, s: &DVector<f64>, r: &DVector<f64>| {
                fam.trilinear(y, lam, u.as_slice(), s.as_slice(), r.as_slice())
            };
            // Full complex trilinear expansion (8 real evaluations).
            let (xr, xi, zr, zi, vr, vi) = (re(x), im(x), re(z), im(z), re(v), im(v));
            let real = t(&xr, &zr, &vr) - t(&xr, &zi, &vi) - t(&xi, &zr, &vi) - t(&xi, &zi, &vr);
            let imag = t(&xr, &zr, &vi) + t(&xr, &zi, &vr) + t(&xi, &zr, &vr) - t(&xi, &zi, &vi);
            cvec(&real, &imag)
        },
    )
}

/// Kuznetsov's formula with the multilinear forms supplied (so a test can pass
/// finite-difference ones).
pub fn first_lyapunov_with(
    a: &DMatrix<f64>,
    w: f64,
    b: impl Fn(&DVector<C64>, &DVector<C64>) -> DVector<C64>,
    c: impl Fn(&DVector<C64>, &DVector<C64>, &DVector<C64>) -> DVector<C64>,
) -> Option<f64> {
    let n = a.nrows();
    let ac: DMatrix<C64> = a.map(|x| C64::new(x, 0.0));
    let iw = C64::new(0.0, w);
    let q = null_vector(&(&ac - DMatrix::identity(n, n) * iw))?;
    let p0 = null_vector(&(ac.transpose() + DMatrix::identity(n, n) * iw))?;
    // p^H q = 1.
    let s = p0.dotc(&q);
    if s.norm() < 1e-14 {
        return None;
    }
    let p = p0 * s.conj().inv();
    let qc = q.map(|z| z.conj());
    let h11 = b(&q, &qc);
    let h20 = b(&q, &q);
    let r1 = ac.clone().lu().solve(&h11)?;
    let r2 = (DMatrix::identity(n, n) * (iw * 2.0) - &ac)
        .lu()
        .solve(&h20)?;
    let term = p.dotc(&c(&q, &q, &qc)) - p.dotc(&b(&q, &r1)) * 2.0 + p.dotc(&b(&qc, &r2));
    Some(term.re / (2.0 * w))
}

/// A unit null vector of a (numerically) singular complex matrix, by inverse iteration.
fn null_vector(m: &DMatrix<C64>) -> Option<DVector<C64>> {
    let n = m.nrows();
    let scale = m.iter().map(|z| z.norm()).fold(0.0, f64::max).max(1e-300);
    let shifted = m + DMatrix::identity(n, n) * C64::new(scale * 1e-13, 0.0);
    let lu = shifted.lu();
    let mut v = DVector::from_element(n, C64::new(1.0, 0.3));
    for _ in 0..3 {
        v = lu.solve(&v)?;
        let norm = v.norm();
        if !norm.is_finite() || norm == 0.0 {
            return None;
        }
        v /= C64::new(norm, 0.0);
    }
    Some(v)
}
