//! The Hodgkin-Huxley form compiled into the batch kernel: what code generation from the model's
//! table (NEURON's `nrnivmodl`, Brian2's generated loops) would emit for the classic shape,
//! written once and specialised by the compiler. [`Flat`] reads any conductance model from a
//! table at every step: the rates through an enum, the gates and bases in heap rows of
//! dynamic length, the currents' gate powers as loops, so its rates' constants are reloaded
//! and its rows pass through memory between the phases of a step. [`HhForm`] takes the same
//! constants from the same table but fixes the shape at compile time: three gates in fixed
//! rows, each rate's form known, the currents `g m^3 h`, `g n^4` and a leak unrolled.
//!
//! A model takes this form when its table has exactly that shape (`hh` and `hh-1952`, and a
//! user's TOML model written the same way): [`HhForm::of`]. Every other model, and every
//! model whose rates are not all powers of one exponential ([`PowerFamily`]), keeps the
//! table's kernel. Both perform the same floating-point operations in the same order, so
//! their results are identical, not just close (`tests`).

use super::{Equations, Flat, L, LANES, LaneRate, bases_at, exp_rate, linoid_rate, sigmoid_rate};

/// `a (V - v0) / k / (1 - scale x)` on the base `x` of row `base` ([`LaneRate::Linoid`]).
#[derive(Debug, Clone, Copy)]
struct Linoid {
    a: f64,
    v0: f64,
    ik: f64,
    scale: f64,
    base: usize,
}

/// `f x` on the base `x` of row `base` ([`LaneRate::Exp`], `f = a scale`).
#[derive(Debug, Clone, Copy)]
struct Exp {
    f: f64,
    base: usize,
}

/// `a / (1 + scale x)` on the base `x` of row `base` ([`LaneRate::Sigmoid`]).
#[derive(Debug, Clone, Copy)]
struct Sigmoid {
    a: f64,
    scale: f64,
    base: usize,
}

/// The shared exponentials of the form: four slopes (`hh`: 1/10, 1/18, 1/20 and 1/80 per mV).
const BASES: usize = 4;

/// The classic Hodgkin-Huxley shape: gates m, h, n with the rates (linoid, exponential),
/// (exponential, sigmoid), (linoid, exponential), and the currents `g_na m^3 h`, `g_k n^4` and
/// a leak, in that order, with the model's constants and per-lane parameters.
pub(super) struct HhForm<'a> {
    /// The table it was read from: its bases, family and per-lane parameters.
    flat: &'a Flat,
    m: (Linoid, Exp),
    h: (Exp, Sigmoid),
    n: (Linoid, Exp),
}

impl<'a> HhForm<'a> {
    /// The form of `flat`, if its table has the shape exactly and its bases are all powers of
    /// one exponential.
    pub(super) fn of(flat: &'a Flat) -> Option<HhForm<'a>> {
        let linoid = |r: &LaneRate| match *r {
            LaneRate::Linoid {
                a,
                v0,
                ik,
                scale,
                base,
            } => Some(Linoid {
                a,
                v0,
                ik,
                scale,
                base,
            }),
            _ => None,
        };
        let exp = |r: &LaneRate| match *r {
            LaneRate::Exp { a, scale, base } => Some(Exp { f: a * scale, base }),
            _ => None,
        };
        let sigmoid = |r: &LaneRate| match *r {
            LaneRate::Sigmoid { a, scale, base } => Some(Sigmoid { a, scale, base }),
            _ => None,
        };
        let family = flat.powers.as_ref()?;
        let shaped = flat.bases.len() == BASES
            && flat.direct.is_empty()
            && family.members.len() == BASES
            && flat.gates.len() == 3
            && flat.gates.iter().all(|g| !g.inf_tau)
            && flat.currents.len() == 3
            && flat.currents.iter().all(|c| c.3.is_none())
            && flat.currents[0].2 == [(0, 3), (1, 1)]
            && flat.currents[1].2 == [(2, 4)]
            && flat.currents[2].2.is_empty();
        if !shaped {
            return None;
        }
        let g = &flat.gates;
        Some(HhForm {
            flat,
            m: (linoid(&g[0].first)?, exp(&g[0].second)?),
            h: (exp(&g[1].first)?, sigmoid(&g[1].second)?),
            n: (linoid(&g[2].first)?, exp(&g[2].second)?),
        })
    }
}

/// The rates of a gate whose rates are a linoid and an exponential (m and n).
#[inline(always)]
fn linoid_exp(rates: &(Linoid, Exp), v: &L, xb: &[L; BASES], ra: &mut L, rb: &mut L) {
    let (a, b) = rates;
    linoid_rate(a.a, a.v0, a.ik, a.scale, v, &xb[a.base], ra);
    exp_rate(b.f, &xb[b.base], rb);
}

impl Equations for HhForm<'_> {
    type Gates = [L; 3];
    type Bases = [L; BASES];

    fn rows(&self) -> ([L; 3], [L; BASES]) {
        ([[0.0; LANES]; 3], [[0.0; LANES]; BASES])
    }

    fn has_factor(&self) -> bool {
        false
    }

    fn inv_c(&self) -> &L {
        &self.flat.inv_c
    }

    fn phi(&self) -> &L {
        &self.flat.phi
    }

    #[inline(always)]
    fn bases_at<const F32: bool>(&self, v: &L, xb: &mut [L; BASES]) {
        bases_at::<F32>(self.flat, v, xb);
    }

    #[inline(always)]
    fn gate_rates<const F32: bool>(
        &self,
        v: &L,
        xb: &mut [L; BASES],
        ra: &mut [L; 3],
        rb: &mut [L; 3],
    ) {
        self.bases_at::<F32>(v, xb);
        linoid_exp(&self.m, v, xb, &mut ra[0], &mut rb[0]);
        let (a, b) = self.h;
        exp_rate(a.f, &xb[a.base], &mut ra[1]);
        sigmoid_rate(b.a, b.scale, &xb[b.base], &mut rb[1]);
        linoid_exp(&self.n, v, xb, &mut ra[2], &mut rb[2]);
    }

    #[inline(always)]
    fn conductances<const UNIFORM: bool>(
        &self,
        v: &L,
        _v_factor: &L,
        x: &[L; 3],
        _xb: &[L; BASES],
        g_tot: &mut L,
        i_ion: &mut L,
    ) {
        // The table's kernel's operations in its order: each conductance from its maximum by
        // one product per gate power, then the sums from 0 (`super::conductances`).
        let lanes = |x: &L| if UNIFORM { [x[0]; LANES] } else { *x };
        let c = &self.flat.currents;
        let (gna, ena) = (lanes(&c[0].0), lanes(&c[0].1));
        let (gk, ek) = (lanes(&c[1].0), lanes(&c[1].1));
        let (gl, el) = (lanes(&c[2].0), lanes(&c[2].1));
        let [m, h, n] = x;
        for l in 0..LANES {
            let na = gna[l] * m[l] * m[l] * m[l] * h[l];
            let k = gk[l] * n[l] * n[l] * n[l] * n[l];
            g_tot[l] = 0.0 + na + k + gl[l];
            i_ion[l] = 0.0 + na * (v[l] - ena[l]) + k * (v[l] - ek[l]) + gl[l] * (v[l] - el[l]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BatchScheme, BatchSettings, Precision, run_block_of};
    use super::*;
    use crate::model::{ConductanceModel, Model, RateFn, builtin};

    /// A built-in model or a model file under `studies/models/`.
    fn model(name: &str) -> Model {
        Model::builtin(name).unwrap_or_else(|_| {
            let path = format!("{}/studies/models/{name}", env!("CARGO_MANIFEST_DIR"));
            Model::from_file(std::path::Path::new(&path)).unwrap()
        })
    }

    fn conductance(name: &str) -> ConductanceModel {
        model(name).smooth().unwrap().clone()
    }

    /// `hh` and `hh-1952` take the form; a model of another shape, or with one rate of
    /// another form, keeps the table's kernel.
    #[test]
    fn the_form_is_taken_by_its_shape_only() {
        let flat_of = |m: &ConductanceModel| {
            let p = m.params.values();
            Flat::new(m, &[p.as_slice(); LANES])
        };
        for name in ["hh", "hh-1952", "hh.toml"] {
            assert!(HhForm::of(&flat_of(&conductance(name))).is_some(), "{name}");
        }
        for name in ["hh-ca", "zoo/connor_stevens.toml", "zoo/wang_buzsaki.toml"] {
            assert!(HhForm::of(&flat_of(&conductance(name))).is_none(), "{name}");
        }
        let mut m = builtin::hh();
        if let crate::model::Kinetics::AlphaBeta { beta, .. } = &mut m.gates[0].kinetics {
            *beta = RateFn::Sigmoid {
                a: 4.0,
                v0: -65.0,
                k: 18.0,
            };
        }
        assert!(HhForm::of(&flat_of(&m)).is_none(), "m's beta a sigmoid");
        let mut m = builtin::hh();
        m.currents[1].gates = vec![(2, 3)];
        assert!(HhForm::of(&flat_of(&m)).is_none(), "n cubed");
    }

    /// The form and the table's kernel give identical results, bit for bit: spike counts and
    /// times, extrema, maxima and final V of 16 neurons from 5 to 95 uA/cm^2 over 200 ms
    /// (a transient of 50 ms), for every scheme and precision, with the parameters shared by
    /// every lane and with g_K and C_m of each lane its own, on `hh` and `hh-1952`.
    #[test]
    fn the_form_equals_the_table_kernel() {
        let schemes = [
            BatchScheme::ExpEuler,
            BatchScheme::ExpMidpoint,
            BatchScheme::ExpStaggered,
        ];
        let mut compared = 0;
        for name in ["hh", "hh-1952"] {
            let m = conductance(name);
            let rest = model(name).resting_state().unwrap();
            let current: L = std::array::from_fn(|l| 5.0 + 6.0 * l as f64);
            let shared = m.params.values();
            let (gk, cm) = (
                m.params.index("g_k").unwrap(),
                m.params.index("c_m").unwrap(),
            );
            let own: Vec<Vec<f64>> = (0..LANES)
                .map(|l| {
                    let mut p = shared.clone();
                    p[gk] = 20.0 + 2.0 * l as f64;
                    p[cm] = 0.8 + 0.05 * l as f64;
                    p
                })
                .collect();
            for lanes_params in [vec![shared.clone()], own] {
                let p: [&[f64]; LANES] =
                    std::array::from_fn(|l| lanes_params[l.min(lanes_params.len() - 1)].as_slice());
                let y0: [&[f64]; LANES] = [rest.as_slice(); LANES];
                let flat = Flat::new(&m, &p);
                let form = HhForm::of(&flat).expect("the form");
                for scheme in schemes {
                    for precision in [Precision::F64, Precision::Mixed] {
                        let s = BatchSettings {
                            t_max: 200.0,
                            dt: 0.02,
                            transient: 50.0,
                            threshold_mv: m.threshold_mv,
                            scheme,
                            precision,
                            ode_method: crate::simulate::Method::Rk4,
                        };
                        let steps = 10_000;
                        let a = run_block_of(&flat, &p, &s, &current, &y0, steps);
                        let b = run_block_of(&form, &p, &s, &current, &y0, steps);
                        // Debug prints each real in its shortest exact form, NaN included.
                        assert_eq!(
                            format!("{a:?}"),
                            format!("{b:?}"),
                            "{name} {scheme:?} {precision:?}"
                        );
                        let spiking = a.iter().filter(|o| o.n_spikes > 3).count();
                        assert!(
                            spiking >= 8,
                            "{name} {scheme:?} {precision:?}: {spiking} spiking"
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, 24);
    }
}
