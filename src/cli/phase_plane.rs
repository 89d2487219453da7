//! `excitable phase-plane`: a V-n projection of a simulated trajectory over the nullclines of the
//! reduced (V, n) system, with the limit cycle when the model fires.

use super::common::ModelArgs;
use anyhow::Result;
use clap::Args;
use excitable::analysis::phase_plane::nullclines;
use excitable::report::atomic::ensure_dir;
use excitable::report::rest::{PhasePlane, write_phase_plane};
use excitable::simulate::{self, Method, Record, Settings};
use excitable::stimulus::Stimulus;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PhasePlaneArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Injected current (uA/cm^2), from t = 0, starting at rest (0 uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub current: f64,
    /// Duration (ms); the last interspike interval is taken as the limit cycle.
    #[arg(long, default_value_t = 200.0)]
    pub t_max: f64,
    #[arg(long, default_value = "reports/phase_plane")]
    pub out: PathBuf,
}

pub fn run(a: PhasePlaneArgs) -> Result<()> {
    let model = a.model.load()?;
    let smooth = model.smooth()?;
    let names = model.var_names();
    let n_idx = names
        .iter()
        .position(|n| n == "n")
        .ok_or_else(|| anyhow::anyhow!("the phase plane needs a gate named n"))?;
    ensure_dir(&a.out)?;
    let y0 = model.resting_state()?;
    let s = Settings {
        t_max: a.t_max,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::Full,
        threshold_mv: model.threshold_mv(),
    };
    let run = simulate::run(&model, &Stimulus::constant(a.current), &y0, &s)?;
    let (t, v, n) = (&run.trace.t_ms, run.trace.v(), &run.trace.vars[n_idx]);
    let trajectory: Vec<(f64, f64)> = v.iter().copied().zip(n.iter().copied()).collect();
    let sp = &run.spikes_ms;
    let limit_cycle = if sp.len() >= 3 {
        let (t0, t1) = (sp[sp.len() - 2], sp[sp.len() - 1]);
        t.iter()
            .zip(&trajectory)
            .filter(|(tt, _)| **tt >= t0 && **tt <= t1)
            .map(|(_, p)| *p)
            .collect()
    } else {
        vec![]
    };
    let v_lo = v.iter().copied().fold(f64::INFINITY, f64::min) - 10.0;
    let v_hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 10.0;
    let nc = nullclines(smooth, a.current, v_lo, v_hi, 1200)?;
    let eqs = model
        .equilibria(a.current)?
        .iter()
        .map(|e| (e.state[0], e.state[n_idx], e.stability.is_stable()))
        .collect();
    let pp = PhasePlane {
        model: model.name(),
        i_ext: a.current,
        trajectory,
        limit_cycle,
        nullclines: &nc,
        equilibria: eqs,
    };
    for f in write_phase_plane(&a.out, &pp)? {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
