//! The adjoint of a collocated periodic orbit: the infinitesimal phase response curve.
//!
//! On a stable cycle `x(t)` of period `T` the asymptotic phase `theta` (in time units, so
//! `d theta/dt = 1`) has a gradient `Z(t) = grad theta (x(t))` that solves the adjoint
//! equation `Z' = -J(x(t))^T Z`, is `T`-periodic, and satisfies `Z . f(x(t)) = 1`.
//!
//! The method is the discrete version of that statement on the collocation system the orbit
//! was solved with (the same discretisation MatCont transposes):
//! * with the period and parameter frozen, each mesh interval's condensed collocation
//!   equations are a linear map `x_{j+1} = F_j x_j` and its interior nodes are `W_k x_j`
//!   ([`Linearised::interval_maps`](super::collocation::Linearised::interval_maps));
//! * `Z^T dx` is invariant along the linearised flow, so `Z_j = F_j^T Z_{j+1}` at the mesh
//!   points and `Z_{j,k} = W_k^{-T} Z_j` at the interior nodes;
//! * periodicity makes `Z_0` the left null vector of `M - I`, `M = F_{N-1} … F_0` the
//!   monodromy matrix: the right singular vector of `M^T - I` for its smallest singular
//!   value (robust even when a second multiplier is close to 1, near a Hopf point);
//! * the scale is fixed by `Z . f = 1` at the first mesh point. Everywhere else `Z . f = 1`
//!   holds to the accuracy of the discretisation: [`Adjoint::normalisation_error`] is that
//!   check, reported with every PRC.
//!
//! The backward sweep `Z_j = F_j^T Z_{j+1}` is stable on a stable cycle (it is the adjoint
//! flow backward in time, which damps every direction but the phase gradient).

use super::collocation::{Border, Orbit, Scheme, linearise};
use super::system::Family;
use crate::error::AnalysisError;
use nalgebra::{DMatrix, DVector};

/// The phase gradient on the collocation nodes of an orbit.
#[derive(Debug, Clone)]
pub struct Adjoint {
    /// `Z` at every node, stored as an orbit on the same mesh (`Orbit::at` interpolates it):
    /// component `i` is the phase advance (time units) per unit of state variable `i`.
    pub z: Orbit,
    /// `max |Z . f(x) - 1|` over the nodes: how well the discrete adjoint keeps the
    /// normalisation (a measure of its accuracy; ~1e-6 or better on a well-resolved orbit).
    pub normalisation_error: f64,
    /// Smallest singular value of `M^T - I` relative to the largest (0 for an exact
    /// periodic orbit; its size is the discretisation's).
    pub null_residual: f64,
}

/// The phase gradient `Z` (normalised `Z . f = 1`) of the periodic orbit `orbit` of `fam`,
/// solved by collocation with `scheme`.
pub fn adjoint(fam: &Family, scheme: &Scheme, orbit: &Orbit) -> Result<Adjoint, AnalysisError> {
    let n = orbit.n;
    let m = orbit.m;
    let nint = orbit.intervals();
    let fail = |reason: &str| AnalysisError::Numerical {
        what: "adjoint of the periodic orbit".into(),
        reason: reason.into(),
    };
    let tangent = Orbit {
        z: vec![0.0; orbit.z.len()],
        period: 0.0,
        lambda: 1.0,
        ..orbit.clone()
    };
    let border = Border {
        phase_ref: orbit,
        pred: orbit,
        tangent: &tangent,
        period_weight: 1.0,
    };
    let lin = linearise(fam, scheme, orbit, &border);
    let maps = lin
        .interval_maps()
        .ok_or_else(|| fail("a singular interval transition"))?;
    let mut mono = DMatrix::<f64>::identity(n, n);
    for (f, _) in &maps {
        mono = f * mono;
    }
    let a = mono.transpose() - DMatrix::<f64>::identity(n, n);
    let svd = a.svd(false, true);
    let v_t = svd.v_t.ok_or_else(|| fail("the SVD failed"))?;
    let (imin, smin) = svd
        .singular_values
        .iter()
        .enumerate()
        .min_by(|x, y| x.1.total_cmp(y.1))
        .ok_or_else(|| fail("an empty state"))?;
    let smax = svd.singular_values.max();
    let z0 = DVector::from_iterator(n, v_t.row(imin).iter().copied());
    // Mesh values backward: Z_N = Z_0, Z_j = F_j^T Z_{j+1}.
    let mut zm = vec![DVector::zeros(n); nint + 1];
    zm[nint] = z0;
    for j in (0..nint).rev() {
        zm[j] = maps[j].0.transpose() * &zm[j + 1];
    }
    // Interior nodes: W_k^T Z_{j,k} = Z_j.
    let mut z = vec![0.0; nint * m * n];
    for j in 0..nint {
        z[j * m * n..j * m * n + n].copy_from_slice(zm[j].as_slice());
        let w = &maps[j].1;
        for k in 1..m {
            let wk = w.view(((k - 1) * n, 0), (n, n)).transpose();
            let y = wk
                .lu()
                .solve(&zm[j])
                .ok_or_else(|| fail("a singular interior map"))?;
            let off = (j * m + k) * n;
            z[off..off + n].copy_from_slice(y.as_slice());
        }
    }
    // Normalise Z . f = 1 at the first node; measure it everywhere.
    let dot_f = |p: usize, zz: &[f64]| -> f64 {
        let f = fam.f(orbit.node(p), orbit.lambda);
        (0..n).map(|i| zz[p * n + i] * f[i]).sum()
    };
    let c = dot_f(0, &z);
    if !(c.is_finite() && c != 0.0) {
        return Err(fail("the phase gradient is orthogonal to the flow"));
    }
    z.iter_mut().for_each(|x| *x /= c);
    let normalisation_error = (0..nint * m)
        .map(|p| (dot_f(p, &z) - 1.0).abs())
        .fold(0.0, f64::max);
    if !z.iter().all(|x| x.is_finite()) {
        return Err(fail("a non-finite phase gradient"));
    }
    Ok(Adjoint {
        z: Orbit { z, ..orbit.clone() },
        normalisation_error,
        null_residual: smin / smax.max(f64::MIN_POSITIVE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::continuation::CURRENT;
    use crate::continuation::orbit_from_simulation::{OrbitSettings, orbit_from_simulation};
    use crate::model::builtin;

    #[test]
    fn hh_phase_gradient_keeps_its_normalisation_along_the_orbit() {
        let m = builtin::hh();
        let fam = Family::new(&m, CURRENT, 0.0).unwrap();
        let rest = crate::model::Model::Conductance(m.clone())
            .rest(0.0)
            .unwrap()
            .state;
        let o = orbit_from_simulation(&fam, 10.0, &rest, &OrbitSettings::default()).unwrap();
        let a = adjoint(&fam, &o.scheme, &o.orbit).unwrap();
        // Z . f = 1 at every node to 1e-5 (it is imposed at one node only).
        assert!(a.normalisation_error < 1e-5, "{}", a.normalisation_error);
        assert!(a.null_residual < 1e-6, "{}", a.null_residual);
    }
}
