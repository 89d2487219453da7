//! The batch kernel: many independent neurons of one conductance-based model, each at its own
//! constant current, stepped together by exponential Euler or one of two second-order schemes,
//! the exponential midpoint rule and the staggered scheme ([`BatchScheme`]), in struct-of-arrays
//! lanes of [`LANES`], with spikes counted inside the loop so memory stays flat (no trace).
//!
//! It evaluates the same model data as every other path (each gate's [`RateFn`]s, each
//! current's conductance, reversal parameters and factor): the `match` on a rate's form is taken
//! once per lane block (sums, products and powers of forms evaluate their parts the same way,
//! in the scalar path's order), and the arithmetic inside runs on `[f64; LANES]` arrays that
//! LLVM turns into SIMD. Models of the classic Hodgkin-Huxley shape (`hh`, `hh-1952`) run the
//! same step body on that shape compiled in (`hh_shape`), with identical results and about
//! 1.3x the speed: the step is generic over the `Equations` it reads. The exponential is a
//! branch-free polynomial ([`exp_lanes`], ~1 ulp over the range used) so it vectorises; the
//! function is compiled for AVX-512 and AVX2+FMA and the best is picked at run time
//! (`multiversion`), so the default build uses the machine's widest vectors.
//! (A CPU without FMA gets the generic build, where `mul_add` is a slow library call.)
//! The exponential-Euler update is the scalar one of [`super::fixed_step`]: V by the
//! exponential integrator of its linear part with the gates frozen, then each gate relaxed
//! towards `x_inf(V_old)`; `tests` check the two paths give the same spikes and final V. (The
//! rates' exponentials may be powers of one exponential, within about 2e-14 of the scalar path's:
//! [`PowerFamily`]; and where a step's `|z|` is small, the steps take `phi1(z) = (e^z - 1)/z` from
//! its series, the same update to rounding without an exponential or a division: `v_step`,
//! `gate_step`.) The
//! second-order schemes and f32 exponentials ([`Precision`]) are checked against LSODA
//! (`tests/fi.rs`).

use crate::error::SimError;
use crate::model::rates::{LINOID_SERIES_RADIUS, linoid_core, rate_power};
use crate::model::{ConductanceModel, Kinetics, RateFn};
use crate::numerics::power_family::PowerFamily;
use multiversion::multiversion;
use rayon::prelude::*;

pub use crate::numerics::lanes::{LANES, exp_lanes, exp_lanes_f32};
use crate::numerics::lanes::{exp_lanes_in, phi1_lanes};

mod hh_shape;
use hh_shape::HhShape;

/// What a batch run measures per neuron.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSettings {
    /// Duration of every neuron's run (ms).
    pub t_max: f64,
    /// Fixed time step of the kernel's scheme (ms).
    pub dt: f64,
    /// Spikes, extrema and voltage maxima are counted only after this time (ms).
    pub transient: f64,
    /// A spike is an upward crossing of this voltage (mV).
    pub threshold_mv: f64,
    /// The integrator.
    pub scheme: BatchScheme,
    /// The arithmetic of the exponentials.
    pub precision: Precision,
    /// The integrator of an `.ode` model on lanes: [`super::Method::Rk4`] (the default of
    /// `fi` and `sweep`) or [`super::Method::ExpEuler`] (`--method exp-euler` named on the
    /// command line). Not used by the conductance kernel.
    pub ode_method: super::Method,
}

/// The kernel's scheme and the `.ode` lanes' method for a command's `--method`. Unset: each
/// engine's default, exponential Euler on the kernel and RK4 on lanes (whose error at a given
/// dt is far smaller). `exp-euler` named: both take it. A second-order scheme: the kernel
/// takes it and lanes run RK4 (they have no second-order exponential scheme;
/// [`super::runner::Runner::notes`] says so).
pub fn engine_methods(named: Option<BatchScheme>) -> (BatchScheme, super::Method) {
    let ode_method = match named {
        Some(BatchScheme::ExpEuler) => super::Method::ExpEuler,
        _ => super::Method::Rk4,
    };
    (named.unwrap_or_default(), ode_method)
}

/// The arithmetic of the batch kernel's exponentials. The state, the currents and every sum
/// stay in f64 either way, so rounding does not accumulate over the run's steps.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// Every exponential in f64 (~1 ulp).
    #[default]
    F64,
    /// The exponentials of the rates and of the gates' relaxation in f32 ([`exp_lanes_f32`],
    /// relative error below 1.2e-7 + 6e-8 |x|, arguments clamped to ±87): 16 of them fill one AVX-512
    /// register instead of two. V's own step (its `phi1`, by series or exponential) stays
    /// f64, and so does the one exponential of rates computed as its powers (a power
    /// multiplies its root's error; all six of `hh`'s rates are such powers). A gate's step
    /// whose `phi1` comes from its series (small |z|: `gate_step`) takes no exponential
    /// and is f64 in either precision; so on `hh` at dt up to 0.02 ms mixed precision is
    /// nearly always f64 throughout. On `hh` the rates move by under 1e-4 % (`tests/fi.rs`,
    /// docs/fi-and-sweeps.md).
    Mixed,
}

impl Precision {
    /// The name the command line and study files use.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::Mixed => "mixed",
        }
    }
}

/// The batch kernel's integrators. All three treat each variable's equation as linear in that
/// variable with coefficients frozen over the step (V: `C V' = I - g_tot (V - E_eff)`; a gate:
/// `x' = phi ((alpha + beta)(x_inf - x))`), and step it exactly: the Rush-Larsen idea.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum BatchScheme {
    /// Coefficients from the state at the start of the step: first order, one evaluation of
    /// the rates per step (the scalar path's `exp-euler`).
    #[default]
    ExpEuler,
    /// Coefficients from the midpoint, itself reached by a half step of `ExpEuler`: second
    /// order (Sundnes, Artebrant, Skavhaug, Tveito 2009, "a second-order algorithm for
    /// solving dynamical cell membrane equations"), two evaluations per step, so it reaches
    /// a given accuracy at a far larger dt.
    ExpMidpoint,
    /// The gates at half steps, V at whole steps, each stepped with the other at its
    /// midpoint (the staggered scheme NEURON pairs with Crank-Nicolson, Hines 1984, here with
    /// exact exponential steps): second order at one evaluation of the rates per step, half the
    /// midpoint rule's work. A current's instantaneous factor is taken at V extrapolated to the
    /// step's midpoint from the last two steps.
    ExpStaggered,
}

impl BatchScheme {
    /// The name the command line and study files use.
    pub fn name(self) -> &'static str {
        match self {
            BatchScheme::ExpEuler => "exp-euler",
            BatchScheme::ExpMidpoint => "exp-midpoint",
            BatchScheme::ExpStaggered => "exp-staggered",
        }
    }

    /// Order of accuracy in dt: what the Richardson estimate of the dt/2 check uses.
    pub fn order(self) -> i32 {
        match self {
            BatchScheme::ExpEuler => 1,
            BatchScheme::ExpMidpoint | BatchScheme::ExpStaggered => 2,
        }
    }

    /// In words with its order, for a sentence on the integrator's error.
    pub fn describe_with_order(self) -> &'static str {
        match self {
            BatchScheme::ExpEuler => "exponential Euler (first order)",
            _ => self.describe(),
        }
    }

    /// In words, for summaries.
    pub fn describe(self) -> &'static str {
        match self {
            BatchScheme::ExpEuler => "exponential Euler",
            BatchScheme::ExpMidpoint => "the exponential midpoint rule (second order)",
            BatchScheme::ExpStaggered => {
                "the staggered exponential scheme (second order, gates at half steps)"
            }
        }
    }
}

/// [`NeuronSummary::mark_stopped`]'s rule, in the words the reports use.
pub const STOPPED_RULE: &str = "its last spike further from the end than 1.5 times the root of the summed squared intervals, more than the longest interval, and than twice the quiet time before its first";

/// Per-neuron results of a batch run (flat memory: no trace).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NeuronSummary {
    /// Spikes after the transient.
    pub n_spikes: u32,
    /// First upward threshold crossing after t = 0 (ms), NaN if none.
    pub first_spike_ms: f64,
    /// First spike after the transient (ms), NaN if none.
    pub first_counted_ms: f64,
    /// Last spike after the transient (ms), NaN if none.
    pub last_counted_ms: f64,
    /// Sum of the interspike intervals after the transient (ms).
    pub isi_sum: f64,
    /// Sum of the squares of those intervals (ms^2): with `isi_sum`, their variance.
    pub isi_sumsq: f64,
    /// Lowest V after the transient (mV).
    pub v_min: f64,
    /// Highest V after the transient (mV).
    pub v_max: f64,
    /// Local maxima of V after the transient (any height): oscillations below threshold.
    pub n_maxima: u32,
    /// Time of the first of those maxima (ms), NaN if none.
    pub first_max_ms: f64,
    /// Time of the last of those maxima (ms), NaN if none.
    pub last_max_ms: f64,
    /// V at the end of the run (mV).
    pub final_v: f64,
    /// |V| exceeded 1e4 mV or became NaN.
    pub blew_up: bool,
    /// The maxima counted were ringing that dies away to rest, judged afterwards on a trace
    /// ([`crate::simulate::runner::Runner::run`]): no oscillation.
    pub damped: bool,
    /// The spikes stopped well before the window's end ([`NeuronSummary::mark_stopped`]):
    /// a train dying away, not repetitive firing.
    pub stopped: bool,
}

impl NeuronSummary {
    /// The summary of a run known by its spike times only (the general simulator): counts,
    /// ISIs and first spike as the kernel keeps them; no voltage extrema or maxima (NaN, 0).
    pub fn from_spikes(spikes_ms: &[f64], transient: f64, final_v: f64) -> NeuronSummary {
        let counted: Vec<f64> = spikes_ms
            .iter()
            .copied()
            .filter(|&t| t > transient)
            .collect();
        let isi = counted.windows(2).map(|w| w[1] - w[0]);
        NeuronSummary {
            n_spikes: counted.len() as u32,
            first_spike_ms: spikes_ms.first().copied().unwrap_or(f64::NAN),
            first_counted_ms: counted.first().copied().unwrap_or(f64::NAN),
            last_counted_ms: counted.last().copied().unwrap_or(f64::NAN),
            isi_sum: isi.clone().sum(),
            isi_sumsq: isi.map(|d| d * d).sum(),
            v_min: f64::NAN,
            v_max: f64::NAN,
            n_maxima: 0,
            first_max_ms: f64::NAN,
            last_max_ms: f64::NAN,
            final_v,
            blew_up: false,
            damped: false,
            stopped: false,
        }
    }

    /// Mark a train of two or more counted spikes in the window from `t_start_ms` to
    /// `t_end_ms` `stopped` when the window's end lies further past its last spike than 1.5
    /// sqrt(sum of the ISIs squared), a bound over 1.5 times its longest interval, and than
    /// twice the quiet time before its first counted spike. A neuron firing on still has its
    /// next spike within about one interval, a bursting one within its longest (the gap
    /// between bursts); a single burst in the window has quiet time on both sides. A train
    /// dying away after a fold of cycles (Morris-Lecar's homoclinic variant at 44: four
    /// spikes from 205 to 253, then rest to the window's end at 1200) starts at once and
    /// ends early: it is not repetitive firing, and its intervals are no steady rate.
    pub fn mark_stopped(&mut self, t_start_ms: f64, t_end_ms: f64) {
        let quiet_after = t_end_ms - self.last_counted_ms;
        let quiet_before = self.first_counted_ms - t_start_ms;
        self.stopped = self.n_spikes >= 2
            && quiet_after > 1.5 * self.isi_sumsq.sqrt()
            && quiet_after > 2.0 * quiet_before;
    }

    /// V's maxima make an oscillation with no spike, in a run that did not blow up: what
    /// [`crate::simulate::runner::Runner::judge_ringing`] judges.
    pub fn oscillates_without_spikes(&self) -> bool {
        !self.blew_up && self.n_spikes == 0 && self.oscillation_hz().is_finite()
    }

    /// Repetitive firing: two or more spikes in the window, not [`NeuronSummary::stopped`].
    pub fn fires(&self) -> bool {
        self.n_spikes >= 2 && !self.stopped
    }

    /// Spike rate over the counting window (Hz).
    pub fn rate_hz(&self, window_ms: f64) -> f64 {
        self.n_spikes as f64 / window_ms * 1000.0
    }

    /// Mean and coefficient of variation of the counted ISIs.
    pub fn isi_mean_cv(&self) -> (f64, f64) {
        if self.n_spikes < 2 {
            return (f64::NAN, f64::NAN);
        }
        let k = (self.n_spikes - 1) as f64;
        let mean = self.isi_sum / k;
        let var = (self.isi_sumsq / k - mean * mean).max(0.0);
        // ddof = 0 over the intervals of the window, as Elephant's cv.
        (mean, var.sqrt() / mean)
    }

    /// Firing rate from the mean interspike interval (Hz): continuous in the current, unlike
    /// the spike count over a window; NaN unless it [`NeuronSummary::fires`].
    pub fn isi_rate_hz(&self) -> f64 {
        if !self.fires() {
            return f64::NAN;
        }
        1000.0 / self.isi_mean_cv().0
    }

    /// Frequency of the voltage maxima (Hz): the oscillation frequency even when the peaks
    /// stay below the spike threshold; NaN for fewer than 3 maxima, a swing under 1 mV, or
    /// ringing that dies away (`damped`).
    pub fn oscillation_hz(&self) -> f64 {
        if self.n_maxima < 3 || self.v_max - self.v_min < 1.0 || self.damped {
            return f64::NAN;
        }
        (self.n_maxima - 1) as f64 / (self.last_max_ms - self.first_max_ms) * 1000.0
    }
}

type L = crate::numerics::lanes::Lanes;

/// One current in a lane block: maximal conductance and reversal potential per lane, (gate,
/// power) factors, and the factor of V multiplying the conductance, if any.
type FlatCurrent = (L, L, Vec<(usize, i32)>, Option<LaneRate>);

/// The model's data flattened for one lane block. Every parameter the equations read (the
/// conductances, reversal potentials, C_m and phi) is per lane, so a sweep over any of them
/// fills blocks as densely as a sweep over the current.
struct Flat {
    gates: Vec<LaneGate>,
    /// The distinct exponentials `exp(c V + d)` the rates need, each computed once per step.
    bases: Vec<(f64, f64)>,
    /// Shared bases computed as powers of one exponential ([`PowerFamily`]).
    powers: Option<PowerFamily>,
    /// The bases computed by an exponential of their own.
    direct: Vec<usize>,
    currents: Vec<FlatCurrent>,
    inv_c: L,
    phi: L,
    /// Whether a current has a factor (an instantaneous gate): the staggered scheme then
    /// takes the bases once more, at the step's midpoint.
    has_factor: bool,
}

/// A gate's two rate functions, and whether they are (inf, tau) rather than (alpha, beta).
#[derive(Debug, Clone)]
struct LaneGate {
    first: LaneRate,
    second: LaneRate,
    inf_tau: bool,
}

/// A [`RateFn`] rewritten on a shared exponential: `x = exp(c V + d)` is `bases[base]`
/// times `scale`. Rates whose exponents share the slope `c` (HH: alpha_m, beta_h and
/// alpha_n all have k = 10 mV) share one `exp(c V)`, so `hh` has 4 bases for its six rates;
/// and bases whose slopes are multiples of one slope are powers of one exponential
/// ([`PowerFamily`]), so `hh` computes a single exponential for all six. Both found from the
/// model data.
#[derive(Debug, Clone)]
enum LaneRate {
    /// `a x`
    Exp {
        a: f64,
        base: usize,
        scale: f64,
    },
    /// `a / (1 + x)`
    Sigmoid {
        a: f64,
        base: usize,
        scale: f64,
    },
    /// `a y / (1 - x)` with `y = (V - v0) / k`, `x = exp(-y)`.
    Linoid {
        a: f64,
        v0: f64,
        ik: f64,
        base: usize,
        scale: f64,
    },
    Constant {
        a: f64,
    },
    /// The sum of the parts, in order.
    Sum(Vec<LaneRate>),
    /// The product of the parts, in order.
    Product(Vec<LaneRate>),
    /// `of ^ p`, as [`rate_power`] takes it.
    Power(Box<LaneRate>, f64),
}

/// Slopes up to this (1/mV, k >= 5 mV) share `exp(c V)`: `c V` stays far from overflow for
/// any V short of a blow-up (|V| > [`crate::model::V_LIMIT`] is flagged), so the product with `exp(d)` is exact
/// to rounding. Steeper rates keep their own `exp(c V + d)`.
const SHARED_SLOPE_MAX: f64 = 0.2;

/// Whether a rate's exponent of slope `c` (1/mV) is taken from the shared `exp(c V)`
/// ([`SHARED_SLOPE_MAX`]); such a base has the key `(c, 0)`.
fn shares_exponential(c: f64) -> bool {
    c.abs() <= SHARED_SLOPE_MAX
}

impl LaneRate {
    fn new(r: &RateFn, bases: &mut Vec<(f64, f64)>) -> LaneRate {
        // The exponent of each form as c V + d.
        let (c, d) = match *r {
            RateFn::Exp { v0, k, .. } => (1.0 / k, -v0 / k),
            RateFn::Sigmoid { v0, k, .. } | RateFn::Linoid { v0, k, .. } => (-1.0 / k, v0 / k),
            RateFn::Constant { a } => return LaneRate::Constant { a },
            RateFn::Sum { ref terms } => {
                return LaneRate::Sum(terms.iter().map(|t| LaneRate::new(t, bases)).collect());
            }
            RateFn::Product { ref factors } => {
                return LaneRate::Product(
                    factors.iter().map(|f| LaneRate::new(f, bases)).collect(),
                );
            }
            RateFn::Power { ref of, p } => {
                return LaneRate::Power(Box::new(LaneRate::new(of, bases)), p);
            }
        };
        let (key, scale) = if shares_exponential(c) {
            ((c, 0.0), d.exp())
        } else {
            ((c, d), 1.0)
        };
        let base = match bases.iter().position(|b| *b == key) {
            Some(i) => i,
            None => {
                bases.push(key);
                bases.len() - 1
            }
        };
        match *r {
            RateFn::Exp { a, .. } => LaneRate::Exp { a, base, scale },
            RateFn::Sigmoid { a, .. } => LaneRate::Sigmoid { a, base, scale },
            RateFn::Linoid { a, v0, k } => LaneRate::Linoid {
                a,
                v0,
                ik: 1.0 / k,
                base,
                scale,
            },
            _ => unreachable!("constants and combinations returned above"),
        }
    }
}

impl Flat {
    fn new(m: &ConductanceModel, p: &[&[f64]; LANES]) -> Flat {
        let mut bases = vec![];
        let gates = m
            .gates
            .iter()
            .map(|g| {
                let (first, second, inf_tau) = match &g.kinetics {
                    Kinetics::AlphaBeta { alpha, beta } => (alpha, beta, false),
                    Kinetics::InfTau { inf, tau } => (inf, tau, true),
                };
                LaneGate {
                    first: LaneRate::new(first, &mut bases),
                    second: LaneRate::new(second, &mut bases),
                    inf_tau,
                }
            })
            .collect();
        let currents = m
            .currents
            .iter()
            .map(|c| {
                (
                    std::array::from_fn(|l| p[l][c.g]),
                    std::array::from_fn(|l| p[l][c.e]),
                    c.gates.clone(),
                    c.factor.as_ref().map(|f| LaneRate::new(f, &mut bases)),
                )
            })
            .collect();
        let slopes: Vec<Option<f64>> = bases
            .iter()
            .map(|&(c, _)| shares_exponential(c).then_some(c))
            .collect();
        let (powers, direct) = PowerFamily::find(&slopes);
        Flat {
            has_factor: m.currents.iter().any(|c| c.factor.is_some()),
            gates,
            powers,
            direct,
            bases,
            currents,
            inv_c: std::array::from_fn(|l| 1.0 / p[l][m.c_m]),
            phi: std::array::from_fn(|l| p[l][m.phi]),
        }
    }
}

/// A voltage maximum must rise by more than this in its last step (mV): a neuron at rest
/// wobbles by rounding (1e-14 mV) and would otherwise count a "maximum" every other step.
const PEAK_EPS_MV: f64 = 1e-9;

/// Whether V sampled `before`, `v` (at `t`, ms) and `after` has a maximum at `t` that counts:
/// above the sample before by more than rounding ([`PEAK_EPS_MV`]), not below the one after,
/// and after the transient. The one rule of both batch paths.
#[inline(always)]
pub(crate) fn is_peak(before: f64, v: f64, after: f64, t: f64, transient: f64) -> bool {
    v > before + PEAK_EPS_MV && v >= after && t > transient
}

/// One rate function on every lane, from the shared exponentials `x` of its base.
#[inline(always)]
fn rate_lanes(r: &LaneRate, v: &L, x: &[L], out: &mut L) {
    match *r {
        LaneRate::Exp { a, base, scale } => exp_rate(a * scale, &x[base], out),
        LaneRate::Sigmoid { a, base, scale } => sigmoid_rate(a, scale, &x[base], out),
        LaneRate::Linoid {
            a,
            v0,
            ik,
            base,
            scale,
        } => linoid_rate(a, v0, ik, scale, v, &x[base], out),
        LaneRate::Constant { a } => out.fill(a),
        LaneRate::Sum(_) | LaneRate::Product(_) | LaneRate::Power(..) => {
            combined_lanes(r, v, x, out)
        }
    }
}

/// [`LaneRate::Exp`] with `f = a scale` on its base `x`.
#[inline(always)]
fn exp_rate(f: f64, x: &L, out: &mut L) {
    for l in 0..LANES {
        out[l] = exp_rate_one(f, x[l]);
    }
}

/// [`exp_rate`] of one lane (the lanes' functions and [`HhShape`]'s fused loop share these).
#[inline(always)]
fn exp_rate_one(f: f64, x: f64) -> f64 {
    f * x
}

/// [`LaneRate::Sigmoid`] on its base `x`.
#[inline(always)]
fn sigmoid_rate(a: f64, scale: f64, x: &L, out: &mut L) {
    for l in 0..LANES {
        out[l] = sigmoid_rate_one(a, scale, x[l]);
    }
}

/// [`sigmoid_rate`] of one lane.
#[inline(always)]
fn sigmoid_rate_one(a: f64, scale: f64, x: f64) -> f64 {
    a / x.mul_add(scale, 1.0)
}

/// [`LaneRate::Linoid`] at `v` on its base `x`.
#[inline(always)]
fn linoid_rate(a: f64, v0: f64, ik: f64, scale: f64, v: &L, x: &L, out: &mut L) {
    let mut near = false;
    for l in 0..LANES {
        let (rate, near_l) = linoid_rate_one(a, v0, ik, scale, v[l], x[l]);
        out[l] = rate;
        near |= near_l;
    }
    if near {
        linoid_near_rest(a, v0, ik, v, out);
    }
}

/// [`linoid_rate`] of one lane by the quotient, and whether the lane is near the removable
/// singularity, where its caller then calls [`linoid_near_rest`].
#[inline(always)]
fn linoid_rate_one(a: f64, v0: f64, ik: f64, scale: f64, v: f64, x: f64) -> (f64, bool) {
    // y / (1 - e^-y); within the series' radius (V within k/2 of v0) the scalar path's
    // Bernoulli series instead, evaluated only when a lane of the block is there.
    let y = linoid_y(v, v0, ik);
    (a * (y / (1.0 - x * scale)), linoid_near(y))
}

/// A linoid rate's `y = (V - v0)/k` at one lane.
#[inline(always)]
fn linoid_y(v: f64, v0: f64, ik: f64) -> f64 {
    (v - v0) * ik
}

/// Whether `y` is within the linoid's series radius ([`LINOID_SERIES_RADIUS`]).
#[inline(always)]
fn linoid_near(y: f64) -> bool {
    y.abs() < LINOID_SERIES_RADIUS
}

/// The lanes of a linoid rate whose `y` is within the series' radius, rewritten by the scalar
/// path's own function, which takes its series there. Inline, as the rest of a step: on `hh`
/// some lane of a block is that near (within 5 mV of -40 or -55 mV) at a good share of the
/// steps, and out of line, compiled without the kernel's vector instructions, it took 21% of
/// the kernel's time in a trial (docs/speed-log.md, seventh session of 7 December).
#[inline(always)]
fn linoid_near_rest(a: f64, v0: f64, ik: f64, v: &L, out: &mut L) {
    for l in 0..LANES {
        let y = linoid_y(v[l], v0, ik);
        if linoid_near(y) {
            out[l] = a * linoid_core(y);
        }
    }
}

/// A sum, product or power of rates on every lane: the parts in the scalar path's order
/// ([`RateFn::eval`]: 0 + t0 + t1 …, 1 * f0 * f1 …, [`rate_power`]). Not inlined: it recurses.
fn combined_lanes(r: &LaneRate, v: &L, x: &[L], out: &mut L) {
    let mut part: L = [0.0; LANES];
    match r {
        LaneRate::Sum(terms) => {
            out.fill(0.0);
            for t in terms {
                rate_lanes(t, v, x, &mut part);
                for l in 0..LANES {
                    out[l] += part[l];
                }
            }
        }
        LaneRate::Product(factors) => {
            out.fill(1.0);
            for f in factors {
                rate_lanes(f, v, x, &mut part);
                for l in 0..LANES {
                    out[l] *= part[l];
                }
            }
        }
        LaneRate::Power(of, p) => {
            rate_lanes(of, v, x, out);
            for o in out.iter_mut() {
                *o = rate_power(*o, *p);
            }
        }
        _ => rate_lanes(r, v, x, out),
    }
}

/// The step's frozen coefficients at the state (v, x): each gate's rates into `ra`, `rb` (as
/// alpha, beta: an (inf, tau) gate is rewritten to them), and the total conductance and ionic
/// current. `xb` is scratch for the shared exponentials.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn linearise<E: Equations, const UNIFORM: bool, const F32: bool>(
    eq: &E,
    v: &L,
    x: &E::Gates,
    xb: &mut E::Bases,
    ra: &mut E::Gates,
    rb: &mut E::Gates,
    g_tot: &mut L,
    i_ion: &mut L,
) {
    eq.gate_rates::<F32>(v, xb, ra, rb);
    eq.conductances::<UNIFORM>(v, v, x, xb, g_tot, i_ion);
}

/// What a block's step reads from the model: the rates of the gates at V and the currents'
/// conductances. [`Flat`] reads any conductance model from its table; [`HhShape`] is the
/// Hodgkin-Huxley shape compiled in, its constants read from the same table, so
/// that its arithmetic is unrolled and kept in registers (the step body, [`run_block`], is
/// the same for both, and so is every operation: `tests` check the results are identical).
trait Equations {
    /// One lane array per gate.
    type Gates: AsRef<[L]> + AsMut<[L]> + Clone;
    /// One lane array per shared exponential.
    type Bases: AsRef<[L]> + AsMut<[L]>;
    /// Zeroed rows for the gates and for the shared exponentials.
    fn rows(&self) -> (Self::Gates, Self::Bases);
    /// Whether a current has a factor (an instantaneous gate): the staggered scheme then
    /// takes the bases once more, at the step's midpoint.
    fn has_factor(&self) -> bool;
    /// 1 / C_m per lane.
    fn inv_c(&self) -> &L;
    /// The temperature factor of the rates per lane.
    fn phi(&self) -> &L;
    /// The shared exponentials of the rates at `v` into `xb`.
    fn bases_at<const F32: bool>(&self, v: &L, xb: &mut Self::Bases);
    /// Each gate's rates at `v` into `ra`, `rb` (as alpha, beta). `xb` is scratch: the table's
    /// kernel leaves the shared exponentials at `v` in it, which its factors read; a shape
    /// without factors may leave it unwritten ([`HhShape`]'s fused rates do).
    fn gate_rates<const F32: bool>(
        &self,
        v: &L,
        xb: &mut Self::Bases,
        ra: &mut Self::Gates,
        rb: &mut Self::Gates,
    );
    /// Total conductance and ionic current at `v` with the gates `x`, each current's factor
    /// taken at `v_factor` from the shared exponentials `xb` at `v_factor`.
    fn conductances<const UNIFORM: bool>(
        &self,
        v: &L,
        v_factor: &L,
        x: &Self::Gates,
        xb: &Self::Bases,
        g_tot: &mut L,
        i_ion: &mut L,
    );
    /// One step of exponential Euler from (v, x) to (v_new, x_new): [`linearise`], then
    /// [`exp_step`]. [`HhShape`] takes the same operations in fewer passes over the lanes.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn exp_euler_step<const UNIFORM: bool, const F32: bool>(
        &self,
        s: &mut StepRows<Self::Gates, Self::Bases>,
        dt: f64,
        v: &L,
        x: &Self::Gates,
        current: &L,
        inv_c: &L,
        phi: &L,
        v_new: &mut L,
        x_new: &mut Self::Gates,
    ) where
        Self: Sized,
    {
        exp_euler_by_rows::<Self, UNIFORM, F32>(
            self, s, dt, v, x, current, inv_c, phi, v_new, x_new,
        );
    }
}

/// [`Equations::exp_euler_step`] as every model takes it: [`linearise`] into the rows, then
/// [`exp_step`] from them.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn exp_euler_by_rows<E: Equations, const UNIFORM: bool, const F32: bool>(
    eq: &E,
    s: &mut StepRows<E::Gates, E::Bases>,
    dt: f64,
    v: &L,
    x: &E::Gates,
    current: &L,
    inv_c: &L,
    phi: &L,
    v_new: &mut L,
    x_new: &mut E::Gates,
) {
    linearise::<E, UNIFORM, F32>(
        eq,
        v,
        x,
        &mut s.xb,
        &mut s.ra,
        &mut s.rb,
        &mut s.g_tot,
        &mut s.i_ion,
    );
    exp_step::<F32>(
        dt,
        v,
        x.as_ref(),
        s.ra.as_ref(),
        s.rb.as_ref(),
        &s.g_tot,
        &s.i_ion,
        current,
        inv_c,
        phi,
        v_new,
        x_new.as_mut(),
    );
}

/// The scratch rows of a step: the shared exponentials, the gates' rates, the total
/// conductance and the ionic current, each written before it is read.
struct StepRows<G, B> {
    xb: B,
    ra: G,
    rb: G,
    g_tot: L,
    i_ion: L,
}

impl Equations for Flat {
    type Gates = Vec<L>;
    type Bases = Vec<L>;

    fn rows(&self) -> (Vec<L>, Vec<L>) {
        (
            vec![[0.0; LANES]; self.gates.len()],
            vec![[0.0; LANES]; self.bases.len()],
        )
    }

    fn has_factor(&self) -> bool {
        self.has_factor
    }

    fn inv_c(&self) -> &L {
        &self.inv_c
    }

    fn phi(&self) -> &L {
        &self.phi
    }

    #[inline(always)]
    fn bases_at<const F32: bool>(&self, v: &L, xb: &mut Vec<L>) {
        bases_at::<F32>(self, v, xb)
    }

    #[inline(always)]
    fn gate_rates<const F32: bool>(
        &self,
        v: &L,
        xb: &mut Vec<L>,
        ra: &mut Vec<L>,
        rb: &mut Vec<L>,
    ) {
        bases_at::<F32>(self, v, xb);
        for (g, gate) in self.gates.iter().enumerate() {
            rate_lanes(&gate.first, v, xb, &mut ra[g]);
            rate_lanes(&gate.second, v, xb, &mut rb[g]);
            if gate.inf_tau {
                // Store inf and 1/tau as "alpha" and "alpha + beta" would be: a = inf/tau,
                // b = (1 - inf)/tau, so inf = a/(a+b) and 1/tau = a+b as for alpha/beta.
                for l in 0..LANES {
                    let k = 1.0 / rb[g][l];
                    let inf_l = ra[g][l];
                    ra[g][l] = inf_l * k;
                    rb[g][l] = (1.0 - inf_l) * k;
                }
            }
        }
    }

    #[inline(always)]
    fn conductances<const UNIFORM: bool>(
        &self,
        v: &L,
        v_factor: &L,
        x: &Vec<L>,
        xb: &Vec<L>,
        g_tot: &mut L,
        i_ion: &mut L,
    ) {
        let mut tmp: L = [0.0; LANES];
        *g_tot = [0.0; LANES];
        *i_ion = [0.0; LANES];
        for (gmax, erev, gates, factor) in &self.currents {
            let mut gc: L = per_lane::<UNIFORM>(gmax);
            let erev = per_lane::<UNIFORM>(erev);
            if let Some(f) = factor {
                rate_lanes(f, v_factor, xb, &mut tmp);
                for l in 0..LANES {
                    gc[l] *= tmp[l];
                }
            }
            for &(gi, pw) in gates {
                times_power(&mut gc, &x[gi], pw);
            }
            add_current(&gc, &erev, v, g_tot, i_ion);
        }
    }
}

/// A parameter's lane array as a step reads it: with every lane on the same parameters
/// (`UNIFORM`, f-I curves) the first lane broadcast, so the compiler keeps it in registers as a
/// constant; in a parameter sweep each lane's own value, loaded.
#[inline(always)]
fn per_lane<const UNIFORM: bool>(x: &L) -> L {
    if UNIFORM { [x[0]; LANES] } else { *x }
}

/// `g *= x^power`, one product per power: the only way either kernel applies a gate's power
/// to a conductance, so that [`HhShape`]'s unrolled currents (`power` a constant there) and the
/// table's loops perform the same operations in the same order.
#[inline(always)]
fn times_power(g: &mut L, x: &L, power: i32) {
    for _ in 0..power {
        for l in 0..LANES {
            g[l] *= x[l];
        }
    }
}

/// [`times_power`] of one lane, for [`HhShape`]'s fused step.
#[inline(always)]
fn times_power_one(g: f64, x: f64, power: i32) -> f64 {
    let mut g = g;
    for _ in 0..power {
        g *= x;
    }
    g
}

/// Adds one current of conductance `g` and reversal `erev` at `v` to the step's total
/// conductance and ionic current (both kernels, in the currents' order).
#[inline(always)]
fn add_current(g: &L, erev: &L, v: &L, g_tot: &mut L, i_ion: &mut L) {
    for l in 0..LANES {
        add_current_one(g[l], erev[l], v[l], &mut g_tot[l], &mut i_ion[l]);
    }
}

/// [`add_current`] of one lane.
#[inline(always)]
fn add_current_one(g: f64, erev: f64, v: f64, g_tot: &mut f64, i_ion: &mut f64) {
    *g_tot += g;
    *i_ion += g * (v - erev);
}

/// The shared exponentials of the rates at `v` into `xb`: the family's as powers of one
/// exponential (in f64 in either precision: a power multiplies the error of its root), the
/// others each by its own.
#[inline(always)]
fn bases_at<const F32: bool>(flat: &Flat, v: &L, xb: &mut [L]) {
    let mut tmp: L = [0.0; LANES];
    for &b in &flat.direct {
        let (c, d) = flat.bases[b];
        for l in 0..LANES {
            tmp[l] = c.mul_add(v[l], d);
        }
        exp_lanes_in::<F32, _>(&tmp, &mut xb[b]);
    }
    if let Some(p) = &flat.powers {
        p.eval(v, xb);
    }
}

/// One step of length `h` from (v, x) with frozen coefficients: [`v_step`] and [`gate_step`].
/// Writes (v_new, x_new).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn exp_step<const F32: bool>(
    h: f64,
    v: &L,
    x: &[L],
    ra: &[L],
    rb: &[L],
    g_tot: &L,
    i_ion: &L,
    current: &L,
    inv_c: &L,
    phi: &L,
    v_new: &mut L,
    x_new: &mut [L],
) {
    v_step(h, v, g_tot, i_ion, current, inv_c, v_new);
    gate_step::<F32>(h, x, ra, rb, phi, x_new);
}

/// V over a step of length `h` by the exponential integrator of its linear part with the
/// conductances frozen: `phi1(z) = (e^z - 1)/z`, z = -g_tot h / C ([`phi1_lanes`]: its series
/// where |z| is small, without an exponential or a division). Writes `v_new`.
#[inline(always)]
fn v_step(h: f64, v: &L, g_tot: &L, i_ion: &L, current: &L, inv_c: &L, v_new: &mut L) {
    let mut z: L = [0.0; LANES];
    let mut p: L = [0.0; LANES];
    for l in 0..LANES {
        z[l] = v_step_z(h, g_tot[l], inv_c[l]);
    }
    phi1_lanes::<false, _>(&z, &mut p);
    for l in 0..LANES {
        v_new[l] = v_stepped(h, v[l], p[l], current[l], i_ion[l], inv_c[l]);
    }
}

/// [`v_step`]'s `z = -g_tot h / C` of one lane (it and [`HhShape`]'s fused step share these).
#[inline(always)]
fn v_step_z(h: f64, g_tot: f64, inv_c: f64) -> f64 {
    -g_tot * inv_c * h
}

/// [`v_step`]'s new V of one lane, from `p = phi1(z)`.
#[inline(always)]
fn v_stepped(h: f64, v: f64, p: f64, current: f64, i_ion: f64, inv_c: f64) -> f64 {
    v + h * p * (current - i_ion) * inv_c
}

/// Each gate over a step of length `h`, relaxed exactly towards its `x_inf` with rate
/// `(alpha + beta) phi` from the rates `ra`, `rb`. Writes `x_new`.
///
/// The relaxation `x_inf + (x - x_inf) e^z`, z = -h phi (alpha + beta), is taken as
/// `x + h phi phi1(z) (alpha - (alpha + beta) x)`: where |z| is small (on `hh` at dt = 0.01 ms
/// and 6.3 degC, whenever V is above about -100 mV) [`phi1_lanes`] takes its series, so the step
/// has no exponential and no division by `alpha + beta`, in f64 whatever the precision. For
/// large |z| the form is as exact: `phi1(z) -> -1/z`, and the step lands on `x_inf` within
/// rounding of x. Rates both 0 leave x as it is (the old form gave NaN); an infinite rate
/// makes the step NaN, so the lane is flagged as blown up (the old form landed on 0 or 1).
#[inline(always)]
fn gate_step<const F32: bool>(h: f64, x: &[L], ra: &[L], rb: &[L], phi: &L, x_new: &mut [L]) {
    for g in 0..x.len() {
        x_new[g] = relaxed_gate::<F32>(h, &x[g], &ra[g], &rb[g], phi);
    }
}

/// One gate `xg` over a step of length `h` with the rates `a`, `b` ([`gate_step`]).
#[inline(always)]
fn relaxed_gate<const F32: bool>(h: f64, xg: &L, a: &L, b: &L, phi: &L) -> L {
    // (Local copies of the lane arrays: the compiler cannot prove the heap rows do not
    // alias, and would not vectorise the update in place.)
    let (a, b, xg) = (*a, *b, *xg);
    let mut z: L = [0.0; LANES];
    let mut p: L = [0.0; LANES];
    let mut sg: L = [0.0; LANES];
    let mut out: L = [0.0; LANES];
    for l in 0..LANES {
        (z[l], sg[l]) = gate_step_z(h, phi[l], a[l], b[l]);
    }
    phi1_lanes::<F32, _>(&z, &mut p);
    for l in 0..LANES {
        out[l] = gate_stepped(h, phi[l], p[l], xg[l], a[l], sg[l]);
    }
    out
}

/// [`relaxed_gate`]'s `z = -h phi (alpha + beta)` of one lane, and `alpha + beta`.
#[inline(always)]
fn gate_step_z(h: f64, phi: f64, a: f64, b: f64) -> (f64, f64) {
    let sg = a + b;
    (-h * phi * sg, sg)
}

/// [`relaxed_gate`]'s new gate of one lane, from `p = phi1(z)` and `sg = alpha + beta`.
#[inline(always)]
fn gate_stepped(h: f64, phi: f64, p: f64, xg: f64, a: f64, sg: f64) -> f64 {
    xg + h * phi * p * (-sg).mul_add(xg, a)
}

/// Results for one block of lanes.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
fn run_block<E: Equations, const UNIFORM: bool, const SCHEME: u8, const F32: bool>(
    eq: &E,
    s: &BatchSettings,
    current: &L,
    y0: &[&[f64]; LANES],
    steps: usize,
) -> [NeuronSummary; LANES] {
    let mut v: L = std::array::from_fn(|l| y0[l][0]);
    let (mut x, xb) = eq.rows();
    for (g, xg) in x.as_mut().iter_mut().enumerate() {
        *xg = std::array::from_fn(|l| y0[l][1 + g]);
    }
    let mut x_next = x.clone();
    // The midpoint rule's half-step gates (the other schemes never touch it), and the rates:
    // each written before it is read.
    let mut x_half = x.clone();
    let mut rows = StepRows {
        xb,
        ra: x.clone(),
        rb: x.clone(),
        g_tot: [0.0; LANES],
        i_ion: [0.0; LANES],
    };
    let mut sum = [NeuronSummary {
        first_spike_ms: f64::NAN,
        first_counted_ms: f64::NAN,
        last_counted_ms: f64::NAN,
        v_min: f64::INFINITY,
        v_max: f64::NEG_INFINITY,
        first_max_ms: f64::NAN,
        last_max_ms: f64::NAN,
        ..NeuronSummary::default()
    }; LANES];
    let (dt, th) = (s.dt, s.threshold_mv);
    let inv_c = per_lane::<UNIFORM>(eq.inv_c());
    let phi = per_lane::<UNIFORM>(eq.phi());
    let mut v_prev: L = v;
    let mut vmin: L = [f64::INFINITY; LANES];
    let mut vmax: L = [f64::NEG_INFINITY; LANES];
    let mut v_new: L = [0.0; LANES];
    let mut v_half: L = [0.0; LANES];
    for step in 0..steps {
        let t = step as f64 * dt;
        if SCHEME == STAGGERED {
            // The gates live at half steps: `x` holds them at t - dt/2 (at 0 before the
            // first step, which therefore advances them by half a step) and steps across t
            // with the rates at V(t), the midpoint of their step; V then steps across
            // [t, t + dt] with the conductances of the gates at its midpoint, t + dt/2.
            let StepRows {
                xb,
                ra,
                rb,
                g_tot,
                i_ion,
            } = &mut rows;
            eq.gate_rates::<F32>(&v, xb, ra, rb);
            let h = if step == 0 { 0.5 * dt } else { dt };
            gate_step::<F32>(
                h,
                x.as_ref(),
                ra.as_ref(),
                rb.as_ref(),
                &phi,
                x_next.as_mut(),
            );
            std::mem::swap(&mut x, &mut x_next);
            if eq.has_factor() {
                // A factor (an instantaneous gate) at V(t + dt/2), extrapolated from V at t
                // and t - dt (v_prev; at the first step, v itself): second order too.
                for l in 0..LANES {
                    v_half[l] = 1.5 * v[l] - 0.5 * v_prev[l];
                }
                eq.bases_at::<F32>(&v_half, xb);
                eq.conductances::<UNIFORM>(&v, &v_half, &x, xb, g_tot, i_ion);
            } else {
                eq.conductances::<UNIFORM>(&v, &v, &x, xb, g_tot, i_ion);
            }
            v_step(dt, &v, g_tot, i_ion, current, &inv_c, &mut v_new);
        } else if SCHEME == EULER {
            eq.exp_euler_step::<UNIFORM, F32>(
                &mut rows,
                dt,
                &v,
                &x,
                current,
                &inv_c,
                &phi,
                &mut v_new,
                &mut x_next,
            );
            std::mem::swap(&mut x, &mut x_next);
        } else {
            // The midpoint rule: half a step of exponential Euler to the midpoint, the
            // coefficients there, then the whole step from (v, x) with them. The ionic current
            // at v with the midpoint's conductances is i_h + g_h (v - v_h).
            let StepRows {
                xb,
                ra,
                rb,
                g_tot,
                i_ion,
            } = &mut rows;
            linearise::<E, UNIFORM, F32>(eq, &v, &x, xb, ra, rb, g_tot, i_ion);
            exp_step::<F32>(
                0.5 * dt,
                &v,
                x.as_ref(),
                ra.as_ref(),
                rb.as_ref(),
                g_tot,
                i_ion,
                current,
                &inv_c,
                &phi,
                &mut v_half,
                x_half.as_mut(),
            );
            linearise::<E, UNIFORM, F32>(eq, &v_half, &x_half, xb, ra, rb, g_tot, i_ion);
            for l in 0..LANES {
                i_ion[l] = g_tot[l].mul_add(v[l] - v_half[l], i_ion[l]);
            }
            exp_step::<F32>(
                dt,
                &v,
                x.as_ref(),
                ra.as_ref(),
                rb.as_ref(),
                g_tot,
                i_ion,
                current,
                &inv_c,
                &phi,
                &mut v_new,
                x_next.as_mut(),
            );
            std::mem::swap(&mut x, &mut x_next);
        }
        // Events: threshold crossings (linear interpolation) and voltage maxima at v. The
        // masks and extrema are lane-parallel; the bookkeeping runs only when a lane has one.
        let t_new = t + dt;
        let counting = t_new > s.transient;
        let mut any = false;
        for l in 0..LANES {
            let (a, b) = (v[l], v_new[l]);
            let crossed = a < th && b >= th;
            let peak = counting && is_peak(v_prev[l], a, b, t, s.transient);
            let bad = b.is_nan() || b.abs() > crate::model::V_LIMIT;
            any |= crossed | peak | bad;
            if counting {
                vmin[l] = vmin[l].min(b);
                vmax[l] = vmax[l].max(b);
            }
        }
        if !any {
            v_prev = v;
            v = v_new;
            continue;
        }
        for l in 0..LANES {
            let (a, b) = (v[l], v_new[l]);
            let o = &mut sum[l];
            if a < th && b >= th {
                let tc = t + dt * (th - a) / (b - a);
                if o.first_spike_ms.is_nan() {
                    o.first_spike_ms = tc;
                }
                if tc > s.transient {
                    if o.n_spikes > 0 {
                        let isi = tc - o.last_counted_ms;
                        o.isi_sum += isi;
                        o.isi_sumsq += isi * isi;
                    } else {
                        o.first_counted_ms = tc;
                    }
                    o.n_spikes += 1;
                    o.last_counted_ms = tc;
                }
            }
            if counting && is_peak(v_prev[l], a, b, t, s.transient) {
                if o.n_maxima == 0 {
                    o.first_max_ms = t;
                }
                o.n_maxima += 1;
                o.last_max_ms = t;
            }
            if b.is_nan() || b.abs() > crate::model::V_LIMIT {
                o.blew_up = true;
            }
        }
        v_prev = v;
        v = v_new;
    }
    for l in 0..LANES {
        sum[l].final_v = v[l];
        sum[l].v_min = vmin[l];
        sum[l].v_max = vmax[l];
    }
    sum
}

/// Run one neuron per entry of `currents` (uA/cm^2, constant) from `starts[k]` (or `starts[0]`
/// for all if it has one entry), on all cores.
pub fn run_batch(
    model: &ConductanceModel,
    currents: &[f64],
    starts: &[Vec<f64>],
    s: &BatchSettings,
) -> Result<Vec<NeuronSummary>, SimError> {
    run_batch_params(model, &[model.params.values()], currents, starts, s)
}

/// [`run_batch`] with each neuron's own parameter values (`params[k]`, in the model's
/// [`crate::model::params::ParamSet`] order; or `params[0]` for all): a parameter sweep.
/// The values are used as given; check them against the parameters' ranges first.
pub fn run_batch_params(
    model: &ConductanceModel,
    params: &[Vec<f64>],
    currents: &[f64],
    starts: &[Vec<f64>],
    s: &BatchSettings,
) -> Result<Vec<NeuronSummary>, SimError> {
    Ok(run_batch_params_until(model, params, currents, starts, s, &|_| true)?.unwrap_or_default())
}

/// [`run_batch_params`] that tells `done` the number of neurons of each block as it finishes
/// (from the worker threads): progress for an observer. Once `done` returns `false` the blocks
/// not yet started are skipped and the run returns `Ok(None)` (stopped by its caller).
pub fn run_batch_params_until(
    model: &ConductanceModel,
    params: &[Vec<f64>],
    currents: &[f64],
    starts: &[Vec<f64>],
    s: &BatchSettings,
    done: &(dyn Fn(usize) -> bool + Sync),
) -> Result<Option<Vec<NeuronSummary>>, SimError> {
    if !(s.dt.is_finite() && s.dt > 0.0 && s.t_max.is_finite() && s.dt <= s.t_max) {
        return Err(SimError::BadStep {
            dt: s.dt,
            t_max: s.t_max,
        });
    }
    if !(s.transient.is_finite() && s.transient >= 0.0 && s.transient < s.t_max) {
        return Err(SimError::BadSetting {
            what: "transient".into(),
            value: s.transient,
            allowed: format!("finite, >= 0 and < t_max = {}", s.t_max),
        });
    }
    check_rows("start state", starts, model.dim(), currents.len())?;
    check_rows("parameter set", params, model.params.len(), currents.len())?;
    let steps = (s.t_max / s.dt).round() as usize;
    // Blocks of LANES neurons, each lane with its own current, start and parameters; the last
    // block is padded by repeating its last neuron.
    let blocks: Vec<usize> = (0..currents.len().div_ceil(LANES)).collect();
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let out: Vec<Vec<NeuronSummary>> = blocks
        .par_iter()
        .map(|&b| {
            if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                return vec![];
            }
            let lo = b * LANES;
            let hi = (lo + LANES).min(currents.len());
            let k = |l: usize| (lo + l).min(hi - 1);
            let cur: L = std::array::from_fn(|l| currents[k(l)]);
            let p = lanes_of(params, k);
            let flat = Flat::new(model, &p);
            let y0 = lanes_of(starts, k);
            let out = match HhShape::of(&flat) {
                Some(shape) => run_block_of(&shape, &p, s, &cur, &y0, steps),
                None => run_block_of(&flat, &p, s, &cur, &y0, steps),
            };
            if !done(hi - lo) {
                stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            out[..hi - lo].to_vec()
        })
        .collect();
    if stopped.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    Ok(Some(out.into_iter().flatten().collect()))
}

/// [`run_block`] of the settings' scheme and precision on the model's equations `eq`, for
/// lanes with the parameters `p`.
fn run_block_of<E: Equations>(
    eq: &E,
    p: &[&[f64]; LANES],
    s: &BatchSettings,
    cur: &L,
    y0: &[&[f64]; LANES],
    steps: usize,
) -> [NeuronSummary; LANES] {
    let uniform = p.iter().all(|x| *x == p[0]);
    let mixed = s.precision == Precision::Mixed;
    match s.scheme {
        BatchScheme::ExpEuler => run_block_as::<E, EULER>(uniform, mixed, eq, s, cur, y0, steps),
        BatchScheme::ExpMidpoint => {
            run_block_as::<E, MIDPOINT>(uniform, mixed, eq, s, cur, y0, steps)
        }
        BatchScheme::ExpStaggered => {
            run_block_as::<E, STAGGERED>(uniform, mixed, eq, s, cur, y0, steps)
        }
    }
}

/// The [`BatchScheme`]s as [`run_block`]'s constant parameter.
const EULER: u8 = 0;
const MIDPOINT: u8 = 1;
const STAGGERED: u8 = 2;

/// [`run_block`] with scheme `SCHEME`, its other constant parameters picked from `uniform`
/// (every lane on the same parameters) and `mixed` (f32 exponentials).
fn run_block_as<E: Equations, const SCHEME: u8>(
    uniform: bool,
    mixed: bool,
    eq: &E,
    s: &BatchSettings,
    cur: &L,
    y0: &[&[f64]; LANES],
    steps: usize,
) -> [NeuronSummary; LANES] {
    match (uniform, mixed) {
        (true, false) => run_block::<E, true, SCHEME, false>(eq, s, cur, y0, steps),
        (false, false) => run_block::<E, false, SCHEME, false>(eq, s, cur, y0, steps),
        (true, true) => run_block::<E, true, SCHEME, true>(eq, s, cur, y0, steps),
        (false, true) => run_block::<E, false, SCHEME, true>(eq, s, cur, y0, steps),
    }
}

/// Each lane's row of `v` (the one row for all if `v` has one).
fn lanes_of(v: &[Vec<f64>], k: impl Fn(usize) -> usize) -> [&[f64]; LANES] {
    std::array::from_fn(|l| one_or_each(v, k(l)).as_slice())
}

/// Refuse the rows `rows` (start states, parameter sets: `what` names one) for `neurons`
/// neurons unless one row serves them all or there is one each, and each has `width`
/// values.
pub(crate) fn check_rows(
    what: &str,
    rows: &[Vec<f64>],
    width: usize,
    neurons: usize,
) -> Result<(), SimError> {
    let given = rows.len();
    if given == 0 || (given != 1 && given != neurons) {
        return Err(SimError::Unsupported {
            what: format!("{what}s"),
            reason: format!("{given} given for {neurons} neurons (give 1 or one each)"),
        });
    }
    if let Some(bad) = rows.iter().find(|r| r.len() != width) {
        return Err(SimError::Unsupported {
            what: what.into(),
            reason: format!("has {} values, the model has {width}", bad.len()),
        });
    }
    Ok(())
}

/// Neuron `k`'s row of `rows`: the one row for all if there is one ([`check_rows`] first).
pub(crate) fn one_or_each<T>(rows: &[T], k: usize) -> &T {
    &rows[if rows.len() == 1 { 0 } else { k }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::simulate::{self, Method, Record, Settings};
    use crate::stimulus::Stimulus;

    /// The steps by `phi1`'s series equal the steps by the exponential and the division to
    /// rounding, over the whole of each series' bound and past it (where the long way is
    /// taken): gates within 5e-16 (a gate's range is 1), V within 1e-15 of |V| + |its step|
    /// (a few units of rounding), on lanes that straddle the bounds block by block. Then
    /// stiff gates (|z| up to 1e6) land on `x_inf`, a gate whose rates are both 0 stays put,
    /// and with f32 exponentials (`--precision mixed`) the gates are within 1e-6. Every
    /// output is checked finite (a NaN would slip through `max`).
    #[test]
    fn series_steps_equal_the_exponential_steps() {
        let h = 0.05;
        let (mut worst_gate, mut worst_gate_f32, mut worst_v) = (0.0f64, 0.0f64, 0.0f64);
        // |z| from 0 to 1.5 (past 1 from about block 276 for the gates, 285 for V), then stiff.
        let zmaxes = (0..400)
            .map(|b| 1.5 * b as f64 / 400.0)
            .chain([10.0, 1e3, 1e6]);
        for zmax in zmaxes {
            let s = |l: usize| (l as f64 + 0.5) / LANES as f64;
            let phi: L = std::array::from_fn(|l| 1.0 + 2.0 * s(l));
            let sg: L = std::array::from_fn(|l| zmax * s(l) / (h * phi[l]));
            let a: L = std::array::from_fn(|l| sg[l] * (1.0 - s(l)));
            let b: L = std::array::from_fn(|l| sg[l] - a[l]);
            let x: L = std::array::from_fn(|l| s((l * 7) % LANES));
            let (mut out, mut out_f32) = ([[0.0; LANES]], [[0.0; LANES]]);
            gate_step::<false>(h, &[x], &[a], &[b], &phi, &mut out);
            gate_step::<true>(h, &[x], &[a], &[b], &phi, &mut out_f32);
            for l in 0..LANES {
                let want = if sg[l] == 0.0 {
                    x[l]
                } else {
                    let inf = a[l] / sg[l];
                    inf + (x[l] - inf) * (-h * phi[l] * sg[l]).exp()
                };
                let (err, err_f32) = ((out[0][l] - want).abs(), (out_f32[0][l] - want).abs());
                assert!(err.is_finite() && err_f32.is_finite(), "{zmax} {l}");
                worst_gate = worst_gate.max(err);
                worst_gate_f32 = worst_gate_f32.max(err_f32);
            }
            if zmax > 1.5 {
                continue;
            }
            let inv_c: L = std::array::from_fn(|l| 1.0 / (0.5 + s(l)));
            let g_tot: L = std::array::from_fn(|l| (1.0 - 2.0 * s(l)) * zmax / (h * inv_c[l]));
            let v: L = std::array::from_fn(|l| -80.0 + 120.0 * s(l));
            let i_ion: L = std::array::from_fn(|l| g_tot[l] * (v[l] + 54.0));
            let current: L = std::array::from_fn(|l| 40.0 * s(l));
            let mut v_new = [0.0; LANES];
            v_step(h, &v, &g_tot, &i_ion, &current, &inv_c, &mut v_new);
            for l in 0..LANES {
                let z = -g_tot[l] * inv_c[l] * h;
                let want =
                    v[l] + h * crate::numerics::phi::phi1(z) * (current[l] - i_ion[l]) * inv_c[l];
                let size = v[l].abs() + (want - v[l]).abs();
                let err = (v_new[l] - want).abs() / size;
                assert!(err.is_finite(), "{zmax} {l}");
                worst_v = worst_v.max(err);
            }
        }
        assert!(
            worst_gate < 5e-16 && worst_v < 1e-15 && worst_gate_f32 < 1e-6,
            "{worst_gate} {worst_v} {worst_gate_f32}"
        );
    }

    #[test]
    fn batch_equals_the_scalar_exponential_euler_path() {
        // Same spikes as the general simulator (exp-Euler, dt 0.01) for hh and hh-ca at
        // several currents: the same counts, and first-spike times within 1e-4 ms (linear vs
        // Hermite interpolation of the crossing inside a step differs by O(dt^2 V''), about
        // 1e-5 ms).
        for name in ["hh", "hh-ca"] {
            let model = Model::builtin(name).unwrap();
            let m = model.smooth().unwrap();
            let y0 = model.resting_state().unwrap();
            let currents = [0.0, 3.0, 7.0, 10.0, 25.0, 60.0, 120.0, 170.0, 210.0];
            let s = BatchSettings {
                t_max: 300.0,
                dt: 0.01,
                transient: 0.0,
                threshold_mv: 0.0,
                scheme: BatchScheme::ExpEuler,
                precision: Precision::F64,
                ode_method: crate::simulate::Method::Rk4,
            };
            let batch = run_batch(m, &currents, std::slice::from_ref(&y0), &s).unwrap();
            for (k, &i) in currents.iter().enumerate() {
                let settings = Settings {
                    t_max: 300.0,
                    dt: 0.01,
                    method: Method::ExpEuler,
                    record: Record::SpikesOnly,
                    threshold_mv: 0.0,
                };
                let r = simulate::run(&model, &Stimulus::constant(i), &y0, &settings).unwrap();
                assert_eq!(
                    batch[k].n_spikes as usize,
                    r.spikes_ms.len(),
                    "{name} at {i}"
                );
                // The same update in the same order: final V equal to rounding (the
                // polynomial exp differs from libm by an ulp, amplified over 30,000 steps).
                assert!(
                    (batch[k].final_v - r.final_state[0]).abs() < 1e-6,
                    "{name} at {i}: {} vs {}",
                    batch[k].final_v,
                    r.final_state[0]
                );
                if let Some(&t0) = r.spikes_ms.first() {
                    assert!(
                        (batch[k].first_spike_ms - t0).abs() < 1e-4,
                        "{name} at {i}: {} vs {t0}",
                        batch[k].first_spike_ms
                    );
                }
            }
        }
    }

    /// The zoo's model files, conductance-based.
    fn zoo_model(file: &str) -> Model {
        let path = format!("{}/studies/models/zoo/{file}", env!("CARGO_MANIFEST_DIR"));
        Model::from_file(std::path::Path::new(&path)).unwrap()
    }

    #[test]
    fn batch_equals_the_scalar_path_on_combined_forms_and_factors() {
        // As `batch_equals_the_scalar_exponential_euler_path`, on the models that use sums,
        // products and powers of forms (Connor-Stevens' A-current) and a current factor
        // (Wang-Buzsaki's instantaneous m_inf^3), at currents of their firing range: the same
        // spike counts and final V to 1e-6 mV (measured: 1e-10). The first spike times differ
        // by the interpolation of the crossing inside a step (linear here, Hermite there: up to
        // 1.6e-4 ms on these steeper upstrokes, 1e-4 on hh's), so they are compared to 3e-4 ms.
        for (file, currents) in [
            (
                "connor_stevens.toml",
                [0.0, 5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 40.0],
            ),
            (
                "wang_buzsaki.toml",
                [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0],
            ),
        ] {
            let model = zoo_model(file);
            let m = model.smooth().unwrap();
            let y0 = model.resting_state().unwrap();
            let s = BatchSettings {
                t_max: 300.0,
                dt: 0.01,
                transient: 0.0,
                threshold_mv: 0.0,
                scheme: BatchScheme::ExpEuler,
                precision: Precision::F64,
                ode_method: crate::simulate::Method::Rk4,
            };
            let batch = run_batch(m, &currents, std::slice::from_ref(&y0), &s).unwrap();
            let mut fired = 0;
            for (k, &i) in currents.iter().enumerate() {
                let settings = Settings {
                    t_max: 300.0,
                    dt: 0.01,
                    method: Method::ExpEuler,
                    record: Record::SpikesOnly,
                    threshold_mv: 0.0,
                };
                let r = simulate::run(&model, &Stimulus::constant(i), &y0, &settings).unwrap();
                assert_eq!(
                    batch[k].n_spikes as usize,
                    r.spikes_ms.len(),
                    "{file} at {i}"
                );
                assert!(
                    (batch[k].final_v - r.final_state[0]).abs() < 1e-6,
                    "{file} at {i}: {} vs {}",
                    batch[k].final_v,
                    r.final_state[0]
                );
                if let Some(&t0) = r.spikes_ms.first() {
                    fired += 1;
                    assert!(
                        (batch[k].first_spike_ms - t0).abs() < 3e-4,
                        "{file} at {i}: {} vs {t0}",
                        batch[k].first_spike_ms
                    );
                }
            }
            assert!(fired >= 5, "{file}: {fired} currents fired");
        }
    }

    #[test]
    fn hh_rates_take_one_exponential() {
        // hh's four shared slopes (k = 10, 18, 20, 80 mV) are multiples of 1/720: one
        // family, no base left to an exponential of its own. Every zoo and built-in model's
        // bases are either in its family or direct, each once.
        let hh = crate::model::builtin::hh();
        let p = hh.params.values();
        let flat = Flat::new(&hh, &[&p[..]; LANES]);
        assert_eq!(flat.bases.len(), 4);
        assert!(flat.direct.is_empty(), "{:?}", flat.direct);
        assert_eq!(flat.powers.as_ref().map(|f| f.members.len()), Some(4));
        let dir = format!("{}/studies/models/zoo", env!("CARGO_MANIFEST_DIR"));
        let files = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path());
        let builtins = ["hh-1952", "hh-ca"].map(std::path::PathBuf::from);
        let mut counts = vec![];
        for path in builtins.into_iter().chain(files) {
            let model = match Model::builtin(&path.to_string_lossy()) {
                Ok(m) => m,
                Err(_) => match Model::from_file(&path) {
                    Ok(m) => m,
                    Err(_) => continue,
                },
            };
            let Ok(m) = model.smooth() else { continue };
            let p = m.params.values();
            let flat = Flat::new(m, &[&p[..]; LANES]);
            let members: Vec<usize> = flat
                .powers
                .as_ref()
                .map_or(vec![], |f| f.members.iter().map(|x| x.0).collect());
            let mut all: Vec<usize> = members.iter().chain(&flat.direct).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..flat.bases.len()).collect::<Vec<_>>(), "{path:?}");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            counts.push((name, flat.bases.len(), members.len()));
        }
        // (bases, in the family) per model, as docs/speed.md states them.
        counts.sort();
        let want = [
            ("connor_stevens.toml", 9, 3),
            ("hh-1952", 4, 4),
            ("hh-ca", 5, 5),
            ("wang_buzsaki.toml", 4, 4),
        ]
        .map(|(n, b, m)| (n.to_string(), b, m));
        assert_eq!(counts, want.to_vec());
    }

    #[test]
    fn lane_rates_equal_the_scalar_rates() {
        // Every rate function and current factor of hh, Connor-Stevens and Wang-Buzsaki (every
        // form and combination), on lanes of voltages through the linoids' singularities,
        // against RateFn::eval: equal to 1e-14 relative (the lanes' polynomial exp is within an
        // ulp of libm's).
        let zoo = |f: &str| zoo_model(f).smooth().unwrap().clone();
        let models = [
            crate::model::builtin::hh(),
            zoo("connor_stevens.toml"),
            zoo("wang_buzsaki.toml"),
        ];
        let mut rates: Vec<RateFn> = vec![];
        for m in &models {
            for g in &m.gates {
                match &g.kinetics {
                    Kinetics::AlphaBeta { alpha, beta } => {
                        rates.extend([alpha.clone(), beta.clone()])
                    }
                    Kinetics::InfTau { inf, tau } => rates.extend([inf.clone(), tau.clone()]),
                }
            }
            rates.extend(m.currents.iter().filter_map(|c| c.factor.clone()));
        }
        let all = format!("{rates:?}");
        assert!(["Sum", "Product", "Power"].iter().all(|f| all.contains(f)));
        let voltages: Vec<f64> = (0..=40 * LANES)
            .map(|k| -100.0 + 0.25 * k as f64)
            .chain([-40.0, -55.0, -35.0, -34.0, -29.7, -45.7])
            .collect();
        for r in &rates {
            let mut bases = vec![];
            let lane = LaneRate::new(r, &mut bases);
            for chunk in voltages.chunks(LANES) {
                let v: L = std::array::from_fn(|l| chunk[l.min(chunk.len() - 1)]);
                let mut x = vec![[0.0; LANES]; bases.len()];
                for (b, &(c, d)) in bases.iter().enumerate() {
                    let t: L = std::array::from_fn(|l| c.mul_add(v[l], d));
                    exp_lanes(&t, &mut x[b]);
                }
                let mut out = [0.0; LANES];
                rate_lanes(&lane, &v, &x, &mut out);
                for l in 0..LANES {
                    let want = r.eval(v[l]);
                    assert!(
                        (out[l] - want).abs() <= 1e-14 * want.abs(),
                        "{r:?} at V = {}: lanes {} vs scalar {want}",
                        v[l],
                        out[l]
                    );
                }
            }
        }
    }
}
