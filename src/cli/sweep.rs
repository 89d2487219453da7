//! `excitable sweep`: firing over a grid of one or two model parameters and the current
//! (grid.parquet, a heatmap, summary.md), optionally one shard of it; `excitable merge`: join
//! the shards of a sharded sweep into the same report.
//!
//! A sharded sweep keeps its definition in `OUT/sweep.toml` (written by the first shard,
//! checked by every other, so shards of different sweeps never mix) and each shard's rows in
//! `OUT/shard=K/grid.parquet` (hive-style, so polars/duckdb can also scan `OUT/shard=*/`
//! directly). A shard whose file exists is skipped: a rerun of a job array redoes only the
//! shards that failed.

use super::common::{ModelArgs, finish, parse_number_list};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::analysis::sweep::{Axis, Grid, Shard, SweepPoint, sweep, sweep_accuracy};
use excitable::model::ConductanceModel;
use excitable::report::Table;
use excitable::report::atomic::{ensure_dir, write_text};
use excitable::report::heatmap::{HeatAxes, HeatPanel, draw_heatmap};
use excitable::report::table::{concat_parquet, read_f64_columns};
use excitable::simulate::batch::BatchSettings;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// A parameter axis, `NAME=FROM:TO:STEP` or `NAME=V1,V2,…` (repeatable, one or two).
    #[arg(long = "param", value_name = "NAME=VALUES", required = true)]
    pub params: Vec<String>,
    /// Injected currents (uA/cm^2), `FROM:TO:STEP` or `V1,V2,…`.
    #[arg(long, default_value = "0:50:1", allow_hyphen_values = true)]
    pub current: String,
    /// Run length (ms).
    #[arg(long, default_value_t = 1200.0)]
    pub t_max: f64,
    /// Discarded before counting (ms).
    #[arg(long, default_value_t = 200.0)]
    pub transient: f64,
    /// Time step (ms); exponential Euler on the batch kernel.
    #[arg(long, default_value_t = 0.01)]
    pub dt: f64,
    /// Run only part K of N (1-based) into OUT/shard=K/grid.parquet; `excitable merge OUT`
    /// joins the parts.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[arg(long, default_value = "reports/sweep")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The OUT directory of a sharded sweep.
    pub dir: PathBuf,
}

/// What defines a sweep: stored as OUT/sweep.toml by sharded runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SweepSpec {
    model: String,
    model_file: Option<PathBuf>,
    set: Vec<String>,
    params: Vec<String>,
    current: String,
    t_max: f64,
    transient: f64,
    dt: f64,
    /// Number of shards (1 for an unsharded run).
    shards: usize,
}

impl SweepSpec {
    fn model_args(&self) -> ModelArgs {
        ModelArgs {
            model: self.model.clone(),
            model_file: self.model_file.clone(),
            set: self.set.clone(),
            v_var: None,
        }
    }

    fn settings(&self, threshold_mv: f64) -> BatchSettings {
        BatchSettings {
            t_max: self.t_max,
            dt: self.dt,
            transient: self.transient,
            threshold_mv,
        }
    }

    /// The model (conductance-based) and the grid, checked.
    fn load(&self) -> Result<(excitable::model::Model, Grid)> {
        let model = self.model_args().load()?;
        let smooth = model
            .smooth()
            .context("a parameter sweep needs a conductance-based model")?;
        if self.params.is_empty() || self.params.len() > 2 {
            bail!(
                "--param given {} times: give one or two parameter axes",
                self.params.len()
            );
        }
        let axes = self
            .params
            .iter()
            .map(|text| {
                let (name, values) = text
                    .split_once('=')
                    .with_context(|| format!("--param '{text}': expected NAME=VALUES"))?;
                Ok(Axis {
                    name: name.trim().to_string(),
                    values: parse_number_list(values).with_context(|| format!("--param {text}"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let currents = parse_number_list(&self.current).context("--current")?;
        let grid = Grid { axes, currents };
        grid.check(smooth).context("--param/--current")?;
        if grid.len() > 100_000_000 {
            bail!(
                "the grid has {} points: allowed at most 1e8 (shard it, or coarsen a step)",
                grid.len()
            );
        }
        Ok((model, grid))
    }
}

pub fn run(a: SweepArgs) -> Result<()> {
    let shard = match &a.shard {
        None => None,
        Some(t) => Some(
            Shard::parse(t)
                .with_context(|| format!("--shard '{t}': expected K/N with 1 <= K <= N"))?,
        ),
    };
    let spec = SweepSpec {
        model: a.model.model.clone(),
        model_file: a.model.model_file.clone(),
        set: a.model.set.clone(),
        params: a.params.clone(),
        current: a.current.clone(),
        t_max: a.t_max,
        transient: a.transient,
        dt: a.dt,
        shards: shard.map_or(1, |s| s.count),
    };
    let (model, grid) = spec.load()?;
    let smooth = model.smooth()?;
    let settings = spec.settings(model.threshold_mv());
    ensure_dir(&a.out)?;
    let Some(shard) = shard else {
        let started = Instant::now();
        let points = sweep(smooth, &grid, &settings, 0..grid.len()).context("sweep")?;
        let seconds = started.elapsed().as_secs_f64();
        let table = grid_table(smooth, &grid, &points, a.t_max - a.transient);
        let path = table.write_parquet(&a.out)?;
        return report(&a.out, &spec, smooth, &grid, path, Some(seconds));
    };
    // A shard: check (or record) the sweep's definition, then run its part unless done.
    let manifest = a.out.join("sweep.toml");
    let text = toml::to_string(&spec)?;
    if manifest.exists() {
        let old: SweepSpec = toml::from_str(&std::fs::read_to_string(&manifest)?)
            .with_context(|| format!("{}", manifest.display()))?;
        if old != spec {
            bail!(
                "{} defines a different sweep; use another --out for this one",
                manifest.display()
            );
        }
    } else {
        write_text(&manifest, &text)?;
    }
    let dir = a.out.join(format!("shard={}", shard.index + 1));
    let file = dir.join("grid.parquet");
    if file.exists() {
        println!(
            "shard {}/{} already done ({}): skipped",
            shard.index + 1,
            shard.count,
            file.display()
        );
        return Ok(());
    }
    ensure_dir(&dir)?;
    let range = shard.range(grid.len());
    let started = Instant::now();
    let points = sweep(smooth, &grid, &settings, range.clone()).context("sweep")?;
    grid_table(smooth, &grid, &points, a.t_max - a.transient).write_parquet(&dir)?;
    println!(
        "shard {}/{}: points {}..{} of {} in {:.2} s\n  wrote {}",
        shard.index + 1,
        shard.count,
        range.start,
        range.end,
        grid.len(),
        started.elapsed().as_secs_f64(),
        file.display()
    );
    Ok(())
}

pub fn merge(a: MergeArgs) -> Result<()> {
    let manifest = a.dir.join("sweep.toml");
    let spec: SweepSpec = toml::from_str(
        &std::fs::read_to_string(&manifest)
            .with_context(|| format!("{} (not a sharded sweep?)", manifest.display()))?,
    )
    .with_context(|| format!("{}", manifest.display()))?;
    let (model, grid) = spec.load()?;
    let files: Vec<PathBuf> = (1..=spec.shards)
        .map(|k| a.dir.join(format!("shard={k}")).join("grid.parquet"))
        .collect();
    let missing: Vec<String> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.exists())
        .map(|(k, _)| format!("{}", k + 1))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: shards {} of {} are missing; run them first",
            a.dir.display(),
            missing.join(", "),
            spec.shards
        );
    }
    let out = a.dir.join("grid.parquet");
    let rows = concat_parquet(&files, &out, "point")?;
    if rows != grid.len() {
        bail!(
            "the shards hold {rows} rows, the grid has {} points",
            grid.len()
        );
    }
    report(&a.dir, &spec, model.smooth()?, &grid, out, None)
}

/// The grid table: one row per point.
fn grid_table(model: &ConductanceModel, grid: &Grid, points: &[SweepPoint], window: f64) -> Table {
    let mut t = Table::new("grid").u32("point", points.iter().map(|p| p.index as u32).collect());
    for (k, axis) in grid.axes.iter().enumerate() {
        t = t.f64(
            &column(model, &axis.name),
            points.iter().map(|p| p.values[k]).collect(),
        );
    }
    let s = |f: &dyn Fn(&SweepPoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    t.f64("i_ua_cm2", s(&|p| p.current))
        .f64("rate_hz", s(&|p| p.summary.rate_hz(window)))
        .u32(
            "n_spikes",
            points.iter().map(|p| p.summary.n_spikes).collect(),
        )
        .f64("isi_mean_ms", s(&|p| p.summary.isi_mean_cv().0))
        .f64("isi_cv", s(&|p| p.summary.isi_mean_cv().1))
        .f64("first_spike_ms", s(&|p| p.summary.first_spike_ms))
        .f64("v_min_mv", s(&|p| p.summary.v_min))
        .f64("v_max_mv", s(&|p| p.summary.v_max))
        .f64("oscillation_hz", s(&|p| p.summary.oscillation_hz()))
        .bool("rest_start", points.iter().map(|p| p.rest_start).collect())
}

/// A parameter's column name with its unit (`g_k_ms_cm2`).
fn column(model: &ConductanceModel, name: &str) -> String {
    model
        .params
        .index(name)
        .map_or(name.to_string(), |k| model.params.param(k).column_name())
}

/// Heatmap, dt/2 check and summary.md of a complete grid table at `table`.
fn report(
    out: &Path,
    spec: &SweepSpec,
    model: &ConductanceModel,
    grid: &Grid,
    table: PathBuf,
    seconds: Option<f64>,
) -> Result<()> {
    let names: Vec<String> = grid.axes.iter().map(|a| column(model, &a.name)).collect();
    let mut wanted: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    wanted.extend(["point", "i_ua_cm2", "rate_hz", "n_spikes", "isi_mean_ms"]);
    let cols = read_f64_columns(&table, &wanted)?;
    let na = names.len();
    let (point, current, rate, n_spikes, isi) = (
        &cols[na],
        &cols[na + 1],
        &cols[na + 2],
        &cols[na + 3],
        &cols[na + 4],
    );
    let settings = spec.settings(model.threshold_mv);
    let index: Vec<usize> = point.iter().map(|&p| p as usize).collect();
    let counts: Vec<u32> = n_spikes.iter().map(|&n| n as u32).collect();
    let acc = sweep_accuracy(model, grid, &settings, &index, &counts, isi)?;
    // Heatmap: rate over (current, parameter) for one axis; over (p2, p1) per current for two.
    let unit = |name: &str| {
        model
            .params
            .index(name)
            .map_or(String::new(), |k| model.params.param(k).unit.clone())
    };
    let desc = |a: &Axis| format!("{} ({})", a.name, unit(&a.name));
    let (axes, panels) = if na == 1 {
        let cells = (0..rate.len())
            .map(|k| (current[k], cols[0][k], rate[k]))
            .collect();
        (
            HeatAxes {
                x_desc: "I (uA/cm^2)".into(),
                y_desc: desc(&grid.axes[0]),
                z_desc: "rate (Hz)".into(),
            },
            vec![HeatPanel {
                title: String::new(),
                cells,
            }],
        )
    } else {
        let nc = grid.currents.len();
        let picks: Vec<f64> = (0..nc.min(6))
            .map(|k| grid.currents[k * (nc - 1) / (nc.min(6) - 1).max(1)])
            .collect();
        let panels = picks
            .iter()
            .map(|&i| HeatPanel {
                title: if nc > 1 {
                    format!("I = {i} uA/cm^2")
                } else {
                    String::new()
                },
                cells: (0..rate.len())
                    .filter(|&k| current[k] == i)
                    .map(|k| (cols[1][k], cols[0][k], rate[k]))
                    .collect(),
            })
            .collect();
        (
            HeatAxes {
                x_desc: desc(&grid.axes[1]),
                y_desc: desc(&grid.axes[0]),
                z_desc: "rate (Hz)".into(),
            },
            panels,
        )
    };
    let png = out.join("grid.png");
    let columns = if panels.len() > 1 { 3 } else { 1 };
    let size = if panels.len() > 3 {
        (1500, 900)
    } else if panels.len() > 1 {
        (1500, 500)
    } else {
        (1000, 650)
    };
    draw_heatmap(
        &png,
        &format!("{}: firing rate", model.name),
        &axes,
        &panels,
        columns,
        size,
    )?;
    // Summary.
    let n = rate.len();
    let firing = n_spikes.iter().filter(|&&s| s >= 2.0).count();
    let best = (0..n).max_by(|&a, &b| rate[a].total_cmp(&rate[b]));
    let mut md = format!("# Parameter sweep of `{}`\n\n", model.name);
    let axes_text: Vec<String> = grid
        .axes
        .iter()
        .map(|a| {
            format!(
                "{} over {} values ({} to {} {})",
                a.name,
                a.values.len(),
                a.values[0],
                a.values[a.values.len() - 1],
                unit(&a.name)
            )
        })
        .collect();
    let _ = writeln!(
        md,
        "{} x I over {} values ({} to {} uA/cm^2): {n} points, each a step from its own resting state at 0 uA/cm^2, {} ms at dt {} ms (exponential Euler, batch kernel), spikes at {} mV counted after {} ms.",
        axes_text.join(" x "),
        grid.currents.len(),
        grid.currents[0],
        grid.currents[grid.currents.len() - 1],
        spec.t_max,
        spec.dt,
        model.threshold_mv,
        spec.transient
    );
    match seconds {
        Some(s) => {
            let steps = n as f64 * (spec.t_max / spec.dt).round();
            let _ = writeln!(md, "\nRun time {s:.2} s: {:.2e} neuron-steps/s.", steps / s);
        }
        None => {
            let _ = writeln!(md, "\nMerged from {} shards.", spec.shards);
        }
    }
    let _ = writeln!(
        md,
        "\n{firing} of {n} points fire repetitively (2 or more spikes counted)."
    );
    if let Some(b) = best.filter(|&b| rate[b] > 0.0) {
        let at: Vec<String> = names
            .iter()
            .zip(&cols)
            .map(|(nm, c)| format!("{nm} = {}", c[b]))
            .collect();
        let _ = writeln!(
            md,
            "\nHighest rate {:.1} Hz at {}, I = {} uA/cm^2.",
            rate[b],
            at.join(", "),
            current[b]
        );
    }
    if let Some(acc) = acc {
        let _ = writeln!(
            md,
            "\nIntegrator error: {} firing points re-run at dt/2 give ISI rates within {:.3}% and spike counts within {}; the rates at dt are within about {:.2}% of converged (Richardson, first order).",
            acc.sample, acc.max_rate_diff_pct, acc.max_count_diff, acc.est_error_pct
        );
    }
    let _ = writeln!(
        md,
        "\n![rate map](grid.png)\n\nTable: [grid.parquet](grid.parquet) (columns: point, {}, i_ua_cm2, rate_hz, n_spikes, isi_mean_ms, isi_cv, first_spike_ms, v_min_mv, v_max_mv, oscillation_hz, rest_start).",
        names.join(", ")
    );
    finish(out, &md, vec![table, png])
}
