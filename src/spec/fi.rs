//! `excitable fi`: f-I curves from rest, up and down starts (hysteresis), rheobase, onset and
//! offset of repetitive firing, overlaid with a reference rate curve: the stable cycle branch
//! of the bifurcation diagram (run alongside the `rest` sweep; its cycles are also where the
//! `down` starts begin) or, for LIF, the closed-form rate.
//!
//! ```no_run
//! use excitable::model::Model;
//! use excitable::spec::FiSpec;
//! let hh = Model::builtin("hh")?;
//! let fi = FiSpec { to: 20.0, ..Default::default() }.run(&hh)?;
//! println!("rheobase {} uA/cm^2", fi.curve.rheobase);
//! # Ok::<(), excitable::Error>(())
//! ```

use super::values::one_or_many;
use crate::analysis::fi::{Direction, FiCurve, fi_curve_general_with, fi_curve_with};
use crate::continuation::cycles::{CycleEvent, CycleSettings};
use crate::continuation::diagram::{DiagramSettings, diagram};
use crate::continuation::{CURRENT, Family, Field, Settings};
use crate::error::{Error, SpecError};
use crate::model::Model;
use crate::progress::{Cancelled, Observer, Silent};
use crate::simulate::batch::{BatchScheme, BatchSettings, Precision, engine_methods};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// At most this many currents in the grid (a larger one is surely a typo in `step`).
pub const MAX_CURRENTS: usize = 10_000_000;

/// Overlay points with at least this many spikes in the counting window are compared with
/// the reference curve (a mean ISI worth comparing).
pub const MIN_COMPARED_SPIKES: u32 = 10;

/// Which starts to run (`all` is rest, up and down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FiDirection {
    /// The resting state at 0, then the current switched on (a step).
    Rest,
    /// What a slow upward ramp follows: the stable equilibrium while one exists.
    Up,
    /// What a slow downward ramp through the firing range follows: a state on the stable
    /// firing cycle.
    Down,
    /// Rest, up and down.
    All,
}

impl FiDirection {
    /// The starts this choice stands for.
    pub fn directions(self) -> Vec<Direction> {
        match self {
            FiDirection::Rest => vec![Direction::Rest],
            FiDirection::Up => vec![Direction::Up],
            FiDirection::Down => vec![Direction::Down],
            FiDirection::All => vec![Direction::Rest, Direction::Up, Direction::Down],
        }
    }
}

/// Every setting of `excitable fi`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct FiSpec {
    /// First current (uA/cm^2; the file's units for an .ode model).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub from: f64,
    /// Last current (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub to: f64,
    /// Current step (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.5)]
    pub step: f64,
    /// Run length (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1200.0)]
    pub t_max: f64,
    /// Discarded before counting (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub transient: f64,
    /// rest, up, down or all (repeatable).
    #[arg(long, value_enum, default_value = "all")]
    #[serde(deserialize_with = "one_or_many")]
    pub direction: Vec<FiDirection>,
    /// Time step (ms): the batch kernel's `--method` (conductance models), exponential Euler
    /// for LIF, RK4 or exponential Euler for .ode models.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// Integrator: exp-euler (first order), exp-midpoint (second order: two rate evaluations
    /// per step, so a larger dt for the same accuracy) or exp-staggered (second order at one
    /// rate evaluation per step: gates at half steps). Default: exp-euler on the batch kernel
    /// (conductance models), RK4 for .ode models, which take exp-euler too when it is named.
    #[arg(long, value_enum)]
    pub method: Option<BatchScheme>,
    /// Arithmetic of the batch kernel's exponentials: f64, or mixed (those of the rates and
    /// gates in f32, twice as many per vector register; the state, and a gate's step taken
    /// by its series, stay f64).
    #[arg(long, value_enum, default_value = "f64")]
    pub precision: Precision,
    /// Bisection tolerance for rheobase, onsets and offsets (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1e-4)]
    pub tol: f64,
    /// Spike threshold (mV; the file's units for an .ode model); default: the model's (hh: 0).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Skip the bifurcation-diagram overlay.
    #[arg(long)]
    pub no_overlay: bool,
}

impl Default for FiSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// Where the reference curve of an f-I report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlaySource {
    /// The stable cycle branch of the bifurcation diagram (computed by continuation alongside
    /// the sweep, so its time is in the total); compared with the `down` branch.
    StableCycles,
    /// The closed-form LIF rate; compared with the `rest` branch.
    ClosedForm,
}

/// The most orbits the overlay's diagram locates at currents of the grid (the default grid's
/// 401): `hh`'s diagram takes 0.12 s without them, 0.45 s with 401 and 3.97 s with 4001 (Intel
/// Xeon, 6 December 2026).
pub const OVERLAY_ORBITS: usize = 401;

/// The currents of `grid` where the overlay's diagram locates an orbit (AUTO's UZR), so that
/// the comparison reads the diagram at the runs' own currents: between orbits spaced by the
/// continuation's steps, a straight line is no reference (`ml.ode`'s down branch had 3 of its 63
/// firing currents within 2 of two orbits). Each costs about a millisecond: a grid of more than
/// [`OVERLAY_ORBITS`] currents gets an orbit at every k-th and its last, and the currents
/// between are read between two of them.
fn overlay_currents(grid: &[f64]) -> Vec<f64> {
    let every = grid.len().div_ceil(OVERLAY_ORBITS).max(1);
    let mut at: Vec<f64> = grid.iter().step_by(every).copied().collect();
    if let Some(&last) = grid.last()
        && at.last() != Some(&last)
    {
        at.push(last);
    }
    at
}

/// The overlay is interpolated between orbits of the diagram closer than this (uA/cm^2; the
/// file's units for a model without units); farther apart, a straight line between them is no
/// reference, and the currents between are not compared.
pub const INTERPOLATION_GAP: f64 = 2.0;

/// A reference rate curve drawn over the simulated ones and compared with one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// What it is.
    pub source: OverlaySource,
    /// (current, rate in Hz), by increasing current; empty without a reference.
    pub points: Vec<(f64, f64)>,
    /// The currents of the diagram's folds of cycles where a branch of stable cycles ends
    /// ([`crate::continuation::cycles::CycleBranch::bounds_stable_cycles`];
    /// [`Overlay::edges_past_folds`]).
    pub folds: Vec<f64>,
}

/// An edge of a simulated f-I branch (where repetitive firing starts or stops) on the side of
/// a fold of cycles of the diagram where no stable cycle exists: the runs fired there, though
/// the diagram has no stable firing to fire on ([`Overlay::edges_past_folds`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgePastFold {
    /// The start whose branch it is.
    pub direction: Direction,
    /// Where firing starts (true) or stops (false).
    pub starts: bool,
    /// The edge (uA/cm^2; file units for a model without units).
    pub edge: f64,
    /// The fold of cycles (the same unit).
    pub fold: f64,
}

impl Overlay {
    /// The branch it is compared with.
    pub fn against(&self) -> Direction {
        match self.source {
            OverlaySource::StableCycles => Direction::Down,
            OverlaySource::ClosedForm => Direction::Rest,
        }
    }

    /// The reference rate at current `i` (Hz): exact at a point, else linear between
    /// neighbours closer than [`INTERPOLATION_GAP`] (not across a gap between branches).
    pub fn at(&self, i: f64) -> Option<f64> {
        // An orbit located at `i` (to the corrector's tolerance) is the reference there.
        let on = |x: f64| (x - i).abs() <= crate::continuation::parameter_eps(i);
        if let Some(p) = self.points.iter().find(|p| on(p.0)) {
            return Some(p.1);
        }
        self.points
            .windows(2)
            .find(|w| w[0].0 <= i && i <= w[1].0 && w[1].0 - w[0].0 < INTERPOLATION_GAP)
            .map(|w| w[0].1 + (i - w[0].0) / (w[1].0 - w[0].0) * (w[1].1 - w[0].1))
    }

    /// The edges of `onsets` that lie past a fold of cycles, on its side without stable
    /// cycles, by more than twice the multisection's tolerance `tol`; only folds within `near`
    /// (the grid's step) of an edge are considered. The side with stable cycles is the one of
    /// the overlay's orbit nearest the fold; an edge with a stable orbit of the overlay within
    /// `near` on the other side (another branch's) is not past it. Two causes put an edge
    /// there, and this does not tell them apart: a run that still fires for its whole length
    /// while the flow slows near the cycle that vanished at the fold, and the integrator's
    /// error, which moves the fold of the simulated system away from the diagram's. Either way
    /// the fold, not the runs, is where stable firing ends in the model.
    pub fn edges_past_folds(
        &self,
        onsets: &[crate::analysis::fi::Onsets],
        near: f64,
        tol: f64,
    ) -> Vec<EdgePastFold> {
        let mut out = vec![];
        for o in onsets {
            for (edge, starts) in [(o.onset, true), (o.offset, false)] {
                let Some(fold) = (self.folds.iter().copied())
                    .filter(|f| edge.is_finite() && (edge - f).abs() <= near)
                    .min_by(|a, b| (edge - a).abs().total_cmp(&(edge - b).abs()))
                else {
                    continue;
                };
                let Some(stable) = (self.points.iter().map(|p| p.0))
                    .min_by(|a, b| (a - fold).abs().total_cmp(&(b - fold).abs()))
                else {
                    continue;
                };
                let past = (edge - fold) * (stable - fold) < 0.0 && (edge - fold).abs() > 2.0 * tol;
                let elsewhere = (self.points.iter())
                    .any(|p| (p.0 - fold) * (stable - fold) < 0.0 && (p.0 - edge).abs() <= near);
                if past && !elsewhere {
                    out.push(EdgePastFold {
                        direction: o.direction,
                        starts,
                        edge,
                        fold,
                    });
                }
            }
        }
        out
    }

    /// The largest relative difference between the compared branch's ISI rate (1000 / mean
    /// ISI) and the reference, over the branch's points with at least
    /// [`MIN_COMPARED_SPIKES`] spikes where the reference is defined; `None` if no point
    /// fires that many, and `points` 0 (the difference NaN) if the reference is defined at
    /// none of them.
    pub fn compare(&self, curve: &FiCurve) -> Option<Comparison> {
        let eligible = || {
            (curve.points.iter()).filter(|p| {
                p.direction == self.against()
                    && p.summary.fires()
                    && p.summary.n_spikes >= MIN_COMPARED_SPIKES
            })
        };
        let firing = eligible().count();
        if firing == 0 {
            return None;
        }
        let mut c = Comparison {
            points: 0,
            firing,
            max_rel_diff: f64::NAN,
            at_current: f64::NAN,
        };
        for p in eligible() {
            if let Some(f) = self.at(p.current) {
                let d = (p.summary.isi_rate_hz() - f).abs() / f;
                c.points += 1;
                // The first compared point sets it (`max_rel_diff` starts NaN).
                if c.points == 1 || d > c.max_rel_diff {
                    c.max_rel_diff = d;
                    c.at_current = p.current;
                }
            }
        }
        Some(c)
    }
}

/// How far the simulated branch is from the reference curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Points compared.
    pub points: usize,
    /// The branch's points with enough spikes to compare. Those where the reference is not
    /// defined are left out: the diagram has no stable orbit settled by its multipliers at
    /// their current (past a fold of cycles, or unsettled), nor two within
    /// [`INTERPOLATION_GAP`] on both sides.
    pub firing: usize,
    /// The largest relative difference of the rates (a fraction, not %).
    pub max_rel_diff: f64,
    /// The current where it occurs (uA/cm^2).
    pub at_current: f64,
}

/// The f-I curves of a [`FiSpec`], with the reference overlay and the time they took.
#[derive(Debug, Clone)]
pub struct FiResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: FiSpec,
    /// Every run, the onsets and offsets, the rheobase and the dt/2 check.
    pub curve: FiCurve,
    /// The reference curve (empty points without one).
    pub overlay: Overlay,
    /// The compared branch against the overlay; `None` if no point was compared.
    pub comparison: Option<Comparison>,
    /// About the run as a whole (why there is no overlay, for example).
    pub notes: Vec<String>,
    /// Wall-clock time of the runs (and the diagram run alongside them), s.
    pub seconds: f64,
}

impl FiSpec {
    /// The starts requested, in order, with repeats next to each other removed.
    pub fn directions(&self) -> Vec<Direction> {
        let mut dirs: Vec<Direction> = self.direction.iter().flat_map(|d| d.directions()).collect();
        dirs.dedup();
        dirs
    }

    /// The current grid: `from`, `from + step`, … up to `to` (up to rounding). Each is
    /// rounded to 14 significant digits, so 3 steps of 0.3 are 0.9, not 0.8999999999999999 as
    /// the sum would have it in the tables.
    pub fn currents(&self) -> Vec<f64> {
        let n = ((self.to - self.from) / self.step).round() as usize + 1;
        (0..n)
            .map(|k| self.from + self.step * k as f64)
            .filter(|i| *i <= self.to + 1e-9)
            .map(|i| format!("{i:.13e}").parse().unwrap_or(i))
            .collect()
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        super::range("from, to", self.from, self.to)?;
        super::positive("step", self.step)?;
        let n = ((self.to - self.from) / self.step).round() + 1.0;
        if n > MAX_CURRENTS as f64 {
            return Err(SpecError::new(
                "step",
                self.step,
                format!(
                    "a step giving at most {MAX_CURRENTS} currents from {} to {} (this one gives {})",
                    crate::model::Number(self.from),
                    crate::model::Number(self.to),
                    crate::model::Number(n)
                ),
            ));
        }
        super::timing(self.t_max, self.dt, self.transient)?;
        super::bisection_tol("tol", self.tol)?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        if self.direction.is_empty() {
            return Err(SpecError::new(
                "direction",
                "(none)",
                "one or more of rest, up, down, all",
            ));
        }
        Ok(())
    }

    /// The f-I curves of `model`.
    pub fn run(&self, model: &Model) -> Result<FiResult, Error> {
        self.run_with(model, &Silent)
    }

    /// The f-I curves of `model`; `observer` sees the runs as they finish (task `f-I runs`)
    /// and the diagram's cycle points (task `cycle points`), and can stop the run.
    ///
    /// Conductance-based models run on the batch kernel ([`fi_curve_with`]), LIF and `.ode`
    /// models on the general simulator ([`fi_curve_general_with`]). Every smooth autonomous
    /// model gets the bifurcation diagram over the same currents, run alongside the `rest`
    /// sweep (unless `no_overlay`): its stable cycles are the overlay and the `down` starts.
    /// A diagram that fails leaves a note and no overlay; the curves do not depend on it.
    pub fn run_with(&self, model: &Model, observer: &dyn Observer) -> Result<FiResult, Error> {
        self.validate()?;
        let dirs = self.directions();
        let currents = self.currents();
        let (scheme, ode_method) = engine_methods(self.method);
        let settings = BatchSettings {
            t_max: self.t_max,
            dt: self.dt,
            transient: self.transient,
            threshold_mv: self.threshold.unwrap_or(model.threshold_mv()),
            precision: self.precision,
            scheme,
            ode_method,
        };
        let smooth = model.smooth().ok();
        let field = Field::of(model).ok();
        let mut overlay = Overlay {
            source: OverlaySource::StableCycles,
            points: vec![],
            folds: vec![],
        };
        // (A `--method` or `--precision` that a model's engine does not use is noted by its
        // runner, `simulate::runner::Runner::notes`.)
        let mut notes = vec![];
        let mut cancelled = false;
        // The stable cycle branch of the diagram over the same currents: the overlay, and the
        // states the `down` starts use. It runs alongside the `rest` sweep.
        let cycle_states = || -> Vec<(f64, Vec<f64>)> {
            let Some(field) = field.filter(|_| !self.no_overlay) else {
                return vec![];
            };
            let s = DiagramSettings {
                range: (self.from, self.to),
                equilibria: Settings::default(),
                cycles: CycleSettings {
                    user_points: overlay_currents(&currents),
                    ds_max: super::bifurcation::cycle_ds_max(None, model),
                    ..CycleSettings::default()
                },
                with_cycles: true,
            };
            match Family::of_field(field, CURRENT, 0.0)
                .map_err(Error::from)
                .and_then(|fam| diagram(&fam, &s, observer))
            {
                Ok(d) => {
                    let stable = || {
                        d.cycles
                            .iter()
                            .flat_map(|(_, c)| c.points.iter().filter(|p| p.stable()))
                    };
                    // Drawn only where the multipliers settle the verdict
                    // ([`crate::continuation::cycles::CyclePoint::stable_and_settled`]).
                    overlay.points = (d.cycles.iter())
                        .flat_map(|(origin, c)| origin.stable_orbits(c))
                        .map(|p| (p.lambda, p.frequency_hz()))
                        .collect();
                    overlay.points.sort_by(|x, y| x.0.total_cmp(&y.0));
                    overlay.folds = (d.cycles.iter())
                        .flat_map(|(_, c)| {
                            (c.specials.iter())
                                .filter(|s| s.kind == CycleEvent::Fold && c.bounds_stable_cycles(s))
                                .map(|s| s.point.lambda)
                        })
                        .collect();
                    // Starts are taken from every orbit called stable, settled or not: a start
                    // is only where a simulation begins, and the simulation decides.
                    stable().map(|p| (p.lambda, p.peak_state.clone())).collect()
                }
                Err(Error::Cancelled(_)) => {
                    cancelled = true;
                    vec![]
                }
                Err(e) => {
                    notes.push(format!("no bifurcation overlay ({e})"));
                    vec![]
                }
            }
        };
        let started = Instant::now();
        let curve = match smooth {
            Some(m) => fi_curve_with(
                m,
                &currents,
                &dirs,
                &settings,
                self.tol,
                cycle_states,
                observer,
            ),
            None => fi_curve_general_with(
                model,
                &currents,
                &dirs,
                &settings,
                self.tol,
                cycle_states,
                observer,
            ),
        };
        if cancelled {
            return Err(Cancelled.into());
        }
        let curve = curve?;
        let seconds = started.elapsed().as_secs_f64();
        if let Model::Lif(lif) = model {
            let v = lif.values();
            overlay = Overlay {
                source: OverlaySource::ClosedForm,
                points: currents.iter().map(|&i| (i, v.rate_hz(i))).collect(),
                folds: vec![],
            };
        }
        let comparison = overlay.compare(&curve);
        Ok(FiResult {
            model: model.clone(),
            spec: self.clone(),
            curve,
            overlay,
            comparison,
            notes,
            seconds,
        })
    }
}

super::model_spec!(FiSpec, "fi", FiResult, |s, _m| Ok(s.validate()?), run_with);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fi::Onsets;

    /// Stable cycles from a lower fold at 88.29325 to an upper one at 216.8998 (Morris-Lecar's
    /// diagram): an onset below the lower fold and a stop above the upper one are past them;
    /// an onset on the stable side, one within twice the tolerance of its fold, a fold farther
    /// than a grid step, and NaN edges are not.
    #[test]
    fn the_overlay_locates_every_current_of_a_default_grid_and_every_kth_of_a_finer_one() {
        let grid = |step: f64| -> Vec<f64> {
            let n = (200.0 / step).round() as usize;
            (0..=n).map(|k| k as f64 * step).collect()
        };
        assert_eq!(overlay_currents(&grid(0.5)), grid(0.5));
        let fine = overlay_currents(&grid(0.05));
        assert!(fine.len() <= OVERLAY_ORBITS + 1, "{}", fine.len());
        assert_eq!((fine[0], fine[1], *fine.last().unwrap()), (0.0, 0.5, 200.0));
        // Every gap between located orbits is within the interpolation's reach.
        assert!(fine.windows(2).all(|w| w[1] - w[0] < INTERPOLATION_GAP));
        assert!(overlay_currents(&[]).is_empty());
    }

    #[test]
    fn edges_past_a_fold_are_those_on_its_side_without_stable_cycles() {
        let overlay = Overlay {
            source: OverlaySource::StableCycles,
            points: vec![(88.2935, 7.39), (150.0, 15.0), (216.8990, 12.9)],
            folds: vec![88.29325, 216.8998],
        };
        let onsets = |direction, onset, offset| Onsets {
            direction,
            onset,
            offset,
            max_rate_hz: 15.0,
            max_isi_rate_hz: 15.0,
        };
        let past = overlay.edges_past_folds(
            &[
                onsets(Direction::Rest, 88.2927, 216.9601),
                onsets(Direction::Down, 88.2931, 216.9249),
                onsets(Direction::Up, 93.8576, f64::NAN),
            ],
            2.0,
            1e-4,
        );
        let found: Vec<(Direction, bool, f64)> = past
            .iter()
            .map(|e| (e.direction, e.starts, e.fold))
            .collect();
        assert_eq!(
            found,
            [
                (Direction::Rest, true, 88.29325),
                (Direction::Rest, false, 216.8998),
                (Direction::Down, false, 216.8998),
            ],
            "{past:?}"
        );
        // On the stable side, and within twice the tolerance: not past.
        let inside = [onsets(Direction::Down, 88.2934, 216.89975)];
        assert!(overlay.edges_past_folds(&inside, 2.0, 1e-4).is_empty());
        // A fold farther than a grid step from the edge is not its fold.
        let far = [onsets(Direction::Rest, 86.0, f64::NAN)];
        assert!(overlay.edges_past_folds(&far, 2.0, 1e-4).is_empty());
        assert_eq!(overlay.edges_past_folds(&far, 3.0, 1e-4).len(), 1);
        // Another branch's stable orbit beside the edge, past the fold: not past.
        let mut two = overlay.clone();
        two.points.insert(0, (87.0, 5.0));
        let rest = [onsets(Direction::Rest, 88.2927, f64::NAN)];
        assert_eq!(overlay.edges_past_folds(&rest, 2.0, 1e-4).len(), 1);
        assert!(two.edges_past_folds(&rest, 2.0, 1e-4).is_empty());
    }

    #[test]
    fn the_default_is_the_command_line_and_validates() {
        let d = FiSpec::default();
        assert_eq!((d.from, d.to, d.step), (0.0, 200.0, 0.5));
        assert_eq!(
            (d.t_max, d.transient, d.dt, d.tol),
            (1200.0, 200.0, 0.01, 1e-4)
        );
        assert_eq!(d.direction, [FiDirection::All]);
        assert!(!d.no_overlay);
        d.validate().unwrap();
        assert_eq!(d.currents().len(), 401);
        assert_eq!(
            d.directions(),
            [Direction::Rest, Direction::Up, Direction::Down]
        );
    }

    #[test]
    fn bad_settings_are_refused_by_field() {
        let bad = |f: &dyn Fn(&mut FiSpec)| {
            crate::spec::refused_field(&FiSpec::default(), FiSpec::validate, f)
        };
        assert_eq!(bad(&|s| s.to = -1.0), "from, to");
        assert_eq!(bad(&|s| s.from = f64::NAN), "from, to");
        // Three steps of 0.3 are 0.9 in the grid, not 0.8999999999999999.
        let grid = FiSpec {
            from: 0.0,
            to: 1.0,
            step: 0.3,
            ..Default::default()
        };
        assert_eq!(grid.currents(), [0.0, 0.3, 0.6, 0.9]);
        assert_eq!(bad(&|s| s.step = 0.0), "step");
        assert_eq!(bad(&|s| s.step = 1e-6), "step");
        // A far range is named in a few digits (it had printed 1e300's 301).
        let far = FiSpec {
            to: 1e300,
            ..Default::default()
        };
        let e = far.validate().unwrap_err().to_string();
        assert!(e.contains("from 0 to 1e300 (this one gives 2e300)"), "{e}");
        assert_eq!(bad(&|s| s.t_max = -5.0), "t_max");
        assert_eq!(bad(&|s| s.dt = 0.0), "dt");
        assert_eq!(bad(&|s| s.dt = 2000.0), "dt");
        assert_eq!(bad(&|s| s.transient = 1200.0), "transient");
        assert_eq!(bad(&|s| s.transient = -1.0), "transient");
        assert_eq!(bad(&|s| s.tol = 0.0), "tol");
        // The counting window (1000 by default) must hold 100 steps.
        assert_eq!(bad(&|s| s.dt = 12.0), "dt");
        // The run (1200 by default) must be a whole number of steps.
        assert_eq!(bad(&|s| s.dt = 0.07), "t_max, dt");
        assert!(
            FiSpec {
                dt: 10.0,
                ..FiSpec::default()
            }
            .validate()
            .is_ok()
        );
        assert_eq!(bad(&|s| s.tol = f64::INFINITY), "tol");
        assert_eq!(bad(&|s| s.direction = vec![]), "direction");
    }

    #[test]
    fn study_tables_read_like_flags() {
        let s: FiSpec =
            toml::from_str("to = 30\nt-max = 500\ndirection = \"rest\"\nno-overlay = true")
                .unwrap();
        assert_eq!((s.to, s.t_max, s.step), (30.0, 500.0, 0.5));
        assert_eq!(s.direction, [FiDirection::Rest]);
        assert!(s.no_overlay);
        let s: FiSpec = toml::from_str("direction = [\"rest\", \"all\"]").unwrap();
        assert_eq!(
            s.directions(),
            [Direction::Rest, Direction::Up, Direction::Down]
        );
        assert!(toml::from_str::<FiSpec>("direction = \"sideways\"").is_err());
    }

    /// A short sweep for the observer tests: 0 to 20 uA/cm^2, 100 ms runs, 20 ms transient.
    fn short() -> FiSpec {
        FiSpec {
            to: 20.0,
            t_max: 100.0,
            transient: 20.0,
            ..Default::default()
        }
    }

    #[test]
    fn the_observer_sees_the_runs_and_the_cycle_points() {
        use crate::progress::{Flow, Progress};
        use std::sync::Mutex;
        struct Tasks(Mutex<Vec<(String, u64)>>);
        impl Observer for Tasks {
            fn observe(&self, p: &Progress) -> Flow {
                self.0.lock().unwrap().push((p.task.to_string(), p.done));
                Flow::Continue
            }
        }
        let hh = Model::builtin("hh").unwrap();
        let spec = FiSpec {
            tol: 1e-2,
            ..short()
        };
        let seen = Tasks(Mutex::new(vec![]));
        let r = spec.run_with(&hh, &seen).unwrap();
        let seen = seen.0.into_inner().unwrap();
        let most = |task: &str| {
            seen.iter()
                .filter(|(t, _)| t == task)
                .map(|s| s.1)
                .max()
                .unwrap_or(0)
        };
        // Every grid run at least (identical up and down runs are done once).
        assert!(most("f-I runs") >= 41 * 2, "{}", most("f-I runs"));
        assert!(most("cycle points") > 10, "{}", most("cycle points"));
        assert!(!r.overlay.points.is_empty());
        assert_eq!(r.curve.points.len(), 41 * 3);
    }

    #[test]
    fn a_stopped_run_returns_cancelled() {
        use crate::progress::{Flow, Progress};
        struct Stop;
        impl Observer for Stop {
            fn observe(&self, _: &Progress) -> Flow {
                Flow::Stop
            }
        }
        let lif = FiSpec {
            to: 3.0,
            step: 0.1,
            ..short()
        };
        for (model, spec) in [("hh", short()), ("lif", lif)] {
            let model = Model::builtin(model).unwrap();
            assert!(matches!(
                spec.run_with(&model, &Stop),
                Err(Error::Cancelled(_))
            ));
        }
    }
}
