//! Polynomials evaluated for speed inside loops over lanes, at Horner's rounding.

/// The polynomial `c[0] + c[1] z + ... + c[n-1] z^(n-1)` (n >= 1), with the terms from `z^3`
/// on by Horner's rule in `z^2` on alternate coefficients (two independent chains of fused
/// multiply-adds, each half as long as Horner's one), and the last three steps,
/// `((t z + c[2]) z + c[1]) z + c[0]`, by Horner's rule itself, which keeps its worst rounding
/// to the last bit (`tests` of `phi` and `lanes`): joining the chains after `c[0]` and `c[1]`
/// instead cost the exponential 1.4 ulp where Horner has 1, and `phi1`'s series on |z| <= 1
/// 2.2 where it has 1.2 (1.6 with two steps of Horner's). In a loop over lanes on AVX2 (16
/// registers: a block of 16 lanes is four vectors) out-of-order execution did not overlap
/// enough of Horner's chains, which wait on each other's latency. Estrin's scheme, with chains
/// of `log2 n`, was slower: its powers of `z` cost more than the latency it hides
/// (docs/speed.md).
#[inline(always)]
pub fn horner_even_odd(c: &[f64], z: f64) -> f64 {
    let n = c.len();
    if n <= 4 {
        return c.iter().rev().fold(0.0, |p, &ck| p.mul_add(z, ck));
    }
    let z2 = z * z;
    // One chain ends at c[3], the other at c[4]; joined, they are the tail from z^3 on, over
    // z^3.
    let (top_3, top_4) = if n.is_multiple_of(2) {
        (n - 1, n - 2)
    } else {
        (n - 2, n - 1)
    };
    let (mut p3, mut p4) = (c[top_3], c[top_4]);
    let (mut k3, mut k4) = (top_3, top_4);
    while k3 >= 5 {
        k3 -= 2;
        p3 = p3.mul_add(z2, c[k3]);
    }
    while k4 >= 6 {
        k4 -= 2;
        p4 = p4.mul_add(z2, c[k4]);
    }
    let tail = p4.mul_add(z, p3);
    tail.mul_add(z, c[2]).mul_add(z, c[1]).mul_add(z, c[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length from 1 to 20 (odd and even, so either chain can hold the top
    /// coefficient) against Horner's rule, on coefficients of both signs at |z| <= 1.5.
    #[test]
    fn horner_even_odd_evaluates_every_length() {
        let c: Vec<f64> = (0..20)
            .map(|k| ((k as f64 + 1.0) * 0.7).sin() / (k + 1) as f64)
            .collect();
        for n in 1..=20 {
            for z in [-1.5, -0.3, 0.0, 0.25, 1.0, 1.5] {
                let horner = c[..n].iter().rev().fold(0.0, |p, &ck| p * z + ck);
                let got = horner_even_odd(&c[..n], z);
                assert!(
                    (got - horner).abs() <= 1e-14 * horner.abs().max(1.0),
                    "{n} {z}"
                );
            }
        }
    }
}
