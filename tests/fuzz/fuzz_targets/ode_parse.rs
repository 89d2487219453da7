//! Any text given to the `.ode` reader either parses or is refused with a line and column;
//! a parsed model evaluates without panicking (on plain and dual numbers) at a few states,
//! its time dependence can be decided, and its global flags (if any) step.
#![no_main]

use excitable::model::ode::{FlagState, OdeModel};
use libfuzzer_sys::fuzz_target;
use num_dual::Dual64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match OdeModel::parse(text, "fuzz.ode", "fuzz") {
        Err(e) => {
            // Every refusal points into the file.
            assert!(e.line >= 1 && e.col >= 1, "{e}");
        }
        Ok(m) => {
            let p = m.params.values();
            let n = m.vars.len();
            for y0 in [0.0, -65.0, 1e3] {
                let y = vec![y0; n];
                let mut dy = vec![0.0; n];
                m.rhs(&p, 0.5, &y, &mut dy);
                let mut fast = vec![0.0; n];
                m.rhs_f64(&p, 0.5, &y, &mut fast, &mut Vec::new());
                // The closure trees and the bytecode agree bit for bit (NaN included).
                for (a, b) in dy.iter().zip(&fast) {
                    assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
                }
                let pd: Vec<Dual64> = p.iter().map(|&x| Dual64::from(x)).collect();
                let yd: Vec<Dual64> = y.iter().map(|&x| Dual64::new(x, 1.0)).collect();
                let mut dd = vec![Dual64::from(0.0); n];
                m.rhs(&pd, Dual64::from(0.5), &yd, &mut dd);
            }
            let _ = m.reads_time();
            if m.has_flags() {
                // A few Euler steps through the flags.
                let mut y = m.init.clone();
                let mut state = FlagState::default();
                let mut dy = vec![0.0; n];
                let mut slots = Vec::new();
                for k in 0..4 {
                    m.step_with_flags(&mut state, 0.1 * k as f64, &mut y, 0.0, 0.1, |t, y, h| {
                        m.rhs_f64(&p, t, y, &mut dy, &mut slots);
                        y.iter_mut().zip(&dy).for_each(|(x, d)| *x += h * d);
                    });
                }
            }
        }
    }
});
