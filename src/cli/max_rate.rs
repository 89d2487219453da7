//! `excitable max-rate`: the highest sustained spike rate under constant currents.

use super::common::{ModelArgs, finish, parse_number_list};
use anyhow::{Result, bail};
use clap::Args;
use excitable::analysis::max_rate::max_firing_rate;
use excitable::report::Table;
use excitable::report::atomic::ensure_dir;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MaxRateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Currents (uA/cm^2): FROM:TO:STEP or a list.
    #[arg(long, allow_hyphen_values = true, default_value = "0:300:1")]
    pub currents: String,
    /// Transient discarded before counting (ms).
    #[arg(long, default_value_t = 200.0)]
    pub transient: f64,
    /// Counting window (ms).
    #[arg(long, default_value_t = 1000.0)]
    pub window: f64,
    /// Time step (ms): exponential Euler, or RK4 for an .ode model.
    #[arg(long, default_value_t = 0.01)]
    pub dt: f64,
    #[arg(long, default_value = "reports/max_rate")]
    pub out: PathBuf,
}

/// Biological ceiling of sustained firing quoted by `002_…` (a few hundred Hz; 500-600 at most).
const BIOLOGICAL_CEILING_HZ: f64 = 500.0;

pub fn run(a: MaxRateArgs) -> Result<()> {
    let model = a.model.load()?;
    let currents = parse_number_list(&a.currents)?;
    if !(a.transient >= 0.0 && a.window > 0.0 && a.transient.is_finite() && a.window.is_finite()) {
        bail!("--transient must be >= 0 and --window > 0 ms");
    }
    ensure_dir(&a.out)?;
    let r = max_firing_rate(&model, &currents, a.transient, a.window, a.dt)?;
    let files = vec![
        Table::new("max_rate")
            .f64("i_ua_cm2", r.currents.clone())
            .f64("rate_hz", r.rates_hz.clone())
            .write_parquet(&a.out)?,
    ];
    let mut md = format!("# Maximum firing rate of `{}`\n\n", model.name());
    let _ = writeln!(
        md,
        "Highest steady spike rate over {} currents from {} to {} uA/cm^2: **{:.1} Hz at {} uA/cm^2** ({} ms counted after {} ms, spikes at {} mV).",
        currents.len(),
        currents.first().unwrap_or(&f64::NAN),
        currents.last().unwrap_or(&f64::NAN),
        r.max_rate_hz,
        r.at_current,
        a.window,
        a.transient,
        model.threshold_mv()
    );
    if r.max_rate_hz == 0.0 {
        let _ = writeln!(
            md,
            "\nNo current of the grid gives sustained spiking: after the transient the model is silent or oscillates below the threshold everywhere."
        );
    }
    let verdict = if r.max_rate_hz > BIOLOGICAL_CEILING_HZ {
        "above"
    } else {
        "within"
    };
    let _ = writeln!(
        md,
        "\nThat is {verdict} the biological ceiling of about {BIOLOGICAL_CEILING_HZ} Hz that `002_…` discusses. Oscillations whose peaks stay below the threshold are not counted as spikes.\n\nTable: [max_rate.parquet](max_rate.parquet) (`i_ua_cm2`, `rate_hz`)."
    );
    finish(&a.out, &md, files)
}
