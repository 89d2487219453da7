//! Any spikes file, CSV or Parquet (`stats --spikes`), is read or refused with a message
//! naming it; trains that are read get their statistics with the default settings, or a
//! refusal naming the setting and its limit: no panic, no hang, no unbounded allocation.
//!
//! The first byte chooses the format (even: CSV, odd: Parquet); the rest is the file.
#![no_main]

use excitable::report::spike_trains::read_spikes;
use excitable::spec::StatsSpec;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

/// libFuzzer's panic hook aborts on every panic, even one the library catches: polars may
/// panic on a malformed Parquet file inside the reader's guard, which turns it into a read
/// error (as the command line's hook does, stay quiet there). Any other panic still aborts.
fn abort_on_unguarded_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| excitable::report::table::quiet_guarded_panics(std::panic::take_hook()));
}

fuzz_target!(|data: &[u8]| {
    abort_on_unguarded_panics();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let ext = if mode % 2 == 0 { "csv" } else { "parquet" };
    let path = std::env::temp_dir().join(format!(
        "excitable-fuzz-spikes-{}.{ext}",
        std::process::id()
    ));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(rest).unwrap();
    drop(f);
    match read_spikes(&path) {
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("cannot read") && e.contains(&path.display().to_string()), "{e}");
        }
        Ok(trains) => {
            if trains.iter().any(|t| !t.is_empty()) {
                if let Err(e) = StatsSpec::default().run(&trains) {
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
});
