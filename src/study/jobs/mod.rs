//! The job of every command (see [`super::job::Job`]).

pub mod rest;

pub use rest::RestJob;
