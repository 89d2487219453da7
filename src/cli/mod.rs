//! Command-line interface: parse, run, say where the reports went. No numerics here.

pub mod common;
pub mod models;
pub mod simulate;

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
}

/// Run the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Models(a) => models::run(a),
        Command::Simulate(a) => simulate::run(*a),
    }
}
