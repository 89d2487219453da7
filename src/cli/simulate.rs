//! `excitable simulate`: integrate a model under a stimulus and write the simulation report.

use super::common::{ModelArgs, parse_number_list};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::model::{InitialState, params::parse_assignments};
use excitable::report::atomic::ensure_dir;
use excitable::report::simulation::{RunDescription, write_simulation_report};
use excitable::simulate::{self, EulerOrder, Method, Record, Settings, Tolerances};
use excitable::stimulus::Stimulus;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Stimulus (uA/cm^2, ms), repeatable and summed: 10, step:5:15:1, pulses:500,550:5:5,
    /// ramp:0:100:0:20, sine:2:40, noise:0:3:SEED[:DT], file:I.csv; join parts with `+`.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub stim: Vec<String>,
    /// Duration (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = 100.0)]
    pub t_max: f64,
    /// Time step (ms); for dopri5 the output grid.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.01)]
    pub dt: f64,
    /// euler, exp-euler, rk4 or dopri5.
    #[arg(long, default_value = "rk4")]
    pub method: String,
    /// Euler update order: simultaneous, v-first (V then gates with the new V), gates-first.
    #[arg(long, default_value = "simultaneous")]
    pub order: String,
    /// Relative tolerance of dopri5.
    #[arg(long, allow_hyphen_values = true, default_value_t = 1e-8)]
    pub rtol: f64,
    /// Absolute tolerance of dopri5.
    #[arg(long, allow_hyphen_values = true, default_value_t = 1e-10)]
    pub atol: f64,
    /// Start at V = V0 (mV) with every gate at its steady state for V0 (default: the resting state).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "init")]
    pub v0: Option<f64>,
    /// Start from rest with these variables set: `v=0,m=0.05,h=0.59,n=0.31`.
    #[arg(long, allow_hyphen_values = true)]
    pub init: Option<String>,
    /// Spike threshold (mV); default: the model's (hh: 0, hh-1952: 65; lif: its v_th).
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// What to keep: full, every:K, spikes.
    #[arg(long, default_value = "full")]
    pub record: String,
    /// Number of neurons (each gets its bias current and its own noise seed).
    #[arg(long, default_value_t = 1)]
    pub neurons: usize,
    /// Per-neuron bias current added to the stimulus: `1,2,3` or `FROM:TO` spread over the
    /// neurons, or FROM:TO:STEP (which sets the number of neurons).
    #[arg(long, allow_hyphen_values = true)]
    pub currents: Option<String>,
    /// Also write trace.svg.
    #[arg(long)]
    pub svg: bool,
    /// Output folder.
    #[arg(long, default_value = "reports/simulate")]
    pub out: PathBuf,
}

/// Per-neuron bias currents from `--neurons` and `--currents`.
fn bias_currents(a: &SimulateArgs) -> Result<Vec<f64>> {
    let n = a.neurons;
    if n == 0 {
        bail!("--neurons must be at least 1");
    }
    let Some(text) = &a.currents else {
        return Ok(vec![0.0; n]);
    };
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() == 2 {
        let lo: f64 = parts[0]
            .trim()
            .parse()
            .with_context(|| format!("--currents {text}: FROM"))?;
        let hi: f64 = parts[1]
            .trim()
            .parse()
            .with_context(|| format!("--currents {text}: TO"))?;
        if !(lo.is_finite() && hi.is_finite()) {
            bail!("--currents {text}: FROM and TO must be finite");
        }
        return Ok((0..n)
            .map(|k| {
                if n == 1 {
                    lo
                } else {
                    lo + (hi - lo) * k as f64 / (n - 1) as f64
                }
            })
            .collect());
    }
    let list = parse_number_list(text).with_context(|| "--currents")?;
    if list.len() != n && a.neurons != 1 {
        bail!(
            "--currents gives {} values but --neurons is {n}",
            list.len()
        );
    }
    Ok(list)
}

pub fn run(a: SimulateArgs) -> Result<()> {
    let model = a.model.load()?;
    let stim = Stimulus::parse_all(&a.stim)?;
    let order = EulerOrder::parse(&a.order)
        .map_err(anyhow::Error::msg)
        .context("--order")?;
    let method = Method::parse(
        &a.method,
        order,
        Tolerances {
            rtol: a.rtol,
            atol: a.atol,
        },
    )
    .map_err(anyhow::Error::msg)
    .context("--method")?;
    let record = Record::parse(&a.record)
        .map_err(anyhow::Error::msg)
        .context("--record")?;
    let init = match (&a.v0, &a.init) {
        (Some(v), _) => InitialState::Voltage(*v),
        (None, Some(text)) => InitialState::Values(parse_assignments(text).context("--init")?),
        (None, None) => InitialState::Default,
    };
    let y0 = model.initial_state(&init)?;
    let bias = bias_currents(&a)?;
    let settings = Settings {
        t_max: a.t_max,
        dt: a.dt,
        method,
        record,
        threshold_mv: a.threshold.unwrap_or(model.threshold_mv()),
    };
    let steps = settings.steps()?;
    // Fail on an unwritable folder before the work, not after.
    ensure_dir(&a.out)?;

    let bar = ProgressBar::new(bias.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating {pos}/{len} neurons [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if (steps as u64) * (bias.len() as u64) < 2_000_000 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let start = Instant::now();
    let runs = simulate::run_many(&model, &stim, &y0, &bias, &settings, &|| bar.inc(1))?;
    let wall_s = start.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let names = model.var_names();
    let initial_state = match &init {
        InitialState::Rest => "resting state at 0 uA/cm^2".to_string(),
        InitialState::Default | InitialState::File => match &model {
            excitable::model::Model::Ode(_) => "initial values from the file".to_string(),
            _ => "resting state at 0 uA/cm^2".to_string(),
        },
        InitialState::Voltage(v) => format!("V = {v} mV, gates at steady state"),
        InitialState::Values(_) => "rest, with ".to_string() + a.init.as_deref().unwrap_or(""),
    } + &format!(
        " ({})",
        names
            .iter()
            .zip(&y0)
            .map(|(n, v)| format!("{n}={v:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let desc = RunDescription {
        model: model.name().to_string(),
        overrides: a.model.overrides(&model),
        stimulus: a.stim.join(" + "),
        method: settings.method.to_string(),
        dt_ms: a.dt,
        t_max_ms: a.t_max,
        initial_state,
        threshold_mv: settings.threshold_mv,
        bias: bias.clone(),
        wall_s,
        title: format!("{} under {}", model.name(), a.stim.join(" + ")),
    };
    let mut files = write_simulation_report(&a.out, &runs, &desc)?;
    if a.svg && runs.iter().any(|r| !r.trace.is_empty()) {
        let svg = a.out.join("trace.svg");
        let traces: Vec<_> = runs.iter().map(|r| &r.trace).collect();
        excitable::report::trace_figure::draw_trace(&svg, &desc.title, &traces)?;
        files.push(svg);
    }
    let spikes: usize = runs.iter().map(|r| r.spikes_ms.len()).sum();
    println!(
        "{} neuron(s) x {} ms with {}: {} spikes in {:.3} s",
        runs.len(),
        a.t_max,
        settings.method,
        spikes,
        wall_s
    );
    for f in files {
        println!("  wrote {}", f.display());
    }
    Ok(())
}
