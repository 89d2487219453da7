//! Spike-train statistics against Elephant 1.2.1 (`tests/fixtures/make_spike_stats.py`) on a
//! Poisson, a gamma renewal and an HH train; tolerance 1e-9 relative (the bar).

use excitable::analysis::spike_stats::{StatsSettings, train_stats};
use std::collections::BTreeMap;

fn read(path: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The fixture's trains by name (ms).
fn trains() -> BTreeMap<String, Vec<f64>> {
    let mut trains: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in read("tests/fixtures/spike_trains.csv") {
        trains
            .entry(r[0].clone())
            .or_default()
            .push(r[1].parse().unwrap());
    }
    trains
}

#[test]
fn every_statistic_equals_elephants() {
    let trains = trains();
    assert_eq!(trains.len(), 3);
    let settings = StatsSettings {
        t_start: 0.0,
        t_stop: 10_000.0,
        lvr_r_ms: 5.0,
        fano_window_ms: 100.0,
    };
    let mut checked = 0;
    for r in read("tests/fixtures/spike_stats.csv") {
        let s = train_stats(&trains[&r[0]], &settings);
        let expected: f64 = r[2].parse().unwrap();
        let got = match r[1].as_str() {
            "n_spikes" => s.n_spikes as f64,
            "isi_mean_ms" => s.isi_mean_ms,
            "isi_std_ms" => s.isi_std_ms,
            "cv" => s.cv,
            "cv2" => s.cv2,
            "lv" => s.lv,
            "lvr" => s.lvr,
            "fano" => s.fano,
            "serial_corr" => s.serial_corr,
            other => panic!("unknown statistic {other}"),
        };
        assert!(
            (got - expected).abs() <= 1e-9 * expected.abs(),
            "{} {}: {got} vs Elephant {expected}",
            r[0],
            r[1]
        );
        checked += 1;
    }
    assert_eq!(checked, 27);
}

/// (times in ms, rate in Hz) of one train, kernel and setting.
type RateSeries = (Vec<f64>, Vec<f64>);

#[test]
fn instantaneous_rates_equal_elephants() {
    use excitable::analysis::rate::{Kernel, RateSettings, instantaneous_rate};
    let trains = trains();
    let rows = read("tests/fixtures/instantaneous_rate.csv");
    let mut cache: BTreeMap<Vec<String>, RateSeries> = BTreeMap::new();
    let mut worst: f64 = 0.0;
    for r in &rows {
        let key = r[..4].to_vec();
        let (t, rate) = cache.entry(key).or_insert_with(|| {
            let s = RateSettings {
                t_start: 0.0,
                t_stop: 10_000.0,
                sampling_ms: r[3].parse().unwrap(),
                kernel: Kernel::parse(&r[1]).unwrap(),
                sigma_ms: r[2].parse().unwrap(),
                cutoff: 5.0,
            };
            instantaneous_rate(&trains[&r[0]], &s).unwrap()
        });
        let t_ms: f64 = r[4].parse().unwrap();
        let expected: f64 = r[5].parse().unwrap();
        let dt: f64 = r[3].parse().unwrap();
        let i = (t_ms / dt).round() as usize;
        assert!((t[i] - t_ms).abs() < 1e-9, "time grid: {} vs {t_ms}", t[i]);
        // Elephant convolves by FFT: its zeros come out as ~1e-13 Hz, hence the absolute floor.
        let err = (rate[i] - expected).abs();
        worst = worst.max(err / expected.abs().max(1.0));
        assert!(
            err <= 1e-9 * expected.abs().max(1.0),
            "{:?} at {t_ms} ms: {} vs Elephant {expected}",
            &r[..4],
            rate[i]
        );
    }
    assert_eq!(cache.len(), 12);
    assert!(worst < 1e-9);
}

/// Every part of `stats` reads the same spikes, those in [t_start, t_stop] with both ends
/// included as in Elephant's `SpikeTrain`: spikes every 25 ms from 0 to 100 over [0, 100] are
/// 5 at 50 Hz (Elephant 1.2.1: 5 spikes, 50 Hz; the spike at t_stop had been dropped, 40 Hz),
/// and over [50, 110] a 10 ms train's interval histogram holds its 6 spikes' 5 intervals (it
/// had held the whole train's 9). With `--input`, pulses outside [t_start, t_stop) do not
/// count, nor one unanswered whose answer window runs past t_stop (undecided): a cell
/// answering all 10 pulses inside a 1000 ms recording answers 1.0 of them (two pulses after
/// t_stop had counted as misses: 0.833), and over [500, 1000] only the pulses there count.
#[test]
fn statistics_histograms_and_timing_read_the_same_interval() {
    let edges = vec![vec![0.0, 25.0, 50.0, 75.0, 100.0]];
    let r = excitable::StatsSpec {
        t_stop: Some(100.0),
        ..Default::default()
    }
    .run(&edges)
    .unwrap();
    assert_eq!(r.stats[0].n_spikes, 5);
    assert!((r.stats[0].rate_hz - 50.0).abs() < 1e-12);
    let regular = vec![
        (0..10)
            .map(|k| 25.0 + 10.0 * k as f64)
            .collect::<Vec<f64>>(),
    ];
    // Spikes at 25, 35, ..., 115: over [50, 110] those at 55..105, 6 spikes, 5 intervals.
    let r = excitable::StatsSpec {
        t_start: 50.0,
        t_stop: Some(110.0),
        ..Default::default()
    }
    .run(&regular)
    .unwrap();
    assert_eq!(r.stats[0].n_spikes, 6);
    let counts: u32 = r.isi_histograms[0].1.iter().sum();
    assert_eq!(counts, 5);
    // A cell answering every pulse 5 ms after it, pulses every 100 ms, two more after t_stop.
    let answers = vec![
        (0..10)
            .map(|k| 100.0 * k as f64 + 5.0)
            .collect::<Vec<f64>>(),
    ];
    // 998 is unanswered with its 50 ms answer window past t_stop: undecided, so left out of
    // the fraction (it had counted as a miss, 0.909).
    let pulses = "pulses:0,100,200,300,400,500,600,700,800,900,998,1500,2000:5:5";
    let timing = |t_start: f64| {
        excitable::StatsSpec {
            t_start,
            t_stop: Some(1000.0),
            input: Some(pulses.into()),
            ..Default::default()
        }
        .run(&answers)
        .unwrap()
        .timing
        .unwrap()
    };
    let whole = timing(0.0);
    assert_eq!(whole.onsets_ms.len(), 11);
    assert_eq!(whole.neurons[0].response.fraction_answered, 1.0);
    // ... and counted as undecided, which the summary says.
    assert_eq!(whole.neurons[0].response.undecided, 1);
    let said = excitable::StatsSpec {
        t_stop: Some(1000.0),
        input: Some(pulses.into()),
        ..Default::default()
    }
    .run(&answers)
    .unwrap();
    let md = excitable::report::Report::summary(&said);
    assert!(
        md.contains("Up to 1 pulse(s) near t_stop are left out of `pulses answered`"),
        "{md}"
    );
    let late = timing(500.0);
    assert_eq!(
        late.onsets_ms,
        vec![500.0, 600.0, 700.0, 800.0, 900.0, 998.0]
    );
    assert_eq!(late.neurons[0].response.fraction_answered, 1.0);
}
