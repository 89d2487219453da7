//! The job of every command (see [`super::job::Job`]).

pub mod bifurcation;
pub mod bifurcation2;
pub mod fi;
pub mod gating;
pub mod max_rate;
pub mod phase_plane;
pub mod rest;
pub mod simulate;
pub mod stats;
pub mod sweep;
pub mod windows;

pub use bifurcation::BifurcationJob;
pub use bifurcation2::Bifurcation2Job;
pub use fi::FiJob;
pub use gating::GatingJob;
pub use max_rate::MaxRateJob;
pub use phase_plane::PhasePlaneJob;
pub use rest::RestJob;
pub use simulate::SimulateJob;
pub use stats::StatsJob;
pub use sweep::{MergeJob, SweepJob};
pub use windows::WindowsJob;
