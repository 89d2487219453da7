//! Report of `excitable max-rate`: `max_rate.parquet` and the summary.

use super::table::Table;
use crate::error::ReportError;
use crate::model::Quantity;
use crate::spec::MaxRateResult;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Biological ceiling of sustained firing quoted by `002_…` (a few hundred Hz; 500-600 at most).
pub const BIOLOGICAL_CEILING_HZ: f64 = 500.0;

impl super::Report for MaxRateResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    /// `max_rate.parquet`: `i_ua_cm2, rate_hz, isi_rate_hz, oscillation_hz, v_max_mv`.
    fn tables(&self) -> Vec<Table> {
        vec![
            Table::new("max_rate")
                .f64("i_ua_cm2", self.rates.currents.clone())
                .f64("rate_hz", self.rates.rates_hz.clone())
                .f64("isi_rate_hz", self.rates.isi_rates_hz.clone())
                .f64("oscillation_hz", self.rates.oscillation_hz.clone())
                .f64("v_max_mv", self.rates.v_max_mv.clone()),
        ]
    }

    fn figures(&self, _: &Path) -> Result<Vec<PathBuf>, ReportError> {
        Ok(vec![])
    }

    fn summary(&self) -> String {
        let r = &self.rates;
        let units = self.model.units();
        let (unit, volt) = (units.current, units.voltage);
        // A model without units has rates per 1000 of its time units, not Hz.
        let rate = |x: f64| match units.known() {
            true => format!("{x:.1} {}", units.rate),
            false => format!("{x:.1} per 1000 time units"),
        };
        let time = |x: f64| Quantity(x, units.time).to_string();
        let currents = &self.spec.currents.values;
        let mut md = format!("# Maximum firing rate of `{}`\n\n", self.model.label());
        // Nothing firing has no current of the maximum: the headline says so in words.
        let headline = if r.max_rate_hz > 0.0 && r.at_current.is_finite() {
            format!(
                "{} at {}",
                rate(r.max_rate_hz),
                Quantity(r.at_current, unit)
            )
        } else {
            format!("{}: no current fires", rate(0.0).replace(".0", ""))
        };
        let (lo, hi) = currents
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let _ = writeln!(
            md,
            "Highest steady spike rate over {} current(s) from {} to {}: **{headline}** ({} counted after {}, {} at dt {}, spikes at {}).",
            currents.len(),
            Quantity(lo, unit),
            Quantity(hi, unit),
            time(self.spec.window),
            time(self.spec.transient),
            crate::simulate::Method::for_sweeps(&self.model).name(),
            time(self.spec.dt),
            Quantity(r.threshold_mv, volt)
        );
        // A maximum at the range's top with the rate still rising there lies beyond it
        // (LIF: 248 Hz at 250 uA/cm^2, the top, rising towards 1/t_ref).
        let (mut order, isi) = ((0..r.currents.len()).collect::<Vec<_>>(), &r.isi_rates_hz);
        order.sort_by(|&a, &b| r.currents[a].total_cmp(&r.currents[b]));
        if let [.., below, top] = order[..]
            && r.max_rate_hz > 0.0
            && r.at_current == r.currents[top]
            && isi[top] > isi[below]
        {
            let _ = writeln!(
                md,
                "\n**The maximum is at the range's top, where the rate still rises** (1000 / mean ISI {} at {}, {} at {}): the highest rate may lie beyond the range.",
                rate(isi[below]),
                Quantity(r.currents[below], unit),
                rate(isi[top]),
                Quantity(r.currents[top], unit)
            );
        }
        let table = self
            .written_tables()
            .into_iter()
            .next()
            .map(|t| {
                t.columns
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        // By name (in the model's units: `oscillation_hz` or `oscillation_per_1000t`).
        let named = |prefix: &str| {
            (table.iter())
                .find(|n| n.starts_with(prefix))
                .cloned()
                .unwrap_or_default()
        };
        let (osc_column, peak_column) = (named("`oscillation"), named("`v_max"));
        // Where the cell oscillates but its peaks stay below the threshold: not spikes, but
        // not silence either.
        let below: Vec<usize> = (0..r.currents.len())
            .filter(|&k| r.rates_hz[k] == 0.0 && r.oscillation_hz[k].is_finite())
            .collect();
        if let (Some(&first), Some(&last)) = (below.first(), below.last()) {
            let f = below.iter().map(|&k| r.oscillation_hz[k]);
            let (f_lo, f_hi) = f.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            let v_top = below
                .iter()
                .map(|&k| r.v_max_mv[k])
                .fold(f64::NEG_INFINITY, f64::max);
            let _ = writeln!(
                md,
                "
**{} current(s) from {} to {} oscillate without crossing the threshold**: {:.1} to {}, peaks at most {} (threshold {}). They count as 0 spikes here; a lower `threshold` counts them ({osc_column}, {peak_column} in the table).",
                below.len(),
                Quantity(r.currents[first], unit),
                Quantity(r.currents[last], unit),
                f_lo,
                rate(f_hi),
                Quantity((v_top * 100.0).round() / 100.0, volt),
                Quantity(r.threshold_mv, volt)
            );
        }
        if r.max_rate_hz == 0.0 {
            let _ = writeln!(
                md,
                "\nNo current of the grid gives sustained spiking: after the transient the model is silent or oscillates below the threshold everywhere."
            );
        }
        // A count is whole: currents whose count ties the maximum's are one rate to the
        // resolution of the window, and the first of them is not where the rate peaks (LIF's
        // closed-form rate rises on to the range's end through 52 tied counts).
        let tied: Vec<usize> = (0..r.currents.len())
            .filter(|&k| r.max_rate_hz > 0.0 && r.rates_hz[k] == r.max_rate_hz)
            .collect();
        if let (true, Some(&last)) = (tied.len() > 1, tied.last()) {
            let top = r.currents[last] >= hi;
            let _ = writeln!(
                md,
                "\n{} current(s), up to {}, give the same count: the rate is resolved to one spike in the {} counted ({}), so the maximum lies somewhere among them{}. By the mean interval (`isi_rate_hz`, continuous in the current) the fastest of them is {} at {}, the current named above.",
                tied.len(),
                Quantity(r.currents[last], unit),
                time(self.spec.window),
                rate(1000.0 / self.spec.window),
                if top {
                    ", or beyond the range's end"
                } else {
                    ""
                },
                r.currents
                    .iter()
                    .position(|&c| c == r.at_current)
                    .map_or("not known".to_string(), |k| rate(r.isi_rates_hz[k])),
                Quantity(r.at_current, unit)
            );
        }
        // The biological ceiling is in Hz: it says nothing about a model without units, nor
        // about a model that does not fire.
        if units.known() && r.max_rate_hz > 0.0 {
            let verdict = if r.max_rate_hz > BIOLOGICAL_CEILING_HZ {
                "above"
            } else {
                "within"
            };
            let _ = writeln!(
                md,
                "\nThat is {verdict} the biological ceiling of about {BIOLOGICAL_CEILING_HZ} Hz that the blog post \"Memory Waves\" discusses (`002` in the source documents)."
            );
        }
        let _ = writeln!(
            md,
            "\nTable: [max_rate.parquet](max_rate.parquet) ({}).",
            table.join(", ")
        );
        md
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}
