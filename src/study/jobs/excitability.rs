//! The job of `excitable excitability` (and of a study step `command = "excitability"`).

/// `excitable excitability`.
pub type ExcitabilityJob = super::ModelJob<crate::spec::ExcitabilitySpec>;
