//! The one-parameter bifurcation diagram: every equilibrium branch through the range, its
//! folds, branch points and Hopf points, the branches crossing at each branch point (switched
//! onto, [`super::branch_switch`]), and the branch of cycles born at each Hopf point (a
//! branch that ends on another Hopf point is not computed twice).
//!
//! # Cycle branches seeded by simulation
//!
//! A model can fire where no Hopf-born branch reaches: a class-1 model whose firing starts at
//! a SNIC with its Hopf point out of the range (Morris-Lecar's SNIC set below 97.8), or one
//! whose only Hopf-born branch is a small unstable cycle (Connor-Stevens), or one that fires
//! over the whole range of a parameter other than the current (`hh` at 10 uA/cm^2 over g_K
//! from 10 to 30 mS/cm^2 has no Hopf point there, and its rest is unstable throughout:
//! `tests/seeded_cycles.rs`). The
//! diagram then seeds cycle branches itself, whatever the continued parameter:
//!
//! - *probes*: eight values spread over the range (`from + k/8 (to - from)`, k = 1..8) and,
//!   on either side of every fold of equilibria, 1% and 5% of the range away from it;
//! - a probe already *covered* (two successive stable cycles of a computed branch straddle
//!   it) is skipped. At the others the model is simulated from the stable equilibrium of the
//!   range's first value with the lowest V (a step of the parameter from rest: for the
//!   current, the step of an f-I run;
//!   [`super::orbit_from_simulation`], Dormand-Prince, at most 5000 time units, the model's
//!   spike threshold as the section);
//! - a stable orbit found is solved by collocation at the probe; unless a computed branch
//!   already passes through it (a cycle there with its period within 1%), it is continued
//!   both ways ([`cycles::from_orbit`]) to the ends of its branch, and the two halves are
//!   joined into one branch, ordered so that an end where the period grows without bound is
//!   last (it is then classified as a SNIC or a homoclinic orbit, [`super::cycle_ends`]).
//!
//! Such a branch is listed with [`CycleOrigin::Orbit`] and a note. A model whose Hopf-born
//! branches carry every firing probe (Hodgkin-Huxley) gets the same diagram as without
//! seeding: only the simulations at the uncovered probes are added to its cost.

use super::cycles::{self, CycleBranch, CyclePoint, CycleSettings, CycleSpecial};
use super::equilibria::{self, EqBranch};
use super::hopf::Hopf;
use super::system::{Family, Knob};
use super::{Settings, Stop};
use crate::error::{AnalysisError, Error};
use crate::model::{Field, VectorField};
use crate::progress::{Cancelled, Observer, Tracker};

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagramSettings {
    /// Parameter range `(from, to)`.
    pub range: (f64, f64),
    /// Continuation of the equilibrium branches.
    pub equilibria: Settings,
    /// Continuation of the cycle branches.
    pub cycles: CycleSettings,
    /// Continue cycles from the Hopf points (the expensive part).
    pub with_cycles: bool,
}

/// A complete one-parameter diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    /// Name of the continued parameter.
    pub knob: String,
    /// Names of the state variables, the voltage-like one first.
    pub var_names: Vec<String>,
    /// Every equilibrium branch through the range.
    pub equilibria: Vec<EqBranch>,
    /// Every Hopf point found, by increasing parameter.
    pub hopfs: Vec<Hopf>,
    /// Cycle branches, each with where it starts from.
    pub cycles: Vec<(CycleOrigin, CycleBranch)>,
    /// What the continuations saw but did not resolve, in words.
    pub notes: Vec<String>,
}

/// Where a cycle branch of a diagram starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CycleOrigin {
    /// At a Hopf point: the index into [`Diagram::hopfs`].
    Hopf(usize),
    /// At a period doubling of another branch of the diagram: the branch of doubled-period
    /// cycles ([`cycles::from_period_doubling`]).
    PeriodDoubling {
        /// Index into [`Diagram::cycles`] of the branch the period doubling lies on.
        parent: usize,
        /// The parameter of the period doubling.
        lambda: f64,
    },
    /// At a stable orbit found by simulation (see the module's documentation).
    Orbit {
        /// The parameter of the seed orbit.
        lambda: f64,
        /// Its period (ms; the file's time unit for an `.ode` model).
        period: f64,
    },
}

impl CycleOrigin {
    /// The periodic orbits of `branch`, a branch of this origin: all its points but a start
    /// that is a bifurcation, not an orbit of the branch's own (a Hopf point's orbit of zero
    /// amplitude; at a period doubling, the parent's orbit traversed twice). A branch seeded
    /// by simulation starts at one of its ends, a real orbit (Connor-Stevens' fastest stable
    /// cycles, at the range's end, were once left out with it).
    pub fn orbits<'a>(&self, branch: &'a CycleBranch) -> &'a [CyclePoint] {
        match self {
            CycleOrigin::Orbit { .. } => &branch.points,
            _ => branch.points.get(1..).unwrap_or(&[]),
        }
    }

    /// The stable orbits of `branch` whose multipliers settle it
    /// ([`CyclePoint::stable_and_settled`]): its [`CycleOrigin::orbits`] and the orbits located
    /// at requested parameter values (user points), which are orbits of the branch like any;
    /// not those of an end's tail whose stability is not claimed
    /// ([`CycleBranch::unclaimed_tail`]).
    pub fn stable_orbits<'a>(
        &self,
        branch: &'a CycleBranch,
    ) -> impl Iterator<Item = &'a CyclePoint> + 'a {
        let at_user_points = (branch.specials.iter())
            .filter(|s| s.kind == cycles::CycleEvent::UserPoint)
            .map(|s| &s.point);
        let unclaimed = branch.unclaimed_tail();
        let (tail_from, tail_period) = match (unclaimed.first(), &branch.end) {
            (Some(p), Some(end)) => (Some(end), p.period),
            _ => (None, f64::INFINITY),
        };
        (self.orbits(branch).iter())
            .chain(at_user_points)
            .filter(|p| p.stable_and_settled())
            .filter(move |p| {
                !unclaimed.iter().any(|q| std::ptr::eq(*p, q))
                    && !tail_from.is_some_and(|e| e.near(p.lambda) && p.period > tail_period)
            })
    }
}

impl DiagramSettings {
    /// Check every setting: the range finite with `from < to`, the equilibrium settings, and
    /// the cycle settings when cycles are continued.
    pub fn validate(&self) -> Result<(), Error> {
        let (from, to) = self.range;
        if !(from.is_finite() && to.is_finite() && from < to) {
            return Err(AnalysisError::BadSetting {
                what: "parameter range".into(),
                value: to - from,
                allowed: "finite, with from < to".into(),
            }
            .into());
        }
        self.equilibria.validate()?;
        if self.with_cycles {
            self.cycles.validate()?;
        }
        Ok(())
    }
}

/// Every equilibrium of the family at `value` of the continued quantity (branch starts).
fn equilibria_at(fam: &Family, value: f64) -> Result<Vec<Vec<f64>>, AnalysisError> {
    let (field, current) = field_at(fam, value)?;
    let found = crate::model::equilibria(&field, current)?;
    Ok(found.into_iter().map(|e| e.state).collect())
}

/// The family's field at `value` of the continued quantity, with the injected current there.
fn field_at(fam: &Family, value: f64) -> Result<(Field, f64), AnalysisError> {
    let mut field = fam.field.clone();
    let params = field.params_mut();
    // The family's frozen values (a slice of a two-parameter family differs from the model).
    let mut set = |i: usize, v: f64, what: &dyn Fn(&str) -> String| {
        let name = params.param(i).name.clone();
        params.set(&name, v).map_err(|e| AnalysisError::BadSetting {
            what: what(&name),
            value: v,
            allowed: e.to_string(),
        })
    };
    for (i, &v) in fam.p.iter().enumerate() {
        set(i, v, &|n| n.to_string())?;
    }
    let current = match fam.knob {
        Knob::Current => value,
        Knob::Param(k) => {
            set(k, value, &|n| format!("range of {n}"))?;
            fam.i_ext
        }
    };
    Ok((field, current))
}

/// Each pair of successive points of a branch that straddles `lambda`, its states
/// interpolated linearly to `lambda`.
fn interpolated_at(branches: &[EqBranch], lambda: f64) -> impl Iterator<Item = Vec<f64>> + '_ {
    branches
        .iter()
        .flat_map(|b| b.points.windows(2))
        .filter(move |w| {
            let (a, c) = (&w[0], &w[1]);
            (a.lambda - lambda) * (c.lambda - lambda) <= 0.0 && a.lambda != c.lambda
        })
        .map(move |w| {
            let (a, c) = (&w[0], &w[1]);
            let t = (lambda - a.lambda) / (c.lambda - a.lambda);
            (a.state.iter().zip(&c.state))
                .map(|(p, q)| p + t * (q - p))
                .collect()
        })
}

/// The branches' equilibria at `lambda`: each branch's points that straddle it, interpolated
/// and corrected by Newton there.
fn on_branches_at(fam: &Family, branches: &[EqBranch], lambda: f64) -> Vec<Vec<f64>> {
    interpolated_at(branches, lambda)
        .filter_map(|v| fam.equilibrium_near(&v, lambda).map(|(y, _)| y))
        .collect()
}

/// Where the branches start: `from` if the family has an equilibrium there, else the first of
/// `to` and 63 values spread over the range (bisected towards `from` to within 1/1000 of the
/// range) that has one; with every equilibrium there.
fn find_start(fam: &Family, from: f64, to: f64) -> Result<(f64, Vec<Vec<f64>>), Error> {
    let first_error = match equilibria_at(fam, from) {
        Ok(s) => return Ok((from, s)),
        Err(e) => e,
    };
    let span = to - from;
    let Some(mut hit) = (1..=64)
        .map(|k| from + span * k as f64 / 64.0)
        .find(|&l| equilibria_at(fam, l).is_ok())
    else {
        return Err(AnalysisError::Numerical {
            what: format!("equilibria of {} over {from}..{to}", fam.knob_name()),
            reason: format!("none at 65 values across the range ({first_error})"),
        }
        .into());
    };
    // Move the start down towards where equilibria begin.
    let mut miss = hit - span / 64.0;
    while hit - miss > span * 1e-3 {
        let mid = 0.5 * (hit + miss);
        if equilibria_at(fam, mid).is_ok() {
            hit = mid;
        } else {
            miss = mid;
        }
    }
    Ok((hit, equilibria_at(fam, hit)?))
}

impl Diagram {
    /// Every branch point of the diagram's equilibrium branches, each once (a crossing is
    /// seen from both branches through it), by increasing parameter.
    pub fn branch_points(&self) -> Vec<&super::branch_point::BranchPoint> {
        let mut out: Vec<&super::branch_point::BranchPoint> = vec![];
        for bp in self.equilibria.iter().flat_map(|b| b.branch_points.iter()) {
            if !out.iter().any(|o| o.same_as(bp)) {
                out.push(bp);
            }
        }
        out.sort_by(|a, b| a.lambda.total_cmp(&b.lambda));
        out
    }

    /// Why each equilibrium branch that did not run to the range's end or close on itself
    /// stopped: with [`Diagram::uncovered`], what a diagram's readers must be told it does not
    /// speak for.
    pub fn cut_short(&self) -> Vec<&Stop> {
        self.equilibria
            .iter()
            .map(|b| &b.stop)
            .filter(|s| !matches!(s, Stop::LeftRange(_) | Stop::ClosedLoop(_)))
            .collect()
    }

    /// The parts of `(from, to)` that no equilibrium branch covers (where the family has no
    /// equilibrium, or a branch stopped short), in increasing order.
    pub fn uncovered(&self, (from, to): (f64, f64)) -> Vec<(f64, f64)> {
        let mut spans: Vec<(f64, f64)> = self
            .equilibria
            .iter()
            .filter(|b| !b.points.is_empty())
            .map(|b| {
                let l = b.points.iter().map(|p| p.lambda);
                (
                    l.clone().fold(f64::INFINITY, f64::min).max(from),
                    l.fold(f64::NEG_INFINITY, f64::max).min(to),
                )
            })
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut gaps = vec![];
        let mut reached = from;
        for (lo, hi) in spans {
            if lo > reached + 1e-9 * (1.0 + reached.abs()) {
                gaps.push((reached, lo));
            }
            reached = reached.max(hi);
        }
        if reached < to - 1e-9 * (1.0 + to.abs()) {
            gaps.push((reached, to));
        }
        gaps
    }
}

/// Whether some branch already passes through the equilibrium `y` at parameter `lambda`: a
/// point of it at exactly `lambda`, or two successive points that straddle `lambda` whose
/// interpolated state, corrected by Newton at `lambda` (so the interpolation's own error does
/// not count), is `y` to 1e-6 relative in every state variable. Every variable, not V alone:
/// two branches can share V and differ in another variable (either side of a pitchfork in a
/// variable other than V). If Newton fails there, the interpolated state itself must be
/// within 1e-3 relative.
fn covered(fam: &Family, branches: &[EqBranch], y: &[f64], lambda: f64) -> bool {
    let near = |v: &[f64], tol: f64| {
        v.iter()
            .zip(y)
            .all(|(a, b)| (a - b).abs() <= tol * (1.0 + b.abs()))
    };
    let at_a_point = (branches.iter())
        .flat_map(|b| &b.points)
        .any(|p| p.lambda == lambda && near(&p.state, 1e-6));
    at_a_point
        || interpolated_at(branches, lambda).any(|v| {
            match fam.equilibrium_near(&v, lambda).map(|(y, _)| y) {
                Some(e) => near(&e, 1e-6),
                None => near(&v, 1e-3),
            }
        })
}

/// Where [`interior_branches`] looks for equilibria, as fractions of the range.
const INTERIOR_PROBES: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// Branches of equilibria that do not reach the branches' start: an isola, or a pair born at a
/// fold inside the range (a cusp's third equilibrium over the cusp's range, a SNIC circle's
/// two points between its folds). Equilibria are looked for at [`INTERIOR_PROBES`] of the
/// range (in parallel) beside those the branches have there
/// ([`crate::model::equilibria_beside`]: an `.ode` model's deflated search alone, a
/// conductance model's scan); each one no branch passes through ([`covered`]) starts a branch
/// of its own, continued both ways and appended to `branches`; notes. Both folds of a SNIC
/// circle over -3..3 and the cusp's fold at b = 0.908 were missing, with "no fold" said.
fn interior_branches(
    fam: &Family,
    settings: &DiagramSettings,
    start: f64,
    branches: &mut Vec<EqBranch>,
) -> Vec<String> {
    use rayon::prelude::*;
    let (from, to) = settings.range;
    let knob = fam.knob_name();
    let found: Vec<(f64, Vec<Vec<f64>>)> = INTERIOR_PROBES
        .par_iter()
        .map(|q| from + q * (to - from))
        .filter(|&l| l != start)
        .filter_map(|l| {
            let known = on_branches_at(fam, branches, l);
            let (field, current) = field_at(fam, l).ok()?;
            let beside = crate::model::equilibria_beside(&field, current, &known).ok()?;
            Some((l, beside))
        })
        .collect();
    let mut notes = vec![];
    let eq = &settings.equilibria;
    for (l, states) in found {
        for state in states {
            if covered(fam, branches, &state, l) {
                continue;
            }
            // A closed curve is whole after one half.
            let halves = equilibria::continue_branch(fam, &state, l, (from, to), false, eq)
                .and_then(|down| {
                    if matches!(down.stop, Stop::ClosedLoop(_)) {
                        return Ok(down);
                    }
                    let up = equilibria::continue_branch(fam, &state, l, (from, to), true, eq)?;
                    Ok(equilibria::join_halves(down, up))
                });
            match halves {
                Ok(b) => {
                    notes.push(format!(
                        "an equilibrium at {knob} = {l:.6} (V = {:.4}) lies on no branch from the range's start: it starts a branch of its own",
                        state[0]
                    ));
                    notes.extend(b.notes.iter().cloned());
                    branches.push(b);
                }
                Err(e) => notes.push(format!(
                    "an equilibrium at {knob} = {l:.6} (V = {:.4}) lies on no branch from the range's start and could not be continued: {e}",
                    state[0]
                )),
            }
        }
    }
    notes
}

/// How many branches a diagram switches onto at branch points at most (each crossing branch
/// can carry branch points of its own; a symmetric model can have many).
pub const MAX_SWITCHED_BRANCHES: usize = 16;

/// Switch onto the branches that cross `branches` at their branch points (and at the branch
/// points of those, up to [`MAX_SWITCHED_BRANCHES`]), skipping those already computed; notes.
///
/// A crossing is already computed when another branch has the same branch point (a crossing
/// is found from both branches through it), or passes through the first point of the
/// crossing branch ([`covered`]).
fn switch_branches(
    fam: &Family,
    settings: &DiagramSettings,
    branches: &mut Vec<EqBranch>,
) -> Vec<String> {
    use super::branch_switch::{leave_branch_point, switch_at};
    let mut notes = vec![];
    let mut switched = 0;
    let mut k = 0;
    while k < branches.len() {
        let bps = branches[k].branch_points.clone();
        for bp in &bps {
            let seen_elsewhere = branches
                .iter()
                .enumerate()
                .any(|(j, b)| j != k && b.branch_points.iter().any(|o| o.same_as(bp)));
            if seen_elsewhere {
                continue;
            }
            let at = format!("{} = {:.6}", fam.knob_name(), bp.lambda);
            let eq = &settings.equilibria;
            let start = match leave_branch_point(fam, bp, settings.range, eq) {
                Ok(s) => s,
                Err(e) => {
                    notes.push(format!("no switch at the branch point {at}: {e}"));
                    continue;
                }
            };
            if covered(fam, branches, &start.0, start.1) {
                continue;
            }
            if switched == MAX_SWITCHED_BRANCHES {
                notes.push(format!(
                    "the branch crossing at {at} is not computed: at most {MAX_SWITCHED_BRANCHES} branches are switched onto"
                ));
                continue;
            }
            switched += 1;
            match switch_at(fam, (&start.0, start.1, &start.2), settings.range, eq) {
                Ok(b) => {
                    notes.extend(b.notes.iter().cloned());
                    notes.push(format!(
                        "equilibrium branch switched onto at the branch point {at}"
                    ));
                    if !matches!(b.stop, Stop::LeftRange(_)) {
                        notes.push(format!(
                            "the equilibrium branch switched onto at {at}: {}",
                            b.stop
                        ));
                    }
                    branches.push(b);
                }
                Err(e) => notes.push(format!("no switch at the branch point {at}: {e}")),
            }
        }
        k += 1;
    }
    notes
}

/// Whether the equilibrium `y` at `lambda` is stable (every eigenvalue with negative real
/// part).
fn is_stable(fam: &Family, y: &[f64], lambda: f64) -> bool {
    let j = fam.jacobian(y, lambda);
    crate::numerics::balance::balance(&j)
        .complex_eigenvalues()
        .iter()
        .all(|z| z.re < 0.0)
}

/// The spike threshold of the family's model: the conductance model's, 0 for an `.ode` file.
fn threshold(fam: &Family) -> f64 {
    match &fam.field {
        crate::model::Field::Conductance(m) => m.threshold_mv,
        crate::model::Field::Ode(_) => 0.0,
    }
}

/// The cycles of `branches` at `lambda` (periods interpolated between successive points that
/// straddle it), each with whether both points are stable. A point within 1e-8 (relative) of
/// `lambda` counts as on it: a branch that left the range ends on the range's end, located
/// there to the corrector's tolerance, possibly just inside, and the probe at that end is
/// covered by it.
fn cycles_at(branches: &[(CycleOrigin, CycleBranch)], lambda: f64) -> Vec<(f64, bool)> {
    let eps = 1e-8 * (1.0 + lambda.abs());
    branches
        .iter()
        .flat_map(|(_, b)| b.points.windows(2))
        .filter(|w| {
            let (a, b) = (w[0].lambda.min(w[1].lambda), w[0].lambda.max(w[1].lambda));
            a <= lambda + eps && lambda - eps <= b && a != b
        })
        .map(|w| {
            let t = ((lambda - w[0].lambda) / (w[1].lambda - w[0].lambda)).clamp(0.0, 1.0);
            (
                w[0].period + t * (w[1].period - w[0].period),
                w[0].stable() && w[1].stable(),
            )
        })
        .collect()
}

/// Probe values for seeding: eight spread over the range, and 1% and 5% of the range either
/// side of every fold of equilibria, inside the range, sorted, without repeats.
fn probes(from: f64, to: f64, folds: &[super::fold::Fold]) -> Vec<f64> {
    let span = to - from;
    let mut p: Vec<f64> = (1..=8).map(|k| from + span * k as f64 / 8.0).collect();
    for f in folds {
        for d in [0.01, 0.05] {
            p.extend([f.lambda - d * span, f.lambda + d * span]);
        }
    }
    p.retain(|&x| x > from && x <= to);
    p.sort_by(f64::total_cmp);
    p.dedup_by(|a, b| (*a - *b).abs() < 1e-9 * span);
    p
}

/// One branch from the two halves continued from the same seed (`down` towards lower values,
/// `up` towards higher): the half whose period grew without bound last (`up` when neither
/// or both did), the other reversed in front of it without its copy of the seed.
fn join_cycle_halves(down: CycleBranch, up: CycleBranch, knob: &str) -> CycleBranch {
    let down_last = matches!(down.stop, Stop::PeriodUnbounded(_))
        && !matches!(up.stop, Stop::PeriodUnbounded(_));
    let (first, last) = if down_last { (up, down) } else { (down, up) };
    // Each special's step, renumbered: `first`'s step k..k+1 is reversed to n-2-k..n-1-k, and
    // `last`'s point k (its seed, k = 0, is `first`'s) lands at n-1+k.
    let n = first.points.len();
    let specials = (first.specials.into_iter())
        .map(|s| CycleSpecial {
            after: (n - 1).saturating_sub(s.after + 1),
            ..s
        })
        .chain(last.specials.into_iter().map(|s| CycleSpecial {
            after: s.after + n.saturating_sub(1),
            ..s
        }))
        .collect();
    let mut points: Vec<CyclePoint> = first.points.into_iter().rev().collect();
    points.extend(last.points.into_iter().skip(1));
    let mut notes = first.notes;
    notes.push(format!(
        "the cycle branch seeded by simulation: one end {} ({knob})",
        first.stop
    ));
    notes.extend(last.notes);
    CycleBranch {
        points,
        specials,
        stop: last.stop,
        notes,
        bottleneck: last.bottleneck,
        end: None,
    }
}

/// Seed cycle branches from stable orbits found by simulation where no computed branch has a
/// stable cycle (see the module's documentation), append them to `out`, and return notes.
fn seed_branches(
    fam: &Family,
    settings: &DiagramSettings,
    folds: &[super::fold::Fold],
    rest: &[f64],
    out: &mut Vec<(CycleOrigin, CycleBranch)>,
    progress: &mut dyn FnMut(&CyclePoint) -> bool,
) -> Vec<String> {
    use super::orbit_from_simulation::{OrbitSettings, orbit_from_simulation};
    use rayon::prelude::*;
    let (from, to) = settings.range;
    let knob = fam.knob_name();
    let mut notes = vec![];
    if rest.is_empty() {
        return notes;
    }
    let set = OrbitSettings {
        threshold: threshold(fam),
        t_max: 5000.0,
        ntst: settings.cycles.ntst,
        ncol: settings.cycles.ncol,
        tol: settings.cycles.tol,
        ..OrbitSettings::default()
    };
    // The simulations of the probes without a stable cycle, all at once (each is a run of up
    // to 5000 time units, and they do not depend on one another); a branch seeded below can
    // still cover a later probe, whose simulation is then not used.
    let stable_at = |out: &[(CycleOrigin, CycleBranch)], probe: f64| {
        cycles_at(out, probe).iter().any(|&(_, stable)| stable)
    };
    let without_stable_cycle: Vec<f64> = probes(from, to, folds)
        .into_iter()
        .filter(|&p| !stable_at(out, p))
        .collect();
    let simulated: Vec<_> = without_stable_cycle
        .par_iter()
        .map(|&probe| orbit_from_simulation(fam, probe, rest, &set).ok())
        .collect();
    for (probe, o) in without_stable_cycle.into_iter().zip(simulated) {
        if stable_at(out, probe) {
            continue;
        }
        let Some(o) = o else {
            continue;
        };
        if !o.stable()
            || cycles_at(out, probe)
                .iter()
                .any(|&(t, _)| (t - o.period).abs() < 0.01 * o.period)
        {
            continue;
        }
        // Up first: the shortest period seen there (or the seed's) is the reference of the
        // stops on growing periods for both halves.
        let c = &settings.cycles;
        let halves = cycles::from_orbit(fam, &o.orbit, 1.0, (from, to), c, None, &mut *progress)
            .and_then(|up| {
                let shortest = up
                    .points
                    .iter()
                    .filter(|p| !p.multipliers.is_empty())
                    .map(|p| p.period)
                    .fold(o.period, f64::min);
                let down = cycles::from_orbit(
                    fam,
                    &o.orbit,
                    -1.0,
                    (from, to),
                    c,
                    Some(shortest),
                    &mut *progress,
                )?;
                Some((down, up))
            });
        let (down, up) = match halves {
            Some(h) => h,
            None => {
                notes.push(format!(
                    "a stable cycle at {knob} = {probe:.6} (period {:.6}, found by simulation) could not be continued",
                    o.period
                ));
                continue;
            }
        };
        let mut branch = join_cycle_halves(down, up, &knob);
        if matches!(branch.stop, Stop::PeriodUnbounded(_)) {
            super::cycle_ends::settle_end(fam, &mut branch, folds);
        }
        notes.push(format!(
            "a stable cycle found by simulation at {knob} = {probe:.6} (period {:.6}), where no branch from a Hopf point has one, starts a cycle branch of {} points; its last point: {}",
            o.period,
            branch.points.len(),
            branch.stop
        ));
        notes.extend(branch.notes.iter().cloned());
        let cancelled = matches!(branch.stop, Stop::Cancelled(_));
        out.push((
            CycleOrigin::Orbit {
                lambda: probe,
                period: o.period,
            },
            branch,
        ));
        if cancelled {
            break;
        }
    }
    notes
}

/// Follow the branches of doubled-period cycles from the period doublings of the branches in
/// `out`, `settings.cycles.doublings` levels deep (a level: the doublings of the branches the
/// previous level added), appending them; returns notes. A period doubling that a doubled
/// branch of the same parent already reached ([`Stop::BackOnPrimary`], within 2% of the range)
/// does not start another.
fn follow_doublings(
    fam: &Family,
    settings: &DiagramSettings,
    out: &mut Vec<(CycleOrigin, CycleBranch)>,
    progress: &mut dyn FnMut(&CyclePoint) -> bool,
) -> Vec<String> {
    let (from, to) = settings.range;
    let span = to - from;
    let knob = fam.knob_name();
    let mut notes = vec![];
    let mut level = 0..out.len();
    for _ in 0..settings.cycles.doublings {
        let end = out.len();
        for parent in level.clone() {
            let pds: Vec<cycles::BranchState> = out[parent]
                .1
                .specials
                .iter()
                .filter(|s| s.kind == cycles::CycleEvent::PeriodDoubling)
                .filter_map(|s| s.state.clone())
                .collect();
            let mut reached: Vec<f64> = vec![];
            for pd in pds {
                let at = pd.orbit.lambda;
                if reached.iter().any(|&l| (l - at).abs() < 0.02 * span) {
                    continue;
                }
                let Some(branch) = cycles::from_period_doubling(
                    fam,
                    &pd,
                    (from, to),
                    &settings.cycles,
                    &mut *progress,
                ) else {
                    notes.push(format!(
                        "no branch of doubled period could be started at the period doubling at {knob} = {at:.6}"
                    ));
                    continue;
                };
                if let Stop::BackOnPrimary(l) = branch.stop {
                    reached.push(l);
                }
                // Its orbits: the start, the parent's traversed twice, is not one of them
                // ([`CycleOrigin::orbits`]).
                notes.push(format!(
                    "the doubled-period branch from the period doubling at {knob} = {at:.6}: {} points, {}",
                    branch.points.len().saturating_sub(1),
                    branch.stop
                ));
                notes.extend(branch.notes.iter().cloned());
                let cancelled = matches!(branch.stop, Stop::Cancelled(_));
                out.push((CycleOrigin::PeriodDoubling { parent, lambda: at }, branch));
                if cancelled {
                    return notes;
                }
            }
        }
        level = end..out.len();
        if level.is_empty() {
            break;
        }
    }
    notes
}

/// Compute the diagram of `fam` over `settings.range`; `observer` sees each cycle point (and
/// can stop the run). It runs on the rayon pool ([`crate::numerics::pool::on_pool`]: the
/// collocation's parallel steps start there without a round trip between threads).
pub fn diagram(
    fam: &Family,
    settings: &DiagramSettings,
    observer: &dyn Observer,
) -> Result<Diagram, Error> {
    crate::numerics::pool::on_pool(|| diagram_on_this_thread(fam, settings, observer))
}

fn diagram_on_this_thread(
    fam: &Family,
    settings: &DiagramSettings,
    observer: &dyn Observer,
) -> Result<Diagram, Error> {
    let tracker = Tracker::new(observer, "cycle points", None);
    let knob = fam.knob_name();
    let mut progress = |p: &CyclePoint| {
        tracker
            .advance(
                1,
                &format!("{knob} = {:.4}, period {:.3}", p.lambda, p.period),
            )
            .is_ok()
    };
    settings.validate()?;
    let (from, to) = settings.range;
    let (start, starts) = find_start(fam, from, to)?;
    let mut branches: Vec<EqBranch> = vec![];
    let mut notes = vec![];
    if start != from {
        notes.push(format!(
            "no equilibrium at {} = {from}: the branches start at {start}, the first value of the range where one exists, and run both ways",
            fam.knob_name()
        ));
    }
    for state in &starts {
        if covered(fam, &branches, state, start) {
            continue;
        }
        let eq = &settings.equilibria;
        let mut b = equilibria::continue_branch(fam, state, start, (from, to), true, eq)?;
        // (A closed curve is whole after one half.)
        if start > from && !matches!(b.stop, Stop::ClosedLoop(_)) {
            // From an interior start the branch also runs down to the range's start.
            let down = equilibria::continue_branch(fam, state, start, (from, to), false, eq)?;
            if !matches!(down.stop, Stop::LeftRange(_)) {
                notes.push(format!(
                    "equilibrium branch from V = {:.3} at {start}, downwards: {}",
                    state[0], down.stop
                ));
            }
            b = equilibria::join_halves(down, b);
        }
        notes.extend(b.notes.iter().cloned());
        if !matches!(b.stop, Stop::LeftRange(_) | Stop::ClosedLoop(_)) {
            notes.push(format!(
                "equilibrium branch from V = {:.3}: {}",
                state[0], b.stop
            ));
        }
        branches.push(b);
    }
    notes.extend(interior_branches(fam, settings, start, &mut branches));
    notes.extend(switch_branches(fam, settings, &mut branches));
    let mut hopfs: Vec<Hopf> = branches
        .iter()
        .flat_map(|b| b.hopfs.iter().cloned())
        .collect();
    hopfs.sort_by(|a, b| a.lambda.total_cmp(&b.lambda));
    // The same Hopf point found on two branches is kept once. Two at one parameter value on
    // different equilibria are both kept: a symmetric model's pair (x = ±1 at mu = 1, the
    // Lorenz system's C+ and C- at r = 470/19) had lost one point and its cycle branch.
    let mut unique: Vec<Hopf> = Vec::with_capacity(hopfs.len());
    for h in hopfs {
        let same = |u: &Hopf| {
            (u.lambda - h.lambda).abs() < 1e-9 * (1.0 + h.lambda.abs())
                && u.state
                    .iter()
                    .zip(&h.state)
                    .all(|(a, b)| (a - b).abs() < 1e-6 * (1.0 + a.abs()))
        };
        if !unique.iter().any(same) {
            unique.push(h);
        }
    }
    let hopfs = unique;
    let mut cycles_out = vec![];
    if settings.with_cycles {
        let span = to - from;
        let mut done = vec![false; hopfs.len()];
        for k in 0..hopfs.len() {
            if done[k] {
                continue;
            }
            done[k] = true;
            let mut branch =
                cycles::from_hopf(fam, &hopfs[k], (from, to), &settings.cycles, &mut progress);
            if let Stop::ReachedHopf(end) = branch.stop {
                // The Hopf point this branch ends on does not need a branch of its own.
                // The nearest in parameter, and among those at one parameter value (a
                // symmetric pair) the one the last orbit shrank onto: nearest its state at the
                // peak of V (every variable, so a pair told apart by another than V is too).
                let last = branch.points.last().map(|p| p.peak_state.clone());
                let distance = |j: usize| {
                    let away = last.as_ref().map_or(f64::NAN, |y| {
                        (hopfs[j].state.iter().zip(y))
                            .map(|(a, b)| (a - b).powi(2))
                            .sum::<f64>()
                    });
                    ((hopfs[j].lambda - end).abs(), away)
                };
                if let Some(j) = (0..hopfs.len())
                    .filter(|&j| j != k)
                    .filter(|&j| (hopfs[j].lambda - end).abs() < 0.02 * span + 1.0)
                    .min_by(|&a, &b| {
                        let ((la, va), (lb, vb)) = (distance(a), distance(b));
                        if (la - lb).abs() < 1e-9 * (1.0 + end.abs()) {
                            va.total_cmp(&vb)
                        } else {
                            la.total_cmp(&lb)
                        }
                    })
                {
                    done[j] = true;
                    // The end is that Hopf point, located, not the last orbit's parameter
                    // (`hh`'s summary had said 154.521684 beside the point's 154.522434),
                    // when it lies within a step's scale of it.
                    if (hopfs[j].lambda - end).abs() <= 1e-3 * span {
                        branch.stop = Stop::ReachedHopf(hopfs[j].lambda);
                    }
                }
            }
            if matches!(branch.stop, Stop::PeriodUnbounded(_)) {
                let folds: Vec<_> = branches
                    .iter()
                    .flat_map(|b| b.folds.iter().cloned())
                    .collect();
                super::cycle_ends::settle_end(fam, &mut branch, &folds);
            }
            notes.extend(branch.notes.iter().cloned());
            if matches!(branch.stop, Stop::Cancelled(_)) {
                return Err(Cancelled.into());
            }
            cycles_out.push((CycleOrigin::Hopf(k), branch));
        }
        let folds: Vec<_> = branches
            .iter()
            .flat_map(|b| b.folds.iter().cloned())
            .collect();
        let rest = starts
            .iter()
            .filter(|y| is_stable(fam, y, start))
            .min_by(|a, b| a[0].total_cmp(&b[0]))
            .or(starts.first())
            .cloned()
            .unwrap_or_default();
        let seeded = seed_branches(fam, settings, &folds, &rest, &mut cycles_out, &mut progress);
        notes.extend(seeded);
        if cycles_out
            .iter()
            .any(|(_, b)| matches!(b.stop, Stop::Cancelled(_)))
        {
            return Err(Cancelled.into());
        }
        let doubled = follow_doublings(fam, settings, &mut cycles_out, &mut progress);
        notes.extend(doubled);
        if cycles_out
            .iter()
            .any(|(_, b)| matches!(b.stop, Stop::Cancelled(_)))
        {
            return Err(Cancelled.into());
        }
    }
    Ok(Diagram {
        knob: fam.knob_name(),
        var_names: fam.field.var_names(),
        equilibria: branches,
        hopfs,
        cycles: cycles_out,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::continuation::cycles::CycleEvent;

    fn at(lambda: f64) -> CyclePoint {
        CyclePoint {
            lambda,
            period: 1.0,
            v_max: 1.0,
            v_min: 0.0,
            multipliers: vec![],
            trace_integral: 0.0,
            peak_state: vec![],
        }
    }

    /// A half from the seed at 5 along `lambdas`, with one special point halfway along its
    /// step `after`.
    fn half(lambdas: &[f64], after: usize, stop: Stop) -> CycleBranch {
        let points: Vec<CyclePoint> = lambdas.iter().map(|&l| at(l)).collect();
        let mid = 0.5 * (lambdas[after] + lambdas[after + 1]);
        CycleBranch {
            points,
            specials: vec![CycleSpecial {
                kind: CycleEvent::PeriodDoubling,
                point: at(mid),
                state: None,
                after,
            }],
            stop,
            notes: vec![],
            bottleneck: None,
            end: None,
        }
    }

    #[test]
    fn a_branch_from_a_bifurcation_leaves_out_its_start_one_from_an_orbit_does_not() {
        let b = half(&[1.0, 2.0, 3.0], 0, Stop::LeftRange(3.0));
        let first = |o: CycleOrigin| o.orbits(&b).first().map(|p| p.lambda);
        assert_eq!(first(CycleOrigin::Hopf(0)), Some(2.0));
        let pd = CycleOrigin::PeriodDoubling {
            parent: 0,
            lambda: 1.0,
        };
        assert_eq!(first(pd), Some(2.0));
        let seeded = CycleOrigin::Orbit {
            lambda: 2.0,
            period: 1.0,
        };
        assert_eq!(first(seeded), Some(1.0));
        assert_eq!(seeded.orbits(&b).len(), 3);
        let empty = CycleBranch {
            points: vec![],
            ..b.clone()
        };
        assert!(CycleOrigin::Hopf(0).orbits(&empty).is_empty());
    }

    /// Joining the halves keeps each special point on its step: between the joined branch's
    /// points `after` and `after + 1`, whichever half is put first.
    #[test]
    fn joined_halves_keep_each_special_point_on_its_step() {
        for down_unbounded in [false, true] {
            let down_stop = if down_unbounded {
                Stop::PeriodUnbounded(2.0)
            } else {
                Stop::LeftRange(2.0)
            };
            let down = half(&[5.0, 4.0, 3.0, 2.0], 1, down_stop);
            let up = half(&[5.0, 6.0, 7.0], 1, Stop::LeftRange(7.0));
            let b = join_cycle_halves(down, up, "i_ext");
            assert_eq!(b.points.len(), 6);
            assert_eq!(b.specials.len(), 2);
            for s in &b.specials {
                let (l0, l1) = (b.points[s.after].lambda, b.points[s.after + 1].lambda);
                assert_eq!(s.point.lambda, 0.5 * (l0 + l1), "{down_unbounded}: {s:?}");
            }
        }
    }
}
