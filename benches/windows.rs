//! Throughput of the streaming window analysis and of spike-train statistics.
//!
//! `cargo bench --bench windows`: 10^7 synthetic samples (dt 0.01 ms, a 70 Hz spiking
//! waveform) fed in slices of 2^20 through windows of 0.1, 0.5, 1 and 5 ms at once (items =
//! samples), and the statistics of a 10^7-spike train (items = spikes).

use divan::{Bencher, counter::ItemsCount};
use excitable::analysis::spike_stats::{StatsSettings, train_stats};
use excitable::analysis::windows::WindowStream;

fn main() {
    divan::main();
}

const N: usize = 10_000_000;

#[divan::bench(sample_count = 5)]
fn windows_four_widths(bencher: Bencher) {
    let t: Vec<f64> = (0..N).map(|k| k as f64 * 0.01).collect();
    let v: Vec<f64> = t.iter().map(|x| 60.0 * (x * 0.44).sin() - 25.0).collect();
    bencher.counter(ItemsCount::new(N)).bench(|| {
        let mut streams: Vec<WindowStream> = [0.1, 0.5, 1.0, 5.0]
            .iter()
            .map(|&w| WindowStream::new(0.01, w, w, 0.0).unwrap())
            .collect();
        for (a, b) in t.chunks(1 << 20).zip(v.chunks(1 << 20)) {
            streams.iter_mut().for_each(|s| s.push(a, b));
        }
        streams
            .into_iter()
            .map(|s| s.finish().1.n_windows as usize)
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 5)]
fn stats_ten_million_spikes(bencher: Bencher) {
    // A jittered 70 Hz train of 10^7 spikes.
    let spikes: Vec<f64> = (0..N)
        .map(|k| k as f64 * 14.3 + 3.0 * ((k as f64 * 12.9898).sin() * 43758.5453).fract().abs())
        .collect();
    let s = StatsSettings {
        t_start: 0.0,
        t_stop: N as f64 * 14.3 + 10.0,
        lvr_r_ms: 5.0,
        fano_window_ms: 100.0,
    };
    bencher
        .counter(ItemsCount::new(N))
        .bench(|| train_stats(&spikes, &s).cv);
}
