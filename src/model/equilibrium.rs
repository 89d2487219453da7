//! Equilibria of a smooth model at a given injected current, with their linearisation: the one
//! definition of a rest state every command uses (rest is the stable equilibrium of lowest V).
//!
//! The search reduces the problem to one equation in the voltage-like variable `v = y[0]`:
//! with `v` held fixed, the other variables are put at equilibrium (for a conductance model
//! every gate at its steady state `x_inf(v)`, in closed form; for an `.ode` model by Newton's
//! method, warm-started from the neighbouring grid point), and the equilibria are the roots of
//! `dv/dt` along that curve. Sign changes are bracketed on a grid and bisected to rounding; a
//! grid point closer to zero than both neighbours is examined too (a golden-section search for
//! the extremum between them), so two roots closer than the grid are not lost. Each root is
//! polished by damped Newton on the full system with the exact dual-number Jacobian.
//!
//! The scan covers the model's search range (a conductance model's `v_search_mv`, [-150, 150]
//! by default; [`V_SEARCH`] for `.ode` files) and goes on beyond it in a direction where the
//! sign of `dv/dt` at the edge says another root must lie further out (below the range while
//! the net current pushes `v` down, above it while it pushes `v` up), up to
//! [`super::V_LIMIT`]. So an equilibrium at -188 mV is found without any setting.
//!
//! An `.ode` model's reduced curve need not be a single graph over `v`: with `v` held fixed
//! its other variables can have several equilibria (a circle, a cubic), none (a pole of the
//! solved-for variable, where the scan stops), or none near the initial values. The scan
//! follows one branch, so for an `.ode` model it is followed by a **deflated Newton search**
//! (Farrell, Birkisson and Funke, SIAM J. Sci. Comput. 37, 2015): Newton on
//! `f(y) prod_k (1/|y - r_k|^2 + 1)`, which the roots `r_k` already found repel, from the
//! file's initial values, the origin, the initial values shifted by one in every variable,
//! and points around each root found, each seed tried again as long as it finds new roots.
//! A root where the field is not differentiable (a 0/0 in the file) is not taken
//! (`System::smooth_at`). The search found what the scan missed on the closed-form models of
//! `tests/rest.rs` (a SNIC circle's saddle and origin, the Bogdanov-Takens form's focus beyond
//! the pole); a conductance model's gates are linear in themselves at fixed `v`, so its scan
//! misses nothing and the search is not run.

use super::field::{Field, VectorField};
use super::ode::OdeModel;
use super::units::Quantity;
use crate::error::AnalysisError;
use crate::numerics::dual::dual_jacobian;
use crate::numerics::roots::golden_min;
use crate::numerics::{EigenPair, eigen};
use nalgebra::{DMatrix, DVector};
use num_dual::Dual64;
use std::fmt;

/// The default range of the voltage-like variable scanned first (mV for conductance models,
/// the file's units for `.ode` models).
pub const V_SEARCH: (f64, f64) = (-150.0, 150.0);

/// More roots than this means a degenerate model (a continuum of equilibria), not isolated ones.
pub const MAX_EQUILIBRIA: usize = 50;

/// Stability type of an equilibrium, from its eigenvalues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// All eigenvalues real and negative.
    StableNode,
    /// All real parts negative, with a complex pair (damped ringing).
    StableFocus,
    /// Unstable directions are real and some directions are stable.
    Saddle,
    /// The unstable directions are a complex pair (what rest becomes past a Hopf point).
    UnstableFocus,
    /// All eigenvalues real and positive.
    UnstableNode,
    /// An eigenvalue on the imaginary axis (|Re| < 1e-9 /ms): a bifurcation point.
    NonHyperbolic,
}

impl Stability {
    /// The type in words (`stable focus`).
    pub fn name(self) -> &'static str {
        match self {
            Stability::StableNode => "stable node",
            Stability::StableFocus => "stable focus",
            Stability::Saddle => "saddle",
            Stability::UnstableFocus => "unstable focus",
            Stability::UnstableNode => "unstable node",
            Stability::NonHyperbolic => "non-hyperbolic",
        }
    }

    /// Every eigenvalue has a negative real part.
    pub fn is_stable(self) -> bool {
        matches!(self, Stability::StableNode | Stability::StableFocus)
    }

    /// Classify eigenvalues sorted by decreasing real part.
    pub fn classify(eig: &[EigenPair]) -> Stability {
        const AXIS: f64 = 1e-9;
        if eig.iter().any(|p| p.value.re.abs() < AXIS) {
            return Stability::NonHyperbolic;
        }
        let unstable: Vec<_> = eig.iter().filter(|p| p.value.re > 0.0).collect();
        let complex = |p: &&EigenPair| p.value.im.abs() > AXIS;
        if unstable.is_empty() {
            return if eig.iter().any(|p| complex(&p)) {
                Stability::StableFocus
            } else {
                Stability::StableNode
            };
        }
        if unstable.len() == eig.len() && !eig.iter().any(|p| complex(&p)) {
            return Stability::UnstableNode;
        }
        if unstable.iter().all(complex) {
            Stability::UnstableFocus
        } else {
            Stability::Saddle
        }
    }
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One equilibrium with its linearisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// Injected current (uA/cm^2; the file's units for an `.ode` model).
    pub i_ext: f64,
    /// Index among the equilibria at this current, by increasing V.
    pub index: usize,
    /// State (V first, then the other variables).
    pub state: Vec<f64>,
    /// Max-norm of dy/dt at `state` after polishing.
    pub residual: f64,
    /// The exact Jacobian at `state` (1/ms).
    pub jacobian: DMatrix<f64>,
    /// Eigenpairs by decreasing real part.
    pub eigen: Vec<EigenPair>,
    /// The type, from the eigenvalues.
    pub stability: Stability,
    /// Eigenvalues with a positive real part.
    pub n_unstable: usize,
}

impl Equilibrium {
    /// The equilibrium at `state` with its Jacobian there: eigenpairs and stability.
    pub fn from_linearisation(
        i_ext: f64,
        index: usize,
        state: Vec<f64>,
        residual: f64,
        jacobian: DMatrix<f64>,
    ) -> Result<Equilibrium, AnalysisError> {
        let eigen = eigen(&jacobian)?;
        let stability = Stability::classify(&eigen);
        let n_unstable = eigen.iter().filter(|e| e.value.re > 0.0).count();
        Ok(Equilibrium {
            i_ext,
            index,
            state,
            residual,
            jacobian,
            eigen,
            stability,
            n_unstable,
        })
    }
}

/// `f(y)` and its Jacobian for one parameter set and injected current.
struct System<'a> {
    field: &'a Field,
    p: Vec<f64>,
    pd: Vec<Dual64>,
    i_ext: f64,
    /// An `.ode` model with its parameters, `i_ext` added to its current parameter: what its
    /// jets take. None for a conductance model.
    ode: Option<(&'a OdeModel, Vec<f64>)>,
}

impl<'a> System<'a> {
    fn new(field: &'a Field, i_ext: f64) -> System<'a> {
        let p = field.params().values();
        let ode = match field {
            Field::Ode(m) => {
                let mut q = p.clone();
                if let Some(c) = m.current_param() {
                    q[c] += i_ext;
                }
                Some((m, q))
            }
            Field::Conductance(_) => None,
        };
        System {
            field,
            pd: p.iter().map(|&x| Dual64::from(x)).collect(),
            p,
            i_ext,
            ode,
        }
    }
}

impl System<'_> {
    /// `f(y)`: an `.ode` model through its closure trees ([`Field::eval_f64`], the
    /// bytecode's numbers bit for bit, without its stack).
    fn f(&self, y: &[f64]) -> Vec<f64> {
        let mut dy = vec![0.0; y.len()];
        crate::numerics::scratch::with_scratch(|(p, slots): &mut (Vec<f64>, Vec<f64>)| {
            p.clear();
            p.extend_from_slice(&self.p);
            self.field.eval_f64(p, y, self.i_ext, &mut dy, slots);
        });
        dy
    }

    fn norm(&self, y: &[f64]) -> f64 {
        max_abs(&self.f(y))
    }

    /// `f(y)` and its Jacobian together. An `.ode` field runs its bytecode once on jets
    /// carrying every direction ([`crate::model::ode::OdeModel::jacobian_into`]) where jets
    /// apply, instead of once for `f` and once per column on dual numbers: the scan of an
    /// `.ode` model's equilibria is a Newton solve at every sample, so this is most of its
    /// time (a sweep finds the rest of every parameter set this way).
    fn f_and_jac(&self, y: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        let n = y.len();
        let (mut f, mut j) = (vec![0.0; n], DMatrix::zeros(n, n + 1));
        self.f_and_jac_into(y, &mut f, &mut j);
        (f, j.columns(0, n).into_owned())
    }

    /// [`System::f_and_jac`] into `f` and the first n columns of `j` (n x (n+1)), buffers the
    /// caller keeps.
    fn f_and_jac_into(&self, y: &[f64], f: &mut [f64], j: &mut DMatrix<f64>) {
        if let Some((m, p)) = &self.ode
            && m.jacobian_into(p, y, None, j, f)
        {
            return;
        }
        f.copy_from_slice(&self.f(y));
        j.columns_mut(0, y.len()).copy_from(&self.jac(y));
    }

    /// Whether the field is differentiable at `y` as far as its linearisation goes: the
    /// Jacobian finite there and, moved by 1e-6 of each variable's size, changed by at most
    /// 1e-3 of its own size. A 0/0 in an `.ode` file (`w / sqrt(v^2 + w^2)` at the origin)
    /// leaves a point where `f` tends to zero but the Jacobian depends on the direction of
    /// approach: its eigenvalues there are noise, and continuing from it fails.
    fn smooth_at(&self, y: &[f64]) -> bool {
        let j0 = self.jac(y);
        let size = 1.0 + j0.amax();
        j0.iter().all(|x| x.is_finite())
            && (0..y.len()).all(|k| {
                let mut moved = y.to_vec();
                moved[k] += 1e-6 * (1.0 + y[k].abs());
                let j1 = self.jac(&moved);
                j1.iter().all(|x| x.is_finite()) && (&j1 - &j0).amax() <= 1e-3 * size
            })
    }

    fn jac(&self, y: &[f64]) -> DMatrix<f64> {
        let mut pd = self.pd.clone();
        let i = Dual64::from(self.i_ext);
        dual_jacobian(y, |yd, dy| self.field.eval(&mut pd, yd, i, dy))
    }

    /// Damped Newton on the full system from `start`; the end point and its residual. Where
    /// the Jacobian is singular (a fold) the start is kept: the reduced root is exact there.
    fn polish(&self, start: &[f64]) -> (Vec<f64>, f64) {
        let mut y = start.to_vec();
        for _ in 0..100 {
            let (f, j) = self.f_and_jac(&y);
            let before = max_abs(&f);
            if before < 1e-13 {
                break;
            }
            let Some(dx) = j.lu().solve(&(-DVector::from_vec(f))) else {
                break;
            };
            let mut step = 1.0;
            loop {
                let trial: Vec<f64> = y.iter().zip(dx.iter()).map(|(a, b)| a + step * b).collect();
                if self.norm(&trial) < before {
                    y = trial;
                    break;
                }
                step *= 0.5;
                if step < 1e-6 {
                    let r = self.norm(&y);
                    return (y, r);
                }
            }
        }
        let r = self.norm(&y);
        (y, r)
    }

    /// The other variables at equilibrium with `v` held fixed, and `dv/dt` there; `None` if
    /// they have none (Newton does not converge from `guess`).
    fn reduced(&self, v: f64, guess: &[f64]) -> Option<(Vec<f64>, f64)> {
        match self.field {
            Field::Conductance(m) => {
                let y = m.state_at_v(v);
                let f0 = self.f(&y)[0];
                f0.is_finite().then(|| (y[1..].to_vec(), f0))
            }
            Field::Ode(_) => self.reduced_by_newton(v, guess),
        }
    }

    fn reduced_by_newton(&self, v: f64, guess: &[f64]) -> Option<(Vec<f64>, f64)> {
        let n = guess.len() + 1;
        let mut y: Vec<f64> = std::iter::once(v).chain(guess.iter().copied()).collect();
        if n == 1 {
            let f0 = self.f(&y)[0];
            return f0.is_finite().then_some((vec![], f0));
        }
        let scale = 1.0 + guess.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        // Buffers kept across the iterations (this runs at every sample of the scan).
        let (mut f, mut j) = (vec![0.0; n], DMatrix::zeros(n, n + 1));
        let mut dz = DVector::zeros(n - 1);
        let tol = 1e-13 * scale;
        let mut last = f64::INFINITY;
        for _ in 0..40 {
            self.f_and_jac_into(&y, &mut f, &mut j);
            for (d, g) in dz.iter_mut().zip(&f[1..]) {
                *d = -g;
            }
            let jz = j.view((1, 1), (n - 1, n - 1)).into_owned();
            if !jz.lu().solve_mut(&mut dz) {
                return None;
            }
            for k in 1..n {
                y[k] += dz[k - 1];
            }
            if !y.iter().all(|x| x.is_finite()) {
                return None;
            }
            // Converged when the step is below the tolerance, or when, after a first step,
            // the steps contract by more than ten and the next one, estimated from that
            // contraction (`step * step / last`, linear: cautious for Newton, which contracts
            // faster), would be under a hundredth of it. The error left is then below the
            // tolerance; a first step alone never counts.
            let step = dz.amax();
            let next = step * (step / last);
            if step <= tol || last.is_finite() && step < 0.1 * last && next <= 0.01 * tol {
                let f0 = self.f(&y)[0];
                return f0.is_finite().then(|| (y[1..].to_vec(), f0));
            }
            last = step;
        }
        None
    }
}

/// One grid point of the scan: `v`, the other variables there, `dv/dt`.
#[derive(Clone)]
struct Sample {
    v: f64,
    z: Vec<f64>,
    f0: f64,
}

/// The scan's first range and grid step: the model's own search range (mV) at 0.25 mV for a
/// conductance model (its gates' steady states are exact, so a coarse grid with the dip test
/// suffices), [`V_SEARCH`] at 0.05 for an `.ode` model.
fn scan_grid(field: &Field) -> (f64, f64, f64) {
    match field {
        Field::Conductance(m) => (m.v_search_mv.0, m.v_search_mv.1, 0.25),
        Field::Ode(_) => (V_SEARCH.0, V_SEARCH.1, 0.05),
    }
}

/// Every equilibrium of `field` at injected current `i_ext`, by increasing V (see the module
/// documentation for the method).
pub fn equilibria(field: &Field, i_ext: f64) -> Result<Vec<Equilibrium>, AnalysisError> {
    field.check_current(i_ext)?;
    let sys = System::new(field, i_ext);
    let (lo, hi, h) = scan_grid(field);
    let mut roots: Vec<Vec<f64>> = vec![];
    let mut notes = vec![];
    match start_sample(&sys, lo, hi) {
        Ok(start) => {
            for dir in [-1.0, 1.0] {
                march(&sys, &start, dir, (lo, hi), h, &mut roots, &mut notes);
            }
        }
        // The deflated search below may still find what the scan could not start on.
        Err(e) if matches!(field, Field::Ode(_)) => notes.push(e.to_string()),
        Err(e) => return Err(e),
    }
    let mut states: Vec<(Vec<f64>, f64)> = roots
        .iter()
        .map(|y| sys.polish(y))
        .filter(polished_root)
        .collect();
    if let Field::Ode(m) = field {
        let known: Vec<Vec<f64>> = states.iter().map(|s| s.0.clone()).collect();
        for y in deflated_search(&sys, &m.init, known) {
            let polished = sys.polish(&y);
            if polished_root(&polished) && !states.iter().any(|s| same(&s.0, &polished.0)) {
                states.push(polished);
            }
        }
        // Roots where the file's field is not differentiable are no equilibria this toolkit
        // can linearise ([`System::smooth_at`]).
        states.retain(|(y, _)| sys.smooth_at(y));
    }
    states.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    states.dedup_by(|a, b| same(&a.0, &b.0));
    if states.is_empty() {
        return Err(AnalysisError::NoEquilibrium {
            model: field.name().to_string(),
            current: Quantity(i_ext, field.units().current).to_string(),
            limit: super::V_LIMIT,
            detail: notes.first().cloned().unwrap_or_default(),
        });
    }
    if states.len() > MAX_EQUILIBRIA {
        return Err(AnalysisError::Numerical {
            what: format!("equilibria of {} at {i_ext}", field.name()),
            reason: format!(
                "{} roots: the net current vanishes over a whole voltage range (a continuum of equilibria; is every conductance zero?)",
                states.len()
            ),
        });
    }
    states
        .into_iter()
        .enumerate()
        .map(|(index, (y, residual))| {
            let j = sys.jac(&y);
            Equilibrium::from_linearisation(i_ext, index, y, residual, j)
        })
        .collect()
}

/// Equilibria of `field` at `i_ext` beside `known` (equilibria there already found): for an
/// `.ode` model those the deflated Newton search finds with `known` deflated, without the
/// scan; for a conductance model every equilibrium by the scan, which is exact there and
/// cheap. What the bifurcation diagram's probes inside its range use (the continuation
/// layer): four full scans of `hh.ode` cost a fifth of its diagram's time, the search alone a
/// small part of that.
pub fn equilibria_beside(
    field: &Field,
    i_ext: f64,
    known: &[Vec<f64>],
) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let Field::Ode(m) = field else {
        return Ok(equilibria(field, i_ext)?
            .into_iter()
            .map(|e| e.state)
            .collect());
    };
    field.check_current(i_ext)?;
    let sys = System::new(field, i_ext);
    let mut out: Vec<Vec<f64>> = vec![];
    for y in deflated_search(&sys, &m.init, known.to_vec()) {
        let polished = sys.polish(&y);
        if polished_root(&polished)
            && !out.iter().chain(known).any(|a| same(a, &polished.0))
            && sys.smooth_at(&polished.0)
        {
            out.push(polished.0);
        }
    }
    Ok(out)
}

/// Whether a polished point `(y, residual)` is a root: residual under 1e-8, finite, and V
/// within [`super::V_LIMIT`].
fn polished_root((y, r): &(Vec<f64>, f64)) -> bool {
    *r < 1e-8 && y.iter().all(|x| x.is_finite()) && y[0].abs() <= super::V_LIMIT
}

/// Whether two roots are the same, to 1e-8 relative in every variable.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= 1e-8 * (1.0 + x.abs()))
}

/// The most Newton runs of the deflated search, and the most iterations of each.
const DEFLATION_RUNS: usize = 64;
const DEFLATION_ITERATIONS: usize = 60;

/// The deflated Newton search of the module's documentation: roots of `f` other than `known`,
/// each converged to `|f| < 1e-10` (relative to the state's size) and not within 1e-8 of a
/// root already found.
fn deflated_search(sys: &System, init: &[f64], mut known: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = init.len();
    let mut seeds: Vec<Vec<f64>> = vec![init.to_vec(), vec![0.0; n]];
    seeds.push(init.iter().map(|x| x + 1.0).collect());
    seeds.push(init.iter().map(|x| x - 1.0).collect());
    for r in &known {
        seeds.extend(around(r));
    }
    let mut found = vec![];
    let mut runs = 0;
    let mut k = 0;
    while k < seeds.len() && runs < DEFLATION_RUNS && known.len() < MAX_EQUILIBRIA {
        runs += 1;
        match deflated_newton(sys, &seeds[k], &known) {
            Some(y) => {
                // A new root: this seed is tried again with it deflated, and the points
                // around it join the seeds.
                seeds.extend(around(&y));
                known.push(y.clone());
                found.push(y);
            }
            None => k += 1,
        }
    }
    found
}

/// Seeds around a root `r`: `r` moved by half of `1 + |r_j|` up and down each variable `j`.
fn around(r: &[f64]) -> Vec<Vec<f64>> {
    let mut out = vec![];
    for j in 0..r.len() {
        for sign in [1.0, -1.0] {
            let mut y = r.to_vec();
            y[j] += sign * 0.5 * (1.0 + r[j].abs());
            out.push(y);
        }
    }
    out
}

/// Newton on the deflated system from `seed`, `known` deflated with power 2 and shift 1. The
/// step is the undeflated Newton step `d` scaled by `1 / (1 - grad(ln m) . d)` (`m` the
/// deflation factor; Sherman-Morrison on the deflated Jacobian), and at most ten times the
/// state's size.
fn deflated_newton(sys: &System, seed: &[f64], known: &[Vec<f64>]) -> Option<Vec<f64>> {
    let mut y = seed.to_vec();
    let scale = |y: &[f64]| 1.0 + max_abs(y);
    for _ in 0..DEFLATION_ITERATIONS {
        let (f, j) = sys.f_and_jac(&y);
        if !f.iter().all(|x| x.is_finite()) {
            return None;
        }
        let distance = |r: &[f64]| {
            y.iter()
                .zip(r)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        if max_abs(&f) < 1e-10 * scale(&y) {
            // A root where the field has a finite Jacobian: where it has none (a 0/0 in the
            // file, like `w / sqrt(v^2 + w^2)` at the origin) nothing is known of its
            // stability, and continuing from it fails.
            let new = known.iter().all(|r| distance(r) > 1e-8 * scale(r));
            let smooth = j.iter().all(|x| x.is_finite());
            return (new && smooth).then_some(y);
        }
        let d = j.lu().solve(&(-DVector::from_vec(f)))?;
        // grad ln m = sum_k -2 (y - r_k) / (|y - r_k|^4 (1/|y - r_k|^2 + 1)).
        let mut grad = vec![0.0; y.len()];
        for r in known {
            let d2 = distance(r).powi(2);
            if d2 == 0.0 {
                return None;
            }
            let w = -2.0 / (d2 * d2 * (1.0 / d2 + 1.0));
            for (g, (a, b)) in grad.iter_mut().zip(y.iter().zip(r)) {
                *g += w * (a - b);
            }
        }
        let along: f64 = grad.iter().zip(d.iter()).map(|(g, x)| g * x).sum();
        let tau = 1.0 / (1.0 - along);
        let mut step: Vec<f64> = d.iter().map(|x| tau * x).collect();
        let size = max_abs(&step);
        if !size.is_finite() {
            return None;
        }
        let cap = 10.0 * scale(&y);
        if size > cap {
            step.iter_mut().for_each(|x| *x *= cap / size);
        }
        for (a, b) in y.iter_mut().zip(&step) {
            *a += b;
        }
        if max_abs(&y) > super::V_LIMIT {
            return None;
        }
    }
    None
}

/// Where the scan starts: for a conductance model the bottom of the range; for an `.ode`
/// model the file's initial value of `v` (else the equilibrium full Newton reaches from the
/// initial values), where the reduced Newton has a good first guess.
fn start_sample(sys: &System, lo: f64, hi: f64) -> Result<Sample, AnalysisError> {
    let sample = |v: f64, guess: &[f64]| sys.reduced(v, guess).map(|(z, f0)| Sample { v, z, f0 });
    let found = match sys.field {
        Field::Conductance(_) => sample(lo, &[]),
        Field::Ode(m) => {
            let v0 = m.init[0].clamp(lo, hi);
            sample(v0, &m.init[1..]).or_else(|| {
                let (y, r) = sys.polish(&m.init);
                (r < 1e-8 && (lo..=hi).contains(&y[0]))
                    .then(|| sample(y[0], &y[1..]))
                    .flatten()
            })
        }
    };
    found.ok_or_else(|| AnalysisError::Numerical {
        what: format!("equilibria of {} at {}", sys.field.name(), sys.i_ext),
        reason: "the other variables have no equilibrium at the initial v, and Newton from the initial values does not converge".into(),
    })
}

/// March from `start` in direction `dir` over the range and on beyond it while the sign of
/// `dv/dt` says a root lies further out; push every bracketed root.
fn march(
    sys: &System,
    start: &Sample,
    dir: f64,
    (lo, hi): (f64, f64),
    h: f64,
    roots: &mut Vec<Vec<f64>>,
    notes: &mut Vec<String>,
) {
    let mut prev: Option<Sample> = None;
    let mut cur = start.clone();
    if dir < 0.0 && cur.f0 == 0.0 {
        // A root exactly on the start is taken once, on the downward march.
        roots.push(join(cur.v, &cur.z));
    }
    let mut dz = vec![0.0; cur.z.len()];
    loop {
        let inside = (lo..=hi).contains(&cur.v);
        // Beyond the range, go on only while dv/dt points outward (a root must lie further
        // out), with a step growing with the distance.
        let outward = if dir > 0.0 {
            cur.f0 > 0.0
        } else {
            cur.f0 < 0.0
        };
        if !inside && !outward {
            break;
        }
        let beyond = if dir > 0.0 { cur.v - hi } else { lo - cur.v }.max(0.0);
        let step = h * (1.0 + beyond / 50.0);
        let mut next_v = cur.v + dir * step;
        if inside && !(lo..=hi).contains(&next_v) && !outward {
            next_v = if dir > 0.0 { hi } else { lo };
            if next_v == cur.v {
                break;
            }
        }
        if next_v.abs() > super::V_LIMIT {
            notes.push(format!(
                "dv/dt keeps pushing v {} past {} (the voltage runs off)",
                if dir > 0.0 { "up" } else { "down" },
                cur.v
            ));
            break;
        }
        let guess: Vec<f64> = cur.z.iter().zip(&dz).map(|(a, d)| a + d).collect();
        let Some((z, f0)) = sys
            .reduced(next_v, &guess)
            .or_else(|| sys.reduced(next_v, &cur.z))
        else {
            notes.push(format!(
                "the other variables have no equilibrium past v = {:.4} (scan stopped there)",
                cur.v
            ));
            break;
        };
        let next = Sample { v: next_v, z, f0 };
        // Bracket in increasing v.
        let (a, b) = if dir > 0.0 {
            (&cur, &next)
        } else {
            (&next, &cur)
        };
        if b.f0 == 0.0 {
            roots.push(join(b.v, &b.z));
        } else if a.f0 * b.f0 < 0.0 {
            if let Some(y) = bisect_reduced(sys, a, b) {
                roots.push(y);
            }
        } else if let Some(p) = &prev
            && p.f0 * cur.f0 > 0.0
            && cur.f0.abs() < p.f0.abs()
            && cur.f0.abs() < next.f0.abs()
        {
            // A dip towards zero at `cur`: look for a hidden pair of roots.
            let (l, r) = if dir > 0.0 { (p, &next) } else { (&next, p) };
            let sign = cur.f0.signum();
            let reduced_f0 = |v: f64| {
                sys.reduced(v, &cur.z)
                    .map_or(f64::INFINITY, |(_, f)| sign * f)
            };
            let v_ext = golden_min(reduced_f0, l.v, r.v, 1e-12 * (1.0 + cur.v.abs()));
            if let Some((z_ext, f_ext)) = sys.reduced(v_ext, &cur.z)
                && f_ext * cur.f0 < 0.0
            {
                let ext = Sample {
                    v: v_ext,
                    z: z_ext,
                    f0: f_ext,
                };
                roots.extend(bisect_reduced(sys, l, &ext));
                roots.extend(bisect_reduced(sys, &ext, r));
            }
        }
        dz = next.z.iter().zip(&cur.z).map(|(a, b)| a - b).collect();
        prev = Some(std::mem::replace(&mut cur, next));
    }
}

/// The root of `dv/dt` between `a` and `b` (of opposite signs), bisected to rounding on the
/// reduced curve, as a full state.
fn bisect_reduced(sys: &System, a: &Sample, b: &Sample) -> Option<Vec<f64>> {
    let (mut a, mut b) = (a.clone(), b.clone());
    for _ in 0..200 {
        let m = 0.5 * (a.v + b.v);
        if m <= a.v || m >= b.v {
            break;
        }
        let (z, f0) = sys.reduced(m, &a.z)?;
        let mid = Sample { v: m, z, f0 };
        if f0 == 0.0 {
            return Some(join(m, &mid.z));
        }
        if f0.signum() == a.f0.signum() {
            a = mid;
        } else {
            b = mid;
        }
    }
    let m = 0.5 * (a.v + b.v);
    let z = sys.reduced(m, &a.z).map_or(a.z, |(z, _)| z);
    Some(join(m, &z))
}

fn join(v: f64, z: &[f64]) -> Vec<f64> {
    std::iter::once(v).chain(z.iter().copied()).collect()
}

/// Largest absolute value.
/// Largest absolute value; infinite when any is not finite (so a NaN residual never passes
/// for a small one: `f64::max` would skip it).
fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| {
        if v.is_finite() {
            m.max(v.abs())
        } else {
            f64::INFINITY
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    fn hh_field() -> Field {
        Field::Conductance(builtin::hh())
    }

    #[test]
    fn hh_rest_is_a_stable_focus_and_unstable_at_10() {
        let e0 = equilibria(&hh_field(), 0.0).unwrap();
        assert_eq!(e0.len(), 1);
        // Rest of the standard HH model: V = -65.0 mV (to 0.1 mV, the classic value).
        assert!((e0[0].state[0] + 65.0).abs() < 0.1, "{}", e0[0].state[0]);
        assert_eq!(e0[0].stability, Stability::StableFocus);
        assert!(e0[0].residual < 1e-12);
        let e10 = equilibria(&hh_field(), 10.0).unwrap();
        assert_eq!(e10[0].stability, Stability::UnstableFocus);
        assert_eq!(e10[0].n_unstable, 2);
        for pair in &e10[0].eigen {
            assert!(pair.residual < 1e-9, "{}", pair.residual);
        }
    }

    #[test]
    fn degenerate_and_singular_cases_are_reported_not_panicked() {
        // No conductance at all: every V is an equilibrium.
        let mut m = builtin::hh();
        for g in ["g_na", "g_k", "g_l"] {
            m.params.set(g, 0.0).unwrap();
        }
        let e = equilibria(&Field::Conductance(m), 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("continuum of equilibria"), "{e}");
        // Only a leak: one equilibrium whose gates are decoupled; J has a zero row/column block
        // structure but stays regular, so this must classify cleanly.
        let mut leak = builtin::hh();
        for g in ["g_na", "g_k"] {
            leak.params.set(g, 0.0).unwrap();
        }
        let e = equilibria(&Field::Conductance(leak), 0.0).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].stability, Stability::StableNode);
    }

    /// The reduced Newton of an `.ode` model returns the other variables solved to its
    /// tolerance, even from a poor guess: the early stop on the estimated next step never
    /// accepts a point whose own residual is not small.
    #[test]
    fn the_reduced_newton_of_an_ode_model_converges_before_it_stops() {
        // The other variables' equations are nonlinear in them (a gate's is linear in the
        // gate, so Newton solves it in one step whatever the stop): w + w^3 = v, u = w^2.
        let text = "par i=0\ndv/dt=i-v+w\ndw/dt=v-w-w^3\ndu/dt=w*w-u\ninit v=0, w=0, u=0\ndone\n";
        let ode = crate::model::ode::OdeModel::parse(text, "cubic.ode", "cubic").unwrap();
        let field = Field::of(&crate::model::Model::Ode(ode)).unwrap();
        let sys = System::new(&field, 0.5);
        for v in [-3.1, -0.4, 0.9, 5.7] {
            // Far from the solution at v.
            let (z, f0) = sys.reduced_by_newton(v, &[2.5, -1.0]).unwrap();
            let y: Vec<f64> = std::iter::once(v).chain(z.iter().copied()).collect();
            let f = sys.f(&y);
            assert_eq!(f0.to_bits(), f[0].to_bits());
            for (k, r) in f[1..].iter().enumerate() {
                assert!(r.abs() <= 1e-12, "v = {v}: d{}/dt = {r}", k + 1);
            }
        }
    }

    #[test]
    fn no_equilibrium_is_a_clear_error() {
        let e = equilibria(&hh_field(), 1e6).unwrap_err().to_string();
        assert!(
            e.contains("no equilibrium") && e.contains("runs off"),
            "{e}"
        );
    }

    #[test]
    fn equilibria_beyond_the_first_range_are_found() {
        // At -30 uA/cm^2 HH's only equilibrium is a stable node below -150 mV: the scan goes on
        // past the range because dv/dt still points down at its edge. The root is checked
        // against a bisection of the steady-state balance on [-200, -150].
        let e = equilibria(&hh_field(), -30.0).unwrap();
        assert_eq!(e.len(), 1, "{e:?}");
        let m = builtin::hh();
        let p = m.params.values();
        let f = |v: f64| m.steady_state_balance(&p, v, -30.0);
        let v = crate::numerics::roots::bisect(f, -200.0, -150.0, f(-200.0));
        assert!((e[0].state[0] - v).abs() < 1e-9, "{} vs {v}", e[0].state[0]);
        assert!(e[0].state[0] < -150.0 && e[0].stability.is_stable());
    }

    #[test]
    fn exact_jacobian_matches_central_differences() {
        // Central differences with h = 1e-6 (relative) are accurate to ~1e-8 relative here; the
        // exact Jacobian must agree to that, entry by entry, at a state away from rest and at a
        // linoid singularity (V = -40 mV, where alpha_m is 0/0 in naive code).
        for model in [builtin::hh(), builtin::hh_ca(), builtin::hh_1952()] {
            let field = Field::Conductance(model.clone());
            let p = model.params.values();
            let rhs = |y: &[f64]| {
                let mut dy = vec![0.0; y.len()];
                field.eval(&mut p.clone(), y, 7.0, &mut dy);
                dy
            };
            for v in [-40.0, -20.3, 10.0] {
                let mut y = model.state_at_v(v);
                y.iter_mut()
                    .skip(1)
                    .for_each(|g| *g = (*g * 0.7 + 0.1).min(0.99));
                let sys = System::new(&field, 7.0);
                let j = sys.jac(&y);
                for col in 0..y.len() {
                    let h = 1e-6 * y[col].abs().max(1e-2);
                    let (mut a, mut b) = (y.clone(), y.clone());
                    a[col] += h;
                    b[col] -= h;
                    let (fa, fb) = (rhs(&a), rhs(&b));
                    for row in 0..y.len() {
                        let fd = (fa[row] - fb[row]) / (2.0 * h);
                        let scale = j[(row, col)].abs().max(1e-3);
                        assert!(
                            (fd - j[(row, col)]).abs() < 1e-6 * scale,
                            "{} V={v} J[{row},{col}]: {} vs {fd}",
                            model.name,
                            j[(row, col)]
                        );
                    }
                }
            }
        }
    }
}
