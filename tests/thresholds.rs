//! `max-rate` and `sweep` take `--threshold`, and say where the cell oscillates without its
//! peaks crossing it. HH from 64 uA/cm^2 oscillates at about 126-130 Hz with peaks just below
//! 0 mV: at the default threshold those currents read 0 spikes, and the summaries say why.

use crate::common;

use common::excitable;

fn column(path: &std::path::Path, name: &str) -> Vec<f64> {
    excitable::report::table::read_f64_columns(path, &[name])
        .unwrap()
        .remove(0)
}

#[test]
fn max_rate_names_the_oscillation_below_the_threshold_and_a_lower_one_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (ok, stdout, stderr) = excitable(&[
        "max-rate",
        "--currents",
        "58:70:2",
        "--out",
        a.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("**4 current(s) from 64 uA/cm^2 to 70 uA/cm^2 oscillate without crossing the threshold**"),
        "{stdout}"
    );
    // The columns named by name, not by place (`isi_rate_hz` had taken the frequency's).
    assert!(
        stdout.contains("(`oscillation_hz`, `v_max_mv` in the table)"),
        "{stdout}"
    );
    let (ok, _, stderr) = excitable(&[
        "max-rate",
        "--currents",
        "58:70:2",
        "--threshold",
        "-20",
        "--out",
        b.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let osc = column(&a.join("max_rate.parquet"), "oscillation_hz");
    let low = column(&b.join("max_rate.parquet"), "rate_hz");
    // Counted at -20 mV, the spike rate over the 1 s window equals the maxima's frequency to
    // one spike per window (1 Hz).
    for k in 3..7 {
        assert!(
            (low[k] - osc[k]).abs() <= 1.0,
            "{k}: {} vs {}",
            low[k],
            osc[k]
        );
    }
}

#[test]
fn sweep_takes_a_threshold_and_says_where_peaks_stay_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let args = |out: &std::path::Path, extra: &[&str]| {
        let mut v: Vec<String> = ["sweep", "--param", "g_k=36", "--current", "60,66", "--out"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.push(out.to_str().unwrap().into());
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |v: Vec<String>| {
        let r: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
        excitable(&r)
    };
    let (ok, stdout, stderr) = run(args(&a, &[]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("**1 of 2 points oscillate without crossing the threshold** (0 mV)"),
        "{stdout}"
    );
    let (ok, stdout, stderr) = run(args(&b, &["--threshold", "-20"]));
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("without crossing"), "{stdout}");
    let rate = column(&b.join("grid.parquet"), "rate_hz");
    let osc = column(&a.join("grid.parquet"), "oscillation_hz");
    assert!(
        (rate[1] - osc[1]).abs() < 0.01 * osc[1],
        "{} vs {}",
        rate[1],
        osc[1]
    );
}

/// `fi` takes `--threshold` too: at 64 and 66 uA/cm^2 from rest, HH's peaks stay below 0 mV
/// (0 spikes) and cross -20 mV; `isi_rate_hz` (1000 / mean ISI) stands next to the count
/// rate and agrees with it to one spike per window.
#[test]
fn fi_takes_a_threshold_and_gives_isi_rates_next_to_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let base = [
        "fi",
        "--from",
        "64",
        "--to",
        "66",
        "--step",
        "2",
        "--direction",
        "rest",
        "--no-overlay",
    ];
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--out", a.to_str().unwrap()]);
    let (ok, _, stderr) = excitable(&args);
    assert!(ok, "{stderr}");
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--threshold", "-20", "--out", b.to_str().unwrap()]);
    let (ok, _, stderr) = excitable(&args);
    assert!(ok, "{stderr}");
    let zero = column(&a.join("fi.parquet"), "n_spikes");
    assert!(zero.iter().all(|&n| n == 0.0), "{zero:?}");
    let count = column(&b.join("fi.parquet"), "rate_hz");
    let isi = column(&b.join("fi.parquet"), "isi_rate_hz");
    for (c, r) in count.iter().zip(&isi) {
        assert!(*c > 100.0 && (c - r).abs() <= 1.0, "{c} vs {r}");
    }
}

/// `windows` counts spikes as `simulate` does: a run it simulates counts its own spikes, at
/// the model's threshold (LIF's resets cross no threshold between samples: 9 spikes in 100 ms
/// at 2 uA/cm^2, where the 0 mV crossings of the trace had given 0; hh-1952's 65 mV, where 0 mV
/// had counted the wiggles of its rest near 0 mV), and a trace file counts the spikes file
/// given with it. The numbers come from `simulate`, whose spikes are checked elsewhere.
#[test]
fn windows_counts_the_spikes_simulate_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let (ok, stdout, stderr) = excitable(args);
        assert!(ok, "{args:?}: {stderr}");
        stdout
    };
    // `windows` of a trace file with a spikes file, 10 ms wide, into `name`: its summary.
    let windows_of = |trace: &str, spikes: &str, name: &str| {
        let win = out(name);
        run(&[
            "windows", "--trace", trace, "--spikes", spikes, "--width", "10", "--out", &win,
        ]);
        std::fs::read_to_string(format!("{win}/summary.md")).unwrap()
    };
    let hh_trace = format!("{}/trace.parquet", out("sim_hh"));
    for (model, stim) in [("lif", "2"), ("hh-1952", "noise:0:2:1:0.1"), ("hh", "10")] {
        let sim = out(&format!("sim_{model}"));
        let win = out(&format!("win_{model}"));
        let on_file = out(&format!("file_{model}"));
        let common = ["--model", model, "--stim", stim, "--t-max", "100"];
        run(&[
            &["simulate"],
            &common[..],
            &["--record", "full", "--out", &sim],
        ]
        .concat());
        run(&[&["windows"], &common[..], &["--width", "10", "--out", &win]].concat());
        let spikes = format!("{sim}/spikes.parquet");
        let expected = column(std::path::Path::new(&spikes), "t_ms").len();
        let summary = std::fs::read_to_string(format!("{win}/summary.md")).unwrap();
        assert!(
            summary.contains(&format!(" {expected} spikes (the run's own")),
            "{model}: {expected} expected\n{summary}"
        );
        let summary = windows_of(
            &format!("{sim}/trace.parquet"),
            &spikes,
            &format!("file_{model}"),
        );
        let counts = column(
            &std::path::Path::new(&on_file).join("windows.parquet"),
            "n_spikes",
        );
        assert_eq!(counts.iter().sum::<f64>() as usize, expected, "{model}");
        assert!(!summary.contains("another run"), "{model}: {summary}");
    }
    // The spikes of another run (`lif`'s) given with `hh`'s trace are counted, and said to come
    // from another run by the two files' metadata.
    let summary = windows_of(
        &hh_trace,
        &format!("{}/spikes.parquet", out("sim_lif")),
        "mixed",
    );
    assert!(
        summary.contains("**from another run than the trace**"),
        "{summary}"
    );
    // The same run lasting longer holds the trace's spikes (not flagged); one ending sooner
    // lacks its later spikes (flagged).
    for (t_max, flagged) in [("200", false), ("50", true)] {
        let sim = out(&format!("hh_{t_max}"));
        run(&[
            "simulate", "--model", "hh", "--stim", "10", "--t-max", t_max, "--record", "spikes",
            "--out", &sim,
        ]);
        let summary = windows_of(
            &hh_trace,
            &format!("{sim}/spikes.parquet"),
            &format!("win_hh_{t_max}"),
        );
        assert_eq!(
            summary.contains("another run"),
            flagged,
            "{t_max}: {summary}"
        );
    }
    // Spikes outside the trace's time span are left out and said.
    let csv = dir.path().join("spikes.csv");
    std::fs::write(&csv, "neuron,t_ms\n0,-5\n0,3.5\n0,50\n0,99\n0,150\n2,40\n").unwrap();
    let summary = windows_of(&hh_trace, csv.to_str().unwrap(), "outside");
    assert!(
        summary.contains(" 3 spikes (neuron 0's from `")
            && summary.contains(
                "`, which numbers neurons 0 to 2; 2 outside the trace's time span left out)"
            ),
        "{summary}"
    );
    // A file without a `neuron` column is one train, named by the file alone.
    let bare = dir.path().join("bare.csv");
    std::fs::write(&bare, "t_ms\n3.5\n50\n").unwrap();
    let summary = windows_of(&hh_trace, bare.to_str().unwrap(), "one_train");
    assert!(summary.contains(" 2 spikes (from `"), "{summary}");
    let counts = column(
        &std::path::Path::new(&out("outside")).join("windows.parquet"),
        "n_spikes",
    );
    assert_eq!(counts.iter().sum::<f64>(), 3.0);
    // The model's own counts are those of a spiking run (not a test that passes on zeros).
    let lif = column(
        &std::path::Path::new(&out("sim_lif")).join("spikes.parquet"),
        "t_ms",
    );
    assert_eq!(lif.len(), 9);
}

/// `max-rate` says when the maximum count is tied: LIF's rate rises on to the end of its
/// default range (the closed form, 1 / (t_ref + tau ln(...)), is increasing in the current),
/// while its count in the 1000 ms window stays the same over the top currents, so the first
/// of them is not where the rate peaks. A model that never fires gets no word on the
/// biological ceiling.
#[test]
fn max_rate_says_when_its_maximum_count_is_tied_and_nothing_of_a_ceiling_without_firing() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (ok, _, stderr) = excitable(&["max-rate", "--model", "lif", "--out", &out("lif")]);
    assert!(ok, "{stderr}");
    let md = std::fs::read_to_string(format!("{}/summary.md", out("lif"))).unwrap();
    assert!(
        md.contains("give the same count: the rate is resolved to one spike in the 1000 ms counted (1.0 Hz), so the maximum lies somewhere among them, or beyond the range's end."),
        "{md}"
    );
    let (ok, _, stderr) = excitable(&["max-rate", "--model", "hh-ca", "--out", &out("ca")]);
    assert!(ok, "{stderr}");
    let md = std::fs::read_to_string(format!("{}/summary.md", out("ca"))).unwrap();
    assert!(
        md.contains("no current fires") && !md.contains("biological ceiling"),
        "{md}"
    );
}

/// Counts tie in whole spikes: `ml_snic.ode` at 43 and 44 counts the same, and the current
/// named is the faster by the mean ISI whatever the list's order (`43,44` and `44,43` had
/// named different ones).
#[test]
fn max_rate_names_the_same_current_whatever_the_order_of_tied_counts() {
    use excitable::analysis::max_rate::max_firing_rate;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo/ml_snic.ode");
    let m = excitable::Model::from_file(&path).unwrap();
    let a = max_firing_rate(&m, &[43.0, 44.0], 200.0, 1000.0, 0.01).unwrap();
    let b = max_firing_rate(&m, &[44.0, 43.0], 200.0, 1000.0, 0.01).unwrap();
    assert_eq!(a.rates_hz[0], a.rates_hz[1], "{a:?}");
    assert_eq!(a.at_current, b.at_current);
    let faster = if a.isi_rates_hz[0] > a.isi_rates_hz[1] {
        43.0
    } else {
        44.0
    };
    assert_eq!(a.at_current, faster, "{a:?}");
}
