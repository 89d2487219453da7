//! Columns of numbers from a plain CSV text, parsed in parallel: a spikes file of 400,000
//! lines is read in a few milliseconds per core instead of a record at a time.
//!
//! "Plain" means no quoting: a text holding a `"` is left to the `csv` crate (the caller
//! checks with [`is_plain`]). Lines end in `\n` or `\r\n`; empty lines and comment lines
//! (their first byte `#`) are skipped, as the `csv` crate skips them with `comment(b'#')`;
//! every other line must have the header's number of fields. Errors
//! name the line (the header is line 1) and the column, as the sequential reader's do.

use rayon::prelude::*;

/// What a piece of the text gives: its line count, and its columns or its first error as
/// (line within the piece, why).
type Piece = (usize, Result<Vec<Vec<f64>>, (usize, String)>);

/// True when `text` can be split at line ends without looking at quotes.
pub fn is_plain(text: &[u8]) -> bool {
    !text.contains(&b'"')
}

/// The fields of the header line (trimmed), the byte offset where the rows start and the
/// header's line number. As the `csv` crate does, a UTF-8 byte-order mark (spreadsheets write
/// one), blank lines and comment lines before the header are skipped.
pub fn header(text: &str) -> (Vec<String>, usize, usize) {
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut line_no = 1;
    loop {
        let end = text[start..]
            .find('\n')
            .map_or(text.len(), |i| start + i + 1);
        let line = text[start..end].trim_end_matches(['\n', '\r']);
        if (line.is_empty() || line.starts_with('#')) && end < text.len() {
            start = end;
            line_no += 1;
            continue;
        }
        if line.starts_with('#') {
            // Comments alone: no header.
            return (vec![], end, line_no);
        }
        let names = line.split(',').map(|f| f.trim().to_string()).collect();
        return (names, end, line_no);
    }
}

/// The columns `wanted` (indices into the header's `width` fields, with their names for the
/// errors) of the rows in `body`, which starts on line `first_line`; every value must be a
/// finite number.
pub fn parse_columns(
    body: &str,
    first_line: usize,
    width: usize,
    wanted: &[(usize, &str)],
    max_line_bytes: usize,
) -> Result<Vec<Vec<f64>>, String> {
    let chunks = split_at_lines(body, 4 * rayon::current_num_threads());
    let parsed: Vec<Piece> = chunks
        .par_iter()
        .map(|chunk| parse_chunk(chunk, width, wanted, max_line_bytes))
        .collect();
    // Each column allocated once, at its full length (grown piece by piece, it was copied
    // again at every doubling).
    let mut out: Vec<Vec<f64>> = (0..wanted.len())
        .map(|c| {
            let rows = parsed
                .iter()
                .map(|(_, r)| r.as_ref().map_or(0, |cols| cols[c].len()));
            Vec::with_capacity(rows.sum())
        })
        .collect();
    let mut line = first_line;
    for (lines, result) in parsed {
        match result {
            Ok(cols) => {
                for (o, c) in out.iter_mut().zip(cols) {
                    o.extend(c);
                }
            }
            Err((k, why)) => return Err(format!("line {}: {why}", line + k)),
        }
        line += lines;
    }
    Ok(out)
}

/// `text` cut into about `n` pieces, each ending at a line end (the last at the text's end).
fn split_at_lines(text: &str, n: usize) -> Vec<&str> {
    let step = text.len().div_ceil(n.max(1)).max(1 << 16);
    let mut pieces = vec![];
    let mut start = 0;
    while start < text.len() {
        let cut = (start + step).min(text.len());
        let end = match text.as_bytes()[cut..].iter().position(|&b| b == b'\n') {
            Some(i) => cut + i + 1,
            None => text.len(),
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

/// The lines in `chunk` and its columns, or the first error.
fn parse_chunk(
    chunk: &str,
    width: usize,
    wanted: &[(usize, &str)],
    max_line_bytes: usize,
) -> Piece {
    let mut cols: Vec<Vec<f64>> = wanted
        .iter()
        .map(|_| Vec::with_capacity(chunk.len() / 16))
        .collect();
    let mut lines = 0;
    // Each field's byte range in the line: found by one pass over its bytes (a line is a few
    // dozen bytes, where a search per field cost more than the parse of its number).
    let mut fields: Vec<(usize, usize)> = vec![(0, 0); width];
    for raw in chunk.split_inclusive('\n') {
        let k = lines;
        lines += 1;
        let line = without_line_end(raw);
        if line.len() > max_line_bytes {
            return (
                lines,
                Err((k, format!("longer than {max_line_bytes} bytes"))),
            );
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (mut count, mut start) = (0, 0);
        for (i, &b) in line.as_bytes().iter().enumerate() {
            if b == b',' {
                if let Some(f) = fields.get_mut(count) {
                    *f = (start, i);
                }
                count += 1;
                start = i + 1;
            }
        }
        if let Some(f) = fields.get_mut(count) {
            *f = (start, line.len());
        }
        count += 1;
        if count != width {
            return (
                lines,
                Err((k, format!("{count} fields, the header has {width}"))),
            );
        }
        for ((c, name), col) in wanted.iter().zip(cols.iter_mut()) {
            let (a, b) = fields[*c];
            // Commas are ASCII: the ranges fall on character boundaries.
            match number(&line[a..b]) {
                Some(v) => col.push(v),
                None => {
                    let s = line[a..b].trim();
                    return (
                        lines,
                        Err((k, format!("{name} '{s}' is not a finite number"))),
                    );
                }
            }
        }
    }
    (lines, Ok(cols))
}

/// `raw` without the `\n`s and `\r`s it ends in.
fn without_line_end(raw: &str) -> &str {
    let mut end = raw.len();
    while end > 0 && matches!(raw.as_bytes()[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &raw[..end]
}

/// The finite number a field holds, its surrounding whitespace ignored. A whole number of up
/// to 15 digits (a neuron's index) is read digit by digit, exactly as `str::parse` reads it
/// (below 10^15 < 2^53 every such number is a double), at a fraction of the cost; a field
/// that starts and ends with visible ASCII needs no trimming.
fn number(field: &str) -> Option<f64> {
    let b = field.as_bytes();
    if (1..=15).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0u64, |n, d| 10 * n + u64::from(d - b'0')) as f64);
    }
    let visible = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_graphic());
    let s = if visible(b.first()) && visible(b.last()) {
        field
    } else {
        field.trim()
    };
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_in_order_across_pieces_and_errors_name_their_line() {
        // Enough rows for several pieces (each at least 64 KiB).
        let mut text = String::from("neuron, t_ms ,x\r\n");
        for k in 0..60_000 {
            text.push_str(&format!("{},{}.5,7\n", k % 3, k));
            if k == 100 {
                text.push('\n');
            }
        }
        assert!(is_plain(text.as_bytes()));
        let (names, start, line) = header(&text);
        assert_eq!(
            (names, line),
            (vec!["neuron".to_string(), "t_ms".into(), "x".into()], 1)
        );
        // A spreadsheet's byte-order mark and blank lines before the header are skipped.
        let bom = "\u{feff}\n\r\nneuron,t_ms\n0,1\n";
        let (names, rows, line) = header(bom);
        assert_eq!(
            (names, line),
            (vec!["neuron".to_string(), "t_ms".into()], 3)
        );
        assert_eq!(&bom[rows..], "0,1\n");
        let cols =
            parse_columns(&text[start..], 2, 3, &[(1, "t_ms"), (0, "neuron")], 1 << 20).unwrap();
        assert_eq!(cols[0].len(), 60_000);
        assert!(
            cols[0]
                .iter()
                .enumerate()
                .all(|(k, t)| *t == k as f64 + 0.5)
        );
        assert!(
            cols[1]
                .iter()
                .enumerate()
                .all(|(k, n)| *n == (k % 3) as f64)
        );
        // Line 2 is the first row; the blank line after row 100 is line 103.
        let bad = format!("{}7,x,1\n", &text[start..]);
        assert_eq!(
            parse_columns(&bad, 2, 3, &[(0, "neuron"), (1, "t_ms")], 1 << 20).unwrap_err(),
            "line 60003: t_ms 'x' is not a finite number"
        );
        // Two-column inputs from line 2: fields are split at every comma, then trimmed; too
        // few, too many or an empty one is refused.
        // (text, columns wanted, the columns or the error).
        type Case<'a> = (
            &'a str,
            &'a [(usize, &'a str)],
            Result<Vec<Vec<f64>>, &'a str>,
        );
        let cases: [Case; 6] = [
            (
                "1,2\n3\n",
                &[(0, "a")],
                Err("line 3: 1 fields, the header has 2"),
            ),
            (
                "1,inf\n",
                &[(1, "t_ms")],
                Err("line 2: t_ms 'inf' is not a finite number"),
            ),
            (
                "1,2,3\n",
                &[(0, "a")],
                Err("line 2: 3 fields, the header has 2"),
            ),
            (
                "1,\n",
                &[(1, "t_ms")],
                Err("line 2: t_ms '' is not a finite number"),
            ),
            (
                " 4 , 5.5 \r\n,\t6\n",
                &[(1, "t"), (0, "n")],
                Err("line 3: n '' is not a finite number"),
            ),
            (
                " 4 , 5.5 \r\n7,\t6\n",
                &[(1, "t"), (0, "n")],
                Ok(vec![vec![5.5, 6.0], vec![4.0, 7.0]]),
            ),
        ];
        for (text, wanted, want) in cases {
            let got = parse_columns(text, 2, 2, wanted, 1 << 20);
            assert_eq!(got, want.map_err(String::from), "{text:?}");
        }
        assert!(!is_plain(b"a,\"b\"\n"));
    }

    /// Whole numbers take their own path; every field reads as `str::parse` of the trimmed
    /// field reads it.
    #[test]
    fn fields_read_as_the_standard_parser_reads_them() {
        let fields = [
            "0",
            "7",
            "007",
            "42",
            "999999999999999",
            "9999999999999999",
            "123456789012345",
            "1234567890123456789",
            "12.5",
            "-3",
            "+4",
            " 5",
            "6 ",
            "\t8\t",
            "\u{a0}9",
            "1e3",
            "0x10",
            "",
            " ",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "12345.678901234567",
            "\u{663}",
            "1_000",
            "\r",
            "9\u{a0}",
            "\u{2003}1\u{2003}",
            "1 2",
            "1\r2",
            "-0",
            "99999999999999999999",
            "000000000000000000007",
        ];
        for f in fields {
            let want = f.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            assert_eq!(number(f), want, "{f:?}");
        }
        assert_eq!(number("999999999999999"), Some(999_999_999_999_999.0));
        for raw in ["a\n", "a\r\n", "a\r\r\n", "a", "\n", ""] {
            assert_eq!(without_line_end(raw), raw.trim_end_matches(['\n', '\r']));
        }
    }
}
