//! `.ode` continuation against the built-in model, alternating in one run: the complete
//! bifurcation diagram of `hh` over the current 0..200 (default mesh, NTST 60) from the
//! built-in model and from `studies/models/hh.ode` (the same equations), then `hh` over
//! -20..250 at NTST 60 and 200. Library calls (no report writing), wall time of each call,
//! medians of ROUNDS (default 7) alternating rounds; prints the ratio and the load average.
//! Each call is timed twice: wall clock, and the CPU time of the process (user + system,
//! `getrusage`), which a loaded machine disturbs less; the ratio is given for both, of the
//! medians and of the minima (the fastest round of each side: on a VM whose neighbours take
//! the core now and then, the steadier figure).
//! `cargo bench --bench ode_speed` (`RAYON_NUM_THREADS=1` for one core). `ONLY=ode` or
//! `ONLY=builtin` runs one side alone (to profile it with `perf record`).

use excitable::continuation::cycles::CycleSettings;
use excitable::continuation::diagram::{DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Field, Settings};
use excitable::model::Model;
use std::time::Instant;

fn settings(from: f64, to: f64, ntst: usize) -> DiagramSettings {
    DiagramSettings {
        range: (from, to),
        equilibria: Settings::default(),
        cycles: CycleSettings {
            ntst,
            ..CycleSettings::default()
        },
        with_cycles: true,
    }
}

fn family(model: &Model) -> Family {
    Family::of_field(Field::of(model).unwrap(), CURRENT, 0.0).unwrap()
}

/// CPU seconds (user + system) this process has used.
fn cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    s(u.ru_utime) + s(u.ru_stime)
}

/// Wall and CPU seconds of one diagram, and its number of cycle points (so the work is not
/// optimised out).
fn time(fam: &Family, s: &DiagramSettings) -> ((f64, f64), usize) {
    let (t, c) = (Instant::now(), cpu());
    let d = diagram(fam, s, &excitable::progress::Silent).unwrap();
    let n = d.cycles.iter().map(|c| c.1.points.len()).sum();
    ((t.elapsed().as_secs_f64(), cpu() - c), n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn least(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let threads = rayon::current_num_threads();
    println!("threads {threads}, load before {}", load());
    let builtin = family(&Model::builtin("hh").unwrap());
    let path = format!("{}/studies/models/hh.ode", env!("CARGO_MANIFEST_DIR"));
    let ode = family(&Model::from_file(std::path::Path::new(&path)).unwrap());
    let s = settings(0.0, 200.0, 60);
    if let Ok(only) = std::env::var("ONLY") {
        let fam = if only == "ode" { &ode } else { &builtin };
        let t: Vec<f64> = (0..rounds).map(|_| time(fam, &s).0.0).collect();
        println!("{only} alone: median {:.3} s {t:.3?}", median(t.clone()));
        return;
    }
    let (mut tb, mut to, mut cb, mut co) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let ((a, ca), na) = time(&builtin, &s);
        let ((b, cob), nb) = time(&ode, &s);
        tb.push(a);
        to.push(b);
        cb.push(ca);
        co.push(cob);
        if na != nb {
            println!("(cycle points differ: built-in {na}, hh.ode {nb})");
        }
    }
    for (what, b, o) in [("wall", tb, to), ("cpu", cb, co)] {
        let (mb, mo) = (median(b.clone()), median(o.clone()));
        println!("diagram 0..200, NTST 60, {what}: built-in hh {b:.3?} s");
        println!("diagram 0..200, NTST 60, {what}: hh.ode      {o:.3?} s");
        println!(
            "{what} medians: built-in {mb:.3} s, hh.ode {mo:.3} s: hh.ode / built-in = {:.2}",
            mo / mb
        );
        // The fastest round of each: what the code costs when no neighbour on the VM takes
        // the core (the medians move with such load; the minima much less).
        let (nb, no) = (least(&b), least(&o));
        println!(
            "{what} minima: built-in {nb:.3} s, hh.ode {no:.3} s: hh.ode / built-in = {:.2}",
            no / nb
        );
    }
    let (mut t60, mut t200) = (vec![], vec![]);
    for _ in 0..rounds.div_ceil(2) {
        t60.push(time(&builtin, &settings(-20.0, 250.0, 60)).0);
        t200.push(time(&builtin, &settings(-20.0, 250.0, 200)).0);
    }
    for (ntst, t) in [(60, t60), (200, t200)] {
        let wall: Vec<f64> = t.iter().map(|x| x.0).collect();
        let cpu: Vec<f64> = t.iter().map(|x| x.1).collect();
        println!(
            "hh diagram -20..250, NTST {ntst}: wall median {:.3} s {wall:.3?}, cpu median {:.3} s",
            median(wall.clone()),
            median(cpu.clone())
        );
    }
    println!("load after {}", load());
}
