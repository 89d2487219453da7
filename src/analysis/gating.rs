//! Gating curves: steady state x_inf(V) and time constant tau_x(V) of every gate.

use crate::model::ConductanceModel;

/// One gate's curves over a voltage grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GatingCurve {
    /// The gate's name (`m`, `h`, `n`, ...).
    pub gate: String,
    /// The voltage grid (mV), shared by every gate.
    pub v_mv: Vec<f64>,
    /// Steady state x_inf(V) at each grid voltage (dimensionless, in [0, 1]).
    pub inf: Vec<f64>,
    /// Time constant (ms), divided by the temperature factor `phi`.
    pub tau_ms: Vec<f64>,
}

/// x_inf and tau of every gate at `points` voltages from `v_from` to `v_to` (mV), inclusive.
/// Exact through the linoid singularities (the grid may land on them: -80:80 in 0.01 steps
/// hits V = 10 and 25 mV of the 1952 convention).
pub fn gating_curves(
    model: &ConductanceModel,
    v_from: f64,
    v_to: f64,
    points: usize,
) -> Vec<GatingCurve> {
    let phi = model.params.value(model.phi);
    let n = points.max(2);
    let v: Vec<f64> = (0..n)
        .map(|k| v_from + (v_to - v_from) * k as f64 / (n - 1) as f64)
        .collect();
    model
        .gates
        .iter()
        .map(|g| {
            let (inf, tau): (Vec<f64>, Vec<f64>) = v
                .iter()
                .map(|&x| {
                    let (i, t) = g.inf_tau(x);
                    (i, t / phi)
                })
                .unzip();
            GatingCurve {
                gate: g.name.clone(),
                v_mv: v.clone(),
                inf,
                tau_ms: tau,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builtin;

    #[test]
    fn curves_are_finite_through_the_1952_singularities() {
        // 0.01 mV grid from -80 to 80 (16001 points) hits V = 10 and V = 25 exactly.
        let c = gating_curves(&builtin::hh_1952(), -80.0, 80.0, 16001);
        assert!(
            c.iter()
                .all(|g| g.inf.iter().chain(&g.tau_ms).all(|x| x.is_finite()))
        );
        // n at V = 10 (1952 units): alpha_n = 0.1, beta_n = 0.125 exp(-1/8).
        let k = 9000;
        assert!((c[2].v_mv[k] - 10.0).abs() < 1e-12);
        let (a, b) = (0.1, 0.125 * (-10.0f64 / 80.0).exp());
        assert!((c[2].inf[k] - a / (a + b)).abs() < 1e-15);
        assert!((c[2].tau_ms[k] - 1.0 / (a + b)).abs() < 1e-13);
    }
}
