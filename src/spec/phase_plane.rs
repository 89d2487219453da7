//! `excitable phase-plane`: a simulated trajectory in a plane of two variables, over the
//! nullclines and the direction field where the plane has them
//! ([`crate::analysis::phase_plane`]: exact for a 2-variable model, HH's reduction for models
//! with HH's gates, a projection otherwise), with the limit cycle when the model fires.

use crate::analysis::phase_plane::{
    Nullclines, PlaneKind, direction_field, nullclines, planar_field, plane_kind,
};
use crate::error::{Error, SpecError};
use crate::model::{Equilibrium, InitialState, Model, StartKind};
use crate::simulate::{self, Method, Record, Settings};
use crate::stimulus::Stimulus;
use serde::{Deserialize, Serialize};

/// Time step of the simulated trajectory (ms), RK4.
pub const DT_MS: f64 = 0.01;
/// Voltages at which the nullclines are computed.
pub const NULLCLINE_POINTS: usize = 1200;
/// How far the plane reaches beyond the trajectory and the equilibria, each side, as a
/// fraction of their extent.
pub const PLANE_MARGIN: f64 = 0.15;
/// Arrows per side of the direction field.
pub const ARROWS: usize = 21;

/// Every setting of `excitable phase-plane`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PhasePlaneSpec {
    /// Injected current (uA/cm^2; the file's units for an .ode model), from t = 0, starting at
    /// rest at 0 (an .ode model at its file's initial values).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub current: f64,
    /// The variable on the vertical axis (V is on the horizontal one); default: the second
    /// variable of a 2-variable model, else `n` where there is one, else the second variable.
    #[arg(long)]
    pub y: Option<String>,
    /// Duration (ms); the last interspike interval is taken as the limit cycle.
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
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

/// The phase plane of a [`PhasePlaneSpec`].
#[derive(Debug, Clone)]
pub struct PhasePlaneResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: PhasePlaneSpec,
    /// The names of the horizontal (V) and vertical variables.
    pub axes: (String, String),
    /// Index of the vertical variable in the state.
    pub y_index: usize,
    /// How the plane was made.
    pub kind: PlaneKind,
    /// Where the run started, in words.
    pub start: String,
    /// The plane's box: `(x0, x1)`, `(y0, y1)`.
    pub frame: ((f64, f64), (f64, f64)),
    /// The full model's trajectory, projected on the two variables.
    pub trajectory: Vec<(f64, f64)>,
    /// Spike times of the run (ms).
    pub spikes_ms: Vec<f64>,
    /// The trajectory over the last interspike interval; empty with fewer than three spikes.
    pub limit_cycle: Vec<(f64, f64)>,
    /// The nullclines over the box (none for a projection).
    pub nullclines: Nullclines,
    /// The field on a grid of the box: `(x, y, dx/dt, dy/dt)` (none for a projection).
    pub direction_field: Vec<(f64, f64, f64, f64)>,
    /// Every equilibrium of the full model at the current.
    pub equilibria: Vec<Equilibrium>,
}

impl PhasePlaneResult {
    /// The equilibria in the plane: `(x, y, stable)`.
    pub fn plane_equilibria(&self) -> Vec<(f64, f64, bool)> {
        self.equilibria
            .iter()
            .map(|e| (e.state[0], e.state[self.y_index], e.stability.is_stable()))
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

    /// The vertical variable's index in `model`'s state ([`PhasePlaneSpec::y`]), checked.
    pub fn y_index(&self, model: &Model) -> Result<usize, SpecError> {
        let names = model.var_names();
        if names.len() < 2 {
            return Err(SpecError::new(
                "y",
                self.y.clone().unwrap_or_else(|| "(the default)".into()),
                format!(
                    "a second variable: `{}` has only {}, so it has no phase plane",
                    model.name(),
                    names[0]
                ),
            ));
        }
        match &self.y {
            Some(y) => names
                .iter()
                .skip(1)
                .position(|n| n == y)
                .map(|k| k + 1)
                .ok_or_else(|| SpecError::new("y", y, format!("one of {}", names[1..].join(", ")))),
            None if names.len() == 2 => Ok(1),
            None => Ok(names.iter().position(|n| n == "n").unwrap_or(1)),
        }
    }

    /// Simulate `model` from its default start (rest at 0, or an `.ode` file's initial values)
    /// under the current, take its last interspike interval as the limit cycle, and compute the
    /// plane's nullclines, direction field and the equilibria.
    pub fn run(&self, model: &Model) -> Result<PhasePlaneResult, Error> {
        self.run_with(model, &crate::progress::Silent)
    }

    /// [`PhasePlaneSpec::run`], the simulation asking `observer` whether to go on (a run of
    /// 2·10^5 ms had not heard Ctrl-C in Python for up to 21 s).
    pub fn run_with(
        &self,
        model: &Model,
        observer: &dyn crate::progress::Observer,
    ) -> Result<PhasePlaneResult, Error> {
        self.validate()?;
        let tracker = crate::progress::Tracker::new(observer, "trajectory", None);
        let y_index = self.y_index(model)?;
        self.check_memory(model)?;
        let (y0, start_kind) = model.initial_state_and_kind(&InitialState::Default)?;
        let units = model.units();
        let start = match (model, start_kind) {
            (Model::Ode(_), _) => "the file's initial values".to_string(),
            (_, Some(StartKind::Displaced { .. })) => {
                "the lowest equilibrium at 0, displaced (no stable rest)".to_string()
            }
            _ => format!("rest at 0 {}", units.current)
                .trim_end()
                .to_string(),
        };
        let settings = Settings {
            t_max: self.t_max,
            dt: DT_MS,
            method: Method::Rk4,
            record: Record::Full,
            threshold_mv: model.threshold_mv(),
        };
        let run = simulate::run_until(
            model,
            &Stimulus::constant(self.current),
            &y0,
            &settings,
            &|| tracker.go_on(),
        )?;
        let (v, w) = (run.trace.v(), &run.trace.vars[y_index]);
        let trajectory: Vec<(f64, f64)> = v.iter().copied().zip(w.iter().copied()).collect();
        let limit_cycle = last_cycle(&run.trace.t_ms, &trajectory, &run.spikes_ms);
        // A model without a smooth field (LIF) has no equilibria to mark.
        let equilibria = match crate::model::Field::of(model) {
            Ok(_) => model.equilibria(self.current)?,
            Err(_) => vec![],
        };
        let frame = plane_box(
            trajectory
                .iter()
                .copied()
                .chain(equilibria.iter().map(|e| (e.state[0], e.state[y_index]))),
        );
        let kind = plane_kind(model, y_index);
        let (nullclines, direction_field) = match planar_field(model, kind, y_index, self.current) {
            Some(f) => (
                nullclines(f.as_ref(), frame.0, frame.1),
                direction_field(f.as_ref(), frame.0, frame.1, ARROWS),
            ),
            None => Default::default(),
        };
        let names = model.var_names();
        Ok(PhasePlaneResult {
            model: model.clone(),
            spec: self.clone(),
            axes: (names[0].clone(), names[y_index].clone()),
            y_index,
            kind,
            start,
            frame,
            trajectory,
            spikes_ms: run.spikes_ms,
            limit_cycle,
            nullclines,
            direction_field,
            equilibria,
        })
    }
}

/// The box round `points` with [`PLANE_MARGIN`] on each side (a flat extent gets ±10 % of its
/// value, at least ±1).
fn plane_box(points: impl Iterator<Item = (f64, f64)>) -> ((f64, f64), (f64, f64)) {
    let (mut x, mut y) = (
        (f64::INFINITY, f64::NEG_INFINITY),
        (f64::INFINITY, f64::NEG_INFINITY),
    );
    for (a, b) in points.filter(|p| p.0.is_finite() && p.1.is_finite()) {
        x = (x.0.min(a), x.1.max(a));
        y = (y.0.min(b), y.1.max(b));
    }
    let pad = |r: (f64, f64)| {
        if !r.0.is_finite() {
            return (-1.0, 1.0);
        }
        let span = r.1 - r.0;
        let m = if span > 1e-9 * (r.0.abs() + r.1.abs()).max(1e-300) {
            PLANE_MARGIN * span
        } else {
            (0.1 * r.0.abs()).max(1.0)
        };
        (r.0 - m, r.1 + m)
    };
    (pad(x), pad(y))
}

super::model_spec!(
    PhasePlaneSpec,
    "phase-plane",
    PhasePlaneResult,
    |s, m| {
        s.validate()?;
        s.y_index(m)?;
        s.check_memory(m)?;
        Ok(())
    },
    run_with
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
        assert_eq!(r.kind, PlaneKind::HhReduction);
        assert_eq!(r.axes, ("v".to_string(), "n".to_string()));
    }
}
