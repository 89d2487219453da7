//! How far one simulation's spike times are from converged: the same neurons run again with a
//! finer integration (half the step, or for the adaptive method tolerances a hundred times
//! tighter), compared spike by spike. The difference estimates the error of the coarser run by
//! Richardson's argument: a method of order p has `e(dt) - e(dt/2) = (1 - 2^-p) e(dt)`, so the
//! error is the difference times `2^p / (2^p - 1)`; for tolerances a hundred times tighter,
//! times 100/99. Where the two runs count different spikes, or the same number of different
//! spikes (a difference beyond half the train's shortest interval), the times are not
//! compared: the train itself is not converged, which is said instead.

use super::accuracy::richardson_factor;
use crate::error::SimError;
use crate::model::{Model, Number, Quantity};
use crate::simulate::{self, Method, Record, Run, Settings, Tolerances};
use crate::stimulus::{Component, Stimulus};

/// The outcome of the check.
#[derive(Debug, Clone, PartialEq)]
pub enum SpikeAccuracy {
    /// The finer run was not made, and why (in words).
    NotRun(String),
    /// The finer run and its comparison.
    Checked {
        /// The finer run, in words (`dt/2 = 0.005 ms`, `rtol 1e-9, atol 1e-11`).
        finer: String,
        /// Spikes compared (in neurons whose counts agree).
        compared: usize,
        /// The neurons whose spike counts differ between the runs, with the difference
        /// (finer minus coarser).
        count_changes: Vec<(usize, i64)>,
        /// The neurons with as many spikes in both runs but not the same ones: a spike moved by
        /// more than half the shortest interval of its train.
        mismatched: Vec<usize>,
        /// The largest difference of a spike time between the runs (ms); NaN where no spike
        /// was compared.
        max_diff_ms: f64,
        /// That difference times the Richardson factor: the estimated error of the spike
        /// times of the run (ms).
        estimate_ms: f64,
        /// The order the factor assumed, in words (`rk4, fourth order`).
        basis: String,
    },
}

/// Spike trains of every neuron at the run's own settings (`coarse`) and the finer ones
/// (`fine`, the same neurons in order), compared; `factor` is the Richardson factor
/// ([`richardson`]).
pub fn compare(
    coarse: &[&[f64]],
    fine: &[&[f64]],
    finer: String,
    (factor, basis): (f64, String),
) -> SpikeAccuracy {
    let mut compared = 0;
    let mut count_changes = vec![];
    let mut mismatched = vec![];
    let mut max_diff = f64::NAN;
    for (k, (a, b)) in coarse.iter().zip(fine).enumerate() {
        if a.len() != b.len() {
            count_changes.push((k, b.len() as i64 - a.len() as i64));
            continue;
        }
        let worst = a
            .iter()
            .zip(b.iter())
            .fold(0.0f64, |w, (x, y)| w.max((x - y).abs()));
        let shortest = a
            .windows(2)
            .chain(b.windows(2))
            .fold(f64::INFINITY, |m, w| m.min(w[1] - w[0]));
        if worst > 0.5 * shortest {
            mismatched.push(k);
            continue;
        }
        if !a.is_empty() {
            // NaN never wins `max`: the first train compared sets it.
            max_diff = if max_diff.is_nan() {
                worst
            } else {
                max_diff.max(worst)
            };
        }
        compared += a.len();
    }
    SpikeAccuracy::Checked {
        finer,
        compared,
        count_changes,
        mismatched,
        max_diff_ms: max_diff,
        estimate_ms: max_diff * factor,
        basis,
    }
}

/// Edges of a stimulus listed to see whether they fall on the step grid; with more, the
/// stimulus is taken to change between steps.
const MAX_EDGES_LISTED: usize = 100_000;

/// The Richardson factor of the finer run of `method` at step `dt` under `stim` over
/// `[0, t_max]`, and the order it assumed in words. A fixed-step method takes the stimulus's
/// mean over each step, so a stimulus that changes within a step (a ramp, a sine, an edge off
/// the grid) costs second order: RK4's factor is then the second order's, 4/3; a stimulus that
/// changes within most steps (noise or a table sampled faster than the step) costs an error of
/// O(dt^2) in each, first order, and the factor is 2.
pub fn richardson(method: &Method, dt: f64, stim: &Stimulus, t_max: f64) -> (f64, String) {
    let order = match method {
        Method::Dopri5(_) => return (100.0 / 99.0, "tolerances a hundred times tighter".into()),
        Method::Euler(_) | Method::ExpEuler => 1,
        Method::Rk4 => 4,
    };
    let varies = stim
        .components
        .iter()
        .any(|c| matches!(c, Component::Ramp { .. } | Component::Sine { .. }));
    let steps = t_max / dt;
    let edges = stim.breakpoint_count(0.0, t_max);
    // Edges (noise, a table) in most steps put an error of O(dt^2) into each: first order.
    let dense = edges > 0.5 * steps;
    let off_grid = varies
        || edges > MAX_EDGES_LISTED as f64
        || stim
            .breakpoints(0.0, t_max)
            .iter()
            .any(|&t| ((t / dt).round() * dt - t).abs() > 1e-9 * dt.max(t.abs()));
    let (p, why) = if order > 1 && dense {
        (
            1,
            ", first order where the stimulus changes within most steps",
        )
    } else if order > 2 && off_grid {
        (2, ", second order where the stimulus changes within a step")
    } else {
        (order, "")
    };
    let name = if order == 1 { "first" } else { "fourth" };
    (
        richardson_factor(p),
        format!("{}, {name} order{why}", method.name()),
    )
}

/// The most neuron-steps the accuracy check's finer run may take (about 0.7 s of RK4 on `hh`
/// on two cores); a larger run states its accuracy as not checked, and why.
pub const ACCURACY_CHECK_STEPS: f64 = 2e6;

/// The tightest relative tolerance the check's finer dopri5 run takes: about 50 units of
/// f64's rounding.
const MIN_CHECK_RTOL: f64 = 1e-14;

/// The accuracy of `runs` (made with `settings`): the same neurons again at half the step,
/// or for dopri5 with tolerances a hundred times tighter (LIF, whose dopri5 is its exact flow
/// over each step, also at half the step), spikes only, compared spike by spike; not run
/// where that would take more than [`ACCURACY_CHECK_STEPS`] neuron-steps or fails, or where
/// the tighter tolerances gave the same spike times to the last bit (steps set by the
/// stimulus's edges, not by the tolerances: no estimate), said in words. A stop asked for
/// during the check stops the command, as during the runs.
pub fn check(
    model: &Model,
    stim: &Stimulus,
    start: &[f64],
    bias: &[f64],
    settings: &Settings,
    runs: &[Run],
    go_on: &(dyn Fn() -> bool + Sync),
) -> Result<SpikeAccuracy, SimError> {
    let lif = matches!(model, Model::Lif(_));
    let (finer, what, cost) = match settings.method {
        Method::Dopri5(t) if !lif && t.rtol / 100.0 < MIN_CHECK_RTOL => {
            return Ok(SpikeAccuracy::NotRun(format!(
                "tolerances a hundred times tighter than rtol {} would be below {}, under what f64's rounding lets a step control",
                crate::error::short(t.rtol),
                crate::error::short(MIN_CHECK_RTOL)
            )));
        }
        Method::Dopri5(t) if !lif => {
            // A hundred times, not ten: where the stimulus's edges pin the steps, ten times
            // tighter tolerances had moved noise-driven spikes by an eighth of their error.
            let tighter = Tolerances {
                rtol: t.rtol / 100.0,
                atol: t.atol / 100.0,
            };
            // A hundred times tighter takes 100^(1/5) times the steps of a fifth-order method.
            let steps: u64 = runs.iter().map(|r| r.steps).sum();
            // Where the stimulus's edges are about as many as the steps, they, not the
            // tolerances, set the steps, and the error shrinks less than the tolerances: a
            // tighter run would understate it (6x seen with noise every 0.03 ms).
            let per_neuron = steps as f64 / runs.len().max(1) as f64;
            let edges = stim.breakpoint_count(0.0, settings.t_max);
            if edges > 0.5 * per_neuron {
                return Ok(SpikeAccuracy::NotRun(format!(
                    "the stimulus changes {} times, about as often as dopri5 steps ({} steps a neuron), so its edges, not the tolerances, set the steps and tighter tolerances would understate the error; a fixed-step method's dt/2 check would not",
                    Number(edges),
                    Number(per_neuron.round())
                )));
            }
            (
                Settings {
                    method: Method::Dopri5(tighter),
                    ..settings.clone()
                },
                format!(
                    "rtol {}, atol {}",
                    crate::error::short(tighter.rtol),
                    crate::error::short(tighter.atol)
                ),
                steps as f64 * 100f64.powf(0.2),
            )
        }
        _ => {
            let dt = settings.dt / 2.0;
            (
                Settings {
                    dt,
                    ..settings.clone()
                },
                format!("dt/2 = {}", Quantity(dt, model.units().time)),
                2.0 * runs.len() as f64 * settings.t_max / settings.dt,
            )
        }
    };
    if cost > ACCURACY_CHECK_STEPS {
        return Ok(SpikeAccuracy::NotRun(format!(
            "a run at {what} would take about {} neuron-steps; the check runs up to {}",
            Number(cost.round()),
            Number(ACCURACY_CHECK_STEPS)
        )));
    }
    let finer = Settings {
        record: Record::SpikesOnly,
        ..finer
    };
    let fine = match simulate::run_many(model, stim, start, bias, &finer, &|_| Ok(()), go_on) {
        Ok(fine) => fine,
        Err(SimError::Stopped) => return Err(SimError::Stopped),
        Err(e) => {
            return Ok(SpikeAccuracy::NotRun(format!(
                "the run at {what} failed: {e}"
            )));
        }
    };
    let a: Vec<&[f64]> = runs.iter().map(|r| r.spikes_ms.as_slice()).collect();
    let b: Vec<&[f64]> = fine.iter().map(|r| r.spikes_ms.as_slice()).collect();
    let factor = if lif {
        (
            richardson_factor(1),
            format!(
                "lif's {} steps over each step's mean current, taken as first order",
                settings.method.name()
            ),
        )
    } else {
        richardson(&settings.method, settings.dt, stim, settings.t_max)
    };
    let checked = compare(&a, &b, what.clone(), factor);
    // Tighter tolerances that moved no spike give no estimate; a train that changed is still
    // said (below, as not converged).
    let unmoved = matches!(&checked, SpikeAccuracy::Checked { compared, max_diff_ms, count_changes, mismatched, .. }
        if *compared > 0 && *max_diff_ms == 0.0 && count_changes.is_empty() && mismatched.is_empty());
    if unmoved && matches!(settings.method, Method::Dopri5(_)) && !lif {
        return Ok(SpikeAccuracy::NotRun(format!(
            "a run at {what} gave the same spike times to the last bit: the stimulus's edges, not the tolerances, set the steps, so the tolerances give no estimate"
        )));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_counts_give_the_largest_difference_and_its_richardson_estimate() {
        // Neuron 2 has as many spikes at dt/2, but its second is another spike (moved by more
        // than half its train's shortest interval).
        let coarse: [&[f64]; 3] = [&[1.0, 2.0, 3.0], &[5.0], &[10.0, 30.0, 40.0]];
        let fine: [&[f64]; 3] = [&[1.001, 2.0, 2.997], &[5.0, 9.0], &[10.0, 36.0, 40.0]];
        let SpikeAccuracy::Checked {
            compared,
            count_changes,
            mismatched,
            max_diff_ms,
            estimate_ms,
            ..
        } = compare(&coarse, &fine, "dt/2".into(), (2.0, "first".into()))
        else {
            panic!("checked");
        };
        assert_eq!(compared, 3);
        assert_eq!(count_changes, vec![(1, 1)]);
        assert_eq!(mismatched, vec![2]);
        assert!((max_diff_ms - 0.003).abs() < 1e-12);
        assert!((estimate_ms - 0.006).abs() < 1e-12);
        // No spike compared: NaN, not 0.
        let none: [&[f64]; 1] = [&[]];
        let SpikeAccuracy::Checked { max_diff_ms, .. } =
            compare(&none, &none, "dt/2".into(), (2.0, "first".into()))
        else {
            panic!("checked");
        };
        assert!(max_diff_ms.is_nan());
    }

    #[test]
    fn the_factor_follows_the_order_and_falls_to_second_for_an_edge_within_a_step() {
        let on_grid = Stimulus::parse("step:5:50:10").unwrap();
        let off_grid = Stimulus::parse("step:5.003:50:10").unwrap();
        let (f, _) = richardson(&Method::Rk4, 0.01, &on_grid, 100.0);
        assert!((f - 16.0 / 15.0).abs() < 1e-15);
        let (f, why) = richardson(&Method::Rk4, 0.01, &off_grid, 100.0);
        assert!((f - 4.0 / 3.0).abs() < 1e-15, "{why}");
        assert!(
            why.contains("second order where the stimulus changes"),
            "{why}"
        );
        let sine = Stimulus::parse("sine:1:10").unwrap();
        assert!((richardson(&Method::Rk4, 0.01, &sine, 100.0).0 - 4.0 / 3.0).abs() < 1e-15);
        let (f, _) = richardson(&Method::ExpEuler, 0.01, &off_grid, 100.0);
        assert_eq!(f, 2.0);
        // Noise drawn every 0.005 ms, twice a step: first order.
        let noise = Stimulus::parse("noise:0:1:3:0.005").unwrap();
        let (f, why) = richardson(&Method::Rk4, 0.01, &noise, 100.0);
        assert_eq!(f, 2.0, "{why}");
        let (f, _) = richardson(&Method::Dopri5(Default::default()), 0.01, &off_grid, 100.0);
        assert!((f - 100.0 / 99.0).abs() < 1e-15);
    }
}
