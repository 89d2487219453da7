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
//!   whatever process now has its id), if it holds a staging folder's marker
//!   ([`STAGING_MARKER`], written at its creation and into the old report the swap puts
//!   there): a user's folder of such a name, a report's copy included, is left alone.

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
    /// The files `out` held when the lock was taken: a file added to it during the run is
    /// not deleted with the old folder at the swap.
    before: std::collections::HashSet<String>,
    /// Files of `out` its mark did not list, which a run keeping `out`'s entries carries
    /// over: the user's, left out of the new mark.
    carried: std::collections::HashSet<String>,
}

/// The file every report folder holds, written into the staging folder just before the swap:
/// the list of the files the report wrote, which the next run may replace. Hidden, so it does
/// not clutter a listing.
pub const REPORT_MARK: &str = ".excitable-report";

/// The first line of [`REPORT_MARK`]; the files follow, one relative path a line.
const MARK_HEADER: &str =
    "# Written by excitable: the next run into this folder replaces it whole. Its files:";

/// The file a staging folder holds from its creation to its commit, by which a later run
/// knows a leftover `.OUT.staging-N` or `.OUT.old-N` folder for a dead run's own (a folder of
/// the user's that happens to have such a name is left alone).
pub const STAGING_MARKER: &str = ".excitable-staging";

/// The entries folder viewers add of their own accord (macOS, Windows, KDE), replaced with the
/// folder.
const SYSTEM_ENTRIES: [&str; 4] = [".DS_Store", "Thumbs.db", "desktop.ini", ".directory"];

/// How many entries of an existing `out` are looked at before it is refused as too big to
/// have been a report.
const MAX_SCANNED: usize = 100_000;

/// The longest last name an output folder may have: its lock file `.NAME.lock` and staging
/// folder `.NAME.staging-PID` must fit the file system's 255 bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// The files (symbolic links too, never followed) under `root`, hidden ones included, by
/// path relative to it with `/` between folders, but the runs' own: every folder's
/// [`REPORT_MARK`], lock files, leftover staging folders ([`is_own_leftover`]) and
/// [`SYSTEM_ENTRIES`]. `None` past [`MAX_SCANNED`] entries.
fn files_under(root: &Path) -> Option<Vec<String>> {
    let mut files = vec![];
    let mut stack = vec![(root.to_path_buf(), String::new())];
    let mut scanned = 0usize;
    while let Some((dir, rel)) = stack.pop() {
        // A folder that cannot be listed may hold anything: it counts as a file of its own.
        let Ok(entries) = std::fs::read_dir(&dir) else {
            files.push(if rel.is_empty() {
                "(cannot list the folder)".into()
            } else {
                format!("{rel}/ (cannot list it)")
            });
            continue;
        };
        for e in entries.flatten() {
            scanned += 1;
            if scanned > MAX_SCANNED {
                return None;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name == REPORT_MARK
                || name == STAGING_MARKER
                || SYSTEM_ENTRIES.contains(&name.as_str())
                || is_own_leftover(&path)
            {
                continue;
            }
            let relative = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((path, relative));
            } else {
                files.push(relative);
            }
        }
    }
    files.sort();
    Some(files)
}

/// Whether `path` is what a run leaves beside a folder it writes: a lock file `.NAME.lock`
/// holding a process id (or nothing) beside a `NAME` that exists (or a shard's,
/// `.shard=K.lock`), a staging folder `.NAME.staging-N` or `.NAME.old-N` holding
/// [`STAGING_MARKER`] (or nothing), an empty writability probe, or a half-written file. A user's
/// `.notes.lock`, a PID file `.myjob.lock`, or a `.rep.old-1` backup (a copy of a report,
/// mark and all) is none of these.
pub(crate) fn is_own_leftover(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return false;
    };
    let Some(hidden) = name.strip_prefix('.') else {
        return false;
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if let Some(of) = hidden.strip_suffix(".lock") {
        let beside = path.with_file_name(of);
        return meta.is_file()
            && meta.len() <= 20
            && (of.starts_with("shard=") || std::fs::symlink_metadata(&beside).is_ok())
            && std::fs::read(path).is_ok_and(|b| b.iter().all(u8::is_ascii_digit));
    }
    // The empty file by which a folder's writability is probed ([`super::atomic::ensure_dir`]).
    if let Some(pid) = hidden.strip_prefix("excitable-probe-") {
        return meta.is_file()
            && meta.len() == 0
            && !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit());
    }
    // A file an atomic write left half written ([`super::atomic::temp_path`]).
    if meta.is_file()
        && let Some((_, tail)) = hidden.rsplit_once(".partial-")
    {
        let pid = tail.split_once('.').map_or(tail, |(p, _)| p);
        return !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    }
    let numbered = [".staging-", ".old-"].iter().any(|sep| {
        hidden
            .rsplit_once(sep)
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    // An empty one too: a run killed between creating it and writing its marker leaves
    // nothing in it to lose.
    numbered
        && meta.is_dir()
        && (path.join(STAGING_MARKER).is_file()
            || std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()))
}

/// The files [`REPORT_MARK`] in `dir` lists, `None` without one (a mark of another form,
/// not starting with the header, counts as none).
fn mark_list(dir: &Path) -> Option<std::collections::HashSet<String>> {
    std::fs::read_to_string(dir.join(REPORT_MARK))
        .ok()
        .filter(|text| text.starts_with(MARK_HEADER))
        .map(|text| {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(str::to_string)
                .collect()
        })
}

/// The files the [`REPORT_MARK`] in `dir` lists, sorted (none without a mark).
pub fn listed_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = mark_list(dir).unwrap_or_default().into_iter().collect();
    files.sort();
    files
}

/// The files under a folder (none if it is not one), and those of them its mark does not
/// list.
type Snapshot = (
    std::collections::HashSet<String>,
    std::collections::HashSet<String>,
);

/// The [`Snapshot`] of `out`; refused past [`MAX_SCANNED`] entries.
fn snapshot(out: &Path) -> Result<Snapshot, ReportError> {
    if !std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        return Ok(Default::default());
    }
    let files = files_under(out).ok_or_else(|| ReportError::NotAReportFolder {
        path: out.display().to_string(),
        foreign: vec![format!("more than {MAX_SCANNED} entries")],
        more: 0,
    })?;
    let listed = mark_list(out).unwrap_or_default();
    let carried = files
        .iter()
        .filter(|f| !listed.contains(*f))
        .cloned()
        .collect();
    Ok((files.into_iter().collect(), carried))
}

/// Refuse, before any work, an `out` the swap cannot replace safely: a symbolic link (the
/// swap would replace the link, not the folder it names), something that is not a folder, a
/// last name too long for the run's lock file, or a folder holding anything an earlier
/// report did not write. A missing or empty `out` passes; so does one whose every file is
/// listed by its [`REPORT_MARK`] (hidden files count: a `.git` or `.ssh` in a folder had
/// been deleted with it). A folder without the mark is refused whatever it holds: one of
/// model files and notes had looked like a report and been deleted, and so had a project's
/// folder of a summary, a model, a figure and a table.
pub fn check_replaceable(out: &Path) -> Result<(), ReportError> {
    check_target(out)?;
    if !std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let (_, unlisted) = snapshot(out)?;
    refuse_unlisted(out, unlisted.into_iter().collect())
}

/// [`ReportError::NotAReportFolder`] naming the first few of `foreign` (sorted), if any.
pub(crate) fn refuse_unlisted(out: &Path, mut foreign: Vec<String>) -> Result<(), ReportError> {
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

/// What every run into `out` checks first, whether or not it keeps what `out` holds: not a
/// symbolic link, a folder if it exists, and a last name that leaves room for the lock's.
fn check_target(out: &Path) -> Result<(), ReportError> {
    let (_, name) = split(out)?;
    let refuse = |reason: String| ReportError::Io {
        path: out.display().to_string(),
        reason,
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(refuse(format!(
            "the output folder's name is {} bytes long: allowed at most {MAX_NAME_BYTES} (its lock file and staging folder are named after it)",
            name.len()
        )));
    }
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(out).map_or("?".into(), |t| t.display().to_string());
            Err(refuse(format!(
                "is a symbolic link (to {target}): the swap would replace the link, so give the folder itself"
            )))
        }
        Ok(m) if !m.is_dir() => Err(refuse("exists and is not a folder".into())),
        _ => Ok(()),
    }
}

/// Write [`REPORT_MARK`] into `dir`: every file under it, hidden ones too, by relative path,
/// but `skip` (what a run that keeps a folder's entries carried over from the user).
fn write_mark(dir: &Path, skip: &std::collections::HashSet<String>) -> Result<(), ReportError> {
    let files: Vec<String> = files_under(dir)
        .ok_or_else(|| {
            io_err(
                dir,
                "cannot list the report",
                format!("more than {MAX_SCANNED} entries"),
            )
        })?
        .into_iter()
        .filter(|f| !skip.contains(f))
        .collect();
    let mark = dir.join(REPORT_MARK);
    std::fs::write(&mark, mark_text(files))
        .map_err(|e| io_err(&mark, "cannot write the report's mark", e))
}

/// The text of a [`REPORT_MARK`]: the header, then the files.
fn mark_text(files: impl IntoIterator<Item = String>) -> String {
    std::iter::once(MARK_HEADER.to_string())
        .chain(files)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Add `files` (relative paths) to the [`REPORT_MARK`] of `out`, creating it if `out` has
/// none: a sharded sweep's folder lists its manifest and each shard's files as they are
/// written, so that `merge` and a later run know them for a report's. Call with `out`'s lock
/// held.
pub fn extend_mark(out: &Path, files: &[String]) -> Result<(), ReportError> {
    let mut listed: Vec<String> = mark_list(out).unwrap_or_default().into_iter().collect();
    listed.extend(files.iter().cloned());
    listed.sort();
    listed.dedup();
    super::atomic::write_text(&out.join(REPORT_MARK), &mark_text(listed))
}

/// Copy the files the [`REPORT_MARK`] of `from` lists into `to` (made by the caller), as a
/// report of its own: what a result kept in a folder writes elsewhere (the Python face's
/// `Result.write`). Files are hard-linked where they can be, copied elsewhere; nothing but
/// the listed files is taken (a sweep's folder may hold the user's own). Returns the files
/// written.
pub fn copy_listed(from: &Path, to: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = vec![];
    for f in listed_files(from) {
        // Only paths inside the folder (a list edited to name `../x` is not followed out).
        let inside = Path::new(&f)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(io_err(
                from,
                "cannot copy the report",
                format!("its list names {f}"),
            ));
        }
        let (src, dst) = (from.join(&f), to.join(&f));
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, "cannot create", e))?;
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(|e| io_err(&dst, "cannot copy", e))?;
        }
        written.push(dst);
    }
    Ok(written)
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
        Self::begin_with(out, wait, on_wait, true)
    }

    /// [`Staging::begin`] for a run that keeps what `out` holds, so does not ask whether a
    /// report wrote it: `merge`, which links every entry of the folder into the new one.
    pub fn begin_keeping(
        out: &Path,
        wait: Wait,
        on_wait: impl FnOnce(Option<u32>),
    ) -> Result<Staging, ReportError> {
        Self::begin_with(out, wait, on_wait, false)
    }

    /// [`Staging::begin`] (`check`: `out` checked again once the lock is held, so that the
    /// files it holds then, which the swap may delete, are all a report's) or
    /// [`Staging::begin_keeping`].
    fn begin_with(
        out: &Path,
        wait: Wait,
        on_wait: impl FnOnce(Option<u32>),
        check: bool,
    ) -> Result<Staging, ReportError> {
        check_target(out)?;
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
        // One look at `out` under the lock serves the check (`check`: a file saved since the
        // first check, during another run's wait, is seen here), the files the swap may
        // delete, and the user's files a keeping run carries over.
        let looked = snapshot(out).and_then(|(before, carried)| {
            if check {
                refuse_unlisted(out, carried.iter().cloned().collect())?;
            }
            Ok((before, carried))
        });
        let (before, carried) = match looked {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&lock_path);
                let _ = lock.unlock();
                return Err(remove_created(e));
            }
        };
        Self::begin_locked(out, &parent, &name, lock, created, before, carried)
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
        before: std::collections::HashSet<String>,
        carried: std::collections::HashSet<String>,
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
                if rest.is_some_and(|p| p.parse::<u32>().is_ok()) && is_own_leftover(&e.path()) {
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
            before,
            carried,
        };
        // On an error the drop releases the lock and removes the folders created above.
        std::fs::create_dir(&dir)
            .map_err(|e| io_err(&dir, "cannot create the staging folder", e))?;
        std::fs::write(dir.join(STAGING_MARKER), "")
            .map_err(|e| io_err(&dir, "cannot create the staging folder", e))?;
        Ok(staging)
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files of `out` its mark did not list when the lock was taken: the user's, which a
    /// run keeping `out`'s entries carries over and never lists, nor writes over.
    pub fn carried(&self) -> &std::collections::HashSet<String> {
        &self.carried
    }

    /// The folder the report will become.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Swap the staging folder in as `OUT` (the old report is removed) and release the lock.
    ///
    /// The old folder is removed only if it holds no file it did not hold when the lock was
    /// taken. One saved into it during the run (a note, another run's report in a folder
    /// inside it) is kept: the old folder is renamed `OUT.kept-PID` beside the new report and
    /// the commit fails naming it, the new report in place.
    pub fn commit(mut self) -> Result<PathBuf, ReportError> {
        // The marker stays in the staging folder through the swap, and goes into the old
        // report before it, so that a run killed at any moment leaves only folders the next
        // run knows for its own (the marker inside a report's folder is skipped, as the
        // list is).
        write_mark(&self.dir, &self.carried)?;
        if self.out.is_dir() {
            let _ = std::fs::write(self.out.join(STAGING_MARKER), "");
            let old = if exchange(&self.dir, &self.out) {
                // The old report now sits at the staging path.
                self.dir.clone()
            } else {
                // Rename aside, then in: a reader in between sees no folder, never a mix.
                let (parent, name) = split(&self.out)?;
                let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
                std::fs::rename(&self.out, &aside)
                    .map_err(|e| io_err(&self.out, "cannot move the old report aside", e))?;
                if let Err(e) = std::fs::rename(&self.dir, &self.out) {
                    let _ = std::fs::rename(&aside, &self.out);
                    return Err(io_err(&self.out, "cannot move the new report in", e));
                }
                aside
            };
            let _ = std::fs::remove_file(self.out.join(STAGING_MARKER));
            let added: Vec<String> = files_under(&old)
                .map(|files| {
                    files
                        .into_iter()
                        .filter(|f| !self.before.contains(f))
                        .collect()
                })
                .unwrap_or_else(|| vec![format!("more than {MAX_SCANNED} entries")]);
            if !added.is_empty() {
                // Kept under a visible name no run removes, before the lock goes.
                let _ = std::fs::remove_file(old.join(STAGING_MARKER));
                let kept = self.keep(&old);
                self.done = true;
                self.release();
                return Err(match kept {
                    Ok(kept) => ReportError::ChangedDuringRun {
                        path: self.out.display().to_string(),
                        added,
                        kept: kept.display().to_string(),
                    },
                    Err(e) => e,
                });
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            if self.out.exists() {
                return Err(ReportError::Io {
                    path: self.out.display().to_string(),
                    reason: "exists and is not a folder".into(),
                });
            }
            std::fs::rename(&self.dir, &self.out)
                .map_err(|e| io_err(&self.out, "cannot move the new report in", e))?;
            let _ = std::fs::remove_file(self.out.join(STAGING_MARKER));
        }
        self.done = true;
        self.release();
        Ok(self.out.clone())
    }

    /// Rename the previous folder `old` to the first free `OUT.kept-PID` (`-2`, `-3`, … after
    /// it): a process id repeats (every container's first process is 1).
    fn keep(&self, old: &Path) -> Result<PathBuf, ReportError> {
        let (parent, name) = split(&self.out)?;
        let pid = std::process::id();
        for k in 1..1000 {
            let suffix = if k == 1 {
                String::new()
            } else {
                format!("-{k}")
            };
            let kept = parent.join(format!("{name}.kept-{pid}{suffix}"));
            if std::fs::symlink_metadata(&kept).is_err() && std::fs::rename(old, &kept).is_ok() {
                return Ok(kept);
            }
        }
        Err(io_err(
            old,
            "cannot keep the previous folder, which holds files saved during the run (it stays at this path)",
            "no free name",
        ))
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

/// `out`'s lock alone, held until dropped: for a run that writes into `out` in place while it
/// holds the lock (a sweep's shard recording the sweep's definition or its own files), and so
/// needs neither a staging folder nor a look at what `out` holds.
pub struct FolderLock {
    lock_path: PathBuf,
    lock: File,
}

impl FolderLock {
    /// Take `out`'s lock, waiting if `wait` says so, the way [`Staging::begin`] does (the same
    /// lock file, so the two exclude each other), and record this process's id in it. Creates
    /// `out`'s parent folder if needed.
    pub fn take(out: &Path, wait: Wait) -> Result<FolderLock, ReportError> {
        check_target(out)?;
        let (parent, name) = split(out)?;
        std::fs::create_dir_all(&parent)
            .map_err(|e| io_err(&parent, "cannot create the output folder", e))?;
        let lock_path = parent.join(format!(".{name}.lock"));
        let mut lock = Staging::lock(out, &lock_path, wait, |_| {})?;
        let _ = lock.set_len(0);
        let _ = lock.rewind();
        let _ = write!(lock, "{}", std::process::id());
        let _ = lock.flush();
        Ok(FolderLock { lock_path, lock })
    }
}

impl Drop for FolderLock {
    /// The lock file goes before the lock is released, as [`Staging`] does it: a run waiting
    /// on it then sees the path no longer names the file it locked, and locks a new one.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock_path);
        let _ = self.lock.unlock();
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

    /// The lock alone excludes a report's run into the same folder while held, writes no
    /// staging folder, and leaves nothing beside the folder once dropped.
    #[test]
    fn a_folder_lock_excludes_a_report_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let lock = FolderLock::take(&out, Wait::No).unwrap();
        assert_eq!(files(root.path()), [".r.lock"]);
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(matches!(e, ReportError::Busy { .. }), "{e}");
        drop(lock);
        assert!(files(root.path()).is_empty());
        Staging::begin(&out, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(files(root.path()), ["r"]);
    }

    /// A folder holding a file no report wrote (the user's notes, deep down too) is refused
    /// before anything is touched, naming the file; so is one of a report's kinds without the
    /// list; one holding no file is replaced.
    #[test]
    fn a_folder_holding_files_no_report_writes_is_not_replaced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("mine");
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::write(out.join("summary.md"), "# old").unwrap();
        std::fs::write(out.join("sub/precious.txt"), "keep").unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(
            matches!(&e, ReportError::NotAReportFolder { foreign, more: 0, .. } if foreign == &["sub/precious.txt", "summary.md"]),
            "{e}"
        );
        assert!(
            e.to_string().contains("choose a new or empty folder"),
            "{e}"
        );
        assert_eq!(files(&out), ["sub", "summary.md"]);
        assert_eq!(files(root.path()), ["mine"]);
        // Without the mark, a summary alone is no proof of a report.
        std::fs::remove_file(out.join("sub/precious.txt")).unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("(summary.md)"), "{e}");
        // Empty folders hold nothing to lose.
        std::fs::remove_file(out.join("summary.md")).unwrap();
        Staging::begin(&out, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
        assert!(files(&out).is_empty());
    }

    /// Hidden files are the user's too: a folder of dotfiles alone (a home folder) and a
    /// report's folder holding a `.git` are refused, naming them, and kept byte for byte; what
    /// runs leave (a writability probe, a half-written file, a lock) is not.
    #[test]
    fn hidden_files_are_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".bashrc"), "x").unwrap();
        std::fs::write(home.join(".ssh/id"), "key").unwrap();
        let e = Staging::begin(&home, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("(.bashrc, .ssh/id)"), "{e}");
        assert_eq!(
            std::fs::read_to_string(home.join(".ssh/id")).unwrap(),
            "key"
        );
        let out = root.path().join("r");
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("summary.md"), "# r").unwrap();
        s.commit().unwrap();
        std::fs::create_dir(out.join(".git")).unwrap();
        std::fs::write(out.join(".git/HEAD"), "ref").unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains(".git/HEAD"), "{e}");
        // The system's own `.DS_Store` goes with the folder, and so do the runs' leftovers.
        std::fs::remove_dir_all(out.join(".git")).unwrap();
        std::fs::write(out.join(".DS_Store"), "x").unwrap();
        std::fs::write(out.join(".excitable-probe-12"), "").unwrap();
        std::fs::write(out.join(".fi.parquet.partial-12.parquet"), "half").unwrap();
        std::fs::write(out.join(".shard=1.lock"), "12").unwrap();
        // A user's files of like names are theirs.
        for mine in [".excitable-probe-x", ".notes.lock", ".myjob.lock"] {
            std::fs::write(out.join(mine), "mine").unwrap();
            let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
            assert!(e.to_string().contains(mine), "{e}");
            std::fs::remove_file(out.join(mine)).unwrap();
        }
        Staging::begin(&out, Wait::No, |_| {})
            .unwrap()
            .commit()
            .unwrap();
    }

    /// A file saved into the folder while the run writes its new report is not deleted at
    /// the swap: the previous folder is kept beside the new report as `NAME.kept-PID`, and
    /// the commit says so. So is a folder that appeared during the run.
    #[test]
    fn files_saved_during_the_run_are_kept() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("a.md"), "1").unwrap();
        s.commit().unwrap();
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("a.md"), "2").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let e = s.commit().unwrap_err();
        let kept = root.path().join(format!("r.kept-{}", std::process::id()));
        assert!(
            matches!(&e, ReportError::ChangedDuringRun { added, .. } if added == &["notes.txt"]),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(kept.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(std::fs::read_to_string(out.join("a.md")).unwrap(), "2");
        // A folder that did not exist when the run began, made meanwhile (another run's
        // report inside it).
        let fresh = root.path().join("fresh");
        let s = Staging::begin(&fresh, Wait::No, |_| {}).unwrap();
        std::fs::create_dir_all(fresh.join("b")).unwrap();
        std::fs::write(fresh.join("b/summary.md"), "# b").unwrap();
        assert!(s.commit().is_err());
        let kept = root
            .path()
            .join(format!("fresh.kept-{}", std::process::id()));
        assert!(kept.join("b/summary.md").is_file());
        // No lock or staging folder is left beside them.
        let pid = std::process::id();
        assert_eq!(
            files(root.path()),
            [
                "fresh",
                &format!("fresh.kept-{pid}"),
                "r",
                &format!("r.kept-{pid}")
            ]
        );
        // The name taken (the same process id again: every container's first process is
        // 1), the next free one is used, and nothing is lost.
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        std::fs::write(out.join("later.txt"), "mine too").unwrap();
        let e = s.commit().unwrap_err();
        assert!(e.to_string().contains(&format!("r.kept-{pid}-2")), "{e}");
        let again = root.path().join(format!("r.kept-{pid}-2"));
        assert_eq!(
            std::fs::read_to_string(again.join("later.txt")).unwrap(),
            "mine too"
        );
    }

    /// A symbolic link, a file, or a name too long for the lock's is refused before any
    /// staging, and left as it was.
    #[cfg(unix)]
    #[test]
    fn links_files_and_long_names_are_refused_first() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("t");
        std::fs::create_dir(&target).unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let dangling = root.path().join("dangling");
        std::os::unix::fs::symlink(root.path().join("none"), &dangling).unwrap();
        let file = root.path().join("file");
        std::fs::write(&file, "x").unwrap();
        for (out, why) in [
            (&link, "symbolic link"),
            (&dangling, "symbolic link"),
            (&file, "not a folder"),
        ] {
            let e = Staging::begin_keeping(out, Wait::No, |_| {}).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        let long = root.path().join("a".repeat(MAX_NAME_BYTES + 1));
        let e = Staging::begin(&long, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("at most 200"), "{e}");
        assert_eq!(files(root.path()), ["dangling", "file", "link", "t"]);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    /// A run that keeps the folder's entries (`merge`) lists in the new mark what the old
    /// mark listed and what it wrote, never the user's files it carried over, so a later
    /// run refuses the folder rather than deleting them.
    #[test]
    fn files_carried_over_stay_unlisted() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("sweep");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("sweep.toml"), "x").unwrap();
        extend_mark(&out, &["sweep.toml".into()]).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let s = Staging::begin_keeping(&out, Wait::No, |_| {}).unwrap();
        for f in ["sweep.toml", "notes.txt"] {
            std::fs::hard_link(out.join(f), s.dir().join(f)).unwrap();
        }
        std::fs::write(s.dir().join("grid.parquet"), "g").unwrap();
        s.commit().unwrap();
        assert_eq!(listed_files(&out), ["grid.parquet", "sweep.toml"]);
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("(notes.txt)"), "{e}");
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
        // A folder without the mark is refused even when it looks like a report throughout
        // (a project's summary, model, figure and table had been deleted as one).
        let old = root.path().join("old");
        std::fs::create_dir_all(old.join("fi")).unwrap();
        std::fs::write(old.join("summary.md"), "# old").unwrap();
        std::fs::write(old.join("fi/fi.parquet"), "x").unwrap();
        let e = Staging::begin(&old, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains("(fi/fi.parquet, summary.md)"), "{e}");
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
        // A staging folder of a dead process (pid far above any live one) is removed; a
        // user's folder of such a name, without the staging marker, is not.
        let stale = root.path().join(".r.staging-99999999");
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(STAGING_MARKER), "").unwrap();
        // A backup copy of a report, its mark and all, is the user's too.
        let report = root.path().join("report");
        let s = Staging::begin(&report, Wait::No, |_| {}).unwrap();
        std::fs::write(s.dir().join("summary.md"), "# r").unwrap();
        s.commit().unwrap();
        let backup = root.path().join(".r.old-1");
        std::fs::rename(&report, &backup).unwrap();
        std::fs::write(backup.join("mine.txt"), "notes").unwrap();
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        assert!(!stale.exists());
        drop(s);
        assert_eq!(files(root.path()), [".r.old-1"]);
        // Inside a report's folder too: such a copy is not taken for a leftover and deleted.
        let s = Staging::begin(&out, Wait::No, |_| {}).unwrap();
        s.commit().unwrap();
        std::fs::rename(&backup, out.join(".bak.old-2")).unwrap();
        let e = Staging::begin(&out, Wait::No, |_| {}).unwrap_err();
        assert!(e.to_string().contains(".bak.old-2/mine.txt"), "{e}");
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
