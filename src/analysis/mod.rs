//! Analyses: pure functions from traces, spikes and models to typed results (no I/O here).

pub mod accuracy;
pub mod centre;
pub mod eigen;
pub mod fi;
pub mod gating;
pub mod jacobian;
pub mod max_rate;
pub mod ode_rest;
pub mod phase_plane;
pub mod rate;
pub mod rest;
pub mod spike_stats;
pub mod spikes;
pub mod sweep;
pub mod timing;
pub mod windows;
