//! The job of `excitable fi`.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{FiSpec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// f-I curves from rest, up and down starts, with the bifurcation diagram's overlay.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct FiJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: FiSpec,
}

impl Job for FiJob {
    const COMMAND: &'static str = "fi";

    fn check(&self) -> Result<(), Error> {
        self.model.load()?;
        Ok(self.spec.validate()?)
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run_with(&self.model.load()?, observer)?;
        Ok(r.write_into(dir)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::fi::FiDirection;
    use crate::study::job::from_table;

    #[test]
    fn a_study_step_reads_like_its_flags() {
        let t: toml::Table = toml::from_str(
            "model = \"hh-ca\"\nfrom = -20\nto = 60\nstep = 1\ndirection = \"rest\"\nno-overlay = true\nt-max = 300",
        )
        .unwrap();
        let job: FiJob = from_table(&t).unwrap();
        assert_eq!(job.model.model, "hh-ca");
        assert_eq!(
            (job.spec.from, job.spec.to, job.spec.t_max),
            (-20.0, 60.0, 300.0)
        );
        assert_eq!(job.spec.direction, [FiDirection::Rest]);
        assert!(job.spec.no_overlay);
        job.check().unwrap();
        let t: toml::Table = toml::from_str("transient = 1300").unwrap();
        let e = from_table::<FiJob>(&t).unwrap().check().unwrap_err();
        assert!(e.to_string().contains("transient"), "{e}");
    }
}
