//! The report of the V-n phase plane ([`PhasePlaneResult`]): `phase_plane.parquet`,
//! `phase_plane.png` and a summary.

use super::figure::PALETTE;
use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::error::ReportError;
use crate::model::{Number, Quantity};
use crate::spec::PhasePlaneResult;
use plotters::style::RGBColor;
use std::fmt::Write;
use std::path::{Path, PathBuf};

const BLACK_RGB: RGBColor = RGBColor(0, 0, 0);

impl super::Report for PhasePlaneResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        vec![phase_plane_table(self)]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let png = dir.join("phase_plane.png");
        draw_phase_plane(&png, self)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// The curves of the table and figure, by name.
fn curves(r: &PhasePlaneResult) -> [(&'static str, &[(f64, f64)]); 4] {
    [
        ("trajectory", &r.trajectory),
        ("limit_cycle", &r.limit_cycle),
        ("v_nullcline", &r.nullclines.v_nullcline),
        ("n_nullcline", &r.nullclines.n_nullcline),
    ]
}

/// `phase_plane.parquet` in long form: `curve, v_mv, n` (curves `trajectory`, `limit_cycle`,
/// `v_nullcline`, `n_nullcline`).
pub fn phase_plane_table(r: &PhasePlaneResult) -> Table {
    let curves = curves(r);
    Table::new("phase_plane")
        .str(
            "curve",
            curves
                .iter()
                .flat_map(|(n, c)| std::iter::repeat_n(n.to_string(), c.len()))
                .collect(),
        )
        .f64(
            "v_mv",
            curves
                .iter()
                .flat_map(|(_, c)| c.iter().map(|p| p.0))
                .collect(),
        )
        .f64(
            "n",
            curves
                .iter()
                .flat_map(|(_, c)| c.iter().map(|p| p.1))
                .collect(),
        )
}

/// `summary.md`: the run, the cycle, the equilibria.
fn summary(r: &PhasePlaneResult) -> String {
    let units = r.model.units();
    let mut md = format!("# V-n phase plane of `{}`\n\n", r.model.label());
    let _ = writeln!(
        md,
        "{} from rest (at 0 {}) for {} ms, RK4 at dt = {} ms: {} spike(s).",
        Quantity(r.spec.current, units.current),
        units.current,
        Number(r.spec.t_max),
        crate::spec::phase_plane::DT_MS,
        r.spikes_ms.len()
    );
    match r.cycle_period_ms() {
        Some(p) => {
            let _ = writeln!(
                md,
                "The last interspike interval, {p:.3} ms ({:.2} Hz), is drawn as the limit cycle.",
                1000.0 / p
            );
        }
        None => {
            let _ = writeln!(md, "Fewer than three spikes: no limit cycle is drawn.");
        }
    }
    let _ = writeln!(
        md,
        "\nThe nullclines are those of the reduced (V, n) system (m at its steady state, h = 0.89 - 1.1 n), over which the full model's trajectory is projected.\n"
    );
    let eqs = r.plane_equilibria();
    if eqs.is_empty() {
        let _ = writeln!(md, "No equilibrium of the full model at this current.");
    } else {
        let _ = writeln!(
            md,
            "| equilibrium | V (mV) | n | stability |\n|---:|---:|---:|---|"
        );
        for (e, (v, n, _)) in r.equilibria.iter().zip(&eqs) {
            let _ = writeln!(md, "| {} | {v:.4} | {n:.5} | {} |", e.index, e.stability);
        }
    }
    let _ = writeln!(
        md,
        "\n![phase plane](phase_plane.png)\n\nTable: [phase_plane.parquet](phase_plane.parquet)."
    );
    md
}

/// `phase_plane.png`: the trajectory, the nullclines, the limit cycle and the equilibria.
pub fn draw_phase_plane(path: &Path, r: &PhasePlaneResult) -> Result<(), ReportError> {
    let mut series = vec![
        Series {
            label: "trajectory (full model)".into(),
            points: r.trajectory.clone(),
            color: PALETTE[7],
            style: Style::Line,
        },
        Series {
            label: "dV/dt = 0 (reduced)".into(),
            points: r.nullclines.v_nullcline.clone(),
            color: PALETTE[0],
            style: Style::Points,
        },
        Series {
            label: "dn/dt = 0".into(),
            points: r.nullclines.n_nullcline.clone(),
            color: PALETTE[2],
            style: Style::Dashed,
        },
    ];
    if !r.limit_cycle.is_empty() {
        series.push(Series {
            label: "limit cycle".into(),
            points: r.limit_cycle.clone(),
            color: PALETTE[1],
            style: Style::Line,
        });
    }
    for (v, n, stable) in r.plane_equilibria() {
        series.push(Series {
            label: if stable {
                "stable equilibrium".into()
            } else {
                "unstable equilibrium".into()
            },
            points: vec![(v, n)],
            color: if stable { BLACK_RGB } else { PALETTE[3] },
            style: Style::Points,
        });
    }
    let (lo, hi) = super::figure::padded_range(r.trajectory.iter().map(|p| p.0));
    let panel = Panel {
        x_desc: "V (mV)".into(),
        y_desc: "n".into(),
        x_range: Some((lo, hi)),
        y_range: Some((0.0, 1.0)),
        series,
        ..Default::default()
    };
    draw_panels(
        path,
        &format!(
            "{}: V-n phase plane at {}",
            r.model.label(),
            Quantity(r.spec.current, r.model.units().current)
        ),
        &[panel],
        1,
        (1100, 800),
    )
}
