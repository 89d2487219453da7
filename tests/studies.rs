//! Every study in `studies/` runs in fast mode and its headline numbers hold (the runner fails
//! when a check drifts from its recorded value); a malformed study names file, line and field.

use crate::common;
use common::excitable;

#[test]
fn every_study_runs_fast_and_its_checks_hold() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().to_str().unwrap();
    let (ok, stdout, stderr) =
        excitable(&["study", "run", "--all", "--fast", "--reports", reports]);
    assert!(
        ok,
        "{stderr}\n{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
    let studies: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/studies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(studies.len() >= 7, "{studies:?}");
    for name in &studies {
        let md = std::fs::read_to_string(dir.path().join(name).join("summary.md")).unwrap();
        let toml = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("studies/{name}.toml")),
        )
        .unwrap();
        // A top-level `document` (checks have their own, after the first table).
        let from_document = toml
            .lines()
            .take_while(|l| !l.starts_with("[["))
            .any(|l| l.starts_with("document ="));
        let heading = if from_document {
            "## What the document showed"
        } else {
            "## Scope"
        };
        assert!(md.contains(heading), "{name}");
        assert!(md.contains("**in fast mode**"), "{name}");
        // Every study but the main job checks claims, with verdicts.
        if name != "hodgkin_huxley" {
            assert!(
                md.contains("**refuted**")
                    || md.contains("**refined**")
                    || md.contains("**confirmed**"),
                "{name}"
            );
        }
    }
}

#[test]
fn a_malformed_study_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let out = dir.path().join("o");
    let run = |step: &str| {
        let head = "title = \"t\"\nshows = \"s\"\nadds = \"a\"\n\n[[step]]\nname = \"x\"\n";
        std::fs::write(&bad, format!("{head}{step}")).unwrap();
        excitable(&[
            "study",
            "run",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (ok, _, stderr) = run("command = \"simulat\"\n");
    assert!(
        !ok && stderr.contains("bad.toml, line 7: step.command"),
        "{stderr}"
    );
    // A flag the command does not know is refused with the step named, before anything runs.
    let (ok, _, stderr) = run("command = \"rest\"\nargs = { colour = \"red\" }\n");
    assert!(
        !ok && stderr.contains("step 'x' (rest)") && stderr.contains("--colour"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// A check whose column has no number (the CV of a train of one spike) reads "no number",
/// neither confirmed nor refuted, and fails the run with the recorded value named; the
/// same measurement under `finite = true` is refuted.
#[test]
fn a_check_that_measures_no_number_says_so_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let spikes = dir.path().join("one.csv");
    std::fs::write(&spikes, "neuron,t_ms\n0,12.5\n").unwrap();
    let study = dir.path().join("nan.toml");
    let check = |label: &str, claims: &str| {
        format!(
            "[[check]]\nclaim = \"regular ({label})\"\ndocument = \"d\"\ntable = \"stats/spike_stats.parquet\"\n\
             column = \"cv\"\nagg = \"first\"\nclaims = {{ {claims} }}\nexpect = 0.5\n\
             tol = 0.01\nevidence = \"e\"\n\n"
        )
    };
    std::fs::write(
        &study,
        format!(
            "title = \"t\"\nshows = \"s\"\nadds = \"a\"\n\n[[step]]\nname = \"stats\"\n\
             command = \"stats\"\nargs = {{ spikes = \"{}\", t-stop = 100 }}\n\n{}{}",
            spikes.display(),
            check("below 1", "op = \"<\", value = 1"),
            check("finite", "finite = true"),
        ),
    )
    .unwrap();
    let out = dir.path().join("o");
    let (ok, _, stderr) = excitable(&[
        "study",
        "run",
        study.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("'regular (below 1)' measured no number (NaN)"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let row = |label: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| regular ({label})")))
            .unwrap_or_else(|| panic!("{md}"))
            .to_string()
    };
    let compared = row("below 1");
    assert!(
        compared.contains("| no number (NaN) |")
            && compared.contains("**no number** where 0.5 ± 0.01 was recorded")
            && !compared.contains("refuted")
            && !compared.contains("confirmed"),
        "{compared}"
    );
    assert!(
        row("finite").contains("**no number** where 0.5 ± 0.01 was recorded (refuted)"),
        "{md}"
    );
}
