//! Tables and figures of a bifurcation diagram.

use super::Table;
use super::figure::PALETTE;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::continuation::codim2::{Curve, CurveKind};
use crate::continuation::cycles::CyclePoint;
use crate::continuation::diagram::Diagram;
use crate::error::ReportError;
use plotters::style::RGBColor;
use std::path::Path;

/// `equilibria.parquet`: every computed equilibrium, in branch and arclength order.
pub fn equilibria_table(d: &Diagram) -> Table {
    let pts = || {
        d.equilibria
            .iter()
            .enumerate()
            .flat_map(|(b, br)| br.points.iter().map(move |p| (b, p)))
    };
    let mut t = Table::new("equilibria")
        .u32("branch", pts().map(|(b, _)| b as u32).collect())
        .f64("param", pts().map(|(_, p)| p.lambda).collect())
        .f64("v_mv", pts().map(|(_, p)| p.state[0]).collect());
    for (i, name) in d.var_names.iter().enumerate().skip(1) {
        t = t.f64(name, pts().map(|(_, p)| p.state[i]).collect());
    }
    t.bool("stable", pts().map(|(_, p)| p.stable()).collect())
        .u32(
            "n_unstable",
            pts().map(|(_, p)| p.n_unstable as u32).collect(),
        )
        .f64(
            "leading_re_per_ms",
            pts().map(|(_, p)| p.eigenvalues[0].re).collect(),
        )
        .f64(
            "leading_im_per_ms",
            pts().map(|(_, p)| p.eigenvalues[0].im.abs()).collect(),
        )
}

/// `cycles.parquet`: every computed periodic orbit.
pub fn cycles_table(d: &Diagram) -> Table {
    let pts = || {
        d.cycles
            .iter()
            .enumerate()
            .flat_map(|(b, (_, br))| br.points.iter().skip(1).map(move |p| (b, p)))
    };
    Table::new("cycles")
        .u32("branch", pts().map(|(b, _)| b as u32).collect())
        .f64("param", pts().map(|(_, p)| p.lambda).collect())
        .f64("period_ms", pts().map(|(_, p)| p.period).collect())
        .f64(
            "frequency_hz",
            pts().map(|(_, p)| p.frequency_hz()).collect(),
        )
        .f64("v_max_mv", pts().map(|(_, p)| p.v_max).collect())
        .f64("v_min_mv", pts().map(|(_, p)| p.v_min).collect())
        .bool("stable", pts().map(|(_, p)| p.stable()).collect())
        .f64(
            "max_abs_multiplier",
            pts().map(|(_, p)| p.max_abs_multiplier()).collect(),
        )
        .f64(
            "log10_multiplier_product",
            pts()
                .map(|(_, p)| p.multipliers.iter().map(|z| z.norm().log10()).sum())
                .collect(),
        )
        .f64(
            "log10_liouville",
            pts()
                .map(|(_, p)| p.trace_integral / std::f64::consts::LN_10)
                .collect(),
        )
}

/// One special point as a table row.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialRow {
    pub kind: &'static str,
    pub param: f64,
    pub param2: f64,
    pub v_mv: f64,
    pub v_min_mv: f64,
    pub period_ms: f64,
    pub frequency_hz: f64,
    pub lyapunov: f64,
}

impl SpecialRow {
    /// A point known only by its location (no period, frequency or coefficient).
    fn located(kind: &'static str, param: f64, param2: f64, v_mv: f64) -> SpecialRow {
        SpecialRow {
            kind,
            param,
            param2,
            v_mv,
            v_min_mv: v_mv,
            period_ms: f64::NAN,
            frequency_hz: f64::NAN,
            lyapunov: f64::NAN,
        }
    }
}

/// Every special point of the diagram, by kind then parameter.
pub fn special_rows(d: &Diagram) -> Vec<SpecialRow> {
    let mut rows = vec![];
    for b in &d.equilibria {
        for f in &b.folds {
            rows.push(SpecialRow::located("fold", f.lambda, f64::NAN, f.state[0]));
        }
    }
    for h in &d.hopfs {
        rows.push(SpecialRow {
            kind: "hopf",
            param: h.lambda,
            param2: f64::NAN,
            v_mv: h.state[0],
            v_min_mv: h.state[0],
            period_ms: h.period_ms(),
            frequency_hz: h.frequency_hz(),
            lyapunov: h.lyapunov,
        });
    }
    for (_, c) in &d.cycles {
        for s in &c.specials {
            rows.push(cycle_row(s.kind.name(), &s.point));
        }
    }
    rows
}

fn cycle_row(kind: &'static str, p: &CyclePoint) -> SpecialRow {
    SpecialRow {
        kind,
        param: p.lambda,
        param2: f64::NAN,
        v_mv: p.v_max,
        v_min_mv: p.v_min,
        period_ms: p.period,
        frequency_hz: p.frequency_hz(),
        lyapunov: f64::NAN,
    }
}

/// `special_points.parquet`. For cycles `v_mv` is the maximum of V on the orbit.
pub fn special_points_table(rows: &[SpecialRow]) -> Table {
    Table::new("special_points")
        .str("kind", rows.iter().map(|r| r.kind.to_string()).collect())
        .f64("param", rows.iter().map(|r| r.param).collect())
        .f64("param2", rows.iter().map(|r| r.param2).collect())
        .f64("v_mv", rows.iter().map(|r| r.v_mv).collect())
        .f64("v_min_mv", rows.iter().map(|r| r.v_min_mv).collect())
        .f64("period_ms", rows.iter().map(|r| r.period_ms).collect())
        .f64(
            "frequency_hz",
            rows.iter().map(|r| r.frequency_hz).collect(),
        )
        .f64("lyapunov", rows.iter().map(|r| r.lyapunov).collect())
}

/// Split `(x, y, stable)` into runs of equal stability, each a series (solid if stable).
fn runs(
    points: &[(f64, f64, bool)],
    color: RGBColor,
    label: &str,
    out: &mut Vec<Series>,
    labelled: &mut [bool; 2],
) {
    let mut k = 0;
    while k < points.len() {
        let stable = points[k].2;
        let mut e = k;
        while e + 1 < points.len() && points[e + 1].2 == stable {
            e += 1;
        }
        // Share the boundary point so the line is continuous.
        let end = (e + 1).min(points.len() - 1);
        let idx = usize::from(stable);
        let name = if labelled[idx] {
            String::new()
        } else {
            labelled[idx] = true;
            format!("{} {label}", if stable { "stable" } else { "unstable" })
        };
        out.push(Series {
            label: name,
            points: points[k..=end].iter().map(|p| (p.0, p.1)).collect(),
            color,
            style: if stable { Style::Line } else { Style::Dashed },
        });
        k = e + 1;
    }
}

const MARKERS: [(&str, &str, RGBColor); 6] = [
    ("hopf", "Hopf", RGBColor(214, 39, 40)),
    ("fold", "fold", RGBColor(0, 0, 0)),
    ("fold_cycle", "fold of cycles", RGBColor(255, 127, 14)),
    (
        "period_doubling",
        "period doubling",
        RGBColor(148, 103, 189),
    ),
    ("torus", "torus", RGBColor(23, 190, 207)),
    ("bautin", "Bautin", RGBColor(140, 86, 75)),
];

/// One marker series per kind present in `rows`, at `(param, y(row))`.
fn marker_series<'a>(
    rows: &[SpecialRow],
    kinds: impl Iterator<Item = (&'a str, &'a str, RGBColor)>,
    y: impl Fn(&SpecialRow) -> f64,
) -> Vec<Series> {
    kinds
        .filter_map(|(kind, label, color)| {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| (r.param, y(r)))
                .collect();
            (!points.is_empty()).then(|| Series {
                label: label.into(),
                points,
                color,
                style: Style::Markers,
            })
        })
        .collect()
}

/// `bifurcation.png`: V of equilibria (solid stable, dashed unstable), max and min V of
/// cycles, special points marked.
pub fn draw_diagram(
    path: &Path,
    title: &str,
    d: &Diagram,
    rows: &[SpecialRow],
    unit: &str,
) -> Result<(), ReportError> {
    let mut series = vec![];
    let mut eq_labels = [false; 2];
    for b in &d.equilibria {
        let pts: Vec<(f64, f64, bool)> = b
            .points
            .iter()
            .map(|p| (p.lambda, p.state[0], p.stable()))
            .collect();
        runs(&pts, PALETTE[0], "equilibria", &mut series, &mut eq_labels);
    }
    let mut cyc_labels = [false; 2];
    for (_, c) in &d.cycles {
        let hi: Vec<(f64, f64, bool)> = c
            .points
            .iter()
            .map(|p| (p.lambda, p.v_max, p.stable()))
            .collect();
        let lo: Vec<(f64, f64, bool)> = c
            .points
            .iter()
            .map(|p| (p.lambda, p.v_min, p.stable()))
            .collect();
        runs(
            &hi,
            PALETTE[2],
            "cycles (max, min V)",
            &mut series,
            &mut cyc_labels,
        );
        let mut quiet = [true; 2];
        runs(&lo, PALETTE[2], "", &mut series, &mut quiet);
    }
    series.extend(marker_series(rows, MARKERS.iter().copied(), |r| r.v_mv));
    // Branches can run to physically meaningless voltages (a hyperpolarised branch of a
    // strongly negative current): show at most -150..100 mV.
    let (lo, hi) =
        super::figure::padded_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let panel = Panel {
        x_desc: format!("{} ({unit})", d.knob),
        // An .ode model's parameters come in its file's units; so does its first variable.
        y_desc: if unit == crate::model::field::FILE_UNITS {
            format!("{} ({unit})", d.var_names[0])
        } else {
            "V (mV)".into()
        },
        y_range: Some((lo.max(-150.0), hi.min(100.0))),
        series,
        ..Default::default()
    };
    draw_panels(path, title, &[panel], 1, (1100, 700))
}

/// `frequency.png`: period and frequency along each cycle branch (solid where stable).
pub fn draw_frequency(
    path: &Path,
    title: &str,
    d: &Diagram,
    unit: &str,
) -> Result<(), ReportError> {
    let (mut per, mut freq) = (vec![], vec![]);
    let (mut l1, mut l2) = ([false; 2], [false; 2]);
    for (k, (_, c)) in d.cycles.iter().enumerate() {
        let color = PALETTE[(2 + k) % PALETTE.len()];
        let p: Vec<(f64, f64, bool)> = c
            .points
            .iter()
            .skip(1)
            .map(|p| (p.lambda, p.period, p.stable()))
            .collect();
        let f: Vec<(f64, f64, bool)> = c
            .points
            .iter()
            .skip(1)
            .map(|p| (p.lambda, p.frequency_hz(), p.stable()))
            .collect();
        runs(&p, color, "cycles", &mut per, &mut l1);
        runs(&f, color, "cycles", &mut freq, &mut l2);
    }
    let x_desc = format!("{} ({unit})", d.knob);
    let panels = [
        Panel {
            x_desc: x_desc.clone(),
            y_desc: "period (ms)".into(),
            series: per,
            ..Default::default()
        },
        Panel {
            x_desc,
            y_desc: "frequency (Hz)".into(),
            series: freq,
            ..Default::default()
        },
    ];
    draw_panels(path, title, &panels, 2, (1400, 600))
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

/// The codimension-two points as special-point rows.
pub fn codim2_rows(curves: &[Curve]) -> Vec<SpecialRow> {
    curves
        .iter()
        .flat_map(|c| c.specials.iter())
        .map(|s| SpecialRow::located(s.kind, s.l1, s.l2, s.v_mv))
        .collect()
}

/// `two_parameter.png`: Hopf curves (solid where supercritical, dashed where subcritical) and
/// fold curves in the parameter plane, codimension-two points marked.
pub fn draw_two_parameter(
    path: &Path,
    title: &str,
    curves: &[Curve],
    rows: &[SpecialRow],
    names: &(String, String),
    units: &(String, String),
) -> Result<(), ReportError> {
    let mut series = vec![];
    let (mut sub, mut sup, mut fold) = (false, false, false);
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
        }
    }
    let kinds = MARKERS.iter().copied().chain([
        ("bogdanov_takens", "Bogdanov-Takens", RGBColor(44, 160, 44)),
        ("cusp", "cusp", RGBColor(227, 119, 194)),
    ]);
    series.extend(marker_series(rows, kinds, |r| r.param2));
    let panel = Panel {
        x_desc: format!("{} ({})", names.0, units.0),
        y_desc: format!("{} ({})", names.1, units.1),
        series,
        ..Default::default()
    };
    draw_panels(path, title, &[panel], 1, (1100, 750))
}
