//! Reading input files with stated limits, so that no input (a device such as `/dev/zero`, a
//! file larger than memory, a line without an end) makes a run hang or exhaust memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Largest model file (TOML or `.ode`) read: 16 MiB.
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// Largest text table of numbers read (a stimulus CSV, a spikes CSV): 1 GiB.
pub const MAX_TABLE_BYTES: u64 = 1 << 30;

/// Longest line of a text input: 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Open `path` for reading if it is a regular file of at most `max_bytes`; the error says
/// which limit it passes (in words, for the caller's error type).
pub fn open(path: &Path, max_bytes: u64) -> Result<impl Read + use<>, String> {
    opened(path, max_bytes).map(|(file, _)| file)
}

/// [`open`]'s reader and the file's length in bytes.
fn opened(path: &Path, max_bytes: u64) -> Result<(std::io::Take<File>, u64), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("cannot read: not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "cannot read: {} bytes, more than the {} allowed",
            meta.len(),
            max_bytes
        ));
    }
    let file = File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    // A file that grows while it is read still stops at the limit.
    Ok((file.take(max_bytes), meta.len()))
}

/// The bytes of `path` (a regular file of at most `max_bytes`, as [`open`] checks), read into
/// one buffer of the file's length: through [`open`]'s limited reader, which gives no size
/// hint, the buffer grew by doubling, each step a copy into fresh pages (a sixth of the time
/// `stats` took to read a 9 MB spikes file).
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let (mut reader, len) = opened(path, max_bytes)?;
    // One byte more, so that reading to the end needs no growth to see the end.
    let mut bytes = Vec::with_capacity(usize::try_from(len).map_or(0, |n| n.saturating_add(1)));
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

/// The whole text of `path` (a regular file of at most `max_bytes`, UTF-8, no line longer
/// than [`MAX_LINE_BYTES`]).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    let mut text = String::new();
    open(path, max_bytes)?
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    if let Some((k, _)) = text
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.len() > MAX_LINE_BYTES)
    {
        return Err(format!(
            "line {} is longer than {MAX_LINE_BYTES} bytes",
            k + 1
        ));
    }
    Ok(text)
}

/// Where the column `name` is among a text table's header `names` (each trimmed), if
/// anywhere. A name that appears twice is refused: which of the two a reader took would be a
/// guess (the spikes and stimulus readers had taken one of them without a word).
pub fn column(names: &[impl AsRef<str>], name: &str) -> Result<Option<usize>, String> {
    let mut at = (names.iter().enumerate())
        .filter(|(_, n)| n.as_ref().trim() == name)
        .map(|(k, _)| k);
    let first = at.next();
    if let (Some(a), Some(b)) = (first, at.next()) {
        return Err(format!(
            "column '{name}' appears twice in the header (columns {} and {}): rename one",
            a + 1,
            b + 1
        ));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_found_once_and_refused_twice() {
        let names = ["neuron", " t_ms ", "x", "t_ms"];
        assert_eq!(column(&names, "neuron"), Ok(Some(0)));
        assert_eq!(column(&names, "y"), Ok(None));
        assert_eq!(
            column(&names, "t_ms"),
            Err("column 't_ms' appears twice in the header (columns 2 and 4): rename one".into())
        );
    }

    #[test]
    fn devices_large_files_and_long_lines_are_refused() {
        assert!(
            read_text(Path::new("/dev/zero"), 100)
                .unwrap_err()
                .contains("not a regular file")
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "x".repeat(200)).unwrap();
        assert!(
            read_text(&p, 100)
                .unwrap_err()
                .contains("more than the 100 allowed")
        );
        assert_eq!(read_text(&p, 1000).unwrap().len(), 200);
        std::fs::write(&p, "y".repeat(MAX_LINE_BYTES + 1)).unwrap();
        assert!(
            read_text(&p, u64::MAX)
                .unwrap_err()
                .contains("line 1 is longer")
        );
        assert!(
            read_text(&dir.path().join("none"), 10)
                .unwrap_err()
                .contains("cannot read")
        );
    }
}
