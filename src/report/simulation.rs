//! Report of a `simulate` run: `trace.parquet`, `spikes.parquet`, `trace.png`, `summary.md`.

use super::table::Table;
use super::trace_figure::draw_trace;
use crate::analysis::spike_accuracy::SpikeAccuracy;
use crate::error::ReportError;
use crate::model::Number;
use crate::simulate::{Run, Trace};
use crate::spec::SimulateResult;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for SimulateResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        let mut t = vec![];
        if self.recorded() {
            t.push(trace_table(&self.runs));
        }
        t.push(spikes_table(&self.runs));
        t
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        if !self.recorded() {
            return Ok(vec![]);
        }
        let traces: Vec<&Trace> = self.runs.iter().map(|r| &r.trace).collect();
        let mut files = vec![dir.join("trace.png")];
        if self.spec.svg {
            files.push(dir.join("trace.svg"));
        }
        for f in &files {
            draw_trace(f, &self.title(), &traces, self.model.units())?;
        }
        Ok(files)
    }

    fn summary(&self) -> String {
        summary_text(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

impl SimulateResult {
    /// Whether a trace was kept (not spikes only).
    fn recorded(&self) -> bool {
        self.runs.iter().any(|r| !r.trace.is_empty())
    }

    /// The figure's title: the model (with its overrides) and the stimulus.
    fn title(&self) -> String {
        format!(
            "{} under {}",
            self.model.label(),
            self.spec.stim.join(" + ")
        )
    }
}

/// The trace table's column names for state variables `names` (V first): `neuron, t_ms, v_mv,
/// <other variables…>, i_ua_cm2`.
fn trace_columns(names: &[String]) -> Vec<String> {
    ["neuron", "t_ms", "v_mv"]
        .into_iter()
        .map(String::from)
        .chain(names.iter().skip(1).cloned())
        .chain(["i_ua_cm2".to_string()])
        .collect()
}

/// The trace of all neurons in long form: `neuron, t_ms, v_mv, <gates…>, i_ua_cm2`.
pub fn trace_table(runs: &[Run]) -> Table {
    let Some(first) = runs.iter().find(|r| !r.trace.is_empty()) else {
        return Table::new("trace")
            .u32("neuron", vec![])
            .f64("t_ms", vec![])
            .f64("v_mv", vec![])
            .f64("i_ua_cm2", vec![]);
    };
    let names = &first.trace.names;
    let cols = trace_columns(names);
    let cat = |f: &dyn Fn(&Trace) -> &[f64]| {
        runs.iter()
            .flat_map(|r| f(&r.trace).iter().copied())
            .collect::<Vec<f64>>()
    };
    let neuron = runs
        .iter()
        .enumerate()
        .flat_map(|(k, r)| std::iter::repeat_n(k as u32, r.trace.len()))
        .collect();
    let mut t = Table::new("trace")
        .u32(&cols[0], neuron)
        .f64(&cols[1], cat(&|tr| &tr.t_ms))
        .f64(&cols[2], cat(&|tr| tr.v()));
    for j in 1..names.len() {
        t = t.f64(&cols[j + 2], cat(&|tr| &tr.vars[j]));
    }
    t.f64(&cols[cols.len() - 1], cat(&|tr| &tr.i_ua_cm2))
}

/// Spike times of all neurons: `neuron, t_ms`, with how many neurons ran in its metadata
/// ([`super::spike_trains::NEURONS_KEY`]): a neuron that never fired has no row, and `stats`
/// still counts it.
pub fn spikes_table(runs: &[Run]) -> Table {
    let neuron = runs
        .iter()
        .enumerate()
        .flat_map(|(k, r)| std::iter::repeat_n(k as u32, r.spikes_ms.len()))
        .collect();
    let t = runs
        .iter()
        .flat_map(|r| r.spikes_ms.iter().copied())
        .collect();
    Table::new("spikes")
        .u32("neuron", neuron)
        .f64("t_ms", t)
        .with_metadata(&[(
            super::spike_trains::NEURONS_KEY.to_string(),
            runs.len().to_string(),
        )])
}

/// Firing summary of one neuron's spike train over a run of `t_max` ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiringSummary {
    /// Spikes in the run.
    pub n_spikes: usize,
    /// Spikes per second over the whole run (Hz).
    pub mean_rate_hz: f64,
    /// Time of the first spike (ms).
    pub first_spike_ms: Option<f64>,
    /// Mean interspike interval (ms), when there are two spikes or more.
    pub isi_mean_ms: Option<f64>,
}

impl FiringSummary {
    /// The summary of `spikes` (ms, sorted) over a run of `t_max` ms.
    pub fn of(spikes: &[f64], t_max: f64) -> Self {
        let isi_mean_ms = (spikes.len() >= 2)
            .then(|| (spikes[spikes.len() - 1] - spikes[0]) / (spikes.len() - 1) as f64);
        FiringSummary {
            n_spikes: spikes.len(),
            mean_rate_hz: spikes.len() as f64 / t_max * 1000.0,
            first_spike_ms: spikes.first().copied(),
            isi_mean_ms,
        }
    }
}

fn fmt_opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// What the dt/2 (or tighter-tolerance) run says of the spike times, in one paragraph; `time`
/// is the model's unit of time (empty for a model without units).
fn accuracy_line(a: &SpikeAccuracy, time: &str) -> String {
    // An error estimate to two significant digits: `0.49`, `0.018`, `3.7e-7`.
    let q = |x: f64| crate::model::Quantity(super::fi::two_digits(x), time).to_string();
    match a {
        SpikeAccuracy::NotRun(why) => format!("Spike times' accuracy: not checked ({why})."),
        SpikeAccuracy::Checked {
            finer,
            compared,
            count_changes,
            mismatched,
            max_diff_ms,
            estimate_ms,
            basis,
        } => {
            let mut line = if *compared > 0 {
                format!(
                    "Spike times' accuracy: within {} of a run at {finer} ({compared} spike(s) compared), so their error is about {} (Richardson: {basis}).",
                    q(*max_diff_ms),
                    q(*estimate_ms)
                )
            } else if count_changes.is_empty() && mismatched.is_empty() {
                format!("Spike times' accuracy: a run at {finer} has no spike either.")
            } else {
                format!("Spike times' accuracy: no neuron has the same spikes in a run at {finer}.")
            };
            // Neurons named in full up to this many.
            const LISTED: usize = 10;
            if !mismatched.is_empty() {
                line += &format!(
                    " **Spike trains not converged**: in a run at {finer}, neuron(s) {} fire as many spikes but not the same ones (a spike moved by more than half the train's shortest interval); a smaller step or tighter tolerances would settle them.",
                    super::first_of(mismatched, LISTED)
                );
            }
            if !count_changes.is_empty() {
                let each: Vec<String> = count_changes
                    .iter()
                    .map(|(k, d)| format!("neuron {k} {d:+}"))
                    .collect();
                line += &format!(
                    " **Spike counts not converged**: a run at {finer} counts a different number of spikes in {} neuron(s) ({}); a smaller step or tighter tolerances would settle them.",
                    count_changes.len(),
                    super::first_of(&each, LISTED)
                );
            }
            line
        }
    }
}

fn summary_text(r: &SimulateResult) -> String {
    let (runs, spec) = (&r.runs, &r.spec);
    let recorded = r.recorded();
    let mut s = String::new();
    let u = r.model.units();
    // `name (unit)` or `name` for a model without units; a rate per 1000 time units there.
    let with = |name: &str, unit: &str| {
        if unit.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({unit})")
        }
    };
    let q = |x: f64, unit: &str| crate::model::Quantity(x, unit).to_string();
    let rate_head = if u.known() {
        "mean rate (Hz)".to_string()
    } else {
        "mean rate (per 1000 time units)".to_string()
    };
    let steps: u64 = runs.iter().map(|r| r.steps).sum();
    let spikes: usize = runs.iter().map(|r| r.spikes_ms.len()).sum();
    let _ = writeln!(s, "# Simulation: {}\n", r.title());
    let _ = writeln!(
        s,
        "{} neuron(s) x {} with {}: {spikes} spikes in {:.3} s.\n",
        runs.len(),
        q(spec.t_max, u.time),
        r.settings.method,
        r.seconds
    );
    let _ = writeln!(s, "{}\n", accuracy_line(&r.accuracy, u.time));
    let _ = writeln!(s, "| setting | value |\n|---|---|");
    let _ = writeln!(s, "| model | `{}` |", r.model.name());
    let overrides = r.model.params().overrides();
    if !overrides.is_empty() {
        let _ = writeln!(s, "| parameters changed | {} |", overrides.join(", "));
    }
    let _ = writeln!(
        s,
        "| stimulus | `{}`{} |",
        spec.stim.join(" + "),
        if u.known() {
            format!(" ({}, {})", u.current, u.time)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "| method | {} |", r.settings.method);
    let _ = writeln!(
        s,
        "| dt, t_max | {}, {} |",
        q(spec.dt, u.time),
        q(spec.t_max, u.time)
    );
    let _ = writeln!(s, "| initial state | {} |", r.start_description);
    let _ = writeln!(
        s,
        "| spike threshold | {} (upward crossings, interpolated times) |",
        q(r.settings.threshold_mv, u.voltage)
    );
    let _ = writeln!(s, "| neurons | {} |", runs.len());
    let rate = if r.seconds > 0.0 {
        steps as f64 / r.seconds
    } else {
        f64::NAN
    };
    let _ = writeln!(
        s,
        "| wall time | {:.3} s ({:.3e} neuron-steps/s) |\n",
        r.seconds, rate
    );
    let _ = writeln!(s, "## Firing\n");
    let _ = writeln!(
        s,
        "| neuron | {} | spikes | {rate_head} | {} | {} |",
        with("bias", u.current),
        with("first spike", u.time),
        with("mean ISI", u.time)
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|");
    for (k, run) in runs.iter().enumerate().take(50) {
        let f = FiringSummary::of(&run.spikes_ms, spec.t_max);
        let _ = writeln!(
            s,
            "| {k} | {} | {} | {:.2} | {} | {} |",
            Number(r.bias.get(k).copied().unwrap_or(0.0)),
            f.n_spikes,
            f.mean_rate_hz,
            fmt_opt(f.first_spike_ms, 3),
            fmt_opt(f.isi_mean_ms, 3)
        );
    }
    if runs.len() > 50 {
        let _ = writeln!(
            s,
            "\n({} more neurons in `spikes.parquet`.)",
            runs.len() - 50
        );
    }
    if let Some(run) = runs.first().filter(|_| recorded) {
        let v = run.trace.v();
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let _ = writeln!(
            s,
            "\nNeuron 0: V between {} and {}; final V {}.",
            q((lo * 1e3).round() / 1e3, u.voltage),
            q((hi * 1e3).round() / 1e3, u.voltage),
            q((run.final_state[0] * 1e6).round() / 1e6, u.voltage)
        );
    }
    let _ = writeln!(s, "\n## Files\n");
    let columns = |t: &super::table::Table| {
        t.columns
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for t in super::Report::written_tables(r) {
        let _ = writeln!(
            s,
            "- [{0}.parquet]({0}.parquet): `{1}`",
            t.name,
            columns(&t)
        );
    }
    if recorded {
        let _ = writeln!(s, "- ![trace](trace.png)");
        if spec.svg {
            let _ = writeln!(s, "- [trace.svg](trace.svg)");
        }
    }
    s
}
