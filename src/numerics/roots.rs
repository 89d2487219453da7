//! Roots of a function of one variable: bisection on a sign change, and golden-section search
//! for the extremum between two roots too close to change sign between grid points.

/// Bisection to machine precision on `[a, b]`, where `f(a) = fa` has the opposite sign to
/// `f(b)`. At most 200 halvings, so it ends whatever the magnitudes.
pub fn bisect(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, mut fa: f64) -> f64 {
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if m <= a || m >= b {
            break;
        }
        let fm = f(m);
        if fm == 0.0 {
            return m;
        }
        if fa * fm < 0.0 {
            b = m;
        } else {
            a = m;
            fa = fm;
        }
    }
    0.5 * (a + b)
}

/// Minimiser of `f` on `[a, b]` by golden-section search, to `tol` in the argument.
pub fn golden_min(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if b - a <= tol {
            break;
        }
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_and_golden_section_find_known_points() {
        let r = bisect(|x| x * x - 2.0, 0.0, 2.0, -2.0);
        assert!((r - 2f64.sqrt()).abs() < 1e-15);
        let m = golden_min(|x| (x - 0.3).powi(2), -1.0, 1.0, 1e-12);
        assert!((m - 0.3).abs() < 1e-6);
    }
}
