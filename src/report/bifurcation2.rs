//! The report of a two-parameter diagram ([`Bifurcation2Result`]): curves of Hopf and fold
//! points with their codimension-two points.

use super::Table;
use super::bifurcation::{marker_series, runs, special_points_table, with_unit};
use super::figure::PALETTE;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::continuation::SpecialPoint;
use crate::continuation::codim2::{Curve, CurveKind};
use crate::error::ReportError;
use crate::model::{Number, Quantity};
use crate::spec::Bifurcation2Result;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for Bifurcation2Result {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        vec![
            curves_table(&self.curves, &self.names),
            special_points_table(&self.special_points),
        ]
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let fig = dir.join("two_parameter.png");
        draw_two_parameter(
            &fig,
            &format!("{}: {}", self.model.label(), what_is_drawn(&self.curves)),
            &self.curves,
            &self.special_points,
            &self.names,
            &self.units,
        )?;
        Ok(vec![fig])
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// The figure's title after the model: which kinds of curve it shows ("Hopf and fold curves",
/// "Hopf curves", "Hopf, fold of cycles and period-doubling curves", …).
fn what_is_drawn(curves: &[Curve]) -> String {
    let names: Vec<&str> = [
        (CurveKind::Hopf, "Hopf"),
        (CurveKind::Fold, "fold"),
        (CurveKind::FoldOfCycles, "fold of cycles"),
        (CurveKind::PeriodDoubling, "period-doubling"),
    ]
    .into_iter()
    .filter(|(k, _)| curves.iter().any(|c| c.kind == *k))
    .map(|(_, n)| n)
    .collect();
    match names.as_slice() {
        [] => "no curve in the box".into(),
        [one] => format!("{one} curves"),
        [init @ .., last] => format!("{} and {last} curves", init.join(", ")),
    }
}

/// ` unit`, or nothing without a unit.
fn spaced(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// `summary.md`: the box, every curve and why it ended, the codimension-two points.
fn summary(r: &Bifurcation2Result) -> String {
    let a = &r.spec;
    let ((p1, p2), (u1, u2)) = (&r.names, &r.units);
    let (b1, b2) = r.base;
    let mut md = format!(
        "# Two-parameter diagram of `{}` over `{p1}` and `{p2}`\n\n",
        r.model.label()
    );
    let held = super::bifurcation::held_current(&r.model, a.current, &[p1, p2])
        .map(|h| format!(", {h}"))
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "Box {p1} in [{}, {}]{}, {p2} in [{}, {}]{}{held}; curves seeded from the one-parameter diagrams over {p1} at {p2} = {} and on {} lines spread across the box ({p1} = {} elsewhere); computed in {:.2} s.\n",
        Number(a.from),
        Number(a.to),
        spaced(u1),
        Number(a.from2),
        Number(a.to2),
        spaced(u2),
        Quantity(b2, u2),
        crate::continuation::codim2::SEED_LINES,
        Quantity(b1, u1),
        r.seconds
    );
    // Said before the curves: they hold for what the seeding covered. Lines cut short for the
    // same reason are said together.
    let reasons: Vec<String> = r
        .uncovered
        .iter()
        .map(|g| match &g.failed {
            Some(e) => format!(" (its diagram failed: {e})"),
            None => super::bifurcation::not_followed(&g.gaps, &g.stops.iter().collect::<Vec<_>>()),
        })
        .collect();
    let mut said: Vec<&String> = vec![];
    for reason in &reasons {
        if said.contains(&reason) {
            continue;
        }
        said.push(reason);
        let lines: Vec<String> = r
            .uncovered
            .iter()
            .zip(&reasons)
            .filter(|(_, why)| *why == reason)
            .map(|(g, _)| Number(g.line).to_string())
            .collect();
        let _ = writeln!(
            md,
            "**Not covered:** the seed diagrams over {p1} at {p2} = {} were not followed over the whole range{reason}: a curve crossing those lines only where they were not followed is not traced.\n",
            lines.join(", ")
        );
    }
    for (k, c) in r.curves.iter().enumerate() {
        let check = match c.bt_agreement {
            Some(d) => format!(
                " Its Bogdanov-Takens end, interpolated where the frequency reaches zero, lies {d:.1e} of the box from the fold curve's (located by its own test function), which is listed."
            ),
            None => String::new(),
        };
        let _ = writeln!(
            md,
            "- curve {k}: {} curve, {} points; ends: {}.{check}",
            c.kind.name(),
            c.points.len(),
            c.ends.join("; ")
        );
    }
    let v_unit = r.model.units().voltage;
    if r.special_points.is_empty() {
        let _ = writeln!(
            md,
            "\nNo codimension-two point (Bautin, Bogdanov-Takens, cusp) in the box."
        );
    } else {
        let _ = writeln!(
            md,
            "\n| kind | {} | {} | {} |\n|---|---|---|---|",
            with_unit(p1, u1),
            with_unit(p2, u2),
            with_unit("V", v_unit)
        );
        for s in &r.special_points {
            let _ = writeln!(
                md,
                "| {} | {:.6} | {:.6} | {:.3} |",
                s.kind.name(),
                s.param,
                s.param2,
                s.v_mv
            );
        }
    }
    let hopf_curves = r
        .curves
        .iter()
        .filter(|c| c.kind == CurveKind::Hopf)
        .count();
    let count = |k: CurveKind| r.curves.iter().filter(|c| c.kind == k).count();
    let fold_curves = count(CurveKind::Fold);
    let cycle_curves = if count(CurveKind::FoldOfCycles) + count(CurveKind::PeriodDoubling) > 0 {
        format!(
            " {} curve(s) of folds of cycles and {} of period doubling (NTST = {}), followed by slices: each point is the fold of cycles (the bordered collocation system's fold condition) or the period doubling (a multiplier at -1) of the branch of cycles over one parameter with the other fixed, located by the secant method.",
            count(CurveKind::FoldOfCycles),
            count(CurveKind::PeriodDoubling),
            a.ntst
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        md,
        "\n{hopf_curves} Hopf curve(s): solid where supercritical (l1 < 0), dashed where subcritical; a Bautin point is where they meet. {fold_curves} fold curve(s).{cycle_curves} Codimension-two points are located by bisection of their test function along the curve between adjacent points (steps at most 1/200 of the box), every trial point corrected onto the curve: the first Lyapunov coefficient (Bautin), the frequency and the product of the other eigenvalues (Bogdanov-Takens), the fold's quadratic coefficient (cusp).\n\n![two-parameter diagram](two_parameter.png)\n\nTables: [curves.parquet](curves.parquet), [special_points.parquet](special_points.parquet)."
    );
    md
}

/// `curves.parquet`: every point of every two-parameter curve.
pub fn curves_table(curves: &[Curve], names: &(String, String)) -> Table {
    let pts = || {
        curves
            .iter()
            .enumerate()
            .flat_map(|(k, c)| c.points.iter().map(move |p| (k, c.kind, p)))
    };
    Table::new("curves")
        .u32("curve", pts().map(|(k, _, _)| k as u32).collect())
        .str(
            "kind",
            pts().map(|(_, kind, _)| kind.name().to_string()).collect(),
        )
        .f64("param", pts().map(|(_, _, p)| p.l1).collect())
        .f64("param2", pts().map(|(_, _, p)| p.l2).collect())
        .f64("v_mv", pts().map(|(_, _, p)| p.v_mv).collect())
        .f64(
            "frequency_hz",
            pts()
                .map(|(_, _, p)| p.omega / (2.0 * std::f64::consts::PI) * 1000.0)
                .collect(),
        )
        .f64(
            "lyapunov",
            pts()
                .map(|(_, kind, p)| {
                    if kind == CurveKind::Hopf {
                        p.coefficient
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
        )
        .str("param_name", pts().map(|_| names.0.clone()).collect())
        .str("param2_name", pts().map(|_| names.1.clone()).collect())
}

/// `two_parameter.png`: Hopf curves (solid where supercritical, dashed where subcritical) and
/// fold curves in the parameter plane, codimension-two points marked.
pub fn draw_two_parameter(
    path: &Path,
    title: &str,
    curves: &[Curve],
    rows: &[SpecialPoint],
    names: &(String, String),
    units: &(String, String),
) -> Result<(), ReportError> {
    let mut series = vec![];
    let (mut sub, mut sup, mut fold) = (false, false, false);
    let (mut lpc, mut pd) = (false, false);
    for c in curves {
        match c.kind {
            CurveKind::Hopf => {
                // Split by criticality: subcritical dashed, supercritical solid.
                let pts: Vec<(f64, f64, bool)> = c
                    .points
                    .iter()
                    .map(|p| (p.l1, p.l2, p.coefficient < 0.0))
                    .collect();
                let mut labelled = [sub, sup];
                runs(&pts, PALETTE[1], "", &mut series, &mut [true, true]);
                // Relabel the first series of each criticality.
                for s in series
                    .iter_mut()
                    .rev()
                    .take_while(|s| s.color == PALETTE[1])
                {
                    let idx = usize::from(s.style == Style::Line);
                    if !labelled[idx] {
                        s.label = if idx == 1 {
                            "Hopf (supercritical)".into()
                        } else {
                            "Hopf (subcritical)".into()
                        };
                        labelled[idx] = true;
                    }
                }
                (sub, sup) = (labelled[0], labelled[1]);
            }
            CurveKind::Fold => {
                series.push(Series {
                    label: if fold { String::new() } else { "fold".into() },
                    points: c.points.iter().map(|p| (p.l1, p.l2)).collect(),
                    color: PALETTE[0],
                    style: Style::Line,
                });
                fold = true;
            }
            CurveKind::FoldOfCycles | CurveKind::PeriodDoubling => {
                let (label, color, seen) = if c.kind == CurveKind::FoldOfCycles {
                    ("fold of cycles", PALETTE[2], &mut lpc)
                } else {
                    ("period doubling", PALETTE[3], &mut pd)
                };
                series.push(Series {
                    label: if *seen { String::new() } else { label.into() },
                    points: c.points.iter().map(|p| (p.l1, p.l2)).collect(),
                    color,
                    style: Style::Line,
                });
                *seen = true;
            }
        }
    }
    series.extend(marker_series(rows, |r| r.param2));
    let panel = Panel {
        x_desc: with_unit(&names.0, &units.0),
        y_desc: with_unit(&names.1, &units.1),
        series,
        ..Default::default()
    };
    draw_panels(path, title, &[panel], 1, (1100, 750))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(kind: CurveKind) -> Curve {
        Curve {
            kind,
            points: vec![],
            specials: vec![],
            ends: vec![],
            bt_agreement: None,
        }
    }

    #[test]
    fn the_title_names_what_is_drawn() {
        assert_eq!(what_is_drawn(&[curve(CurveKind::Hopf)]), "Hopf curves");
        assert_eq!(
            what_is_drawn(&[curve(CurveKind::Hopf), curve(CurveKind::Fold)]),
            "Hopf and fold curves"
        );
        assert_eq!(
            what_is_drawn(&[
                curve(CurveKind::FoldOfCycles),
                curve(CurveKind::Hopf),
                curve(CurveKind::PeriodDoubling)
            ]),
            "Hopf, fold of cycles and period-doubling curves"
        );
        assert_eq!(what_is_drawn(&[]), "no curve in the box");
    }
}
