//! The job of `excitable bifurcation`.

use crate::continuation::Field;
use crate::error::Error;
use crate::progress::Observer;
use crate::report::Report;
use crate::spec::{BifurcationSpec, ModelSource};
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The one-parameter bifurcation diagram: equilibria, folds, Hopf points, cycles and their bifurcations.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct BifurcationJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: BifurcationSpec,
}

impl Job for BifurcationJob {
    const COMMAND: &'static str = "bifurcation";

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
