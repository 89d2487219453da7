//! Reports of the rest-state analysis: equilibria, eigenvalues, eigenvectors, centre subspace.

use super::figure::PALETTE;
use super::table::Table;
use super::xy_figure::{Panel, Series, Style, draw_panels};
use crate::analysis::centre::CentreProjection;
use crate::error::ReportError;
use crate::model::Equilibrium;
use crate::model::{Number, Quantity};
use crate::spec::RestResult;
use std::fmt::Write;
use std::path::{Path, PathBuf};

impl super::Report for RestResult {
    fn units(&self) -> crate::model::Units {
        self.model.units()
    }

    fn tables(&self) -> Vec<Table> {
        let names = self.model.var_names();
        let mut t = vec![
            equilibria_table(&names, &self.equilibria),
            eigenvalues_table(&self.equilibria),
            eigenvectors_table(&names, &self.equilibria),
        ];
        if !self.centre.is_empty() {
            t.push(centre_table(&self.centre));
        }
        t
    }

    fn figures(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        if self.centre.is_empty() {
            return Ok(vec![]);
        }
        let png = dir.join("centre_subspace.png");
        draw_centre(&png, &self.model.label(), &self.centre)?;
        Ok(vec![png])
    }

    fn summary(&self) -> String {
        rest_summary(self)
    }

    fn metadata(&self) -> Vec<(String, String)> {
        super::write::model_metadata(&self.model, &self.spec)
    }
}

fn rest_summary(r: &RestResult) -> String {
    let names = r.model.var_names();
    let units = r.model.units();
    let unit = |u: &str| {
        if u.is_empty() {
            String::new()
        } else {
            format!(" ({u})")
        }
    };
    let mut s = String::new();
    let _ = writeln!(s, "# Rest states of `{}`\n", r.model.label());
    let _ = writeln!(
        s,
        "| I{} | # | V{} | stability | unstable | eigenvalues (1/{}) | slowest tau{} | ringing{} |",
        unit(units.current),
        unit(units.voltage),
        if units.time.is_empty() {
            "time"
        } else {
            units.time
        },
        unit(units.time),
        // (Per 1000 time units without units: the scale every rate is given in.)
        unit(units.rate_words())
    );
    let _ = writeln!(s, "|---:|---:|---:|---|---:|---|---:|---:|");
    for e in &r.equilibria {
        let ev: Vec<String> = e
            .eigen
            .iter()
            .map(|p| {
                if p.value.im.abs() > 1e-12 {
                    format!("{:.5}{:+.5}i", p.value.re, p.value.im)
                } else {
                    format!("{:.5}", p.value.re)
                }
            })
            .collect();
        // The slowest decay, where every mode decays; the fastest growth (labelled a growth
        // time, not a decay) where one grows.
        let tau = if e.n_unstable == 0 {
            let slowest = e
                .eigen
                .iter()
                .map(|p| p.time_constant_ms())
                .fold(0.0, f64::max);
            format!("{slowest:.3}")
        } else {
            let fastest = e
                .eigen
                .iter()
                .filter(|p| p.value.re > 0.0)
                .map(|p| p.time_constant_ms())
                .fold(f64::INFINITY, f64::min);
            format!("growth time {fastest:.3}")
        };
        let ring = e.eigen.iter().map(|p| p.frequency_hz()).fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {} | {} | {} | {tau} | {:.2} |",
            Number(e.i_ext),
            e.index,
            e.state[0],
            e.stability,
            e.n_unstable,
            ev.join(", "),
            ring
        );
    }
    // Which equilibrium is rest at each current, and where none is: nothing unstable is
    // called rest.
    let mut currents: Vec<f64> = r.equilibria.iter().map(|e| e.i_ext).collect();
    currents.dedup();
    let _ = writeln!(s);
    for i in currents {
        let at: Vec<_> = r.equilibria.iter().filter(|e| e.i_ext == i).collect();
        match at.iter().find(|e| e.stability.is_stable()) {
            Some(e) => {
                // Rest is the stable equilibrium of lowest V by rule; another stable one is
                // said (hh-ca at -50 uA/cm^2: rest at -221 mV, a stable focus at -37.5 too).
                let others: Vec<String> = (at.iter())
                    .filter(|o| o.stability.is_stable() && o.index != e.index)
                    .map(|o| format!("#{} at V = {:.4}", o.index, o.state[0]))
                    .collect();
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; **also stable: {}**, where a run started nearer it settles (rest is the stable equilibrium of lowest V by rule)",
                        others.join(", ")
                    )
                };
                let _ = writeln!(
                    s,
                    "- At I = {}: rest is #{} (V = {:.4}, {}){also}.",
                    Quantity(i, units.current),
                    e.index,
                    e.state[0],
                    e.stability
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "- At I = {}: **no stable equilibrium, so no resting state**; a run that starts here leaves along the unstable directions (runs that must start somewhere start on #0 displaced by +{} in V).",
                    Quantity(i, units.current),
                    Quantity(crate::model::UNSTABLE_START_KICK, units.voltage)
                );
            }
        }
    }
    let _ = writeln!(s, "\nState at each equilibrium ({}):\n", names.join(", "));
    for e in &r.equilibria {
        let st: Vec<String> = names
            .iter()
            .zip(&e.state)
            .map(|(n, v)| format!("{n}={v:.6}"))
            .collect();
        let _ = writeln!(
            s,
            "- I = {}, #{}: {}",
            Number(e.i_ext),
            e.index,
            st.join(", ")
        );
    }
    for (i, c) in &r.centre {
        // The comparison tests the linearisation only while the trajectory stays near the
        // equilibrium, which it does not when the leading pair grows.
        if c.pair.re > 0.0 {
            let _ = writeln!(
                s,
                "\nCentre subspace at {} (pair {:.5}{:+.5}i /ms): the pair is unstable, so after a {} mV kick the trajectory leaves the equilibrium; the off-plane rate ({:.4}/ms, fit 5-40 ms) is not a test of the linearisation and is not compared with the eigenvalues.",
                Quantity(*i, units.current),
                c.pair.re,
                c.pair.im,
                crate::analysis::centre::KICK_MV,
                c.fitted_rate_per_ms,
            );
            continue;
        }
        let _ = writeln!(
            s,
            "\nCentre subspace at {} (pair {:.5}{:+.5}i /ms): after a {} mV kick the deviation off the plane decays at {:.4}/ms (fit, 5-40 ms); the slowest other eigenvalue predicts {:.4}/ms. Off-plane share at 40 ms: {:.2e}.",
            Quantity(*i, units.current),
            c.pair.re,
            c.pair.im,
            crate::analysis::centre::KICK_MV,
            c.fitted_rate_per_ms,
            c.predicted_rate_per_ms,
            c.off_norm.last().unwrap_or(&f64::NAN) / c.centre_norm.last().unwrap_or(&f64::NAN)
        );
    }
    let _ = writeln!(
        s,
        "\nTables: [equilibria](equilibria.parquet), [eigenvalues](eigenvalues.parquet), [eigenvectors](eigenvectors.parquet){}.",
        if r.centre.is_empty() {
            ""
        } else {
            ", [centre_subspace](centre_subspace.parquet) ![centre](centre_subspace.png)"
        }
    );
    s
}

/// `equilibria.parquet`: `i_ua_cm2, equilibrium, v_mv, <state columns>, stability, n_unstable`.
pub fn equilibria_table(names: &[String], eqs: &[Equilibrium]) -> Table {
    let mut t = Table::new("equilibria")
        .f64("i_ua_cm2", eqs.iter().map(|e| e.i_ext).collect())
        .u32("equilibrium", eqs.iter().map(|e| e.index as u32).collect())
        .f64("v_mv", eqs.iter().map(|e| e.state[0]).collect());
    for (j, n) in names.iter().enumerate().skip(1) {
        t = t.f64(n, eqs.iter().map(|e| e.state[j]).collect());
    }
    t.str(
        "stability",
        eqs.iter().map(|e| e.stability.name().to_string()).collect(),
    )
    .u32(
        "n_unstable",
        eqs.iter().map(|e| e.n_unstable as u32).collect(),
    )
}

/// `eigenvalues.parquet`: `i_ua_cm2, equilibrium, k, re_per_ms, im_per_ms, time_constant_ms, frequency_hz`.
pub fn eigenvalues_table(eqs: &[Equilibrium]) -> Table {
    let rows: Vec<(&Equilibrium, usize)> = eqs
        .iter()
        .flat_map(|e| (0..e.eigen.len()).map(move |k| (e, k)))
        .collect();
    Table::new("eigenvalues")
        .f64("i_ua_cm2", rows.iter().map(|(e, _)| e.i_ext).collect())
        .u32(
            "equilibrium",
            rows.iter().map(|(e, _)| e.index as u32).collect(),
        )
        .u32("k", rows.iter().map(|(_, k)| *k as u32).collect())
        .f64(
            "re_per_ms",
            rows.iter().map(|(e, k)| e.eigen[*k].value.re).collect(),
        )
        .f64(
            "im_per_ms",
            rows.iter().map(|(e, k)| e.eigen[*k].value.im).collect(),
        )
        .f64(
            "time_constant_ms",
            rows.iter()
                .map(|(e, k)| e.eigen[*k].time_constant_ms())
                .collect(),
        )
        .f64(
            "frequency_hz",
            rows.iter()
                .map(|(e, k)| e.eigen[*k].frequency_hz())
                .collect(),
        )
}

/// `eigenvectors.parquet` in long form: `i_ua_cm2, equilibrium, k, component, re, im`.
pub fn eigenvectors_table(names: &[String], eqs: &[Equilibrium]) -> Table {
    let mut rows = Vec::new();
    for e in eqs {
        for (k, p) in e.eigen.iter().enumerate() {
            for (c, z) in p.vector.iter().enumerate() {
                rows.push((
                    e.i_ext,
                    e.index as u32,
                    k as u32,
                    names[c].clone(),
                    z.re,
                    z.im,
                ));
            }
        }
    }
    Table::new("eigenvectors")
        .f64("i_ua_cm2", rows.iter().map(|r| r.0).collect())
        .u32("equilibrium", rows.iter().map(|r| r.1).collect())
        .u32("k", rows.iter().map(|r| r.2).collect())
        .str("component", rows.iter().map(|r| r.3.clone()).collect())
        .f64("re", rows.iter().map(|r| r.4).collect())
        .f64("im", rows.iter().map(|r| r.5).collect())
}

/// `centre_subspace.parquet`: `i_ua_cm2, t_ms, centre_norm, off_norm`.
pub fn centre_table(items: &[(f64, CentreProjection)]) -> Table {
    let cat = |f: &dyn Fn(&CentreProjection) -> &[f64]| {
        items
            .iter()
            .flat_map(|(_, c)| f(c).iter().copied())
            .collect::<Vec<f64>>()
    };
    Table::new("centre_subspace")
        .f64(
            "i_ua_cm2",
            items
                .iter()
                .flat_map(|(i, c)| std::iter::repeat_n(*i, c.t_ms.len()))
                .collect(),
        )
        .f64("t_ms", cat(&|c| &c.t_ms))
        .f64("centre_norm", cat(&|c| &c.centre_norm))
        .f64("off_norm", cat(&|c| &c.off_norm))
}

/// Figure of the centre-subspace projections (log scale).
pub fn draw_centre(
    path: &Path,
    model: &str,
    items: &[(f64, CentreProjection)],
) -> Result<(), ReportError> {
    let panels: Vec<Panel> = items
        .iter()
        .map(|(i, c)| Panel {
            x_desc: "t (ms)".into(),
            y_desc: format!("|deviation| at {i} uA/cm^2"),
            log_y: true,
            series: vec![
                Series {
                    label: "in the centre plane".into(),
                    points: c
                        .t_ms
                        .iter()
                        .copied()
                        .zip(c.centre_norm.iter().copied())
                        .collect(),
                    color: PALETTE[0],
                    style: Style::Line,
                },
                Series {
                    // An unstable pair leaves the equilibrium: its fit is no test of the
                    // linearisation, and the summary does not compare it (nor does this).
                    label: if c.pair.re > 0.0 {
                        format!(
                            "off the plane (fit {:.4}/ms; the pair is unstable)",
                            c.fitted_rate_per_ms
                        )
                    } else {
                        format!(
                            "off the plane (fit {:.4}/ms, predicted {:.4}/ms)",
                            c.fitted_rate_per_ms, c.predicted_rate_per_ms
                        )
                    },
                    points: c
                        .t_ms
                        .iter()
                        .copied()
                        .zip(c.off_norm.iter().copied())
                        .collect(),
                    color: PALETTE[1],
                    style: Style::Line,
                },
            ],
            ..Default::default()
        })
        .collect();
    draw_panels(
        path,
        &format!("{model}: decay onto the centre subspace"),
        &panels,
        1,
        (1200, 450 * panels.len().max(1) as u32),
    )
}
