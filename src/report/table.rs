//! Tables: typed columns with unit-bearing names, written as Parquet through polars.

use super::atomic::write_atomic;
use crate::error::ReportError;
use crate::model::Units;
use polars::prelude::*;

/// Page compression of every table written: snappy (pure Rust, fast, read everywhere).
pub(super) const COMPRESSION: ParquetCompression = ParquetCompression::Snappy;
use std::path::{Path, PathBuf};

/// Column data of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// Real numbers (Parquet `DOUBLE`): measurements, in the unit the column name carries.
    F64(Vec<f64>),
    /// Counts and indices (Parquet `UINT32`).
    U32(Vec<u32>),
    /// Flags (Parquet `BOOLEAN`).
    Bool(Vec<bool>),
    /// Labels (Parquet `UTF8`).
    Str(Vec<String>),
    /// Real numbers that are `run` repeated whole `times` times (`t_ms` of `stats`' rates:
    /// every train sampled on one grid). Read back, it is the column of every repetition in
    /// order; it is kept in this shape so that [`super::chunked_table::ChunkedTable`] writes
    /// it as a dictionary of the run without building or scanning its rows.
    F64Cycle {
        /// The repeated values.
        run: std::sync::Arc<[f64]>,
        /// How many times they repeat.
        times: usize,
    },
    /// Counts where each of `values` repeats `each` times in a row (`neuron` of `stats`'
    /// rates: a train's rows). Kept in this shape for the same reason as
    /// [`ColumnData::F64Cycle`].
    U32Runs {
        /// Each run's value, in order.
        values: Vec<u32>,
        /// The length of every run.
        each: usize,
    },
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::F64(v) => v.len(),
            ColumnData::U32(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Str(v) => v.len(),
            ColumnData::F64Cycle { run, times } => run.len() * times,
            ColumnData::U32Runs { values, each } => values.len() * each,
        }
    }

    /// Whether the column is kept in a repeated shape rather than row by row.
    fn is_repeated_shape(&self) -> bool {
        matches!(
            self,
            ColumnData::F64Cycle { .. } | ColumnData::U32Runs { .. }
        )
    }

    /// The polars type of the column's values.
    pub(super) fn dtype(&self) -> DataType {
        match self {
            ColumnData::F64(_) | ColumnData::F64Cycle { .. } => DataType::Float64,
            ColumnData::U32(_) | ColumnData::U32Runs { .. } => DataType::UInt32,
            ColumnData::Bool(_) => DataType::Boolean,
            ColumnData::Str(_) => DataType::String,
        }
    }

    /// The column as polars holds it, its values moved in (no copy); a repeated shape is
    /// written out row by row.
    pub(super) fn into_column(self, name: &str) -> Column {
        let name: PlSmallStr = name.into();
        match self {
            // from_vec takes the buffer as it is; Column::new would copy it.
            ColumnData::F64(v) => Float64Chunked::from_vec(name, v).into_column(),
            ColumnData::U32(v) => UInt32Chunked::from_vec(name, v).into_column(),
            ColumnData::Bool(v) => Column::new(name, v),
            ColumnData::Str(v) => Column::new(name, v),
            ColumnData::F64Cycle { run, times } => {
                let mut v = Vec::with_capacity(run.len() * times);
                for _ in 0..times {
                    v.extend_from_slice(&run);
                }
                Float64Chunked::from_vec(name, v).into_column()
            }
            ColumnData::U32Runs { values, each } => {
                let v = values
                    .iter()
                    .flat_map(|&x| std::iter::repeat_n(x, each))
                    .collect();
                UInt32Chunked::from_vec(name, v).into_column()
            }
        }
    }
}

/// A named table built column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file stem: the table is written as `<name>.parquet`.
    pub name: String,
    /// Columns in order: unit-bearing name and data.
    pub columns: Vec<(String, ColumnData)>,
    /// Parquet key-value metadata (the model, its parameters, the settings that made it).
    pub metadata: Vec<(String, String)>,
}

impl Table {
    /// An empty table named `name`.
    pub fn new(name: &str) -> Self {
        Table {
            name: name.into(),
            columns: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// The same table with `metadata` added to its key-value metadata.
    pub fn with_metadata(mut self, metadata: &[(String, String)]) -> Self {
        self.metadata.extend(metadata.iter().cloned());
        self
    }

    /// The same table with an `f64` column `name` (unit-bearing: `v_mv`, `rate_hz`) appended.
    pub fn f64(mut self, name: &str, data: Vec<f64>) -> Self {
        self.columns.push((name.into(), ColumnData::F64(data)));
        self
    }

    /// The same table with a `u32` column `name` (counts, indices) appended.
    pub fn u32(mut self, name: &str, data: Vec<u32>) -> Self {
        self.columns.push((name.into(), ColumnData::U32(data)));
        self
    }

    /// The same table with an `f64` column `name` that is `run` repeated whole `times` times
    /// ([`ColumnData::F64Cycle`]).
    pub fn f64_cycle(mut self, name: &str, run: std::sync::Arc<[f64]>, times: usize) -> Self {
        self.columns
            .push((name.into(), ColumnData::F64Cycle { run, times }));
        self
    }

    /// The same table with a `u32` column `name` where each of `values` repeats `each` times
    /// in a row ([`ColumnData::U32Runs`]).
    pub fn u32_runs(mut self, name: &str, values: Vec<u32>, each: usize) -> Self {
        self.columns
            .push((name.into(), ColumnData::U32Runs { values, each }));
        self
    }

    /// The same table with a boolean column `name` appended.
    pub fn bool(mut self, name: &str, data: Vec<bool>) -> Self {
        self.columns.push((name.into(), ColumnData::Bool(data)));
        self
    }

    /// The same table with a text column `name` appended.
    pub fn str(mut self, name: &str, data: Vec<String>) -> Self {
        self.columns.push((name.into(), ColumnData::Str(data)));
        self
    }

    /// The same table with its column names in `units`: unchanged for a model with units; for a
    /// model without units (an `.ode` file) every unit suffix is dropped (`v_mv` becomes `v`,
    /// `t_ms` `t`, `i_ua_cm2` `i`, `leading_re_per_ms` `leading_re`), and a rate's `_hz`
    /// becomes `_per_1000t`: rates are per 1000 of the file's time units, which is Hz only when
    /// the file's time is in ms. A name that would collide with another column is kept as it is.
    pub fn in_units(mut self, units: Units) -> Self {
        if units.known() {
            return self;
        }
        let renamed: Vec<String> = self
            .columns
            .iter()
            .map(|(n, _)| unitless_column_name(n))
            .collect();
        for (i, new) in renamed.iter().enumerate() {
            let clash = renamed.iter().filter(|r| *r == new).count() > 1
                || self
                    .columns
                    .iter()
                    .enumerate()
                    .any(|(j, (n, _))| j != i && n == new);
            if !clash {
                self.columns[i].0 = new.clone();
            }
        }
        self
    }

    /// Number of rows (0 for a table without columns).
    pub fn height(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    pub(super) fn to_frame(&self) -> Result<DataFrame, ReportError> {
        self.clone().into_frame()
    }

    /// The table as a polars frame, its columns moved in (no copy of the values).
    pub(super) fn into_frame(self) -> Result<DataFrame, ReportError> {
        let h = self.checked_height()?;
        let cols = self
            .columns
            .into_iter()
            .map(|(n, c)| c.into_column(&n))
            .collect();
        DataFrame::new(h, cols).map_err(|e| ReportError::Table {
            table: self.name.clone(),
            reason: e.to_string(),
        })
    }

    /// The number of rows, once every column is seen to have it.
    pub(super) fn checked_height(&self) -> Result<usize, ReportError> {
        let h = self.height();
        match self.columns.iter().find(|(_, c)| c.len() != h) {
            Some((n, c)) => Err(ReportError::Table {
                table: self.name.clone(),
                reason: format!("column {n} has {} rows, expected {h}", c.len()),
            }),
            None => Ok(h),
        }
    }

    /// The columns' names and polars types, as [`Table::into_frame`]'s frame has them.
    pub(super) fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|(n, c)| Field::new(n.as_str().into(), c.dtype()))
            .collect()
    }

    /// The bytes of `<name>.parquet` in memory, through polars' writer with the settings of
    /// [`Table::write_parquet`]: the Python package hands these to polars. The values, types
    /// and metadata are the file's; a table with a repeated shape is laid out otherwise in
    /// the file (one row group, its shaped columns as dictionaries).
    pub fn to_parquet_bytes(&self) -> Result<Vec<u8>, ReportError> {
        let mut bytes = Vec::new();
        frame_to(&mut bytes, &mut self.to_frame()?, &self.metadata).map_err(|reason| {
            ReportError::Table {
                table: self.name.clone(),
                reason,
            }
        })?;
        Ok(bytes)
    }

    /// Write `DIR/<name>.parquet` atomically (snappy compression); returns the path. A table
    /// holding a column in a repeated shape ([`ColumnData::F64Cycle`], [`ColumnData::U32Runs`])
    /// goes through [`super::chunked_table::ChunkedTable`], which writes those columns from
    /// their shapes (one row group); the values read back are the same either way.
    pub fn write_parquet(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        if self.height() > 0 && self.columns.iter().any(|(_, c)| c.is_repeated_shape()) {
            let mut table = super::chunked_table::ChunkedTable::create(dir, &self.name)
                .with_metadata(&self.metadata);
            table.write(self.clone())?;
            return table.finish().map(|(path, _)| path);
        }
        let path = dir.join(format!("{}.parquet", self.name));
        write_frame(&path, &mut self.to_frame()?, &self.metadata)?;
        Ok(path)
    }
}

/// Write a frame as Parquet (snappy) atomically, with key-value metadata.
fn write_frame(
    path: &Path,
    df: &mut DataFrame,
    metadata: &[(String, String)],
) -> Result<(), ReportError> {
    write_atomic(path, |tmp| -> Result<(), String> {
        // Buffered: polars writes each page header field by field (`chunked_table::Writer`).
        // Polars flushes it after the footer; this flush holds should a later polars not.
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(tmp).map_err(|e| e.to_string())?);
        frame_to(&mut file, df, metadata)?;
        std::io::Write::flush(&mut file).map_err(|e| e.to_string())
    })
}

/// Write a frame as Parquet (snappy), with key-value metadata, to `sink`: the one writer of
/// [`Table::write_parquet`] and [`Table::to_parquet_bytes`].
///
/// A frame whose columns are one chunk each, under the row group size, goes straight to
/// polars' batched writer, which is what `ParquetWriter::finish` does with it after
/// `chunk_df_for_writing`, so the bytes are the same. That step is skipped because it makes
/// an empty copy of every column, and polars fills its shared 8 MiB of zeroes with writes on
/// the first empty column: 1,500-2,000 page faults in every process that writes a small table
/// (docs/speed-log.md, "The spikes file read, and what bounds the rates").
fn frame_to<W: std::io::Write>(
    sink: W,
    df: &mut DataFrame,
    metadata: &[(String, String)],
) -> Result<(), String> {
    let kv = (!metadata.is_empty())
        .then(|| polars::io::parquet::write::KeyValueMetadata::from_static(metadata.to_vec()));
    let writer = ParquetWriter::new(sink)
        .with_compression(COMPRESSION)
        .with_key_value_metadata(kv)
        .with_row_group_size(Some(ROW_GROUP_ROWS));
    // `should_rechunk`: columns of different chunk counts (one chunk and none), which
    // `finish` aligns first and the batched writer cannot take.
    if df.max_n_chunks() <= 1 && !df.should_rechunk() && df.height() < ROW_GROUP_ROWS {
        let mut batched = writer.batched(df.schema()).map_err(|e| e.to_string())?;
        batched.write_batch(df).map_err(|e| e.to_string())?;
        batched.finish().map_err(|e| e.to_string())?;
    } else {
        writer.finish(df).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Rows of a row group: `ParquetWriter::finish` cuts a larger frame into row groups of this
/// many (polars' default, so the bytes are what polars' own default writes).
const ROW_GROUP_ROWS: usize = 512 * 512;

/// Concatenate Parquet files with the same columns into `out` (atomically), rows sorted by
/// the column `sort_by`: merging the partitions of a sharded run.
pub fn concat_parquet(inputs: &[PathBuf], out: &Path, sort_by: &str) -> Result<usize, ReportError> {
    let mut all: Option<DataFrame> = None;
    for path in inputs {
        let df = read_frame(path, None)?;
        match &mut all {
            None => all = Some(df),
            Some(a) => {
                a.vstack_mut(&df).map_err(|e| {
                    read_err(
                        path,
                        format!("columns differ from {}: {e}", inputs[0].display()),
                    )
                })?;
            }
        }
    }
    let Some(all) = all else {
        return Err(ReportError::Io {
            path: out.display().to_string(),
            reason: "nothing to merge".into(),
        });
    };
    let mut df = all
        .sort([sort_by], SortMultipleOptions::default())
        .map_err(|e| ReportError::Io {
            path: out.display().to_string(),
            reason: e.to_string(),
        })?;
    write_frame(out, &mut df, &[])?;
    Ok(df.height())
}

/// The error of a read of `path`.
fn read_err(path: &Path, reason: impl std::fmt::Display) -> ReportError {
    ReportError::Read {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// How many guarded reads ([`guard`]) are under way, in any thread.
static GUARDED_READS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a read of a Parquet file is under way whose panics are turned into errors: a panic
/// hook can stay quiet then (the command line's does; the error says what happened).
pub fn in_guarded_read() -> bool {
    GUARDED_READS.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Install a panic hook that passes every panic to `next` except one inside a guarded read (a
/// malformed Parquet file that makes polars panic, reported as a read error naming the file):
/// the command line's hook (whose `next` prints the panic) and the fuzz targets' (whose `next`
/// aborts, as libFuzzer's does for any panic) are this one.
pub fn quiet_guarded_panics(next: Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync>) {
    std::panic::set_hook(Box::new(move |info| {
        if !in_guarded_read() {
            next(info);
        }
    }));
}

/// Run a polars read of `path`: its error, or a panic inside polars on a malformed file, is
/// returned as a read error naming the file.
fn guard<T>(path: &Path, read: impl FnOnce() -> PolarsResult<T>) -> Result<T, ReportError> {
    guard_read(path, || read().map_err(|e| read_err(path, e)))
}

/// [`guard`] for a read that returns our own error.
fn guard_read<T>(
    path: &Path,
    read: impl FnOnce() -> Result<T, ReportError>,
) -> Result<T, ReportError> {
    use std::sync::atomic::Ordering;
    GUARDED_READS.fetch_add(1, Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    GUARDED_READS.fetch_sub(1, Ordering::SeqCst);
    r.unwrap_or_else(|_| {
        Err(read_err(
            path,
            "not a valid Parquet file (its contents are malformed)",
        ))
    })
}

/// Most rows a Parquet file of `bytes` bytes may claim: 64 per byte (our tables' columns of
/// distinct times take several bytes a row however they are encoded), and at least 1024.
fn max_rows(bytes: usize) -> usize {
    bytes.saturating_mul(64).max(1024)
}

/// Check what a Parquet file claims before polars decodes it: a malformed footer or page
/// header (a negative or huge count of values) would make polars allocate without bound and
/// abort the process, which no error handling can catch. Every row group must hold at most
/// [`max_rows`] rows for the file's size, and every data page at most its row group's rows.
/// Reads the file whole (callers read whole files of at most
/// [`crate::input::MAX_TABLE_BYTES`]).
fn check_pages(path: &Path) -> Result<(), ReportError> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::{get_page_iterator, read_metadata};
    let bytes = std::fs::read(path).map_err(|e| read_err(path, e))?;
    let len = bytes.len();
    let bad = |what: String| read_err(path, format!("not a valid Parquet file ({what})"));
    guard_read(path, || {
        let meta = read_metadata(&mut std::io::Cursor::new(bytes.as_slice()))
            .map_err(|e| bad(e.to_string()))?;
        // One buffer for every column (the page reader hands it back when done).
        let mut bytes = Some(bytes);
        let mut cursor = None;
        let mut total = 0usize;
        for rg in &meta.row_groups {
            let rows = rg.num_rows();
            total = total.saturating_add(rows);
            if total > max_rows(len) {
                return Err(bad(format!(
                    "it claims {total} rows or more in {len} bytes"
                )));
            }
            for col in rg.parquet_columns() {
                let c = match cursor.take() {
                    Some(c) => c,
                    None => std::io::Cursor::new(bytes.take().unwrap_or_default().into()),
                };
                let mut pages =
                    get_page_iterator(col, c, vec![], len).map_err(|e| bad(e.to_string()))?;
                for page in pages.by_ref() {
                    let page = page.map_err(|e| bad(e.to_string()))?;
                    if let CompressedPage::Data(d) = &page
                        && d.num_values() > rows
                    {
                        return Err(bad(format!(
                            "a page claims {} values in a row group of {rows} rows",
                            d.num_values() as i32
                        )));
                    }
                }
                cursor = Some(pages.into_inner().0);
            }
        }
        Ok(())
    })
}

/// Open a Parquet file: a regular file (never a device or a folder) of at most `max_bytes`
/// when given (a file read whole; a trace read in slices has no limit).
fn open_parquet(path: &Path, max_bytes: Option<u64>) -> Result<std::fs::File, ReportError> {
    let meta = std::fs::metadata(path).map_err(|e| read_err(path, e))?;
    if !meta.is_file() {
        return Err(read_err(path, "not a regular file"));
    }
    if let Some(max) = max_bytes
        && meta.len() > max
    {
        return Err(read_err(
            path,
            format!("{} bytes, more than the {max} read whole", meta.len()),
        ));
    }
    std::fs::File::open(path).map_err(|e| read_err(path, e))
}

/// A whole Parquet file (at most [`crate::input::MAX_TABLE_BYTES`]), or the named columns
/// of it.
fn read_frame(path: &Path, columns: Option<Vec<String>>) -> Result<DataFrame, ReportError> {
    let file = open_parquet(path, Some(crate::input::MAX_TABLE_BYTES))?;
    check_pages(path)?;
    guard(path, || {
        ParquetReader::new(file).with_columns(columns).finish()
    })
}

/// Read named f64 columns of a Parquet file (integer columns are converted).
pub fn read_f64_columns(path: &Path, names: &[&str]) -> Result<Vec<Vec<f64>>, ReportError> {
    let err = |reason: String| read_err(path, reason);
    let df = read_frame(path, None)?;
    names
        .iter()
        .map(|n| {
            let col = df.column(n).map_err(|_| {
                let have: Vec<String> = df
                    .get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                err(format!("no column '{n}' (columns: {})", have.join(", ")))
            })?;
            let col = col
                .cast(&DataType::Float64)
                .map_err(|e| err(e.to_string()))?;
            let ca = col.f64().map_err(|e| err(e.to_string()))?;
            Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        })
        .collect()
}

/// Read one column of a Parquet file as text (any type; nulls are empty strings).
pub fn read_str_column(path: &Path, name: &str) -> Result<Vec<String>, ReportError> {
    let err = |reason: String| read_err(path, reason);
    let df = read_frame(path, Some(vec![name.to_string()]))?;
    let col = df
        .column(name)
        .map_err(|e| err(e.to_string()))?
        .cast(&DataType::String)
        .map_err(|e| err(e.to_string()))?;
    let ca = col.str().map_err(|e| err(e.to_string()))?;
    Ok((0..ca.len())
        .map(|i| ca.get(i).unwrap_or("").to_string())
        .collect())
}

/// Stream named columns of a Parquet file (as f64) in slices of `rows` rows, so a trace of any
/// length is read with flat memory; `each` receives one slice's columns at a time.
pub fn for_each_slice(
    path: &Path,
    names: &[&str],
    rows: usize,
    mut each: impl FnMut(&[Vec<f64>]) -> Result<(), ReportError>,
) -> Result<usize, ReportError> {
    let err = |reason: String| read_err(path, reason);
    let open = || open_parquet(path, None);
    let file = open()?;
    if file
        .metadata()
        .is_ok_and(|m| m.len() <= crate::input::MAX_TABLE_BYTES)
    {
        check_pages(path)?;
    }
    let total = guard(path, || ParquetReader::new(file).num_rows())?;
    let have = column_names(path)?;
    if let Some(n) = names.iter().find(|n| !have.iter().any(|h| h == *n)) {
        return Err(err(format!(
            "no column '{n}' (columns: {})",
            have.join(", ")
        )));
    }
    let mut offset = 0;
    while offset < total {
        let file = open()?;
        let df = guard(path, || {
            ParquetReader::new(file)
                .with_columns(Some(names.iter().map(|s| s.to_string()).collect()))
                .with_slice(Some((offset, rows)))
                .finish()
        })?;
        let cols = names
            .iter()
            .map(|n| {
                let c = df
                    .column(n)
                    .map_err(|e| err(e.to_string()))?
                    .cast(&DataType::Float64)
                    .map_err(|e| err(e.to_string()))?;
                let ca = c.f64().map_err(|e| err(e.to_string()))?.clone();
                Ok((0..ca.len())
                    .map(|i| ca.get(i).unwrap_or(f64::NAN))
                    .collect())
            })
            .collect::<Result<Vec<Vec<f64>>, ReportError>>()?;
        offset += df.height().max(1);
        each(&cols)?;
    }
    Ok(total)
}

/// The number of rows of a Parquet file (from its footer: no data is read).
pub fn row_count(path: &Path) -> Result<usize, ReportError> {
    let file = open_parquet(path, None)?;
    guard(path, || ParquetReader::new(file).num_rows())
}

/// The number of row groups of a Parquet file (from its footer).
pub fn row_group_count(path: &Path) -> Result<usize, ReportError> {
    let file = open_parquet(path, None)?;
    let meta = guard(path, || ParquetReader::new(file).get_metadata().cloned())?;
    Ok(meta.row_groups.len())
}

/// Column names of a Parquet file.
pub fn column_names(path: &Path) -> Result<Vec<String>, ReportError> {
    let file = open_parquet(path, None)?;
    // The schema from the footer only: never the data (a trace may be larger than memory).
    let schema = guard(path, || ParquetReader::new(file).schema())?;
    Ok(schema.iter_names().map(|s| s.to_string()).collect())
}

/// The key-value metadata of a Parquet file (from the footer only), in file order.
pub fn read_metadata(path: &Path) -> Result<Vec<(String, String)>, ReportError> {
    let file = open_parquet(path, None)?;
    let meta = guard(path, || ParquetReader::new(file).get_metadata().cloned())?;
    Ok(meta
        .key_value_metadata()
        .iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect())
}

/// A column's name as a table of a model with `units` writes it (one column of
/// [`Table::in_units`], for a summary that names it).
pub fn column_in_units(name: &str, units: Units) -> String {
    if units.known() {
        name.to_string()
    } else {
        unitless_column_name(name)
    }
}

/// A column name without its neuron unit: see [`Table::in_units`].
pub fn unitless_column_name(name: &str) -> String {
    for suffix in ["_ua_cm2", "_per_ms", "_mv", "_ms"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    match name.strip_suffix("_hz") {
        Some(stem) => format!("{stem}_per_1000t"),
        None => name.to_string(),
    }
}

/// `name` (`t_ms`) if the file has it, else its unitless form (`t`) if the file has that (a
/// table of a model without units), else `name` (for the reader's "no column" message).
pub fn unit_or_bare<'a>(columns: &[String], name: &'a str) -> &'a str {
    let bare = name.split_once('_').map_or(name, |(stem, _)| stem);
    if columns.iter().all(|c| c != name) && columns.iter().any(|c| c == bare) {
        bare
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct path of [`frame_to`] writes the bytes polars' `ParquetWriter::finish`
    /// writes, with and without metadata, for an empty frame and a frame of a few rows.
    #[test]
    fn small_frames_are_written_as_polars_writes_them() {
        let polars_bytes = |df: &mut DataFrame, kv: &[(String, String)]| {
            let mut out = vec![];
            let kv = (!kv.is_empty())
                .then(|| polars::io::parquet::write::KeyValueMetadata::from_static(kv.to_vec()));
            ParquetWriter::new(&mut out)
                .with_compression(COMPRESSION)
                .with_key_value_metadata(kv)
                .finish(df)
                .unwrap();
            out
        };
        let kv = [("excitable.settings".to_string(), "dt = 0.01".to_string())];
        for rows in [0, 1, 1000] {
            let table = Table::new("x")
                .f64("t_ms", (0..rows).map(|k| k as f64 * 0.5).collect())
                .u32("neuron", (0..rows).map(|k| k as u32 % 7).collect())
                .bool("stable", (0..rows).map(|k| k % 3 == 0).collect())
                .str(
                    "kind",
                    (0..rows).map(|k| ["hopf", "fold"][k % 2].into()).collect(),
                );
            for kv in [&kv[..], &[]] {
                let mut df = table.to_frame().unwrap();
                assert_eq!(df.max_n_chunks(), 1);
                let mut ours = vec![];
                frame_to(&mut ours, &mut df.clone(), kv).unwrap();
                assert_eq!(ours, polars_bytes(&mut df, kv), "{rows} rows");
            }
        }
    }

    /// A table's file is written through a buffer that is flushed before the rename: a file
    /// that cannot take the bytes (`/dev/full` behind the temporary's name) fails the write and
    /// names the table, instead of the error being lost when the buffer is dropped.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_fails_the_write() {
        let dir = crate::report::atomic::folder_with_a_full_disk_for("x.parquet");
        let t = Table::new("x").f64("t_ms", vec![0.0, 0.5]);
        let err = t.write_parquet(dir.path()).unwrap_err();
        crate::report::atomic::assert_full_disk_reported(err, dir.path(), "x.parquet");
    }

    #[test]
    fn round_trip_and_ragged_columns_refused() {
        let dir = tempfile::tempdir().unwrap();
        let t = Table::new("x")
            .f64("t_ms", vec![0.0, 0.5])
            .u32("neuron", vec![0, 1]);
        let p = t.write_parquet(dir.path()).unwrap();
        let cols = read_f64_columns(&p, &["t_ms", "neuron"]).unwrap();
        assert_eq!(cols, vec![vec![0.0, 0.5], vec![0.0, 1.0]]);
        assert!(
            read_f64_columns(&p, &["v_mv"])
                .unwrap_err()
                .to_string()
                .contains("t_ms, neuron")
        );
        let kv = ("k".to_string(), "v".to_string());
        assert!(!read_metadata(&p).unwrap().contains(&kv));
        let p = t
            .clone()
            .with_metadata(std::slice::from_ref(&kv))
            .write_parquet(dir.path())
            .unwrap();
        assert!(read_metadata(&p).unwrap().contains(&kv));
        let bad = Table::new("y").f64("a", vec![1.0]).f64("b", vec![]);
        assert!(bad.write_parquet(dir.path()).is_err());
        assert!(!dir.path().join("y.parquet").exists());
    }

    /// A table with columns in repeated shapes reads back as the same table written row by
    /// row, for runs the fast pages take (a multiple of 8 samples, runs of 64 rows or more)
    /// and the ones they leave to the general encoder; the shapes' statistics, metadata and
    /// schema are the ones of the rows.
    #[test]
    fn repeated_shapes_read_back_as_their_rows() {
        use polars::prelude::{ParquetReader, SerReader};
        let dir = tempfile::tempdir().unwrap();
        // Per column chunk: its physical type and statistics (with the column's types).
        let statistics = |p: &Path| -> Vec<String> {
            let mut file = std::fs::File::open(p).unwrap();
            let meta = polars_parquet::parquet::read::read_metadata(&mut file).unwrap();
            assert_eq!(meta.row_groups.len(), 1, "one row group each");
            let group = &meta.row_groups[0];
            ["t_ms", "neuron", "rate_hz"]
                .iter()
                .flat_map(|name| group.columns_under_root_iter(name).unwrap())
                .map(|c| {
                    let s = c.statistics(&meta.footer_buf).map(Result::unwrap);
                    format!("{:?} {s:?}", c.physical_type())
                })
                .collect()
        };
        // The last grid's keys take more than 16 KB a repetition: its pages are uncompressed.
        let cases = [
            (16, 40, 64),
            (5, 9, 5),
            (642, 3, 642),
            (1, 70, 1),
            (10_000, 3, 100),
        ];
        for (run, times, each) in cases {
            let grid: Vec<f64> = (0..run).map(|k| 0.25 * k as f64 - 1.0).collect();
            let rows = run * times;
            let ids: Vec<u32> = (0..(rows / each) as u32).map(|k| 7 * k).collect();
            let reals: Vec<f64> = (0..rows).map(|k| (k as f64).sqrt()).collect();
            let shaped = Table::new("shaped")
                .with_metadata(&[("k".into(), "v".into())])
                .f64_cycle("t_ms", grid.as_slice().into(), times)
                .u32_runs("neuron", ids.clone(), each)
                .f64("rate_hz", reals.clone());
            let plain = Table::new("plain")
                .f64("t_ms", grid.iter().copied().cycle().take(rows).collect())
                .u32(
                    "neuron",
                    ids.iter()
                        .flat_map(|&n| std::iter::repeat_n(n, each))
                        .collect(),
                )
                .f64("rate_hz", reals);
            assert_eq!(
                shaped.clone().into_frame().unwrap(),
                plain.to_frame().unwrap()
            );
            let a = shaped.write_parquet(dir.path()).unwrap();
            let b = plain.write_parquet(dir.path()).unwrap();
            let names = ["t_ms", "neuron", "rate_hz"];
            let (got, want) = (read_f64_columns(&a, &names), read_f64_columns(&b, &names));
            assert_eq!(got.unwrap(), want.unwrap(), "run {run} x {times}");
            let read = |p: &Path| {
                ParquetReader::new(std::fs::File::open(p).unwrap())
                    .finish()
                    .unwrap()
            };
            let (fa, fb) = (read(&a), read(&b));
            assert_eq!(fa, fb, "run {run} x {times}: values");
            assert_eq!(
                fa.schema(),
                fb.schema(),
                "run {run} x {times}: names and types"
            );
            assert_eq!(statistics(&a), statistics(&b), "run {run} x {times}");
            assert!(
                read_metadata(&a)
                    .unwrap()
                    .contains(&("k".into(), "v".into()))
            );
        }
        // No rows: written row by row (the chunked writer refuses an empty table).
        let empty = Table::new("empty").f64_cycle("t_ms", vec![1.0].into(), 0);
        let p = empty.write_parquet(dir.path()).unwrap();
        assert_eq!(
            read_f64_columns(&p, &["t_ms"]).unwrap(),
            vec![Vec::<f64>::new()]
        );
        // Shapes and rows of different lengths are refused, and no file is left.
        let ragged = Table::new("ragged")
            .f64_cycle("t_ms", vec![1.0, 2.0].into(), 3)
            .f64("rate_hz", vec![0.0; 5]);
        assert!(ragged.write_parquet(dir.path()).is_err());
        assert!(!dir.path().join("ragged.parquet").exists());
    }

    #[test]
    fn columns_of_a_model_without_units_carry_no_units() {
        use crate::model::Units;
        let t = Table::new("x")
            .f64("i_ua_cm2", vec![1.0])
            .f64("v_mv", vec![2.0])
            .f64("leading_re_per_ms", vec![3.0])
            .f64("rate_hz", vec![4.0])
            .f64("v", vec![5.0])
            .u32("neuron", vec![0]);
        let names = |t: &Table| t.columns.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&t.clone().in_units(Units::NEURON)), names(&t));
        assert_eq!(
            names(&t.in_units(Units::FILE)),
            ["i", "v_mv", "leading_re", "rate_per_1000t", "v", "neuron"]
        );
    }
}
