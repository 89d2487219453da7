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
        ode_method: excitable::simulate::Method::Rk4,
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
/// `hh_sweep_scheme_and_precision` for the built-in. `lanes-exp-euler`: exponential Euler on
/// lanes instead (one evaluation with the diagonal pass per step), the built-in's scheme.
#[divan::bench(
    sample_count = 3,
    args = ["hh/lanes", "hh/lanes-exp-euler", "hh/general", "ml/lanes", "ml/lanes-exp-euler", "ml/general"]
)]
fn ode_rk4(bencher: Bencher, which: &str) {
    let (file, path) = which.split_once('/').unwrap();
    let (path, method) = match path {
        "lanes-exp-euler" => ("lanes", excitable::simulate::Method::ExpEuler),
        _ => (path, excitable::simulate::Method::Rk4),
    };
    use excitable::model::Model;
    use excitable::model::ode::lanes::LaneProgram;
    use excitable::simulate::ode_lanes::{Neurons, run_ode_lanes};
    use excitable::simulate::{self, Record, Settings};
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
        method,
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

/// The peer of the batch kernel: the same sweep (`hh`, 512 neurons, 0-200 uA/cm^2, 1000 ms at
/// dt = 0.01 ms, exponential Euler, f64) written by hand for `hh` alone, as a user would write
/// a fast loop: the equations and constants inline, struct of arrays in blocks of [`LANES`]
/// neurons, each of the six rates with its own exponential, the gates and V each relaxed by
/// one more, upward crossings of 0 mV counted. It calls the library's vectorised exponential
/// and takes the same `multiversion` targets, so the two differ in structure only (the
/// kernel reads any conductance model from a table and shares exponentials between rates of
/// one slope; for `hh` it runs that table's values on the Hodgkin-Huxley shape compiled in,
/// `src/simulate/batch/hh_shape.rs`). Before timing, its spike counts are checked against the
/// kernel's.
/// With `alternating`, each sample runs the kernel and then the hand loop and the bench prints
/// every pair's ratio (kernel speed / hand loop speed) and their median: the two arms a
/// second apart instead of several, so less of this VM's drift lands in the ratio.
/// `family-bound` alternates in the same way the hand loop with its six rates' exponentials
/// taken as powers of one (the kernel's power family, `src/numerics/power_family.rs`,
/// written out for `hh`) against the plain hand loop: an estimate of what a kernel specialised
/// to `hh` could reach with that idea and no cost of reading the model. (The kernel on the
/// shape compiled in now passes it: it also takes `phi1` from its series, which this loop
/// does not.)
#[divan::bench(sample_count = 5, args = ["kernel", "hand-loop", "alternating", "family-bound"])]
fn hh_sweep_against_hand_loop(bencher: Bencher, which: &str) {
    use excitable::simulate::batch::LANES;
    let currents: Vec<f64> = (0..N).map(|k| 200.0 * k as f64 / N as f64).collect();
    let steps = 100_000;
    let dt = 0.01;
    let hand = || -> Vec<u32> {
        currents
            .chunks_exact(LANES)
            .flat_map(|c| hand_loop::block::<false>(c.try_into().unwrap(), steps, dt))
            .collect()
    };
    let family = || -> Vec<u32> {
        currents
            .chunks_exact(LANES)
            .flat_map(|c| hand_loop::block::<true>(c.try_into().unwrap(), steps, dt))
            .collect()
    };
    let model = builtin::hh();
    let s = BatchSettings {
        t_max: steps as f64 * dt,
        dt,
        transient: 0.0,
        threshold_mv: 0.0,
        scheme: BatchScheme::ExpEuler,
        precision: Precision::F64,
        ode_method: excitable::simulate::Method::Rk4,
    };
    let y0 = model.state_at_v(-65.0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let kernel = || {
        pool.install(|| {
            run_batch_params(
                &model,
                &[model.params.values()],
                &currents,
                std::slice::from_ref(&y0),
                &s,
            )
            .unwrap()
        })
    };
    // The check, before any arm is timed: all three run every neuron, and the kernel and the
    // loop with the family each count the hand loop's spikes within one.
    let (k, h, f) = (kernel(), hand(), family());
    assert_eq!((k.len(), h.len(), f.len()), (N, N, N));
    for (j, ((a, b), c)) in k.iter().zip(&h).zip(&f).enumerate() {
        assert!(
            (a.n_spikes as i64 - *b as i64).abs() <= 1 && (*c as i64 - *b as i64).abs() <= 1,
            "neuron {j}: kernel {} spikes, hand loop {b}, with the family {c}",
            a.n_spikes
        );
    }
    if which == "alternating" || which == "family-bound" {
        let ratios = std::sync::Mutex::new(vec![]);
        bencher.counter(ItemsCount::new(2 * N * steps)).bench(|| {
            let t = std::time::Instant::now();
            let k = if which == "alternating" {
                kernel().len()
            } else {
                family().len()
            };
            let tk = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let h = hand().len();
            let th = t.elapsed().as_secs_f64();
            ratios.lock().unwrap().push(th / tk);
            k + h
        });
        let mut r = ratios.into_inner().unwrap();
        r.sort_by(f64::total_cmp);
        let shown: Vec<String> = r.iter().map(|x| format!("{x:.3}")).collect();
        let first = if which == "alternating" {
            "kernel"
        } else {
            "hand loop with the power family"
        };
        eprintln!(
            "{first} / hand loop (speed), {} alternating pairs: {} -> median {:.3}",
            r.len(),
            shown.join(" "),
            r[r.len() / 2]
        );
    } else if which == "kernel" {
        bencher
            .counter(ItemsCount::new(N * steps))
            .bench(|| kernel().len());
    } else {
        bencher
            .counter(ItemsCount::new(N * steps))
            .bench(|| hand().len());
    }
}

mod hand_loop {
    use excitable::simulate::batch::{LANES, exp_lanes};
    type Lanes = [f64; LANES];
    use multiversion::multiversion;

    const G_NA: f64 = 120.0;
    const G_K: f64 = 36.0;
    const G_L: f64 = 0.3;
    const E_NA: f64 = 50.0;
    const E_K: f64 = -77.0;
    const E_L: f64 = -54.387;

    /// (alpha, beta) of m, h and n at `v` (mV), ms^-1, one neuron.
    fn rates(v: f64) -> [(f64, f64); 3] {
        [
            (
                0.1 * (v + 40.0) / (1.0 - (-(v + 40.0) / 10.0).exp()),
                4.0 * (-(v + 65.0) / 18.0).exp(),
            ),
            (
                0.07 * (-(v + 65.0) / 20.0).exp(),
                1.0 / (1.0 + (-(v + 35.0) / 10.0).exp()),
            ),
            (
                0.01 * (v + 55.0) / (1.0 - (-(v + 55.0) / 10.0).exp()),
                0.125 * (-(v + 65.0) / 80.0).exp(),
            ),
        ]
    }

    /// One block of neurons at these currents (uA/cm^2) from rest at -65 mV, `steps` steps of
    /// `dt` ms: spikes per neuron (upward crossings of 0 mV). With `FAMILY`, the six rates'
    /// exponentials are powers of `u = exp(-V/720)` (their slopes 1/10, 1/18, 1/20 and 1/80 per
    /// mV are 72, 40, 36 and 9 times 1/720) times constants: one exponential and products.
    #[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
    pub fn block<const FAMILY: bool>(current: &Lanes, steps: usize, dt: f64) -> [u32; LANES] {
        let rest = rates(-65.0).map(|(a, b)| a / (a + b));
        // The family's constants e^(v0/k) of the six rates, in the order of `rates`.
        let shift = [
            -40.0 / 10.0,
            -65.0 / 18.0,
            -65.0 / 20.0,
            -35.0 / 10.0,
            -55.0 / 10.0,
            -65.0 / 80.0,
        ]
        .map(f64::exp);
        let mut v: Lanes = [-65.0; LANES];
        let mut m: Lanes = [rest[0]; LANES];
        let mut h: Lanes = [rest[1]; LANES];
        let mut n: Lanes = [rest[2]; LANES];
        let mut spikes = [0u32; LANES];
        let mut arg = [[0.0; LANES]; 6];
        let mut e = [[0.0; LANES]; 6];
        let mut z = [[0.0; LANES]; 4];
        let mut ez = [[0.0; LANES]; 4];
        for _ in 0..steps {
            if FAMILY {
                // e^(-(V - v0)/k) = u^n e^(v0/k); u^72 stops at e^700 like the exponential.
                for l in 0..LANES {
                    arg[0][l] = (-v[l] / 720.0).clamp(-700.0 / 72.0, 700.0 / 72.0);
                }
                let mut u1 = [0.0; LANES];
                exp_lanes(&arg[0], &mut u1);
                for l in 0..LANES {
                    let u = u1[l];
                    let u2 = u * u;
                    let u4 = u2 * u2;
                    let u8 = u4 * u4;
                    let u32 = (u8 * u8) * (u8 * u8);
                    let u72 = (u32 * u32) * u8;
                    e[0][l] = u72 * shift[0];
                    e[1][l] = (u32 * u8) * shift[1];
                    e[2][l] = (u32 * u4) * shift[2];
                    e[3][l] = u72 * shift[3];
                    e[4][l] = u72 * shift[4];
                    e[5][l] = (u8 * u) * shift[5];
                }
            } else {
                for l in 0..LANES {
                    arg[0][l] = -(v[l] + 40.0) / 10.0;
                    arg[1][l] = -(v[l] + 65.0) / 18.0;
                    arg[2][l] = -(v[l] + 65.0) / 20.0;
                    arg[3][l] = -(v[l] + 35.0) / 10.0;
                    arg[4][l] = -(v[l] + 55.0) / 10.0;
                    arg[5][l] = -(v[l] + 65.0) / 80.0;
                }
                for k in 0..6 {
                    exp_lanes(&arg[k], &mut e[k]);
                }
            }
            let mut ab = [[0.0; LANES]; 6];
            for l in 0..LANES {
                let (um, un) = (v[l] + 40.0, v[l] + 55.0);
                ab[0][l] = if um.abs() < 1e-9 {
                    1.0
                } else {
                    0.1 * um / (1.0 - e[0][l])
                };
                ab[1][l] = 4.0 * e[1][l];
                ab[2][l] = 0.07 * e[2][l];
                ab[3][l] = 1.0 / (1.0 + e[3][l]);
                ab[4][l] = if un.abs() < 1e-9 {
                    0.1
                } else {
                    0.01 * un / (1.0 - e[4][l])
                };
                ab[5][l] = 0.125 * e[5][l];
                let m3h = m[l] * m[l] * m[l] * h[l];
                let n4 = (n[l] * n[l]) * (n[l] * n[l]);
                let g = G_NA * m3h + G_K * n4 + G_L;
                let i_ion =
                    G_NA * m3h * (v[l] - E_NA) + G_K * n4 * (v[l] - E_K) + G_L * (v[l] - E_L);
                z[0][l] = -dt * (ab[0][l] + ab[1][l]);
                z[1][l] = -dt * (ab[2][l] + ab[3][l]);
                z[2][l] = -dt * (ab[4][l] + ab[5][l]);
                z[3][l] = -dt * g;
                // i_ion is needed after the exponentials: keep it in the spare row.
                arg[0][l] = i_ion;
            }
            for k in 0..4 {
                exp_lanes(&z[k], &mut ez[k]);
            }
            for l in 0..LANES {
                let relax = |x: f64, a: f64, b: f64, e: f64| {
                    let inf = a / (a + b);
                    inf + (x - inf) * e
                };
                m[l] = relax(m[l], ab[0][l], ab[1][l], ez[0][l]);
                h[l] = relax(h[l], ab[2][l], ab[3][l], ez[1][l]);
                n[l] = relax(n[l], ab[4][l], ab[5][l], ez[2][l]);
                let phi1 = if z[3][l].abs() < 1e-5 {
                    1.0 + 0.5 * z[3][l]
                } else {
                    (ez[3][l] - 1.0) / z[3][l]
                };
                let v_new = v[l] + dt * phi1 * (current[l] - arg[0][l]);
                spikes[l] += (v[l] < 0.0 && v_new >= 0.0) as u32;
                v[l] = v_new;
            }
        }
        spikes
    }
}
