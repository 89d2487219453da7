//! `excitable bifurcation`: the one-parameter bifurcation diagram (equilibria, folds, Hopf
//! points with their criticality, cycle branches with Floquet multipliers and their folds,
//! period doublings and torus points).

use super::common::{ModelArgs, check_max_points, check_range, finish, param_unit};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::continuation::cycles::{CycleEvent, CycleSettings};
use excitable::continuation::diagram::{Diagram, DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Field, Settings};
use excitable::report::atomic::ensure_dir;
use excitable::report::bifurcation::{
    SpecialRow, cycles_table, draw_diagram, draw_frequency, equilibria_table, special_points_table,
    special_rows,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BifurcationArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Continued parameter: i_ext (injected current) or any model parameter.
    #[arg(long, default_value = CURRENT)]
    pub param: String,
    /// Start of the parameter range.
    #[arg(long, allow_hyphen_values = true, default_value_t = -20.0)]
    pub from: f64,
    /// End of the parameter range.
    #[arg(long, allow_hyphen_values = true, default_value_t = 250.0)]
    pub to: f64,
    /// Injected current (uA/cm^2) when another parameter is continued.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub current: f64,
    /// Mesh intervals of the cycle collocation (AUTO's NTST), 10..=2000.
    #[arg(long, default_value_t = 60)]
    pub ntst: usize,
    /// Collocation points per interval (AUTO's NCOL), 2..=7.
    #[arg(long, default_value_t = 4)]
    pub ncol: usize,
    /// Largest arclength step along cycle branches.
    #[arg(long, default_value_t = 4.0)]
    pub ds_max: f64,
    /// Points per branch at most.
    #[arg(long, default_value_t = 2000)]
    pub max_points: usize,
    /// Parameter values where the cycle branches record a point exactly, every time they pass
    /// one (AUTO's UZR): `--at 8,20,50`. They appear as `user_point` rows.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub at: Vec<f64>,
    /// Equilibria, folds and Hopf points only.
    #[arg(long)]
    pub no_cycles: bool,
    #[arg(long, default_value = "reports/bifurcation")]
    pub out: PathBuf,
}

pub fn run(a: BifurcationArgs) -> Result<()> {
    if !(10..=2000).contains(&a.ntst) {
        bail!("--ntst = {} is out of range: allowed 10..=2000", a.ntst);
    }
    if !(2..=7).contains(&a.ncol) {
        bail!("--ncol = {} is out of range: allowed 2..=7", a.ncol);
    }
    if !(a.ds_max.is_finite() && a.ds_max > 0.0) {
        bail!(
            "--ds-max = {} is invalid: it must be finite and > 0",
            a.ds_max
        );
    }
    check_range("--from/--to", a.from, a.to)?;
    if let Some(x) = a.at.iter().find(|x| !x.is_finite()) {
        bail!("--at {x}: every value must be finite");
    }
    check_max_points(a.max_points)?;
    let model = a.model.load()?;
    let field = Field::of(&model)?;
    let unit = param_unit(&field, &a.param)?;
    let fam = Family::of_field(field, &a.param, a.current)?;
    ensure_dir(&a.out)?;
    let settings = DiagramSettings {
        range: (a.from, a.to),
        equilibria: Settings {
            max_points: a.max_points,
            ..Settings::default()
        },
        cycles: CycleSettings {
            ntst: a.ntst,
            ncol: a.ncol,
            ds_max: a.ds_max,
            max_points: a.max_points,
            user_points: a.at.clone(),
            ..CycleSettings::default()
        },
        with_cycles: !a.no_cycles,
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} cycles  {msg}").expect("static template"),
    );
    let started = Instant::now();
    let d = diagram(&fam, &settings, &super::progress::Bar::new())
        .with_context(|| format!("bifurcation diagram of {} over {}", model.name(), a.param))?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let rows = special_rows(&d);
    let mut files = vec![
        equilibria_table(&d).write_parquet(&a.out)?,
        special_points_table(&rows).write_parquet(&a.out)?,
    ];
    if !a.no_cycles {
        files.push(cycles_table(&d).write_parquet(&a.out)?);
    }
    let title = format!("{}: bifurcation diagram over {}", model.name(), a.param);
    let fig = a.out.join("bifurcation.png");
    draw_diagram(&fig, &title, &d, &rows, &unit)?;
    files.push(fig);
    if !d.cycles.is_empty() {
        let fig = a.out.join("frequency.png");
        draw_frequency(
            &fig,
            &format!("{}: period and frequency of cycles", model.name()),
            &d,
            &unit,
        )?;
        files.push(fig);
    }
    let md = summary(model.name(), &a, &unit, &d, &rows, elapsed);
    finish(&a.out, &md, files)
}

fn summary(
    name: &str,
    a: &BifurcationArgs,
    unit: &str,
    d: &Diagram,
    rows: &[SpecialRow],
    seconds: f64,
) -> String {
    let mut md = format!("# Bifurcation diagram of `{name}` over `{}`\n\n", a.param);
    let _ = writeln!(
        md,
        "Range {} to {} {unit}; {} equilibrium branch(es), {} Hopf point(s), {} cycle branch(es) (collocation NTST={}, NCOL={}); computed in {:.2} s.\n",
        a.from,
        a.to,
        d.equilibria.len(),
        d.hopfs.len(),
        d.cycles.len(),
        a.ntst,
        a.ncol,
        seconds
    );
    if rows.is_empty() {
        let _ = writeln!(
            md,
            "No fold or Hopf point in this range: the equilibria keep their stability throughout.\n"
        );
    } else {
        let _ = writeln!(
            md,
            "| kind | {} ({unit}) | V (mV) | period (ms) | frequency (Hz) | first Lyapunov coefficient |",
            a.param
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
                r.kind,
                fmt(r.param, 9),
                fmt(r.v_mv, 3),
                fmt(r.period_ms, 5),
                fmt(r.frequency_hz, 3)
            );
        }
        md.push('\n');
    }
    for (k, c) in &d.cycles {
        let h = &d.hopfs[*k];
        // Stable orbits, plus the folds of cycles where the branch turns stable (multiplier 1):
        // the slowest firing sits exactly at such a fold.
        let stable: Vec<_> = c
            .points
            .iter()
            .skip(1)
            .filter(|p| p.stable())
            .chain(
                c.specials
                    .iter()
                    .filter(|s| s.kind == CycleEvent::Fold && s.point.marginally_stable(1e-3))
                    .map(|s| &s.point),
            )
            .collect();
        let _ = write!(
            md,
            "Cycles from the Hopf point at {:.6}: {} points, {}.",
            h.lambda,
            c.points.len(),
            c.stop
        );
        if let Some(slowest) = stable
            .iter()
            .min_by(|x, y| x.frequency_hz().total_cmp(&y.frequency_hz()))
        {
            let _ = write!(
                md,
                " Stable cycles from {:.3} to {:.3} Hz; the slowest stable firing is {:.3} Hz at {} = {:.6}.",
                slowest.frequency_hz(),
                stable.iter().map(|p| p.frequency_hz()).fold(0.0, f64::max),
                slowest.frequency_hz(),
                a.param,
                slowest.lambda
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
        "\nSolid lines are stable, dashed unstable; cycles are drawn by their max and min V. The first Lyapunov coefficient uses MatCont's normalisation (q^H q = 1, p^H q = 1): positive means subcritical (an unstable cycle is born, so firing starts with a jump and hysteresis), negative supercritical.\n\n![diagram](bifurcation.png)\n"
    );
    if !d.cycles.is_empty() {
        let _ = writeln!(md, "![frequency](frequency.png)\n");
    }
    let _ = writeln!(
        md,
        "Tables: [equilibria.parquet](equilibria.parquet), [cycles.parquet](cycles.parquet), [special_points.parquet](special_points.parquet)."
    );
    md
}
