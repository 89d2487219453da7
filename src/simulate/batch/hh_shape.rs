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
//! table's kernel. When, as in `hh`, the six rates' exponentials are powers of one
//! ([`HH_POWERS`]), the rates of each lane are taken in one loop with the powers in registers
//! ([`HhShape::fused_rates`]), and exponential Euler's step in three such loops: on AVX2,
//! whose 16 registers hold a row of 16 lanes in four, the rows' way spilled them to the
//! stack.
//!
//! Both kernels perform the same floating-point operations in the same order, so their
//! results are identical, not just close (`tests`). The rates go through the table kernel's
//! own functions (their one-lane forms in the fused loop), the shared exponentials through its
//! `bases_at` or, fused, the family's one-lane squarings and powers
//! ([`crate::numerics::power_family`]), the currents through its one-lane `times_power_one`
//! and `add_current_one` in one function ([`currents_one`]), the shape's powers given as
//! constants: no equation is written out a second time here.

use super::{
    Equations, Flat, L, LANES, LaneRate, StepRows, add_current_one, bases_at, exp_euler_by_rows,
    exp_rate, exp_rate_one, gate_step_z, gate_stepped, linoid_near_rest, linoid_rate,
    linoid_rate_one, per_lane, sigmoid_rate, sigmoid_rate_one, times_power_one, v_step_z,
    v_stepped,
};
use crate::numerics::lanes::phi1_lanes;
use crate::numerics::power_family::{PowerFamily, power};

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

/// The powers of one exponential `u = exp(-V/720)` that `hh`'s six rates take, in the order
/// alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n: their slopes 1/10, 1/18, 1/20, 1/10, 1/10
/// and 1/80 per mV are 72, 40, 36, 72, 72 and 9 times 1/720 (`hh-1952`'s the same).
const HH_POWERS: [u32; 6] = [72, 40, 36, 72, 72, 9];
// The fused loop takes alpha_m's power for beta_h and alpha_n (their slopes are the same).
const _: () = assert!(HH_POWERS[0] == HH_POWERS[3] && HH_POWERS[0] == HH_POWERS[4]);

/// The classic Hodgkin-Huxley shape: gates m, h, n with the rates (linoid, exponential),
/// (exponential, sigmoid), (linoid, exponential), and the currents `g_na m^3 h`, `g_k n^4` and
/// a leak, in that order, with the model's constants and per-lane parameters.
pub(super) struct HhShape<'a> {
    /// The table it was read from: its bases, family and per-lane parameters.
    flat: &'a Flat,
    m: (Linoid, Exp),
    h: (Exp, Sigmoid),
    n: (Linoid, Exp),
    /// The table's family when every rate's base is its power of [`HH_POWERS`] (`hh`,
    /// `hh-1952`): the rates are then taken in one loop over the lanes, the family's
    /// squarings and the six rates of each lane in registers ([`HhShape::fused_rates`]).
    family: Option<&'a PowerFamily>,
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
        let (m, h, n) = (
            (linoid(&g[0].first)?, exp(&g[0].second)?),
            (exp(&g[1].first)?, sigmoid(&g[1].second)?),
            (linoid(&g[2].first)?, exp(&g[2].second)?),
        );
        let rows = [m.0.base, m.1.base, h.0.base, h.1.base, n.0.base, n.1.base];
        let family = flat.powers.as_ref().filter(|f| {
            flat.direct.is_empty()
                && rows
                    .iter()
                    .zip(HH_POWERS)
                    .all(|(&row, n)| f.power_of_row(row) == Some(n))
        });
        Some(HhShape {
            flat,
            m,
            h,
            n,
            family,
        })
    }

    /// The currents' lanes ([`CurrentLanes`]) from the table.
    #[inline(always)]
    fn current_lanes<const UNIFORM: bool>(&self) -> CurrentLanes {
        // (Written out, not `std::array::from_fn`, which can stay out of line: `each_lane`.)
        let c = &self.flat.currents;
        let lanes = |i: usize| (per_lane::<UNIFORM>(&c[i].0), per_lane::<UNIFORM>(&c[i].1));
        [lanes(0), lanes(1), lanes(2)]
    }

    /// [`Equations::gate_rates`] of a shape whose bases are `hh`'s powers ([`HH_POWERS`]): the
    /// same operations in the same order as the rows' way ([`bases_at`] and the rates'
    /// functions), in one loop over the lanes. The family's seven squarings and the six rates
    /// stay in registers instead of passing through rows of 16 lanes, which on AVX2 (16
    /// registers of 4 lanes) were spilled to the stack (docs/speed.md, seventh session of 7
    /// December). The shared exponentials are not written to `xb`: the shape has no factor,
    /// so nothing reads them.
    #[inline(always)]
    fn fused_rates(&self, family: &PowerFamily, v: &L, ra: &mut [L; 3], rb: &mut [L; 3]) {
        if family.near_zero(v) {
            self.fused_rates_of::<true>(family, v, ra, rb)
        } else {
            self.fused_rates_of::<false>(family, v, ra, rb)
        }
    }

    /// [`HhShape::fused_rates`] with the family's root near zero or not
    /// ([`PowerFamily::squarings`]).
    #[inline(always)]
    fn fused_rates_of<const NEAR: bool>(
        &self,
        family: &PowerFamily,
        v: &L,
        ra: &mut [L; 3],
        rb: &mut [L; 3],
    ) {
        let (m, h, n) = (&self.m, &self.h, &self.n);
        let (mut near_m, mut near_n) = (false, false);
        for l in 0..LANES {
            let sq = family.squarings::<NEAR>(v[l]);
            let (u72, u40, u36, u9) = (
                power::<{ HH_POWERS[0] }>(&sq),
                power::<{ HH_POWERS[1] }>(&sq),
                power::<{ HH_POWERS[2] }>(&sq),
                power::<{ HH_POWERS[5] }>(&sq),
            );
            let (am, near_ml) = linoid_rate_one(m.0.a, m.0.v0, m.0.ik, m.0.scale, v[l], u72);
            let (an, near_nl) = linoid_rate_one(n.0.a, n.0.v0, n.0.ik, n.0.scale, v[l], u72);
            ra[0][l] = am;
            rb[0][l] = exp_rate_one(m.1.f, u40);
            ra[1][l] = exp_rate_one(h.0.f, u36);
            rb[1][l] = sigmoid_rate_one(h.1.a, h.1.scale, u72);
            ra[2][l] = an;
            rb[2][l] = exp_rate_one(n.1.f, u9);
            near_m |= near_ml;
            near_n |= near_nl;
        }
        if near_m {
            linoid_near_rest(m.0.a, m.0.v0, m.0.ik, v, &mut ra[0]);
        }
        if near_n {
            linoid_near_rest(n.0.a, n.0.v0, n.0.ik, v, &mut ra[2]);
        }
    }
}

/// The maximal conductances and reversal potentials of the shape's three currents per lane
/// (sodium, potassium, leak), as a step reads them ([`per_lane`]).
type CurrentLanes = [(L, L); 3];

/// The shape's currents at lane `l` with the gates `[m, h, n]`: `g_na m^3 h`, `g_k n^4` and
/// the leak, each conductance from its maximum, then the sums from 0, in the table kernel's
/// order through its one-lane functions. Returns the total conductance and the ionic current.
#[inline(always)]
fn currents_one(c: &CurrentLanes, l: usize, v: f64, [m, h, n]: [f64; 3]) -> (f64, f64) {
    let [(na, ena), (k, ek), (leak, el)] = c;
    let (mut g_tot, mut i_ion) = (0.0, 0.0);
    let g_na = times_power_one(times_power_one(na[l], m, 3), h, 1);
    add_current_one(g_na, ena[l], v, &mut g_tot, &mut i_ion);
    add_current_one(
        times_power_one(k[l], n, 4),
        ek[l],
        v,
        &mut g_tot,
        &mut i_ion,
    );
    add_current_one(leak[l], el[l], v, &mut g_tot, &mut i_ion);
    (g_tot, i_ion)
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
        if let Some(family) = self.family {
            self.fused_rates(family, v, ra, rb);
            return;
        }
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
        let c = self.current_lanes::<UNIFORM>();
        for l in 0..LANES {
            (g_tot[l], i_ion[l]) = currents_one(&c, l, v[l], [x[0][l], x[1][l], x[2][l]]);
        }
    }

    /// With `hh`'s powers, the rows' step ([`exp_euler_by_rows`]) in three passes over the
    /// lanes and the four `phi1`s between them: the fused rates; the currents, V's and the
    /// gates' `z`; the new state. The same operations in the same order, through the same
    /// one-lane functions, so the same bits (`tests`); the rows' way passes each product of
    /// the currents, each `z` and each gate's copy through memory on its own.
    #[inline(always)]
    fn exp_euler_step<const UNIFORM: bool, const F32: bool>(
        &self,
        s: &mut StepRows<[L; 3], [L; BASES]>,
        dt: f64,
        v: &L,
        x: &[L; 3],
        current: &L,
        inv_c: &L,
        phi: &L,
        v_new: &mut L,
        x_new: &mut [L; 3],
    ) {
        let Some(family) = self.family else {
            exp_euler_by_rows::<Self, UNIFORM, F32>(
                self, s, dt, v, x, current, inv_c, phi, v_new, x_new,
            );
            return;
        };
        self.fused_rates(family, v, &mut s.ra, &mut s.rb);
        let c = self.current_lanes::<UNIFORM>();
        // V's z, then the gates'; and each gate's alpha + beta.
        let mut z = [[0.0; LANES]; 4];
        let mut sg = [[0.0; LANES]; 3];
        for l in 0..LANES {
            let (g_tot, i_ion) = currents_one(&c, l, v[l], [x[0][l], x[1][l], x[2][l]]);
            s.i_ion[l] = i_ion;
            z[0][l] = v_step_z(dt, g_tot, inv_c[l]);
            for g in 0..3 {
                (z[g + 1][l], sg[g][l]) = gate_step_z(dt, phi[l], s.ra[g][l], s.rb[g][l]);
            }
        }
        let mut p = [[0.0; LANES]; 4];
        phi1_lanes::<false, _>(&z[0], &mut p[0]);
        for g in 1..4 {
            phi1_lanes::<F32, _>(&z[g], &mut p[g]);
        }
        for l in 0..LANES {
            v_new[l] = v_stepped(dt, v[l], p[0][l], current[l], s.i_ion[l], inv_c[l]);
            for g in 0..3 {
                x_new[g][l] = gate_stepped(dt, phi[l], p[g + 1][l], x[g][l], s.ra[g][l], sg[g][l]);
            }
        }
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
            let flat = flat_of(&conductance(name));
            let shape = HhShape::of(&flat);
            assert!(shape.is_some(), "{name}");
            // Their rates' bases are the powers of one exponential that the fused rates take.
            assert!(shape.unwrap().family.is_some(), "{name}");
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
        // Four shared exponentials, one of them not a power of the others, take the shape, but
        // not the fused rates.
        let flat = flat_of(&steep_alpha_h());
        let shape = HhShape::of(&flat).expect("the shape");
        assert!(shape.family.is_none());
        // Four bases all powers of one exponential, but not `hh`'s powers (beta_n's 18 for 9),
        // take the shape and not the fused rates, which assume `hh`'s.
        let flat = flat_of(&slower_beta_n());
        let shape = HhShape::of(&flat).expect("the shape");
        assert_eq!(flat.powers.as_ref().map(|f| f.members.len()), Some(4));
        assert!(shape.family.is_none());
    }

    /// `hh` with alpha_h steep enough (k = 4.9 mV) to take an exponential of its own instead
    /// of a power of the family's: the shape with a direct base.
    fn steep_alpha_h() -> ConductanceModel {
        hh_with_rate(
            1,
            Rate::Alpha,
            RateFn::Exp {
                a: 0.07,
                v0: -65.0,
                k: -4.9,
            },
        )
    }

    /// `hh` with beta_n's slope 1/40 per mV instead of 1/80: its four bases are the powers 72,
    /// 40, 36 and 18 of one exponential, not `hh`'s.
    fn slower_beta_n() -> ConductanceModel {
        hh_with_rate(
            2,
            Rate::Beta,
            RateFn::Exp {
                a: 0.125,
                v0: -65.0,
                k: -40.0,
            },
        )
    }

    /// Which rate of an alpha-beta gate [`hh_with_rate`] replaces.
    enum Rate {
        Alpha,
        Beta,
    }

    /// `hh` with gate `gate`'s alpha or beta replaced by `rate`.
    fn hh_with_rate(gate: usize, which: Rate, rate: RateFn) -> ConductanceModel {
        let mut m = builtin::hh();
        let Kinetics::AlphaBeta { alpha, beta } = &mut m.gates[gate].kinetics else {
            unreachable!("hh's gates are alpha-beta")
        };
        *match which {
            Rate::Alpha => alpha,
            Rate::Beta => beta,
        } = rate;
        m
    }

    /// The shape and the table's kernel give identical results, bit for bit: spike counts and
    /// times, extrema, maxima and final V of 16 neurons from 5 to 95 uA/cm^2 over 200 ms
    /// (a transient of 50 ms), for every scheme and precision, with the parameters shared by
    /// every lane and with g_K and C_m of each lane its own, on `hh` and `hh-1952` (the fused
    /// rates; `hh-1952`'s spikes pass 90 mV, its V being the depolarisation, so its blocks take the family's root
    /// far from zero), `hh` with a steep alpha_h (one of its shared exponentials not a power of
    /// the others) and `hh` with beta_n at 1/40 per mV (powers, but not `hh`'s).
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
            ("beta_n at 1/40", Model::Conductance(slower_beta_n())),
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
        assert_eq!(compared, 48);
    }
}
