//! A Parquet table written row group by row group as its rows are produced (`stats`' rates,
//! `windows`' rows), so a table larger than memory is written with flat memory.

use super::table::{COMPRESSION, Table};
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
    writer: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>,
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

impl ChunkedTable {
    /// Rows will go to `DIR/<name>.parquet`.
    pub fn create(dir: &Path, name: &str) -> ChunkedTable {
        let path = dir.join(format!("{name}.parquet"));
        ChunkedTable {
            tmp: super::atomic::temp_path(&path),
            path,
            writer: None,
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
    pub fn write(&mut self, chunk: &Table) -> Result<(), ReportError> {
        self.write_many(std::slice::from_ref(chunk))
    }

    /// Append `chunks` in order, one row group each, encoded and compressed on all cores at
    /// once: polars' own writer compresses a row group's pages one after another while it
    /// writes them, which made `stats` run on one core.
    pub fn write_many(&mut self, chunks: &[Table]) -> Result<(), ReportError> {
        use rayon::prelude::*;
        let frames = chunks
            .iter()
            .map(Table::to_frame)
            .collect::<Result<Vec<DataFrame>, _>>()?;
        for df in &frames {
            match &self.schema {
                Some(s) if s != df.schema() => {
                    return Err(self.err(format!(
                        "chunk columns {:?} differ from the first chunk's {:?}",
                        df.get_column_names(),
                        s.iter_names().collect::<Vec<_>>()
                    )));
                }
                Some(_) => {}
                None => self.schema = Some(df.schema().clone()),
            }
        }
        let Some(first) = frames.first() else {
            return Ok(());
        };
        if self.writer.is_none() {
            let file = std::fs::File::create(&self.tmp).map_err(|e| self.err(e.to_string()))?;
            let kv = (!self.metadata.is_empty()).then(|| {
                polars::io::parquet::write::KeyValueMetadata::from_static(self.metadata.clone())
            });
            let w = ParquetWriter::new(file)
                .with_compression(COMPRESSION)
                .with_key_value_metadata(kv)
                .batched(first.schema())
                .map_err(|e| self.err(e.to_string()))?;
            self.writer = Some(w);
        }
        let dictionaries = self.dictionaries.clone();
        let groups: Vec<Result<Vec<Vec<Vec<CompressedPage>>>, String>> = frames
            .par_iter()
            .map(|df| compressed_row_groups(df, dictionaries.as_deref()))
            .collect();
        if self.dictionaries.is_none()
            && let Some(Ok(encoded)) = groups.first()
            && let Some(group) = encoded.first()
            // One leaf per column: these tables are flat (a nested column has several).
            && group.len() == first.width()
        {
            self.dictionaries = Some(
                group
                    .iter()
                    .map(|pages| pages.iter().any(|p| matches!(p, CompressedPage::Dict(_))))
                    .collect(),
            );
        }
        let path = self.path.display().to_string();
        let err = |reason: String| ReportError::Io {
            path: path.clone(),
            reason,
        };
        let Some(w) = &mut self.writer else {
            return Ok(());
        };
        for (df, encoded) in frames.iter().zip(groups) {
            for group in encoded.map_err(err)? {
                // u64::MAX: the row count is read from the pages.
                w.write_row_group(u64::MAX, &group)
                    .map_err(|e| err(e.to_string()))?;
            }
            self.rows += df.height();
        }
        Ok(())
    }

    /// Close the file and move it into place; returns its path and the number of rows.
    pub fn finish(mut self) -> Result<(PathBuf, usize), ReportError> {
        let Some(w) = self.writer.take() else {
            return Err(self.err("no rows were written".into()));
        };
        w.finish().map_err(|e| self.err(e.to_string()))?;
        drop(w);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.err(e.to_string()))?;
        Ok((self.path.clone(), self.rows))
    }
}

/// The row groups of `df` (one per chunk), each as its columns' pages, encoded and compressed
/// (snappy, statistics, version 1 pages: what [`ParquetWriter`] writes) with the columns on
/// all cores. The writer's own `write_batch` compresses pages lazily, one after another, as
/// it writes them; done here, the pages of several row groups are compressed at once. A column
/// `dictionaries` marks false is encoded plain without a dictionary attempt.
fn compressed_row_groups(
    df: &DataFrame,
    dictionaries: Option<&[bool]>,
) -> Result<Vec<Vec<Vec<CompressedPage>>>, String> {
    use polars_parquet::write::{
        Encoding, StatisticsOptions, Version, WriteOptions, array_to_columns, compress,
        to_parquet_schema,
    };
    use rayon::prelude::*;
    let arrow = df.schema().to_arrow(CompatLevel::newest());
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
    df.iter_chunks(CompatLevel::newest(), false)
        .filter(|batch| !batch.is_empty())
        .map(|batch| {
            let leaves: Vec<Result<Vec<Vec<CompressedPage>>, String>> = batch
                .columns()
                .par_iter()
                .zip(types.fields().par_iter())
                .zip(encodings.par_iter())
                .map(|((array, type_), encoding)| {
                    let columns = array_to_columns(array, type_.clone(), options, encoding)
                        .map_err(|e| e.to_string())?;
                    columns
                        .into_iter()
                        .map(|pages| {
                            pages
                                .map(|page| {
                                    let page = page.map_err(|e| e.to_string())?;
                                    compress(page, vec![], options.compression)
                                        .map_err(|e| e.to_string())
                                })
                                .collect::<Result<Vec<CompressedPage>, String>>()
                        })
                        .collect()
                })
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
        // Unfinished: never leave the partial file behind (after finish it is gone already).
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::{column_names, read_f64_columns, row_group_count};

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
            t.write(&chunk(a)).unwrap();
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
        t.write(&chunk(5.0)).unwrap();
        drop(t);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        assert_eq!(read_f64_columns(&p, &["x"]).unwrap()[0].len(), 6);
        // A chunk with other columns is refused.
        let mut t = ChunkedTable::create(dir.path(), "d");
        t.write(&chunk(0.0)).unwrap();
        assert!(t.write(&Table::new("d").f64("y", vec![1.0])).is_err());
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
        t.write_many(&[chunk(0), chunk(1)]).unwrap();
        assert_eq!(t.dictionaries, Some(vec![false, true]));
        t.write_many(&[chunk(2), chunk(3)]).unwrap();
        let (p, rows) = t.finish().unwrap();
        assert_eq!(rows, 16000);
        assert_eq!(row_group_count(&p).unwrap(), 4);
        let cols = read_f64_columns(&p, &["x", "k"]).unwrap();
        let want_x: Vec<f64> = (0..16000).map(|n| f64::from(n).sqrt()).collect();
        let want_k: Vec<f64> = (0..16000).map(|n| f64::from(n % 4000 % 3)).collect();
        assert_eq!(cols, [want_x, want_k]);
    }
}
