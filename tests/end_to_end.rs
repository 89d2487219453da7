//! The end-to-end tests, one file per behaviour, built as one test binary.
//!
//! Every file here was its own binary once. Each linked the whole library with polars (5-14 s
//! apiece, 34 of them), and the binaries ran one after another, so a file whose last test was
//! slow left the other core idle. As modules of one crate they link once and all their tests
//! share the test threads. `cargo test --release --test end_to_end zoo::` runs one file's tests (its module path;
//! the filter is a substring, so `sweep::` also runs `ode_sweep::`).
//! `Cargo.toml` sets `autotests = false` so the files are not also built alone.

mod common;

mod bautin;
mod branch_points;
mod branches;
mod cli;
mod closed_forms;
mod continuation;
mod cycle_ends;
mod documents;
mod exchange;
mod excitability;
mod fi;
mod fit;
mod fuzz_inputs;
mod honest_stats;
mod integrators;
mod library;
mod lif;
mod model_file;
mod neuroml_cells;
mod ode_auto;
mod ode_jacobian;
mod ode_lanes;
mod ode_sweep;
mod period_doubling;
mod prc;
mod rest;
mod robustness;
mod seeded_cycles;
mod spike_stats;
mod studies;
mod sweep;
mod thresholds;
mod two_parameter;
mod two_parameter_cycles;
mod unstable_start;
mod zoo;
