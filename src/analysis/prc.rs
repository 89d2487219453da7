//! Infinitesimal phase response curves of a stable cycle, by the adjoint method
//! ([`crate::continuation::adjoint`]) on the cycle solved by collocation at a fixed current
//! ([`crate::continuation::orbit_from_simulation`]).
//!
//! Conventions:
//! * **phase** is the fraction of the period in [0, 1); phase 0 is the upward crossing of
//!   V through the spike threshold (the model's, hh: 0 mV, unless the caller gives one);
//! * **value** is `Z_i = d theta / d x_i`, the phase advance in time units (ms) per unit of
//!   state variable `i`: ms/mV for V, ms per unit of a gate; normalised so `Z . f = 1`. A
//!   positive value means a kick in that variable advances the next spike. Divide by the
//!   period for the advance as a fraction of a cycle.
//! * **type**: II when the V curve has a negative lobe deeper than [`TYPE_II_DEPTH`] of its
//!   maximum (a kick there delays the next spike), I otherwise (non-negative to that
//!   accuracy, which the mesh check below makes the discretisation's error well under).
//!
//! **The mesh check.** `Z . f = 1` holds to rounding on any mesh, so it says nothing of the
//! discretisation's error. Each curve is therefore computed again with the cycle solved on
//! twice as many intervals, and the finer curve is kept with the largest difference between
//! the two at the sample phases, per variable relative to that variable's largest `|Z|`, as
//! its error ([`Prc::mesh_error`]; an overestimate for a convergent scheme). While that
//! difference exceeds [`PRC_MESH_RTOL`], the mesh doubles again, up to [`PRC_MAX_NTST`]
//! intervals. Near a SNIC the default 80 intervals were far from enough and nothing said so:
//! the `w` curve of a circle model at 0.1% above its SNIC came out 36 times its true size
//! (`tests/prc.rs`).

use crate::continuation::adjoint::{Adjoint, adjoint};
use crate::continuation::collocation::Scheme;
use crate::continuation::orbit_from_simulation::{
    FixedOrbit, OrbitSettings, orbit_from_simulation, unstable_cycle,
};
use crate::continuation::system::Family;
use crate::error::AnalysisError;
use crate::numerics::eigen::C64;
use std::f64::consts::PI;

/// A V curve whose minimum is below `-TYPE_II_DEPTH` times its maximum is type II.
pub const TYPE_II_DEPTH: f64 = 0.01;

/// The mesh check's tolerance: the largest difference between the curves on two meshes,
/// relative to each variable's largest `|Z|`, under which the finer one is kept as converged.
pub const PRC_MESH_RTOL: f64 = 1e-3;

/// The most intervals the mesh check doubles to (or twice the intervals asked for, when that
/// is more: the check always runs once).
pub const PRC_MAX_NTST: usize = 2560;

/// Type I (advances only) or type II (advances and delays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrcType {
    /// Non-negative: a depolarising kick never delays the next spike.
    TypeI,
    /// With a negative lobe: a depolarising kick early in the cycle delays the next spike.
    TypeII,
}

impl PrcType {
    /// `type I` or `type II`.
    pub fn name(self) -> &'static str {
        match self {
            PrcType::TypeI => "type I",
            PrcType::TypeII => "type II",
        }
    }
}

/// The phase response curve of every state variable at one current.
#[derive(Debug, Clone)]
pub struct Prc {
    /// The injected current (uA/cm^2; file units for an `.ode` model).
    pub current: f64,
    /// Period of the cycle (ms; file units).
    pub period: f64,
    /// Floquet multipliers by decreasing modulus (trivial one included).
    pub multipliers: Vec<C64>,
    /// The largest nontrivial multiplier's modulus (< 1: the cycle is stable).
    pub max_multiplier: f64,
    /// Sample phases, uniform in [0, 1).
    pub phases: Vec<f64>,
    /// `values[i][k]`: variable `i` at `phases[k]` (time units per unit of the variable).
    pub values: Vec<Vec<f64>>,
    /// `max |Z . f - 1|` over the collocation nodes (accuracy of the adjoint).
    pub normalisation_error: f64,
    /// Mesh intervals of the cycle the curve is computed on.
    pub ntst: usize,
    /// The mesh check: the largest difference, at the sample phases, between this curve and
    /// the one on half as many intervals, per variable relative to its largest `|Z|` (NaN
    /// where the cycle could not be solved on the finer mesh, and the curve is the coarse
    /// one, unchecked).
    pub mesh_error: f64,
    /// The V level of phase 0: the spike threshold, or the middle of the cycle's V range for
    /// a cycle that stays below the threshold (near a Hopf point).
    pub section: f64,
    /// The orbit and its phase gradient, for evaluation at any phase.
    orbit: FixedOrbit,
    adjoint: Adjoint,
}

impl Prc {
    /// Every variable's PRC value at `phase` (any real; taken modulo 1), from the collocation
    /// polynomials.
    pub fn at(&self, phase: f64) -> Vec<f64> {
        let s = self.orbit.s_threshold + phase;
        self.adjoint.z.at(&self.orbit.scheme, s)
    }

    /// The state on the cycle at `phase`.
    pub fn state_at(&self, phase: f64) -> Vec<f64> {
        self.orbit
            .orbit
            .at(&self.orbit.scheme, self.orbit.s_threshold + phase)
    }

    /// The cycle the PRC was computed on (collocation, at the PRC's current).
    pub fn orbit(&self) -> &FixedOrbit {
        &self.orbit
    }

    /// The collocation scheme of the orbit.
    pub fn scheme(&self) -> &Scheme {
        &self.orbit.scheme
    }

    /// The V curve's samples.
    pub fn v(&self) -> &[f64] {
        &self.values[0]
    }

    /// Maximum of the V curve and its phase (refined on a fine grid of the polynomials).
    pub fn v_max(&self) -> (f64, f64) {
        self.extreme(1.0)
    }

    /// Minimum of the V curve and its phase.
    pub fn v_min(&self) -> (f64, f64) {
        self.extreme(-1.0)
    }

    fn extreme(&self, sign: f64) -> (f64, f64) {
        let k = (0..self.phases.len())
            .max_by(|&a, &b| (sign * self.v()[a]).total_cmp(&(sign * self.v()[b])))
            .unwrap_or(0);
        let h = 1.0 / self.phases.len() as f64;
        let (mut best, mut bp) = (self.v()[k], self.phases[k]);
        for q in -100..=100 {
            let p = self.phases[k] + q as f64 * h / 100.0;
            let z = self.at(p)[0];
            if sign * z > sign * best {
                best = z;
                bp = p.rem_euclid(1.0);
            }
        }
        (best, bp)
    }

    /// Fraction of the cycle where the V curve is negative (below `-TYPE_II_DEPTH` of its
    /// maximum: the negative lobe's width).
    pub fn negative_fraction(&self) -> f64 {
        let floor = -TYPE_II_DEPTH * self.v_max().0;
        self.v().iter().filter(|&&z| z < floor).count() as f64 / self.v().len() as f64
    }

    /// Type I or II ([`TYPE_II_DEPTH`]).
    pub fn kind(&self) -> PrcType {
        if self.v_min().0 < -TYPE_II_DEPTH * self.v_max().0 {
            PrcType::TypeII
        } else {
            PrcType::TypeI
        }
    }

    /// Normalised L2 distance between the V curve and the SNIC shape `1 - cos(2 pi phase)`,
    /// both scaled to unit RMS: 0 for the exact shape, sqrt(2) at most for orthogonal ones.
    pub fn distance_to_snic_shape(&self) -> f64 {
        let g: Vec<f64> = self
            .phases
            .iter()
            .map(|p| 1.0 - (2.0 * PI * p).cos())
            .collect();
        let rms = |x: &[f64]| (x.iter().map(|a| a * a).sum::<f64>() / x.len() as f64).sqrt();
        let (rv, rg) = (rms(self.v()), rms(&g));
        let d: Vec<f64> = self
            .v()
            .iter()
            .zip(&g)
            .map(|(a, b)| a / rv - b / rg)
            .collect();
        rms(&d)
    }

    /// Least-squares fit of the V curve by `a + b cos(2 pi phase) + c sin(2 pi phase)`:
    /// the coefficients and the relative residual `|r| / |Z_V - mean|` (0 for a pure
    /// sinusoid, the shape near a supercritical Hopf point).
    pub fn sinusoid_fit(&self) -> ([f64; 3], f64) {
        // The uniform grid makes 1, cos and sin orthogonal: the fit is three projections.
        let k = self.phases.len() as f64;
        let v = self.v();
        let a = v.iter().sum::<f64>() / k;
        let proj = |g: &dyn Fn(f64) -> f64| {
            2.0 / k
                * v.iter()
                    .zip(&self.phases)
                    .map(|(z, p)| z * g(2.0 * PI * p))
                    .sum::<f64>()
        };
        let b = proj(&f64::cos);
        let c = proj(&f64::sin);
        let (mut r2, mut d2) = (0.0, 0.0);
        for (z, p) in v.iter().zip(&self.phases) {
            let w = 2.0 * PI * p;
            r2 += (z - a - b * w.cos() - c * w.sin()).powi(2);
            d2 += (z - a).powi(2);
        }
        ([a, b, c], (r2 / d2.max(f64::MIN_POSITIVE)).sqrt())
    }
}

/// The PRC of every state variable of `fam` at current `lambda`, from the cycle the
/// simulation from `y0` settles on; `points` uniform phases are sampled.
///
/// Errors: [`AnalysisError::NoStableCycle`] when the simulation finds no cycle or the
/// collocated cycle is unstable by its multipliers.
pub fn prc_at(
    fam: &Family,
    lambda: f64,
    y0: &[f64],
    set: &OrbitSettings,
    points: usize,
) -> Result<Prc, AnalysisError> {
    let orbit = orbit_from_simulation(fam, lambda, y0, set)?;
    if !orbit.stable() {
        return Err(unstable_cycle(fam, lambda, &orbit));
    }
    prc_on(fam, orbit, points)
}

/// The PRC on `orbit`, a stable cycle already solved by collocation (at `points` phases), with
/// the mesh check of the module's documentation.
pub fn prc_on(fam: &Family, orbit: FixedOrbit, points: usize) -> Result<Prc, AnalysisError> {
    let tol = OrbitSettings::default().tol;
    let mut coarse = curve_on(fam, orbit, points)?;
    let first_ntst = coarse.ntst;
    loop {
        let ntst = 2 * coarse.ntst;
        if ntst > PRC_MAX_NTST.max(2 * first_ntst) {
            return Ok(coarse);
        }
        let fine = super::super::continuation::orbit_from_simulation::on_finer_mesh(
            fam,
            &coarse.orbit,
            ntst,
            tol,
        )
        .filter(|o| o.stable())
        .and_then(|o| curve_on(fam, o, points).ok());
        let Some(mut fine) = fine else {
            return Ok(coarse);
        };
        fine.mesh_error = difference(&coarse, &fine);
        if fine.mesh_error <= PRC_MESH_RTOL {
            return Ok(fine);
        }
        coarse = fine;
    }
}

/// The largest difference between two curves at their (shared) sample phases, per variable
/// relative to `fine`'s largest `|Z|`.
fn difference(coarse: &Prc, fine: &Prc) -> f64 {
    coarse
        .values
        .iter()
        .zip(&fine.values)
        .map(|(a, b)| {
            let size = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let gap = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
            if size > 0.0 { gap / size } else { gap }
        })
        .fold(0.0, f64::max)
}

/// The PRC on `orbit` on its own mesh, unchecked (`mesh_error` NaN).
fn curve_on(fam: &Family, orbit: FixedOrbit, points: usize) -> Result<Prc, AnalysisError> {
    let lambda = orbit.orbit.lambda;
    let adj = adjoint(fam, &orbit.scheme, &orbit.orbit)?;
    let n = fam.dim();
    let phases: Vec<f64> = (0..points).map(|k| k as f64 / points as f64).collect();
    let mut values = vec![Vec::with_capacity(points); n];
    for &p in &phases {
        let z = adj.z.at(&orbit.scheme, orbit.s_threshold + p);
        for (i, zi) in z.into_iter().enumerate() {
            values[i].push(zi);
        }
    }
    Ok(Prc {
        current: lambda,
        period: orbit.period,
        max_multiplier: orbit.max_nontrivial_multiplier(),
        multipliers: orbit.multipliers.clone(),
        phases,
        values,
        normalisation_error: adj.normalisation_error,
        ntst: orbit.orbit.intervals(),
        mesh_error: f64::NAN,
        section: orbit.section,
        orbit,
        adjoint: adj,
    })
}
