//! Any TOML model file either loads or is refused naming the file and the field; a loaded
//! model evaluates its right-hand side, gating curves and equilibria without a panic (a
//! degenerate model is refused with a message, never a crash or a hang).
#![no_main]

use excitable::model::{Model, file};
use excitable::spec::GatingSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match file::parse(text, "fuzz.toml") {
        Err(e) => assert!(e.to_string().starts_with("model file fuzz.toml"), "{e}"),
        Ok(m) => {
            let n = m.dim();
            let p = m.params.values();
            for v in [-300.0, -65.0, 0.0, 40.0, 1e3] {
                let mut y = vec![0.5; n];
                y[0] = v;
                let mut dy = vec![0.0; n];
                m.rhs(&p, &y, 1.0, &mut dy);
            }
            let model = Model::Conductance(m);
            let _ = GatingSpec::default().run(&model);
            let _ = model.equilibria(0.0);
            let _ = model.equilibria(10.0);
        }
    }
});
