//! What replacing a report folder whole costs: `study run studies/hodgkin_huxley.toml` through
//! the library's runner (lock, one staging folder, the swap, the old report removed) against
//! the same steps run straight into a folder (no lock, no staging, no swap), alternated so the
//! machine's drift hits both alike; then the lock and the swap alone on the finished report.
//!
//! `cargo bench --bench staging` (default 5 rounds; `ROUNDS=N` for more, `FAST=1` for the
//! study's fast mode). Prints the machine, every round and the medians.

use excitable::progress::Silent;
use excitable::report::{Staging, Wait};
use excitable::study::Study;
use excitable::study::run::{RunOptions, conclude, prepare, run};
use std::path::Path;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The study's steps into `out` as they are: no lock, no staging folder, no swap.
fn unstaged(study: &Study, out: &Path, opts: RunOptions) {
    let tasks = prepare(study, out, opts).unwrap();
    for (step, task) in study.steps.iter().zip(&tasks) {
        let dir = out.join(step.name.get_ref());
        std::fs::create_dir_all(&dir).unwrap();
        task.run_into(&dir, &Silent).unwrap();
    }
    conclude(study, out, opts, &[]).unwrap();
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let study = Study::load(&root.join("studies/hodgkin_huxley.toml")).unwrap();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let opts = RunOptions {
        fast: std::env::var("FAST").is_ok_and(|v| v == "1"),
        wait: Wait::No,
    };
    let tmp = tempfile::tempdir().unwrap();
    let (staged_out, plain_out) = (tmp.path().join("staged"), tmp.path().join("plain"));
    println!("machine: {}", machine());
    println!(
        "study run studies/hodgkin_huxley.toml{}, {rounds} rounds",
        if opts.fast { " --fast" } else { "" }
    );
    // One of each first, untimed: the caches warm and both folders hold a report to replace.
    run(&study, &staged_out, opts, &Silent, |_, _| {}).unwrap();
    unstaged(&study, &plain_out, opts);
    let (mut staged, mut plain) = (vec![], vec![]);
    for r in 0..rounds {
        let order = if r % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for with_staging in order {
            let t = Instant::now();
            if with_staging {
                run(&study, &staged_out, opts, &Silent, |_, _| {}).unwrap();
                staged.push(t.elapsed().as_secs_f64());
            } else {
                unstaged(&study, &plain_out, opts);
                plain.push(t.elapsed().as_secs_f64());
            }
        }
        println!(
            "round {}: staged {:.3} s, unstaged {:.3} s",
            r + 1,
            staged[r],
            plain[r]
        );
    }
    // The lock, a staging folder with the report's files copied in, and the swap (the old
    // report removed): what a run adds beyond writing its files.
    let mut swaps = vec![];
    for _ in 0..rounds.max(5) {
        let s = Staging::begin(&staged_out, Wait::No, |_| {}).unwrap();
        copy_tree(&plain_out, s.dir());
        let t = Instant::now();
        s.commit().unwrap();
        swaps.push(t.elapsed().as_secs_f64());
    }
    let (ms, mp) = (median(staged), median(plain));
    println!(
        "median: staged {ms:.3} s, unstaged {mp:.3} s: the lock and swap add {:+.2}%",
        100.0 * (ms - mp) / mp
    );
    println!(
        "the swap alone (exchange, old report removed): median {:.2} ms, {:.3}% of the run",
        1e3 * median(swaps.clone()),
        100.0 * median(swaps) / mp
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
