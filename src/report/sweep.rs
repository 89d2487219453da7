//! The report of `excitable sweep` and `excitable merge`: `grid.parquet` (one row per grid
//! point: `point`, one column per parameter axis with its unit, `i_ua_cm2`, `rate_hz`,
//! `n_spikes`, `isi_mean_ms`, `isi_cv`, `first_spike_ms`, `v_min_mv`, `v_max_mv`,
//! `oscillation_hz`, `rest_start`, `blew_up`; for a model without units, an `.ode` file, the
//! names drop their units: [`crate::report::table::Table::in_units`]), `grid.png` (a heatmap
//! of the rate, points that blew up grey) and `summary.md`; and a
//! shard's table, `OUT/shard=K/grid.parquet`, with the same columns for its part of the grid
//! and the sweep's fingerprint in its key-value metadata ([`FINGERPRINT_KEY`]).

use super::fi::failed_check;
use super::heatmap::{HeatAxes, HeatPanel, draw_heatmap};
use super::table::{Table, column_in_units, read_f64_columns, read_metadata};
use crate::analysis::sweep::{Axis, Shard};
use crate::error::ReportError;
use crate::model::units::labelled;
use crate::model::{Model, Number, Quantity};
use crate::simulate::batch::STOPPED_RULE;
use crate::spec::sweep::{SweepResult, SweepRow, SweepSpec};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The Parquet key-value metadata key of a sweep table's fingerprint
/// ([`SweepSpec::fingerprint`]).
pub const FINGERPRINT_KEY: &str = "excitable.sweep.fingerprint";

/// The Parquet key-value metadata key of a shard table's part, `K/N`.
pub const SHARD_KEY: &str = "excitable.sweep.shard";

/// Key of a shard table's metadata holding [`rows_checksum`] of its rows: Parquet keeps no
/// checksum of its own by default, and a shard with one bit flipped had merged without a
/// word (a `v_min_mv` of -73.6 read as -1.4e21).
pub const ROWS_CHECKSUM_KEY: &str = "excitable.sweep.rows_checksum";

/// FNV-1a (64 bits) over every field of every row, numbers by their bits: any changed value
/// changes it.
pub fn rows_checksum(rows: &[SweepRow]) -> String {
    let mut h = crate::spec::sweep::Fnv::new();
    let mut eat = |x: u64| h.bytes(&x.to_le_bytes());
    for r in rows {
        eat(u64::from(r.point));
        for v in &r.values {
            eat(v.to_bits());
        }
        for x in [
            r.current,
            r.rate_hz,
            r.isi_mean_ms,
            r.isi_cv,
            r.first_spike_ms,
            r.v_min_mv,
            r.v_max_mv,
            r.oscillation_hz,
        ] {
            eat(x.to_bits());
        }
        eat(u64::from(r.n_spikes));
        eat(u64::from(r.rest_start) | u64::from(r.blew_up) << 1 | u64::from(r.stopped) << 2);
    }
    format!("{:016x}", h.0)
}

impl super::Report for SweepResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        vec![grid_table(&self.model, &self.grid.axes, &self.rows)]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("grid.png");
        draw(&png, self)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        let mut m = super::write::model_metadata(&self.model, &self.spec);
        m.push((
            FINGERPRINT_KEY.into(),
            self.spec.fingerprint(&self.model, &self.grid),
        ));
        m
    }
}

/// A parameter's column name with its unit (`g_k_ms_cm2`).
pub fn column(model: &Model, name: &str) -> String {
    let p = model.params();
    p.index(name)
        .map_or(name.to_string(), |k| p.param(k).column_name())
}

/// The unit of a parameter (empty if unknown).
fn unit(model: &Model, name: &str) -> String {
    let p = model.params();
    p.index(name)
        .map_or(String::new(), |k| p.param(k).unit.clone())
}

/// `grid.parquet`: one row per grid point of `rows`.
pub fn grid_table(model: &Model, axes: &[Axis], rows: &[SweepRow]) -> Table {
    let mut t = Table::new("grid").u32("point", rows.iter().map(|r| r.point).collect());
    for (k, axis) in axes.iter().enumerate() {
        t = t.f64(
            &column(model, &axis.name),
            rows.iter().map(|r| r.values[k]).collect(),
        );
    }
    let f = |g: &dyn Fn(&SweepRow) -> f64| rows.iter().map(g).collect::<Vec<f64>>();
    t.f64("i_ua_cm2", f(&|r| r.current))
        .f64("rate_hz", f(&|r| r.rate_hz))
        .u32("n_spikes", rows.iter().map(|r| r.n_spikes).collect())
        .f64("isi_mean_ms", f(&|r| r.isi_mean_ms))
        .f64("isi_cv", f(&|r| r.isi_cv))
        .f64("first_spike_ms", f(&|r| r.first_spike_ms))
        .f64("v_min_mv", f(&|r| r.v_min_mv))
        .f64("v_max_mv", f(&|r| r.v_max_mv))
        .f64("oscillation_hz", f(&|r| r.oscillation_hz))
        .bool("rest_start", rows.iter().map(|r| r.rest_start).collect())
        .bool("blew_up", rows.iter().map(|r| r.blew_up).collect())
        .bool("stopped", rows.iter().map(|r| r.stopped).collect())
}

/// A shard's table: its rows, with the model, the settings, the sweep's fingerprint and the
/// shard in the key-value metadata.
pub fn shard_table(
    model: &Model,
    spec: &SweepSpec,
    axes: &[Axis],
    fingerprint: &str,
    shard: Shard,
    rows: &[SweepRow],
) -> Table {
    let mut meta = super::write::model_metadata(model, spec);
    meta.push((FINGERPRINT_KEY.into(), fingerprint.into()));
    meta.push((SHARD_KEY.into(), shard.to_string()));
    meta.push((ROWS_CHECKSUM_KEY.into(), rows_checksum(rows)));
    grid_table(model, axes, rows)
        .in_units(model.units())
        .with_metadata(&meta)
}

/// The fingerprint a grid table carries, if any.
pub fn read_fingerprint(path: &Path) -> Result<Option<String>, ReportError> {
    Ok(read_metadata(path)?
        .into_iter()
        .find(|(k, _)| k == FINGERPRINT_KEY)
        .map(|(_, v)| v))
}

/// The rows of a grid table (a shard's or a whole sweep's) over `axes` of `model`.
pub fn read_rows(path: &Path, model: &Model, axes: &[Axis]) -> Result<Vec<SweepRow>, ReportError> {
    let written = written_columns(model, axes);
    let wanted: Vec<&str> = written.iter().map(|s| s.as_str()).collect();
    let c = read_f64_columns(path, &wanted)?;
    let damaged = |reason: String| ReportError::Read {
        path: path.display().to_string(),
        reason,
    };
    if c.iter().any(|col| col.len() != c[0].len()) {
        return Err(damaged(
            "its columns differ in length (the file is damaged)".into(),
        ));
    }
    let na = axes.len();
    let col = |k: usize| &c[1 + na + k];
    let rows: Vec<SweepRow> = (0..c[0].len())
        .map(|j| SweepRow {
            point: c[0][j] as u32,
            values: (0..na).map(|a| c[1 + a][j]).collect(),
            current: col(0)[j],
            rate_hz: col(1)[j],
            n_spikes: col(2)[j] as u32,
            isi_mean_ms: col(3)[j],
            isi_cv: col(4)[j],
            first_spike_ms: col(5)[j],
            v_min_mv: col(6)[j],
            v_max_mv: col(7)[j],
            oscillation_hz: col(8)[j],
            rest_start: col(9)[j] != 0.0,
            blew_up: col(10)[j] != 0.0,
            stopped: col(11)[j] != 0.0,
        })
        .collect();
    let written = read_metadata(path)?
        .into_iter()
        .find(|(k, _)| k == ROWS_CHECKSUM_KEY)
        .map(|(_, v)| v);
    if let Some(written) = written
        && written != rows_checksum(&rows)
    {
        return Err(damaged(
            "its rows do not match the checksum written with them (the file was changed or damaged): run its shard again".into(),
        ));
    }
    Ok(rows)
}

/// The heatmap: rate over (current, parameter) for one axis; over (p2, p1) per current (up
/// to six currents) for two.
fn draw(png: &Path, r: &SweepResult) -> Result<(), ReportError> {
    let (model, grid, rows) = (&r.model, &r.grid, &r.rows);
    let units = model.units();
    let desc = |a: &Axis| labelled(&a.name, &unit(model, &a.name));
    let rate_desc = format!("rate ({})", units.rate_words());
    let (axes, panels) = if grid.axes.len() == 1 {
        let cells = rows
            .iter()
            .map(|r| (r.current, r.values[0], r.rate_hz))
            .collect();
        (
            HeatAxes {
                x_desc: labelled("I", units.current),
                y_desc: desc(&grid.axes[0]),
                z_desc: rate_desc,
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
                    format!("I = {}", Quantity(i, units.current))
                } else {
                    String::new()
                },
                cells: rows
                    .iter()
                    .filter(|r| r.current == i)
                    .map(|r| (r.values[1], r.values[0], r.rate_hz))
                    .collect(),
            })
            .collect();
        (
            HeatAxes {
                x_desc: desc(&grid.axes[1]),
                y_desc: desc(&grid.axes[0]),
                z_desc: rate_desc,
            },
            panels,
        )
    };
    let columns = if panels.len() > 1 { 3 } else { 1 };
    let size = if panels.len() > 3 {
        (1500, 900)
    } else if panels.len() > 1 {
        (1500, 500)
    } else {
        (1000, 650)
    };
    draw_heatmap(
        png,
        &format!("{}: firing rate", model.label()),
        &axes,
        &panels,
        columns,
        size,
    )
}

fn summary(r: &SweepResult) -> String {
    let (model, spec, grid, rows) = (&r.model, &r.spec, &r.grid, &r.rows);
    let units = model.units();
    let (current, volt, time) = (units.current, units.voltage, units.time);
    let names: Vec<&str> = grid.axes.iter().map(|a| a.name.as_str()).collect();
    let in_units = |name: &str| column_in_units(name, units);
    let n = rows.len();
    let firing = rows
        .iter()
        .filter(|r| r.n_spikes >= 2 && !r.stopped)
        .count();
    let best = (0..n)
        .filter(|&k| rows[k].rate_hz.is_finite())
        .max_by(|&a, &b| rows[a].rate_hz.total_cmp(&rows[b].rate_hz));
    let at = |r: &SweepRow| {
        let at: Vec<String> = names
            .iter()
            .zip(&r.values)
            .map(|(nm, v)| format!("{nm} = {}", Number(*v)))
            .collect();
        format!("{}, I = {}", at.join(", "), Quantity(r.current, current))
    };
    // Up to five points, then an ellipsis.
    let listed = |points: &[&SweepRow]| {
        let mut text: Vec<String> = points.iter().take(5).map(|r| at(r)).collect();
        if points.len() > 5 {
            text.push("…".into());
        }
        text.join("; ")
    };
    let mut md = format!("# Parameter sweep of `{}`\n\n", model.label());
    let axes_text: Vec<String> = grid
        .axes
        .iter()
        .map(|a| {
            format!(
                "{} over {} values ({} to {})",
                a.name,
                a.values.len(),
                Number(a.values[0]),
                Quantity(a.values[a.values.len() - 1], &unit(model, &a.name))
            )
        })
        .collect();
    let _ = writeln!(
        md,
        "{} x I over {} values ({} to {}): {n} points, each a step from its own resting state at I = 0; runs of {} at dt {} ({}), spikes at V = {} counted after t = {}.",
        axes_text.join(" x "),
        grid.currents.len(),
        Number(grid.currents[0]),
        Quantity(grid.currents[grid.currents.len() - 1], current),
        Quantity(spec.t_max, time),
        Quantity(spec.dt, time),
        r.engine,
        Quantity(spec.settings(model).threshold_mv, volt),
        Quantity(spec.transient, time)
    );
    for note in &r.notes {
        let _ = writeln!(md, "\nNote: {note}.");
    }
    if let Some(s) = r.seconds {
        let steps = n as f64 * (spec.t_max / spec.dt).round();
        let _ = writeln!(md, "\nRun time {s:.2} s: {:.2e} neuron-steps/s.", steps / s);
    }
    if let Some(k) = r.shards {
        let _ = writeln!(md, "\nMerged from {k} shards.");
    }
    let _ = writeln!(
        md,
        "\n{firing} of {n} points fire repetitively (2 or more spikes counted)."
    );
    let blown: Vec<&SweepRow> = rows.iter().filter(|r| r.blew_up).collect();
    if !blown.is_empty() {
        let _ = writeln!(
            md,
            "\n**{} of {n} points blew up** (|V| reached {} or the state stopped being finite; a smaller dt may cure it): their measured columns are NaN, `blew_up` marks them, and the figure shows them grey ({}).",
            blown.len(),
            Number(crate::model::V_LIMIT),
            listed(&blown)
        );
    }
    let stopped: Vec<&SweepRow> = rows.iter().filter(|r| r.stopped).collect();
    if !stopped.is_empty() {
        let _ = writeln!(
            md,
            "\n**{} of {n} points fired a train that stopped before the window's end** ({STOPPED_RULE}): a train dying away, not counted as firing; `stopped` marks them ({}).",
            stopped.len(),
            listed(&stopped)
        );
    }
    // Points that oscillate without a spike crossing the threshold: not silence.
    let below = rows
        .iter()
        .filter(|r| r.n_spikes == 0 && r.oscillation_hz.is_finite())
        .count();
    if below > 0 {
        let _ = writeln!(
            md,
            "\n**{below} of {n} points oscillate without crossing the threshold** ({}): `{}` reads 0 there and `{}` gives the frequency of V's maxima; a lower `threshold` counts them as spikes.",
            Quantity(spec.settings(model).threshold_mv, volt),
            in_units("rate_hz"),
            in_units("oscillation_hz")
        );
    }
    let displaced: Vec<&SweepRow> = rows.iter().filter(|r| !r.rest_start).collect();
    if !displaced.is_empty() {
        let _ = writeln!(
            md,
            "\n{} of {n} points have no stable resting state at I = 0 (`rest_start` = false): they start on their lowest equilibrium, unstable, with V raised by {} so that every integrator leaves it the same way ({}).",
            displaced.len(),
            Quantity(crate::model::UNSTABLE_START_KICK, volt),
            listed(&displaced)
        );
    }
    if let Some(b) = best.filter(|&b| rows[b].rate_hz > 0.0) {
        // The rate is a count over the window, so points tie; the fastest of the tied points
        // by the mean ISI (which does not tie) is named when it is another point.
        let tied: Vec<usize> = (0..n)
            .filter(|&k| rows[k].rate_hz == rows[b].rate_hz)
            .collect();
        let ties = tied.len() - 1;
        let isi_rate = |r: &SweepRow| 1000.0 / r.isi_mean_ms;
        let fastest = (tied.iter().copied())
            .filter(|&k| rows[k].n_spikes >= 2 && isi_rate(&rows[k]).is_finite())
            .max_by(|&a, &b| isi_rate(&rows[a]).total_cmp(&isi_rate(&rows[b])));
        let mut line = format!(
            "\nHighest rate {:.1} {} (spikes counted over the window) at {}",
            rows[b].rate_hz,
            units.rate_words(),
            at(&rows[b])
        );
        if ties > 0 {
            let _ = write!(line, ", and at {ties} other point(s) with the same count");
        }
        match fastest {
            Some(f) if f != b => {
                let _ = write!(
                    line,
                    "; by 1000 / mean ISI the fastest of them is {:.2} {} at {}",
                    isi_rate(&rows[f]),
                    units.rate_words(),
                    at(&rows[f])
                );
            }
            _ => {}
        }
        let _ = writeln!(md, "{line}.");
    }
    if let Some(line) = r.accuracy.and_then(|a| failed_check(&a, units)) {
        let _ = writeln!(md, "\n{line}");
    } else if let Some(acc) = r.accuracy {
        let _ = writeln!(
            md,
            "\nIntegrator error: {} firing points re-run at dt/2 give ISI rates within {:.3}% and spike counts within {}; the rates at dt are within about {:.2}% of converged (Richardson, order {}).",
            acc.sample, acc.max_rate_diff_pct, acc.max_count_diff, acc.est_error_pct, r.order,
        );
    } else {
        let _ = writeln!(md, "\n{}", super::fi::NOT_RUN);
    }
    let _ = writeln!(
        md,
        "\n![rate map](grid.png)\n\nTable: [grid.parquet](grid.parquet) (columns: {}).",
        written_columns(model, &grid.axes).join(", ")
    );
    md
}

/// The columns of `grid.parquet` as written: in the model's units.
fn written_columns(model: &Model, axes: &[Axis]) -> Vec<String> {
    grid_table(model, axes, &[])
        .in_units(model.units())
        .columns
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}
