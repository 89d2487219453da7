//! Periodic orbits by orthogonal collocation, as AUTO-07p does it.
//!
//! Time is scaled to `s` in [0, 1] (the period `T` is an unknown): `dx/ds = T f(x, lambda)`.
//! On each of `N` mesh intervals the orbit is a polynomial of degree `m` through `m + 1`
//! equally spaced nodes, and the equation holds exactly at the `m` Gauss-Legendre points.
//! Two scalar rows close the system: an integral phase condition against a reference orbit,
//! and the pseudo-arclength condition.
//!
//! The linear algebra follows AUTO's structure, never a dense solve of the whole system:
//! 1. *Condensation*: inside each interval the `n(m-1)` interior node values are eliminated
//!    (Gaussian elimination with partial pivoting on that interval's rows), leaving `n` rows
//!    that couple the interval's two end values and the global unknowns.
//! 2. *Sequential elimination with pivoting* over pairs of consecutive intervals, carrying the
//!    first mesh value `x_0` as a column: at the end one relation `P x_0 + Q x_N = r` remains.
//!    With `x_N = x_0` and the two scalar rows this is an `(n+2)`-square dense system.
//! 3. Back-substitution gives every mesh value, then every interior node.
//!
//! Every step is O(N m^3 n^3): a 200-interval HH orbit costs about as much as 200 tiny
//! dense solves. The same elimination gives the Floquet multipliers: with the globals frozen
//! each interval's condensed equations are a transition `x_{j+1} = F_j x_j`, and the
//! monodromy matrix is their product. Multipliers of unstable orbits span many decades, so
//! the product is never formed: the periodic QR iteration of [`super::floquet`] finds its
//! eigenvalues from the factors.

use super::floquet;
use super::system::{DualScratch, Family};
use crate::numerics::eigen::C64;
use multiversion::multiversion;
use nalgebra::{DMatrix, SymmetricEigen};
use rayon::prelude::*;

/// Gauss-Legendre points and Lagrange basis data for `m` collocation points per interval.
#[derive(Debug, Clone)]
pub struct Scheme {
    /// Collocation points per mesh interval (2..=7; AUTO's `NCOL`).
    pub m: usize,
    /// Gauss-Legendre points in [0, 1], increasing.
    pub gauss: Vec<f64>,
    /// Their quadrature weights (summing to 1).
    pub weights: Vec<f64>,
    /// `a[c][k] = L_k(gauss[c])`, `d[c][k] = L_k'(gauss[c])` for the equally spaced nodes k/m.
    pub a: Vec<Vec<f64>>,
    /// The derivatives `L_k'(gauss[c])` (see `a`).
    pub d: Vec<Vec<f64>>,
    /// `m`-th derivative of each `L_k` (a constant).
    pub dm: Vec<f64>,
}

impl Scheme {
    /// The scheme with `m` Gauss points per interval (Golub-Welsch for the points and
    /// weights). Panics unless `m` is in 2..=7, as `CycleSettings::validate` requires.
    pub fn new(m: usize) -> Scheme {
        assert!(
            (2..=7).contains(&m),
            "collocation points per interval must be 2..=7"
        );
        // Golub-Welsch: eigenvalues of the Jacobi matrix of the Legendre polynomials.
        let jac = DMatrix::from_fn(m, m, |i, j| {
            if i.abs_diff(j) == 1 {
                let k = i.max(j) as f64;
                k / (4.0 * k * k - 1.0).sqrt()
            } else {
                0.0
            }
        });
        let eig = SymmetricEigen::new(jac);
        let mut pairs: Vec<(f64, f64)> = (0..m)
            .map(|i| {
                let x = eig.eigenvalues[i];
                let w = eig.eigenvectors[(0, i)].powi(2);
                ((x + 1.0) / 2.0, w)
            })
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let nodes: Vec<f64> = (0..=m).map(|k| k as f64 / m as f64).collect();
        let basis = |k: usize, t: f64| -> (f64, f64) {
            // Value and derivative of the k-th Lagrange polynomial at t.
            let mut val = 1.0;
            let mut der = 0.0;
            for (i, &ti) in nodes.iter().enumerate() {
                if i == k {
                    continue;
                }
                let factor = (t - ti) / (nodes[k] - ti);
                der = der * factor + val / (nodes[k] - ti);
                val *= factor;
            }
            (val, der)
        };
        let gauss: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let weights: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let a = gauss
            .iter()
            .map(|&t| (0..=m).map(|k| basis(k, t).0).collect())
            .collect();
        let d = gauss
            .iter()
            .map(|&t| (0..=m).map(|k| basis(k, t).1).collect())
            .collect();
        let factorial: f64 = (1..=m).map(|i| i as f64).product();
        let dm = (0..=m)
            .map(|k| {
                factorial
                    / nodes
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, ti)| nodes[k] - ti)
                        .product::<f64>()
            })
            .collect();
        Scheme {
            m,
            gauss,
            weights,
            a,
            d,
            dm,
        }
    }

    /// Lagrange basis values at `t` in [0, 1].
    pub fn basis_at(&self, t: f64) -> Vec<f64> {
        let m = self.m;
        (0..=m)
            .map(|k| {
                let tk = k as f64 / m as f64;
                (0..=m)
                    .filter(|&i| i != k)
                    .map(|i| {
                        let ti = i as f64 / m as f64;
                        (t - ti) / (tk - ti)
                    })
                    .product()
            })
            .collect()
    }
}

/// A discretised periodic orbit: mesh, node values, period and parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Orbit {
    /// Mesh points `0 = s_0 < … < s_N = 1`.
    pub mesh: Vec<f64>,
    /// Node values: `N m` points of dimension `n` (point `N m` is point 0 again).
    pub z: Vec<f64>,
    /// Dimension of the state.
    pub n: usize,
    /// Collocation points per interval (nodes per interval, the last shared with the next).
    pub m: usize,
    /// Period (ms).
    pub period: f64,
    /// The continued parameter, in its own unit.
    pub lambda: f64,
}

impl Orbit {
    /// Number of mesh intervals `N`.
    pub fn intervals(&self) -> usize {
        self.mesh.len() - 1
    }

    /// Node `p` (wrapping at `N m`).
    #[inline]
    pub fn node(&self, p: usize) -> &[f64] {
        let p = p % (self.intervals() * self.m);
        &self.z[p * self.n..(p + 1) * self.n]
    }

    /// The orbit at scaled time `s` in [0, 1].
    pub fn at(&self, scheme: &Scheme, s: f64) -> Vec<f64> {
        let s = s.rem_euclid(1.0);
        let nint = self.intervals();
        let j = match self.mesh.binary_search_by(|x| x.total_cmp(&s)) {
            Ok(j) => j.min(nint - 1),
            Err(j) => j.saturating_sub(1).min(nint - 1),
        };
        let h = self.mesh[j + 1] - self.mesh[j];
        let l = scheme.basis_at((s - self.mesh[j]) / h);
        (0..self.n).map(|i| self.combine(j, &l, i)).collect()
    }

    /// Component `i` of interval `j`'s polynomial with Lagrange basis values `basis`.
    fn combine(&self, j: usize, basis: &[f64], i: usize) -> f64 {
        basis
            .iter()
            .enumerate()
            .fold(0.0, |x, (k, lk)| x + lk * self.node(j * self.m + k)[i])
    }

    /// Max and min of component `i` along the orbit, sampled 4 times per node spacing and
    /// refined by a parabola through the best sample and its neighbours; and the state at
    /// the best sample of the maximum (a point on the orbit to start a simulation from).
    pub fn range(&self, scheme: &Scheme, i: usize) -> (f64, f64, Vec<f64>) {
        let per = 4 * self.m;
        let samples = self.intervals() * per;
        // Every interval is sampled at the same fractions, so the basis is computed once per
        // fraction, not at each of the `N m 4` samples (this runs at every point of a branch).
        let bases: Vec<Vec<f64>> = (0..per)
            .map(|q| scheme.basis_at(q as f64 / per as f64))
            .collect();
        let vals: Vec<f64> = (0..samples)
            .map(|q| self.combine(q / per, &bases[q % per], i))
            .collect();
        let refine = |best: usize, sign: f64| {
            let (a, b, c) = (
                vals[(best + samples - 1) % samples],
                vals[best],
                vals[(best + 1) % samples],
            );
            let denom = a - 2.0 * b + c;
            if denom * sign < 0.0 {
                let off = 0.5 * (a - c) / denom;
                b - 0.25 * (a - c) * off
            } else {
                b
            }
        };
        let imax = (0..samples)
            .max_by(|&x, &y| vals[x].total_cmp(&vals[y]))
            .unwrap_or(0);
        let imin = (0..samples)
            .min_by(|&x, &y| vals[x].total_cmp(&vals[y]))
            .unwrap_or(0);
        (
            refine(imax, -1.0),
            refine(imin, 1.0),
            self.at(scheme, self.sample_s(imax, samples)),
        )
    }

    /// The `q`-th of `samples` points, evenly spread over each mesh interval.
    fn sample_s(&self, q: usize, samples: usize) -> f64 {
        let per = samples / self.intervals();
        let j = q / per;
        let frac = (q % per) as f64 / per as f64;
        self.mesh[j] + frac * (self.mesh[j + 1] - self.mesh[j])
    }

    /// The same orbit on a new mesh (node values interpolated).
    pub fn remesh(&self, scheme: &Scheme, mesh: Vec<f64>) -> Orbit {
        let m = self.m;
        let mut z = Vec::with_capacity((mesh.len() - 1) * m * self.n);
        for j in 0..mesh.len() - 1 {
            for k in 0..m {
                let s = mesh[j] + (mesh[j + 1] - mesh[j]) * k as f64 / m as f64;
                z.extend(self.at(scheme, s));
            }
        }
        Orbit {
            mesh,
            z,
            ..self.clone()
        }
    }

    /// A mesh with `N` intervals that equidistributes the estimated collocation error
    /// (AUTO's rule: the `(m+1)`-th derivative, from jumps of the piecewise-constant `m`-th
    /// derivative, to the power `1/(m+1)`).
    pub fn adapted_mesh(&self, scheme: &Scheme, nint: usize) -> Vec<f64> {
        let (m, n, old) = (self.m, self.n, self.intervals());
        let h: Vec<f64> = (0..old).map(|j| self.mesh[j + 1] - self.mesh[j]).collect();
        let dm: Vec<Vec<f64>> = (0..old)
            .map(|j| {
                (0..n)
                    .map(|i| {
                        (0..=m)
                            .map(|k| scheme.dm[k] * self.node(j * m + k)[i])
                            .sum::<f64>()
                            / h[j].powi(m as i32)
                    })
                    .collect()
            })
            .collect();
        // Jump of the m-th derivative at each mesh point, per unit length.
        let jump: Vec<f64> = (0..old)
            .map(|j| {
                let prev = (j + old - 1) % old;
                let d: f64 = (0..n)
                    .map(|i| (dm[j][i] - dm[prev][i]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                d / (0.5 * (h[j] + h[prev]))
            })
            .collect();
        let density: Vec<f64> = (0..old)
            .map(|j| (0.5 * (jump[j] + jump[(j + 1) % old])).powf(1.0 / (m as f64 + 1.0)))
            .collect();
        let mean = density.iter().zip(&h).map(|(d, h)| d * h).sum::<f64>();
        // Keep a floor so flat stretches still get intervals.
        let density: Vec<f64> = density.iter().map(|d| d + 0.1 * mean).collect();
        let mut cum = vec![0.0];
        for j in 0..old {
            cum.push(cum[j] + density[j] * h[j]);
        }
        let total = cum[old];
        let mut mesh = Vec::with_capacity(nint + 1);
        mesh.push(0.0);
        let mut j = 0;
        for q in 1..nint {
            let target = total * q as f64 / nint as f64;
            while cum[j + 1] < target {
                j += 1;
            }
            let frac = (target - cum[j]) / (cum[j + 1] - cum[j]);
            mesh.push(self.mesh[j] + frac * h[j]);
        }
        mesh.push(1.0);
        mesh
    }
}

/// The reference orbit for the phase condition and the arclength row.
pub struct Border<'a> {
    /// Phase condition: `int <x, x_ref'> ds = 0`.
    pub phase_ref: &'a Orbit,
    /// Arclength: `int <x - x_pred, t_x> ds + wt (T - T_pred) t_T + (lambda - lambda_pred) t_l = 0`.
    pub pred: &'a Orbit,
    /// The branch's unit tangent at the last point (in orbit form: nodes, period, parameter).
    pub tangent: &'a Orbit,
    /// Weight of the period in the arclength norm.
    pub period_weight: f64,
}

/// Result of assembling and eliminating the linearised collocation system at an orbit.
pub struct Linearised {
    /// Per interval: the eliminated local matrix (rows `n m + 2`, columns as in `Layout`).
    local: Vec<Rows>,
    /// Back-substitution records of the sequential elimination, `n` rows per interval 1..N,
    /// one after the other.
    chain: Rows,
    /// Final `(n + 2)`-square system and its right-hand side column index.
    final_sys: DMatrix<f64>,
    /// Max-norm of the residual of the collocation equations.
    pub residual: f64,
    /// `int_0^T tr J(x(t)) dt` by the collocation quadrature (Liouville: the sum of the
    /// logarithms of the multipliers' moduli).
    pub trace_integral: f64,
    n: usize,
    m: usize,
}

/// Column layout of a local matrix: interior nodes, start node, end node, (T, lambda), rhs.
struct Layout {
    n: usize,
    m: usize,
}

impl Layout {
    fn w(&self) -> usize {
        0
    }
    fn e(&self) -> usize {
        self.n * (self.m - 1)
    }
    fn x(&self) -> usize {
        self.e() + self.n
    }
    fn g(&self) -> usize {
        self.x() + self.n
    }
    fn r(&self) -> usize {
        self.g() + 2
    }
    fn cols(&self) -> usize {
        self.r() + 1
    }
    /// Column of node `k` (0..=m), component `i`.
    fn node(&self, k: usize, i: usize) -> usize {
        match k {
            0 => self.e() + i,
            k if k == self.m => self.x() + i,
            k => self.w() + (k - 1) * self.n + i,
        }
    }
}

/// Columns of an interval's system in the chain of [`linearise`], and so of the chain's records
/// that [`Linearised::solve`] substitutes back through: `x_k` first (the columns eliminated,
/// so the record's leading block is the triangle), then `x_0`, `x_{k+1}`, the two globals and
/// the right-hand side.
#[derive(Debug, Clone, Copy)]
struct ChainColumns {
    xk: usize,
    x0: usize,
    xk1: usize,
    g: usize,
    r: usize,
}

impl ChainColumns {
    fn new(n: usize) -> ChainColumns {
        ChainColumns {
            xk: 0,
            x0: n,
            xk1: 2 * n,
            g: 3 * n,
            r: 3 * n + 2,
        }
    }

    fn count(&self) -> usize {
        self.r + 1
    }
}

/// A dense matrix stored row by row. The per-interval blocks are eliminated row against row,
/// so with rows contiguous each update is one vectorisable loop, with no transposed copy of
/// the block (that copy, there and back, was most of the elimination's time).
#[derive(Debug, Clone)]
struct Rows {
    data: Vec<f64>,
    cols: usize,
}

impl Rows {
    fn zeros(rows: usize, cols: usize) -> Rows {
        Rows {
            data: vec![0.0; rows * cols],
            cols,
        }
    }

    /// Row `r`.
    #[inline(always)]
    fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r`, to write.
    #[inline(always)]
    fn row_mut(&mut self, r: usize) -> &mut [f64] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// The `nr x nc` block at (`r0`, `c0`).
    fn block(&self, r0: usize, c0: usize, nr: usize, nc: usize) -> DMatrix<f64> {
        DMatrix::from_fn(nr, nc, |r, c| self[(r0 + r, c0 + c)])
    }
}

impl std::ops::Index<(usize, usize)> for Rows {
    type Output = f64;
    #[inline(always)]
    fn index(&self, (r, c): (usize, usize)) -> &f64 {
        &self.data[r * self.cols + c]
    }
}

impl std::ops::IndexMut<(usize, usize)> for Rows {
    #[inline(always)]
    fn index_mut(&mut self, (r, c): (usize, usize)) -> &mut f64 {
        &mut self.data[r * self.cols + c]
    }
}

/// Gaussian elimination with partial pivoting of columns `c0..c0+ncols`, pivots chosen among
/// rows `0..pivot_rows` (rows `pivot_rows..r_end` are updated but never pivots).
// Wider vectors for the row updates, chosen at run time (the default target has only
// SSE2); without `fast-math` contraction the arithmetic, and so every result, is the same.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
fn eliminate(a: &mut Rows, c0: usize, ncols: usize, pivot_rows: usize, r_end: usize) {
    let cols = a.cols;
    let w = &mut a.data[..];
    for k in 0..ncols {
        let col = c0 + k;
        let (mut best, mut big) = (k, 0.0);
        for r in k..pivot_rows {
            let v = w[r * cols + col].abs();
            if v > big {
                big = v;
                best = r;
            }
        }
        if best != k {
            for c in 0..cols {
                w.swap(best * cols + c, k * cols + c);
            }
        }
        let piv = w[k * cols + col];
        if piv == 0.0 {
            continue;
        }
        let (head, tail) = w.split_at_mut((k + 1) * cols);
        let prow = &head[k * cols + col..(k + 1) * cols];
        for row in tail.chunks_exact_mut(cols).take(r_end - k - 1) {
            let f = row[col] / piv;
            if f != 0.0 {
                for (x, p) in row[col..].iter_mut().zip(prow) {
                    *x -= f * p;
                }
                row[col] = 0.0;
            }
        }
    }
}

/// Solve the upper-triangular `k x k` block at (row `r0`, column `c0`) of `a`, given
/// right-hand side `b` (overwritten with the solution).
fn back_solve(a: &Rows, r0: usize, c0: usize, b: &mut [f64]) {
    let k = b.len();
    for r in (0..k).rev() {
        let row = &a.row(r0 + r)[c0..c0 + k];
        let mut s = b[r];
        for (x, y) in row[r + 1..].iter().zip(&b[r + 1..]) {
            s -= x * y;
        }
        b[r] = s / row[r];
    }
}

/// [`back_solve`] of two systems of one size (blocks at row 0), interleaved: each is a chain
/// of dependent operations, so the two overlap. Each gets exactly the operations, in the same
/// order, that [`back_solve`] would give it.
fn back_solve_two([(a0, b0), (a1, b1)]: [(&Rows, &mut [f64]); 2], c0: usize) {
    let k = b0.len();
    debug_assert_eq!(k, b1.len());
    for r in (0..k).rev() {
        let (row0, row1) = (&a0.row(r)[c0..c0 + k], &a1.row(r)[c0..c0 + k]);
        let (mut s0, mut s1) = (b0[r], b1[r]);
        for c in r + 1..k {
            s0 -= row0[c] * b0[c];
            s1 -= row1[c] * b1[c];
        }
        b0[r] = s0 / row0[r];
        b1[r] = s1 / row1[r];
    }
}

/// Per-thread buffers of [`assemble_interval`], reused over intervals and Newton steps: the
/// dual-number scratch, the states, Jacobians and f at the interval's collocation points (all
/// of them, so an `.ode` model's bytecode runs on them in one pass), and the interval's nodes of
/// the orbit, the phase reference, the predictor and the tangent, copied contiguously.
struct IntervalScratch {
    dual: DualScratch,
    /// `[J | f_lambda]` at each collocation point.
    jac: Vec<DMatrix<f64>>,
    /// `f` at each collocation point, point after point.
    fval: Vec<f64>,
    /// The state at each collocation point, point after point.
    yc: Vec<f64>,
    /// `[orbit, phase_ref, pred, tangent]`, each `(m + 1) x n`, node-major.
    pts: [Vec<f64>; 4],
    /// One row of `J` (column-major), gathered so that the assembly's innermost loop reads it
    /// contiguously.
    jrow: Vec<f64>,
}

impl IntervalScratch {
    fn new(fam: &Family, n: usize, m: usize) -> IntervalScratch {
        IntervalScratch {
            dual: DualScratch::new(fam, n),
            jac: vec![DMatrix::zeros(n, n + 1); m],
            fval: vec![0.0; m * n],
            yc: vec![0.0; m * n],
            pts: std::array::from_fn(|_| vec![0.0; (m + 1) * n]),
            jrow: vec![0.0; n],
        }
    }
}

/// Assemble interval `j`'s collocation rows and its two border-row contributions, then
/// condense its interior nodes. Returns the eliminated local matrix, the max residual and
/// `int tr J ds` over the interval (divided by the period).
fn assemble_interval(
    fam: &Family,
    scheme: &Scheme,
    orbit: &Orbit,
    border: &Border,
    j: usize,
    scratch: &mut IntervalScratch,
) -> (Rows, f64, f64) {
    let (n, m) = (orbit.n, orbit.m);
    let lay = Layout { n, m };
    let (period, lambda) = (orbit.period, orbit.lambda);
    let rows = n * m + 2;
    let mut residual = 0.0f64;
    let mut trace = 0.0;
    let IntervalScratch {
        dual,
        jac,
        fval,
        yc,
        pts,
        jrow,
    } = scratch;
    let h = orbit.mesh[j + 1] - orbit.mesh[j];
    let mut a = Rows::zeros(rows, lay.cols());
    for (buf, src) in pts
        .iter_mut()
        .zip([orbit, border.phase_ref, border.pred, border.tangent])
    {
        for k in 0..=m {
            buf[k * n..(k + 1) * n].copy_from_slice(src.node(j * m + k));
        }
    }
    let [nodes, refs, preds, tans] = &*pts;
    let interp =
        |pts: &[f64], w: &[f64], i: usize| -> f64 { (0..=m).map(|k| w[k] * pts[k * n + i]).sum() };
    for (c, y) in yc.chunks_mut(n).enumerate() {
        for (i, y) in y.iter_mut().enumerate() {
            *y = interp(nodes, &scheme.a[c], i);
        }
    }
    // f and [J | f_lambda] at the collocation points, all at once.
    fam.jacobians_full_into(dual, yc, lambda, jac, fval);
    for c in 0..m {
        let (ac, dc) = (&scheme.a[c], &scheme.d[c]);
        let (jac, fval, yc) = (&jac[c], &fval[c * n..(c + 1) * n], &yc[c * n..(c + 1) * n]);
        trace += h * scheme.weights[c] * (0..n).map(|i| jac[(i, i)]).sum::<f64>();
        for i in 0..n {
            let r = c * n + i;
            let res = interp(nodes, dc, i) - h * period * fval[i];
            residual = residual.max(res.abs());
            // Row r of the block and row i of J (column-major, so gathered) as contiguous
            // slices: the innermost loop then carries no index arithmetic or bounds test. With
            // them, this assembly was 17% of the default hh diagram's samples; nalgebra's
            // strided row iterator was no faster. `jrow` takes J's first n columns only (the
            // zip stops there); f_lambda, column n, goes to its own column just below.
            for (x, &j_il) in jrow.iter_mut().zip(jac.row(i).iter()) {
                *x = j_il;
            }
            let row = &mut a.data[r * a.cols..(r + 1) * a.cols];
            row[lay.r()] = -res;
            row[lay.g()] = -h * fval[i];
            row[lay.g() + 1] = -h * period * jac[(i, n)];
            for k in 0..=m {
                let node = &mut row[lay.node(k, 0)..lay.node(k, 0) + n];
                node[i] += dc[k];
                let f = -h * period * ac[k];
                for (x, &j_il) in node.iter_mut().zip(jrow.iter()) {
                    *x += f * j_il;
                }
            }
        }
        // Border rows: phase condition and arclength, by Gauss quadrature.
        let wc = scheme.weights[c];
        for (i, &x_c) in yc.iter().enumerate() {
            let dref = interp(refs, dc, i);
            let t_c = interp(tans, ac, i);
            let p_c = interp(preds, ac, i);
            a[(n * m, lay.r())] -= wc * x_c * dref;
            a[(n * m + 1, lay.r())] -= h * wc * (x_c - p_c) * t_c;
            for (k, &ack) in ac.iter().enumerate() {
                let col = lay.node(k, 0) + i;
                a[(n * m, col)] += wc * ack * dref;
                a[(n * m + 1, col)] += h * wc * ack * t_c;
            }
        }
    }
    eliminate(&mut a, lay.w(), n * (m - 1), n * m, rows);
    (a, residual, trace)
}

/// Assemble the collocation equations at `orbit` (with the border rows from `border`) and
/// eliminate them; the Newton step and the tangent are then cheap solves.
pub fn linearise(fam: &Family, scheme: &Scheme, orbit: &Orbit, border: &Border) -> Linearised {
    let (n, m) = (orbit.n, orbit.m);
    let lay = Layout { n, m };
    let nint = orbit.intervals();
    let (period, lambda) = (orbit.period, orbit.lambda);
    // Assemble and condense every interval independently (in parallel: this is most of the
    // work), keeping each interval's residual and its share of the trace integral.

    let per_interval: Vec<(Rows, f64, f64)> = (0..nint)
        .into_par_iter()
        .map_init(
            || IntervalScratch::new(fam, n, m),
            |scratch, j| assemble_interval(fam, scheme, orbit, border, j, scratch),
        )
        .collect();
    let residual = per_interval.iter().fold(0.0f64, |r, x| r.max(x.1));
    let trace_integral = per_interval.iter().map(|x| x.2).sum::<f64>() * period;
    let local: Vec<Rows> = per_interval.into_iter().map(|x| x.0).collect();
    // Sequential elimination over intervals. The carried system (n rows relating x_0 to the
    // current mesh value, then the two border rows) has the columns x0 (n), xcur (n), g (2),
    // rhs; each interval's system has 2n + 2 rows: the carried relation, the interval's last n
    // rows and the border, with the columns xk (n), x0 (n), xk1 (n), g (2), rhs, so that the
    // eliminated columns lead. Both are row-major and written in place: the chain, this
    // elimination and its back-substitution were most of the serial part of a Newton step.
    // Columns of the carried system (`c…`) and of an interval's system (`sc`).
    let (cx0, cxcur, cg, cr) = (0, n, 2 * n, 2 * n + 2);
    let ccols = cr + 1;
    let sc = ChainColumns::new(n);
    let scols = sc.count();
    let top = n * (m - 1);
    let mut carry = Rows::zeros(n + 2, ccols);
    let loc0 = &local[0];
    for (r, lr) in (0..n)
        .map(|r| top + r)
        .chain([n * m, n * m + 1])
        .enumerate()
    {
        let (row, src) = (carry.row_mut(r), loc0.row(lr));
        row[cx0..cx0 + n].copy_from_slice(&src[lay.e()..lay.e() + n]);
        row[cxcur..cxcur + n].copy_from_slice(&src[lay.x()..lay.x() + n]);
        row[cg] = src[lay.g()];
        row[cg + 1] = src[lay.g() + 1];
        row[cr] = src[lay.r()];
    }
    // Global parts of the arclength row.
    let t = border.tangent;
    let arc = carry.row_mut(n + 1);
    arc[cg] += border.period_weight * t.period;
    arc[cg + 1] += t.lambda;
    arc[cr] -= border.period_weight * (period - border.pred.period) * t.period
        + (lambda - border.pred.lambda) * t.lambda;
    let mut chain = Rows::zeros(0, scols);
    chain.data.reserve(nint.saturating_sub(1) * n * scols);
    let mut sys = Rows::zeros(2 * n + 2, scols);
    for loc in local.iter().skip(1) {
        // Order: xk <- the carried xcur, x0, xk1 <- 0, g, rhs (every entry written).
        for r in 0..n {
            let (row, c) = (sys.row_mut(r), carry.row(r));
            row[sc.xk..sc.xk + n].copy_from_slice(&c[cxcur..cxcur + n]);
            row[sc.x0..sc.x0 + n].copy_from_slice(&c[cx0..cx0 + n]);
            row[sc.xk1..sc.xk1 + n].fill(0.0);
            row[sc.g..].copy_from_slice(&c[cg..]);
        }
        // The interval's last n rows: xk <- E, x0 <- 0, xk1 <- X.
        for r in 0..n {
            let (row, l) = (sys.row_mut(n + r), loc.row(top + r));
            row[sc.xk..sc.xk + n].copy_from_slice(&l[lay.e()..lay.e() + n]);
            row[sc.x0..sc.x0 + n].fill(0.0);
            row[sc.xk1..sc.xk1 + n].copy_from_slice(&l[lay.x()..lay.x() + n]);
            row[sc.g] = l[lay.g()];
            row[sc.g + 1] = l[lay.g() + 1];
            row[sc.r] = l[lay.r()];
        }
        // The border rows: the carried ones with the interval's parts added in.
        for b in 0..2 {
            let (row, c, l) = (sys.row_mut(2 * n + b), carry.row(n + b), loc.row(n * m + b));
            for i in 0..n {
                row[sc.xk + i] = c[cxcur + i] + l[lay.e() + i];
                row[sc.x0 + i] = c[cx0 + i];
                row[sc.xk1 + i] = l[lay.x() + i];
            }
            row[sc.g] = c[cg] + l[lay.g()];
            row[sc.g + 1] = c[cg + 1] + l[lay.g() + 1];
            row[sc.r] = c[cr] + l[lay.r()];
        }
        // Pivots among the carried relation and the interval's rows (0..2n): the border rows
        // are never pivots, which `Linearised::solve` relies on.
        eliminate(&mut sys, sc.xk, n, 2 * n, 2 * n + 2);
        chain.data.extend_from_slice(&sys.data[..n * scols]);
        // The new carried system: x0 stays, xk1 becomes xcur.
        for r in 0..n + 2 {
            let (row, src) = (carry.row_mut(r), sys.row(n + r));
            row[cx0..cx0 + n].copy_from_slice(&src[sc.x0..sc.x0 + n]);
            row[cxcur..cxcur + n].copy_from_slice(&src[sc.xk1..sc.xk1 + n]);
            row[cg..].copy_from_slice(&src[sc.g..]);
        }
    }
    // x_N = x_0: fold the xcur columns into x0.
    let mut final_sys = DMatrix::zeros(n + 2, n + 3);
    for fr in 0..n + 2 {
        let c = carry.row(fr);
        for i in 0..n {
            final_sys[(fr, i)] = c[cx0 + i] + c[cxcur + i];
        }
        final_sys[(fr, n)] = c[cg];
        final_sys[(fr, n + 1)] = c[cg + 1];
        final_sys[(fr, n + 2)] = c[cr];
    }
    Linearised {
        local,
        chain,
        final_sys,
        residual,
        trace_integral,
        n,
        m,
    }
}

impl Linearised {
    /// Solve for the Newton step (or, with `border_rhs`, for another right-hand side of the
    /// two border rows with zero collocation right-hand side: the tangent). Returns the step
    /// in node values, period and parameter; `None` if the system is singular.
    pub fn solve(&self, border_rhs: Option<[f64; 2]>) -> Option<(Vec<f64>, f64, f64)> {
        let (n, m) = (self.n, self.m);
        let lay = Layout { n, m };
        let nint = self.local.len();
        // A replaced right-hand side: zero collocation part stays zero under every row
        // operation and border rows are never pivots, so only the final system sees `b`, and
        // the stored right-hand sides are ignored (`keep` = 0).
        let keep = if border_rhs.is_some() { 0.0 } else { 1.0 };
        let a = self.final_sys.columns(0, n + 2).into_owned();
        let mut b = self.final_sys.column(n + 2).into_owned();
        if let Some(bb) = border_rhs {
            b.fill(0.0);
            b[n] = bb[0];
            b[n + 1] = bb[1];
        }
        let sol = a.lu().solve(&b)?;
        if !sol.iter().all(|v| v.is_finite()) {
            return None;
        }
        let x0: Vec<f64> = sol.as_slice()[..n].to_vec();
        let g = [sol[n], sol[n + 1]];
        // Mesh values x_1..x_{N-1} by back-substitution through the chain, into one buffer
        // (node j at j n).
        let sc = ChainColumns::new(n);
        let mut xs = vec![0.0; (nint + 1) * n];
        xs[..n].copy_from_slice(&x0);
        xs[nint * n..].copy_from_slice(&x0);
        for k in (1..nint).rev() {
            let r0 = (k - 1) * n;
            let (head, tail) = xs.split_at_mut(k * n);
            let (xk, xk1) = tail.split_at_mut(n);
            for (r, rv) in xk.iter_mut().enumerate() {
                let rec = self.chain.row(r0 + r);
                let mut v = keep * rec[sc.r];
                for i in 0..n {
                    v -= rec[sc.x0 + i] * head[i] + rec[sc.xk1 + i] * xk1[i];
                }
                v -= rec[sc.g] * g[0] + rec[sc.g + 1] * g[1];
                *rv = v;
            }
            back_solve(&self.chain, r0, sc.xk, xk);
        }
        // Interior nodes of each interval: the interval's right-hand side straight into its
        // place in the step, then its triangular solve there. The solves are independent, and
        // each is one chain of dependent operations, so they go two at a time, interleaved.
        let mut dz = vec![0.0; nint * m * n];
        for (j, d) in dz.chunks_exact_mut(m * n).enumerate() {
            let loc = &self.local[j];
            let (xj, xj1) = (&xs[j * n..(j + 1) * n], &xs[(j + 1) * n..(j + 2) * n]);
            d[..n].copy_from_slice(xj);
            for (r, rv) in d[n..].iter_mut().enumerate() {
                let l = loc.row(r);
                let mut v = keep * l[lay.r()];
                for i in 0..n {
                    v -= l[lay.e() + i] * xj[i] + l[lay.x() + i] * xj1[i];
                }
                v -= l[lay.g()] * g[0] + l[lay.g() + 1] * g[1];
                *rv = v;
            }
        }
        let mut pairs = dz.chunks_exact_mut(2 * m * n);
        for (p, d) in pairs.by_ref().enumerate() {
            let (d0, d1) = d.split_at_mut(m * n);
            let (l0, l1) = (&self.local[2 * p], &self.local[2 * p + 1]);
            back_solve_two([(l0, &mut d0[n..]), (l1, &mut d1[n..])], lay.w());
        }
        if nint % 2 == 1 {
            let d = pairs.into_remainder();
            back_solve(&self.local[nint - 1], 0, lay.w(), &mut d[n..]);
        }
        Some((dz, g[0], g[1]))
    }

    /// The transition matrix of each mesh interval, `x_{j+1} = F_j x_j`, from its condensed
    /// equations `E_j x_j + X_j x_{j+1} = 0` (globals frozen).
    fn transitions(&self) -> Option<Vec<DMatrix<f64>>> {
        let (n, m) = (self.n, self.m);
        let lay = Layout { n, m };
        let top = n * (m - 1);
        self.local
            .iter()
            .map(|l| {
                let e = l.block(top, lay.e(), n, n);
                let x = l.block(top, lay.x(), n, n);
                x.lu().solve(&(-e))
            })
            .collect()
    }

    /// Per mesh interval, the linearised flow of the collocation system with the period and
    /// parameter frozen: the transition `F_j` (`x_{j+1} = F_j x_j`, an approximation of the
    /// state-transition matrix over the interval) and the maps `W_k` from the interval's
    /// first mesh value to its interior nodes `k = 1..m-1` (`x_k = W_k x_j`), stacked in one
    /// `n (m-1) x n` matrix. The adjoint problem ([`super::adjoint`]) is solved on these, so it
    /// is the exact transpose of the discretisation the orbit was solved with. `None` when a
    /// transition is singular.
    pub fn interval_maps(&self) -> Option<Vec<(DMatrix<f64>, DMatrix<f64>)>> {
        let (n, m) = (self.n, self.m);
        let lay = Layout { n, m };
        let top = n * (m - 1);
        let transitions = self.transitions()?;
        let mut out = Vec::with_capacity(transitions.len());
        for (loc, f) in self.local.iter().zip(transitions) {
            let mut w = DMatrix::zeros(top, n);
            for c in 0..n {
                let mut rhs = vec![0.0; top];
                for (r, rv) in rhs.iter_mut().enumerate() {
                    let mut v = -loc[(r, lay.e() + c)];
                    for i in 0..n {
                        v -= loc[(r, lay.x() + i)] * f[(i, c)];
                    }
                    *rv = v;
                }
                back_solve(loc, 0, lay.w(), &mut rhs);
                if !rhs.iter().all(|x| x.is_finite()) {
                    return None;
                }
                for (r, v) in rhs.into_iter().enumerate() {
                    w[(r, c)] = v;
                }
            }
            out.push((f, w));
        }
        Some(out)
    }

    /// Floquet multipliers, by decreasing modulus: the periodic QR iteration over the
    /// per-interval transition matrices ([`super::floquet`]), so each multiplier is accurate
    /// relative to itself even when they span dozens of decades. (The end relation
    /// `P x_0 + Q x_N = 0` holds the same information, but rounding in `P` and `Q` is relative
    /// to the largest multiplier, which drowns the others on very unstable cycles.)
    ///
    /// In the plane (two state variables) no product is formed: the trivial multiplier is
    /// exactly 1 and the other is `exp(int_0^T tr J dt)` by Liouville's formula, from the
    /// collocation quadrature ([`Linearised::trace_integral`]). It is real and positive, so no
    /// period doubling or torus point can be reported there, and it stays accurate where the
    /// transition matrices span more decades than the product resolves (a canard, a homoclinic
    /// tail: `rinzel-hh2d` reported 14 period doublings at NTST 60 before). Liouville's
    /// formula is exact for the true orbit; this is as accurate as the orbit and the
    /// quadrature. The exponent is clamped to +-700 so that the multiplier stays finite and
    /// nonzero ([`super::cycles::CyclePoint::log10_multiplier_product`] keeps the exponent).
    pub fn multipliers(&self) -> Vec<C64> {
        if self.n == 2 {
            if !self.trace_integral.is_finite() {
                return vec![];
            }
            let mut m = [
                C64::new(self.trace_integral.clamp(-700.0, 700.0).exp(), 0.0),
                C64::new(1.0, 0.0),
            ];
            m.sort_by(|a, b| b.norm().total_cmp(&a.norm()));
            return m.to_vec();
        }
        self.transitions()
            .map(|f| floquet::product_eigenvalues(&f, 40))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random upper-triangular systems of every size the chain and the interior solves meet
    /// (`n` and `n (m - 1)`: up to 36 here), at a row and column offset, with pivots of modulus
    /// 3 to 4 against entries within 1: `back_solve` solves each to rounding, and
    /// `back_solve_two` gives each of two systems exactly the bits `back_solve` gives it.
    #[test]
    fn back_solve_solves_the_triangle_and_two_at_a_time_give_the_same_bits() {
        let mut state = 11u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        for k in 1..=36 {
            for (r0, c0) in [(0, 0), (0, 3), (5, 2)] {
                let cols = c0 + k + 2;
                let mut a: [Rows; 2] = std::array::from_fn(|_| Rows::zeros(r0 + k, cols));
                for m in &mut a {
                    for x in &mut m.data {
                        *x = next();
                    }
                    for r in 0..k {
                        let d = &mut m[(r0 + r, c0 + r)];
                        *d += 3.0f64.copysign(*d);
                    }
                }
                let b: [Vec<f64>; 2] = std::array::from_fn(|_| (0..k).map(|_| next()).collect());
                let mut alone = b.clone();
                for (m, x) in a.iter().zip(&mut alone) {
                    back_solve(m, r0, c0, x);
                }
                for ((m, x), b) in a.iter().zip(&alone).zip(&b) {
                    for r in 0..k {
                        let terms = (r..k).map(|c| m[(r0 + r, c0 + c)] * x[c]);
                        let ax: f64 = terms.clone().sum();
                        // Backward error of a triangular solve: k roundings on each term.
                        let size = b[r].abs() + terms.map(f64::abs).sum::<f64>();
                        let tol = 4.0 * k as f64 * f64::EPSILON * size;
                        assert!(
                            (ax - b[r]).abs() <= tol,
                            "k {k}, row {r}: {ax} against {}",
                            b[r]
                        );
                    }
                }
                if r0 == 0 {
                    let [mut x0, mut x1] = b.clone();
                    back_solve_two([(&a[0], &mut x0), (&a[1], &mut x1)], c0);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&x0), bits(&alone[0]), "k {k}, first system");
                    assert_eq!(bits(&x1), bits(&alone[1]), "k {k}, second system");
                }
            }
        }
    }
}
