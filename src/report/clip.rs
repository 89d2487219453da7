//! Clipping series to their panel before drawing: plotters maps a point outside the axes to a
//! pixel outside the plotting area and draws it there (into the panel below, over the labels),
//! so every line is cut at the panel's edges and every marker outside it is dropped.
//! A non-finite point breaks a line: a gap in the data (an unstable stretch left out, two
//! nullcline pieces) is never bridged by a straight segment.

/// The panel's data box: `(x0, x1)` and `(y0, y1)`, each increasing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left and right edges.
    pub x: (f64, f64),
    /// Bottom and top edges.
    pub y: (f64, f64),
}

impl Frame {
    /// Whether `p` lies inside (edges included).
    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.x.0 && p.0 <= self.x.1 && p.1 >= self.y.0 && p.1 <= self.y.1
    }

    /// The part of the segment `a`-`b` inside the frame (Liang-Barsky), if any.
    pub fn clip_segment(&self, a: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.0 - self.x.0),
            (dx, self.x.1 - a.0),
            (-dy, a.1 - self.y.0),
            (dy, self.y.1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
        Some((
            if t0 > 0.0 { at(t0) } else { a },
            if t1 < 1.0 { at(t1) } else { b },
        ))
    }

    /// The pieces of the polyline `points` inside the frame, each drawn as one line: the line is
    /// cut where it leaves the frame and at every non-finite point.
    pub fn clip_polyline(&self, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
        let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let mut pieces: Vec<Vec<(f64, f64)>> = vec![];
        let mut current: Vec<(f64, f64)> = vec![];
        let flush = |current: &mut Vec<(f64, f64)>, pieces: &mut Vec<Vec<(f64, f64)>>| {
            if !current.is_empty() {
                pieces.push(std::mem::take(current));
            }
        };
        if points.len() == 1 && finite(&points[0]) && self.contains(points[0]) {
            return vec![points.to_vec()];
        }
        for w in points.windows(2) {
            let (a, b) = (w[0], w[1]);
            if !finite(&a) || !finite(&b) {
                flush(&mut current, &mut pieces);
                continue;
            }
            match self.clip_segment(a, b) {
                Some((ca, cb)) => {
                    if current.last() != Some(&ca) {
                        flush(&mut current, &mut pieces);
                        current.push(ca);
                    }
                    current.push(cb);
                    if cb != b {
                        flush(&mut current, &mut pieces);
                    }
                }
                None => flush(&mut current, &mut pieces),
            }
        }
        flush(&mut current, &mut pieces);
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: Frame = Frame {
        x: (0.0, 1.0),
        y: (0.0, 1.0),
    };

    #[test]
    fn a_line_through_the_frame_is_cut_at_its_edges() {
        let pieces = UNIT.clip_polyline(&[(-1.0, 0.5), (2.0, 0.5)]);
        assert_eq!(pieces, vec![vec![(0.0, 0.5), (1.0, 0.5)]]);
        // Out, in, out, in: two pieces, every point inside.
        let pieces = UNIT.clip_polyline(&[(0.5, -1.0), (0.5, 0.5), (0.5, 3.0), (0.2, 0.5)]);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        for p in pieces.iter().flatten() {
            assert!(UNIT.contains(*p), "{p:?}");
        }
        assert_eq!(pieces[0], vec![(0.5, 0.0), (0.5, 0.5), (0.5, 1.0)]);
    }

    #[test]
    fn gaps_and_outside_lines_draw_nothing_across() {
        let pieces = UNIT.clip_polyline(&[(0.1, 0.1), (0.2, 0.2), (f64::NAN, 0.0), (0.8, 0.8)]);
        assert_eq!(pieces, vec![vec![(0.1, 0.1), (0.2, 0.2)]]);
        assert!(UNIT.clip_polyline(&[(2.0, 2.0), (3.0, 5.0)]).is_empty());
        assert!(UNIT.clip_segment((2.0, -1.0), (3.0, 2.0)).is_none());
        assert_eq!(UNIT.clip_polyline(&[(0.5, 0.5)]), vec![vec![(0.5, 0.5)]]);
    }
}
