//! The job of `excitable phase-plane`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{ModelSource, PhasePlaneSpec};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The V-n phase plane: trajectory, reduced nullclines, limit cycle, equilibria.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct PhasePlaneJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: PhasePlaneSpec,
}

impl Job for PhasePlaneJob {
    const COMMAND: &'static str = "phase-plane";

    fn check(&self) -> Result<(), Error> {
        self.spec.validate()?;
        self.model.load()?.smooth()?;
        Ok(())
    }

    fn run_into(&self, dir: &Path, _: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run(&self.model.load()?)?;
        Ok(r.write_into(dir)?)
    }
}
