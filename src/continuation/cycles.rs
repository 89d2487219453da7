//! Branches of periodic orbits born at a Hopf point, continued by collocation
//! ([`super::collocation`]) with pseudo-arclength steps; Floquet multipliers at every point;
//! folds of cycles, period doubling and torus points located by the secant method on their
//! test functions along the branch.
//!
//! A branch's searches and each point's multipliers run on the rayon pool beside its steps.
//! Call the branch functions from a pool thread ([`crate::numerics::pool::on_pool`]), as
//! [`super::diagram::diagram`] does: from outside the pool every parallel step is a round trip
//! to it and may queue behind the searches.

use super::collocation::{Border, Linearised, Orbit, Scheme, linearise};
use super::hopf::Hopf;
use super::special::SpecialKind;
use super::system::Family;
use super::{Stop, outside_range, parameter_eps};
use crate::error::SpecError;
use crate::numerics::eigen::C64;
use std::f64::consts::PI;

/// Discretisation and step control of a cycle continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleSettings {
    /// Mesh intervals (AUTO's NTST).
    pub ntst: usize,
    /// Collocation points per interval (AUTO's NCOL).
    pub ncol: usize,
    /// Largest arclength step (in the norm below).
    pub ds_max: f64,
    /// First step away from the Hopf point.
    pub ds_start: f64,
    /// Newton tolerance on the step (relative max-norm).
    pub tol: f64,
    /// Points per branch at most (at least 10).
    pub max_points: usize,
    /// Weight of the period in the arclength norm `|x|_L2^2 + w T^2 + lambda^2`.
    pub period_weight: f64,
    /// Parameter values where the branch records a point exactly, each time it passes one
    /// (AUTO's UZR): the cycle there, for tables and for comparisons with other tools.
    pub user_points: Vec<f64>,
    /// How many successive period doublings the diagram follows ([`from_period_doubling`]):
    /// 0 none, 1 the doubled-period branches from the period doublings of the primary
    /// branches, 2 also those from the doublings of the doubled branches, and so on (at most
    /// [`MAX_DOUBLINGS`]).
    pub doublings: usize,
}

/// The most successive period doublings a diagram follows ([`CycleSettings::doublings`]).
pub const MAX_DOUBLINGS: usize = 4;

impl CycleSettings {
    /// Check every setting: `ntst` in 10..=2000, `ncol` in 2..=7, `ds_max`, `ds_start`, `tol`
    /// and `period_weight` finite and > 0, `max_points` at least 10, every user point finite.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !(10..=2000).contains(&self.ntst) {
            return Err(SpecError::out_of_range("ntst", self.ntst, "10..=2000"));
        }
        if !(2..=7).contains(&self.ncol) {
            return Err(SpecError::out_of_range("ncol", self.ncol, "2..=7"));
        }
        for (field, value) in [
            ("ds_max", self.ds_max),
            ("ds_start", self.ds_start),
            ("tol", self.tol),
            ("period_weight", self.period_weight),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(SpecError::new(field, value, "a finite number > 0"));
            }
        }
        super::check_max_points(self.max_points)?;
        if let Some(x) = self.user_points.iter().find(|x| !x.is_finite()) {
            return Err(SpecError::new("user_points", x, "finite numbers"));
        }
        if self.doublings > MAX_DOUBLINGS {
            return Err(SpecError::out_of_range(
                "doublings",
                self.doublings,
                format!("0..={MAX_DOUBLINGS}"),
            ));
        }
        Ok(())
    }
}

impl Default for CycleSettings {
    fn default() -> Self {
        CycleSettings {
            ntst: 60,
            ncol: 4,
            ds_max: 4.0,
            ds_start: 0.05,
            tol: 1e-10,
            max_points: 2000,
            period_weight: 1.0,
            user_points: vec![],
            doublings: 0,
        }
    }
}

/// What kind of bifurcation of cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleEvent {
    /// Fold (limit point) of cycles: two cycles meet and vanish.
    Fold,
    /// A multiplier passes through -1.
    PeriodDoubling,
    /// A complex pair of multipliers crosses the unit circle (Neimark-Sacker).
    Torus,
    /// Not a bifurcation: the branch passes a requested parameter value
    /// ([`CycleSettings::user_points`]).
    UserPoint,
    /// The branch ends on a saddle-node on an invariant circle ([`super::cycle_ends`]).
    Snic,
    /// The branch ends on a saddle homoclinic orbit ([`super::cycle_ends`]).
    Homoclinic,
}

impl CycleEvent {
    /// The special point it is.
    pub fn kind(self) -> SpecialKind {
        match self {
            CycleEvent::Fold => SpecialKind::FoldOfCycles,
            CycleEvent::PeriodDoubling => SpecialKind::PeriodDoubling,
            CycleEvent::Torus => SpecialKind::Torus,
            CycleEvent::UserPoint => SpecialKind::UserPoint,
            CycleEvent::Snic => SpecialKind::Snic,
            CycleEvent::Homoclinic => SpecialKind::Homoclinic,
        }
    }

    /// Its name in tables ([`SpecialKind::name`]): `fold_cycle`, `period_doubling`, `torus`,
    /// `user_point`, `snic`, `homoclinic`.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }
}

/// One point of a cycle branch.
#[derive(Debug, Clone, PartialEq)]
pub struct CyclePoint {
    /// The continued parameter, in its own unit ([`crate::continuation::Knob::unit`]).
    pub lambda: f64,
    /// Period (ms).
    pub period: f64,
    /// Largest V on the orbit (mV; file units for an `.ode` model): the branch's upper curve
    /// in a diagram.
    pub v_max: f64,
    /// Smallest V on the orbit (mV; file units for an `.ode` model).
    pub v_min: f64,
    /// Floquet multipliers by decreasing modulus (the trivial one, ~1, included).
    pub multipliers: Vec<C64>,
    /// `int_0^T tr J dt` along the orbit (Liouville: equals the sum of `ln |multiplier|`).
    pub trace_integral: f64,
    /// The state on the orbit where V peaks (to start a simulation on the cycle).
    pub peak_state: Vec<f64>,
}

impl CyclePoint {
    /// Frequency (Hz).
    pub fn frequency_hz(&self) -> f64 {
        1000.0 / self.period
    }

    /// The multipliers without the trivial one (the one closest to 1).
    pub fn nontrivial(&self) -> Vec<C64> {
        without_trivial(&self.multipliers)
    }

    /// The largest modulus among the nontrivial multipliers (0 when there are none): above 1
    /// the cycle is unstable.
    pub fn max_abs_multiplier(&self) -> f64 {
        self.nontrivial()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max)
    }

    /// `log10` of the product of the multipliers' moduli, which Liouville's formula equates
    /// with [`CyclePoint::trace_integral`]` / ln 10`. In the plane the multipliers are 1 and
    /// `exp(int tr J)`, the latter held within `e^(+-700)` to stay a finite nonzero `f64`
    /// ([`super::collocation::Linearised::multipliers`]); the product's logarithm is then the
    /// exponent itself, so it stays right where the multiplier under- or overflows (a SNIC
    /// tail's `exp(-2286)` had it stop at -304).
    pub fn log10_multiplier_product(&self) -> f64 {
        if self.multipliers.len() == 2 && self.trace_integral.is_finite() {
            return self.trace_integral / std::f64::consts::LN_10;
        }
        self.multipliers.iter().map(|z| z.norm().log10()).sum()
    }

    /// All nontrivial multipliers inside the unit circle. False for the Hopf point itself
    /// (no multipliers). With three or more variables, within about 0.01 of a Hopf point the
    /// trivial multiplier and the one leaving the circle are both within 1e-3 of 1 and the
    /// verdict is unreliable, as in AUTO ([`CyclePoint::stability_settled`] flags it). In the
    /// plane the multipliers come from Liouville's formula and this does not arise.
    pub fn stable(&self) -> bool {
        !self.multipliers.is_empty() && self.max_abs_multiplier() < 1.0
    }

    /// How far the trivial multiplier (the one closest to 1, [`without_trivial`]) is from 1, as
    /// `|ln mu|` (complex log: modulus and phase; infinite without multipliers). It is exactly 1
    /// for the true orbit (the flow's own direction), so a large value says the mesh does not
    /// resolve the orbit's linearisation. A small one is no proof of the contrary: a trivial
    /// multiplier off by more than its gap to another multiplier is taken for that other one.
    /// 0 in the plane, where the multipliers come from Liouville's formula
    /// ([`super::collocation::Linearised::multipliers`]).
    pub fn trivial_error(&self) -> f64 {
        trivial_index(&self.multipliers).map_or(f64::INFINITY, |i| {
            let z = self.multipliers[i];
            z.norm().ln().hypot(z.arg())
        })
    }

    /// Whether the multipliers settle the stability verdict ([`CyclePoint::stable`]) as far as
    /// they can tell: the largest nontrivial multiplier is farther from the unit circle, as
    /// `|ln |mu||`, than the trivial one is from 1 ([`CyclePoint::trivial_error`]). Where it
    /// is not, an error of the trivial one's size could flip the verdict. A necessary check,
    /// not a sufficient one (see [`CyclePoint::trivial_error`]). False without multipliers (a
    /// Hopf point).
    pub fn stability_settled(&self) -> bool {
        // With one multiplier or none there is no nontrivial one to judge.
        self.multipliers.len() > 1 && self.max_abs_multiplier().ln().abs() > self.trivial_error()
    }

    /// Stable, and the multipliers settle it: the orbits the summary's stable range and the
    /// `fi` overlay draw from (the summary adds the folds where a branch turns stable and
    /// stable user points, and calls a cycle firing only when V crosses the spike threshold).
    pub fn stable_and_settled(&self) -> bool {
        self.stable() && self.stability_settled()
    }

    /// An orbit with multipliers that do not settle its verdict (the Hopf point, which has
    /// none, is not one): what the reports count and draw grey.
    pub fn stability_unsettled(&self) -> bool {
        !self.multipliers.is_empty() && !self.stability_settled()
    }

    /// Period-doubling test function: `prod (mu + 1) / (|mu| + 1)` over the nontrivial
    /// multipliers. Real (complex pairs contribute `|mu + 1|^2`), bounded, and it changes sign
    /// exactly when a real multiplier crosses -1.
    pub fn pd_test(&self) -> f64 {
        self.nontrivial()
            .iter()
            .map(|z| (z + 1.0) / (z.norm() + 1.0))
            .fold(C64::new(1.0, 0.0), |a, b| a * b)
            .re
    }

    /// Torus (Neimark-Sacker) test function: `prod_{i<j} (mu_i mu_j - 1)` (normalised) over the
    /// nontrivial multipliers. Continuous through real/complex collisions; zero when a complex
    /// pair is on the unit circle, and also at a neutral saddle (real `mu_i mu_j = 1`), which
    /// the caller rejects.
    pub fn torus_test(&self) -> f64 {
        let m = self.nontrivial();
        let mut prod = C64::new(1.0, 0.0);
        for i in 0..m.len() {
            for j in i + 1..m.len() {
                let p = m[i] * m[j];
                prod *= (p - 1.0) / (p.norm() + 1.0);
            }
        }
        prod.re
    }

    /// Whether the orbit is neutrally stable within `tol` (a fold of cycles where the branch
    /// changes stability has every nontrivial multiplier inside the unit circle but one at 1).
    pub fn marginally_stable(&self, tol: f64) -> bool {
        self.max_abs_multiplier() < 1.0 + tol
    }

    /// Whether the point has a complex pair of multipliers on the unit circle (to `tol`).
    fn complex_pair_on_circle(&self, tol: f64) -> bool {
        self.nontrivial()
            .iter()
            .any(|z| z.im.abs() > 1e-8 && (z.norm() - 1.0).abs() < tol)
    }
}

/// A located bifurcation of cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleSpecial {
    /// Which bifurcation (fold of cycles, period doubling, torus, user point).
    pub kind: CycleEvent,
    /// The cycle at the located point.
    pub point: CyclePoint,
    /// The collocated orbit there with the branch's tangent, to continue the point in a second
    /// parameter ([`super::codim2_cycles`]); `None` for the ends of branches.
    pub state: Option<BranchState>,
    /// Where it lies on the branch: between [`CycleBranch::points`]`[after]` and the next point
    /// (the step whose test function changed sign); the last point's index for an end. A
    /// fold of cycles' parameter lies outside the two neighbours' range, so the parameter
    /// alone does not say which step it explains.
    pub after: usize,
}

/// Floquet multipliers without the trivial one (the one closest to 1: the flow's own
/// direction along the orbit).
pub fn without_trivial(multipliers: &[C64]) -> Vec<C64> {
    let trivial = trivial_index(multipliers);
    multipliers
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != trivial)
        .map(|(_, z)| *z)
        .collect()
}

/// The index of the trivial multiplier: the one closest to 1.
fn trivial_index(multipliers: &[C64]) -> Option<usize> {
    multipliers
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - 1.0).norm().total_cmp(&(b.1 - 1.0).norm()))
        .map(|(i, _)| i)
}

/// A point of a cycle branch as the continuation holds it: the collocated orbit and the
/// branch's unit tangent (both on the orbit's mesh; the tangent's `period` and `lambda` are
/// its components along the period and the parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct BranchState {
    /// The orbit (nodes, period, parameter).
    pub orbit: Orbit,
    /// The branch's unit tangent there.
    pub tangent: Orbit,
}

/// A branch of cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleBranch {
    /// The cycles in continuation order, from the start (usually a Hopf point) on.
    pub points: Vec<CyclePoint>,
    /// The bifurcations of cycles located along the branch.
    pub specials: Vec<CycleSpecial>,
    /// Why the branch ended.
    pub stop: Stop,
    /// Events seen but not refined, in words.
    pub notes: Vec<String>,
    /// When the period grew without bound ([`Stop::PeriodUnbounded`]): the state where the
    /// last orbit moves slowest ([`super::cycle_ends::bottleneck`]), which classifies the end.
    pub bottleneck: Option<Vec<f64>>,
    /// The end located by [`super::cycle_ends::classify`] (set by the diagram, which knows the
    /// folds of equilibria).
    pub end: Option<super::cycle_ends::CycleEnd>,
}

impl CycleBranch {
    /// Whether both orbits around a special point of the branch (on its step,
    /// [`CycleSpecial::after`]) have a settled verdict ([`CyclePoint::stability_settled`]):
    /// only then does a change of stability there stand (a fold's own multiplier, 1, settles
    /// nothing).
    pub fn settled_around(&self, s: &CycleSpecial) -> bool {
        (self.points.get(s.after).zip(self.points.get(s.after + 1)))
            .is_some_and(|(p, q)| p.stability_settled() && q.stability_settled())
    }

    /// The orbits of a located end's tail ([`super::cycle_ends::CycleEnd::near`]: the last
    /// run of orbits within its resolution) from the first settled unstable one on, going
    /// along the branch into the tail: their stability is not claimed. The tail resolves the
    /// parameter no better, so the bifurcations there are dropped
    /// ([`super::cycle_ends::settle_end`]), and a stable orbit past an unstable one would
    /// need two of them unseen (Connor-Stevens near its homoclinic end: stable to period 106,
    /// unstable from 110, then one orbit "stable" at 134 between unstable neighbours, which
    /// the summary had named the slowest stable cycle). Empty without a located end, or where
    /// the tail stays stable to its end (a SNIC's).
    pub fn unclaimed_tail(&self) -> &[CyclePoint] {
        let Some(end) = &self.end else {
            return &[];
        };
        if self.tail_turns_stable().is_some() {
            return &[];
        }
        let tail = self
            .points
            .iter()
            .rposition(|p| !end.near(p.lambda))
            .map_or(0, |k| k + 1);
        let from = (tail..self.points.len()).find(|&k| {
            let p = &self.points[k];
            p.stability_settled() && !p.stable()
        });
        from.map_or(&[], |k| &self.points[k..])
    }

    /// The first orbit of a stable run that ends the branch within the tail of a saddle
    /// homoclinic end whose saddle quantity `lambda_u + lambda_s` is negative, after an
    /// unstable orbit of that tail: the theory (Shil'nikov) makes cycles near such a loop
    /// stable, so the run is real and a fold of cycles lies unresolved before it
    /// (Morris-Lecar of class 1 over g_Ca at 30: unstable from period 138.6, stable from
    /// about 290, where AUTO-07p locates folds 4e-10 apart in g_Ca). `None` otherwise.
    pub fn tail_turns_stable(&self) -> Option<&CyclePoint> {
        let end = self.end.as_ref()?;
        let saddle_quantity = end.unstable_eigenvalue + end.stable_eigenvalue;
        if end.kind != super::cycle_ends::EndKind::Homoclinic || saddle_quantity >= 0.0 {
            return None;
        }
        let tail = self
            .points
            .iter()
            .rposition(|p| !end.near(p.lambda))
            .map_or(0, |k| k + 1);
        let settled: Vec<usize> = (tail..self.points.len())
            .filter(|&k| self.points[k].stability_settled())
            .collect();
        // The stable run at the end, at least three settled orbits long, after an unstable one.
        let run = settled
            .iter()
            .rev()
            .take_while(|&&k| self.points[k].stable())
            .count();
        if run < 3 || run == settled.len() {
            return None;
        }
        Some(&self.points[settled[settled.len() - run]])
    }

    /// Whether a special point of the branch ends stable cycles on one side: both its
    /// neighbours settled ([`CycleBranch::settled_around`]) and one of them stable.
    pub fn bounds_stable_cycles(&self, s: &CycleSpecial) -> bool {
        self.settled_around(s)
            && (self.points[s.after].stable() || self.points[s.after + 1].stable())
    }
}

/// `int <a, b> ds` over the orbit by Gauss quadrature (the arclength row's inner product).
fn inner(scheme: &Scheme, a: &Orbit, b: &Orbit) -> f64 {
    let (n, m) = (a.n, a.m);
    let mut total = 0.0;
    for j in 0..a.intervals() {
        let h = a.mesh[j + 1] - a.mesh[j];
        for c in 0..m {
            let mut dot = 0.0;
            for i in 0..n {
                let (mut x, mut y) = (0.0, 0.0);
                for k in 0..=m {
                    x += scheme.a[c][k] * a.node(j * m + k)[i];
                    y += scheme.a[c][k] * b.node(j * m + k)[i];
                }
                dot += x * y;
            }
            total += h * scheme.weights[c] * dot;
        }
    }
    total
}

/// The amplitude (V's range), as a fraction of the branch's largest, within which a step
/// through zero amplitude ends a branch on a Hopf point ([`run`]).
const HOPF_END_AMPLITUDE: f64 = 1e-3;

/// The amplitude, as a fraction of the branch's largest, within which a step through zero
/// amplitude still ends a branch on a Hopf point when no shorter step avoids it ([`run`]):
/// below the 4.5% of the fold beside `bautin.ode`'s Hopf points, so that such a fold is not
/// cut off.
const HOPF_END_FALLBACK: f64 = 0.01;

/// How much of orbit `a`'s oscillation (each node's deviation from the orbit's mean) orbit `b`
/// carries, on the same mesh: 1 for the same orbit, about the ratio of their amplitudes for
/// orbits of one shape and phase, negative for `a` shifted by half a period (a step through
/// zero amplitude at a Hopf point), near 0 for an equilibrium. Nodes are weighted by their
/// interval's length; NaN-free for `a` of zero amplitude (then 0).
pub(crate) fn oscillation_overlap(a: &Orbit, b: &Orbit) -> f64 {
    debug_assert_eq!(a.mesh, b.mesh);
    let (n, m) = (a.n, a.m);
    let nodes = a.intervals() * m;
    let weight = |p: usize| (a.mesh[p / m + 1] - a.mesh[p / m]) / m as f64;
    let mean = |o: &Orbit| -> Vec<f64> {
        let mut mu = vec![0.0; n];
        for p in 0..nodes {
            for (i, x) in o.node(p).iter().enumerate() {
                mu[i] += weight(p) * x;
            }
        }
        mu
    };
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa) = (0.0, 0.0);
    for p in 0..nodes {
        let (x, y) = (a.node(p), b.node(p));
        for i in 0..n {
            let (da, db) = (x[i] - ma[i], y[i] - mb[i]);
            ab += weight(p) * da * db;
            aa += weight(p) * da * da;
        }
    }
    if aa > 0.0 { ab / aa } else { 0.0 }
}

/// A point on the branch with its tangent (both on the same mesh).
#[derive(Clone)]
struct State {
    orbit: Orbit,
    tangent: Orbit,
    point: CyclePoint,
}

/// A corrected state whose Floquet multipliers are still to be computed, with the Newton
/// iterations it took and the linearisation of its last one. The multipliers (the periodic QR
/// iteration, about 14% of the default `hh` diagram's time on one thread) are the only part
/// of a point the next step does not need, so [`run`] computes them beside that step.
struct Corrected {
    state: State,
    its: usize,
    lin: Linearised,
}

impl Corrected {
    /// The state with its multipliers, and the Newton iterations.
    fn finish(self) -> (State, usize) {
        let Corrected {
            mut state,
            its,
            lin,
        } = self;
        state.point.multipliers = lin.multipliers();
        (state, its)
    }
}

/// The continuation engine for one branch.
struct Engine<'a> {
    fam: &'a Family,
    scheme: Scheme,
    set: &'a CycleSettings,
}

impl<'a> Engine<'a> {
    fn new(fam: &'a Family, scheme: Scheme, set: &'a CycleSettings) -> Engine<'a> {
        Engine { fam, scheme, set }
    }

    fn norm(&self, t: &Orbit) -> f64 {
        (inner(&self.scheme, t, t) + self.set.period_weight * t.period.powi(2) + t.lambda.powi(2))
            .sqrt()
    }

    /// The cosine of the angle between `a`'s and `b`'s tangents (on one mesh), in the
    /// inner product the arclength row uses.
    fn tangent_cos(&self, a: &State, b: &State) -> f64 {
        let (s, t) = (&a.tangent, &b.tangent);
        let dot = inner(&self.scheme, s, t)
            + self.set.period_weight * s.period * t.period
            + s.lambda * t.lambda;
        dot / (self.norm(s) * self.norm(t))
    }

    fn axpy(u: &Orbit, t: &Orbit, ds: f64) -> Orbit {
        Orbit {
            z: u.z.iter().zip(&t.z).map(|(a, b)| a + ds * b).collect(),
            period: u.period + ds * t.period,
            lambda: u.lambda + ds * t.lambda,
            ..u.clone()
        }
    }

    /// Predictor-corrector step of length `ds` from `from`; the new state and Newton
    /// iterations, or `None` if the corrector fails.
    fn step(&self, from: &State, ds: f64) -> Option<(State, usize)> {
        self.correct(from, ds, None)
    }

    /// [`Engine::step`] with Newton's iteration started at `guess` (on `from`'s mesh) instead
    /// of the predictor. The point sought is the same (the arclength row still measures `ds`
    /// along `from`'s tangent); only the start is closer, so the corrector needs fewer
    /// iterations. [`Engine::locate_from`] passes its latest point moved along its tangent
    /// (and tries the predictor when that start fails, so a failing trial there can cost
    /// twice the 10 iterations).
    fn correct(&self, from: &State, ds: f64, guess: Option<Orbit>) -> Option<(State, usize)> {
        self.correct_deferred(from, ds, guess)
            .map(Corrected::finish)
    }

    /// [`Engine::step`] without the multipliers: [`Corrected::finish`] computes them.
    fn step_deferred(&self, from: &State, ds: f64) -> Option<Corrected> {
        self.correct_deferred(from, ds, None)
    }

    /// [`Engine::correct`] with the state's multipliers left empty, to be computed from the
    /// converged linearisation it returns with it ([`Corrected::finish`]).
    fn correct_deferred(&self, from: &State, ds: f64, guess: Option<Orbit>) -> Option<Corrected> {
        let pred = Self::axpy(&from.orbit, &from.tangent, ds);
        debug_assert!(guess.as_ref().is_none_or(|g| g.mesh == from.orbit.mesh));
        let mut u = guess.unwrap_or_else(|| pred.clone());
        let border = Border {
            phase_ref: &pred,
            pred: &pred,
            tangent: &from.tangent,
            period_weight: self.set.period_weight,
        };
        for it in 1..=10 {
            let lin = linearise(self.fam, &self.scheme, &u, &border);
            let (dz, dt, dl) = lin.solve(None)?;
            let size = dz
                .iter()
                .chain([&dt, &dl])
                .fold(0.0f64, |m, x| m.max(x.abs()));
            for (z, d) in u.z.iter_mut().zip(&dz) {
                *z += d;
            }
            u.period += dt;
            u.lambda += dl;
            if !size.is_finite() || u.period <= 0.0 {
                return None;
            }
            let scale = 1.0 + u.z.iter().fold(u.period.abs(), |m, x| m.max(x.abs()));
            if size <= self.set.tol * scale {
                let (tz, tt, tl) = lin.solve(Some([0.0, 1.0]))?;
                let mut tangent = Orbit {
                    z: tz,
                    period: tt,
                    lambda: tl,
                    ..u.clone()
                };
                let nrm = self.norm(&tangent);
                tangent.z.iter_mut().for_each(|x| *x /= nrm);
                tangent.period /= nrm;
                tangent.lambda /= nrm;
                let (v_max, v_min, peak_state) = u.range(&self.scheme, 0);
                let point = CyclePoint {
                    lambda: u.lambda,
                    period: u.period,
                    v_max,
                    v_min,
                    multipliers: vec![],
                    peak_state,
                    trace_integral: lin.trace_integral,
                };
                return Some(Corrected {
                    state: State {
                        orbit: u,
                        tangent,
                        point,
                    },
                    its: it,
                    lin,
                });
            }
        }
        None
    }

    /// The state's orbit and tangent on a mesh adapted to the orbit.
    fn remesh(&self, s: State) -> State {
        let mesh = s.orbit.adapted_mesh(&self.scheme, self.set.ntst);
        let orbit = s.orbit.remesh(&self.scheme, mesh.clone());
        let mut tangent = s.tangent.remesh(&self.scheme, mesh);
        tangent.period = s.tangent.period;
        tangent.lambda = s.tangent.lambda;
        State {
            orbit,
            tangent,
            point: s.point,
        }
    }

    /// Secant (Illinois) search for a zero of `test` along the step from `from`, given the
    /// signs at steps 0 and `ds`.
    fn locate(
        &self,
        from: &State,
        ds: f64,
        g0: f64,
        g1: f64,
        test: impl Fn(&State) -> f64,
    ) -> Option<State> {
        self.locate_from(from, ds, g0, g1, &test, 0)
    }

    /// [`Engine::locate`], starting again from the nearest state found when a step from `from`
    /// fails to converge: where the branch turns sharply (xpp-lecar's fold of cycles at
    /// 0.10767) the prediction along `from`'s tangent misses the branch inside the bracket,
    /// although the whole step happened to converge. At most 4 new starts.
    fn locate_from(
        &self,
        from: &State,
        ds: f64,
        g0: f64,
        g1: f64,
        test: &dyn Fn(&State) -> f64,
        restarts: usize,
    ) -> Option<State> {
        let (mut a, mut fa, mut b, mut fb) = (0.0, g0, ds, g1);
        let mut best: Option<State> = None;
        let mut side = 0;
        for _ in 0..40 {
            let c = (a * fb - b * fa) / (fb - fa);
            let c = if c.is_finite() && c > a.min(b) && c < a.max(b) {
                c
            } else {
                0.5 * (a + b)
            };
            // Start Newton from the latest point (at `b`) moved along its own tangent: once the
            // search closes in, that start is within the corrector's tolerance of the answer.
            // If that start fails, the predictor's start is tried as before.
            let guess = best
                .as_ref()
                .map(|s| Self::axpy(&s.orbit, &s.tangent, c - b));
            let warm = guess.is_some();
            let mut corrected = self.correct(from, c, guess);
            if corrected.is_none() && warm {
                corrected = self.step(from, c);
            }
            let Some((s, _)) = corrected else {
                if restarts >= 4 {
                    return None;
                }
                // Walk on in shorter steps from the nearest state known to lie on the branch
                // (`best`, the state at `b`, set on every pass after the first; on the first
                // pass `from`, at `a`) towards the other end of the bracket until the sign
                // changes, then search that last step. The walk goes at most 1.5 times the
                // bracket's length, so it cannot lock onto a zero beyond it.
                let (mut near, mut f_near, span) = match best {
                    Some(s) => (s, fb, a - b),
                    None => (from.clone(), fa, b - a),
                };
                let (mut h, mut walked) = (0.25 * span, 0.0);
                while walked < 1.5 * span.abs() {
                    match self.step(&near, h) {
                        None if h.abs() > 1e-6 * ds.abs() => h *= 0.5,
                        None => return None,
                        Some((s, _)) => {
                            let f = test(&s);
                            if f == 0.0 {
                                return Some(s);
                            }
                            if f * f_near < 0.0 {
                                return self.locate_from(&near, h, f_near, f, test, restarts + 1);
                            }
                            walked += h.abs();
                            (near, f_near) = (s, f);
                        }
                    }
                }
                return None;
            };
            let fc = test(&s);
            // Converged once the zero is bracketed by this point and the last, closer than the
            // corrector's tolerance (relative to the step): the test function's own noise
            // (its orbit is solved to that tolerance) is then above the change, and further
            // steps only chase that noise.
            let settled =
                best.is_some() && fc * fb <= 0.0 && (c - b).abs() <= self.set.tol * ds.abs();
            let done = settled || (b - a).abs() < 1e-12 * ds.abs().max(1e-300) || fc == 0.0;
            best = Some(s);
            if done || fc.abs() < 1e-13 {
                break;
            }
            if fc * fb < 0.0 {
                (a, fa) = (b, fb);
                side = 0;
            } else {
                fa = if side == -1 { fa / 2.0 } else { fa };
                side = -1;
            }
            (b, fb) = (c, fc);
            if (b - a).abs() < 1e-13 * ds.abs() {
                break;
            }
        }
        best
    }
}

/// The test function of an event at a state (`target`: the parameter value of a user point).
fn test_value(kind: CycleEvent, target: f64, s: &State) -> f64 {
    match kind {
        // In the plane a fold of cycles is where the nontrivial multiplier, exp(int tr J)
        // ([`super::collocation::Linearised::multipliers`]), passes 1: that zero is smooth,
        // where the tangent's parameter component also changes sign at turns below the
        // corrector's resolution (a canard's parameter is flat to 1e-7 or better).
        CycleEvent::Fold if s.orbit.n == 2 => s.point.trace_integral,
        CycleEvent::Fold => s.tangent.lambda,
        CycleEvent::PeriodDoubling => s.point.pd_test(),
        CycleEvent::Torus => s.point.torus_test(),
        CycleEvent::UserPoint => s.point.lambda - target,
        CycleEvent::Snic | CycleEvent::Homoclinic => 1.0,
    }
}

/// Continue the cycles born at `hopf` while the parameter stays in `[lo, hi]`.
/// `progress` is called with each new point; the branch stops ([`Stop::Cancelled`]) when it
/// returns `false`.
pub fn from_hopf(
    fam: &Family,
    hopf: &Hopf,
    range: (f64, f64),
    set: &CycleSettings,
    mut progress: impl FnMut(&CyclePoint) -> bool,
) -> CycleBranch {
    from_hopf_to_end(fam, hopf, range, set, &mut progress).0
}

/// [`from_hopf`], with the state of the branch's last point.
fn from_hopf_to_end(
    fam: &Family,
    hopf: &Hopf,
    (lo, hi): (f64, f64),
    set: &CycleSettings,
    progress: &mut dyn FnMut(&CyclePoint) -> bool,
) -> (CycleBranch, State) {
    let n = fam.dim();
    let scheme = Scheme::new(set.ncol);
    let nint = set.ntst;
    let m = set.ncol;
    let mesh: Vec<f64> = (0..=nint).map(|j| j as f64 / nint as f64).collect();
    let mut z = Vec::with_capacity(nint * m * n);
    let mut tz = Vec::with_capacity(nint * m * n);
    for j in 0..nint {
        for k in 0..m {
            let s = (j as f64 + k as f64 / m as f64) / nint as f64;
            z.extend_from_slice(&hopf.state);
            let (c, sn) = ((2.0 * PI * s).cos(), (2.0 * PI * s).sin());
            tz.extend((0..n).map(|i| hopf.q_re[i] * c - hopf.q_im[i] * sn));
        }
    }
    let orbit = Orbit {
        mesh,
        z,
        n,
        m,
        period: hopf.period_ms(),
        lambda: hopf.lambda,
    };
    let engine = Engine::new(fam, scheme, set);
    let mut tangent = Orbit {
        z: tz,
        period: 0.0,
        lambda: 0.0,
        ..orbit.clone()
    };
    let nrm = engine.norm(&tangent);
    tangent.z.iter_mut().for_each(|x| *x /= nrm);
    let start = State {
        point: CyclePoint {
            lambda: hopf.lambda,
            period: hopf.period_ms(),
            v_max: hopf.state[0],
            v_min: hopf.state[0],
            multipliers: vec![],
            trace_integral: 0.0,
            peak_state: hopf.state.clone(),
        },
        orbit,
        tangent,
    };
    run(
        &engine,
        start,
        hopf.period_ms(),
        (lo, hi),
        Start::Hopf {
            subcritical: hopf.is_subcritical(),
        },
        progress,
    )
}

/// The search for one bracket's zero, as [`run`] receives it: the bracket (its number along
/// the branch, the index of the point it starts at, and the parameter at its two ends), what
/// was sought, and the state found.
struct Search {
    bracket: (usize, usize, f64, f64),
    kind: CycleEvent,
    state: Option<State>,
}

/// Where a branch starts, as [`run`] treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// A Hopf point: a degenerate orbit of zero amplitude, with no events on the first step,
    /// whose first orbit must be one of its small cycles (unstable if the Hopf point is
    /// `subcritical`, its first Lyapunov coefficient positive).
    Hopf { subcritical: bool },
    /// An orbit (found by simulation): events from the first step on.
    Orbit,
    /// A period doubling: the branch of doubled-period cycles, which stops when it becomes the
    /// primary cycle traversed twice.
    PeriodDoubling,
}

/// The continuation loop shared by [`from_hopf`] and [`from_orbit`]: pseudo-arclength steps
/// from `start` along its tangent while the parameter stays in `[lo, hi]`, with the events
/// located on each step (from the first step from an orbit; a Hopf start is degenerate and
/// skips it). `period0` is the reference of the stops on growing periods (the Hopf period, or
/// the seed orbit's). A branch from a period doubling stops with [`Stop::BackOnPrimary`] when
/// its orbit becomes the primary one traversed twice. A branch cancelled by `progress`
/// ([`Stop::Cancelled`]) keeps the special points whose searches had started, and leaves the
/// others out without a note. Returns the branch and the state of its
/// last point (whose orbit gave the bottleneck of an unbounded period).
fn run(
    engine: &Engine,
    start: State,
    period0: f64,
    (lo, hi): (f64, f64),
    kind: Start,
    progress: &mut dyn FnMut(&CyclePoint) -> bool,
) -> (CycleBranch, State) {
    let (events_at_start, doubled) = (kind == Start::Orbit, kind == Start::PeriodDoubling);
    let (fam, set) = (engine.fam, engine.set);
    let n = fam.dim();
    let mut points = vec![start.point.clone()];
    let mut specials = vec![];
    let mut notes = vec![];
    let mut cur = start;
    let mut ds = set.ds_start;
    let ds_min = set.ds_start * 1e-5;
    let mut max_amp = 0.0f64;
    // On a doubled-period branch: the antiperiodic part of the last point's orbit
    // ([`AntiperiodicPart`]), to hear the branch pass through the primary cycle.
    let mut antiperiodic = doubled.then(|| AntiperiodicPart::of(&engine.scheme, &cur.orbit));
    // The searches for the brackets' zeros run beside the branch (on another core when one is
    // free): each depends only on its bracket, and nothing on the branch waits for it. They
    // report here, numbered in the order the brackets were found, and are taken in that order
    // once the branch has stopped, so the result is the same on any number of threads (but
    // for a cancelled branch's special points: below).
    let (found, searched) = std::sync::mpsc::channel::<Search>();
    let mut brackets = 0;
    // Set when the progress callback cancels: a search not yet started is then dropped (on
    // one thread none has started), so cancelling does not wait for them.
    let cancelled = &std::sync::atomic::AtomicBool::new(false);
    // The step from `cur` when it was taken beside the last point's multipliers: `None`, not
    // taken; `Some(None)`, taken and failed; `Some(Some(_))`, taken.
    let mut ahead: Option<Option<Corrected>> = None;
    let mut stop = rayon::in_place_scope(|scope| {
        loop {
            if points.len() >= set.max_points {
                break Stop::MaxPoints(set.max_points);
            }
            let stepped = ahead
                .take()
                .unwrap_or_else(|| engine.step_deferred(&cur, ds));
            let Some(Corrected {
                state: mut next,
                its,
                lin,
            }) = stepped
            else {
                ds *= 0.5;
                if ds < ds_min {
                    break Stop::CorrectorFailed(cur.point.lambda);
                }
                continue;
            };
            // The rules that keep the branch on its own orbits ([`judge_step`]). The first
            // orbit's multipliers, where the subcritical rule needs them, are the point's own,
            // kept for it below.
            let first = matches!(kind, Start::Hopf { .. }) && points.len() == 1;
            let first_multipliers = (first
                && kind == (Start::Hopf { subcritical: true })
                && !period_off(&next, period0))
            .then(|| lin.multipliers());
            let step = Step {
                cur: &cur,
                next: &next,
                turn_back_cos: (cur.tangent.lambda * next.tangent.lambda < 0.0)
                    .then(|| engine.tangent_cos(&cur, &next)),
                first,
                first_multipliers: first_multipliers.as_deref(),
                shorter_left: 0.5 * ds >= ds_min,
                max_amp,
            };
            match judge_step(fam, period0, &step) {
                Verdict::Take(note) => notes.extend(note),
                Verdict::Halve => {
                    ds *= 0.5;
                    continue;
                }
                Verdict::End(stop, note) => {
                    notes.extend(note);
                    break stop;
                }
            }
            let amp = next.point.v_max - next.point.v_min;
            // A step from inside the range across one of its ends: the branch's last orbit is
            // the one on that end, located as a user point is (AUTO's UZR stop does the same),
            // so that nothing beyond the range is reported and nothing up to its end is left
            // out (Connor-Stevens' fastest stable cycles lay between its last orbit within the
            // range, at 57.1, and the first beyond it, at 61.0; the Rinzel and `hhred.ode`
            // reductions reported rates at 203 and 201 over ranges ending at 200). The orbit
            // beyond (`beyond`) is kept for the step's events, whose searches then run over the
            // step as taken; those found beyond the end are dropped below. A step from an orbit
            // on the end itself (a seed found by simulation at the range's end) ends there. A
            // branch that starts outside the range (from a Hopf point just outside) is not
            // stopped when it enters.
            let outside = |l: f64| outside_range(l, (lo, hi));
            let mut beyond: Option<State> = None;
            if !outside(cur.point.lambda) && outside(next.point.lambda) {
                let b = if next.point.lambda > hi { hi } else { lo };
                if (cur.point.lambda - b).abs() <= parameter_eps(b) {
                    break Stop::LeftRange(cur.point.lambda);
                }
                let (g0, g1) = (cur.point.lambda - b, next.point.lambda - b);
                if let Some(end) = engine.locate(&cur, ds, g0, g1, |s| s.point.lambda - b) {
                    beyond = Some(std::mem::replace(&mut next, end));
                }
            }
            let at_bound = beyond.is_some();
            // What follows `next` reads neither its multipliers nor the events: the next step's
            // length, `next` on a mesh adapted to it, and whether the branch stops there.
            // On the way to a SNIC or homoclinic end (period above 20 times the Hopf period)
            // steps may grow to 5% of the period, so the tail reaches large periods in a number
            // of points logarithmic in the period.
            let cap = if next.point.period > 20.0 * period0 {
                set.ds_max.max(0.05 * next.point.period)
            } else {
                set.ds_max
            };
            let ds_after = if its <= 3 {
                (ds * 1.5).min(cap)
            } else if its > 6 {
                ds * 0.6
            } else {
                ds
            };
            let lam = next.point.lambda;
            let mut next = engine.remesh(next);
            // With `next` among the points (as it will be below, before the stop is taken).
            let count = points.len() + 1;
            // The period grows without bound: stop at 500 times the Hopf period (a SNIC's tail is
            // then close enough to fit its law), at 1e5, or once the parameter has stopped moving
            // (the last 10 points within 1e-9 relative: a homoclinic tail, where it changes by
            // less than the corrector resolves).
            let frozen = next.orbit.period > 20.0 * period0
                && count > 10
                && points[count - 10..]
                    .iter()
                    .all(|p| (p.lambda - lam).abs() <= 1e-9 * (1.0 + lam.abs()));
            let ends = if at_bound || lam < lo || lam > hi {
                Some(Stop::LeftRange(lam))
            } else if let Some(at) =
                back_on_primary(&engine.scheme, &mut antiperiodic, (&cur, &next), count)
            {
                Some(Stop::BackOnPrimary(at))
            } else if next.orbit.period > 500.0 * period0 || next.orbit.period > 1e5 || frozen {
                Some(Stop::PeriodUnbounded(lam))
            } else {
                None
            };
            // `next`'s multipliers beside the step from it (on two cores, the second takes one
            // of them while the first does the other). That step is wasted if the progress
            // callback cancels the branch at `next`.
            let goes_on = ends.is_none() && count < set.max_points;
            let (multipliers, following) = rayon::join(
                || first_multipliers.unwrap_or_else(|| lin.multipliers()),
                || goes_on.then(|| engine.step_deferred(&next, ds_after)),
            );
            // `lin` is the linearisation at the step's own orbit: the one beyond the range's
            // end when there is one (the end's multipliers came with it).
            match beyond.as_mut() {
                Some(b) => b.point.multipliers = multipliers,
                None => next.point.multipliers = multipliers,
            }
            let step_end = beyond.as_ref().unwrap_or(&next);
            // Events between cur and next. On the first step from a Hopf point the multipliers
            // start degenerate (the orbit has zero amplitude there): only user points are looked
            // for, since the parameter is as good there as anywhere.
            {
                let multipliers_valid = points.len() > 1 || events_at_start;
                let events = [
                    CycleEvent::Fold,
                    CycleEvent::PeriodDoubling,
                    CycleEvent::Torus,
                ]
                .into_iter()
                .filter(|_| multipliers_valid)
                .map(|k| (k, 0.0))
                .chain(set.user_points.iter().map(|&l| (CycleEvent::UserPoint, l)));
                for (kind, target) in events {
                    let (g0, g1) = (
                        test_value(kind, target, &cur),
                        test_value(kind, target, step_end),
                    );
                    // A NaN test value brackets nothing (`g0 * g1 >= 0` would let it through).
                    let bracketed = (g0 * g1).partial_cmp(&0.0) == Some(std::cmp::Ordering::Less);
                    if !bracketed {
                        continue;
                    }
                    let (from, found) = (cur.clone(), found.clone());
                    // `cur` is the last of `points`; `next` is not pushed yet.
                    let bracket = (brackets, points.len() - 1, cur.point.lambda, lam);
                    brackets += 1;
                    scope.spawn(move |_| {
                        if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        let state =
                            engine.locate(&from, ds, g0, g1, |s| test_value(kind, target, s));
                        // The receiver outlives the scope, so the send cannot fail.
                        let _ = found.send(Search {
                            bracket,
                            kind,
                            state,
                        });
                    });
                }
            }
            max_amp = max_amp.max(amp);
            let go_on = progress(&next.point);
            points.push(next.point.clone());
            // Whatever the stop, `cur` is then the last point's state: the bottleneck of an
            // unbounded period is taken on its orbit.
            if !go_on {
                cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
                cur = next;
                break Stop::Cancelled(lam);
            }
            if let Some(stop) = ends {
                cur = next;
                break stop;
            }
            (cur, ds, ahead) = (next, ds_after, following);
        }
    });
    drop(found);
    let mut searches: Vec<Search> = searched.into_iter().collect();
    searches.sort_by_key(|s| s.bracket.0);
    // The last step of a branch that ends on a Hopf point runs into an orbit of nearly zero
    // amplitude, where the multipliers and the tangent degenerate as they do on the first
    // step from one (which looks for user points only): the tangent's parameter component
    // can turn there because the branch itself turns into the Hopf point, not at a fold of
    // cycles. `hh-1952`'s upper Hopf point gave such a bracket, which no fold answered. That
    // step ends within [`HOPF_END_AMPLITUDE`] of the branch's largest amplitude, so a fold of
    // cycles beside the Hopf point (near a Bautin point) lies on an earlier step, where it is
    // found (`a_step_across_zero_amplitude_is_refused`: 4.5% of the largest V range).
    let into_hopf = matches!(stop, Stop::ReachedHopf(_)).then(|| points.len().saturating_sub(2));
    for Search {
        bracket: (_, after, from, to),
        kind,
        state,
    } in searches
    {
        if into_hopf == Some(after) && kind != CycleEvent::UserPoint {
            continue;
        }
        match state {
            Some(s) if kind == CycleEvent::Torus && !s.point.complex_pair_on_circle(1e-4) => {
                // A neutral saddle (real multipliers with product 1): no bifurcation.
            }
            Some(s) if outside_range(s.point.lambda, (lo, hi)) => {
                // Beyond the range's end, on the step that crossed it.
            }
            Some(s) => specials.push(CycleSpecial {
                kind,
                point: s.point,
                state: Some(BranchState {
                    orbit: s.orbit,
                    tangent: s.tangent,
                }),
                after,
            }),
            None => notes.push(format!(
                "a {} between {} = {:.6} and {:.6} was not located",
                kind.name(),
                fam.knob_name(),
                from,
                to
            )),
        }
    }
    // Out of points, or out of steps (the corrector failing at the smallest), while winding
    // at one parameter value: the same end either way.
    if let (Stop::MaxPoints(_) | Stop::CorrectorFailed(_), Some(w)) =
        (stop, super::cycle_ends::winding(&points))
    {
        stop = Stop::Winding {
            points: points.len(),
            at: w.at,
        };
        notes.push(w.note(&fam.knob_name()));
    }
    let bottleneck = matches!(stop, Stop::PeriodUnbounded(_))
        .then(|| super::cycle_ends::bottleneck(fam, &cur.orbit.z, n, cur.orbit.lambda));
    let branch = CycleBranch {
        points,
        specials,
        stop,
        notes,
        bottleneck,
        end: None,
    };
    (branch, cur)
}

/// A corrected step from `cur` to `next`, as [`judge_step`] reads it.
struct Step<'a> {
    cur: &'a State,
    next: &'a State,
    /// Where the parameter turns back across the step (the tangents' parameter components of
    /// opposite signs), the cosine of the angle between `cur`'s and `next`'s tangents.
    turn_back_cos: Option<f64>,
    /// The branch's first step from a Hopf point.
    first: bool,
    /// `next`'s multipliers, taken where the first orbit from a subcritical Hopf point must be
    /// unstable.
    first_multipliers: Option<&'a [C64]>,
    /// Whether half the step is still at least the smallest step.
    shorter_left: bool,
    /// The branch's largest V range so far.
    max_amp: f64,
}

/// What the branch does with a corrected step.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Take it; with a note where it is taken only because no shorter step is left.
    Take(Option<String>),
    /// Refuse it and try half the step.
    Halve,
    /// End the branch at the step's start, with a note where the end is not a clean one.
    End(Stop, Option<String>),
}

/// The largest angle (radians) between the tangents at a step's two ends, in the arclength's
/// inner product, before the step is halved ([`judge_step`]): 15 degrees. On Hindmarsh-Rose's
/// branches nineteen steps in twenty turn by under 10 degrees.
const TANGENT_TURN_MAX: f64 = 15.0 * std::f64::consts::PI / 180.0;

/// Whether the first orbit from a Hopf point is off its period by more than 10%.
fn period_off(next: &State, period0: f64) -> bool {
    (next.point.period - period0).abs() > 0.1 * period0
}

/// The rules that keep a cycle branch on its own orbits, applied to each corrected step before
/// it is taken.
fn judge_step(fam: &Family, period0: f64, step: &Step) -> Verdict {
    let (cur, next) = (step.cur, step.next);
    if step.first {
        // The first orbit from a Hopf point is one of its small cycles, whose period is the
        // Hopf point's to second order in the amplitude. A period 10% off says the step
        // was too long for that branch and the corrector found another orbit: Hindmarsh-
        // Rose's upper Hopf point, whose first step landed 0.01 away on an orbit of 2.2
        // times its period, the small cycles between left out. A shorter step instead.
        // At the smallest step the orbit is kept, with a note: the corrector converged,
        // and the branch is worth more than its absence.
        //
        // The small cycles of a subcritical Hopf point are unstable. A stable first orbit
        // says the step went past the fold of cycles that turns them back (close beside the
        // Hopf point near a Bautin point), onto the stable cycles beyond it, and the fold
        // would be missed (the first step looks for no events). A shorter step instead, as
        // for the period, and a note at the smallest.
        let off = period_off(next, period0);
        let past_fold = step.first_multipliers.is_some_and(|mu| {
            CyclePoint {
                multipliers: mu.to_vec(),
                ..next.point.clone()
            }
            .stable_and_settled()
        });
        if !(off || past_fold) {
            return Verdict::Take(None);
        }
        if step.shorter_left {
            return Verdict::Halve;
        }
        return Verdict::Take(Some(if off {
            format!(
                "the first orbit from the Hopf point, at {} = {:.6}, has period {:.5} against the Hopf point's {period0:.5} even at the smallest step: the Hopf point's small cycles were not found",
                fam.knob_name(),
                next.point.lambda,
                next.point.period
            )
        } else {
            format!(
                "the first orbit from the subcritical Hopf point, at {} = {:.6}, is stable even at the smallest step: the unstable small cycles and the fold of cycles that turns them back were not found",
                fam.knob_name(),
                next.point.lambda
            )
        }));
    }
    // A step across which the parameter turns back (a fold of cycles, as the branch will
    // report it) while its tangent turned by more than `TANGENT_TURN_MAX`: the branch bends
    // within the step, and the corrector may have landed beyond a turn, on a part of the
    // branch the steps then retrace. Hindmarsh-Rose's slow cycles (r = 0.005) took a step of
    // 3.7 across a minimum of the period (the tangents 23 degrees apart), reported a fold of
    // cycles AUTO-07p does not have, and ran back to their Hopf point. Shorter steps follow
    // the bend; at the smallest the step is taken. Steps that do not turn back are not
    // judged by their angle: on `hh` that would add 16% of points, each fold found as before.
    if step
        .turn_back_cos
        .is_some_and(|c| c < TANGENT_TURN_MAX.cos())
        && step.shorter_left
    {
        return Verdict::Halve;
    }
    // A step through zero amplitude, or onto the equilibrium itself. Past a Hopf point
    // the collocation system goes on as the same orbits shifted by half a period, and
    // the equilibrium is a solution of it at every parameter value (an orbit of zero
    // amplitude), so a long step can land on either. Such a step ends the branch at
    // `cur`, shrinking onto a Hopf point, once `cur`'s amplitude is within
    // [`HOPF_END_AMPLITUDE`] of the branch's largest; before that it is refused and a
    // shorter one taken, down to the smallest step, where [`HOPF_END_FALLBACK`] of the
    // largest still counts as reaching the Hopf point. Ending at 5% at once, as before,
    // lost what lies closer to the Hopf point: near a Bautin point (first Lyapunov
    // coefficient small) the fold of cycles that turns the small unstable cycles back
    // sits beside it, at 4.5% of the largest V range in
    // `a_step_across_zero_amplitude_is_refused`. And where the
    // amplitude had not come down to 5%, the step jumped the fold and the Hopf point,
    // so the branch went back and forth between its two Hopf points, then ran along
    // the equilibrium as "stable cycles" where none exist.
    let amp = next.point.v_max - next.point.v_min;
    let cur_amp = cur.point.v_max - cur.point.v_min;
    let crossing = amp < 1e-3 * cur_amp || oscillation_overlap(&cur.orbit, &next.orbit) < 0.0;
    if !crossing {
        return Verdict::Take(None);
    }
    if cur_amp <= HOPF_END_AMPLITUDE * step.max_amp {
        return Verdict::End(Stop::ReachedHopf(cur.point.lambda), None);
    }
    if step.shorter_left {
        return Verdict::Halve;
    }
    if cur_amp < HOPF_END_FALLBACK * step.max_amp {
        return Verdict::End(Stop::ReachedHopf(cur.point.lambda), None);
    }
    Verdict::End(
        Stop::CorrectorFailed(cur.point.lambda),
        Some(format!(
            "the cycle branch stopped at {} = {:.6}: every step from there, down to the smallest, crosses zero amplitude or lands on the equilibrium",
            fam.knob_name(),
            cur.point.lambda
        )),
    )
}

/// Continue the cycle `orbit` (a periodic orbit solved at its parameter, as
/// [`super::orbit_from_simulation::orbit_from_simulation`] returns it) while the parameter
/// stays in `[lo, hi]`, starting in the direction `dir` of the parameter (`+1` up, `-1`
/// down). The orbit is moved to a mesh of `set.ntst` intervals adapted to it and corrected
/// there at its parameter (the arclength row then fixes the parameter); the tangent is the
/// branch's there, oriented by `dir`. The stops on growing periods use `period0` (default:
/// the seed's period) as [`from_hopf`] uses the Hopf period: the period grows without bound
/// once it passes 500 times `period0`. `None` when the correction fails (the orbit is not a
/// solution of the collocation system within `set.tol`, the branch turns at it, or the orbit
/// has another number of collocation points per interval than `set.ncol`).
pub fn from_orbit(
    fam: &Family,
    orbit: &Orbit,
    dir: f64,
    (lo, hi): (f64, f64),
    set: &CycleSettings,
    period0: Option<f64>,
    mut progress: impl FnMut(&CyclePoint) -> bool,
) -> Option<CycleBranch> {
    if orbit.m != set.ncol {
        return None;
    }
    let scheme = Scheme::new(set.ncol);
    let engine = Engine::new(fam, scheme, set);
    let unit = Orbit {
        z: vec![0.0; orbit.z.len()],
        period: 0.0,
        lambda: 1.0,
        ..orbit.clone()
    };
    let seed = State {
        orbit: orbit.clone(),
        tangent: unit,
        point: CyclePoint {
            lambda: orbit.lambda,
            period: orbit.period,
            v_max: f64::NAN,
            v_min: f64::NAN,
            multipliers: vec![],
            trace_integral: 0.0,
            peak_state: vec![],
        },
    };
    let seed = if orbit.intervals() == set.ntst && orbit.m == set.ncol {
        seed
    } else {
        let mesh = orbit.adapted_mesh(&engine.scheme, set.ntst);
        let moved = orbit.remesh(&engine.scheme, mesh);
        State {
            tangent: Orbit {
                z: vec![0.0; moved.z.len()],
                ..seed.tangent
            },
            orbit: moved,
            point: seed.point,
        }
    };
    let (mut start, _) = engine.step(&seed, 0.0)?;
    if start.tangent.lambda.abs() < 1e-6 {
        return None;
    }
    let sign = dir.signum() * start.tangent.lambda.signum();
    start.tangent.z.iter_mut().for_each(|x| *x *= sign);
    start.tangent.period *= sign;
    start.tangent.lambda *= sign;
    let period0 = period0.unwrap_or(start.point.period);
    let (branch, _) = run(
        &engine,
        start,
        period0,
        (lo, hi),
        Start::Orbit,
        &mut progress,
    );
    Some(branch)
}

/// The antiperiodic part `x(s) - x(s + 1/2)` of an orbit on a doubled-period branch, at 200
/// samples of `s` in `[0, 1/2)`, relative to the orbit's largest range of a component. It is
/// zero when the orbit is the primary cycle traversed twice, and near the primary cycle it is
/// a multiple of the period doubling's eigenfunction, whose sign flips where the branch passes
/// through the primary one (a pitchfork in the doubled system: beyond it lie the same orbits,
/// shifted by half their period).
struct AntiperiodicPart(Vec<f64>);

impl AntiperiodicPart {
    const SAMPLES: usize = 400;

    fn of(scheme: &Scheme, orbit: &Orbit) -> AntiperiodicPart {
        let k = Self::SAMPLES;
        let samples: Vec<Vec<f64>> = (0..k)
            .map(|q| orbit.at(scheme, q as f64 / k as f64))
            .collect();
        let range = (0..orbit.n)
            .map(|i| {
                let (a, b) = samples
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                        (a.min(y[i]), b.max(y[i]))
                    });
                b - a
            })
            .fold(0.0, f64::max)
            .max(1e-300);
        AntiperiodicPart(
            (0..k / 2)
                .flat_map(|q| {
                    let (a, b) = (&samples[q], &samples[q + k / 2]);
                    a.iter().zip(b).map(move |(x, y)| (x - y) / range)
                })
                .collect(),
        )
    }

    /// The largest deviation from the primary cycle traversed twice.
    fn gap(&self) -> f64 {
        self.0.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// Whether `self` and `other` point opposite ways (their inner product is negative).
    fn flipped_from(&self, other: &AntiperiodicPart) -> bool {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f64>() < 0.0
    }
}

/// How near the primary cycle (the antiperiodic part's largest size, relative to the orbit's
/// range) a sign flip of that part is taken for stepping through it.
const NEAR_PRIMARY: f64 = 0.1;

/// On a doubled-period branch (`last` is `Some`, the antiperiodic part of `cur`'s orbit),
/// the parameter where the step from `cur` to `next` met the primary cycle again, and `last`
/// moved on to `next`'s part. It meets it where the part vanishes (landing on the primary
/// cycle to 1e-4) or flips its sign between two points (stepping through it): the branch
/// beyond is the same orbits again, half a period later, and following it had run the
/// period-2 branch of `hh` through 2.5 times, listing its points as often. On a flip the
/// parameter is that of the point nearer the primary cycle (the smaller part): the branch
/// turns there, so the error is of the order of the step squared.
/// The first three points, which leave the primary cycle, are not taken for a landing or a
/// flip.
fn back_on_primary(
    scheme: &Scheme,
    last: &mut Option<AntiperiodicPart>,
    (cur, next): (&State, &State),
    count: usize,
) -> Option<f64> {
    let before = last.as_ref()?;
    let after = AntiperiodicPart::of(scheme, &next.orbit);
    // A flip counts only near the primary cycle and once the branch has left it: at the start
    // the part is rounding noise (the two halves of the doubled mesh differ by an ulp), whose
    // sign is arbitrary, and far from the primary cycle a sign means nothing.
    let near = before.gap().min(after.gap()) < NEAR_PRIMARY;
    let at = if count > 3 && after.gap() < 1e-4 {
        Some(next.point.lambda)
    } else if count > 3 && before.gap() > 1e-8 && near && after.flipped_from(before) {
        Some(if after.gap() < before.gap() {
            next.point.lambda
        } else {
            cur.point.lambda
        })
    } else {
        None
    };
    *last = Some(after);
    at
}

/// The eigenfunction of the period doubling at `orbit` (a cycle with a Floquet multiplier at
/// -1): the solution `v` of the collocated linearised flow with `v(T) = -v(0)`, at every node
/// of `orbit`'s mesh. `v(0)` is the null vector of `M + I` (`M` the monodromy matrix, the
/// product of the interval transitions of [`super::collocation::Linearised::interval_maps`]),
/// by SVD; the interior nodes come from the interval maps. `None` when a map is singular.
fn doubling_eigenfunction(fam: &Family, scheme: &Scheme, orbit: &Orbit) -> Option<Vec<f64>> {
    use nalgebra::{DMatrix, DVector};
    let (n, m, nint) = (orbit.n, orbit.m, orbit.intervals());
    let unit = Orbit {
        z: vec![0.0; orbit.z.len()],
        period: 0.0,
        lambda: 1.0,
        ..orbit.clone()
    };
    let border = Border {
        phase_ref: orbit,
        pred: orbit,
        tangent: &unit,
        period_weight: 1.0,
    };
    let maps = linearise(fam, scheme, orbit, &border).interval_maps()?;
    let mut mono = DMatrix::<f64>::identity(n, n);
    for (f, _) in &maps {
        mono = f * mono;
    }
    let svd = (mono + DMatrix::<f64>::identity(n, n)).svd(false, true);
    let v_t = svd.v_t?;
    let imin = svd.singular_values.imin();
    let mut x = DVector::from_iterator(n, v_t.row(imin).iter().copied());
    let mut v = vec![0.0; nint * m * n];
    for (j, (f, w)) in maps.iter().enumerate() {
        v[j * m * n..j * m * n + n].copy_from_slice(x.as_slice());
        for k in 1..m {
            let y = w.view(((k - 1) * n, 0), (n, n)) * &x;
            let off = (j * m + k) * n;
            v[off..off + n].copy_from_slice(y.as_slice());
        }
        x = f * x;
    }
    v.iter().all(|a| a.is_finite()).then_some(v)
}

/// Switch at the period doubling `pd` (a located [`CycleEvent::PeriodDoubling`] with its
/// state) onto the branch of doubled-period cycles and continue it while the parameter stays
/// in `[lo, hi]`, as AUTO does with `ISW=-1`: the cycle traversed twice (period `2T`, on
/// `2 set.ntst` intervals) is the start, the eigenfunction of the multiplier -1 (computed
/// on the collocation discretisation, antiperiodic over `T`, so `v` then `-v` over the
/// doubled period) the direction of the first step; the corrector then lands on the new
/// branch. The
/// branch stops as [`from_hopf`]'s do, and with [`Stop::BackOnPrimary`] when it meets the
/// primary branch again at another period doubling. `None` when the eigenfunction cannot be
/// computed or the orbit has another number of collocation points than `set.ncol`.
pub fn from_period_doubling(
    fam: &Family,
    pd: &BranchState,
    (lo, hi): (f64, f64),
    set: &CycleSettings,
    mut progress: impl FnMut(&CyclePoint) -> bool,
) -> Option<CycleBranch> {
    let orbit = &pd.orbit;
    if orbit.m != set.ncol {
        return None;
    }
    let scheme = Scheme::new(set.ncol);
    let v = doubling_eigenfunction(fam, &scheme, orbit)?;
    let mesh: Vec<f64> = orbit
        .mesh
        .iter()
        .map(|s| 0.5 * s)
        .chain(orbit.mesh.iter().skip(1).map(|s| 0.5 + 0.5 * s))
        .collect();
    let doubled = Orbit {
        mesh,
        z: orbit.z.iter().chain(&orbit.z).copied().collect(),
        period: 2.0 * orbit.period,
        ..orbit.clone()
    };
    let set2 = CycleSettings {
        ntst: 2 * set.ntst,
        ..set.clone()
    };
    let engine = Engine::new(fam, scheme, &set2);
    let mut tangent = Orbit {
        z: v.iter().copied().chain(v.iter().map(|x| -x)).collect(),
        period: 0.0,
        lambda: 0.0,
        ..doubled.clone()
    };
    let nrm = engine.norm(&tangent);
    if !(nrm.is_finite() && nrm > 0.0) {
        return None;
    }
    tangent.z.iter_mut().for_each(|x| *x /= nrm);
    let (v_max, v_min, peak_state) = doubled.range(&engine.scheme, 0);
    let start = State {
        point: CyclePoint {
            lambda: doubled.lambda,
            period: doubled.period,
            v_max,
            v_min,
            multipliers: vec![],
            trace_integral: 0.0,
            peak_state,
        },
        orbit: doubled,
        tangent,
    };
    let period0 = start.point.period;
    let (branch, _) = run(
        &engine,
        start,
        period0,
        (lo, hi),
        Start::PeriodDoubling,
        &mut progress,
    );
    Some(branch)
}

/// Arclength steps [`locate_near`] tries, in both directions, to bracket the event.
const BRACKET_STEPS: [f64; 6] = [0.02, 0.06, 0.2, 0.6, 2.0, 6.0];

/// The bifurcation of cycles `kind` ([`CycleEvent::Fold`] or [`CycleEvent::PeriodDoubling`])
/// on the branch of `fam` nearest to `seed`: the seed is corrected onto the branch (Newton's
/// method on the hyperplane through it orthogonal to its tangent), steps of
/// 0.02, 0.06, 0.2, 0.6, 2 and 6 along the branch either way bracket a sign change of the event's test
/// function (the tangent's parameter component for a fold, the integral of tr J for a fold in
/// the plane, [`CyclePoint::pd_test`] for period doubling), and the secant method locates it
/// as [`from_hopf`] does. Returns the located
/// state (on a mesh adapted to it) and its cycle, or `None` when no event is bracketed.
pub fn locate_near(
    fam: &Family,
    set: &CycleSettings,
    seed: &BranchState,
    kind: CycleEvent,
) -> Option<(BranchState, CyclePoint)> {
    let engine = Engine::new(fam, Scheme::new(set.ncol), set);
    let start = State {
        orbit: seed.orbit.clone(),
        tangent: seed.tangent.clone(),
        point: CyclePoint {
            lambda: seed.orbit.lambda,
            period: seed.orbit.period,
            v_max: f64::NAN,
            v_min: f64::NAN,
            multipliers: vec![],
            trace_integral: 0.0,
            peak_state: vec![],
        },
    };
    let (s0, _) = engine.step(&start, 0.0)?;
    let s0 = engine.remesh(s0);
    let (s0, _) = engine.step(&s0, 0.0)?;
    let g0 = test_value(kind, 0.0, &s0);
    let done = |s: State| {
        let s = engine.remesh(s);
        Some((
            BranchState {
                orbit: s.orbit,
                tangent: s.tangent,
            },
            s.point,
        ))
    };
    if g0 == 0.0 {
        return done(s0);
    }
    for ds in BRACKET_STEPS {
        for sign in [1.0, -1.0] {
            let Some((s1, _)) = engine.step(&s0, sign * ds) else {
                continue;
            };
            let g1 = test_value(kind, 0.0, &s1);
            if g0 * g1 < 0.0 {
                let s = engine.locate(&s0, sign * ds, g0, g1, |s| test_value(kind, 0.0, s))?;
                return done(s);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::continuation::{CURRENT, Settings, equilibria};
    use crate::model::{ConductanceModel, builtin};

    /// A circle of radius `scale` about `(mean, -mean)`, shifted by `shift` of a period, on an
    /// uneven mesh of 10 intervals with 4 points each.
    fn ring_orbit(scale: f64, shift: f64, mean: f64) -> Orbit {
        let mesh: Vec<f64> = (0..=10).map(|j| (j as f64 / 10.0).powi(2)).collect();
        let mut z = vec![];
        for j in 0..10 {
            for k in 0..4 {
                let s = mesh[j] + (mesh[j + 1] - mesh[j]) * k as f64 / 4.0;
                let a = 2.0 * PI * (s + shift);
                z.extend([mean + scale * a.cos(), -mean + scale * a.sin()]);
            }
        }
        Orbit {
            mesh,
            z,
            n: 2,
            m: 4,
            period: 1.0,
            lambda: 0.0,
        }
    }

    /// Each rule of [`judge_step`] on circles whose answers are plain: a step in phase is
    /// taken; one through zero amplitude or onto the equilibrium is refused while a shorter
    /// step is left, and ends the branch on its Hopf point once the last orbit's V range is
    /// within 1e-3 of the largest (1% at the smallest step); the first orbit from a Hopf point
    /// is refused when its period is 10% off or, from a subcritical one, when it is stable.
    #[test]
    fn a_step_is_judged_by_its_phase_its_amplitude_and_the_first_orbits_rules() {
        let fam = Family::new(&builtin::hh(), CURRENT, 0.0).unwrap();
        let state = |scale: f64, shift: f64, period: f64| State {
            orbit: ring_orbit(scale, shift, 3.0),
            tangent: ring_orbit(0.0, 0.0, 0.0),
            point: CyclePoint {
                lambda: 1.0,
                period,
                v_max: 3.0 + scale,
                v_min: 3.0 - scale,
                ..with_multipliers(vec![])
            },
        };
        // The current orbit's V range is 2.
        let cur = state(1.0, 0.0, 1.0);
        let rule = |next, turn_back_cos, first, first_multipliers, shorter_left, max_amp| {
            judge_step(
                &fam,
                1.0,
                &Step {
                    cur: &cur,
                    next,
                    turn_back_cos,
                    first,
                    first_multipliers,
                    shorter_left,
                    max_amp,
                },
            )
        };
        let step = |next, first, first_multipliers, shorter_left, max_amp| {
            rule(next, None, first, first_multipliers, shorter_left, max_amp)
        };
        let turned = |next, turn_back_cos, shorter_left| {
            rule(next, turn_back_cos, false, None, shorter_left, 2.0)
        };
        let judge = |next, shorter_left, max_amp| step(next, false, None, shorter_left, max_amp);
        let (in_phase, shifted, flat) = (
            state(0.9, 0.0, 1.0),
            state(0.9, 0.5, 1.0),
            state(1e-4, 0.0, 1.0),
        );
        assert_eq!(judge(&in_phase, true, 2.0), Verdict::Take(None));
        assert_eq!(judge(&in_phase, false, 1e6), Verdict::Take(None));
        // A step whose tangents are 23 degrees apart is halved; at the smallest, taken; 10
        // degrees is taken at any step.
        let (cos23, cos10) = (23f64.to_radians().cos(), 10f64.to_radians().cos());
        // A step across which the parameter turns back, its tangents 23 degrees apart, is
        // halved; at the smallest, taken; 10 degrees, or no turn back, is taken.
        assert_eq!(turned(&in_phase, Some(cos23), true), Verdict::Halve);
        assert_eq!(turned(&in_phase, Some(cos23), false), Verdict::Take(None));
        assert_eq!(turned(&in_phase, Some(cos10), true), Verdict::Take(None));
        assert_eq!(turned(&in_phase, None, true), Verdict::Take(None));
        for next in [&shifted, &flat] {
            assert_eq!(judge(next, true, 2.0), Verdict::Halve);
            assert!(matches!(
                judge(next, false, 2.0),
                Verdict::End(Stop::CorrectorFailed(l), Some(_)) if l == 1.0
            ));
            // 2 <= 1e-3 * 2000: the Hopf point, at any step.
            assert_eq!(
                judge(next, true, 2000.0),
                Verdict::End(Stop::ReachedHopf(1.0), None)
            );
            // 2 < 1% of 201 but not 1e-3 of it: shorter first, the Hopf point at the smallest.
            assert_eq!(judge(next, true, 201.0), Verdict::Halve);
            assert_eq!(
                judge(next, false, 201.0),
                Verdict::End(Stop::ReachedHopf(1.0), None)
            );
        }
        let first =
            |next, multipliers, shorter_left| step(next, true, multipliers, shorter_left, 0.0);
        // The first step is not tested for a crossing: its start is the Hopf point itself.
        assert_eq!(first(&shifted, None, true), Verdict::Take(None));
        let long = state(0.9, 0.0, 1.2);
        assert_eq!(first(&long, None, true), Verdict::Halve);
        assert!(
            matches!(first(&long, None, false), Verdict::Take(Some(n)) if n.contains("period 1.20000"))
        );
        let (stable, unstable) = (
            [C64::new(1.0, 0.0), C64::new(0.3, 0.0)],
            [C64::new(1.0, 0.0), C64::new(3.0, 0.0)],
        );
        assert_eq!(first(&in_phase, Some(&unstable), true), Verdict::Take(None));
        assert_eq!(first(&in_phase, Some(&stable), true), Verdict::Halve);
        assert!(
            matches!(first(&in_phase, Some(&stable), false), Verdict::Take(Some(n)) if n.contains("is stable"))
        );
    }

    /// The overlap the branch's steps are judged by: 1 for the same orbit, the amplitude ratio
    /// for a scaled one (whatever its mean), -1 for the orbit shifted by half a period, 0 for
    /// an equilibrium, on a mesh of unequal intervals.
    #[test]
    fn oscillation_overlap_tells_a_half_period_shift_and_an_equilibrium() {
        let orbit = ring_orbit;
        let a = orbit(1.0, 0.0, 3.0);
        let near = |x: f64, want: f64| (x - want).abs() < 0.05;
        assert!(near(oscillation_overlap(&a, &a), 1.0));
        let half = oscillation_overlap(&a, &orbit(0.5, 0.0, -7.0));
        assert!(near(half, 0.5), "{half}");
        let shifted = oscillation_overlap(&a, &orbit(1.0, 0.5, 3.0));
        assert!(near(shifted, -1.0), "{shifted}");
        let flat = oscillation_overlap(&a, &orbit(0.0, 0.0, 3.0));
        assert!(flat.abs() < 1e-12, "{flat}");
        assert_eq!(oscillation_overlap(&orbit(0.0, 0.0, 1.0), &a), 0.0);
    }

    /// A cycle point carrying only these multipliers.
    fn with_multipliers(multipliers: Vec<C64>) -> CyclePoint {
        CyclePoint {
            lambda: 0.0,
            period: 1.0,
            v_max: 1.0,
            v_min: 0.0,
            multipliers,
            trace_integral: 0.0,
            peak_state: vec![],
        }
    }

    /// In the plane the product's logarithm is the Liouville exponent, unclamped, where the
    /// multiplier itself stops at e^-700; with three variables, the sum of the logarithms.
    #[test]
    fn the_multipliers_log_product_keeps_an_exponent_beyond_f64() {
        let planar = CyclePoint {
            trace_integral: -2286.0,
            ..with_multipliers(vec![C64::new(1.0, 0.0), C64::new((-700f64).exp(), 0.0)])
        };
        let want = -2286.0 / std::f64::consts::LN_10;
        assert!((planar.log10_multiplier_product() - want).abs() < 1e-12);
        let three = CyclePoint {
            trace_integral: f64::NAN,
            ..with_multipliers(vec![
                C64::new(1.0, 0.0),
                C64::new(0.1, 0.0),
                C64::new(0.0, 0.01),
            ])
        };
        assert!((three.log10_multiplier_product() + 3.0).abs() < 1e-12);
    }

    /// The verdict is settled when the largest nontrivial multiplier is farther from the unit
    /// circle (|ln|mu||) than the trivial one is from 1 (|ln mu|, its phase included).
    #[test]
    fn stability_is_settled_only_beyond_the_trivial_multipliers_error() {
        let real = |a: f64, b: f64| with_multipliers(vec![C64::new(a, 0.0), C64::new(b, 0.0)]);
        // The trivial one is the one closer to 1: 1.01, then 0.8, then 1.2.
        for (p, err, stable, settled) in [
            (real(3.0, 1.01), 1.01f64.ln(), false, true),
            (real(1.5, 0.8), -(0.8f64.ln()), false, true),
            (real(1.2, 0.7), 1.2f64.ln(), true, true),
            // FitzHugh-Nagumo's canard at NTST 60: ln 2.16 = 0.77 < |ln 0.41| = 0.89.
            (real(2.16, 0.41), -(0.41f64.ln()), false, false),
        ] {
            assert!((p.trivial_error() - err).abs() < 1e-15, "{p:?}");
            assert_eq!(
                (p.stable(), p.stability_settled()),
                (stable, settled),
                "{p:?}"
            );
        }
        // A trivial multiplier off the real axis: its phase (0.3) counts.
        let turned = C64::from_polar(1.0, 0.3);
        let p = with_multipliers(vec![turned, C64::new(0.5, 0.0)]);
        assert!((p.trivial_error() - 0.3).abs() < 1e-15);
        assert!(p.stability_settled());
        // By modulus alone it would be exact (error 0) and settle ln 1.21 = 0.19 < 0.2.
        let turned = C64::from_polar(1.0, 0.2);
        let p = with_multipliers(vec![turned, C64::new(1.21, 0.0)]);
        assert!((p.trivial_error() - 0.2).abs() < 1e-15);
        assert!(!p.stable() && !p.stability_settled());
        // A Hopf point has no multipliers: nothing is settled.
        let p = with_multipliers(vec![]);
        assert!(p.trivial_error().is_infinite() && !p.stability_settled());
    }

    /// `m` over the current with its equilibrium branch from rest at 0, continued over
    /// `range` upwards or downwards.
    fn family_and_rest_branch(
        m: ConductanceModel,
        range: (f64, f64),
        upward: bool,
    ) -> (Family, equilibria::EqBranch) {
        let fam = Family::new(&m, CURRENT, 0.0).unwrap();
        let rest = crate::model::equilibria(&crate::model::Field::Conductance(m), 0.0).unwrap();
        let b = equilibria::continue_branch(
            &fam,
            &rest[0].state,
            0.0,
            range,
            upward,
            &Settings::default(),
        )
        .unwrap();
        (fam, b)
    }

    /// `hh` over the current with its equilibrium branch from rest over 0..200 (both Hopf
    /// points on it).
    fn hh_family_and_rest_branch() -> (Family, equilibria::EqBranch) {
        family_and_rest_branch(builtin::hh(), (0.0, 200.0), true)
    }

    #[test]
    fn a_branch_ending_on_a_hopf_point_looks_for_no_fold_on_its_last_step() {
        // `hh-1952`'s cycles from the lower Hopf point end on the upper one (154.526); the
        // tangent turns on the last step as the orbits shrink into it, and that turn used to
        // come out as "a fold_cycle between 154.498873 and 154.525853 was not located".
        let cb = cycles_from_the_lower_hopf_point(builtin::hh_1952());
        assert!(
            matches!(cb.stop, Stop::ReachedHopf(l) if (l - 154.526).abs() < 0.01),
            "{}",
            cb.stop
        );
        assert!(cb.notes.is_empty(), "{:?}", cb.notes);
        let last = cb
            .specials
            .iter()
            .map(|s| s.point.lambda)
            .fold(0.0, f64::max);
        assert!(last < 10.0, "a special point at {last}");
        // The folds of cycles near the lower Hopf point are still found.
        let folds = cb
            .specials
            .iter()
            .filter(|s| s.kind == CycleEvent::Fold)
            .count();
        assert_eq!(folds, 3, "{:?}", cb.specials);
    }

    /// The cycle branch of `m` from its lower Hopf point over 0..200 uA/cm^2, at the defaults.
    fn cycles_from_the_lower_hopf_point(m: ConductanceModel) -> CycleBranch {
        let (fam, b) = family_and_rest_branch(m, (0.0, 200.0), true);
        from_hopf(
            &fam,
            &b.hopfs[0],
            (0.0, 200.0),
            &CycleSettings::default(),
            |_| true,
        )
    }

    #[test]
    fn hh_cycles_from_the_lower_hopf_point_fold_near_6_26() {
        let cb = cycles_from_the_lower_hopf_point(builtin::hh());
        let lpc = cb
            .specials
            .iter()
            .filter(|s| s.kind == CycleEvent::Fold)
            .map(|s| s.point.lambda)
            .fold(f64::INFINITY, f64::min);
        // Rinzel & Miller's fold of cycles near 6.26; the branch ends on the upper Hopf point.
        assert!((lpc - 6.2603).abs() < 1e-3, "{lpc}");
        assert!(
            matches!(cb.stop, Stop::ReachedHopf(l) if (l - 154.52).abs() < 0.5),
            "{}",
            cb.stop
        );
    }

    /// A branch whose period grows without bound records its bottleneck on its last orbit,
    /// at the parameter it stopped at (`hh-ca`'s subcritical branch, which AUTO-07p follows
    /// down to -83.93 uA/cm^2 as its period grows: tests/continuation.rs). A version of the
    /// loop took it on the orbit one point before the last (3.4e-6 mV away).
    #[test]
    fn the_bottleneck_is_taken_on_the_last_orbit() {
        let (fam, b) = family_and_rest_branch(builtin::hh_ca(), (-150.0, 100.0), false);
        let set = CycleSettings::default();
        let (cb, last) = from_hopf_to_end(&fam, &b.hopfs[0], (-150.0, 100.0), &set, &mut |_| true);
        assert!(
            matches!(cb.stop, Stop::PeriodUnbounded(l) if (l + 83.93).abs() < 0.01),
            "{}",
            cb.stop
        );
        assert_eq!(
            last.point.lambda.to_bits(),
            cb.points.last().unwrap().lambda.to_bits()
        );
        let on_last = crate::continuation::cycle_ends::bottleneck(
            &fam,
            &last.orbit.z,
            fam.dim(),
            last.orbit.lambda,
        );
        assert_eq!(cb.bottleneck, Some(on_last));
    }

    /// Cancelling a branch does not wait for the searches not yet started: on one thread,
    /// where they would all run after the branch, a branch cancelled once it has passed the
    /// folds near 7.9 and 6.26 (the first point above 12 uA/cm^2) returns none of them.
    #[test]
    fn cancelling_drops_the_searches_not_yet_started() {
        let (fam, b) = hh_family_and_rest_branch();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let set = CycleSettings::default();
        let cb =
            pool.install(|| from_hopf(&fam, &b.hopfs[0], (0.0, 200.0), &set, |p| p.lambda <= 12.0));
        assert!(
            matches!(cb.stop, Stop::Cancelled(l) if l > 12.0),
            "{}",
            cb.stop
        );
        assert!(
            cb.specials.is_empty() && cb.notes.is_empty(),
            "{:?}",
            cb.notes
        );
    }

    /// The brackets' searches run beside the branch; what they find, and its order, must not
    /// depend on the threads: one thread (the searches wait for the branch's end) and two
    /// (they run as it goes) give the same branch, special points and notes included, bit for
    /// bit, with the special points in the order their brackets were met along the branch.
    #[test]
    fn special_points_do_not_depend_on_the_threads() {
        let (fam, b) = hh_family_and_rest_branch();
        let set = CycleSettings {
            user_points: vec![100.0, 20.0, 50.0],
            ..CycleSettings::default()
        };
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| from_hopf(&fam, &b.hopfs[0], (0.0, 200.0), &set, |_| true))
        };
        let one = on(1);
        // By their Debug text, exact to the bit (`==` would take -0.0 for 0.0).
        assert_eq!(format!("{one:?}"), format!("{:?}", on(2)));
        // Down from the lower Hopf point through the folds and period doublings near 7.9
        // (Guckenheimer and Labouriau's twist) to Rinzel and Miller's fold of cycles near
        // 6.26, then up through the user points in the order the branch meets them (not the
        // order they were given in). The parameters are this branch's own, rounded to 1e-3
        // (the order is what is checked; their accuracy is the AUTO-07p tests').
        let order: Vec<(CycleEvent, f64)> = one
            .specials
            .iter()
            .map(|s| (s.kind, (s.point.lambda * 1e3).round() / 1e3))
            .collect();
        assert_eq!(
            order,
            [
                (CycleEvent::Fold, 7.842),
                (CycleEvent::PeriodDoubling, 7.845),
                (CycleEvent::Fold, 7.918),
                (CycleEvent::PeriodDoubling, 7.918),
                (CycleEvent::Fold, 6.26),
                (CycleEvent::UserPoint, 20.0),
                (CycleEvent::UserPoint, 50.0),
                (CycleEvent::UserPoint, 100.0)
            ],
            "{:?}",
            one.notes
        );
    }
}
