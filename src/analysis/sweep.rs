//! Parameter grids: the firing of a model over a grid of model parameters (any number of
//! axes; the CLI takes one or two) and the injected current. A conductance-based model runs
//! on the batch kernel; an XPPAUT `.ode` model runs RK4 on lanes (its equations compiled for
//! blocks of neurons, each lane its own parameter values, [`crate::simulate::ode_lanes`]), or,
//! where its equations do not compile for lanes, on the general simulator one neuron at a time
//! ([`Runner`] says which, and why).
//!
//! A point whose run blows up (|V| reaches [`crate::model::V_LIMIT`] or the state stops being
//! finite) is flagged (`blew_up` in its summary) and the others go on: one bad corner of a
//! grid does not lose the rest.
//!
//! Each grid point is a step from the resting state at 0 uA/cm^2 *of its own parameter set*
//! (an experiment's protocol: change the parameter, let the cell settle, inject). A parameter
//! set without a stable equilibrium at 0 starts on its lowest equilibrium displaced by
//! [`crate::model::UNSTABLE_START_KICK`] in V, so every integrator leaves it the same way
//! ([`crate::model::start`]); [`SweepPoint::rest_start`] says which.
//!
//! Points are numbered row-major with the current fastest, so a grid splits into
//! deterministic contiguous [`Shard`]s: every point costs the same (fixed-step kernel), so
//! equal counts are equal work. The kernels choose some of a step's polynomials for a whole
//! lane block at once (`phi1`'s series by the block's largest |z|, the power family's root
//! near zero), so a point's last bits depend on the other points of its block; a sweep
//! therefore runs its range widened to whole blocks of the grid ([`BLOCK_ALIGN`]) and keeps
//! its own points, so shards merged equal the whole run bit for bit.

use super::accuracy::{Accuracy, compare, sample};
use crate::error::{Error, ModelError, SimError};
use crate::model::Model;
use crate::model::field::Field;
use crate::model::params::ParamSet;
use crate::progress::{Observer, Silent, Tracker};
use crate::simulate::batch::{BatchSettings, NeuronSummary};
use crate::simulate::runner::{BlowUps, Runner};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One parameter axis of a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// A parameter name of the model.
    pub name: String,
    /// Its values, in its unit.
    pub values: Vec<f64>,
}

/// The grid: parameter axes (first slowest) and currents (fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The parameter axes, the first slowest.
    pub axes: Vec<Axis>,
    /// uA/cm^2.
    pub currents: Vec<f64>,
}

impl Grid {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product::<usize>() * self.currents.len()
    }

    /// Whether it has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The axis values and the current of point `k`.
    pub fn point(&self, k: usize) -> (Vec<f64>, f64) {
        let nc = self.currents.len();
        let mut combo = k / nc;
        let mut values = vec![0.0; self.axes.len()];
        for (a, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.values.len();
            values[a] = axis.values[combo % n];
            combo /= n;
        }
        (values, self.currents[k % nc])
    }

    /// Check the axes against a model's parameters `params`: known, distinct parameters,
    /// non-empty, every value in its parameter's range; finite currents.
    pub fn check(&self, params: &ParamSet) -> Result<(), Error> {
        if self.currents.is_empty() || self.currents.iter().any(|i| !i.is_finite()) {
            return Err(SimError::BadSetting {
                what: "currents".into(),
                value: self.currents.len() as f64,
                allowed: "one or more finite currents (uA/cm^2)".into(),
            }
            .into());
        }
        for (k, axis) in self.axes.iter().enumerate() {
            let p = params.param(params.require(&axis.name)?);
            if self.axes[..k].iter().any(|a| a.name == axis.name) {
                return Err(SimError::BadSetting {
                    what: format!("parameter axis {}", axis.name),
                    value: k as f64,
                    allowed: "each parameter once".into(),
                }
                .into());
            }
            if axis.values.is_empty() {
                return Err(SimError::BadSetting {
                    what: format!("parameter axis {}", axis.name),
                    value: 0.0,
                    allowed: "at least one value".into(),
                }
                .into());
            }
            for &v in &axis.values {
                p.check(v)?;
            }
        }
        Ok(())
    }
}

/// A deterministic part `index` (0-based) of `count` of a grid; written `K/N` (1-based K).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Shard {
    /// Which part, from 0.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        Shard::parse(text).ok_or_else(|| format!("'{text}': expected K/N with 1 <= K <= N"))
    }
}

impl TryFrom<String> for Shard {
    type Error = String;

    fn try_from(text: String) -> Result<Shard, String> {
        text.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl std::fmt::Display for Shard {
    /// `K/N`, 1-based.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// `K/N` with 1 <= K <= N (1-based, as a Slurm array task id).
    pub fn parse(text: &str) -> Option<Shard> {
        let (k, n) = text.split_once('/')?;
        let (k, n): (usize, usize) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (n >= 1 && (1..=n).contains(&k)).then_some(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// The points of a grid of `total` this shard runs.
    pub fn range(&self, total: usize) -> Range<usize> {
        self.index * total / self.count..(self.index + 1) * total / self.count
    }
}

/// One grid point's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// Its number in the whole grid.
    pub index: usize,
    /// Axis values, in the grid's axis order.
    pub values: Vec<f64>,
    /// The injected current (uA/cm^2).
    pub current: f64,
    /// Started from a stable resting state; false: from the lowest equilibrium, unstable,
    /// displaced by [`crate::model::UNSTABLE_START_KICK`] in V.
    pub rest_start: bool,
    /// Spikes, intervals and voltage range of the run.
    pub summary: NeuronSummary,
}

/// What runs a sweep's points: the [`Runner`] of `model`, refused for a model without a
/// smooth autonomous vector field (LIF, an `.ode` model with global flags or one that reads
/// `t`): every point starts from a resting state of its own parameter set, which needs the
/// model's equilibria. A parameter set without any equilibrium stops the sweep with that error
/// (there is no start to flag a point from); a run that blows up only flags its point.
pub fn sweep_runner(model: &Model) -> Result<Runner<'_>, Error> {
    Field::of(model)?;
    if let Model::Lif(_) = model {
        return Err(ModelError::NotSmooth {
            model: model.name().into(),
        }
        .into());
    }
    Ok(Runner::of(model))
}

/// Grid points per lane block of every sweep engine: the `.ode` lanes' 32, a multiple of the
/// batch kernel's 16. [`sweep_with`] runs its range from and to multiples of it (or the
/// grid's end), so each point's block holds the same points whatever range it is run in.
pub const BLOCK_ALIGN: usize = crate::model::ode::lanes::LANES;
const _: () = assert!(BLOCK_ALIGN.is_multiple_of(crate::simulate::batch::LANES));

/// Run the points `range` of `grid` (all cores).
pub fn sweep(
    model: &Model,
    grid: &Grid,
    settings: &BatchSettings,
    range: Range<usize>,
) -> Result<Vec<SweepPoint>, Error> {
    sweep_with(model, grid, settings, range, &Silent)
}

/// [`sweep`] reporting the points run to `observer` (task `grid points`, as each lane block
/// finishes) and stopping with [`Cancelled`](crate::progress::Cancelled) when it says so.
pub fn sweep_with(
    model: &Model,
    grid: &Grid,
    settings: &BatchSettings,
    range: Range<usize>,
    observer: &dyn Observer,
) -> Result<Vec<SweepPoint>, Error> {
    let engine = sweep_runner(model)?;
    grid.check(model.params())?;
    let kept = range.start.min(grid.len())..range.end.min(grid.len());
    if kept.is_empty() {
        return Ok(vec![]);
    }
    // The range widened to whole blocks of the grid (at most 2 (BLOCK_ALIGN - 1) points more).
    let range = kept.start / BLOCK_ALIGN * BLOCK_ALIGN
        ..kept.end.next_multiple_of(BLOCK_ALIGN).min(grid.len());
    let nc = grid.currents.len();
    // Each parameter set in the range once: its values and its start state.
    let combos: Vec<usize> = (range.start / nc..=(range.end - 1) / nc).collect();
    let setups = combos
        .par_iter()
        .map(|&c| setup(model, grid, c * nc))
        .collect::<Result<Vec<_>, Error>>()?;
    let first = combos[0];
    let of = |k: usize| &setups[k / nc - first];
    let params: Vec<Vec<f64>> = range.clone().map(|k| of(k).0.clone()).collect();
    let starts: Vec<Vec<f64>> = range.clone().map(|k| of(k).1.clone()).collect();
    let currents: Vec<f64> = range.clone().map(|k| grid.point(k).1).collect();
    let tracker = Tracker::new(observer, "grid points", Some(range.len() as u64));
    let progress = |n: usize| -> Result<(), Error> { Ok(tracker.neurons(n)?) };
    let mut runs = engine.run(
        &params,
        &currents,
        &starts,
        settings,
        BlowUps::Flag,
        &progress,
    )?;
    // Oscillations without a spike that ring down to rest are none.
    engine.judge_ringing::<Error>(&params, &currents, &starts, settings, &mut runs)?;
    Ok(range
        .zip(runs)
        .filter(|(k, _)| kept.contains(k))
        .map(|(k, summary)| {
            let (values, current) = grid.point(k);
            SweepPoint {
                index: k,
                values,
                current,
                rest_start: of(k).2,
                summary,
            }
        })
        .collect())
}

/// The dt/2 check ([`super::accuracy`]) of a sweep's result, from the grid points `index`
/// with their spike counts and mean ISIs at dt (as a merged table holds them): a sample of
/// the firing points is re-run at dt/2 from the same starts, on the same engine.
pub fn sweep_accuracy(
    model: &Model,
    grid: &Grid,
    settings: &BatchSettings,
    index: &[usize],
    n_spikes: &[u32],
    isi_mean_ms: &[f64],
) -> Result<Option<Accuracy>, Error> {
    let engine = sweep_runner(model)?;
    let picked = sample(n_spikes);
    if picked.is_empty() {
        return Ok(None);
    }
    // Each parameter set's rest once, in parallel: an `.ode` model's equilibria cost tens of
    // milliseconds each.
    let nc = grid.currents.len();
    let combos: std::collections::BTreeSet<usize> = picked.iter().map(|&j| index[j] / nc).collect();
    let setups = combos
        .into_par_iter()
        .map(|c| Ok((c, setup(model, grid, c * nc)?)))
        .collect::<Result<std::collections::HashMap<_, _>, Error>>()?;
    let (mut params, mut starts, mut coarse) = (vec![], vec![], vec![]);
    for j in picked {
        let (p, start, _) = setups[&(index[j] / nc)].clone();
        // The ISI sums, rebuilt from the mean so `isi_rate_hz` reads the same.
        let n = n_spikes[j];
        let at_dt = NeuronSummary {
            n_spikes: n,
            isi_sum: isi_mean_ms[j] * (n.max(1) - 1) as f64,
            ..NeuronSummary::default()
        };
        params.push(p);
        starts.push(start);
        coarse.push((grid.point(index[j]).1, at_dt));
    }
    let fine = BatchSettings {
        dt: settings.dt / 2.0,
        ..*settings
    };
    let currents: Vec<f64> = coarse.iter().map(|c| c.0).collect();
    let runs = engine.run(&params, &currents, &starts, &fine, BlowUps::Flag, &|_| {
        Ok::<(), Error>(())
    })?;
    Ok(compare(&coarse, &runs, engine.order(settings)))
}

/// The full parameter vector, start state and whether it is a stable rest, for the parameter
/// set of grid point `k`.
fn setup(model: &Model, grid: &Grid, k: usize) -> Result<(Vec<f64>, Vec<f64>, bool), Error> {
    let (values, _) = grid.point(k);
    let mut m = model.clone();
    for (axis, v) in grid.axes.iter().zip(values) {
        m.set(&axis.name, v)?;
    }
    let start = m.start_at(0.0)?;
    Ok((m.params().values(), start.state, start.kind.is_rest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;
    use crate::simulate::batch::{BatchScheme, Precision, run_batch};

    fn grid() -> Grid {
        Grid {
            axes: vec![Axis {
                name: "g_k".into(),
                values: vec![30.0, 36.0, 42.0],
            }],
            currents: vec![0.0, 10.0, 20.0, 30.0, 40.0],
        }
    }

    #[test]
    fn points_are_row_major_with_the_current_fastest() {
        let g = grid();
        assert_eq!(g.len(), 15);
        assert_eq!(g.point(0), (vec![30.0], 0.0));
        assert_eq!(g.point(7), (vec![36.0], 20.0));
        assert_eq!(g.point(14), (vec![42.0], 40.0));
    }

    #[test]
    fn shards_cover_the_grid_once() {
        for total in [0, 1, 7, 15, 1000] {
            for n in 1..=6 {
                let mut covered = vec![];
                for k in 1..=n {
                    covered.extend(Shard::parse(&format!("{k}/{n}")).unwrap().range(total));
                }
                assert_eq!(covered, (0..total).collect::<Vec<_>>());
            }
        }
        assert!(Shard::parse("0/4").is_none());
        assert!(Shard::parse("5/4").is_none());
        assert!(Shard::parse("a/4").is_none());
    }

    /// Per-lane parameters give what a model with that parameter gives on its own.
    #[test]
    fn each_point_equals_a_run_of_its_own_model() {
        let hh = Model::Conductance(builtin::hh());
        let m = builtin::hh();
        let s = BatchSettings {
            t_max: 100.0,
            dt: 0.01,
            transient: 20.0,
            threshold_mv: 0.0,
            scheme: BatchScheme::ExpEuler,
            precision: Precision::F64,
            ode_method: crate::simulate::Method::Rk4,
        };
        let g = grid();
        let pts = sweep(&hh, &g, &s, 0..g.len()).unwrap();
        for p in &pts {
            let mut mk = m.clone();
            mk.params.set("g_k", p.values[0]).unwrap();
            let rest = crate::model::Model::Conductance(mk.clone())
                .rest(0.0)
                .unwrap()
                .state;
            let mut own = run_batch(&mk, &[p.current], &[rest], &s).unwrap()[0];
            // The runner's judgements of the whole run, beyond the kernel: a train that
            // stopped, and ringing re-judged on a trace (tested in `simulate::runner`).
            own.mark_stopped(s.transient, s.t_max);
            own.damped = p.summary.damped;
            // Debug text compares every field exactly, NaN included.
            assert_eq!(
                format!("{own:?}"),
                format!("{:?}", p.summary),
                "g_k {} I {}",
                p.values[0],
                p.current
            );
            assert!(p.rest_start);
        }
        // g_k matters: at 10 uA/cm^2 the three g_k values fire at different rates.
        let n: Vec<u32> = pts
            .iter()
            .filter(|p| p.current == 10.0)
            .map(|p| p.summary.n_spikes)
            .collect();
        assert!(n[0] != n[1] || n[1] != n[2], "{n:?}");
    }

    /// Ranges that start and end inside lane blocks (of 16 and of 32 points) give each point
    /// the bits of the whole run, on a grid where the blocks mix resting and firing neurons
    /// (so `phi1`'s series, chosen by the block, differ between blocks): each range is run
    /// widened to whole blocks of the grid.
    #[test]
    fn ranges_inside_lane_blocks_equal_the_whole_run_bit_for_bit() {
        let hh = Model::Conductance(builtin::hh());
        let s = BatchSettings {
            t_max: 60.0,
            dt: 0.01,
            transient: 10.0,
            threshold_mv: 0.0,
            scheme: BatchScheme::ExpEuler,
            precision: Precision::F64,
            ode_method: crate::simulate::Method::Rk4,
        };
        let g = Grid {
            axes: vec![Axis {
                name: "g_k".into(),
                values: vec![30.0, 36.0],
            }],
            currents: (0..40).map(|k| k as f64 * 2.5).collect(),
        };
        let whole = sweep(&hh, &g, &s, 0..g.len()).unwrap();
        let mut parts = vec![];
        for r in [0..5, 5..37, 37..50, 50..80] {
            parts.extend(sweep(&hh, &g, &s, r).unwrap());
        }
        assert_eq!(parts.len(), 80);
        for (a, b) in whole.iter().zip(&parts) {
            assert_eq!(a.index, b.index);
            // Debug text compares every field exactly, NaN included.
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "point {}", a.index);
        }
        assert!(whole.iter().any(|p| p.summary.n_spikes == 0));
        assert!(whole.iter().any(|p| p.summary.n_spikes > 2));
    }

    #[test]
    fn bad_axes_are_refused_by_name() {
        let m = builtin::hh();
        let mut g = grid();
        g.axes[0].name = "g_q".into();
        assert!(g.check(&m.params).unwrap_err().to_string().contains("g_q"));
        let mut g = grid();
        g.axes[0].values.push(-1.0);
        let e = g.check(&m.params).unwrap_err().to_string();
        assert!(e.contains("g_k") && e.contains("-1"), "{e}");
    }
}
