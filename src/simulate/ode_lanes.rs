//! `.ode` models on the batch path: classic RK4 or exponential Euler on blocks of [`LANES`]
//! neurons at once, each lane its own constant current and start state, through the model's
//! [`LaneProgram`].
//!
//! With RK4, every lane takes the steps [`super::run`] takes for one neuron (the same RK4
//! stages in the same order, spikes as upward threshold crossings timed on the cubic Hermite
//! through the step's ends and slopes, the same blow-up check), so the results equal the
//! general simulator's up to the rounding of the vectorised exponential (`tests/ode_lanes.rs`).
//!
//! Exponential Euler steps each variable exactly for the others frozen at the step's start,
//! with its equation linearised in itself: `x += dt phi1(dt df/dx) f`, `df/dx` from
//! [`LaneProgram::eval_diagonal`] (BrainPy's `exp_auto`). On an equation linear in its own
//! variable with coefficients in the others (a gate; V of a conductance model) this is the
//! conductance kernel's exponential Euler exactly, so `hh.ode` steps as the built-in `hh` does
//! (`tests/ode_lanes.rs` compares them); on any other equation it is first order all the same.
//! It costs one evaluation a step, against RK4's four. Spikes, extrema and blow-ups are kept as
//! with RK4.
//!
//! Blocks run in parallel on every core; the whole block function is compiled for AVX-512 and
//! AVX2+FMA (once per method) and picked at run time, as the conductance kernel is
//! ([`super::batch`]).

use super::Method;
use super::batch::{NeuronSummary, check_rows, is_peak, one_or_each};
use super::spikes::{CrossingDetector, hermite};
use super::{Run, Settings};
use crate::error::SimError;
use crate::model::V_LIMIT;
use crate::model::ode::OdeModel;
use crate::model::ode::lanes::{LANES, LaneProgram, Lanes};
use crate::numerics::lanes::{each_lane, phi1_lanes};
use multiversion::multiversion;
use rayon::prelude::*;

/// The neurons of a lane run: each one's parameter values (in [`crate::model::ParamSet`]
/// order; one set for all, or one each), constant injected current (added to the model's
/// current parameter) and start state.
#[derive(Debug, Clone, Copy)]
pub struct Neurons<'a> {
    /// One parameter set for all neurons, or one each.
    pub params: &'a [Vec<f64>],
    /// Each neuron's current.
    pub currents: &'a [f64],
    /// Each neuron's start state.
    pub starts: &'a [Vec<f64>],
}

/// Run `model` (whose lane program is `program`) for every neuron of `neurons`, with `s`'s
/// duration, step, threshold and method (RK4 or exponential Euler: another method is refused;
/// the record is not read, spike times only). Each neuron's [`Run`] comes with its
/// [`NeuronSummary`] over the time after `transient` (ms), voltage extrema and maxima
/// included, as the conductance kernel keeps them.
///
/// A neuron whose V passes [`V_LIMIT`] or whose state stops being finite is flagged
/// (`blew_up`) as the conductance kernel flags it, and its record stops there (its spikes and
/// extrema before that step, its final state the one that blew up) while the other lanes go
/// on: a parameter sweep marks such a point, `fi` refuses the run. `progress` hears 0 before
/// each block (so it can stop the run) and the block's neuron count after it.
pub fn run_ode_lanes<E: From<SimError> + Send>(
    model: &OdeModel,
    program: &LaneProgram,
    neurons: &Neurons,
    s: &Settings,
    transient: f64,
    progress: &(dyn Fn(usize) -> Result<(), E> + Sync),
) -> Result<Vec<(Run, NeuronSummary)>, E> {
    let Neurons {
        params,
        currents,
        starts,
    } = *neurons;
    let n = s.steps()?;
    let dim = program.dim();
    let exp_euler = match s.method {
        Method::Rk4 => false,
        Method::ExpEuler => true,
        _ => {
            return Err(SimError::Unsupported {
                what: format!("method = {}", s.method.name()),
                reason: "`.ode` models on lanes take RK4 or exponential Euler steps only".into(),
            }
            .into());
        }
    };
    if dim != model.vars.len() || program.n_params() != model.params.len() {
        return Err(SimError::Unsupported {
            what: "lane program".into(),
            reason: format!("was not compiled from `{}`", model.name),
        }
        .into());
    }
    if currents.is_empty() {
        return Ok(vec![]);
    }
    check_rows("start state", starts, dim, currents.len())?;
    check_rows("parameter set", params, model.params.len(), currents.len())?;
    let blocks: Vec<Vec<(Run, NeuronSummary)>> = (0..currents.len())
        .collect::<Vec<_>>()
        .par_chunks(LANES)
        .map(|block| {
            progress(0)?;
            // A short last block repeats its last neuron in the spare lanes.
            let lane = |l: usize| block[l.min(block.len() - 1)];
            let i_ext: Lanes = std::array::from_fn(|l| currents[lane(l)]);
            let y0: Vec<Lanes> = (0..dim)
                .map(|j| std::array::from_fn(|l| one_or_each(starts, lane(l))[j]))
                .collect();
            let lane_params: [&[f64]; LANES] =
                std::array::from_fn(|l| one_or_each(params, lane(l)).as_slice());
            let BlockEnd {
                spikes,
                state: y,
                voltage,
                blew_up,
            } = step_block(
                exp_euler,
                Block {
                    program,
                    params: &lane_params,
                    i_ext: &i_ext,
                    y0: &y0,
                },
                Steps { dt: s.dt, n },
                Watch {
                    threshold: s.threshold_mv,
                    transient,
                },
            );
            progress(block.len())?;
            Ok(spikes
                .into_iter()
                .take(block.len())
                .enumerate()
                .map(|(l, spikes_ms)| {
                    let mut summary = NeuronSummary::from_spikes(&spikes_ms, transient, y[0][l]);
                    voltage.fill(l, &mut summary);
                    summary.blew_up = blew_up[l].is_some();
                    let run = Run {
                        spikes_ms,
                        final_state: y.iter().map(|x| x[l]).collect(),
                        steps: blew_up[l].unwrap_or(n) as u64,
                        ..Run::default()
                    };
                    (run, summary)
                })
                .collect())
        })
        .collect::<Result<_, E>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// One block's run by the method's own compiled loop, so neither carries the other's code.
/// Not generic and not inlined: the loops are compiled once, in this crate, whoever calls
/// [`run_ode_lanes`] (a generic function is compiled again in each crate that calls it, and the
/// bench's copy of these loops ran at its own speed, not the tool's).
#[inline(never)]
fn step_block(exp_euler: bool, block: Block, steps: Steps, watch: Watch) -> BlockEnd {
    if exp_euler {
        run_block::<true>(block, steps, watch)
    } else {
        run_block::<false>(block, steps, watch)
    }
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

/// One exponential Euler step of `dt` from (`t`, `y`), in place: each variable
/// `x += dt phi1(dt df/dx) f` with `f` and `df/dx` at the step's start (`f` also into `slope`,
/// the step's first slope, for the spike's interpolation).
#[inline(always)]
fn exp_euler_step(
    program: &LaneProgram,
    regs: &mut [Lanes],
    t: f64,
    y: &mut [Lanes],
    dt: f64,
    slope: &mut [Lanes],
) {
    for (j, x) in y.iter().enumerate() {
        regs[program.var(j)] = *x;
    }
    regs[program.time()] = [t; LANES];
    program.eval_diagonal(regs);
    for (j, (x, f_out)) in y.iter_mut().zip(slope.iter_mut()).enumerate() {
        let (f, d) = (regs[program.derivative(j)], regs[program.diagonal(j)]);
        let mut z = [0.0; LANES];
        for l in 0..LANES {
            z[l] = d[l] * dt;
        }
        // A derivative that is not finite has no exponential step: NaN, so the lane ends in
        // the blow-up check instead of standing still.
        let mut phi1 = [0.0; LANES];
        phi1_lanes::<false, _>(&z, &mut phi1);
        for l in 0..LANES {
            x[l] += dt * phi1[l] * f[l];
        }
        *f_out = f;
    }
}

/// `y + h k`, lane by lane, into `out`, through [`each_lane`] (`std::array::from_fn` was left
/// as an out-of-line call from the multiversioned loop: 3.6% of the samples of RK4's `fi` on
/// `hh.ode`).
#[inline(always)]
fn axpy(y: &[Lanes], h: f64, k: &[Lanes], out: &mut [Lanes]) {
    for ((o, y), k) in out.iter_mut().zip(y).zip(k) {
        *o = each_lane(|l| y[l] + h * k[l]);
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
/// variable), the voltage after the transient, and the step count at which a lane blew up.
struct BlockEnd {
    spikes: Vec<Vec<f64>>,
    state: Vec<Lanes>,
    voltage: Voltage,
    blew_up: [Option<usize>; LANES],
}

/// A block's neurons: the program, lane `l`'s parameter values `params[l]` and current
/// `i_ext[l]`, and the start (one array per state variable).
#[derive(Clone, Copy)]
struct Block<'a> {
    program: &'a LaneProgram,
    params: &'a [&'a [f64]; LANES],
    i_ext: &'a Lanes,
    y0: &'a [Lanes],
}

/// A block's steps: `n` of `dt`.
#[derive(Clone, Copy)]
struct Steps {
    dt: f64,
    n: usize,
}

/// What a block records besides its state: spikes at the upward crossings of `threshold`, and
/// the voltage's extrema and maxima after `transient`.
#[derive(Clone, Copy)]
struct Watch {
    threshold: f64,
    transient: f64,
}

/// One block's `steps` from its start, exponential Euler (`EXP_EULER`) or RK4. Returns each
/// lane's spike times, the final state and the voltage after `transient`; a lane that blows up
/// keeps its record up to the step before and the state that blew up.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
fn run_block<const EXP_EULER: bool>(block: Block, steps: Steps, watch: Watch) -> BlockEnd {
    let Block {
        program,
        params,
        i_ext,
        y0,
    } = block;
    let Steps { dt, n } = steps;
    let Watch {
        threshold,
        transient,
    } = watch;
    let mut regs = program.registers(params);
    program.set_current(&mut regs, params, i_ext);
    let dim = y0.len();
    let zero = vec![[0.0; LANES]; dim];
    let (mut y, mut tmp) = (y0.to_vec(), zero.clone());
    let (mut k1, mut k2, mut k3, mut k4) = (zero.clone(), zero.clone(), zero.clone(), zero);
    let mut detectors: Vec<CrossingDetector> = (0..LANES)
        .map(|_| CrossingDetector::new(threshold))
        .collect();
    let mut voltage = Voltage::new();
    // A lane that blew up: the step count then, and its state then.
    let mut blew_up: [Option<usize>; LANES] = [None; LANES];
    // The lanes still running: a lane's record stops at its blow-up.
    let mut live = [true; LANES];
    let mut last_state: Vec<Option<Vec<f64>>> = vec![None; LANES];
    // V one step before the step's start: a maximum is a sample above the one before it (by
    // more than rounding) and not below the one after it.
    let mut v_before = [f64::NAN; LANES];
    for step in 0..n {
        let t = step as f64 * dt;
        let t1 = (step + 1) as f64 * dt;
        // V at the step's start (the events read no other variable of the state before).
        let v_start = y[0];
        if EXP_EULER {
            exp_euler_step(program, &mut regs, t, &mut y, dt, &mut k1);
        } else {
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
        }
        // The general simulator's blow-up test: |V| past the limit, or anything not finite.
        // First on every lane at once: `|V| + 0 x_1 + 0 x_2 ...` is NaN or infinite exactly
        // where V or another variable is not finite, so it is within the limit only where
        // the lane is sound; the lanes are told apart only when one is not.
        let mut probe = [0.0; LANES];
        for l in 0..LANES {
            probe[l] = y[0][l].abs();
        }
        for x in &y[1..] {
            for l in 0..LANES {
                probe[l] += x[l] * 0.0;
            }
        }
        let sound = probe.iter().fold(true, |all, p| all & (*p <= V_LIMIT));
        let mut died = false;
        if !sound {
            for l in 0..LANES {
                // False for NaN: not sound.
                let within = probe[l] <= V_LIMIT;
                if live[l] && !within {
                    died = true;
                    live[l] = false;
                    blew_up[l] = Some(step + 1);
                    last_state[l] = Some(y.iter().map(|x| x[l]).collect());
                }
            }
        }
        let (v0, v1) = (&v_start, &y[0]);
        let counting = t1 > transient;
        // Whether any lane crossed or peaked, branch-free over every lane (the detectors'
        // threshold is `threshold`), so that the loop vectorises: tested per lane with its
        // detector and `live`, it took about a tenth of the exponential-Euler step. A lane
        // that blew up may raise either flag (NaN raises neither, so this is rare): `peak`
        // then runs its per-lane pass, `crossed` also one evaluation of the derivatives at
        // t1, and `live` keeps either from recording anything for it.
        let (mut crossed, mut peak) = (false, false);
        for l in 0..LANES {
            crossed |= (v0[l] < threshold) & (v1[l] >= threshold);
            peak |= counting & is_peak(v_before[l], v0[l], v1[l], t, transient);
        }
        // The extrema by a blend on `live`, not a branch, for the same reason.
        if counting {
            for l in 0..LANES {
                let on = live[l];
                let (min, max) = (voltage.min[l], voltage.max[l]);
                voltage.min[l] = if on { min.min(v1[l]) } else { min };
                voltage.max[l] = if on { max.max(v1[l]) } else { max };
            }
        }
        if peak {
            for l in 0..LANES {
                if live[l] && is_peak(v_before[l], v0[l], v1[l], t, transient) {
                    if voltage.maxima[l] == 0 {
                        voltage.first_max[l] = t;
                    }
                    voltage.maxima[l] += 1;
                    voltage.last_max[l] = t;
                }
            }
        }
        v_before = *v0;
        if crossed {
            // The slope at the step's end (the next step's first stage, computed again here
            // for the lanes that crossed, as the general simulator does).
            derivatives(program, &mut regs, t1, &y, &mut tmp);
            for (l, detector) in detectors.iter_mut().enumerate() {
                let (a, b) = (v_start[l], y[0][l]);
                if live[l] && detector.crosses(a, b) {
                    let (d0, d1) = (k1[0][l] * dt, tmp[0][l] * dt);
                    detector.refine(t, t1, |tt| hermite(a, b, d0, d1, (tt - t) / dt));
                }
            }
        }
        if died && blew_up.iter().all(Option::is_some) {
            break;
        }
    }
    for (l, state) in last_state.into_iter().enumerate() {
        if let Some(state) = state {
            for (x, v) in y.iter_mut().zip(state) {
                x[l] = v;
            }
        }
    }
    BlockEnd {
        spikes: detectors.into_iter().map(|d| d.times).collect(),
        state: y,
        voltage,
        blew_up,
    }
}
