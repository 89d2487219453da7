//! Report of `excitable excitability`: `excitability.parquet` (one row: the class and its
//! evidence), `excitability_fi.parquet` (the stable cycles' rate by current),
//! `excitability.png` (that f-I curve with the onset marked) and a summary paragraph.

use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::excitability::{HodgkinClass, Onset};
use crate::analysis::prc::PrcType;
use crate::error::ReportError;
use crate::model::Quantity;
use crate::spec::excitability::ExcitabilityResult;
use plotters::style::RGBColor;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl ExcitabilityResult {
    fn current_column(&self) -> &'static str {
        if self.model.units().known() {
            "i_ua_cm2"
        } else {
            // As every table of a model without units names it (docs/tables.md).
            "i"
        }
    }
}

impl super::Report for ExcitabilityResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    /// `excitability.parquet`: `hodgkin_class`, `izhikevich`, `onset`, `i_onset_ua_cm2`,
    /// `rest_lost_ua_cm2`, `rest_lost_by`, `bistable_from_ua_cm2`, `bistable_to_ua_cm2`,
    /// `min_rate_hz` (without units for an `.ode` model: [`Table::in_units`]),
    /// `fi_slope_hz_per_ua_cm2` (`fi_slope`), `prc_type`, `leading_re_per_ms`,
    /// `leading_im_per_ms`, `end_multiplier`; `excitability_fi.parquet`: current, `rate_hz`.
    fn tables(&self) -> Vec<Table> {
        let e = &self.excitability;
        let units = self.model.units().known();
        let nan = f64::NAN;
        vec![
            Table::new("excitability")
                .str("hodgkin_class", vec![e.verdict.class.name().into()])
                .str("izhikevich", vec![e.izhikevich.name().into()])
                .str("onset", vec![e.verdict.onset.name().into()])
                .f64("i_onset_ua_cm2", vec![e.verdict.i_min])
                .f64("rest_lost_ua_cm2", vec![e.rest_lost.map_or(nan, |r| r.0)])
                .str(
                    "rest_lost_by",
                    vec![e.rest_lost.map_or("none", |r| r.1).into()],
                )
                .f64(
                    "bistable_from_ua_cm2",
                    vec![e.bistable.map_or(nan, |b| b.0)],
                )
                .f64("bistable_to_ua_cm2", vec![e.bistable.map_or(nan, |b| b.1)])
                .f64("min_rate_hz", vec![e.min_rate_hz])
                .f64(
                    if units {
                        "fi_slope_hz_per_ua_cm2"
                    } else {
                        "fi_slope"
                    },
                    vec![e.fi_slope],
                )
                .str(
                    "prc_type",
                    vec![e.prc_type.map_or("none", |t| t.name()).into()],
                )
                .f64(
                    if units {
                        "leading_re_per_ms"
                    } else {
                        "leading_re"
                    },
                    vec![e.leading.0],
                )
                .f64(
                    if units {
                        "leading_im_per_ms"
                    } else {
                        "leading_im"
                    },
                    vec![e.leading.1],
                )
                .f64("end_multiplier", vec![e.verdict.multiplier_end]),
            Table::new("excitability_fi")
                .f64(self.current_column(), e.fi.iter().map(|p| p.0).collect())
                .f64("rate_hz", e.fi.iter().map(|p| p.1).collect()),
        ]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let e = &self.excitability;
        let units = self.model.units();
        let mut series = vec![Series {
            label: "stable cycles".into(),
            points: e.fi.clone(),
            color: super::figure::PALETTE[0],
            style: Style::Line,
        }];
        if e.verdict.i_min.is_finite() {
            series.push(Series {
                label: format!("onset ({})", e.verdict.onset.name()),
                points: vec![(e.verdict.i_min, e.min_rate_hz)],
                color: RGBColor(200, 30, 30),
                style: Style::Markers,
            });
        }
        if let Some((ic, by)) = e.rest_lost {
            series.push(Series {
                label: format!("rest lost ({by})"),
                points: vec![(ic, 0.0)],
                color: RGBColor(30, 30, 30),
                style: Style::Markers,
            });
        }
        let path = dir.join("excitability.png");
        draw_panels(
            &path,
            &format!(
                "{}: class {}, {}",
                self.model.label(),
                e.verdict.class.name(),
                e.izhikevich.name()
            ),
            &[Panel {
                x_desc: if units.known() {
                    "current (uA/cm^2)".into()
                } else {
                    "current".into()
                },
                y_desc: if units.known() {
                    "rate of the stable cycle (Hz)".into()
                } else {
                    "rate (per 1000 time units)".into()
                },
                series,
                ..Panel::default()
            }],
            1,
            (800, 560),
        )?;
        Ok(vec![path])
    }

    fn summary(&self) -> String {
        let e = &self.excitability;
        let units = self.model.units();
        let cu = units.current;
        let rate = if units.known() {
            "Hz"
        } else {
            "per 1000 time units"
        };
        let mut md = format!("# Excitability of `{}`\n\n", self.model.label());
        let class = match e.verdict.class.name() {
            "3" => "class 3: no repetitive firing under constant current in the range, a phasic spike at a step".to_string(),
            "none" => "not excitable in the range: no spike at all, not even a phasic one at a step".to_string(),
            "undetermined" => "an undetermined class".to_string(),
            c => format!("Hodgkin's class {c}"),
        };
        let _ = write!(
            md,
            "`{}` is **{class}** and {} **{}** (leading eigenvalue of rest near threshold, at {}: {:.5} {} {:.5}i {}). ",
            self.model.label(),
            if e.izhikevich.name() == "integrator" {
                "an"
            } else {
                "a"
            },
            e.izhikevich.name(),
            Quantity(e.leading_at, cu),
            e.leading.0,
            if e.leading.1 >= 0.0 { "±" } else { "" },
            e.leading.1,
            if units.known() {
                "per ms"
            } else {
                "per unit of time"
            }
        );
        match e.rest_lost {
            Some((ic, by)) => {
                let _ = write!(md, "Rest loses stability at {} ({by}). ", Quantity(ic, cu));
            }
            None => {
                let _ = write!(md, "Rest stays stable over the range. ");
            }
        }
        let (from, to, why) = self.range;
        let below = e.verdict.onset == Onset::BelowRange;
        if below {
            let _ = write!(
                md,
                "Repetitive firing lasts down to the range's start, {}: the onset, and so the class, lie below it (lower `--from` to find them). ",
                Quantity(from, cu)
            );
        } else if e.verdict.i_min.is_finite() {
            let _ = write!(
                md,
                "Repetitive firing starts at {} ({}): the stable cycle followed down from {} ends there with period {:.4} (rate {:.4} {rate}) and largest nontrivial Floquet multiplier {:.4}. ",
                Quantity(e.verdict.i_min, cu),
                e.verdict.onset.name(),
                Quantity(e.probe.unwrap_or(f64::NAN), cu),
                e.verdict.period_end,
                e.min_rate_hz,
                e.verdict.multiplier_end
            );
            // A fold of cycles has a multiplier of 1. FitzHugh-Nagumo's fold lies in a canard,
            // where the period grows from 60 to 69 within 3e-7 of current: the last sample,
            // within the smallest step of the fold, had multiplier 0 and a rate 15% above the
            // slowest stable cycle the diagram finds by arclength.
            if e.verdict.onset == Onset::FoldOfCycles && e.verdict.multiplier_end < 0.5 {
                let _ = write!(
                    md,
                    "**That multiplier is far from the 1 of a fold of cycles**: near the end the period changes faster than the followed branch's smallest step resolves (as in a canard), so the period and rate there are those of the last cycle sampled, and the slowest stable rate may be lower: `bifurcation` follows the branch through the fold by arclength. "
                );
            }
            let _ = write!(
                md,
                "Mean f-I slope from the onset to the probe: {:.4} {rate} per {}. ",
                e.fi_slope,
                if cu.is_empty() { "unit of current" } else { cu }
            );
        }
        if let Some((a, b)) = e.bistable {
            let _ = write!(
                md,
                "Rest and firing coexist (bistable) from {} to {}. ",
                Quantity(a, cu),
                Quantity(b, cu)
            );
        }
        if e.verdict.i_min.is_nan() {
            let _ = write!(
                md,
                "{}",
                match e.rest_lost {
                    Some(_) =>
                        "No probe above that current found a stable cycle by simulation, so the class is not decided: a cycle may lie past the range, need a longer run, or not reach the spike threshold. ",
                    None if e.verdict.class == HodgkinClass::NotExcitable =>
                        "No probe fired, rest stays stable over the whole range, and a step from rest to the range's end gives no spike: the model does not spike in this range (widen `--to`, or lower `--threshold`, to look further). ",
                    None =>
                        "No probe fired and rest stays stable over the whole range, but a step from rest to the range's end gives a spike: this is class 3 for this range only; repetitive firing above it would make the model class 1 or 2 (widen `--to` to look). ",
                }
            );
        }
        if let Some(v) = e.section {
            let _ = write!(
                md,
                "The probe's cycle does not cross the spike threshold {}: its spikes and the PRC's phase 0 are taken at {}, the middle of its V range. ",
                Quantity(
                    self.spec.threshold.unwrap_or(self.model.threshold_mv()),
                    units.voltage
                ),
                Quantity((v * 1e4).round() / 1e4, units.voltage)
            );
        }
        if let (Some(t), Some(probe)) = (e.prc_type, e.probe) {
            let above = if below {
                String::new()
            } else {
                format!(
                    " ({:.2}% of the range above the onset)",
                    100.0 * (probe - e.verdict.i_min) / (to - from)
                )
            };
            let _ = write!(
                md,
                "The PRC at the probe, {}{above}, is {}{}. ",
                Quantity(probe, cu),
                t.name(),
                // Only where a SNIC's type I and the PRC found disagree: a saddle homoclinic
                // onset has no such expectation, and a type I PRC needs no excuse.
                if e.verdict.onset == Onset::Snic && t == PrcType::TypeII {
                    " (near a SNIC a PRC tends to type I only very close to the onset: `excitable prc --current` nearer the onset shows it)"
                } else {
                    ""
                }
            );
        }
        let _ = write!(
            md,
            "The evidence was taken over {} to {} ({}).",
            Quantity(from, cu),
            Quantity(to, cu),
            match why {
                "given" => "the range given",
                "parmin/parmax" => "the model file's AUTO range, parmin and parmax",
                "default" => "the default range",
                "given from, default to" => "`from` as given, the default `to`",
                "default from, given to" => "the default `from`, `to` as given",
                "given from, parmax" => "`from` as given, the model file's parmax",
                "parmin, given to" => "the model file's parmin, `to` as given",
                other => other,
            }
        );
        let _ = writeln!(
            md,
            "\n\nDecision rule: class 1 when the stable branch ends with its period growing without bound (largest nontrivial multiplier < 0.5, period at least 3 times the probe's), class 2 when it ends with a multiplier tending to 1 (fold of cycles or Hopf point) or a period less than twice the probe's (a finite rate), class 3 when no probe fires, rest stays stable over the range and a step from rest to its end gives a spike (no spike at all: not excitable in the range), undetermined when rest loses stability but no probe finds a stable cycle, or when firing lasts down to the range's start (see `excitable::analysis::excitability`).\n\nTables: [excitability.parquet](excitability.parquet), [excitability_fi.parquet](excitability_fi.parquet). Figure: [excitability.png](excitability.png). Computed in {:.2} s.",
            self.seconds
        );
        md
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}
