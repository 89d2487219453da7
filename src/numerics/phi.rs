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

#[cfg(test)]
mod tests {
    use super::*;

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
