//! The legend box of a panel, placed in the corner where it hides the least of what is drawn.
//!
//! A box fixed at the upper right had covered data in many figures: the top of `hh`'s stable
//! cycles in `frequency.png` and `excitability.png`, a PRC's maximum, the only points of a
//! series in `fi.png`. The box's size is estimated from its labels (plotters lays it out only
//! when drawing it), and each corner is scored by the drawn samples it would cover.

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;

/// Pixels per character of the legend's 15 px sans-serif labels (an upper estimate).
const CHAR_PX: f64 = 8.0;
/// The legend's sample, padding and margin beside the text (pixels).
const BOX_EXTRA_PX: f64 = 50.0;
/// Height of one legend row (pixels), and the box's padding.
const ROW_PX: f64 = 20.0;
const BOX_PAD_PX: f64 = 14.0;
/// Distance between samples taken along a drawn line (pixels).
const SAMPLE_PX: f64 = 4.0;

/// The corners in order of preference among equals: the upper right first, as before.
const CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
];

/// What a panel draws, for placing its legend: polylines (a line's vertices, joined) and
/// single points (markers), in data coordinates, and the legend's labels.
#[derive(Default)]
pub(crate) struct Drawn<'a> {
    pub lines: Vec<&'a [(f64, f64)]>,
    pub points: Vec<(f64, f64)>,
    pub labels: Vec<&'a str>,
}

impl Drawn<'_> {
    /// The corner whose estimated legend box covers the fewest samples of what is drawn
    /// (lines sampled every [`SAMPLE_PX`] pixels, so a long segment counts where it passes).
    fn corner<DB, X, Y>(&self, c: &ChartContext<'_, DB, Cartesian2d<X, Y>>) -> SeriesLabelPosition
    where
        DB: DrawingBackend,
        X: Ranged<ValueType = f64>,
        Y: Ranged<ValueType = f64>,
    {
        let (xr, yr) = c.plotting_area().get_pixel_range();
        let longest = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let w = longest as f64 * CHAR_PX + BOX_EXTRA_PX;
        let h = self.labels.len() as f64 * ROW_PX + BOX_PAD_PX;
        let (x0, x1, y0, y1) = (
            f64::from(xr.start),
            f64::from(xr.end),
            f64::from(yr.start),
            f64::from(yr.end),
        );
        let boxes = CORNERS.map(|corner| {
            let (left, top) = match corner {
                SeriesLabelPosition::UpperLeft => (x0, y0),
                SeriesLabelPosition::LowerRight => (x1 - w, y1 - h),
                SeriesLabelPosition::LowerLeft => (x0, y1 - h),
                _ => (x1 - w, y0),
            };
            (left, left + w, top, top + h)
        });
        let mut covered = [0usize; 4];
        let spec = c.as_coord_spec();
        let pixel = |p: &(f64, f64)| {
            let (x, y) = spec.translate(p);
            (f64::from(x), f64::from(y))
        };
        let mut count = |(x, y): (f64, f64)| {
            for (k, b) in boxes.iter().enumerate() {
                if x >= b.0 && x <= b.1 && y >= b.2 && y <= b.3 {
                    covered[k] += 1;
                }
            }
        };
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        for line in &self.lines {
            let mut last: Option<(f64, f64)> = None;
            for p in line.iter().filter(finite).map(pixel) {
                if let Some(q) = last {
                    let steps = ((p.0 - q.0).hypot(p.1 - q.1) / SAMPLE_PX).ceil().min(1e4);
                    for s in 1..steps as usize {
                        let f = s as f64 / steps;
                        count((q.0 + f * (p.0 - q.0), q.1 + f * (p.1 - q.1)));
                    }
                }
                count(p);
                last = Some(p);
            }
        }
        // A marker counts as much as a stretch of line its size.
        for p in self.points.iter().filter(finite).map(pixel) {
            (0..3).for_each(|_| count(p));
        }
        let best = (0..4).min_by_key(|&k| (covered[k], k)).unwrap_or(0);
        CORNERS[best].clone()
    }
}

/// Draw the series labels in a box in the corner that hides the least of `drawn`.
pub(crate) fn legend<'a, DB, X, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    drawn: &Drawn,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let corner = drawn.corner(c);
    c.configure_series_labels()
        .position(corner)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 15))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The corner picked for a panel drawn by `lines` over 0..10 × 0..10.
    fn corner_for(lines: &[&[(f64, f64)]]) -> SeriesLabelPosition {
        let mut buf = vec![0u8; 400 * 300 * 3];
        let root = BitMapBackend::with_buffer(&mut buf, (400, 300)).into_drawing_area();
        let chart = ChartBuilder::on(&root)
            .build_cartesian_2d(0.0..10.0, 0.0..10.0)
            .unwrap();
        let drawn = Drawn {
            lines: lines.to_vec(),
            points: vec![],
            labels: vec!["a line"],
        };
        drawn.corner(&chart)
    }

    /// A curve along the top leaves the box below it; one along the bottom leaves the upper
    /// right, the first choice; a curve through both upper corners and the lower right leaves
    /// the lower left.
    #[test]
    fn the_box_goes_where_nothing_is_drawn() {
        let top: &[(f64, f64)] = &[(0.0, 9.8), (10.0, 9.8)];
        let bottom: &[(f64, f64)] = &[(0.0, 0.2), (10.0, 0.2)];
        let right: &[(f64, f64)] = &[(9.8, 0.0), (9.8, 10.0)];
        assert!(matches!(
            corner_for(&[top]),
            SeriesLabelPosition::LowerRight
        ));
        assert!(matches!(
            corner_for(&[bottom]),
            SeriesLabelPosition::UpperRight
        ));
        assert!(matches!(
            corner_for(&[top, right]),
            SeriesLabelPosition::LowerLeft
        ));
    }
}
