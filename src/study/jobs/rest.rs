//! The job of `excitable rest`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{ModelSource, RestSpec};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Every equilibrium at each current, with its linearisation.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct RestJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: RestSpec,
}

impl Job for RestJob {
    const COMMAND: &'static str = "rest";

    fn check(&self) -> Result<(), Error> {
        self.model.load()?;
        Ok(self.spec.validate()?)
    }

    fn run_into(&self, dir: &Path, _: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run(&self.model.load()?)?;
        Ok(r.write_into(dir)?)
    }
}
