//! `excitable study run`: run study files (`studies/*.toml`, see [`excitable::study`]) into
//! `reports/NAME/`, each swapped in whole, and check the documents' claims.

use super::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use excitable::report::Wait;
use excitable::study::Study;
use excitable::study::run::{RunOptions, StudyOutcome, run_with_wait};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct StudyArgs {
    #[command(subcommand)]
    pub action: StudyAction,
}

#[derive(Debug, Subcommand)]
pub enum StudyAction {
    /// Run study files into reports/NAME/ (or --out) and check their claims.
    Run(StudyRunArgs),
}

#[derive(Debug, Args)]
pub struct StudyRunArgs {
    /// Study files (TOML).
    pub files: Vec<PathBuf>,
    /// Run every studies/*.toml.
    #[arg(long, conflicts_with = "files")]
    pub all: bool,
    /// Output folder (one study only); default REPORTS/NAME.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where study folders go (REPORTS/NAME).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Shorter runs (each step's `fast` overrides); checks that need the full runs are not run.
    #[arg(long)]
    pub fast: bool,
    /// Where `--all` looks for studies.
    #[arg(long, default_value = "studies")]
    pub dir: PathBuf,
    /// Refuse at once, instead of waiting, when another run is writing the same folder.
    #[arg(long)]
    pub no_wait: bool,
}

pub fn run(a: StudyArgs) -> Result<()> {
    let StudyAction::Run(a) = a.action;
    let files: Vec<PathBuf> = if a.all {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&a.dir)
            .with_context(|| format!("--all: cannot read {}", a.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        v.sort();
        v
    } else {
        a.files.clone()
    };
    if files.is_empty() {
        bail!("no study given: name study files or use --all");
    }
    if a.out.is_some() && files.len() > 1 {
        bail!("--out names one folder: run one study with it");
    }
    // Every study is read and checked before any runs, so a typo in the last fails fast.
    let studies = files
        .iter()
        .map(|f| Ok((f, Study::load(f)?)))
        .collect::<Result<Vec<_>>>()?;
    let opts = RunOptions {
        fast: a.fast,
        wait: if a.no_wait { Wait::No } else { Wait::Yes },
    };
    // A study that fails does not stop the others: every failure and every drift is said at
    // the end (a failure had hidden an earlier study's drifts, and the studies after it ran
    // not, without a word).
    let (mut drifted, mut failed) = (vec![], vec![]);
    for (file, study) in &studies {
        let name = file
            .file_stem()
            .map_or("study".into(), |s| s.to_string_lossy().into_owned());
        let out = a.out.clone().unwrap_or_else(|| a.reports.join(&name));
        let outcome = match run_printing(study, &out, opts) {
            Ok(o) => o,
            Err(e) if studies.len() > 1 => {
                failed.push(format!("study {}: {e:#}", file.display()));
                continue;
            }
            Err(e) => return Err(e.context(format!("study {}", file.display()))),
        };
        super::print(&format!(
            "study '{}': wrote {}\n",
            study.title,
            outcome.out.join("summary.md").display()
        ))?;
        drifted.extend(
            outcome
                .drifted()
                .into_iter()
                .map(|c| format!("{name}: {c}")),
        );
    }
    let mut problems = vec![];
    if !failed.is_empty() {
        problems.push(format!(
            "{} of {} studies failed: {}",
            failed.len(),
            studies.len(),
            failed.join("; ")
        ));
    }
    if !drifted.is_empty() {
        problems.push(format!(
            "{} check(s) drifted from the recorded values or measured no number: {}",
            drifted.len(),
            drifted.join("; ")
        ));
    }
    if !problems.is_empty() {
        bail!("{}", problems.join(". "));
    }
    Ok(())
}

/// Run `study` into `out` with the progress bar, printing each step's command line as it
/// starts and the holder's PID while waiting for the folder's lock (`study run` and `report`).
pub fn run_printing(study: &Study, out: &Path, opts: RunOptions) -> Result<StudyOutcome> {
    let mut printed = Ok(());
    let outcome = run_with_wait(
        study,
        out,
        opts,
        &Bar::new(),
        |step, command| {
            if printed.is_ok() {
                printed = super::print(&format!("== {step}: {command}\n"));
            }
        },
        |pid| super::waiting(out, pid),
    )?;
    printed?;
    Ok(outcome)
}
