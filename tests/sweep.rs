//! `excitable sweep` end to end: a grid over g_K and the current, run whole and in 4 shards
//! (in a shuffled order, one run twice), merged: the merged table equals the whole run exactly.

use crate::common;
use common::excitable;

use excitable::report::table::{column_names, read_f64_columns};
use std::path::Path;

const GRID: [&str; 10] = [
    "--param",
    "g_k=30:42:3",
    "--param",
    "g_na=100,120",
    "--current",
    "0:20:2.5",
    "--t-max",
    "150",
    "--transient",
    "50",
];

fn sweep(out: &Path, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec!["sweep", "--out", out.to_str().unwrap()];
    args.extend(GRID);
    args.extend(extra);
    excitable(&args)
}

/// Every column of a grid table, as bits (NaN-exact).
fn bits(path: &Path) -> Vec<(String, Vec<u64>)> {
    let names = column_names(path).unwrap();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let cols = read_f64_columns(path, &refs).unwrap();
    names
        .into_iter()
        .zip(cols)
        .map(|(n, c)| (n, c.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// `merge DIR` fails, naming the shard file `named` and saying `why`.
fn merge_refuses(dir: &Path, named: &Path, why: &str) {
    let (ok, _, stderr) = excitable(&["merge", dir.to_str().unwrap()]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains(&named.display().to_string()) && stderr.contains(why),
        "{stderr}"
    );
}

/// `sweep ARGS` whole into `dir/whole` and in two shards (in the order given) into
/// `dir/sharded`, then `merge`: asserts each command succeeds and the merged table equals the
/// whole run's bit for bit. Returns the whole run's folder, its stdout and its columns.
fn whole_and_two_shards(
    dir: &Path,
    grid: &[&str],
    order: [&str; 2],
) -> (std::path::PathBuf, String, Vec<(String, Vec<u64>)>) {
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", "--out", out.to_str().unwrap()];
        args.extend(grid);
        args.extend(extra);
        excitable(&args)
    };
    let whole = dir.join("whole");
    let (ok, stdout, stderr) = run(&whole, &[]);
    assert!(ok, "{stderr}");
    let sharded = dir.join("sharded");
    for k in order {
        let (ok, _, stderr) = run(&sharded, &["--shard", k]);
        assert!(ok, "{stderr}");
    }
    let (ok, _, stderr) = excitable(&["merge", sharded.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let a = bits(&whole.join("grid.parquet"));
    assert_eq!(a, bits(&sharded.join("grid.parquet")));
    (whole, stdout, a)
}

#[test]
fn four_shards_merged_equal_the_whole_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let (ok, stdout, stderr) = sweep(&whole, &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("90 points"), "{stdout}");
    for f in ["grid.parquet", "grid.png", "summary.md"] {
        assert!(whole.join(f).exists(), "{f}");
    }
    let sharded = dir.path().join("sharded");
    for k in ["3/4", "1/4", "4/4"] {
        let (ok, _, stderr) = sweep(&sharded, &["--shard", k]);
        assert!(ok, "{stderr}");
    }
    // Merging with a shard missing names it.
    let (ok, _, stderr) = excitable(&["merge", sharded.to_str().unwrap()]);
    assert!(
        !ok && stderr.contains("shards 2 of 4 are missing"),
        "{stderr}"
    );
    let (ok, _, stderr) = sweep(&sharded, &["--shard", "2/4"]);
    assert!(ok, "{stderr}");
    // A rerun skips a finished shard.
    let (ok, stdout, _) = sweep(&sharded, &["--shard", "2/4"]);
    assert!(ok && stdout.contains("skipped"), "{stdout}");
    // A different sweep into the same directory is refused.
    let mut args = vec!["sweep", "--out", sharded.to_str().unwrap()];
    args.extend(["--param", "g_k=30:42:4", "--shard", "1/4"]);
    let (ok, _, stderr) = excitable(&args);
    assert!(!ok && stderr.contains("different sweep"), "{stderr}");
    // A first shard into a folder holding another report (the whole sweep's, with no
    // manifest) is refused and leaves it as it was: shards and a merge beside it had left a
    // folder half one report, half the other.
    let names = || {
        let mut n: Vec<_> = std::fs::read_dir(&whole)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        n.sort();
        n
    };
    let before = names();
    let (ok, _, stderr) = sweep(&whole, &["--shard", "1/4"]);
    assert!(
        !ok && stderr.contains("holds another report (grid.parquet"),
        "{stderr}"
    );
    assert_eq!(before, names());
    let (ok, stdout, stderr) = excitable(&["merge", sharded.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Merged from 4 shards"), "{stdout}");
    let a = bits(&whole.join("grid.parquet"));
    let b = bits(&sharded.join("grid.parquet"));
    assert_eq!(
        a.len(),
        15,
        "{:?}",
        a.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    assert_eq!(a, b);
    // The grid is the product of the axes, current fastest.
    let cols = read_f64_columns(
        &whole.join("grid.parquet"),
        &["point", "g_k_ms_cm2", "g_na_ms_cm2", "i_ua_cm2"],
    )
    .unwrap();
    assert_eq!(cols[0].len(), 5 * 2 * 9);
    assert_eq!((cols[1][9], cols[2][9], cols[3][9]), (30.0, 120.0, 0.0));
    assert_eq!((cols[1][89], cols[2][89], cols[3][89]), (42.0, 120.0, 20.0));
}

#[test]
fn bad_sweeps_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--param", "g_q=1:2:1"], "g_q"),
        (vec!["--param", "g_k=-5:2:1"], "g_k"),
        (vec!["--param", "g_k"], "NAME=VALUES"),
        (vec!["--param", "g_k=1,2", "--shard", "5/4"], "--shard"),
        (
            vec![
                "--param", "g_k=1,2", "--param", "g_na=1", "--param", "c_m=1",
            ],
            "one or two",
        ),
        (vec!["--param", "g_k=30", "--dt", "0"], "dt"),
    ] {
        let mut a = vec!["sweep", "--out", o];
        a.extend(args);
        let (ok, _, stderr) = excitable(&a);
        assert!(!ok && stderr.contains(needle), "{a:?}: {stderr}");
        assert!(!out.join("grid.parquet").exists());
    }
}

/// A shard of another sweep (here: another g_L, the same grid) copied into a sharded folder is
/// refused by `merge`, which names it and writes nothing; with the right shard back, the merge
/// succeeds and leaves no staging folder behind.
#[test]
fn merge_refuses_a_foreign_shard_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let small = [
        "--param",
        "g_k=30,36",
        "--current",
        "0,10",
        "--t-max",
        "100",
        "--transient",
        "20",
    ];
    for (out, extra) in [(&a, vec![]), (&b, vec!["--set", "g_l=0.31"])] {
        for k in ["1/2", "2/2"] {
            let mut args = vec!["sweep", "--out", out.to_str().unwrap(), "--shard", k];
            args.extend(small);
            args.extend(&extra);
            let (ok, _, stderr) = excitable(&args);
            assert!(ok, "{stderr}");
        }
    }
    let ours = a.join("shard=2").join("grid.parquet");
    let saved = std::fs::read(&ours).unwrap();
    std::fs::copy(b.join("shard=2").join("grid.parquet"), &ours).unwrap();
    merge_refuses(&a, &ours, "not a shard of this sweep");
    for f in ["grid.parquet", "grid.png", "summary.md"] {
        assert!(!a.join(f).exists(), "{f} written by a failed merge");
    }
    std::fs::write(&ours, saved).unwrap();
    let (ok, stdout, stderr) = excitable(&["merge", a.to_str().unwrap()]);
    assert!(ok && stdout.contains("Merged from 2 shards"), "{stderr}");
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    left.sort();
    assert_eq!(left, ["a", "b"]);
    let mut inside: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock") && n != excitable::report::staging::REPORT_MARK)
        .collect();
    inside.sort();
    assert_eq!(
        inside,
        [
            "grid.parquet",
            "grid.png",
            "shard=1",
            "shard=2",
            "summary.md",
            "sweep.toml"
        ]
    );
}

/// A shard file of the same sweep under another shard's number (copied by hand) is refused by
/// `merge` naming the file and both point ranges; more shards than grid points are refused
/// before anything is written.
#[test]
fn merge_names_a_shard_with_the_wrong_points_and_shards_fit_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let small = [
        "--param",
        "g_k=30,36",
        "--current",
        "0,10",
        "--t-max",
        "60",
        "--transient",
        "20",
    ];
    let run = |shard: &str| {
        let mut args = vec!["sweep", "--out", out.to_str().unwrap(), "--shard", shard];
        args.extend(small);
        excitable(&args)
    };
    let (ok, _, stderr) = run("5/5");
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("shard K/N: the number of shards N = 5")
            && stderr.contains("at most the grid's 4 points"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused shard made its folder");
    for k in ["1/2", "2/2"] {
        let (ok, _, stderr) = run(k);
        assert!(ok, "{stderr}");
    }
    let second = out.join("shard=2").join("grid.parquet");
    std::fs::copy(out.join("shard=1").join("grid.parquet"), &second).unwrap();
    merge_refuses(
        &out,
        &second,
        "holds grid points 0..2; shard 2/2 holds points 2..4",
    );
    assert!(!out.join("grid.parquet").exists());
}

/// An `.ode` model sweeps on lanes: shards merged equal the whole run bit for bit, the columns
/// carry no invented units (the file has none), and the summary names the engine.
#[test]
fn an_ode_model_sweeps_in_shards_without_invented_units() {
    let dir = tempfile::tempdir().unwrap();
    // The command runs in the crate's folder.
    let grid = [
        "--model-file",
        "studies/models/hh.ode",
        "--param",
        "gk=30:42:6",
        "--current",
        "0:20:5",
        "--t-max",
        "150",
        "--transient",
        "50",
    ];
    let (whole, stdout, a) = whole_and_two_shards(dir.path(), &grid, ["2/2", "1/2"]);
    assert!(stdout.contains("15 points"), "{stdout}");
    let names: Vec<&str> = a.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "point",
            "gk",
            "i",
            "rate_per_1000t",
            "n_spikes",
            "isi_mean",
            "isi_cv",
            "first_spike",
            "v_min",
            "v_max",
            "oscillation_per_1000t",
            "rest_start",
            "blew_up",
            "stopped"
        ]
    );
    let md = std::fs::read_to_string(whole.join("summary.md")).unwrap();
    assert!(md.contains("RK4 on lanes"), "{md}");
    for unit in [" mV", "uA/cm^2", " Hz", " ms"] {
        assert!(!md.contains(unit), "{unit} in {md}");
    }
    // gk = 30 fires at I = 20 (the rates are checked against the general simulator in
    // tests/ode_sweep.rs).
    let cols =
        read_f64_columns(&whole.join("grid.parquet"), &["gk", "i", "rate_per_1000t"]).unwrap();
    assert_eq!((cols[0][4], cols[1][4]), (30.0, 20.0));
    assert!(cols[2][4] > 50.0, "{}", cols[2][4]);
}

/// Points that blow up survive a sharded run: the merged table, `blew_up` column included,
/// equals the whole run's bit for bit (`dv/dt = -v + a v^2 + i` has no equilibrium past
/// i = 1/(4a)).
#[test]
fn points_that_blow_up_merge_like_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blows_up.ode");
    std::fs::write(&file, "par i=0, a=1\ndv/dt=-v+a*v^2+i\ninit v=0\ndone\n").unwrap();
    let grid = [
        "--model-file",
        file.to_str().unwrap(),
        "--param",
        "a=0.5,1",
        "--current",
        "0,0.1,1",
        "--t-max",
        "50",
        "--transient",
        "10",
    ];
    let (_, stdout, a) = whole_and_two_shards(dir.path(), &grid, ["1/2", "2/2"]);
    assert!(stdout.contains("2 of 6 points blew up"), "{stdout}");
    let blew = &a.iter().find(|c| c.0 == "blew_up").unwrap().1;
    let ones: Vec<u64> = blew
        .iter()
        .map(|&b| (f64::from_bits(b) != 0.0) as u64)
        .collect();
    assert_eq!(ones, [0, 0, 1, 0, 0, 1]);
}

/// A shard with one bit flipped anywhere is refused by `merge`, or merges to exactly the
/// same grid: never to a wrong one (25 of 40 flips had merged silently, a `v_min_mv` of
/// -73.6 read as -1.4e21, and one had panicked). The shard's checksum of its rows is what
/// catches a changed value; the damaged shard then runs again instead of being skipped.
#[test]
fn a_damaged_shard_never_merges_to_a_wrong_grid() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, whole) = whole_and_two_shards(dir.path(), &GRID, ["1/2", "2/2"]);
    let sharded = dir.path().join("sharded");
    let shard = sharded.join("shard=2").join("grid.parquet");
    let good = std::fs::read(&shard).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut refused = 0;
    let mut damaged = None;
    for _ in 0..40 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bytes = good.clone();
        let at = 4 + (state % (good.len() as u64 - 12)) as usize;
        bytes[at] ^= 1 << (state >> 60);
        std::fs::write(&shard, &bytes).unwrap();
        let (ok, _, stderr) = excitable(&["merge", sharded.to_str().unwrap()]);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if ok {
            assert_eq!(
                bits(&sharded.join("grid.parquet")),
                whole,
                "flip at byte {at}"
            );
        } else {
            refused += 1;
            assert!(stderr.lines().count() == 1, "{stderr}");
            if damaged.is_none() && stderr.contains("checksum") {
                damaged = Some(bytes);
            }
        }
    }
    assert!(refused >= 20, "{refused} of 40 refused");
    // Damaged (a flip the checksum caught), the shard runs again rather than being skipped.
    std::fs::write(&shard, damaged.expect("a flip caught by the checksum")).unwrap();
    let (ok, stdout, stderr) = sweep(&sharded, &["--shard", "2/2"]);
    assert!(ok && !stdout.contains("skipped"), "{stdout}{stderr}");
    let (ok, _, stderr) = excitable(&["merge", sharded.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(bits(&sharded.join("grid.parquet")), whole);
}

/// A file of the user's put into a sharded sweep's folder is carried over by `merge` but
/// not listed as the report's: a later whole sweep into the folder refuses it, keeping the
/// file (merge had listed it, and the next run had deleted it).
#[test]
fn merge_does_not_adopt_the_users_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    for k in ["1/2", "2/2"] {
        let (ok, _, stderr) = sweep(&out, &["--shard", k]);
        assert!(ok, "{stderr}");
    }
    // A summary of the user's own would be replaced by the merge's: refused.
    std::fs::write(out.join("summary.md"), "# my notes").unwrap();
    let (ok, _, stderr) = excitable(&["merge", out.to_str().unwrap()]);
    assert!(!ok && stderr.contains("(summary.md)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("summary.md")).unwrap(),
        "# my notes"
    );
    std::fs::remove_file(out.join("summary.md")).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(out.join(".git")).unwrap();
    std::fs::write(out.join(".git").join("HEAD"), "ref").unwrap();
    let (ok, _, stderr) = excitable(&["merge", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = sweep(&out, &[]);
    assert!(!ok && stderr.contains("(.git/HEAD, notes.txt)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // Without them the merged folder is a report's, shards and all, and is replaced.
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    std::fs::remove_dir_all(out.join(".git")).unwrap();
    let (ok, _, stderr) = sweep(&out, &[]);
    assert!(ok, "{stderr}");
    assert!(!out.join("shard=1").exists());
}
