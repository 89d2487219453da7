//! The Python face of `excitable` (PyO3): parse keyword arguments into the library's specs,
//! run them with the GIL released, hand the tables to polars. Nothing else: every setting,
//! default, check and number comes from the library, as for the command line.
//!
//! How a call goes:
//! - keyword arguments arrive as a dict whose keys are the flags (`t-max`, `from`); it is
//!   turned into a TOML table and read by [`from_table`], the same reader as a study step's
//!   table, into the command's job (`ModelJob<FiSpec>`, `WindowsJob`, …). So a flag added to
//!   the command line is an argument in Python without a line here.
//! - the run happens on a worker thread while the calling thread, GIL released, waits on a
//!   condition variable; every 50 ms it takes the GIL back to call the progress callback and
//!   `PyErr_CheckSignals` (Ctrl-C), and tells the run to stop through its observer.
//! - results keep the typed result; its tables are Parquet bytes written by the library's
//!   own writer ([`Table::to_parquet_bytes`]), which polars reads on the Python side: the
//!   DataFrames are the CLI's files to the last bit, without a second polars build here.
//! - errors are `excitable.Error` (a `ValueError`) with the command line's one-line message; a
//!   panic is caught and becomes `excitable.Error` too.

use excitable::Model;
use excitable::error::SpecError;
use excitable::progress::{Flow, Observer, Progress};
use excitable::report::{Report, Staging, Wait};
use excitable::spec::{ModelSource, ModelSpec, StatsSpec};
use excitable::study::job::{Job, check_inputs, from_table};
use excitable::study::jobs::{MergeJob, ModelJob, StatsJob, SweepJob, WindowsJob};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

create_exception!(
    excitable,
    Error,
    PyValueError,
    "A setting, model or input that excitable refuses (the command line's one-line message)."
);

/// The command line's one line for an error: the cause chain, with a refused setting named
/// as its flag (`--t-max = -1: allowed a finite number > 0`), repeats dropped.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![];
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        let spec =
            c.downcast_ref::<SpecError>()
                .or_else(|| match c.downcast_ref::<excitable::Error>() {
                    Some(excitable::Error::Spec(s)) => Some(s),
                    _ => None,
                });
        if let Some(s) = spec {
            parts.push(s.as_flags());
            break;
        }
        parts.push(c.to_string());
        cause = c.source();
    }
    parts.dedup();
    let mut line = parts[0].clone();
    for p in &parts[1..] {
        if !line.ends_with(p.as_str()) {
            line.push_str(": ");
            line.push_str(p);
        }
    }
    line
}

/// `excitable.Error` for a library error, or `KeyboardInterrupt` for a run stopped by Ctrl-C
/// (the caller has the pending signal's error; see [`run_observed`]).
fn err(e: excitable::Error) -> PyErr {
    Error::new_err(describe(&e))
}

/// `excitable.Error` with `message`.
fn err_text(message: impl Into<String>) -> PyErr {
    Error::new_err(message.into())
}

/// Run `f`, turning a panic into `excitable.Error` (nothing panics across the boundary).
fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(err_text(panic_text(payload))),
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    format!("internal error (a panic in excitable, please report it): {what}")
}

/// What the observer last heard, for the callback.
#[derive(Clone)]
struct Snapshot {
    task: String,
    done: u64,
    total: Option<u64>,
    detail: String,
}

/// The observer of a run from Python: records the latest progress, stops the run when told.
struct Shared {
    stop: AtomicBool,
    latest: Mutex<Option<Snapshot>>,
    finished: Mutex<bool>,
    wake: Condvar,
}

impl Observer for Shared {
    fn observe(&self, p: &Progress) -> Flow {
        if let Ok(mut l) = self.latest.lock() {
            *l = Some(Snapshot {
                task: p.task.to_string(),
                done: p.done,
                total: p.total,
                detail: p.detail.to_string(),
            });
        }
        if self.stop.load(Ordering::Relaxed) {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

/// How often the waiting thread takes the GIL back: progress callback and Ctrl-C.
const POLL: Duration = Duration::from_millis(50);

/// Run `f` on a worker thread with the GIL released. Every [`POLL`] the calling thread calls
/// `progress(task, done, total, detail)` with the latest progress and checks for signals; a
/// `KeyboardInterrupt` (or an exception from the callback) stops the run through its observer
/// and is raised once the run has returned. A panic in the run becomes `excitable.Error`.
fn run_observed<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(&dyn Observer) -> Result<T, excitable::Error> + Send,
) -> PyResult<T> {
    let shared = Shared {
        stop: AtomicBool::new(false),
        latest: Mutex::new(None),
        finished: Mutex::new(false),
        wake: Condvar::new(),
    };
    let mut raised: Option<PyErr> = None;
    let outcome = std::thread::scope(|s| {
        let shared = &shared;
        let worker = s.spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| f(shared)));
            if let Ok(mut done) = shared.finished.lock() {
                *done = true;
            }
            shared.wake.notify_all();
            r
        });
        let mut reported: Option<(String, u64)> = None;
        loop {
            let finished = py.detach(|| {
                let Ok(done) = shared.finished.lock() else {
                    return true;
                };
                if *done {
                    return true;
                }
                match shared.wake.wait_timeout(done, POLL) {
                    Ok((done, _)) => *done,
                    Err(_) => true,
                }
            });
            if raised.is_none() {
                if let Some(cb) = progress {
                    let snap = shared.latest.lock().ok().and_then(|l| l.clone());
                    let new = |p: &Snapshot| {
                        reported
                            .as_ref()
                            .is_none_or(|(task, done)| *task != p.task || *done != p.done)
                    };
                    if let Some(p) = snap.filter(new) {
                        reported = Some((p.task.clone(), p.done));
                        if let Err(e) = cb.call1((p.task, p.done, p.total, p.detail)) {
                            raised = Some(e);
                        }
                    }
                }
                if raised.is_none()
                    && let Err(e) = py.check_signals()
                {
                    raised = Some(e);
                }
                if raised.is_some() {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
            if finished {
                break;
            }
        }
        worker.join()
    });
    if let Some(e) = raised {
        return Err(e);
    }
    match outcome {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(err(e)),
        Ok(Err(payload)) | Err(payload) => Err(err_text(panic_text(payload))),
    }
}

/// A Python value as TOML: bool, int, float, str, list/tuple (arrays), dict (tables).
fn to_toml(v: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    if v.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return match v.extract::<i64>() {
            Ok(i) => Ok(toml::Value::Integer(i)),
            Err(_) => Ok(toml::Value::Float(v.extract::<f64>()?)),
        };
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(v.extract()?));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
        return Ok(toml::Value::Array(
            items
                .iter()
                .map(|x| to_toml(x, key))
                .collect::<PyResult<_>>()?,
        ));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        return Ok(toml::Value::Table(table(d)?));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{key}: cannot use a {} (expected a number, text, bool or a list of them)",
        v.get_type().name()?
    )))
}

/// The settings dict (keys are flags: `t-max`, `from`) as a TOML table.
fn table(d: &Bound<'_, PyDict>) -> PyResult<toml::Table> {
    let mut t = toml::Table::new();
    for (k, v) in d.iter() {
        let key: String = k.extract()?;
        let value = to_toml(&v, &key)?;
        t.insert(key, value);
    }
    Ok(t)
}

/// A job from a settings table, with the study reader's message on a bad key or value.
fn job<J: Job>(t: &toml::Table) -> PyResult<J> {
    from_table::<J>(t).map_err(err_text)
}

/// A model: built-in or from a file, with parameters changed. Immutable: `with_params`
/// returns a new one.
#[pyclass(name = "Model", module = "excitable", frozen)]
struct PyModel {
    source: ModelSource,
    model: Model,
    /// The model file's text when it was loaded (none for a built-in model). The commands
    /// that run from files (`sweep`, `windows`, `export`, `fit`, `report`) read the file
    /// again by its path: a file edited since, or a relative path after a change of the
    /// working folder, had given them another model than the others ran, without a word.
    file_bytes: Option<String>,
}

/// A model file's text, read as the loader reads it (a regular file of at most
/// `MAX_MODEL_BYTES`); `None` where it cannot be.
fn model_file_text(path: &Path) -> Option<String> {
    excitable::input::read_text(path, excitable::input::MAX_MODEL_BYTES).ok()
}

impl PyModel {
    /// The model's source, for a command that reads its file again: refused if the file no
    /// longer holds what was loaded.
    fn checked_source(&self) -> PyResult<ModelSource> {
        if let (Some(path), Some(bytes)) = (&self.source.model_file, &self.file_bytes)
            && model_file_text(path).as_ref() != Some(bytes)
        {
            return Err(err_text(format!(
                "model file {}: changed or gone since Model.from_file loaded it: load it again",
                path.display()
            )));
        }
        Ok(self.source.clone())
    }
}

#[pymethods]
impl PyModel {
    /// A built-in model: hh, hh-1952, hh-ca, lif (see `excitable.models()`).
    #[new]
    fn new(name: &str) -> PyResult<PyModel> {
        guard(|| {
            let source = ModelSource::builtin(name);
            let model = source.load().map_err(err)?;
            Ok(PyModel {
                source,
                model,
                file_bytes: None,
            })
        })
    }

    /// A model file: TOML (conductance-based) or XPPAUT .ode; `v_var` names an .ode model's
    /// voltage-like variable (default: the first).
    #[staticmethod]
    #[pyo3(signature = (path, v_var = None))]
    fn from_file(path: PathBuf, v_var: Option<String>) -> PyResult<PyModel> {
        guard(|| {
            // Absolute, so that a later change of the working folder does not change it.
            let path = std::path::absolute(&path).unwrap_or(path);
            let source = ModelSource {
                model_file: Some(path.clone()),
                v_var,
                ..ModelSource::default()
            };
            // Loaded first: the loader refuses what is not a regular file of at most
            // MAX_MODEL_BYTES before anything reads it whole.
            let model = source.load().map_err(err)?;
            let file_bytes = model_file_text(&path);
            Ok(PyModel {
                source,
                model,
                file_bytes,
            })
        })
    }

    /// A new model with parameters changed (`g_l=0.03`); an unknown name or a value out of
    /// the parameter's range raises `excitable.Error`.
    #[pyo3(signature = (**params))]
    fn with_params(&self, params: Option<&Bound<'_, PyDict>>) -> PyResult<PyModel> {
        guard(|| {
            let mut source = self.source.clone();
            let mut model = self.model.clone();
            for (k, v) in params.into_iter().flat_map(|d| d.iter()) {
                let name: String = k.extract()?;
                let value: f64 = v
                    .extract()
                    .map_err(|_| err_text(format!("{name}: a parameter value is a number")))?;
                model.set(&name, value).map_err(|e| err(e.into()))?;
                source.set.push(format!("{name}={value}"));
            }
            model.check_relations().map_err(|e| err(e.into()))?;
            Ok(PyModel {
                source,
                model,
                file_bytes: self.file_bytes.clone(),
            })
        })
    }

    /// The model's name.
    #[getter]
    fn name(&self) -> String {
        self.model.name().to_string()
    }

    /// The model with its changed parameters, in words.
    #[getter]
    fn label(&self) -> String {
        self.model.label()
    }

    /// The state variables.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.model
            .var_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Every parameter: a dict of name -> value, in the model's own order.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for p in self.model.params().iter() {
            d.set_item(p.name.to_string(), p.value)?;
        }
        Ok(d)
    }

    /// The model's source as settings (`model`, `model-file`, `set`, `v-var`), as a study
    /// step or the command line names it.
    fn _source(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let source = self.checked_source()?;
        let d = PyDict::new(py);
        d.set_item("model", &source.model)?;
        if let Some(f) = &source.model_file {
            d.set_item("model-file", f.display().to_string())?;
        }
        if !source.set.is_empty() {
            d.set_item("set", source.set.clone())?;
        }
        if let Some(v) = &source.v_var {
            d.set_item("v-var", v)?;
        }
        Ok(d.unbind())
    }

    fn __repr__(&self) -> String {
        format!("excitable.Model({})", self.model.label())
    }
}

/// A typed result held for Python: its tables (as Parquet bytes), summary and report.
#[pyclass(name = "_Output", module = "excitable", frozen)]
struct Output {
    result: Box<dyn Report + Send + Sync>,
}

#[pymethods]
impl Output {
    /// Every table as (name, Parquet bytes): the values, types and metadata the command
    /// line writes.
    fn tables<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
        guard(|| {
            let meta = self.result.metadata();
            let tables = self.result.written_tables();
            let bytes = py.detach(|| {
                tables
                    .into_iter()
                    .map(|t| {
                        let t = t.with_metadata(&meta);
                        t.to_parquet_bytes().map(|b| (t.name, b))
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            let bytes = bytes.map_err(|e| err(e.into()))?;
            Ok(bytes
                .into_iter()
                .map(|(n, b)| (n, PyBytes::new(py, &b)))
                .collect())
        })
    }

    /// The text of summary.md.
    fn summary(&self) -> String {
        self.result.summary_md()
    }

    /// Write tables, figures and summary.md into `out`, swapped in whole (as the command line
    /// does); returns the files.
    fn write(&self, py: Python<'_>, out: PathBuf) -> PyResult<Vec<PathBuf>> {
        guard(|| {
            py.detach(|| self.result.write(&out))
                .map_err(|e| err(e.into()))
        })
    }
}

/// Run one spec on a model in memory.
fn model_spec<S>(
    py: Python<'_>,
    model: &PyModel,
    settings: &toml::Table,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Output>
where
    S: ModelSpec + Send + Sync,
    S::Output: Report + Send + Sync + 'static,
{
    let job: ModelJob<S> = job(settings)?;
    let spec = job.spec;
    spec.check(&model.model).map_err(err)?;
    let m = &model.model;
    let r = run_observed(py, progress, |obs| spec.run_with(m, obs))?;
    Ok(Output {
        result: Box::new(r),
    })
}

/// `fit`, as [`model_spec`] runs it, with an `.ode` model file's text beside the result, so
/// that `write` gives `fitted.ode` as the command line does (it had written none).
fn fit(
    py: Python<'_>,
    model: &PyModel,
    settings: &toml::Table,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Output> {
    let job: ModelJob<excitable::spec::FitSpec> = job(settings)?;
    let fit_job = excitable::study::jobs::FitJob {
        model: model.checked_source()?,
        spec: job.spec,
    };
    fit_job.spec.check(&model.model).map_err(err)?;
    let text = fit_job.ode_text().map_err(err)?;
    let (spec, m) = (&fit_job.spec, &model.model);
    let mut r = run_observed(py, progress, |obs| spec.run_with(m, obs))?;
    r.source_text = text;
    Ok(Output {
        result: Box::new(r),
    })
}

/// Run a model command (`fi`, `bifurcation`, …) on `model` with `settings` (flag -> value).
#[pyfunction]
#[pyo3(signature = (command, model, settings, progress = None))]
fn run_model(
    py: Python<'_>,
    command: &str,
    model: &PyModel,
    settings: &Bound<'_, PyDict>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Output> {
    guard(|| {
        let t = table(settings)?;
        use excitable::spec::*;
        match command {
            "simulate" => model_spec::<SimulateSpec>(py, model, &t, progress),
            "rest" => model_spec::<RestSpec>(py, model, &t, progress),
            "gating" => model_spec::<GatingSpec>(py, model, &t, progress),
            "phase-plane" => model_spec::<PhasePlaneSpec>(py, model, &t, progress),
            "max-rate" => model_spec::<MaxRateSpec>(py, model, &t, progress),
            "bifurcation" => model_spec::<BifurcationSpec>(py, model, &t, progress),
            "bifurcation2" => model_spec::<Bifurcation2Spec>(py, model, &t, progress),
            "fi" => model_spec::<FiSpec>(py, model, &t, progress),
            "prc" => model_spec::<PrcSpec>(py, model, &t, progress),
            "excitability" => model_spec::<ExcitabilitySpec>(py, model, &t, progress),
            "fit" => fit(py, model, &t, progress),
            other => Err(err_text(format!("no model command '{other}'"))),
        }
    })
}

/// The text of `model` written in another format (`settings` as for `export`, without `out`):
/// what `excitable export` writes.
#[pyfunction]
fn export_text(model: &PyModel, settings: &Bound<'_, PyDict>) -> PyResult<String> {
    guard(|| {
        let t = table(settings)?;
        let spec: excitable::spec::ExportSpec = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| err_text(e.to_string()))?;
        spec.validate().map_err(|e| err(e.into()))?;
        let job = excitable::study::jobs::ExportJob {
            model: model.checked_source()?,
            spec,
        };
        Ok(job.export().map_err(err)?.text)
    })
}

/// Refuse to write an export over `out` when it is the model's own file or a file an
/// earlier export did not write, as `excitable export` refuses.
#[pyfunction]
fn export_check(model: &PyModel, out: PathBuf) -> PyResult<()> {
    guard(|| {
        excitable::study::jobs::export::check_overwrite(&out, model.source.model_file.as_deref())
            .map_err(err)
    })
}

/// Spike statistics of trains in memory (ms, one list per neuron); `settings` as for `stats`.
#[pyfunction]
#[pyo3(signature = (trains, settings, progress = None))]
fn stats_trains(
    py: Python<'_>,
    trains: Vec<Vec<f64>>,
    settings: &Bound<'_, PyDict>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Output> {
    guard(|| {
        let mut t = table(settings)?;
        // The job's reader checks the keys; its spikes file is not used.
        t.insert("spikes".into(), toml::Value::String(String::new()));
        let spec: StatsSpec = job::<StatsJob>(&t)?.spec;
        spec.validate().map_err(|e| err(e.into()))?;
        // A time that is not a number is refused, naming its neuron, and a train out of time
        // order sorted and named in the summary, by the library.
        let r = run_observed(py, progress, |obs| spec.run_owned_with(trains, obs))?;
        Ok(Output {
            result: Box::new(r),
        })
    })
}

/// Run a job into `out` as the command line does (checked first; written into a staging
/// folder swapped in whole, or in place for a shard of a sweep and `merge`); returns the files.
fn job_into<J: Job + Sync>(
    py: Python<'_>,
    settings: &toml::Table,
    out: &Path,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<PathBuf>> {
    let j: J = job(settings)?;
    j.check().map_err(err)?;
    check_inputs(&j.inputs(), None).map_err(err)?;
    run_observed(py, progress, |obs| {
        if let Some(done) = j.run_in_place(out, Wait::Yes, obs) {
            return Ok(done?.files);
        }
        let stage = Staging::begin(out, Wait::Yes, |_| {})?;
        let staged = stage.dir().to_path_buf();
        let files = j.run_into(&staged, obs)?;
        let out = stage.commit()?;
        Ok(files
            .into_iter()
            .map(|f| f.strip_prefix(&staged).map_or(f.clone(), |r| out.join(r)))
            .collect())
    })
}

/// Run a command that reads or streams files (`stats` of a file, `windows`, `sweep`, `merge`)
/// into the folder `out`, as the command line does; returns the files written.
#[pyfunction]
#[pyo3(signature = (command, settings, out, progress = None))]
fn run_job(
    py: Python<'_>,
    command: &str,
    settings: &Bound<'_, PyDict>,
    out: PathBuf,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<PathBuf>> {
    guard(|| {
        let t = table(settings)?;
        match command {
            "stats" => job_into::<StatsJob>(py, &t, &out, progress),
            "windows" => job_into::<WindowsJob>(py, &t, &out, progress),
            "sweep" => job_into::<SweepJob>(py, &t, &out, progress),
            "merge" => {
                let dir = out.clone();
                let j = MergeJob { dir };
                check_merge(&t)?;
                run_observed(py, progress, |obs| {
                    match j.run_in_place(&out, Wait::Yes, obs) {
                        Some(done) => Ok(done?.files),
                        None => Ok(vec![]),
                    }
                })
            }
            other => Err(err_text(format!("no file command '{other}'"))),
        }
    })
}

/// Write the report in `folder` (a folder-backed result's) into `out` as every report is
/// written: `out` checked ([`Staging::begin`] refuses a folder a report did not write),
/// staged and swapped in whole. Returns the files. (`Result.write` had replaced any `out`
/// without asking, a user's folder with its files.)
#[pyfunction]
fn write_folder(py: Python<'_>, folder: PathBuf, out: PathBuf) -> PyResult<Vec<PathBuf>> {
    guard(|| {
        py.detach(|| -> Result<Vec<PathBuf>, excitable::error::ReportError> {
            let stage = Staging::begin(&out, Wait::Yes, |_| {})?;
            let staged = stage.dir().to_path_buf();
            let files = excitable::report::staging::copy_listed(&folder, &staged)?;
            let out = stage.commit()?;
            Ok(files
                .into_iter()
                .map(|f| f.strip_prefix(&staged).map_or(f.clone(), |r| out.join(r)))
                .collect())
        })
        .map_err(|e| err(e.into()))
    })
}

fn check_merge(t: &toml::Table) -> PyResult<()> {
    match t.keys().next() {
        Some(k) => Err(err_text(format!("'{k}' is not a setting of `merge`"))),
        None => Ok(()),
    }
}

/// Run study files (`study run`): each into `out` (one study) or `reports/NAME`; `fast` for
/// shorter runs. Returns, per study, (folder, [(claim, measured, verdict, drifted)]).
#[pyfunction]
#[pyo3(signature = (files, out = None, reports = PathBuf::from("reports"), fast = false, no_wait = false, progress = None))]
#[allow(clippy::type_complexity)]
fn study_run(
    py: Python<'_>,
    files: Vec<PathBuf>,
    out: Option<PathBuf>,
    reports: PathBuf,
    fast: bool,
    no_wait: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(PathBuf, Vec<(String, Option<f64>, Option<String>, bool)>)>> {
    guard(|| {
        use excitable::study::Study;
        use excitable::study::run::{RunOptions, run_with_wait};
        if files.is_empty() {
            return Err(err_text("no study given: name study files"));
        }
        if out.is_some() && files.len() > 1 {
            return Err(err_text("--out names one folder: run one study with it"));
        }
        let studies = files
            .iter()
            .map(|f| Study::load(f).map(|s| (f.clone(), s)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(e.into()))?;
        let opts = RunOptions {
            fast,
            wait: if no_wait { Wait::No } else { Wait::Yes },
        };
        let mut done = vec![];
        for (file, study) in &studies {
            let name = file
                .file_stem()
                .map_or("study".into(), |s| s.to_string_lossy().into_owned());
            let dir = out.clone().unwrap_or_else(|| reports.join(&name));
            let outcome = run_observed(py, progress, |obs| {
                run_with_wait(study, &dir, opts, obs, |_, _| {}, |_| {})
            })
            .map_err(|e| {
                if e.is_instance_of::<Error>(py) {
                    err_text(format!("study {}: {}", file.display(), e.value(py)))
                } else {
                    e
                }
            })?;
            let checks = outcome
                .checks
                .iter()
                .map(|c| {
                    (
                        c.claim.clone(),
                        c.measured,
                        // The summary's words: a check that did not run says so.
                        Some(c.verdict.map_or("not run", |v| v.name()).to_string()),
                        c.drifted,
                    )
                })
                .collect();
            done.push((outcome.out, checks));
        }
        Ok(done)
    })
}

/// The full default report of a model (`report`) into `out`, by default `reports/MODEL` with
/// the overrides after it (`study::template::report_folder`, as the command line; each override
/// as the package writes it, `t_ref=3`); returns the folder.
#[pyfunction]
#[pyo3(signature = (model, out = None, no_wait = false, progress = None))]
fn report(
    py: Python<'_>,
    model: &PyModel,
    out: Option<PathBuf>,
    no_wait: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<PathBuf> {
    guard(|| {
        use excitable::study::run::{RunOptions, run_with_wait};
        use excitable::study::template::{report_folder, report_study};
        let source = model.checked_source()?;
        let out = match out {
            Some(out) => out,
            None => report_folder(&source).map_err(err)?,
        };
        let study = report_study(&source).map_err(err)?;
        let opts = RunOptions {
            fast: false,
            wait: if no_wait { Wait::No } else { Wait::Yes },
        };
        let outcome = run_observed(py, progress, |obs| {
            run_with_wait(&study, &out, opts, obs, |_, _| {}, |_| {})
        })?;
        Ok(outcome.out)
    })
}

/// Every built-in model's parameters: (model, parameter, value, unit, allowed, description).
#[pyfunction]
#[pyo3(signature = (model = None))]
#[allow(clippy::type_complexity)]
fn models(model: Option<&PyModel>) -> PyResult<Vec<(String, String, f64, String, String, String)>> {
    guard(|| {
        let list: Vec<Model> = match model {
            Some(m) => vec![m.model.clone()],
            None => excitable::model::BUILTIN
                .iter()
                .map(|(n, _)| Model::builtin(n))
                .collect::<Result<_, _>>()
                .map_err(|e| err(e.into()))?,
        };
        Ok(list
            .iter()
            .flat_map(|m| {
                m.params().iter().map(move |p| {
                    (
                        m.name().to_string(),
                        p.name.to_string(),
                        p.value,
                        p.unit.to_string(),
                        p.range_text(),
                        p.description.to_string(),
                    )
                })
            })
            .collect())
    })
}

/// The flags of a command, for signatures, docstrings and stubs: (flag, help, default values,
/// kind, choices, repeatable), where kind is float, int, bool, str or path.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn flags(command: &str) -> PyResult<Vec<(String, String, Vec<String>, String, Vec<String>, bool)>> {
    use clap::Args;
    use excitable::study::jobs::*;
    let cmd = clap::Command::new("flags");
    let cmd = match command {
        "simulate" => SimulateJob::augment_args(cmd),
        "rest" => RestJob::augment_args(cmd),
        "gating" => GatingJob::augment_args(cmd),
        "phase-plane" => PhasePlaneJob::augment_args(cmd),
        "max-rate" => MaxRateJob::augment_args(cmd),
        "bifurcation" => BifurcationJob::augment_args(cmd),
        "bifurcation2" => Bifurcation2Job::augment_args(cmd),
        "fi" => FiJob::augment_args(cmd),
        "prc" => PrcJob::augment_args(cmd),
        "excitability" => ExcitabilityJob::augment_args(cmd),
        "fit" => FitJob::augment_args(cmd),
        "export" => ExportJob::augment_args(cmd),
        "stats" => StatsJob::augment_args(cmd),
        "windows" => WindowsJob::augment_args(cmd),
        "sweep" => SweepJob::augment_args(cmd),
        other => return Err(err_text(format!("no command '{other}'"))),
    };
    Ok(cmd
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let defaults = a
                .get_default_values()
                .iter()
                .map(|d| d.to_string_lossy().into_owned())
                .collect();
            let id = a.get_value_parser().type_id();
            let of = |p: clap::builder::ValueParser| p.type_id();
            let kind = if matches!(a.get_action(), clap::ArgAction::SetTrue) {
                "bool"
            } else if id == of(clap::value_parser!(f64).into()) {
                "float"
            } else if id == of(clap::value_parser!(usize).into())
                || id == of(clap::value_parser!(u32).into())
                || id == of(clap::value_parser!(u64).into())
                || id == of(clap::value_parser!(i64).into())
            {
                "int"
            } else if id == of(clap::value_parser!(PathBuf)) {
                "path"
            } else {
                "str"
            };
            let choices = a
                .get_possible_values()
                .iter()
                .map(|p| p.get_name().to_string())
                .collect();
            let repeatable = matches!(a.get_action(), clap::ArgAction::Append);
            Some((long, help, defaults, kind.to_string(), choices, repeatable))
        })
        .collect())
}

/// The library call alone, for the benchmark (python/benches): `repeats` runs of a model
/// command's spec on `model` on this thread with the silent observer, no Python in between;
/// returns each run's seconds.
#[pyfunction]
fn _time_library(
    py: Python<'_>,
    command: &str,
    model: &PyModel,
    settings: &Bound<'_, PyDict>,
    repeats: usize,
) -> PyResult<Vec<f64>> {
    fn time<S: ModelSpec + Sync>(
        py: Python<'_>,
        m: &Model,
        t: &toml::Table,
        repeats: usize,
    ) -> PyResult<Vec<f64>>
    where
        S::Output: Report,
    {
        let spec = job::<ModelJob<S>>(t)?.spec;
        py.detach(|| {
            (0..repeats)
                .map(|_| {
                    let t0 = std::time::Instant::now();
                    spec.run_with(m, &excitable::Silent).map(|r| {
                        std::hint::black_box(&r);
                        t0.elapsed().as_secs_f64()
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(err)
    }
    guard(|| {
        let t = table(settings)?;
        match command {
            "bifurcation" => time::<excitable::BifurcationSpec>(py, &model.model, &t, repeats),
            "fi" => time::<excitable::FiSpec>(py, &model.model, &t, repeats),
            other => Err(err_text(format!("no timed command '{other}'"))),
        }
    })
}

/// Panics on purpose: the test that a panic becomes `excitable.Error`.
#[pyfunction]
fn _panic_for_test() -> PyResult<()> {
    guard(|| panic!("a test panic"))
}

/// A run that panics on its worker thread: the same, through the threaded runner.
#[pyfunction]
fn _panic_in_run_for_test(py: Python<'_>) -> PyResult<()> {
    run_observed(py, None, |_| -> Result<(), excitable::Error> {
        panic!("a test panic in a run")
    })
}

/// The compiled half of the `excitable` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<Error>())?;
    m.add_class::<PyModel>()?;
    m.add_class::<Output>()?;
    m.add_function(wrap_pyfunction!(run_model, m)?)?;
    m.add_function(wrap_pyfunction!(export_text, m)?)?;
    m.add_function(wrap_pyfunction!(export_check, m)?)?;
    m.add_function(wrap_pyfunction!(stats_trains, m)?)?;
    m.add_function(wrap_pyfunction!(run_job, m)?)?;
    m.add_function(wrap_pyfunction!(write_folder, m)?)?;
    m.add_function(wrap_pyfunction!(study_run, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(models, m)?)?;
    m.add_function(wrap_pyfunction!(flags, m)?)?;
    m.add_function(wrap_pyfunction!(_time_library, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_in_run_for_test, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
