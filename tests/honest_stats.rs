//! `stats` says what its numbers are worth: pulse answers against the chance level of the
//! cell's own firing, rates to the end of the recording, and a caveat where the serial
//! correlation only measures the transient.

use crate::common;

use common::excitable;

const PULSES: &str = "pulses:20,120,220,320,420,520,620,720,820,920:1:20";

fn run(dir: &std::path::Path, stim: &str, t_max: &str, input: Option<&str>) -> String {
    let sim = dir.join("sim");
    let (ok, _, stderr) = excitable(&[
        "simulate",
        "--stim",
        stim,
        "--t-max",
        t_max,
        "--record",
        "spikes",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let spikes = sim.join("spikes.parquet");
    let out = dir.join("stats");
    let mut args = vec![
        "stats",
        "--spikes",
        spikes.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(i) = input {
        args.extend(["--input", i]);
    }
    let (ok, stdout, stderr) = excitable(&args);
    assert!(ok, "{stderr}");
    stdout
}

/// A tonic cell (HH at 10 uA/cm^2, 14.64 ms ISI) that never received the pulses "answers"
/// every one within its 50 ms window; its own regular train answers each with probability 1,
/// so p = 1 and the summary says chance.
/// The same pulses given to a resting cell are answered far above chance (baseline 0).
#[test]
fn pulse_answers_are_compared_with_chance() {
    let dir = tempfile::tempdir().unwrap();
    let md = run(dir.path(), "10", "1000", Some(PULSES));
    assert!(md.contains("| 0 | 1.000 | 1.000 | 1.00e0 |"), "{md}");
    assert!(md.contains("**Not distinguishable from chance**"), "{md}");
    let dir = tempfile::tempdir().unwrap();
    let md = run(dir.path(), PULSES, "1000", Some(PULSES));
    // Ten spikes, one 1.3 ms after each pulse: the train answers a 50 ms window half the time.
    assert!(md.contains("| 0 | 1.000 | 0.500 | 9.77e-4 |"), "{md}");
    assert!(!md.contains("Not distinguishable"), "{md}");
}

/// Rates count to the end of the recording the spike file carries (35 spikes in 500 ms is
/// 70 Hz, not 35 / 491 ms), and the summary says where t_stop came from. The serial
/// correlation of +0.9996 on that regular train is the cell settling onto its cycle, and the
/// note says so.
#[test]
fn rates_end_with_the_recording_and_a_transient_serial_correlation_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let md = run(dir.path(), "10", "500", None);
    assert!(
        md.contains("t_stop = 500 ms: the end of the recording"),
        "{md}"
    );
    assert!(md.contains("| 0 | 35 | 70.000 |"), "{md}");
    assert!(md.contains("serial corr reflects the transient"), "{md}");
}
