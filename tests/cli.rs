//! End to end through the `excitable` binary: the simulate report, and bad input refused with a
//! one-line message that names the problem, leaving no partial file behind.

use crate::common;
use common::excitable;

use std::path::Path;

/// The entries of `dir`, but the mark every report folder holds.
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != excitable::report::staging::REPORT_MARK)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn simulate_writes_trace_spikes_figure_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (ok, stdout, stderr) = excitable(&[
        "simulate",
        "--model",
        "hh-ca",
        "--stim",
        "step:5:15:1",
        "--t-max",
        "200",
        "--dt",
        "0.01",
        "--method",
        "euler",
        "--order",
        "v-first",
        "--v0",
        "-70",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 spikes"), "{stdout}");
    assert_eq!(
        files_in(&out),
        ["spikes.parquet", "summary.md", "trace.parquet", "trace.png"]
    );
    let cols = excitable::report::table::column_names(&out.join("trace.parquet")).unwrap();
    assert_eq!(
        cols,
        ["neuron", "t_ms", "v_mv", "m", "h", "n", "ca", "i_ua_cm2"]
    );
    let t = excitable::report::table::read_f64_columns(
        &out.join("trace.parquet"),
        &["t_ms", "i_ua_cm2"],
    )
    .unwrap();
    assert_eq!(t[0].len(), 20001);
    assert_eq!(t[1][500], 1.0);
    assert_eq!(t[1][1500], 0.0);
    let png = std::fs::read(out.join("trace.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn several_neurons_with_a_current_range_and_spikes_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (ok, _, stderr) = excitable(&[
        "simulate",
        "--model",
        "hh",
        "--neurons",
        "3",
        "--currents",
        "0:20",
        "--t-max",
        "100",
        "--record",
        "spikes",
        "--method",
        "exp-euler",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(files_in(&out), ["spikes.parquet", "summary.md"]);
    let s = excitable::report::table::read_f64_columns(
        &out.join("spikes.parquet"),
        &["neuron", "t_ms"],
    )
    .unwrap();
    // Neuron 0 at 0 uA/cm^2 is silent; neurons at 10 and 20 fire.
    assert!(
        !s[0].contains(&0.0) && s[0].contains(&1.0) && s[0].contains(&2.0),
        "{:?}",
        s[0]
    );
}

#[test]
fn model_listing_names_units_and_ranges() {
    let (ok, stdout, _) = excitable(&["models"]);
    assert!(ok);
    for needle in [
        "hh-1952",
        "hh-ca",
        "lif",
        "g_na",
        "mS/cm^2",
        "uF/cm^2",
        "tau_m",
        "[-500, 500] mV",
    ] {
        assert!(stdout.contains(needle), "missing {needle}");
    }
}

/// Each bad input: exit non-zero, one line on stderr containing `needle`, nothing written.
#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(&bad_csv, "t_ms,i_ua_cm2\n0,1\nx,2\n").unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let file_stim = format!("file:{}", bad_csv.display());
    let unwritable = format!("{}/sub", blocker.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--model", "hx"], "unknown model 'hx'"),
        (vec!["--set", "g_x=1"], "unknown parameter 'g_x'"),
        (vec!["--set", "g_na=NaN"], "finite"),
        (vec!["--set", "g_na=-5"], "g_na = -5 is out of range"),
        (vec!["--set", "c_m=0"], "[0.001, 1000] uF/cm^2"),
        (vec!["--dt", "0"], "dt = 0 is invalid"),
        (vec!["--dt", "-0.1"], "dt = -0.1 is invalid"),
        (vec!["--dt", "200"], "<= t_max"),
        (vec!["--t-max", "inf"], "t_max = inf"),
        (vec!["--stim", "step:5:15"], "step:START:STOP:AMP"),
        (vec!["--stim", "pulse:1:2:3"], "unknown kind 'pulse'"),
        (vec!["--stim", &file_stim], "line 3"),
        (
            vec!["--out", &unwritable],
            "cannot create the output folder",
        ),
        (vec!["--init", "q=1"], "unknown variable 'q'"),
        (vec!["--init", "m=2"], "outside [0, 1]"),
        (
            vec!["--method", "rk45"],
            "expected euler, exp-euler, rk4 or dopri5",
        ),
        (
            vec!["--method", "euler", "--dt", "0.5", "--stim", "50"],
            "blew up at t =",
        ),
    ];
    for (extra, needle) in cases {
        let out = dir.path().join("out");
        let mut args = vec!["simulate"];
        if !extra.contains(&"--t-max") {
            args.extend(["--t-max", "100"]);
        }
        args.extend(&extra);
        if !extra.contains(&"--out") {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        let (ok, _, stderr) = excitable(&args);
        assert!(!ok, "{extra:?} should fail");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{extra:?}: one line expected: {stderr}"
        );
        assert!(
            stderr.contains(needle),
            "{extra:?}: '{needle}' not in: {stderr}"
        );
        assert!(
            files_in(&out).is_empty(),
            "{extra:?} left files: {:?}",
            files_in(&out)
        );
    }
}

#[test]
fn blow_up_names_time_and_variable_and_keeps_old_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = out.to_str().unwrap();
    assert!(excitable(&["simulate", "--t-max", "10", "--out", o]).0);
    let before = std::fs::read(out.join("trace.parquet")).unwrap();
    let (ok, _, stderr) = excitable(&[
        "simulate", "--t-max", "100", "--dt", "0.5", "--method", "euler", "--stim", "50", "--out",
        o,
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("blew up at t =") && stderr.contains(" v = ") || stderr.contains("blew up"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out.join("trace.parquet")).unwrap(),
        before,
        "a failed run must not clobber a good report"
    );
}

#[test]
fn rest_gating_and_phase_plane_write_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rest");
    let (ok, stdout, stderr) = excitable(&[
        "rest",
        "--model",
        "hh",
        "--current",
        "0",
        "--current",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("stable focus") && stdout.contains("unstable focus"),
        "{stdout}"
    );
    let cols = excitable::report::table::column_names(&out.join("eigenvectors.parquet")).unwrap();
    assert_eq!(
        cols,
        ["i_ua_cm2", "equilibrium", "k", "component", "re", "im"]
    );
    let cols = excitable::report::table::column_names(&out.join("equilibria.parquet")).unwrap();
    assert_eq!(
        cols,
        [
            "i_ua_cm2",
            "equilibrium",
            "v_mv",
            "m",
            "h",
            "n",
            "stability",
            "n_unstable"
        ]
    );
    let ev = excitable::report::table::read_f64_columns(
        &out.join("eigenvalues.parquet"),
        &["re_per_ms"],
    )
    .unwrap();
    assert_eq!(ev[0].len(), 8);

    let g = dir.path().join("gating");
    assert!(
        excitable(&[
            "gating",
            "--model",
            "hh-1952",
            "--v-from",
            "-80",
            "--v-to",
            "80",
            "--out",
            g.to_str().unwrap()
        ])
        .0
    );
    let c = excitable::report::table::read_f64_columns(
        &g.join("gating.parquet"),
        &["v_mv", "inf", "tau_ms"],
    )
    .unwrap();
    assert_eq!(c[0].len(), 3 * 16001);
    assert!(
        c[1].iter().chain(&c[2]).all(|x| x.is_finite()),
        "NaN at the removable singularities"
    );

    let p = dir.path().join("pp");
    assert!(
        excitable(&[
            "phase-plane",
            "--model",
            "hh",
            "--current",
            "10",
            "--out",
            p.to_str().unwrap()
        ])
        .0
    );
    assert!(p.join("phase_plane.png").exists() && p.join("phase_plane.parquet").exists());
}

#[test]
fn rest_refuses_runaway_currents_and_hybrid_models() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["rest", "--current", "1e7", "--out", o],
            "no equilibrium at 10000000 uA/cm^2",
        ),
        (vec!["rest", "--model", "lif", "--out", o], "hybrid"),
        (vec!["rest", "--current", "nan", "--out", o], "finite"),
        (
            vec![
                "phase-plane",
                "--model",
                "hh-ca",
                "--set",
                "g_ca=0",
                "--current",
                "1e7",
                "--out",
                o,
            ],
            "blew up",
        ),
    ] {
        let (ok, _, stderr) = excitable(&args);
        assert!(!ok, "{args:?}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    }
}

#[test]
fn windows_and_stats_run_on_our_own_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let s = sim.to_str().unwrap();
    assert!(
        excitable(&[
            "simulate",
            "--model",
            "hh",
            "--neurons",
            "2",
            "--currents",
            "8,20",
            "--t-max",
            "500",
            "--method",
            "exp-euler",
            "--out",
            s
        ])
        .0
    );
    let w = dir.path().join("w");
    let (ok, stdout, stderr) = excitable(&[
        "windows",
        "--trace",
        &format!("{s}/trace.parquet"),
        "--width",
        "0.1",
        "--width",
        "5",
        "--out",
        w.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    // 500 ms at dt 0.01: 50001 samples; 0.1 ms windows of 10 samples tile 5000 windows, 1 sample left.
    assert!(
        stdout.contains("| 0.1 | 0.1 | 5000 |") && stdout.contains("| 5 | 5 | 100 |"),
        "{stdout}"
    );
    let cols = excitable::report::table::column_names(&w.join("windows.parquet")).unwrap();
    assert_eq!(
        cols,
        [
            "width_ms",
            "start_ms",
            "n_spikes",
            "fired",
            "rate_hz",
            "v_mean_mv",
            "v_max_mv",
            "v_min_mv"
        ]
    );

    let st = dir.path().join("st");
    let (ok, stdout, stderr) = excitable(&[
        "stats",
        "--spikes",
        &format!("{s}/spikes.parquet"),
        "--t-stop",
        "500",
        "--out",
        st.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("| 0 |") && stdout.contains("| 1 |"),
        "{stdout}"
    );
    let c = excitable::report::table::read_f64_columns(
        &st.join("spike_stats.parquet"),
        &["n_spikes", "cv"],
    )
    .unwrap();
    assert_eq!(c[0].len(), 2);
    // Regular firing at a constant current: CV well below 0.01.
    assert!(c[1].iter().all(|cv| *cv < 0.01), "{:?}", c[1]);

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "time\n1\n").unwrap();
    let (ok, _, stderr) = excitable(&[
        "stats",
        "--spikes",
        bad.to_str().unwrap(),
        "--out",
        st.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("no column 't_ms'"), "{stderr}");
}

#[test]
fn stats_relates_output_spikes_to_input_pulses() {
    // BrainPy's HH example input (004_…): 5 uA/cm^2 pulses of 5 ms plus noise (sd 3).
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let pulses = "pulses:500,550,1000,1030,1060,1100,1200:5:5";
    assert!(
        excitable(&[
            "simulate",
            "--stim",
            &format!("{pulses}+noise:0:3:1"),
            "--t-max",
            "2000",
            "--method",
            "exp-euler",
            "--record",
            "spikes",
            "--out",
            sim.to_str().unwrap()
        ])
        .0
    );
    let st = dir.path().join("st");
    let (ok, stdout, stderr) = excitable(&[
        "stats",
        "--spikes",
        sim.join("spikes.parquet").to_str().unwrap(),
        "--t-stop",
        "2000",
        "--input",
        pulses,
        "--out",
        st.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let c = excitable::report::table::read_f64_columns(
        &st.join("io_timing.parquet"),
        &["pulse_ms", "latency_ms"],
    )
    .unwrap();
    assert_eq!(c[0].len(), 7);
    // Every pulse is answered, 1 to 6 ms after its onset.
    assert!(
        c[1].iter().all(|l| (1.0..6.0).contains(l)),
        "{:?}\n{stdout}",
        c[1]
    );
    assert!(st.join("cross_correlogram.parquet").exists() && st.join("sta.parquet").exists());
}

#[test]
fn the_main_job_writes_a_full_indexed_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hh");
    let (ok, _, stderr) = excitable(&["report", "--model", "hh", "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(
        files_in(&out),
        [
            "bifurcation",
            "gating",
            "max_rate",
            "noise",
            "phase_plane",
            "rest",
            "simulate",
            "stats",
            "summary.md",
            "windows"
        ]
    );
    let index = std::fs::read_to_string(out.join("summary.md")).unwrap();
    // It names the command that makes it again, and has no empty section.
    assert!(
        index.contains("Reproduced by `excitable report --model hh`."),
        "{index}"
    );
    assert!(!index.contains("\n\n\n"), "{index}");
    for link in [
        "rest/summary.md",
        "gating/gating.png",
        "phase_plane/phase_plane.png",
        "windows/windows.png",
        "stats/summary.md",
        "bifurcation/bifurcation.png",
    ] {
        assert!(index.contains(link), "index lacks {link}");
    }
    // LIF has no Jacobian: its report skips the smooth analyses instead of failing.
    let lif = dir.path().join("lif");
    let (ok, _, stderr) = excitable(&["report", "--model", "lif", "--out", lif.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(!lif.join("rest").exists());
}

#[test]
fn bifurcation_writes_its_tables_and_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let o = out.to_str().unwrap();
    let (ok, stdout, stderr) = excitable(&["bifurcation", "--model", "hh", "--out", o]);
    assert!(ok, "{stderr}");
    assert_eq!(
        files_in(&out),
        [
            "bifurcation.png",
            "cycles.parquet",
            "equilibria.parquet",
            "frequency.png",
            "special_points.parquet",
            "summary.md"
        ]
    );
    assert!(stdout.contains("| hopf | 9.775437995 |"), "{stdout}");
    assert!(stdout.contains("| fold_cycle | 6.2603212"), "{stdout}");
    let two = dir.path().join("b2");
    let (ok, stdout, stderr) = excitable(&[
        "bifurcation2",
        "--model",
        "hh",
        "--params",
        "i_ext,g_k",
        "--out",
        two.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    // At the located point the one-parameter Hopf at g_k = 53.325838 has l1 = -6e-10, against
    // ±3.6e-5 at g_k ± 0.025: located by bisection along the curve.
    assert!(stdout.contains("| bautin | 60.4994"), "{stdout}");
    for (args, needle) in [
        (vec!["--param", "g_x"], "unknown parameter 'g_x'"),
        (vec!["--ntst", "5"], "--ntst = 5 is out of range"),
        (vec!["--ncol", "9"], "--ncol = 9 is out of range"),
        (vec!["--from", "10", "--to", "0"], "from < to"),
        (vec!["--model", "lif"], "hybrid"),
    ] {
        let bad = dir.path().join("bad");
        let mut argv = vec!["bifurcation", "--out", bad.to_str().unwrap()];
        if !args.contains(&"--model") {
            argv.extend(["--model", "hh"]);
        }
        argv.extend(args.iter().copied());
        let (ok, _, stderr) = excitable(&argv);
        assert!(!ok && stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!bad.join("equilibria.parquet").exists());
    }
}

#[test]
fn windows_simulates_first_with_stim() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let (ok, stdout, stderr) = excitable(&[
        "windows",
        "--model",
        "hh",
        "--stim",
        "step:10:400:15",
        "--t-max",
        "500",
        "--width",
        "1",
        "--width",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    // 500 ms at dt 0.01: 50001 samples; 1 ms windows of 100 samples: 500 windows.
    assert!(stdout.contains("50001 samples"), "{stdout}");
    assert!(stdout.contains("| 1 | 1 | 500 |"), "{stdout}");
    let cols = excitable::report::table::read_f64_columns(
        &out.join("windows.parquet"),
        &["width_ms", "n_spikes"],
    )
    .unwrap();
    assert_eq!(cols[0].len(), 600);
    // Every spike of the run is in exactly one window of each width.
    let per_width = |w: f64| -> f64 {
        cols[0]
            .iter()
            .zip(&cols[1])
            .filter(|(a, _)| **a == w)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(per_width(1.0), per_width(5.0));
    assert!(per_width(1.0) > 20.0);
    // Neither a trace nor a stimulus: refused by name.
    let (ok, _, stderr) = excitable(&["windows", "--width", "1", "--out", out.to_str().unwrap()]);
    assert!(!ok && stderr.contains("--trace"), "{stderr}");
}

/// `stats` streams its rates into `rate.parquet` a block of trains at a time (several row
/// groups, compressed in parallel), from a CSV parsed in parallel: the rows, their order and
/// their values are those of the statistics computed in memory, the file carries the
/// settings, and a quoted CSV (read record by record) gives the same report.
#[test]
fn stats_streams_rates_equal_to_the_in_memory_result() {
    use excitable::spec::{Rates, StatsSpec};
    let dir = tempfile::tempdir().unwrap();
    // 150 trains (5 blocks of 32), jittered regular firing with a few shared times.
    let trains: Vec<Vec<f64>> = (0..150)
        .map(|k| {
            (0..40)
                .map(|j| 3.0 + 24.0 * j as f64 + ((k * 7 + j * 13) % 11) as f64 * 0.37)
                .collect()
        })
        .collect();
    let mut plain = String::from("neuron,t_ms\n");
    let mut quoted = String::from("\"neuron\",\"t_ms\"\n");
    // Rows of all trains interleaved: the reader groups them by neuron.
    for j in 0..40 {
        for (k, t) in trains.iter().enumerate() {
            plain.push_str(&format!("{k},{}\n", t[j]));
            quoted.push_str(&format!("\"{k}\",\"{}\"\n", t[j]));
        }
    }
    // And grouped by neuron (as `simulate` writes them): each train read as one slice.
    let mut grouped = String::from("neuron,t_ms\n");
    for (k, t) in trains.iter().enumerate() {
        for x in t {
            grouped.push_str(&format!("{k},{x}\n"));
        }
    }
    let (p, q) = (dir.path().join("plain.csv"), dir.path().join("quoted.csv"));
    let g = dir.path().join("grouped.csv");
    std::fs::write(&p, plain).unwrap();
    std::fs::write(&q, quoted).unwrap();
    std::fs::write(&g, grouped).unwrap();
    let spec = StatsSpec {
        t_stop: Some(1000.0),
        ..Default::default()
    };
    let kept = spec.run(&trains).unwrap();
    let Rates::Kept(rates) = &kept.rates else {
        panic!("the in-memory result keeps its rates")
    };
    for (csv, out) in [(&p, "plain"), (&q, "quoted"), (&g, "grouped")] {
        let out = dir.path().join(out);
        let (ok, _, stderr) = excitable(&[
            "stats",
            "--spikes",
            csv.to_str().unwrap(),
            "--t-stop",
            "1000",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{stderr}");
        let file = out.join("rate.parquet");
        let c = excitable::report::table::read_f64_columns(&file, &["neuron", "t_ms", "rate_hz"])
            .unwrap();
        assert_eq!(c[0].len(), 150 * 1000);
        for (row, ((n, t), r)) in c[0].iter().zip(&c[1]).zip(&c[2]).enumerate() {
            let (k, i) = (row / 1000, row % 1000);
            assert_eq!((*n, *t), (k as f64, i as f64), "row {row}");
            assert_eq!(*r, rates[k][i], "neuron {k} at {i} ms");
        }
        // A row group per block of 32 trains.
        assert_eq!(excitable::report::table::row_group_count(&file).unwrap(), 5);
        let meta = excitable::report::table::read_metadata(&file).unwrap();
        assert!(
            meta.iter()
                .any(|(k, v)| k == "excitable.settings" && v.contains("sigma")),
            "{meta:?}"
        );
        let cv =
            excitable::report::table::read_f64_columns(&out.join("spike_stats.parquet"), &["cv"])
                .unwrap();
        let want: Vec<f64> = kept.stats.iter().map(|s| s.cv).collect();
        assert_eq!(cv[0], want);
        // The ISI histograms, written from their repeated shapes, read back as the rows.
        let h = excitable::report::table::read_f64_columns(
            &out.join("isi_histogram.parquet"),
            &["neuron", "bin_start_ms", "count"],
        )
        .unwrap();
        let mut want = vec![vec![]; 3];
        for (k, (bins, counts)) in kept.isi_histograms.iter().enumerate() {
            want[0].extend(std::iter::repeat_n(k as f64, bins.len()));
            want[1].extend(bins.iter().copied());
            want[2].extend(counts.iter().map(|&c| f64::from(c)));
        }
        assert!(want[0].len() > 150, "several bins per train");
        assert_eq!(h, want);
    }
    // A bad row names its line, for the parallel reader as for the other.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "neuron,t_ms\n0,1\n0,2\n0,x\n").unwrap();
    let (ok, _, stderr) = excitable(&[
        "stats",
        "--spikes",
        bad.to_str().unwrap(),
        "--out",
        dir.path().join("bad").to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("line 4: t_ms 'x' is not a finite number"),
        "{stderr}"
    );
}

/// An `.ode` file carries no units, so the summaries of `windows` (its run's length and dt)
/// and `excitability` (the leading eigenvalue) name none: they said "ms" and "per ms".
#[test]
fn ode_summaries_of_windows_and_excitability_invent_no_units() {
    let dir = tempfile::tempdir().unwrap();
    let fhn = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/models/fhn.ode");
    for (command, args) in [
        (
            "windows",
            vec!["--stim", "0.5", "--width", "10", "--t-max", "200"],
        ),
        ("excitability", vec!["--from", "0", "--to", "1.5"]),
    ] {
        let out = dir.path().join(command);
        let out = out.to_str().unwrap();
        let mut all = vec![command, "--model-file", fhn, "--out", out];
        all.extend(args);
        let (ok, _, stderr) = excitable(&all);
        assert!(ok, "{stderr}");
        let summary = std::fs::read_to_string(dir.path().join(command).join("summary.md")).unwrap();
        for unit in [" ms", "per ms", " mV", "uA/cm^2", " Hz"] {
            assert!(!summary.contains(unit), "{command}: {unit} in\n{summary}");
        }
    }
    // `stats` of the file's own spikes (a bare `t` column): no ms or Hz, in the summary or
    // the tables' columns.
    let sim = dir.path().join("sim");
    let (ok, _, stderr) = excitable(&[
        "simulate",
        "--model-file",
        fhn,
        "--stim",
        "0.5",
        "--t-max",
        "300",
        "--record",
        "spikes",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let stats = dir.path().join("stats");
    let (ok, _, stderr) = excitable(&[
        "stats",
        "--spikes",
        sim.join("spikes.parquet").to_str().unwrap(),
        "--out",
        stats.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let summary = std::fs::read_to_string(stats.join("summary.md")).unwrap();
    assert!(summary.contains("per 1000 time units"), "{summary}");
    for unit in [" ms", "(ms)", " Hz", "(Hz)"] {
        assert!(!summary.contains(unit), "stats: {unit} in\n{summary}");
    }
    let spikes = excitable::report::table::read_f64_columns(
        &stats.join("spike_stats.parquet"),
        &["n_spikes"],
    )
    .unwrap()
    .remove(0);
    assert!(spikes[0] >= 2.0, "fhn fires at 0.5: {spikes:?}");
    for (file, wanted) in [
        ("spike_stats", "rate_per_1000t"),
        ("rate", "rate_per_1000t"),
        ("rate", "t"),
    ] {
        let names =
            excitable::report::table::column_names(&stats.join(format!("{file}.parquet"))).unwrap();
        assert!(names.iter().any(|n| n == wanted), "{file}: {names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.ends_with("_ms") || n.ends_with("_hz")),
            "{file}: {names:?}"
        );
    }
}
