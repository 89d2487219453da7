//! The job of every command (see [`super::job::Job`]).

pub mod max_rate;
pub mod rest;
pub mod simulate;
pub mod stats;
pub mod windows;

pub use max_rate::MaxRateJob;
pub use rest::RestJob;
pub use simulate::SimulateJob;
pub use stats::StatsJob;
pub use windows::WindowsJob;
