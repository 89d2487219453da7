//! The job of every command (see [`super::job::Job`]).

pub mod fi;
pub mod rest;
pub mod sweep;

pub use fi::FiJob;
pub use rest::RestJob;
pub use sweep::{MergeJob, SweepJob};
