//! The job of every command (see [`super::job::Job`]).

pub mod export;
pub mod model_job;

pub mod excitability;
pub mod fit;
pub mod prc;
pub mod stats;
pub mod sweep;
pub mod windows;

pub use excitability::ExcitabilityJob;
pub use export::ExportJob;
pub use fit::FitJob;
pub use model_job::{
    Bifurcation2Job, BifurcationJob, FiJob, GatingJob, MaxRateJob, ModelJob, PhasePlaneJob,
    RestJob, SimulateJob,
};
pub use prc::PrcJob;
pub use stats::StatsJob;
pub use sweep::{MergeJob, SweepJob};
pub use windows::WindowsJob;
