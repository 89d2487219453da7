//! The job of `excitable simulate`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{ModelSource, SimulateSpec};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One or many neurons under a stimulus: traces, spikes, figure and summary.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct SimulateJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: SimulateSpec,
}

impl Job for SimulateJob {
    const COMMAND: &'static str = "simulate";

    fn check(&self) -> Result<(), Error> {
        self.model.load()?;
        self.spec.validate()
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run_with(&self.model.load()?, observer)?;
        Ok(r.write_into(dir)?)
    }
}
