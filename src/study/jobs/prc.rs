//! The job of `excitable prc` (and of a study step `command = "prc"`): load the model, check
//! the settings, compute the phase response curves, write the report.

/// `excitable prc`.
pub type PrcJob = super::ModelJob<crate::spec::PrcSpec>;
