//! The report of `excitable fi`: `fi.parquet` (one row per run: current, start, rate, spike
//! count, ISI statistics, first spike, voltage range, oscillation frequency),
//! `fi_summary.parquet` (one row per start: onset, offset, maximum rate, rheobase, the dt/2
//! error estimate), `fi.png` (the curves and the overlay) and `summary.md`.

use super::figure::PALETTE;
use super::table::{Table, column_in_units};
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::accuracy::Accuracy;
use crate::analysis::fi::{Direction, FiCurve};
use crate::error::ReportError;
use crate::model::units::labelled;
use crate::model::{Number, Quantity, Units};
use crate::simulate::batch::STOPPED_RULE;
use crate::simulate::batch::{NeuronSummary, Precision};
use crate::spec::fi::{FiResult, Overlay, OverlaySource};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The summary's sentence when the dt/2 check did not run (no run of the grid had the
/// spikes to compare a rate): the rates are then unchecked, which the summary must say
/// rather than leave out. Shared by the `fi` and `sweep` summaries.
pub(crate) const NOT_RUN: &str = "Integrator error: not run (no run of the grid fired the 10 or more spikes the check compares), so the rates and edges at this dt are unchecked.";

/// The summary's sentence when the dt/2 check failed ([`Accuracy::failed`]), naming the
/// current of the run that did (in a sweep, a grid point at that current); `None` when the
/// check measured an error. Shared by the `fi` and `sweep` summaries.
pub(crate) fn failed_check(acc: &Accuracy, units: Units) -> Option<String> {
    acc.failed().then(|| {
        format!(
            "Integrator error: a point re-run at dt/2 (at {}) blew up or stopped firing, so the rates at dt cannot be trusted: run again with a smaller dt.",
            Quantity(acc.at_current, units.current)
        )
    })
}

impl super::Report for FiResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        vec![fi_table(&self.curve), summary_table(&self.curve)]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("fi.png");
        draw(&png, self)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// `fi.parquet`: one row per run.
pub fn fi_table(fi: &FiCurve) -> Table {
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
        .f64(
            "isi_rate_hz",
            p.iter().map(|x| x.summary.isi_rate_hz()).collect(),
        )
        .u32("n_spikes", p.iter().map(|x| x.summary.n_spikes).collect())
        .bool("stopped", p.iter().map(|x| x.summary.stopped).collect())
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

/// `x` rounded to two significant digits: an error estimate is good to about that.
pub(crate) fn two_digits(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// `fi_summary.parquet`: one row per start.
pub fn summary_table(fi: &FiCurve) -> Table {
    let o = &fi.onsets;
    Table::new("fi_summary")
        .str(
            "direction",
            o.iter().map(|x| x.direction.name().to_string()).collect(),
        )
        .f64("onset_ua_cm2", o.iter().map(|x| x.onset).collect())
        .f64("offset_ua_cm2", o.iter().map(|x| x.offset).collect())
        .f64("max_rate_hz", o.iter().map(|x| x.max_rate_hz).collect())
        .f64(
            "max_isi_rate_hz",
            o.iter().map(|x| x.max_isi_rate_hz).collect(),
        )
        .f64("rheobase_ua_cm2", o.iter().map(|_| fi.rheobase).collect())
        .f64(
            "rheobase_error_ua_cm2",
            o.iter().map(|_| fi.rheobase_error).collect(),
        )
        .f64(
            "rate_error_est_pct",
            o.iter()
                .map(|_| fi.accuracy.map_or(f64::NAN, |a| a.est_error_pct))
                .collect(),
        )
}

/// The overlay's legend entry.
fn label(o: &Overlay) -> &'static str {
    match o.source {
        OverlaySource::StableCycles => "stable cycles (continuation)",
        OverlaySource::ClosedForm => "closed form",
    }
}

/// The overlay, in a sentence.
fn what(o: &Overlay) -> &'static str {
    match o.source {
        OverlaySource::StableCycles => "the stable cycle branch of the bifurcation diagram",
        OverlaySource::ClosedForm => "the closed-form LIF rate",
    }
}

/// The rate drawn: 1000 / mean ISI where the run fires (two or more spikes in the window,
/// still going at its end; smooth even at low rates, where a count per window moves in whole
/// spikes), else the count rate (0, one spike per window, or a train that stopped).
fn plotted_rate(s: &NeuronSummary, window_ms: f64) -> f64 {
    if s.fires() {
        s.isi_rate_hz()
    } else {
        s.rate_hz(window_ms)
    }
}

fn draw(path: &Path, r: &FiResult) -> Result<(), ReportError> {
    let (name, fi, overlay) = (r.model.label(), &r.curve, &r.overlay);
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
            label: label(overlay).into(),
            points: overlay.points.clone(),
            color: PALETTE[3],
            style: Style::Dashed,
        });
    }
    let units = r.model.units();
    let panel = Panel {
        x_desc: labelled("I", units.current),
        y_desc: format!("rate ({})", units.rate_words()),
        series,
        ..Default::default()
    };
    draw_panels(
        path,
        &format!("{name}: f-I curves"),
        &[panel],
        1,
        (1100, 650),
    )
}

fn summary(r: &FiResult) -> String {
    let (a, fi, overlay) = (&r.spec, &r.curve, &r.overlay);
    let grid = a.currents();
    let n = grid.len();
    // The last current run, which is `to` only when the steps land on it.
    let last = grid.last().copied().unwrap_or(a.to);
    let runs = fi.points.len();
    let steps = runs as f64 * (a.t_max / a.dt);
    let units = r.model.units();
    let (current, time) = (units.current, units.time);
    let mut md = format!("# f-I curves of `{}`\n\n", r.model.label());
    let _ = writeln!(
        md,
        "{n} currents from {} to {}, {runs} runs of {} (dt {}, {}{}, {:.2e} neuron-steps plus the bisections) in {:.2} s{}; rates counted over the last {}, spikes at V = {}.\n",
        Number(a.from),
        Quantity(last, current),
        Quantity(a.t_max, time),
        Quantity(a.dt, time),
        fi.engine,
        match (&r.model, a.precision) {
            (crate::model::Model::Conductance(_), Precision::Mixed) => {
                ", exponentials in f32 (the state in f64)"
            }
            _ => "",
        },
        steps,
        r.seconds,
        if overlay.source == OverlaySource::StableCycles && !overlay.points.is_empty() {
            " including the bifurcation diagram for the overlay, run alongside"
        } else {
            ""
        },
        Quantity(fi.window_ms, time),
        Quantity(
            r.spec.threshold.unwrap_or(r.model.threshold_mv()),
            units.voltage
        )
    );
    if fi.rheobase.is_finite() {
        // The bisection's tolerance is not the rheobase's accuracy: the integrator's error
        // moves it by more, and the dt/2 estimate says by how much.
        let error = if fi.flow_exact {
            " (the flow is exact: no integrator error)".to_string()
        } else if fi.rheobase_error.is_finite() && fi.rheobase_error < 2.0 * a.tol {
            // Both rheobases are bisected to tol: a difference under twice that is noise.
            format!(
                "; its integrator error is under the bisection's resolution ({}) by the dt/2 check",
                Quantity(2.0 * a.tol, current)
            )
        } else if fi.rheobase_error.is_finite() {
            format!(
                "; integrator error about {} by the dt/2 check (Richardson), which onsets and offsets share in kind (not estimated for them)",
                Quantity(two_digits(fi.rheobase_error), current)
            )
        } else {
            "; its integrator error was not estimated (the dt/2 runs did not bracket it within one grid step), and onsets and offsets carry the same kind of error".to_string()
        };
        let _ = writeln!(
            md,
            "Rheobase (smallest step from rest giving a spike, bisected to {} at dt{error}): **{:.4}{}**.\n",
            Quantity(a.tol, current),
            fi.rheobase,
            unit_suffix(current)
        );
    } else {
        let _ = writeln!(
            md,
            "Rheobase: **not found in this range** (see the notes below).\n"
        );
    }
    let _ = writeln!(
        md,
        "| start | {} | {} | max rate, counted ({rate}) | max rate, 1000 / mean ISI ({rate}) |\n|---|---|---|---|---|",
        labelled("repetitive firing starts", current),
        labelled("stops", current),
        rate = units.rate_words()
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
            "| {} | {} | {} | {:.1} | {} |",
            o.direction.name(),
            f(o.onset),
            f(o.offset),
            o.max_rate_hz,
            if o.max_isi_rate_hz.is_finite() {
                format!("{:.2}", o.max_isi_rate_hz)
            } else {
                "-".into()
            }
        );
    }
    if !overlay.points.is_empty() {
        match &r.comparison {
            None => {
                let _ = writeln!(
                    md,
                    "\nAgainst {}: no {}-branch point fires {} or more spikes in the window, so none is compared.",
                    what(overlay),
                    overlay.against().name(),
                    crate::spec::fi::MIN_COMPARED_SPIKES
                );
            }
            Some(c) if c.points == 0 => {
                let _ = writeln!(
                    md,
                    "\nAgainst {}: at none of the {} {}-branch points that fire {} or more spikes has the diagram a stable orbit settled by its multipliers, so none is compared.",
                    what(overlay),
                    c.firing,
                    overlay.against().name(),
                    crate::spec::fi::MIN_COMPARED_SPIKES
                );
            }
            Some(c) => {
                let _ = writeln!(
                    md,
                    "\nAgainst {}: the {}-branch firing rate (1000 / mean ISI) differs from it by at most {}% (at {}; {} points compared{}).",
                    what(overlay),
                    overlay.against().name(),
                    if c.max_rel_diff >= 1e-5 {
                        format!("{:.3}", c.max_rel_diff * 100.0)
                    } else {
                        format!("{:.1e}", c.max_rel_diff * 100.0)
                    },
                    Quantity(c.at_current, current),
                    c.points,
                    if c.points < c.firing {
                        format!(
                            ", of the {} that fire {} or more spikes: at the others the diagram has no stable orbit settled by its multipliers, nor two within {} on both sides",
                            c.firing,
                            crate::spec::fi::MIN_COMPARED_SPIKES,
                            Quantity(crate::spec::fi::INTERPOLATION_GAP, current)
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    let past = overlay.edges_past_folds(&fi.onsets, a.step, a.tol);
    if !past.is_empty() {
        let edges: Vec<String> = (past.iter())
            .map(|e| {
                format!(
                    "{}'s {} {} is {} {} the fold at {}",
                    e.direction.name(),
                    if e.starts { "start" } else { "stop" },
                    Number((e.edge * 1e4).round() / 1e4),
                    Number(((e.edge - e.fold).abs() * 1e4).round() / 1e4),
                    if e.edge < e.fold { "below" } else { "above" },
                    Quantity((e.fold * 1e6).round() / 1e6, current)
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "\nEdges past a fold of cycles of the diagram, on its side without stable cycles: {}. There the runs of {} fired, though the diagram has no stable cycle: a run can fire for its whole length while the flow slows near the cycle that vanished at the fold, or the integrator's error may move the fold of the simulated system (the dt/2 check below bounds that error in rate). The fold is where stable firing ends.",
            edges.join("; "),
            Quantity(a.t_max, time)
        );
    }
    if let Some(line) = fi.accuracy.and_then(|a| failed_check(&a, r.model.units())) {
        let _ = writeln!(md, "\n{line}");
    } else if let Some(acc) = &fi.accuracy {
        let _ = writeln!(
            md,
            "\nIntegrator error: {} firing points re-run at dt/2 = {} give ISI rates within {:.3}% (largest at {}) and spike counts within {}; for {} that puts the rates at dt within about {:.2}% of converged (Richardson).",
            acc.sample,
            Quantity(a.dt / 2.0, r.model.units().time),
            acc.max_rate_diff_pct,
            Quantity(acc.at_current, r.model.units().current),
            acc.max_count_diff,
            fi.integrator,
            acc.est_error_pct
        );
    } else if !fi.flow_exact {
        let _ = writeln!(md, "\n{NOT_RUN}");
    }
    let stopped: Vec<String> = (fi.points.iter())
        .filter(|p| p.summary.stopped)
        .map(|p| format!("{} ({})", Number(p.current), p.direction.name()))
        .collect();
    if !stopped.is_empty() {
        let _ = writeln!(
            md,
            "\n**{} runs fired a train that stopped before the window's end** ({STOPPED_RULE}): a train dying away is not repetitive firing, so they count as silent for the onsets, offsets and maximum rates, and `stopped` marks them in fi.parquet: {}.",
            stopped.len(),
            stopped.join(", ")
        );
    }
    for note in r.notes.iter().chain(&fi.notes) {
        let _ = writeln!(md, "\nNote: {note}");
    }
    let _ = writeln!(
        md,
        "\nStarts: `rest` = rest at 0 then the step; `up` = the stable equilibrium at that current while one exists (a slow upward ramp), else the firing state; `down` = a state on the firing cycle (a slow downward ramp through the firing range). Where spikes stop but V still oscillates (peaks below the threshold), `{}` in fi.parquet gives the frequency of the voltage maxima.\n\n![f-I](fi.png)\n\nTables: [fi.parquet](fi.parquet), [fi_summary.parquet](fi_summary.parquet).",
        column_in_units("oscillation_hz", units)
    );
    md
}

/// ` unit` after a number, or nothing for a quantity without a unit.
fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}
