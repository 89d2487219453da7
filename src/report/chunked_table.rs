//! A Parquet table written row group by row group as its rows are produced (`stats`' rates,
//! `windows`' rows), so a table larger than memory is written with flat memory.

use super::column_pages::{column_pages, cycle_pages, runs_pages};
use super::table::{COMPRESSION, ColumnData, Table};
use crate::error::ReportError;
use polars::prelude::*;
use polars_parquet::write::CompressedPage;
use std::path::{Path, PathBuf};

/// A Parquet table written chunk by chunk (one row group each) as the rows are produced, so
/// a table larger than memory is written with flat memory. Atomic like
/// [`Table::write_parquet`]: rows go to a temporary sibling that only [`ChunkedTable::finish`]
/// renames; dropped unfinished (an error on the way), it removes the temporary file.
pub struct ChunkedTable {
    path: PathBuf,
    tmp: PathBuf,
    /// The thread writing encoded row groups to the file while the next ones are encoded.
    sink: Option<Sink>,
    /// Why the writer's thread stopped, once it has: every later call answers with it (the
    /// rows it did not write are lost, so the table cannot be finished).
    failed: Option<String>,
    /// The first chunk's schema: every later chunk must match it.
    schema: Option<SchemaRef>,
    rows: usize,
    /// Key-value metadata of the file ([`ChunkedTable::with_metadata`]).
    metadata: Vec<(String, String)>,
    /// Per column, whether the first row group got a dictionary; see [`Dictionaries`].
    dictionaries: Option<Dictionaries>,
}

/// Per column, whether its first row group was written with a dictionary. Polars estimates a
/// column's cardinality before every dictionary attempt (a tenth of `stats`' time on its rate
/// rows); a column the first row group wrote plain (many distinct values: rates, times) is
/// written plain from then on without that estimate. The values written are the same.
type Dictionaries = Vec<bool>;

/// Encoded row groups: per row group, per column, its pages.
type RowGroups = Vec<Vec<Vec<CompressedPage>>>;

/// The file behind a buffer: polars' writer encodes each page header field by field straight
/// into its sink (15,941 `write` calls for `stats`' 127 MB `rate.parquet`, against 31 for the
/// pages' data); the buffer gathers them, and larger pages pass straight through. Polars
/// flushes its sink after the footer, so an error on the last bytes reaches
/// [`ChunkedTable::finish`] (`a_full_disk_fails_finish`).
type Writer = polars::io::parquet::write::BatchedWriter<std::io::BufWriter<std::fs::File>>;

/// A thread that owns the file's writer and writes the row groups it is sent, in order, so
/// the copy into the page cache overlaps the encoding of the next row groups instead of
/// following it. At most one batch waits in the channel. (Encoding on the pool while the
/// caller computes the next rows was tried: more rows in flight cost more in page faults than
/// the overlap saved, 0.23-0.26 s against 0.19-0.23 s for `stats`' benchmark.)
struct Sink {
    groups: std::sync::mpsc::SyncSender<RowGroups>,
    thread: std::thread::JoinHandle<Result<Writer, String>>,
}

impl Sink {
    fn start(mut writer: Writer) -> Sink {
        let (groups, received) = std::sync::mpsc::sync_channel::<RowGroups>(1);
        let thread = std::thread::spawn(move || {
            for batch in received {
                for group in batch {
                    // u64::MAX: the row count is read from the pages.
                    writer
                        .write_row_group(u64::MAX, &group)
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(writer)
        });
        Sink { groups, thread }
    }

    /// Stop taking row groups and wait for the written ones: the writer, or the first error.
    fn close(self) -> Result<Writer, String> {
        drop(self.groups);
        self.thread
            .join()
            .unwrap_or_else(|_| Err("the Parquet writer's thread panicked".into()))
    }
}

impl ChunkedTable {
    /// Rows will go to `DIR/<name>.parquet`.
    pub fn create(dir: &Path, name: &str) -> ChunkedTable {
        let path = dir.join(format!("{name}.parquet"));
        ChunkedTable {
            tmp: super::atomic::temp_path(&path),
            path,
            sink: None,
            failed: None,
            schema: None,
            rows: 0,
            metadata: vec![],
            dictionaries: None,
        }
    }

    /// Attach key-value metadata to the file, as [`Table::with_metadata`] does.
    pub fn with_metadata(mut self, metadata: &[(String, String)]) -> ChunkedTable {
        self.metadata = metadata.to_vec();
        self
    }

    fn err(&self, reason: String) -> ReportError {
        ReportError::Io {
            path: self.path.display().to_string(),
            reason,
        }
    }

    /// Append the rows of `chunk` (every chunk has the first chunk's columns).
    pub fn write(&mut self, chunk: Table) -> Result<(), ReportError> {
        self.write_many(vec![chunk])
    }

    /// Append `chunks` in order, one row group each, encoded and compressed on all cores at
    /// once: polars' own writer compresses a row group's pages one after another while it
    /// writes them, which made `stats` run on one core. The row groups are then written on
    /// the writer's thread: an error there is returned by the next call, or by
    /// [`ChunkedTable::finish`].
    pub fn write_many(&mut self, chunks: Vec<Table>) -> Result<(), ReportError> {
        if let Some(reason) = &self.failed {
            return Err(self.err(reason.clone()));
        }
        let mut rows = 0;
        for chunk in &chunks {
            rows += chunk.checked_height()?;
            let schema = chunk.schema();
            if schema.len() != chunk.columns.len() {
                return Err(self.err(format!(
                    "a column name appears twice in {:?}",
                    chunk.columns.iter().map(|(n, _)| n).collect::<Vec<_>>()
                )));
            }
            match &self.schema {
                Some(s) if **s != schema => {
                    return Err(self.err(format!(
                        "chunk columns {:?} differ from the first chunk's {:?}",
                        schema.iter_names().collect::<Vec<_>>(),
                        s.iter_names().collect::<Vec<_>>()
                    )));
                }
                Some(_) => {}
                None => self.schema = Some(Arc::new(schema)),
            }
        }
        let Some(schema) = self.schema.clone() else {
            return Ok(());
        };
        if self.sink.is_none() {
            let file = std::fs::File::create(&self.tmp).map_err(|e| self.err(e.to_string()))?;
            let file = std::io::BufWriter::new(file);
            let kv = (!self.metadata.is_empty()).then(|| {
                polars::io::parquet::write::KeyValueMetadata::from_static(self.metadata.clone())
            });
            let w = ParquetWriter::new(file)
                .with_compression(COMPRESSION)
                .with_key_value_metadata(kv)
                .batched(&schema)
                .map_err(|e| self.err(e.to_string()))?;
            self.sink = Some(Sink::start(w));
        }
        // A chunk without rows makes no row group.
        let chunks = chunks.into_iter().filter(|c| c.height() > 0).collect();
        let groups = encoded(chunks, &schema, self.dictionaries.as_deref());
        if self.dictionaries.is_none()
            && let Ok(groups) = &groups
            && let Some(group) = groups.first()
            // One leaf per column: these tables are flat (a nested column has several).
            && group.len() == schema.len()
        {
            self.dictionaries = Some(
                group
                    .iter()
                    .map(|pages| pages.iter().any(|p| matches!(p, CompressedPage::Dict(_))))
                    .collect(),
            );
        }
        let groups = groups.map_err(|e| self.err(e))?;
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        if sink.groups.send(groups).is_err() {
            // The thread stopped on an error: that error is the answer.
            let reason = match self.sink.take().map(Sink::close) {
                Some(Err(reason)) => reason,
                _ => "the Parquet writer's thread stopped".into(),
            };
            self.failed = Some(reason.clone());
            return Err(self.err(reason));
        }
        self.rows += rows;
        Ok(())
    }

    /// Close the file and move it into place; returns its path and the number of rows.
    pub fn finish(mut self) -> Result<(PathBuf, usize), ReportError> {
        if let Some(reason) = &self.failed {
            return Err(self.err(reason.clone()));
        }
        let Some(sink) = self.sink.take() else {
            return Err(self.err("no rows were written".into()));
        };
        let w = sink.close().map_err(|e| self.err(e))?;
        w.finish().map_err(|e| self.err(e.to_string()))?;
        drop(w);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.err(e.to_string()))?;
        Ok((self.path.clone(), self.rows))
    }
}

/// The row groups of `chunks` (one each, in order), each as its columns' pages, encoded and
/// compressed (snappy, statistics, version 1 pages: what [`ParquetWriter`] writes) with the
/// chunks and their columns on all cores. The writer's own `write_batch` compresses pages
/// lazily, one after another, as it writes them; done here, the pages of several row groups
/// are compressed at once. A column `dictionaries` marks false is encoded plain without a
/// dictionary attempt; a column kept in a repeated shape ([`ColumnData::F64Cycle`],
/// [`ColumnData::U32Runs`]) is written from that shape, its rows never built.
fn encoded(
    chunks: Vec<Table>,
    schema: &Schema,
    dictionaries: Option<&[bool]>,
) -> Result<RowGroups, String> {
    use polars_parquet::write::{
        Encoding, StatisticsOptions, Version, WriteOptions, to_parquet_schema,
    };
    use rayon::prelude::*;
    let arrow = schema.to_arrow(CompatLevel::newest());
    let types = to_parquet_schema(&arrow).map_err(|e| e.to_string())?;
    let encodings: Vec<Vec<Encoding>> = polars::io::parquet::write::get_encodings(&arrow)
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let tried = e.iter().all(|x| *x == Encoding::RleDictionary);
            match dictionaries.and_then(|d| d.get(k)) {
                Some(false) if tried => vec![Encoding::Plain; e.len()],
                _ => e.clone(),
            }
        })
        .collect();
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: Version::V1,
        compression: COMPRESSION.into(),
        data_page_size: None,
    };
    let column = |k: usize, (name, data): (String, ColumnData)| {
        let (type_, encoding) = (&types.fields()[k], &encodings[k]);
        let shaped = match &data {
            ColumnData::F64Cycle { run, times } => cycle_pages(run, *times, type_, options)?,
            ColumnData::U32Runs { values, each } => runs_pages(values, *each, type_, options)?,
            _ => None,
        };
        if let Some(pages) = shaped {
            return Ok(pages);
        }
        let array = data
            .into_column(&name)
            .as_materialized_series()
            .rechunk()
            .to_arrow(0, CompatLevel::newest());
        let learned = dictionaries.and_then(|d| d.get(k)).copied();
        column_pages(array.as_ref(), type_, options, encoding, learned)
    };
    chunks
        .into_par_iter()
        .map(|chunk| {
            let leaves: Vec<Result<Vec<Vec<CompressedPage>>, String>> = chunk
                .columns
                .into_par_iter()
                .enumerate()
                .map(|(k, c)| column(k, c))
                .collect();
            let mut group = vec![];
            for leaf in leaves {
                group.extend(leaf?);
            }
            Ok(group)
        })
        .collect()
}

impl Drop for ChunkedTable {
    fn drop(&mut self) {
        // Unfinished: let the writer's thread end first (nothing writes once the table is
        // gone), then never leave the partial file behind (after finish it is gone already).
        if let Some(sink) = self.sink.take() {
            let _ = sink.close();
        }
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{ColumnData, column_names, read_f64_columns, row_group_count};

    /// The last bytes wait in the file's buffer until polars flushes it after the footer: a
    /// file that cannot take them (`/dev/full` behind the temporary's name) makes `finish` fail
    /// and name the table, instead of the error being lost when the buffer is dropped. Nothing
    /// is left.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_fails_finish() {
        let dir = crate::report::atomic::folder_with_a_full_disk_for("c.parquet");
        let mut t = ChunkedTable::create(dir.path(), "c");
        t.write(Table::new("c").f64("x", vec![1.0, 2.0])).unwrap();
        let err = t.finish().unwrap_err();
        crate::report::atomic::assert_full_disk_reported(err, dir.path(), "c.parquet");
    }

    #[test]
    fn chunked_table_appends_and_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = |a: f64| {
            Table::new("c")
                .f64("x", vec![a, a + 1.0])
                .u32("k", vec![1, 2])
        };
        let mut t = ChunkedTable::create(dir.path(), "c");
        for a in [0.0, 10.0, 20.0] {
            t.write(chunk(a)).unwrap();
        }
        // Not there until finished.
        assert!(!dir.path().join("c.parquet").exists());
        let (p, rows) = t.finish().unwrap();
        assert_eq!(rows, 6);
        let x = read_f64_columns(&p, &["x"]).unwrap();
        assert_eq!(x[0], [0.0, 1.0, 10.0, 11.0, 20.0, 21.0]);
        assert_eq!(column_names(&p).unwrap(), ["x", "k"]);
        // Dropped unfinished: no file, no temporary left behind; a good file is kept.
        let mut t = ChunkedTable::create(dir.path(), "c");
        t.write(chunk(5.0)).unwrap();
        drop(t);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(read_f64_columns(&p, &["x"]).unwrap()[0].len(), 6);
        // A chunk with other columns is refused.
        let mut t = ChunkedTable::create(dir.path(), "d");
        t.write(chunk(0.0)).unwrap();
        assert!(t.write(Table::new("d").f64("y", vec![1.0])).is_err());
    }

    /// A column whose first row group got no dictionary (all values distinct) is written plain
    /// from then on; one with few values keeps its dictionary; every value reads back.
    #[test]
    fn chunked_table_learns_which_columns_take_a_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = |g: usize| {
            let x: Vec<f64> = (0..4000).map(|k| ((g * 4000 + k) as f64).sqrt()).collect();
            let k: Vec<u32> = (0..4000).map(|k| (k % 3) as u32).collect();
            Table::new("c").f64("x", x).u32("k", k)
        };
        let mut t = ChunkedTable::create(dir.path(), "c");
        assert_eq!(t.dictionaries, None);
        t.write_many(vec![chunk(0), chunk(1)]).unwrap();
        assert_eq!(t.dictionaries, Some(vec![false, true]));
        t.write_many(vec![chunk(2), chunk(3)]).unwrap();
        let (p, rows) = t.finish().unwrap();
        assert_eq!(rows, 16000);
        assert_eq!(row_group_count(&p).unwrap(), 4);
        let cols = read_f64_columns(&p, &["x", "k"]).unwrap();
        let want_x: Vec<f64> = (0..16000).map(|n| f64::from(n).sqrt()).collect();
        let want_k: Vec<f64> = (0..16000).map(|n| f64::from(n % 4000 % 3)).collect();
        assert_eq!(cols, [want_x, want_k]);
    }

    /// Columns of each shape [`super::column_pages`] takes its own way read back as written,
    /// over several row groups: a run of 16 repeated (pages built there), a run of 5 repeated
    /// (polars' dictionary of it), counts in long runs, plain reals, and a last row group in
    /// which the grid does not repeat whole.
    #[test]
    fn chunked_table_writes_repeated_runs_and_runs_as_dictionaries() {
        let chunk = |g: usize, rows: usize| {
            let grid16: Vec<f64> = (0..rows).map(|k| (k % 16) as f64 * 0.25).collect();
            let grid5: Vec<f64> = (0..rows).map(|k| -((k % 5) as f64)).collect();
            // Counts past i32's range in one row group.
            let high = if g == 2 { 3_000_000_000 } else { 0 };
            let runs: Vec<u32> = (0..rows)
                .map(|k| (g * 100 + k / 80) as u32 + high)
                .collect();
            let reals: Vec<f64> = (0..rows).map(|k| ((g * rows + k) as f64).sin()).collect();
            Table::new("c")
                .f64("t", grid16)
                .f64("u", grid5)
                .u32("n", runs)
                .f64("r", reals)
        };
        let chunks = [(0, 640), (1, 640), (2, 640), (3, 100)];
        let mut want = vec![vec![]; 4];
        for (g, rows) in chunks {
            for (k, (_, c)) in chunk(g, rows).columns.iter().enumerate() {
                want[k].extend(match c {
                    ColumnData::F64(v) => v.clone(),
                    ColumnData::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                    _ => unreachable!("reals and counts only"),
                });
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut t = ChunkedTable::create(dir.path(), "c");
        t.write_many(vec![chunk(0, 640), chunk(1, 640)]).unwrap();
        assert_eq!(t.dictionaries, Some(vec![true, true, true, false]));
        t.write_many(vec![chunk(2, 640), chunk(3, 100)]).unwrap();
        let (p, rows) = t.finish().unwrap();
        assert_eq!(rows, 2020);
        assert_eq!(row_group_count(&p).unwrap(), 4);
        let got = read_f64_columns(&p, &["t", "u", "n", "r"]).unwrap();
        for (k, name) in ["t", "u", "n", "r"].iter().enumerate() {
            let same = got[k].len() == want[k].len()
                && got[k]
                    .iter()
                    .zip(&want[k])
                    .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "column {name} reads back as written");
        }
    }

    /// Reals with silences (a rate: a kernel's samples between runs of zeros), noise and a few
    /// values in no repeating order, over four row groups: every value reads back bit for bit,
    /// NaN, -0.0, infinities and subnormals included, and the rate and the few values shrink
    /// (which way each page is compressed: `column_pages`' tests).
    #[test]
    fn reals_with_silences_are_compressed_by_their_shape() {
        let kernel: Vec<f64> = (0..41)
            .map(|k| 40.0 * (-((k as f64 - 20.0) / 6.0).powi(2) / 2.0).exp())
            .collect();
        let odd = [
            f64::NAN,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            -1e308,
        ];
        let chunk = |g: usize| {
            let mut rate = vec![];
            for j in 0..100 {
                rate.extend(vec![0.0; 10 + (j * 7 + g) % 30]);
                rate.extend(&kernel);
            }
            rate.extend(odd);
            let n = rate.len();
            let noise: Vec<f64> = (0..n).map(|k| ((g * n + k) as f64 * 0.37).sin()).collect();
            // Four values in an order that never repeats whole (not a repeated run).
            let few: Vec<f64> = (0..n)
                .map(|k| 1.5 + ((k as f64 * 0.618_034).fract() * 4.0).floor())
                .collect();
            Table::new("c")
                .f64("rate", rate)
                .f64("noise", noise)
                .f64("few", few)
        };
        let dir = tempfile::tempdir().unwrap();
        let mut t = ChunkedTable::create(dir.path(), "c");
        let chunks: Vec<Table> = (0..4).map(chunk).collect();
        t.write_many(chunks[..2].to_vec()).unwrap();
        // No dictionary (polars writes reals plain, and the rate took its own pages).
        assert_eq!(t.dictionaries, Some(vec![false; 3]));
        t.write_many(chunks[2..].to_vec()).unwrap();
        let (p, _) = t.finish().unwrap();
        let got = read_f64_columns(&p, &["rate", "noise", "few"]).unwrap();
        for (k, name) in ["rate", "noise", "few"].iter().enumerate() {
            let want: Vec<u64> = chunks
                .iter()
                .flat_map(|c| match &c.columns[k].1 {
                    ColumnData::F64(v) => v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    _ => unreachable!("reals"),
                })
                .collect();
            let bits: Vec<u64> = got[k].iter().map(|x| x.to_bits()).collect();
            assert!(bits == want, "column {name} reads back bit for bit");
        }
        // The rate's pages: a third of its bytes or less; the few values' too.
        let file = std::fs::File::open(&p).unwrap();
        let meta = polars::prelude::ParquetReader::new(file)
            .get_metadata()
            .unwrap()
            .clone();
        for group in &meta.row_groups {
            for k in [0, 2] {
                let column = &group.parquet_columns()[k];
                let (packed, raw) = (column.compressed_size(), column.uncompressed_size());
                assert!(3 * packed < raw, "column {k}: {packed} of {raw} bytes");
            }
        }
    }

    /// Chunks in repeated shapes and chunks of plain rows mix in one table (the schema is by
    /// type), a single repetition included; a chunk naming a column twice is refused.
    #[test]
    fn shaped_and_plain_chunks_mix_and_duplicate_names_are_refused() {
        let grid: Vec<f64> = (0..20).map(|k| 0.5 * k as f64).collect();
        let shaped = |first: u32, trains: usize| {
            Table::new("r")
                .u32_runs("neuron", (first..first + trains as u32).collect(), 20)
                .f64_cycle("t_ms", grid.as_slice().into(), trains)
                .f64("rate_hz", (0..20 * trains).map(|k| k as f64).collect())
        };
        let plain = Table::new("r")
            .u32("neuron", vec![9; 20])
            .f64("t_ms", grid.clone())
            .f64("rate_hz", vec![-1.0; 20]);
        let dir = tempfile::tempdir().unwrap();
        let mut t = ChunkedTable::create(dir.path(), "r");
        t.write_many(vec![shaped(0, 4), plain, shaped(4, 1)])
            .unwrap();
        t.write(shaped(5, 3)).unwrap();
        let (p, rows) = t.finish().unwrap();
        assert_eq!(rows, 20 * 9);
        let got = read_f64_columns(&p, &["neuron", "t_ms", "rate_hz"]).unwrap();
        let neuron: Vec<f64> = [0., 1., 2., 3., 9., 4., 5., 6., 7.]
            .iter()
            .flat_map(|&n| std::iter::repeat_n(n, 20))
            .collect();
        assert_eq!(got[0], neuron);
        assert!(got[1].chunks(20).all(|c| c == grid.as_slice()));
        assert_eq!(got[2][80..100], [-1.0; 20]);
        let twice = Table::new("d").f64("a", vec![1.0]).f64("a", vec![2.0]);
        let mut t = ChunkedTable::create(dir.path(), "d");
        let e = t.write(twice).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
    }
}
