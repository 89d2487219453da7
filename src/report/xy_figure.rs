//! A general figure: one or more panels of x-y series (lines, dashed lines or points).

use super::figure::{Body, PALETTE, fig_err, padded_range, panel_grid, render};
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
    Points,
    /// Large filled markers, for a few labelled special points.
    Markers,
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
                // Only positive values exist on a log axis.
                fill(&mut c, panel, |p| p.1 > 0.0).map_err(&e)?;
            } else {
                let mut c = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(&e)?;
                fill(&mut c, panel, |_| true).map_err(&e)?;
            }
        }
        Ok(())
    }
}

/// Mesh, every series (points kept by `keep`) and the legend of one panel.
fn fill<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    panel: &Panel,
    keep: impl Fn(&(f64, f64)) -> bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    c.configure_mesh()
        .x_desc(panel.x_desc.as_str())
        .y_desc(panel.y_desc.as_str())
        .label_style(("sans-serif", 15))
        .draw()?;
    for s in &panel.series {
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(&keep).collect();
        draw_series(c, s, pts)?;
    }
    legend(c)
}

fn draw_series<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Series,
    pts: Vec<(f64, f64)>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let color = s.color;
    let anno = match s.style {
        Style::Line => c.draw_series(LineSeries::new(pts, color.stroke_width(2)))?,
        Style::Dashed => c.draw_series(DashedLineSeries::new(pts, 6, 5, color.stroke_width(2)))?,
        Style::Points => {
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 2, color.filled())))?
        }
        Style::Markers => {
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 6, color.filled())))?
        }
    };
    if !s.label.is_empty() {
        let marker = s.style == Style::Markers;
        anno.label(s.label.as_str())
            .legend(move |(x, y)| -> DynElement<'static, DB, (i32, i32)> {
                if marker {
                    Circle::new((x + 10, y), 5, color.filled()).into_dyn()
                } else {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)).into_dyn()
                }
            });
    }
    Ok(())
}

/// Draw the series labels in a box at the upper right (shared by every figure).
pub(crate) fn legend<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 15))
        .draw()
}
