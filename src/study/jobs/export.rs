//! The job of `excitable export`: load the model, write it in another format as one file.
//!
//! `--out FILE` names the file (its extension must be the format's: `.ode`, `.nml`,
//! `.toml`); `--out DIR` (or no `--out`: `reports/export`) writes `DIR/NAME.EXT`, NAME the
//! model's name in snake_case. The text is made and checked before anything is written, then
//! written beside the target and renamed over it: a reader sees the old file or the new one.

use crate::error::{Error, ReportError, SpecError};
use crate::progress::Observer;
use crate::report::Wait;
use crate::spec::export::{ExportFormat, ExportResult};
use crate::spec::{ExportSpec, ModelSource};
use crate::study::job::{InPlace, Job};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A model and the format to write it in.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct ExportJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: ExportSpec,
}

impl ExportJob {
    /// The file's text (nothing written).
    pub fn export(&self) -> Result<ExportResult, Error> {
        let model = self.model.load()?;
        match &self.model.model_file {
            Some(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ode")) => {
                let text = crate::input::read_text(p, crate::input::MAX_MODEL_BYTES).map_err(
                    |reason| crate::error::ModelError::File {
                        path: p.display().to_string(),
                        reason,
                    },
                )?;
                self.spec
                    .run_ode_file(&model, text, !model.params().overrides().is_empty())
            }
            _ => self.spec.run(&model),
        }
    }

    /// Where the file goes: `out` itself when it has the format's extension, else
    /// `out/NAME.EXT`; a file name with another extension is refused.
    pub fn target(&self, out: &Path, r: &ExportResult) -> Result<PathBuf, Error> {
        let ext = self.spec.to.extension();
        match out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case(ext) => Ok(out.to_path_buf()),
            Some(e) if ["ode", "nml", "toml", "xml"].contains(&e) => Err(SpecError::new(
                "out",
                out.display(),
                format!(
                    "a .{ext} file for --to {} (or a folder)",
                    self.spec.to.name()
                ),
            )
            .into()),
            _ => Ok(out.join(r.file_name())),
        }
    }
}

/// The words every exported file carries in its first lines (a comment, or the NeuroML
/// notes), by which an existing file is known to be an earlier export.
const EXPORT_MARK: &str = "Written by `excitable export`";

/// Refuse to write over `path` when it is the model file being read, or an existing file that
/// an earlier export did not write: `export --out` had replaced a user's own `.toml` (its
/// comments lost), and the very model file it read. An earlier export is replaced.
pub fn check_overwrite(path: &Path, model_file: Option<&Path>) -> Result<(), Error> {
    if !path.exists() {
        return Ok(());
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let reason = if model_file.is_some_and(|m| same(m, path)) {
        "is the model file being read"
    } else if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        "is a folder"
    } else {
        // In the file's head (its first 16 KiB, read alone): a NeuroML cell's notes carry it
        // after the model's description.
        use std::io::Read;
        let mut head = vec![];
        let _ = std::fs::File::open(path).and_then(|f| f.take(16_384).read_to_end(&mut head));
        if String::from_utf8_lossy(&head).contains(EXPORT_MARK) {
            return Ok(());
        }
        "exists and was not written by `excitable export`"
    };
    Err(SpecError::new(
        "out",
        path.display(),
        format!(
            "a new file or an earlier export: {} {reason}",
            path.display()
        ),
    )
    .into())
}

/// Write `text` to `path` through a temporary file in the same folder, renamed over it.
fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let io = |e: std::io::Error| -> Error {
        ReportError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
        .into()
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path
        .file_name()
        .map_or("export".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

impl Job for ExportJob {
    const COMMAND: &'static str = "export";

    fn check(&self) -> Result<(), Error> {
        // Making the text is cheap: a refusal comes before anything is written.
        self.export().map(|_| ())
    }

    fn run_into(&self, dir: &Path, _: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        let r = self.export()?;
        let path = dir.join(r.file_name());
        write_atomic(&path, &r.text)?;
        Ok(vec![path])
    }

    fn run_in_place(
        &self,
        out: &Path,
        _wait: Wait,
        _: &dyn Observer,
    ) -> Option<Result<InPlace, Error>> {
        Some((|| {
            let r = self.export()?;
            let path = self.target(out, &r)?;
            check_overwrite(&path, self.model.model_file.as_deref())?;
            write_atomic(&path, &r.text)?;
            let what = match self.spec.to {
                ExportFormat::Ode => "XPPAUT .ode file",
                ExportFormat::Neuroml => "NeuroML2 cell",
                ExportFormat::Toml => "TOML model file",
            };
            // The one thing the .ode format loses from a conductance model, said where the
            // user looks (the file's header says it too).
            let lost = match (self.spec.to, &r.model) {
                (ExportFormat::Ode, crate::Model::Conductance(m)) => {
                    crate::model::export::ode_threshold_note(m.threshold_mv)
                        .map(|n| format!("{n}\n"))
                        .unwrap_or_default()
                }
                _ => String::new(),
            };
            Ok(InPlace {
                message: format!("{} written as a {what}\n{lost}", r.model.label()),
                files: vec![path],
            })
        })())
    }
}
