//! The report of the gating curves ([`GatingResult`]): `gating.parquet`, `gating.png` and a
//! summary.

use super::figure::PALETTE;
use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::gating::GatingCurve;
use crate::error::ReportError;
use crate::model::Number;
use crate::spec::GatingResult;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for GatingResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        vec![gating_table(&self.curves)]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("gating.png");
        draw_gating(&png, &self.model.label(), &self.curves)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// `summary.md`: the grid and, per gate, the range of its steady state and its slowest time
/// constant.
fn summary(r: &GatingResult) -> String {
    let s = &r.spec;
    let points = r.curves.first().map_or(0, |c| c.v_mv.len());
    let mut md = format!("# Gating curves of `{}`\n\n", r.model.label());
    let _ = writeln!(
        md,
        "Steady states x_inf(V) and time constants tau(V) of {} gate(s), V from {} to {} mV in steps of {} mV ({points} points); tau is divided by the temperature factor phi.\n",
        r.curves.len(),
        Number(s.v_from),
        Number(s.v_to),
        Number(s.v_step)
    );
    let _ = writeln!(
        md,
        "| gate | x_inf at {} mV | x_inf at {} mV | largest tau (ms) | at V (mV) |\n|---|---:|---:|---:|---:|",
        Number(s.v_from),
        Number(s.v_to)
    );
    for c in &r.curves {
        let slowest = c
            .tau_ms
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1));
        let (tau, at) = slowest.map_or((f64::NAN, f64::NAN), |(k, t)| (*t, c.v_mv[k]));
        let _ = writeln!(
            md,
            "| {} | {:.4} | {:.4} | {:.4} | {} |",
            c.gate,
            c.inf.first().copied().unwrap_or(f64::NAN),
            c.inf.last().copied().unwrap_or(f64::NAN),
            tau,
            Number(at)
        );
    }
    let _ = writeln!(
        md,
        "\n![gating](gating.png)\n\nTable: [gating.parquet](gating.parquet)."
    );
    md
}

/// `gating.parquet` in long form: `v_mv, gate, inf, tau_ms`.
pub fn gating_table(curves: &[GatingCurve]) -> Table {
    Table::new("gating")
        .f64(
            "v_mv",
            curves.iter().flat_map(|c| c.v_mv.iter().copied()).collect(),
        )
        .str(
            "gate",
            curves
                .iter()
                .flat_map(|c| std::iter::repeat_n(c.gate.clone(), c.v_mv.len()))
                .collect(),
        )
        .f64(
            "inf",
            curves.iter().flat_map(|c| c.inf.iter().copied()).collect(),
        )
        .f64(
            "tau_ms",
            curves
                .iter()
                .flat_map(|c| c.tau_ms.iter().copied())
                .collect(),
        )
}

/// `gating.png`: steady states (left) and time constants (right) of every gate.
pub fn draw_gating(path: &Path, model: &str, curves: &[GatingCurve]) -> Result<(), ReportError> {
    let series = |f: &dyn Fn(&GatingCurve) -> &[f64]| -> Vec<Series> {
        curves
            .iter()
            .enumerate()
            .map(|(k, c)| Series {
                label: c.gate.clone(),
                points: c.v_mv.iter().copied().zip(f(c).iter().copied()).collect(),
                color: PALETTE[k % PALETTE.len()],
                style: Style::Line,
            })
            .collect()
    };
    let panels = [
        Panel {
            x_desc: "V (mV)".into(),
            y_desc: "steady state x_inf".into(),
            y_range: Some((-0.02, 1.02)),
            series: series(&|c| &c.inf),
            ..Default::default()
        },
        Panel {
            x_desc: "V (mV)".into(),
            y_desc: "time constant tau (ms)".into(),
            series: series(&|c| &c.tau_ms),
            ..Default::default()
        },
    ];
    draw_panels(
        path,
        &format!("{model}: gating curves"),
        &panels,
        2,
        (1400, 560),
    )
}
