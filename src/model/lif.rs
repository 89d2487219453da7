//! Leaky integrate-and-fire: a hybrid model (flow, threshold, reset, refractory period).
//!
//! Between spikes `tau_m dV/dt = v_rest - V + r_m I`. When V reaches `v_th` a spike is emitted, V
//! is set to `v_reset` and held there for `t_ref` ms. Defaults follow the article `003_…` builds
//! on: tau_m = r_m c_m = 1 kOhm cm^2 x 10 uF/cm^2 = 10 ms, v_th = 1 mV, reset 0 mV, t_ref = 4 ms.
//! Because of the reset LIF has no Jacobian: the rest-state and continuation analyses refuse it,
//! and its f-I curve has the closed form [`LifValues::rate_hz`].

use super::params::{Param, ParamSet};

/// Leaky integrate-and-fire model.
#[derive(Debug, Clone, PartialEq)]
pub struct Lif {
    /// `tau_m` (ms), `r_m` (kOhm cm^2), `v_rest`, `v_th`, `v_reset` (mV) and `t_ref` (ms),
    /// overridable by name like any model's; [`Lif::values`] reads them for a run.
    pub params: ParamSet,
}

/// Parameter values of a [`Lif`], read once per run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifValues {
    /// Membrane time constant (ms).
    pub tau_m: f64,
    /// Membrane resistance (kOhm cm^2): r_m x I (uA/cm^2) is in mV.
    pub r_m: f64,
    /// Resting (leak reversal) potential (mV), where V relaxes without current.
    pub v_rest: f64,
    /// Spike threshold (mV): reaching it emits a spike and resets V.
    pub v_th: f64,
    /// Potential V is set to after a spike (mV), held for `t_ref`.
    pub v_reset: f64,
    /// Refractory period (ms).
    pub t_ref: f64,
}

impl Default for Lif {
    fn default() -> Self {
        Lif {
            params: ParamSet::new(vec![
                Param::new(
                    "tau_m",
                    10.0,
                    "ms",
                    "membrane time constant r_m c_m",
                    0.0,
                    1e5,
                )
                .positive(),
                Param::new(
                    "r_m",
                    1.0,
                    "kOhm cm^2",
                    "membrane resistance (r_m * I is in mV)",
                    0.0,
                    1e6,
                )
                .positive(),
                Param::new(
                    "v_rest",
                    0.0,
                    "mV",
                    "resting (leak reversal) potential",
                    -500.0,
                    500.0,
                ),
                Param::new("v_th", 1.0, "mV", "spike threshold", -500.0, 500.0),
                Param::new(
                    "v_reset",
                    0.0,
                    "mV",
                    "potential after a spike",
                    -500.0,
                    500.0,
                ),
                Param::new("t_ref", 4.0, "ms", "absolute refractory period", 0.0, 1e4),
            ]),
        }
    }
}

impl Lif {
    /// The current parameter values.
    pub fn values(&self) -> LifValues {
        let g = |n: &str| {
            self.params
                .get(n)
                .unwrap_or_else(|| unreachable!("LIF parameter {n} is built in"))
        };
        LifValues {
            tau_m: g("tau_m"),
            r_m: g("r_m"),
            v_rest: g("v_rest"),
            v_th: g("v_th"),
            v_reset: g("v_reset"),
            t_ref: g("t_ref"),
        }
    }
}

impl LifValues {
    /// The parameters' relation every run needs, checked where the values meet (each alone is
    /// checked against its range when set): the reset lies below the threshold. A reset at or
    /// above it fires again as the refractory period ends, for ever, and with `t_ref = 0`
    /// without end; it had been accepted and reported as one spike and then silence. `Err`
    /// names the field and the allowed range.
    pub fn check(&self) -> Result<(), crate::error::BrokenRelation> {
        if self.v_reset < self.v_th {
            Ok(())
        } else {
            Err(crate::error::BrokenRelation {
                name: "v_reset",
                value: self.v_reset,
                allowed: format!("below v_th = {} mV", crate::model::Number(self.v_th)),
            })
        }
    }

    /// dV/dt (mV/ms) between spikes.
    #[inline]
    pub fn dvdt(&self, v: f64, i_ext: f64) -> f64 {
        (self.v_rest - v + self.r_m * i_ext) / self.tau_m
    }

    /// The potential V relaxes to under a constant current (mV).
    #[inline]
    pub fn v_inf(&self, i_ext: f64) -> f64 {
        self.v_rest + self.r_m * i_ext
    }

    /// Rheobase (uA/cm^2): the smallest constant current that reaches threshold.
    pub fn rheobase(&self) -> f64 {
        (self.v_th - self.v_rest) / self.r_m
    }

    /// Closed-form firing rate (Hz) under a constant current:
    /// `1 / (t_ref + tau_m ln((V_inf - v_reset) / (V_inf - v_th)))`, 0 at or below rheobase.
    pub fn rate_hz(&self, i_ext: f64) -> f64 {
        let v_inf = self.v_inf(i_ext);
        if v_inf <= self.v_th {
            return 0.0;
        }
        let isi_ms = self.t_ref + self.tau_m * ((v_inf - self.v_reset) / (v_inf - self.v_th)).ln();
        1000.0 / isi_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_rate_of_the_document_parameters() {
        // 003: I=1.5, R=1, tau=10, Vth=1, t_ref=4: ISI = 4 + 10 ln(1.5/0.5) = 14.986 ms.
        let v = Lif::default().values();
        let isi = 4.0 + 10.0 * 3f64.ln();
        assert!((v.rate_hz(1.5) - 1000.0 / isi).abs() < 1e-12);
        assert_eq!(v.rate_hz(1.0), 0.0);
        assert_eq!(v.rheobase(), 1.0);
    }
}
