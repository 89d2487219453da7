//! The Hodgkin-Huxley shape compiled into the batch kernel: what code generation from the model's
//! table (NEURON's `nrnivmodl`, Brian2's generated loops) would emit for the classic shape,
//! written once and specialised by the compiler. [`Flat`] reads any conductance model from a
//! table at every step: the rates through an enum, the gates and bases in heap rows of
//! dynamic length, the currents' gate powers as loops, so its rates' constants are reloaded
//! and its rows pass through memory between the phases of a step. [`HhShape`] takes the same
//! constants from the same table but fixes the shape at compile time: three gates in fixed
//! rows, each rate's form known, the currents `g m^3 h`, `g n^4` and a leak unrolled.
//!
//! A model takes this path when its table has exactly that shape (`hh` and `hh-1952`, and a
//! user's TOML model written the same way): [`HhShape::of`]. Every other model keeps the
//! table's kernel. Both perform the same floating-point operations in the same order, so
//! their results are identical, not just close (`tests`). The rates go through the table
//! kernel's own functions, the shared exponentials through its `bases_at` (powers of one
//! exponential where the slopes allow, [`crate::numerics::power_family`]) and the currents
//! through its `times_power` and `add_current`, the shape's powers given as constants: no
//! equation is written out a second time here.

use super::{
    Equations, Flat, L, LANES, LaneRate, add_current, bases_at, exp_rate, linoid_rate, per_lane,
    sigmoid_rate, times_power,
};

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

/// The shared exponentials of the shape: four slopes (`hh`: 1/10, 1/18, 1/20 and 1/80 per mV).
const BASES: usize = 4;

/// The classic Hodgkin-Huxley shape: gates m, h, n with the rates (linoid, exponential),
/// (exponential, sigmoid), (linoid, exponential), and the currents `g_na m^3 h`, `g_k n^4` and
/// a leak, in that order, with the model's constants and per-lane parameters.
pub(super) struct HhShape<'a> {
    /// The table it was read from: its bases, family and per-lane parameters.
    flat: &'a Flat,
    m: (Linoid, Exp),
    h: (Exp, Sigmoid),
    n: (Linoid, Exp),
}

impl<'a> HhShape<'a> {
    /// The shape of `flat`, if its table has it exactly (its four shared exponentials taken as
    /// the table takes them).
    pub(super) fn of(flat: &'a Flat) -> Option<HhShape<'a>> {
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
        let shaped = flat.bases.len() == BASES
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
        Some(HhShape {
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

impl Equations for HhShape<'_> {
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
        // The table's kernel's steps with the shape's powers as constants, through the same
        // functions: each conductance from its maximum, then the sums from 0.
        let lanes = per_lane::<UNIFORM>;
        let c = &self.flat.currents;
        let (mut na, ena) = (lanes(&c[0].0), lanes(&c[0].1));
        let (mut k, ek) = (lanes(&c[1].0), lanes(&c[1].1));
        let (leak, el) = (lanes(&c[2].0), lanes(&c[2].1));
        let [m, h, n] = x;
        times_power(&mut na, m, 3);
        times_power(&mut na, h, 1);
        times_power(&mut k, n, 4);
        *g_tot = [0.0; LANES];
        *i_ion = [0.0; LANES];
        add_current(&na, &ena, v, g_tot, i_ion);
        add_current(&k, &ek, v, g_tot, i_ion);
        add_current(&leak, &el, v, g_tot, i_ion);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BatchScheme, BatchSettings, Precision, run_block_of};
    use super::*;
    use crate::model::{ConductanceModel, Kinetics, Model, RateFn, builtin};

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

    /// `hh`, `hh-1952` and the same model from a file take the shape; a model of another
    /// shape, or `hh` altered in one place (a rate's form, a power, the gates' order in a
    /// current, a factor, a gate as (inf, tau), a fifth shared exponential), keeps the table's
    /// kernel.
    #[test]
    fn the_shape_is_taken_by_models_of_that_shape_only() {
        let flat_of = |m: &ConductanceModel| {
            let p = m.params.values();
            Flat::new(m, &[p.as_slice(); LANES])
        };
        for name in ["hh", "hh-1952", "hh.toml"] {
            assert!(
                HhShape::of(&flat_of(&conductance(name))).is_some(),
                "{name}"
            );
        }
        for name in ["hh-ca", "zoo/connor_stevens.toml", "zoo/wang_buzsaki.toml"] {
            assert!(
                HhShape::of(&flat_of(&conductance(name))).is_none(),
                "{name}"
            );
        }
        let altered = |why: &str, change: &dyn Fn(&mut ConductanceModel)| {
            let mut m = builtin::hh();
            change(&mut m);
            assert!(HhShape::of(&flat_of(&m)).is_none(), "{why}");
        };
        let rates = |m: &mut ConductanceModel, g: usize| match &mut m.gates[g].kinetics {
            Kinetics::AlphaBeta { alpha, beta } => (alpha.clone(), beta.clone()),
            Kinetics::InfTau { .. } => unreachable!("hh's gates are alpha/beta"),
        };
        altered("m's beta a sigmoid", &|m| {
            if let Kinetics::AlphaBeta { beta, .. } = &mut m.gates[0].kinetics {
                *beta = RateFn::Sigmoid {
                    a: 4.0,
                    v0: -65.0,
                    k: 18.0,
                };
            }
        });
        altered("n cubed", &|m| m.currents[1].gates = vec![(2, 3)]);
        altered("h before m in the sodium current", &|m| {
            m.currents[0].gates = vec![(1, 1), (0, 3)]
        });
        altered("a factor on the leak", &|m| {
            m.currents[2].factor = Some(RateFn::Constant { a: 1.0 })
        });
        altered("h as (inf, tau)", &|m| {
            let (inf, tau) = rates(m, 1);
            m.gates[1].kinetics = Kinetics::InfTau { inf, tau };
        });
        altered("a fifth shared exponential (a steeper beta_h)", &|m| {
            if let Kinetics::AlphaBeta { beta, .. } = &mut m.gates[1].kinetics {
                *beta = RateFn::Sigmoid {
                    a: 1.0,
                    v0: -35.0,
                    k: 4.0,
                };
            }
        });
        // Four shared exponentials, one of them not a power of the others, take the shape.
        assert!(HhShape::of(&flat_of(&steep_alpha_h())).is_some());
    }

    /// `hh` with alpha_h steep enough (k = 4.9 mV) to take an exponential of its own instead
    /// of a power of the family's: the shape with a direct base.
    fn steep_alpha_h() -> ConductanceModel {
        let mut m = builtin::hh();
        if let Kinetics::AlphaBeta { alpha, .. } = &mut m.gates[1].kinetics {
            *alpha = RateFn::Exp {
                a: 0.07,
                v0: -65.0,
                k: -4.9,
            };
        }
        m
    }

    /// The shape and the table's kernel give identical results, bit for bit: spike counts and
    /// times, extrema, maxima and final V of 16 neurons from 5 to 95 uA/cm^2 over 200 ms
    /// (a transient of 50 ms), for every scheme and precision, with the parameters shared by
    /// every lane and with g_K and C_m of each lane its own, on `hh`, `hh-1952` and `hh` with a
    /// steep alpha_h (one of its shared exponentials not a power of the others).
    #[test]
    fn the_shape_equals_the_table_kernel() {
        let schemes = [
            BatchScheme::ExpEuler,
            BatchScheme::ExpMidpoint,
            BatchScheme::ExpStaggered,
        ];
        let mut compared = 0;
        let models = [
            ("hh", model("hh")),
            ("hh-1952", model("hh-1952")),
            ("steep alpha_h", Model::Conductance(steep_alpha_h())),
        ];
        for (name, whole) in models {
            let m = whole.smooth().unwrap().clone();
            let rest = whole.resting_state().unwrap();
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
                let shape = HhShape::of(&flat).expect("the shape");
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
                        let b = run_block_of(&shape, &p, &s, &current, &y0, steps);
                        // Debug prints each real in its shortest exact form, NaN included.
                        assert_eq!(
                            format!("{a:?}"),
                            format!("{b:?}"),
                            "{name} {scheme:?} {precision:?}"
                        );
                        let spiking = a.iter().filter(|o| o.n_spikes > 3).count();
                        assert!(
                            spiking >= 6,
                            "{name} {scheme:?} {precision:?}: {spiking} spiking"
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, 36);
    }
}
