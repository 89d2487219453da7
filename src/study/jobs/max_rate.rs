//! The job of `excitable max-rate`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{MaxRateSpec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The highest sustained spike rate under constant currents.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct MaxRateJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: MaxRateSpec,
}

impl Job for MaxRateJob {
    const COMMAND: &'static str = "max-rate";

    fn check(&self) -> Result<(), Error> {
        self.model.load()?;
        Ok(self.spec.validate()?)
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run_with(&self.model.load()?, observer)?;
        Ok(r.write_into(dir)?)
    }
}
