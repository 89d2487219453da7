//! The zero set of a function of two variables over a box: the nullclines of a planar field.
//!
//! Marching squares finds the grid cells the curve crosses; every crossing is then refined by
//! bisection on the true function along the cell edge, so each point returned is a zero of the
//! function to machine precision along that edge (not a linear interpolation of the grid).
//! Segments sharing an edge are chained into polylines, so a curve is drawn as one line and two
//! branches are never joined.

use std::collections::HashMap;

/// A cell edge: `(i, j, vertical)`: from grid node (i, j) along x (`false`) or along y (`true`).
type Edge = (usize, usize, bool);

/// The zero set of `f` over `[x.0, x.1] × [y.0, y.1]` on an `n × n` cell grid, as polylines of
/// points where `f = 0`. A cell crossed four times (a saddle of `f`) is resolved by the sign at
/// its centre.
pub fn zero_set(
    f: &dyn Fn(f64, f64) -> f64,
    x: (f64, f64),
    y: (f64, f64),
    n: usize,
) -> Vec<Vec<(f64, f64)>> {
    let n = n.max(2);
    let xs: Vec<f64> = (0..=n)
        .map(|i| x.0 + (x.1 - x.0) * i as f64 / n as f64)
        .collect();
    let ys: Vec<f64> = (0..=n)
        .map(|j| y.0 + (y.1 - y.0) * j as f64 / n as f64)
        .collect();
    let g: Vec<Vec<f64>> = xs
        .iter()
        .map(|&xi| ys.iter().map(|&yj| f(xi, yj)).collect())
        .collect();
    // Zero counts as positive, so a zero on a node is crossed exactly once.
    let pos = |v: f64| v >= 0.0;
    let crosses = |a: f64, b: f64| a.is_finite() && b.is_finite() && pos(a) != pos(b);
    let mut points: HashMap<Edge, (f64, f64)> = HashMap::new();
    let mut point = |e: Edge| -> (f64, f64) {
        *points.entry(e).or_insert_with(|| {
            let (i, j, vertical) = e;
            let (a, b) = if vertical {
                ((xs[i], ys[j]), (xs[i], ys[j + 1]))
            } else {
                ((xs[i], ys[j]), (xs[i + 1], ys[j]))
            };
            refine(f, a, b)
        })
    };
    let mut segments: Vec<(Edge, Edge)> = vec![];
    for i in 0..n {
        for j in 0..n {
            let (c00, c10, c11, c01) = (g[i][j], g[i + 1][j], g[i + 1][j + 1], g[i][j + 1]);
            // Edges in order round the cell: bottom, right, top, left.
            let edges: [(Edge, f64, f64); 4] = [
                ((i, j, false), c00, c10),
                ((i + 1, j, true), c10, c11),
                ((i, j + 1, false), c01, c11),
                ((i, j, true), c00, c01),
            ];
            let crossed: Vec<Edge> = edges
                .iter()
                .filter(|(_, a, b)| crosses(*a, *b))
                .map(|(e, _, _)| *e)
                .collect();
            match crossed.len() {
                2 => segments.push((crossed[0], crossed[1])),
                4 => {
                    // Pair each edge with the neighbour that shares the corner of the sign the
                    // centre does not have.
                    let centre = f(0.5 * (xs[i] + xs[i + 1]), 0.5 * (ys[j] + ys[j + 1]));
                    if pos(centre) == pos(c00) {
                        segments.push((crossed[0], crossed[1]));
                        segments.push((crossed[2], crossed[3]));
                    } else {
                        segments.push((crossed[0], crossed[3]));
                        segments.push((crossed[1], crossed[2]));
                    }
                }
                _ => {}
            }
        }
    }
    chain(&segments)
        .into_iter()
        .map(|edges| edges.into_iter().map(&mut point).collect())
        .collect()
}

/// The zero of `f` on the segment `a`-`b` (where it changes sign), by bisection to the last bit.
fn refine(f: &dyn Fn(f64, f64) -> f64, a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let at = |t: f64| (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let f_lo = f(a.0, a.1) >= 0.0;
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        let p = at(mid);
        if (f(p.0, p.1) >= 0.0) == f_lo {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(0.5 * (lo + hi))
}

/// Chain segments that share an edge into polylines of edges (each edge joins at most two).
fn chain(segments: &[(Edge, Edge)]) -> Vec<Vec<Edge>> {
    let mut at: HashMap<Edge, Vec<usize>> = HashMap::new();
    for (k, (a, b)) in segments.iter().enumerate() {
        at.entry(*a).or_default().push(k);
        at.entry(*b).or_default().push(k);
    }
    let mut used = vec![false; segments.len()];
    let mut lines = vec![];
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = segments[start];
        let mut line = std::collections::VecDeque::from([a, b]);
        // Forward from b, then backward from a.
        for forward in [true, false] {
            loop {
                let end = if forward {
                    *line.back().unwrap()
                } else {
                    *line.front().unwrap()
                };
                let next = at[&end].iter().copied().find(|&k| !used[k]);
                let Some(k) = next else { break };
                used[k] = true;
                let (p, q) = segments[k];
                let other = if p == end { q } else { p };
                if forward {
                    line.push_back(other);
                } else {
                    line.push_front(other);
                }
            }
        }
        lines.push(line.into_iter().collect());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_is_one_closed_curve_of_exact_zeros() {
        let f = |x: f64, y: f64| x * x + y * y - 1.0;
        let lines = zero_set(&f, (-2.0, 2.0), (-2.0, 2.0), 40);
        assert_eq!(lines.len(), 1, "{}", lines.len());
        let line = &lines[0];
        assert!(line.len() > 40);
        for p in line {
            assert!((p.0.hypot(p.1) - 1.0).abs() < 1e-12, "{p:?}");
        }
        // Closed: it ends where it starts.
        assert_eq!(line.first(), line.last());
    }

    #[test]
    fn two_branches_stay_apart_and_a_cubic_is_followed_through_its_folds() {
        // y = x^3 - x: one curve, folding twice in x.
        let f = |x: f64, y: f64| x * x * x - x - y;
        let lines = zero_set(&f, (-2.0, 2.0), (-1.5, 1.5), 60);
        assert_eq!(lines.len(), 1);
        for p in &lines[0] {
            assert!(f(p.0, p.1).abs() < 1e-12, "{p:?}");
        }
        // Two parallel lines: two pieces.
        let g = |x: f64, y: f64| (y - 0.5) * (y + 0.5) + 0.0 * x;
        assert_eq!(zero_set(&g, (-1.0, 1.0), (-1.0, 1.0), 20).len(), 2);
        // No zero: nothing.
        assert!(zero_set(&|_, _| 1.0, (0.0, 1.0), (0.0, 1.0), 10).is_empty());
    }
}
