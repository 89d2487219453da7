//! Running a study: every step resolved and checked before any runs, all steps written into one
//! staging folder, the document's claims measured there, then the folder swapped in whole.

use super::check::{Check, CheckOutcome, Verdict};
use super::task::Task;
use super::{Study, StudyError};
use crate::error::Error;
use crate::progress::Observer;
use crate::report::{Staging, Wait};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// How to run a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Shorter runs (each step's `fast` overrides); checks that need the full runs are not run.
    pub fast: bool,
    /// Wait for another run writing the same folder, or refuse.
    pub wait: Wait,
}

/// A study that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyOutcome {
    /// The report folder.
    pub out: PathBuf,
    /// Every check, in the study's order.
    pub checks: Vec<CheckOutcome>,
}

impl StudyOutcome {
    /// The checks whose measurement drifted or has no number, in words.
    pub fn drifted(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.drifted)
            .map(|c| match c.measured {
                Some(m) if !m.is_nan() => format!("'{}' measured {}", c.claim, fmt_value(m)),
                _ => format!("'{}' measured no number (NaN)", c.claim),
            })
            .collect()
    }
}

/// The tasks of every step with `{out}` standing for `out`.
fn resolve(study: &Study, out: &Path, opts: RunOptions) -> Result<Vec<Task>, StudyError> {
    study
        .steps
        .iter()
        .map(|s| s.task(out, &study.dir, opts.fast, &study.file))
        .collect()
}

/// A step may read only what an earlier step wrote: an input under `out` must lie in the
/// folder of a step that comes before it.
fn check_order(study: &Study, tasks: &[Task], out: &Path) -> Result<(), StudyError> {
    for (k, (step, task)) in study.steps.iter().zip(tasks).enumerate() {
        for (_, input) in task.inputs() {
            let Ok(rel) = input.strip_prefix(out) else {
                continue;
            };
            let first = rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            let producer = study.steps[..k].iter().any(|s| *s.name.get_ref() == first);
            if !producer {
                let later = study.steps[k..].iter().any(|s| *s.name.get_ref() == first);
                return Err(StudyError::Field {
                    file: study.file.clone(),
                    line: step.line,
                    field: "step.args".into(),
                    reason: format!(
                        "step '{}' reads {} but {}",
                        step.name.get_ref(),
                        input.display(),
                        if later {
                            format!("step '{first}' runs after it: put it first")
                        } else {
                            format!("no step is named '{first}'")
                        }
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Run `study` into `out`. Every step is resolved and checked first (a bad setting in the last
/// step fails before the first runs, and nothing is written); then all steps write into one
/// staging folder, the checks are measured there, the summary is written, and the folder is
/// swapped in as `out` (a failed step leaves the old report as it was). `on_step` hears each
/// step as it starts (name, command).
pub fn run(
    study: &Study,
    out: &Path,
    opts: RunOptions,
    observer: &dyn Observer,
    on_step: impl FnMut(&str, &str),
) -> Result<StudyOutcome, Error> {
    run_with_wait(study, out, opts, observer, on_step, |_| {})
}

/// Every step of `study` resolved for `out` and checked, with nothing computed or written: each
/// step's settings, its model, the files it reads (those under `out` must be written by an
/// earlier step: an unknown step or a later one is refused by name; the others must exist).
/// [`run`] does this before it takes `out`'s lock.
pub fn prepare(study: &Study, out: &Path, opts: RunOptions) -> Result<Vec<Task>, Error> {
    let tasks = resolve(study, out, opts)?;
    check_order(study, &tasks, out)?;
    for (step, task) in study.steps.iter().zip(&tasks) {
        task.check()
            .and_then(|_| super::job::check_inputs(&task.inputs(), Some(out)))
            .map_err(|e| StudyError::Step {
                step: step.name.get_ref().clone(),
                reason: e.to_string(),
            })?;
    }
    // The study file and the model files are read from outside `out`, which is replaced
    // whole (the files earlier steps write there are the run's own).
    let study_file = Path::new(&study.file);
    let read: Vec<(&str, &Path)> = std::iter::once(("study file", study_file))
        .chain(
            tasks
                .iter()
                .filter_map(|t| t.model_file().map(|p| ("model-file", p))),
        )
        .collect();
    super::job::check_outside(out, &read)?;
    Ok(tasks)
}

/// [`run`], with `on_wait` told the holder's process id when another run holds `out` and
/// this one waits for it.
pub fn run_with_wait(
    study: &Study,
    out: &Path,
    opts: RunOptions,
    observer: &dyn Observer,
    mut on_step: impl FnMut(&str, &str),
    on_wait: impl FnOnce(Option<u32>),
) -> Result<StudyOutcome, Error> {
    prepare(study, out, opts)?;
    let stage = Staging::begin(out, opts.wait, on_wait)?;
    // The steps read earlier steps' files in the staging folder; their reports name them
    // where they will be, under `out`.
    let mut tasks = resolve(study, stage.dir(), opts)?;
    for t in &mut tasks {
        t.show_inputs_as(stage.dir(), out);
    }
    // A step's message names files where they will be, never in the staging folder.
    let (staged, shown) = (stage.dir().display().to_string(), out.display().to_string());
    let reason = |e: Error| e.to_string().replace(&staged, &shown);
    let mut skipped = vec![];
    for (step, task) in study.steps.iter().zip(&tasks) {
        on_step(step.name.get_ref(), task.command());
        let dir = stage.dir().join(step.name.get_ref());
        std::fs::create_dir_all(&dir).map_err(|e| crate::error::ReportError::Io {
            path: dir.display().to_string(),
            reason: format!("cannot create the step's folder: {e}"),
        })?;
        match task.run_into(&dir, observer) {
            Ok(_) => {}
            Err(e @ Error::Cancelled(_)) => return Err(e),
            Err(e) if step.optional => {
                let _ = std::fs::remove_dir_all(&dir);
                skipped.push((step.name.get_ref().clone(), reason(e)));
            }
            Err(e) => {
                return Err(StudyError::Step {
                    step: step.name.get_ref().clone(),
                    reason: reason(e),
                }
                .into());
            }
        }
    }
    let checks = conclude(study, stage.dir(), opts, &skipped).map_err(|e| match e {
        Error::Study(StudyError::Check { claim, reason }) => StudyError::Check {
            claim,
            reason: reason.replace(&staged, &shown),
        }
        .into(),
        e => e,
    })?;
    let out = stage.commit()?;
    Ok(StudyOutcome { out, checks })
}

/// Measure and judge every check in `dir` (the steps' reports) and write `dir/summary.md`;
/// `skipped` are optional steps that failed, with the reason.
pub fn conclude(
    study: &Study,
    dir: &Path,
    opts: RunOptions,
    skipped: &[(String, String)],
) -> Result<Vec<CheckOutcome>, Error> {
    let checks = study
        .checks
        .iter()
        .map(|c| {
            let run = (!opts.fast || c.in_fast_mode) && skipped_step(c, skipped).is_none();
            c.evaluate(dir, run)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let md = summary(study, dir, opts, &checks, skipped);
    crate::report::atomic::write_text(&dir.join("summary.md"), &md)?;
    Ok(checks)
}

/// The optional step, of those `skipped` (failed), whose table `check` measures or judges
/// on: such a check is not run, and says why, rather than failing the study on a table that
/// was never written.
fn skipped_step<'a>(check: &Check, skipped: &'a [(String, String)]) -> Option<&'a str> {
    let judged = check.claims.measure(&check.measure).table;
    [check.measure.table.as_str(), judged.as_str()]
        .iter()
        .filter_map(|table| table.split('/').next())
        .find_map(|step| {
            skipped
                .iter()
                .find(|(name, _)| name == step)
                .map(|(name, _)| name.as_str())
        })
}

/// The study's summary.md: what the document showed, the claims with measured values and
/// verdicts, and every step's summary and figures.
fn summary(
    study: &Study,
    dir: &Path,
    opts: RunOptions,
    checks: &[CheckOutcome],
    skipped: &[(String, String)],
) -> String {
    let mut md = format!("# {}\n\n", study.title);
    if let Some(doc) = &study.document {
        let _ = writeln!(md, "Source document: `{doc}`.");
    }
    let _ = writeln!(
        md,
        "Reproduced by `excitable {}`{}.\n",
        study.made_by,
        if opts.fast {
            " **in fast mode** (shorter runs; some checks not run)"
        } else {
            ""
        }
    );
    // A study of a source document says what it showed; the main job has no document.
    let (shows, adds, claims, said) = if study.document.is_some() {
        (
            "What the document showed",
            "What the toolkit adds",
            "The document's claims, checked",
            "the document",
        )
    } else {
        ("Scope", "Contents", "Headline numbers, checked", "expected")
    };
    let _ = writeln!(md, "## {shows}\n\n{}\n", study.shows.trim());
    if !study.adds.trim().is_empty() {
        let _ = writeln!(md, "## {adds}\n\n{}\n", study.adds.trim());
    }
    if !study.checks.is_empty() {
        let _ = writeln!(
            md,
            "## {claims}\n\n| claim | {said} | tested | measured | verdict | evidence |\n|---|---|---|---|---|---|"
        );
        for (c, o) in study.checks.iter().zip(checks) {
            let (measured, verdict) = match (o.measured, o.verdict) {
                (Some(m), Some(v)) => {
                    let unit = if c.unit.is_empty() { "" } else { " " };
                    let mut text = if m.is_nan() {
                        "no number (NaN)".to_string()
                    } else {
                        format!("{}{unit}{}", fmt_value(m), c.unit)
                    };
                    if let Some(j) = o
                        .judged
                        .filter(|j| j.to_bits() != m.to_bits() && !(j.is_nan() && m.is_nan()))
                    {
                        let tested = if j.is_nan() {
                            "no number".to_string()
                        } else {
                            fmt_value(j)
                        };
                        let _ = write!(text, " (tested: {tested})");
                    }
                    let v = if o.drifted && m.is_nan() {
                        // A `finite` claim keeps its verdict (refuted); any other has none.
                        let judged = match v {
                            Verdict::NoNumber => String::new(),
                            v => format!(" ({})", v.name()),
                        };
                        format!(
                            "**no number** where {} ± {} was recorded{judged}",
                            crate::model::Number(c.expect),
                            crate::model::Number(c.tol),
                        )
                    } else if o.drifted {
                        format!(
                            "**drifted** from {} ± {} ({})",
                            crate::model::Number(c.expect),
                            crate::model::Number(c.tol),
                            v.name()
                        )
                    } else {
                        format!("**{}**", v.name())
                    };
                    (text, v)
                }
                _ => match skipped_step(c, skipped) {
                    Some(step) => (
                        format!("not run: the optional step '{step}' failed"),
                        "not run".to_string(),
                    ),
                    None => ("not run in fast mode".to_string(), "not run".to_string()),
                },
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {measured} | {verdict} | {} |",
                c.claim,
                c.document,
                c.claims.describe(&c.measure),
                c.evidence
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Steps\n");
    for step in &study.steps {
        let name = step.name.get_ref();
        if let Some((_, why)) = skipped.iter().find(|(n, _)| n == name) {
            let _ = writeln!(
                md,
                "### {name}: `{}`\n\n{} Not computed: {why}\n",
                step.command.get_ref(),
                step.about.trim()
            );
            continue;
        }
        let _ = writeln!(
            md,
            "### {name}: `{}`\n\n{}{}[summary]({name}/summary.md)\n",
            step.command.get_ref(),
            step.about.trim(),
            if step.about.trim().is_empty() {
                ""
            } else {
                " "
            }
        );
        for p in crate::report::figure::pngs_in(&dir.join(name)) {
            let _ = writeln!(md, "![{name} {p}]({name}/{p})\n");
        }
    }
    md
}

/// A measured value with all its significant digits (up to 10, trailing zeros dropped), so a
/// check at 1e-7 shows the digits it was judged on.
fn fmt_value(x: f64) -> String {
    crate::model::Number(x).to_string()
}
