//! Switching onto the branch of equilibria that crosses at a branch point
//! ([`super::branch_point`]): a first point a short step along the crossing direction,
//! corrected onto the branch, then the whole branch through it, both ways.

use super::Settings;
use super::branch_point::BranchPoint;
use super::equilibria::{EqBranch, continue_along, first_step, join_halves, on_hyperplane};
use super::system::Family;
use crate::error::AnalysisError;
use crate::numerics::newton::newton;
use nalgebra::DVector;

/// The first point of the branch crossing at `bp`, and the direction it leaves along: the
/// branch point moved along its crossing direction (then against it) by half the largest step,
/// down to 1/32 of that if the corrector fails, corrected on the hyperplane normal to the
/// direction. A point whose step from the branch point lies closer to the incoming branch's
/// tangent than to the crossing direction fell back onto the incoming branch, and is refused.
pub fn leave_branch_point(
    fam: &Family,
    bp: &BranchPoint,
    range: (f64, f64),
    settings: &Settings,
) -> Result<(Vec<f64>, f64, DVector<f64>), AnalysisError> {
    let n = fam.dim();
    let what = || {
        format!(
            "the branch crossing at the branch point {} = {:.6}",
            fam.knob_name(),
            bp.lambda
        )
    };
    let d = DVector::from_vec(bp.crossing.clone().ok_or_else(|| AnalysisError::Numerical {
        what: what(),
        reason: "the branching equation gives no single crossing direction (a degenerate branch point)".into(),
    })?);
    let incoming = DVector::from_vec(bp.incoming.clone());
    let u0 = DVector::from_iterator(n + 1, bp.state.iter().copied().chain([bp.lambda]));
    for dir in [d.clone(), -&d] {
        let mut h = 5.0 * first_step(settings, range);
        for _ in 0..5 {
            let pred = &u0 + &dir * h;
            let system = |x: &DVector<f64>| on_hyperplane(fam, &pred, &dir, x);
            if let Ok((u1, _)) = newton(system, pred.clone(), settings.tol, 12) {
                let step = (&u1 - &u0).normalize();
                let along = step.dot(&dir).abs();
                let back = if incoming.len() == n + 1 {
                    step.dot(&incoming).abs()
                } else {
                    0.0
                };
                if along.is_finite() && along > back {
                    return Ok((u1.as_slice()[..n].to_vec(), u1[n], dir));
                }
            }
            h *= 0.5;
        }
    }
    Err(AnalysisError::Numerical {
        what: what(),
        reason: "no point of the crossing branch was found next to it".into(),
    })
}

/// The whole branch through `(y, lambda)`, whose tangent there is close to `d`: continued
/// along `d` and against it (back through the branch point it left, and on), joined.
pub fn switch_at(
    fam: &Family,
    (y, lambda, d): (&[f64], f64, &DVector<f64>),
    range: (f64, f64),
    settings: &Settings,
) -> Result<EqBranch, AnalysisError> {
    let up = continue_along(fam, y, lambda, range, d, settings)?;
    let down = continue_along(fam, y, lambda, range, &(-d), settings)?;
    Ok(join_halves(down, up))
}
