//! The job of `excitable fit` (and of a study step `command = "fit"`): load the model, check
//! the free parameters and targets (and that the model produces every target at its start
//! values), fit, write the report with the fitted model file.

use crate::error::{Error, ModelError};
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{FitSpec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A model and the fit's settings.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct FitJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: FitSpec,
}

impl FitJob {
    /// An `.ode` model file's text, to write the fitted parameters into
    /// ([`crate::spec::FitResult::source_text`]; the Python face sets it too).
    pub fn ode_text(&self) -> Result<Option<String>, Error> {
        match &self.model.model_file {
            Some(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ode")) => {
                crate::input::read_text(p, crate::input::MAX_MODEL_BYTES)
                    .map(Some)
                    .map_err(|reason| {
                        ModelError::File {
                            path: p.display().to_string(),
                            reason,
                        }
                        .into()
                    })
            }
            _ => Ok(None),
        }
    }
}

impl Job for FitJob {
    const COMMAND: &'static str = "fit";

    fn model_file(&self) -> Option<&Path> {
        self.model.model_file.as_deref()
    }

    fn check(&self) -> Result<(), Error> {
        self.spec.check_model(&self.model.load()?)
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let mut r = self.spec.run_with(&self.model.load()?, observer)?;
        r.source_text = self.ode_text()?;
        Ok(r.write_into(dir)?)
    }

    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        self.spec
            .target
            .iter()
            .filter_map(|t| t.strip_prefix("fi="))
            .map(|f| {
                let f = f.split(":tol=").next().unwrap_or(f);
                (
                    "target",
                    PathBuf::from(f.split(":weight=").next().unwrap_or(f)),
                )
            })
            .collect()
    }
}
