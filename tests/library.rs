//! The library reproduces what the command line writes: for each command, `XSpec::run` on the
//! same model and settings, written with `Report::write`, gives the same tables as
//! `excitable X` (every column, every value, bit for bit; NaN equal to NaN).

use crate::common;

use common::excitable;
use excitable::report::Report;
use excitable::report::table::{column_names, read_f64_columns, read_str_column};
use excitable::{FiSpec, Model, RestSpec, SweepSpec};
use std::path::Path;

/// Every `.parquet` file in `dir`, by name.
fn tables(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect();
    v.sort();
    v
}

/// Assert that the two folders hold the same tables with equal columns.
fn assert_same_tables(cli: &Path, lib: &Path) {
    let names = tables(cli);
    assert!(!names.is_empty(), "no tables in {}", cli.display());
    assert_eq!(names, tables(lib), "table files differ");
    for name in names {
        let (a, b) = (cli.join(&name), lib.join(&name));
        let cols = column_names(&a).unwrap();
        assert_eq!(cols, column_names(&b).unwrap(), "{name}: columns differ");
        for c in &cols {
            match (read_f64_columns(&a, &[c]), read_f64_columns(&b, &[c])) {
                (Ok(x), Ok(y)) => {
                    let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&x[0]), bits(&y[0]), "{name}:{c} differs");
                }
                _ => assert_eq!(
                    read_str_column(&a, c).unwrap(),
                    read_str_column(&b, c).unwrap(),
                    "{name}:{c} differs"
                ),
            }
        }
    }
}

/// Run the CLI into `dir/cli` and return it.
fn cli(dir: &Path, args: &[&str]) -> std::path::PathBuf {
    let out = dir.join("cli");
    let mut argv: Vec<&str> = args.to_vec();
    let o = out.to_str().unwrap().to_string();
    argv.extend(["--out", &o]);
    let (ok, _, stderr) = excitable(&argv);
    assert!(ok, "{stderr}");
    out
}

#[test]
fn rest_through_the_library_equals_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &["rest", "--model", "hh", "--current", "0", "--current", "10"],
    );
    let spec = RestSpec {
        current: vec![0.0, 10.0],
    };
    let lib = dir.path().join("lib");
    spec.run(&Model::builtin("hh").unwrap())
        .unwrap()
        .write(&lib)
        .unwrap();
    assert_same_tables(&out, &lib);
}

#[test]
fn fi_through_the_library_equals_the_command_line() {
    for (model, args, spec) in [
        (
            "hh",
            vec![
                "--to",
                "20",
                "--step",
                "1",
                "--t-max",
                "300",
                "--transient",
                "100",
                "--tol",
                "0.01",
            ],
            FiSpec {
                to: 20.0,
                step: 1.0,
                t_max: 300.0,
                transient: 100.0,
                tol: 0.01,
                ..Default::default()
            },
        ),
        (
            "lif",
            vec!["--to", "3", "--step", "0.1"],
            FiSpec {
                to: 3.0,
                step: 0.1,
                ..Default::default()
            },
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["fi", "--model", model];
        argv.extend(args);
        let out = cli(dir.path(), &argv);
        let lib = dir.path().join("lib");
        spec.run(&Model::builtin(model).unwrap())
            .unwrap()
            .write(&lib)
            .unwrap();
        assert_same_tables(&out, &lib);
    }
}

#[test]
fn sweep_through_the_library_equals_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &[
            "sweep",
            "--model",
            "hh",
            "--param",
            "g_k=30:42:6",
            "--current",
            "0:20:5",
            "--t-max",
            "200",
            "--transient",
            "50",
        ],
    );
    let spec = SweepSpec {
        params: vec!["g_k=30:42:6".parse().unwrap()],
        current: "0:20:5".parse().unwrap(),
        t_max: 200.0,
        transient: 50.0,
        ..Default::default()
    };
    let lib = dir.path().join("lib");
    spec.run(&Model::builtin("hh").unwrap())
        .unwrap()
        .write(&lib)
        .unwrap();
    assert_same_tables(&out, &lib);
}

#[test]
fn bifurcation_through_the_library_equals_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &[
            "bifurcation",
            "--model",
            "hh",
            "--set",
            "g_l=0.03",
            "--from",
            "0",
            "--to",
            "200",
            "--at",
            "10,50",
        ],
    );
    let model = Model::builtin("hh").unwrap().with("g_l", 0.03).unwrap();
    let spec = excitable::BifurcationSpec {
        from: 0.0,
        to: 200.0,
        at: vec![10.0, 50.0],
        ..Default::default()
    };
    let lib = dir.path().join("lib");
    spec.run(&model).unwrap().write(&lib).unwrap();
    assert_same_tables(&out, &lib);
}

#[test]
fn stats_through_the_library_equals_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Spikes of a noisy run, then their statistics with an input: both ways.
    let run = dir.path().join("run");
    let (ok, _, stderr) = excitable(&[
        "simulate",
        "--stim",
        "noise:8:25:7:0.1",
        "--neurons",
        "3",
        "--record",
        "spikes",
        "--t-max",
        "500",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let spikes = run.join("spikes.parquet");
    let out = cli(
        dir.path(),
        &[
            "stats",
            "--spikes",
            spikes.to_str().unwrap(),
            "--t-stop",
            "500",
            "--input",
            "pulses:100,200,300:2:10",
        ],
    );
    let spec = excitable::StatsSpec {
        t_stop: Some(500.0),
        input: Some("pulses:100,200,300:2:10".into()),
        ..Default::default()
    };
    let trains = excitable::report::spike_trains::read_spikes(&spikes).unwrap();
    let lib = dir.path().join("lib");
    spec.run(&trains).unwrap().write(&lib).unwrap();
    assert_same_tables(&out, &lib);
}
