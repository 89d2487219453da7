//! [`Task`]: the job of any command, chosen by name: what a study step runs.

use super::job::{Job, from_table};
use super::jobs::*;
use crate::error::Error;
use crate::progress::Observer;
use std::path::{Path, PathBuf};

/// Declares [`Task`] over every job, in one list: adding a command is one line here.
macro_rules! tasks {
    ($($variant:ident($job:ty)),* $(,)?) => {
        /// One command's work, as a study step runs it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Task {
            $(
                #[doc = concat!("`excitable ", stringify!($variant), "`")]
                $variant($job),
            )*
        }

        impl Task {
            /// Every command a step may name.
            pub fn commands() -> Vec<&'static str> {
                vec![$(<$job as Job>::COMMAND),*]
            }

            /// The task of `command` from a step's settings (study-file keys = flags).
            pub fn from_table(command: &str, table: &toml::Table) -> Result<Task, String> {
                $(
                    if command == <$job as Job>::COMMAND {
                        return from_table::<$job>(table).map(Task::$variant);
                    }
                )*
                Err(format!("'{command}' is not one of {}", Task::commands().join(", ")))
            }

            /// The command's name.
            pub fn command(&self) -> &'static str {
                match self {
                    $(Task::$variant(_) => <$job as Job>::COMMAND,)*
                }
            }

            /// Check every setting before any work ([`Job::check`]).
            pub fn check(&self) -> Result<(), Error> {
                match self {
                    $(Task::$variant(j) => j.check(),)*
                }
            }

            /// Run and write the report into `dir` ([`Job::run_into`]).
            pub fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
                match self {
                    $(Task::$variant(j) => j.run_into(dir, observer),)*
                }
            }

            /// Name its inputs under `from` as under `to` in its report ([`Job::show_inputs_as`]).
            pub fn show_inputs_as(&mut self, from: &Path, to: &Path) {
                match self {
                    $(Task::$variant(j) => j.show_inputs_as(from, to),)*
                }
            }

            /// The model file it reads, if any ([`Job::model_file`]).
            pub fn model_file(&self) -> Option<&Path> {
                match self {
                    $(Task::$variant(j) => j.model_file(),)*
                }
            }

            /// The files it reads, with the settings naming them ([`Job::inputs`]).
            pub fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
                match self {
                    $(Task::$variant(j) => j.inputs(),)*
                }
            }
        }
    };
}

tasks!(
    Simulate(SimulateJob),
    Rest(RestJob),
    Gating(GatingJob),
    PhasePlane(PhasePlaneJob),
    Bifurcation(BifurcationJob),
    Bifurcation2(Bifurcation2Job),
    MaxRate(MaxRateJob),
    Windows(WindowsJob),
    Stats(StatsJob),
    Fi(FiJob),
    Sweep(SweepJob),
    Prc(PrcJob),
    Excitability(ExcitabilityJob),
    Export(ExportJob),
    Fit(FitJob),
);
