//! Errors: one enum per area, wrapped by [`Error`]. Every variant says what was wrong and what is
//! allowed, so the CLI can print it as one line.

use thiserror::Error;

/// A parse or name error in an XPPAUT `.ode` file: file, line, column and what is wrong.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{file}:{line}:{col}: {reason}")]
pub struct OdeError {
    /// The file, as named by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong, and what is allowed.
    pub reason: String,
}

/// A number for a message: as written for ordinary magnitudes, in exponent form for huge and
/// tiny ones (`1e308`, never three hundred digits).
pub fn short(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        let text = format!("{x:.6e}");
        let (mant, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        format!("{mant}e{exp}")
    } else {
        format!("{x}")
    }
}

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
    #[error("bad initial state: {reason}")]
    BadInitial { reason: String },
    #[error(
        "model '{model}' is hybrid (threshold and reset): it has no Jacobian, so this analysis needs a smooth model"
    )]
    NotSmooth { model: String },
    #[error(transparent)]
    Ode(#[from] OdeError),
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
    #[error("dt = {} ms is invalid: it must be finite, > 0 and <= t_max = {} ms", short(*dt), short(*t_max))]
    BadStep { dt: f64, t_max: f64 },
    #[error("t_max = {} ms is invalid: it must be finite and > 0", short(*t_max))]
    BadDuration { t_max: f64 },
    #[error("{what} = {} is invalid: {allowed}", short(*value))]
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
    #[error(
        "t_max / dt = {} ms / {} ms = {} steps: allowed at most {} steps per run (a shorter t_max or a larger dt)",
        short(*t_max), short(*dt), short(*steps), short(*limit)
    )]
    TooManySteps {
        t_max: f64,
        dt: f64,
        steps: f64,
        limit: f64,
    },
}

/// Problems writing reports.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
    /// An input file (a spikes file, a trace, a shard, a sweep's manifest) cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is being written by {holder}; wait for it or choose another folder")]
    Busy { path: String, holder: String },
    #[error("cannot build table {table}: {reason}")]
    Table { table: String, reason: String },
    #[error("cannot draw {figure}: {reason}")]
    Figure { figure: String, reason: String },
}

/// A setting outside its allowed values: names the field (as the spec and study files spell
/// it; the command line shows it as `--field-name`), the value and what is allowed.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{field} = {value}: allowed {allowed}")]
pub struct SpecError {
    /// The spec field (`t_max`).
    pub field: String,
    /// The value given, as text.
    pub value: String,
    /// What is allowed, in words.
    pub allowed: String,
}

impl SpecError {
    /// A refusal of `field = value`.
    pub fn new(field: &str, value: impl std::fmt::Display, allowed: impl Into<String>) -> Self {
        SpecError {
            field: field.to_string(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// Errors in a study file, naming the file, the line and the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StudyError {
    #[error("{file}: {reason}")]
    Parse { file: String, reason: String },
    #[error("{file}, line {line}: {field}: {reason}")]
    Field {
        file: String,
        line: usize,
        field: String,
        reason: String,
    },
    #[error("check '{claim}': {reason}")]
    Check { claim: String, reason: String },
    #[error("step '{step}': {reason}")]
    Step { step: String, reason: String },
}

impl SpecError {
    /// A refusal of a count outside its range: `ntst = 5 is out of range: allowed 10..=2000`.
    pub fn out_of_range(
        field: &str,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        SpecError {
            field: field.to_string(),
            value: format!("{value} is out of range"),
            allowed: allowed.into(),
        }
    }
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
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Study(#[from] StudyError),
    #[error(transparent)]
    Cancelled(#[from] crate::progress::Cancelled),
    #[error(transparent)]
    Shard(#[from] ShardError),
}

/// Problems with the shards of a sharded sweep (`OUT/sweep.toml` and `OUT/shard=K/`).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ShardError {
    /// The folder holds shards of another sweep.
    #[error(
        "{manifest} defines a different sweep (or one run by another version of excitable); use another output folder for this one"
    )]
    DifferentSweep {
        /// The manifest, `OUT/sweep.toml`.
        manifest: String,
    },
    /// The manifest's sweep is not what its model and this version of the toolkit make now.
    #[error(
        "{manifest} was written for another model definition or version of excitable (fingerprint {recorded}, now {now}); run its shards again"
    )]
    Stale {
        /// The manifest, `OUT/sweep.toml`.
        manifest: String,
        /// The fingerprint it records.
        recorded: String,
        /// The fingerprint of its sweep now.
        now: String,
    },
    /// The manifest cannot be read.
    #[error("{manifest}: {reason} (is this the folder of a sharded sweep?)")]
    Manifest {
        /// The manifest, `OUT/sweep.toml`.
        manifest: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// Shards not run yet.
    #[error("{dir}: shards {missing} of {count} are missing; run them first")]
    Missing {
        /// The sweep's folder.
        dir: String,
        /// The missing shards (1-based, comma-separated).
        missing: String,
        /// How many shards the sweep has.
        count: usize,
    },
    /// A shard whose fingerprint is not the sweep's.
    #[error(
        "{path} is not a shard of this sweep: its fingerprint is {found}, the sweep of {manifest} has {expected}; remove it and run that shard again"
    )]
    Foreign {
        /// The shard's table.
        path: String,
        /// Its fingerprint (`none` without one).
        found: String,
        /// The manifest.
        manifest: String,
        /// The sweep's fingerprint.
        expected: String,
    },
    /// The shards' rows are not every grid point once.
    #[error("the shards hold {rows} rows, the grid has {points} points")]
    Rows {
        /// Rows in the shards.
        rows: usize,
        /// Points in the grid.
        points: usize,
    },
    /// A grid point in two shards, or outside the grid.
    #[error("grid point {point} is {problem}")]
    Point {
        /// The point's number.
        point: u32,
        /// `in the shards twice`, or `outside the grid of N points`.
        problem: String,
    },
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Problems in rest-state and bifurcation analyses.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalysisError {
    #[error("`{model}` has no equilibrium at {current} with |V| below {limit}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    NoEquilibrium {
        model: String,
        /// The current, with its unit.
        current: String,
        limit: f64,
        detail: String,
    },
    #[error(
        "`{model}` has no stable equilibrium (rest) at {current}: its equilibria are {equilibria}"
    )]
    NoStableRest {
        model: String,
        /// The current, with its unit.
        current: String,
        equilibria: String,
    },
    #[error("{what}: {reason}")]
    Numerical { what: String, reason: String },
    #[error("unknown parameter '{name}': allowed {allowed}")]
    UnknownParameter { name: String, allowed: String },
    #[error("bad setting {what} = {}: {allowed}", short(*value))]
    BadSetting {
        what: String,
        value: f64,
        allowed: String,
    },
    #[error("model '{model}' {reason}: this analysis needs a smooth, autonomous vector field")]
    NoField { model: String, reason: String },
}
