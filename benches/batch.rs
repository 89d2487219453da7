//! Throughput of the batch kernel on the sweep: N neurons of `hh`, neuron k at
//! I = 200 k / N uA/cm^2, 1000 ms at dt = 0.01 ms, exponential Euler, spikes counted, no trace.
//! Items are neuron-steps; `cargo bench --bench batch` prints them per second, on one core and
//! on all cores (this machine: 2).

use divan::{Bencher, counter::ItemsCount};
use excitable::model::builtin;
use excitable::simulate::batch::{BatchScheme, BatchSettings, Precision, run_batch_params};

fn main() {
    divan::main();
}

const N: usize = 512;

#[divan::bench(sample_count = 3, args = [1, 2])]
fn hh_sweep_exp_euler(bencher: Bencher, threads: usize) {
    // One parameter set for all lanes: what `run_batch` passes on (broadcast constants).
    sweep(bencher, threads, vec![builtin::hh().params.values()]);
}

/// The integrators and precisions on one core, in one run (items: neuron-steps at dt = 0.01
/// ms; a midpoint step, two evaluations of the rates, counts once): the cost of a step of
/// each. `exp-midpoint` at dt = 0.02 ms is within 0.1% of converged rates (0.067%,
/// `tests/fi.rs`); `exp-euler`, first order with 0.72% at dt = 0.01 ms, would need dt near
/// 0.0014 ms.
#[divan::bench(sample_count = 3, args = ["exp-euler/f64", "exp-euler/mixed", "exp-midpoint/f64", "exp-midpoint/mixed"])]
fn hh_sweep_scheme_and_precision(bencher: Bencher, which: &str) {
    let (scheme, precision) = which.split_once('/').unwrap();
    let scheme = match scheme {
        "exp-euler" => BatchScheme::ExpEuler,
        _ => BatchScheme::ExpMidpoint,
    };
    let precision = match precision {
        "f64" => Precision::F64,
        _ => Precision::Mixed,
    };
    run(
        bencher,
        1,
        vec![builtin::hh().params.values()],
        scheme,
        precision,
    );
}

/// A parameter sweep: the same neurons, but every lane with its own g_K (20..50 mS/cm^2), so
/// the kernel loads per-lane parameters instead of broadcasting them.
#[divan::bench(sample_count = 3, args = [1, 2])]
fn hh_gk_sweep_per_lane_parameters(bencher: Bencher, threads: usize) {
    let model = builtin::hh();
    let gk = model.params.index("g_k").unwrap();
    let params = (0..N)
        .map(|k| {
            let mut p = model.params.values();
            p[gk] = 20.0 + 30.0 * ((k * 7) % N) as f64 / N as f64;
            p
        })
        .collect();
    sweep(bencher, threads, params);
}

/// The sweep on `threads` threads with these parameter sets (one, or one per neuron).
fn sweep(bencher: Bencher, threads: usize, params: Vec<Vec<f64>>) {
    run(
        bencher,
        threads,
        params,
        BatchScheme::ExpEuler,
        Precision::F64,
    );
}

/// The sweep with this integrator and precision.
fn run(
    bencher: Bencher,
    threads: usize,
    params: Vec<Vec<f64>>,
    scheme: BatchScheme,
    precision: Precision,
) {
    let model = builtin::hh();
    let y0 = model.state_at_v(-65.0);
    let currents: Vec<f64> = (0..N).map(|k| 200.0 * k as f64 / N as f64).collect();
    let s = BatchSettings {
        t_max: 1000.0,
        dt: 0.01,
        transient: 0.0,
        threshold_mv: 0.0,
        scheme,
        precision,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let steps = (s.t_max / s.dt).round() as usize;
    bencher.counter(ItemsCount::new(N * steps)).bench(|| {
        pool.install(|| {
            run_batch_params(&model, &params, &currents, std::slice::from_ref(&y0), &s)
                .unwrap()
                .len()
        })
    });
}
