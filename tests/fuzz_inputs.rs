//! Random inputs for every reader, in-process and seeded so a failure repeats: the `.ode`
//! parser, model TOML files, stimulus texts and files, spike files (CSV and Parquet) and study
//! files. Inputs are the repository's own files mutated (bytes changed, spans deleted or
//! repeated, keywords inserted, files cut or spliced) and soups of the languages' tokens.
//! Each input is parsed (and what parses is exercised a little); the test asserts that nothing
//! panics and that every refusal is a message naming the file (and, for `.ode`, a line and
//! column). A stack overflow or an abort would end the test binary, which fails it too, and
//! with it every end-to-end test's result (they share one binary).
//!
//! This is the quick, always-run face of the cargo-fuzz targets in `tests/fuzz` (which run for
//! minutes each; see the README). `FUZZ_ROUNDS=N` multiplies the number of inputs.

use excitable::model::file;
use excitable::model::ode::OdeModel;
use excitable::report::Wait;
use excitable::report::spike_trains::read_spikes;
use excitable::spec::StatsSpec;
use excitable::stimulus::{MAX_BREAKPOINTS, Stimulus};
use excitable::study::Study;
use excitable::study::run::{RunOptions, prepare};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// A seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// How many inputs per seed file: 1, or `FUZZ_ROUNDS`.
fn rounds() -> usize {
    std::env::var("FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
}

/// Bytes that break parsers: delimiters, operators, quotes, digits, signs, exponent markers,
/// non-ASCII.
const BYTES: &[u8] = b"()[]{},;:=+-*/^<>!&|'\"#@.eE0123456789 \n\t\\_xyzvVt\xc3\xa9";

/// `seed` changed one to four times.
fn mutate(rng: &mut Rng, seed: &[u8], tokens: &[&str], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = v.len().max(1);
        let at = rng.below(n + 1).min(v.len());
        match rng.below(7) {
            0 if !v.is_empty() => {
                let k = rng.below(v.len());
                v[k] = *rng.pick(BYTES);
            }
            1 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            2 => {
                // A span repeated, up to hundreds of times (long lines, deep nesting).
                let end = (at + 1 + rng.below(24)).min(v.len());
                let span = v[at..end].to_vec();
                let times = if rng.below(4) == 0 {
                    300
                } else {
                    1 + rng.below(4)
                };
                for _ in 0..times {
                    v.splice(at..at, span.iter().copied());
                }
            }
            3 => {
                let t = rng.pick(tokens).as_bytes().to_vec();
                v.splice(at..at, t);
            }
            4 => v.truncate(at),
            5 if !other.is_empty() => {
                // Splice: this file's head, another's tail.
                let from = rng.below(other.len());
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
            _ => {
                // A number made extreme.
                let t = *rng.pick(&[
                    "1e308", "-1e308", "1e-320", "nan", "inf", "0", "-0", "1e999",
                ]);
                v.splice(at..at, t.bytes());
            }
        }
    }
    v
}

/// Tokens joined at random: a soup of the language.
fn soup(rng: &mut Rng, tokens: &[&str]) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..1 + rng.below(60) {
        s.push_str(rng.pick::<&str>(tokens));
        if rng.below(5) == 0 {
            s.push('\n');
        }
    }
    s.into_bytes()
}

/// Run `f` on `input`; a panic fails the test with the input saved beside the target folder.
fn no_panic(what: &str, k: usize, input: &[u8], f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join(format!("fuzz-{what}-{k}"));
        std::fs::write(&path, input).unwrap();
        panic!("{what}: input {k} panicked; saved as {}", path.display());
    }
}

fn files(dir: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every mutant and soup for `seeds`: `per_seed` each, `f` called with the text's bytes.
fn each_input(
    rng: &mut Rng,
    seeds: &[(String, Vec<u8>)],
    tokens: &[&str],
    per_seed: usize,
    mut f: impl FnMut(usize, Vec<u8>),
) {
    let mut k = 0;
    for (i, (_, seed)) in seeds.iter().enumerate() {
        let other = &seeds[(i + 1) % seeds.len()].1;
        for _ in 0..per_seed * rounds() {
            let input = if rng.below(8) == 0 {
                soup(rng, tokens)
            } else {
                mutate(rng, seed, tokens, other)
            };
            f(k, input);
            k += 1;
        }
    }
}

const ODE_TOKENS: &[&str] = &[
    "par ",
    "param ",
    "p ",
    "init ",
    "aux ",
    "number ",
    "done",
    "@ ",
    "total=",
    "dt=",
    "meth=",
    "table ",
    "markov ",
    "wiener ",
    "global ",
    "x'=",
    "dx/dt=",
    "x(0)=",
    "exp(",
    "sin(",
    "heav(",
    "if(",
    ")then(",
    ")else(",
    "sum(",
    ")of(",
    "i'",
    "[1..3]",
    "[j]",
    "f(x,y)=",
    "x",
    "y",
    "v",
    "t",
    "pi",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    "(",
    ")",
    ",",
    "=",
    "<",
    ">=",
    "&",
    "|",
    "!",
    "#",
    "0",
    "1.5",
    "-2e3",
    "1e308",
    " ",
    "\n",
    "!a=",
    "int{",
    "}",
    "#done",
    "volterra ",
    "delay(",
    "lag(",
    "shift(",
    "ran(",
    "normal(",
    "flr(",
    "mod(",
    "max(",
];

/// The `.ode` reader: our model files and the XPPAUT fixtures, mutated; a soup of its tokens.
/// Every refusal points into the file; a model that parses evaluates its right-hand side.
#[test]
fn ode_parser_on_random_inputs() {
    let mut seeds = files("studies/models", "ode");
    seeds.extend(files("tests/fixtures/xppaut", "ode"));
    assert!(seeds.len() >= 5);
    let mut rng = Rng(0x0de);
    let (mut parsed, mut refused) = (0, 0);
    each_input(&mut rng, &seeds, ODE_TOKENS, 600, |k, input| {
        let text = String::from_utf8_lossy(&input).into_owned();
        no_panic("ode", k, &input, || {
            match OdeModel::parse(&text, "fuzz.ode", "fuzz") {
                Err(e) => {
                    assert!(e.line >= 1 && e.col >= 1, "{e}");
                    assert!(e.to_string().starts_with("fuzz.ode:"), "{e}");
                    refused += 1;
                }
                Ok(m) => {
                    let p = m.params.values();
                    let n = m.vars.len();
                    for y0 in [0.0, -65.0, 1e3] {
                        let y = vec![y0; n];
                        let mut dy = vec![0.0; n];
                        m.rhs(&p, 0.5, &y, &mut dy);
                        let mut fast = vec![0.0; n];
                        m.rhs_f64(&p, 0.5, &y, &mut fast, &mut Vec::new());
                        for (a, b) in dy.iter().zip(&fast) {
                            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
                        }
                    }
                    let _ = m.reads_time();
                    parsed += 1;
                }
            }
        });
    });
    eprintln!("ode: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
}

const TOML_TOKENS: &[&str] = &[
    "[[param]]\n",
    "[[gate]]\n",
    "[[current]]\n",
    "name = ",
    "value = ",
    "\"x\"",
    "\"g_l\"",
    "alpha = ",
    "beta = ",
    "inf = ",
    "tau = ",
    "{ form = \"exp\", a = 1, b = -65, c = 18 }",
    "{ form = \"constant\", a = 0.0 }",
    "{ form = \"linexp\", a = 0.1, b = -40, c = 10 }",
    "g = ",
    "e = ",
    "gates = ",
    "\"m^3 h\"",
    "= ",
    "1e308",
    "-1",
    "0",
    "nan",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "#",
    "'",
    "\"",
    "v_search_mv = [-200, 100]\n",
    "units = ",
    "threshold = ",
    "[[step]]\n",
    "command = ",
    "\"simulate\"",
    "\"stats\"",
    "\"fi\"",
    "args = ",
    "{ model = \"hh\", t-max = 5 }",
    "{ spikes = \"{out}/a/spikes.parquet\" }",
    "[[check]]\n",
    "title = ",
    "optional = true\n",
    "model-file = ",
    "set = [\"g_k=1e9\"]",
];

/// Model TOML files: refused naming the file, or loaded and evaluated.
#[test]
fn model_toml_on_random_inputs() {
    let mut seeds = files("studies/models", "toml");
    seeds.push((
        "leaky.toml".into(),
        b"name = \"leaky\"\n[[param]]\nname = \"c_m\"\nvalue = 1.0\n[[param]]\nname = \"g_l\"\nvalue = 0.1\n[[param]]\nname = \"e_l\"\nvalue = -70.0\n[[current]]\nname = \"l\"\ng = \"g_l\"\ne = \"e_l\"\n".to_vec(),
    ));
    let mut rng = Rng(0x70_0d);
    let (mut parsed, mut refused) = (0, 0);
    each_input(&mut rng, &seeds, TOML_TOKENS, 800, |k, input| {
        let text = String::from_utf8_lossy(&input).into_owned();
        no_panic("model-toml", k, &input, || {
            match file::parse(&text, "fuzz.toml") {
                Err(e) => {
                    assert!(e.to_string().contains("fuzz.toml"), "{e}");
                    refused += 1;
                }
                Ok(m) => {
                    let n = m.dim();
                    let p = m.params.values();
                    for v in [-300.0, -65.0, 0.0, 40.0] {
                        let mut y = vec![0.5; n];
                        y[0] = v;
                        let mut dy = vec![0.0; n];
                        m.rhs(&p, &y, 1.0, &mut dy);
                    }
                    parsed += 1;
                }
            }
        });
    });
    eprintln!("model toml: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
}

const STIM_TOKENS: &[&str] = &[
    "step:", "pulses:", "ramp:", "sine:", "noise:", "const:", ":", ",", "+", "-", "1", "0.5",
    "1e308", "1e-300", "-1e300", "nan", "inf", "1e999", "0", "100", "e", "  ", "::", "++",
];

/// Stimulus texts (`--stim`; `file:` parts left out, they read any path) and stimulus files.
#[test]
fn stimulus_texts_and_files_on_random_inputs() {
    let texts: Vec<(String, Vec<u8>)> = [
        "10",
        "step:5:15:1",
        "pulses:100,200,300:5:5",
        "ramp:0:100:0:20",
        "sine:2:40:90",
        "noise:8:25:42:0.1",
        "const:3",
        "pulses:500,550,1000:5:5+noise:0:3:11",
        "1e+3+step:0:1:2",
    ]
    .iter()
    .map(|s| (s.to_string(), s.as_bytes().to_vec()))
    .collect();
    let exercise = |s: &Stimulus| {
        for t in [0.0, 0.5, 10.0, 1e3, 1e6, -1.0, 1e300] {
            let _ = s.at(t);
        }
        let _ = s.is_constant();
        let _ = s.for_neuron(7).at(1.0);
        // Listed only within their limit (a noise with a tiny DT has too many to list).
        let count = s.breakpoint_count(0.0, 1e4);
        if count <= MAX_BREAKPOINTS {
            let b = s.breakpoints(0.0, 1e4);
            assert!(b.len() as f64 <= count, "{} > {count}", b.len());
            assert!(b.windows(2).all(|w| w[0] < w[1]), "breakpoints sorted");
        }
    };
    let mut rng = Rng(0x5_717);
    let (mut parsed, mut refused) = (0, 0);
    each_input(&mut rng, &texts, STIM_TOKENS, 400, |k, input| {
        let text = String::from_utf8_lossy(&input).into_owned();
        if text.contains("file") {
            return;
        }
        let parts: Vec<&str> = text.split('\n').collect();
        no_panic("stimulus", k, &input, || {
            match Stimulus::parse_all(&parts) {
                Ok(s) => {
                    exercise(&s);
                    parsed += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        });
    });
    // Stimulus files: CSV of (t_ms, i_ua_cm2), mutated.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stim.csv");
    let csvs: Vec<(String, Vec<u8>)> = [
        "t_ms,i_ua_cm2\n0,0\n10,5\n20,0\n",
        "i_ua_cm2,t_ms\n1,0.5\n2,1.5\n3,2.5\n",
    ]
    .iter()
    .map(|s| (s.to_string(), s.as_bytes().to_vec()))
    .collect();
    let spec = format!("file:{}", path.display());
    each_input(&mut rng, &csvs, STIM_TOKENS, 400, |k, input| {
        std::fs::write(&path, &input).unwrap();
        no_panic("stimulus-file", k, &input, || {
            match Stimulus::parse(&spec) {
                Ok(s) => {
                    exercise(&s);
                    parsed += 1;
                }
                Err(e) => {
                    assert!(e.to_string().contains("stimulus file"), "{e}");
                    refused += 1;
                }
            }
        });
    });
    eprintln!("stimulus: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
}

/// Spike files, CSV and Parquet (`stats --spikes`): read or refused with "cannot read" and the
/// file; trains that are read get their statistics or a refusal naming a setting.
#[test]
fn spike_files_on_random_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_excitable"))
        .current_dir(dir.path())
        .args([
            "simulate",
            "--stim",
            "10",
            "--t-max",
            "60",
            "--record",
            "spikes",
            "--neurons",
            "3",
            "--currents",
            "8:12",
            "--out",
            "s",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let parquet = std::fs::read(dir.path().join("s/spikes.parquet")).unwrap();
    let csv = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spike_trains.csv"),
    )
    .unwrap();
    let csv = String::from_utf8_lossy(&csv)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                "neuron,t_ms".to_string()
            } else {
                let t = l.rsplit(',').next().unwrap_or("0");
                format!("{},{t}", i % 3)
            }
        })
        .take(400)
        .collect::<Vec<_>>()
        .join("\n");
    let tokens: &[&str] = &[
        ",", "\n", "1e300", "-1", "nan", "0", "t_ms", "neuron", "\"", "1.5",
    ];
    let mut rng = Rng(0x5_91_4e);
    let (mut read, mut refused) = (0, 0);
    for (ext, seed, per) in [("csv", csv.into_bytes(), 600), ("parquet", parquet, 300)] {
        let path = dir.path().join(format!("spikes.{ext}"));
        let seeds = vec![(ext.to_string(), seed)];
        each_input(&mut rng, &seeds, tokens, per, |k, input| {
            std::fs::write(&path, &input).unwrap();
            no_panic(&format!("spikes-{ext}"), k, &input, || {
                match read_spikes(&path) {
                    Err(e) => {
                        let e = e.to_string();
                        assert!(e.contains("cannot read") && e.contains("spikes."), "{e}");
                        refused += 1;
                    }
                    Ok(trains) => {
                        read += 1;
                        let last = trains.iter().flatten().fold(0.0f64, |m, &t| m.max(t));
                        // The statistics' own limits are tested elsewhere; keep each run short.
                        if trains.iter().any(|t| !t.is_empty())
                            && last < 1e5
                            && let Err(e) = StatsSpec::default().run(&trains)
                        {
                            assert!(!e.to_string().is_empty());
                        }
                    }
                }
            });
        });
    }
    eprintln!("spikes: {read} read, {refused} refused");
    assert!(read > 0 && refused > 0);
}

/// Study files: refused naming the file, or every step resolved and checked (nothing run,
/// nothing written).
#[test]
fn study_files_on_random_inputs() {
    let seeds = files("studies", "toml");
    assert!(!seeds.is_empty());
    let mut rng = Rng(0x57_0d1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never").join("OUT");
    let (mut parsed, mut refused) = (0, 0);
    each_input(&mut rng, &seeds, TOML_TOKENS, 60, |k, input| {
        let text = String::from_utf8_lossy(&input).into_owned();
        no_panic("study", k, &input, || {
            match Study::parse(&text, "fuzz.toml") {
                Err(e) => {
                    assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
                    refused += 1;
                }
                Ok(study) => {
                    parsed += 1;
                    let opts = RunOptions {
                        fast: true,
                        wait: Wait::No,
                    };
                    if let Err(e) = prepare(&study, &out, opts) {
                        assert!(!e.to_string().is_empty());
                    }
                }
            }
        });
    });
    assert!(!dir.path().join("never").exists(), "checking a study wrote");
    eprintln!("study: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
}

/// Found by the `spikes` fuzz target: a Parquet file whose dictionary page claims more values
/// than its validity bitmap holds makes polars 0.55 panic inside its reader (a rayon worker).
/// The guarded read turns it into the one-line refusal naming the file.
#[test]
fn a_parquet_file_that_panics_polars_is_refused_by_name() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/spikes_polars_panic.parquet");
    let e = read_spikes(&path).unwrap_err().to_string();
    assert!(
        e.contains("cannot read") && e.contains("spikes_polars_panic.parquet"),
        "{e}"
    );
}
