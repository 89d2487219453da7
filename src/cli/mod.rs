//! Command-line interface: parse, run, say where the reports went. No numerics here.

pub mod job;
pub mod models;
pub mod progress;
pub mod report;
pub mod study;

use clap::{Parser, Subcommand};

/// How a conductance-based neuron model behaves: simulate, find rest states and bifurcations,
/// measure firing. Units: mV, ms, uA/cm^2, mS/cm^2, uF/cm^2, Hz.
#[derive(Debug, Parser)]
#[command(name = "excitable", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the built-in models (or one model file) with their parameters, units and defaults.
    Models(models::ModelsArgs),
    /// Simulate one or many neurons and write trace.parquet, spikes.parquet, trace.png, summary.md.
    Simulate(Box<job::JobArgs<excitable::study::jobs::SimulateJob>>),
    /// Every equilibrium at each current: stability, eigenvalues, eigenvectors, centre subspace.
    Rest(job::JobArgs<excitable::study::jobs::RestJob>),
    /// Steady states x_inf(V) and time constants tau(V) of every gate.
    Gating(job::JobArgs<excitable::study::jobs::GatingJob>),
    /// V-n phase plane: trajectory, reduced nullclines, limit cycle.
    PhasePlane(job::JobArgs<excitable::study::jobs::PhasePlaneJob>),
    /// Spike-train statistics (ISI, CV, CV2, LV, LvR, Fano, serial correlation) of a spikes file.
    Stats(job::JobArgs<excitable::study::jobs::StatsJob>),
    /// Firing and voltage in sliding windows of a trace, for several widths.
    Windows(Box<job::JobArgs<excitable::study::jobs::WindowsJob>>),
    /// The highest sustained spike rate under constant currents, and where it occurs.
    MaxRate(job::JobArgs<excitable::study::jobs::MaxRateJob>),
    /// One-parameter bifurcation diagram: equilibria, folds, Hopf points (with criticality),
    /// cycle branches with Floquet multipliers, folds of cycles, period doubling, torus points.
    Bifurcation(Box<job::JobArgs<excitable::study::jobs::BifurcationJob>>),
    /// Two-parameter curves of Hopf and fold points, with Bautin, Bogdanov-Takens and cusp
    /// points.
    Bifurcation2(Box<job::JobArgs<excitable::study::jobs::Bifurcation2Job>>),
    /// f-I curves from rest, up and down starts, rheobase, onset and offset of firing.
    Fi(Box<job::JobArgs<excitable::study::jobs::FiJob>>),
    /// Firing over a grid of one or two model parameters and the current (a rate map);
    /// `--shard K/N` runs one part of it.
    Sweep(Box<job::JobArgs<excitable::study::jobs::SweepJob>>),
    /// Join the shards of a sharded sweep into grid.parquet, grid.png and summary.md.
    Merge(excitable::study::jobs::MergeJob),
    /// Phase response curves of every variable by the adjoint method on the stable cycle,
    /// at one current or along the cycle branch: prc.parquet, prc.png, summary.md.
    Prc(Box<job::JobArgs<excitable::study::jobs::PrcJob>>),
    /// Hodgkin's excitability class (1, 2, 3) with its evidence, integrator or resonator, the
    /// onset bifurcation, minimum rate, f-I slope and PRC type.
    Excitability(Box<job::JobArgs<excitable::study::jobs::ExcitabilityJob>>),
    /// Write a model as an XPPAUT .ode file, a NeuroML2 cell or a TOML model file (--out FILE).
    Export(job::JobArgs<excitable::study::jobs::ExportJob>),
    /// Fit free parameters to targets (rest, input resistance, Hopf current, rheobase, onset,
    /// rates, an f-I curve): fit.parquet, fit_summary.parquet, fitted.toml, fit.png, summary.md.
    Fit(Box<job::JobArgs<excitable::study::jobs::FitJob>>),
    /// Study files: run `studies/*.toml` into reports/NAME/ and check the documents' claims.
    Study(study::StudyArgs),
    /// The full default report of a model: simulation, rest states, gating, phase plane,
    /// maximum rate, windows and spike statistics, indexed in OUT/summary.md.
    Report(report::ReportArgs),
}

/// Run the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Models(a) => models::run(a),
        Command::Simulate(a) => job::run(*a),
        Command::Rest(a) => job::run(a),
        Command::Gating(a) => job::run(a),
        Command::PhasePlane(a) => job::run(a),
        Command::Stats(a) => job::run(a),
        Command::Windows(a) => job::run(*a),
        Command::MaxRate(a) => job::run(a),
        Command::Report(a) => report::run(a),
        Command::Bifurcation(a) => job::run(*a),
        Command::Fi(a) => job::run(*a),
        Command::Bifurcation2(a) => job::run(*a),
        Command::Sweep(a) => job::run(*a),
        Command::Merge(a) => {
            let dir = a.dir.clone();
            job::run_in(a, &dir)
        }
        Command::Export(a) => job::run(a),
        Command::Study(a) => study::run(a),
        Command::Prc(a) => job::run(*a),
        Command::Excitability(a) => job::run(*a),
        Command::Fit(a) => job::run(*a),
    }
}

/// Write to standard output; a failed write (a closed pipe is handled by SIGPIPE, a full disk
/// is not) becomes an error instead of a panic.
pub fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))
}

/// Write to standard error, ignoring a failure (there is nowhere left to report it).
pub fn warn(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
}

/// What a run says when it waits for another run writing its folder.
pub fn waiting(out: &std::path::Path, holder: Option<u32>) {
    warn(&format!(
        "waiting: {} is being written by {}\n",
        out.display(),
        holder.map_or("another process".into(), |p| format!("process {p}"))
    ));
}

/// An error as one line: the context chain, with a setting named as its flag (`--t-max`).
pub fn describe(e: &anyhow::Error) -> String {
    let mut parts = vec![];
    for cause in e.chain() {
        let spec = cause
            .downcast_ref::<excitable::error::SpecError>()
            .or_else(|| match cause.downcast_ref::<excitable::Error>() {
                Some(excitable::Error::Spec(s)) => Some(s),
                _ => None,
            });
        match spec {
            Some(s) => {
                parts.push(s.as_flags());
                break;
            }
            None => parts.push(cause.to_string()),
        }
    }
    // Each wrapper repeats its source's text; keep the chain but drop exact repeats.
    parts.dedup();
    let mut line = parts[0].clone();
    for p in &parts[1..] {
        if !line.ends_with(p.as_str()) {
            line.push_str(": ");
            line.push_str(p);
        }
    }
    line
}

/// A usage error from clap (an unknown flag, a value that does not parse) as one line, like
/// every other refusal: clap's message and its tips joined, without its usage block, and a
/// pointer to `--help`. Help and version, which clap also reports as errors, are not usage
/// errors and keep clap's own layout (`None`).
pub fn usage_error_line(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return None;
    }
    let text = e.render().to_string();
    let mut line = String::new();
    for part in text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
    {
        if !line.is_empty() {
            line.push_str(if part.starts_with("tip:") { "; " } else { " " });
        }
        line.push_str(part);
    }
    Some(format!("{line} (see --help)\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command that writes a report is a study task, so a study step can run it and the
    /// two cannot drift apart; the others are the listing, the study runner, the report
    /// template and the shard merge.
    #[test]
    fn every_report_command_is_a_study_step() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| !["models", "study", "report", "merge"].contains(&n.as_str()))
            .collect();
        let tasks = excitable::study::task::Task::commands();
        assert_eq!(names.len(), tasks.len(), "{names:?} vs {tasks:?}");
        for n in &names {
            assert!(tasks.contains(&n.as_str()), "`{n}` cannot be a study step");
        }
    }

    /// clap's usage errors come out on one line with their tips; help stays clap's own.
    #[test]
    fn usage_errors_are_one_line() {
        let line = |args: &[&str]| {
            let e = Cli::try_parse_from(args).unwrap_err();
            usage_error_line(&e)
        };
        for (args, needle) in [
            (
                &["excitable", "simulate", "--t-max", "abc"][..],
                "'--t-max <T_MAX>'",
            ),
            (
                &["excitable", "simulate", "--tmax", "5"][..],
                "found; tip: a similar argument exists: '--t-max'",
            ),
            (
                &["excitable", "frobnicate"][..],
                "unrecognized subcommand 'frobnicate'",
            ),
        ] {
            let got = line(args).unwrap_or_default();
            assert_eq!(got.lines().count(), 1, "{args:?}: {got}");
            assert!(
                got.starts_with("error: ") && got.contains(needle),
                "{args:?}: {got}"
            );
            assert!(
                got.ends_with("(see --help)\n") && !got.contains("Usage:"),
                "{got}"
            );
        }
        assert!(line(&["excitable", "--help"]).is_none());
        assert!(line(&["excitable", "--version"]).is_none());
    }
}
