//! Time of the complete one-parameter bifurcation diagram of `hh` over the injected current
//! (-20 to 250 uA/cm^2): the equilibrium branch, both Hopf points with their Lyapunov
//! coefficients, and the whole cycle branch between them with Floquet multipliers at every
//! point and all its folds and period doublings located. `cargo bench --bench continuation`.
//!
//! Compare: AUTO-07p on the same machine and the same diagram (NTST=200, NCOL=4,
//! EPSL=EPSU=1e-9; tests/fixtures/auto) takes 0.015 s for the equilibria and 1.22 s for the
//! cycle branch by its own timer.

use divan::Bencher;
use excitable::continuation::cycles::CycleSettings;
use excitable::continuation::diagram::{DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Settings};
use excitable::model::builtin;

fn main() {
    divan::main();
}

fn settings(ntst: usize, with_cycles: bool) -> DiagramSettings {
    DiagramSettings {
        range: (-20.0, 250.0),
        equilibria: Settings::default(),
        cycles: CycleSettings {
            ntst,
            ..CycleSettings::default()
        },
        with_cycles,
    }
}

#[divan::bench(sample_count = 5)]
fn hh_equilibria_and_hopf_points(bencher: Bencher) {
    let fam = Family::new(&builtin::hh(), CURRENT, 0.0).unwrap();
    let s = settings(60, false);
    bencher.bench(|| {
        diagram(&fam, &s, &excitable::progress::Silent)
            .unwrap()
            .hopfs
            .len()
    });
}

/// The default mesh (60 intervals): fold currents within 1e-8 of AUTO's.
#[divan::bench(sample_count = 5, args = [60, 200])]
fn hh_full_diagram(bencher: Bencher, ntst: usize) {
    let fam = Family::new(&builtin::hh(), CURRENT, 0.0).unwrap();
    let s = settings(ntst, true);
    bencher.bench(|| {
        diagram(&fam, &s, &excitable::progress::Silent)
            .unwrap()
            .cycles
            .len()
    });
}

/// The diagrams of the XPPAUT `.ode` files in studies/models (parsed once, evaluated through
/// the bytecode on dual numbers): hh over 0-200 and Morris-Lecar over 0-300 uA/cm^2,
/// FitzHugh-Nagumo over 0-2, default mesh.
#[divan::bench(sample_count = 5, args = [("hh", 200.0), ("ml", 300.0), ("fhn", 2.0)])]
fn ode_file_full_diagram(bencher: Bencher, (name, to): (&str, f64)) {
    use excitable::continuation::Field;
    use excitable::model::Model;
    let path = format!("{}/studies/models/{name}.ode", env!("CARGO_MANIFEST_DIR"));
    let model = Model::from_file(std::path::Path::new(&path)).unwrap();
    let fam = Family::of_field(Field::of(&model).unwrap(), CURRENT, 0.0).unwrap();
    let s = DiagramSettings {
        range: (0.0, to),
        ..settings(60, true)
    };
    bencher.bench(|| {
        diagram(&fam, &s, &excitable::progress::Silent)
            .unwrap()
            .cycles
            .len()
    });
}
