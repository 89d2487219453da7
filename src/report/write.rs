//! What every typed result shares as a report: its tables, its figures and its summary, written
//! into a folder that is replaced as a whole ([`super::staging`]).

use super::staging::{Staging, Wait};
use super::table::Table;
use crate::error::ReportError;
use crate::model::{Model, Units};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A typed result that is written as a report folder: `<table>.parquet` files, figures
/// (PNG/SVG) and `summary.md`.
pub trait Report {
    /// Every table, in memory: what the Parquet files hold.
    fn tables(&self) -> Vec<Table>;

    /// Draw every figure into `dir`; returns the files written.
    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError>;

    /// The text of `summary.md`.
    fn summary(&self) -> String;

    /// The text of `summary.md` as written: [`Report::summary`] with the line saying what the
    /// model is after its title (from the metadata; none for a result without a model). The
    /// command line, Python and a reloaded folder all show this text.
    fn summary_md(&self) -> String {
        with_model_line(self.summary(), &self.metadata())
    }

    /// Key-value metadata attached to every table: the model, its parameters, the settings.
    fn metadata(&self) -> Vec<(String, String)> {
        vec![]
    }

    /// The units of the model the result is about; a result without a model is in ms and Hz
    /// unless it says otherwise (spike statistics of a file whose times are a bare `t`).
    fn units(&self) -> Units {
        Units::NEURON
    }

    /// The tables as they are written: [`Report::tables`] with their column names in the
    /// model's units ([`Table::in_units`]: `v` and `t` rather than `v_mv` and `t_ms` for a model
    /// without units).
    fn written_tables(&self) -> Vec<Table> {
        let units = self.units();
        self.tables()
            .into_iter()
            .map(|t| t.in_units(units))
            .collect()
    }

    /// Text files written beside the tables and figures, as (file name, text): a fit's
    /// `fitted.toml`. Most results have none.
    fn text_files(&self) -> Vec<(String, String)> {
        vec![]
    }

    /// Write every table, figure and the summary into `dir` as it is (a study writes all its
    /// steps into one staging folder this way). Returns the files written.
    /// The tables are written while the figures are drawn, on the rayon pool.
    fn write_into(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError>
    where
        Self: Sync,
    {
        use rayon::prelude::*;
        std::fs::create_dir_all(dir).map_err(|e| ReportError::Io {
            path: dir.display().to_string(),
            reason: format!("cannot create the folder: {e}"),
        })?;
        let meta = self.metadata();
        let tables = self.written_tables();
        debug_assert!(
            tables
                .iter()
                .all(|t| tables.iter().filter(|u| u.name == t.name).count() == 1),
            "tables written at once need their own names (temporary files are named after them)"
        );
        let (tables, figures) = rayon::join(
            || {
                tables
                    .into_par_iter()
                    .map(|t| t.with_metadata(&meta).write_parquet(dir))
                    .collect::<Result<Vec<PathBuf>, ReportError>>()
            },
            || self.figures(dir),
        );
        let mut files = tables?;
        files.extend(figures?);
        for (name, text) in self.text_files() {
            let path = dir.join(name);
            super::atomic::write_text(&path, &text)?;
            files.push(path);
        }
        let path = dir.join("summary.md");
        super::atomic::write_text(&path, &self.summary_md())?;
        files.push(path);
        Ok(files)
    }

    /// Write the report to `out`: into a staging folder beside it, swapped in whole under
    /// `out`'s lock (waiting for another run that holds it). Returns the files as they are
    /// named under `out`.
    fn write(&self, out: &Path) -> Result<Vec<PathBuf>, ReportError>
    where
        Self: Sync,
    {
        let stage = Staging::begin(out, Wait::Yes, |_| {})?;
        let files = self.write_into(stage.dir())?;
        let staged = stage.dir().to_path_buf();
        let out = stage.commit()?;
        Ok(files
            .into_iter()
            .map(|f| f.strip_prefix(&staged).map_or(f.clone(), |r| out.join(r)))
            .collect())
    }
}

/// Metadata every table of a result about `model` carries: the model with its overrides, every
/// parameter with its value and unit, the settings (as TOML) and the toolkit's version.
pub fn model_metadata(model: &Model, settings: &impl Serialize) -> Vec<(String, String)> {
    let params: Vec<String> = model
        .params()
        .iter()
        .map(|p| format!("{} = {} {}", p.name, p.value, p.unit))
        .collect();
    vec![
        ("excitable.model".into(), model.label()),
        (MODEL_DESCRIPTION.into(), model.description()),
        ("excitable.parameters".into(), params.join("; ")),
        (
            "excitable.settings".into(),
            toml::to_string(settings).unwrap_or_default(),
        ),
        (
            "excitable.version".into(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]
}

/// The metadata key of the model's one-line description ([`Model::description`]).
const MODEL_DESCRIPTION: &str = "excitable.model.description";

/// `summary` with a line after its title saying what the model is (from the metadata, when
/// the result is about a model): a NeuroML cell's area and temperature, an `.ode` file's
/// notes, stated beside the numbers they shape.
fn with_model_line(summary: String, meta: &[(String, String)]) -> String {
    // One line whatever the file wrote (a TOML `description` may span lines); none if empty.
    let about = meta
        .iter()
        .find(|(k, _)| k == MODEL_DESCRIPTION)
        .map(|(_, a)| a.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    if about.is_empty() {
        return summary;
    }
    let line = format!("Model: {}.\n\n", about.trim_end_matches('.'));
    match summary.find("\n\n") {
        Some(i) if summary.starts_with('#') => {
            format!("{}{line}{}", &summary[..i + 2], &summary[i + 2..])
        }
        _ => line + &summary,
    }
}

/// Metadata every table of a result without a model carries (spike statistics, windows of a
/// trace file): the settings (as TOML) and the toolkit's version.
pub fn settings_metadata(settings: &impl Serialize) -> Vec<(String, String)> {
    vec![
        (
            "excitable.settings".into(),
            toml::to_string(settings).unwrap_or_default(),
        ),
        (
            "excitable.version".into(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_line_follows_the_title() {
        let meta = vec![(
            MODEL_DESCRIPTION.to_string(),
            "a cell of 1 segment.".to_string(),
        )];
        assert_eq!(
            with_model_line("# Title\n\nBody\n".into(), &meta),
            "# Title\n\nModel: a cell of 1 segment.\n\nBody\n"
        );
        assert_eq!(
            with_model_line("Body\n".into(), &meta),
            "Model: a cell of 1 segment.\n\nBody\n"
        );
        let multi = vec![(MODEL_DESCRIPTION.to_string(), "two\n\nlines ".to_string())];
        assert_eq!(
            with_model_line("# T\n\nB".into(), &multi),
            "# T\n\nModel: two lines.\n\nB"
        );
        let empty = vec![(MODEL_DESCRIPTION.to_string(), " ".to_string())];
        assert_eq!(with_model_line("# T\n\nB".into(), &empty), "# T\n\nB");
        assert_eq!(with_model_line("Body\n".into(), &[]), "Body\n");
    }
}
