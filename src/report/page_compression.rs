//! How a page of a [`super::chunked_table::ChunkedTable`] is compressed: snappy written by
//! [`super::snappy_by_shape`] where `column_pages` knows the page's shape (a column of reals,
//! a repeated run's keys), polars' compressor for everything else and for reals that the
//! shape does not shrink.

use super::extremes::Extremes;
use super::snappy_by_shape;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDataPage, DataPageHeader, Page};
use polars_parquet::write::{CompressedPage, CompressionOptions, compress};

/// What a page's bytes are, for snappy written by [`snappy_by_shape`] instead of polars'
/// encoder.
#[derive(Debug, Clone, Copy)]
pub(super) enum Layout {
    /// Anything: polars' encoder.
    Bytes,
    /// `start..end` repeats its first `period` bytes: [`snappy_by_shape::compress_periodic`].
    Periodic {
        start: usize,
        period: usize,
        end: usize,
    },
}

/// `head` then `reals` (a page's levels, then its values) as snappy: by their shape when that
/// shrinks them by a tenth, else by polars' encoder, which finds any repetition (reals
/// without silences: a trace, a few non-zero values over and over). The fallback costs a
/// pass of the shape's encoder and a copy of the page more than polars alone, and holds that
/// copy (a whole row group: `column_pages` writes one page) where polars held pages of
/// about 1 MB.
///
/// Also the least and greatest of the reals (as [`super::extremes::min_max`]) when the shape's
/// encoder read them all (it reads every value once, and gathers them as it goes), `None`
/// when it did not run (more than [`snappy_by_shape::MAX_INPUT`] bytes).
pub(super) fn snappy_reals(
    head: &[u8],
    reals: &[u8],
) -> Result<(Vec<u8>, Option<Extremes>), String> {
    let mut out = vec![];
    let extremes = snappy_by_shape::compress_reals(head, reals, &mut out);
    // Kept when the shape shrinks them by a tenth.
    if extremes.is_some() && out.len() <= (head.len() + reals.len()) / 10 * 9 {
        return Ok((out, extremes));
    }
    out.clear();
    let page = [head, reals].concat();
    polars_parquet::parquet::compression::compress(CompressionOptions::Snappy, &page, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((out, extremes))
}

/// `page` compressed as `compression` says: a version 1 data page of periodic bytes by
/// [`snappy_by_shape::compress_periodic`] when that is snappy, everything else by polars.
pub(super) fn compress_page(
    page: Page,
    compression: CompressionOptions,
    layout: Layout,
) -> Result<CompressedPage, String> {
    match (page, layout) {
        (Page::Data(data), Layout::Periodic { start, period, end })
            if compression == CompressionOptions::Snappy
                && matches!(data.header(), DataPageHeader::V1(_)) =>
        {
            let mut out = vec![];
            let periodic =
                snappy_by_shape::compress_periodic(data.buffer(), start, period, end, &mut out);
            match (periodic, data.num_rows()) {
                (Some(()), Some(rows)) => Ok(CompressedPage::Data(CompressedDataPage::new(
                    data.header().clone(),
                    CowBuffer::Owned(out),
                    Compression::Snappy,
                    data.buffer().len(),
                    data.descriptor.clone(),
                    rows,
                ))),
                _ => compress(Page::Data(data), vec![], compression),
            }
        }
        (page, _) => compress(page, vec![], compression),
    }
    .map_err(|e| e.to_string())
}
