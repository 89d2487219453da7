//! The job of every command that runs one spec on one model ([`ModelSpec`]): load the model,
//! check, run, write the report.

use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{ModelSource, ModelSpec};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A model and the settings of a command that runs on it.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(bound = "S: ModelSpec")]
pub struct ModelJob<S: ModelSpec> {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: S,
}

impl<S: ModelSpec> Job for ModelJob<S>
where
    S::Output: Report,
{
    const COMMAND: &'static str = S::COMMAND;

    fn model_file(&self) -> Option<&Path> {
        self.model.model_file.as_deref()
    }

    fn check(&self) -> Result<(), Error> {
        self.spec.check(&self.model.load()?)
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.spec.run_with(&self.model.load()?, observer)?;
        Ok(r.write_into(dir)?)
    }
}

/// `excitable simulate`.
pub type SimulateJob = ModelJob<crate::spec::SimulateSpec>;
/// `excitable rest`.
pub type RestJob = ModelJob<crate::spec::RestSpec>;
/// `excitable gating`.
pub type GatingJob = ModelJob<crate::spec::GatingSpec>;
/// `excitable phase-plane`.
pub type PhasePlaneJob = ModelJob<crate::spec::PhasePlaneSpec>;
/// `excitable bifurcation`.
pub type BifurcationJob = ModelJob<crate::spec::BifurcationSpec>;
/// `excitable bifurcation2`.
pub type Bifurcation2Job = ModelJob<crate::spec::Bifurcation2Spec>;
/// `excitable fi`.
pub type FiJob = ModelJob<crate::spec::FiSpec>;
/// `excitable max-rate`.
pub type MaxRateJob = ModelJob<crate::spec::MaxRateSpec>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::fi::FiDirection;
    use crate::study::job::from_table;

    #[test]
    fn a_study_step_reads_into_the_job() {
        let table: toml::Table = toml::from_str(
            "model-file = \"ml.ode\"\nset = \"gca=4\"\nfrom = 0\nto = 300\nat = \"90,100\"\nno-cycles = true",
        )
        .unwrap();
        let job: BifurcationJob = crate::study::job::from_table(&table).unwrap();
        assert_eq!(job.model.set, ["gca=4"]);
        assert_eq!((job.spec.from, job.spec.to), (0.0, 300.0));
        assert_eq!(job.spec.at, [90.0, 100.0]);
        assert!(job.spec.no_cycles);
        assert_eq!(job.spec.ntst, 60);
        let bad: toml::Table = toml::from_str("ntsst = 5").unwrap();
        assert!(crate::study::job::from_table::<BifurcationJob>(&bad).is_err());
    }

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
