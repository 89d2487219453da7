//! The function `phi1(z) = (e^z - 1) / z` of exponential integrators, accurate near 0.

/// `(e^z - 1) / z` given `e^z - 1` (so a vectorised caller can compute the exponentials in
/// bulk): the quotient, or its Taylor series `1 + z/2 + z^2/6` for |z| < 1e-5.
#[inline]
pub fn phi1_of(z: f64, exp_m1: f64) -> f64 {
    if z.abs() < 1e-5 {
        1.0 + z * (0.5 + z / 6.0)
    } else {
        exp_m1 / z
    }
}

/// `(e^z - 1) / z`, accurate near 0.
#[inline]
pub fn phi1(z: f64) -> f64 {
    phi1_of(z, z.exp_m1())
}

/// `1/k!` for k = 0..=18: the Taylor coefficients of `e^z` (and shifted by one, of `phi1`),
/// shared with [`crate::numerics::lanes::exp_lanes`]. Each is a quotient of exact doubles,
/// so correctly rounded (18! is below 2^53).
pub(crate) const INV_FACTORIAL: [f64; 19] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
    1.0 / 87_178_291_200.0,
    1.0 / 1_307_674_368_000.0,
    1.0 / 20_922_789_888_000.0,
    1.0 / 355_687_428_096_000.0,
    1.0 / 6_402_373_705_728_000.0,
];

/// `phi1(z)` by its Taylor series to degree `N` (at most 17), by
/// [`super::polynomial::horner_even_odd`]: no exponential, no division, no branch, so it
/// vectorises inside a caller's loop over lanes. For |z| <= r the truncation is about
/// `r^(N+1)/(N+2)!` of a value at least 0.63 (|z| <= 1), so a caller picks `N` for its bound:
/// 6 for 1/64 (5.6e-18), 9 for 1/8 (2.3e-17), 11 for 1/4 (1e-17), 17 for 1 (8e-18). An exponential integrator's step needs `phi1` itself,
/// so where |z| is small this replaces an exponential and a division.
#[inline(always)]
pub fn phi1_series<const N: usize>(z: f64) -> f64 {
    // phi1's k-th coefficient is 1/(k+1)!.
    const { assert!(N + 1 < INV_FACTORIAL.len()) };
    super::polynomial::horner_even_odd(&INV_FACTORIAL[1..N + 2], z)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The series of degree 6 on |z| <= 1/64, 9 on 1/8, 11 on 1/4 and 17 on 1 (the bounds of
    /// the batch kernel's `phi1_lanes`) against `expm1(z)/z` from the standard library
    /// (within an ulp or two): within 3e-16 relative, where one degree less on the two
    /// shorter bounds misses by more than 1e-15, and degrees 9 and 14 on the longer ones by
    /// more than 1e-14.
    #[test]
    fn phi1_series_is_accurate_within_its_bounds() {
        let worst = |bound: f64, series: fn(f64) -> f64| {
            (0..=4_000)
                .map(|k| bound * (k as f64 / 2_000.0 - 1.0))
                .map(|z| ((series(z) - phi1(z)) / phi1(z)).abs())
                .fold(0.0f64, f64::max)
        };
        let quarter = worst(0.25, phi1_series::<11>);
        let one = worst(1.0, phi1_series::<17>);
        // 2.4e-16 and 2.7e-16, the same with Horner's rule alone (`horner_even_odd`).
        assert!(quarter < 3e-16 && one < 3e-16, "{quarter} {one}");
        let short_quarter = worst(0.25, phi1_series::<9>);
        let short_one = worst(1.0, phi1_series::<14>);
        assert!(
            short_quarter > 1e-14 && short_one > 1e-14,
            "{short_quarter} {short_one}"
        );
        let (sixty_fourth, eighth) = (
            worst(1.0 / 64.0, phi1_series::<6>),
            worst(0.125, phi1_series::<9>),
        );
        assert!(
            sixty_fourth < 3e-16 && eighth < 3e-16,
            "{sixty_fourth} {eighth}"
        );
        let (short_64th, short_8th) = (
            worst(1.0 / 64.0, phi1_series::<5>),
            worst(0.125, phi1_series::<8>),
        );
        assert!(
            short_64th > 1e-15 && short_8th > 1e-15,
            "{short_64th} {short_8th}"
        );
    }

    #[test]
    fn phi1_is_continuous_at_the_switch() {
        // Series and quotient agree to rounding on both sides of |z| = 1e-5.
        for z in [-1e-5, 1e-5] {
            let (a, b) = (phi1(z * 0.999_999), phi1(z * 1.000_001));
            assert!((a - b).abs() < 1e-10, "{a} {b}");
        }
        assert!((phi1(1.0) - (1f64.exp() - 1.0)).abs() < 1e-15);
    }
}
