//! The job of `excitable gating`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{GatingSpec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Steady states and time constants of every gate over V.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct GatingJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: GatingSpec,
}

impl Job for GatingJob {
    const COMMAND: &'static str = "gating";

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
