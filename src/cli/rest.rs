//! `excitable rest`: every equilibrium at each current, its stability, eigenvalues and
//! eigenvectors, and (near a Hopf point) the decay onto the centre subspace.

use super::common::{ModelArgs, finish};
use anyhow::{Context, Result};
use clap::Args;
use excitable::analysis::centre::{CentreProjection, KICK_MV, kick_and_project, leading_pair};
use excitable::analysis::ode_rest::ode_equilibria;
use excitable::analysis::rest::{Equilibrium, equilibria};
use excitable::model::Model;
use excitable::report::atomic::ensure_dir;
use excitable::report::rest::{
    centre_table, draw_centre, eigenvalues_table, eigenvectors_table, equilibria_table,
};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RestArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Injected current (uA/cm^2), repeatable.
    #[arg(long, allow_hyphen_values = true, default_value = "0")]
    pub current: Vec<f64>,
    /// Output folder.
    #[arg(long, default_value = "reports/rest")]
    pub out: PathBuf,
}

/// Leading complex pairs with Re > this (1/ms) count as "near the axis" for the centre analysis.
const NEAR_AXIS_PER_MS: f64 = -0.05;

pub fn run(a: RestArgs) -> Result<()> {
    let model = a.model.load()?;
    let names = model.var_names();
    let mut all = Vec::new();
    for &i in &a.current {
        let at = || format!("equilibria at {i} uA/cm^2");
        match &model {
            Model::Ode(m) => all.extend(ode_equilibria(m, i).with_context(at)?),
            _ => all.extend(equilibria(model.smooth()?, i).with_context(at)?),
        }
    }
    ensure_dir(&a.out)?;
    let mut centre = Vec::new();
    for e in all.iter().filter(|_| model.smooth().is_ok()) {
        if let Some(k) = leading_pair(&e.eigen)
            && k == 0
            && e.eigen[0].value.re > NEAR_AXIS_PER_MS
        {
            centre.push((e.i_ext, kick_and_project(&model, e)?));
        }
    }
    let mut files = vec![
        equilibria_table(&names, &all).write_parquet(&a.out)?,
        eigenvalues_table(&all).write_parquet(&a.out)?,
        eigenvectors_table(&names, &all).write_parquet(&a.out)?,
    ];
    if !centre.is_empty() {
        files.push(centre_table(&centre).write_parquet(&a.out)?);
        let png = a.out.join("centre_subspace.png");
        draw_centre(&png, model.name(), &centre)?;
        files.push(png);
    }
    finish(&a.out, &summary(&model, &names, &all, &centre), files)
}

fn summary(
    model: &Model,
    names: &[String],
    all: &[Equilibrium],
    centre: &[(f64, CentreProjection)],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Rest states of `{}`\n", model.name());
    let _ = writeln!(
        s,
        "| I (uA/cm^2) | # | V (mV) | stability | unstable | eigenvalues (1/ms) | slowest tau (ms) | ringing (Hz) |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---|---:|---|---:|---:|");
    for e in all {
        let ev: Vec<String> = e
            .eigen
            .iter()
            .map(|p| {
                if p.value.im.abs() > 1e-12 {
                    format!("{:.5}{:+.5}i", p.value.re, p.value.im)
                } else {
                    format!("{:.5}", p.value.re)
                }
            })
            .collect();
        let slowest = e
            .eigen
            .iter()
            .map(|p| p.time_constant_ms())
            .fold(0.0, f64::max);
        let ring = e.eigen.iter().map(|p| p.frequency_hz()).fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {} | {} | {} | {:.3} | {:.2} |",
            e.i_ext,
            e.index,
            e.state[0],
            e.stability,
            e.n_unstable,
            ev.join(", "),
            slowest,
            ring
        );
    }
    let _ = writeln!(s, "\nState at each equilibrium ({}):\n", names.join(", "));
    for e in all {
        let st: Vec<String> = names
            .iter()
            .zip(&e.state)
            .map(|(n, v)| format!("{n}={v:.6}"))
            .collect();
        let _ = writeln!(s, "- I = {}, #{}: {}", e.i_ext, e.index, st.join(", "));
    }
    for (i, c) in centre {
        let _ = writeln!(
            s,
            "\nCentre subspace at {i} uA/cm^2 (pair {:.5}{:+.5}i /ms): after a {KICK_MV} mV kick the deviation off the plane decays at {:.4}/ms (fit, 5-40 ms); the slowest other eigenvalue predicts {:.4}/ms. Off-plane share at 40 ms: {:.2e}.",
            c.pair.re,
            c.pair.im,
            c.fitted_rate_per_ms,
            c.predicted_rate_per_ms,
            c.off_norm.last().unwrap_or(&f64::NAN) / c.centre_norm.last().unwrap_or(&f64::NAN)
        );
    }
    let _ = writeln!(
        s,
        "\nTables: [equilibria](equilibria.parquet), [eigenvalues](eigenvalues.parquet), [eigenvectors](eigenvectors.parquet){}.",
        if centre.is_empty() {
            ""
        } else {
            ", [centre_subspace](centre_subspace.parquet) ![centre](centre_subspace.png)"
        }
    );
    s
}
