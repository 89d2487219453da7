//! Snappy's raw format written for two shapes of page that polars' encoder (the `snap`
//! crate's) takes slowly or not at all: a column of reals (`stats`' `rate_hz`) and the keys
//! of a repeated run (`t_ms`), whose shapes are known.
//!
//! `snap` hashes at nearly every byte, in blocks of 64 KB, and took 44% of `stats`' two cores
//! while its 160 MB of rates were written (docs/speed.md, "Windows and statistics"). A rate
//! is the binned spikes convolved with the sampled kernel, so what repeats in it is whole
//! values: zeros where a train is silent, and the kernel's own samples where a lone spike's
//! kernel rises out of them or falls into them. [`compress_reals`] looks only there, about
//! one comparison a value. The keys of a repeated run are encoded once and copied
//! (`column_pages`), so [`compress_periodic`] writes them as one literal and copies of it,
//! with no search, as far back as the period reaches (37.5 KB a train for `t_ms`; snap's
//! blocks do not reach, and those pages went uncompressed).
//!
//! The output is plain Snappy, marked SNAPPY like any other page: copies farther back than
//! 64 KB take the format's 4-byte offsets, which its description allows and its decoders
//! (snap, the reference C++ one that pyarrow uses) read.

use super::extremes::{Extremes, LANES};

/// The longest input Snappy's header can state.
pub(super) const MAX_INPUT: usize = u32::MAX as usize;

/// `input` compressed into Snappy's raw format, appended to `out`, where `input[start..end]`
/// repeats its first `period` bytes (the keys of a repeated run, encoded once and copied): a
/// literal up to one period past `start`, copies of the period back, and the rest literal. No
/// matching. `None` for an input longer than [`MAX_INPUT`] or bounds out of order.
pub(super) fn compress_periodic(
    input: &[u8],
    start: usize,
    period: usize,
    end: usize,
    out: &mut Vec<u8>,
) -> Option<()> {
    let n = input.len();
    if n > MAX_INPUT || period == 0 || start.checked_add(period).is_none_or(|p| p > end) || end > n
    {
        return None;
    }
    debug_assert!(
        (start + period..end).all(|k| input[k] == input[k - period]),
        "not periodic"
    );
    out.reserve(5 + (start + period) + (end - start) / 64 * 5 + (n - end) + 16);
    put_varint(out, n as u32);
    put_literal(out, &input[..start + period], &[]);
    put_copy(out, period, end - start - period);
    put_literal(out, &input[end..], &[]);
    Some(())
}

/// `head` then `reals` (a page's levels, if any, then its values: 8-byte words) compressed
/// into Snappy's raw format, appended to `out`, looking only where a run of zero words starts
/// or ends: a run of zeros is copied (from the previous run, or from its own first word); the
/// words before it, back to the last element written, are copied when they equal the words
/// before the previous run (a kernel's fall), and the words after it when they equal the
/// words after the previous run (a kernel's rise). Everything else is literal: no hashing,
/// and about one comparison a word (the scan back re-reads the words of a fall). Returns
/// the reals' least and greatest values, gathered as each is read (a page's statistics: a
/// pass of their own read the page again from memory). `None` for more than [`MAX_INPUT`]
/// bytes in all, or `reals` not whole words.
pub(super) fn compress_reals(head: &[u8], reals: &[u8], out: &mut Vec<u8>) -> Option<Extremes> {
    let n = reals.len();
    if head.len() + n > MAX_INPUT || !n.is_multiple_of(8) {
        return None;
    }
    out.reserve(5 + head.len() + n + n / 8 + 8);
    put_varint(out, (head.len() + n) as u32);
    let word = |p: usize| u64::from_le_bytes(reals[p..p + 8].try_into().expect("8 bytes"));
    // The head goes out with the first literal, which comes before any copy.
    let mut head = head;
    let mut literal_to = |out: &mut Vec<u8>, words: &[u8]| {
        put_literal(out, head, words);
        head = &[];
    };
    // Where the literal not yet written starts, and the position being looked at.
    let (mut literal, mut p) = (0, 0);
    // The previous run of zeros: where it started and ended.
    let mut previous: Option<(usize, usize)> = None;
    // Every word is taken once: by `to_zero`, as a run of zeros, or in a kernel's rise.
    let mut extremes = Extremes::new();
    while p < n {
        p = to_zero(reals, p, &mut extremes);
        if p == n {
            break;
        }
        let z = p;
        let mut r = z + 8;
        while r < n && word(r) == 0 {
            r += 8;
        }
        extremes.take(0.0);
        match previous {
            Some((z0, r0)) => {
                // Back from both runs while the words agree (not past the literal's start or
                // the first word).
                let mut back = 0;
                while z - back >= literal + 8
                    && z0 >= back + 8
                    && word(z - back - 8) == word(z0 - back - 8)
                {
                    back += 8;
                }
                literal_to(out, &reals[literal..z - back]);
                // The run (and the fall before it) from the previous one as far as that one
                // reaches, the rest of the run from its own zeros just before.
                let along = (r - z).min(r0 - z0);
                put_copy(out, z - z0, back + along);
                put_copy(out, 8, (r - z) - along);
            }
            None => {
                literal_to(out, &reals[literal..z + 8]);
                put_copy(out, 8, r - z - 8);
            }
        }
        literal = r;
        p = r;
        // Forward from both runs' ends while the words agree and are not zeros (a run is
        // taken whole above). The copy may overlap itself: its source is always behind.
        if let Some((_, r0)) = previous {
            let mut ahead = 0;
            while r + ahead < n && word(r + ahead) != 0 && word(r0 + ahead) == word(r + ahead) {
                extremes.take(f64::from_bits(word(r + ahead)));
                ahead += 8;
            }
            put_copy(out, r - r0, ahead);
            literal += ahead;
            p += ahead;
        }
        previous = Some((z, r));
    }
    literal_to(out, &reals[literal..]);
    Some(extremes)
}

/// The position of the first zero word of `reals` at or after `p` (a word's start), or the
/// end; every word before it taken into `extremes`. Eight words at a time while none of them
/// is zero: one vector comparison, one vector minimum and maximum.
// Wider vectors chosen at run time (`multiversion`, the lanes kept in registers) did not make
// it faster (Intel Xeon, 7 December 2026): the page is read from the cache the cores share,
// at about the speed this loop takes it.
#[inline]
fn to_zero(reals: &[u8], mut p: usize, extremes: &mut Extremes) -> usize {
    const BLOCK: usize = 8 * LANES;
    while let Some(bytes) = reals
        .get(p..p + BLOCK)
        .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
    {
        let block: [f64; LANES] = std::array::from_fn(|k| {
            f64::from_le_bytes(bytes[8 * k..8 * k + 8].try_into().expect("8 bytes"))
        });
        if block
            .iter()
            .fold(false, |zero, x| zero | (x.to_bits() == 0))
        {
            break;
        }
        extremes.take_block(&block);
        p += BLOCK;
    }
    while let Some(bytes) = reals.get(p..p + 8) {
        let x = f64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        if x.to_bits() == 0 {
            break;
        }
        extremes.take(x);
        p += 8;
    }
    p
}

/// `n` as Snappy's length preamble: seven bits a byte, least significant first.
fn put_varint(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A literal element of `a` then `b`: tag 00, its length less one in the tag (under 60) or
/// in the 1 to 4 bytes after it.
fn put_literal(out: &mut Vec<u8>, a: &[u8], b: &[u8]) {
    let Some(m) = (a.len() + b.len()).checked_sub(1) else {
        return;
    };
    if m < 60 {
        out.push((m as u8) << 2);
    } else {
        let width = (usize::BITS - m.leading_zeros()).div_ceil(8) as usize;
        out.push(((59 + width) as u8) << 2);
        out.extend_from_slice(&(m as u32).to_le_bytes()[..width]);
    }
    out.extend_from_slice(a);
    out.extend_from_slice(b);
}

/// Copy elements for `len` bytes from `offset` back, 1 to 64 bytes each: tag 01 (length 4 to
/// 11, offset under 2048, two bytes), 10 (offset under 65,536, three bytes) or 11 (four bytes
/// of offset).
fn put_copy(out: &mut Vec<u8>, offset: usize, mut len: usize) {
    while len > 0 {
        let part = len.min(64);
        if (4..=11).contains(&part) && offset < 2048 {
            out.push(0b01 | (((part - 4) as u8) << 2) | (((offset >> 8) as u8) << 5));
            out.push(offset as u8);
        } else if offset < 1 << 16 {
            out.push(0b10 | (((part - 1) as u8) << 2));
            out.extend_from_slice(&(offset as u16).to_le_bytes());
        } else {
            out.push(0b11 | (((part - 1) as u8) << 2));
            out.extend_from_slice(&(offset as u32).to_le_bytes());
        }
        len -= part;
    }
}

#[cfg(test)]
mod tests {
    use super::super::extremes::min_max;
    use super::*;

    /// Reals as a page holds them (little-endian).
    fn bytes_of(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// `input` (its whole words at its end) through [`compress_reals`] and back through the
    /// `snap` crate's decoder (the one polars reads with); returns the compressed length.
    fn round_trip(input: &[u8]) -> usize {
        let mut out = vec![];
        let (head, reals) = input.split_at(input.len() % 8);
        let extremes = compress_reals(head, reals, &mut out).unwrap();
        let back = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
        assert!(back == input, "{} bytes did not come back", input.len());
        assert_same_extremes(&extremes, reals);
        out.len()
    }

    /// `extremes` are [`min_max`] of `reals` (NaN as NaN).
    fn assert_same_extremes(extremes: &Extremes, reals: &[u8]) {
        let values: Vec<f64> = reals
            .chunks_exact(8)
            .map(|w| f64::from_le_bytes(w.try_into().unwrap()))
            .collect();
        let bits = |e: Option<(f64, f64)>| {
            e.map(|(lo, hi)| {
                let b = |x: f64| if x.is_nan() { u64::MAX } else { x.to_bits() };
                (b(lo), b(hi))
            })
        };
        let (ours, want) = (extremes.finish(), min_max(&values));
        // Zeros of either sign compare equal and either may come out (the statistics write
        // a zero least value as -0.0 and a zero greatest as +0.0 whichever it is).
        let zero_signs = |e: Option<(f64, f64)>| e.map(|(lo, hi)| (lo + 0.0, hi + 0.0));
        assert_eq!(
            bits(zero_signs(ours)),
            bits(zero_signs(want)),
            "{} values",
            values.len()
        );
    }

    #[test]
    fn the_extremes_are_min_max_of_every_value() {
        // Runs of zeros, kernels copied by their rise and fall, and the values min_max must
        // see wherever they fall: in a block of eight, in the words after one, inside a
        // copied rise, or as the only values.
        let k = kernel();
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            -1e300,
            1e-310,
        ];
        for (s, &special) in specials.iter().enumerate() {
            for at in [0, 3, 8, 9, 20, 55, 60, 130, 240] {
                let mut values = [
                    vec![0.0; 5],
                    k.clone(),
                    vec![0.0; 3],
                    k.clone(),
                    vec![0.0; 2],
                    k.clone(),
                    vec![7.0; 13],
                ]
                .concat();
                values[at] = special;
                let (reals, mut out) = (bytes_of(&values), vec![]);
                let extremes = compress_reals(&[], &reals, &mut out).unwrap();
                assert_same_extremes(&extremes, &reals);
                let back = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
                assert!(back == reals, "special {s} at {at}");
            }
            let lone = bytes_of(&[special]);
            assert_same_extremes(&compress_reals(&[], &lone, &mut vec![]).unwrap(), &lone);
        }
        assert_eq!(
            compress_reals(&[1, 2], &[], &mut vec![]).unwrap().finish(),
            None
        );
    }

    /// Pseudo-random bytes (xorshift), reproducible.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    /// A Gaussian kernel's 101 samples (Hz), as a lone spike's rate.
    fn kernel() -> Vec<f64> {
        (0..101)
            .map(|k| (-((k as f64 - 50.0) / 10.0).powi(2) / 2.0).exp() * 39.89)
            .collect()
    }

    #[test]
    fn every_shape_comes_back_through_snap() {
        // Short inputs, with no whole word or zero words at every misalignment.
        for n in 0..40 {
            round_trip(&noise(n, n as u64));
            round_trip(&vec![0; n]);
        }
        let random = noise(100_003, 7);
        let len = round_trip(&random);
        // Incompressible: the preamble and one literal's header on top.
        assert!(len <= random.len() + 10, "{len}");
        for prefix in 0..8 {
            let mut input = noise(prefix, 3);
            input.extend(bytes_of(&[0.0; 1000]));
            input.extend(bytes_of(&[1.5, 2.5, 3.5]));
            input.extend(bytes_of(&[0.0; 77]));
            input.extend(bytes_of(&[4.5]));
            input.extend(bytes_of(&[0.0; 1]));
            round_trip(&input);
        }
        // Literals around each header width (60, 256 and 65,536 bytes less one) between runs.
        for n in [59, 60, 61, 255, 256, 257, 65_535, 65_536, 65_537] {
            let mut input = noise(n, n as u64);
            input.extend(bytes_of(&[0.0; 3]));
            input.extend(noise(n, 1 + n as u64));
            round_trip(&input);
        }
    }

    #[test]
    fn a_head_of_levels_goes_out_first() {
        // A page's levels (4 to 10 bytes in practice) before values of every shape: none, no
        // zero, zeros first, zeros last, all zeros.
        let k = kernel();
        let shapes: [Vec<f64>; 5] = [
            vec![],
            k.clone(),
            [vec![0.0; 9], k.clone(), vec![0.0; 3], k.clone()].concat(),
            [k.clone(), vec![0.0; 9]].concat(),
            vec![0.0; 50],
        ];
        for h in 0..14 {
            let head = noise(h, 100 + h as u64);
            for values in &shapes {
                let reals = bytes_of(values);
                let mut out = vec![];
                compress_reals(&head, &reals, &mut out).unwrap();
                let back = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
                assert!(
                    back == [head.as_slice(), &reals].concat(),
                    "head of {h} bytes"
                );
            }
        }
        // Values that are not whole words are refused.
        assert!(compress_reals(&[], &[0; 12], &mut vec![]).is_none());
    }

    #[test]
    fn silences_and_lone_kernels_shrink() {
        // A silent train: 8000 bytes of zeros in 2 bytes for every 64 and a few more.
        assert!(round_trip(&bytes_of(&[0.0; 1000])) < 8000 / 64 * 3 + 16);
        // Lone spikes: each kernel is copied back from the previous one, its rise after a
        // silence and its fall before the next, around some overlap of two kernels.
        let k = kernel();
        let mut values = vec![];
        for j in 0..50 {
            values.extend(vec![0.0; 20 + j]);
            values.extend(&k);
            if j % 5 == 0 {
                values.extend((0..13).map(|i| (j * 13 + i) as f64 * 0.123));
                values.extend(&k[60..]);
            }
        }
        let input = bytes_of(&values);
        let len = round_trip(&input);
        assert!(len < input.len() / 10, "{len} of {}", input.len());
        // The same kernel's fall into a silence 9000 values (72 KB) after the first: copied
        // (about 850 bytes in 14 copies with 4-byte offsets).
        let mut values = k.clone();
        values.extend([0.0; 5]);
        values.extend((0..9000).map(|i| i as f64 + 0.5));
        values.extend(&k);
        values.extend([0.0; 5]);
        let input = bytes_of(&values);
        let len = round_trip(&input);
        assert!(len < input.len() - 750, "{len} of {}", input.len());
    }

    #[test]
    fn a_periodic_stretch_is_copied_whole() {
        let period = noise(37_503, 11);
        for (start, times, tail) in [(0, 1, 0), (1, 2, 0), (5, 32, 3), (7, 3, 100)] {
            let mut input = noise(start, 5);
            for _ in 0..times {
                input.extend(&period);
            }
            let end = input.len();
            input.extend(noise(tail, 9));
            let mut out = vec![];
            compress_periodic(&input, start, period.len(), end, &mut out).unwrap();
            let back = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
            assert!(back == input, "start {start}, {times} periods, tail {tail}");
            // One period literal, then 3 bytes for every 64 copied (offset under 65,536).
            let copied = (times - 1) * period.len();
            assert!(out.len() <= start + period.len() + tail + copied.div_ceil(64) * 3 + 16);
        }
        // Every kind of copy decodes: periods under 2048 bytes, under 64 KB and past it, each
        // copied for lengths of 1 to 3 bytes (2-byte offsets), 4 to 11 (the 1-byte offsets'
        // range), and more.
        for p in [1, 3, 8, 100, 2047, 2048, 3000, 70_000] {
            let period = noise(p, p as u64);
            for copied in [1, 3, 4, 8, 11, 12, 64, 65, 4 * p] {
                let input: Vec<u8> = period
                    .iter()
                    .copied()
                    .cycle()
                    .take(p + copied + 1)
                    .collect();
                let mut out = vec![];
                compress_periodic(&input, 0, p, p + copied, &mut out).unwrap();
                let back = snap::raw::Decoder::new().decompress_vec(&out).unwrap();
                assert!(back == input, "period {p}, {copied} copied");
            }
        }
        let mut out = vec![];
        assert!(compress_periodic(&[1, 2, 3], 1, 3, 3, &mut out).is_none());
        assert!(compress_periodic(&[1, 2, 3], 0, 0, 3, &mut out).is_none());
        assert!(compress_periodic(&[1, 2, 3], usize::MAX, 1, 3, &mut out).is_none());
    }
}
