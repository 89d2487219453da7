//! Report of `excitable fit`:
//! - `fit.parquet`: `start`, `iteration`, `cost`, one column per free parameter (its unit in
//!   the name, `g_k_ms_cm2`): the best point of every iteration of every start;
//! - `fit_summary.parquet`: `target`, `source`, `unit`, `wanted`, `start_value`, `achieved`,
//!   `residual` (achieved - wanted, the target's unit), `tolerance`, `weight`,
//!   `within_tolerance`;
//! - `fit_params.parquet`: `parameter`, `unit`, `start`, `fitted`, `lower`, `upper`,
//!   `relative_uncertainty` (the relative change that costs one tolerance, from the Jacobian),
//!   `spread` (relative, over the starts that ended near the best);
//! - `fit_starts.parquet`: `start`, `cost`, `iterations`, `termination`, and each start's
//!   initial and final free parameters (`initial_g_k_ms_cm2`, `g_k_ms_cm2`);
//! - `fitted.toml` (a TOML model file; `fitted.ode` for an `.ode` model, its `par` lines
//!   rewritten) that `--model-file` loads;
//! - `fit.png` (cost against iteration, every start) and, with rate targets, `fit_fi.png`
//!   (the fitted model's f-I curve from rest against the targets); `summary.md`.

use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::fit::Quantity;
use crate::error::ReportError;
use crate::model::{Model, Quantity as Q};
use crate::spec::fit::FitResult;
use plotters::style::RGBColor;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl FitResult {
    /// The fitted model as the text of a model file and its file name: `fitted.toml` for a
    /// built-in or TOML model, `fitted.ode` for an `.ode` model whose file text is in
    /// `source_text`; `None` when the model cannot be written (LIF, or an `.ode` model
    /// without its text).
    pub fn model_file(&self) -> Option<(String, &'static str)> {
        match &self.fitted {
            Model::Conductance(m) => crate::model::export::to_toml(m)
                .ok()
                .map(|t| (t, "fitted.toml")),
            Model::Ode(_) => self.source_text.as_ref().map(|text| {
                let values: Vec<(String, f64)> = self
                    .free
                    .iter()
                    .map(|f| (f.name.clone(), self.fitted.params().value(f.index)))
                    .collect();
                (rewrite_ode_params(text, &values), "fitted.ode")
            }),
            Model::Lif(_) => None,
        }
    }

    fn param_column(&self, k: usize) -> String {
        self.model.params().param(self.free[k].index).column_name()
    }
}

/// `text` (an `.ode` file) with `name=value` in its parameter lines (`p`, `par`, `param`)
/// set to the new values (names matched without regard to case, as XPPAUT does).
pub fn rewrite_ode_params(text: &str, values: &[(String, f64)]) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let first = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !["p", "par", "param", "params", "parameter", "parameters"].contains(&first.as_str()) {
            out.push_str(line);
            continue;
        }
        let mut l = line.to_string();
        for (name, v) in values {
            l = set_assignment(&l, name, *v);
        }
        out.push_str(&l);
    }
    out
}

/// `line` with the number after `name =` replaced by `v`.
fn set_assignment(line: &str, name: &str, v: f64) -> String {
    let lower = line.to_ascii_lowercase();
    let key = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(k) = lower[from..].find(&key) {
        let s = from + k;
        let e = s + key.len();
        let before_ok = s == 0 || matches!(bytes[s - 1], b' ' | b'\t' | b',');
        let rest = &lower[e..];
        let eq = rest.len() - rest.trim_start().len();
        if before_ok && rest.trim_start().starts_with('=') {
            let num_start = e + eq + 1;
            let tail = &line[num_start..];
            let skip = tail.len() - tail.trim_start().len();
            let num_from = num_start + skip;
            let num_len = line[num_from..]
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(line.len() - num_from);
            return format!("{}{v}{}", &line[..num_from], &line[num_from + num_len..]);
        }
        from = e;
    }
    line.to_string()
}

impl super::Report for FitResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        let units = self.model.units();
        let h = &self.history;
        let mut fit = Table::new("fit")
            .u32("start", h.iter().map(|i| i.start as u32).collect())
            .u32("iteration", h.iter().map(|i| i.iteration as u32).collect())
            .f64("cost", h.iter().map(|i| i.cost).collect());
        for k in 0..self.free.len() {
            fit = fit.f64(
                &self.param_column(k),
                h.iter().map(|i| i.params[k]).collect(),
            );
        }
        let t = &self.targets;
        let summary = Table::new("fit_summary")
            .str("target", t.iter().map(|x| x.quantity.name()).collect())
            .str("source", t.iter().map(|x| x.source.clone()).collect())
            .str(
                "unit",
                t.iter()
                    .map(|x| x.quantity.unit(units).to_string())
                    .collect(),
            )
            .f64("wanted", t.iter().map(|x| x.wanted).collect())
            .f64("start_value", self.start_achieved.clone())
            .f64("achieved", self.achieved.clone())
            .f64(
                "residual",
                t.iter()
                    .zip(&self.achieved)
                    .map(|(x, a)| a - x.wanted)
                    .collect(),
            )
            .f64("tolerance", t.iter().map(|x| x.tol).collect())
            .f64("weight", t.iter().map(|x| x.weight).collect())
            .bool(
                "within_tolerance",
                t.iter()
                    .zip(&self.achieved)
                    .map(|(x, a)| (a - x.wanted).abs() <= x.tol)
                    .collect(),
            );
        let unc = self.relative_uncertainty();
        let spread = self.spread();
        let ps = self.model.params();
        let params = Table::new("fit_params")
            .str(
                "parameter",
                self.free.iter().map(|f| f.name.clone()).collect(),
            )
            .str(
                "unit",
                self.free
                    .iter()
                    .map(|f| {
                        if units.known() {
                            ps.param(f.index).unit.clone()
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
            )
            .f64(
                "start",
                self.free.iter().map(|f| ps.value(f.index)).collect(),
            )
            .f64(
                "fitted",
                self.free
                    .iter()
                    .map(|f| self.fitted.params().value(f.index))
                    .collect(),
            )
            .f64("lower", self.free.iter().map(|f| f.lo).collect())
            .f64("upper", self.free.iter().map(|f| f.hi).collect())
            .f64("relative_uncertainty", unc)
            .f64("spread", spread);
        let o = &self.outcomes;
        let mut starts = Table::new("fit_starts")
            .u32("start", o.iter().map(|x| x.start as u32).collect())
            .f64("cost", o.iter().map(|x| x.cost).collect())
            .u32(
                "iterations",
                o.iter().map(|x| x.iterations as u32).collect(),
            )
            .str(
                "termination",
                o.iter().map(|x| x.termination.clone()).collect(),
            );
        for k in 0..self.free.len() {
            let c = self.param_column(k);
            starts = starts
                .f64(
                    &format!("initial_{c}"),
                    o.iter().map(|x| x.initial[k]).collect(),
                )
                .f64(&c, o.iter().map(|x| x.params[k]).collect());
        }
        vec![fit, summary, params, starts]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let mut files = vec![];
        let series: Vec<Series> = self
            .outcomes
            .iter()
            .map(|o| Series {
                label: format!("start {}", o.start),
                points: self
                    .history
                    .iter()
                    .filter(|i| i.start == o.start)
                    .map(|i| (i.iteration as f64, i.cost.max(1e-30)))
                    .collect(),
                color: super::figure::PALETTE[o.start % super::figure::PALETTE.len()],
                style: Style::Line,
            })
            .collect();
        let path = dir.join("fit.png");
        draw_panels(
            &path,
            &format!("{}: fit of {}", self.model.label(), self.free_names()),
            &[Panel {
                x_desc: "iteration".into(),
                y_desc: "cost (sum of squared residuals in tolerances)".into(),
                log_y: true,
                series,
                ..Panel::default()
            }],
            1,
            (800, 560),
        )?;
        files.push(path);
        let rates: Vec<(f64, f64)> = self
            .targets
            .iter()
            .filter_map(|t| match t.quantity {
                Quantity::RateHz { current } => Some((current, t.wanted)),
                _ => None,
            })
            .collect();
        if !rates.is_empty() {
            let units = self.model.units();
            let path = dir.join("fit_fi.png");
            draw_panels(
                &path,
                &format!("{}: fitted f-I curve", self.fitted.label()),
                &[Panel {
                    x_desc: if units.known() {
                        "current (uA/cm^2)".into()
                    } else {
                        "current".into()
                    },
                    y_desc: if units.known() {
                        "rate (Hz)".into()
                    } else {
                        "rate (per 1000 time units)".into()
                    },
                    series: vec![
                        Series {
                            label: "fitted model, from rest".into(),
                            points: self.fi_curve.clone(),
                            color: super::figure::PALETTE[0],
                            style: Style::Line,
                        },
                        Series {
                            label: "targets".into(),
                            points: rates,
                            color: RGBColor(200, 30, 30),
                            style: Style::Markers,
                        },
                    ],
                    ..Panel::default()
                }],
                1,
                (800, 560),
            )?;
            files.push(path);
        }
        Ok(files)
    }

    fn summary(&self) -> String {
        let units = self.model.units();
        let mut md = format!("# Fit of `{}`\n\n", self.model.label());
        let best = &self.outcomes[self.best];
        let _ = writeln!(
            md,
            "Free: {}. Method: {} ({} start{}; best: start {}, {} iterations, {}), cost {:.3e} (the sum over targets of weight x (residual / tolerance)^2). Computed in {:.2} s.\n",
            self.free_names(),
            self.method.name(),
            self.outcomes.len(),
            if self.outcomes.len() == 1 { "" } else { "s" },
            best.start,
            best.iterations,
            best.termination,
            best.cost,
            self.seconds
        );
        let met = self.all_met();
        let n_met = self
            .targets
            .iter()
            .zip(&self.achieved)
            .filter(|(t, a)| (*a - t.wanted).abs() <= t.tol)
            .count();
        let _ = writeln!(
            md,
            "**{}**: {n_met} of {} targets within their tolerance.\n",
            if met {
                "Every target is met"
            } else {
                "Not every target is met"
            },
            self.targets.len()
        );
        md.push_str("| target | wanted | start | achieved | residual | tolerance | met |\n|---|---|---|---|---|---|---|\n");
        for (k, t) in self.targets.iter().enumerate() {
            let u = t.quantity.unit(units);
            let a = self.achieved[k];
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {:.3e} | {} | {} |",
                t.quantity.name(),
                if t.source != t.quantity.name()
                    && !t
                        .source
                        .starts_with(t.quantity.name().split('@').next().unwrap_or(""))
                {
                    format!(" ({})", t.source)
                } else {
                    String::new()
                },
                Q(t.wanted, u),
                Q(self.start_achieved[k], u),
                Q(a, u),
                a - t.wanted,
                Q(t.tol, u),
                if (a - t.wanted).abs() <= t.tol {
                    "yes"
                } else {
                    "**no**"
                }
            );
        }
        let unc = self.relative_uncertainty();
        let spread = self.spread();
        md.push_str("\n| parameter | start | fitted | bounds | relative uncertainty | spread over starts |\n|---|---|---|---|---|---|\n");
        for (k, f) in self.free.iter().enumerate() {
            let p = self.model.params().param(f.index);
            let u = if units.known() && p.unit != "1" {
                p.unit.as_str()
            } else {
                ""
            };
            let uncertainty = if unc[k].is_infinite() {
                "**not determined**".to_string()
            } else {
                format!("{:.2e}", unc[k])
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | [{}, {}] | {uncertainty} | {:.2e} |",
                f.name,
                Q(p.value, u),
                Q(self.fitted.params().value(f.index), u),
                crate::error::short(f.lo),
                crate::error::short(f.hi),
                spread[k]
            );
        }
        let cond = self.condition();
        let _ = writeln!(
            md,
            "\nHow well the targets determine the parameters: the Jacobian of the scaled residuals with respect to relative parameter changes ({}) has condition number {:.3e}{}. The relative uncertainty is the change of a parameter that costs one tolerance on one target in that linearisation (sqrt of the diagonal of (J^T J)^-1); the spread is (max - min) / best over the starts that ended within 10% of the best cost.",
            if self.method.name() == "gauss-newton" {
                "exact, by implicit differentiation"
            } else {
                "central differences of 1e-3"
            },
            cond,
            if cond.is_nan() {
                " (not computed: a target is not produced next to the fitted values)".to_string()
            } else if cond.is_infinite() && self.targets.len() < self.free.len() {
                format!(
                    ": **{} cannot determine {} free parameters**; the ones marked not determined can move together without changing any target",
                    match self.targets.len() {
                        1 => "1 target".to_string(),
                        n => format!("{n} targets"),
                    },
                    self.free.len()
                )
            } else if cond.is_infinite() {
                ": **some combination of parameters moves no target**; the ones marked not determined can move without changing any target".to_string()
            } else if cond > 1e8 {
                ": **some combination of parameters is barely determined**".to_string()
            } else {
                String::new()
            }
        );
        match self.model_file() {
            Some((_, name)) => {
                let _ = writeln!(
                    md,
                    "\nThe fitted model: [{name}]({name}) (load it with `--model-file {name}`)."
                );
            }
            None => md.push_str("\nThe fitted model cannot be written as a model file (LIF, or an .ode model given without its file).\n"),
        }
        let mut files = "\nTables: [fit.parquet](fit.parquet), [fit_summary.parquet](fit_summary.parquet), [fit_params.parquet](fit_params.parquet), [fit_starts.parquet](fit_starts.parquet). Figures: [fit.png](fit.png)".to_string();
        if self
            .targets
            .iter()
            .any(|t| matches!(t.quantity, Quantity::RateHz { .. }))
        {
            files.push_str(", [fit_fi.png](fit_fi.png)");
        }
        md.push_str(&files);
        md.push_str(".\n");
        md
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }

    fn text_files(&self) -> Vec<(String, String)> {
        self.model_file()
            .map(|(text, name)| vec![(name.to_string(), text)])
            .unwrap_or_default()
    }
}

impl FitResult {
    fn free_names(&self) -> String {
        self.free
            .iter()
            .map(|f| format!("{} in [{}, {}]", f.name, f.lo, f.hi))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ode_parameter_lines_are_rewritten() {
        let text = "# c\nparam gca=4.4, gk=8 ,v1=-1.2\np iapp=0\ndv/dt=gca*v\n";
        let out = rewrite_ode_params(text, &[("gk".into(), 7.5), ("v1".into(), -2.0)]);
        assert_eq!(
            out,
            "# c\nparam gca=4.4, gk=7.5 ,v1=-2\np iapp=0\ndv/dt=gca*v\n"
        );
    }
}
