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
