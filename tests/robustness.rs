//! Reports that survive failure, interruption and concurrency, and no panic on any input: every
//! test runs the `excitable` binary and checks its exit code, its message and the state of the
//! output folder (byte for byte against checksums of every file, or that there is no folder).
//!
//! The commands are small (a 20 ms simulation, the LIF report, a three-step study) so the
//! whole file runs in well under a minute.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `excitable ARGS` run in `cwd`.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_excitable"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

/// `excitable ARGS` started in `cwd`, its output captured.
fn spawn_in(cwd: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_excitable"))
        .current_dir(cwd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Refused: exit code 2, and stderr holds every needle.
fn refused(o: &Output, needles: &[&str]) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn ok(o: &Output) {
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
}

/// FNV-1a 64 of `bytes`.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A summary's text with its wall-clock times taken out (`0.020 s`, the `wall time` row): the
/// one thing two runs of the same command write differently.
fn mask_times(t: &str) -> String {
    t.lines()
        .filter(|l| !l.contains("wall time"))
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            (0..words.len())
                .map(|i| {
                    let unit = words.get(i + 1).copied().unwrap_or("");
                    let seconds = matches!(unit, "s" | "s." | "s," | "s)" | "s;");
                    if seconds && words[i].parse::<f64>().is_ok() {
                        "#"
                    } else {
                        words[i]
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checksums of every file under `dir` (relative path -> FNV-1a of its bytes; summaries with
/// their wall-clock times masked). Empty when `dir` does not exist.
fn checksums(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, u64>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let bytes = std::fs::read(&p).unwrap();
                let sum = if rel.ends_with("summary.md") {
                    fnv(mask_times(&text(&bytes)).as_bytes())
                } else {
                    fnv(&bytes)
                };
                out.insert(rel, sum);
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// The names in `dir`, sorted, but the mark every report folder holds.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != excitable::report::staging::REPORT_MARK)
        .collect();
    v.sort();
    v
}

/// Nothing beside `out` in its folder but `out` itself (and `keep`): no staging folder, no
/// lock file, no folder moved aside.
fn nothing_beside(out: &Path, keep: &[&str]) {
    let parent = out.parent().unwrap();
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    let left: Vec<String> = names(parent)
        .into_iter()
        .filter(|n| *n != name && !keep.contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "left beside {}: {left:?}", out.display());
}

/// A seeded generator (SplitMix64) for the random moments and staggers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SMALL_STUDY: &str = r#"
title = "A small study"
shows = "robustness tests"
adds = "three quick steps, the last reading the first"

[[step]]
name = "sim"
command = "simulate"
args = { model = "hh", stim = "10", t-max = 40, record = "every:10" }

[[step]]
name = "gates"
command = "gating"
args = { model = "hh", v-step = 5 }

[[step]]
name = "stats"
command = "stats"
args = { spikes = "{out}/sim/spikes.parquet", t-stop = 40 }

[[check]]
claim = "it fires"
document = "spikes"
table = "sim/spikes.parquet"
column = "t_ms"
agg = "count"
claims = { value = 3, tol = 2 }
expect = 3
tol = 2
evidence = "a few spikes in 40 ms"
"#;

// ---------------------------------------------------------------------------------------------
// Report folders replaced as a whole.

/// A run that fails after it started (the simulation blows up; a spikes file is malformed)
/// leaves the old report byte-identical and nothing beside it, for every kind of failure.
#[test]
fn a_failed_run_leaves_the_old_report_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(&run_in(
        dir.path(),
        &["simulate", "--t-max", "20", "--out", "out"],
    ));
    let old = checksums(&out);
    assert!(old.contains_key("trace.parquet") && old.contains_key("summary.md"));
    let o = run_in(
        dir.path(),
        &[
            "simulate", "--method", "euler", "--dt", "1", "--t-max", "20", "--stim", "100",
            "--out", "out",
        ],
    );
    refused(&o, &["the run blew up"]);
    assert_eq!(checksums(&out), old);
    nothing_beside(&out, &[]);
    // A read failure says "cannot read" and names the file (never "cannot write").
    std::fs::write(dir.path().join("bad.csv"), "neuron,t_ms\n0,1\n0,x\n").unwrap();
    let o = run_in(
        dir.path(),
        &["stats", "--spikes", "bad.csv", "--out", "out"],
    );
    let err = refused(&o, &["cannot read bad.csv", "line 3"]);
    assert!(!err.contains("cannot write"), "{err}");
    assert_eq!(checksums(&out), old);
    nothing_beside(&out, &["bad.csv"]);
}

/// `report` without `--out` names its folder after the model and, with `--set`, after the
/// overrides too: a report of a changed model does not replace the model's own report
/// (`reports/lif`) under a name that does not say so. Overrides too long to name a folder are
/// refused before anything is written.
#[test]
fn a_report_of_a_changed_model_gets_its_own_default_folder() {
    let dir = tempfile::tempdir().unwrap();
    ok(&run_in(dir.path(), &["report", "--model", "lif"]));
    let own = checksums(&dir.path().join("reports/lif"));
    ok(&run_in(
        dir.path(),
        &["report", "--model", "lif", "--set", "t_ref=3"],
    ));
    assert!(dir.path().join("reports/lif+t_ref=3/summary.md").is_file());
    assert_eq!(checksums(&dir.path().join("reports/lif")), own);
    let many: Vec<String> = (0..40).map(|k| format!("g_{k}=1")).collect();
    let o = run_in(
        dir.path(),
        &["report", "--model", "lif", "--set", &many.join(",")],
    );
    refused(
        &o,
        &[
            "allowed overrides that name the default folder in at most 200 bytes",
            "give --out",
        ],
    );
    let folders = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .count();
    assert_eq!(folders, 2, "nothing but the two reports");
}

/// A folder a report did not write is never replaced: one holding the user's notes (deep
/// down, or Markdown and model files alone, kinds a report also writes) is refused naming
/// them, and so is one holding the run's own model file or study file; each is left byte for
/// byte as it was. (`report --out` pointed at such a folder had deleted everything in it, the
/// model it had just read included.) `export` writes over an earlier export only.
#[test]
fn a_folder_of_the_users_own_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(mine.join("sub")).unwrap();
    std::fs::write(mine.join("sub/precious.txt"), "keep").unwrap();
    let before = checksums(&mine);
    let o = run_in(dir.path(), &["report", "--model", "lif", "--out", "mine"]);
    refused(&o, &["mine was not written by a report (sub/precious.txt)"]);
    assert_eq!(checksums(&mine), before);
    // The model file inside the output folder, though `.ode` is a kind a report writes.
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    ok(&run_in(
        dir.path(),
        &[
            "export",
            "--model",
            "hh",
            "--to",
            "ode",
            "--out",
            "models/hh.ode",
        ],
    ));
    let before = checksums(&models);
    let o = run_in(
        dir.path(),
        &["rest", "--model-file", "models/hh.ode", "--out", "models"],
    );
    refused(&o, &["does not hold the run's `model-file`"]);
    assert_eq!(checksums(&models), before);
    // A study file inside the study's output folder.
    std::fs::write(
        models.join("s.toml"),
        "title = \"t\"\nshows = \"s\"\nadds = \"\"\n[[step]]\nname = \"rest\"\ncommand = \"rest\"\nargs = { model = \"hh\" }\n",
    )
    .unwrap();
    let before = checksums(&models);
    let o = run_in(
        dir.path(),
        &["study", "run", "models/s.toml", "--out", "models"],
    );
    refused(&o, &["does not hold the run's `study file`"]);
    assert_eq!(checksums(&models), before);
    // A folder of nothing but model files and notes, every one of a kind a report writes,
    // had been replaced whole by a successful run.
    std::fs::remove_file(models.join("s.toml")).unwrap();
    std::fs::write(models.join("notes.md"), "# mine").unwrap();
    let before = checksums(&models);
    let o = run_in(dir.path(), &["rest", "--model", "hh", "--out", "models"]);
    refused(
        &o,
        &["models was not written by a report (hh.ode, notes.md)"],
    );
    assert_eq!(checksums(&models), before);
    // `export` writes over an earlier export, never over the model file it reads nor over a
    // file of the user's own.
    std::fs::write(models.join("mine.toml"), "# my notes\n").unwrap();
    let before = checksums(&models);
    for (args, why) in [
        (
            [
                "--model-file",
                "models/hh.ode",
                "--to",
                "ode",
                "--out",
                "models/hh.ode",
            ],
            "is the model file being read",
        ),
        (
            ["--model", "hh", "--to", "toml", "--out", "models/mine.toml"],
            "was not written by `excitable export`",
        ),
    ] {
        let o = run_in(dir.path(), &[&["export"][..], &args[..]].concat());
        refused(&o, &[why]);
        assert_eq!(checksums(&models), before);
    }
    // An `.ode` file is copied as it is: a current for the copy is refused, not ignored.
    let o = run_in(
        dir.path(),
        &[
            "export",
            "--model-file",
            "models/hh.ode",
            "--to",
            "ode",
            "--current",
            "3",
            "--out",
            "copy.ode",
        ],
    );
    refused(
        &o,
        &["--current = 3: allowed its default (0) for an .ode file, which is copied as it is"],
    );
    assert!(!dir.path().join("copy.ode").exists());
    ok(&run_in(
        dir.path(),
        &[
            "export",
            "--model",
            "hh-1952",
            "--to",
            "ode",
            "--out",
            "models/hh.ode",
        ],
    ));
}

/// `study run --all` goes on past a study that fails: the studies after it run, and the
/// error names the failure (a failure had stopped the run, the later studies not run and
/// without a word).
#[test]
fn study_run_all_runs_every_study_whatever_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let studies = dir.path().join("s");
    std::fs::create_dir(&studies).unwrap();
    let study = |args: &str| {
        format!(
            "title = \"t\"\nshows = \"s\"\nadds = \"\"\n[[step]]\nname = \"run\"\ncommand = \"simulate\"\nargs = {{ model = \"hh\", t-max = 20, {args} }}\n"
        )
    };
    std::fs::write(studies.join("a.toml"), study("dt = 0.01")).unwrap();
    // Euler at dt 1 under 100 uA/cm^2 blows up: a failure at run time, not at the check.
    std::fs::write(
        studies.join("b.toml"),
        study("dt = 1, method = \"euler\", stim = \"100\""),
    )
    .unwrap();
    std::fs::write(studies.join("c.toml"), study("dt = 0.02")).unwrap();
    let o = run_in(
        dir.path(),
        &["study", "run", "--all", "--dir", "s", "--reports", "out"],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("1 of 3 studies failed: study s/b.toml"),
        "{err}"
    );
    assert!(err.contains("the run blew up"), "{err}");
    for ran in ["a", "c"] {
        assert!(
            dir.path()
                .join("out")
                .join(ran)
                .join("summary.md")
                .is_file(),
            "{ran}"
        );
    }
    assert!(!dir.path().join("out/b").exists());
}

/// Files of an older run never remain beside new ones: `simulate --record spikes` into a
/// folder with an older trace leaves no trace (nor its figure).
#[test]
fn a_spikes_only_run_leaves_no_older_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(&run_in(
        dir.path(),
        &["simulate", "--t-max", "20", "--svg", "--out", "out"],
    ));
    assert_eq!(
        names(&out),
        [
            "spikes.parquet",
            "summary.md",
            "trace.parquet",
            "trace.png",
            "trace.svg"
        ]
    );
    ok(&run_in(
        dir.path(),
        &[
            "simulate", "--t-max", "20", "--record", "spikes", "--out", "out",
        ],
    ));
    assert_eq!(names(&out), ["spikes.parquet", "summary.md"]);
    nothing_beside(&out, &[]);
}

/// Staging folders left by runs that died (whatever process now has their id: here a dead
/// one's and this test's own) are removed by the next run into the same folder.
#[test]
fn stale_staging_folders_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let marker = excitable::report::staging::STAGING_MARKER;
    for pid in [4_000_000_000u32, std::process::id()] {
        let stale = dir.path().join(format!(".out.staging-{pid}"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(marker), "").unwrap();
        std::fs::write(stale.join(".trace.parquet.partial-1.parquet"), "half").unwrap();
    }
    let aside = dir.path().join(".out.old-4000000000");
    std::fs::create_dir(&aside).unwrap();
    std::fs::write(aside.join(marker), "").unwrap();
    // A user's folder of such a name, without the marker, is theirs: kept.
    let backup = dir.path().join(".out.old-7");
    std::fs::create_dir(&backup).unwrap();
    std::fs::write(backup.join("summary.md"), "# my copy").unwrap();
    ok(&run_in(
        dir.path(),
        &["gating", "--v-step", "10", "--out", "out"],
    ));
    nothing_beside(&out, &[".out.old-7"]);
    assert!(backup.join("summary.md").is_file());
    assert!(out.join("gating.parquet").exists());
}

/// A SIGKILL while `simulate --record full` writes its trace leaves the old report as it was;
/// the half-written `.trace.parquet.partial-PID.parquet` sits in the staging folder, which the
/// next run removes: nothing of the killed run remains.
#[test]
fn a_killed_simulation_leaves_no_partial_trace_after_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(&run_in(
        dir.path(),
        &["gating", "--v-step", "10", "--out", "out"],
    ));
    let old = checksums(&out);
    let mut child = spawn_in(
        dir.path(),
        &[
            "simulate",
            "--neurons",
            "40",
            "--t-max",
            "1000",
            "--record",
            "full",
            "--out",
            "out",
        ],
    );
    // Kill it once its trace file is being written (or after 60 s at the latest).
    let start = Instant::now();
    let mut saw_partial = false;
    while start.elapsed() < Duration::from_secs(60) {
        let staging: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".out.staging-"))
            .collect();
        if staging.iter().any(|s| {
            std::fs::read_dir(s).is_ok_and(|mut d| {
                d.any(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .contains(".partial-")
                })
            })
        }) {
            saw_partial = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(saw_partial, "the trace was never seen being written");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        checksums(&out),
        old,
        "the killed run changed the old report"
    );
    // The next run into the folder removes what the killed one left.
    ok(&run_in(
        dir.path(),
        &["gating", "--v-step", "20", "--out", "out"],
    ));
    nothing_beside(&out, &[]);
    let partials: Vec<String> = names(&out)
        .into_iter()
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");
}

// ---------------------------------------------------------------------------------------------
// Fault injection: SIGKILL at random moments.

/// Kill `old_args`/`new_args` runs into `out` at 20 seeded random moments each: after every
/// kill the folder holds exactly one of the two complete reports (checksums of every file).
fn kill_at_random_moments(cwd: &Path, out: &Path, a: &[&str], b: &[&str], seed: u64) {
    ok(&run_in(cwd, b));
    let sums_b = checksums(out);
    let t0 = Instant::now();
    ok(&run_in(cwd, a));
    let full = t0.elapsed().as_secs_f64();
    let sums_a = checksums(out);
    assert_ne!(sums_a, sums_b, "the two runs must differ");
    let mut rng = Rng(seed);
    let (mut old, mut new_seen) = (0, 0);
    for trial in 0..20 {
        // Run the other report than the one in the folder, so a swap shows.
        let now_a = checksums(out) == sums_a;
        let args = if now_a { b } else { a };
        let delay = Duration::from_secs_f64(rng.next() * full * 1.2);
        let mut child = spawn_in(cwd, args);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let sums = checksums(out);
        let was = if now_a { &sums_a } else { &sums_b };
        let other = if now_a { &sums_b } else { &sums_a };
        if sums == *was {
            old += 1;
        } else {
            assert_eq!(
                &sums, other,
                "trial {trial} (killed after {delay:?}, {status:?}): a mix of the two reports"
            );
            new_seen += 1;
        }
    }
    eprintln!("{old} kill(s) left the old report, {new_seen} the new one");
    // The moments cover the run: some kills land before the swap, and most runs are caught.
    assert!(old > 0, "no kill landed before the swap ({new_seen} after)");
    // A last complete run leaves nothing of the killed ones.
    ok(&run_in(cwd, a));
    assert_eq!(checksums(out), sums_a);
    nothing_beside(out, &["study_a.toml", "study_b.toml"]);
}

#[test]
fn report_killed_at_random_moments_leaves_the_old_or_the_new_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    kill_at_random_moments(
        dir.path(),
        &out,
        &["report", "--model", "lif", "--out", "out"],
        &[
            "report", "--model", "lif", "--set", "t_ref=3", "--out", "out",
        ],
        20240611,
    );
}

#[test]
fn study_killed_at_random_moments_leaves_the_old_or_the_new_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study_a.toml"), SMALL_STUDY).unwrap();
    std::fs::write(
        dir.path().join("study_b.toml"),
        SMALL_STUDY.replace("stim = \"10\"", "stim = \"12\""),
    )
    .unwrap();
    let out = dir.path().join("out");
    kill_at_random_moments(
        dir.path(),
        &out,
        &["study", "run", "study_a.toml", "--out", "out"],
        &["study", "run", "study_b.toml", "--out", "out"],
        7,
    );
}

// ---------------------------------------------------------------------------------------------
// One writer per folder.

/// Hold `out`'s lock as a run does (flock on `.out.lock`, this process's id in it).
fn hold_lock(out: &Path) -> std::fs::File {
    let lock = out.parent().unwrap().join(format!(
        ".{}.lock",
        out.file_name().unwrap().to_string_lossy()
    ));
    let mut f = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(lock)
        .unwrap();
    f.lock().unwrap();
    write!(f, "{}", std::process::id()).unwrap();
    f.flush().unwrap();
    f
}

/// While another process writes the folder, a run refuses with `--no-wait`, naming the
/// holder's process id, and writes nothing; without it, it waits, says for whom, and goes on
/// once the holder is done. The same for a command, `study run`, `report`, and a shard of a
/// sweep (which takes the lock while it checks and writes the sweep's definition).
#[test]
fn a_second_run_waits_naming_the_holder_or_refuses_with_no_wait() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study.toml"), SMALL_STUDY).unwrap();
    let out = dir.path().join("out");
    let pid = std::process::id().to_string();
    let lock = hold_lock(&out);
    let runs: [&[&str]; 4] = [
        &["gating", "--v-step", "10", "--out", "out", "--no-wait"],
        &["study", "run", "study.toml", "--out", "out", "--no-wait"],
        &["report", "--model", "lif", "--out", "out", "--no-wait"],
        &[
            "sweep",
            "--param",
            "g_k=30,36",
            "--current",
            "0,10",
            "--t-max",
            "50",
            "--transient",
            "10",
            "--shard",
            "1/2",
            "--out",
            "out",
            "--no-wait",
        ],
    ];
    for args in runs {
        let o = run_in(dir.path(), args);
        refused(&o, &["out is being written by process", &pid]);
        assert!(!out.exists(), "{args:?} wrote");
    }
    // Without --no-wait: the run says whom it waits for, and finishes after the holder.
    let mut child = spawn_in(dir.path(), &["gating", "--v-step", "10", "--out", "out"]);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("waiting: out is being written by process") && line.contains(&pid),
        "{line}"
    );
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    assert!(!out.exists());
    drop(lock);
    assert!(child.wait().unwrap().success());
    assert!(out.join("gating.parquet").exists());
}

/// Two runs into one folder, started 0 to 60 ms apart (20 seeded trials): both succeed, one
/// after the other, and the folder holds exactly one complete report, never a mix.
#[test]
fn two_runs_into_one_folder_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let a: &[&str] = &["simulate", "--t-max", "30", "--svg", "--out", "out"];
    let b: &[&str] = &[
        "simulate", "--t-max", "30", "--stim", "10", "--record", "spikes", "--out", "out",
    ];
    ok(&run_in(dir.path(), a));
    let sums_a = checksums(&out);
    ok(&run_in(dir.path(), b));
    let sums_b = checksums(&out);
    let mut rng = Rng(42);
    let mut waited = 0;
    for trial in 0..20 {
        let (first, second) = if trial % 2 == 0 { (a, b) } else { (b, a) };
        let p1 = spawn_in(dir.path(), first);
        std::thread::sleep(Duration::from_secs_f64(rng.next() * 0.06));
        let p2 = spawn_in(dir.path(), second);
        let o1 = p1.wait_with_output().unwrap();
        let o2 = p2.wait_with_output().unwrap();
        ok(&o1);
        ok(&o2);
        waited += [&o1, &o2]
            .iter()
            .filter(|o| text(&o.stderr).contains("waiting:"))
            .count();
        let sums = checksums(&out);
        assert!(
            sums == sums_a || sums == sums_b,
            "trial {trial}: a mix: {:?}",
            sums.keys().collect::<Vec<_>>()
        );
        nothing_beside(&out, &[]);
    }
    assert!(waited > 0, "the runs never overlapped");
}

// ---------------------------------------------------------------------------------------------
// merge: a shard of another sweep is refused by name.

/// Shards of a sweep and of three other sweeps (another grid, another `--set`, another `dt`):
/// each foreign shard copied in is refused by `merge`, naming it, and the merged report of an
/// earlier merge stays byte-identical.
#[test]
fn merge_refuses_a_shard_of_another_grid_set_or_dt() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--param", "g_k=30,36", "--t-max", "60", "--transient", "10"];
    let sweeps: [(&str, &[&str]); 4] = [
        ("a", &["--current", "0,10"]),
        ("grid", &["--current", "0,12"]),
        ("set", &["--current", "0,10", "--set", "g_l=0.31"]),
        ("dt", &["--current", "0,10", "--dt", "0.02"]),
    ];
    for (name, extra) in sweeps {
        for k in ["1/2", "2/2"] {
            let mut args = vec!["sweep", "--out", name, "--shard", k];
            args.extend(base);
            args.extend(extra);
            ok(&run_in(dir.path(), &args));
        }
    }
    let a = dir.path().join("a");
    let o = run_in(dir.path(), &["merge", "a"]);
    ok(&o);
    let merged = checksums(&a);
    assert!(merged.contains_key("grid.parquet") && merged.contains_key("shard=2/grid.parquet"));
    let ours = a.join("shard=2").join("grid.parquet");
    let saved = std::fs::read(&ours).unwrap();
    for other in ["grid", "set", "dt"] {
        std::fs::copy(dir.path().join(other).join("shard=2/grid.parquet"), &ours).unwrap();
        let o = run_in(dir.path(), &["merge", "a"]);
        refused(&o, &["a/shard=2/grid.parquet is not a shard of this sweep"]);
        let mut now = checksums(&a);
        now.insert(
            "shard=2/grid.parquet".into(),
            merged["shard=2/grid.parquet"],
        );
        assert_eq!(now, merged, "a failed merge ({other}) changed the folder");
        nothing_beside(
            &a,
            &["grid", "set", "dt", ".grid.lock", ".set.lock", ".dt.lock"],
        );
    }
    std::fs::write(&ours, saved).unwrap();
    ok(&run_in(dir.path(), &["merge", "a"]));
    assert_eq!(checksums(&a), merged);
    // A shard whose file is not Parquet: "cannot read", naming it.
    std::fs::write(&ours, "not parquet").unwrap();
    let o = run_in(dir.path(), &["merge", "a"]);
    refused(&o, &["cannot read a/shard=2/grid.parquet"]);
}

// ---------------------------------------------------------------------------------------------
// No panic, abort or hang: every size checked against a stated limit before allocating.

/// Each case is refused at once with exit code 2, naming the setting and its limit, and
/// leaves no output folder.
#[test]
fn sizes_past_their_limits_are_refused_naming_the_setting_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("far.csv"),
        "neuron,t_ms\n0,1\n0,2\n0,1e300\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "neuron,t_ms\n0,1\n0,5\n0,9\n1,2\n",
    )
    .unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["stats", "--spikes", "far.csv"],
            &[
                "--sampling",
                "at most 50000000 rate samples",
                "the last spike",
            ],
        ),
        (
            &["stats", "--spikes", "s.csv", "--t-stop", "1e300"],
            &["--sampling", "at most 50000000 rate samples"],
        ),
        (
            &["stats", "--spikes", "s.csv", "--sampling", "1e-300"],
            &["--sampling = 1e-300", "rate samples"],
        ),
        (
            &["stats", "--spikes", "s.csv", "--sigma", "1e12"],
            &["--sigma = 1e12", "at most 10000000 samples"],
        ),
        (
            &["stats", "--spikes", "s.csv", "--isi-bin", "1e-300"],
            &["--isi-bin = 1e-300", "at most 100000 bins"],
        ),
        (
            &["simulate", "--t-max", "1e308"],
            &["steps per run", "at most 1e12 steps"],
        ),
        (
            &["simulate", "--t-max", "1e15", "--dt", "1"],
            &["1e15 steps", "at most 1e12 steps"],
        ),
        (
            &["phase-plane", "--t-max", "1e6"],
            &["--max-memory = 4 GiB", "a shorter t_max"],
        ),
        (
            &["phase-plane", "--t-max", "1e300"],
            &["--t-max", "at most 1e12 steps"],
        ),
        (
            &["windows", "--stim", "10", "--width", "1", "--t-max", "1e7"],
            &["--max-memory = 4 GiB", "--trace"],
        ),
        (
            &["fi", "--t-max", "1e300"],
            &["--t-max/--dt", "at most 1e12 steps"],
        ),
        (&["fi", "--step", "1e-9"], &["--step", "at most"]),
        (
            &["sweep", "--param", "g_k=30,36", "--current", "0:100:1e-6"],
            &["--current", "more than 10000000 values"],
        ),
        (
            &[
                "sweep",
                "--param",
                "g_k=0:100:0.01",
                "--param",
                "g_na=0:100:0.01",
                "--current",
                "0:10:0.1",
            ],
            &["points"],
        ),
        (
            &[
                "sweep",
                "--param",
                "g_k=30",
                "--current",
                "0",
                "--t-max",
                "1e300",
            ],
            &["--t-max/--dt", "at most 1e12 steps"],
        ),
        (&["max-rate", "--dt", "1e-12"], &["--dt"]),
        (
            &[
                "simulate",
                "--method",
                "dopri5",
                "--stim",
                "noise:0:1:1:1e-12",
            ],
            &[
                "breakpoints",
                "= 1e14 is invalid",
                "at most 10000000",
                "a larger noise DT",
            ],
        ),
        (
            &["max-rate", "--currents", "0:1:1e-9"],
            &["more than 10000000 values"],
        ),
        (
            &["gating", "--v-step", "1e-9"],
            &["--v-step = 1e-9", "at most 10^7 points"],
        ),
        (
            &["bifurcation", "--max-points", "100000000"],
            &["--max-points", "10..=1000000 points per branch"],
        ),
        (&["bifurcation", "--ntst", "100000"], &["--ntst"]),
        (
            &["bifurcation2", "--max-points", "100000000"],
            &["--max-points", "10..=1000000 points per branch"],
        ),
    ];
    for (args, needles) in cases {
        let mut a = args.to_vec();
        a.extend(["--out", "out"]);
        let t = Instant::now();
        let o = run_in(dir.path(), &a);
        refused(&o, needles);
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            t.elapsed()
        );
        assert!(
            !dir.path().join("out").exists(),
            "{args:?} left an output folder"
        );
        nothing_beside(&dir.path().join("out"), &["far.csv", "s.csv"]);
    }
    // The Fano factor visits only windows holding a spike: a window of 1e-12 ms over 10 ms
    // (10^13 windows) is computed at once, without allocating them.
    let t = Instant::now();
    ok(&run_in(
        dir.path(),
        &[
            "stats",
            "--spikes",
            "s.csv",
            "--fano-window",
            "1e-12",
            "--out",
            "out",
        ],
    ));
    assert!(t.elapsed() < Duration::from_secs(20));
}

/// A run whose output would pass its memory budget is refused up front with the estimate and
/// the settings that lower it; recording every K-th sample brings it within.
#[test]
fn big_outputs_are_refused_with_an_estimate_and_how_to_lower_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "simulate",
            "--neurons",
            "10000",
            "--record",
            "full",
            "--t-max",
            "1000",
            "--out",
            "out",
        ],
    );
    refused(
        &o,
        &[
            "--max-memory = 4 GiB",
            "estimated memory, 143.1 GiB",
            "every:K",
            "fewer neurons",
        ],
    );
    assert!(!dir.path().join("out").exists());
    let small = [
        "simulate",
        "--neurons",
        "4",
        "--t-max",
        "100",
        "--max-memory",
        "1MiB",
        "--out",
        "out",
    ];
    refused(
        &run_in(dir.path(), &small),
        &["--max-memory = 1 MiB", "every:K"],
    );
    let mut every = small.to_vec();
    every.extend(["--record", "every:100"]);
    ok(&run_in(dir.path(), &every));
    let o = run_in(
        dir.path(),
        &["simulate", "--max-memory", "lots", "--out", "x"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("4GiB, 512MiB"),
        "{}",
        text(&o.stderr)
    );
}

/// A write error on standard output or standard error is an exit code 2 with a message where
/// one can go, never a panic.
#[test]
fn write_errors_on_stdout_and_stderr_exit_2() {
    let full = || {
        std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["gating", "--v-step", "10", "--out", "out"][..],
        &["models"][..],
        &["--help"][..],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_excitable"))
            .current_dir(dir.path())
            .args(args)
            .stdout(full())
            .output()
            .unwrap();
        refused(&o, &["cannot write to standard output"]);
    }
    // An error when standard error is full too: the exit code still says so.
    let o = Command::new(env!("CARGO_BIN_EXE_excitable"))
        .current_dir(dir.path())
        .args(["rest", "--current", "inf", "--out", "out2"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("out2").exists());
}

// ---------------------------------------------------------------------------------------------
// Errors say what happened.

/// Every command refuses a non-finite current as a bad current (never a blow-up).
#[test]
fn every_command_refuses_a_current_that_is_not_finite() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["phase-plane", "--current", "inf"],
            "--current = inf: allowed a finite number",
        ),
        (
            &["rest", "--current", "inf"],
            "--current = inf: allowed a finite number",
        ),
        (
            &[
                "bifurcation",
                "--param",
                "g_k",
                "--from",
                "30",
                "--to",
                "40",
                "--current",
                "nan",
            ],
            "--current = NaN: allowed a finite number",
        ),
        (
            &["bifurcation2", "--params", "g_k,g_na", "--current", "inf"],
            "--current = inf: allowed a finite number",
        ),
        (&["max-rate", "--currents", "inf"], "finite"),
        (
            &["fi", "--to", "inf"],
            "--from/--to = 0..inf: allowed finite",
        ),
        (
            &["sweep", "--param", "g_k=30", "--current", "inf"],
            "finite",
        ),
        (&["simulate", "--stim", "inf"], "constant must be finite"),
        (
            &["simulate", "--currents", "1,inf", "--neurons", "2"],
            "finite",
        ),
        (
            &["windows", "--stim", "inf", "--width", "1"],
            "constant must be finite",
        ),
        (
            &["stats", "--spikes", "x.csv", "--input", "step:1:2:inf"],
            "AMP must be finite",
        ),
    ];
    refused_before_any_output(cases);
}

/// Each of `cases` (arguments, a part of the error) run with `--out out` in a fresh folder:
/// refused with that error (never a blow-up), and no `out` made.
fn refused_before_any_output(cases: &[(&[&str], &str)]) {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in cases {
        let mut a = args.to_vec();
        a.extend(["--out", "out"]);
        let o = run_in(dir.path(), &a);
        let err = refused(&o, &[needle]);
        assert!(!err.contains("blew up"), "{args:?}: {err}");
        assert!(!dir.path().join("out").exists());
    }
}

/// Settings that would be ignored are refused, naming them and what is allowed: a model, or a
/// run's settings, beside a trace; a tolerance with a fixed-step method; a setting of `.ode`
/// files with another format.
#[test]
fn settings_that_would_be_ignored_are_refused() {
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "windows",
                "--trace",
                "x.parquet",
                "--model",
                "hh-ca",
                "--width",
                "10",
            ],
            "= --model hh-ca: allowed none with a trace file",
        ),
        (
            &[
                "windows",
                "--trace",
                "x.parquet",
                "--t-max",
                "100",
                "--width",
                "10",
            ],
            "--t-max = 100: allowed none with a trace file: they set a run simulated first",
        ),
        (
            &["simulate", "--method", "rk4", "--rtol", "1e-10"],
            "--rtol = 1e-10: allowed its default (1e-8) with method rk4",
        ),
        (
            &["export", "--to", "neuroml", "--current", "5"],
            "--current = 5: allowed its default (0) with --to neuroml",
        ),
        (
            &["export", "--to", "toml", "--v0", "-60"],
            "--v0 = -60: allowed none with --to toml",
        ),
    ];
    refused_before_any_output(&cases);
}

/// A gate whose two rates are both zero is named as degenerate (not "no equilibrium").
#[test]
fn a_degenerate_gate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deg.toml"),
        r#"name = "deg"
[[param]]
name = "c_m"
value = 1.0
[[param]]
name = "g_l"
value = 0.1
[[param]]
name = "e_l"
value = -70.0
[[gate]]
name = "q"
alpha = { form = "constant", a = 0.0 }
beta = { form = "constant", a = 0.0 }
[[current]]
name = "l"
g = "g_l"
e = "e_l"
gates = "q"
"#,
    )
    .unwrap();
    for cmd in ["rest", "simulate", "fi"] {
        let o = run_in(
            dir.path(),
            &[cmd, "--model-file", "deg.toml", "--out", "out"],
        );
        let err = refused(&o, &["gate 'q' is degenerate", "alpha + beta is 0"]);
        assert!(!err.contains("no equilibrium"), "{err}");
        assert!(!dir.path().join("out").exists());
    }
}

/// No NaN in a headline: `max-rate` with nothing firing says so in words.
#[test]
fn a_headline_never_reads_nan() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "max-rate",
            "--currents",
            "-5,0",
            "--transient",
            "20",
            "--window",
            "50",
            "--out",
            "out",
        ],
    );
    ok(&o);
    let summary = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    let headline = summary.lines().find(|l| l.contains("Highest")).unwrap();
    assert!(
        headline.contains("**0 Hz: no current fires**"),
        "{headline}"
    );
    assert!(
        !summary.contains("NaN") && !text(&o.stdout).contains("NaN"),
        "{summary}"
    );
}

/// A study step that reads another step's files is checked before anything runs: a step that
/// does not exist and a step that runs later are both refused by name, and nothing is written.
#[test]
fn study_steps_reading_unknown_or_later_steps_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let later = SMALL_STUDY.replace(
        "[[step]]\nname = \"sim\"",
        "[[step]]\nname = \"early\"\ncommand = \"stats\"\nargs = { spikes = \"{out}/sim/spikes.parquet\" }\n\n[[step]]\nname = \"sim\"",
    );
    let unknown = SMALL_STUDY.replace("{out}/sim/spikes", "{out}/simm/spikes");
    for (file, text_, needle) in [
        ("later.toml", later, "step 'early' reads"),
        ("unknown.toml", unknown, "no step is named 'simm'"),
    ] {
        std::fs::write(dir.path().join(file), &text_).unwrap();
        let t = Instant::now();
        let o = run_in(dir.path(), &["study", "run", file, "--out", "out"]);
        let err = refused(&o, &[needle]);
        if file == "later.toml" {
            assert!(err.contains("step 'sim' runs after it"), "{err}");
        }
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(!dir.path().join("out").exists());
    }
}

// ---------------------------------------------------------------------------------------------
// Every check runs before any work and before OUT is created.

/// Refused settings leave no folder at all, not even the folders above OUT that the run would
/// have created; `fi --transient >= --t-max` is refused before any work.
#[test]
fn refused_runs_create_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let o = run_in(
        dir.path(),
        &[
            "fi",
            "--transient",
            "1000",
            "--t-max",
            "1000",
            "--out",
            "a/b/out",
        ],
    );
    refused(&o, &["--transient = 1000", "< t_max = 1000"]);
    assert!(t.elapsed() < Duration::from_secs(5));
    // A failure found only while running (a blow-up) removes the folders it created above OUT.
    let o = run_in(
        dir.path(),
        &[
            "simulate", "--method", "euler", "--dt", "1", "--t-max", "20", "--stim", "100",
            "--out", "a/b/out",
        ],
    );
    refused(&o, &["blew up"]);
    std::fs::write(dir.path().join("bad.parquet"), "not parquet").unwrap();
    let o = run_in(
        dir.path(),
        &["stats", "--spikes", "bad.parquet", "--out", "a/b/out"],
    );
    refused(&o, &["cannot read bad.parquet"]);
    let o = run_in(
        dir.path(),
        &[
            "windows",
            "--trace",
            "bad.parquet",
            "--width",
            "1",
            "--out",
            "a/b/out",
        ],
    );
    refused(&o, &["cannot read bad.parquet"]);
    assert_eq!(names(dir.path()), ["bad.parquet"]);
}

// ---------------------------------------------------------------------------------------------
// Half old, half new: steps that fail at run time.

/// A study whose second step fails while it runs (the simulation blows up) leaves the old
/// study report byte-identical: no step's new files, no stale verdicts, nothing beside it.
/// The error names the step.
#[test]
fn a_study_failing_at_its_second_step_leaves_the_old_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.toml"), SMALL_STUDY).unwrap();
    let bad = SMALL_STUDY.replace(
        "args = { model = \"hh\", v-step = 5 }",
        "command = \"simulate\"\nargs = { model = \"hh\", method = \"euler\", dt = 1, t-max = 20, stim = \"100\" }",
    );
    let bad = bad.replacen("command = \"gating\"\n", "", 1);
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = dir.path().join("out");
    ok(&run_in(
        dir.path(),
        &["study", "run", "good.toml", "--out", "out"],
    ));
    let old = checksums(&out);
    assert!(old.contains_key("sim/spikes.parquet") && old.contains_key("gates/gating.parquet"));
    let o = run_in(dir.path(), &["study", "run", "bad.toml", "--out", "out"]);
    refused(&o, &["step 'gates'", "blew up"]);
    assert_eq!(checksums(&out), old);
    nothing_beside(&out, &["good.toml", "bad.toml"]);
}

/// `stats` after a good run, with a bad `--input` (an unknown kind; a device): refused before
/// any work, naming the flag, and the old statistics stay byte-identical (the summary too).
#[test]
fn stats_with_a_bad_input_leaves_the_old_statistics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "neuron,t_ms\n0,1\n0,5\n0,9\n1,2\n1,7\n",
    )
    .unwrap();
    let out = dir.path().join("G");
    ok(&run_in(
        dir.path(),
        &["stats", "--spikes", "s.csv", "--out", "G"],
    ));
    let old = checksums(&out);
    assert!(old.len() >= 4, "{old:?}");
    for (input, needle) in [
        ("bogus:1", "unknown kind 'bogus'"),
        ("file:/dev/zero", "not a regular file"),
    ] {
        let o = run_in(
            dir.path(),
            &["stats", "--spikes", "s.csv", "--input", input, "--out", "G"],
        );
        refused(&o, &["--input", needle]);
        assert_eq!(checksums(&out), old);
        nothing_beside(&out, &["s.csv"]);
    }
}

/// `report` of a model that does not fire under the noise: the spike statistics say so (one
/// neuron, 0 spikes; they had been skipped as a failed step before `simulate`'s spike files
/// recorded their neurons), and nothing names the staging folder.
#[test]
fn a_report_whose_model_does_not_fire_says_so_and_names_files_under_out() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "report", "--model", "lif", "--set", "v_th=500", "--out", "R",
        ],
    );
    ok(&o);
    let summary = std::fs::read_to_string(dir.path().join("R/summary.md")).unwrap();
    assert!(!summary.contains("staging"), "{summary}");
    let stats = std::fs::read_to_string(dir.path().join("R/stats/summary.md")).unwrap();
    assert!(stats.contains("| 0 | 0 | 0.000 |"), "{stats}");
    assert!(!stats.contains("staging"), "{stats}");
    nothing_beside(&dir.path().join("R"), &[]);
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs: long expressions and endless files.

/// An `.ode` line of 20,000 terms loads and simulates (the parser is iterative); one nested
/// 20,000 deep (brackets or powers) is refused with its line and column and the limit,
/// without a stack overflow;
/// neither leaves anything but the report of the good one.
#[test]
fn an_ode_line_of_20000_terms_never_overflows_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let terms = vec!["0.0001*x"; 20_000].join(" + ");
    std::fs::write(
        dir.path().join("long.ode"),
        format!("dx/dt = -x + {terms}\ninit x=1\ndone\n"),
    )
    .unwrap();
    let nested = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
    std::fs::write(
        dir.path().join("deep.ode"),
        format!("dx/dt = -{nested}\ninit x=1\ndone\n"),
    )
    .unwrap();
    let powers = format!("dx/dt = -x{}\ninit x=1\ndone\n", "^x".repeat(20_000));
    std::fs::write(dir.path().join("pow.ode"), powers).unwrap();
    let o = run_in(
        dir.path(),
        &[
            "simulate",
            "--model-file",
            "long.ode",
            "--t-max",
            "1",
            "--out",
            "long",
        ],
    );
    ok(&o);
    assert!(dir.path().join("long/trace.parquet").exists());
    // Brackets nest in the parser; powers, grouped left to right as XPPAUT groups them, form
    // one chain that the compiler refuses by its height.
    for (file, why) in [
        ("deep.ode", "nested more than 256 levels deep"),
        ("pow.ode", "nested 20002 deep"),
    ] {
        let o = run_in(
            dir.path(),
            &[
                "simulate",
                "--model-file",
                file,
                "--t-max",
                "1",
                "--out",
                "out",
            ],
        );
        refused(&o, &[&format!("{file}:1:"), why]);
        assert!(!dir.path().join("out").exists());
    }
}

/// A stimulus, a spikes file, a trace or a model read from a device that never ends
/// (`/dev/zero`) is refused at once as not a regular file, naming it (a missing file or a
/// folder says so instead); nothing is written.
#[test]
fn inputs_that_never_end_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), "neuron,t_ms\n0,1\n0,5\n").unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["simulate", "--stim", "file:/dev/zero"],
            &["stimulus file /dev/zero", "not a regular file"],
        ),
        (
            &["windows", "--stim", "file:/dev/zero", "--width", "1"],
            &["/dev/zero", "not a regular file"],
        ),
        (
            &["stats", "--spikes", "/dev/zero"],
            &["/dev/zero", "not a regular file"],
        ),
        (
            &["stats", "--spikes", "s.csv", "--input", "file:/dev/zero"],
            &["--input", "not a regular file"],
        ),
        (
            &["windows", "--trace", "/dev/zero", "--width", "1"],
            &["/dev/zero", "not a regular file"],
        ),
        (
            &["rest", "--model-file", "/dev/zero"],
            &["/dev/zero", "not a regular file"],
        ),
        (
            &["simulate", "--model-file", "/dev/zero.ode"],
            &["/dev/zero.ode"],
        ),
    ];
    for (args, needles) in cases {
        let mut a = args.to_vec();
        a.extend(["--out", "out"]);
        let t = Instant::now();
        let o = run_in(dir.path(), &a);
        let err = refused(&o, needles);
        assert!(!err.contains("cannot write"), "{args:?}: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{args:?} took {:?}",
            t.elapsed()
        );
        assert!(
            !dir.path().join("out").exists(),
            "{args:?} left an output folder"
        );
    }
    // A stimulus file whose one line is endless is refused by its line length.
    std::fs::write(
        dir.path().join("long.csv"),
        format!("t_ms,i_ua_cm2\n0,{}\n", "1".repeat(2 << 20)),
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &["simulate", "--stim", "file:long.csv", "--out", "out"],
    );
    refused(&o, &["long.csv: line 2 is longer than 1048576 bytes"]);
    assert!(!dir.path().join("out").exists());
}

/// A check on the table of an optional step that failed is not run, and says why; it had
/// failed the whole study on the table never written, naming the staging folder.
#[test]
fn a_check_on_a_failed_optional_step_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        r#"title = "A silent cell"
shows = "Nothing fires."
adds = ""

[[step]]
name = "sim"
command = "simulate"
args = { model = "hh", stim = "0", t-max = 20 }

[[step]]
name = "st"
command = "stats"
args = { spikes = "{out}/sim/summary.md", t-stop = 20 }
optional = true

[[check]]
claim = "The silent cell's CV is small"
document = "CV < 0.1"
table = "st/spike_stats.parquet"
column = "cv"
agg = "max"
claims = { op = "<", value = 0.1 }
expect = 0.0
tol = 0.01
evidence = "none"
"#,
    )
    .unwrap();
    let o = run_in(dir.path(), &["study", "run", "s.toml", "--out", "R"]);
    ok(&o);
    let summary = std::fs::read_to_string(dir.path().join("R/summary.md")).unwrap();
    assert!(
        summary.contains("not run: the optional step 'st' failed"),
        "{summary}"
    );
    // Its reason names the file where it is, under the output folder.
    assert!(summary.contains("R/sim/summary.md"), "{summary}");
    assert!(!summary.contains("staging"), "{summary}");
}

/// A model file past the limits of a single compartment is refused before any work, by name: 200,000
/// parameters had kept the loading busy past two minutes (each looked up among the earlier
/// ones), 1000 `.ode` variables `rest`, 5000 gates `simulate`.
#[test]
fn a_model_past_the_limits_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let params: String = (0..1001)
        .map(|k| format!("[[param]]\nname = \"p{k}\"\nvalue = 1.0\n"))
        .collect();
    std::fs::write(dir.path().join("p.toml"), format!("name = \"p\"\n{params}")).unwrap();
    let odes: String = (0..201).map(|k| format!("x{k}'=-x{k}\n")).collect();
    std::fs::write(dir.path().join("v.ode"), format!("{odes}done\n")).unwrap();
    let gates: String = (0..101)
        .map(|k| {
            format!(
                "[[gate]]\nname = \"g{k}\"\nalpha = {{ form = \"exp\", a = 0.07, v0 = -58.0, k = -20.0 }}\nbeta = {{ form = \"exp\", a = 0.07, v0 = -58.0, k = -20.0 }}\n"
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("g.toml"),
        format!("name = \"g\"\n[[param]]\nname = \"c_m\"\nvalue = 1.0\n{gates}"),
    )
    .unwrap();
    for (file, why) in [
        ("p.toml", "param: 1001 parameters; at most 1000 are allowed"),
        (
            "v.ode",
            "201 differential equations; at most 200 are allowed",
        ),
        ("g.toml", "gate: 101 gates; at most 100 are allowed"),
    ] {
        let o = run_in(dir.path(), &["rest", "--model-file", file, "--out", "r"]);
        refused(&o, &[why]);
        assert!(!dir.path().join("r").exists());
    }
}

/// A negative number after a flag reaches the setting's own check, which names it and its
/// range (`fit --dt -1` had been taken for an unknown flag `-1` by the argument parser).
#[test]
fn a_negative_number_is_judged_by_the_setting_it_is_for() {
    let dir = tempfile::tempdir().unwrap();
    for (args, why) in [
        (
            &[
                "fit",
                "--free",
                "g_k",
                "--target",
                "rheobase=7",
                "--dt",
                "-1",
            ][..],
            "--dt = -1",
        ),
        (&["phase-plane", "--t-max", "-5"][..], "--t-max = -5"),
    ] {
        let o = run_in(dir.path(), &[args, &["--out", "o"]].concat());
        refused(&o, &[why]);
    }
}

/// A folder of dotfiles alone (a home folder), a symbolic link, and a file are refused at
/// once, before any work, and left as they were; a file saved into the folder while a run
/// writes its report survives, in the folder (refused at the start) or kept beside it as
/// `OUT.kept-PID` (saved during the run).
#[cfg(unix)]
#[test]
fn dotfiles_links_and_files_saved_meanwhile_are_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id"), "key").unwrap();
    let before = checksums(&home);
    refused(
        &run_in(dir.path(), &["rest", "--model", "hh", "--out", "home"]),
        &["home was not written by a report (.ssh/id)"],
    );
    assert_eq!(checksums(&home), before);
    std::os::unix::fs::symlink("home", dir.path().join("link")).unwrap();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    for (out, why) in [
        ("link", "is a symbolic link (to home)"),
        ("file", "exists and is not a folder"),
    ] {
        refused(
            &run_in(dir.path(), &["fi", "--model", "hh", "--out", out]),
            &[why],
        );
    }
    assert!(
        std::fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    ok(&run_in(dir.path(), &["fi", "--model", "hh", "--out", "r"]));
    let mut child = spawn_in(dir.path(), &["fi", "--model", "hh", "--out", "r"]);
    // Saved once the run is under way: its staging folder exists (or it has finished).
    let staging = format!(".r.staging-{}", child.id());
    while !dir.path().join(&staging).exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::write(dir.path().join("r/notes.txt"), "mine").unwrap();
    let status = child.wait().unwrap();
    let kept: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("r.kept-")
        })
        .collect();
    let survived = dir.path().join("r/notes.txt").is_file()
        || kept.iter().any(|k| k.join("notes.txt").is_file());
    assert!(survived, "notes.txt lost (run status {status:?})");
    assert!(kept.is_empty() || !status.success());
}
