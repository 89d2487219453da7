//! Blocks of lanes: the width the batch kernel of conductance-based models steps neurons in, an
//! exponential that vectorises (a branch-free polynomial instead of the library call), and the
//! exponential integrators' `phi1` on lanes. The functions take any width: the kernel calls
//! them on its 16 lanes, the lane evaluator of `.ode` models on its own 32
//! (`model::ode::lanes::LANES`).

use super::phi::{INV_FACTORIAL, phi1_of, phi1_series};
use super::polynomial::horner_even_odd;

/// Neurons per block: 16 doubles are two AVX-512 registers, so every polynomial runs two or
/// more independent FMA chains and hides their latency (8 lanes: 2.6e7 neuron-steps/s per
/// core; 16: 6.5e7; 32 spills registers: 4.2e7). On AVX2 they are four vectors, and
/// out-of-order execution did not overlap their chains enough: there the polynomials run in
/// two chains each (`polynomial::horner_even_odd`), and 8 lanes gave the kernel only 4%
/// against 16 before that (docs/speed.md, sixth session of 7 December).
pub const LANES: usize = 16;

/// One value per lane.
pub type Lanes = [f64; LANES];

/// `f(l)` for every lane, in a plain loop: the one way code inside a multiversioned block loop
/// (the batch kernel's, the `.ode` lanes') builds an array of lanes. `std::array::from_fn` has
/// been left as an out-of-line call from such a loop, with a store and a reload of every
/// operand (in the `.ode` lanes' dual instructions, in RK4's `y + h k`), and `[T; N]::map` as
/// one to a copy compiled without the loop's target features: its `mul_add` then called the
/// library's `fma` once per lane (16% of the samples of `fi` on `hh.ode` in the map, 7% more
/// in `fma`), and the power family's squarings lost a fifth of the lanes' speed after an edit
/// in another module (docs/speed.md).
#[inline(always)]
pub fn each_lane<const W: usize>(f: impl Fn(usize) -> f64) -> [f64; W] {
    let mut out = [0.0; W];
    for (l, o) in out.iter_mut().enumerate() {
        *o = f(l);
    }
    out
}

const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `exp(x)` for each lane, branch-free: [`exp_one`] in a loop the compiler vectorises.
#[inline(always)]
pub fn exp_lanes<const W: usize>(x: &[f64; W], out: &mut [f64; W]) {
    for l in 0..W {
        out[l] = exp_one(x[l]);
    }
}

/// `exp(x)` of one lane, branch-free: Cody-Waite reduction by ln 2, a degree-13 Taylor
/// polynomial on |r| <= ln2/2, and the power of two built in the exponent bits. Inputs are
/// clamped to [-700, 700]. For the body of a caller's own loop over lanes, which then holds
/// the result in a register (the batch kernel's fused rates); [`exp_lanes`] otherwise.
#[inline(always)]
pub fn exp_one(x: f64) -> f64 {
    let xc = x.clamp(-700.0, 700.0);
    let t = xc * LOG2E + ROUND_MAGIC;
    let k = t - ROUND_MAGIC;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, xc));
    // Fused multiply-adds (the kernel is compiled with FMA enabled) in two chains.
    let p = horner_even_odd(&INV_FACTORIAL[..14], r);
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// Arguments up to this in magnitude may take [`exp_near_zero`].
pub const NEAR_ZERO: f64 = 0.125;

/// `exp(x)` for |x| <= [`NEAR_ZERO`] by its Taylor polynomial of degree 10 (truncation
/// `(1/8)^11/11!` = 2.9e-18), without [`exp_one`]'s reduction and power of two: `hh`'s power
/// family's root `exp(-V/720)` is there for |V| <= 90 mV. Within 2.5e-16 of `exp` there, as
/// [`exp_one`] is (`tests`); outside, wrong: its caller checks the bound.
#[inline(always)]
pub fn exp_near_zero(x: f64) -> f64 {
    horner_even_odd(&INV_FACTORIAL[..11], x)
}

const LOG2E_F32: f32 = std::f32::consts::LOG2_E;
/// ln 2 split so that `k * LN2_HI_F32` is exact for every k the clamp allows (Cody-Waite, as
/// in Cephes).
const LN2_HI_F32: f32 = 0.693_359_4;
const LN2_LO_F32: f32 = -2.121_944_4e-4;
/// 1.5 * 2^23: adding it rounds an f32 to an integer held in the low mantissa bits.
const ROUND_MAGIC_F32: f32 = 12_582_912.0;

/// `exp(x)` for each lane in f32 arithmetic, read and written as f64: the same reduction as
/// [`exp_lanes`], a degree-7 Taylor polynomial (truncation 6e-9 on |r| <= ln2/2, below f32's
/// rounding), inputs clamped to [-87, 87] (e^±87 stays a normal f32). Relative error below
/// 1.2e-7 against the exponential of the f32-rounded argument (`tests`), so below 1.2e-7 +
/// 6e-8 |x| against exp(x) (the rounding of x itself: 4e-7 for `hh`'s |x| <= 6). Each 16
/// lanes are one AVX-512 register instead of two.
#[inline(always)]
pub fn exp_lanes_f32<const W: usize>(x: &[f64; W], out: &mut [f64; W]) {
    for l in 0..W {
        let xc = (x[l] as f32).clamp(-87.0, 87.0);
        let t = xc.mul_add(LOG2E_F32, ROUND_MAGIC_F32);
        let k = t - ROUND_MAGIC_F32;
        let r = (-k).mul_add(LN2_LO_F32, (-k).mul_add(LN2_HI_F32, xc));
        let mut p: f32 = 1.0 / 5_040.0;
        for c in [
            1.0 / 720.0,
            1.0 / 120.0,
            1.0 / 24.0,
            1.0 / 6.0,
            0.5,
            1.0,
            1.0,
        ] {
            p = p.mul_add(r, c);
        }
        let scale = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
        out[l] = (p * scale) as f64;
    }
}

/// [`exp_lanes`], or [`exp_lanes_f32`] when `F32` (`--precision mixed`).
#[inline(always)]
pub fn exp_lanes_in<const F32: bool, const W: usize>(x: &[f64; W], out: &mut [f64; W]) {
    if F32 {
        exp_lanes_f32(x, out)
    } else {
        exp_lanes(x, out)
    }
}

/// The bounds on |z| up to which [`phi1_lanes`] takes a series, and the series' degrees:
/// each truncates at most `r^(N+1)/(N+2)!` for z <= 0 (a decaying gate's or V's) and at most
/// `e^r` times that for z > 0 ([`phi1_series`]): 5.6e-18 at 1/64 with degree 6, 2.3e-17 at
/// 1/8 with 9, 1e-17 at 1/4 with 11, 8e-18 at 1 with 17, all under a quarter of f64's
/// rounding either way. (A fifth bound, 1/2 with degree 14, for V in a spike, made the
/// kernel slower: 67.7 against 70.5 million neuron-steps/s.)
pub const SERIES_TIERS: [(f64, usize); 4] = [(1.0 / 64.0, 6), (0.125, 9), (0.25, 11), (1.0, 17)];

/// `phi1(z) = (e^z - 1)/z` for each lane, for the exponential integrators' steps
/// `x + h phi1(z) f`. Where every lane's |z| is within a bound of [`SERIES_TIERS`], by the
/// series of that bound's degree ([`phi1_series`]: no exponential, no division, no
/// reduction); else by [`exp_lanes_in`] and the quotient. NaN where `z` is not finite, so a
/// lane whose derivative is not finite ends in its caller's blow-up check rather than
/// standing still. The series are as exact as the quotient (`tests`), so the bounds are a
/// matter of speed: the steps of `hh` at dt = 0.01 ms take the series on every block, h and
/// n the shortest (|z| = dt (alpha + beta) within 1/64), m the next (under about 0.1), V the
/// shortest between spikes (|z| = dt g_tot / C under about 0.01) and the longest in one (up
/// to about 0.5). Each bound holds for the whole block, so a lane's last bit can depend on the
/// other lanes of its block (a sweep runs whole blocks of its grid for that reason). One
/// series for both of the first two bounds used cost about 7% of the batch kernel's time;
/// the two shorter bounds took it from 1.44-1.45 to 1.49-1.50 of the hand loop
/// (docs/speed.md).
#[inline(always)]
pub fn phi1_lanes<const F32: bool, const W: usize>(z: &[f64; W], out: &mut [f64; W]) {
    let within = |tier: usize| all_within(z, SERIES_TIERS[tier].0);
    // (Each degree must be a constant of the series' type: one branch per tier.)
    if within(0) {
        for l in 0..W {
            out[l] = phi1_series::<{ SERIES_TIERS[0].1 }>(z[l]);
        }
    } else if within(1) {
        for l in 0..W {
            out[l] = phi1_series::<{ SERIES_TIERS[1].1 }>(z[l]);
        }
    } else if within(2) {
        for l in 0..W {
            out[l] = phi1_series::<{ SERIES_TIERS[2].1 }>(z[l]);
        }
    } else if within(3) {
        for l in 0..W {
            out[l] = phi1_series::<{ SERIES_TIERS[3].1 }>(z[l]);
        }
    } else {
        let mut e = [0.0; W];
        exp_lanes_in::<F32, W>(z, &mut e);
        for l in 0..W {
            out[l] = if z[l].is_finite() {
                phi1_of(z[l], e[l] - 1.0)
            } else {
                f64::NAN
            };
        }
    }
}

/// Whether every lane's |z| is within `bound` (NaN is not). A function, not a closure over
/// `bound`: `phi1_lanes`'s closure that did this was left out of line, compiled without the
/// vector instructions of its caller's block loop (4% of the samples of `fi` on `hh.ode`,
/// `benches/block_loop_share.sh`).
#[inline(always)]
fn all_within<const W: usize>(z: &[f64; W], bound: f64) -> bool {
    let mut all = true;
    for z in z {
        all &= z.abs() <= bound;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `phi1_lanes` on the blocks its callers meet: each of its ways (a series for each bound of
    /// [`SERIES_TIERS`], the exponential past them) against `phi1`
    /// (the series and the f64 exponential within 1e-15, the f32 one within 1e-6), and
    /// NaN on a lane whose `z` is not finite, which sends its block the long way, the other
    /// lanes keeping their value (the `.ode` lanes flag the NaN lane as blown up).
    #[test]
    fn phi1_lanes_takes_the_series_or_the_exponential_and_marks_non_finite_lanes() {
        use super::super::phi::phi1;
        let relative = |got: f64, z: f64| ((got - phi1(z)) / phi1(z)).abs();
        let series = SERIES_TIERS.map(|(bound, _)| (bound, false));
        for (bound, f32_too) in series.into_iter().chain([(3.0, true)]) {
            let z: Lanes = std::array::from_fn(|l| bound * (2.0 * l as f64 / 15.0 - 1.0));
            let (mut out, mut out_f32) = ([0.0; LANES], [0.0; LANES]);
            phi1_lanes::<false, _>(&z, &mut out);
            phi1_lanes::<true, _>(&z, &mut out_f32);
            for l in 0..LANES {
                assert!(relative(out[l], z[l]) < 1e-15, "{bound} {}", z[l]);
                let tol = if f32_too { 1e-6 } else { 1e-15 };
                assert!(relative(out_f32[l], z[l]) < tol, "{bound} {}", z[l]);
            }
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            // (0.5: the quotient's rounding grows as 1/|z| towards 0, where the series is taken.)
            let mut z: Lanes = [0.5; LANES];
            z[3] = bad;
            let mut out = [0.0; LANES];
            phi1_lanes::<false, _>(&z, &mut out);
            assert!(out[3].is_nan(), "{bad}: {}", out[3]);
            assert!(relative(out[0], 0.5) < 1e-15, "{bad}: {}", out[0]);
        }
    }

    #[test]
    fn polynomial_exp_is_accurate() {
        let mut worst = 0.0f64;
        for k in 0..20_000 {
            let x = -700.0 + 1400.0 * k as f64 / 20_000.0 + 0.0137;
            let mut o = [0.0; LANES];
            exp_lanes(&[x; LANES], &mut o);
            worst = worst.max(((o[0] - x.exp()) / x.exp()).abs());
        }
        // 2.2e-16 with Horner's rule and with its two chains (`horner_even_odd`, whose last
        // three steps are Horner's); joined at the end, the chains reached 3.1e-16.
        assert!(worst < 2.5e-16, "{worst}");
    }

    /// The polynomial near 0 against the library's exponential on |x| <= 1/8: within 2.5e-16
    /// (the bound of `exp_one`'s test), where degree 9 misses by more (its truncation alone is
    /// 2.9e-16 of the value at -1/8).
    #[test]
    fn exp_near_zero_is_accurate_within_its_bound() {
        let worst = |f: &dyn Fn(f64) -> f64| {
            (0..=20_000)
                .map(|k| NEAR_ZERO * (k as f64 / 10_000.0 - 1.0))
                .map(|x| ((f(x) - x.exp()) / x.exp()).abs())
                .fold(0.0f64, f64::max)
        };
        let ten = worst(&exp_near_zero);
        let nine = worst(&|x| horner_even_odd(&INV_FACTORIAL[..10], x));
        assert!(ten < 2.5e-16 && nine > 2.5e-16, "{ten} {nine}");
    }

    #[test]
    fn f32_exp_is_within_f32_rounding_and_clamps() {
        let mut worst = 0.0f64;
        for k in 0..20_000 {
            let x = -87.0 + 173.9 * k as f64 / 20_000.0 + 0.0137;
            let mut o = [0.0; LANES];
            exp_lanes_f32(&[x; LANES], &mut o);
            // Against the exponential of the f32-rounded argument: the rounding of the input
            // itself (up to 4e-6 relative at |x| = 87) is not the function's error.
            let xr = (x as f32) as f64;
            worst = worst.max(((o[0] - xr.exp()) / xr.exp()).abs());
        }
        assert!(worst < 1.2e-7, "{worst}");
        let mut o = [0.0; LANES];
        exp_lanes_f32(&[1e4; LANES], &mut o);
        assert_eq!(o[0], (87f32.exp() as f64), "clamped above");
        exp_lanes_f32(&[-1e4; LANES], &mut o);
        assert!(o[0] > 0.0 && o[0] < 1e-37, "clamped below: {}", o[0]);
    }
}
