//! Single-neuron simulation throughput (neuron-steps/s) for every method.
//!
//! `cargo bench --bench simulate`. HH at 10 uA/cm^2 for 100 ms at dt = 0.01 ms (10^4 steps),
//! spikes only. Divan reports items/s, where one item is one neuron-step.

use divan::{Bencher, counter::ItemsCount};
use excitable::model::Model;
use excitable::simulate::{self, EulerOrder, Method, Record, Settings, Tolerances};
use excitable::stimulus::Stimulus;

fn main() {
    divan::main();
}

const METHODS: [&str; 4] = ["euler", "exp-euler", "rk4", "dopri5"];

#[divan::bench(args = METHODS)]
fn hh_single_neuron(bencher: Bencher, method: &str) {
    let model = Model::builtin("hh").unwrap();
    let y0 = model.resting_state().unwrap();
    let method = Method::parse(method, EulerOrder::Simultaneous, Tolerances::default()).unwrap();
    run_at_10(bencher, &model, &y0, method);
}

/// The same HH run from an XPPAUT `.ode` file (`studies/models/hh.ode`, f64 closure trees)
/// against the built-in model, RK4, from the file's initial state.
#[divan::bench(args = ["builtin", "ode"])]
fn hh_ode_file_vs_builtin(bencher: Bencher, which: &str) {
    let ode = Model::from_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/hh.ode"
    )))
    .unwrap();
    let y0 = ode.resting_state().unwrap();
    let model = if which == "ode" {
        ode
    } else {
        Model::builtin("hh").unwrap()
    };
    run_at_10(bencher, &model, &y0, Method::Rk4);
}

/// 100 ms at 10 uA/cm^2, dt 0.01 ms, spikes only: 10^4 neuron-steps per iteration.
fn run_at_10(bencher: Bencher, model: &Model, y0: &[f64], method: Method) {
    let s = Settings {
        t_max: 100.0,
        dt: 0.01,
        method,
        record: Record::SpikesOnly,
        threshold_mv: 0.0,
    };
    let stim = Stimulus::constant(10.0);
    bencher
        .counter(ItemsCount::new(10_000usize))
        .bench(|| simulate::run(model, &stim, y0, &s).unwrap().spikes_ms.len());
}
