//! Analyses: pure functions from traces, spikes and models to typed results (no I/O here).

pub mod spikes;
