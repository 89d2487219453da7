//! `.ode` models on the batch path: classic RK4 on blocks of [`LANES`] neurons at once, each
//! lane its own constant current and start state, through the model's [`LaneProgram`].
//!
//! Every lane takes the steps [`super::run`] takes for one neuron (the same RK4 stages in the
//! same order, spikes as upward threshold crossings timed on the cubic Hermite through the
//! step's ends and slopes, the same blow-up check), so the results equal the general
//! simulator's up to the rounding of the vectorised exponential (`tests/ode_lanes.rs`). Blocks
//! run in parallel on every core; the whole block function is compiled for AVX-512 and
//! AVX2+FMA and picked at run time, as the conductance kernel is ([`super::batch`]).

use super::Method;
use super::batch::{NeuronSummary, is_peak};
use super::spikes::{CrossingDetector, hermite};
use super::{Run, Settings, check_state};
use crate::error::SimError;
use crate::model::V_LIMIT;
use crate::model::ode::OdeModel;
use crate::model::ode::lanes::{LANES, LaneProgram, Lanes};
use multiversion::multiversion;
use rayon::prelude::*;

/// Run `model` (whose lane program is `program`) from `starts[k]` at the constant current
/// `currents[k]` (added to its current parameter) for every `k`, with `s`'s duration, step and
/// threshold (RK4 only: another method is refused; the record is not read, spike times
/// only). Each neuron's
/// [`Run`] comes with its [`NeuronSummary`] over the time after `transient` (ms), voltage
/// extrema and maxima included, as the conductance kernel keeps them. `progress` hears 0
/// before each block (so it can stop the run) and the block's neuron count after it.
pub fn run_ode_lanes<E: From<SimError> + Send>(
    model: &OdeModel,
    program: &LaneProgram,
    currents: &[f64],
    starts: &[Vec<f64>],
    s: &Settings,
    transient: f64,
    progress: &(dyn Fn(usize) -> Result<(), E> + Sync),
) -> Result<Vec<(Run, NeuronSummary)>, E> {
    let n = s.steps()?;
    let dim = program.dim();
    if s.method != Method::Rk4 {
        return Err(SimError::Unsupported {
            what: format!("method = {}", s.method.name()),
            reason: "`.ode` models on lanes take RK4 steps only".into(),
        }
        .into());
    }
    if dim != model.vars.len() || program.n_params() != model.params.len() {
        return Err(SimError::Unsupported {
            what: "lane program".into(),
            reason: format!("was not compiled from `{}`", model.name),
        }
        .into());
    }
    if currents.len() != starts.len() {
        return Err(SimError::Unsupported {
            what: "starts".into(),
            reason: format!(
                "{} start states for {} currents",
                starts.len(),
                currents.len()
            ),
        }
        .into());
    }
    if let Some(bad) = starts.iter().find(|y| y.len() != dim) {
        return Err(SimError::Unsupported {
            what: "initial state".into(),
            reason: format!("has {} values, the model has {dim} variables", bad.len()),
        }
        .into());
    }
    let params = model.params.values();
    let blocks: Vec<Vec<(Run, NeuronSummary)>> = (0..currents.len())
        .collect::<Vec<_>>()
        .par_chunks(LANES)
        .map(|block| {
            progress(0)?;
            // A short last block repeats its last neuron in the spare lanes.
            let lane = |l: usize| block[l.min(block.len() - 1)];
            let i_ext: Lanes = std::array::from_fn(|l| currents[lane(l)]);
            let y0: Vec<Lanes> = (0..dim)
                .map(|j| std::array::from_fn(|l| starts[lane(l)][j]))
                .collect();
            let BlockEnd {
                spikes,
                state: y,
                voltage,
            } = run_block(
                program,
                &model.vars,
                &params,
                &i_ext,
                &y0,
                s.dt,
                n,
                s.threshold_mv,
                transient,
            )?;
            progress(block.len())?;
            Ok(spikes
                .into_iter()
                .take(block.len())
                .enumerate()
                .map(|(l, spikes_ms)| {
                    let mut summary = NeuronSummary::from_spikes(&spikes_ms, transient, y[0][l]);
                    voltage.fill(l, &mut summary);
                    let run = Run {
                        spikes_ms,
                        final_state: y.iter().map(|x| x[l]).collect(),
                        steps: n as u64,
                        ..Run::default()
                    };
                    (run, summary)
                })
                .collect())
        })
        .collect::<Result<_, E>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// The derivatives at (`t`, `state`) into `out`, through the register file `regs`.
#[inline(always)]
fn derivatives(
    program: &LaneProgram,
    regs: &mut [Lanes],
    t: f64,
    state: &[Lanes],
    out: &mut [Lanes],
) {
    for (j, x) in state.iter().enumerate() {
        regs[program.var(j)] = *x;
    }
    regs[program.time()] = [t; LANES];
    program.eval(regs);
    for (j, d) in out.iter_mut().enumerate() {
        *d = regs[program.derivative(j)];
    }
}

/// `y + h k`, lane by lane, into `out`.
#[inline(always)]
fn axpy(y: &[Lanes], h: f64, k: &[Lanes], out: &mut [Lanes]) {
    for ((o, y), k) in out.iter_mut().zip(y).zip(k) {
        *o = std::array::from_fn(|l| y[l] + h * k[l]);
    }
}

/// Each lane's voltage after the transient: extrema and local maxima, by the conductance
/// kernel's rules ([`is_peak`]).
struct Voltage {
    min: Lanes,
    max: Lanes,
    maxima: [u32; LANES],
    first_max: Lanes,
    last_max: Lanes,
}

impl Voltage {
    fn new() -> Voltage {
        Voltage {
            min: [f64::INFINITY; LANES],
            max: [f64::NEG_INFINITY; LANES],
            maxima: [0; LANES],
            first_max: [f64::NAN; LANES],
            last_max: [f64::NAN; LANES],
        }
    }

    /// Lane `l`'s extrema and maxima into `s`.
    fn fill(&self, l: usize, s: &mut NeuronSummary) {
        s.v_min = self.min[l];
        s.v_max = self.max[l];
        s.n_maxima = self.maxima[l];
        s.first_max_ms = self.first_max[l];
        s.last_max_ms = self.last_max[l];
    }
}

/// What a block ends with: each lane's spike times (ms), the final state (one array per
/// variable) and the voltage after the transient.
struct BlockEnd {
    spikes: Vec<Vec<f64>>,
    state: Vec<Lanes>,
    voltage: Voltage,
}

/// One block: `n` RK4 steps of `dt` from `y0` (one array per state variable). Returns each
/// lane's spike times, the final state and the voltage after `transient`; a blow-up in any
/// lane is the general simulator's error for that lane.
#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
fn run_block(
    program: &LaneProgram,
    names: &[String],
    params: &[f64],
    i_ext: &Lanes,
    y0: &[Lanes],
    dt: f64,
    n: usize,
    threshold: f64,
    transient: f64,
) -> Result<BlockEnd, SimError> {
    let lane_params: [&[f64]; LANES] = [params; LANES];
    let mut regs = program.registers(&lane_params);
    program.set_current(&mut regs, &lane_params, i_ext);
    let dim = y0.len();
    let zero = vec![[0.0; LANES]; dim];
    let (mut y, mut y_prev, mut tmp) = (y0.to_vec(), zero.clone(), zero.clone());
    let (mut k1, mut k2, mut k3, mut k4) = (zero.clone(), zero.clone(), zero.clone(), zero);
    let mut detectors: Vec<CrossingDetector> = (0..LANES)
        .map(|_| CrossingDetector::new(threshold))
        .collect();
    let mut voltage = Voltage::new();
    // V one step before the step's start: a maximum is a sample above the one before it (by
    // more than rounding) and not below the one after it.
    let mut v_before = [f64::NAN; LANES];
    for step in 0..n {
        let t = step as f64 * dt;
        let t1 = (step + 1) as f64 * dt;
        y_prev.copy_from_slice(&y);
        derivatives(program, &mut regs, t, &y, &mut k1);
        axpy(&y, 0.5 * dt, &k1, &mut tmp);
        derivatives(program, &mut regs, t + 0.5 * dt, &tmp, &mut k2);
        axpy(&y, 0.5 * dt, &k2, &mut tmp);
        derivatives(program, &mut regs, t + 0.5 * dt, &tmp, &mut k3);
        axpy(&y, dt, &k3, &mut tmp);
        derivatives(program, &mut regs, t + dt, &tmp, &mut k4);
        for j in 0..dim {
            let (a, b, c, d) = (&k1[j], &k2[j], &k3[j], &k4[j]);
            let x = &mut y[j];
            for l in 0..LANES {
                x[l] += dt / 6.0 * (a[l] + 2.0 * (b[l] + c[l]) + d[l]);
            }
        }
        let (v0, v1) = (&y_prev[0], &y[0]);
        let mut crossed = false;
        let mut bad = false;
        let counting = t1 > transient;
        let mut peak = false;
        for l in 0..LANES {
            crossed |= detectors[l].crosses(v0[l], v1[l]);
            bad |= v1[l].abs().partial_cmp(&V_LIMIT) != Some(std::cmp::Ordering::Less);
            peak |= counting && is_peak(v_before[l], v0[l], v1[l], t, transient);
            if counting {
                voltage.min[l] = voltage.min[l].min(v1[l]);
                voltage.max[l] = voltage.max[l].max(v1[l]);
            }
        }
        if peak {
            for l in 0..LANES {
                if is_peak(v_before[l], v0[l], v1[l], t, transient) {
                    if voltage.maxima[l] == 0 {
                        voltage.first_max[l] = t;
                    }
                    voltage.maxima[l] += 1;
                    voltage.last_max[l] = t;
                }
            }
        }
        v_before = *v0;
        for x in &y[1..] {
            for x in x {
                bad |= !x.is_finite();
            }
        }
        if crossed {
            // The slope at the step's end (the next step's first stage, computed again here
            // for the lanes that crossed, as the general simulator does).
            derivatives(program, &mut regs, t1, &y, &mut tmp);
            for (l, detector) in detectors.iter_mut().enumerate() {
                let (a, b) = (y_prev[0][l], y[0][l]);
                if detector.crosses(a, b) {
                    let (d0, d1) = (k1[0][l] * dt, tmp[0][l] * dt);
                    detector.refine(t, t1, |tt| hermite(a, b, d0, d1, (tt - t) / dt));
                }
            }
        }
        if bad {
            for l in 0..LANES {
                let state: Vec<f64> = y.iter().map(|x| x[l]).collect();
                check_state(names, t1, &state)?;
            }
        }
    }
    Ok(BlockEnd {
        spikes: detectors.into_iter().map(|d| d.times).collect(),
        state: y,
        voltage,
    })
}
