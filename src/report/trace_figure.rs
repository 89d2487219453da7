//! The simulation figure: voltage, stimulus and gates in three panels sharing the time axis.

use super::clip::Frame;
use super::figure::{Body, PALETTE, decimate, fig_err, padded_range, render};
use super::legend::{Drawn, legend};
use crate::error::ReportError;
use crate::model::Units;
use crate::simulate::Trace;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// At most this many neurons' voltages are overlaid in the top panel.
const MAX_NEURONS_DRAWN: usize = 8;
const MAX_POINTS: usize = 6000;

/// Draw `traces` (one per neuron; stimulus and gates from the first) to a PNG or SVG file,
/// chosen by the extension of `path`.
pub fn draw_trace(
    path: &Path,
    title: &str,
    traces: &[&Trace],
    units: Units,
) -> Result<(), ReportError> {
    let Some(first) = traces.first() else {
        return Err(ReportError::Figure {
            figure: path.display().to_string(),
            reason: "no trace recorded".into(),
        });
    };
    render(
        path,
        (1400, 1000),
        title,
        26,
        &Panels {
            traces,
            first,
            units,
        },
    )
}

/// `name (unit)`, or `name` alone for a model without units.
fn axis(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({unit})")
    }
}

/// The pieces of `(t, y)` (decimated) inside the panel `t0..t1` × `y`.
fn clipped(t: &[f64], y: &[f64], frame: Frame) -> Vec<Vec<(f64, f64)>> {
    frame.clip_polyline(&decimate(t, y, MAX_POINTS))
}

/// Voltage (of up to [`MAX_NEURONS_DRAWN`] neurons), stimulus and gates (of the first).
struct Panels<'a> {
    traces: &'a [&'a Trace],
    first: &'a Trace,
    units: Units,
}

impl Body for Panels<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> Result<(), ReportError> {
        let Panels {
            traces,
            first,
            units,
        } = *self;
        let e = fig_err(path);
        let areas = root.split_by_breakpoints([] as [i32; 0], [440, 640]);
        let t = &first.t_ms;
        let (t0, t1) = (
            t.first().copied().unwrap_or(0.0),
            t.last().copied().unwrap_or(1.0).max(1e-9),
        );

        // Voltage.
        let shown = &traces[..traces.len().min(MAX_NEURONS_DRAWN)];
        let (vlo, vhi) = padded_range(shown.iter().flat_map(|tr| tr.v().iter().copied()));
        let v_name = first.names.first().map_or("V", |n| n.as_str());
        let v_desc = axis(if units.known() { "V" } else { v_name }, units.voltage);
        let mut c = chart(&areas[0], t0..t1, vlo..vhi, &v_desc, None).map_err(&e)?;
        let frame = |y: (f64, f64)| Frame { x: (t0, t1), y };
        let v_labels: Vec<String> = if shown.len() > 1 {
            (0..shown.len()).map(|k| format!("neuron {k}")).collect()
        } else {
            vec!["membrane potential".into()]
        };
        for (k, tr) in shown.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            for piece in clipped(&tr.t_ms, tr.v(), frame((vlo, vhi))) {
                c.draw_series(LineSeries::new(piece, color.stroke_width(2)))
                    .map_err(&e)?;
            }
            let s = c
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(&e)?;
            s.label(v_labels[k].as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        let v_lines: Vec<Vec<(f64, f64)>> = shown
            .iter()
            .map(|tr| decimate(&tr.t_ms, tr.v(), MAX_POINTS))
            .collect();
        let drawn = Drawn {
            lines: v_lines.iter().map(Vec::as_slice).collect(),
            points: vec![],
            labels: v_labels.iter().map(String::as_str).collect(),
        };
        legend(&mut c, &drawn).map_err(&e)?;

        // Stimulus.
        let (ilo, ihi) = padded_range(first.i_ua_cm2.iter().copied());
        let i_desc = axis("I", units.current);
        let mut c = chart(&areas[1], t0..t1, ilo..ihi, &i_desc, None).map_err(&e)?;
        for piece in clipped(t, &first.i_ua_cm2, frame((ilo, ihi))) {
            c.draw_series(LineSeries::new(piece, PALETTE[1].stroke_width(2)))
                .map_err(&e)?;
        }
        c.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(&e)?
            .label("stimulus")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[1]));
        let i_line = decimate(t, &first.i_ua_cm2, MAX_POINTS);
        let drawn = Drawn {
            lines: vec![&i_line],
            points: vec![],
            labels: vec!["stimulus"],
        };
        legend(&mut c, &drawn).map_err(&e)?;

        // Gates on [0, 1]; other variables (an .ode model's recovery variable, a calcium
        // concentration) on their own range, so nothing looks saturated.
        let others = || first.vars.iter().skip(1).flatten().copied();
        let gates = others().all(|x| (-1e-9..=1.0 + 1e-9).contains(&x));
        let (glo, ghi, g_desc) = if gates {
            (-0.02, 1.02, "gating variables")
        } else {
            let (lo, hi) = padded_range(others());
            (lo, hi, "other variables")
        };
        let t_desc = axis("t", units.time);
        let mut c = chart(&areas[2], t0..t1, glo..ghi, g_desc, Some(&t_desc)).map_err(&e)?;
        for (k, (name, col)) in first.names.iter().zip(&first.vars).enumerate().skip(1) {
            let color = PALETTE[(k + 1) % PALETTE.len()];
            for piece in clipped(t, col, frame((glo, ghi))) {
                c.draw_series(LineSeries::new(piece, color.stroke_width(2)))
                    .map_err(&e)?;
            }
            c.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(&e)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        if first.names.len() > 1 {
            let lines: Vec<Vec<(f64, f64)>> = (first.vars.iter().skip(1))
                .map(|col| decimate(t, col, MAX_POINTS))
                .collect();
            let drawn = Drawn {
                lines: lines.iter().map(Vec::as_slice).collect(),
                points: vec![],
                labels: first.names.iter().skip(1).map(String::as_str).collect(),
            };
            legend(&mut c, &drawn).map_err(&e)?;
        }
        Ok(())
    }
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_desc: &str,
    x_desc: Option<&str>,
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut c = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)?;
    let mut mesh = c.configure_mesh();
    mesh.y_desc(y_desc)
        .x_label_formatter(&super::figure::tick_label)
        .y_label_formatter(&super::figure::tick_label)
        .y_labels(6)
        .label_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0));
    if let Some(x_desc) = x_desc {
        mesh.x_desc(x_desc);
    }
    mesh.draw()?;
    Ok(c)
}
