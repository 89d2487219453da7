//! A job is one command's whole work: which model or files it reads, its spec, and the report
//! it writes. The command line runs one job into a folder swapped in whole; a study runs many
//! into one staging folder; both build the same job structs (from flags or from a study
//! step's table), so a study step and the command it names cannot differ.

use crate::error::Error;
use crate::progress::Observer;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// One command's work.
pub trait Job:
    clap::Args + clap::FromArgMatches + Serialize + DeserializeOwned + Clone + std::fmt::Debug
{
    /// The subcommand, which is also a study step's `command`.
    const COMMAND: &'static str;

    /// Check every setting before any work: the model loads, the spec validates. Nothing is
    /// computed or written. (Input files are checked by [`check_inputs`]: in a study an
    /// earlier step writes them.)
    fn check(&self) -> Result<(), Error>;

    /// Run, and write the report into `dir` as it is; returns the files written.
    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error>;

    /// The files this job reads, with the setting that names each (a study checks that an
    /// earlier step writes those under its folder).
    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        vec![]
    }

    /// The model file the job reads, if any ([`check_outside`] keeps it out of the output
    /// folder).
    fn model_file(&self) -> Option<&Path> {
        None
    }

    /// Name the input files under `from` as the same files under `to` in what the report
    /// says (its summary and metadata): a study runs its steps in a staging folder, where a
    /// step reads an earlier step's files, and its report names them where they will be.
    fn show_inputs_as(&mut self, _from: &Path, _to: &Path) {}

    /// For a job that writes into its output folder in place, beside what is already there,
    /// instead of into a fresh folder that replaces it whole (a shard of a sweep adds
    /// `OUT/shard=K` beside the other shards; a merge adds the merged report beside them):
    /// run it into `out`, taking the locks it needs (waiting for them as `wait` says) and
    /// writing nothing partial. `None` (the default): an ordinary job, which the caller runs
    /// with [`Job::run_into`] into a fresh folder.
    fn run_in_place(
        &self,
        _out: &Path,
        _wait: crate::report::Wait,
        _observer: &dyn Observer,
    ) -> Option<Result<InPlace, Error>> {
        None
    }
}

/// `path` with its prefix `from` replaced by `to` (unchanged when it does not start with it).
pub fn rebase(path: &Path, from: &Path, to: &Path) -> PathBuf {
    path.strip_prefix(from)
        .map_or_else(|_| path.to_path_buf(), |rest| to.join(rest))
}

/// What a job that wrote in place did ([`Job::run_in_place`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InPlace {
    /// For the user: what was done (a summary, or why nothing was).
    pub message: String,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// Refuse inputs that are not existing regular files, naming the setting and what the path is
/// instead (missing, a folder, a device); inputs under
/// `produced` (a study's folder, written by earlier steps) are left to the run.
pub fn check_inputs(
    inputs: &[(&'static str, PathBuf)],
    produced: Option<&Path>,
) -> Result<(), Error> {
    for (field, path) in inputs {
        if produced.is_some_and(|p| path.starts_with(p)) {
            continue;
        }
        let problem = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => continue,
            Ok(m) if m.is_dir() => "a file (this is a folder)".to_string(),
            Ok(_) => "a regular file (this is not a regular file but a device, a pipe or a socket)"
                .to_string(),
            Err(e) => format!("a file that can be read (cannot read it: {e})"),
        };
        return Err(crate::error::SpecError::new(field, path.display(), problem).into());
    }
    Ok(())
}

/// Refuse an output folder `out` that holds one of `inputs` (the model file, a trace, a
/// study file): the new report replaces the folder whole, and `report --model-file
/// DIR/hh.ode --out DIR` had deleted the model it had just read. Compared as canonical paths;
/// a missing `out` holds nothing.
pub fn check_outside(out: &Path, inputs: &[(&str, &Path)]) -> Result<(), Error> {
    let Ok(folder) = std::fs::canonicalize(out) else {
        return Ok(());
    };
    for (field, path) in inputs {
        if std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(&folder)) {
            return Err(crate::error::SpecError::new(
                "out",
                out.display(),
                format!(
                    "a folder that does not hold the run's `{field}` ({}): the report replaces the folder whole",
                    path.display()
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// The study-file keys (= long flags) of a job.
pub fn keys<J: clap::Args>() -> Vec<String> {
    J::augment_args(clap::Command::new("keys"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// A job from a study step's table: every key must be one of its flags, and every value of
/// its type (numbers as numbers, text as text; a repeatable flag takes one value or an array).
pub fn from_table<J: Job>(table: &toml::Table) -> Result<J, String> {
    let keys = keys::<J>();
    if let Some(k) = table.keys().find(|k| !keys.contains(k)) {
        return Err(format!(
            "'{k}' is not a setting of `{}` (the flag --{k} does not exist; settings: {})",
            J::COMMAND,
            keys.join(", ")
        ));
    }
    J::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
        // Flattened settings lose the key in serde's message: find the key that fails alone
        // (every setting has a default, so a one-key table fails only on its own value).
        let culprit = table.iter().find(|(k, v)| {
            let one: toml::Table = [((*k).clone(), (*v).clone())].into_iter().collect();
            J::deserialize(toml::Value::Table(one)).is_err()
        });
        let reason = e.to_string().trim().replace('\n', " ");
        match culprit {
            Some((k, v)) => format!("{k} = {v}: {reason}"),
            None => reason,
        }
    })
}
