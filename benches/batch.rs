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
/// `tests/fi.rs`), `exp-staggered` (one evaluation per step) within 0.028%; `exp-euler`,
/// first order with 0.72% at dt = 0.01 ms, would need dt near 0.0014 ms.
#[divan::bench(sample_count = 3, args = ["exp-euler/f64", "exp-euler/mixed", "exp-midpoint/f64", "exp-midpoint/mixed", "exp-staggered/f64", "exp-staggered/mixed"])]
fn hh_sweep_scheme_and_precision(bencher: Bencher, which: &str) {
    let (scheme, precision) = which.split_once('/').unwrap();
    let scheme = match scheme {
        "exp-euler" => BatchScheme::ExpEuler,
        "exp-midpoint" => BatchScheme::ExpMidpoint,
        _ => BatchScheme::ExpStaggered,
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

/// `studies/models/hh.ode` (0-200 uA/cm^2) and `ml.ode` (0-300, its `tanh` and `cosh`), RK4 at
/// dt = 0.01 ms for 200 ms, one core: on lanes (the `.ode` batch path, `fi` on an `.ode`
/// model) against one neuron at a time on the general simulator (the path before lanes).
/// Items: neuron-steps (an RK4 step, four evaluations, counts once); compare with
/// `hh_sweep_scheme_and_precision` for the built-in.
#[divan::bench(sample_count = 3, args = ["hh/lanes", "hh/general", "ml/lanes", "ml/general"])]
fn ode_rk4(bencher: Bencher, which: &str) {
    let (file, path) = which.split_once('/').unwrap();
    use excitable::model::Model;
    use excitable::model::ode::lanes::LaneProgram;
    use excitable::simulate::ode_lanes::{Neurons, run_ode_lanes};
    use excitable::simulate::{self, Method, Record, Settings};
    use excitable::stimulus::Stimulus;
    let top = if file == "hh" { 200.0 } else { 300.0 };
    let file = format!("{}/studies/models/{file}.ode", env!("CARGO_MANIFEST_DIR"));
    let model = Model::from_file(std::path::Path::new(&file)).unwrap();
    let Model::Ode(ode) = &model else {
        unreachable!("an .ode file")
    };
    let program = LaneProgram::new(ode).expect("hh.ode and ml.ode compile for lanes");
    let n = if path == "lanes" { 128 } else { 32 };
    let currents: Vec<f64> = (0..n).map(|k| top * k as f64 / n as f64).collect();
    let starts = vec![ode.init.clone(); n];
    let s = Settings {
        t_max: 200.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::SpikesOnly,
        threshold_mv: 0.0,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let steps = (s.t_max / s.dt).round() as usize;
    bencher.counter(ItemsCount::new(n * steps)).bench(|| {
        pool.install(|| match path {
            "lanes" => run_ode_lanes::<excitable::error::SimError>(
                ode,
                &program,
                &Neurons {
                    params: &[ode.params.values()],
                    currents: &currents,
                    starts: &starts,
                },
                &s,
                0.0,
                &|_| Ok(()),
            )
            .unwrap()
            .len(),
            _ => currents
                .iter()
                .map(|&i| {
                    simulate::run(&model, &Stimulus::constant(i), &ode.init, &s)
                        .unwrap()
                        .spikes_ms
                        .len()
                })
                .sum(),
        })
    });
}
