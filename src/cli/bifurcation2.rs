//! `excitable bifurcation2`: two-parameter curves of Hopf and fold points, with Bautin,
//! Bogdanov-Takens and cusp points.

use super::common::{ModelArgs, check_max_points, check_range, finish, param_unit};
use anyhow::{Context, Result, bail};
use clap::Args;
use excitable::continuation::Field;
use excitable::continuation::codim2::{Box2, CurveKind, Family2, two_parameter};
use excitable::report::atomic::ensure_dir;
use excitable::report::bifurcation::{
    codim2_rows, curves_table, draw_two_parameter, special_points_table,
};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct Bifurcation2Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The two parameters, comma-separated: i_ext or model parameters (e.g. i_ext,g_k).
    #[arg(long, default_value = "i_ext,g_k")]
    pub params: String,
    /// Range of the first parameter.
    #[arg(long, allow_hyphen_values = true, default_value_t = -20.0)]
    pub from: f64,
    #[arg(long, allow_hyphen_values = true, default_value_t = 250.0)]
    pub to: f64,
    /// Range of the second parameter (must contain the model's value).
    #[arg(long, allow_hyphen_values = true, default_value_t = 10.0)]
    pub from2: f64,
    #[arg(long, allow_hyphen_values = true, default_value_t = 80.0)]
    pub to2: f64,
    /// Injected current (uA/cm^2) when neither parameter is i_ext.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
    pub current: f64,
    /// Points per curve direction at most.
    #[arg(long, default_value_t = 3000)]
    pub max_points: usize,
    #[arg(long, default_value = "reports/bifurcation2")]
    pub out: PathBuf,
}

pub fn run(a: Bifurcation2Args) -> Result<()> {
    let Some((p1, p2)) = a.params.split_once(',') else {
        bail!(
            "--params '{}': give two names separated by a comma, e.g. i_ext,g_k",
            a.params
        );
    };
    let (p1, p2) = (p1.trim(), p2.trim());
    for (lo, hi, what) in [
        (a.from, a.to, "--from/--to"),
        (a.from2, a.to2, "--from2/--to2"),
    ] {
        check_range(what, lo, hi)?;
    }
    check_max_points(a.max_points)?;
    let model = a.model.load()?;
    let field = Field::of(&model)?;
    let fam = Family2::new(&field, p1, p2, a.current)?;
    let units = (param_unit(&field, p1)?, param_unit(&field, p2)?);
    ensure_dir(&a.out)?;
    let bx = Box2 {
        l1: (a.from, a.to),
        l2: (a.from2, a.to2),
    };
    let started = Instant::now();
    let curves = two_parameter(&fam, &bx, a.max_points)
        .with_context(|| format!("two-parameter curves of {} over {p1}, {p2}", model.name()))?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = codim2_rows(&curves);
    let files = vec![
        curves_table(&curves, &fam.names).write_parquet(&a.out)?,
        special_points_table(&rows).write_parquet(&a.out)?,
        {
            let fig = a.out.join("two_parameter.png");
            draw_two_parameter(
                &fig,
                &format!("{}: Hopf and fold curves", model.name()),
                &curves,
                &rows,
                &fam.names,
                &units,
            )?;
            fig
        },
    ];
    let (b1, b2) = fam.base_values();
    let mut md = format!(
        "# Two-parameter diagram of `{}` over `{p1}` and `{p2}`\n\n",
        model.name()
    );
    let _ = writeln!(
        md,
        "Box {p1} in [{}, {}] {}, {p2} in [{}, {}] {}; curves seeded from the one-parameter diagram over {p1} at {p2} = {b2} ({p1} = {b1} elsewhere); computed in {seconds:.2} s.\n",
        a.from, a.to, units.0, a.from2, a.to2, units.1
    );
    for (k, c) in curves.iter().enumerate() {
        let _ = writeln!(
            md,
            "- curve {k}: {} curve, {} points; ends: {}.",
            c.kind.name(),
            c.points.len(),
            c.ends.join("; ")
        );
    }
    if rows.is_empty() {
        let _ = writeln!(
            md,
            "\nNo codimension-two point (Bautin, Bogdanov-Takens, cusp) in the box."
        );
    } else {
        let _ = writeln!(
            md,
            "\n| kind | {p1} ({}) | {p2} ({}) | V (mV) |\n|---|---|---|---|",
            units.0, units.1
        );
        for r in &rows {
            let _ = writeln!(
                md,
                "| {} | {:.6} | {:.6} | {:.3} |",
                r.kind, r.param, r.param2, r.v_mv
            );
        }
    }
    let hopf_curves = curves.iter().filter(|c| c.kind == CurveKind::Hopf).count();
    let _ = writeln!(
        md,
        "\n{hopf_curves} Hopf curve(s): solid where supercritical (l1 < 0), dashed where subcritical; a Bautin point is where they meet. Located by linear interpolation of the test function between adjacent curve points (steps at most 1/200 of the box).\n\n![two-parameter diagram](two_parameter.png)\n\nTables: [curves.parquet](curves.parquet), [special_points.parquet](special_points.parquet)."
    );
    finish(&a.out, &md, files)
}
