//! Time of `prc` along a branch of 100 currents of `hh` (10 to 109 uA/cm^2: the first cycle
//! found by simulation, each next one continued from the previous by Newton at its current,
//! its adjoint solved) and of
//! `excitability --model hh` (equilibrium branch, probe, the stable cycles followed to the
//! onset and to the top of the range, the PRC at the probe), and of the cycle branch one PRC
//! sits on (`bifurcation --model hh --from 0 --to 200`: the diagram with its cycle branch from
//! the Hopf point), the reference for "a PRC costs less than a tenth of its branch".
//! `cargo bench --bench phase`.

use divan::Bencher;
use excitable::BifurcationSpec;
use excitable::Model;
use excitable::spec::{ExcitabilitySpec, PrcSpec};

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 3)]
fn hh_prc_along_100_currents(bencher: Bencher) {
    let hh = Model::builtin("hh").unwrap();
    let spec = PrcSpec {
        currents: "10:109:1".parse().unwrap(),
        ..Default::default()
    };
    bencher.bench(|| spec.run(&hh).unwrap().prcs.len());
}

#[divan::bench(sample_count = 3)]
fn hh_prc_at_one_current(bencher: Bencher) {
    let hh = Model::builtin("hh").unwrap();
    let spec = PrcSpec::default();
    bencher.bench(|| spec.run(&hh).unwrap().prcs.len());
}

#[divan::bench(sample_count = 3)]
fn hh_excitability(bencher: Bencher) {
    let hh = Model::builtin("hh").unwrap();
    let spec = ExcitabilitySpec::default();
    bencher.bench(|| spec.run(&hh).unwrap().excitability.fi.len());
}

#[divan::bench(sample_count = 3)]
fn hh_cycle_branch_0_to_200(bencher: Bencher) {
    let hh = Model::builtin("hh").unwrap();
    let spec = BifurcationSpec {
        from: 0.0,
        to: 200.0,
        ..Default::default()
    };
    bencher.bench(|| spec.run(&hh).unwrap().diagram.cycles.len());
}
