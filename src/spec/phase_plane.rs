//! `excitable phase-plane`: a V-n projection of a simulated trajectory over the nullclines of
//! the reduced (V, n) system, with the limit cycle when the model fires.

use crate::analysis::phase_plane::{Nullclines, nullclines};
use crate::error::{AnalysisError, Error, SpecError};
use crate::model::{Equilibrium, Model};
use crate::simulate::{self, Method, Record, Settings};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};

/// Time step of the simulated trajectory (ms), RK4.
pub const DT_MS: f64 = 0.01;
/// Voltages at which the nullclines are computed.
pub const NULLCLINE_POINTS: usize = 1200;
/// How far the nullclines reach beyond the trajectory's voltages, each side (mV).
pub const NULLCLINE_MARGIN_MV: f64 = 10.0;

/// Every setting of `excitable phase-plane`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PhasePlaneSpec {
    /// Injected current (uA/cm^2), from t = 0, starting at rest (0 uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub current: f64,
    /// Duration (ms); the last interspike interval is taken as the limit cycle.
    #[arg(long, default_value_t = 200.0)]
    pub t_max: f64,
    /// Memory budget for the trajectory, its table and figure (4GiB, 512MiB, …): a run
    /// estimated to need more is refused before it starts.
    #[arg(long, default_value = super::DEFAULT_MAX_MEMORY)]
    pub max_memory: super::Bytes,
}

/// Bytes a sample of the trajectory costs beyond its state columns: the (V, n) projection and
/// its row in the table (curve name, V, n).
const EXTRA_SAMPLE_BYTES: f64 = 64.0;

/// The peak over the samples' bytes (measured: 270 MB for 2·10^6 samples of `hh`, 1.2 times
/// their columns and rows).
const PEAK_FACTOR: f64 = 1.25;

impl Default for PhasePlaneSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The V-n phase plane of a [`PhasePlaneSpec`].
#[derive(Debug, Clone)]
pub struct PhasePlaneResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: PhasePlaneSpec,
    /// The full model's trajectory from rest, projected on (V mV, n).
    pub trajectory: Vec<(f64, f64)>,
    /// Spike times of the run (ms).
    pub spikes_ms: Vec<f64>,
    /// The trajectory over the last interspike interval, (V mV, n); empty with fewer than
    /// three spikes.
    pub limit_cycle: Vec<(f64, f64)>,
    /// The reduced system's nullclines over the trajectory's voltages (10 mV beyond each end).
    pub nullclines: Nullclines,
    /// Every equilibrium of the full model at the current.
    pub equilibria: Vec<Equilibrium>,
    /// Index of `n` in the state (for the equilibria's n).
    pub n_index: usize,
}

impl PhasePlaneResult {
    /// The equilibria in the plane: `(V mV, n, stable)`.
    pub fn plane_equilibria(&self) -> Vec<(f64, f64, bool)> {
        self.equilibria
            .iter()
            .map(|e| (e.state[0], e.state[self.n_index], e.stability.is_stable()))
            .collect()
    }

    /// The period of the limit cycle (ms): the last interspike interval, if there is a cycle.
    pub fn cycle_period_ms(&self) -> Option<f64> {
        let sp = &self.spikes_ms;
        (!self.limit_cycle.is_empty()).then(|| sp[sp.len() - 1] - sp[sp.len() - 2])
    }
}

/// The points of `trajectory` (sampled at `t_ms`) over the last interspike interval of
/// `spikes_ms`; empty with fewer than three spikes (the first interval is not yet periodic).
pub fn last_cycle(t_ms: &[f64], trajectory: &[(f64, f64)], spikes_ms: &[f64]) -> Vec<(f64, f64)> {
    if spikes_ms.len() < 3 {
        return vec![];
    }
    let (t0, t1) = (
        spikes_ms[spikes_ms.len() - 2],
        spikes_ms[spikes_ms.len() - 1],
    );
    t_ms.iter()
        .zip(trajectory)
        .filter(|(t, _)| **t >= t0 && **t <= t1)
        .map(|(_, p)| *p)
        .collect()
}

impl PhasePlaneSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        super::finite("current", self.current)?;
        super::positive("t_max", self.t_max)?;
        if self.t_max < DT_MS {
            return Err(SpecError::new(
                "t_max",
                self.t_max,
                format!("at least the step, {DT_MS} ms"),
            ));
        }
        super::steps("t_max", self.t_max, DT_MS)?;
        Ok(())
    }

    /// Refuse, before any work, a run whose trajectory (every 0.01 ms of `model`'s state)
    /// would pass `max_memory`.
    pub fn check_memory(&self, model: &Model) -> Result<(), SpecError> {
        let samples = super::steps("t_max", self.t_max, DT_MS)? + 1.0;
        let columns = model.var_names().len() as f64 + 2.0;
        let estimate = samples * (columns * 8.0 + EXTRA_SAMPLE_BYTES) * PEAK_FACTOR;
        super::memory(
            estimate,
            self.max_memory,
            &format!(
                "{} samples of the trajectory, every {DT_MS} ms, {columns} columns and a table row each",
                crate::error::short(samples)
            ),
            "a shorter t_max",
        )
    }

    /// Simulate `model` (a conductance model with a gate `n`) from rest under the current,
    /// take its last interspike interval as the limit cycle, and compute the reduced
    /// nullclines and the equilibria.
    pub fn run(&self, model: &Model) -> Result<PhasePlaneResult, Error> {
        self.validate()?;
        let smooth = model.smooth()?;
        self.check_memory(model)?;
        let n_index = model
            .var_names()
            .iter()
            .position(|n| n == "n")
            .ok_or_else(|| AnalysisError::Numerical {
                what: "phase plane".into(),
                reason: format!(
                    "the (V, n) reduction needs a gate named n; model '{}' has none",
                    model.name()
                ),
            })?;
        let y0 = model.resting_state()?;
        let settings = Settings {
            t_max: self.t_max,
            dt: DT_MS,
            method: Method::Rk4,
            record: Record::Full,
            threshold_mv: model.threshold_mv(),
        };
        let run = simulate::run(model, &Stimulus::constant(self.current), &y0, &settings)?;
        let (v, n) = (run.trace.v(), &run.trace.vars[n_index]);
        let trajectory: Vec<(f64, f64)> = v.iter().copied().zip(n.iter().copied()).collect();
        let limit_cycle = last_cycle(&run.trace.t_ms, &trajectory, &run.spikes_ms);
        let v_lo = v.iter().copied().fold(f64::INFINITY, f64::min) - NULLCLINE_MARGIN_MV;
        let v_hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max) + NULLCLINE_MARGIN_MV;
        let nullclines = nullclines(smooth, self.current, v_lo, v_hi, NULLCLINE_POINTS)?;
        let equilibria = model.equilibria(self.current)?;
        Ok(PhasePlaneResult {
            model: model.clone(),
            spec: self.clone(),
            trajectory,
            spikes_ms: run.spikes_ms,
            limit_cycle,
            nullclines,
            equilibria,
            n_index,
        })
    }
}

super::model_spec!(
    PhasePlaneSpec,
    "phase-plane",
    PhasePlaneResult,
    |s, m| {
        s.validate()?;
        m.smooth()?;
        s.check_memory(m)?;
        Ok(())
    },
    run
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_command_line_and_validates() {
        let s = PhasePlaneSpec::default();
        assert_eq!((s.current, s.t_max), (10.0, 200.0));
        s.validate().unwrap();
    }

    #[test]
    fn validate_names_the_bad_field() {
        let bad = |f: &dyn Fn(&mut PhasePlaneSpec)| {
            crate::spec::refused_field(&PhasePlaneSpec::default(), PhasePlaneSpec::validate, f)
        };
        assert_eq!(bad(&|s| s.current = f64::NAN), "current");
        assert_eq!(bad(&|s| s.t_max = 0.0), "t_max");
        assert_eq!(bad(&|s| s.t_max = -5.0), "t_max");
        assert_eq!(bad(&|s| s.t_max = 0.001), "t_max");
    }

    #[test]
    fn the_last_interval_is_the_cycle() {
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let traj: Vec<(f64, f64)> = t.iter().map(|&x| (x, 0.0)).collect();
        assert!(last_cycle(&t, &traj, &[1.0, 4.0]).is_empty());
        let c = last_cycle(&t, &traj, &[1.0, 4.0, 7.0]);
        assert_eq!(
            c.iter().map(|p| p.0).collect::<Vec<_>>(),
            [4.0, 5.0, 6.0, 7.0]
        );
    }

    #[test]
    fn hh_fires_round_a_cycle_with_an_unstable_focus_inside() {
        let hh = Model::builtin("hh").unwrap();
        let r = PhasePlaneSpec::default().run(&hh).unwrap();
        assert!(!r.limit_cycle.is_empty());
        // HH at 10 uA/cm^2 fires at about 68 Hz: period near 14.6 ms.
        let p = r.cycle_period_ms().unwrap();
        assert!((p - 14.6).abs() < 0.5, "{p}");
        let eq = r.plane_equilibria();
        assert_eq!(eq.len(), 1);
        assert!(!eq[0].2);
    }
}
