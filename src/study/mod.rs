//! Study files: a TOML description of a run that reproduces a document's analyses and checks
//! its numeric claims.
//!
//! A study is a list of steps, each one CLI subcommand with its flags as a TOML table, so a
//! study and the commands can never drift apart (every subcommand is a one-step study):
//!
//! ```toml
//! title = "The human neurone of 000"
//! document = "000_6b9fb642337a62f2.txt"
//! shows = "what the document showed, in our words"
//! adds = "what the toolkit adds"
//!
//! [[step]]
//! name = "trace"                     # output in OUT/trace/
//! command = "simulate"
//! args = { model = "hh-ca", stim = ["step:5:15:1"], t-max = 200, method = "euler" }
//! fast = { t-max = 50 }              # overrides for `study run --fast`
//!
//! [[check]]
//! claim = "it fires once and then never again"
//! document = "one spike"             # what the document says
//! table = "trace/spikes.parquet"     # relative to OUT
//! column = "t_ms"
//! agg = "count"
//! claims = { op = "==", value = 1 }  # the claim as a test: the verdict is computed from it
//! expect = 1                         # what we measured when the study was written...
//! tol = 0                            # ...and how far a rerun may drift from it
//! evidence = "one spike at 1.28 ms"
//! ```
//!
//! Flags: a string or number gives `--key value`, an array repeats the flag, `true` gives
//! `--key`; `{out}` in a string is the study's output folder (to read an earlier step's
//! files) and `{study}` the folder holding the study file (so a study can name its own model
//! files, `model-file = "{study}/models/ml.ode"`, and run from any working directory). The
//! runner adds `--out OUT/<step name>` itself.

pub mod check;
pub mod job;
pub mod jobs;
pub mod run;
pub mod task;
pub mod template;

pub use check::{Check, Verdict};
use serde::Deserialize;
use std::path::Path;

pub use crate::error::StudyError;

/// A parsed study.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// One line naming the study (the summary's heading).
    pub title: String,
    /// The source document it reproduces (a file of `../shared/seeds/`), if any.
    #[serde(default)]
    pub document: Option<String>,
    /// What the document showed.
    pub shows: String,
    /// What the toolkit adds.
    pub adds: String,
    /// The runs, in order (`[[step]]` tables); a later step may read an earlier one's files.
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// The numeric claims checked against the steps' tables (`[[check]]` tables).
    #[serde(default, rename = "check")]
    pub checks: Vec<Check>,
    /// The study file, as named (for messages and the summary).
    #[serde(skip)]
    pub file: String,
    /// The folder holding the study file (`{study}` in a step's settings).
    #[serde(skip)]
    pub dir: std::path::PathBuf,
    /// The command that makes this report again, without `excitable` and `--out`: `study run
    /// FILE`, or for the report template the `report` line it was made from.
    #[serde(skip)]
    pub made_by: String,
}

/// One subcommand run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The step's name, also its output folder `OUT/<name>/` (with its place in the file).
    pub name: toml::Spanned<String>,
    /// The subcommand it runs (`simulate`, `fi`, `bifurcation`, ...), with its place in the file.
    pub command: toml::Spanned<String>,
    /// The subcommand's settings, keyed as its flags are (`t-max = 200`).
    #[serde(default)]
    pub args: toml::Table,
    /// Overrides of `args` in fast mode.
    #[serde(default)]
    pub fast: toml::Table,
    /// What this step shows, for the summary.
    #[serde(default)]
    pub about: String,
    /// The line of the step's name in the study file (for messages).
    #[serde(skip)]
    pub line: usize,
    /// If the step fails, the study goes on and the summary says why it was not computed
    /// (the report template's bifurcation diagram, for a model without equilibria over its
    /// range).
    #[serde(default)]
    pub optional: bool,
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl Study {
    /// Parse and check a study file's text (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<Study, StudyError> {
        let mut study: Study = toml::from_str(text).map_err(|e| StudyError::Parse {
            file: file.into(),
            // toml's message names the line, the column and the field.
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        let field = |span: std::ops::Range<usize>, field: &str, reason: String| StudyError::Field {
            file: file.into(),
            line: line_of(text, span.start),
            field: field.into(),
            reason,
        };
        study.file = file.to_string();
        study.made_by = format!("study run {file}");
        for s in &mut study.steps {
            s.line = line_of(text, s.name.span().start);
        }
        let mut names = std::collections::HashSet::new();
        for s in &study.steps {
            let name = s.name.get_ref();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(field(
                    s.name.span(),
                    "step.name",
                    format!("'{name}': use letters, digits, '-' and '_' (it names a folder)"),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(field(
                    s.name.span(),
                    "step.name",
                    format!("'{name}' is used twice"),
                ));
            }
            if !task::Task::commands().contains(&s.command.get_ref().as_str()) {
                return Err(field(
                    s.command.span(),
                    "step.command",
                    format!(
                        "'{}' is not one of {}",
                        s.command.get_ref(),
                        task::Task::commands().join(", ")
                    ),
                ));
            }
            // Resolved with stand-in folders: every key and value is checked now, in both
            // the full and the fast form.
            s.task(Path::new("OUT"), Path::new("STUDY"), false, file)?;
            s.task(Path::new("OUT"), Path::new("STUDY"), true, file)?;
        }
        let steps: Vec<&str> = study
            .steps
            .iter()
            .map(|s| s.name.get_ref().as_str())
            .collect();
        for c in &study.checks {
            c.validate(&steps).map_err(|reason| StudyError::Parse {
                file: file.into(),
                reason: format!("check '{}': {reason}", c.claim),
            })?;
        }
        if study.steps.is_empty() {
            return Err(StudyError::Parse {
                file: file.into(),
                reason: "no [[step]]: a study runs at least one command".into(),
            });
        }
        Ok(study)
    }

    /// Read and parse a study file.
    pub fn load(path: &Path) -> Result<Study, StudyError> {
        let text =
            crate::input::read_text(path, crate::input::MAX_MODEL_BYTES).map_err(|reason| {
                StudyError::Parse {
                    file: path.display().to_string(),
                    reason,
                }
            })?;
        let mut study = Study::parse(&text, &path.display().to_string())?;
        study.dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(std::path::PathBuf::from("."), Path::to_path_buf);
        Ok(study)
    }
}

/// `value` with `{out}` and `{study}` replaced in every string (arrays included).
fn substitute(value: &toml::Value, out: &str, study: &str) -> toml::Value {
    match value {
        toml::Value::String(s) => {
            toml::Value::String(s.replace("{out}", out).replace("{study}", study))
        }
        toml::Value::Array(a) => {
            toml::Value::Array(a.iter().map(|v| substitute(v, out, study)).collect())
        }
        v => v.clone(),
    }
}

impl Step {
    /// The step's task: its settings with the fast overrides (when `fast`), `{out}` standing
    /// for `out` and `{study}` for `study_dir`. Errors name the study file, the step's line and
    /// the setting.
    pub fn task(
        &self,
        out: &Path,
        study_dir: &Path,
        fast: bool,
        file: &str,
    ) -> Result<task::Task, StudyError> {
        let mut args = self.args.clone();
        if fast {
            for (k, v) in &self.fast {
                args.insert(k.clone(), v.clone());
            }
        }
        if args.contains_key("out") {
            return Err(StudyError::Field {
                file: file.into(),
                line: self.line,
                field: "step.args.out".into(),
                reason: "the runner sets the output folder (--out) itself: OUT/<step name>".into(),
            });
        }
        let (o, s) = (out.display().to_string(), study_dir.display().to_string());
        let table: toml::Table = args
            .iter()
            .map(|(k, v)| (k.clone(), substitute(v, &o, &s)))
            .collect();
        task::Task::from_table(self.command.get_ref(), &table).map_err(|reason| StudyError::Field {
            file: file.into(),
            line: self.line,
            field: format!(
                "step '{}' ({})",
                self.name.get_ref(),
                self.command.get_ref()
            ),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "t"
shows = "s"
adds = "a"

[[step]]
name = "trace"
command = "simulate"
args = { model = "hh-ca", stim = ["step:5:15:1", "0.5"], t-max = 200, dt = 0.01, record = "full", svg = true, set = "{study}" }
fast = { t-max = 50 }

[[step]]
name = "windows"
command = "windows"
args = { trace = "{out}/trace/trace.parquet", width = [0.1, 1] }
"#;

    /// The TOML examples of this module's and the check module's documentation, as a user
    /// would copy them.
    fn documented_example(source: &str) -> String {
        let lines: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        let start = lines
            .iter()
            .position(|l| *l == "```toml")
            .expect("a TOML example")
            + 1;
        let len = lines[start..]
            .iter()
            .position(|l| *l == "```")
            .expect("closed");
        lines[start..start + len].join("\n")
    }

    #[test]
    fn the_documented_examples_parse() {
        let study = documented_example(include_str!("mod.rs"));
        let s = Study::parse(&study, "mod.rs").expect("the module's example parses");
        assert_eq!((s.steps.len(), s.checks.len()), (1, 1));
        let check = documented_example(include_str!("check.rs"));
        let head = "title = \"t\"\nshows = \"s\"\nadds = \"a\"\n[[step]]\nname = \"trace\"\ncommand = \"simulate\"\nargs = { model = \"hh\" }\n";
        let s = Study::parse(&format!("{head}{check}"), "check.rs")
            .expect("the check module's example parses");
        assert_eq!(s.checks.len(), 1);
    }

    #[test]
    fn steps_become_typed_tasks() {
        use crate::study::task::Task;
        let s = Study::parse(GOOD, "good.toml").unwrap();
        let task = |k: usize, fast: bool| {
            s.steps[k]
                .task(
                    Path::new("reports/x"),
                    Path::new("studies"),
                    fast,
                    "good.toml",
                )
                .unwrap()
        };
        let Task::Simulate(sim) = task(0, false) else {
            panic!("not a simulate task")
        };
        assert_eq!(sim.spec.stim, ["step:5:15:1", "0.5"]);
        assert_eq!(sim.spec.t_max, 200.0);
        assert!(sim.spec.svg);
        assert_eq!(sim.model.set, ["studies"]);
        let Task::Simulate(fast) = task(0, true) else {
            panic!("not a simulate task")
        };
        assert_eq!(fast.spec.t_max, 50.0);
        let Task::Windows(w) = task(1, false) else {
            panic!("not a windows task")
        };
        assert_eq!(
            Task::Windows(w).inputs(),
            [(
                "trace",
                Path::new("reports/x/trace/trace.parquet").to_path_buf()
            )]
        );
    }

    #[test]
    fn a_step_reading_a_later_or_unknown_step_is_refused() {
        let swapped = GOOD.replace("{out}/trace/", "{out}/nothing/");
        let s = Study::parse(&swapped, "f.toml").unwrap();
        let e = crate::study::run::run(
            &s,
            Path::new("/nonexistent/out"),
            crate::study::run::RunOptions {
                fast: true,
                wait: crate::report::Wait::No,
            },
            &crate::progress::Silent,
            |_, _| {},
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no step is named 'nothing'"), "{e}");
    }

    #[test]
    fn malformed_studies_name_file_line_and_field() {
        let e = Study::parse(
            &GOOD.replace("command = \"simulate\"", "command = \"simulat\""),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.toml, line 8: step.command") && e.contains("simulat"),
            "{e}"
        );
        let e = Study::parse(
            &GOOD.replace("adds = \"a\"", "adds = \"a\"\ncolour = 1"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.toml") && e.contains("line 5") && e.contains("colour"),
            "{e}"
        );
        let e = Study::parse(&GOOD.replace("t-max = 200", "t-max = { a = 1 }"), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 7") && e.contains("t-max"), "{e}");
        let e = Study::parse(&GOOD.replace("t-max = 200", "out = \"x\""), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--out"), "{e}");
        let e = Study::parse("title = \"t\"\nshows = \"\"\nadds = \"\"\n", "e.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [[step]]"), "{e}");
    }

    /// A check's guard that would not guard (`tol` negative, NaN or infinite, `expect` NaN) or
    /// a table under no step's folder is refused when the study is read, before any step
    /// runs: a negative `tol` used to run every step, replace the old report and then call
    /// the check "drifted" at exactly its expected value.
    #[test]
    fn a_check_that_cannot_guard_is_refused_before_any_step() {
        let check = |expect: &str, tol: &str, table: &str| {
            format!(
                "{GOOD}\n[[check]]\nclaim = \"c\"\ndocument = \"d\"\ntable = \"{table}\"\ncolumn = \"v_mv\"\nagg = \"max\"\nclaims = {{ finite = true }}\nexpect = {expect}\ntol = {tol}\nevidence = \"e\"\n"
            )
        };
        assert!(Study::parse(&check("1", "0.1", "trace/trace.parquet"), "f.toml").is_ok());
        for (expect, tol, table, says) in [
            (
                "1",
                "-1",
                "trace/trace.parquet",
                "tol = -1: allowed a finite number >= 0",
            ),
            ("1", "nan", "trace/trace.parquet", "tol = NaN"),
            ("1", "inf", "trace/trace.parquet", "tol = inf"),
            ("nan", "0.1", "trace/trace.parquet", "expect = NaN"),
            (
                "1",
                "0.1",
                "nothere/spikes.parquet",
                "its folder 'nothere' is not one of the steps (trace, windows)",
            ),
        ] {
            let e = Study::parse(&check(expect, tol, table), "f.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains("f.toml") && e.contains(says), "{e}");
        }
    }
}
