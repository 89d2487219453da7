//! Reports: the only place that knows polars and plotters. Every table has one documented schema
//! with unit-bearing column names; every file is written atomically.

pub mod atomic;
pub mod bifurcation;
pub mod figure;
pub mod heatmap;
pub mod rest;
pub mod simulation;
pub mod spike_trains;
pub mod table;
pub mod trace_figure;
pub mod xy_figure;

pub use table::Table;
