//! Shared drawing helpers: the embedded font, colours, and decimation of long series.

use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see `DejaVuSans.LICENSE`), embedded so figures render
/// the same on every machine without system fonts.
static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

/// Register the embedded font as `sans-serif` (idempotent).
pub fn init_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to parse, so this cannot fail at run time.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A qualitative palette (Tableau 10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Keep at most about `max_points` points of a series: per bucket its first, min and max points
/// in time order, so spikes and extremes survive.
pub fn decimate(x: &[f64], y: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let n = x.len().min(y.len());
    let buckets = (max_points / 3).max(1);
    if n <= max_points {
        return x.iter().zip(y).map(|(&a, &b)| (a, b)).collect();
    }
    let mut out = Vec::with_capacity(3 * buckets + 1);
    for b in 0..buckets {
        let (lo, hi) = (b * n / buckets, ((b + 1) * n / buckets).min(n));
        if lo >= hi {
            continue;
        }
        let (mut imin, mut imax) = (lo, lo);
        for k in lo..hi {
            if y[k] < y[imin] {
                imin = k;
            }
            if y[k] > y[imax] {
                imax = k;
            }
        }
        let mut idx = [lo, imin.min(imax), imin.max(imax)];
        idx.sort_unstable();
        for (j, &k) in idx.iter().enumerate() {
            if j == 0 || k != idx[j - 1] {
                out.push((x[k], y[k]));
            }
        }
    }
    out.push((x[n - 1], y[n - 1]));
    out
}

/// A tick label: the value with at most 10 significant digits and no trailing zeros (`20`,
/// not `20.0`; `0.3`, not `0.30000000000000004`).
pub fn tick_label(x: &f64) -> String {
    // Rounding noise of the tick arithmetic (1e-13 of the value) is not a digit.
    let x = if x.abs() < 1e-12 { 0.0 } else { *x };
    crate::model::Number(x).to_string()
}

/// (min, max) of finite values with a margin of 5 % (or ±1 for a flat series).
pub fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

/// What a figure draws below its title, on any plotters backend: the part that differs from
/// figure to figure ([`render`] does the rest).
pub trait Body {
    /// Draw on `area` (the figure below its title); `path` names the figure in errors.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        path: &Path,
    ) -> Result<(), ReportError>;
}

/// Render a white figure of `size` pixels, `title` on top (in `title_px`-pixel type) and
/// `body` below it, to PNG or SVG (by the extension of `path`), atomically, with the embedded
/// font.
pub fn render(
    path: &Path,
    size: (u32, u32),
    title: &str,
    title_px: u32,
    body: &impl Body,
) -> Result<(), ReportError> {
    init_font();
    let svg = path.extension().is_some_and(|e| e == "svg");
    super::atomic::write_atomic(path, |tmp| -> Result<(), ReportError> {
        if svg {
            let root = SVGBackend::new(tmp, size).into_drawing_area();
            titled(&root, tmp, title, title_px, body)
        } else {
            let root = BitMapBackend::new(tmp, size).into_drawing_area();
            titled(&root, tmp, title, title_px, body)
        }
    })
}

/// [`render`] into memory: the RGB bytes of the PNG it would write (for tests of what is
/// drawn where).
#[cfg(test)]
pub fn render_rgb(size: (u32, u32), title: &str, body: &impl Body) -> Vec<u8> {
    init_font();
    let mut buffer = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, size).into_drawing_area();
        titled(&root, Path::new("memory"), title, 24, body).expect("drawn");
    }
    buffer
}

/// The figure [`render`] describes, on any plotters backend.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    path: &Path,
    title: &str,
    title_px: u32,
    body: &impl Body,
) -> Result<(), ReportError> {
    let e = fig_err(path);
    root.fill(&WHITE).map_err(&e)?;
    let area = root.titled(title, ("sans-serif", title_px)).map_err(&e)?;
    body.draw(&area, path)?;
    area.present().map_err(&e)?;
    Ok(())
}

/// The cells of `n` panels on `area`: `columns` per row (at least one), as many rows as needed.
pub fn panel_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
    columns: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let cols = columns.max(1);
    let rows = n.div_ceil(cols).max(1);
    area.split_evenly((rows, cols))
}

/// Map a plotters error into a report error naming the figure.
pub fn fig_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Figure {
        figure: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The PNG figures in `dir` (names, sorted; hidden and temporary files skipped).
pub fn pngs_in(dir: &Path) -> Vec<String> {
    let mut pngs: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".png") && !f.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    pngs.sort();
    pngs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_extremes() {
        let x: Vec<f64> = (0..100_000).map(|k| k as f64).collect();
        let mut y = vec![0.0; 100_000];
        y[54_321] = 100.0;
        y[77_777] = -50.0;
        let d = decimate(&x, &y, 3000);
        assert!(d.len() <= 3002);
        assert!(d.contains(&(54_321.0, 100.0)) && d.contains(&(77_777.0, -50.0)));
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
