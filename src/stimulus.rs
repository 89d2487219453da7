//! Injected current I(t) in uA/cm^2, built from simple parts and summed.
//!
//! Text form (one `--stim` each, or joined with `+`; times in ms, amplitudes in uA/cm^2):
//!
//! | text                              | meaning                                                         |
//! |-----------------------------------|-----------------------------------------------------------------|
//! | `10` or `const:10`                | constant 10                                                     |
//! | `step:START:STOP:AMP`             | AMP for START <= t < STOP                                       |
//! | `pulses:T1,T2,…:WIDTH:AMP`        | AMP for Tk <= t < Tk+WIDTH (BrainPy's `spike_input`)            |
//! | `ramp:START:STOP:FROM:TO`         | linear from FROM at START to TO at STOP, 0 outside              |
//! | `sine:AMP:FREQ_HZ[:PHASE_DEG]`    | AMP sin(2 pi f t + phase)                                       |
//! | `noise:MEAN:SD:SEED[:DT]`         | Gaussian, a new value every DT ms (default 0.01), seeded        |
//! | `file:PATH`                       | CSV with columns `t_ms,i_ua_cm2`, held constant between samples |
//!
//! Boundary times are compared with a tolerance of 1e-9 ms, so a step grid point computed as
//! `k * dt` that lands on a boundary up to rounding counts as on it.
//!
//! Noise is counter-based: the value in noise interval `k` is a pure function of (seed, k), so it
//! does not depend on the integrator, its step, or the order neurons are run in; neuron `n` of a
//! multi-neuron run uses seed `SEED + n`.

use crate::error::{StimulusError, short};
use std::path::Path;

/// Tolerance (ms) for comparing a time with a stimulus boundary.
pub const TIME_EPS: f64 = 1e-9;

/// Most breakpoints of a stimulus over one run of an adaptive method, which stops at each (a
/// noise's `DT`, steps, pulses, a file's samples): 10^7, 80 MB of times.
pub const MAX_BREAKPOINTS: f64 = 1e7;

/// One additive part of a stimulus.
#[derive(Debug, Clone, PartialEq)]
pub enum Component {
    /// The same current at every time (uA/cm^2): `const:AMP`.
    Constant(f64),
    /// A rectangular step: `amp` for `start <= t < stop`, 0 elsewhere.
    Step {
        /// Onset (ms).
        start: f64,
        /// Offset (ms), excluded.
        stop: f64,
        /// Amplitude while on (uA/cm^2).
        amp: f64,
    },
    /// A train of equal rectangular pulses: `amp` for `Tk <= t < Tk + width`.
    Pulses {
        /// Onset of each pulse (ms).
        times: Vec<f64>,
        /// Duration of every pulse (ms).
        width: f64,
        /// Amplitude while a pulse is on (uA/cm^2).
        amp: f64,
    },
    /// A linear ramp from `from` at `start` to `to` at `stop`, 0 outside `[start, stop)`.
    Ramp {
        /// Onset (ms).
        start: f64,
        /// Offset (ms), excluded.
        stop: f64,
        /// Value at `start` (uA/cm^2).
        from: f64,
        /// Value approached at `stop` (uA/cm^2).
        to: f64,
    },
    /// A sinusoid `amp sin(2 pi freq_hz t / 1000 + phase)`, on for all t.
    Sine {
        /// Amplitude (uA/cm^2).
        amp: f64,
        /// Frequency (Hz; time is in ms, hence the 1/1000).
        freq_hz: f64,
        /// Phase at t = 0 (degrees).
        phase_deg: f64,
    },
    /// Gaussian noise held constant over each interval of `dt`, reproducible from its seed.
    Noise {
        /// Mean (uA/cm^2).
        mean: f64,
        /// Standard deviation (uA/cm^2).
        sd: f64,
        /// Seed of the counter-based generator; neuron `n` of a batch uses `seed + n`.
        seed: u64,
        /// Interval over which one value is held (ms).
        dt: f64,
    },
    /// A sampled current, held at the last sample at or before t (0 before the first).
    Table {
        /// Sample times (ms), increasing.
        t: Vec<f64>,
        /// Current at each sample time (uA/cm^2).
        i: Vec<f64>,
    },
}

/// A sum of [`Component`]s.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stimulus {
    /// The parts, summed at every time; empty means no current.
    pub components: Vec<Component>,
}

#[inline]
fn within(t: f64, start: f64, stop: f64) -> bool {
    t >= start - TIME_EPS && t < stop - TIME_EPS
}

impl Component {
    /// Value at time `t` (ms).
    #[inline]
    pub fn at(&self, t: f64) -> f64 {
        match self {
            Component::Constant(a) => *a,
            Component::Step { start, stop, amp } => {
                if within(t, *start, *stop) {
                    *amp
                } else {
                    0.0
                }
            }
            Component::Pulses { times, width, amp } => {
                if times.iter().any(|&s| within(t, s, s + width)) {
                    *amp
                } else {
                    0.0
                }
            }
            Component::Ramp {
                start,
                stop,
                from,
                to,
            } => {
                if within(t, *start, *stop) {
                    from + (to - from) * ((t - start) / (stop - start)).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            }
            Component::Sine {
                amp,
                freq_hz,
                phase_deg,
            } => {
                amp * (2.0 * std::f64::consts::PI * freq_hz * t / 1000.0 + phase_deg.to_radians())
                    .sin()
            }
            Component::Noise { mean, sd, seed, dt } => {
                let k = ((t + TIME_EPS) / dt).floor();
                mean + sd * standard_normal(*seed, k as i64 as u64)
            }
            Component::Table { t: ts, i } => {
                // Last sample at or before t; 0 before the first sample.
                let n = ts.partition_point(|&s| s <= t + TIME_EPS);
                if n == 0 { 0.0 } else { i[n - 1] }
            }
        }
    }

    /// The integral over [t0, t1] (t0 <= t1), in closed form: exact for every kind.
    /// Pieces held constant (noise, a file's samples) ignore slivers of at most
    /// [`TIME_EPS`] at either end, where a grid time lands on an interval's edge up to
    /// rounding, and weigh the rest up to the whole step, so a step on a noise interval takes
    /// that interval's value alone.
    fn integral(&self, t0: f64, t1: f64) -> f64 {
        let overlap = |a: f64, b: f64| (t1.min(b) - t0.max(a)).max(0.0);
        // Held pieces `(from, to, value)`: their values weighted by the overlaps, slivers left
        // out, scaled to the whole of [t0, t1] that the kept pieces cover.
        let held = |pieces: &mut dyn Iterator<Item = (f64, f64, f64)>| {
            let (mut sum, mut covered, mut all) = (0.0, 0.0, 0.0);
            for (a, b, value) in pieces {
                let w = overlap(a, b);
                all += w;
                if w > TIME_EPS {
                    sum += w * value;
                    covered += w;
                }
            }
            if covered > 0.0 {
                sum * all / covered
            } else {
                0.0
            }
        };
        match self {
            Component::Constant(a) => a * (t1 - t0),
            Component::Step { start, stop, amp } => amp * overlap(*start, *stop),
            Component::Pulses { times, width, amp } => {
                // The union of the pulses, as `at` is `amp` wherever any is on: overlapping
                // or repeated times count once (`pulses:1,1.2:0.5:10` is 10, not 20, over
                // [1.2, 1.5]). Equal widths: in time order, each pulse adds what lies past
                // the cover of those before it.
                let union = |sorted: &mut dyn Iterator<Item = f64>| {
                    let (mut covered, mut total) = (f64::NEG_INFINITY, 0.0);
                    for s in sorted {
                        total += overlap(s.max(covered), s + width);
                        covered = covered.max(s + width);
                    }
                    total
                };
                let total = if times.is_sorted() {
                    union(&mut times.iter().copied())
                } else {
                    let mut sorted = times.clone();
                    sorted.sort_by(f64::total_cmp);
                    union(&mut sorted.into_iter())
                };
                amp * total
            }
            Component::Ramp {
                start,
                stop,
                from,
                to,
            } => {
                let (a, b) = (t0.max(*start), t1.min(*stop));
                if b <= a {
                    return 0.0;
                }
                let value = |t: f64| from + (to - from) * (t - start) / (stop - start);
                (b - a) * 0.5 * (value(a) + value(b))
            }
            Component::Sine {
                amp,
                freq_hz,
                phase_deg,
            } => {
                let w = 2.0 * std::f64::consts::PI * freq_hz / 1000.0;
                let phase = phase_deg.to_radians();
                let half = 0.5 * (t1 - t0);
                if w * half == 0.0 {
                    return amp * (w * t0 + phase).sin() * (t1 - t0);
                }
                // (cos(w t0 + p) - cos(w t1 + p)) / w, as a product that keeps its digits
                // when w (t1 - t0) is small.
                amp * 2.0 * (w * (t0 + half) + phase).sin() * (w * half).sin() / w
            }
            Component::Noise { mean, sd, seed, dt } => {
                let first = (t0 / dt).floor().max(0.0) as u64;
                let last = (t1 / dt).ceil().max(0.0) as u64;
                held(&mut (first..last).map(|k| {
                    let a = k as f64 * dt;
                    (a, a + dt, mean + sd * standard_normal(*seed, k))
                }))
            }
            Component::Table { t: ts, i } => {
                // 0 before the first sample, then each sample's value until the next.
                let from = ts.partition_point(|&s| s <= t0).saturating_sub(1);
                let to = ts.partition_point(|&s| s < t1);
                let before = (
                    f64::NEG_INFINITY,
                    ts.first().copied().unwrap_or(f64::INFINITY),
                    0.0,
                );
                let samples = (from..to.max(from)).map(|j| {
                    let end = ts.get(j + 1).copied().unwrap_or(f64::INFINITY);
                    (ts[j], end, i[j])
                });
                held(&mut std::iter::once(before).chain(samples))
            }
        }
    }

    /// Times in (t0, t1] where the value jumps or its slope changes.
    fn breakpoints(&self, t0: f64, t1: f64, out: &mut Vec<f64>) {
        let mut push = |t: f64| {
            if t > t0 + TIME_EPS && t <= t1 + TIME_EPS {
                out.push(t)
            }
        };
        match self {
            Component::Constant(_) | Component::Sine { .. } => {}
            Component::Step { start, stop, .. } | Component::Ramp { start, stop, .. } => {
                push(*start);
                push(*stop);
            }
            Component::Pulses { times, width, .. } => times.iter().for_each(|&s| {
                push(s);
                push(s + width);
            }),
            Component::Noise { dt, .. } => {
                let first = (t0 / dt).floor() as i64 + 1;
                let last = (t1 / dt).floor() as i64;
                (first..=last).for_each(|k| push(k as f64 * dt));
            }
            Component::Table { t, .. } => t.iter().for_each(|&s| push(s)),
        }
    }

    /// How many times [`Component::breakpoints`] would list in (t0, t1], without listing them
    /// (an upper bound by at most one per component).
    fn breakpoint_count(&self, t0: f64, t1: f64) -> f64 {
        match self {
            Component::Constant(_) | Component::Sine { .. } => 0.0,
            Component::Step { .. } | Component::Ramp { .. } => 2.0,
            Component::Pulses { times, .. } => 2.0 * times.len() as f64,
            Component::Noise { dt, .. } => ((t1 / dt).floor() - (t0 / dt).floor()).max(0.0),
            Component::Table { t, .. } => t.len() as f64,
        }
    }

    fn with_seed_offset(&self, offset: u64) -> Component {
        match self {
            Component::Noise { mean, sd, seed, dt } => Component::Noise {
                mean: *mean,
                sd: *sd,
                seed: seed.wrapping_add(offset),
                dt: *dt,
            },
            other => other.clone(),
        }
    }
}

impl Stimulus {
    /// A constant current.
    pub fn constant(amp: f64) -> Self {
        Stimulus {
            components: vec![Component::Constant(amp)],
        }
    }

    /// Parse one stimulus text (parts joined with `+`).
    pub fn parse(text: &str) -> Result<Stimulus, StimulusError> {
        let mut s = Stimulus::default();
        for part in split_sum(text) {
            s.components.push(parse_component(part.trim(), text)?);
        }
        Ok(s)
    }

    /// Parse several texts and sum them (repeated `--stim`).
    pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Stimulus, StimulusError> {
        let mut s = Stimulus::default();
        for t in texts {
            s.components.extend(Stimulus::parse(t.as_ref())?.components);
        }
        Ok(s)
    }

    /// Add a constant (per-neuron bias current).
    pub fn plus_constant(mut self, amp: f64) -> Self {
        if amp != 0.0 {
            self.components.push(Component::Constant(amp));
        }
        self
    }

    /// The same stimulus for neuron `n`: noise seeds shifted by `n`.
    pub fn for_neuron(&self, n: u64) -> Stimulus {
        Stimulus {
            components: self
                .components
                .iter()
                .map(|c| c.with_seed_offset(n))
                .collect(),
        }
    }

    /// I(t) in uA/cm^2.
    #[inline]
    pub fn at(&self, t: f64) -> f64 {
        self.components.iter().map(|c| c.at(t)).sum()
    }

    /// The mean of I(t) over the step [t0, t1] (uA/cm^2; I(t0) when the step is empty): what
    /// the fixed-step methods hold over a step. A pulse narrower than the step or off its
    /// grid keeps its charge, noise drawn more often than the step is averaged (its variance
    /// as the membrane feels it, not a value sampled every few intervals) and a sine faster
    /// than the step is not aliased, where the value at t0 held over the step would drop or
    /// stretch the pulse and alias the rest.
    pub fn mean_over(&self, t0: f64, t1: f64) -> f64 {
        if t1 <= t0 {
            return self.at(t0);
        }
        let total: f64 = self.components.iter().map(|c| c.integral(t0, t1)).sum();
        total / (t1 - t0)
    }

    /// How many times [`Stimulus::breakpoints`] lists in (t0, t1] (an upper bound: before
    /// duplicates are removed), counted without listing them: a noise with a tiny `DT` over a
    /// long run has more than memory holds. Check it against [`MAX_BREAKPOINTS`] first.
    pub fn breakpoint_count(&self, t0: f64, t1: f64) -> f64 {
        self.components
            .iter()
            .map(|c| c.breakpoint_count(t0, t1))
            .sum()
    }

    /// Sorted, deduplicated times in (t0, t1] where I(t) is not smooth: adaptive integrators stop
    /// there so that no step straddles a jump. Their number is [`Stimulus::breakpoint_count`]
    /// at most (all are listed: check that first).
    pub fn breakpoints(&self, t0: f64, t1: f64) -> Vec<f64> {
        let mut out = Vec::new();
        self.components
            .iter()
            .for_each(|c| c.breakpoints(t0, t1, &mut out));
        out.sort_by(f64::total_cmp);
        out.dedup_by(|a, b| (*a - *b).abs() <= TIME_EPS);
        out
    }

    /// True when the stimulus is the same at every time (no breakpoints, no sine).
    pub fn is_constant(&self) -> bool {
        self.components
            .iter()
            .all(|c| matches!(c, Component::Constant(_)))
    }
}

/// Split at `+` that start a new part (not the exponent sign in `1e+3`).
fn split_sum(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let exponent =
            i > 0 && matches!(bytes[i - 1], b'e' | b'E') && i >= 2 && bytes[i - 2].is_ascii_digit();
        if b == b'+' && !exponent && i > start {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_component(part: &str, whole: &str) -> Result<Component, StimulusError> {
    let err = |reason: String| StimulusError::Syntax {
        text: whole.into(),
        reason,
    };
    if let Ok(a) = part.parse::<f64>() {
        return bounded("constant", a).map(Component::Constant).map_err(err);
    }
    let (kind, rest) = part
        .split_once(':')
        .ok_or_else(|| err(format!("'{part}' is not a number or KIND:ARGS")))?;
    if kind == "file" {
        return read_table(Path::new(rest));
    }
    let fields: Vec<&str> = rest.split(':').collect();
    let num = |i: usize, name: &str| -> Result<f64, StimulusError> {
        let s = fields
            .get(i)
            .ok_or_else(|| err(format!("{kind}: missing {name}")))?;
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| err(format!("{kind}: {name} '{s}' is not a number")))?;
        bounded(name, v).map_err(err)
    };
    let arity = |min: usize, max: usize, usage: &str| -> Result<(), StimulusError> {
        if fields.len() < min || fields.len() > max {
            Err(err(format!("expected {usage}")))
        } else {
            Ok(())
        }
    };
    match kind {
        "const" => {
            arity(1, 1, "const:AMP")?;
            Ok(Component::Constant(num(0, "AMP")?))
        }
        "step" => {
            arity(3, 3, "step:START:STOP:AMP")?;
            let (start, stop, amp) = (num(0, "START")?, num(1, "STOP")?, num(2, "AMP")?);
            if stop <= start {
                return Err(err(format!(
                    "step: STOP ({}) must be after START ({})",
                    short(stop),
                    short(start)
                )));
            }
            Ok(Component::Step { start, stop, amp })
        }
        "pulses" => {
            arity(3, 3, "pulses:T1,T2,…:WIDTH:AMP")?;
            let times = fields[0]
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.abs() <= MAX_MAGNITUDE)
                })
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    err(format!(
                        "pulses: times '{}' must be numbers within ±{} separated by commas",
                        fields[0],
                        short(MAX_MAGNITUDE)
                    ))
                })?;
            let (width, amp) = (num(1, "WIDTH")?, num(2, "AMP")?);
            if width <= 0.0 {
                return Err(err(format!("pulses: WIDTH ({}) must be > 0", short(width))));
            }
            Ok(Component::Pulses { times, width, amp })
        }
        "ramp" => {
            arity(4, 4, "ramp:START:STOP:FROM:TO")?;
            let (start, stop) = (num(0, "START")?, num(1, "STOP")?);
            if stop <= start {
                return Err(err(format!(
                    "ramp: STOP ({}) must be after START ({})",
                    short(stop),
                    short(start)
                )));
            }
            Ok(Component::Ramp {
                start,
                stop,
                from: num(2, "FROM")?,
                to: num(3, "TO")?,
            })
        }
        "sine" => {
            arity(2, 3, "sine:AMP:FREQ_HZ[:PHASE_DEG]")?;
            let phase_deg = if fields.len() == 3 {
                num(2, "PHASE_DEG")?
            } else {
                0.0
            };
            Ok(Component::Sine {
                amp: num(0, "AMP")?,
                freq_hz: num(1, "FREQ_HZ")?,
                phase_deg,
            })
        }
        "noise" => {
            arity(3, 4, "noise:MEAN:SD:SEED[:DT]")?;
            let seed: u64 = fields[2].trim().parse().map_err(|_| {
                err(format!(
                    "noise: SEED '{}' must be a whole number >= 0",
                    fields[2]
                ))
            })?;
            let dt = if fields.len() == 4 {
                num(3, "DT")?
            } else {
                0.01
            };
            let sd = num(1, "SD")?;
            if sd < 0.0 || dt <= 0.0 {
                return Err(err(format!(
                    "noise: SD ({}) must be >= 0 and DT ({}) > 0",
                    short(sd),
                    short(dt)
                )));
            }
            Ok(Component::Noise {
                mean: num(0, "MEAN")?,
                sd,
                seed,
                dt,
            })
        }
        _ => Err(err(format!(
            "unknown kind '{kind}' (const, step, pulses, ramp, sine, noise, file)"
        ))),
    }
}

/// The largest magnitude of a number in a stimulus (a time in ms, an amplitude, a frequency):
/// 10^9 (eleven days; a current far beyond any cell's). A finite number beyond it had been
/// accepted and the run then "blew up" on its first step, advising a smaller dt.
pub const MAX_MAGNITUDE: f64 = 1e9;

fn bounded(name: &str, v: f64) -> Result<f64, String> {
    if v.abs() <= MAX_MAGNITUDE {
        Ok(v)
    } else {
        Err(format!(
            "{name} must be finite and within ±{}, got {}",
            short(MAX_MAGNITUDE),
            short(v)
        ))
    }
}

/// Read a `t_ms,i_ua_cm2` CSV file (header required, times strictly increasing; lines that
/// start with `#` are comments).
pub fn read_table(path: &Path) -> Result<Component, StimulusError> {
    let file_err = |reason: String| StimulusError::File {
        path: path.display().to_string(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(crate::input::open(path, crate::input::MAX_TABLE_BYTES).map_err(file_err)?);
    let headers = reader
        .headers()
        .map_err(|e| file_err(e.to_string()))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let col = |name: &str| {
        crate::input::column(&names, name)
            .map_err(&file_err)?
            .ok_or_else(|| {
                file_err(format!(
                    "no column '{name}' (header must name t_ms and i_ua_cm2)"
                ))
            })
    };
    let (ct, ci) = (col("t_ms")?, col("i_ua_cm2")?);
    let (mut t, mut i) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        // The line where the record starts (comment and blank lines count, as an editor
        // counts them).
        let record = record.map_err(|e| {
            let line = e.position().map_or(row as u64 + 2, |p| p.line());
            file_err(format!("line {line}: {e}"))
        })?;
        let line = record.position().map_or(row as u64 + 2, |p| p.line());
        if record.as_slice().len() > crate::input::MAX_LINE_BYTES {
            return Err(file_err(format!(
                "line {line} is longer than {} bytes",
                crate::input::MAX_LINE_BYTES
            )));
        }
        let get = |c: usize, name: &str| -> Result<f64, StimulusError> {
            let s = record.get(c).unwrap_or("").trim();
            s.parse::<f64>()
                .ok()
                .filter(|v| v.abs() <= MAX_MAGNITUDE)
                .ok_or_else(|| {
                    file_err(format!(
                        "line {line}: {name} '{s}' is not a number within ±{}",
                        short(MAX_MAGNITUDE)
                    ))
                })
        };
        let (tv, iv) = (get(ct, "t_ms")?, get(ci, "i_ua_cm2")?);
        if t.last().is_some_and(|&last| tv <= last) {
            return Err(file_err(format!(
                "line {line}: t_ms {} is not after the previous time",
                short(tv)
            )));
        }
        t.push(tv);
        i.push(iv);
    }
    if t.is_empty() {
        return Err(file_err("no data rows".into()));
    }
    Ok(Component::Table { t, i })
}

/// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal deviate that is a pure function of (seed, k): Box-Muller on two hashed
/// uniforms in (0, 1].
pub fn standard_normal(seed: u64, k: u64) -> f64 {
    let base = mix64(seed ^ mix64(k));
    let u1 = ((mix64(base) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (mix64(base ^ 0xD1B5_4A32_D192_ED03) >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_is_on_from_start_until_stop() {
        let s = Stimulus::parse("step:5:15:1").unwrap();
        assert_eq!(s.at(4.99), 0.0);
        assert_eq!(s.at(500.0 * 0.01), 1.0);
        assert_eq!(s.at(1499.0 * 0.01), 1.0);
        assert_eq!(s.at(1500.0 * 0.01), 0.0);
    }

    #[test]
    fn sums_and_kinds_parse() {
        let s = Stimulus::parse("step:0:10:2+sine:1:100+const:0.5").unwrap();
        // At t = 2.5 ms, sin(2 pi 100 Hz 2.5 ms) = sin(pi/2) = 1.
        assert!((s.at(2.5) - 3.5).abs() < 1e-12);
        let p = Stimulus::parse("pulses:500,550:5:5").unwrap();
        assert_eq!(p.at(502.0), 5.0);
        assert_eq!(p.at(505.0), 0.0);
        assert_eq!(p.at(551.0), 5.0);
        let r = Stimulus::parse("ramp:0:10:0:20").unwrap();
        assert!((r.at(5.0) - 10.0).abs() < 1e-12);
        assert_eq!(Stimulus::parse("1e+1").unwrap().at(0.0), 10.0);
        assert_eq!(Stimulus::parse("-3").unwrap().at(0.0), -3.0);
    }

    #[test]
    fn malformed_texts_are_refused_with_reasons() {
        for (text, needle) in [
            ("step:5:15", "step:START:STOP:AMP"),
            ("step:15:5:1", "must be after"),
            ("step:a:5:1", "START 'a'"),
            ("wobble:1", "unknown kind"),
            ("noise:0:-1:3", "SD"),
            ("noise:0:1:x", "SEED"),
            ("const:nan", "finite"),
            ("const:1e10", "within ±1e9, got 1e10"),
            (
                "step:0:1e300:1",
                "STOP must be finite and within ±1e9, got 1e300",
            ),
            ("step:5:1:1e9", "STOP (1) must be after START (5)"),
            ("pulses:1,1e12:1:1", "within ±1e9"),
            ("", "not a number"),
        ] {
            let e = Stimulus::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn noise_is_reproducible_and_standard() {
        let a = Stimulus::parse("noise:1:2:42").unwrap();
        let b = Stimulus::parse("noise:1:2:42").unwrap();
        let c = a.for_neuron(1);
        assert_eq!(a.at(3.333), b.at(3.333));
        assert_ne!(a.at(3.333), c.at(3.333));
        // Held within a noise interval.
        assert_eq!(a.at(0.0101), a.at(0.0199));
        // Sample moments of 200k draws: mean 0 +- 0.01, variance 1 +- 0.015 (about 5 sigma).
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|k| standard_normal(7, k)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.015,
            "mean {mean}, var {var}"
        );
    }

    /// The mean over a step of every kind, against its closed form: charge kept for a pulse
    /// narrower than the step or across its edge, the midpoint of a ramp, the integral of a
    /// sine (and no alias of one faster than the step), the weighted noise values, a file's
    /// held samples, and the value itself on the grid.
    #[test]
    fn mean_over_a_step_is_the_integral_in_closed_form() {
        let mean = |text: &str, t0: f64, t1: f64| Stimulus::parse(text).unwrap().mean_over(t0, t1);
        let close =
            |a: f64, b: f64| assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
        close(
            mean("pulses:1.005:0.004:200", 1.0, 1.01),
            200.0 * 0.004 / 0.01,
        );
        close(mean("pulses:1.0:0.5:10", 0.9, 1.2), 10.0 * 0.2 / 0.3);
        // Overlapping and repeated pulses count once, in any order, as `at` has them.
        close(mean("pulses:1,1.2:0.5:10", 1.2, 1.5), 10.0);
        close(mean("pulses:1.2,1,1:0.5:10", 0.9, 1.8), 10.0 * 0.7 / 0.9);
        close(mean("step:5:15:1", 4.99, 5.01), 0.5);
        close(mean("step:5:15:1", 5.0, 5.01), 1.0);
        close(mean("ramp:0:10:0:20", 2.0, 3.0), 5.0);
        close(mean("ramp:0:10:0:20", 9.5, 10.5), 0.5 * 19.5);
        let w = 2.0 * std::f64::consts::PI * 50.0 / 1000.0;
        close(
            mean("sine:3:50:30", 1.0, 1.4),
            3.0 * ((w + 30f64.to_radians()).cos() - (1.4 * w + 30f64.to_radians()).cos()) / w / 0.4,
        );
        // 99 kHz over a 0.01 ms step: 0.99 of a cycle, so the mean is small, not the sample.
        assert!(mean("sine:5:99000", 0.0, 0.01).abs() < 0.06);
        let z = |k: u64| 1.0 + 3.0 * standard_normal(7, k);
        close(
            mean("noise:1:3:7:0.01", 0.05, 0.1),
            (5..10).map(z).sum::<f64>() / 5.0,
        );
        close(mean("noise:1:3:7:0.01", 0.1, 0.11), z(10));
        close(mean("noise:1:3:7:0.02", 0.01, 0.03), 0.5 * (z(0) + z(1)));
        let table = Stimulus {
            components: vec![Component::Table {
                t: vec![1.0, 2.0],
                i: vec![4.0, 6.0],
            }],
        };
        close(table.mean_over(0.5, 1.5), 2.0);
        close(table.mean_over(1.5, 3.0), (0.5 * 4.0 + 6.0) / 1.5);
        // On the grid, the mean is the held value itself.
        let on_grid = Stimulus::parse("step:0.3:0.6:2").unwrap();
        for k in 0..10 {
            let t = k as f64 * 0.1;
            close(on_grid.mean_over(t, (k + 1) as f64 * 0.1), on_grid.at(t));
        }
    }

    #[test]
    fn breakpoints_cover_edges() {
        let s = Stimulus::parse("step:5:15:1+pulses:20:5:1").unwrap();
        assert_eq!(s.breakpoints(0.0, 100.0), vec![5.0, 15.0, 20.0, 25.0]);
        assert_eq!(s.breakpoints(5.0, 16.0), vec![15.0]);
    }

    #[test]
    fn table_file_reads_and_holds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.csv");
        std::fs::write(&p, "t_ms,i_ua_cm2\n0,1\n10,2\n").unwrap();
        let s = Stimulus::parse(&format!("file:{}", p.display())).unwrap();
        assert_eq!((s.at(5.0), s.at(10.0), s.at(99.0)), (1.0, 2.0, 2.0));
        std::fs::write(&p, "t_ms,i_ua_cm2\n0,1\n0,2\n").unwrap();
        let e = Stimulus::parse(&format!("file:{}", p.display()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        // Comment lines are skipped and counted.
        std::fs::write(&p, "# measured\nt_ms,i_ua_cm2\n0,1\n# drift\n10,2\n10,3\n").unwrap();
        let e = Stimulus::parse(&format!("file:{}", p.display()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 6"), "{e}");
        std::fs::write(&p, "# measured\nt_ms,i_ua_cm2\n0,1\n# drift\n10,2\n").unwrap();
        let s = Stimulus::parse(&format!("file:{}", p.display())).unwrap();
        assert_eq!((s.at(5.0), s.at(10.0)), (1.0, 2.0));
        std::fs::write(&p, "t,i\n0,1\n").unwrap();
        assert!(
            Stimulus::parse(&format!("file:{}", p.display()))
                .unwrap_err()
                .to_string()
                .contains("t_ms")
        );
        // A column named twice is refused, not read from one of the two; so is a value
        // beyond the stimulus' bound.
        std::fs::write(&p, "t_ms,i_ua_cm2,i_ua_cm2\n0,1,5\n").unwrap();
        let e = Stimulus::parse(&format!("file:{}", p.display()))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "column 'i_ua_cm2' appears twice in the header (columns 2 and 3): rename one"
            ),
            "{e}"
        );
        std::fs::write(&p, "t_ms,i_ua_cm2\n0,1e10\n").unwrap();
        let e = Stimulus::parse(&format!("file:{}", p.display()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2: i_ua_cm2 '1e10' is not a number within ±1e9"),
            "{e}"
        );
    }
}
