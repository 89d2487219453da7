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
    let extra = input.map_or(vec![], |i| vec!["--input", i]);
    stats(&sim.join("spikes.parquet"), &dir.join("stats"), &extra)
}

/// `excitable stats --spikes SPIKES --out OUT` with `extra` flags, which must succeed: its
/// summary.
fn stats(spikes: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec![
        "stats",
        "--spikes",
        spikes.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let (ok, stdout, stderr) = excitable(&args);
    assert!(ok, "{args:?}: {stderr}");
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

/// A train given out of time order (trials each starting at 0, joined under one neuron, read
/// this way) is sorted before any statistic, and the summary names it: the numbers equal those
/// of the same times in order, and only the out-of-order file carries the notice. `windows`
/// with such a spikes file says so too.
#[test]
fn spike_times_out_of_order_are_sorted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Neuron 0 in order; neuron 1 its 12 spikes in two halves, the later half first.
    let train0: Vec<f64> = (0..10).map(|k| 5.0 + 30.0 * k as f64).collect();
    let train1: Vec<f64> = (0..12)
        .map(|k| 3.0 + 21.0 * k as f64 + (k % 3) as f64)
        .collect();
    let csv = |t1: &[f64]| {
        let mut s = String::from("neuron,t_ms\n");
        for t in &train0 {
            s += &format!("0,{t}\n");
        }
        for t in t1 {
            s += &format!("1,{t}\n");
        }
        s
    };
    let shuffled: Vec<f64> = train1[6..].iter().chain(&train1[..6]).copied().collect();
    std::fs::write(d.join("ordered.csv"), csv(&train1)).unwrap();
    std::fs::write(d.join("shuffled.csv"), csv(&shuffled)).unwrap();
    let stats_of = |name: &str| {
        let out = d.join(format!("stats_{name}"));
        stats(&d.join(format!("{name}.csv")), &out, &["--t-stop", "300"])
    };
    let (ordered, shuffled_md) = (stats_of("ordered"), stats_of("shuffled"));
    let notice = "**Spike times out of order** in 1 train(s): neuron 1.";
    assert!(shuffled_md.contains(notice), "{shuffled_md}");
    assert!(!ordered.contains("out of order"), "{ordered}");
    // Every row of the statistics' table is the same.
    let rows = |md: &str| -> Vec<String> {
        md.lines()
            .filter(|l| l.starts_with("| 0 |") || l.starts_with("| 1 |"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(&ordered).len(), 2, "{ordered}");
    assert_eq!(rows(&ordered), rows(&shuffled_md));

    // `windows` over a trace with the out-of-order file's neuron 0 (here neuron 1's times
    // alone, as neuron 0).
    let sim = d.join("sim");
    let (ok, _, stderr) = excitable(&[
        "simulate",
        "--stim",
        "10",
        "--t-max",
        "300",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let one: String = std::iter::once("t_ms\n".to_string())
        .chain(shuffled.iter().map(|t| format!("{t}\n")))
        .collect();
    std::fs::write(d.join("one.csv"), one).unwrap();
    let out = d.join("windows");
    let (ok, stdout, stderr) = excitable(&[
        "windows",
        "--trace",
        sim.join("trace.parquet").to_str().unwrap(),
        "--spikes",
        d.join("one.csv").to_str().unwrap(),
        "--width",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("given out of time order and sorted"),
        "{stdout}"
    );
}

/// Two spikes at one time (a file listing one spike twice) are an interval of 0 ms: kept, and
/// named in the summary, since CV2, LV and LvR are NaN where two such intervals meet.
#[test]
fn repeated_spike_times_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("repeated.csv");
    std::fs::write(
        &csv,
        "neuron,t_ms\n0,10\n0,20\n0,20\n0,20\n0,35\n1,5\n1,50\n",
    )
    .unwrap();
    let stdout = stats(&csv, &dir.path().join("stats"), &["--t-stop", "100"]);
    assert!(
        stdout.contains("**Repeated spike times** in 1 train(s): neuron 0."),
        "{stdout}"
    );
    assert!(stdout.contains("| 0 | 5 |"), "{stdout}");
}

/// A spike time that is not a number, handed to the library directly (the readers refuse it
/// before), is refused with the neuron and the spike named, not sorted as "out of order".
#[test]
fn a_spike_time_that_is_not_a_number_is_refused_by_the_library() {
    let trains = vec![vec![1.0, 2.0], vec![3.0, f64::NAN, 4.0]];
    let err = excitable::spec::StatsSpec::default()
        .run(&trains)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spike times") && err.contains("neuron 1's spike 2: NaN"),
        "{err}"
    );
    assert!(err.contains("finite times (ms)"), "{err}");
}

/// Neurons that never fire have no row in `simulate`'s spike file; the file records how many
/// ran, so `stats` lists them at 0 Hz, and a run in which nothing fired is analysed, not
/// refused. Spikes outside [t_start, t_stop] are counted in the summary, not dropped silently.
#[test]
fn silent_neurons_are_counted_and_spikes_outside_the_interval_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let stats_of = |spikes: &std::path::Path, extra: &[&str], name: &str| {
        let out = dir.path().join(name);
        stats(spikes, &out, extra);
        let n = excitable::report::table::read_f64_columns(
            &out.join("spike_stats.parquet"),
            &["n_spikes"],
        )
        .unwrap()
        .remove(0);
        (n, std::fs::read_to_string(out.join("summary.md")).unwrap())
    };
    for (currents, expected) in [("10,0,0", [7.0, 0.0, 0.0]), ("0,0,0", [0.0; 3])] {
        let sim = dir.path().join(format!("sim{currents}"));
        let (ok, _, stderr) = excitable(&[
            "simulate",
            "--neurons",
            "3",
            "--currents",
            currents,
            "--t-max",
            "100",
            "--record",
            "spikes",
            "--out",
            sim.to_str().unwrap(),
        ]);
        assert!(ok, "{stderr}");
        let (n, summary) = stats_of(&sim.join("spikes.parquet"), &[], &format!("st{currents}"));
        assert_eq!(n, expected, "{currents}: {summary}");
    }
    let csv = dir.path().join("outside.csv");
    std::fs::write(&csv, "t_ms\n-5\n10\n20\n30\n").unwrap();
    let (n, summary) = stats_of(&csv, &["--t-stop", "25"], "outside");
    assert_eq!(n, [2.0]);
    assert!(
        summary.contains("2 spike(s) outside [0, 25] ms are left out of every statistic."),
        "{summary}"
    );
}
