//! Errors: one enum per area, wrapped by [`Error`](enum@Error). Every variant says what was wrong and what is
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

/// A parameter outside the range its relation to another sets (LIF's reset at or above its
/// threshold): one value, checked once every override is in, and refused as a model error
/// when loading or as a setting when simulating, with the same words.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRelation {
    /// The parameter refused.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// What is allowed, in words (`below v_th = -50 mV`).
    pub allowed: String,
}

impl From<BrokenRelation> for ModelError {
    fn from(r: BrokenRelation) -> ModelError {
        ModelError::ParameterOutOfRange {
            name: r.name.into(),
            value: r.value,
            range: r.allowed,
        }
    }
}

impl From<BrokenRelation> for SimError {
    fn from(r: BrokenRelation) -> SimError {
        SimError::BadSetting {
            what: r.name.into(),
            value: r.value,
            allowed: r.allowed,
        }
    }
}

/// Problems with a model, its parameters or its initial state.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// No built-in model has this name.
    #[error("unknown model '{name}' (built-in models: {available}; or a model file)")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The built-in models' names, comma-separated.
        available: String,
    },
    /// The model has no parameter of this name.
    #[error("unknown parameter '{name}' (parameters: {available})")]
    UnknownParameter {
        /// The name asked for.
        name: String,
        /// The model's parameter names, comma-separated.
        available: String,
    },
    /// A parameter set to a value outside its declared range.
    #[error("parameter {name} = {value} is out of range: allowed {range}")]
    ParameterOutOfRange {
        /// The parameter's name.
        name: String,
        /// The value refused, in the parameter's own unit.
        value: f64,
        /// The allowed range, as `[min, max] unit` (`(` when the minimum is excluded).
        range: String,
    },
    /// A `name=value` assignment that cannot be parsed.
    #[error("bad parameter assignment '{text}': {reason}")]
    BadAssignment {
        /// The assignment as written.
        text: String,
        /// Why it cannot be read.
        reason: String,
    },
    /// A TOML model file that cannot be read or parsed.
    #[error("model file {path}: {reason}")]
    File {
        /// The file's path.
        path: String,
        /// Why it cannot be read or parsed.
        reason: String,
    },
    /// A model whose definition is inconsistent (a gate's rate function that cannot be
    /// evaluated, ...).
    #[error("model '{model}' is invalid: {reason}")]
    Invalid {
        /// The model's name.
        model: String,
        /// What is inconsistent.
        reason: String,
    },
    /// An initial state that the model cannot take (wrong length, non-finite or implausible
    /// values, or no initial values in the file).
    #[error("bad initial state: {reason}")]
    BadInitial {
        /// What is wrong with it.
        reason: String,
    },
    /// A vector of parameter values of the wrong length for the model.
    #[error("{given} parameter values given for a model with {expected} parameters")]
    BadParameterCount {
        /// How many were given.
        given: usize,
        /// How many the model has.
        expected: usize,
    },
    /// The analysis needs derivatives, and the model is the hybrid LIF.
    #[error(
        "model '{model}' is hybrid (threshold and reset): it has no gates and no Jacobian, so this analysis needs a smooth, conductance-based model"
    )]
    NotSmooth {
        /// The model's name.
        model: String,
    },
    /// An XPPAUT `.ode` file that cannot be read.
    #[error(transparent)]
    Ode(#[from] OdeError),
    /// The analysis needs a conductance-based model (gates, batch kernel), and this is an `.ode`
    /// model.
    #[error(
        "model '{model}' is an XPPAUT .ode model: simulate, rest, phase-plane, bifurcation, bifurcation2, fi, sweep, max-rate, prc, excitability, fit, report, export, windows and stats work on it, but this analysis needs a conductance-based model (built-in or TOML): its gates' steady states or the batch kernel"
    )]
    NotConductance {
        /// The model's name.
        model: String,
    },
    /// A model that cannot be written in a format (`excitable export`).
    #[error("model '{model}' cannot be written as {format}: {reason}")]
    NotExportable {
        /// The model's name.
        model: String,
        /// The format asked for (`ode`, `neuroml`, `toml`).
        format: String,
        /// Why, in one line.
        reason: String,
    },
}

/// Problems with a stimulus description or file.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StimulusError {
    /// A stimulus description (`step:10:50:5`, ...) that cannot be parsed.
    #[error("bad stimulus '{text}': {reason}")]
    Syntax {
        /// The description as written.
        text: String,
        /// Why it cannot be read, and what is allowed.
        reason: String,
    },
    /// A stimulus file (two columns: time in ms, current) that cannot be read.
    #[error("stimulus file {path}: {reason}")]
    File {
        /// The file's path.
        path: String,
        /// Why it cannot be read.
        reason: String,
    },
}

/// Problems while integrating.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    /// The caller asked the run to stop (Ctrl-C in Python), heard between steps.
    #[error("stopped by the caller")]
    Stopped,
    /// A time step that is not finite, not positive or longer than the run.
    #[error("dt = {} is invalid: it must be finite, > 0 and <= t_max = {}", short(*dt), short(*t_max))]
    BadStep {
        /// The step refused (ms, or an `.ode` model's unit of time).
        dt: f64,
        /// The run's duration (ms, or an `.ode` model's unit of time).
        t_max: f64,
    },
    /// A duration that is not a whole number of steps: the run would stop short of it.
    #[error(
        "t_max = {} is {} steps of dt = {}: it must be a whole number of steps (the run would stop at {}); choose a dt that divides t_max",
        short(*t_max), short(*t_max / *dt), short(*dt), short((*t_max / *dt).floor() * *dt)
    )]
    StepsNotWhole {
        /// The duration (ms, or an `.ode` model's unit of time).
        t_max: f64,
        /// The step (ms, or an `.ode` model's unit of time).
        dt: f64,
    },
    /// A run duration that is not finite or not positive.
    #[error("t_max = {} is invalid: it must be finite and > 0", short(*t_max))]
    BadDuration {
        /// The duration refused (ms, or an `.ode` model's unit of time).
        t_max: f64,
    },
    /// Another integration setting (tolerance, threshold, ...) outside its allowed values.
    #[error("{what} = {} is invalid: {allowed}", short(*value))]
    BadSetting {
        /// The setting's name.
        what: String,
        /// The value refused.
        value: f64,
        /// What is allowed, in words.
        allowed: String,
    },
    /// A state variable became non-finite or left the plausible range during a run.
    #[error(
        "the run blew up at t = {t}{}: {variable} = {} (state {state}); try a smaller dt or another method",
        unit_after(.time_unit),
        short(*.value)
    )]
    BlowUp {
        /// When it happened, in `time_unit` (NaN when not known).
        t: f64,
        /// The model's unit of time: `ms`, or empty for a model without units (an `.ode` file).
        time_unit: &'static str,
        /// The name of the first state variable that blew up.
        variable: String,
        /// Its value then.
        value: f64,
        /// The whole state then, as `name = value` pairs (or a note on where it happened).
        state: String,
    },
    /// The adaptive integrator (Dormand-Prince) needed a step below its floor.
    #[error(
        "the adaptive step fell below {h_min}{u} at t = {t}{u} (stiff or discontinuous): loosen rtol/atol or use a fixed-step method",
        u = unit_after(.time_unit)
    )]
    StepSizeTooSmall {
        /// When it happened, in `time_unit`.
        t: f64,
        /// The smallest step allowed, in `time_unit`.
        h_min: f64,
        /// The model's unit of time: `ms`, or empty for a model without units.
        time_unit: &'static str,
    },
    /// A combination of model, stimulus and settings that this integrator or kernel cannot run.
    #[error("{what}: {reason}")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// Why it cannot be done, and what to use instead.
        reason: String,
    },
    /// More steps than one run may take.
    #[error(
        "t_max / dt = {} / {} = {} steps: allowed at most {} steps per run (a shorter t_max or a larger dt)",
        short(*t_max), short(*dt), short(*steps), short(*limit)
    )]
    TooManySteps {
        /// The run's duration (ms).
        t_max: f64,
        /// The step (ms).
        dt: f64,
        /// t_max / dt.
        steps: f64,
        /// The most allowed.
        limit: f64,
    },
}

impl SimError {
    /// The same error with its times in `unit`. The integrators know no model and raise their
    /// blow-up and step-floor errors in ms; [`crate::simulate::run`] and `fi` give them the
    /// model's unit of time. (The settings' own errors, `BadStep`, `BadDuration` and
    /// `TooManySteps`, are checked before any model is known and name no unit: the flags are
    /// in ms for a built-in model and in the file's own unit of time for an `.ode` model.)
    pub fn with_time_unit(mut self, unit: &'static str) -> SimError {
        if let SimError::BlowUp { time_unit, .. } | SimError::StepSizeTooSmall { time_unit, .. } =
            &mut self
        {
            *time_unit = unit;
        }
        self
    }
}

/// ` ms` after a time in ms; nothing after a number without a unit.
fn unit_after(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// Problems writing reports.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file or folder that cannot be written, renamed or removed.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// An output folder an earlier report did not write: replacing it would delete what it holds.
    #[error(
        "{path} was not written by a report ({}{}): it would be replaced whole by the new report, so choose a new or empty folder, or one an earlier report wrote",
        .foreign.join(", "), if *.more > 0 { format!(" and {} more", .more) } else { String::new() }
    )]
    NotAReportFolder {
        /// The folder.
        path: String,
        /// The first few such files, relative to it.
        foreign: Vec<String>,
        /// How many more there are.
        more: usize,
    },
    /// Files saved into an output folder while a run was writing its new report: the new
    /// report is in place, and the previous folder, with those files, is kept beside it.
    #[error(
        "{path}: files were saved into it during the run ({}{}): the new report is in {path}, and the previous folder with those files is kept as {kept}",
        .added.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
        if .added.len() > 3 { format!(" and {} more", .added.len() - 3) } else { String::new() }
    )]
    ChangedDuringRun {
        /// The folder.
        path: String,
        /// The files added (relative).
        added: Vec<String>,
        /// Where the previous folder is now.
        kept: String,
    },
    /// An input file (a spikes file, a trace, a shard, a sweep's manifest) cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The report folder is locked by another run writing it.
    #[error("{path} is being written by {holder}; wait for it or choose another folder")]
    Busy {
        /// The report folder.
        path: String,
        /// Who holds the lock (`process ID`, or `another process` when unknown).
        holder: String,
    },
    /// A table (polars data frame) that cannot be built or written as Parquet/CSV.
    #[error("cannot build table {table}: {reason}")]
    Table {
        /// The table's file name.
        table: String,
        /// Why it failed.
        reason: String,
    },
    /// A figure that plotters cannot draw.
    #[error("cannot draw {figure}: {reason}")]
    Figure {
        /// The figure's file name.
        figure: String,
        /// Why it failed.
        reason: String,
    },
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
    /// The refusal as the command line and the Python package word it, the fields as flags:
    /// `--t-max = 0: allowed a finite number > 0` (several fields joined by `/`).
    pub fn as_flags(&self) -> String {
        let flags: Vec<String> = self
            .field
            .split(", ")
            .map(|f| format!("--{}", f.replace('_', "-")))
            .collect();
        format!(
            "{} = {}: allowed {}",
            flags.join("/"),
            self.value,
            self.allowed
        )
    }

    /// A refusal of `field = value`. A number's text longer than 20 characters (`1e308` is
    /// written out in 309 digits by `Display`) is given in exponent form, by [`short`].
    pub fn new(field: &str, value: impl std::fmt::Display, allowed: impl Into<String>) -> Self {
        let mut value = value.to_string();
        if value.len() > 20
            && let Ok(x) = value.parse::<f64>()
        {
            value = short(x);
        }
        SpecError {
            field: field.to_string(),
            value,
            allowed: allowed.into(),
        }
    }
}

/// Errors in a study file, naming the file, the line and the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StudyError {
    /// A study file that is not valid TOML or not a study.
    #[error("{file}: {reason}")]
    Parse {
        /// The study file.
        file: String,
        /// The parser's message.
        reason: String,
    },
    /// A field of a study step with a bad value.
    #[error("{file}, line {line}: {field}: {reason}")]
    Field {
        /// The study file.
        file: String,
        /// 1-based line of the field.
        line: usize,
        /// The field's name.
        field: String,
        /// What is wrong, and what is allowed.
        reason: String,
    },
    /// A check (a claim about a step's result) that does not hold or cannot be evaluated.
    #[error("check '{claim}': {reason}")]
    Check {
        /// The claim as written.
        claim: String,
        /// Why it fails.
        reason: String,
    },
    /// A step that failed while running.
    #[error("step '{step}': {reason}")]
    Step {
        /// The step's name.
        step: String,
        /// The error it failed with.
        reason: String,
    },
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
    /// A model, its parameters or its initial state.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A stimulus description or file.
    #[error(transparent)]
    Stimulus(#[from] StimulusError),
    /// An integration.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Writing a report.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A rest-state, bifurcation or other analysis.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// A spec setting outside its allowed values.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A study file.
    #[error(transparent)]
    Study(#[from] StudyError),
    /// The progress observer asked the run to stop.
    #[error(transparent)]
    Cancelled(#[from] crate::progress::Cancelled),
    /// The shards of a sharded sweep.
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
    /// The folder holds something else than a sharded sweep's shards (another report): the
    /// shards would have been written beside it, and a merge would leave its files in place.
    #[error(
        "{folder} holds another report ({entries}), not the shards of a sweep; use another output folder for the shards"
    )]
    ForeignFolder {
        /// The output folder.
        folder: String,
        /// Some of what it holds.
        entries: String,
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
    /// A shard's table does not hold the grid points its number stands for (a shard of the
    /// same sweep copied or renamed, or a file cut short).
    #[error(
        "{path} holds grid points {found}; shard {shard} holds points {expected}; remove it and run that shard again"
    )]
    WrongPoints {
        /// The shard's table.
        path: String,
        /// The points it holds.
        found: String,
        /// Which shard it is, `K/N`.
        shard: String,
        /// The points that shard holds, `a..b` (end excluded).
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

/// Result with the library's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Problems in rest-state and bifurcation analyses.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalysisError {
    /// An analysis along the injected current on a model that has no current parameter.
    #[error(
        "`{model}` has no current parameter (i_ext, iapp or i): {command} follows the injected current; declare one (`par i_ext=0`) and add it to the voltage equation"
    )]
    NoCurrent {
        /// The model's name.
        model: String,
        /// The command.
        command: String,
    },
    /// The Newton search from every start failed to find an equilibrium with |V| below the limit.
    #[error("`{model}` has no equilibrium at {current} with |V| below {limit}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    NoEquilibrium {
        /// The model's name.
        model: String,
        /// The current, with its unit.
        current: String,
        /// The bound on |V| that an equilibrium must satisfy (the model's voltage unit).
        limit: f64,
        /// The first search's failure, or empty.
        detail: String,
    },
    /// Every equilibrium at this current is unstable, so the model has no rest state there.
    #[error(
        "`{model}` has no stable equilibrium (rest) at {current}: its equilibria are {equilibria}"
    )]
    NoStableRest {
        /// The model's name.
        model: String,
        /// The current, with its unit.
        current: String,
        /// The equilibria found, each as `V = value (stability)`.
        equilibria: String,
    },
    /// A numerical method (Newton, continuation, eigenvalues, ...) that failed.
    #[error("{what}: {reason}")]
    Numerical {
        /// What was being computed.
        what: String,
        /// How it failed.
        reason: String,
    },
    /// A continuation or sweep parameter that the model does not have.
    #[error("unknown parameter '{name}': allowed {allowed}")]
    UnknownParameter {
        /// The name asked for.
        name: String,
        /// The names allowed, comma-separated.
        allowed: String,
    },
    /// An analysis setting outside its allowed values.
    #[error("bad setting {what} = {}: {allowed}", short(*value))]
    BadSetting {
        /// The setting's name.
        what: String,
        /// The value refused.
        value: f64,
        /// What is allowed, in words.
        allowed: String,
    },
    /// The model has no smooth, autonomous vector field (LIF is hybrid; an `.ode` model may read
    /// `t` in its right-hand side).
    #[error("model '{model}' {reason}: this analysis needs a smooth, autonomous vector field")]
    NoField {
        /// The model's name.
        model: String,
        /// Why it has none.
        reason: String,
    },
    /// No stable periodic orbit at this parameter value: the simulation settles at rest or
    /// never repeats (a phase response curve and a cycle from simulation need one).
    #[error(
        "{field} = {current}: `{model}` has no stable cycle there ({reason}); allowed: a {field} where the model fires repetitively"
    )]
    NoStableCycle {
        /// The model's name.
        model: String,
        /// The setting that chose the value (`current`).
        field: String,
        /// The value, with its unit.
        current: String,
        /// What the simulation did instead.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::{SimError, SpecError};

    /// A refused huge number is quoted in exponent form, an ordinary one as given.
    #[test]
    fn refused_values_are_short() {
        assert_eq!(SpecError::new("t_max", 1e308, "x").value, "1e308");
        assert_eq!(SpecError::new("dt", -1.5e300, "x").value, "-1.5e300");
        assert_eq!(SpecError::new("dt", 0.01, "x").value, "0.01");
        assert_eq!(
            SpecError::new("model", "a_name_longer_than_twenty", "x").value,
            "a_name_longer_than_twenty"
        );
    }

    /// The integrators' errors name ms until the model's unit is given: none for a file
    /// without units.
    #[test]
    fn times_carry_the_model_unit_of_time() {
        let blow_up = SimError::BlowUp {
            t: 2.5,
            time_unit: "ms",
            variable: "v".into(),
            value: f64::INFINITY,
            state: "v=inf".into(),
        };
        assert!(
            blow_up
                .to_string()
                .starts_with("the run blew up at t = 2.5 ms: v = inf")
        );
        let bare = blow_up.with_time_unit("").to_string();
        assert!(
            bare.starts_with("the run blew up at t = 2.5: v = inf"),
            "{bare}"
        );
        let step = SimError::StepSizeTooSmall {
            t: 3.0,
            h_min: 1e-12,
            time_unit: "ms",
        };
        assert!(
            step.to_string()
                .contains("below 0.000000000001 ms at t = 3 ms")
        );
        let bare = step.with_time_unit("").to_string();
        assert!(bare.contains("below 0.000000000001 at t = 3 ("), "{bare}");
    }
}
