//! # excitable
//!
//! How a conductance-based neuron model behaves, fast and checked: simulate it with real
//! integrators, find its rest states and bifurcations, measure its firing.
//!
//! The flow is one-way: [`model`] → [`simulate`] → [`analysis`] → [`report`]; the CLI and study
//! files only say which of these to run. One model definition serves every stage.
//!
//! ```
//! use excitable::model::Model;
//! use excitable::simulate::{self, Method, Record, Settings};
//! use excitable::stimulus::Stimulus;
//!
//! let model = Model::builtin("hh").unwrap();
//! let y0 = model.resting_state().unwrap();
//! let settings = Settings { t_max: 50.0, dt: 0.01, method: Method::Rk4, record: Record::SpikesOnly, threshold_mv: 0.0 };
//! let run = simulate::run(&model, &Stimulus::constant(10.0), &y0, &settings).unwrap();
//! assert_eq!(run.spikes_ms.len(), 4); // HH at 10 uA/cm^2 fires at about 68 Hz
//! ```

#![warn(missing_docs)]

pub mod analysis;
pub mod continuation;
pub mod error;
pub mod input;
pub mod model;
pub mod numerics;
pub mod progress;
pub mod report;
pub mod simulate;
pub mod spec;
pub mod stimulus;
pub mod study;

pub use error::{Error, Result};

// The README's examples are compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

pub use model::Model;
pub use progress::{Observer, Silent};
pub use report::Report;
pub use spec::{
    Bifurcation2Spec, BifurcationSpec, FiSpec, GatingSpec, MaxRateSpec, ModelSource,
    PhasePlaneSpec, RestSpec, SimulateSpec, StatsSpec, SweepSpec, WindowsSpec,
};
pub use spec::{FitResult, FitSpec};
