//! Analyses: pure functions from traces, spikes and models to typed results (no I/O here).

pub mod accuracy;
pub mod centre;
pub mod chance;
pub mod excitability;
pub mod fi;
pub mod fit;
pub mod gating;
pub mod max_rate;
pub mod phase_plane;
pub mod prc;
pub mod rate;
pub mod spike_accuracy;
pub mod spike_stats;
pub mod sweep;
pub mod timing;
pub mod windows;
pub mod zero_set;
