//! A periodic orbit at a fixed parameter value, found from a stable orbit by simulation and
//! then solved by collocation.
//!
//! 1. *Simulation*: the field is integrated (Dormand-Prince 5(4), rtol 1e-9) from a given
//!    state. The Poincaré section is the upward crossing of V through the spike threshold;
//!    every crossing is located on the dense output. The orbit has settled when two
//!    successive return times agree to [`OrbitSettings::settle_rtol`] and the states at the
//!    two crossings agree to the same relative accuracy.
//! 2. *Initial guess*: the last period, sampled finely, is placed on a collocation mesh
//!    equidistributed in scaled arclength (each variable divided by its range on the orbit,
//!    plus a floor in time), so that a spike and a slow recovery both get intervals; time 0
//!    (scaled time `s = 0`) is the threshold crossing.
//! 3. *Newton at fixed parameter*: the collocation system of [`super::collocation`] with
//!    AUTO's integral phase condition against the guess and, in place of the arclength row,
//!    `lambda = lambda_0` (a tangent that is the unit vector in lambda). After convergence
//!    the mesh is adapted to the orbit ([`Orbit::adapted_mesh`]) and Newton runs again, with
//!    the converged orbit as the phase reference.
//!
//! The Floquet multipliers come from the same elimination ([`Linearised::multipliers`]). A
//! current with no stable cycle (the simulation settles at rest, or never repeats within the
//! time budget) is an error naming the current.

use super::collocation::{Border, Linearised, Orbit, Scheme, linearise};
use super::system::Family;
use crate::error::AnalysisError;
use crate::model::Quantity;
use crate::model::VectorField;
use crate::numerics::eigen::C64;
use crate::simulate::Tolerances;
use crate::simulate::dopri5::Dopri5;

/// How to find and solve the orbit.
#[derive(Debug, Clone, PartialEq)]
pub struct OrbitSettings {
    /// Spike threshold (mV; the file's units for an `.ode` model): the Poincaré section is
    /// V crossing it upward, and it is phase 0 of the orbit.
    pub threshold: f64,
    /// Longest simulation before giving up (ms).
    pub t_max: f64,
    /// Two successive return times (and crossing states) agreeing to this relative accuracy
    /// count as settled.
    pub settle_rtol: f64,
    /// Mesh intervals of the collocation (AUTO's NTST).
    pub ntst: usize,
    /// Collocation points per interval (AUTO's NCOL).
    pub ncol: usize,
    /// Newton tolerance (relative max-norm of the step).
    pub tol: f64,
}

impl Default for OrbitSettings {
    fn default() -> Self {
        OrbitSettings {
            threshold: 0.0,
            t_max: 20_000.0,
            settle_rtol: 1e-5,
            ntst: 80,
            ncol: 4,
            tol: 1e-10,
        }
    }
}

/// A periodic orbit solved by collocation at a fixed parameter value.
#[derive(Debug, Clone)]
pub struct FixedOrbit {
    /// The orbit on its (adapted) mesh.
    pub orbit: Orbit,
    /// The collocation scheme it was solved with.
    pub scheme: Scheme,
    /// Period (ms; the file's time unit for an `.ode` model).
    pub period: f64,
    /// Floquet multipliers by decreasing modulus (the trivial one, ~1, included).
    pub multipliers: Vec<C64>,
    /// Max-norm of the collocation residual at the solution.
    pub residual: f64,
    /// Scaled time `s` in [0, 1) of the upward threshold crossing on the solved orbit
    /// (phase 0).
    pub s_threshold: f64,
    /// The V level of the Poincaré section and of phase 0: the threshold, or for a cycle
    /// that stays below it the middle of its V range.
    pub section: f64,
    /// The period the simulation measured (ms), before collocation; NaN for an orbit
    /// continued from a neighbour ([`orbit_from_neighbour`]), which was not simulated.
    pub simulated_period: f64,
    /// Return times measured in the simulation before it settled.
    pub returns: usize,
}

impl FixedOrbit {
    /// The largest modulus among the nontrivial multipliers (the trivial one is the closest
    /// to 1 and left out).
    pub fn max_nontrivial_multiplier(&self) -> f64 {
        super::cycles::without_trivial(&self.multipliers)
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max)
    }

    /// All nontrivial multipliers inside the unit circle.
    pub fn stable(&self) -> bool {
        !self.multipliers.is_empty() && self.max_nontrivial_multiplier() < 1.0
    }
}

/// What the simulation found: one settled period sampled finely.
struct Settled {
    /// Uniform samples over one period from the crossing (the last one is the next crossing).
    states: Vec<Vec<f64>>,
    period: f64,
    returns: usize,
}

/// Most integrator steps one search for a settled cycle may take: a stiff model at an extreme
/// current would otherwise run for minutes.
const MAX_STEPS: u64 = 2_000_000;

/// Samples per period of the settled orbit (for the initial guess and its mesh).
const SAMPLES: usize = 4000;

fn no_cycle(fam: &Family, lambda: f64, reason: String) -> AnalysisError {
    let unit = fam.unit();
    AnalysisError::NoStableCycle {
        model: fam.field.name().to_string(),
        field: "current".into(),
        current: if unit.is_empty() {
            format!("{lambda}")
        } else {
            format!("{lambda} {unit}")
        },
        reason,
    }
}

/// Upward crossing time of component 0 through `thr` inside a dense step (bisection).
fn crossing_in(d: &crate::simulate::dopri5::Dense, t0: f64, t1: f64, thr: f64) -> f64 {
    let (mut a, mut b) = (t0, t1);
    for _ in 0..60 {
        let c = 0.5 * (a + b);
        if d.eval(0, c) < thr {
            a = c;
        } else {
            b = c;
        }
    }
    0.5 * (a + b)
}

/// Why the simulation did not settle on a cycle crossing the section, with what it saw.
struct Unsettled {
    err: Box<AnalysisError>,
    /// Range of V over the last two windows of [`WINDOW`] ms (each: min, max).
    ranges: [(f64, f64); 2],
    /// The state at the end of the run.
    y_end: Vec<f64>,
}

/// The window over which the range of V is measured at the end of a run (ms).
const WINDOW: f64 = 500.0;

/// Simulate until the return map at the section `V = thr` (upward) settles.
fn settle(
    fam: &Family,
    lambda: f64,
    y0: &[f64],
    set: &OrbitSettings,
    thr: f64,
) -> Result<Settled, Unsettled> {
    let n = fam.dim();
    let mut pt = fam.params_as::<f64>();
    let mut slots = vec![];
    let mut f =
        |_t: f64, y: &[f64], out: &mut [f64]| fam.eval_f64(&mut pt, y, lambda, out, &mut slots);
    let tol = Tolerances {
        rtol: 1e-9,
        atol: 1e-10,
    };
    let mut integ = Dopri5::new(n, tol, 1e-3, 1.0);
    let mut y = y0.to_vec();
    // Crossing times and states; the run goes on in chunks until settled.
    let mut crossings: Vec<(f64, Vec<f64>)> = vec![];
    let mut t = 0.0;
    let chunk = 50.0;
    let mut ranges = [(f64::INFINITY, f64::NEG_INFINITY); 2];
    let mut window_end = WINDOW;
    let mut settled_at: Option<usize> = None;
    let mut blown = false;
    let mut steps = 0u64;
    while t < set.t_max && settled_at.is_none() {
        let t1 = (t + chunk).min(set.t_max);
        let mut prev_v = y[0];
        let r = integ.integrate(&mut f, &mut y, t, t1, &mut |d, ynew| {
            let v1 = ynew[0];
            steps += 1;
            if !v1.is_finite() || v1.abs() > crate::model::V_LIMIT || steps > MAX_STEPS {
                blown = true;
                return Err(crate::error::SimError::Unsupported {
                    what: "orbit".into(),
                    reason: "ran off".into(),
                });
            }
            if d.t0 + d.h > window_end {
                ranges = [ranges[1], (v1, v1)];
                window_end += WINDOW;
            }
            ranges[1] = (ranges[1].0.min(v1), ranges[1].1.max(v1));
            if prev_v < thr && v1 >= thr {
                let tc = crossing_in(d, d.t0, d.t0 + d.h, thr);
                let mut s = vec![0.0; ynew.len()];
                d.eval_into(tc, &mut s);
                crossings.push((tc, s));
            }
            prev_v = v1;
            Ok(())
        });
        if r.is_err() || blown {
            return Err(Unsettled {
                err: Box::new(no_cycle(
                    fam,
                    lambda,
                    if steps > MAX_STEPS {
                        format!(
                            "the simulation needed more than {MAX_STEPS} steps (a stiff or very slow model)"
                        )
                    } else {
                        "the simulation ran off or failed".into()
                    },
                )),
                ranges,
                y_end: y.clone(),
            });
        }
        t = t1;
        let k = crossings.len();
        if k >= 3 {
            let (ta, ya) = &crossings[k - 3];
            let (tb, yb) = &crossings[k - 2];
            let (tc, yc) = &crossings[k - 1];
            let (p1, p2) = (tb - ta, tc - tb);
            let state_close = yb
                .iter()
                .zip(yc)
                .all(|(a, b)| (a - b).abs() <= set.settle_rtol * (1.0 + a.abs()));
            let _ = ya;
            if (p1 - p2).abs() <= set.settle_rtol * p2 && state_close {
                settled_at = Some(k - 1);
            }
        }
        // Quiet for a long time after the last crossing (or never crossed): resting.
        let last = crossings.last().map_or(0.0, |c| c.0);
        let longest = crossings
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .fold(0.0, f64::max);
        if settled_at.is_none() && t - last > (10.0 * longest).max(set.t_max / 4.0) {
            break;
        }
    }
    let Some(k) = settled_at else {
        let why = if crossings.len() < 2 {
            format!(
                "V never crosses the threshold {thr} repeatedly in {} of simulation (V = {:.4} at its end; a longer --t-max, or a threshold inside the cycle, may find one)",
                Quantity(t, fam.field.units().time),
                y[0]
            )
        } else {
            format!(
                "the return times to V = {thr} did not settle within {} ({} crossings)",
                Quantity(t, fam.field.units().time),
                crossings.len()
            )
        };
        return Err(Unsettled {
            err: Box::new(no_cycle(fam, lambda, why)),
            ranges,
            y_end: y,
        });
    };
    // One period from crossing k-1, sampled uniformly.
    let (t_start, y_start) = crossings[k - 1].clone();
    let period = crossings[k].0 - t_start;
    let mut integ = Dopri5::new(n, tol, 1e-3, period / 50.0);
    let mut y = y_start.clone();
    let mut states = vec![y_start];
    let dt = period / SAMPLES as f64;
    let mut next = 1usize;
    integ
        .integrate(&mut f, &mut y, 0.0, period, &mut |d, _| {
            let end = d.t0 + d.h;
            while next <= SAMPLES && next as f64 * dt <= end + 1e-12 * period {
                let mut s = vec![0.0; n];
                d.eval_into((next as f64 * dt).min(end), &mut s);
                states.push(s);
                next += 1;
            }
            Ok(())
        })
        .map_err(|e| Unsettled {
            err: Box::new(no_cycle(
                fam,
                lambda,
                format!(
                    "the last period failed: {}",
                    e.with_time_unit(fam.field.units().time)
                ),
            )),
            ranges,
            y_end: vec![],
        })?;
    while states.len() < SAMPLES + 1 {
        states.push(y.clone());
    }
    Ok(Settled {
        states,
        period,
        returns: crossings.len(),
    })
}

/// The settled period as an orbit on `ntst` intervals equidistributed in scaled arclength.
fn initial_guess(fam: &Family, lambda: f64, s: &Settled, ntst: usize, m: usize) -> Orbit {
    let n = fam.dim();
    let k = s.states.len() - 1;
    let range: Vec<f64> = (0..n)
        .map(|i| {
            let (lo, hi) = s
                .states
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                    (a.min(y[i]), b.max(y[i]))
                });
            (hi - lo).max(1e-12)
        })
        .collect();
    let mut cum = vec![0.0];
    for q in 0..k {
        let d: f64 = (0..n)
            .map(|i| ((s.states[q + 1][i] - s.states[q][i]) / range[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        cum.push(cum[q] + d);
    }
    let total_arc = cum[k];
    // Density: arclength plus a floor of a third of it spread evenly in time.
    let weight: Vec<f64> = (0..=k)
        .map(|q| cum[q] + total_arc / 3.0 * q as f64 / k as f64)
        .collect();
    let total = weight[k];
    let mut mesh = vec![0.0];
    let mut q = 0;
    for j in 1..ntst {
        let target = total * j as f64 / ntst as f64;
        while weight[q + 1] < target {
            q += 1;
        }
        let frac = (target - weight[q]) / (weight[q + 1] - weight[q]).max(1e-300);
        mesh.push((q as f64 + frac) / k as f64);
    }
    mesh.push(1.0);
    // Node values by linear interpolation of the fine samples.
    let at = |sv: f64| -> Vec<f64> {
        let x = sv * k as f64;
        let q = (x.floor() as usize).min(k - 1);
        let fr = x - q as f64;
        (0..n)
            .map(|i| s.states[q][i] * (1.0 - fr) + s.states[q + 1][i] * fr)
            .collect()
    };
    let mut z = Vec::with_capacity(ntst * m * n);
    for j in 0..ntst {
        for c in 0..m {
            z.extend(at(mesh[j] + (mesh[j + 1] - mesh[j]) * c as f64 / m as f64));
        }
    }
    Orbit {
        mesh,
        z,
        n,
        m,
        period: s.period,
        lambda,
    }
}

/// A solved orbit moved twice onto the mesh adapted to it (`set.ntst` intervals) and solved
/// again there; `None` if Newton fails.
fn on_adapted_mesh(
    fam: &Family,
    scheme: &Scheme,
    (mut orbit, mut lin): (Orbit, Linearised),
    set: &OrbitSettings,
) -> Option<(Orbit, Linearised)> {
    for _ in 0..2 {
        let mesh = orbit.adapted_mesh(scheme, set.ntst);
        let moved = orbit.remesh(scheme, mesh);
        (orbit, lin) = correct_fixed(fam, scheme, &moved, &moved, set.tol)?;
    }
    Some((orbit, lin))
}

/// `fo` solved again on `ntst` intervals adapted to it (twice, as [`orbit_from_simulation`]
/// does), phase 0 at the same section; `None` if Newton fails or the orbit no longer crosses
/// its section. The PRC's mesh check (in the analysis layer) compares curves on two meshes.
pub fn on_finer_mesh(fam: &Family, fo: &FixedOrbit, ntst: usize, tol: f64) -> Option<FixedOrbit> {
    let set = OrbitSettings {
        ntst,
        tol,
        ..OrbitSettings::default()
    };
    let moved = fo
        .orbit
        .remesh(&fo.scheme, fo.orbit.adapted_mesh(&fo.scheme, ntst));
    let first = correct_fixed(fam, &fo.scheme, &moved, &moved, tol)?;
    let (orbit, lin) = on_adapted_mesh(fam, &fo.scheme, first, &set)?;
    let s_threshold = threshold_crossing(&orbit, &fo.scheme, fo.section)?;
    Some(FixedOrbit {
        period: orbit.period,
        multipliers: lin.multipliers(),
        residual: lin.residual,
        orbit,
        scheme: fo.scheme.clone(),
        s_threshold,
        ..fo.clone()
    })
}

/// Newton on the collocation system at the fixed parameter `guess.lambda`, with the phase
/// condition against `phase_ref` (on the same mesh). Returns the orbit and the system
/// linearised there, or `None` if Newton fails.
pub fn correct_fixed(
    fam: &Family,
    scheme: &Scheme,
    guess: &Orbit,
    phase_ref: &Orbit,
    tol: f64,
) -> Option<(Orbit, Linearised)> {
    let mut u = guess.clone();
    let pred = guess.clone();
    let tangent = Orbit {
        z: vec![0.0; guess.z.len()],
        period: 0.0,
        lambda: 1.0,
        ..guess.clone()
    };
    let border = Border {
        phase_ref,
        pred: &pred,
        tangent: &tangent,
        period_weight: 1.0,
    };
    let mut last = f64::INFINITY;
    for it in 0..30 {
        let lin = linearise(fam, scheme, &u, &border);
        let (dz, dt, _) = lin.solve(None)?;
        // Damp steps that would make the period negative or jump by more than half.
        let size = dz.iter().chain([&dt]).fold(0.0f64, |m, x| m.max(x.abs()));
        // Diverging (steps growing after the first few): give up early.
        if !size.is_finite() || (it >= 4 && size > 2.0 * last) {
            return None;
        }
        last = size;
        let damp = if (u.period + dt) < 0.5 * u.period {
            0.5 * u.period / dt.abs()
        } else {
            1.0
        };
        for (z, d) in u.z.iter_mut().zip(&dz) {
            *z += damp * d;
        }
        u.period += damp * dt;
        if u.z.iter().any(|x| x.abs() > crate::model::V_LIMIT) {
            return None;
        }
        let scale = 1.0 + u.z.iter().fold(u.period.abs(), |m, x| m.max(x.abs()));
        if damp == 1.0 && size <= tol * scale {
            let lin = linearise(fam, scheme, &u, &border);
            return Some((u, lin));
        }
    }
    None
}

/// One cycle of a followed branch ([`follow`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BranchSample {
    /// The parameter (uA/cm^2 for the current).
    pub lambda: f64,
    /// Period (ms).
    pub period: f64,
    /// Largest nontrivial multiplier modulus.
    pub max_multiplier: f64,
    /// Max minus min of V on the cycle (mV).
    pub amplitude: f64,
}

/// Follow the cycle `start` by natural-parameter steps towards `target` (fixed-parameter
/// Newton at each value, the previous cycle as the guess, the mesh adapted at every step),
/// keeping only stable cycles. A step that lands on the equilibrium (a V range under 1e-3 of
/// the last cycle's) or on the cycle shifted by half a period
/// (the cycles module's `oscillation_overlap` negative) is refused as a failed one: past a Hopf
/// point the collocation system has both as solutions at every current, and a stable
/// equilibrium taken for a "cycle" had `excitability` report firing and a bistable range
/// below a supercritical Hopf point, where no cycle exists. A failed, unstable or refused
/// step is halved; the run ends at
/// `target`, when the step falls below `min_step` (the end of the stable branch is then
/// within `min_step` of the last sample), after `max_steps` steps, or when the period passes
/// `max_period`. Returns the samples, the last one the closest to the end.
pub fn follow(
    fam: &Family,
    start: &FixedOrbit,
    target: f64,
    first_step: f64,
    min_step: f64,
    max_steps: usize,
    max_period: f64,
) -> Vec<BranchSample> {
    let scheme = &start.scheme;
    let ntst = start.orbit.intervals();
    let mut cur = start.orbit.clone();
    let dir = (target - cur.lambda).signum();
    let mut h = first_step.abs();
    let sample = |o: &Orbit, mu: f64| {
        let (hi, lo, _) = o.range(scheme, 0);
        BranchSample {
            lambda: o.lambda,
            period: o.period,
            max_multiplier: mu,
            amplitude: hi - lo,
        }
    };
    let mut out = vec![sample(&cur, start.max_nontrivial_multiplier())];
    let mut steps = 0;
    while steps < max_steps && h >= min_step && dir * (target - cur.lambda) > 0.0 {
        steps += 1;
        let lam = if dir * (target - (cur.lambda + dir * h)) < 0.0 {
            target
        } else {
            cur.lambda + dir * h
        };
        let guess = Orbit {
            lambda: lam,
            ..cur.clone()
        };
        let next = correct_fixed(fam, scheme, &guess, &cur, 1e-9).and_then(|(o, lin)| {
            let fo = FixedOrbit {
                multipliers: lin.multipliers(),
                period: o.period,
                residual: lin.residual,
                orbit: o,
                scheme: scheme.clone(),
                s_threshold: 0.0,
                section: 0.0,
                simulated_period: f64::NAN,
                returns: 0,
            };
            let amplitude = |o: &Orbit| {
                let (hi, lo, _) = o.range(scheme, 0);
                hi - lo
            };
            let collapsed = amplitude(&fo.orbit) < 1e-3 * amplitude(&cur)
                || super::cycles::oscillation_overlap(&cur, &fo.orbit) < 0.0;
            (fo.stable() && !collapsed).then_some(fo)
        });
        match next {
            Some(fo) => {
                out.push(sample(&fo.orbit, fo.max_nontrivial_multiplier()));
                let mesh = fo.orbit.adapted_mesh(scheme, ntst);
                cur = fo.orbit.remesh(scheme, mesh);
                h = (h * 1.5).min(first_step.abs());
                if cur.period > max_period {
                    break;
                }
            }
            None => h *= 0.5,
        }
    }
    out
}

/// Scaled time of the upward crossing of component 0 through `thr` on `orbit` (the first
/// such crossing found from `s = 0`), refined by bisection; `None` if V never crosses.
pub fn threshold_crossing(orbit: &Orbit, scheme: &Scheme, thr: f64) -> Option<f64> {
    let samples = orbit.intervals() * orbit.m * 8;
    let v = |s: f64| orbit.at(scheme, s)[0];
    let mut prev = v(0.0);
    let mut best: Option<(f64, f64)> = None;
    for q in 1..=samples {
        let s = q as f64 / samples as f64;
        let cur = v(s);
        if prev < thr && cur >= thr {
            // The crossing with the steepest rise is the spike's (not a shoulder's).
            let slope = cur - prev;
            if best.is_none_or(|b| slope > b.1) {
                best = Some(((q - 1) as f64 / samples as f64, slope));
            }
        }
        prev = cur;
    }
    let (a0, _) = best?;
    let (mut a, mut b) = (a0, a0 + 1.0 / samples as f64);
    for _ in 0..60 {
        let c = 0.5 * (a + b);
        if v(c) < thr {
            a = c;
        } else {
            b = c;
        }
    }
    Some((0.5 * (a + b)).rem_euclid(1.0))
}

/// The error for a cycle the simulation reached that collocation finds unstable.
pub fn unstable_cycle(fam: &Family, lambda: f64, orbit: &FixedOrbit) -> AnalysisError {
    no_cycle(
        fam,
        lambda,
        format!(
            "the cycle the simulation reached has a multiplier of modulus {:.6} by collocation",
            orbit.max_nontrivial_multiplier()
        ),
    )
}

/// The stable cycle at `lambda` reached by simulating from `rest`, or, where that run stays at
/// rest (the bistable range, where rest and firing coexist) or reaches no stable cycle, from
/// `rest` with V kicked by each of `kicks` in turn ([`crate::model::Model::kicks`]).
///
/// Errors: where some start reached a cycle that collocation finds unstable, that (the cycle
/// exists, and why it is refused); otherwise the run from rest's own (a kicked start's
/// failure to settle would describe an arbitrary state, not the model at rest).
pub fn stable_orbit_from_rest(
    fam: &Family,
    lambda: f64,
    rest: &[f64],
    kicks: &[f64],
    set: &OrbitSettings,
) -> Result<FixedOrbit, AnalysisError> {
    let (mut from_rest, mut unstable) = (None, None);
    for kick in std::iter::once(0.0).chain(kicks.iter().copied()) {
        let mut y0 = rest.to_vec();
        y0[0] += kick;
        match orbit_from_simulation(fam, lambda, &y0, set) {
            Ok(o) if o.stable() => return Ok(o),
            Ok(o) => {
                unstable.get_or_insert_with(|| unstable_cycle(fam, lambda, &o));
            }
            Err(e) => {
                from_rest.get_or_insert(e);
            }
        }
    }
    Err(unstable
        .or(from_rest)
        .unwrap_or_else(|| no_cycle(fam, lambda, "no start reached a cycle".into())))
}

/// The periodic orbit at parameter `lambda` of `fam` reached by simulating from `y0`, solved
/// by collocation at that fixed parameter, with its period and Floquet multipliers.
///
/// Errors: [`AnalysisError::NoStableCycle`] (naming the current) when the simulation settles
/// at rest or does not repeat within `t_max`; [`AnalysisError::Numerical`] when Newton fails
/// on the collocation system.
pub fn orbit_from_simulation(
    fam: &Family,
    lambda: f64,
    y0: &[f64],
    set: &OrbitSettings,
) -> Result<FixedOrbit, AnalysisError> {
    // The section is the spike threshold; a cycle whose V stays below it (a small cycle near
    // a Hopf point, or hh's spikes above 62.8 uA/cm^2, whose peaks fall below 0 mV after a
    // few transient spikes that do cross it), or above it, is cut at the middle of its V
    // range instead,
    // when the run's last two windows show a sustained oscillation below the threshold (the
    // same range to 1%: not a damped one; a damped oscillation that slow would not survive
    // Newton and the multiplier check).
    let (settled, section) = match settle(fam, lambda, y0, set, set.threshold) {
        Ok(s) => (s, set.threshold),
        Err(u) => {
            let [(a0, a1), (b0, b1)] = u.ranges;
            let (amp_a, amp_b) = (a1 - a0, b1 - b0);
            // Below the threshold, or above it (a threshold set under the whole cycle, such
            // as -90 mV on hh, had made a stable cycle read as "settles").
            let sustained = amp_b > 1e-6 * (1.0 + b1.abs())
                && (amp_a - amp_b).abs() <= 1e-2 * amp_b
                && (b1 < set.threshold || b0 > set.threshold);
            if !sustained {
                return Err(*u.err);
            }
            let mid = 0.5 * (b0 + b1);
            match settle(fam, lambda, &u.y_end, set, mid) {
                Ok(s) => (s, mid),
                Err(_) => return Err(*u.err),
            }
        }
    };
    let scheme = Scheme::new(set.ncol);
    let guess = initial_guess(fam, lambda, &settled, set.ntst, set.ncol);
    let fail = |what: &str| AnalysisError::Numerical {
        what: format!(
            "periodic orbit at {} = {lambda} (period {:.6} by simulation)",
            fam.knob_name(),
            settled.period
        ),
        reason: format!("Newton on the collocation system failed {what}"),
    };
    let first = correct_fixed(fam, &scheme, &guess, &guess, set.tol)
        .ok_or_else(|| fail("from the guess"))?;
    let (orbit, lin) =
        on_adapted_mesh(fam, &scheme, first, set).ok_or_else(|| fail("on the adapted mesh"))?;
    // A damped oscillation about a rest at the section itself returns to it at every turn, as
    // a cycle would, and Newton then lands on the rest (a constant orbit, of any period): not
    // a cycle. XPPAUT's `fhn.ode` at I_0 = 0 (rest at v = 0, eigenvalues -0.15 ± 0.2i, so
    // returns every 10 pi) had been taken for a stable cycle there.
    let (hi, lo, _) = orbit.range(&scheme, 0);
    if hi - lo <= 1e-6 * (1.0 + hi.abs()) {
        return Err(no_cycle(
            fam,
            lambda,
            format!(
                "the run's returns to the section every {:.6} were a damped oscillation about a rest there, which the collocation solve collapsed onto",
                settled.period
            ),
        ));
    }
    let s_threshold = threshold_crossing(&orbit, &scheme, section)
        .ok_or_else(|| fail("(the solved orbit does not cross the threshold)"))?;
    Ok(FixedOrbit {
        period: orbit.period,
        multipliers: lin.multipliers(),
        residual: lin.residual,
        orbit,
        scheme,
        s_threshold,
        simulated_period: settled.period,
        section,
        returns: settled.returns,
    })
}

/// The stable cycle at `lambda` continued from `prev` (a stable cycle of the same family at a
/// nearby parameter) by Newton at the fixed parameter, `prev` as the guess, then on the mesh
/// adapted to it twice, as [`orbit_from_simulation`] does after its simulation. Phase 0 is
/// the upward crossing of `set.threshold`, or of the middle of the V range for a cycle that
/// stays below it (as there, where the middle comes from the simulated window instead: the
/// same level to the simulation's settling tolerance). `None`, and the caller simulates, when
/// Newton fails, the cycle is not stable, does not cross its section, has collapsed (a V
/// range under 1e-6 of its size), or is not plainly the same cycle continued: a period
/// changed by more than half (a doubled cycle that fell back onto the primary one traversed
/// twice, or the reverse).
///
/// This is what makes a list of close currents cheap (`prc --currents`): the simulation that
/// finds the first cycle costs far more than the collocation solve at each next current.
pub fn orbit_from_neighbour(
    fam: &Family,
    lambda: f64,
    prev: &FixedOrbit,
    set: &OrbitSettings,
) -> Option<FixedOrbit> {
    let scheme = &prev.scheme;
    let guess = Orbit {
        lambda,
        ..prev.orbit.clone()
    };
    let first = correct_fixed(fam, scheme, &guess, &prev.orbit, set.tol)?;
    let (orbit, lin) = on_adapted_mesh(fam, scheme, first, set)?;
    if (orbit.period / prev.period - 1.0).abs() > 0.5 {
        return None;
    }
    let (hi, lo, _) = orbit.range(scheme, 0);
    if hi - lo <= 1e-6 * (1.0 + hi.abs()) {
        return None;
    }
    let section = if hi > set.threshold && lo < set.threshold {
        set.threshold
    } else {
        0.5 * (hi + lo)
    };
    let s_threshold = threshold_crossing(&orbit, scheme, section)?;
    let fixed = FixedOrbit {
        period: orbit.period,
        multipliers: lin.multipliers(),
        residual: lin.residual,
        orbit,
        scheme: scheme.clone(),
        s_threshold,
        simulated_period: f64::NAN,
        section,
        returns: 0,
    };
    fixed.stable().then_some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::continuation::CURRENT;
    use crate::model::builtin;

    #[test]
    fn hh_orbit_at_10_matches_its_simulated_period_and_is_stable() {
        let m = builtin::hh();
        let fam = Family::new(&m, CURRENT, 0.0).unwrap();
        let rest = crate::model::Model::Conductance(m.clone())
            .rest(0.0)
            .unwrap()
            .state;
        let o = orbit_from_simulation(&fam, 10.0, &rest, &OrbitSettings::default()).unwrap();
        // Simulation (rtol 1e-9) and collocation agree on the period to 1e-5 relative.
        assert!(
            (o.period - o.simulated_period).abs() < 1e-5 * o.period,
            "{} vs {}",
            o.period,
            o.simulated_period
        );
        // HH at 10 uA/cm^2 fires at about 68 Hz (period ~14.6 ms).
        assert!((o.period - 14.6).abs() < 0.3, "{}", o.period);
        assert!(o.stable(), "{:?}", o.multipliers);
        assert!(
            (o.multipliers[0].re - 1.0).abs() < 1e-6,
            "{:?}",
            o.multipliers
        );
    }

    #[test]
    fn hh_at_rest_current_has_no_cycle() {
        let m = builtin::hh();
        let fam = Family::new(&m, CURRENT, 0.0).unwrap();
        let rest = crate::model::Model::Conductance(m.clone())
            .rest(0.0)
            .unwrap()
            .state;
        let e = orbit_from_simulation(&fam, 2.0, &rest, &OrbitSettings::default()).unwrap_err();
        assert!(matches!(e, AnalysisError::NoStableCycle { .. }), "{e}");
        assert!(e.to_string().contains("current"), "{e}");
    }
}
