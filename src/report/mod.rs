//! Reports: the only place that knows polars and plotters. Every table has one documented schema
//! with unit-bearing column names; every file is written atomically.

pub mod atomic;
pub mod bifurcation;
pub mod bifurcation2;
pub mod chunked_table;
pub mod clip;
mod column_pages;
pub mod excitability;
mod extremes;
pub mod fi;
pub(crate) mod figure;
pub mod fit;
pub mod gating;
pub(crate) mod heatmap;
pub(crate) mod legend;
pub mod max_rate;
pub(crate) mod numeric_csv;
mod page_compression;
pub mod phase_plane;
pub mod prc;
pub mod rest;
pub mod simulation;
mod snappy_by_shape;
pub mod spike_trains;
pub mod staging;
pub mod stats;
pub mod sweep;
pub mod table;
pub(crate) mod trace_figure;
pub mod windows;
pub mod write;
pub(crate) mod xy_figure;

pub use staging::{Staging, Wait};
pub use table::Table;
pub use write::Report;

/// Up to `most` of `items` joined by commas, then ` and N more` for the rest: a summary names
/// what it found without a list as long as its input.
pub(crate) fn first_of<T: std::fmt::Display>(items: &[T], most: usize) -> String {
    let shown: Vec<String> = items.iter().take(most).map(T::to_string).collect();
    let more = items.len().saturating_sub(most);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
