//! Two-parameter curves of folds of cycles (LPC) and of period-doubling points.
//!
//! A point of the curve is a cycle of the collocation system ([`super::collocation`]) at which
//! the event's test function vanishes:
//! - fold of cycles: the branch's tangent has no parameter component. The tangent is the
//!   solution of the bordered collocation system `[F_z F_T F_l; phase; t'] t = (0, 0, 1)`,
//!   so its parameter component is the bordered system's fold condition (AUTO's and MatCont's
//!   LPC test function). In the plane the integral of tr J over the period, zero where the
//!   nontrivial multiplier is 1, takes its place ([`super::collocation::Linearised::multipliers`]);
//! - period doubling: a real Floquet multiplier equals -1 ([`super::cycles::CyclePoint::pd_test`],
//!   the multipliers from the periodic QR factorisation of the collocation's transition
//!   matrices).
//!
//! The curve is followed by *slices*: from the last point, one of the two parameters is fixed a
//! step further on, the last orbit is corrected onto the branch of cycles of the other
//! parameter there, and the event is bracketed and located on that branch by the secant
//! method ([`super::cycles::locate_near`]). The fixed parameter is the one the curve moved
//! along more (in units of the box) on the last step, so the curve may turn in either
//! parameter; the sign of the step follows the last step. A point is refused (and the step
//! halved) when the located event lies more than 4 steps away in the box, which keeps the curve
//! from jumping onto another, and when its orbit has collapsed onto the equilibrium (a V range
//! under 1e-3 of the last point's): the equilibrium solves the collocation system at every
//! parameter value, and in the plane its trace integral vanishes all along the Hopf curve, so a
//! fold-of-cycles curve went on through its Bautin point as zero-amplitude "folds" along the
//! Hopf curve. Where the last point's V range is within 5% of the curve's largest, such a step
//! ends the curve there instead: it has reached a Bautin point (or a Hopf point). Steps go from 1/400 to 1/50 of the box; the curve ends when it
//! leaves the box, closes on itself, turns back onto its own track, reaches `max_points`, or
//! when the step falls below 1e-6 of the box.
//!
//! Every point is therefore the one-parameter event of its slice, located as precisely as the
//! branch's own (the secant method to 1e-13 of the test function): a curve point agrees with
//! the fold of cycles of the one-parameter diagram at the same second parameter to the
//! Newton tolerance when the meshes agree. Points at requested values of the second parameter
//! (`at2`) are computed exactly there when the curve is being sliced along it.

use super::codim2::{Box2, Curve, CurveKind, CurvePoint, Family2};
use super::cycles::{BranchState, CycleEvent, CyclePoint, CycleSettings, locate_near};
use super::system::Family;

/// Smallest slice step, as a fraction of the box, before the curve gives up.
const MIN_STEP: f64 = 1e-6;
/// Largest slice step, as a fraction of the box.
const MAX_STEP: f64 = 1.0 / 50.0;
/// First slice step, as a fraction of the box.
const FIRST_STEP: f64 = 1.0 / 400.0;

/// One located point of a curve of cycles: both parameters and the state there (its orbit's
/// `lambda` is whichever parameter was free on the slice that located it).
#[derive(Debug, Clone)]
struct Located {
    l1: f64,
    l2: f64,
    state: BranchState,
    point: CyclePoint,
}

/// The event a curve kind follows.
fn event(kind: CurveKind) -> Option<CycleEvent> {
    match kind {
        CurveKind::FoldOfCycles => Some(CycleEvent::Fold),
        CurveKind::PeriodDoubling => Some(CycleEvent::PeriodDoubling),
        _ => None,
    }
}

/// The slice with `fixed` = which parameter (1 or 2) is held at `value`.
fn slice(fam: &Family2, fixed: usize, value: f64) -> Family {
    if fixed == 2 {
        fam.slice(value)
    } else {
        fam.slice2(value)
    }
}

/// `state` made a seed for a slice whose free parameter is `free` (1 or 2) at `(l1, l2)`: the
/// orbit's parameter is that one's value. A fold keeps its tangent without the parameter
/// component (at a fold of cycles the tangent lies in the orbit and the period for every
/// slice through it); period doubling, whose branch crosses the point transversally, keeps its
/// tangent on the same slice and starts along the free parameter on a new one.
fn seed_for(p: &Located, free: usize, same_slice: bool, ev: CycleEvent) -> BranchState {
    let mut s = p.state.clone();
    s.orbit.lambda = if free == 1 { p.l1 } else { p.l2 };
    if ev == CycleEvent::Fold {
        s.tangent.lambda = 0.0;
    } else if !same_slice {
        s.tangent.z.iter_mut().for_each(|x| *x = 0.0);
        s.tangent.period = 0.0;
        s.tangent.lambda = 1.0;
    }
    s
}

/// Follow the curve from `start` in one direction (`dir` along the second parameter at
/// first); the points after the start and why it ended.
#[allow(clippy::too_many_arguments)]
fn one_way(
    fam: &Family2,
    set: &CycleSettings,
    start: &Located,
    ev: CycleEvent,
    dir: f64,
    bx: &Box2,
    max_points: usize,
    at2: &[f64],
) -> (Vec<Located>, String) {
    let span = [bx.l1.1 - bx.l1.0, bx.l2.1 - bx.l2.0];
    let mut pts: Vec<Located> = vec![];
    let mut h = FIRST_STEP;
    // Which parameter was fixed on the last slice (2 at the start: the seed's own slice) and
    // the direction of the last step in each parameter (box units).
    let mut last_fixed = 2;
    let mut delta = [0.0, dir];
    let range = |p: &Located| p.point.v_max - p.point.v_min;
    let mut largest = range(start);
    let reason = loop {
        if pts.len() + 1 >= max_points {
            break format!("stopped after {max_points} points");
        }
        let prev = pts.last().unwrap_or(start);
        let fixed = if delta[1].abs() >= delta[0].abs() {
            2
        } else {
            1
        };
        let free = 3 - fixed;
        let sign = delta[fixed - 1].signum();
        let from = if fixed == 2 { prev.l2 } else { prev.l1 };
        let mut value = from + sign * h * span[fixed - 1];
        if fixed == 2
            && let Some(&a) = at2
                .iter()
                .filter(|&&a| {
                    (a - from) * sign > 1e-12 * (1.0 + a.abs()) && (a - value) * sign <= 0.0
                })
                .min_by(|a, b| ((*a - from).abs()).total_cmp(&(*b - from).abs()))
        {
            value = a;
        }
        let fam1 = slice(fam, fixed, value);
        let seed = seed_for(prev, free, fixed == last_fixed, ev);
        let found = locate_near(&fam1, set, &seed, ev).map(|(state, point)| {
            let (l1, l2) = if fixed == 2 {
                (state.orbit.lambda, value)
            } else {
                (value, state.orbit.lambda)
            };
            Located {
                l1,
                l2,
                state,
                point,
            }
        });
        let step = |p: &Located| [(p.l1 - prev.l1) / span[0], (p.l2 - prev.l2) / span[1]];
        let collapsed = found
            .as_ref()
            .is_some_and(|p| range(p) < 1e-3 * range(prev));
        if collapsed && range(prev) <= 0.05 * largest {
            break format!(
                "the cycles' V range shrank to zero beyond {} = {:.6}, {} = {:.6}: the curve ends on a Bautin point (its fold of cycles meets the Hopf curve) or a Hopf point",
                fam.names.0, prev.l1, fam.names.1, prev.l2
            );
        }
        if collapsed && h * 0.5 < MIN_STEP {
            break format!(
                "every step beyond {} = {:.6}, {} = {:.6}, down to the smallest, landed on the equilibrium, while the cycles there still had {:.0}% of the curve's largest V range",
                fam.names.0,
                prev.l1,
                fam.names.1,
                prev.l2,
                100.0 * range(prev) / largest
            );
        }
        match found.filter(|_| !collapsed) {
            Some(p) if step(&p)[0].hypot(step(&p)[1]) <= 4.0 * h.max(FIRST_STEP) => {
                let d = step(&p);
                if d[0] != 0.0 || d[1] != 0.0 {
                    delta = d;
                }
                last_fixed = fixed;
                let outside =
                    !(bx.l1.0..=bx.l1.1).contains(&p.l1) || !(bx.l2.0..=bx.l2.1).contains(&p.l2);
                let closed = pts.len() > 20 && {
                    let back = [(p.l1 - start.l1) / span[0], (p.l2 - start.l2) / span[1]];
                    back[0].hypot(back[1]) < 0.5 * h
                };
                largest = largest.max(range(&p));
                pts.push(p);
                if outside {
                    break "left the parameter box".into();
                }
                if closed {
                    break "closed on itself".into();
                }
                h = (h * 1.5).min(MAX_STEP);
            }
            _ => {
                h *= 0.5;
                if h < MIN_STEP {
                    break format!(
                        "no {} found beyond {} = {:.6}, {} = {:.6} even with the smallest step (two such points meet there in a cusp, or the curve ends)",
                        ev.name(),
                        fam.names.0,
                        prev.l1,
                        fam.names.1,
                        prev.l2
                    );
                }
            }
        }
    };
    (pts, reason)
}

/// The curve's point for a located event.
fn curve_point(p: &Located) -> CurvePoint {
    CurvePoint {
        l1: p.l1,
        l2: p.l2,
        v_mv: p.point.v_max,
        omega: 2.0 * std::f64::consts::PI / p.point.period,
        coefficient: f64::NAN,
        bt_test: f64::NAN,
    }
}

/// Continue the fold of cycles or period-doubling point `seed` (a state of a cycle branch over
/// the first parameter with the second at `l2`, as [`super::cycles::CycleSpecial::state`]
/// holds it) in both directions through the box. `at2`: values of the second parameter where
/// the curve records a point exactly. Returns `None` when the seed cannot be located again
/// on its own slice or `kind` is not a curve of cycles.
#[allow(clippy::too_many_arguments)]
pub fn cycle_curve(
    fam: &Family2,
    set: &CycleSettings,
    kind: CurveKind,
    seed: &BranchState,
    l2: f64,
    bx: &Box2,
    max_points: usize,
    at2: &[f64],
) -> Option<Curve> {
    let ev = event(kind)?;
    let (state, point) = locate_near(&fam.slice(l2), set, seed, ev)?;
    let start = Located {
        l1: state.orbit.lambda,
        l2,
        state,
        point,
    };
    let (down, why_down) = one_way(fam, set, &start, ev, -1.0, bx, max_points, at2);
    let (up, why_up) = one_way(fam, set, &start, ev, 1.0, bx, max_points, at2);
    let points: Vec<CurvePoint> = down
        .iter()
        .rev()
        .chain(std::iter::once(&start))
        .chain(up.iter())
        .map(curve_point)
        .collect();
    Some(Curve {
        kind,
        points,
        specials: vec![],
        ends: vec![why_down, why_up],
        bt_agreement: None,
    })
}
