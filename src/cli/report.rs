//! `excitable report`: the full default report of one model, every analysis in one folder.
//!
//! Each step is one of the other subcommands, parsed from its own command line, so the report
//! and the individual commands can never drift apart. Until study files land this is the main
//! job the README opens with.

use super::common::ModelArgs;
use super::{Cli, run as run_command};
use anyhow::{Context, Result};
use clap::{Args, Parser};
use excitable::report::atomic::{ensure_dir, write_text};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output folder (one subfolder per analysis, and an index summary.md).
    #[arg(long, default_value = "reports/hh")]
    pub out: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let model = a.model.load()?;
    ensure_dir(&a.out)?;
    let mut model_flags: Vec<String> = match &a.model.model_file {
        Some(p) => vec!["--model-file".into(), p.display().to_string()],
        None => vec!["--model".into(), a.model.model.clone()],
    };
    for s in &a.model.set {
        model_flags.extend(["--set".into(), s.clone()]);
    }
    if let Some(v) = &a.model.v_var {
        model_flags.extend(["--v-var".into(), v.clone()]);
    }
    let dir = |name: &str| a.out.join(name).display().to_string();
    let smooth = model.smooth().is_ok();
    let has_hh_gates = ["m", "h", "n"]
        .iter()
        .all(|g| model.var_names().iter().any(|v| v == g));
    let v_rest = model.resting_state()?[0];
    let (v_lo, v_hi) = (
        format!("{}", (v_rest - 35.0).round()),
        format!("{}", (v_rest + 125.0).round()),
    );

    // (subfolder, what it shows, command line)
    let mut steps: Vec<(&str, &str, Vec<String>)> = vec![(
        "simulate",
        "10 uA/cm^2 from rest for 200 ms (BrainPy's first example), RK4",
        args(&[
            "simulate", "--stim", "10", "--t-max", "200", "--method", "rk4",
        ]),
    )];
    if smooth {
        steps.push((
            "rest",
            "equilibria, eigenvalues and eigenvectors at 0, 5 and 10 uA/cm^2",
            args(&[
                "rest",
                "--current",
                "0",
                "--current",
                "5",
                "--current",
                "10",
            ]),
        ));
        steps.push((
            "gating",
            "steady states and time constants of the gates",
            args(&["gating", "--v-from", &v_lo, "--v-to", &v_hi]),
        ));
    }
    if has_hh_gates {
        steps.push((
            "phase_plane",
            "V-n phase plane at 10 uA/cm^2",
            args(&["phase-plane", "--current", "10"]),
        ));
    }
    steps.push((
        "max_rate",
        "steady spike rate from 0 to 200 uA/cm^2",
        args(&["max-rate", "--currents", "0:200:1"]),
    ));
    steps.push((
        "noise",
        "1 s under noisy current (mean 8, sd 25, new value every 0.1 ms)",
        args(&[
            "simulate",
            "--stim",
            "noise:8:25:42:0.1",
            "--t-max",
            "1000",
            "--method",
            "exp-euler",
        ]),
    ));
    let mut index = format!("# Report of `{}`\n\n", model.name());
    for (name, what, mut argv) in steps {
        argv.extend(model_flags.iter().cloned());
        argv.extend(["--out".into(), dir(name)]);
        run_step(&argv).with_context(|| format!("report step '{name}'"))?;
        link(&a.out, &mut index, name, what);
    }
    if smooth {
        // The bifurcation diagram depends on the model having equilibria over the whole
        // range; if it cannot be computed the report says why and goes on.
        let mut argv = args(&["bifurcation", "--from", "-20", "--to", "250"]);
        argv.extend(model_flags.iter().cloned());
        argv.extend(["--out".into(), dir("bifurcation")]);
        let what = "bifurcation diagram over the injected current (-20 to 250 uA/cm^2): Hopf points, cycles, folds";
        match run_step(&argv) {
            Ok(()) => link(&a.out, &mut index, "bifurcation", what),
            Err(e) => {
                let _ = writeln!(index, "- bifurcation: not computed ({e:#})");
            }
        }
    }
    // Windows and statistics read the noisy run's files.
    let trace = format!("{}/trace.parquet", dir("noise"));
    let spikes = format!("{}/spikes.parquet", dir("noise"));
    run_step(&args(&[
        "windows",
        "--trace",
        &trace,
        "--width",
        "0.1",
        "--width",
        "0.5",
        "--width",
        "1",
        "--width",
        "5",
        "--out",
        &dir("windows"),
    ]))
    .context("report step 'windows'")?;
    link(
        &a.out,
        &mut index,
        "windows",
        "firing and voltage in 0.1, 0.5, 1 and 5 ms windows of the noisy run",
    );
    run_step(&args(&[
        "stats",
        "--spikes",
        &spikes,
        "--t-stop",
        "1000",
        "--out",
        &dir("stats"),
    ]))
    .context("report step 'stats'")?;
    link(
        &a.out,
        &mut index,
        "stats",
        "spike-train statistics of the noisy run",
    );
    let path = a.out.join("summary.md");
    write_text(&path, &index)?;
    println!(
        "report of {} in {}: {}",
        model.name(),
        a.out.display(),
        path.display()
    );
    Ok(())
}

/// Index entry for a step: its summary (or, if it writes none, its folder) and its figures.
fn link(out: &std::path::Path, index: &mut String, name: &str, what: &str) {
    let dir = out.join(name);
    let target = if dir.join("summary.md").exists() {
        format!("{name}/summary.md")
    } else {
        format!("{name}/")
    };
    let _ = writeln!(index, "\n## {name}\n\n[{what}]({target})\n");
    for png in super::common::pngs_in(&dir) {
        let _ = writeln!(index, "![{name}]({name}/{png})");
    }
}

fn args(list: &[&str]) -> Vec<String> {
    std::iter::once("excitable")
        .chain(list.iter().copied())
        .map(String::from)
        .collect()
}

fn run_step(argv: &[String]) -> Result<()> {
    let cli = Cli::try_parse_from(argv).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            e.to_string().lines().next().unwrap_or("bad arguments")
        )
    })?;
    run_command(cli)
}
