//! Special points: what the continuations find (folds, Hopf points, bifurcations of cycles,
//! requested user points and codimension-two points), as one enum and one flat record that
//! tables and summaries read.

use super::codim2::Curve;
use super::cycles::CyclePoint;
use super::diagram::Diagram;
use std::fmt;

/// What kind of special point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialKind {
    /// Fold (limit point, saddle-node) of equilibria.
    Fold,
    /// Branch point of equilibria: another branch of equilibria crosses (transcritical or
    /// pitchfork; [`super::branch_point`]).
    BranchPoint,
    /// Andronov-Hopf point: a complex pair of eigenvalues crosses the imaginary axis.
    Hopf,
    /// Fold (limit point) of cycles: two cycles meet and vanish.
    FoldOfCycles,
    /// A Floquet multiplier passes through -1.
    PeriodDoubling,
    /// A complex pair of Floquet multipliers crosses the unit circle (Neimark-Sacker).
    Torus,
    /// Not a bifurcation: a cycle branch passes a requested parameter value (AUTO's UZR).
    UserPoint,
    /// Generalised Hopf: the first Lyapunov coefficient changes sign on a Hopf curve.
    Bautin,
    /// Bogdanov-Takens: a double zero eigenvalue, where a Hopf curve ends on a fold curve.
    BogdanovTakens,
    /// Cusp: the quadratic normal-form coefficient of a fold vanishes.
    Cusp,
    /// A cycle branch ends on a saddle-node on an invariant circle: its period grows without
    /// bound as the orbit runs through a fold of equilibria ([`super::cycle_ends`]).
    Snic,
    /// A cycle branch ends on a saddle homoclinic orbit: its period grows without bound as the
    /// orbit runs into a saddle away from any fold ([`super::cycle_ends`]).
    Homoclinic,
}

impl SpecialKind {
    /// Every kind, in the order above.
    pub const ALL: [SpecialKind; 12] = [
        SpecialKind::Fold,
        SpecialKind::BranchPoint,
        SpecialKind::Hopf,
        SpecialKind::FoldOfCycles,
        SpecialKind::PeriodDoubling,
        SpecialKind::Torus,
        SpecialKind::UserPoint,
        SpecialKind::Bautin,
        SpecialKind::BogdanovTakens,
        SpecialKind::Cusp,
        SpecialKind::Snic,
        SpecialKind::Homoclinic,
    ];

    /// The kind's name in tables (`special_points.parquet`'s `kind` column) and study checks:
    /// `fold`, `branch_point`, `hopf`, `fold_cycle`, `period_doubling`, `torus`, `user_point`, `bautin`,
    /// `bogdanov_takens`, `cusp`, `snic`, `homoclinic`.
    pub fn name(self) -> &'static str {
        match self {
            SpecialKind::Fold => "fold",
            SpecialKind::BranchPoint => "branch_point",
            SpecialKind::Hopf => "hopf",
            SpecialKind::FoldOfCycles => "fold_cycle",
            SpecialKind::PeriodDoubling => "period_doubling",
            SpecialKind::Torus => "torus",
            SpecialKind::UserPoint => "user_point",
            SpecialKind::Bautin => "bautin",
            SpecialKind::BogdanovTakens => "bogdanov_takens",
            SpecialKind::Cusp => "cusp",
            SpecialKind::Snic => "snic",
            SpecialKind::Homoclinic => "homoclinic",
        }
    }

    /// The kind of a table name ([`SpecialKind::name`]).
    pub fn from_name(name: &str) -> Option<SpecialKind> {
        SpecialKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One special point, flat: what a row of `special_points.parquet` holds. Quantities a kind
/// does not have are NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialPoint {
    /// What it is.
    pub kind: SpecialKind,
    /// The (first) continued parameter there.
    pub param: f64,
    /// The second parameter (two-parameter curves); NaN on a one-parameter diagram.
    pub param2: f64,
    /// The first state variable (V, mV for conductance models); for a cycle its maximum on
    /// the orbit.
    pub v_mv: f64,
    /// For a cycle the minimum of V on the orbit; otherwise `v_mv`.
    pub v_min_mv: f64,
    /// Period (ms): of the cycle, or `2 pi / omega` at a Hopf point.
    pub period_ms: f64,
    /// Frequency (Hz), `1000 / period_ms`.
    pub frequency_hz: f64,
    /// First Lyapunov coefficient at a Hopf point (MatCont's normalisation).
    pub lyapunov: f64,
}

impl SpecialPoint {
    /// A point known only by its location (no period, frequency or coefficient).
    pub fn located(kind: SpecialKind, param: f64, param2: f64, v_mv: f64) -> SpecialPoint {
        SpecialPoint {
            kind,
            param,
            param2,
            v_mv,
            v_min_mv: v_mv,
            period_ms: f64::NAN,
            frequency_hz: f64::NAN,
            lyapunov: f64::NAN,
        }
    }

    /// A special point on a cycle branch: `v_mv`/`v_min_mv` are the orbit's extremes of V.
    pub fn on_cycle(kind: SpecialKind, p: &CyclePoint) -> SpecialPoint {
        SpecialPoint {
            kind,
            param: p.lambda,
            param2: f64::NAN,
            v_mv: p.v_max,
            v_min_mv: p.v_min,
            period_ms: p.period,
            frequency_hz: p.frequency_hz(),
            lyapunov: f64::NAN,
        }
    }
}

impl Diagram {
    /// Every special point of the diagram: the folds of each equilibrium branch, its branch
    /// points (each once, though seen from both branches through it), the Hopf points by
    /// parameter, then the special points of each cycle branch in branch order.
    pub fn special_points(&self) -> Vec<SpecialPoint> {
        let mut rows: Vec<SpecialPoint> = vec![];
        // A fold reached by two branches is one fold, listed once: a branch stopped short
        // (at its most points) leaves an equilibrium uncovered, and the branch started there
        // runs back through the same folds (Connor-Stevens over 7.5..8 listed two twice).
        let same = |a: f64, b: f64, rtol: f64| (a - b).abs() <= rtol * (1.0 + a.abs().max(b.abs()));
        for b in &self.equilibria {
            for f in &b.folds {
                let listed = rows
                    .iter()
                    .any(|r| same(r.param, f.lambda, 1e-9) && same(r.v_mv, f.state[0], 1e-6));
                if !listed {
                    rows.push(SpecialPoint::located(
                        SpecialKind::Fold,
                        f.lambda,
                        f64::NAN,
                        f.state[0],
                    ));
                }
            }
        }
        for bp in self.branch_points() {
            rows.push(SpecialPoint::located(
                SpecialKind::BranchPoint,
                bp.lambda,
                f64::NAN,
                bp.state[0],
            ));
        }
        for h in &self.hopfs {
            rows.push(SpecialPoint {
                kind: SpecialKind::Hopf,
                param: h.lambda,
                param2: f64::NAN,
                v_mv: h.state[0],
                v_min_mv: h.state[0],
                period_ms: h.period_ms(),
                frequency_hz: h.frequency_hz(),
                lyapunov: h.lyapunov,
            });
        }
        for (_, c) in &self.cycles {
            for s in &c.specials {
                rows.push(SpecialPoint::on_cycle(s.kind.kind(), &s.point));
            }
        }
        rows
    }
}

/// The codimension-two points of two-parameter curves, curve by curve.
pub fn codim2_points(curves: &[Curve]) -> Vec<SpecialPoint> {
    // A point where two curves meet (Bogdanov-Takens on a Hopf and a fold curve) or that a
    // curve passes twice is listed once: same kind, within 1e-9 relative in both parameters.
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
    let mut out: Vec<&super::codim2::Codim2> = vec![];
    for s in curves.iter().flat_map(|c| c.specials.iter()) {
        if !out
            .iter()
            .any(|o| o.kind == s.kind && same(o.l1, s.l1) && same(o.l2, s.l2))
        {
            out.push(s);
        }
    }
    out.into_iter()
        .map(|s| SpecialPoint::located(s.kind, s.l1, s.l2, s.v_mv))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_table_names_and_read_back() {
        let names: Vec<&str> = SpecialKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "fold",
                "branch_point",
                "hopf",
                "fold_cycle",
                "period_doubling",
                "torus",
                "user_point",
                "bautin",
                "bogdanov_takens",
                "cusp",
                "snic",
                "homoclinic"
            ]
        );
        for k in SpecialKind::ALL {
            assert_eq!(SpecialKind::from_name(k.name()), Some(k));
            assert_eq!(k.to_string(), k.name());
        }
        assert_eq!(SpecialKind::from_name("saddle"), None);
    }
}
