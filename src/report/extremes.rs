//! The least and greatest of a column of reals, NaN when any value is NaN: the statistics a
//! Parquet page of reals carries (as polars writes them). Gathered in eight independent lanes,
//! so a block of eight values is one vector step, either in a pass of its own ([`min_max`]) or
//! by [`super::snappy_by_shape::compress_reals`] as it reads each value anyway (a second pass
//! over a 5 MB page read it again from memory: 7% of `stats`' CPU).

/// Values taken so far, lane by lane.
#[derive(Debug, Clone)]
pub(super) struct Extremes {
    lo: [f64; LANES],
    hi: [f64; LANES],
    nan: [bool; LANES],
    any: bool,
}

/// Lanes, one vector register of reals on AVX-512 (two on AVX2).
pub(super) const LANES: usize = 8;

impl Extremes {
    /// None taken yet.
    pub(super) fn new() -> Extremes {
        Extremes {
            lo: [f64::INFINITY; LANES],
            hi: [f64::NEG_INFINITY; LANES],
            nan: [false; LANES],
            any: false,
        }
    }

    /// Take `x` into `lane`: comparisons are false for NaN, which only sets the lane's flag.
    #[inline(always)]
    fn take_in(&mut self, lane: usize, x: f64) {
        self.lo[lane] = if x < self.lo[lane] { x } else { self.lo[lane] };
        self.hi[lane] = if x > self.hi[lane] { x } else { self.hi[lane] };
        self.nan[lane] |= x.is_nan();
    }

    /// Take eight values, one per lane.
    #[inline(always)]
    pub(super) fn take_block(&mut self, block: &[f64; LANES]) {
        for (lane, &x) in block.iter().enumerate() {
            self.take_in(lane, x);
        }
        self.any = true;
    }

    /// Take one value.
    #[inline(always)]
    pub(super) fn take(&mut self, x: f64) {
        self.take_in(0, x);
        self.any = true;
    }

    /// (least, greatest), both NaN when any value was NaN; `None` when none was taken.
    pub(super) fn finish(&self) -> Option<(f64, f64)> {
        if !self.any {
            return None;
        }
        if self.nan.iter().any(|&n| n) {
            return Some((f64::NAN, f64::NAN));
        }
        let lo = self.lo.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((lo, hi))
    }
}

/// The least and greatest of `values`, NaN when any is NaN (as polars' statistics); `None`
/// for no values.
pub(crate) fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let mut e = Extremes::new();
    let blocks = values.chunks_exact(LANES);
    let tail = blocks.remainder();
    for block in blocks {
        e.take_block(block.try_into().expect("a block of LANES values"));
    }
    for &x in tail {
        e.take(x);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_is_the_plain_fold_with_nan_propagated() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
        };
        for n in 0..40 {
            let v: Vec<f64> = (0..n).map(|_| next()).collect();
            let want = (!v.is_empty()).then(|| {
                (
                    v.iter().copied().fold(f64::INFINITY, f64::min),
                    v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            });
            assert_eq!(min_max(&v), want, "{n} values");
            if n > 0 {
                let mut with_nan = v.clone();
                with_nan[n / 2] = f64::NAN;
                let (lo, hi) = min_max(&with_nan).unwrap();
                assert!(lo.is_nan() && hi.is_nan(), "{n} values with a NaN");
            }
        }
        assert_eq!(
            min_max(&[f64::INFINITY, 1.0, f64::NEG_INFINITY]),
            Some((f64::NEG_INFINITY, f64::INFINITY))
        );
    }
}
