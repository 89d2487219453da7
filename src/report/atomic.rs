//! Atomic file writes: write beside the target under a temporary name, then rename.
//!
//! A failed or interrupted run never leaves a half-written file under the final name and never
//! clobbers a good file from an earlier run.

use crate::error::ReportError;
use std::path::{Path, PathBuf};

/// The temporary sibling used while `path` is being written (same extension, so encoders that
/// choose their format by extension still work).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("tmp");
    path.with_file_name(format!(".{name}.partial-{}.{ext}", std::process::id()))
}

/// Run `write(tmp)` then rename `tmp` to `path`; on any error the temporary file is removed.
pub fn write_atomic<E: std::fmt::Display>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), ReportError> {
    let tmp = temp_path(path);
    let io = |reason: String| ReportError::Io {
        path: path.display().to_string(),
        reason,
    };
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e.to_string()));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e.to_string())
    })
}

/// Write text atomically.
pub fn write_text(path: &Path, text: &str) -> Result<(), ReportError> {
    write_atomic(path, |tmp| std::fs::write(tmp, text))
}

/// Create the output folder (and parents) or say why not.
pub fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::Io {
        path: dir.display().to_string(),
        reason: format!("cannot create the output folder: {e}"),
    })?;
    // Probe writability now, before any long computation is wasted.
    let probe = dir.join(format!(".excitable-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| ReportError::Io {
        path: dir.display().to_string(),
        reason: format!("the output folder is not writable: {e}"),
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// A fresh folder in which the file `name` cannot be written: its temporary name links to
/// `/dev/full`, the device on which every write fails for lack of space, so that a test sees
/// how a writer reports a full disk. Returns the folder (kept while the guard lives).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn folder_with_a_full_disk_for(name: &str) -> tempfile::TempDir {
    // A missing /dev/full would leave the link dangling, and the write would create a file
    // there.
    use std::os::unix::fs::FileTypeExt;
    let full = std::fs::metadata("/dev/full").expect("/dev/full, the device that is always full");
    assert!(
        full.file_type().is_char_device(),
        "/dev/full is not a device"
    );
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/full", temp_path(&dir.path().join(name))).unwrap();
    dir
}

/// What a write in [`folder_with_a_full_disk_for`] must end in: an error that names the
/// file and says the disk is full, and nothing left in `dir` (the link removed with the
/// temporary, no file under the final name).
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn assert_full_disk_reported(err: ReportError, dir: &Path, file: &str) {
    let err = err.to_string();
    assert!(err.contains(file) && err.contains("No space"), "{err}");
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_the_old_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_text(&p, "good").unwrap();
        let r = write_atomic(&p, |tmp| {
            std::fs::write(tmp, "half")?;
            Err::<(), _>(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
