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

/// The nullcline pieces and the trajectories, by curve name, each a list of pieces.
/// A named curve in pieces.
type Pieces = (String, Vec<Vec<(f64, f64)>>);

fn curves(r: &PhasePlaneResult) -> Vec<Pieces> {
    let (x, y) = &r.axes;
    vec![
        ("trajectory".into(), vec![r.trajectory.clone()]),
        ("limit_cycle".into(), vec![r.limit_cycle.clone()]),
        (format!("{x}_nullcline"), r.nullclines.x.clone()),
        (format!("{y}_nullcline"), r.nullclines.y.clone()),
    ]
}

/// The horizontal axis' column: `v_mv` for a model with units, the variable's name otherwise.
fn x_column(r: &PhasePlaneResult) -> String {
    if r.model.units().known() {
        "v_mv".into()
    } else {
        r.axes.0.clone()
    }
}

/// `phase_plane.parquet` in long form: `curve, piece, v_mv, <y>` (curves `trajectory`,
/// `limit_cycle`, `<x>_nullcline`, `<y>_nullcline`; a nullcline in several pieces numbers them).
pub fn phase_plane_table(r: &PhasePlaneResult) -> Table {
    let curves = curves(r);
    let rows = || {
        curves.iter().flat_map(|(name, pieces)| {
            pieces
                .iter()
                .enumerate()
                .flat_map(move |(k, piece)| piece.iter().map(move |p| (name, k as u32, *p)))
        })
    };
    Table::new("phase_plane")
        .str("curve", rows().map(|r| r.0.clone()).collect())
        .u32("piece", rows().map(|r| r.1).collect())
        .f64(&x_column(r), rows().map(|r| r.2.0).collect())
        .f64(&r.axes.1, rows().map(|r| r.2.1).collect())
}

/// `summary.md`: how the plane was made, the run, the cycle, the equilibria.
fn summary(r: &PhasePlaneResult) -> String {
    let units = r.model.units();
    let (x, y) = &r.axes;
    let mut md = format!("# {x}-{y} phase plane of `{}`\n\n", r.model.label());
    let _ = writeln!(md, "The plane is {}.\n", r.kind.describe());
    let _ = writeln!(
        md,
        "{} from {} for {}, RK4 at dt = {}: {} spike(s).",
        Quantity(r.spec.current, units.current),
        r.start,
        Quantity(r.spec.t_max, units.time),
        Quantity(crate::spec::phase_plane::DT_MS, units.time),
        r.spikes_ms.len()
    );
    match r.cycle_period_ms() {
        Some(p) => {
            let rate = if units.known() {
                format!("{} Hz", Number((100.0 * 1000.0 / p).round() / 100.0))
            } else {
                format!(
                    "{} per 1000 time units",
                    Number((100.0 * 1000.0 / p).round() / 100.0)
                )
            };
            let _ = writeln!(
                md,
                "The last interspike interval, {} ({rate}), is drawn as the limit cycle.",
                Quantity((1000.0 * p).round() / 1000.0, units.time)
            );
        }
        None => {
            let _ = writeln!(md, "Fewer than three spikes: no limit cycle is drawn.");
        }
    }
    if r.kind != crate::analysis::phase_plane::PlaneKind::Projection {
        let _ = writeln!(
            md,
            "\nNullclines: {} piece(s) where d{x}/dt = 0 and {} where d{y}/dt = 0, each point an exact zero (bisection on the field); the arrows show the field's direction on a {n}×{n} grid.",
            r.nullclines.x.len(),
            r.nullclines.y.len(),
            n = crate::spec::phase_plane::ARROWS
        );
    }
    let eqs = r.plane_equilibria();
    if eqs.is_empty() {
        let _ = writeln!(md, "\nNo equilibrium of the full model at this current.");
    } else {
        let v_head = if units.known() {
            format!("V ({})", units.voltage)
        } else {
            x.clone()
        };
        let _ = writeln!(
            md,
            "\n| equilibrium | {v_head} | {y} | type |\n|---:|---:|---:|---|"
        );
        for (e, (v, w, _)) in r.equilibria.iter().zip(&eqs) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                e.index,
                Number(*v),
                Number(*w),
                e.stability
            );
        }
    }
    let _ = writeln!(
        md,
        "\n![phase plane](phase_plane.png)\n\nTable: [phase_plane.parquet](phase_plane.parquet)."
    );
    md
}

/// Arrows of a direction field as one thin series: each arrow a shaft and two barbs, pieces
/// separated by a gap. Lengths are in the box's own scale, so arrows look alike on both axes.
fn arrows(
    field: &[(f64, f64, f64, f64)],
    frame: ((f64, f64), (f64, f64)),
    n: usize,
) -> Vec<(f64, f64)> {
    let (sx, sy) = (frame.0.1 - frame.0.0, frame.1.1 - frame.1.0);
    let len = 0.45 / n as f64;
    let gap = (f64::NAN, f64::NAN);
    let mut out = vec![];
    for &(x, y, dx, dy) in field {
        let (u, w) = (dx / sx, dy / sy);
        let norm = u.hypot(w);
        if !(norm > 0.0 && norm.is_finite()) {
            continue;
        }
        let (u, w) = (u / norm * len, w / norm * len);
        let tip = (x + u * sx, y + w * sy);
        let tail = (x - u * sx, y - w * sy);
        let barb = |angle: f64| {
            let (c, s) = (angle.cos(), angle.sin());
            let (bu, bw) = (-(u * c - w * s) * 0.6, -(u * s + w * c) * 0.6);
            (tip.0 + bu * sx, tip.1 + bw * sy)
        };
        out.extend([tail, tip, gap, barb(0.45), tip, barb(-0.45), gap]);
    }
    out
}

/// The colour of an equilibrium's marker, by type.
fn type_colour(s: crate::model::Stability) -> RGBColor {
    use crate::model::Stability::*;
    match s {
        StableNode => BLACK_RGB,
        StableFocus => PALETTE[4],
        Saddle => PALETTE[1],
        UnstableFocus => PALETTE[3],
        UnstableNode => PALETTE[5],
        NonHyperbolic => PALETTE[6],
    }
}

/// `phase_plane.png`: the direction field, the nullclines, the trajectory, the limit cycle
/// and the equilibria by type.
pub fn draw_phase_plane(path: &Path, r: &PhasePlaneResult) -> Result<(), ReportError> {
    let (x, y) = &r.axes;
    let mut series = vec![];
    if !r.direction_field.is_empty() {
        series.push(Series {
            label: "direction of the field".into(),
            points: arrows(
                &r.direction_field,
                r.frame,
                crate::spec::phase_plane::ARROWS,
            ),
            color: RGBColor(180, 180, 180),
            style: Style::Thin,
        });
    }
    series.push(Series {
        label: match r.kind {
            crate::analysis::phase_plane::PlaneKind::Exact => "trajectory".into(),
            _ => "trajectory (full model)".into(),
        },
        points: r.trajectory.clone(),
        color: PALETTE[7],
        style: Style::Line,
    });
    let reduced = if r.kind == crate::analysis::phase_plane::PlaneKind::HhReduction {
        " (reduced)"
    } else {
        ""
    };
    let gap = (f64::NAN, f64::NAN);
    let joined = |pieces: &[Vec<(f64, f64)>]| -> Vec<(f64, f64)> {
        pieces
            .iter()
            .flat_map(|p| p.iter().copied().chain([gap]))
            .collect()
    };
    if !r.nullclines.x.is_empty() {
        series.push(Series {
            label: format!("d{x}/dt = 0{reduced}"),
            points: joined(&r.nullclines.x),
            color: PALETTE[0],
            style: Style::Line,
        });
    }
    if !r.nullclines.y.is_empty() {
        series.push(Series {
            label: format!("d{y}/dt = 0{reduced}"),
            points: joined(&r.nullclines.y),
            color: PALETTE[2],
            style: Style::Dashed,
        });
    }
    if !r.limit_cycle.is_empty() {
        series.push(Series {
            label: "limit cycle".into(),
            points: r.limit_cycle.clone(),
            color: PALETTE[1],
            style: Style::Line,
        });
    }
    let mut labelled = vec![];
    for (e, (v, w, _)) in r.equilibria.iter().zip(r.plane_equilibria()) {
        let name = e.stability.name();
        let label = if labelled.contains(&name) {
            String::new()
        } else {
            labelled.push(name);
            name.to_string()
        };
        series.push(Series {
            label,
            points: vec![(v, w)],
            color: type_colour(e.stability),
            style: Style::Markers,
        });
    }
    let units = r.model.units();
    let x_desc = if units.known() {
        format!("V ({})", units.voltage)
    } else {
        x.clone()
    };
    let panel = Panel {
        x_desc,
        y_desc: y.clone(),
        x_range: Some(r.frame.0),
        y_range: Some(r.frame.1),
        series,
        ..Default::default()
    };
    let how = match r.kind {
        crate::analysis::phase_plane::PlaneKind::Exact => "",
        crate::analysis::phase_plane::PlaneKind::HhReduction => ", reduced (V, n) nullclines",
        crate::analysis::phase_plane::PlaneKind::Projection => ", projection (no nullclines)",
    };
    draw_panels(
        path,
        &format!(
            "{}: {x}-{y} phase plane at {}{how}",
            r.model.label(),
            Quantity(r.spec.current, units.current)
        ),
        &[panel],
        1,
        (1100, 800),
    )
}
