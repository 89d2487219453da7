//! f-I curves with hysteresis, rheobase, and the currents where repetitive firing starts and
//! stops, on the batch kernel ([`crate::simulate::batch`]).
//!
//! Three kinds of start make bistability visible while every current still runs in parallel
//! (a literal slow ramp would serialise the sweep):
//! - `rest`: the resting state at I = 0, then the current switched on (a step, as in an
//!   experiment);
//! - `up`: what a slow upward ramp follows: the stable equilibrium (lowest V) at that current
//!   while one exists, else the firing state;
//! - `down`: what a slow downward ramp through the firing range follows: a state on the stable
//!   firing cycle at the
//!   nearest current of the bifurcation diagram's cycle branch (without a diagram: the end of a
//!   300 ms run at the grid current where the `rest` sweep fired most).
//!
//! Onsets, offsets and the rheobase are refined by multisection: each round evaluates `m`
//! currents inside every open bracket, all brackets in one batch, shrinking each `m + 1`-fold,
//! until all are narrower than `tol`. `m` fills exactly one lane block per core
//! (`m = lanes * threads / brackets`: 16 lanes on the kernel, 32 on an `.ode` model's lanes):
//! a round costs one block-time whatever `m` is, so the widest split that still fits in that
//! time needs the fewest rounds (on the kernel, 6 brackets on 2 cores: 5 probes each, 5 rounds
//! to 1e-4 from 0.5 uA/cm^2, against 12 block-times for 16 probes).

use super::accuracy::{Accuracy, Probe, half_step};
use crate::continuation::Field;
use crate::error::{Error, SimError};
use crate::model::{ConductanceModel, Model};
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::batch::{BatchSettings, NeuronSummary};
use crate::simulate::runner::{BlowUps, Runner};

/// Which start a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The resting state at 0, then the current switched on.
    Rest,
    /// The stable equilibrium at the current while one exists (a slow upward ramp).
    Up,
    /// A state on the stable firing cycle (a slow downward ramp through the firing range).
    Down,
}

impl Direction {
    /// `rest`, `up` or `down`: its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Rest => "rest",
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// The starts `rest`, `up`, `down` or `all` stands for; `None` for another word.
    pub fn parse(s: &str) -> Option<Vec<Direction>> {
        match s {
            "rest" => Some(vec![Direction::Rest]),
            "up" => Some(vec![Direction::Up]),
            "down" => Some(vec![Direction::Down]),
            "all" => Some(vec![Direction::Rest, Direction::Up, Direction::Down]),
            _ => None,
        }
    }
}

/// One point of an f-I curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiPoint {
    /// The injected current (uA/cm^2).
    pub current: f64,
    /// The start.
    pub direction: Direction,
    /// Spikes, intervals and voltage range of the run.
    pub summary: NeuronSummary,
}

/// Where repetitive firing starts and stops on one branch (uA/cm^2), NaN if it does not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Onsets {
    /// The start.
    pub direction: Direction,
    /// Where repetitive firing starts (uA/cm^2), to the bisection tolerance; NaN if nowhere.
    pub onset: f64,
    /// Where it stops again (uA/cm^2); NaN if it does not in the range.
    pub offset: f64,
    /// The highest counted rate on the branch's grid points (Hz): spikes over the window, so a
    /// whole number of spikes per window (1 Hz steps over 1000 ms).
    pub max_rate_hz: f64,
    /// The highest ISI rate (1000 / mean ISI, Hz) on the branch's grid points with 2 or more
    /// spikes; NaN without any. Not held to whole spikes: `ml.ode`'s `rest` and `down` branches
    /// counted 16 and 15 spikes at the same ISI rate, 15.62 per 1000.
    pub max_isi_rate_hz: f64,
}

/// A complete f-I analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct FiCurve {
    /// Every grid run, by start then current.
    pub points: Vec<FiPoint>,
    /// Smallest step from rest that gives at least one spike (uA/cm^2), NaN if none.
    pub rheobase: f64,
    /// The rheobase's integrator error (uA/cm^2): the rheobase located again at dt/2, the
    /// difference times 2^p / (2^p - 1) for a method of order p (Richardson). The bisection
    /// locates the rheobase of the integrator at dt to `tol`; the integrator moves it by far
    /// more (exponential Euler at dt 0.01 ms: 0.0086 uA/cm^2 for `hh`, 0.38%, against a tol of
    /// 1e-4). NaN where not estimated: no rheobase, an exact flow (LIF), or the dt/2 runs did
    /// not bracket it within one grid step.
    pub rheobase_error: f64,
    /// Onset and offset of each start, in the order asked for.
    pub onsets: Vec<Onsets>,
    /// Counting window (ms).
    pub window_ms: f64,
    /// The integrator error, from a sample re-run at dt/2; `None` where it did not run (no
    /// firing point with enough spikes) or had nothing to check ([`FiCurve::flow_exact`]).
    pub accuracy: Option<Accuracy>,
    /// Whether the runs follow the model's exact flow (LIF between events, with exact
    /// threshold times), so no step size limits their rates and no dt/2 check applies. Said
    /// here, by the analysis that chose the runner, so a report need not guess it from the
    /// model's kind.
    pub flow_exact: bool,
    /// What ran the neurons, for reports.
    pub engine: String,
    /// The integrator that ran them, with its order, for the sentence on its error (the
    /// runner's own words, so it names what ran, not what was asked for).
    pub integrator: &'static str,
    /// What the analysis could not do as asked, in words.
    pub notes: Vec<String>,
}

/// The grid points' oscillations without a spike, judged by [`Runner::judge_ringing`] (each
/// point again from its own start): ringing that dies away is no oscillation. Only where a
/// stable equilibrium exists at the point's current can ringing die away to rest: `hh`'s
/// small stable cycles between 62.4 and 154.5 uA/cm^2, around an unstable rest, are not run
/// again (they had doubled the time of `fi --model hh`).
fn judge_ringing(
    runner: &Runner,
    points: &mut [FiPoint],
    starts: &Starts,
    settings: &BatchSettings,
) -> Result<(), Error> {
    let rests_at = |i: f64| starts.stable.as_ref().is_none_or(|b| b.rest_exists(i));
    let ringing: Vec<usize> = (0..points.len())
        .filter(|&k| points[k].summary.oscillates_without_spikes() && rests_at(points[k].current))
        .collect();
    if ringing.is_empty() {
        return Ok(());
    }
    let params = [runner.param_values()];
    let currents: Vec<f64> = ringing.iter().map(|&k| points[k].current).collect();
    let ys: Vec<Vec<f64>> = (ringing.iter())
        .map(|&k| starts.at(points[k].direction, points[k].current))
        .collect();
    let mut runs: Vec<NeuronSummary> = ringing.iter().map(|&k| points[k].summary).collect();
    runner.judge_ringing::<Error>(&params, &currents, &ys, settings, &mut runs)?;
    for (&k, r) in ringing.iter().zip(runs) {
        points[k].summary.damped = r.damped;
    }
    Ok(())
}

/// Repetitive firing: at least two spikes in the counting window, still going at its end.
fn fires(s: &NeuronSummary) -> bool {
    s.fires()
}

/// The spikes a run counts as firing, for the dt/2 check's sample: 0 for a train that stopped.
fn firing_count(s: &NeuronSummary) -> u32 {
    if s.fires() { s.n_spikes } else { 0 }
}

/// The f-I analysis over `currents` (ascending) for `directions`.
///
/// `cycle_states` makes `(current, state)` pairs on stable cycles (from the bifurcation
/// diagram; it runs alongside the `rest` sweep); when it gives any, `down` (and `up` where rest
/// is gone) start on the stable cycle at the nearest current, which puts them in the cycle's
/// basin even where rest is stable too.
pub fn fi_curve(
    model: &ConductanceModel,
    currents: &[f64],
    directions: &[Direction],
    settings: &BatchSettings,
    tol: f64,
    cycle_states: impl FnOnce() -> Vec<(f64, Vec<f64>)> + Send,
) -> Result<FiCurve, Error> {
    fi_curve_with(
        model,
        currents,
        directions,
        settings,
        tol,
        cycle_states,
        &Silent,
    )
}

/// [`fi_curve`] reporting the neurons run to `observer` (task `f-I runs`, as each lane block
/// finishes) and stopping with [`crate::progress::Cancelled`] when it says so.
pub fn fi_curve_with(
    model: &ConductanceModel,
    currents: &[f64],
    directions: &[Direction],
    settings: &BatchSettings,
    tol: f64,
    cycle_states: impl FnOnce() -> Vec<(f64, Vec<f64>)> + Send,
    observer: &dyn Observer,
) -> Result<FiCurve, Error> {
    check_grid(currents)?;
    let tracker = Tracker::new(observer, "f-I runs", None);
    let whole = Model::Conductance(model.clone());
    let rest0 = whole.rest(0.0)?.state;
    let run = |c: &[f64], y: &[Vec<f64>]| run_unique(model, c, y, settings, &tracker);
    let engine = Engine {
        model: &whole,
        field: Some(Field::Conductance(model.clone())),
        rest0,
        run: &run,
        always_fallback: true,
        name: format!(
            "{} on the batch kernel, identical runs done once",
            settings.scheme.describe()
        ),
        integrator: settings.scheme.describe_with_order(),
        block: Runner::Kernel(model).block_lanes(),
    };
    let (mut curve, starts) = sweep(engine, currents, directions, settings, tol, cycle_states)?;
    judge_ringing(&Runner::Kernel(model), &mut curve.points, &starts, settings)?;
    curve.accuracy = accuracy(model, &curve.points, settings, |p| {
        Ok(starts.at(p.direction, p.current))
    })?;
    let fine = BatchSettings {
        dt: settings.dt / 2.0,
        ..*settings
    };
    let run_fine = |c: &[f64], y: &[Vec<f64>]| run_unique(model, c, y, &fine, &tracker);
    curve.rheobase_error = rheobase_error(
        &run_fine,
        &starts.rest0,
        curve.rheobase,
        currents,
        tol,
        Runner::Kernel(model).block_lanes(),
        settings.scheme.order(),
    );
    Ok(curve)
}

/// [`FiCurve::rheobase_error`]: the rheobase of the runs of `run_fine` (the same runs at
/// dt/2) from `rest0`, bracketed within one grid step of `rheobase` and narrowed to `tol` by
/// multisection as [`analyse`] does, against `rheobase`, for a method of `order`. NaN when
/// the dt/2 runs do not bracket it there or fail.
fn rheobase_error(
    run_fine: &RunFn,
    rest0: &[f64],
    rheobase: f64,
    currents: &[f64],
    tol: f64,
    block: usize,
    order: i32,
) -> f64 {
    if !rheobase.is_finite() || currents.len() < 2 {
        return f64::NAN;
    }
    let step = currents
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let spikes = |s: &NeuronSummary| !s.first_spike_ms.is_nan();
    let (mut a, mut b) = (rheobase - step, rheobase + step);
    let ends = run_fine(&[a, b], &[rest0.to_vec(), rest0.to_vec()]);
    match ends {
        Ok(r) if !spikes(&r[0]) && spikes(&r[1]) => {}
        _ => return f64::NAN,
    }
    let m = (block * rayon::current_num_threads()).max(1);
    while still_open(a, b, tol) {
        let probe: Vec<f64> = inside(a, b, m).collect();
        let Ok(r) = run_fine(&probe, &vec![rest0.to_vec(); m]) else {
            return f64::NAN;
        };
        (a, b) = narrowed(a, b, &probe, r.iter().position(spikes));
    }
    super::accuracy::richardson_factor(order) * (0.5 * (a + b) - rheobase).abs()
}

/// The f-I analysis of a model the batch kernel cannot run: leaky integrate-and-fire (a hybrid
/// model with reset) and XPPAUT `.ode` models. An `.ode` model runs RK4 on lanes
/// ([`crate::simulate::ode_lanes`]: its equations compiled for blocks of neurons, which also
/// gives the voltage extrema and maxima), or, where its equations do not compile for lanes
/// (said in a note), on the general simulator one neuron at a time; LIF runs on the general
/// simulator (its exact flow with exact threshold times). Runs go in parallel, with the same
/// grid, brackets and multisection as [`fi_curve`], identical runs done once. An `.ode` model
/// gets `up` and `down` starts as [`fi_curve`] defines them (its stable equilibria from one
/// continuation, `cycle_states` from the bifurcation diagram, run alongside the rest sweep);
/// LIF, without bistability, runs `rest` only (other requests are noted). An `.ode` model gets the dt/2 check too (`super::accuracy::compare`, RK4 being
/// fourth order); LIF none: its flow is exact.
pub fn fi_curve_general(
    model: &Model,
    currents: &[f64],
    directions: &[Direction],
    settings: &BatchSettings,
    tol: f64,
    cycle_states: impl FnOnce() -> Vec<(f64, Vec<f64>)> + Send,
) -> Result<FiCurve, Error> {
    fi_curve_general_with(
        model,
        currents,
        directions,
        settings,
        tol,
        cycle_states,
        &Silent,
    )
}

/// [`fi_curve_general`] reporting each run to `observer` (task `f-I runs`) and stopping with
/// [`crate::progress::Cancelled`] when it says so.
pub fn fi_curve_general_with(
    model: &Model,
    currents: &[f64],
    directions: &[Direction],
    settings: &BatchSettings,
    tol: f64,
    cycle_states: impl FnOnce() -> Vec<(f64, Vec<f64>)> + Send,
    observer: &dyn Observer,
) -> Result<FiCurve, Error> {
    check_grid(currents)?;
    let tracker = Tracker::new(observer, "f-I runs", None);
    let rest0 = model.sweep_start()?;
    // An `.ode` model runs on lanes where its equations compile for them; otherwise (and
    // LIF) one neuron at a time.
    let runner = Runner::of(model);
    let notes = runner.notes(settings);
    let params = [model.params().values()];
    let progress = |n: usize| -> Result<(), Error> { Ok(tracker.neurons(n)?) };
    // A run that blows up is the simulator's error, naming the time and state; in the dt/2
    // check it is flagged instead, and fails the check, not the curve.
    let simulate_all = |c: &[f64], y: &[Vec<f64>], s: &BatchSettings, blow_ups: BlowUps| {
        runner.run(&params, c, y, s, blow_ups, &progress)
    };
    let run = |c: &[f64], y: &[Vec<f64>]| -> Result<Vec<NeuronSummary>, Error> {
        once_each(c, y, |c, y| simulate_all(c, y, settings, BlowUps::Fail))
    };
    let engine = Engine {
        model,
        // Up and down need a smooth autonomous model: its equilibria and cycles.
        field: Field::of(model).ok(),
        rest0,
        run: &run,
        always_fallback: false,
        name: format!("{}, identical runs done once", runner.name(settings)),
        integrator: runner.describe_with_order(settings),
        block: runner.block_lanes(),
    };
    let (mut curve, starts) = sweep(engine, currents, directions, settings, tol, cycle_states)?;
    judge_ringing(&runner, &mut curve.points, &starts, settings)?;
    curve.notes.extend(notes);
    curve.flow_exact = matches!(model, Model::Lif(_));
    if matches!(model, Model::Ode(_)) {
        // The dt/2 check on a sample of the firing points, each from its own start.
        let counts: Vec<u32> = curve
            .points
            .iter()
            .map(|p| firing_count(&p.summary))
            .collect();
        let probes: Vec<&FiPoint> = super::accuracy::sample(&counts)
            .into_iter()
            .map(|k| &curve.points[k])
            .collect();
        let fine = BatchSettings {
            dt: settings.dt / 2.0,
            ..*settings
        };
        let probe_currents: Vec<f64> = probes.iter().map(|p| p.current).collect();
        let probe_starts: Vec<Vec<f64>> = probes
            .iter()
            .map(|p| starts.at(p.direction, p.current))
            .collect();
        // A dt/2 run that blows up is flagged: it fails the check, not the curve.
        let refined = simulate_all(&probe_currents, &probe_starts, &fine, BlowUps::Flag)?;
        let coarse: Vec<(f64, NeuronSummary)> =
            probes.iter().map(|p| (p.current, p.summary)).collect();
        curve.accuracy = super::accuracy::compare(&coarse, &refined, runner.order(settings));
        let run_fine = |c: &[f64], y: &[Vec<f64>]| -> Result<Vec<NeuronSummary>, Error> {
            once_each(c, y, |c, y| simulate_all(c, y, &fine, BlowUps::Fail))
        };
        curve.rheobase_error = rheobase_error(
            &run_fine,
            &starts.rest0,
            curve.rheobase,
            currents,
            tol,
            runner.block_lanes(),
            runner.order(settings),
        );
    }
    Ok(curve)
}

/// What the shared f-I driver ([`sweep`]) needs from an engine: how it runs neurons and where
/// its `rest` runs start.
struct Engine<'a> {
    /// The model, for the fallback `down` start and the notes.
    model: &'a Model,
    /// Its smooth autonomous vector field, for the `up` starts (its stable equilibria); `None`
    /// (LIF, a time-dependent `.ode` model): the analysis runs from rest only.
    field: Option<Field>,
    /// The state every `rest` run starts from.
    rest0: Vec<f64>,
    /// Simulates one neuron per (current, start).
    run: &'a RunFn<'a>,
    /// Find the fallback `down` start (and note when no grid current fires) even when only
    /// `rest` runs, as the batch engine always has; otherwise only when `up` or `down` runs.
    always_fallback: bool,
    /// What ran the neurons, for reports ([`FiCurve::engine`]).
    name: String,
    /// The integrator with its order ([`FiCurve::integrator`]).
    integrator: &'static str,
    /// The neurons one block of the path steps at once: each multisection round fills one
    /// block per core.
    block: usize,
}

/// The f-I method both engines share: the `rest` sweep (while `cycle_states` computes
/// alongside it), the starts of the other directions, and [`analyse`]. Returns the curve
/// (without the dt/2 check, `accuracy: None`) and the starts, for that check.
fn sweep(
    engine: Engine,
    currents: &[f64],
    directions: &[Direction],
    settings: &BatchSettings,
    tol: f64,
    cycle_states: impl FnOnce() -> Vec<(f64, Vec<f64>)> + Send,
) -> Result<(FiCurve, Starts), Error> {
    let Engine {
        model,
        field,
        rest0,
        run,
        always_fallback,
        name,
        integrator,
        block,
    } = engine;
    // The rest sweep needs nothing else, so it runs while `cycle_states` computes (the
    // bifurcation diagram, in the CLI): the two share the cores.
    let (rest_runs, cycle_states) = rayon::join(
        || run(currents, &vec![rest0.clone(); currents.len()]),
        cycle_states,
    );
    let rest_runs = rest_runs?;
    let mut notes = vec![];
    let dirs: Vec<Direction> = if field.is_some() {
        directions.to_vec()
    } else {
        if directions.iter().any(|&d| d != Direction::Rest) {
            notes.push(format!(
                "`{}` runs from rest only: up and down starts need a smooth model's equilibria and cycles",
                model.name()
            ));
        }
        vec![Direction::Rest]
    };
    // Without cycle states, `down` starts at the end of a run at the current where the rest
    // sweep fired most.
    let firing = down_fallback(
        model,
        (always_fallback || dirs.iter().any(|&d| d != Direction::Rest)) && cycle_states.is_empty(),
        currents,
        &rest_runs,
        &rest0,
        settings.dt,
        &mut notes,
    )?;
    let starts = Starts {
        stable: field
            .map(|f| StableBranch::new(f, &rest0, currents[0], currents[currents.len() - 1])),
        rest0,
        cycle_states,
        firing,
    };
    let window_ms = settings.t_max - settings.transient;
    let (points, onsets, rheobase) = analyse(
        currents,
        &dirs,
        window_ms,
        tol,
        run,
        &starts,
        rest_runs,
        &mut notes,
        model.units(),
        block,
    )?;
    let curve = FiCurve {
        points,
        rheobase,
        rheobase_error: f64::NAN,
        onsets,
        window_ms,
        accuracy: None,
        flow_exact: false,
        engine: name,
        integrator,
        notes,
    };
    Ok((curve, starts))
}

/// Where a run of each direction starts, at any current.
struct Starts {
    /// The state every `rest` run starts from.
    rest0: Vec<f64>,
    /// `(current, state)` pairs on stable cycles, from the bifurcation diagram.
    cycle_states: Vec<(f64, Vec<f64>)>,
    /// The fallback state on the firing cycle, when `cycle_states` is empty.
    firing: Vec<f64>,
    /// The stable equilibria, for `up` (`None` without a vector field).
    stable: Option<StableBranch>,
}

impl Starts {
    /// The initial state of a run of direction `d` at current `i` (uA/cm^2): rest; the stable
    /// cycle at the nearest current (or the fallback); for `up`, the stable equilibrium while
    /// one exists, else the cycle.
    fn at(&self, d: Direction, i: f64) -> Vec<f64> {
        let on_cycle =
            || nearest_cycle_state(&self.cycle_states, i).unwrap_or_else(|| self.firing.clone());
        match d {
            Direction::Rest => self.rest0.clone(),
            Direction::Down => on_cycle(),
            Direction::Up => self
                .stable
                .as_ref()
                .and_then(|b| b.at(i))
                .unwrap_or_else(on_cycle),
        }
    }
}

/// Where `down` starts when the diagram gave no cycle states (`needed`): the end of a run at
/// the current whose rest run fired most, or rest (said in `notes`) if none fired
/// repetitively. Not needed: rest, unused.
fn down_fallback(
    model: &Model,
    needed: bool,
    currents: &[f64],
    rest_runs: &[NeuronSummary],
    rest0: &[f64],
    dt: f64,
    notes: &mut Vec<String>,
) -> Result<Vec<f64>, Error> {
    if !needed {
        return Ok(rest0.to_vec());
    }
    let most = rest_runs
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.n_spikes)
        .filter(|(_, s)| s.fires())
        .map(|(k, _)| currents[k]);
    match most {
        Some(i) => firing_state(model, i, rest0, dt),
        None => {
            notes.push(
                "**no current of the grid fires repetitively from rest, and no stable cycle was found to start `down` on: down starts from rest**, so firing that coexists with rest here is missed when its cycles are reached from outside the range only (Morris-Lecar's homoclinic variant over 36..39, whose stable cycles turn at a fold of cycles at 40.59); a range reaching where the model fires from rest finds them".into(),
            );
            Ok(rest0.to_vec())
        }
    }
}

/// The state on a stable cycle (from the bifurcation diagram) at the current nearest `i`.
fn nearest_cycle_state(cycle_states: &[(f64, Vec<f64>)], i: f64) -> Option<Vec<f64>> {
    cycle_states
        .iter()
        .min_by(|a, b| (a.0 - i).abs().total_cmp(&(b.0 - i).abs()))
        .map(|c| c.1.clone())
}

/// Simulates one neuron per (current, start) pair.
type RunFn<'a> = dyn Fn(&[f64], &[Vec<f64>]) -> Result<Vec<NeuronSummary>, Error> + Sync + 'a;

/// Runs at every grid current for each direction, brackets of the rheobase and of each
/// branch's onset and offset, refined by multisection: the method shared by every model kind.
/// `run` simulates one neuron per (current, start); `rest_runs` are the `rest` runs already
/// done over `currents`; `units` are the model's, for the error of a run that blew up;
/// `block` is the path's block of lanes, which each round fills once per core.
#[allow(clippy::too_many_arguments)]
fn analyse(
    currents: &[f64],
    directions: &[Direction],
    window_ms: f64,
    tol: f64,
    run: &RunFn,
    starts: &Starts,
    rest_runs: Vec<NeuronSummary>,
    notes: &mut Vec<String>,
    units: crate::model::Units,
    block: usize,
) -> Result<(Vec<FiPoint>, Vec<Onsets>, f64), Error> {
    // `up` and `down` in one batch, so every core is busy; identical (current, start)
    // problems (both on the cycle) run once.
    let others: Vec<Direction> = directions
        .iter()
        .copied()
        .filter(|&d| d != Direction::Rest)
        .collect();
    let mut all_currents = vec![];
    let mut all_starts = vec![];
    for &d in &others {
        for &i in currents {
            all_currents.push(i);
            all_starts.push(starts.at(d, i));
        }
    }
    let other_runs = if all_currents.is_empty() {
        vec![]
    } else {
        run(&all_currents, &all_starts)?
    };
    let runs_of = |d: Direction| -> Vec<NeuronSummary> {
        match others.iter().position(|&o| o == d) {
            None => rest_runs.clone(),
            Some(k) => other_runs[k * currents.len()..(k + 1) * currents.len()].to_vec(),
        }
    };
    let mut points = vec![];
    let mut jobs: Vec<Job> = vec![];
    for &d in directions {
        let runs = runs_of(d);
        if let Some(k) = runs.iter().position(|s| s.blew_up) {
            return Err(SimError::BlowUp {
                t: f64::NAN,
                time_unit: units.time,
                variable: "v".into(),
                value: f64::NAN,
                state: format!(
                    "{} start at I = {}",
                    d.name(),
                    crate::model::Quantity(currents[k], units.current)
                ),
            }
            .into());
        }
        // Onset: the first grid current that fires after one that does not; offset: the
        // first that stops after one that fires.
        let firing: Vec<bool> = runs.iter().map(fires).collect();
        if let Some(k) = (1..firing.len()).find(|&k| firing[k] && !firing[k - 1]) {
            jobs.push(Job {
                target: Target::Onset(d),
                a: currents[k - 1],
                b: currents[k],
            });
        } else if firing.first() == Some(&true) {
            notes.push(format!("{}: already firing at the first current", d.name()));
        }
        if let Some(k) = (1..firing.len()).find(|&k| !firing[k] && firing[k - 1]) {
            jobs.push(Job {
                target: Target::Offset(d),
                a: currents[k - 1],
                b: currents[k],
            });
        }
        points.extend(currents.iter().zip(&runs).map(|(&current, s)| FiPoint {
            current,
            direction: d,
            summary: *s,
        }));
    }
    // Where any sweep fires beside a stable rest (the points lie direction by direction,
    // each over the whole grid).
    let n = currents.len();
    let firing_any: Vec<bool> = (0..n)
        .map(|k| (0..directions.len()).any(|j| fires(&points[j * n + k].summary)))
        .collect();
    if let Some(note) = coexistence_note(currents, &firing_any, starts, units) {
        notes.push(note);
    }
    // Rheobase: the smallest step from rest giving any spike (from t = 0, not just after the
    // transient), bracketed by the rest sweep.
    let any_spike = |s: &NeuronSummary| !s.first_spike_ms.is_nan();
    match (1..rest_runs.len()).find(|&k| any_spike(&rest_runs[k]) && !any_spike(&rest_runs[k - 1]))
    {
        Some(k) => jobs.push(Job {
            target: Target::Rheobase,
            a: currents[k - 1],
            b: currents[k],
        }),
        None if rest_runs.iter().any(any_spike) => notes
            .push("rheobase: no spike-free current below the first spiking one in the grid".into()),
        None => notes.push("rheobase: no current of the grid gives a spike from rest".into()),
    }
    // Multisection, every bracket in the same batch per round, down to `tol` or to what f64
    // resolves at the bracket ([`still_open`]).
    let open = |j: &Job| still_open(j.a, j.b, tol);
    while jobs.iter().any(open) {
        let active: Vec<usize> = (0..jobs.len()).filter(|&k| open(&jobs[k])).collect();
        let m = (block * rayon::current_num_threads() / active.len()).max(1);
        let mut probe = vec![];
        let mut probe_starts = vec![];
        for &k in &active {
            let j = &jobs[k];
            for i in inside(j.a, j.b, m) {
                probe.push(i);
                probe_starts.push(match j.target {
                    Target::Rheobase => starts.at(Direction::Rest, i),
                    Target::Onset(d) | Target::Offset(d) => starts.at(d, i),
                });
            }
        }
        let r = run(&probe, &probe_starts)?;
        for (n, &k) in active.iter().enumerate() {
            let rs = &r[n * m..(n + 1) * m];
            let ps = &probe[n * m..(n + 1) * m];
            let hit = |s: &NeuronSummary| match jobs[k].target {
                Target::Rheobase => any_spike(s),
                Target::Onset(_) => fires(s),
                Target::Offset(_) => !fires(s),
            };
            (jobs[k].a, jobs[k].b) = narrowed(jobs[k].a, jobs[k].b, ps, rs.iter().position(hit));
        }
    }
    let found = |t: Target| {
        jobs.iter()
            .find(|j| j.target == t)
            .map(|j| 0.5 * (j.a + j.b))
            .unwrap_or(f64::NAN)
    };
    let onsets = directions
        .iter()
        .map(|&d| Onsets {
            direction: d,
            onset: found(Target::Onset(d)),
            offset: found(Target::Offset(d)),
            max_rate_hz: points
                .iter()
                .filter(|p| p.direction == d)
                .map(|p| p.summary.rate_hz(window_ms))
                .fold(0.0, f64::max),
            max_isi_rate_hz: points
                .iter()
                .filter(|p| p.direction == d && p.summary.fires())
                .map(|p| p.summary.isi_rate_hz())
                .fold(f64::NAN, f64::max),
        })
        .collect();
    Ok((points, onsets, found(Target::Rheobase)))
}

/// Whether the bracket `[a, b]` is still wider than `tol`, or than what f64 resolves there (a
/// few ulps): a `tol` below that (1e-15 at currents near 5) had the probes fall on the
/// bracket's ends, and the rounds never ended.
fn still_open(a: f64, b: f64, tol: f64) -> bool {
    b - a > tol.max(8.0 * f64::EPSILON * a.abs().max(b.abs()))
}

/// The `m` currents a multisection round probes inside `[a, b]`, evenly spaced.
fn inside(a: f64, b: f64, m: usize) -> impl Iterator<Item = f64> {
    (1..=m).map(move |q| a + (b - a) * q as f64 / (m + 1) as f64)
}

/// `[a, b]` narrowed to the probes `ps` around the first that hit (`first_hit`, if any): the
/// bracket's end `b` is always a hit, `a` never.
fn narrowed(a: f64, b: f64, ps: &[f64], first_hit: Option<usize>) -> (f64, f64) {
    match first_hit {
        Some(0) => (a, ps[0]),
        Some(q) => (ps[q - 1], ps[q]),
        None => (ps[ps.len() - 1], b),
    }
}

/// Refuse an empty grid, or one with a value that is not finite or not above the one before.
fn check_grid(currents: &[f64]) -> Result<(), Error> {
    if currents.is_empty()
        || currents.iter().any(|i| !i.is_finite())
        || currents.windows(2).any(|w| w[1] <= w[0])
    {
        return Err(SimError::BadSetting {
            what: "currents".into(),
            value: currents.len() as f64,
            allowed: "a non-empty ascending grid of finite currents".into(),
        }
        .into());
    }
    Ok(())
}

/// The dt/2 check ([`super::accuracy`]) on a sample of the firing points.
fn accuracy(
    model: &ConductanceModel,
    points: &[FiPoint],
    settings: &BatchSettings,
    start: impl Fn(&FiPoint) -> Result<Vec<f64>, Error>,
) -> Result<Option<Accuracy>, Error> {
    let counts: Vec<u32> = points.iter().map(|p| firing_count(&p.summary)).collect();
    let params = model.params.values();
    let probes = super::accuracy::sample(&counts)
        .into_iter()
        .map(|k| {
            let p = &points[k];
            Ok(Probe {
                params: params.clone(),
                current: p.current,
                start: start(p)?,
                at_dt: p.summary,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    half_step(model, &probes, settings)
}

/// The kernel's runs of `model` at `currents` from `starts` (blow-ups flagged: [`analyse`]
/// names a grid run that blew up), each distinct (current, start) once ([`once_each`]),
/// through the shared runner.
fn run_unique(
    model: &ConductanceModel,
    currents: &[f64],
    starts: &[Vec<f64>],
    settings: &BatchSettings,
    tracker: &Tracker,
) -> Result<Vec<NeuronSummary>, Error> {
    once_each(currents, starts, |uc, us| {
        let params = [model.params.values()];
        let progress = |n: usize| -> Result<(), Error> { Ok(tracker.neurons(n)?) };
        Runner::Kernel(model).run(&params, uc, us, settings, BlowUps::Flag, &progress)
    })
}

/// `run` on the distinct (current, start) pairs only, its results handed back to every pair:
/// the `rest`, `up` and `down` runs coincide wherever their starts do (below the onset `up`
/// starts at rest), and a run is deterministic, so each is done once.
fn once_each(
    currents: &[f64],
    starts: &[Vec<f64>],
    run: impl FnOnce(&[f64], &[Vec<f64>]) -> Result<Vec<NeuronSummary>, Error>,
) -> Result<Vec<NeuronSummary>, Error> {
    if currents.is_empty() {
        return Ok(vec![]);
    }
    let mut index = std::collections::HashMap::new();
    let (mut uc, mut us) = (vec![], vec![]);
    let map: Vec<usize> = currents
        .iter()
        .zip(starts)
        .map(|(&i, y)| {
            let key: Vec<u64> = std::iter::once(i.to_bits())
                .chain(y.iter().map(|v| v.to_bits()))
                .collect();
            *index.entry(key).or_insert_with(|| {
                uc.push(i);
                us.push(y.clone());
                uc.len() - 1
            })
        })
        .collect();
    let r = run(&uc, &us)?;
    Ok(map.into_iter().map(|k| r[k]).collect())
}

/// What a multisection bracket looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Rheobase,
    Onset(Direction),
    Offset(Direction),
}

/// A bracket `[a, b]` around a target.
#[derive(Debug, Clone, Copy)]
struct Job {
    target: Target,
    a: f64,
    b: f64,
}

/// The stable equilibria over the current range, from the continuation of the equilibrium
/// branch through the resting state: a stable state at any current is interpolated from the
/// branch and polished by Newton's method (far cheaper than a fresh equilibrium search per
/// current). A slow upward ramp stays on that branch while it is stable ([`StableBranch::at`],
/// the `up` start). The branches through the equilibria at the range's top are kept beside it
/// ([`StableBranch::rest_exists`]), for whether ringing can die away to rest: Morris-Lecar's
/// upper branch, stable past its Hopf point, lies behind an S whose second fold is below 0,
/// so the branch from rest never reaches it, and ringing that decayed to it in 45 time units
/// had been reported as oscillation past the fold of cycles.
struct StableBranch {
    fam: Option<crate::continuation::Family>,
    /// Pairs of neighbouring points, at least one of them stable, on the branch through rest.
    points: Vec<crate::continuation::equilibria::EqPoint>,
    /// The same on the branches through the equilibria at the range's top.
    elsewhere: Vec<crate::continuation::equilibria::EqPoint>,
}

impl StableBranch {
    fn new(field: Field, rest0: &[f64], lo: f64, hi: f64) -> StableBranch {
        use crate::continuation::{CURRENT, Family, Settings, equilibria};
        let at_top = crate::model::equilibria(&field, hi).unwrap_or_default();
        let Ok(fam) = Family::of_field(field, CURRENT, 0.0) else {
            return StableBranch {
                fam: None,
                points: vec![],
                elsewhere: vec![],
            };
        };
        // From rest at 0 in both directions, so the whole range is covered.
        let span = (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0);
        let stable_pairs = |state: &[f64], at: f64, up: bool| {
            equilibria::continue_branch(&fam, state, at, span, up, &Settings::default())
                .map(|b| {
                    (b.points.windows(2))
                        .filter(|w| w[0].stable() || w[1].stable())
                        .flat_map(|w| [w[0].clone(), w[1].clone()])
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let points = [true, false]
            .into_iter()
            .flat_map(|up| stable_pairs(rest0, 0.0, up))
            .collect();
        let elsewhere = (at_top.iter())
            .flat_map(|e| stable_pairs(&e.state, hi, false))
            .collect();
        StableBranch {
            fam: Some(fam),
            points,
            elsewhere,
        }
    }

    /// Whether any stable equilibrium exists at current `i`: on the branch through rest or on
    /// one through an equilibrium at the range's top.
    /// Every pair that brackets `i` is tried: a pair straddling a Hopf point or a fold, whose
    /// equilibrium at `i` is unstable, does not hide a stable one on another pair.
    fn rest_exists(&self, i: f64) -> bool {
        (self.points.chunks(2).chain(self.elsewhere.chunks(2))).any(|seg| self.on(seg, i).is_some())
    }

    /// The stable equilibrium at current `i` on this branch, if there is one.
    /// (The first pair of the branch through rest that brackets `i`: where a slow ramp is.)
    fn at(&self, i: f64) -> Option<Vec<f64>> {
        let seg = (self.points.chunks(2)).find(|w| Self::brackets(w, i))?;
        self.on(seg, i)
    }

    fn brackets(seg: &[crate::continuation::equilibria::EqPoint], i: f64) -> bool {
        seg.len() == 2 && (seg[0].lambda - i) * (seg[1].lambda - i) <= 0.0
    }

    /// The stable equilibrium at current `i` from the pair `seg`, if it brackets `i` and
    /// Newton's method from between them finds a stable one.
    fn on(&self, seg: &[crate::continuation::equilibria::EqPoint], i: f64) -> Option<Vec<f64>> {
        use crate::numerics::newton::newton;
        use nalgebra::{DMatrix, DVector};
        let fam = self.fam.as_ref()?;
        let n = fam.dim();
        if !Self::brackets(seg, i) {
            return None;
        }
        let t = if seg[1].lambda != seg[0].lambda {
            (i - seg[0].lambda) / (seg[1].lambda - seg[0].lambda)
        } else {
            0.0
        };
        let guess = DVector::from_iterator(
            n,
            (0..n).map(|k| seg[0].state[k] + t * (seg[1].state[k] - seg[0].state[k])),
        );
        let (y, _) = newton(
            |y| {
                let (j, f) = fam.jacobian_full(y.as_slice(), i);
                (f, DMatrix::from(j.columns(0, n)))
            },
            guess,
            1e-13,
            20,
        )
        .ok()?;
        let stable = fam
            .jacobian(y.as_slice(), i)
            .complex_eigenvalues()
            .iter()
            .all(|z| z.re < 0.0);
        stable.then(|| y.as_slice().to_vec())
    }
}

/// The grid currents where a sweep fires while a stable equilibrium also exists: firing and
/// rest coexist there, and a cell shows one or the other by its history. Where that rest is
/// on the branch through rest at 0 (`hh` from 6.26 to 9.78), the `up` sweep shows it; where it
/// lies on another branch (Morris-Lecar's SNIC set from 97.8 to 116.1, its upper equilibrium
/// stable past a subcritical Hopf point, beside cycles that end at a fold), no sweep starts
/// there, and every sweep fired without the summary saying rest was stable too.
fn coexistence_note(
    currents: &[f64],
    firing: &[bool],
    starts: &Starts,
    units: crate::model::Units,
) -> Option<String> {
    let stable = starts.stable.as_ref()?;
    let both: Vec<bool> = (currents.iter().zip(firing))
        .map(|(&i, &f)| f && stable.rest_exists(i))
        .collect();
    let q = |i: f64| crate::model::Quantity(i, units.current).to_string();
    let mut ranges = vec![];
    let mut k = 0;
    while k < both.len() {
        if !both[k] {
            k += 1;
            continue;
        }
        let first = k;
        while k + 1 < both.len() && both[k + 1] {
            k += 1;
        }
        let span = if first == k {
            q(currents[k])
        } else {
            format!("{} to {}", q(currents[first]), q(currents[k]))
        };
        let shown = if stable.at(currents[first]).is_some() {
            "the `up` sweep shows the rest"
        } else {
            "no sweep here starts at that rest, which a slow ramp down from a quiet current above would keep"
        };
        ranges.push(format!("{span} ({shown})"));
        k += 1;
    }
    (!ranges.is_empty()).then(|| {
        format!(
            "**firing and a stable rest coexist** at the grid currents {}: a sweep fires there while a stable equilibrium exists, so a cell shows one or the other by its history",
            ranges.join("; ")
        )
    })
}

/// The state at the end of a 300 ms run at current `i` from `y0` (the sweep method, see
/// [`crate::simulate::Method::for_sweeps`]): a point on (or very near) the firing cycle.
fn firing_state(model: &Model, i: f64, y0: &[f64], dt: f64) -> Result<Vec<f64>, Error> {
    use crate::simulate::{self, Method, Record, Settings};
    use crate::stimulus::Stimulus;
    let s = Settings {
        t_max: 300.0,
        dt,
        method: Method::for_sweeps(model),
        record: Record::SpikesOnly,
        threshold_mv: model.threshold_mv(),
    };
    Ok(simulate::run(model, &Stimulus::constant(i), y0, &s)?.final_state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value is checked, the last included, and the order too.
    #[test]
    fn the_grid_check_sees_every_value_and_the_order() {
        assert!(check_grid(&[0.0, 0.5, 1.0]).is_ok());
        assert!(check_grid(&[2.0]).is_ok());
        for bad in [
            vec![],
            vec![f64::NAN],
            vec![f64::INFINITY],
            vec![0.0, 1.0, f64::NAN],
            vec![0.0, 1.0, f64::INFINITY],
            vec![f64::NEG_INFINITY, 0.0],
            vec![0.0, 1.0, 1.0],
            vec![0.0, 2.0, 1.0],
        ] {
            assert!(check_grid(&bad).is_err(), "{bad:?}");
        }
    }
}
