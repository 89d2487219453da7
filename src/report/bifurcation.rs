//! The report of a one-parameter bifurcation diagram ([`BifurcationResult`]): its tables,
//! figures and summary; the special-point table and markers two-parameter diagrams share.

use super::Table;
use super::figure::PALETTE;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::continuation::Stop;
use crate::continuation::cycles::{CycleEvent, CyclePoint, CycleSettings};
use crate::continuation::diagram::{CycleOrigin, Diagram};
use crate::continuation::{SpecialKind, SpecialPoint};
use crate::error::ReportError;
use crate::model::{Number, Quantity, Units};
use crate::spec::BifurcationResult;
use crate::spec::bifurcation::cycle_ds_max;
use plotters::style::RGBColor;
use std::fmt::Write;
use std::path::Path;
use std::path::PathBuf;

impl super::Report for BifurcationResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        let mut t = vec![
            equilibria_table(&self.diagram),
            special_points_table(&self.special_points),
        ];
        if !self.spec.no_cycles {
            t.push(cycles_table(&self.diagram));
        }
        t
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let label = self.model.label();
        let units = self.model.units();
        let fig = dir.join("bifurcation.png");
        // The two figures at once (each is a few milliseconds of drawing and PNG encoding).
        let (diagram, frequency) = rayon::join(
            || {
                draw_diagram(
                    &fig,
                    &format!("{label}: bifurcation diagram over {}", self.spec.param),
                    &self.diagram,
                    &self.special_points,
                    &self.unit,
                    units.voltage,
                )
            },
            || {
                if self.diagram.cycles.is_empty() {
                    return Ok(None);
                }
                let fig = dir.join("frequency.png");
                draw_frequency(
                    &fig,
                    &format!("{label}: period and frequency of cycles"),
                    &self.diagram,
                    &self.unit,
                    &units,
                )
                .map(|()| Some(fig))
            },
        );
        diagram?;
        Ok(std::iter::once(fig).chain(frequency?).collect())
    }

    fn summary(&self) -> String {
        summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

/// What a diagram did not follow, in words after "not followed over the whole range": the
/// parts no branch reached and why branches stopped short (`bifurcation`'s summary, and
/// `bifurcation2`'s of its seed lines).
pub(super) fn not_followed(gaps: &[(f64, f64)], stops: &[&Stop]) -> String {
    let parts: Vec<String> = gaps
        .iter()
        .map(|(lo, hi)| format!("{} to {}", Number(*lo), Number(*hi)))
        .collect();
    let short: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
    format!(
        "{}{}",
        if parts.is_empty() {
            String::new()
        } else {
            format!(": {} not reached", parts.join(", "))
        },
        if short.is_empty() {
            String::new()
        } else {
            format!(" (a branch {})", short.join("; "))
        }
    )
}

/// The current a diagram over other parameters holds, in words (`None` when one of them is
/// the current): `--current` is added to an `.ode` file's current parameter, whose own value
/// is said with it.
pub(super) fn held_current(
    model: &crate::Model,
    current: f64,
    continued: &[&str],
) -> Option<String> {
    let units = model.units();
    let current_name = match model {
        crate::Model::Ode(o) => o.current_param().map(|k| o.params.param(k).name.as_str()),
        _ => None,
    };
    if continued.contains(&crate::continuation::CURRENT) {
        return None;
    }
    // An `.ode` file's current parameter continued itself: `--current` still adds to it, so
    // the axis is off by that much, which is said.
    if let Some(name) = current_name.filter(|n| continued.contains(n)) {
        return (current != 0.0).then(|| {
            format!(
                "--current {} added to `{name}` throughout (the axis shows `{name}` without it)",
                Number(current)
            )
        });
    }
    Some(match model {
        crate::Model::Ode(o) => match o.current_param() {
            Some(k) => {
                let p = o.params.param(k);
                format!(
                    "`{}` held at {} (the file's {} plus --current {})",
                    p.name,
                    Number(o.params.value(k) + current),
                    Number(o.params.value(k)),
                    Number(current)
                )
            }
            None => return None,
        },
        _ => format!(
            "the injected current held at {}",
            Quantity(current, units.current)
        ),
    })
}

/// `summary.md`: the range, the special points with their criticality, the stable firing on
/// each cycle branch, the notes.
fn summary(r: &BifurcationResult) -> String {
    let (a, d, rows, unit) = (&r.spec, &r.diagram, &r.special_points, r.unit.as_str());
    let units = r.model.units();
    // Rates are per 1000 time units for a model without units, and say so.
    let rate = format!(" {}", units.rate_words());
    let time = if units.time.is_empty() {
        String::new()
    } else {
        format!(" {}", units.time)
    };
    let mut md = format!(
        "# Bifurcation diagram of `{}` over `{}`\n\n",
        r.model.label(),
        a.param
    );
    // A step other than the default is said, and where it came from when the file chose it.
    let ds_max = a.ds_max_for(&r.model);
    let steps = if ds_max == CycleSettings::default().ds_max {
        String::new()
    } else if cycle_ds_max(None, &r.model) == ds_max {
        format!(", steps up to {}, the file's `@ dsmax`", Number(ds_max))
    } else {
        format!(", steps up to {}", Number(ds_max))
    };
    let held = held_current(&r.model, a.current, &[&a.param])
        .map(|h| format!(", {h}"))
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "Range {} to {}{held}; {} equilibrium branch(es), {} Hopf point(s), {} cycle branch(es) (collocation NTST={}, NCOL={}{steps}); computed in {:.2} s.\n",
        Number(a.from),
        Quantity(a.to, unit),
        d.equilibria.len(),
        d.hopfs.len(),
        d.cycles.len(),
        a.ntst,
        a.ncol,
        r.seconds
    );
    // A branch cut short, or a part of the range no branch reaches, is said first: nothing
    // below speaks for the part of the range that was not computed.
    let gaps = d.uncovered((a.from, a.to));
    let short: Vec<String> = d.cut_short().iter().map(|s| s.to_string()).collect();
    if !gaps.is_empty() || !short.is_empty() {
        let _ = writeln!(
            md,
            "**The equilibria were not followed over the whole range{}.** What follows holds for the computed part only.\n",
            not_followed(&gaps, &d.cut_short())
        );
    }
    // An unstable rest over the whole range is a model that cannot rest there, which a reader
    // must not take for one that rests: said whatever else the range holds.
    // Said only where the branches cover the whole range, none cut short.
    let points = || d.equilibria.iter().flat_map(|b| b.points.iter());
    let whole_range = gaps.is_empty() && short.is_empty();
    let never_rests = whole_range && points().next().is_some() && points().all(|p| !p.stable());
    if never_rests {
        let _ = writeln!(
            md,
            "**Every equilibrium is unstable over the whole range: the model cannot rest there.**\n"
        );
    }
    if rows.is_empty() {
        let kept = if points().next().is_none() {
            "no equilibrium was computed"
        } else if points().all(|p| p.stable()) {
            "every equilibrium there is stable throughout"
        } else if never_rests {
            "every equilibrium there stays unstable"
        } else {
            "the equilibria there keep their stability"
        };
        let _ = writeln!(
            md,
            "No fold, branch point or Hopf point on the computed branches: {kept}.\n"
        );
    } else {
        let _ = writeln!(
            md,
            "| kind | {} | {} | {} | {} | first Lyapunov coefficient |",
            with_unit(&a.param, unit),
            with_unit("V", units.voltage),
            with_unit("period", units.time),
            with_unit("frequency", units.rate_words()),
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        let fmt = |x: f64, p: usize| {
            if x.is_finite() {
                format!("{x:.p$}")
            } else {
                String::new()
            }
        };
        for r in rows {
            let l1 = if r.lyapunov.is_finite() {
                format!(
                    "{:.4e} ({})",
                    r.lyapunov,
                    if r.lyapunov > 0.0 {
                        "subcritical"
                    } else {
                        "supercritical"
                    }
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {l1} |",
                r.kind.name(),
                fmt(r.param, 9),
                fmt(r.v_mv, 3),
                fmt(r.period_ms, 5),
                fmt(r.frequency_hz, 3)
            );
        }
        md.push('\n');
    }
    for (origin, c) in &d.cycles {
        // Stable orbits whose multipliers settle it, plus the folds of cycles where the branch
        // turns stable (multiplier 1): the slowest firing sits exactly at such a fold. So do
        // the period doublings and torus points where it loses stability (Rossler's primary
        // branch is stable to its doubling at 165.34, where the last tabulated stable orbit
        // read 162.667). A fold
        // counts only between two settled orbits (its own multiplier, 1, settles nothing), one
        // of them stable: a fold with a period doubling beside it has a second multiplier on
        // the unit circle (-1) and looked marginally stable between two unstable orbits
        // (Hindmarsh-Rose with a slow z at NTST 100, "the slowest stable cycle" where AUTO-07p
        // has none). Stable orbits at requested parameter values (user points) count as well.
        let stable: Vec<_> = origin
            .stable_orbits(c)
            .chain(
                c.specials
                    .iter()
                    .filter(|s| {
                        matches!(
                            s.kind,
                            CycleEvent::Fold | CycleEvent::PeriodDoubling | CycleEvent::Torus
                        ) && s.point.marginally_stable(1e-3)
                            && c.bounds_stable_cycles(s)
                    })
                    .map(|s| &s.point),
            )
            .collect();
        let from = match origin {
            CycleOrigin::Hopf(k) => format!("the Hopf point at {:.6}", d.hopfs[*k].lambda),
            CycleOrigin::PeriodDoubling { parent, lambda } => format!(
                "the period doubling at {lambda:.6} on branch {} (doubled period)",
                parent + 1
            ),
            CycleOrigin::Orbit { lambda, period } => {
                format!("a stable orbit found by simulation at {lambda:.6} (period {period:.5})")
            }
        };
        let _ = write!(
            md,
            "Cycles from {from}: {} points, {}.",
            origin.orbits(c).len(),
            c.stop
        );
        if let Some(slowest) = stable
            .iter()
            .min_by(|x, y| x.frequency_hz().total_cmp(&y.frequency_hz()))
        {
            // Firing only where V crosses the spike threshold: a stable cycle whose peak stays
            // below it (Connor-Stevens' small cycles near its Hopf point, 1 mV wide) is an
            // oscillation under threshold, not spikes.
            // A model without units has no spike threshold of its own (the simulators count
            // crossings of 0 in file units by default), so its slowest cycle is a cycle.
            let threshold = r.model.threshold_mv();
            let slowest_is = if !units.known() {
                "cycle".to_string()
            } else if slowest.v_max >= threshold {
                "firing".to_string()
            } else {
                format!(
                    "cycle (an oscillation below the spike threshold, {}: its V peaks at {})",
                    Quantity(threshold, units.voltage),
                    Quantity((slowest.v_max * 1e3).round() / 1e3, units.voltage)
                )
            };
            let _ = write!(
                md,
                " Stable cycles from {:.3} to {:.3}{rate}; the slowest stable {slowest_is} is {:.3}{rate} at {} = {:.6}.",
                slowest.frequency_hz(),
                stable.iter().map(|p| p.frequency_hz()).fold(0.0, f64::max),
                slowest.frequency_hz(),
                a.param,
                slowest.lambda
            );
        }
        let unsettled: Vec<&CyclePoint> = (c.points.iter())
            .filter(|p| p.stability_unsettled())
            .collect();
        let span = |f: fn(&CyclePoint) -> f64| {
            super::extremes::min_max(&unsettled.iter().map(|p| f(p)).collect::<Vec<_>>())
        };
        if let (Some((lo, hi)), Some((t0, t1))) = (span(|p| p.lambda), span(|p| p.period)) {
            let (lo, hi) = (format!("{lo:.6}"), format!("{hi:.6}"));
            let at = if lo == hi {
                format!("{} = {lo}", a.param)
            } else {
                format!("{} {lo} to {hi}", a.param)
            };
            let worst = (unsettled.iter())
                .map(|p| p.trivial_error())
                .fold(0.0, f64::max);
            let unverified = (c.specials.iter())
                .filter(|s| {
                    matches!(
                        s.kind,
                        CycleEvent::Fold | CycleEvent::PeriodDoubling | CycleEvent::Torus
                    ) && !c.settled_around(s)
                })
                .count();
            let _ = write!(
                md,
                " The multipliers do not settle stability on {} of these orbits ({at}, period {t0:.5} to {t1:.5}{time}): there the trivial multiplier, exactly 1 for the true orbit, is at least as far from 1 as the largest other is from the unit circle (its |ln mu| up to {worst:.1}). They are {}drawn as grey dots in the figures{}; a finer mesh (`--ntst`) settles some such orbits, not all (docs/limits.md).",
                unsettled.len(),
                if stable.is_empty() {
                    ""
                } else {
                    "left out of the stable range above and "
                },
                if unverified > 0 {
                    format!(
                        ", and the {unverified} bifurcation(s) of cycles located next to them are unverified"
                    )
                } else {
                    String::new()
                }
            );
        }
        md.push('\n');
    }
    if !d.notes.is_empty() {
        let _ = writeln!(md, "\nNotes:");
        for n in &d.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    let _ = writeln!(
        md,
        "\nSolid lines are stable, dashed unstable; cycles are drawn by their max and min V. The first Lyapunov coefficient uses MatCont's normalisation (q^H q = 1, p^H q = 1): positive means subcritical (the cycle born there is unstable and lies on the side where the equilibrium is stable, so firing begins or ends there with a jump and hysteresis), negative supercritical (a stable cycle grows from zero amplitude on the side where the equilibrium is unstable).\n\n![diagram](bifurcation.png)\n"
    );
    if !d.cycles.is_empty() {
        let _ = writeln!(md, "![frequency](frequency.png)\n");
    }
    let _ = writeln!(
        md,
        "Tables: [equilibria.parquet](equilibria.parquet), {}[special_points.parquet](special_points.parquet).",
        if a.no_cycles {
            ""
        } else {
            "[cycles.parquet](cycles.parquet), "
        }
    );
    md
}

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
            .flat_map(|(b, (origin, br))| origin.orbits(br).iter().map(move |p| (b, p)))
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
        .bool(
            "stability_settled",
            pts().map(|(_, p)| p.stability_settled()).collect(),
        )
        .f64(
            "trivial_multiplier_error",
            pts().map(|(_, p)| p.trivial_error()).collect(),
        )
        .f64(
            "max_abs_multiplier",
            pts().map(|(_, p)| p.max_abs_multiplier()).collect(),
        )
        .f64(
            "log10_multiplier_product",
            pts().map(|(_, p)| p.log10_multiplier_product()).collect(),
        )
        .f64(
            "log10_liouville",
            pts()
                .map(|(_, p)| p.trace_integral / std::f64::consts::LN_10)
                .collect(),
        )
}

/// `special_points.parquet`. For cycles `v_mv` is the maximum of V on the orbit.
pub fn special_points_table(rows: &[SpecialPoint]) -> Table {
    Table::new("special_points")
        .str(
            "kind",
            rows.iter().map(|r| r.kind.name().to_string()).collect(),
        )
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
pub(super) fn runs(
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

/// How each kind of special point is marked in figures: its legend text and colour (user
/// points are not marked). The order is the drawing order.
pub(super) const MARKERS: [(SpecialKind, &str, RGBColor); 11] = [
    (SpecialKind::Hopf, "Hopf", RGBColor(214, 39, 40)),
    (SpecialKind::Fold, "fold", RGBColor(0, 0, 0)),
    (
        SpecialKind::BranchPoint,
        "branch point",
        RGBColor(127, 127, 127),
    ),
    (
        SpecialKind::FoldOfCycles,
        "fold of cycles",
        RGBColor(255, 127, 14),
    ),
    (
        SpecialKind::PeriodDoubling,
        "period doubling",
        RGBColor(148, 103, 189),
    ),
    (SpecialKind::Torus, "torus", RGBColor(23, 190, 207)),
    (SpecialKind::Bautin, "Bautin", RGBColor(140, 86, 75)),
    (
        SpecialKind::BogdanovTakens,
        "Bogdanov-Takens",
        RGBColor(44, 160, 44),
    ),
    (SpecialKind::Cusp, "cusp", RGBColor(227, 119, 194)),
    (SpecialKind::Snic, "SNIC", RGBColor(31, 119, 180)),
    (
        SpecialKind::Homoclinic,
        "homoclinic",
        RGBColor(188, 189, 34),
    ),
];

/// One marker series per kind present in `rows`, at `(param, y(row))`.
pub(super) fn marker_series(
    rows: &[SpecialPoint],
    y: impl Fn(&SpecialPoint) -> f64,
) -> Vec<Series> {
    MARKERS
        .iter()
        .filter_map(|&(kind, label, color)| {
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

/// `name (unit)`, or the bare name when there is no unit.
pub(super) fn with_unit(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({unit})")
    }
}

/// Grey dots at the orbits whose multipliers do not settle their stability
/// ([`CyclePoint::stability_settled`]), at the figure's coordinates `at` of each; none when
/// every orbit is settled.
fn unsettled_series(d: &Diagram, at: impl Fn(&CyclePoint) -> Vec<(f64, f64)>) -> Option<Series> {
    let points: Vec<(f64, f64)> = (d.cycles.iter())
        .flat_map(|(_, c)| c.points.iter())
        .filter(|p| p.stability_unsettled())
        .flat_map(at)
        .collect();
    (!points.is_empty()).then(|| Series {
        label: "stability unsettled".into(),
        points,
        color: PALETTE[7],
        style: Style::Points,
    })
}

/// `bifurcation.png`: V of equilibria (solid stable, dashed unstable), max and min V of
/// cycles, special points marked.
/// `unit` is the continued parameter's, `v_unit` the first variable's (empty: none).
pub fn draw_diagram(
    path: &Path,
    title: &str,
    d: &Diagram,
    rows: &[SpecialPoint],
    unit: &str,
    v_unit: &str,
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
    series.extend(marker_series(rows, |r| r.v_mv));
    // Drawn last, so the special points' markers do not hide them.
    series.extend(unsettled_series(d, |p| {
        vec![(p.lambda, p.v_max), (p.lambda, p.v_min)]
    }));
    // Branches can run to physically meaningless voltages (a hyperpolarised branch of a
    // strongly negative current): show at most -150..100 mV.
    let (lo, hi) =
        super::figure::padded_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let panel = Panel {
        x_desc: with_unit(&d.knob, unit),
        // A model without units (an .ode file) names its first variable bare.
        y_desc: if v_unit.is_empty() {
            d.var_names[0].clone()
        } else {
            format!("V ({v_unit})")
        },
        y_range: Some((lo.max(-150.0), hi.min(100.0))),
        series,
        ..Default::default()
    };
    draw_panels(path, title, &[panel], 1, (1100, 700))
}

/// `frequency.png`: period and frequency along each cycle branch (solid where stable).
/// `unit` is the continued parameter's; `units` the model's (time and rate; empty: none).
pub fn draw_frequency(
    path: &Path,
    title: &str,
    d: &Diagram,
    unit: &str,
    units: &Units,
) -> Result<(), ReportError> {
    let (mut per, mut freq) = (vec![], vec![]);
    for (k, (origin, c)) in d.cycles.iter().enumerate() {
        // Each branch its own colour, so each its own legend entries (a second branch had
        // been drawn in a colour the legend did not name).
        let color = PALETTE[(2 + k) % PALETTE.len()];
        let (mut l1, mut l2) = ([false; 2], [false; 2]);
        let name = if d.cycles.len() > 1 {
            format!("cycles, branch {}", k + 1)
        } else {
            "cycles".to_string()
        };
        let p: Vec<(f64, f64, bool)> = (origin.orbits(c).iter())
            .map(|p| (p.lambda, p.period, p.stable()))
            .collect();
        let f: Vec<(f64, f64, bool)> = (origin.orbits(c).iter())
            .map(|p| (p.lambda, p.frequency_hz(), p.stable()))
            .collect();
        runs(&p, color, &name, &mut per, &mut l1);
        runs(&f, color, &name, &mut freq, &mut l2);
    }
    per.extend(unsettled_series(d, |p| vec![(p.lambda, p.period)]));
    freq.extend(unsettled_series(d, |p| vec![(p.lambda, p.frequency_hz())]));
    let x_desc = with_unit(&d.knob, unit);
    let panels = [
        Panel {
            x_desc: x_desc.clone(),
            y_desc: with_unit("period", units.time),
            series: per,
            ..Default::default()
        },
        Panel {
            x_desc,
            y_desc: with_unit("frequency", units.rate_words()),
            series: freq,
            ..Default::default()
        },
    ];
    draw_panels(path, title, &panels, 2, (1400, 600))
}
