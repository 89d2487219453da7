//! Rates whose exponentials are powers of one exponential. `hh`'s four shared slopes (1/10,
//! 1/18, 1/20 and 1/80 per mV) are 72, 40, 36 and 9 times 1/720, so `exp(-V/10)` is
//! `u^72` with `u = exp(-V/720)`: one exponential, six squarings and a product or two per
//! base give all four, where four exponentials cost some 90 vector operations. A
//! hand-written loop computes each rate's exponential on its own; the conductance kernel
//! (`simulate::batch`) finds the common slope from the model data, and the lane programs of
//! `.ode` models (`model::ode::lanes`) from the slopes of the exponentials in the file.
//!
//! The powers are built from `u` and its six squarings `u^2, u^4, …, u^64`, each power the
//! product of the squarings of its binary digits. [`PowerFamily::eval`] holds them as rows
//! of lanes (in registers where they fit: on AVX-512, not on AVX2);
//! [`PowerFamily::squarings`] and [`power`] take them one lane at a time in a caller's loop,
//! which keeps them in registers on either; [`PowerFamily::eval_with_factors`] (the `.ode`
//! lanes') keeps one squaring at a time and forms each member in its row, with the member's
//! outer factor and addend. All three multiply a power's squarings from its lowest binary
//! digit up, so they give the same bits (`tests`). A chain of
//! products through memory (`u^8 = u^4 u^4`, `u^9 = u^8 u`, …) did the same work but put a
//! store and a load on every link of the step's critical path, and gained nothing (104
//! against 105 million neuron-steps/s); the squarings took the kernel from 0.976 to
//! 1.054-1.067 of the hand loop (docs/speed.md).
//!
//! Accuracy, in units of 2^-53 (1.1e-16): `u` is within about 2 of `exp(c0 V)` (its
//! argument's rounding and the polynomial's), a squaring doubles its root's relative error
//! and adds 1, so `u^n` is within about `2 n` of `exp(n c0 V)`: 2.1e-14 for `MAX_POWER`
//! (measured 1.9e-14; `tests` check `2.5 n` for every n up to 96 from -120 to +80 mV),
//! where an exponential of its own is within 1-3e-15 there.
//!
//! Range: `c0 V` is clamped so that the largest power stops at e^700, where the
//! exponential clamps its own argument; smaller powers then stop at `|V| = 700/|c_max|`
//! (7000 mV on `hh`) instead of further out. A run that far out is blowing up (it is flagged
//! past the model layer's `V_LIMIT`, 1e4 mV, or on NaN), so only its garbage changes.

use crate::numerics::lanes::{NEAR_ZERO, each_lane, exp_lanes, exp_near_zero, exp_one};

/// The largest power taken: `u^96` is within about 2.1e-14 of its exponential. Powers below
/// 128 are products of the squarings up to `u^64`.
const MAX_POWER: u32 = 96;

/// Squarings kept: `u^(2^k)` for `k < SQUARINGS`.
pub const SQUARINGS: usize = 7;

/// Divisions of a member's slope tried for a common slope: the unit is `c / j` for `j` up
/// to this.
const MAX_DIVISOR: u32 = 64;

/// Slopes within this relative distance of a whole multiple of the unit count as multiples:
/// the slopes are `1/k` of decimal `k` rounded to f64, so their ratios are whole to a few
/// 1e-16; anything further apart would put its own error into the power.
const MULTIPLE_TOL: f64 = 1e-12;

/// Shared bases `exp(c_i V)` whose slopes are whole multiples `n_i c0` of one slope `c0`,
/// computed as `u^n_i` from `u = exp(c0 V)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerFamily {
    /// The common slope `c0`, 1/mV.
    unit: f64,
    /// `c0 V` is clamped to this so that no power overflows: the largest reaches `e^700`,
    /// where the exponential clamps its own argument.
    clamp: f64,
    /// Each member's row and power `n_i`.
    pub members: Vec<(usize, u32)>,
}

impl PowerFamily {
    /// The family of the largest set of bases `exp(c_i V)` (`slopes[i]` is `Some(c_i)` for a
    /// base that may join, each written to row `i`) that have a common slope, if it has two
    /// or more members. Slopes of either sign form their own family; the larger wins.
    /// Returns the family and the bases left to their own exponential (every other index).
    pub fn find(slopes: &[Option<f64>]) -> (Option<PowerFamily>, Vec<usize>) {
        let mut best: Option<(f64, Vec<(usize, u32)>)> = None;
        for sign in [-1.0, 1.0] {
            let members: Vec<(usize, f64)> = slopes
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.filter(|c| c * sign > 0.0).map(|c| (i, c * sign)))
                .collect();
            // Units that divide a member's slope; the most members win, then the smallest
            // largest power (fewer products, fewer ulps).
            let score =
                |p: &[(usize, u32)]| (p.len(), std::cmp::Reverse(p.iter().map(|x| x.1).max()));
            for &(_, c_m) in &members {
                for j in 1..=MAX_DIVISOR {
                    let unit = c_m / j as f64;
                    let powers: Vec<(usize, u32)> = members
                        .iter()
                        .filter_map(|&(i, c)| {
                            let n = (c / unit).round();
                            let whole = n >= 1.0 && (c / unit - n).abs() <= MULTIPLE_TOL * n;
                            (whole && n <= MAX_POWER as f64).then_some((i, n as u32))
                        })
                        .collect();
                    let better = match &best {
                        None => powers.len() >= 2,
                        Some(b) => score(&powers) > score(&b.1),
                    };
                    if better {
                        best = Some((sign * unit, powers));
                    }
                }
            }
        }
        let Some((unit, powers)) = best else {
            return (None, (0..slopes.len()).collect());
        };
        let direct = (0..slopes.len())
            .filter(|&i| !powers.iter().any(|p| p.0 == i))
            .collect();
        let max = powers
            .iter()
            .map(|p| p.1)
            .max()
            .expect("two or more members");
        let family = PowerFamily {
            unit,
            clamp: 700.0 / max as f64,
            members: powers,
        };
        (Some(family), direct)
    }

    /// The same family with `c0 V` clamped only where the exponential clamps its own argument
    /// (±700): a power beyond e^±708 then overflows to infinity or underflows to 0, as the
    /// library's exponential does, where [`PowerFamily::find`]'s clamp stops every power once
    /// the largest reaches e^±700. For inputs that are not a membrane potential (time, a
    /// concentration), for which the reason for that clamp (a run that far out is blowing up)
    /// does not hold: `exp(-t/96)` must keep falling after `exp(-t)` reaches e^-700.
    pub fn clamped_as_the_exponential(self) -> PowerFamily {
        PowerFamily {
            clamp: 700.0,
            ..self
        }
    }

    /// The power `n` of the member that writes `row`, if one does.
    pub fn power_of_row(&self, row: usize) -> Option<u32> {
        self.members.iter().find(|m| m.0 == row).map(|m| m.1)
    }

    /// The argument of the family's root `u = exp(c0 V)` at `v`, clamped.
    #[inline(always)]
    fn root_arg(&self, v: f64) -> f64 {
        (self.unit * v).clamp(-self.clamp, self.clamp)
    }

    /// Whether every lane's root argument is within [`NEAR_ZERO`], so that `u` may be taken by
    /// [`exp_near_zero`] (`hh`: |V| <= 90 mV). [`PowerFamily::eval`] asks on its own; a
    /// caller of [`PowerFamily::squarings`] asks for its block and passes the answer, so that
    /// both take the same polynomial.
    #[inline(always)]
    pub fn near_zero<const W: usize>(&self, v: &[f64; W]) -> bool {
        v.iter()
            .fold(true, |all, &v| all & (self.root_arg(v).abs() <= NEAR_ZERO))
    }

    /// `u` and its squarings `u^(2^k)` at one lane's `v`, `u` by [`exp_near_zero`] when
    /// `NEAR` ([`PowerFamily::near_zero`] of the lane's block): [`PowerFamily::eval`]'s
    /// operations for the body of a caller's own loop over lanes, which keeps the seven in
    /// registers (`eval` holds them as rows of lanes, which on AVX2 pass through the stack).
    /// With [`power`], the same bits as `eval` (`tests`).
    #[inline(always)]
    pub fn squarings<const NEAR: bool>(&self, v: f64) -> [f64; SQUARINGS] {
        let arg = self.root_arg(v);
        let root = if NEAR {
            exp_near_zero(arg)
        } else {
            exp_one(arg)
        };
        let mut sq = [root; SQUARINGS];
        for k in 1..SQUARINGS {
            sq[k] = sq[k - 1] * sq[k - 1];
        }
        sq
    }

    /// `u = exp(c0 V)` at each lane's `v`, by [`exp_near_zero`] where every lane is near zero
    /// ([`PowerFamily::near_zero`]), else by [`exp_lanes`].
    #[inline(always)]
    fn root_lanes<const W: usize>(&self, v: &[f64; W], root: &mut [f64; W]) {
        let mut arg = [0.0; W];
        for l in 0..W {
            arg[l] = self.root_arg(v[l]);
        }
        if self.near_zero(v) {
            for l in 0..W {
                root[l] = exp_near_zero(arg[l]);
            }
        } else {
            exp_lanes(&arg, root);
        }
    }

    /// Every member's `exp(c_i V)` at `v` into its row of `rows`.
    ///
    /// The seven squarings are rows of a table and each member's product runs in a copy
    /// written to its row at the end: the batch kernel's form. The in-place form of
    /// [`PowerFamily::eval_with_factors`] made the built-in `hh`'s kernel about 6% slower
    /// (71.7 against 76.0 Mitem/s; 1.53-1.56 of the hand loop against 1.65-1.67), though that
    /// kernel's fused step does not call this: the block function also contains the rows'
    /// path for other shapes, which does, and the compiler laid the whole function out
    /// differently (docs/speed-log.md, the eighth session of 7 December 2026).
    #[inline(always)]
    pub fn eval<const W: usize>(&self, v: &[f64; W], rows: &mut [[f64; W]]) {
        let mut sq = [[0.0; W]; SQUARINGS];
        self.root_lanes(v, &mut sq[0]);
        for k in 1..SQUARINGS {
            let prev = sq[k - 1];
            sq[k] = each_lane(|l| prev[l] * prev[l]);
        }
        for &(row, n) in &self.members {
            // The lowest selected squaring starts the product (the same bits as 1 times it,
            // one multiplication fewer per member).
            let mut acc = [1.0; W];
            let mut started = false;
            for (k, s) in sq.iter().enumerate() {
                if (n >> k) & 1 == 1 {
                    if started {
                        for l in 0..W {
                            acc[l] *= s[l];
                        }
                    } else {
                        acc = *s;
                        started = true;
                    }
                }
            }
            rows[row] = acc;
        }
    }

    /// Every member's `exp(c_i V)` at `v`, times its factor plus its addend (`factors[i] =
    /// (factor, addend)` for member `i`: `x.mul_add(factor, addend)`), into its row of
    /// `rows`: the same bits as [`PowerFamily::eval`] and then that pass over each row, without
    /// the pass (an `.ode` program's rates are `4 exp(..)` and `1 + exp(..)`).
    ///
    /// Each member's row is formed in place, squaring by squaring, and its factor applied with
    /// its last multiplication; no table of the squarings is kept. `eval`'s running product,
    /// copied into the row, and the factors' own pass took about a fifth of RK4's time on
    /// `hh.ode`'s lanes; a table indexed at run time instead was zeroed by a call to `memset`
    /// at every evaluation (docs/speed.md).
    #[inline(always)]
    pub fn eval_with_factors<const W: usize>(
        &self,
        v: &[f64; W],
        rows: &mut [[f64; W]],
        factors: &[(f64, f64)],
    ) {
        debug_assert_eq!(factors.len(), self.members.len());
        // The squaring `u^(2^k)` of the current `k`.
        let mut s = [0.0; W];
        self.root_lanes(v, &mut s);
        let top = self.members.iter().map(|m| m.1).max().unwrap_or(0);
        for k in 0..SQUARINGS {
            if top >> k == 0 {
                break;
            }
            if k > 0 {
                let prev = s;
                s = each_lane(|l| prev[l] * prev[l]);
            }
            for (&(row, n), &(factor, addend)) in self.members.iter().zip(factors) {
                if (n >> k) & 1 == 0 {
                    continue;
                }
                // The lowest digit starts the product (as in `eval`), the higher ones multiply
                // it in order, and the highest also applies the member's factor.
                let lowest = n & ((1 << k) - 1) == 0;
                let highest = n >> (k + 1) == 0;
                let out = &mut rows[row];
                match (lowest, highest) {
                    (true, true) => {
                        for l in 0..W {
                            out[l] = s[l].mul_add(factor, addend);
                        }
                    }
                    (true, false) => *out = s,
                    (false, true) => {
                        for l in 0..W {
                            out[l] = (out[l] * s[l]).mul_add(factor, addend);
                        }
                    }
                    (false, false) => {
                        for l in 0..W {
                            out[l] *= s[l];
                        }
                    }
                }
            }
        }
    }
}

/// `u^N` from the [`PowerFamily::squarings`] of one lane, multiplied as
/// [`PowerFamily::eval`] multiplies them: from the lowest selected squaring up. `N` is a
/// constant, so the digits are chosen at compile time and the product is one multiplication
/// fewer than `N` has binary ones (`hh`'s 72, 40, 36 and 9: one each), in registers.
#[inline(always)]
pub fn power<const N: u32>(sq: &[f64; SQUARINGS]) -> f64 {
    const { assert!(N >= 1 && N <= MAX_POWER) };
    let mut acc = f64::NAN;
    let mut started = false;
    for (k, s) in sq.iter().enumerate() {
        if (N >> k) & 1 == 1 {
            acc = if started { acc * s } else { *s };
            started = true;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numerics::lanes::{LANES, Lanes};

    #[test]
    fn hh_slopes_form_one_family() {
        // alpha_m and beta_h and alpha_n (k = 10), beta_m (18), alpha_h (20), beta_n (80), as
        // the kernel's shared bases hold them, plus a steep base of its own (None).
        let slopes = [
            Some(-1.0 / 10.0),
            Some(-1.0 / 18.0),
            Some(-1.0 / 20.0),
            None,
            Some(-1.0 / 80.0),
        ];
        let (family, direct) = PowerFamily::find(&slopes);
        let family = family.expect("a family");
        assert_eq!(direct, vec![3]);
        assert!((family.unit + 1.0 / 720.0).abs() < 1e-18, "{}", family.unit);
        assert_eq!(family.members, vec![(0, 72), (1, 40), (2, 36), (4, 9)]);
        let mut rows = vec![[0.0; LANES]; slopes.len()];
        let mut worst = 0.0f64;
        for k in 0..=200 {
            let v = -120.0 + k as f64;
            family.eval(&[v; LANES], &mut rows);
            for (i, c) in slopes.iter().enumerate() {
                if let Some(c) = c {
                    let want = (c * v).exp();
                    worst = worst.max((rows[i][0] - want).abs() / want);
                }
            }
        }
        assert!(worst < 2e-14, "{worst}");
        assert!(worst > 0.0, "the powers round");
    }

    #[test]
    fn every_power_is_within_its_bound() {
        // u^n against exp(n c0 V) for every n up to MAX_POWER, on units of either sign and
        // V from -120 to +80 mV: within 2.5 n units of 2^-53 (the module's bound is about 2 n).
        for unit in [-1.0 / 720.0, 0.2 / 96.0, 1.0 / 3000.0] {
            for n in 1..=MAX_POWER {
                let family = PowerFamily {
                    unit,
                    clamp: 700.0 / MAX_POWER as f64,
                    members: vec![(0, n)],
                };
                let mut rows = vec![[0.0; LANES]];
                let mut worst = 0.0f64;
                for k in 0..500 {
                    let v: Lanes = std::array::from_fn(|l| -120.0 + (k * LANES + l) as f64 / 40.0);
                    family.eval(&v, &mut rows);
                    for l in 0..LANES {
                        let want = (n as f64 * unit * v[l]).exp();
                        worst = worst.max((rows[0][l] - want).abs() / want);
                    }
                }
                let bound = 2.5 * n as f64 * f64::EPSILON / 2.0;
                assert!(worst <= bound, "unit {unit}, n {n}: {worst} > {bound}");
            }
        }
    }

    #[test]
    fn each_power_is_its_squarings_multiplied_from_the_lowest_digit() {
        // The product starts from the lowest selected squaring, not from 1: the same bits as
        // 1 times it, then the higher ones in order. Checked bit for bit against that
        // product formed here from the squarings themselves (the members u^(2^k)).
        let unit = -1.0 / 720.0;
        for n in 1..=MAX_POWER {
            let mut members: Vec<(usize, u32)> = (0..SQUARINGS).map(|k| (k, 1 << k)).collect();
            members.push((SQUARINGS, n));
            let family = PowerFamily {
                unit,
                clamp: 700.0 / MAX_POWER as f64,
                members,
            };
            let mut rows = vec![[0.0; LANES]; SQUARINGS + 1];
            for k in 0..40 {
                let v: Lanes = std::array::from_fn(|l| -150.0 + (k * LANES + l) as f64 * 0.37);
                family.eval(&v, &mut rows);
                for l in 0..LANES {
                    let mut want = 1.0;
                    for (d, row) in rows.iter().take(SQUARINGS).enumerate() {
                        if (n >> d) & 1 == 1 {
                            want *= row[l];
                        }
                    }
                    assert_eq!(
                        rows[SQUARINGS][l].to_bits(),
                        want.to_bits(),
                        "n {n}, V {}",
                        v[l]
                    );
                }
            }
        }
    }

    /// `eval_with_factors` is `eval` and then a pass of `x.mul_add(factor, addend)` over each
    /// row, bit for bit: for every power (one to seven binary digits) beside members of other
    /// powers on rows out of order, each with its own factor (of either sign, with and
    /// without an addend, and `(1, 0)`, which leaves `eval`'s bits), for V from -200 to +184
    /// mV and far out where the clamp holds.
    #[test]
    fn members_with_factors_equal_the_plain_rows_then_their_factors() {
        let others = [72, 40, 36, 9, 1, 64, 95, 96];
        let factors = [
            (4.0, 0.0),
            (-0.018315638888734, 1.0),
            (1.0, 0.0),
            (0.0301973834, 1.0),
            (0.125, 0.0),
            (-2.5, 3.0),
            (1.0, 0.0),
            (7.0e-3, 1.0),
            (0.5, -1.0),
        ];
        // Rows out of order, with a gap (row 4 belongs to no member).
        let rows_of = [7, 2, 9, 0, 5, 1, 8, 3, 6];
        for n in 1..=MAX_POWER {
            let powers = others.iter().copied().chain([n]);
            let members: Vec<(usize, u32)> = rows_of.iter().copied().zip(powers).collect();
            let family = PowerFamily {
                unit: -1.0 / 720.0,
                clamp: 700.0 / MAX_POWER as f64,
                members: members.clone(),
            };
            let (mut plain, mut with) = (vec![[0.0; LANES]; 10], vec![[0.0; LANES]; 10]);
            let far: Lanes = std::array::from_fn(|l| if l % 2 == 0 { 1e6 } else { -1e6 });
            let blocks = (0..40)
                .map(|k| std::array::from_fn(|l| -200.0 + (k * LANES + l) as f64 * 0.6))
                .chain([far]);
            for v in blocks {
                family.eval(&v, &mut plain);
                family.eval_with_factors(&v, &mut with, &factors);
                for (&(row, power), &(factor, addend)) in members.iter().zip(&factors) {
                    for l in 0..LANES {
                        let want = plain[row][l].mul_add(factor, addend);
                        let got = with[row][l];
                        assert_eq!(got.to_bits(), want.to_bits(), "n {power}, V {}", v[l]);
                        if (factor, addend) == (1.0, 0.0) {
                            assert_eq!(got.to_bits(), plain[row][l].to_bits());
                        }
                    }
                }
            }
        }
    }

    /// One lane's squarings and a constant power give `eval`'s bits, for the powers of `hh`'s
    /// family and the extremes of the digits (1, 64, 95: seven digits, 96), on units of either
    /// sign and V from -200 to +200 mV and far out where the clamp holds.
    #[test]
    fn one_lanes_powers_equal_the_rows() {
        fn check<const N: u32>(unit: f64) {
            let family = PowerFamily {
                unit,
                clamp: 700.0 / MAX_POWER as f64,
                members: vec![(0, N)],
            };
            let mut rows = vec![[0.0; LANES]];
            let mut near_blocks = 0;
            for k in 0..60 {
                let v: Lanes = std::array::from_fn(|l| -200.0 + (k * LANES + l) as f64 * 0.419);
                family.eval(&v, &mut rows);
                let near = family.near_zero(&v);
                for l in 0..LANES {
                    let sq = if near {
                        family.squarings::<true>(v[l])
                    } else {
                        family.squarings::<false>(v[l])
                    };
                    let one = power::<N>(&sq);
                    assert_eq!(one.to_bits(), rows[0][l].to_bits(), "n {N}, V {}", v[l]);
                }
                near_blocks += near as usize;
            }
            family.eval(&[1e6; LANES], &mut rows);
            assert_eq!(power::<N>(&family.squarings::<false>(1e6)), rows[0][0]);
            // On `hh`'s unit blocks of either kind were compared (|V| <= 90 mV is near zero);
            // on 1/3000 every block is near zero, and the far way is compared at 1e6 mV.
            if unit.abs() > 1e-3 {
                assert!(near_blocks > 0 && near_blocks < 60, "{near_blocks}");
            }
        }
        for unit in [-1.0 / 720.0, 1.0 / 720.0, 1.0 / 3000.0] {
            check::<72>(unit);
            check::<40>(unit);
            check::<36>(unit);
            check::<9>(unit);
            check::<1>(unit);
            check::<64>(unit);
            check::<95>(unit);
            check::<96>(unit);
        }
    }

    #[test]
    fn slopes_only_nearly_multiples_are_not_merged() {
        // 0.05 (1 + 5e-10) is not half of 0.1 to the powers' accuracy: two exponentials.
        let slopes = [Some(-0.1), Some(-0.05 * (1.0 + 5e-10))];
        assert_eq!(PowerFamily::find(&slopes), (None, vec![0, 1]));
        let slopes = [Some(-0.1), Some(-0.05)];
        assert!(PowerFamily::find(&slopes).0.is_some());
    }

    #[test]
    fn slopes_without_a_common_unit_keep_their_own_exponential() {
        // 1/10 and 1/7.3 have no common slope with whole multiples up to MAX_POWER; the
        // positive slope 1/5 is alone in its sign. 1/9 and 1/12 share 1/36 (4 and 3).
        let slopes = [Some(-0.1), Some(-1.0 / 7.3), Some(0.2)];
        let (family, direct) = PowerFamily::find(&slopes);
        assert_eq!(family, None);
        assert_eq!(direct, vec![0, 1, 2]);
        let slopes = [Some(-1.0 / 9.0), Some(-0.1 / 7.3), Some(-1.0 / 12.0), None];
        let (family, direct) = PowerFamily::find(&slopes);
        let family = family.expect("1/9 and 1/12");
        assert_eq!(direct, vec![1, 3]);
        assert!((family.unit + 1.0 / 36.0).abs() < 1e-15, "{}", family.unit);
        assert_eq!(family.members, vec![(0, 4), (2, 3)]);
        // The clamp keeps u^4 at most e^700 for any V.
        let mut rows = vec![[0.0; LANES]; 4];
        family.eval(&[-1e6; LANES], &mut rows);
        assert!(rows[0][0].is_finite() && rows[2][0].is_finite());
    }
}
