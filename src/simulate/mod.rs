//! Simulation: integrate a model under a stimulus, record what was asked, detect spikes.
//!
//! Fixed-step methods sample on the grid `t_k = k dt` (computed as `k * dt`, never accumulated)
//! and take the stimulus's mean over each step. `dopri5` takes its own steps, stops
//! at every stimulus breakpoint, and writes the output grid and the spike times from its dense
//! output. Several neurons run in parallel with rayon, each with its own bias current.

pub mod batch;
pub mod dopri5;
pub mod fixed_step;
pub mod lif;
pub mod method;
pub mod ode_lanes;
pub mod ode_step;
pub mod oscillation;
pub mod record;
pub mod runner;
pub mod spikes;

pub use method::{EulerOrder, Method, Tolerances};
pub use record::{Record, Trace};

use crate::error::SimError;
use crate::model::{Lif, Model, V_LIMIT};
use crate::simulate::spikes::{CrossingDetector, hermite};
use crate::stimulus::{MAX_BREAKPOINTS, Stimulus, TIME_EPS};
use rayon::prelude::*;

/// The most steps one run may take (t_max / dt): 10^12, days of computing for one neuron. A
/// longer request is refused before any work, naming the limit.
pub const MAX_STEPS: f64 = 1e12;

/// How to run: duration, step, method, recording and spike threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Duration (ms).
    pub t_max: f64,
    /// Step (ms) for fixed-step methods; output grid for `dopri5`.
    pub dt: f64,
    /// The integration method.
    pub method: Method,
    /// What to keep of the run: the whole trace, a decimated one, or spike times only.
    pub record: Record,
    /// Spike threshold (mV).
    pub threshold_mv: f64,
}

impl Settings {
    /// Check `t_max` and `dt`; returns the number of steps.
    pub fn steps(&self) -> Result<usize, SimError> {
        if !(self.t_max.is_finite() && self.t_max > 0.0) {
            return Err(SimError::BadDuration { t_max: self.t_max });
        }
        if !(self.dt.is_finite() && self.dt > 0.0 && self.dt <= self.t_max) {
            return Err(SimError::BadStep {
                dt: self.dt,
                t_max: self.t_max,
            });
        }
        if !self.threshold_mv.is_finite() {
            return Err(SimError::BadSetting {
                what: "threshold".into(),
                value: self.threshold_mv,
                allowed: "a finite voltage in mV".into(),
            });
        }
        if let Method::Dopri5(t) = self.method
            && !(t.rtol > 0.0 && t.rtol < 1.0 && t.atol > 0.0 && t.atol.is_finite())
        {
            return Err(SimError::BadSetting {
                what: "rtol/atol".into(),
                value: if t.rtol > 0.0 && t.rtol < 1.0 {
                    t.atol
                } else {
                    t.rtol
                },
                allowed: "rtol in (0, 1), atol > 0".into(),
            });
        }
        let ratio = self.t_max / self.dt;
        let n = ratio.round();
        // A millionth of a step (and the ratio's own rounding at up to 10^12 steps): t_max
        // = 1000 at dt = 0.01 is whole; 17 at dt 5 would stop at 15, its tail unseen.
        if (ratio - n).abs() > 1e-6f64.max(1e-12 * ratio) {
            return Err(SimError::StepsNotWhole {
                t_max: self.t_max,
                dt: self.dt,
            });
        }
        if n > MAX_STEPS {
            return Err(SimError::TooManySteps {
                t_max: self.t_max,
                dt: self.dt,
                steps: n,
                limit: MAX_STEPS,
            });
        }
        Ok(n as usize)
    }
}

/// One neuron's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Run {
    /// Empty when recording spikes only.
    pub trace: Trace,
    /// Spike times (ms), ascending.
    pub spikes_ms: Vec<f64>,
    /// State at the end of the run.
    pub final_state: Vec<f64>,
    /// Integration steps taken (accepted steps for `dopri5`).
    pub steps: u64,
}

/// How many fixed steps (or accepted adaptive steps) a run takes between asking its caller
/// whether to go on ([`run_until`]): about a millisecond of work for `hh`.
const STEPS_BETWEEN_CHECKS: usize = 1 << 14;

/// Simulate one neuron from `y0`.
pub fn run(model: &Model, stim: &Stimulus, y0: &[f64], s: &Settings) -> Result<Run, SimError> {
    run_until(model, stim, y0, s, &|| true)
}

/// [`run`], asking `go_on` every 16,384 steps whether to continue: false
/// stops the run with [`SimError::Stopped`] (so one long run hears Ctrl-C in Python, not only
/// the gaps between runs).
pub fn run_until(
    model: &Model,
    stim: &Stimulus,
    y0: &[f64],
    s: &Settings,
    go_on: &dyn Fn() -> bool,
) -> Result<Run, SimError> {
    integrate(model, stim, y0, s, go_on).map_err(|e| e.with_time_unit(model.units().time))
}

/// [`run_until`], with the integrators' errors timed in ms.
fn integrate(
    model: &Model,
    stim: &Stimulus,
    y0: &[f64],
    s: &Settings,
    go_on: &dyn Fn() -> bool,
) -> Result<Run, SimError> {
    let n_steps = s.steps()?;
    let names = model.var_names();
    if y0.len() != names.len() {
        return Err(SimError::Unsupported {
            what: "initial state".into(),
            reason: format!(
                "has {} values, the model has {} variables",
                y0.len(),
                names.len()
            ),
        });
    }
    match (model, s.method) {
        (Model::Conductance(m), Method::Dopri5(tol)) => {
            let p = m.params.values();
            let mut f = |_: f64, y: &[f64], i: f64, dy: &mut [f64]| m.rhs(&p, y, i, dy);
            run_adaptive(names, &mut f, stim, y0, s, tol, go_on)
        }
        (Model::Conductance(m), _) => run_fixed(
            names,
            &mut fixed_step::Stepper::new(m),
            stim,
            y0,
            s,
            n_steps,
            go_on,
        ),
        (Model::Lif(m), _) => {
            m.values().check()?;
            run_lif(m, stim, y0, s, n_steps, go_on)
        }
        (Model::Ode(m), method) => {
            if m.current_param().is_none() && !(stim.is_constant() && stim.at(0.0) == 0.0) {
                return Err(SimError::Unsupported {
                    what: "stimulus".into(),
                    reason: format!(
                        "`{}` has no current parameter (i_ext, iapp or i) to inject it into",
                        m.name
                    ),
                });
            }
            match method {
                Method::Dopri5(_) if m.has_flags() => Err(SimError::Unsupported {
                    what: "method = dopri5".into(),
                    reason: format!(
                        "`{}` has global flags (state resets), which fixed steps handle: use rk4 or euler",
                        m.name
                    ),
                }),
                Method::Dopri5(tol) => {
                    let mut p = m.params.values();
                    let mut f = |t: f64, y: &[f64], i: f64, dy: &mut [f64]| {
                        m.with_current(&mut p, i, |p| m.rhs(p, t, y, dy))
                    };
                    run_adaptive(names, &mut f, stim, y0, s, tol, go_on)
                }
                Method::Rk4 | Method::Euler(EulerOrder::Simultaneous) => run_fixed(
                    names,
                    &mut ode_step::OdeStepper::new(m),
                    stim,
                    y0,
                    s,
                    n_steps,
                    go_on,
                ),
                _ => Err(SimError::Unsupported {
                    what: format!("method = {}", method.name()),
                    reason: "an .ode model has no gate structure: use rk4, dopri5 or euler (simultaneous)".into(),
                }),
            }
        }
    }
}

/// Simulate neuron `k` of several with `bias[k]` added to the stimulus (noise seed + k), in
/// parallel over all cores. `progress(k)` is called as neuron `k` finishes; an error from it
/// (the caller's observer said stop) ends the runs: neurons not yet started are skipped and
/// the error is returned. `go_on` is asked within each run ([`run_until`]).
pub fn run_many<E: From<SimError> + Send>(
    model: &Model,
    stim: &Stimulus,
    y0: &[f64],
    bias: &[f64],
    s: &Settings,
    progress: &(dyn Fn(usize) -> Result<(), E> + Sync),
    go_on: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<Run>, E> {
    bias.par_iter()
        .enumerate()
        .map(|(k, &b)| {
            let stim = stim.for_neuron(k as u64).plus_constant(b);
            let r = run_until(model, &stim, y0, s, go_on)?;
            progress(k)?;
            Ok(r)
        })
        .collect()
}

/// The general simulator's blow-up error when `y` at `t` (ms; see
/// [`SimError::with_time_unit`]) is not finite or V is past [`V_LIMIT`]; `Ok` otherwise.
pub(crate) fn check_state(names: &[String], t: f64, y: &[f64]) -> Result<(), SimError> {
    let bad = |x: f64, j: usize| !x.is_finite() || (j == 0 && x.abs() > V_LIMIT);
    match y.iter().enumerate().find(|&(j, &x)| bad(x, j)) {
        None => Ok(()),
        Some((j, &x)) => Err(SimError::BlowUp {
            t,
            time_unit: "ms",
            variable: names[j].clone(),
            value: x,
            state: names
                .iter()
                .zip(y)
                .map(|(n, v)| format!("{n}={v:.6e}"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn run_fixed(
    names: Vec<String>,
    stepper: &mut impl fixed_step::FixedStep,
    stim: &Stimulus,
    y0: &[f64],
    s: &Settings,
    n: usize,
    go_on: &dyn Fn() -> bool,
) -> Result<Run, SimError> {
    let mut trace = Trace::new(names.clone(), s.record.capacity(n));
    let mut y = y0.to_vec();
    let mut y_prev = y.clone();
    let mut spikes = CrossingDetector::new(s.threshold_mv);
    let constant = stim.is_constant();
    let mut i = stim.at(0.0);
    for k in 0..n {
        if k % STEPS_BETWEEN_CHECKS == STEPS_BETWEEN_CHECKS - 1 && !go_on() {
            return Err(SimError::Stopped);
        }
        let t = k as f64 * s.dt;
        let t1 = (k + 1) as f64 * s.dt;
        if !constant {
            i = stim.mean_over(t, t1);
        }
        if s.record.keeps(k) {
            trace.push(t, &y, if constant { i } else { stim.at(t) });
        }
        y_prev.copy_from_slice(&y);
        stepper.step(&s.method, t, &mut y, i, s.dt);
        if spikes.crosses(y_prev[0], y[0]) {
            // Cubic Hermite through both ends with their slopes: O(dt^4) crossing times, so
            // RK4's accuracy is not thrown away by a linear interpolation.
            let (d0, d1) = (stepper.dvdt(t, &y_prev, i), stepper.dvdt(t1, &y, i));
            let (v0, v1, h) = (y_prev[0], y[0], s.dt);
            spikes.refine(t, t1, |tt| hermite(v0, v1, d0 * h, d1 * h, (tt - t) / h));
        }
        if y[0].abs().partial_cmp(&V_LIMIT) != Some(std::cmp::Ordering::Less)
            || y.iter().any(|x| !x.is_finite())
        {
            check_state(&names, t1, &y)?;
        }
    }
    if s.record.keeps(n) {
        trace.push(n as f64 * s.dt, &y, stim.at(n as f64 * s.dt));
    }
    Ok(Run {
        trace,
        spikes_ms: spikes.times,
        final_state: y,
        steps: n as u64,
    })
}

/// Refuse a stimulus with more than [`MAX_BREAKPOINTS`] breakpoints in (0, `t_end`] ms: an
/// adaptive method would stop at each (listing them alone could pass memory), and the fixed
/// steps average the stimulus over every noise interval and file sample they cross.
pub fn check_breakpoints(stim: &Stimulus, t_end: f64) -> Result<(), SimError> {
    let count = stim.breakpoint_count(0.0, t_end);
    if count > MAX_BREAKPOINTS {
        return Err(SimError::BadSetting {
            what: format!(
                "the stimulus's breakpoints over t_max = {} ms (noise DT, steps, pulses, file samples)",
                crate::error::short(t_end)
            ),
            value: count,
            allowed: format!(
                "at most {} (dopri5 stops at each; the fixed steps average over each noise interval and file sample): a larger noise DT or a shorter t_max",
                crate::error::short(MAX_BREAKPOINTS)
            ),
        });
    }
    Ok(())
}

/// Dormand-Prince over the stimulus' smooth pieces; `rhs(t, y, i, dy)` is the model with the
/// injected current `i`.
fn run_adaptive(
    names: Vec<String>,
    rhs: &mut impl FnMut(f64, &[f64], f64, &mut [f64]),
    stim: &Stimulus,
    y0: &[f64],
    s: &Settings,
    tol: Tolerances,
    go_on: &dyn Fn() -> bool,
) -> Result<Run, SimError> {
    let n = s.steps()?;
    let stride = s.record.stride();
    let mut trace = Trace::new(names.clone(), s.record.capacity(n));
    let mut y = y0.to_vec();
    // The first step is not chosen yet (NaN): it comes from the equations at the first
    // segment (`choose_first_step`), so the run does not depend on the recording interval.
    let mut solver = dopri5::Dopri5::new(y.len(), tol, f64::NAN, f64::INFINITY);
    let mut spikes = CrossingDetector::new(s.threshold_mv);
    let t_end = n as f64 * s.dt;
    let out_dt = s.dt * stride.max(1) as f64;
    let mut next_out = 0usize; // index of the next output sample
    let mut buf = vec![0.0; y.len()];
    if stride != 0 {
        trace.push(0.0, &y, stim.at(0.0));
        next_out = 1;
    }
    check_breakpoints(stim, t_end)?;
    let mut edges = stim.breakpoints(0.0, t_end);
    edges.push(t_end);
    edges.dedup_by(|a, b| (*a - *b).abs() <= TIME_EPS);
    let mut seg_start = 0.0;
    let mut accepted = 0usize;
    for &seg_end in &edges {
        if seg_end <= seg_start {
            continue;
        }
        // Inside a segment the stimulus is smooth; evaluate it just left of the segment end so
        // the stage at the end does not see the next piece.
        let hold = seg_end - 2.0 * TIME_EPS;
        let mut f = |t: f64, y: &[f64], dy: &mut [f64]| rhs(t, y, stim.at(t.min(hold)), dy);
        if solver.h.is_nan() {
            solver.choose_first_step(&mut f, seg_start, &y);
        }
        let mut on_step = |d: &dopri5::Dense, y1: &[f64]| {
            let t1 = d.t0 + d.h;
            accepted += 1;
            if accepted.is_multiple_of(STEPS_BETWEEN_CHECKS) && !go_on() {
                return Err(SimError::Stopped);
            }
            check_state(&names, t1, y1)?;
            spikes.scan(d.t0, t1, d.bounds(0), |t| d.eval(0, t));
            if stride != 0 {
                while next_out < s.record.capacity(n) && (next_out as f64 * out_dt) <= t1 + TIME_EPS
                {
                    let t = next_out as f64 * out_dt;
                    d.eval_into(t.min(t1), &mut buf);
                    trace.push(t, &buf, stim.at(t));
                    next_out += 1;
                }
            }
            Ok(())
        };
        solver.integrate(&mut f, &mut y, seg_start, seg_end, &mut on_step)?;
        seg_start = seg_end;
    }
    Ok(Run {
        trace,
        spikes_ms: spikes.times,
        final_state: y,
        steps: solver.accepted,
    })
}

fn run_lif(
    m: &Lif,
    stim: &Stimulus,
    y0: &[f64],
    s: &Settings,
    n: usize,
    go_on: &dyn Fn() -> bool,
) -> Result<Run, SimError> {
    let p = m.values();
    let names = vec!["v".to_string()];
    let mut trace = Trace::new(names, s.record.capacity(n));
    let mut state = lif::LifState {
        v: y0[0],
        refractory_until: f64::NEG_INFINITY,
    };
    let mut spikes = Vec::new();
    for k in 0..n {
        if k % STEPS_BETWEEN_CHECKS == STEPS_BETWEEN_CHECKS - 1 && !go_on() {
            return Err(SimError::Stopped);
        }
        let t = k as f64 * s.dt;
        let i = stim.mean_over(t, t + s.dt);
        if s.record.keeps(k) {
            trace.push(t, &[state.v], stim.at(t));
        }
        lif::step(&p, &s.method, &mut state, t, s.dt, i, &mut spikes);
    }
    if s.record.keeps(n) {
        trace.push(n as f64 * s.dt, &[state.v], stim.at(n as f64 * s.dt));
    }
    Ok(Run {
        trace,
        spikes_ms: spikes,
        final_state: vec![state.v],
        steps: n as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A duration that is not a whole number of steps is refused, naming where the run would
    /// have stopped; whole ones pass, rounding of the ratio aside.
    #[test]
    fn t_max_must_be_a_whole_number_of_steps() {
        let s = |t_max: f64, dt: f64| Settings {
            t_max,
            dt,
            method: Method::Rk4,
            record: Record::Full,
            threshold_mv: 0.0,
        };
        let e = s(17.0, 5.0).steps().unwrap_err();
        assert_eq!(
            e,
            SimError::StepsNotWhole {
                t_max: 17.0,
                dt: 5.0
            }
        );
        assert!(e.to_string().contains("would stop at 15"), "{e}");
        assert!(s(1.905, 0.01).steps().is_err());
        assert_eq!(s(1000.0, 0.01).steps(), Ok(100_000));
        assert_eq!(s(0.3, 0.1).steps(), Ok(3));
        assert_eq!(s(1000.0, 0.025).steps(), Ok(40_000));
    }

    /// A long run asks its caller every `STEPS_BETWEEN_CHECKS` steps and stops at the first
    /// "no", under each integrator family (fixed steps, dopri5, LIF); a run told to go on
    /// ends as `run` does.
    #[test]
    fn a_run_stops_when_its_caller_says_no() {
        let hh = Model::builtin("hh").unwrap();
        let lif = Model::builtin("lif").unwrap();
        let cases = [
            (&hh, Method::Rk4),
            (&hh, Method::Dopri5(Default::default())),
            (&lif, Method::ExpEuler),
        ];
        for (model, method) in cases {
            // Long enough for three checks under dopri5 too (about 24 accepted steps a ms).
            let s = Settings {
                t_max: 5000.0,
                dt: 0.001,
                method,
                record: Record::SpikesOnly,
                threshold_mv: 0.0,
            };
            let y0 = model.state_at_v(-65.0);
            let asked = AtomicUsize::new(0);
            let go_on = || asked.fetch_add(1, Ordering::Relaxed) < 2;
            let e = run_until(model, &Stimulus::constant(10.0), &y0, &s, &go_on).unwrap_err();
            assert_eq!(e, SimError::Stopped, "{method:?}");
            assert_eq!(asked.load(Ordering::Relaxed), 3, "{method:?}");
        }
        let s = Settings {
            t_max: 50.0,
            dt: 0.001,
            method: Method::Rk4,
            record: Record::SpikesOnly,
            threshold_mv: 0.0,
        };
        let y0 = hh.state_at_v(-65.0);
        let a = run_until(&hh, &Stimulus::constant(10.0), &y0, &s, &|| true).unwrap();
        let b = run(&hh, &Stimulus::constant(10.0), &y0, &s).unwrap();
        assert_eq!(a.spikes_ms, b.spikes_ms);
    }
}
