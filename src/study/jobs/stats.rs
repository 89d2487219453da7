//! The job of `excitable stats`: the spike file is read here, the statistics computed by
//! [`StatsSpec::run_streamed`], whose rate rows go straight into `rate.parquet`.

use crate::error::{Error, SpecError};
use crate::progress::Observer;
use crate::report::Report;
use crate::report::chunked_table::ChunkedTable;
use crate::report::spike_trains::{SpikeFile, rate_table, read_spike_file};
use crate::report::table::Table;
use crate::spec::StatsSpec;
use crate::study::job::Job;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Row groups of `rate.parquet` compressed together: the cores used, up to this many.
const MAX_BLOCKS_AT_ONCE: usize = 4;

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
        // A `simulate` file with no spike still knows its neurons (each has a rate of 0) and
        // where its recording ended (rates are counted to there, not to the last spike).
        let SpikeFile {
            trains,
            units,
            recording_end: end,
        } = read_spike_file(&self.spikes)?;
        if trains.is_empty() {
            return Err(SpecError::new(
                "spikes",
                self.shown.as_ref().unwrap_or(&self.spikes).display(),
                "a file holding at least one spike, or a `simulate` spike file (which records its neurons)",
            )
            .into());
        }
        let source = format!(
            "`{}`",
            self.shown.as_ref().unwrap_or(&self.spikes).display()
        );
        // The rate rows go to `rate.parquet` as they are computed, a row group per block of
        // trains, as many blocks at once as there are cores (they are compressed in
        // parallel): memory holds those blocks, not every train's rates.
        let mut meta = crate::report::write::settings_metadata(&self.spec);
        meta.push(("excitable.spikes".into(), source.clone()));
        let mut table = ChunkedTable::create(dir, "rate").with_metadata(&meta);
        // At most 4 blocks wait at once (about 13 MB each at 20,000 samples per train, plus
        // their frames and compressed pages), however many cores there are, and up to two
        // batches of compressed row groups wait for the writer's thread.
        let at_once = rayon::current_num_threads().clamp(1, MAX_BLOCKS_AT_ONCE);
        let mut pending: Vec<Table> = Vec::with_capacity(at_once);
        let mut sink = |first: usize, t_ms: &[f64], rates: Vec<f64>| -> Result<(), Error> {
            pending.push(rate_table(first, t_ms, rates).in_units(units));
            if pending.len() == at_once {
                table.write_many(std::mem::take(&mut pending))?;
            }
            Ok(())
        };
        let mut r = self.spec.run_streamed(trains, end, observer, &mut sink)?;
        table.write_many(pending)?;
        r.source = source;
        r.units = units;
        let (path, _) = table.finish()?;
        let mut files = vec![path];
        files.extend(r.write_into(dir)?);
        Ok(files)
    }

    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        vec![("spikes", self.spikes.clone())]
    }

    fn show_inputs_as(&mut self, from: &Path, to: &Path) {
        self.shown = Some(crate::study::job::rebase(&self.spikes, from, to));
    }
}
