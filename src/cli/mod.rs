//! Command-line interface: parse, run, say where the reports went. No numerics here.

pub mod bifurcation;
pub mod bifurcation2;
pub mod common;
pub mod fi;
pub mod gating;
pub mod max_rate;
pub mod models;
pub mod phase_plane;
pub mod report;
pub mod rest;
pub mod simulate;
pub mod stats;
pub mod study;
pub mod sweep;
pub mod windows;

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
    Simulate(Box<simulate::SimulateArgs>),
    /// Every equilibrium at each current: stability, eigenvalues, eigenvectors, centre subspace.
    Rest(rest::RestArgs),
    /// Steady states x_inf(V) and time constants tau(V) of every gate.
    Gating(gating::GatingArgs),
    /// V-n phase plane: trajectory, reduced nullclines, limit cycle.
    PhasePlane(phase_plane::PhasePlaneArgs),
    /// Spike-train statistics (ISI, CV, CV2, LV, LvR, Fano, serial correlation) of a spikes file.
    Stats(stats::StatsArgs),
    /// Firing and voltage in sliding windows of a trace, for several widths.
    Windows(windows::WindowsArgs),
    /// The highest sustained spike rate under constant currents, and where it occurs.
    MaxRate(max_rate::MaxRateArgs),
    /// One-parameter bifurcation diagram: equilibria, folds, Hopf points (with criticality),
    /// cycle branches with Floquet multipliers, folds of cycles, period doubling, torus points.
    Bifurcation(Box<bifurcation::BifurcationArgs>),
    /// Two-parameter curves of Hopf and fold points, with Bautin, Bogdanov-Takens and cusp
    /// points.
    Bifurcation2(Box<bifurcation2::Bifurcation2Args>),
    /// f-I curves from rest, up and down starts, rheobase, onset and offset of firing.
    Fi(Box<fi::FiArgs>),
    /// Firing over a grid of one or two model parameters and the current (a rate map);
    /// `--shard K/N` runs one part of it.
    Sweep(Box<sweep::SweepArgs>),
    /// Join the shards of a sharded sweep into grid.parquet, grid.png and summary.md.
    Merge(sweep::MergeArgs),
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
        Command::Simulate(a) => simulate::run(*a),
        Command::Rest(a) => rest::run(a),
        Command::Gating(a) => gating::run(a),
        Command::PhasePlane(a) => phase_plane::run(a),
        Command::Stats(a) => stats::run(a),
        Command::Windows(a) => windows::run(a),
        Command::MaxRate(a) => max_rate::run(a),
        Command::Report(a) => report::run(a),
        Command::Bifurcation(a) => bifurcation::run(*a),
        Command::Fi(a) => fi::run(*a),
        Command::Bifurcation2(a) => bifurcation2::run(*a),
        Command::Sweep(a) => sweep::run(*a),
        Command::Merge(a) => sweep::merge(a),
        Command::Study(a) => study::run(a),
    }
}
