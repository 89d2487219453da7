//! Any stimulus text (`--stim`, `--input`, a study's `stim`) and any stimulus file
//! (`file:I.csv`) either parses or is refused with a message; a parsed stimulus evaluates
//! anywhere, lists its breakpoints over a long run and shifts its noise seeds, without a panic,
//! a hang or unbounded memory.
//!
//! The first byte chooses: even, the rest is stimulus texts (one per line, summed as repeated
//! `--stim`); odd, the rest is the content of a stimulus file read through `file:`.
#![no_main]

use excitable::stimulus::{MAX_BREAKPOINTS, Stimulus};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fn exercise(s: &Stimulus) {
    for t in [0.0, 0.5, 10.0, 1e3, 1e6, -1.0, 1e300] {
        let _ = s.at(t);
    }
    let _ = s.is_constant();
    let _ = s.for_neuron(7).at(1.0);
    let _ = s.clone().plus_constant(1.5).at(2.0);
    // The breakpoints of a long window, listed only within their limit (a noise with a tiny
    // DT has more than memory holds: runs refuse it by the count).
    let count = s.breakpoint_count(0.0, 1e4);
    if count <= MAX_BREAKPOINTS {
        let b = s.breakpoints(0.0, 1e4);
        assert!(b.len() as f64 <= count);
        assert!(b.windows(2).all(|w| w[0] < w[1]), "breakpoints sorted");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        // A `file:` part would read any path on the machine: files are the odd branch's.
        if text.contains("file") {
            return;
        }
        let parts: Vec<&str> = text.split('\n').collect();
        match Stimulus::parse_all(&parts) {
            Ok(s) => exercise(&s),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    } else {
        let path = std::env::temp_dir().join(format!("excitable-fuzz-stim-{}.csv", std::process::id()));
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(rest).unwrap();
        drop(f);
        match Stimulus::parse(&format!("file:{}", path.display())) {
            Ok(s) => exercise(&s),
            Err(e) => assert!(e.to_string().contains("stimulus file"), "{e}"),
        }
    }
});
