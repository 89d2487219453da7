//! The centre subspace near a Hopf point, checked on a trajectory.
//!
//! Where the leading eigenvalues are a complex pair near (or right of) the imaginary axis, the
//! real plane spanned by the real and imaginary parts of its eigenvector is the tangent of the
//! centre manifold (BrainPy's `brainmodels.HH` docs say trajectories collapse onto it). We test
//! that with numbers: write a trajectory's deviation from the equilibrium in the eigenvector
//! basis, and measure how fast the part outside the plane decays, against the slowest of the
//! other eigenvalues.

use crate::error::AnalysisError;
use crate::model::Equilibrium;
use crate::model::Model;
use crate::numerics::eigen::{C64, EigenPair};
use crate::simulate::{self, Method, Record, Settings};
use crate::stimulus::Stimulus;
use nalgebra::{DMatrix, DVector};

/// The deviation of a trajectory split into the centre plane and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct CentreProjection {
    /// The complex eigenvalue spanning the plane (1/ms).
    pub pair: C64,
    /// Slowest other mode's real part (1/ms): the predicted decay rate off the plane.
    pub predicted_rate_per_ms: f64,
    /// Sample times of the trajectory (ms).
    pub t_ms: Vec<f64>,
    /// Amplitude of the deviation inside the plane (in eigen-coordinates).
    pub centre_norm: Vec<f64>,
    /// Amplitude of the other eigen-coordinates.
    pub off_norm: Vec<f64>,
    /// Fitted exponential rate of `off_norm` (1/ms, least squares on its logarithm).
    pub fitted_rate_per_ms: f64,
}

/// Index of the leading complex pair (positive imaginary part), if any.
pub fn leading_pair(eig: &[EigenPair]) -> Option<usize> {
    eig.iter().position(|p| p.value.im > 1e-9)
}

/// Project the states `ys` (sampled at `t_ms`) around the equilibrium `y_star`.
pub fn project(
    eig: &[EigenPair],
    y_star: &[f64],
    t_ms: &[f64],
    ys: &[Vec<f64>],
) -> Result<CentreProjection, AnalysisError> {
    let n = y_star.len();
    let k = leading_pair(eig).ok_or_else(|| AnalysisError::Numerical {
        what: "centre subspace".into(),
        reason: "the equilibrium has no complex eigenvalues, so no rotation plane".into(),
    })?;
    let conj = eig
        .iter()
        .position(|p| (p.value - eig[k].value.conj()).norm() < 1e-9 * eig[k].value.norm())
        .ok_or_else(|| AnalysisError::Numerical {
            what: "centre subspace".into(),
            reason: "conjugate eigenvalue not found".into(),
        })?;
    let basis = DMatrix::<C64>::from_fn(n, n, |r, c| eig[c].vector[r]);
    let lu = basis.lu();
    let predicted = eig
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k && *j != conj)
        .map(|(_, p)| p.value.re)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut centre, mut off) = (Vec::with_capacity(ys.len()), Vec::with_capacity(ys.len()));
    for y in ys {
        let d = DVector::<C64>::from_fn(n, |r, _| C64::new(y[r] - y_star[r], 0.0));
        let c = lu.solve(&d).ok_or_else(|| AnalysisError::Numerical {
            what: "centre subspace".into(),
            reason: "eigenvectors are not independent".into(),
        })?;
        let mut on = 0.0;
        let mut rest = 0.0;
        for (j, x) in c.iter().enumerate() {
            if j == k || j == conj {
                on += x.norm_sqr();
            } else {
                rest += x.norm_sqr();
            }
        }
        centre.push(on.sqrt());
        off.push(rest.sqrt());
    }
    let fitted = log_slope(t_ms, &off);
    Ok(CentreProjection {
        pair: eig[k].value,
        predicted_rate_per_ms: predicted,
        t_ms: t_ms.to_vec(),
        centre_norm: centre,
        off_norm: off,
        fitted_rate_per_ms: fitted,
    })
}

/// Size of the voltage kick (mV): small enough that the quadratic terms (the curvature of the
/// centre manifold away from its tangent plane) stay below the decaying linear part over 40 ms.
pub const KICK_MV: f64 = 1e-4;

/// Simulate from the equilibrium with V raised by [`KICK_MV`] and project onto its eigenbasis
/// (samples every 0.1 ms from 5 ms, after the fastest mode has gone, to 40 ms).
pub fn kick_and_project(model: &Model, e: &Equilibrium) -> Result<CentreProjection, crate::Error> {
    let mut y0 = e.state.clone();
    y0[0] += KICK_MV;
    let s = Settings {
        t_max: 40.0,
        dt: 0.01,
        method: Method::Rk4,
        record: Record::Every(10),
        threshold_mv: f64::MAX,
    };
    let run = simulate::run(model, &Stimulus::constant(e.i_ext), &y0, &s)?;
    let (t, ys): (Vec<f64>, Vec<Vec<f64>>) = run
        .trace
        .t_ms
        .iter()
        .enumerate()
        .filter(|(_, t)| **t >= 5.0)
        .map(|(k, t)| (*t, run.trace.vars.iter().map(|c| c[k]).collect()))
        .unzip();
    Ok(project(&e.eigen, &e.state, &t, &ys)?)
}

/// Least-squares slope of ln(y) against t over samples with y > 0.
fn log_slope(t: &[f64], y: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = t
        .iter()
        .zip(y)
        .filter(|(_, y)| **y > 0.0)
        .map(|(t, y)| (*t, y.ln()))
        .collect();
    let n = pts.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let num: f64 = pts.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = pts.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    num / den
}
