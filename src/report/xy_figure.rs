//! A general figure: one or more panels of x-y series (lines, dashed lines or points).

use super::clip::Frame;
use super::figure::{Body, PALETTE, fig_err, padded_range, panel_grid, render};
use super::legend::{Drawn, legend};
use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use std::path::Path;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    /// A thin line (1 px): a direction field's arrows, guides.
    Thin,
    Points,
    /// Large filled markers, for a few labelled special points.
    Markers,
    /// A vertical mark per point spanning 0.8 of a unit of y (at least 4 px): a spike
    /// raster's convention (its rows a unit apart), and much cheaper to draw than a filled
    /// dot (a raster holds tens of thousands).
    Ticks,
}

/// One labelled series.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub style: Style,
}

impl Series {
    /// A histogram drawn as a step line: each bin, given as (left edge, height), a flat
    /// segment of `width`; in the palette's colour number `colour` (cycling).
    pub fn histogram(
        label: String,
        colour: usize,
        width: f64,
        bins: impl IntoIterator<Item = (f64, f64)>,
    ) -> Series {
        Series {
            label,
            points: bins
                .into_iter()
                .flat_map(|(x, h)| [(x, h), (x + width, h)])
                .collect(),
            color: PALETTE[colour % PALETTE.len()],
            style: Style::Line,
        }
    }
}

/// One panel: axes titles, optional fixed ranges, series.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    pub x_desc: String,
    pub y_desc: String,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// Draw panels side by side (`columns` per row) to PNG or SVG (by extension), atomically.
pub fn draw_panels(
    path: &Path,
    title: &str,
    panels: &[Panel],
    columns: usize,
    size: (u32, u32),
) -> Result<(), ReportError> {
    render(path, size, title, 24, &Grid { panels, columns })
}

/// x-y panels, `columns` per row.
struct Grid<'a> {
    panels: &'a [Panel],
    columns: usize,
}

impl Body for Grid<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> Result<(), ReportError> {
        let e = fig_err(path);
        for (area, panel) in panel_grid(root, self.panels.len(), self.columns)
            .iter()
            .zip(self.panels)
        {
            let all = || panel.series.iter().flat_map(|s| s.points.iter());
            let (x0, x1) = panel
                .x_range
                .unwrap_or_else(|| padded_range(all().map(|p| p.0)));
            let (y0, y1) = panel
                .y_range
                .unwrap_or_else(|| padded_range(all().map(|p| p.1)));
            let mut builder = ChartBuilder::on(area);
            builder
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(70);
            if panel.log_y {
                let lo = all()
                    .map(|p| p.1)
                    .filter(|y| *y > 0.0 && y.is_finite())
                    .fold(f64::INFINITY, f64::min);
                let hi = all()
                    .map(|p| p.1)
                    .filter(|y| y.is_finite())
                    .fold(f64::NEG_INFINITY, f64::max);
                let (lo, hi) = if lo.is_finite() && hi > lo {
                    (lo * 0.8, hi * 1.25)
                } else {
                    (1e-3, 1.0)
                };
                let mut c = builder
                    .build_cartesian_2d(x0..x1, (lo..hi).log_scale())
                    .map_err(&e)?;
                let frame = Frame {
                    x: (x0, x1),
                    y: (lo, hi),
                };
                fill(&mut c, panel, frame).map_err(&e)?;
            } else {
                let mut c = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(&e)?;
                let frame = Frame {
                    x: (x0, x1),
                    y: (y0, y1),
                };
                fill(&mut c, panel, frame).map_err(&e)?;
            }
        }
        Ok(())
    }
}

/// Mesh, every series (clipped to `frame`, the axes' box) and the legend of one panel.
fn fill<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    panel: &Panel,
    frame: Frame,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    c.configure_mesh()
        .x_label_formatter(&super::figure::tick_label)
        .y_label_formatter(&super::figure::tick_label)
        .x_desc(panel.x_desc.as_str())
        .y_desc(panel.y_desc.as_str())
        .label_style(("sans-serif", 15))
        .draw()?;
    for s in &panel.series {
        draw_series(c, s, frame)?;
    }
    // No labelled series, no legend (an empty box was drawn over the raster's corner).
    if panel.series.iter().any(|s| !s.label.is_empty()) {
        let mut drawn = Drawn::default();
        for s in &panel.series {
            match s.style {
                Style::Points | Style::Markers | Style::Ticks => drawn.points.extend(&s.points),
                Style::Line | Style::Dashed | Style::Thin => drawn.lines.push(&s.points),
            }
            if !s.label.is_empty() {
                drawn.labels.push(&s.label);
            }
        }
        legend(c, &drawn)
    } else {
        Ok(())
    }
}

/// One series: lines cut at the frame's edges and at gaps, markers outside the frame dropped,
/// and its legend entry drawn in the series' own style.
fn draw_series<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Series,
    frame: Frame,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let color = s.color;
    let width = if s.style == Style::Thin { 1 } else { 2 };
    match s.style {
        Style::Line | Style::Thin => {
            for piece in frame.clip_polyline(&s.points) {
                c.draw_series(LineSeries::new(piece, color.stroke_width(width)))?;
            }
        }
        Style::Dashed => {
            for piece in frame.clip_polyline(&s.points) {
                c.draw_series(DashedLineSeries::new(piece, 6, 5, color.stroke_width(2)))?;
            }
        }
        Style::Points | Style::Markers => {
            let radius = if s.style == Style::Markers { 6 } else { 2 };
            let inside = s.points.iter().copied().filter(|p| frame.contains(*p));
            c.draw_series(inside.map(|p| Circle::new(p, radius, color.filled())))?;
        }
        Style::Ticks => {
            // A raster's rows are a unit of y apart: a tick spans 0.8 of a row, and at least
            // 4 px so that a dense raster stays legible; cut at the frame's edges.
            let spec = c.as_coord_spec();
            let (bottom, top) = (
                spec.translate(&(frame.x.0, frame.y.0)).1,
                spec.translate(&(frame.x.0, frame.y.1)).1,
            );
            let span = frame.y.1 - frame.y.0;
            let px_per_unit = f64::from((bottom - top).abs()) / span;
            let half = if px_per_unit > 0.0 && span > 0.0 {
                (2.0 / px_per_unit).max(0.4)
            } else {
                0.4
            };
            let ticks = s
                .points
                .iter()
                .filter(|p| frame.contains(**p))
                .filter_map(|&(x, y)| frame.clip_segment((x, y - half), (x, y + half)))
                .map(|(a, b)| PathElement::new(vec![a, b], color));
            c.draw_series(ticks)?;
        }
    }
    if !s.label.is_empty() {
        // An empty series carries the legend entry, whatever was drawn, in the series' style.
        let entry = c
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(s.label.as_str());
        let line = color.stroke_width(width);
        match s.style {
            Style::Markers => {
                entry.legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
            }
            Style::Points => {
                entry.legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
            }
            Style::Ticks => {
                entry.legend(move |(x, y)| {
                    PathElement::new(vec![(x + 10, y - 2), (x + 10, y + 2)], color)
                });
            }
            // Two dashes, so solid (stable) and dashed (unstable) differ in the key.
            Style::Dashed => {
                entry.legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], line)
                        + PathElement::new(vec![(13, 0), (20, 0)], line)
                });
            }
            Style::Line | Style::Thin => {
                entry.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figure::render_rgb;

    const FRAME_RGB: RGBColor = RGBColor(255, 0, 0);
    const WILD_RGB: RGBColor = RGBColor(0, 0, 255);

    /// The pixels of exactly `c` in an RGB image `w` pixels wide, as (x, y).
    fn pixels_of(rgb: &[u8], w: u32, c: RGBColor) -> Vec<(u32, u32)> {
        rgb.chunks(3)
            .enumerate()
            .filter(|(_, p)| p[0] == c.0 && p[1] == c.1 && p[2] == c.2)
            .map(|(k, _)| (k as u32 % w, k as u32 / w))
            .collect()
    }

    /// The pixel box of `pixels`: (x0, x1), (y0, y1).
    fn bounds(pixels: &[(u32, u32)]) -> ((u32, u32), (u32, u32)) {
        let span = |f: &dyn Fn(&(u32, u32)) -> u32| {
            (
                pixels.iter().map(f).min().unwrap(),
                pixels.iter().map(f).max().unwrap(),
            )
        };
        (span(&|p| p.0), span(&|p| p.1))
    }

    #[test]
    fn no_pixel_of_a_series_falls_outside_its_panel() {
        let box_line = vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)];
        let wild = vec![
            (-5.0, 0.5),
            (0.5, 0.5),
            (0.5, 40.0),
            (f64::NAN, 0.0),
            (0.2, 0.2),
            (3.0, -7.0),
            (0.9, 0.9),
        ];
        let series = |style: Style| {
            vec![
                Series {
                    label: "panel edge".into(),
                    points: box_line.clone(),
                    color: FRAME_RGB,
                    style: Style::Line,
                },
                Series {
                    label: String::new(),
                    points: wild.clone(),
                    color: WILD_RGB,
                    style,
                },
            ]
        };
        for style in [
            Style::Line,
            Style::Dashed,
            Style::Thin,
            Style::Points,
            Style::Markers,
            Style::Ticks,
        ] {
            // Two panels side by side: the left one's data must not reach the right one.
            let panel = Panel {
                x_desc: "x".into(),
                y_desc: "y".into(),
                x_range: Some((0.0, 1.0)),
                y_range: Some((0.0, 1.0)),
                series: series(style),
                ..Default::default()
            };
            let empty = Panel {
                x_range: Some((0.0, 1.0)),
                y_range: Some((0.0, 1.0)),
                ..Default::default()
            };
            let (w, h) = (900, 500);
            let grid = Grid {
                panels: &[panel, empty],
                columns: 2,
            };
            let rgb = render_rgb((w, h), "clip", &grid);
            let edge = pixels_of(&rgb, w, FRAME_RGB);
            let wild = pixels_of(&rgb, w, WILD_RGB);
            assert!(
                !edge.is_empty() && !wild.is_empty(),
                "{style:?}: nothing drawn"
            );
            let ((x0, x1), (y0, y1)) = bounds(&edge);
            // A marker may reach its radius beyond the edge it sits on.
            let slack = 7;
            for &(x, y) in &wild {
                assert!(
                    x + slack >= x0 && x <= x1 + slack && y + slack >= y0 && y <= y1 + slack,
                    "{style:?}: pixel ({x}, {y}) outside the panel ({x0}..{x1}, {y0}..{y1})"
                );
            }
        }
    }

    #[test]
    fn a_gap_in_a_series_is_not_bridged() {
        let gapped = vec![
            (0.1, 0.1),
            (0.3, 0.3),
            (f64::NAN, f64::NAN),
            (0.7, 0.7),
            (0.9, 0.9),
        ];
        let panel = Panel {
            x_range: Some((0.0, 1.0)),
            y_range: Some((0.0, 1.0)),
            series: vec![
                Series {
                    label: String::new(),
                    points: vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)],
                    color: FRAME_RGB,
                    style: Style::Line,
                },
                Series {
                    label: String::new(),
                    points: gapped,
                    color: WILD_RGB,
                    style: Style::Line,
                },
            ],
            ..Default::default()
        };
        let (w, h) = (600, 600);
        let grid = Grid {
            panels: &[panel],
            columns: 1,
        };
        let rgb = render_rgb((w, h), "gap", &grid);
        let edge = pixels_of(&rgb, w, FRAME_RGB);
        let ((x0, x1), (y0, y1)) = bounds(&edge);
        // Data (0.4..0.6, 0.4..0.6) in pixels: nothing of the series may be there.
        let px = |f: f64| x0 as f64 + f * (x1 - x0) as f64;
        let py = |f: f64| y1 as f64 - f * (y1 - y0) as f64;
        let wild = pixels_of(&rgb, w, WILD_RGB);
        assert!(!wild.is_empty());
        for &(x, y) in &wild {
            let (x, y) = (x as f64, y as f64);
            assert!(
                !(x > px(0.4) && x < px(0.6) && y < py(0.4) && y > py(0.6)),
                "pixel ({x}, {y}) bridges the gap"
            );
        }
    }
}
