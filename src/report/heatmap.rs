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

/// The width of the colour bar's column (the bar, its labels and its title), in pixels.
const BAR_PX: u32 = 140;
/// The width of the colour bar's label area, right of the bar, in pixels: room for a title
/// line and labels of up to about seven characters at 14 px.
const BAR_LABELS_PX: u32 = 95;

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
        let (main, bar) = root.split_horizontally(w.saturating_sub(BAR_PX));
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
        // The colour bar, its tick labels and title on its right, where nothing else is drawn:
        // on its left they crowded the panels and the widest labels ran under the bar.
        let mut c = ChartBuilder::on(&bar)
            .margin_top(40)
            .margin_bottom(50)
            .margin_left(10)
            .margin_right(8)
            .y_label_area_size(0)
            .right_y_label_area_size(BAR_LABELS_PX)
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

    /// The colour bar's labels and title lie inside the image: nothing but background in
    /// the last columns of pixels, and dark (text) pixels right of the bar, for labels as wide
    /// as six digits and a title of the usual length.
    #[test]
    fn colour_bar_labels_sit_inside_the_image() {
        let (w, h) = (700u32, 420u32);
        let cells: Vec<_> = (0..10)
            .flat_map(|i| (0..10).map(move |j| (i as f64, j as f64, 1234.5 * (i * j) as f64)))
            .collect();
        let axes = HeatAxes {
            x_desc: "g_k (mS/cm^2)".into(),
            y_desc: "g_na (mS/cm^2)".into(),
            z_desc: "rate (Hz)".into(),
        };
        let panels = [HeatPanel {
            title: "p".into(),
            cells,
        }];
        let map = Heatmap {
            axes: &axes,
            panels: &panels,
            columns: 1,
        };
        let rgb = crate::report::figure::render_rgb((w, h), "bar", &map);
        let px = |x: u32, y: u32| {
            let k = 3 * (y * w + x) as usize;
            (rgb[k], rgb[k + 1], rgb[k + 2])
        };
        // Text: grey (channels within 25 of each other) and darker than light grey; the
        // viridis colours of the bar are not grey.
        let dark = |p: (u8, u8, u8)| {
            let (lo, hi) = (p.0.min(p.1).min(p.2), p.0.max(p.1).max(p.2));
            hi < 180 && hi - lo < 25
        };
        for y in 0..h {
            for x in w - 3..w {
                assert_eq!(
                    px(x, y),
                    (255, 255, 255),
                    "a mark at the right edge, ({x}, {y})"
                );
            }
        }
        // The bar's right edge: the last column of (saturated) viridis colour in the bar's
        // column.
        let mid = h / 2;
        let bar_right = (w - BAR_PX..w)
            .filter(|&x| {
                let p = px(x, mid);
                p.0.max(p.1).max(p.2) - p.0.min(p.1).min(p.2) >= 25
            })
            .max()
            .expect("the bar is drawn");
        let text = (bar_right + 2..w)
            .flat_map(|x| (0..h).map(move |y| (x, y)))
            .filter(|&(x, y)| dark(px(x, y)))
            .count();
        assert!(text > 200, "labels right of the bar: {text} dark pixels");
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
