//! Reading spike files, and the tables and figure of spike trains (`stats`).

use super::figure::PALETTE;
use super::numeric_csv;
use super::table::{Table, column_names, read_f64_columns};
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::spike_stats::TrainStats;
use crate::error::ReportError;
use std::path::Path;

/// The metadata key under which `simulate`'s spike table records how many neurons ran, so a
/// reader counts the neurons that never fired (they have no row).
pub const NEURONS_KEY: &str = "excitable.neurons";

/// A spike file as read: its trains and what the file says about them.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeFile {
    /// Spike times by neuron (`trains[k]` is neuron k's), each in the file's order.
    pub trains: Vec<Vec<f64>>,
    /// The units of its times: ms when the column is `t_ms`, none when it is a bare `t` (a
    /// model without units wrote it, [`super::table::Table::in_units`]).
    pub units: crate::model::Units,
    /// The end of the recording, where the file says: the `t-max` of the `simulate` run
    /// whose settings a Parquet spike file carries in its metadata.
    pub recording_end: Option<f64>,
}

/// What a Parquet spike file's metadata says of its run, read from its footer once: how many
/// neurons ran ([`NEURONS_KEY`]; at most 10^7, as the reader allows) and where the recording
/// ended (the settings' `t-max`).
fn recorded_run(path: &Path) -> (Option<usize>, Option<f64>) {
    let Ok(meta) = super::table::read_metadata(path) else {
        return (None, None);
    };
    let value = |key: &str| meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let neurons = value(NEURONS_KEY)
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|&n| n <= 10_000_000);
    let end = value("excitable.settings")
        .and_then(|s| toml::from_str::<toml::Table>(s).ok())
        .and_then(|t| {
            let end = t.get("t-max")?;
            end.as_float()
                .or_else(|| end.as_integer().map(|i| i as f64))
        })
        .filter(|t| t.is_finite() && *t > 0.0);
    (neurons, end)
}

/// The units of spike times in a column named `name`: ms for `t_ms`, none for a bare `t`.
fn time_units(name: &str) -> crate::model::Units {
    if name.trim() == "t_ms" {
        crate::model::Units::NEURON
    } else {
        crate::model::Units::FILE
    }
}

/// Spike trains by neuron from a CSV or Parquet file with `t_ms` (and `neuron` if several),
/// each train's times in the file's order ([`read_spike_file`] without the units).
pub fn read_spikes(path: &Path) -> Result<Vec<Vec<f64>>, ReportError> {
    Ok(read_spike_file(path)?.trains)
}

/// [`read_spikes`], with the units of the file's times. A file of a model without units names
/// its times `t`: they are read as they are (the toolkit's time unit, ms when the model's is).
/// A Parquet file from `simulate` records how many neurons ran ([`NEURONS_KEY`]): the trains
/// then run to the last neuron, those that never fired empty.
pub fn read_spike_file(path: &Path) -> Result<SpikeFile, ReportError> {
    let err = |reason: String| ReportError::Read {
        path: path.display().to_string(),
        reason,
    };
    let parquet = path.extension().is_some_and(|e| e == "parquet");
    let (neuron, t, units) = if parquet {
        let names = column_names(path)?;
        let time = super::table::unit_or_bare(&names, "t_ms");
        if names.iter().any(|n| n == "neuron") {
            let mut c = read_f64_columns(path, &["neuron", time])?;
            let t = c.pop().unwrap_or_default();
            (c.pop().unwrap_or_default(), t, time_units(time))
        } else {
            let t = read_f64_columns(path, &[time])?.pop().unwrap_or_default();
            (vec![0.0; t.len()], t, time_units(time))
        }
    } else {
        let bytes = crate::input::read_bytes(path, crate::input::MAX_TABLE_BYTES)
            .map_err(|e| err(e.trim_start_matches("cannot read: ").to_string()))?;
        match std::str::from_utf8(&bytes) {
            Ok(text) if numeric_csv::is_plain(&bytes) => plain_spikes_csv(text).map_err(err)?,
            _ => quoted_spikes_csv(&bytes).map_err(err)?,
        }
    };
    use rayon::prelude::*;
    // Checked in blocks: rayon's item-wise `any` and `position_first` consult a shared flag
    // at every item, which cost more than the checks (about 1% of `stats`' benchmark).
    const BLOCK: usize = 1 << 14;
    let whole = |n: &f64| *n >= 0.0 && n.fract() == 0.0 && *n <= 1e7;
    if !neuron.par_chunks(BLOCK).all(|c| c.iter().all(whole)) {
        return Err(err("neuron must be a whole number in [0, 10^7]".into()));
    }
    if !t.par_chunks(BLOCK).all(|c| c.iter().all(|x| x.is_finite())) {
        let k = t.iter().position(|x| !x.is_finite()).unwrap_or(0);
        return Err(err(format!(
            "row {}: {} {} is not a finite number",
            k + 1,
            if units.known() { "t_ms" } else { "t" },
            t[k]
        )));
    }
    // Neurons that never fired have no row: the count `simulate` recorded, where it did.
    let (recorded, recording_end) = if parquet {
        recorded_run(path)
    } else {
        (None, None)
    };
    let count = neuron
        .par_iter()
        .map(|&n| n as usize + 1)
        .max()
        .unwrap_or(0)
        .max(recorded.unwrap_or(0));
    let trains: Vec<Vec<f64>> = if neuron.is_sorted() {
        // Rows grouped by neuron (as `simulate` writes them): each train is one slice, found
        // in one pass and copied on all cores.
        let mut slices = vec![(0, 0); count];
        let mut start = 0;
        for group in neuron.chunk_by(|a, b| a == b) {
            slices[group[0] as usize] = (start, start + group.len());
            start += group.len();
        }
        slices
            .into_par_iter()
            .map(|(a, b)| t[a..b].to_vec())
            .collect()
    } else {
        // Each train's spikes counted first, so that every train is allocated once.
        let mut sizes = vec![0usize; count];
        for &n in &neuron {
            sizes[n as usize] += 1;
        }
        let mut trains: Vec<Vec<f64>> = sizes.into_iter().map(Vec::with_capacity).collect();
        for (n, t) in neuron.iter().zip(&t) {
            trains[*n as usize].push(*t);
        }
        trains
    };
    // In the file's order: `stats` sorts a train given out of order and says so.
    Ok(SpikeFile {
        trains,
        units,
        recording_end,
    })
}

/// (neuron, t) of a spikes CSV without quoting, parsed in parallel ([`numeric_csv`]).
fn plain_spikes_csv(text: &str) -> Result<(Vec<f64>, Vec<f64>, crate::model::Units), String> {
    let (names, start, header_line) = numeric_csv::header(text);
    let ct = time_column(&names)?;
    let mut wanted = vec![(ct, names[ct].trim())];
    let cn = crate::input::column(&names, "neuron")?;
    if let Some(c) = cn {
        wanted.push((c, "neuron"));
    }
    let mut cols = numeric_csv::parse_columns(
        &text[start..],
        header_line + 1,
        names.len(),
        &wanted,
        crate::input::MAX_LINE_BYTES,
    )?;
    let t = std::mem::take(&mut cols[0]);
    let neuron = match cn {
        Some(_) => std::mem::take(&mut cols[1]),
        None => vec![0.0; t.len()],
    };
    Ok((neuron, t, time_units(&names[ct])))
}

/// The column of spike times: `t_ms`, or `t` in a file without units.
fn time_column(names: &[impl AsRef<str>]) -> Result<usize, String> {
    use crate::input::column;
    match column(names, "t_ms")? {
        Some(c) => Ok(c),
        None => column(names, "t")?.ok_or_else(|| "no column 't_ms' (or 't')".into()),
    }
}

/// (neuron, t) of a spikes CSV with quoted fields, record by record (the `csv` crate).
fn quoted_spikes_csv(bytes: &[u8]) -> Result<(Vec<f64>, Vec<f64>, crate::model::Units), String> {
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(bytes);
    let h = r.headers().map_err(|e| e.to_string())?.clone();
    let names: Vec<&str> = h.iter().collect();
    let ct = time_column(&names)?;
    let cn = crate::input::column(&names, "neuron")?;
    let (mut ns, mut ts) = (Vec::new(), Vec::new());
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        // The line where the record starts, as the plain reader counts lines.
        let line = rec.position().map_or(0, |p| p.line());
        if rec.as_slice().len() > crate::input::MAX_LINE_BYTES {
            return Err(format!(
                "line {line} is longer than {} bytes",
                crate::input::MAX_LINE_BYTES
            ));
        }
        let num = |c: usize, name: &str| -> Result<f64, String> {
            let s = rec.get(c).unwrap_or("").trim();
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("line {line}: {name} '{s}' is not a finite number"))
        };
        ts.push(num(ct, names[ct].trim())?);
        ns.push(match cn {
            Some(c) => num(c, "neuron")?,
            None => 0.0,
        });
    }
    Ok((ns, ts, time_units(names[ct])))
}

/// `spike_stats.parquet`: one row per neuron.
pub fn stats_table(stats: &[TrainStats]) -> Table {
    let col = |f: &dyn Fn(&TrainStats) -> f64| stats.iter().map(f).collect::<Vec<f64>>();
    Table::new("spike_stats")
        .u32("neuron", (0..stats.len() as u32).collect())
        .u32(
            "n_spikes",
            stats.iter().map(|s| s.n_spikes as u32).collect(),
        )
        .f64("rate_hz", col(&|s| s.rate_hz))
        .f64("isi_mean_ms", col(&|s| s.isi_mean_ms))
        .f64("isi_std_ms", col(&|s| s.isi_std_ms))
        .f64("cv", col(&|s| s.cv))
        .f64("cv2", col(&|s| s.cv2))
        .f64("lv", col(&|s| s.lv))
        .f64("lvr", col(&|s| s.lvr))
        .f64("fano", col(&|s| s.fano))
        .f64("serial_corr", col(&|s| s.serial_corr))
        .f64("first_spike_ms", col(&|s| s.first_spike_ms))
        .str("reason", stats.iter().map(|s| s.reason.clone()).collect())
}

/// Rows of `rate.parquet`, `neuron, t_ms, rate_hz` (kernel instantaneous rate), for the
/// trains `first..first + rates.len()`, each on the grid `t_ms`: the whole table, or one
/// block of it as `stats` streams them.
pub fn rate_table(first: usize, t_ms: &[f64], rates: Vec<f64>) -> Table {
    let trains = rates.len().checked_div(t_ms.len()).unwrap_or(0);
    let neurons = (first..first + trains).map(|k| k as u32).collect();
    // Kept in their repeated shapes: written as dictionaries without building their rows.
    Table::new("rate")
        .u32_runs("neuron", neurons, t_ms.len())
        .f64_cycle("t_ms", t_ms.into(), trains)
        .f64("rate_hz", rates)
}

/// `isi_histogram.parquet`: `neuron, bin_start_ms, count`.
pub fn isi_histogram_table(hists: &[(Vec<f64>, Vec<u32>)]) -> Table {
    let counts = hists.iter().flat_map(|h| h.1.iter().copied()).collect();
    let table = Table::new("isi_histogram");
    // Every train's histogram has the same bins ([`crate::analysis::spike_stats::isi_histograms`]):
    // then `neuron` and `bin_start_ms` are kept in their repeated shapes.
    let table = match hists.first() {
        Some((bins, _)) if hists.iter().all(|h| h.0 == *bins) => table
            .u32_runs("neuron", (0..hists.len() as u32).collect(), bins.len())
            .f64_cycle("bin_start_ms", bins.as_slice().into(), hists.len()),
        _ => table
            .u32(
                "neuron",
                hists
                    .iter()
                    .enumerate()
                    .flat_map(|(k, h)| std::iter::repeat_n(k as u32, h.0.len()))
                    .collect(),
            )
            .f64(
                "bin_start_ms",
                hists.iter().flat_map(|h| h.0.iter().copied()).collect(),
            ),
    };
    table.u32("count", counts)
}

/// `spike_trains.png`: a raster of the first 200 trains and the ISI histograms (bins of
/// `bin_ms`) of the first 8, over `span` (t_start, t_stop: the raster's time axis, so a train
/// without spikes still shows the interval it covers), with the time axis in `units` (bare
/// for a file without units).
pub fn draw_spike_trains(
    png: &Path,
    trains: &[Vec<f64>],
    hists: &[(Vec<f64>, Vec<u32>)],
    bin_ms: f64,
    span: (f64, f64),
    units: crate::model::Units,
) -> Result<(), ReportError> {
    let in_units = |what: &str| {
        if units.known() {
            format!("{what} ({})", units.time)
        } else {
            what.to_string()
        }
    };
    let shown = trains.len().clamp(1, 200);
    let raster = Panel {
        x_desc: in_units("t"),
        y_desc: "neuron".into(),
        x_range: Some(span),
        y_range: Some((-0.5, shown as f64 - 0.5)),
        series: trains
            .iter()
            .enumerate()
            .take(200)
            .map(|(k, tr)| Series {
                label: String::new(),
                points: tr.iter().map(|&x| (x, k as f64)).collect(),
                color: PALETTE[0],
                style: Style::Ticks,
            })
            .collect(),
        ..Default::default()
    };
    let hist = Panel {
        x_desc: in_units("interspike interval"),
        y_desc: "count".into(),
        series: hists
            .iter()
            .enumerate()
            .take(8)
            .map(|(k, (x, c))| {
                let bins = x.iter().zip(c).map(|(x, c)| (*x, *c as f64));
                Series::histogram(format!("neuron {k}"), k, bin_ms, bins)
            })
            .collect(),
        ..Default::default()
    };
    draw_panels(
        png,
        "spike trains: raster and ISI histogram",
        &[raster, hist],
        1,
        (1200, 900),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::ColumnData;

    /// Rows grouped by neuron (one slice per train) and rows in any order (counted, then
    /// placed) give the same trains, with a train for every neuron up to the largest, empty
    /// where a neuron has no spike; each train in the file's order (`stats` sorts it, and
    /// says so).
    #[test]
    fn trains_are_the_same_whether_rows_are_grouped_by_neuron_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [(0, 5.0), (0, 1.5), (2, 3.0), (4, 9.0), (4, 2.0), (4, 7.5)];
        let want = vec![
            vec![1.5, 5.0],
            vec![],
            vec![3.0],
            vec![],
            vec![2.0, 7.5, 9.0],
        ];
        let write = |name: &str, order: &[usize]| {
            let path = dir.path().join(name);
            let mut text = String::from("neuron,t_ms\n");
            for &k in order {
                text.push_str(&format!("{},{}\n", rows[k].0, rows[k].1));
            }
            std::fs::write(&path, text).unwrap();
            path
        };
        let grouped = write("grouped.csv", &[0, 1, 2, 3, 4, 5]);
        let mixed = write("mixed.csv", &[4, 0, 2, 5, 1, 3]);
        let sorted = |mut trains: Vec<Vec<f64>>| {
            trains.iter_mut().for_each(|t| t.sort_by(f64::total_cmp));
            trains
        };
        let (g, m) = (read_spikes(&grouped).unwrap(), read_spikes(&mixed).unwrap());
        // In the file's order: neuron 0's 5.0 before its 1.5, neuron 4's rows as each file
        // lists them.
        assert_eq!(
            (g[0].clone(), g[4].clone()),
            (vec![5.0, 1.5], vec![9.0, 2.0, 7.5])
        );
        assert_eq!(m[4], vec![2.0, 7.5, 9.0]);
        assert_eq!(sorted(g), want);
        assert_eq!(sorted(m), want);
        // A column named twice is refused by the plain reader and by the one for quoted
        // fields alike: which of the two to read would be a guess.
        for (name, text) in [
            ("twice.csv", "t_ms,neuron,t_ms\n1,0,5\n"),
            ("quoted.csv", "\"t_ms\",neuron,neuron\n1,0,5\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let e = read_spikes(&path).unwrap_err().to_string();
            assert!(e.contains("appears twice in the header"), "{name}: {e}");
        }
    }

    /// Lines starting with `#` are comments, before the header and among the rows, for the
    /// parallel plain reader and the quoted one alike.
    #[test]
    fn comment_lines_are_skipped_by_both_readers() {
        let dir = tempfile::tempdir().unwrap();
        let plain = "# from a recording\n#rig 3\nneuron,t_ms\n0,1.5\n# a note\n1,2.5\n0,4\n";
        let quoted = plain.replace("1,2.5", "\"1\",2.5");
        for (name, text) in [("plain.csv", plain.to_string()), ("quoted.csv", quoted)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                read_spikes(&path).unwrap(),
                vec![vec![1.5, 4.0], vec![2.5]],
                "{name}"
            );
            // Errors count comment lines as an editor does: the bad row is line 8.
            std::fs::write(&path, text_with_bad_row(name)).unwrap();
            let e = read_spikes(&path).unwrap_err().to_string();
            assert!(e.contains("line 8"), "{name}: {e}");
        }
        // A file of comments alone has no header.
        let path = dir.path().join("comments.csv");
        std::fs::write(&path, "# nothing\n# here\n").unwrap();
        let e = read_spikes(&path).unwrap_err().to_string();
        assert!(e.contains("no column 't_ms'"), "{e}");
    }

    /// The neuron count `simulate` records adds the silent neurons after the last that fired;
    /// a count smaller than the file's largest neuron (a file edited by hand) takes nothing
    /// away. A bare `t` column (a model without units) is read with its units named; a CSV has
    /// no metadata and numbers its neurons by its rows.
    #[test]
    fn the_recorded_neuron_count_adds_silent_neurons_and_a_bare_t_has_no_units() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, time: &str, neurons: Option<&str>| {
            let sub = dir.path().join(name);
            std::fs::create_dir_all(&sub).unwrap();
            let mut t = Table::new("spikes")
                .u32("neuron", vec![0, 2])
                .f64(time, vec![1.0, 2.0]);
            if let Some(n) = neurons {
                t = t.with_metadata(&[(NEURONS_KEY.to_string(), n.to_string())]);
            }
            t.write_parquet(&sub).unwrap();
            sub.join("spikes.parquet")
        };
        let read = |p: &Path| read_spike_file(p).unwrap();
        let more = read(&write("more", "t_ms", Some("5")));
        assert_eq!(
            more.trains,
            vec![vec![1.0], vec![], vec![2.0], vec![], vec![]]
        );
        assert!(more.units.known());
        assert_eq!(read(&write("fewer", "t_ms", Some("1"))).trains.len(), 3);
        assert_eq!(read(&write("junk", "t_ms", Some("many"))).trains.len(), 3);
        let bare = read(&write("bare", "t", None));
        assert_eq!((bare.trains.len(), bare.units.known()), (3, false));
        let csv = dir.path().join("bare.csv");
        std::fs::write(&csv, "neuron,t\n1,4.5\n").unwrap();
        let from_csv = read(&csv);
        assert_eq!(from_csv.trains, vec![vec![], vec![4.5]]);
        assert!(!from_csv.units.known());
        std::fs::write(&csv, "t\n4.5\nnan\n").unwrap();
        let e = read_spike_file(&csv).unwrap_err().to_string();
        assert!(e.contains("line 3: t 'nan' is not a finite number"), "{e}");
    }

    /// The comment test's file with an eighth line that is not a number.
    fn text_with_bad_row(name: &str) -> String {
        let rows = "# from a recording\n#rig 3\nneuron,t_ms\n0,1.5\n# a note\n1,2.5\n0,4\n0,x\n";
        if name.starts_with("quoted") {
            rows.replace("1,2.5", "\"1\",2.5")
        } else {
            rows.to_string()
        }
    }

    /// A neuron that is not a whole number in range, and (in a Parquet file, which the CSV
    /// reader's line checks do not cover) a time that is not finite, are refused with the
    /// row, wherever they fall in a file of several blocks of the checks.
    #[test]
    fn neurons_out_of_range_and_times_not_finite_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let n = 50_000;
        for (bad, why) in [
            (1.5, "neuron must be a whole number in [0, 10^7]"),
            (-1.0, "neuron must be a whole number in [0, 10^7]"),
            (2e7, "neuron must be a whole number in [0, 10^7]"),
        ] {
            let mut neuron = vec![0.0; n];
            neuron[n - 7] = bad;
            Table::new("spikes")
                .f64("neuron", neuron)
                .f64("t_ms", (0..n).map(|k| k as f64).collect())
                .write_parquet(dir.path())
                .unwrap();
            let e = read_spikes(&dir.path().join("spikes.parquet"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{e}");
        }
        for (row, bad) in [
            (1, f64::NAN),
            (20_000, f64::INFINITY),
            (n, f64::NEG_INFINITY),
        ] {
            let mut t: Vec<f64> = (0..n).map(|k| k as f64).collect();
            t[row - 1] = bad;
            Table::new("spikes")
                .f64("neuron", vec![0.0; n])
                .f64("t_ms", t)
                .write_parquet(dir.path())
                .unwrap();
            let e = read_spikes(&dir.path().join("spikes.parquet"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("row {row}: t_ms {bad} is not a finite number")),
                "{e}"
            );
        }
    }

    /// The ISI histogram table in its repeated shapes (every train on the same bins) holds
    /// the rows of the plain one; trains on different bins are written row by row.
    #[test]
    fn isi_histogram_rows_are_the_same_in_either_shape() {
        let same = vec![
            (vec![0.0, 1.0, 2.0], vec![1, 0, 2]),
            (vec![0.0, 1.0, 2.0], vec![0, 3, 0]),
        ];
        let table = isi_histogram_table(&same);
        assert!(matches!(table.columns[0].1, ColumnData::U32Runs { .. }));
        let plain = Table::new("isi_histogram")
            .u32("neuron", vec![0, 0, 0, 1, 1, 1])
            .f64("bin_start_ms", vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0])
            .u32("count", vec![1, 0, 2, 0, 3, 0]);
        assert_eq!(table.into_frame().unwrap(), plain.to_frame().unwrap());
        let different = vec![(vec![0.0, 1.0], vec![1, 1]), (vec![0.0], vec![4])];
        let table = isi_histogram_table(&different);
        assert!(matches!(table.columns[0].1, ColumnData::U32(_)));
        let plain = Table::new("isi_histogram")
            .u32("neuron", vec![0, 0, 1])
            .f64("bin_start_ms", vec![0.0, 1.0, 0.0])
            .u32("count", vec![1, 1, 4]);
        assert_eq!(table.into_frame().unwrap(), plain.to_frame().unwrap());
    }
}
