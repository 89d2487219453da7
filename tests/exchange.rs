//! Model exchange (issue 20): built-in and zoo models written as TOML, XPPAUT `.ode` and
//! NeuroML2 and read back give the same right-hand side (1e-12 relative, 1,000 random
//! states); the NeuroML2 HH example cell equals the built-in `hh`; exported `.ode` files run
//! in XPPAUT give our traces (committed XPPAUT output, tests/fixtures/exchange/).

use excitable::model::export::{OdeRun, to_neuroml, to_ode, to_toml};
use excitable::model::ode::OdeModel;
use excitable::model::{ConductanceModel, Model, file, neuroml};
use excitable::report::Report;
use excitable::simulate::{self, Method, Record, Settings};
use excitable::spec::{BifurcationResult, BifurcationSpec, ExportFormat, ExportSpec};
use excitable::stimulus::Stimulus;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The conductance models of the zoo: the built-ins and the TOML files.
fn conductance_zoo() -> Vec<ConductanceModel> {
    let mut v: Vec<ConductanceModel> = ["hh", "hh-1952", "hh-ca"]
        .iter()
        .map(|n| Model::builtin(n).unwrap().smooth().unwrap().clone())
        .collect();
    for f in ["connor_stevens.toml", "wang_buzsaki.toml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("studies/models/zoo")
            .join(f);
        v.push(file::load(&p).unwrap());
    }
    v
}

/// 1,000 reproducible states: V in [-100, 60] mV, gates in [0, 1], and a current in [-20, 50].
fn states(dim: usize) -> Vec<(Vec<f64>, f64)> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..1000)
        .map(|_| {
            let mut y = vec![-100.0 + 160.0 * next()];
            y.extend((1..dim).map(|_| next()));
            (y, -20.0 + 70.0 * next())
        })
        .collect()
}

/// |a - b| <= 1e-12 (1 + |a|), component by component.
fn assert_same(a: &[f64], b: &[f64], what: &str) {
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + x.abs()),
            "{what}: component {k}: {x} vs {y}"
        );
    }
}

/// Both conductance models' right-hand sides agree at every random state, variables
/// matched by name.
fn same_rhs(a: &ConductanceModel, b: &ConductanceModel, what: &str) {
    let (na, nb) = (a.var_names(), b.var_names());
    let perm: Vec<usize> = na
        .iter()
        .map(|n| {
            nb.iter()
                .position(|m| m == n)
                .unwrap_or_else(|| panic!("{what}: {n} lost"))
        })
        .collect();
    let (pa, pb) = (a.params.values(), b.params.values());
    for (y, i) in states(a.dim()) {
        let mut yb = vec![0.0; y.len()];
        for (k, &j) in perm.iter().enumerate() {
            yb[j] = y[k];
        }
        let (mut da, mut db) = (vec![0.0; y.len()], vec![0.0; y.len()]);
        a.rhs(&pa, &y, i, &mut da);
        b.rhs(&pb, &yb, i, &mut db);
        let db: Vec<f64> = perm.iter().map(|&j| db[j]).collect();
        assert_same(&da, &db, &format!("{what} at {y:?}, I = {i}"));
    }
}

#[test]
fn toml_round_trips_every_conductance_model() {
    for m in conductance_zoo() {
        let text = to_toml(&m).unwrap();
        let back =
            file::parse(&text, "export.toml").unwrap_or_else(|e| panic!("{}: {e}\n{text}", m.name));
        assert_eq!(back.var_names(), m.var_names());
        assert_eq!(back.params, m.params, "{}", m.name);
        same_rhs(&m, &back, &format!("{} -> toml", m.name));
    }
}

#[test]
fn ode_round_trips_every_conductance_model() {
    for m in conductance_zoo() {
        let run = OdeRun {
            i_ext: 0.0,
            init: m.state_at_v(-65.0),
            total_ms: 100.0,
            dt_ms: 0.01,
        };
        let text = to_ode(&m, &run).unwrap();
        let back = OdeModel::parse(&text, "export.ode", &m.name)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", m.name));
        assert_eq!(back.vars, m.var_names());
        assert_eq!(back.init, run.init);
        let pm = m.params.values();
        let mut pb = back.params.values();
        let i_at = back.params.index("i_ext").unwrap();
        for (y, i) in states(m.dim()) {
            pb[i_at] = i;
            let (mut da, mut db) = (vec![0.0; y.len()], vec![0.0; y.len()]);
            m.rhs(&pm, &y, i, &mut da);
            back.rhs(&pb, 0.0, &y, &mut db);
            assert_same(&da, &db, &format!("{} -> ode at {y:?}, I = {i}", m.name));
        }
    }
}

#[test]
fn neuroml_round_trips_the_models_it_can_express() {
    for m in conductance_zoo() {
        let text = to_neuroml(&m, -65.0);
        match m.name.as_str() {
            // Rates made of sums, products and powers (Connor-Stevens' A-current), and an
            // instantaneous m_inf = alpha / (alpha + beta) (Wang-Buzsaki), are not NeuroML's
            // standard forms.
            "connor-stevens" | "wang-buzsaki" => {
                let e = text.unwrap_err().0;
                assert!(e.contains("standard"), "{}: {e}", m.name);
            }
            _ => {
                let text = text.unwrap();
                let back = neuroml::parse(&text, "export.nml", None)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{text}", m.name));
                assert_eq!(back.var_names(), m.var_names());
                same_rhs(&m, &back, &format!("{} -> neuroml", m.name));
                // And once more: NeuroML -> NeuroML is a fixed point of the text.
                assert_eq!(
                    to_neuroml(&back, -65.0).unwrap().lines().count(),
                    text.lines().count()
                );
            }
        }
    }
    // phi becomes each gate's q10Fixed, folded into the rates on reading.
    let warm = Model::builtin("hh").unwrap().with("phi", 3.0).unwrap();
    let warm = warm.smooth().unwrap();
    let back = neuroml::parse(&to_neuroml(warm, -65.0).unwrap(), "w.nml", None).unwrap();
    same_rhs(warm, &back, "hh (phi = 3) -> neuroml");
}

#[test]
fn toml_to_neuroml_to_loaded() {
    // TOML -> NeuroML2 -> loaded, for a model written as a TOML file.
    let hh = Model::builtin("hh-ca").unwrap();
    let toml_model = file::parse(&to_toml(hh.smooth().unwrap()).unwrap(), "x.toml").unwrap();
    let back = neuroml::parse(&to_neuroml(&toml_model, -65.0).unwrap(), "x.nml", None).unwrap();
    same_rhs(&toml_model, &back, "hh-ca -> toml -> neuroml");
}

/// The HH example cell of the NeuroML2 repository is the built-in hh but for E_leak = -54.3
/// mV (the built-in: -54.387): with that set, rest, both Hopf points and the fold of cycles
/// agree to 1e-9. Its channels are written at 6.3 degC without q10: no temperature enters.
#[test]
fn the_neuroml_hh_example_cell_equals_builtin_hh() {
    let cell = Model::from_file(&fixture("neuroml/NML2_SingleCompHHCell.nml")).unwrap();
    let hh = Model::builtin("hh").unwrap().with("e_l", -54.3).unwrap();
    let (rc, rh) = (cell.rest(0.0).unwrap(), hh.rest(0.0).unwrap());
    // The cell's state order is V, m, h, n as hh's.
    assert_same(&rc.state, &rh.state, "rest");
    assert!((rc.state[0] - rh.state[0]).abs() < 1e-9);
    let spec = BifurcationSpec {
        to: 200.0,
        no_cycles: true,
        ..Default::default()
    };
    let (bc, bh) = (spec.run(&cell).unwrap(), spec.run(&hh).unwrap());
    let pts = |b: &BifurcationResult| -> Vec<(String, f64)> {
        b.special_points
            .iter()
            .map(|p| (format!("{:?}", p.kind), p.param))
            .collect()
    };
    let (pc, ph) = (pts(&bc), pts(&bh));
    assert!(pc.iter().any(|(k, _)| k == "Hopf"), "{pc:?}");
    assert_eq!(pc.len(), ph.len(), "{pc:?} vs {ph:?}");
    for ((kc, c), (kh, h)) in pc.iter().zip(&ph) {
        assert_eq!(kc, kh);
        assert!((c - h).abs() < 1e-9 * (1.0 + h.abs()), "{kc}: {c} vs {h}");
    }
    // Without the override the leak reversal is the one parameter that differs.
    let plain = Model::builtin("hh").unwrap();
    let differ: Vec<String> = plain
        .params()
        .iter()
        .filter(|p| {
            cell.params()
                .iter()
                .find(|q| q.name == p.name)
                .is_some_and(|q| q.value != p.value)
        })
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(differ, ["e_l"]);
    // What differs besides the parameters (area, temperature) is stated in its report.
    let dir = tempfile::tempdir().unwrap();
    bc.write(&dir.path().join("b")).unwrap();
    let summary = std::fs::read_to_string(dir.path().join("b/summary.md")).unwrap();
    for words in [
        "Model: NeuroML2 cell 'hhcell'",
        "1 segment (area 1000.000093993 um^2)",
        "no temperature (nothing in the cell depends on one)",
    ] {
        assert!(summary.contains(words), "{words}: {summary}");
    }
}

/// `export --to ode` of hh, hh-ca and Wang-Buzsaki run by `xppaut -silent` (rk4, dt = 0.01
/// ms; tests/fixtures/exchange/make_xpp.sh) against the toolkit's rk4 at the same dt:
/// equal to 1e-6 at every committed sample (XPPAUT writes 8 significant digits, so the
/// comparison is relative to the value's size).
#[test]
fn exported_ode_files_run_in_xppaut_as_here() {
    for (name, model) in [
        ("hh", Model::builtin("hh").unwrap()),
        ("hh_ca", Model::builtin("hh-ca").unwrap()),
        (
            "wang_buzsaki",
            Model::from_file(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo/wang_buzsaki.toml"),
            )
            .unwrap(),
        ),
    ] {
        let ode_text = std::fs::read_to_string(fixture(&format!("exchange/{name}.ode"))).unwrap();
        // The committed file is what export writes today.
        let spec = ExportSpec {
            to: ExportFormat::Ode,
            current: 10.0,
            t_stop: 50.0,
            dt: 0.01,
            v0: None,
        };
        assert_eq!(
            spec.run(&model).unwrap().text,
            ode_text,
            "{name}.ode differs from export"
        );
        let y0 = OdeModel::parse(&ode_text, "x.ode", name).unwrap().init;
        let settings = Settings {
            t_max: 50.0,
            dt: 0.01,
            method: Method::Rk4,
            record: Record::Full,
            threshold_mv: 0.0,
        };
        let run = simulate::run(&model, &Stimulus::constant(10.0), &y0, &settings).unwrap();
        let xpp = std::fs::read_to_string(fixture(&format!("exchange/{name}_xpp.csv"))).unwrap();
        let mut n = 0;
        for line in xpp.lines().skip(1) {
            let row: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let t = row[0];
            let k = (t / 0.01).round() as usize;
            // XPPAUT stores single-precision floats: its t is exact to about 1e-7 relative.
            assert!((run.trace.t_ms[k] - t).abs() < 1e-5, "{name}: t = {t}");
            for (j, x) in row[1..].iter().enumerate() {
                let ours = run.trace.vars[j][k];
                assert!(
                    (ours - x).abs() <= 1e-6 * (1.0 + x.abs()),
                    "{name} {} at t = {t}: ours {ours}, XPPAUT {x}",
                    run.trace.names[j]
                );
            }
            n += 1;
        }
        assert!(n >= 100, "{name}: {n} samples");
    }
}

/// The spike threshold, which an `.ode` file cannot carry, is said in the exported file: the
/// same run of hh-1952 (threshold 65 mV) and of its `.ode` export, read back, spikes at the
/// same times (to 1e-6 ms) with the threshold the file's header gives. At the `.ode` reader's
/// default of 0 mV the spike count differs: the note is what keeps them equal.
#[test]
fn an_ode_export_says_the_threshold_it_cannot_carry() {
    let model = Model::builtin("hh-1952").unwrap();
    let spec = ExportSpec {
        to: ExportFormat::Ode,
        current: 0.0,
        t_stop: 50.0,
        dt: 0.01,
        v0: None,
    };
    let text = spec.run(&model).unwrap().text;
    assert!(
        text.contains("give --threshold 65 when analysing this file"),
        "{text}"
    );
    let ode = Model::Ode(OdeModel::parse(&text, "hh_1952.ode", "hh-1952").unwrap());
    let stim = Stimulus::parse_all(&["step:5:35:12".to_string()]).unwrap();
    let spikes = |m: &Model, threshold_mv: f64| {
        let y0 = m
            .initial_state(&excitable::model::InitialState::Default)
            .unwrap();
        let settings = Settings {
            t_max: 50.0,
            dt: 0.01,
            method: Method::Rk4,
            record: Record::SpikesOnly,
            threshold_mv,
        };
        simulate::run(m, &stim, &y0, &settings).unwrap().spikes_ms
    };
    let (ours, back) = (spikes(&model, 65.0), spikes(&ode, 65.0));
    assert_eq!(ours.len(), 3, "{ours:?}");
    assert_eq!(ours.len(), back.len(), "{ours:?} {back:?}");
    for (a, b) in ours.iter().zip(&back) {
        assert!((a - b).abs() < 1e-6, "{ours:?} {back:?}");
    }
    assert_ne!(spikes(&ode, 0.0).len(), ours.len());
    // The command says it too, where the user looks; hh's threshold of 0 loses nothing.
    let dir = tempfile::tempdir().unwrap();
    for (model, said) in [("hh-1952", true), ("hh", false)] {
        let out = dir.path().join(model);
        let (ok, stdout, stderr) = crate::common::excitable(&[
            "export",
            "--model",
            model,
            "--to",
            "ode",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{stderr}");
        assert_eq!(
            stdout.contains("an .ode file carries none"),
            said,
            "{stdout}"
        );
    }
}
