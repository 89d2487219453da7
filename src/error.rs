//! Errors: one enum per area, wrapped by [`Error`]. Every variant says what was wrong and what is
//! allowed, so the CLI can print it as one line.

use thiserror::Error;

/// Problems with a model, its parameters or its initial state.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("unknown model '{name}' (built-in models: {available}; or give --model-file FILE)")]
    UnknownModel { name: String, available: String },
    #[error("unknown parameter '{name}' (parameters: {available})")]
    UnknownParameter { name: String, available: String },
    #[error("parameter {name} = {value} is out of range: allowed {range}")]
    ParameterOutOfRange {
        name: String,
        value: f64,
        range: String,
    },
    #[error("bad parameter assignment '{text}': {reason}")]
    BadAssignment { text: String, reason: String },
    #[error("model file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("model '{model}' is invalid: {reason}")]
    Invalid { model: String, reason: String },
    #[error("model '{model}' has no equilibrium at 0 uA/cm^2 within V in [{}, {}] mV", range.0, range.1)]
    NoRestingState { model: String, range: (f64, f64) },
    #[error("bad initial state: {reason}")]
    BadInitial { reason: String },
    #[error(
        "model '{model}' is hybrid (threshold and reset): it has no Jacobian, so this analysis needs a smooth model"
    )]
    NotSmooth { model: String },
    #[error("{0}")]
    Ode(String),
    #[error(
        "model '{model}' is an XPPAUT .ode model: simulate, rest, bifurcation, bifurcation2, fi, max-rate, windows and stats work on it, but this analysis needs a conductance-based model (built-in or TOML): its gates' steady states or the batch kernel"
    )]
    NotConductance { model: String },
}

/// Problems with a stimulus description or file.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StimulusError {
    #[error("bad stimulus '{text}': {reason}")]
    Syntax { text: String, reason: String },
    #[error("stimulus file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Problems while integrating.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    #[error("dt = {dt} ms is invalid: it must be finite, > 0 and <= t_max = {t_max} ms")]
    BadStep { dt: f64, t_max: f64 },
    #[error("t_max = {t_max} ms is invalid: it must be finite and > 0")]
    BadDuration { t_max: f64 },
    #[error("{what} = {value} is invalid: {allowed}")]
    BadSetting {
        what: String,
        value: f64,
        allowed: String,
    },
    #[error(
        "the run blew up at t = {t_ms} ms: {variable} = {value} (state {state}); try a smaller dt or another method"
    )]
    BlowUp {
        t_ms: f64,
        variable: String,
        value: f64,
        state: String,
    },
    #[error(
        "the adaptive step fell below {h_min} ms at t = {t_ms} ms (stiff or discontinuous): loosen rtol/atol or use a fixed-step method"
    )]
    StepSizeTooSmall { t_ms: f64, h_min: f64 },
    #[error("{what}: {reason}")]
    Unsupported { what: String, reason: String },
}

/// Problems writing reports.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("cannot build table {table}: {reason}")]
    Table { table: String, reason: String },
    #[error("cannot draw {figure}: {reason}")]
    Figure { figure: String, reason: String },
}

/// Any error of the library.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Stimulus(#[from] StimulusError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Problems in rest-state and bifurcation analyses.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalysisError {
    #[error("no equilibrium at {i_ext} uA/cm^2 with V in [{}, {}] mV: the voltage runs off (the current is too large for the model, or widen v_search_mv in the model file)", range.0, range.1)]
    NoEquilibrium { i_ext: f64, range: (f64, f64) },
    #[error("{what}: {reason}")]
    Numerical { what: String, reason: String },
    #[error("unknown parameter '{name}': allowed {allowed}")]
    UnknownParameter { name: String, allowed: String },
    #[error("bad setting {what} = {value}: {allowed}")]
    BadSetting {
        what: String,
        value: f64,
        allowed: String,
    },
    #[error("model '{model}' {reason}: this analysis needs a smooth, autonomous vector field")]
    NoField { model: String, reason: String },
}
