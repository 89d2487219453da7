//! `excitable report`: the full default report of one model, every analysis that applies, in
//! one folder with an index (the built-in study of [`excitable::study::template`]).

use anyhow::Result;
use clap::Args;
use excitable::report::Wait;
use excitable::spec::ModelSource;
use excitable::study::run::RunOptions;
use excitable::study::template::{report_folder, report_study};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub model: ModelSource,
    /// Output folder (one subfolder per analysis, and an index summary.md); default
    /// reports/MODEL, or reports/MODEL+NAME=VALUE… with `--set`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Refuse at once, instead of waiting, when another run is writing the same folder.
    #[arg(long)]
    pub no_wait: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let out = match &a.out {
        Some(out) => out.clone(),
        None => report_folder(&a.model)?,
    };
    let study = report_study(&a.model)?;
    let opts = RunOptions {
        fast: false,
        wait: if a.no_wait { Wait::No } else { Wait::Yes },
    };
    let outcome = super::study::run_printing(&study, &out, opts)?;
    super::print(&format!(
        "report of {}: {}\n",
        study.title,
        outcome.out.join("summary.md").display()
    ))?;
    Ok(())
}
