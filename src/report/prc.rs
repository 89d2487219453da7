//! Report of `excitable prc`: `prc.parquet` (long: current, phase, variable, value),
//! `prc_cycles.parquet` (one row per current), `prc.png` and the summary.

use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::error::ReportError;
use crate::model::Quantity;
use crate::spec::prc::PrcResult;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl PrcResult {
    /// Name of the current column: `i_ua_cm2`, or `i` for a model without units.
    pub fn current_column(&self) -> &'static str {
        if self.model.units().known() {
            "i_ua_cm2"
        } else {
            // As every table of a model without units names it (docs/tables.md); it had
            // been `current` here alone.
            "i"
        }
    }

    /// Name of the value column: `prc_ms_per_unit` (ms of phase advance per unit of the
    /// variable: ms/mV for V), or `prc` for a model without units.
    pub fn value_column(&self) -> &'static str {
        if self.model.units().known() {
            "prc_ms_per_unit"
        } else {
            "prc"
        }
    }
}

impl super::Report for PrcResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    /// `prc.parquet`: `i_ua_cm2` (`i`), `phase` (fraction of the period, 0 = upward
    /// threshold crossing), `variable`, `prc_ms_per_unit` (`prc`); `prc_cycles.parquet`: per
    /// current `period_ms` (`period`), `prc_v_max`, `phase_of_max`, `prc_v_min`,
    /// `phase_of_min`, `negative_fraction`, `type` (`I`/`II`), `max_multiplier`,
    /// `normalisation_error`, `ntst` (the mesh's intervals), `mesh_error` (the mesh check).
    fn tables(&self) -> Vec<Table> {
        let (mut cur, mut ph, mut var, mut val) = (vec![], vec![], vec![], vec![]);
        for p in &self.prcs {
            for (i, name) in self.var_names.iter().enumerate() {
                for (k, &phase) in p.phases.iter().enumerate() {
                    cur.push(p.current);
                    ph.push(phase);
                    var.push(name.clone());
                    val.push(p.values[i][k]);
                }
            }
        }
        let units = self.model.units().known();
        let stats: Vec<((f64, f64), (f64, f64))> =
            self.prcs.iter().map(|p| (p.v_max(), p.v_min())).collect();
        vec![
            Table::new("prc")
                .f64(self.current_column(), cur)
                .f64("phase", ph)
                .str("variable", var)
                .f64(self.value_column(), val),
            Table::new("prc_cycles")
                .f64(
                    self.current_column(),
                    self.prcs.iter().map(|p| p.current).collect(),
                )
                .f64(
                    if units { "period_ms" } else { "period" },
                    self.prcs.iter().map(|p| p.period).collect(),
                )
                .f64("prc_v_max", stats.iter().map(|s| s.0.0).collect())
                .f64("phase_of_max", stats.iter().map(|s| s.0.1).collect())
                .f64("prc_v_min", stats.iter().map(|s| s.1.0).collect())
                .f64("phase_of_min", stats.iter().map(|s| s.1.1).collect())
                .f64(
                    "negative_fraction",
                    self.prcs.iter().map(|p| p.negative_fraction()).collect(),
                )
                .str(
                    "type",
                    self.prcs
                        .iter()
                        .map(|p| p.kind().name().trim_start_matches("type ").to_string())
                        .collect(),
                )
                .f64(
                    "max_multiplier",
                    self.prcs.iter().map(|p| p.max_multiplier).collect(),
                )
                .f64(
                    "normalisation_error",
                    self.prcs.iter().map(|p| p.normalisation_error).collect(),
                )
                .u32("ntst", self.prcs.iter().map(|p| p.ntst as u32).collect())
                .f64(
                    "mesh_error",
                    self.prcs.iter().map(|p| p.mesh_error).collect(),
                ),
        ]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let units = self.model.units();
        let cu = units.current;
        let label_every = self.prcs.len().div_ceil(8).max(1);
        let v_series: Vec<Series> = self
            .prcs
            .iter()
            .enumerate()
            .map(|(k, p)| Series {
                label: if k % label_every == 0 || k + 1 == self.prcs.len() {
                    format!("{}", Quantity(p.current, cu))
                } else {
                    String::new()
                },
                points: p
                    .phases
                    .iter()
                    .copied()
                    .zip(p.v().iter().copied())
                    .collect(),
                color: super::figure::PALETTE[k % super::figure::PALETTE.len()],
                style: Style::Line,
            })
            .collect();
        let y_unit = if units.known() { " (ms/mV)" } else { "" };
        let mut panels = vec![Panel {
            x_desc: "phase (0 = upward threshold crossing)".into(),
            y_desc: format!("PRC of {}{y_unit}", self.var_names[0]),
            x_range: Some((0.0, 1.0)),
            series: v_series,
            ..Panel::default()
        }];
        if let Some(p) = self.prcs.first()
            && self.var_names.len() > 1
        {
            panels.push(Panel {
                x_desc: "phase".into(),
                y_desc: format!(
                    "PRC of the other variables at {}{}",
                    Quantity(p.current, cu),
                    if units.known() { " (ms/unit)" } else { "" }
                ),
                x_range: Some((0.0, 1.0)),
                series: self.var_names[1..]
                    .iter()
                    .enumerate()
                    .map(|(i, name)| Series {
                        label: name.clone(),
                        points: p
                            .phases
                            .iter()
                            .copied()
                            .zip(p.values[i + 1].iter().copied())
                            .collect(),
                        color: super::figure::PALETTE[i % super::figure::PALETTE.len()],
                        style: Style::Line,
                    })
                    .collect(),
                ..Panel::default()
            });
        }
        let path = dir.join("prc.png");
        let columns = panels.len();
        draw_panels(
            &path,
            &format!("Phase response curves of {}", self.model.label()),
            &panels,
            columns,
            (700 * columns as u32, 520),
        )?;
        Ok(vec![path])
    }

    fn summary(&self) -> String {
        let units = self.model.units();
        let (cu, vu, tu) = (units.current, units.voltage, units.time);
        let per = if units.known() { " ms/mV" } else { "" };
        let mut md = format!("# Phase response curves of `{}`\n\n", self.model.label());
        let _ = writeln!(
            md,
            "Infinitesimal PRCs of every state variable by the adjoint method on the cycle solved by collocation ({} points per interval), normalised so that Z . f = 1: the value is the phase advance in {} per unit of the variable{}. Phase is the fraction of the period; **phase 0 is the upward crossing of {} through {}**. Type II means a negative lobe deeper than 1% of the maximum. Each curve is computed from {} intervals on meshes doubled until two successive curves differ by at most {} of each variable's largest value (up to {} intervals); the table gives the mesh kept and that difference (mesh error).\n",
            self.spec.ncol,
            if tu.is_empty() { "time units" } else { tu },
            if units.known() {
                " (ms/mV for V, ms per unit for a gate)"
            } else {
                ""
            },
            self.var_names[0],
            Quantity(self.threshold, vu),
            self.spec.ntst,
            crate::analysis::prc::PRC_MESH_RTOL,
            crate::analysis::prc::PRC_MAX_NTST
        );
        let _ = writeln!(
            md,
            "| current | period | PRC max (phase) | PRC min (phase) | negative lobe (below -1% of the max) | type | max multiplier | Z.f error | intervals | mesh error |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for p in &self.prcs {
            let ((mx, pmx), (mn, pmn)) = (p.v_max(), p.v_min());
            let lobe = p.negative_fraction();
            let _ = writeln!(
                md,
                "| {} | {} | {:.5}{per} ({:.3}) | {:.5}{per} ({:.3}) | {} | {} | {:.4} | {:.1e} | {} | {} |",
                Quantity(p.current, cu),
                Quantity((p.period * 1e4).round() / 1e4, tu),
                mx,
                pmx,
                mn,
                pmn,
                if lobe > 0.0 {
                    format!("{} of the cycle", percent_of_cycle(lobe))
                } else {
                    "none".into()
                },
                p.kind().name(),
                p.max_multiplier,
                p.normalisation_error,
                p.ntst,
                if p.mesh_error.is_nan() {
                    "not run".to_string()
                } else {
                    format!("{:.1e}", p.mesh_error)
                }
            );
        }
        let unsettled: Vec<String> = (self.prcs.iter())
            .filter(|p| p.mesh_error.is_nan() || p.mesh_error > crate::analysis::prc::PRC_MESH_RTOL)
            .map(|p| format!("{}", Quantity(p.current, cu)))
            .collect();
        if !unsettled.is_empty() {
            let _ = writeln!(
                md,
                "\n**Not converged in the mesh** at {}: the curves there differ from those on half the intervals by more than {} (or the finer cycle could not be solved: \"not run\"), so their values are uncertain by about that much.",
                unsettled.join(", "),
                crate::analysis::prc::PRC_MESH_RTOL
            );
        }
        for p in self.prcs.iter().filter(|p| p.section != self.threshold) {
            let _ = writeln!(
                md,
                "\nAt {} the cycle does not cross the threshold (it stays {} it): its phase 0 is the upward crossing of {}, the middle of its V range.",
                Quantity(p.current, cu),
                if p.section < self.threshold {
                    "below"
                } else {
                    "above"
                },
                Quantity((p.section * 1e4).round() / 1e4, vu)
            );
        }
        let _ = writeln!(
            md,
            "\nTables: [prc.parquet](prc.parquet) (`{}`, `phase`, `variable`, `{}`), [prc_cycles.parquet](prc_cycles.parquet). Figure: [prc.png](prc.png). Computed in {:.2} s.",
            self.current_column(),
            self.value_column(),
            self.seconds
        );
        md
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// A fraction as a percentage with at least one significant digit: a lobe on 0.3% of the
/// cycle beside "type II" had read "0%".
fn percent_of_cycle(fraction: f64) -> String {
    let pct = 100.0 * fraction;
    let decimals = if pct >= 1.0 {
        0
    } else {
        (-pct.log10()).ceil().clamp(1.0, 12.0) as usize
    };
    // Decimals chosen before rounding: 0.0096 rounds to "1.0", 0.00096 to "0.10".
    let text = format!("{pct:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}%")
}

#[cfg(test)]
mod tests {
    use super::percent_of_cycle;

    /// A lobe under 1% of the cycle keeps a significant digit (it had read "0%" beside
    /// "type II"); from 1% on, whole percents.
    #[test]
    fn a_narrow_lobe_is_not_shown_as_zero() {
        assert_eq!(percent_of_cycle(0.0031), "0.3%");
        assert_eq!(percent_of_cycle(0.0004), "0.04%");
        assert_eq!(percent_of_cycle(0.001), "0.1%");
        assert_eq!(percent_of_cycle(0.25), "25%");
        assert_eq!(percent_of_cycle(0.0096), "1%");
        assert_eq!(percent_of_cycle(0.00096), "0.1%");
    }
}
