//! Heatmaps: values on a regular x-y grid as coloured cells (viridis), one or more panels
//! sharing one colour scale and a colour bar.

use super::figure::{Body, fig_err, panel_grid, render};
use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One panel: `(x, y, value)` cells on a regular grid (NaN values are drawn grey).
#[derive(Debug, Clone, Default)]
pub struct HeatPanel {
    pub title: String,
    pub cells: Vec<(f64, f64, f64)>,
}

/// Axis titles and the colour-bar title.
#[derive(Debug, Clone, Default)]
pub struct HeatAxes {
    pub x_desc: String,
    pub y_desc: String,
    pub z_desc: String,
}

/// Draw `panels` (`columns` per row) with a shared colour scale from 0 (or the smallest
/// value, if negative) to the largest value, to PNG or SVG by extension, atomically.
pub fn draw_heatmap(
    path: &Path,
    title: &str,
    axes: &HeatAxes,
    panels: &[HeatPanel],
    columns: usize,
    size: (u32, u32),
) -> Result<(), ReportError> {
    render(
        path,
        size,
        title,
        24,
        &Heatmap {
            axes,
            panels,
            columns,
        },
    )
}

/// Heatmap panels, `columns` per row, and their colour bar.
struct Heatmap<'a> {
    axes: &'a HeatAxes,
    panels: &'a [HeatPanel],
    columns: usize,
}

/// Half the smallest spacing between distinct sorted values (0.5 for a single value).
fn half_step(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let step = v
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if step.is_finite() {
        0.5 * step
    } else {
        0.5 * v.first().map_or(1.0, |x| x.abs().max(1.0))
    }
}

impl Body for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> Result<(), ReportError> {
        let Heatmap {
            axes,
            panels,
            columns,
        } = *self;
        let e = fig_err(path);
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w.saturating_sub(130));
        let all = || panels.iter().flat_map(|p| p.cells.iter());
        let finite = || all().map(|c| c.2).filter(|z| z.is_finite());
        let z_hi = finite().fold(f64::NEG_INFINITY, f64::max);
        let z_lo = finite().fold(0.0, f64::min);
        let (z_lo, z_hi) = if z_hi > z_lo {
            (z_lo, z_hi)
        } else {
            (z_lo, z_lo + 1.0)
        };
        let colour = |z: f64| -> RGBColor {
            if z.is_finite() {
                ViridisRGB.get_color_normalized(z, z_lo, z_hi)
            } else {
                RGBColor(200, 200, 200)
            }
        };
        let (hx, hy) = (half_step(all().map(|c| c.0)), half_step(all().map(|c| c.1)));
        let span = |v: &dyn Fn(&(f64, f64, f64)) -> f64| {
            all()
                .map(v)
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                })
        };
        let (x0, x1) = span(&|c| c.0);
        let (y0, y1) = span(&|c| c.1);
        for (area, panel) in panel_grid(&main, panels.len(), columns).iter().zip(panels) {
            let mut c = ChartBuilder::on(area)
                .caption(panel.title.as_str(), ("sans-serif", 17))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d((x0 - hx)..(x1 + hx), (y0 - hy)..(y1 + hy))
                .map_err(&e)?;
            c.configure_mesh()
                .disable_mesh()
                .x_label_formatter(&super::figure::tick_label)
                .y_label_formatter(&super::figure::tick_label)
                .x_desc(axes.x_desc.as_str())
                .y_desc(axes.y_desc.as_str())
                .label_style(("sans-serif", 15))
                .draw()
                .map_err(&e)?;
            c.draw_series(panel.cells.iter().map(|&(x, y, z)| {
                Rectangle::new([(x - hx, y - hy), (x + hx, y + hy)], colour(z).filled())
            }))
            .map_err(&e)?;
        }
        // The colour bar.
        let mut c = ChartBuilder::on(&bar)
            .margin_top(40)
            .margin_bottom(50)
            .margin_right(10)
            .y_label_area_size(75)
            .build_cartesian_2d(0.0..1.0, z_lo..z_hi)
            .map_err(&e)?;
        c.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_label_formatter(&super::figure::tick_label)
            .y_desc(axes.z_desc.as_str())
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&e)?;
        let n = 100;
        c.draw_series((0..n).map(|k| {
            let a = z_lo + (z_hi - z_lo) * k as f64 / n as f64;
            let b = z_lo + (z_hi - z_lo) * (k + 1) as f64 / n as f64;
            Rectangle::new([(0.0, a), (1.0, b)], colour(0.5 * (a + b)).filled())
        }))
        .map_err(&e)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_size_is_half_the_grid_step() {
        assert_eq!(half_step([3.0, 1.0, 2.0, 2.0].into_iter()), 0.5);
        assert_eq!(half_step([10.0].into_iter()), 5.0);
        assert_eq!(half_step(std::iter::empty()), 0.5);
    }

    #[test]
    fn draws_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.png");
        let cells = (0..20)
            .flat_map(|i| (0..10).map(move |j| (i as f64, j as f64 * 0.5, (i * j) as f64)))
            .chain([(0.0, 0.0, f64::NAN)])
            .collect();
        let panel = HeatPanel {
            title: "t".into(),
            cells,
        };
        draw_heatmap(&p, "test", &HeatAxes::default(), &[panel], 1, (600, 400)).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > 1000);
    }
}
