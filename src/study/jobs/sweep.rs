//! The jobs of `excitable sweep` and `excitable merge`, with the protocol of a sharded sweep.
//!
//! A sharded sweep keeps its definition in `OUT/sweep.toml` (written by the first shard,
//! checked by every other, both under `OUT`'s lock, so shards of different sweeps never mix)
//! and each shard's rows in `OUT/shard=K/grid.parquet` (hive-style, so polars/duckdb can also
//! scan `OUT/shard=*/` directly), written through its own staging folder: a shard never
//! replaces `OUT` (the other shards live there). A shard whose file exists is skipped: a rerun
//! of a job array redoes only the shards that failed. Each shard's table carries the sweep's
//! fingerprint ([`SweepSpec::fingerprint`]); `merge` refuses a shard with another, and writes
//! the merged report (grid.parquet, grid.png, summary.md) beside the shards only once
//! everything has been read, checked and drawn.

use crate::analysis::sweep::Shard;
use crate::error::{Error, ReportError, ShardError, SimError};
use crate::progress::Observer;
use crate::report::atomic::write_text;
use crate::report::staging::{
    FolderLock, extend_mark, is_own_leftover, listed_files, refuse_unlisted,
};
use crate::report::sweep::{read_fingerprint, read_rows, shard_table};
use crate::report::{Report, Staging, Wait};
use crate::spec::ModelSource;
use crate::spec::sweep::{SweepResult, SweepRow, SweepSpec};
use crate::study::job::{InPlace, Job};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The file that defines a sharded sweep, in its folder.
pub const MANIFEST: &str = "sweep.toml";

/// Firing over a grid of model parameters and the current, whole or one shard of it.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct SweepJob {
    #[command(flatten)]
    #[serde(flatten)]
    /// The model.
    pub model: ModelSource,
    #[command(flatten)]
    #[serde(flatten)]
    /// The settings.
    pub spec: SweepSpec,
    /// Run only part K of N (1-based) into OUT/shard=K/grid.parquet; `excitable merge OUT`
    /// joins the parts.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// What `OUT/sweep.toml` holds: the sweep, how many shards it has, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Manifest {
    /// The sweep's fingerprint ([`SweepSpec::fingerprint`]).
    pub fingerprint: String,
    /// The number of shards.
    pub shards: usize,
    /// The model.
    #[serde(flatten)]
    pub model: ModelSource,
    /// The settings.
    #[serde(flatten)]
    pub spec: SweepSpec,
}

impl Manifest {
    /// Read `path`.
    pub fn read(path: &Path) -> Result<Manifest, ShardError> {
        let err = |reason: String| ShardError::Manifest {
            manifest: path.display().to_string(),
            reason,
        };
        let text = crate::input::read_text(path, crate::input::MAX_MODEL_BYTES).map_err(err)?;
        toml::from_str(&text).map_err(|e| err(e.to_string().trim().replace('\n', " ")))
    }
}

fn io(path: &Path, what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        reason: format!("{what}: {e}"),
    }
}

impl SweepJob {
    /// Run one shard into `out/shard=K` (see the module docs); skipped if done.
    pub fn run_shard(
        &self,
        out: &Path,
        shard: Shard,
        wait: Wait,
        observer: &dyn Observer,
    ) -> Result<InPlace, Error> {
        let model = self.model.load()?;
        let grid = self.spec.grid(&model)?;
        fits(shard, grid.len())?;
        let fingerprint = self.spec.fingerprint(&model, &grid);
        // Check (or record) the sweep's definition, under OUT's lock.
        {
            let _lock = FolderLock::take(out, wait)?;
            std::fs::create_dir_all(out).map_err(|e| io(out, "cannot create the folder", e))?;
            let path = out.join(MANIFEST);
            if path.exists() {
                let old = Manifest::read(&path)?;
                if old.fingerprint != fingerprint || old.shards != shard.count {
                    return Err(ShardError::DifferentSweep {
                        manifest: path.display().to_string(),
                    }
                    .into());
                }
            } else {
                refuse_foreign(out)?;
                let m = Manifest {
                    fingerprint: fingerprint.clone(),
                    shards: shard.count,
                    model: self.model.clone(),
                    spec: self.spec.clone(),
                };
                let text = toml::to_string(&m).map_err(|e| io(&path, "cannot write", e))?;
                write_text(&path, &text)?;
            }
            extend_mark(out, &[MANIFEST.to_string()])?;
        }
        let dir = out.join(format!("shard={}", shard.index + 1));
        let file = dir.join("grid.parquet");
        // A shard done before is skipped, unless its file is damaged (its checksum or
        // fingerprint does not match): then it runs again, and replaces its folder.
        let sound = || {
            read_fingerprint(&file).is_ok_and(|f| f.as_deref() == Some(fingerprint.as_str()))
                && read_rows(&file, &model, &grid.axes).is_ok()
        };
        if file.exists() && sound() {
            record_shard(out, &dir, wait)?;
            return Ok(InPlace {
                message: format!("shard {shard} already done ({}): skipped\n", file.display()),
                files: vec![],
            });
        }
        let range = shard.range(grid.len());
        let started = Instant::now();
        let rows = self.spec.run_part_with(&model, range.clone(), observer)?;
        let seconds = started.elapsed().as_secs_f64();
        let table = shard_table(&model, &self.spec, &grid.axes, &fingerprint, shard, &rows);
        let stage = Staging::begin(&dir, wait, |_| {})?;
        table.write_parquet(stage.dir())?;
        let dir = stage.commit()?;
        record_shard(out, &dir, wait)?;
        Ok(InPlace {
            message: format!(
                "shard {shard}: points {}..{} of {} in {seconds:.2} s\n",
                range.start,
                range.end,
                grid.len(),
            ),
            files: vec![dir.join("grid.parquet")],
        })
    }
}

/// List a shard's files in the mark of the sweep's folder `out`, under its lock, so that
/// `merge` and a later run into `out` know them for a report's.
fn record_shard(out: &Path, shard_dir: &Path, wait: Wait) -> Result<(), Error> {
    let _lock = FolderLock::take(out, wait)?;
    let name = shard_dir
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let files: Vec<String> = listed_files(shard_dir)
        .into_iter()
        .map(|f| format!("{name}/{f}"))
        .collect();
    extend_mark(out, &files)?;
    Ok(())
}

/// A grid of `points` splits into at most `points` shards: more would leave shards with
/// nothing to run, which on a cluster is a job array asked for by mistake.
fn fits(shard: Shard, points: usize) -> Result<(), SimError> {
    if shard.count > points {
        return Err(SimError::BadSetting {
            what: "shard K/N: the number of shards N".into(),
            value: shard.count as f64,
            allowed: format!("at most the grid's {points} points"),
        });
    }
    Ok(())
}

impl Job for SweepJob {
    const COMMAND: &'static str = "sweep";

    fn model_file(&self) -> Option<&Path> {
        self.model.model_file.as_deref()
    }

    fn check(&self) -> Result<(), Error> {
        let grid = self.spec.grid(&self.model.load()?)?;
        if let Some(shard) = self.shard {
            fits(shard, grid.len())?;
        }
        Ok(())
    }

    /// The whole sweep's report into `dir`; a shard into `dir/shard=K` beside the others.
    fn run_into(&self, dir: &Path, observer: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        match self.shard {
            Some(s) => Ok(self.run_shard(dir, s, Wait::Yes, observer)?.files),
            None => {
                let r = self.spec.run_with(&self.model.load()?, observer)?;
                Ok(r.write_into(dir)?)
            }
        }
    }

    fn run_in_place(
        &self,
        out: &Path,
        wait: Wait,
        observer: &dyn Observer,
    ) -> Option<Result<InPlace, Error>> {
        self.shard.map(|s| self.run_shard(out, s, wait, observer))
    }
}

/// Join the shards of a sharded sweep into grid.parquet, grid.png and summary.md.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct MergeJob {
    /// The OUT directory of a sharded sweep.
    pub dir: PathBuf,
}

impl MergeJob {
    /// The whole sweep from the shards in `dir`: every shard present and of this sweep (its
    /// fingerprint), every grid point once. Reads, never writes.
    pub fn merged(&self) -> Result<SweepResult, Error> {
        let path = self.dir.join(MANIFEST);
        let manifest_name = path.display().to_string();
        let m = Manifest::read(&path)?;
        let model = m.model.load()?;
        let grid = m.spec.grid(&model)?;
        let fingerprint = m.spec.fingerprint(&model, &grid);
        if fingerprint != m.fingerprint {
            return Err(ShardError::Stale {
                manifest: manifest_name,
                recorded: m.fingerprint,
                now: fingerprint,
            }
            .into());
        }
        let files: Vec<PathBuf> = (1..=m.shards)
            .map(|k| self.dir.join(format!("shard={k}")).join("grid.parquet"))
            .collect();
        let missing: Vec<String> = (1..=m.shards)
            .filter(|k| !files[k - 1].exists())
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ShardError::Missing {
                dir: self.dir.display().to_string(),
                missing: missing.join(", "),
                count: m.shards,
            }
            .into());
        }
        let mut rows = vec![];
        for (k, f) in files.iter().enumerate() {
            let found = read_fingerprint(f)?;
            if found.as_deref() != Some(fingerprint.as_str()) {
                return Err(ShardError::Foreign {
                    path: f.display().to_string(),
                    found: found.unwrap_or_else(|| "none".into()),
                    manifest: manifest_name,
                    expected: fingerprint,
                }
                .into());
            }
            let part = read_rows(f, &model, &grid.axes)?;
            let shard = Shard {
                index: k,
                count: m.shards,
            };
            let expected = shard.range(grid.len());
            let points = part.iter().map(|r| r.point as usize);
            if !points.eq(expected.clone()) {
                return Err(ShardError::WrongPoints {
                    path: f.display().to_string(),
                    found: point_span(&part),
                    shard: shard.to_string(),
                    expected: format!("{}..{}", expected.start, expected.end),
                }
                .into());
            }
            rows.extend(part);
        }
        SweepResult::merged(&m.spec, &model, rows, m.shards)
    }
}

/// The grid points a shard's rows hold, for a message: `a..b` when consecutive, else the
/// count with the first and last.
fn point_span(rows: &[SweepRow]) -> String {
    match (rows.first(), rows.last()) {
        (Some(a), Some(b)) if rows.windows(2).all(|w| w[1].point == w[0].point + 1) => {
            format!("{}..{}", a.point, b.point + 1)
        }
        (Some(a), Some(b)) => format!("{} rows from point {} to {}", rows.len(), a.point, b.point),
        _ => "no rows".into(),
    }
}

impl Job for MergeJob {
    const COMMAND: &'static str = "merge";

    fn check(&self) -> Result<(), Error> {
        let m = Manifest::read(&self.dir.join(MANIFEST))?;
        m.spec.grid(&m.model.load()?)?;
        Ok(())
    }

    /// The merged report into `dir` (a fresh folder).
    fn run_into(&self, dir: &Path, _: &dyn Observer) -> Result<Vec<PathBuf>, Error> {
        Ok(self.merged()?.write_into(dir)?)
    }

    fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        vec![("dir", self.dir.join(MANIFEST))]
    }

    /// The merged report into `out` beside what is there (the shards, when `out` is their
    /// folder), and `out` replaced whole: under `out`'s lock everything is read, checked and
    /// written into a staging folder, the rest of `out` (the manifest, the shards) is linked
    /// in beside it, and the staging folder is swapped in. A failure writes nothing; a run
    /// killed at any moment leaves the old folder or the new one.
    fn run_in_place(
        &self,
        out: &Path,
        wait: Wait,
        _: &dyn Observer,
    ) -> Option<Result<InPlace, Error>> {
        Some((|| {
            let stage = Staging::begin_keeping(out, wait, |_| {})?;
            // A file of the user's named like one the merge writes would be replaced by it.
            let mine: Vec<String> = ["grid.parquet", "grid.png", "grid.svg", "summary.md"]
                .into_iter()
                .filter(|f| stage.carried().contains(*f))
                .map(String::from)
                .collect();
            refuse_unlisted(out, mine)?;
            let r = self.merged()?;
            let staged = r.write_into(stage.dir())?;
            let names: Vec<std::ffi::OsString> = staged
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_os_string()))
                .collect();
            if out.is_dir() {
                link_tree(out, stage.dir(), &names)?;
            }
            let dir = stage.dir().to_path_buf();
            let out = stage.commit()?;
            Ok(InPlace {
                message: r.summary_md(),
                files: staged
                    .iter()
                    .map(|f| out.join(f.strip_prefix(&dir).unwrap_or(f)))
                    .collect(),
            })
        })())
    }
}

/// Refuse a folder without a manifest that holds anything but shard folders and hidden
/// entries (locks, staging folders): the first shard of a sweep starts in an empty folder.
fn refuse_foreign(out: &Path) -> Result<(), ShardError> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    // Hidden entries count too (a folder of dotfiles had been taken for an empty one), but
    // for what runs leave and the report's mark.
    let mut foreign: Vec<String> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with("shard=")
                && name != crate::report::staging::REPORT_MARK
                && !is_own_leftover(&e.path())
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let more = foreign.len().saturating_sub(3);
    foreign.truncate(3);
    Err(ShardError::ForeignFolder {
        folder: out.display().to_string(),
        entries: if more > 0 {
            format!("{}, and {more} more", foreign.join(", "))
        } else {
            foreign.join(", ")
        },
    })
}

/// Put everything in `from` into `to` (made by the caller) but the top-level entries named in
/// `skip` and the runs' own hidden ones (locks, staging folders, marks): folders recreated,
/// files hard-linked
/// (copied where links are not possible), symbolic links recreated.
fn link_tree(from: &Path, to: &Path, skip: &[std::ffi::OsString]) -> Result<(), ReportError> {
    link_entries(from, to, skip, true)
}

/// [`link_tree`] of the folder `from`, `top` for the folder itself.
fn link_entries(
    from: &Path,
    to: &Path,
    skip: &[std::ffi::OsString],
    top: bool,
) -> Result<(), ReportError> {
    let entries = std::fs::read_dir(from).map_err(|e| ReportError::Read {
        path: from.display().to_string(),
        reason: e.to_string(),
    })?;
    for e in entries {
        let e = e.map_err(|e| ReportError::Read {
            path: from.display().to_string(),
            reason: e.to_string(),
        })?;
        let name = e.file_name();
        // The runs' own locks, staging folders and marks stay behind (the new folder gets its
        // own mark); any other hidden entry (`.git`, a user's `.notes.lock`) is kept, as
        // every other entry is.
        // A shard's own mark, inside its folder, is kept: a shard run again replaces its
        // folder as a report's.
        let transient =
            (top && name == crate::report::staging::REPORT_MARK) || is_own_leftover(&e.path());
        if skip.contains(&name) || transient {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        let kind = e.file_type().map_err(|e| ReportError::Read {
            path: src.display().to_string(),
            reason: e.to_string(),
        })?;
        if kind.is_dir() {
            std::fs::create_dir(&dst).map_err(|e| io(&dst, "cannot create the folder", e))?;
            link_entries(&src, &dst, &[], false)?;
            // With the folder's own permissions (a `.ssh` kept private), once filled.
            if let Ok(meta) = std::fs::metadata(&src) {
                let _ = std::fs::set_permissions(&dst, meta.permissions());
            }
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| ReportError::Read {
                path: src.display().to_string(),
                reason: e.to_string(),
            })?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(target, &dst).map_err(|e| io(&dst, "cannot link", e))?;
            #[cfg(not(unix))]
            return Err(io(
                &dst,
                "cannot keep the symbolic link",
                format!("to {}: links are kept on Unix only", target.display()),
            ));
        } else if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(|e| io(&dst, "cannot copy", e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::job::from_table;

    #[test]
    fn study_steps_and_the_manifest_read_back() {
        let t: toml::Table = toml::from_str(
            "model = \"hh\"\nparam = [\"g_k=30:42:3\", \"g_na=100,120\"]\ncurrent = \"0:20:2.5\"\nt-max = 150\ntransient = 50\nshard = \"2/4\"",
        )
        .unwrap();
        let job: SweepJob = from_table(&t).unwrap();
        assert_eq!(job.shard, Some(Shard { index: 1, count: 4 }));
        assert_eq!(job.spec.params.len(), 2);
        job.check().unwrap();
        let bad: toml::Table = toml::from_str("params = \"g_k=1\"").unwrap();
        assert!(from_table::<SweepJob>(&bad).unwrap_err().contains("params"));
        let bad: toml::Table = toml::from_str("param = \"g_k=1\"\nshard = \"5/4\"").unwrap();
        assert!(from_table::<SweepJob>(&bad).is_err());
        let m = Manifest {
            fingerprint: "fnv1a64:0".into(),
            shards: 4,
            model: job.model.clone(),
            spec: job.spec.clone(),
        };
        let back: Manifest = toml::from_str(&toml::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let merge = MergeJob { dir: "x".into() };
        assert!(
            merge
                .check()
                .unwrap_err()
                .to_string()
                .contains("sweep.toml")
        );
    }
}
