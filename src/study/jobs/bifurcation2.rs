//! The job of `excitable bifurcation2`.

use crate::continuation::Field;
use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{Bifurcation2Spec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Two-parameter curves of Hopf and fold points, with their codimension-two points.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct Bifurcation2Job {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: Bifurcation2Spec,
}

impl Job for Bifurcation2Job {
    const COMMAND: &'static str = "bifurcation2";

    fn check(&self) -> Result<(), Error> {
        self.spec.validate()?;
        Field::of(&self.model.load()?)?;
        Ok(())
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run_with(&self.model.load()?, observer)?;
        Ok(r.write_into(dir)?)
    }
}
