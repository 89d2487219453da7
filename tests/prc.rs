//! `excitable prc`: infinitesimal phase response curves by the adjoint method on the
//! collocated cycle, against independent references.
//!
//! - Direct perturbation (tests/fixtures/prc/make_prc.py, scipy DOP853 at rtol 1e-11 on the
//!   equations written again in Python): kicks of +-0.01 mV in V at 50 phases, the phase
//!   shift measured after six cycles. The adjoint PRC agrees to 1% of max|PRC| at every
//!   phase, on `hh` at 10 uA/cm^2 (type II) and on Morris-Lecar's SNIC set at 45 (the zoo's
//!   `ml_snic.ode`); the periods agree to 1e-7 relative. The same on two more zoo models
//!   (tests/fixtures/prc/make_prc_zoo.py): Wang-Buzsaki at 1 uA/cm^2 (three variables, class 1)
//!   and Rinzel's two-variable reduction of HH at 20 uA/cm^2 (class 2).
//! - Near a SNIC (Morris-Lecar's, at I_SN = 39.96315 from tests/fixtures/zoo/points.csv) the
//!   V curve tends to the shape 1 - cos(2 pi phase): the normalised L2 distance (both curves
//!   scaled to unit RMS) shrinks as I approaches I_SN and is below 0.1 at I_SN + 0.05.
//! - Near the supercritical Hopf point of `hh` (154.5224, points.csv) the V curve tends to a
//!   sinusoid: the relative residual of the fit a + b cos + c sin shrinks towards the Hopf
//!   point and is below 0.05 at 154.
//! - Bad input is refused with one line naming the field, before any output.

use crate::common;

use excitable::report::Report;
use excitable::{Model, spec::PrcSpec};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ml_snic() -> Model {
    Model::from_file(&root().join("studies/models/zoo/ml_snic.ode")).unwrap()
}

fn spec(currents: &str) -> PrcSpec {
    PrcSpec {
        currents: currents.parse().unwrap(),
        ..Default::default()
    }
}

/// (model, current, period, phase, prc) rows of the direct-perturbation fixture.
/// Both fixture files: prc_direct.csv (make_prc.py: hh, ml-snic) and prc_direct_zoo.csv
/// (make_prc_zoo.py: wang-buzsaki, rinzel-hh2d).
fn direct() -> Vec<(String, f64, f64, f64, f64)> {
    ["prc_direct.csv", "prc_direct_zoo.csv"]
        .iter()
        .flat_map(|f| {
            let mut r = csv::Reader::from_path(root().join("tests/fixtures/prc").join(f)).unwrap();
            r.records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    let x = |i: usize| rec[i].parse::<f64>().unwrap();
                    (rec[0].to_string(), x(1), x(3), x(4), x(5))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn check_direct(name: &str, model: &Model) {
    let rows: Vec<_> = direct().into_iter().filter(|r| r.0 == name).collect();
    assert_eq!(rows.len(), 50, "{name}: 50 phases in the fixture");
    let current = rows[0].1;
    let r = spec(&current.to_string()).run(model).unwrap();
    let p = &r.prcs[0];
    assert!(
        (p.period - rows[0].2).abs() < 1e-7 * rows[0].2,
        "{name}: period {} vs scipy {}",
        p.period,
        rows[0].2
    );
    let scale = rows.iter().map(|r| r.4.abs()).fold(0.0, f64::max);
    let worst = rows
        .iter()
        .map(|row| (p.at(row.3)[0] - row.4).abs())
        .fold(0.0, f64::max);
    eprintln!("{name}: max|PRC| {scale:.6}, worst difference {worst:.3e}");
    assert!(worst < 0.01 * scale, "{name}: {worst} vs 1% of {scale}");
}

#[test]
fn hh_at_10_agrees_with_direct_perturbation() {
    check_direct("hh", &Model::builtin("hh").unwrap());
}

#[test]
fn morris_lecar_snic_set_agrees_with_direct_perturbation() {
    check_direct("ml-snic", &ml_snic());
}

#[test]
fn wang_buzsaki_at_1_agrees_with_direct_perturbation() {
    let m = Model::from_file(&root().join("studies/models/zoo/wang_buzsaki.toml")).unwrap();
    check_direct("wang-buzsaki", &m);
}

#[test]
fn rinzel_two_variable_hh_at_20_agrees_with_direct_perturbation() {
    let m = Model::from_file(&root().join("studies/models/zoo/rinzel_hh2d.ode")).unwrap();
    check_direct("rinzel-hh2d", &m);
}

#[test]
fn near_a_snic_the_prc_tends_to_one_minus_cosine() {
    let i_sn = 39.96315309274533;
    let r = spec(&format!(
        "{},{},{},{}",
        i_sn + 5.0,
        i_sn + 0.5,
        i_sn + 0.05,
        i_sn + 0.005
    ))
    .run(&ml_snic())
    .unwrap();
    let d: Vec<f64> = r.prcs.iter().map(|p| p.distance_to_snic_shape()).collect();
    eprintln!("distance to 1 - cos at I_SN + 5, 0.5, 0.05, 0.005: {d:?}");
    assert!(d.windows(2).all(|w| w[1] < w[0]), "{d:?}");
    assert!(d[3] < 0.1, "{d:?}");
    assert!(r.prcs.iter().all(|p| p.normalisation_error < 1e-4));
}

#[test]
fn near_the_supercritical_hopf_point_of_hh_the_prc_is_a_sinusoid() {
    let r = spec("140,150,154,154.4")
        .run(&Model::builtin("hh").unwrap())
        .unwrap();
    let res: Vec<f64> = r.prcs.iter().map(|p| p.sinusoid_fit().1).collect();
    eprintln!("sinusoid fit residuals at 140, 150, 154, 154.4: {res:?}");
    assert!(res.windows(2).all(|w| w[1] < w[0]), "{res:?}");
    assert!(res[3] < 0.03, "{res:?}");
}

#[test]
fn a_branch_of_currents_follows_the_stable_cycles() {
    let r = spec("10:50:10")
        .run(&Model::builtin("hh").unwrap())
        .unwrap();
    assert_eq!(r.prcs.len(), 5);
    // The period falls with the current along the branch; every cycle is stable and HH's
    // PRC is type II throughout.
    for w in r.prcs.windows(2) {
        assert!(w[1].period < w[0].period);
    }
    for p in &r.prcs {
        assert!(p.max_multiplier < 1.0 && p.kind().name() == "type II");
        assert!(p.normalisation_error < 1e-5, "{}", p.normalisation_error);
    }
    let t = r.tables();
    assert_eq!(t[0].height(), 5 * 4 * 200);
}

#[test]
fn continuing_from_the_previous_current_gives_what_simulating_each_gives() {
    // A list continues each next cycle from the previous one (Newton at the new current);
    // each current on its own is simulated. The two land on different adapted meshes, so
    // their PRCs differ by the collocation's error between mesh nodes: within the PRC's
    // stated accuracy (1% of max|PRC|) at NTST 60 (measured: up to 0.6%, in a gate; the
    // default is 80), and shrinking with the mesh like h^5 or faster (below 1e-5 at NTST 240,
    // measured 3.5e-6): the same cycles and PRCs. Periods agree to 1e-8 relative.
    //
    // 61:65:1 crosses 62.8 uA/cm^2, from where hh's spike peaks stay below the 0 mV
    // threshold and phase 0 is the middle of the V range: there the continued cycle takes
    // the middle of its own range, the simulated one of its last simulated window, the same
    // level to 1e-3 mV.
    //
    // And over the zoo at NTST 60: Morris-Lecar's SNIC set, Wang-Buzsaki (class 1) and
    // Rinzel's two-variable HH (class 2), each along five currents (measured: 1.3e-6, 1.7e-5
    // and 8.2e-4 of max|PRC|).
    let hh = Model::builtin("hh").unwrap();
    let zoo = |f: &str| Model::from_file(&root().join("studies/models/zoo").join(f)).unwrap();
    let (ml, wb, rinzel) = (ml_snic(), zoo("wang_buzsaki.toml"), zoo("rinzel_hh2d.ode"));
    for (model, list, ntst, tol) in [
        (&hh, "10:14:1", 60, 1e-2),
        (&hh, "10:14:1", 240, 1e-5),
        (&hh, "61:65:1", 60, 1e-2),
        (&ml, "45:49:1", 60, 1e-2),
        (&wb, "1:3:0.5", 60, 1e-2),
        (&rinzel, "20:24:1", 60, 1e-2),
    ] {
        let sp = |c: &str| PrcSpec { ntst, ..spec(c) };
        let list = sp(list).run(model).unwrap();
        assert_eq!(list.prcs.len(), 5);
        let mut worst_seen = 0.0f64;
        for (k, p) in list.prcs.iter().enumerate() {
            // The first is simulated, the others continued (no simulated period).
            assert_eq!(
                p.orbit().simulated_period.is_nan(),
                k > 0,
                "current {}",
                p.current
            );
            let alone = sp(&p.current.to_string()).run(model).unwrap();
            let q = &alone.prcs[0];
            assert!(!q.orbit().simulated_period.is_nan());
            assert!(
                (p.period - q.period).abs() < 1e-8 * q.period,
                "{}: {} vs {}",
                p.current,
                p.period,
                q.period
            );
            assert!(
                (p.section - q.section).abs() < 1e-3,
                "{}: section {} vs {}",
                p.current,
                p.section,
                q.section
            );
            for (a, b) in p.values.iter().zip(&q.values) {
                let max = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let worst = a
                    .iter()
                    .zip(b)
                    .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                worst_seen = worst_seen.max(worst / max);
                assert!(
                    worst < tol * max,
                    "NTST {ntst}, {}: {worst} of {max}",
                    p.current
                );
            }
        }
        eprintln!(
            "{}, {}..{} at NTST {ntst}: largest difference {worst_seen:.2e} of max|PRC|",
            model.label(),
            list.prcs[0].current,
            list.prcs[4].current
        );
    }
}

#[test]
fn an_ode_model_gets_no_invented_units() {
    let r = spec("45").run(&ml_snic()).unwrap();
    assert_eq!((r.current_column(), r.value_column()), ("i", "prc"));
    assert!(!r.summary().contains("ms/mV"), "{}", r.summary());
}

#[test]
fn bad_input_is_refused_naming_the_field_before_any_output() {
    let hh = Model::builtin("hh").unwrap();
    let e = spec("2").run(&hh).unwrap_err().to_string();
    assert!(e.starts_with("current = 2 uA/cm^2"), "{e}");
    let e = spec("10")
        .run(&Model::builtin("lif").unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("lif") && e.contains("smooth"), "{e}");
    let dir = std::env::temp_dir().join(format!("prc_refused_{}", std::process::id()));
    let (ok, _, err) = common::excitable(&[
        "prc",
        "--model",
        "hh",
        "--current",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("current"), "{err}");
    assert!(!dir.exists());
    let (ok, _, err) =
        common::excitable(&["prc", "--model", "lif", "--out", dir.to_str().unwrap()]);
    assert!(!ok && err.trim().lines().count() == 1, "{err}");
    assert!(!dir.exists());
}

#[test]
fn hh_above_62_8_where_the_spike_peaks_fall_below_0_mv_still_gets_its_prc() {
    // From 62.8 uA/cm^2 up hh's cycle peaks below its 0 mV threshold, after a few transient
    // spikes from rest that do cross it: the orbit is cut at the middle of its V range instead
    // (the section is reported). The period agrees with the diagram's cycle branch at the same
    // current (its user point, pseudo-arclength continuation from the Hopf point) to 1e-6.
    let hh = Model::builtin("hh").unwrap();
    let r = spec("63,70").run(&hh).unwrap();
    let d = excitable::BifurcationSpec {
        from: 0.0,
        to: 200.0,
        at: vec![63.0, 70.0],
        ..Default::default()
    }
    .run(&hh)
    .unwrap();
    for p in &r.prcs {
        assert!(p.section < 0.0, "{}: section {}", p.current, p.section);
        let at = d
            .special_points
            .iter()
            .find(|s| s.kind.name() == "user_point" && (s.param - p.current).abs() < 1e-9)
            .unwrap();
        assert!(
            (p.period - at.period_ms).abs() < 1e-6 * at.period_ms,
            "{}: {} vs the diagram's {}",
            p.current,
            p.period,
            at.period_ms
        );
    }
}

/// Near a SNIC the PRC needs a fine mesh, and the mesh check finds it: on a circle model with
/// radial isochrons (tests/fixtures/closed_forms/snic_circle.ode) both curves are known in
/// closed form at every state of the cycle. At 0.1% above the SNIC the default 80 intervals
/// gave the `w` curve 36 times its true size, with `Z . f = 1` to 1e-7 and no warning; the
/// check now doubles the mesh until two curves agree to 1e-3 of their largest values.
///
/// Tolerances: every sample within 1e-4 of each curve's largest value (measured 6e-5 at
/// 1.001, 1e-6 at 1.1); the period to 1e-10 relative; the mesh check's figure at most its
/// 1e-3 and no smaller than the error it estimates.
#[test]
fn near_a_snic_the_mesh_check_refines_until_the_curves_are_right() {
    let m = Model::from_file(&root().join("tests/fixtures/closed_forms/snic_circle.ode")).unwrap();
    for (i, finer_than_default) in [(1.001, true), (1.02, true), (1.1, false)] {
        let r = PrcSpec {
            threshold: Some(0.0),
            ..spec(&i.to_string())
        }
        .run(&m)
        .unwrap();
        let p = &r.prcs[0];
        let period = 2.0 * std::f64::consts::PI / (i * i - 1.0f64).sqrt();
        assert!((p.period / period - 1.0).abs() < 1e-10, "{i}: {}", p.period);
        assert!(p.mesh_error <= 1e-3, "{i}: {}", p.mesh_error);
        assert_eq!(p.ntst > 160, finer_than_default, "{i}: {}", p.ntst);
        let mut worst = [0.0f64; 2];
        let mut size = [0.0f64; 2];
        for (k, &phase) in p.phases.iter().enumerate() {
            let y = p.state_at(phase);
            let theta = (-y[0]).atan2(y[1]);
            let d = i + theta.cos();
            let exact = [-theta.cos() / d, -theta.sin() / d];
            for v in 0..2 {
                worst[v] = worst[v].max((p.values[v][k] - exact[v]).abs());
                size[v] = size[v].max(exact[v].abs());
            }
        }
        for v in 0..2 {
            let rel = worst[v] / size[v];
            assert!(rel < 1e-4, "{i}, variable {v}: {rel:e}");
            assert!(
                rel <= p.mesh_error,
                "{i}, variable {v}: {rel:e} vs {:e}",
                p.mesh_error
            );
        }
    }
}

/// In the bistable range of Morris-Lecar's homoclinic set (rest and firing coexist from 35.007
/// to 40.59, tests/fixtures/zoo/points.csv) a run from rest stays at rest, and the file has no
/// units, so the search kicks V by 1, then 10 and 40 of its units: at 38 it reaches the cycle
/// (a kick of 1 alone did not, and `prc` said there was no cycle). Its period is the one a
/// simulation from the kicked state settles on (dopri5 at rtol 1e-10, the last interspike
/// interval of 3000 time units), to 1e-6 relative.
#[test]
fn a_cycle_beside_a_stable_rest_is_found_in_a_file_without_units() {
    let m = Model::from_file(&root().join("studies/models/zoo/ml_homoclinic.ode")).unwrap();
    let r = spec("38").run(&m).unwrap();
    let period = r.prcs[0].period;
    let mut y0 = m.sweep_start().unwrap();
    y0[0] += 40.0;
    let s = excitable::simulate::Settings {
        t_max: 3000.0,
        dt: 0.1,
        method: excitable::simulate::Method::Dopri5(excitable::simulate::Tolerances {
            rtol: 1e-10,
            atol: 1e-12,
        }),
        record: excitable::simulate::Record::SpikesOnly,
        threshold_mv: 0.0,
    };
    let spikes =
        excitable::simulate::run(&m, &excitable::stimulus::Stimulus::constant(38.0), &y0, &s)
            .unwrap()
            .spikes_ms;
    assert!(spikes.len() >= 5, "{spikes:?}");
    let isi = spikes[spikes.len() - 1] - spikes[spikes.len() - 2];
    assert!(
        ((period - isi) / isi).abs() < 1e-6,
        "prc period {period}, simulated {isi}"
    );
}
