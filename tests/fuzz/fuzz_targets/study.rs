//! Any study file either parses or is refused naming the file (and, for a field, its line);
//! a parsed study resolves and checks every step (settings, models, the order in which steps
//! read each other's files) without a panic, and without running or writing anything.
#![no_main]

use excitable::report::Wait;
use excitable::study::Study;
use excitable::study::run::{RunOptions, prepare};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Study::parse(text, "fuzz.toml") {
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml"), "{e}"),
        Ok(study) => {
            for fast in [false, true] {
                let opts = RunOptions {
                    fast,
                    wait: Wait::No,
                };
                let out = Path::new("/nonexistent-excitable-fuzz/OUT");
                if let Err(e) = prepare(&study, out, opts) {
                    assert!(!e.to_string().is_empty());
                }
            }
            assert!(!out_exists(), "checking a study writes nothing");
        }
    }
});

fn out_exists() -> bool {
    Path::new("/nonexistent-excitable-fuzz").exists()
}
