//! The job of `excitable stats`: the spike file is read here, the statistics computed by
//! [`StatsSpec::run_owned_with`].

use crate::error::{Error, SpecError};
use crate::progress::Observer;
use crate::report::Report;
use crate::report::spike_trains::{read_spikes, recording_end_ms};
use crate::spec::StatsSpec;
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Spike-train statistics of a spikes file (ours or anyone's).
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct StatsJob {
    /// Spikes: CSV or Parquet with `t_ms` (ms) and, for several neurons, `neuron`.
    #[arg(long)]
    pub spikes: PathBuf,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: StatsSpec,
    /// How the report names the spikes file, when not as `spikes` ([`Job::show_inputs_as`]).
    #[arg(skip)]
    #[serde(skip)]
    pub shown: Option<PathBuf>,
}

impl Job for StatsJob {
    const COMMAND: &'static str = "stats";

    fn check(&self) -> Result<(), Error> {
        Ok(self.spec.validate()?)
    }

    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let trains = read_spikes(&self.spikes)?;
        if trains.is_empty() {
            return Err(SpecError::new(
                "spikes",
                self.shown.as_ref().unwrap_or(&self.spikes).display(),
                "a file holding at least one spike",
            )
            .into());
        }
        // A spike file from `simulate` knows where its recording ended: rates are counted to
        // there, not to the last spike.
        let end = recording_end_ms(&self.spikes);
        let mut r = self.spec.run_recorded(trains, end, observer)?;
        r.source = format!(
            "`{}`",
            self.shown.as_ref().unwrap_or(&self.spikes).display()
        );
        Ok(r.write_into(dir)?)
    }

    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        vec![("spikes", self.spikes.clone())]
    }

    fn show_inputs_as(&mut self, from: &Path, to: &Path) {
        self.shown = Some(crate::study::job::rebase(&self.spikes, from, to));
    }
}
