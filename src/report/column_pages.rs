//! How one column of a [`super::chunked_table::ChunkedTable`] row group becomes Parquet pages.
//! Polars' encoders serve, but three shapes of the data are taken cheaper than polars would:
//! a column of reals that repeats one run (`t_ms` of `stats`' rates: every train on the same
//! grid) and a column of counts in long runs (`neuron`) are written as dictionaries built
//! from that shape, their pages assembled here; and the min/max statistics of a plain column
//! of reals are computed in one vectorised pass instead of polars' scalar one (by the
//! compressor's own pass over the values, when it compresses them by shape); a plain column
//! of reals is one page built from its values. Pages are compressed by
//! [`super::page_compression`], which knows these shapes. The values read back are the same.

use super::extremes::min_max;
use super::page_compression::{Layout, compress_page, snappy_reals};
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::encoding::hybrid_rle;
use polars_parquet::parquet::metadata::Descriptor;
use polars_parquet::parquet::page::{
    CompressedDataPage, DataPage, DataPageHeader, DataPageHeaderV1, DictPage, Page,
};
use polars_parquet::parquet::schema::Repetition;
use polars_parquet::parquet::schema::types::{ParquetType, PrimitiveType};
use polars_parquet::parquet::statistics::ParquetStatistics;
use polars_parquet::parquet::statistics::PrimitiveStatistics;
use polars_parquet::write::Version;
use polars_parquet::write::{
    CompressedPage, CompressionOptions, Encoding, StatisticsOptions, WriteOptions, array_to_columns,
};

/// The pages of one column (per leaf: a flat column has one), encoded and compressed.
/// `learned` is whether this column's first row group took a dictionary: a column that did
/// not is not searched for a shape again.
pub(super) fn column_pages(
    array: &dyn Array,
    type_: &ParquetType,
    options: WriteOptions,
    encoding: &[Encoding],
    learned: Option<bool>,
) -> Result<Vec<Vec<CompressedPage>>, String> {
    let repeated = match learned {
        Some(false) => None,
        _ => plain_reals(array).and_then(|v| Some((v, repeated_run(v)?))),
    };
    if options.version == Version::V1 {
        if let Some((values, run)) = repeated
            && run > 1
        {
            let page = repeated_run_page(&values[..run], values.len() / run, type_, options)?;
            return Ok(vec![page]);
        }
        if learned != Some(false)
            && let Some(counts) = plain_counts(array)
            && let Some(runs) = long_runs(counts)
        {
            return Ok(vec![runs_page(&runs, type_, options)?]);
        }
    }
    if options.version == Version::V1
        && options.compression == CompressionOptions::Snappy
        && cfg!(target_endian = "little")
        && repeated.is_none()
        && let Some(values) = plain_reals(array)
    {
        // A first row group is offered a dictionary ([RleDictionary]), which polars cannot
        // build for reals (it estimates their distinct values, then writes them plain).
        if matches!(encoding, [Encoding::Plain] | [Encoding::RleDictionary])
            && let Some(page) = reals_page(values, type_, options)?
        {
            return Ok(vec![vec![page]]);
        }
    }
    let compression = match repeated {
        Some((_, run)) => repeated_run_compression(run, options),
        None => options.compression,
    };
    let dictionary = repeated.and_then(|(_, run)| as_repeated_run(array, run));
    // Statistics of plain reals are filled in below, from one pass over the values (into
    // version 1 headers, the pages these tables are written with).
    let reals = match dictionary {
        None if options.has_statistics() && options.version == Version::V1 => plain_reals(array),
        _ => None,
    };
    let encode_options = WriteOptions {
        statistics: match reals {
            Some(_) => StatisticsOptions::empty(),
            None => options.statistics,
        },
        ..options
    };
    let columns = match &dictionary {
        Some(d) => array_to_columns(
            d as &dyn Array,
            type_.clone(),
            encode_options,
            &[Encoding::RleDictionary],
        ),
        None => array_to_columns(array, type_.clone(), encode_options, encoding),
    }
    .map_err(|e| e.to_string())?;
    columns
        .into_iter()
        .map(|pages| {
            let mut row = 0;
            pages
                .map(|page| {
                    let mut page = page.map_err(|e| e.to_string())?;
                    if let (Some(values), Page::Data(data)) = (reals, &mut page) {
                        let n = data.num_values();
                        let part = values
                            .get(row..row + n)
                            .ok_or("page past the column's end")?;
                        row += n;
                        page = Page::Data(with_statistics(data, part)?);
                    }
                    compress_page(page, compression, Layout::Bytes)
                })
                .collect::<Result<Vec<CompressedPage>, String>>()
        })
        .collect()
}

/// The pages of a column of reals that is `run` repeated whole `times` times (a
/// [`super::table::ColumnData::F64Cycle`]), built from that shape: no row is built or
/// compared. The values are the ones [`column_pages`] writes for the rows (it finds the
/// shortest period, which is shorter than `run` when the run itself repeats: then its
/// dictionary is shorter). `None` for a run of one value or a single repetition, which the
/// caller writes row by row through [`column_pages`].
pub(super) fn cycle_pages(
    run: &[f64],
    times: usize,
    type_: &ParquetType,
    options: WriteOptions,
) -> Result<Option<Vec<Vec<CompressedPage>>>, String> {
    if options.version == Version::V1 && run.len() > 1 && times > 1 {
        return Ok(Some(vec![repeated_run_page(run, times, type_, options)?]));
    }
    Ok(None)
}

/// The pages of a column of counts where each of `values` repeats `each` times in a row (a
/// [`super::table::ColumnData::U32Runs`]), built from that shape: the values [`column_pages`]
/// writes for the rows (it would merge equal neighbouring values into one run; here each
/// value keeps its own). `None` for runs shorter than [`MIN_RUN`], which the caller writes
/// row by row through [`column_pages`].
pub(super) fn runs_pages(
    values: &[u32],
    each: usize,
    type_: &ParquetType,
    options: WriteOptions,
) -> Result<Option<Vec<Vec<CompressedPage>>>, String> {
    if options.version == Version::V1 && !values.is_empty() && each >= MIN_RUN {
        let runs: Vec<(u32, usize)> = values.iter().map(|&v| (v, each)).collect();
        return Ok(Some(vec![runs_page(&runs, type_, options)?]));
    }
    Ok(None)
}

/// The values of a column of reals without missing values (whose statistics [`min_max`]
/// computes).
fn plain_reals(array: &dyn Array) -> Option<&[f64]> {
    let reals = array.as_any().downcast_ref::<PrimitiveArray<f64>>()?;
    (reals.null_count() == 0).then(|| reals.values().as_slice())
}

/// The values of a column of counts without missing values.
fn plain_counts(array: &dyn Array) -> Option<&[u32]> {
    let counts = array.as_any().downcast_ref::<PrimitiveArray<u32>>()?;
    (counts.null_count() == 0).then(|| counts.values().as_slice())
}

/// `data` with the statistics of its `values` in its header: what polars writes (minimum and
/// maximum with NaN propagated, a zero minimum as -0.0 and a zero maximum as +0.0, as the
/// Parquet specification asks, no missing values), computed by [`min_max`].
fn with_statistics(data: &mut DataPage, values: &[f64]) -> Result<DataPage, String> {
    let DataPageHeader::V1(mut header) = data.header().clone() else {
        return Err("statistics are written for version 1 pages only".into());
    };
    header.statistics = Some(statistics(min_max(values), &data.descriptor.primitive_type));
    let rows = data.num_rows().unwrap_or(values.len());
    let buffer = std::mem::take(data.buffer_mut());
    Ok(DataPage::new(
        DataPageHeader::V1(header),
        CowBuffer::Owned(buffer),
        data.descriptor.clone(),
        rows,
    ))
}

/// The statistics polars writes for a column of reals without missing values whose least and
/// greatest values are `extremes` ([`min_max`]).
fn statistics(extremes: Option<(f64, f64)>, primitive: &PrimitiveType) -> ParquetStatistics {
    let (min, max) = match extremes {
        Some((lo, hi)) => (
            Some(if lo == 0.0 { -0.0 } else { lo }),
            Some(if hi == 0.0 { 0.0 } else { hi }),
        ),
        None => (None, None),
    };
    PrimitiveStatistics::<f64> {
        primitive_type: primitive.clone(),
        null_count: Some(0),
        distinct_count: None,
        min_value: min,
        max_value: max,
    }
    .serialize()
}

/// A column of reals that is one run of values repeated whole, as a dictionary array: the run
/// is the dictionary and each row its index in it. `stats` writes every train's rate on the
/// same time grid, so `t_ms` is such a column: 15 bits a row instead of 64, and no min/max
/// over its rows (its statistics are the run's). Polars cannot build a dictionary of reals
/// itself (it writes them plain). The values read back are the same.
fn as_repeated_run(array: &dyn Array, run: usize) -> Option<DictionaryArray<u32>> {
    let reals = array.as_any().downcast_ref::<PrimitiveArray<f64>>()?;
    let mut keys = Vec::with_capacity(reals.len());
    let indices: Vec<u32> = (0..u32::try_from(run).ok()?).collect();
    for _ in 0..reals.len() / run {
        keys.extend_from_slice(&indices);
    }
    DictionaryArray::try_from_keys(
        PrimitiveArray::from_vec(keys),
        reals.clone().sliced(0, run).boxed(),
        false,
    )
    .ok()
}

/// The dictionary page and the one data page of a column that is `run` (at least 2 values)
/// repeated `times` times, as [`as_repeated_run`]'s dictionary array would be written,
/// without encoding a key per row: a bit-packed run holds groups of 8 keys, so the keys of as
/// many repetitions as fill whole groups (one when the run's length is a multiple of 8, at
/// most 8) bit-pack to the same bytes every time. They are encoded once and copied, and the
/// repetitions left over are encoded last (the final group may be padded). Encoding each
/// row's key was a tenth of `stats`' time. With snappy, the copies are written as Snappy's
/// copies ([`super::snappy_by_shape::compress_periodic`]); another codec is polars'. One data
/// page holds the row group (polars would cut pages of about 1 MB): a row group of 2^31 rows
/// or more is refused with an error, never written wrong; `stats`' hold at most 5·10^7.
fn repeated_run_page(
    run: &[f64],
    times: usize,
    type_: &ParquetType,
    options: WriteOptions,
) -> Result<Vec<CompressedPage>, String> {
    let primitive = primitive_of(type_)?;
    let last = u32::try_from(run.len() - 1).map_err(|e| e.to_string())?;
    let bits = bit_width(last);
    let per_block = 8 / gcd(run.len(), 8);
    let encoded = |repetitions: usize| -> Result<Vec<u8>, String> {
        let mut keys = vec![];
        let all = (0..=last).cycle().take(repetitions * run.len());
        hybrid_rle::encode(&mut keys, all, bits).map_err(|e| e.to_string())?;
        Ok(keys)
    };
    let block = encoded(per_block)?;
    let rest = encoded(times % per_block)?;
    let keys = |buffer: &mut Vec<u8>| {
        buffer.reserve(1 + block.len() * (times / per_block) + rest.len());
        buffer.push(bits as u8);
        let start = buffer.len();
        for _ in 0..times / per_block {
            buffer.extend_from_slice(&block);
        }
        let end = buffer.len();
        buffer.extend_from_slice(&rest);
        Ok(if end > start {
            Layout::Periodic {
                start,
                period: block.len(),
                end,
            }
        } else {
            Layout::Bytes
        })
    };
    dictionary_pages(
        run.iter().flat_map(|x| x.to_le_bytes()).collect(),
        run.len(),
        keys,
        run.len() * times,
        primitive,
        options
            .has_statistics()
            .then(|| statistics(min_max(run), primitive)),
        options.compression,
    )
}

/// On the path through polars' encoder (version 2 pages, which the tables of this crate do not
/// use: version 1 pages of a repeated run are assembled by [`repeated_run_page`] and copied
/// by [`super::snappy_by_shape::compress_periodic`] at any length), a repeated run whose keys
/// take at most this many bytes a repetition is compressed: snappy (blocks of 64 KB) finds
/// the repetitions and the keys shrink many times (an ISI histogram's 642 bins, 1000 trains:
/// 800 KB of keys to about 60 KB). Longer runs' repetitions are out of its reach: compression
/// gained 6% on `t_ms` (20,000 samples, 37.5 KB a repetition) for a tenth of `stats`' time,
/// so those pages go uncompressed.
const COMPRESSED_RUN_BYTES: usize = 16 << 10;

/// The compression of a repeated run's pages through polars ([`COMPRESSED_RUN_BYTES`]).
fn repeated_run_compression(run: usize, options: WriteOptions) -> CompressionOptions {
    let bits = bit_width(u32::try_from(run.saturating_sub(1)).unwrap_or(u32::MAX)) as usize;
    if run * bits <= 8 * COMPRESSED_RUN_BYTES {
        options.compression
    } else {
        CompressionOptions::Uncompressed
    }
}

/// The dictionary page and the one data page of a column of counts made of long runs of one
/// value (`neuron` in `stats`' rates: a train's rows): each run's value in the dictionary, and
/// the keys written as one run-length run per run, where polars would hash every row and then
/// encode a key per row. `runs` are each run's value and length, in order (not empty).
fn runs_page(
    runs: &[(u32, usize)],
    type_: &ParquetType,
    options: WriteOptions,
) -> Result<Vec<CompressedPage>, String> {
    use hybrid_rle::Encoder;
    let primitive = primitive_of(type_)?;
    let values: Vec<u32> = runs.iter().map(|&(v, _)| v).collect();
    let bits = bit_width(u32::try_from(values.len() - 1).map_err(|e| e.to_string())?);
    let keys = |buffer: &mut Vec<u8>| {
        buffer.push(bits as u8);
        for (key, &(_, length)) in runs.iter().enumerate() {
            let key = u32::try_from(key).map_err(|e| e.to_string())?;
            u32::run_length_encode(buffer, length, key, bits).map_err(|e| e.to_string())?;
        }
        Ok(Layout::Bytes)
    };
    // What polars writes for counts: the minimum and maximum as Parquet INT32.
    let statistics = options.has_statistics().then(|| {
        PrimitiveStatistics::<i32> {
            primitive_type: primitive.clone(),
            null_count: Some(0),
            distinct_count: None,
            min_value: values.iter().min().map(|&m| m as i32),
            max_value: values.iter().max().map(|&m| m as i32),
        }
        .serialize()
    });
    dictionary_pages(
        values.iter().flat_map(|x| x.to_le_bytes()).collect(),
        values.len(),
        keys,
        runs.iter().map(|&(_, length)| length).sum(),
        primitive,
        statistics,
        // A few bytes a run: nothing to compress.
        CompressionOptions::Uncompressed,
    )
}

/// The runs of equal values (each run's value and length, in order), when they are
/// [`MIN_RUN`] rows long on average or longer (otherwise `None`, found early).
fn long_runs(counts: &[u32]) -> Option<Vec<(u32, usize)>> {
    if counts.is_empty() {
        return None;
    }
    let mut runs = vec![];
    for run in counts.chunk_by(|a, b| a == b) {
        runs.push((run[0], run.len()));
        if runs.len() * MIN_RUN > counts.len() {
            return None;
        }
    }
    Some(runs)
}

/// A column's primitive type (every column of these tables is one).
fn primitive_of(type_: &ParquetType) -> Result<&PrimitiveType, String> {
    match type_ {
        ParquetType::PrimitiveType(primitive) => Ok(primitive),
        ParquetType::GroupType { .. } => Err("a nested column has no dictionary here".into()),
    }
}

/// The greatest common divisor of `a` and `b`.
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The bits of a key up to `last`, as polars counts them (none for a lone key).
fn bit_width(last: u32) -> u32 {
    u32::BITS - last.leading_zeros()
}

/// A dictionary page holding `entries` plain-encoded values (`dictionary`), and one data page
/// of `rows` keys (`keys` writes their bit width, then the keys run-length/bit-packed, after
/// the definition levels in the page's buffer, and says how the page may be compressed),
/// version 1, as polars lays out a dictionary-encoded column.
fn dictionary_pages(
    dictionary: Vec<u8>,
    entries: usize,
    keys: impl FnOnce(&mut Vec<u8>) -> Result<Layout, String>,
    rows: usize,
    primitive: &PrimitiveType,
    statistics: Option<ParquetStatistics>,
    compression: CompressionOptions,
) -> Result<Vec<CompressedPage>, String> {
    let mut buffer = def_levels(primitive, rows)?;
    let layout = keys(&mut buffer)?;
    let data = DataPage::new(
        DataPageHeader::V1(DataPageHeaderV1 {
            num_values: i32::try_from(rows).map_err(|e| e.to_string())?,
            encoding: Encoding::RleDictionary.into(),
            definition_level_encoding: Encoding::Rle.into(),
            repetition_level_encoding: Encoding::Rle.into(),
            statistics,
        }),
        CowBuffer::Owned(buffer),
        flat_descriptor(primitive),
        rows,
    );
    let dictionary = DictPage::new(CowBuffer::Owned(dictionary), entries, false);
    // The dictionary holds distinct values: no shape to exploit, polars' encoder.
    Ok(vec![
        compress_page(Page::Dict(dictionary), compression, Layout::Bytes)?,
        compress_page(Page::Data(data), compression, layout)?,
    ])
}

/// The definition levels that open a version 1 data page of `rows` values of a flat column
/// without missing values (none for a required column), as polars writes them.
fn def_levels(primitive: &PrimitiveType, rows: usize) -> Result<Vec<u8>, String> {
    let optional = primitive.field_info.repetition == Repetition::Optional;
    let mut levels = vec![];
    polars_parquet::write::write_def_levels(&mut levels, optional, None, rows, Version::V1)
        .map_err(|e| e.to_string())?;
    Ok(levels)
}

/// The descriptor of a page of a flat column, as the pages built here carry it.
fn flat_descriptor(primitive: &PrimitiveType) -> Descriptor {
    Descriptor {
        primitive_type: primitive.clone(),
        max_def_level: 0,
        max_rep_level: 0,
    }
}

/// The one data page of a plain column of reals (version 1, snappy), built from the values
/// themselves and compressed by [`snappy_reals`] straight from them. Polars would first copy
/// them into pages of about 1 MB (a pass over `stats`' 160 MB of rates, into freshly faulted
/// memory), and for a first row group estimate their distinct values (a tenth of `stats`'
/// time) before writing them plain. `None` for a page past Parquet's 2 GiB (about 2.7·10^8
/// rows): polars cuts those values into pages itself.
fn reals_page(
    values: &[f64],
    type_: &ParquetType,
    options: WriteOptions,
) -> Result<Option<CompressedPage>, String> {
    let primitive = primitive_of(type_)?;
    let rows = values.len();
    let levels = def_levels(primitive, rows)?;
    // PLAIN is little-endian: this path is taken on little-endian targets only.
    let reals: &[u8] = bytemuck::cast_slice(values);
    if levels.len() + reals.len() > i32::MAX as usize {
        return Ok(None);
    }
    let (out, extremes) = snappy_reals(&levels, reals)?;
    let header = DataPageHeader::V1(DataPageHeaderV1 {
        num_values: i32::try_from(rows).map_err(|e| e.to_string())?,
        encoding: Encoding::Plain.into(),
        definition_level_encoding: Encoding::Rle.into(),
        repetition_level_encoding: Encoding::Rle.into(),
        statistics: options.has_statistics().then(|| {
            statistics(
                extremes.map_or_else(|| min_max(values), |e| e.finish()),
                primitive,
            )
        }),
    });
    Ok(Some(CompressedPage::Data(CompressedDataPage::new(
        header,
        CowBuffer::Owned(out),
        Compression::Snappy,
        levels.len() + reals.len(),
        flat_descriptor(primitive),
        rows,
    ))))
}

/// The shortest mean run for which [`long_runs`] takes a column as its runs.
const MIN_RUN: usize = 64;

/// The length of the run that `values` repeats whole, at least twice, if it does (compared
/// bit for bit). Only the divisors of the length are candidates, and at most four of them are
/// tried, so a column that is not periodic costs a few passes over it at most.
fn repeated_run(values: &[f64]) -> Option<usize> {
    let n = values.len();
    let first = values.first()?.to_bits();
    let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    let mut tried = 0;
    for run in divisors(n).into_iter().filter(|&d| d <= n / 2) {
        if values[run].to_bits() != first {
            continue;
        }
        if values[run..]
            .chunks_exact(run)
            .all(|c| same(c, &values[..run]))
        {
            return Some(run);
        }
        tried += 1;
        if tried == 4 {
            return None;
        }
    }
    None
}

/// The divisors of `n`, smallest first.
fn divisors(n: usize) -> Vec<usize> {
    let (mut small, mut large) = (vec![], vec![]);
    let mut d = 1;
    while d * d <= n {
        if n.is_multiple_of(d) {
            small.push(d);
            if d * d != n {
                large.push(n / d);
            }
        }
        d += 1;
    }
    small.extend(large.into_iter().rev());
    small
}

#[cfg(test)]
mod tests {
    use super::super::snappy_by_shape;
    use super::*;
    use polars::prelude::{
        CompatLevel, DataFrame, Float64Chunked, IntoColumn, SchemaExt, UInt32Chunked,
    };

    /// The Parquet type of one column of reals named `x`, as the writer declares it.
    fn real_type() -> ParquetType {
        let x = Float64Chunked::from_vec("x".into(), vec![0.0]).into_column();
        let arrow = DataFrame::new(1, vec![x])
            .unwrap()
            .schema()
            .to_arrow(CompatLevel::newest());
        polars_parquet::write::to_parquet_schema(&arrow)
            .unwrap()
            .fields()[0]
            .clone()
    }

    /// The version 1, uncompressed pages polars' own encoder makes of `array`, statistics on.
    fn polars_pages(array: &dyn Array, type_: &ParquetType, encoding: Encoding) -> Vec<Page> {
        array_to_columns(array, type_.clone(), options(), &[encoding])
            .unwrap()
            .remove(0)
            .collect::<Result<Vec<Page>, _>>()
            .unwrap()
    }

    /// Version 1 pages, uncompressed, with polars' default statistics.
    fn options() -> WriteOptions {
        WriteOptions {
            statistics: StatisticsOptions::default(),
            version: Version::V1,
            compression: CompressionOptions::Uncompressed,
            data_page_size: None,
        }
    }

    #[test]
    fn repeated_run_finds_the_whole_period_compared_bit_for_bit() {
        assert_eq!(repeated_run(&[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]), Some(3));
        assert_eq!(repeated_run(&[0.0, 1.0, 2.0, 0.0, 1.0, 3.0]), None);
        assert_eq!(repeated_run(&[4.0; 6]), Some(1));
        // Not a whole number of repetitions, or only one.
        assert_eq!(repeated_run(&[0.0, 1.0, 0.0, 1.0, 0.0]), None);
        assert_eq!(repeated_run(&[0.0, 1.0, 2.0]), None);
        assert_eq!(repeated_run(&[]), None);
        // Bits, not values: NaN repeats, -0.0 is not 0.0.
        let nan = f64::NAN;
        assert_eq!(repeated_run(&[nan, 1.0, nan, 1.0]), Some(2));
        assert_eq!(repeated_run(&[0.0, -0.0, 0.0, -0.0]), Some(2));
        assert_eq!(repeated_run(&[0.0, -0.0]), None);
        // A run found after a candidate that failed.
        let v = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(repeated_run(&v), Some(4));
        // Zeros with one value at the end: every candidate fails, and only four are tried.
        let mut long = vec![0.0; 1 << 16];
        long[(1 << 16) - 1] = 1.0;
        assert_eq!(repeated_run(&long), None);
    }

    /// The statistics of a column of counts in runs are polars' own for the same dictionary,
    /// a count past i32's range included.
    #[test]
    fn runs_statistics_are_the_ones_polars_writes() {
        let counts: Vec<u32> = [5u32, 3_000_000_000, 7]
            .iter()
            .flat_map(|&c| std::iter::repeat_n(c, 100))
            .collect();
        let column = UInt32Chunked::from_vec("n".into(), counts.clone()).into_column();
        let arrow = DataFrame::new(counts.len(), vec![column])
            .unwrap()
            .schema()
            .to_arrow(CompatLevel::newest());
        let type_ = polars_parquet::write::to_parquet_schema(&arrow)
            .unwrap()
            .fields()[0]
            .clone();
        let keys: Vec<u32> = (0..300).map(|k| k / 100).collect();
        let dictionary = DictionaryArray::<u32>::try_from_keys(
            PrimitiveArray::from_vec(keys),
            PrimitiveArray::from_vec(vec![5u32, 3_000_000_000, 7]).boxed(),
            false,
        )
        .unwrap();
        let theirs = polars_pages(&dictionary, &type_, Encoding::RleDictionary);
        let Page::Data(theirs) = &theirs[1] else {
            panic!("a dictionary page, then the keys");
        };
        let runs = long_runs(&counts).unwrap();
        assert_eq!(runs, [(5, 100), (3_000_000_000, 100), (7, 100)]);
        let ours = runs_page(&runs, &type_, options()).unwrap();
        let CompressedPage::Data(ours) = &ours[1] else {
            panic!("a dictionary page, then the keys");
        };
        let (DataPageHeader::V1(theirs), DataPageHeader::V1(ours)) =
            (theirs.header(), ours.header())
        else {
            panic!("version 1 pages");
        };
        assert_eq!(ours.statistics, theirs.statistics);
        assert_eq!(ours.num_values, theirs.num_values);
        // Runs too short are left to polars.
        assert_eq!(long_runs(&[1, 1, 2, 2]), None);
        assert_eq!(long_runs(&[]), None);
    }

    /// Over a column of several pages, each page's statistics are polars' own for the same
    /// page (each page's own rows, not the first page's).
    #[test]
    fn statistics_of_every_page_are_the_ones_polars_writes() {
        let values: Vec<f64> = (0..300_000)
            .map(|k| (k as f64 * 0.001).sin() * (1.0 + k as f64 / 1000.0))
            .collect();
        let array = PrimitiveArray::<f64>::from_vec(values);
        let type_ = real_type();
        let theirs = polars_pages(&array, &type_, Encoding::Plain);
        let ours = column_pages(&array, &type_, options(), &[Encoding::Plain], None).unwrap();
        assert_eq!(ours.len(), 1);
        assert!(theirs.len() > 2, "several pages: {}", theirs.len());
        assert_eq!(ours[0].len(), theirs.len());
        for (k, (ours, theirs)) in ours[0].iter().zip(&theirs).enumerate() {
            let (CompressedPage::Data(ours), Page::Data(theirs)) = (ours, theirs) else {
                panic!("data pages only");
            };
            let (DataPageHeader::V1(ours), DataPageHeader::V1(theirs)) =
                (ours.header(), theirs.header())
            else {
                panic!("version 1 pages");
            };
            assert_eq!(ours.statistics, theirs.statistics, "page {k}");
            assert_eq!(ours.num_values, theirs.num_values, "page {k}");
        }
    }

    /// `page` decompressed by polars (as a reader would).
    fn decompressed(page: CompressedPage) -> Page {
        polars_parquet::parquet::read::decompress(
            page,
            &mut vec![],
            &mut polars_parquet::parquet::compression::DecompressionContext::Unset,
        )
        .unwrap()
    }

    /// The version 1 headers of two data pages.
    fn v1_headers<'a>(
        a: &'a DataPage,
        b: &'a DataPage,
    ) -> (&'a DataPageHeaderV1, &'a DataPageHeaderV1) {
        let (DataPageHeader::V1(a), DataPageHeader::V1(b)) = (a.header(), b.header()) else {
            panic!("version 1 pages");
        };
        (a, b)
    }

    /// A plain column of reals is one page built from its values (where polars cuts pages of
    /// about 1 MB): with silences (a rate's zeros and kernels) compressed by its shape, without
    /// them (a sine) by polars' snappy; either way it decompresses to the column's plain
    /// bytes under the header polars writes, for a first row group (offered a dictionary) as
    /// for a later one.
    #[test]
    fn a_plain_column_of_reals_is_one_page_compressed_by_its_shape_or_by_polars() {
        let kernel: Vec<f64> = (0..101)
            .map(|k| 39.9 * (-((k as f64 - 50.0) / 10.0).powi(2) / 2.0).exp())
            .collect();
        let mut rate = vec![];
        for j in 0..1200 {
            rate.extend(vec![0.0; 20 + j % 17]);
            rate.extend(&kernel);
        }
        let sine: Vec<f64> = (0..rate.len()).map(|k| (k as f64 * 0.37).sin()).collect();
        let snappy = WriteOptions {
            compression: CompressionOptions::Snappy,
            ..options()
        };
        let type_ = real_type();
        let primitive = primitive_of(&type_).unwrap();
        for (values, by_shape) in [(rate, true), (sine, false)] {
            let array = PrimitiveArray::<f64>::from_vec(values.clone());
            assert!(polars_pages(&array, &type_, Encoding::Plain).len() > 1);
            // The column's plain bytes (levels, then values) compressed each way: the test
            // knows which it wants.
            let optional = primitive.field_info.repetition == Repetition::Optional;
            let mut bytes = vec![];
            polars_parquet::write::write_def_levels(
                &mut bytes,
                optional,
                None,
                values.len(),
                Version::V1,
            )
            .unwrap();
            let levels = bytes.len();
            bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
            let mut shaped = vec![];
            snappy_by_shape::compress_reals(&bytes[..levels], &bytes[levels..], &mut shaped)
                .unwrap();
            let mut polars = vec![];
            polars_parquet::parquet::compression::compress(
                CompressionOptions::Snappy,
                &bytes,
                &mut polars,
            )
            .unwrap();
            assert_ne!(shaped.len(), polars.len());
            let want = if by_shape { shaped.len() } else { polars.len() };
            for encoding in [Encoding::Plain, Encoding::RleDictionary] {
                let mut ours = column_pages(&array, &type_, snappy, &[encoding], None).unwrap();
                assert_eq!((ours.len(), ours[0].len()), (1, 1));
                let CompressedPage::Data(page) = ours.remove(0).remove(0) else {
                    panic!("a data page");
                };
                assert_eq!(page.compressed_size(), want, "by shape: {by_shape}");
                let Page::Data(page) = decompressed(CompressedPage::Data(page)) else {
                    panic!("a data page");
                };
                let DataPageHeader::V1(header) = page.header() else {
                    panic!("a version 1 page");
                };
                let expected = DataPageHeaderV1 {
                    num_values: values.len() as i32,
                    encoding: Encoding::Plain.into(),
                    definition_level_encoding: Encoding::Rle.into(),
                    repetition_level_encoding: Encoding::Rle.into(),
                    statistics: Some(statistics(min_max(&values), primitive)),
                };
                assert_eq!(*header, expected, "by shape: {by_shape}");
                assert!(page.buffer() == bytes, "by shape: {by_shape}");
            }
        }
    }

    /// A repeated run's hand-built data page carries the statistics polars writes for the
    /// same dictionary, and its keys' bytes are polars' bytes.
    #[test]
    fn a_repeated_run_page_is_what_polars_writes_for_its_dictionary() {
        // Runs of a multiple of 8 (one repetition a block), of other lengths (2, 4 or 8
        // repetitions a block, repetitions left over or not), and fewer repetitions than a
        // block.
        for (length, times) in [(16, 40), (5, 41), (6, 8), (642, 17), (3, 5), (2, 1)] {
            let run: Vec<f64> = (0..length).map(|k| (k as f64 - 5.0) * 0.75).collect();
            let values: Vec<f64> = run.iter().cycle().take(length * times).copied().collect();
            let array = PrimitiveArray::<f64>::from_vec(values.clone());
            let type_ = real_type();
            let dictionary = as_repeated_run(&array, length).unwrap();
            let theirs = polars_pages(&dictionary, &type_, Encoding::RleDictionary);
            let ours: Vec<Page> = repeated_run_page(&run, times, &type_, options())
                .unwrap()
                .into_iter()
                .map(decompressed)
                .collect();
            let (Page::Dict(our_dict), Page::Dict(their_dict)) = (&ours[0], &theirs[0]) else {
                panic!("a dictionary page first");
            };
            assert_eq!(*our_dict.buffer, *their_dict.buffer);
            assert_eq!(our_dict.num_values, their_dict.num_values);
            let (Page::Data(ours), Page::Data(theirs)) = (&ours[1], &theirs[1]) else {
                panic!("then the keys");
            };
            let (our_header, their_header) = v1_headers(ours, theirs);
            assert_eq!(our_header, their_header, "{length} x {times}");
            // The definition levels are the same bytes; the keys decode to the same indices
            // (polars writes one literal run where these pages write one per block).
            let rows = length * times;
            let decoded = keys(ours.buffer(), rows);
            assert_eq!(decoded, keys(theirs.buffer(), rows), "{length} x {times}");
            let want: Vec<u32> = (0..rows).map(|k| (k % length) as u32).collect();
            assert_eq!(decoded.1, want, "{length} x {times}");
        }
    }

    /// The definition levels' bytes and the decoded keys of a version 1 dictionary page of an
    /// optional column: a 4-byte length, the levels, the keys' bit width, the keys.
    fn keys(buffer: &[u8], rows: usize) -> (Vec<u8>, Vec<u32>) {
        let levels = u32::from_le_bytes(buffer[..4].try_into().unwrap()) as usize;
        let bits = u32::from(buffer[4 + levels]);
        let decoded = hybrid_rle::HybridRleDecoder::new(&buffer[5 + levels..], bits, rows)
            .collect()
            .unwrap();
        (buffer[..4 + levels].to_vec(), decoded)
    }

    #[test]
    fn divisors_are_every_divisor_in_order() {
        for n in 0..200 {
            let want: Vec<usize> = (1..=n).filter(|d| n % d == 0).collect();
            assert_eq!(divisors(n), want, "{n}");
        }
    }

    /// Our statistics of a page of reals are polars' own, bit for bit, for ordinary values,
    /// zeros of either sign, infinities and NaN.
    #[test]
    fn statistics_are_the_ones_polars_writes() {
        let type_ = real_type();
        let ParquetType::PrimitiveType(primitive) = &type_ else {
            panic!("a column of reals is a primitive type");
        };
        let cases: [&[f64]; 6] = [
            &[3.0, -2.5, 7.25, 1e-300],
            &[0.0, 0.0, 0.0],
            &[-0.0, 5.0],
            &[-4.0, 0.0],
            &[1.0, f64::INFINITY, f64::NEG_INFINITY],
            &[1.0, f64::NAN, 2.0],
        ];
        for values in cases {
            let array = PrimitiveArray::<f64>::from_vec(values.to_vec());
            let pages = polars_pages(&array, &type_, Encoding::Plain);
            let Page::Data(data) = &pages[0] else {
                panic!("a plain column has data pages only");
            };
            let DataPageHeader::V1(header) = data.header() else {
                panic!("version 1 pages");
            };
            let theirs = header.statistics.clone().unwrap();
            let ours = statistics(min_max(values), primitive);
            assert_eq!(ours.min_value, theirs.min_value, "{values:?}");
            assert_eq!(ours.max_value, theirs.max_value, "{values:?}");
            assert_eq!(ours.null_count, theirs.null_count, "{values:?}");
            assert_eq!(ours.distinct_count, theirs.distinct_count, "{values:?}");
        }
    }
}
