//! `excitable study run`: run study files (`studies/*.toml`, see [`excitable::study`]) into
//! `reports/NAME/`: every step is one subcommand parsed from its own command line, then every
//! claim of the document is checked and the summary states the verdicts with numbers.

use super::{Cli, run as run_command};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use excitable::report::atomic::ensure_dir;
use excitable::study::Study;
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
    /// Shorter runs (each step's `fast` overrides); checks that need the full runs are skipped.
    #[arg(long)]
    pub fast: bool,
    /// Where `--all` looks for studies.
    #[arg(long, default_value = "studies")]
    pub dir: PathBuf,
}

pub fn run(a: StudyArgs) -> Result<()> {
    let StudyAction::Run(a) = a.action;
    let files: Vec<PathBuf> = if a.all {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&a.dir)
            .with_context(|| format!("--all: reading {}", a.dir.display()))?
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
    // Parse every study before running any, so a typo in the last fails fast.
    let studies = files
        .iter()
        .map(|f| Ok((f, Study::load(f)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut failed = vec![];
    for (file, study) in &studies {
        let name = file
            .file_stem()
            .map_or("study".into(), |s| s.to_string_lossy().into_owned());
        let out = a.out.clone().unwrap_or_else(|| a.reports.join(&name));
        match run_study(file, study, &out, a.fast) {
            Ok(drift) => failed.extend(drift.into_iter().map(|c| format!("{name}: {c}"))),
            Err(e) => return Err(e.context(format!("study {}", file.display()))),
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} check(s) drifted from the recorded values: {}",
            failed.len(),
            failed.join("; ")
        );
    }
    Ok(())
}

/// Run one study into `out`; returns the claims whose measurement drifted.
fn run_study(file: &Path, study: &Study, out: &Path, fast: bool) -> Result<Vec<String>> {
    // Every step's command line is parsed before any runs: a bad flag in the last step
    // fails before the first spends its time.
    let mut parsed = vec![];
    for step in &study.steps {
        let argv = step
            .argv(out, file.parent().unwrap_or(Path::new(".")), fast)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("step '{}'", step.name.get_ref()))?;
        let cli = Cli::try_parse_from(std::iter::once("excitable".to_string()).chain(argv.clone()))
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}",
                    e.to_string().lines().next().unwrap_or("bad arguments")
                )
            })
            .with_context(|| {
                format!(
                    "{}: step '{}' ({})",
                    file.display(),
                    step.name.get_ref(),
                    step.command.get_ref()
                )
            })?;
        parsed.push((step, argv, cli));
    }
    ensure_dir(out)?;
    for (step, argv, cli) in parsed {
        println!("== {}: excitable {}", step.name.get_ref(), argv.join(" "));
        run_command(cli).with_context(|| format!("step '{}'", step.name.get_ref()))?;
    }
    let opts = excitable::study::run::RunOptions {
        fast,
        wait: excitable::report::Wait::Yes,
    };
    let mut study = study.clone();
    study.file = file.display().to_string();
    let checks = excitable::study::run::conclude(&study, out, opts, &[])?;
    let drift: Vec<String> = checks
        .iter()
        .filter(|c| c.drifted)
        .map(|c| format!("'{}' measured {}", c.claim, c.measured.unwrap_or(f64::NAN)))
        .collect();
    println!(
        "study '{}': wrote {}",
        study.title,
        out.join("summary.md").display()
    );
    Ok(drift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand can be a study step, so the two never drift apart.
    #[test]
    fn every_subcommand_is_a_study_step() {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| n != "study")
            .collect();
        assert!(names.len() >= 14, "{names:?}");
        for n in &names {
            assert!(
                excitable::study::COMMANDS.contains(&n.as_str()),
                "`{n}` cannot be a study step"
            );
        }
        assert_eq!(names.len(), excitable::study::COMMANDS.len());
    }
}
