//! Running one job from the command line: check it, run it into a staging folder, swap the
//! folder in whole, print the summary and the files.

use super::progress::Bar;
use anyhow::Result;
use clap::Args;
use excitable::report::{Staging, Wait};
use excitable::study::job::{InPlace, Job};
use std::path::{Path, PathBuf};

/// Where a command's report goes.
#[derive(Debug, Clone, Args)]
pub struct OutArgs {
    /// Output folder (default reports/COMMAND); replaced whole when the run succeeds.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Refuse at once, instead of waiting, when another run is writing the same folder.
    #[arg(long)]
    pub no_wait: bool,
}

/// A command's flags: its job and where it writes.
#[derive(Debug, Args)]
pub struct JobArgs<J: Job> {
    #[command(flatten)]
    pub job: J,
    #[command(flatten)]
    pub out: OutArgs,
}

impl OutArgs {
    /// The output folder of `command`.
    pub fn folder(&self, command: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(command.replace('-', "_")))
    }

    /// Take the folder's lock and a staging folder (telling the user whom it waits for).
    pub fn stage(&self, command: &str) -> Result<Staging> {
        let wait = if self.no_wait { Wait::No } else { Wait::Yes };
        let out = self.folder(command);
        Ok(Staging::begin(&out, wait, |pid| super::waiting(&out, pid))?)
    }
}

/// Check, run into a staging folder, swap it in, print the summary and the files.
pub fn run<J: Job>(a: JobArgs<J>) -> Result<()> {
    a.job.check()?;
    excitable::study::job::check_inputs(&a.job.inputs(), None)?;
    // A job that writes beside what is in its folder (a shard of a sweep) does it itself.
    let wait = if a.out.no_wait { Wait::No } else { Wait::Yes };
    if let Some(done) = a
        .job
        .run_in_place(&a.out.folder(J::COMMAND), wait, &Bar::new())
    {
        return show(done?);
    }
    // A folder replaced whole must not hold what the run reads (a job in place, above,
    // reads the shards beside which it writes).
    let inputs = a.job.inputs();
    let read: Vec<(&str, &Path)> = (inputs.iter().map(|(f, p)| (*f, p.as_path())))
        .chain(a.job.model_file().map(|p| ("model-file", p)))
        .collect();
    excitable::study::job::check_outside(&a.out.folder(J::COMMAND), &read)?;
    let stage = a.out.stage(J::COMMAND)?;
    let staged = stage.dir().to_path_buf();
    let files = a.job.run_into(&staged, &Bar::new())?;
    let summary = std::fs::read_to_string(staged.join("summary.md")).unwrap_or_default();
    let out = stage.commit()?;
    super::print(&summary)?;
    for f in files {
        let f = f.strip_prefix(&staged).map_or(f.clone(), |r| out.join(r));
        super::print(&format!("  wrote {}\n", f.display()))?;
    }
    Ok(())
}

/// Run a job with `out` as its output folder: in place if it writes that way (`merge` writes
/// beside the shards it joins), else into a fresh folder that replaces `out` whole.
pub fn run_in<J: Job>(job: J, out: &Path) -> Result<()> {
    run(JobArgs {
        job,
        out: OutArgs {
            out: Some(out.to_path_buf()),
            no_wait: false,
        },
    })
}

/// Print what a job that wrote in place said, and its files.
fn show(done: InPlace) -> Result<()> {
    super::print(&done.message)?;
    for f in done.files {
        super::print(&format!("  wrote {}\n", f.display()))?;
    }
    Ok(())
}
