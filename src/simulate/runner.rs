//! What runs many neurons of one model at constant currents, each with its own current, start
//! and parameter values, keeping only their summaries: the batch kernel for a
//! conductance-based model, an `.ode` model's equations compiled for lanes, or the general
//! simulator one neuron at a time (an `.ode` model whose equations do not compile for lanes,
//! and LIF). `sweep` and `fi` run every model through it (`fi` each distinct (current, start)
//! once), so the two pick the path and treat a blow-up the same way. (`fi` on a conductance
//! model keeps its own engine line, "… on the batch kernel, identical runs done once".)

use super::batch::{
    BatchScheme, BatchSettings, NeuronSummary, Precision, check_rows, one_or_each,
    run_batch_params_until,
};
use super::ode_lanes::{Neurons, run_ode_lanes};
use super::oscillation::shrinks_to_nothing;
use super::{Method, Record, Settings};
use crate::error::{ModelError, SimError};
use crate::model::ode::OdeModel;
use crate::model::ode::lanes::LaneProgram;
use crate::model::{ConductanceModel, Model, Quantity, Units};
use crate::progress::Cancelled;
use crate::stimulus::Stimulus;
use rayon::prelude::*;
use std::sync::Mutex;

/// The path a model's neurons run on.
#[derive(Debug)]
pub enum Runner<'a> {
    /// A conductance-based model on the batch kernel (the settings' scheme and precision).
    Kernel(&'a ConductanceModel),
    /// An `.ode` model's equations compiled for blocks of lanes, RK4 or exponential Euler
    /// ([`BatchSettings::ode_method`]).
    Lanes(&'a OdeModel, LaneProgram),
    /// One neuron at a time on the general simulator: RK4 for an `.ode` model whose equations
    /// do not compile for lanes (the reason), exponential Euler (LIF's exact flow) for LIF
    /// (`None`: never on lanes).
    General(&'a Model, Option<&'static str>),
}

/// The integrator a [`Runner`] runs with given settings.
#[derive(Debug, Clone, Copy)]
enum Integrator {
    /// The batch kernel's scheme, in the settings' precision.
    Kernel(BatchScheme, Precision),
    /// Exponential Euler on lanes, `df/dx` from the diagonal pass.
    LanesExpEuler,
    /// RK4 on lanes.
    LanesRk4,
    /// LIF's exact flow on the general simulator.
    LifFlow,
    /// RK4 on the general simulator, one neuron at a time.
    GeneralRk4,
}

/// What a run does with a neuron that blows up (|V| past [`crate::model::V_LIMIT`], or a state
/// that stops being finite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlowUps {
    /// Flag it in its summary (`blew_up`) and go on: a sweep's bad corner, a dt/2 check.
    Flag,
    /// Stop with the error, naming the time and the state where the path knows them (lanes
    /// and the general simulator), the current otherwise (the kernel keeps no state).
    Fail,
}

impl<'a> Runner<'a> {
    /// The model's parameter values (definition order), as [`Runner::run`] takes one set.
    pub fn param_values(&self) -> Vec<f64> {
        match self {
            Runner::Kernel(m) => m.params.values(),
            Runner::Lanes(m, _) => m.params.values(),
            Runner::General(m, _) => m.params().values(),
        }
    }

    /// The fastest path that runs `model`.
    pub fn of(model: &'a Model) -> Runner<'a> {
        match model {
            Model::Conductance(m) => Runner::Kernel(m),
            Model::Ode(m) => match LaneProgram::new(m) {
                Ok(program) => Runner::Lanes(m, program),
                Err(why) => Runner::General(model, Some(why)),
            },
            Model::Lif(_) => Runner::General(model, None),
        }
    }

    /// How many neurons one block of this path steps at once, so that a batch of that many
    /// costs what one neuron costs: the kernel's [`crate::simulate::batch::LANES`] (16), the
    /// lanes' [`crate::model::ode::lanes::LANES`] (32). The general simulator has no block (a
    /// neuron per task); it answers the kernel's 16, so its callers cut their batches as they
    /// always have (`fi`'s multisection rounds, whose onsets would move within `--tol` with
    /// another cut).
    pub fn block_lanes(&self) -> usize {
        match self {
            Runner::Lanes(..) => crate::model::ode::lanes::LANES,
            Runner::Kernel(_) | Runner::General(..) => crate::simulate::batch::LANES,
        }
    }

    /// What integrates the neurons with `settings`: the one place the path and the settings
    /// decide it, for [`Runner::name`], [`Runner::describe_with_order`] and [`Runner::order`].
    fn integrator(&self, settings: &BatchSettings) -> Integrator {
        match self {
            Runner::Kernel(_) => Integrator::Kernel(settings.scheme, settings.precision),
            Runner::Lanes(..) if settings.ode_method == Method::ExpEuler => {
                Integrator::LanesExpEuler
            }
            Runner::Lanes(..) => Integrator::LanesRk4,
            Runner::General(Model::Lif(_), _) => Integrator::LifFlow,
            Runner::General(..) => Integrator::GeneralRk4,
        }
    }

    /// What integrates the neurons, for reports.
    pub fn name(&self, settings: &BatchSettings) -> String {
        match self.integrator(settings) {
            Integrator::Kernel(scheme, precision) => format!(
                "{}{}, batch kernel",
                scheme.describe(),
                match precision {
                    Precision::Mixed => ", exponentials in f32",
                    Precision::F64 => "",
                }
            ),
            Integrator::LanesExpEuler => {
                "exponential Euler on lanes (the `.ode` equations compiled for blocks of neurons, each variable stepped exactly for the others frozen)".into()
            }
            Integrator::LanesRk4 => {
                "RK4 on lanes (the `.ode` equations compiled for blocks of neurons)".into()
            }
            Integrator::LifFlow => {
                "exponential Euler on the general simulator (for LIF the exact flow)".into()
            }
            Integrator::GeneralRk4 => "RK4 on the general simulator, one neuron at a time".into(),
        }
    }

    /// The integrator with its order, for a sentence on its error: what runs, whatever the
    /// settings asked for.
    pub fn describe_with_order(&self, settings: &BatchSettings) -> &'static str {
        match self.integrator(settings) {
            Integrator::Kernel(scheme, _) => scheme.describe_with_order(),
            Integrator::LanesExpEuler => "exponential Euler (first order)",
            Integrator::LifFlow => "LIF's exact flow",
            Integrator::LanesRk4 | Integrator::GeneralRk4 => "RK4 (fourth order)",
        }
    }

    /// The order of the integrator, for the dt/2 check's Richardson factor (LIF's flow is
    /// exact: no check runs on it).
    pub fn order(&self, settings: &BatchSettings) -> i32 {
        match self.integrator(settings) {
            Integrator::Kernel(scheme, _) => scheme.order(),
            Integrator::LanesExpEuler => 1,
            Integrator::LanesRk4 | Integrator::GeneralRk4 | Integrator::LifFlow => 4,
        }
    }

    /// Notes for reports: settings not used, and why an `.ode` model is not on lanes.
    pub fn notes(&self, settings: &BatchSettings) -> Vec<String> {
        let mut notes = vec![];
        // What runs instead of the kernel's scheme, and whether the settings asked for more
        // than it: a scheme or precision other than the defaults, or exponential Euler on an
        // `.ode` model that runs RK4 (one not on lanes).
        let asked =
            (settings.scheme, settings.precision) != (BatchScheme::default(), Precision::default());
        let name = match self {
            Runner::Kernel(_) => "",
            Runner::Lanes(m, _) => m.name.as_str(),
            Runner::General(m, _) => m.name(),
        };
        let instead = match self.integrator(settings) {
            Integrator::Kernel(..) => None,
            Integrator::LanesExpEuler => Some(("exponential Euler in f64", asked)),
            Integrator::LanesRk4 => Some(("RK4 in f64", asked)),
            Integrator::LifFlow => Some(("its exact flow", asked)),
            Integrator::GeneralRk4 => {
                Some(("RK4 in f64", asked || settings.ode_method != Method::Rk4))
            }
        };
        if let Some((what, true)) = instead {
            notes.push(format!(
                "`method` and `precision` choose the batch kernel's integrator of conductance models (and exponential Euler that of an `.ode` model on lanes); `{name}` runs {what} instead"
            ));
        }
        if let Runner::General(m, Some(why)) = self {
            notes.push(format!(
                "`{}` runs one neuron at a time on the general simulator (not on lanes): it has {why}",
                m.name()
            ));
        }
        notes
    }

    /// Run one neuron per entry of `currents` (constant, added to the model's current), each
    /// with its parameter values (`params`: one set for all, or one each, in
    /// [`crate::model::ParamSet`] order) and start (`starts`: one for all, or one each), for
    /// `settings`' duration, step, transient and threshold. `progress` hears the count of
    /// neurons done after each block (lanes and the general simulator also call it with 0
    /// before a block, only to ask whether to stop); an error from it stops the run with that
    /// error. A blow-up is flagged or fails the run (`blow_ups`); the kernel keeps no time or
    /// state of a blow-up, so its error names the current only.
    ///
    /// A spike train that stops well before the window ends is marked `stopped`
    /// ([`NeuronSummary::mark_stopped`]). Maxima counted without a spike are judged by
    /// [`Runner::judge_ringing`], which the callers run on the runs they report (not on a
    /// bisection's probes, whose oscillations nobody reads).
    pub fn run<E>(
        &self,
        params: &[Vec<f64>],
        currents: &[f64],
        starts: &[Vec<f64>],
        settings: &BatchSettings,
        blow_ups: BlowUps,
        progress: &(dyn Fn(usize) -> Result<(), E> + Sync),
    ) -> Result<Vec<NeuronSummary>, E>
    where
        E: From<SimError> + From<ModelError> + From<Cancelled> + Send,
    {
        let mut runs = self.run_on_path(params, currents, starts, settings, blow_ups, progress)?;
        for r in &mut runs {
            r.mark_stopped(settings.transient, settings.t_max);
        }
        Ok(runs)
    }

    /// Re-judge the oscillations the batch kernel and the lanes report without a spike, by
    /// `max-rate`'s rules ([`crate::simulate::oscillation`]). They count V's maxima without a
    /// trace, so a focus ringing down to rest after a supercritical Hopf point counted as an
    /// oscillation (hh at 156 uA/cm^2, 1.6 above its upper Hopf point: 168 Hz, its swing
    /// halving every 100 ms; `max-rate` gave none). Such neurons run again on the same path,
    /// counting from a third and from two thirds into the window: with the whole window's,
    /// the swings over those tails are the ringing's amplitude at three equally spaced times.
    /// Ringing whose swing over the last third is under half the window's, or whose three
    /// swings shrink geometrically towards nothing ([`shrinks_to_nothing`]), is marked
    /// `damped`. (Two batched reruns of such neurons: re-running them one at a time on the
    /// general simulator with a trace had made `fi --model hh` 7 times slower.) A rerun that
    /// blows up leaves the count as it was.
    /// `runs` are the runs of `params`, `currents` and `starts`, as [`Runner::run`] takes them.
    pub fn judge_ringing<E>(
        &self,
        params: &[Vec<f64>],
        currents: &[f64],
        starts: &[Vec<f64>],
        settings: &BatchSettings,
        runs: &mut [NeuronSummary],
    ) -> Result<(), E>
    where
        E: From<SimError> + From<ModelError> + From<Cancelled> + Send,
    {
        if matches!(self, Runner::General(..)) {
            // The general simulator counts no maxima.
            return Ok(());
        }
        let ringing: Vec<usize> = (0..runs.len())
            .filter(|&k| runs[k].oscillates_without_spikes())
            .collect();
        if ringing.is_empty() {
            return Ok(());
        }
        let pick = |rows: &[Vec<f64>]| -> Vec<Vec<f64>> {
            if rows.len() == 1 {
                rows.to_vec()
            } else {
                ringing.iter().map(|&k| rows[k].clone()).collect()
            }
        };
        let (params, starts) = (pick(params), pick(starts));
        let currents: Vec<f64> = ringing.iter().map(|&k| currents[k]).collect();
        let window = settings.t_max - settings.transient;
        let mut swings = vec![[f64::NAN; 2]; ringing.len()];
        for (q, from) in [1.0 / 3.0, 2.0 / 3.0].into_iter().enumerate() {
            let tail = BatchSettings {
                transient: settings.transient + from * window,
                ..*settings
            };
            let quiet = |_: usize| Ok::<(), E>(());
            let tails =
                self.run_on_path(&params, &currents, &starts, &tail, BlowUps::Flag, &quiet)?;
            for (s, r) in swings.iter_mut().zip(&tails) {
                s[q] = if r.blew_up {
                    f64::NAN
                } else {
                    r.v_max - r.v_min
                };
            }
        }
        for (&k, [a1, a2]) in ringing.iter().zip(swings) {
            let whole = runs[k].v_max - runs[k].v_min;
            runs[k].damped = a2 < 0.5 * whole || shrinks_to_nothing(whole, a1, a2);
        }
        Ok(())
    }

    /// [`Runner::run`]'s runs on this path, before they are judged as a whole.
    fn run_on_path<E>(
        &self,
        params: &[Vec<f64>],
        currents: &[f64],
        starts: &[Vec<f64>],
        settings: &BatchSettings,
        blow_ups: BlowUps,
        progress: &(dyn Fn(usize) -> Result<(), E> + Sync),
    ) -> Result<Vec<NeuronSummary>, E>
    where
        E: From<SimError> + From<ModelError> + From<Cancelled> + Send,
    {
        if currents.is_empty() {
            return Ok(vec![]);
        }
        let general = Settings {
            t_max: settings.t_max,
            dt: settings.dt,
            method: match self {
                Runner::General(m, _) => Method::for_sweeps(m),
                Runner::Lanes(..) => settings.ode_method,
                Runner::Kernel(_) => Method::Rk4,
            },
            record: Record::SpikesOnly,
            threshold_mv: settings.threshold_mv,
        };
        match self {
            Runner::Kernel(m) => {
                // The kernel asks `done` whether to go on; the first error it heard is the
                // run's.
                let stop: Mutex<Option<E>> = Mutex::new(None);
                let done = |n: usize| match progress(n) {
                    Ok(()) => true,
                    Err(e) => {
                        if let Ok(mut first) = stop.lock() {
                            first.get_or_insert(e);
                        }
                        false
                    }
                };
                let runs = run_batch_params_until(m, params, currents, starts, settings, &done)?;
                let Some(runs) = runs else {
                    // `done` said stop after keeping the error it heard.
                    let heard = stop.into_inner().ok().flatten();
                    return Err(heard.unwrap_or_else(|| Cancelled.into()));
                };
                if blow_ups == BlowUps::Fail
                    && let Some(k) = runs.iter().position(|s| s.blew_up)
                {
                    return Err(SimError::BlowUp {
                        t: f64::NAN,
                        time_unit: Units::NEURON.time,
                        variable: "v".into(),
                        value: f64::NAN,
                        state: format!(
                            "the neuron at I = {}",
                            Quantity(currents[k], Units::NEURON.current)
                        ),
                    }
                    .into());
                }
                Ok(runs)
            }
            Runner::Lanes(m, program) => {
                let neurons = Neurons {
                    params,
                    currents,
                    starts,
                };
                let runs =
                    run_ode_lanes(m, program, &neurons, &general, settings.transient, progress)?;
                if blow_ups == BlowUps::Fail {
                    for (run, summary) in &runs {
                        if summary.blew_up {
                            let t = run.steps as f64 * settings.dt;
                            super::check_state(&m.vars, t, &run.final_state)
                                .map_err(|e| e.with_time_unit(m.units.time))?;
                        }
                    }
                }
                Ok(runs.into_iter().map(|(_, summary)| summary).collect())
            }
            Runner::General(model, _) => {
                check_rows(
                    "start state",
                    starts,
                    model.var_names().len(),
                    currents.len(),
                )?;
                check_rows(
                    "parameter set",
                    params,
                    model.params().len(),
                    currents.len(),
                )?;
                currents
                    .par_iter()
                    .enumerate()
                    .map(|(k, &i)| {
                        progress(0)?;
                        let values = one_or_each(params, k);
                        let own;
                        let model = if values == &model.params().values() {
                            *model
                        } else {
                            own = model.with_param_values(values)?;
                            &own
                        };
                        let run = super::run(
                            model,
                            &Stimulus::constant(i),
                            one_or_each(starts, k).as_slice(),
                            &general,
                        );
                        let summary = match run {
                            Ok(r) => {
                                let v = r.final_state.first().copied().unwrap_or(f64::NAN);
                                NeuronSummary::from_spikes(&r.spikes_ms, settings.transient, v)
                            }
                            // The general simulator stops at a blow-up: flagged as the lanes
                            // flag it, its final V unknown here (NaN).
                            Err(SimError::BlowUp { .. }) if blow_ups == BlowUps::Flag => {
                                NeuronSummary {
                                    blew_up: true,
                                    ..NeuronSummary::from_spikes(&[], settings.transient, f64::NAN)
                                }
                            }
                            Err(e) => return Err(e.into()),
                        };
                        progress(1)?;
                        Ok(summary)
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;
    use crate::simulate::batch::{BatchScheme, Precision};

    /// What a caller's error type holds: the runner's three, and one of the observer's own.
    #[derive(Debug, thiserror::Error)]
    enum CallerError {
        #[error(transparent)]
        Sim(#[from] SimError),
        #[error(transparent)]
        Model(#[from] ModelError),
        #[error(transparent)]
        Cancelled(#[from] Cancelled),
        #[error("the observer gave up")]
        Observer,
    }

    fn settings() -> BatchSettings {
        BatchSettings {
            t_max: 50.0,
            dt: 0.01,
            transient: 0.0,
            threshold_mv: 0.0,
            scheme: BatchScheme::ExpEuler,
            precision: Precision::F64,
            ode_method: crate::simulate::Method::Rk4,
        }
    }

    /// `fi`'s multisection fills one block per core with each round's probes, so each path
    /// names the block it steps: 32 lanes for an `.ode` model on lanes, 16 on the kernel, and
    /// the kernel's cut for the general simulator.
    #[test]
    fn each_path_names_the_block_it_steps() {
        let hh = Model::Conductance(builtin::hh());
        assert_eq!(Runner::of(&hh).block_lanes(), 16);
        let text = include_str!("../../studies/models/hh.ode");
        let ode = Model::Ode(OdeModel::parse(text, "hh.ode", "hh").unwrap());
        assert!(matches!(Runner::of(&ode), Runner::Lanes(..)));
        assert_eq!(Runner::of(&ode).block_lanes(), 32);
        // Global flags keep a model off lanes.
        let flagged = "par i=0\ndv/dt=i-v\nglobal 1 v-1 {v=0}\ninit v=0\ndone\n";
        let general = Model::Ode(OdeModel::parse(flagged, "f.ode", "f").unwrap());
        assert!(matches!(Runner::of(&general), Runner::General(..)));
        assert_eq!(Runner::of(&general).block_lanes(), 16);
    }

    /// `hh` past its upper Hopf point (154.52 uA/cm^2) rests on a focus: from its rest at 0
    /// the step to 156 or 157 rings down (the swing halving about every 100 ms), which the
    /// kernel counts as maxima; the runner's judgement drops it. Below the
    /// Hopf point (150) the small cycle is stable and keeps its frequency (166 Hz), as the
    /// same kernel counts it.
    #[test]
    fn ringing_down_to_rest_is_no_oscillation_but_a_stable_small_cycle_is() {
        let m = builtin::hh();
        let s = BatchSettings {
            t_max: 1200.0,
            transient: 200.0,
            ..settings()
        };
        let currents = [150.0, 156.0, 157.0];
        let (params, starts) = (vec![m.params.values()], vec![m.state_at_v(-65.0)]);
        let go_on = |_: usize| Ok::<(), CallerError>(());
        let runner = Runner::Kernel(&m);
        let mut runs = runner
            .run(&params, &currents, &starts, &s, BlowUps::Fail, &go_on)
            .unwrap();
        let raw = runs.clone();
        runner
            .judge_ringing::<CallerError>(&params, &currents, &starts, &s, &mut runs)
            .unwrap();
        for k in 1..3 {
            assert!(raw[k].oscillation_hz().is_finite(), "{:?}", raw[k]);
            assert!(
                runs[k].damped && runs[k].oscillation_hz().is_nan(),
                "{:?}",
                runs[k]
            );
        }
        assert!(!runs[0].damped, "{:?}", runs[0]);
        assert!(
            (runs[0].oscillation_hz() - 166.4).abs() < 1.0,
            "{:?}",
            runs[0]
        );
    }

    /// A train is `stopped` when the window's end lies further past its last spike than 1.5
    /// sqrt(sum of squared intervals); a steady train, and a bursting one waiting between
    /// bursts, fire on.
    #[test]
    fn a_train_that_dies_away_is_stopped_and_a_bursting_one_is_not() {
        let of = |spikes: &[f64]| {
            let mut s = NeuronSummary::from_spikes(spikes, 200.0, -65.0);
            s.mark_stopped(200.0, 1200.0);
            s
        };
        // Four spikes by 253 then rest (Morris-Lecar's homoclinic variant past its fold).
        let dying = of(&[205.0, 220.0, 236.0, 253.0]);
        assert!(dying.stopped && !dying.fires() && dying.isi_rate_hz().is_nan());
        // Steady at 10 ms: the last spike 5 ms before the end.
        let steady: Vec<f64> = (0..100).map(|k| 205.0 + 10.0 * k as f64).collect();
        let steady = of(&steady);
        assert!(!steady.stopped && steady.fires());
        assert!((steady.isi_rate_hz() - 100.0).abs() < 1e-9);
        // Bursts of 3 spikes 5 ms apart every 300 ms, the window ending 290 ms after the last.
        let bursts: Vec<f64> = [210.0, 510.0, 810.0]
            .iter()
            .flat_map(|&b| [b, b + 5.0, b + 10.0])
            .collect();
        assert!(of(&bursts).fires(), "{:?}", of(&bursts));
        // One burst in the middle of the window, quiet on both sides: a slow burster.
        let one = of(&[600.0, 610.0, 620.0, 630.0, 640.0]);
        assert!(one.fires(), "{one:?}");
        // One spike is no train: neither firing nor stopped.
        assert!(!of(&[500.0]).stopped && !of(&[500.0]).fires());
    }

    #[test]
    fn the_kernel_arm_flags_a_blow_up_or_fails_naming_its_current() {
        // 1e9 uA/cm^2 drives V past V_LIMIT within a step; 10 uA/cm^2 fires.
        let m = builtin::hh();
        let (params, starts) = (vec![m.params.values()], vec![m.state_at_v(-65.0)]);
        let currents = [10.0, 1e9];
        let runner = Runner::Kernel(&m);
        let go_on = |_: usize| Ok::<(), CallerError>(());
        let runs = runner
            .run(
                &params,
                &currents,
                &starts,
                &settings(),
                BlowUps::Flag,
                &go_on,
            )
            .unwrap();
        // HH fires near 68 Hz at 10 uA/cm^2: 3 or 4 spikes in 50 ms.
        assert!(!runs[0].blew_up && runs[0].n_spikes >= 3, "{:?}", runs[0]);
        assert!(runs[1].blew_up, "{:?}", runs[1]);
        let err = runner
            .run(
                &params,
                &currents,
                &starts,
                &settings(),
                BlowUps::Fail,
                &go_on,
            )
            .unwrap_err();
        let CallerError::Sim(SimError::BlowUp { state, .. }) = &err else {
            panic!("not a blow-up: {err:?}");
        };
        assert!(state.contains("I = 1000000000"), "{state}");
        // Without the blown neuron, Fail passes.
        assert!(
            runner
                .run(
                    &params,
                    &currents[..1],
                    &starts,
                    &settings(),
                    BlowUps::Fail,
                    &go_on
                )
                .is_ok()
        );
    }

    #[test]
    fn the_kernel_arm_stops_with_the_observers_error() {
        // 1024 neurons, 64 blocks, on two threads: once the observer says stop, each thread
        // finishes the block it is on and runs no other, and the observer's own error (or a
        // cancellation) comes back as the run's result instead of summaries.
        let m = builtin::hh();
        let (params, starts) = (vec![m.params.values()], vec![m.state_at_v(-65.0)]);
        let currents: Vec<f64> = (0..1024).map(|k| k as f64 / 8.0).collect();
        let runner = Runner::Kernel(&m);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        // The run on the pool with this observer: its error.
        let stopped_by = |observer: &(dyn Fn(usize) -> Result<(), CallerError> + Sync)| {
            pool.install(|| {
                runner.run(
                    &params,
                    &currents,
                    &starts,
                    &settings(),
                    BlowUps::Flag,
                    observer,
                )
            })
            .unwrap_err()
        };
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let err = stopped_by(&|_| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(CallerError::Observer)
        });
        assert!(matches!(err, CallerError::Observer), "{err:?}");
        let calls = calls.into_inner();
        assert!(
            (1..=2).contains(&calls),
            "{calls} of 64 blocks ran after the stop"
        );
        let err = stopped_by(&|_| Err(Cancelled.into()));
        assert!(matches!(err, CallerError::Cancelled(_)), "{err:?}");
    }
}
