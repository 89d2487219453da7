//! A report folder is replaced as a whole: a run writes into a staging folder beside `OUT` and
//! swaps it in at the end, so a reader sees the old complete report or the new complete one,
//! never a mix; files of an older run never remain beside new ones; a failed or interrupted
//! run leaves the old report as it was.
//!
//! - One writer per folder: an advisory lock (`flock`, through `std::fs::File::lock`) on
//!   `.OUT.lock` beside `OUT`, held from [`Staging::begin`] to the swap. A second run waits
//!   for it (after telling the caller the holder's process id) or, asked not to wait, refuses.
//! - The staging folder is `.OUT.staging-PID`. The swap is one `renameat2(RENAME_EXCHANGE)` on
//!   Linux (the old report then sits at the staging path and is removed); elsewhere, or where
//!   the file system cannot exchange, `OUT` is renamed aside and the staging folder renamed in.
//! - Dropped without [`Staging::commit`] (an error on the way), the staging folder is removed,
//!   and so are the folders above `OUT` that [`Staging::begin`] created: a failed run leaves
//!   nothing behind. A run killed outright leaves its staging folder (and the lock file);
//!   the next run into the same `OUT` removes every staging folder of `OUT` it finds once it
//!   holds the lock (only the lock's holder writes one, so any other is left by a dead run,
//!   whatever process now has its id).

use crate::error::ReportError;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// What to do when another run holds the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait for it to finish.
    Yes,
    /// Refuse at once.
    No,
}

/// A staging folder for `OUT`, with `OUT`'s lock held.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    lock: File,
    done: bool,
    /// Folders above `out` that `begin` created, deepest first (removed again on failure).
    created: Vec<PathBuf>,
}

/// The file every report folder holds, written into the staging folder just before the swap:
/// the list of the files the report wrote, which the next run may replace. Hidden, so it does
/// not clutter a listing.
pub const REPORT_MARK: &str = ".excitable-report";

/// The first line of [`REPORT_MARK`]; the files follow, one relative path a line.
const MARK_HEADER: &str =
    "# Written by excitable: the next run into this folder replaces it whole. Its files:";

/// The kinds of file a report writes (tables, figures, summaries, a sweep's definition, a
/// fitted or exported model file), for folders written before [`REPORT_MARK`] existed.
pub const REPORT_FILE_KINDS: [&str; 8] =
    ["parquet", "png", "svg", "md", "toml", "ode", "nml", "xml"];

/// How many entries of an existing `out` are looked at before it is taken for a report.
const MAX_SCANNED: usize = 100_000;

/// Refuse to replace an existing `out` that holds anything an earlier report did not write:
/// the swap replaces the folder whole. A missing or empty `out` passes. A folder with
/// [`REPORT_MARK`] passes when every file in it is one the mark lists (a note the user put
/// in a report's folder is refused). A folder without it (from a version before the mark)
/// passes only when it looks like a report throughout: a `summary.md` at its top, every file
/// of a kind a report writes ([`REPORT_FILE_KINDS`]), and every Markdown file a `summary.md`.
/// A folder of the user's own (notes, data, model files) is refused: `report --out` at a
/// folder of models had deleted them, because `.toml` and `.ode` are kinds a report writes
/// too, and so had a run into a folder of Markdown notes.
pub fn check_replaceable(out: &Path) -> Result<(), ReportError> {
    if !std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    // A mark of another form (not starting with the header) counts as none.
    let listed: Option<std::collections::HashSet<String>> =
        std::fs::read_to_string(out.join(REPORT_MARK))
            .ok()
            .filter(|text| text.starts_with(MARK_HEADER))
            .map(|text| {
                text.lines()
                    .filter(|l| !l.starts_with('#') && !l.is_empty())
                    .map(str::to_string)
                    .collect()
            });
    let mut foreign = vec![];
    let mut stack = vec![out.to_path_buf()];
    let mut scanned = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            // Hidden entries are the runs' own locks and partial files (a shard's
            // `.shard=K.lock` beside its folder) or the system's (`.DS_Store`), never a
            // report's reader's data.
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            scanned += 1;
            let path = e.path();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let kind = path.extension().and_then(|x| x.to_str());
            let relative = path.strip_prefix(out).unwrap_or(&path);
            let ours = match &listed {
                Some(files) => files.contains(&relative.to_string_lossy().into_owned()),
                None => {
                    kind.is_some_and(|x| REPORT_FILE_KINDS.contains(&x))
                        && (kind != Some("md") || e.file_name() == "summary.md")
                }
            };
            if is_dir {
                stack.push(path);
            } else if !ours || scanned > MAX_SCANNED {
                let shown = path.strip_prefix(out).unwrap_or(&path);
                foreign.push(shown.display().to_string());
            }
            if scanned > MAX_SCANNED {
                break;
            }
        }
    }
    if listed.is_none() && scanned > 0 && foreign.is_empty() && !out.join("summary.md").is_file() {
        foreign.push("no summary.md".into());
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    const SHOWN: usize = 3;
    let more = foreign.len().saturating_sub(SHOWN);
    foreign.truncate(SHOWN);
    Err(ReportError::NotAReportFolder {
        path: out.display().to_string(),
        foreign,
        more,
    })
}

/// Write [`REPORT_MARK`] into `dir`: every file under it (hidden ones aside), by relative
/// path.
fn write_mark(dir: &Path) -> Result<(), ReportError> {
    let mut files = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| io_err(&d, "cannot list", e))?;
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else if let Ok(rel) = e.path().strip_prefix(dir) {
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let mark = dir.join(REPORT_MARK);
    let text = std::iter::once(MARK_HEADER.to_string())
        .chain(files)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&mark, text + "\n")
        .map_err(|e| io_err(&mark, "cannot write the report's mark", e))
}

fn io_err(path: &Path, what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        reason: format!("{what}: {e}"),
    }
}

/// `(parent, file name)` of `out`, the parent made absolute-safe (`.` for a bare name).
fn split(out: &Path) -> Result<(PathBuf, String), ReportError> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| ReportError::Io {
            path: out.display().to_string(),
            reason: "the output folder needs a plain last name (not `.`, `..` or `/`)".into(),
        })?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(PathBuf::from("."), Path::to_path_buf);
    Ok((parent, name.to_string()))
}

/// The folders of `dir` and above that do not exist yet, deepest first.
fn missing_ancestors(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect()
}

impl Staging {
    /// Take `out`'s lock (waiting if `wait` says so; `on_wait` hears the holder's process id
    /// first), remove stale staging folders of dead runs, and create a fresh staging folder.
    /// Creates `out`'s parent folder if needed; `out` itself is only touched by the swap.
    ///
    /// An existing `out` holding anything an earlier report did not write is refused before
    /// anything is touched ([`check_replaceable`]).
    pub fn begin(
        out: &Path,
        wait: Wait,
        on_wait: impl FnOnce(Option<u32>),
    ) -> Result<Staging, ReportError> {
        check_replaceable(out)?;
        Self::begin_keeping(out, wait, on_wait)
    }

    /// [`Staging::begin`] for a run that keeps what `out` holds, so does not ask whether a
    /// report wrote it: a sweep's shard, which only takes the lock to record the sweep's
    /// definition beside the other shards, and `merge`, which links every entry of the
    /// folder into the new one.
    pub fn begin_keeping(
        out: &Path,
        wait: Wait,
        on_wait: impl FnOnce(Option<u32>),
    ) -> Result<Staging, ReportError> {
        let (parent, name) = split(out)?;
        let created = missing_ancestors(&parent);
        std::fs::create_dir_all(&parent)
            .map_err(|e| io_err(&parent, "cannot create the output folder", e))?;
        let remove_created = |e: ReportError| {
            for d in &created {
                let _ = std::fs::remove_dir(d);
            }
            e
        };
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = Self::lock(out, &lock_path, wait, on_wait).map_err(remove_created)?;
        Self::begin_locked(out, &parent, &name, lock, created)
    }

    /// Open and lock `lock_path` (see [`Staging::begin`]).
    fn lock(
        out: &Path,
        lock_path: &Path,
        wait: Wait,
        on_wait: impl FnOnce(Option<u32>),
    ) -> Result<File, ReportError> {
        let mut waited = false;
        let mut on_wait = Some(on_wait);
        loop {
            let mut lock = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(lock_path)
                .map_err(|e| io_err(lock_path, "cannot create the lock file", e))?;
            match lock.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = lock.read_to_string(&mut text);
                    let holder = text.trim().parse::<u32>().ok();
                    if wait == Wait::No {
                        return Err(ReportError::Busy {
                            path: out.display().to_string(),
                            holder: holder
                                .map_or("another process".into(), |p| format!("process {p}")),
                        });
                    }
                    if !waited {
                        waited = true;
                        if let Some(f) = on_wait.take() {
                            f(holder);
                        }
                    }
                    lock.lock()
                        .map_err(|e| io_err(lock_path, "cannot lock", e))?;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io_err(lock_path, "cannot lock", e));
                }
            }
            // The holder before us removes the lock file when it finishes; if the path no
            // longer names the file we locked, lock the new one instead.
            if same_file(&lock, lock_path) {
                return Ok(lock);
            }
        }
    }

    /// With `lock` held: record this process's id in it, remove what dead runs left, and
    /// create the staging folder.
    fn begin_locked(
        out: &Path,
        parent: &Path,
        name: &str,
        mut lock: File,
        created: Vec<PathBuf>,
    ) -> Result<Staging, ReportError> {
        let pid = std::process::id();
        let _ = lock.set_len(0);
        let _ = lock.rewind();
        let _ = write!(lock, "{pid}");
        let _ = lock.flush();
        // Only the lock's holder writes a staging folder of OUT (or moves an old report
        // aside): any found now was left by a run that died, and goes.
        let prefix = format!(".{name}.staging-");
        let aside = format!(".{name}.old-");
        if let Ok(entries) = std::fs::read_dir(parent) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                let rest = file.strip_prefix(&prefix).or(file.strip_prefix(&aside));
                if rest.is_some_and(|p| p.parse::<u32>().is_ok()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = parent.join(format!("{prefix}{pid}"));
        let staging = Staging {
            out: out.to_path_buf(),
            dir: dir.clone(),
            lock,
            done: false,
            created,
        };
        // On an error the drop releases the lock and removes the folders created above.
        std::fs::create_dir(&dir)
            .map_err(|e| io_err(&dir, "cannot create the staging folder", e))?;
        Ok(staging)
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder the report will become.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Swap the staging folder in as `OUT` (the old report is removed) and release the lock.
    pub fn commit(mut self) -> Result<PathBuf, ReportError> {
        write_mark(&self.dir)?;
        if self.out.is_dir() {
            if !exchange(&self.dir, &self.out) {
                // Rename aside, then in: a reader in between sees no folder, never a mix.
                let (parent, name) = split(&self.out)?;
                let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
                std::fs::rename(&self.out, &aside)
                    .map_err(|e| io_err(&self.out, "cannot move the old report aside", e))?;
                if let Err(e) = std::fs::rename(&self.dir, &self.out) {
                    let _ = std::fs::rename(&aside, &self.out);
                    return Err(io_err(&self.out, "cannot move the new report in", e));
                }
                let _ = std::fs::remove_dir_all(&aside);
            } else {
                // The old report now sits at the staging path.
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        } else {
            if self.out.exists() {
                return Err(ReportError::Io {
                    path: self.out.display().to_string(),
                    reason: "exists and is not a folder".into(),
                });
            }
            std::fs::rename(&self.dir, &self.out)
                .map_err(|e| io_err(&self.out, "cannot move the new report in", e))?;
        }
        self.done = true;
        self.release();
        Ok(self.out.clone())
    }

    /// Remove the lock file while still holding the lock (a run waiting on it then finds the
    /// path gone or renewed, and locks again), then unlock.
    fn release(&mut self) {
        let (parent, name) = match split(&self.out) {
            Ok(x) => x,
            Err(_) => return,
        };
        let _ = std::fs::remove_file(parent.join(format!(".{name}.lock")));
        let _ = self.lock.unlock();
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
            self.done = true;
            self.release();
            // Folders this run created above OUT go too, if nothing else is in them now.
            for d in &self.created {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// Whether `path` still names the open `file` (same device and inode on Unix).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Exchange two paths atomically (Linux `renameat2`); `false` where that is not available.
fn exchange(a: &Path, b: &Path) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let (Ok(ca), Ok(cb)) = (
            CString::new(a.as_os_str().as_bytes()),
            CString::new(b.as_os_str().as_bytes()),
        ) else {
            return false;
        };
        // SAFETY: two valid NUL-terminated paths, relative to the working directory.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        r == 0
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (a, b);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries of `dir` but the report's mark.
    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != REPORT_MARK)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_commit_replaces_the_folder_whole_and_a_drop_keeps_the_old() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("a.md"), "1").unwrap();
        std::fs::write(s.dir().join("old_only.md"), "x").unwrap();
        s.commit().unwrap();
        assert_eq!(files(&out), ["a.md", "old_only.md"]);
        // A second run replaces the folder: no file of the first remains.
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("a.md"), "2").unwrap();
        s.commit().unwrap();
        assert_eq!(files(&out), ["a.md"]);
        assert_eq!(std::fs::read_to_string(out.join("a.md")).unwrap(), "2");
        // A run that fails (dropped) leaves the old report and no staging folder.
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("a.md"), "3").unwrap();
        drop(s);
        assert_eq!(std::fs::read_to_string(out.join("a.md")).unwrap(), "2");
        // Nothing is left beside the report: no staging folder, no lock file.
        assert_eq!(files(root.path()), ["r"]);
    }

    /// A folder holding a file no report writes (the user's notes, deep down too) is refused
    /// before anything is touched, naming the file; one holding a report's kinds only, or
    /// nothing, is replaced.
    #[test]
    fn a_folder_holding_files_no_report_writes_is_not_replaced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("mine");
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::write(out.join("summary.md"), "# old").unwrap();
        std::fs::write(out.join("sub/precious.txt"), "keep").unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(
            matches!(&e, ReportError::NotAReportFolder { foreign, more: 0, .. } if foreign == &["sub/precious.txt"]),
            "{e}"
        );
        assert!(
            e.to_string().contains("choose a new or empty folder"),
            "{e}"
        );
        assert_eq!(files(&out), ["sub", "summary.md"]);
        assert_eq!(files(root.path()), ["mine"]);
        std::fs::remove_file(out.join("sub/precious.txt")).unwrap();
        Staging::begin(&out, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
        assert!(files(&out).is_empty());
    }

    /// A folder of model files or of Markdown notes holds only kinds a report writes, and
    /// had been replaced whole; without the mark or a report's shape it is refused, byte for
    /// byte as it was. A report's own folder carries the mark and is replaced.
    #[test]
    fn only_a_folder_a_report_wrote_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let cases: [&[(&str, &str)]; 3] = [
            &[("hh.toml", "[model]"), ("fhn.ode", "v'=0")],
            &[("notes.md", "# mine"), ("plan.md", "- a")],
            &[("summary.md", "# old"), ("notes.md", "# mine")],
        ];
        for (k, case) in cases.iter().enumerate() {
            let out = root.path().join(format!("mine{k}"));
            std::fs::create_dir(&out).unwrap();
            for (name, text) in case.iter() {
                std::fs::write(out.join(name), text).unwrap();
            }
            let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
            assert!(matches!(e, ReportError::NotAReportFolder { .. }), "{e}");
            for (name, text) in case.iter() {
                assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), *text);
            }
        }
        let out = root.path().join("report");
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("model.toml"), "[model]").unwrap();
        std::fs::write(s.dir().join("notes.md"), "# ours").unwrap();
        s.commit().unwrap();
        assert!(out.join(REPORT_MARK).is_file());
        // A note of the user's own put in the report's folder is not among the files the
        // mark lists: refused, and kept.
        std::fs::write(out.join("mine.md"), "# mine").unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("mine.md"), "{e}");
        std::fs::remove_file(out.join("mine.md")).unwrap();
        Staging::begin(&out, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
        assert!(files(&out).is_empty());
        // A folder from before the mark, a report's shape throughout, is replaced too.
        let old = root.path().join("old");
        std::fs::create_dir_all(old.join("fi")).unwrap();
        std::fs::write(old.join("summary.md"), "# old").unwrap();
        std::fs::write(old.join("fi/summary.md"), "# old").unwrap();
        std::fs::write(old.join("fi/fi.parquet"), "x").unwrap();
        Staging::begin(&old, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
        assert!(files(&old).is_empty());
    }

    #[test]
    fn a_held_folder_is_refused_without_waiting_and_stale_staging_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let first = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        // flock locks belong to the open file description, so a second open in this process
        // contends like another process would.
        let e = Staging::begin(&out, Wait::No, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains(&std::process::id().to_string()), "{e}");
        drop(first);
        // A staging folder of a dead process (pid far above any live one) is removed.
        let stale = root.path().join(".r.staging-99999999");
        std::fs::create_dir(&stale).unwrap();
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        assert!(!stale.exists());
        drop(s);
        assert_eq!(files(root.path()), Vec::<String>::new());
    }

    #[test]
    fn a_waiting_run_goes_on_when_the_holder_finishes() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let first = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(first.dir().join("a.md"), "1").unwrap();
        let out2 = out.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let s = Staging::begin(&out2, Wait::Yes, |pid| tx.send(pid).unwrap()).unwrap();
            std::fs::write(s.dir().join("b.md"), "2").unwrap();
            s.commit().unwrap();
        });
        // The second run says whom it waits for, and goes on once the first commits.
        assert_eq!(rx.recv().unwrap(), Some(std::process::id()));
        first.commit().unwrap();
        waiter.join().unwrap();
        assert_eq!(files(&out), ["b.md"]);
        assert_eq!(files(root.path()), ["r"]);
    }
}
