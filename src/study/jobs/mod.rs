//! The job of every command (see [`super::job::Job`]).

pub mod bifurcation;
pub mod bifurcation2;
pub mod gating;
pub mod phase_plane;
pub mod rest;

pub use bifurcation::BifurcationJob;
pub use bifurcation2::Bifurcation2Job;
pub use gating::GatingJob;
pub use phase_plane::PhasePlaneJob;
pub use rest::RestJob;
