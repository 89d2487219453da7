//! End to end on a long trace: `excitable windows` over a 10^8-sample Parquet trace (1000 s at
//! dt = 0.01 ms of a 70 Hz spiking waveform) with widths 0.1, 0.5, 1 and 5 ms, and
//! `excitable stats` over the ~7e4 spikes of the same run and over a 10^7-spike train.
//! Prints wall time, throughput and the peak memory of each command (from `/usr/bin/time`
//! when present), so "flat memory" is a number: it must not grow with the trace.
//!
//!     cargo bench --bench long_trace            # 10^8 samples (needs ~1.7 GB of disk)
//!     SAMPLES=10000000 cargo bench --bench long_trace

use excitable::report::Table;
use excitable::report::chunked_table::ChunkedTable;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let n: usize = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    write_trace(dir.path(), n);
    if let Ok(keep) = std::env::var("KEEP_TRACE") {
        std::fs::copy(dir.path().join("trace.parquet"), &keep).expect("KEEP_TRACE");
        println!("kept the trace as {keep}");
    }
    println!(
        "wrote a {n}-sample trace in {:.1} s ({:.0} MB)",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(dir.path().join("trace.parquet"))
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(f64::NAN)
    );
    let trace = dir.path().join("trace.parquet");
    let out = dir.path().join("windows");
    let (secs, rss) = timed(&[
        "windows",
        "--trace",
        trace.to_str().unwrap(),
        "--width",
        "0.1",
        "--width",
        "0.5",
        "--width",
        "1",
        "--width",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    println!(
        "windows: {n} samples, 4 widths in {secs:.1} s = {:.2e} samples/s, peak memory {rss}",
        n as f64 / secs
    );
    // A 10^7-spike train (jittered 70 Hz) for `stats`.
    let spikes: Vec<f64> = (0..10_000_000)
        .map(|k| k as f64 * 14.3 + 3.0 * ((k as f64 * 12.9898).sin() * 43758.5453).fract().abs())
        .collect();
    let sdir = dir.path().join("spikes");
    std::fs::create_dir_all(&sdir).unwrap();
    Table::new("spikes")
        .f64("t_ms", spikes)
        .write_parquet(&sdir)
        .unwrap();
    let (secs, rss) = timed(&[
        "stats",
        "--spikes",
        sdir.join("spikes.parquet").to_str().unwrap(),
        // The rate estimate of a 1.4e8 ms train, sampled every 100 ms with a 1 s kernel.
        "--sampling",
        "100",
        "--sigma",
        "1000",
        "--out",
        dir.path().join("stats").to_str().unwrap(),
    ]);
    println!("stats: 10^7 spikes in {secs:.1} s, peak memory {rss}");
}

/// `t_ms`, `v_mv` in chunks of 2^20 rows, never the whole trace in memory.
fn write_trace(dir: &Path, n: usize) {
    let mut table = ChunkedTable::create(dir, "trace");
    let chunk = 1 << 20;
    let mut k = 0;
    while k < n {
        let m = chunk.min(n - k);
        let t: Vec<f64> = (k..k + m).map(|j| j as f64 * 0.01).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|x| 60.0 * (x * 0.44).sin() - 25.0 + 3.0 * (x * 7.1).cos())
            .collect();
        table
            .write(Table::new("trace").f64("t_ms", t).f64("v_mv", v))
            .unwrap();
        k += m;
    }
    table.finish().unwrap();
}

/// Run the excitable binary; wall seconds and peak resident memory (as text).
fn timed(args: &[&str]) -> (f64, String) {
    let exe = env!("CARGO_BIN_EXE_excitable");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let started = Instant::now();
    let out = if gnu_time {
        Command::new("/usr/bin/time")
            .arg("-f")
            .arg("PEAK_KB %M")
            .arg(exe)
            .args(args)
            .output()
    } else {
        Command::new(exe).args(args).output()
    }
    .expect("run excitable");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("PEAK_KB "))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map_or("unknown (no /usr/bin/time)".into(), |kb| {
            format!("{:.0} MB", kb / 1024.0)
        });
    (secs, rss)
}
