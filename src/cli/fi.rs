//! `excitable fi`: f-I curves from rest, up and down starts (hysteresis), rheobase, onset and
//! offset of repetitive firing, on the batch kernel; overlaid with the stable cycle branch of
//! the bifurcation diagram.

use super::common::{ModelArgs, finish};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::analysis::fi::{Direction, FiCurve, fi_curve, fi_curve_general};
use excitable::continuation::cycles::CycleSettings;
use excitable::continuation::diagram::{DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Field, Settings};
use excitable::model::Model;
use excitable::report::Table;
use excitable::report::atomic::ensure_dir;
use excitable::report::figure::PALETTE;
use excitable::report::xy_figure::{Panel, Series, Style, draw_panels};
use excitable::simulate::batch::BatchSettings;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct FiArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// First current (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub from: f64,
    /// Last current (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = 200.0)]
    pub to: f64,
    /// Current step (uA/cm^2).
    #[arg(long, default_value_t = 0.5)]
    pub step: f64,
    /// Run length (ms).
    #[arg(long, default_value_t = 1200.0)]
    pub t_max: f64,
    /// Discarded before counting (ms).
    #[arg(long, default_value_t = 200.0)]
    pub transient: f64,
    /// rest, up, down or all (repeatable).
    #[arg(long, default_value = "all")]
    pub direction: Vec<String>,
    /// Time step (ms): exponential Euler on the batch kernel (conductance models) or for LIF,
    /// RK4 for .ode models.
    #[arg(long, default_value_t = 0.01)]
    pub dt: f64,
    /// Bisection tolerance for rheobase, onsets and offsets (uA/cm^2).
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// Skip the bifurcation-diagram overlay.
    #[arg(long)]
    pub no_overlay: bool,
    #[arg(long, default_value = "reports/fi")]
    pub out: PathBuf,
}

pub fn run(a: FiArgs) -> Result<()> {
    if !(a.from.is_finite()
        && a.to.is_finite()
        && a.from < a.to
        && a.step > 0.0
        && a.step.is_finite())
    {
        bail!(
            "--from {} --to {} --step {}: need finite from < to and step > 0 (uA/cm^2)",
            a.from,
            a.to,
            a.step
        );
    }
    let n = ((a.to - a.from) / a.step).round() as usize + 1;
    if n > 10_000_000 {
        bail!("--step {} gives {n} currents: allowed at most 1e7", a.step);
    }
    if !(a.tol > 0.0 && a.tol.is_finite()) {
        bail!("--tol = {} is invalid: it must be finite and > 0", a.tol);
    }
    let mut dirs = vec![];
    for d in &a.direction {
        match Direction::parse(d) {
            Some(v) => dirs.extend(v),
            None => bail!("--direction '{d}' is not one of rest, up, down, all"),
        }
    }
    dirs.dedup();
    let model = a.model.load()?;
    // Conductance-based models run on the batch kernel; others (LIF, .ode) on the general
    // path. Every smooth autonomous model gets the continuation's overlay.
    let smooth = model.smooth().ok();
    let field = Field::of(&model).ok();
    let currents: Vec<f64> = (0..n)
        .map(|k| a.from + a.step * k as f64)
        .filter(|i| *i <= a.to + 1e-9)
        .collect();
    let settings = BatchSettings {
        t_max: a.t_max,
        dt: a.dt,
        transient: a.transient,
        threshold_mv: model.threshold_mv(),
    };
    ensure_dir(&a.out)?;
    // The stable cycle branch of the bifurcation diagram over the same currents: the overlay,
    // and the states the `down` starts use. It runs alongside the `rest` sweep.
    let mut overlay = Overlay {
        label: "stable cycles (continuation)",
        what: "the stable cycle branch of the bifurcation diagram",
        against: Direction::Down,
        from_diagram: true,
        points: vec![],
    };
    let cycle_states = || -> Vec<(f64, Vec<f64>)> {
        let Some(field) = field.filter(|_| !a.no_overlay) else {
            return vec![];
        };
        let s = DiagramSettings {
            range: (a.from, a.to),
            equilibria: Settings::default(),
            cycles: CycleSettings::default(),
            with_cycles: true,
        };
        match Family::of_field(field, CURRENT, 0.0)
            .map_err(excitable::Error::from)
            .and_then(|fam| diagram(&fam, &s, &excitable::progress::Silent))
        {
            Ok(d) => {
                let stable = || {
                    d.cycles
                        .iter()
                        .flat_map(|(_, c)| c.points.iter().filter(|p| p.stable()))
                };
                overlay.points = stable().map(|p| (p.lambda, p.frequency_hz())).collect();
                overlay.points.sort_by(|x, y| x.0.total_cmp(&y.0));
                stable().map(|p| (p.lambda, p.peak_state.clone())).collect()
            }
            Err(e) => {
                eprintln!("note: no bifurcation overlay ({e})");
                vec![]
            }
        }
    };
    let started = Instant::now();
    let fi = match smooth {
        Some(m) => fi_curve(m, &currents, &dirs, &settings, a.tol, cycle_states),
        None => fi_curve_general(&model, &currents, &dirs, &settings, a.tol, cycle_states),
    }
    .context("f-I curve")?;
    let seconds = started.elapsed().as_secs_f64();
    if let Model::Lif(lif) = &model {
        let v = lif.values();
        overlay = Overlay {
            label: "closed form",
            what: "the closed-form LIF rate",
            against: Direction::Rest,
            from_diagram: false,
            points: currents.iter().map(|&i| (i, v.rate_hz(i))).collect(),
        };
    }
    let files = vec![
        fi_table(&fi).write_parquet(&a.out)?,
        summary_table(&fi).write_parquet(&a.out)?,
        {
            let p = a.out.join("fi.png");
            draw(&p, model.name(), &fi, &overlay)?;
            p
        },
    ];
    let md = summary(
        model.name(),
        &a,
        &fi,
        &overlay,
        currents.len(),
        seconds,
        model.threshold_mv(),
    );
    finish(&a.out, &md, files)
}

fn fi_table(fi: &FiCurve) -> Table {
    let p = &fi.points;
    Table::new("fi")
        .f64("i_ua_cm2", p.iter().map(|x| x.current).collect())
        .str(
            "direction",
            p.iter().map(|x| x.direction.name().to_string()).collect(),
        )
        .f64(
            "rate_hz",
            p.iter().map(|x| x.summary.rate_hz(fi.window_ms)).collect(),
        )
        .u32("n_spikes", p.iter().map(|x| x.summary.n_spikes).collect())
        .f64(
            "isi_mean_ms",
            p.iter().map(|x| x.summary.isi_mean_cv().0).collect(),
        )
        .f64(
            "isi_cv",
            p.iter().map(|x| x.summary.isi_mean_cv().1).collect(),
        )
        .f64(
            "first_spike_ms",
            p.iter().map(|x| x.summary.first_spike_ms).collect(),
        )
        .f64("v_min_mv", p.iter().map(|x| x.summary.v_min).collect())
        .f64("v_max_mv", p.iter().map(|x| x.summary.v_max).collect())
        .f64(
            "oscillation_hz",
            p.iter().map(|x| x.summary.oscillation_hz()).collect(),
        )
}

fn summary_table(fi: &FiCurve) -> Table {
    let o = &fi.onsets;
    Table::new("fi_summary")
        .str(
            "direction",
            o.iter().map(|x| x.direction.name().to_string()).collect(),
        )
        .f64("onset_ua_cm2", o.iter().map(|x| x.onset).collect())
        .f64("offset_ua_cm2", o.iter().map(|x| x.offset).collect())
        .f64("max_rate_hz", o.iter().map(|x| x.max_rate_hz).collect())
        .f64("rheobase_ua_cm2", o.iter().map(|_| fi.rheobase).collect())
        .f64(
            "rate_error_est_pct",
            o.iter()
                .map(|_| fi.accuracy.map_or(f64::NAN, |a| a.est_error_pct))
                .collect(),
        )
}

/// A reference rate curve drawn over the simulated ones and compared with one branch.
struct Overlay {
    label: &'static str,
    what: &'static str,
    against: Direction,
    /// Computed by continuation alongside the sweep (so its time is in the total).
    from_diagram: bool,
    /// (current, rate in Hz), by increasing current.
    points: Vec<(f64, f64)>,
}

impl Overlay {
    /// The reference rate at current `i`: exact at a point, else linear between neighbours
    /// closer than 2 uA/cm^2 (not across a gap between branches).
    fn at(&self, i: f64) -> Option<f64> {
        if let Some(p) = self.points.iter().find(|p| p.0 == i) {
            return Some(p.1);
        }
        self.points
            .windows(2)
            .find(|w| w[0].0 <= i && i <= w[1].0 && w[1].0 - w[0].0 < 2.0)
            .map(|w| w[0].1 + (i - w[0].0) / (w[1].0 - w[0].0) * (w[1].1 - w[0].1))
    }
}

/// The rate drawn: 1000 / mean ISI where two or more spikes fall in the window (smooth even
/// at low rates, where a count per window moves in whole spikes), else the count rate (0, or
/// one spike per window).
fn plotted_rate(s: &excitable::simulate::batch::NeuronSummary, window_ms: f64) -> f64 {
    if s.n_spikes >= 2 {
        s.isi_rate_hz()
    } else {
        s.rate_hz(window_ms)
    }
}

fn draw(path: &std::path::Path, name: &str, fi: &FiCurve, overlay: &Overlay) -> Result<()> {
    let mut series = vec![];
    for (k, d) in [Direction::Rest, Direction::Up, Direction::Down]
        .into_iter()
        .enumerate()
    {
        let pts: Vec<(f64, f64)> = fi
            .points
            .iter()
            .filter(|p| p.direction == d)
            .map(|p| (p.current, plotted_rate(&p.summary, fi.window_ms)))
            .collect();
        if !pts.is_empty() {
            series.push(Series {
                label: format!("firing rate, {} start", d.name()),
                points: pts,
                color: PALETTE[k],
                style: Style::Line,
            });
        }
    }
    let osc: Vec<(f64, f64)> = fi
        .points
        .iter()
        .filter(|p| p.direction == Direction::Down)
        .map(|p| (p.current, p.summary.oscillation_hz()))
        .filter(|p| p.1.is_finite())
        .collect();
    if !osc.is_empty() {
        series.push(Series {
            label: "oscillation (V maxima), down".into(),
            points: osc,
            color: PALETTE[7],
            style: Style::Points,
        });
    }
    if !overlay.points.is_empty() {
        series.push(Series {
            label: overlay.label.into(),
            points: overlay.points.clone(),
            color: PALETTE[3],
            style: Style::Dashed,
        });
    }
    let panel = Panel {
        x_desc: "I (uA/cm^2)".into(),
        y_desc: "rate (Hz)".into(),
        series,
        ..Default::default()
    };
    draw_panels(
        path,
        &format!("{name}: f-I curves"),
        &[panel],
        1,
        (1100, 650),
    )?;
    Ok(())
}

fn summary(
    name: &str,
    a: &FiArgs,
    fi: &FiCurve,
    overlay: &Overlay,
    n: usize,
    seconds: f64,
    threshold: f64,
) -> String {
    let runs = fi.points.len();
    let steps = runs as f64 * (a.t_max / a.dt);
    let mut md = format!("# f-I curves of `{name}`\n\n");
    let _ = writeln!(
        md,
        "{n} currents from {} to {} uA/cm^2, {runs} runs of {} ms (dt {} ms, {}, {:.2e} neuron-steps plus the bisections) in {seconds:.2} s{}; rates counted over the last {} ms, spikes at {} mV.\n",
        a.from,
        a.to,
        a.t_max,
        a.dt,
        fi.engine,
        steps,
        if overlay.from_diagram && !overlay.points.is_empty() {
            " including the bifurcation diagram for the overlay, run alongside"
        } else {
            ""
        },
        fi.window_ms,
        threshold
    );
    let _ = writeln!(
        md,
        "Rheobase (smallest step from rest giving a spike, to {} uA/cm^2): **{:.4} uA/cm^2**.\n",
        a.tol, fi.rheobase
    );
    let _ = writeln!(
        md,
        "| start | repetitive firing starts (uA/cm^2) | stops (uA/cm^2) | max rate (Hz) |\n|---|---|---|---|"
    );
    for o in &fi.onsets {
        let f = |x: f64| {
            if x.is_finite() {
                format!("{x:.4}")
            } else {
                "-".into()
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} |",
            o.direction.name(),
            f(o.onset),
            f(o.offset),
            o.max_rate_hz
        );
    }
    if !overlay.points.is_empty() {
        // Largest relative difference between the branch's ISI rate and the reference.
        let mut worst = (0.0f64, f64::NAN);
        for p in fi
            .points
            .iter()
            .filter(|p| p.direction == overlay.against && p.summary.n_spikes >= 10)
        {
            if let Some(f) = overlay.at(p.current) {
                let d = (p.summary.isi_rate_hz() - f).abs() / f;
                if d > worst.0 {
                    worst = (d, p.current);
                }
            }
        }
        if worst.1.is_nan() {
            let _ = writeln!(
                md,
                "\nAgainst {}: no {}-branch point fires 10 or more spikes in the window, so none is compared.",
                overlay.what,
                overlay.against.name()
            );
        } else {
            let _ = writeln!(
                md,
                "\nAgainst {}: the {}-branch firing rate (1000 / mean ISI) differs from it by at most {}% (at {} uA/cm^2).",
                overlay.what,
                overlay.against.name(),
                if worst.0 >= 1e-5 {
                    format!("{:.3}", worst.0 * 100.0)
                } else {
                    format!("{:.1e}", worst.0 * 100.0)
                },
                worst.1,
            );
        }
    }
    if let Some(acc) = &fi.accuracy {
        let _ = writeln!(
            md,
            "\nIntegrator error: {} firing points re-run at dt/2 = {} ms give ISI rates within {:.3}% (largest at {} uA/cm^2) and spike counts within {}; for a first-order method that puts the rates at dt within about {:.2}% of converged (Richardson).",
            acc.sample,
            a.dt / 2.0,
            acc.max_rate_diff_pct,
            acc.at_current,
            acc.max_count_diff,
            acc.est_error_pct
        );
    }
    for note in &fi.notes {
        let _ = writeln!(md, "\nNote: {note}");
    }
    let _ = writeln!(
        md,
        "\nStarts: `rest` = rest at 0 then the step; `up` = the stable equilibrium at that current while one exists (a slow upward ramp), else the firing state; `down` = a state on the firing cycle (a slow downward ramp). Where spikes stop but V still oscillates (peaks below the threshold), `oscillation_hz` in fi.parquet gives the frequency of the voltage maxima.\n\n![f-I](fi.png)\n\nTables: [fi.parquet](fi.parquet), [fi_summary.parquet](fi_summary.parquet)."
    );
    md
}
