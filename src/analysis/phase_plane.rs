//! Phase plane of the usual two-dimensional reduction of HH-type models (Rinzel 1985):
//! m at its steady state (fast), h tied to n by `h = 0.89 - 1.1 n`, every other gate at steady
//! state; what is left is a system in (V, n) whose nullclines are drawn under the V-n projection
//! of a full 4-D trajectory.

use crate::error::AnalysisError;
use crate::model::ConductanceModel;

/// Nullclines of the reduced (V, n) system.
#[derive(Debug, Clone, PartialEq)]
pub struct Nullclines {
    /// Points (V mV, n) where dV/dt = 0 in the reduced system (every root in n ∈ [0, 1]).
    pub v_nullcline: Vec<(f64, f64)>,
    /// Points (V mV, n_inf(V)).
    pub n_nullcline: Vec<(f64, f64)>,
}

/// h as a function of n in the reduction.
pub fn h_of_n(n: f64) -> f64 {
    (0.89 - 1.1 * n).clamp(0.0, 1.0)
}

/// Nullclines over `v_from..=v_to` mV at current `i_ext`; needs gates named `m`, `h`, `n`.
pub fn nullclines(
    model: &ConductanceModel,
    i_ext: f64,
    v_from: f64,
    v_to: f64,
    points: usize,
) -> Result<Nullclines, AnalysisError> {
    let idx = |name: &str| {
        model.gates.iter().position(|g| g.name == name).ok_or_else(|| AnalysisError::Numerical {
            what: "phase plane".into(),
            reason: format!("the (V, n) reduction needs gates named m, h and n; model '{}' has no gate '{name}'", model.name),
        })
    };
    idx("m")?;
    let (ih, i_n) = (idx("h")?, idx("n")?);
    let p = model.params.values();
    let balance = |v: f64, n: f64| {
        let mut y = model.state_at_v(v);
        y[1 + ih] = h_of_n(n);
        y[1 + i_n] = n;
        i_ext - model.ionic_current(&p, &y)
    };
    let mut v_nc = Vec::new();
    let mut n_nc = Vec::new();
    let np = points.max(2);
    const N_GRID: usize = 400;
    for k in 0..np {
        let v = v_from + (v_to - v_from) * k as f64 / (np - 1) as f64;
        n_nc.push((v, model.gates[i_n].inf_tau(v).0));
        let mut n0 = 0.0;
        let mut f0 = balance(v, n0);
        for j in 1..=N_GRID {
            let n1 = j as f64 / N_GRID as f64;
            let f1 = balance(v, n1);
            if f0 * f1 <= 0.0 && f0 != f1 {
                let (mut a, mut b, mut fa) = (n0, n1, f0);
                for _ in 0..60 {
                    let c = 0.5 * (a + b);
                    let fc = balance(v, c);
                    if fa * fc <= 0.0 {
                        b = c;
                    } else {
                        a = c;
                        fa = fc;
                    }
                }
                v_nc.push((v, 0.5 * (a + b)));
            }
            n0 = n1;
            f0 = f1;
        }
    }
    Ok(Nullclines {
        v_nullcline: v_nc,
        n_nullcline: n_nc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    #[test]
    fn nullclines_cross_near_the_reduced_rest_state() {
        let m = builtin::hh();
        let nc = nullclines(&m, 0.0, -80.0, 40.0, 1201).unwrap();
        // At the full model's rest (-65.0 mV) the reduced V-nullcline passes close to n_inf.
        let near: Vec<_> = nc
            .v_nullcline
            .iter()
            .filter(|(v, _)| (v + 65.0).abs() < 0.05)
            .collect();
        let n_inf = m.gates[2].inf_tau(-65.0).0;
        assert!(
            near.iter().any(|(_, n)| (n - n_inf).abs() < 0.02),
            "{near:?} vs {n_inf}"
        );
        assert!(nullclines(&builtin::hh(), 0.0, -80.0, 40.0, 10).is_ok());
    }
}
