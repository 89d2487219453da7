//! NeuroML2 cells from public repositories (issue 20), each checked against the same
//! equations run in scipy (tests/fixtures/neuroml/make_cells.py: the XML read by Python in
//! SI units, LEMS expressions evaluated by Python, solve_ivp DOP853 at rtol 1e-10):
//!
//! * `LEMS_NML2_Ex10_Q10.xml` (NeuroML2 repository): q10 (`q10ExpTemp`, 22 degC against
//!   32) and a LEMS ComponentType rate (`newExpRate`), in a `<Lems>` file;
//! * Pospischil et al. 2008's RS and FS cells (OpenSourceBrain/PospischilEtAl2008):
//!   `gateHHtauInf` (RS's M current), every rate a LEMS ComponentType with
//!   `ConditionalDerivedVariable`s and `vShift`, over included channel files;
//! * Wang & Buzsaki 1996 (OpenSourceBrain/WangBuzsaki1996): `q10Fixed` and an instantaneous
//!   gate written as a ComponentType; also equal to the zoo's Wang-Buzsaki;
//! * refused by element and line: the Maex-De Schutter granule cell (a calcium pool).
//!
//! Also: the NeuroML2 HH example cell's f-I onsets equal the built-in hh's.

use excitable::model::{Model, Units};
use excitable::simulate::{self, Method, Record, Settings, Tolerances};
use excitable::spec::FiSpec;
use excitable::spec::fi::FiDirection;
use excitable::stimulus::Stimulus;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/neuroml")
        .join(rel)
}

/// The reference of `name`: rest, rate, and the 1 ms samples of the first 100 ms.
struct Reference {
    rest_v_mv: f64,
    rest_gates: Vec<f64>,
    current: f64,
    rate_hz: f64,
    spikes: usize,
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

fn reference(name: &str) -> Reference {
    let kv = std::fs::read_to_string(fixture(&format!("{name}_ref.csv"))).unwrap();
    let get = |key: &str| -> f64 {
        kv.lines()
            .find_map(|l| l.strip_prefix(&format!("{key},")))
            .unwrap_or_else(|| panic!("{name}: no {key}"))
            .parse()
            .unwrap()
    };
    let csv = std::fs::read_to_string(fixture(&format!("{name}_trace.csv"))).unwrap();
    let mut lines = csv.lines();
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(2)
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    Reference {
        rest_v_mv: get("rest_v_mv"),
        rest_gates: names.iter().map(|g| get(&format!("rest_{g}"))).collect(),
        current: get("current_ua_cm2"),
        rate_hz: get("rate_hz"),
        spikes: get("spikes_in_1000_ms") as usize,
        names,
        rows,
    }
}

/// Upward crossings of `th` (ms), linearly interpolated between samples.
fn crossings(t: &[f64], v: &[f64], th: f64) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < th && v[k] >= th)
        .map(|k| t[k - 1] + (th - v[k - 1]) / (v[k] - v[k - 1]) * (t[k] - t[k - 1]))
        .collect()
}

/// The cell `file` against its reference `name`, with the spike threshold `th` (mV):
/// * rest V to 1e-9 relative and the gates to 1e-9 (both are roots found to 1e-15);
/// * the 100 ms trace at the reference's current to `v_tol` mV and `gate_tol` (Dormand-
///   Prince 5(4) at rtol = atol = 1e-10 here against DOP853 there: the difference is the
///   two integrators' global errors, largest on the spike upstrokes);
/// * spike count in 1,000 ms exactly, and the rate (1000 / mean of the last five intervals)
///   to 1e-6 relative (crossings interpolated on a 0.005 ms grid here, located by events
///   there).
fn check(file: &str, name: &str, th: f64, v_tol: f64, gate_tol: f64) -> Model {
    let model = Model::from_file(&fixture(file)).unwrap();
    let r = reference(name);
    assert_eq!(
        model.units(),
        Units::NEURON,
        "{name}: a NeuroML cell is in mV, ms"
    );
    let rest = model.rest(0.0).unwrap();
    assert!(
        (rest.state[0] - r.rest_v_mv).abs() <= 1e-9 * r.rest_v_mv.abs(),
        "{name}: rest {} vs scipy {}",
        rest.state[0],
        r.rest_v_mv
    );
    let names = model.var_names();
    assert_eq!(names[1..], r.names[..], "{name}: gate order");
    for (k, g) in r.rest_gates.iter().enumerate() {
        assert!(
            (rest.state[k + 1] - g).abs() <= 1e-9,
            "{name}: rest {} = {} vs {g}",
            names[k + 1],
            rest.state[k + 1]
        );
    }
    let y0 = model.initial_state(&Default::default()).unwrap();
    let settings = Settings {
        t_max: 1000.0,
        dt: 0.005,
        method: Method::Dopri5(Tolerances {
            rtol: 1e-10,
            atol: 1e-10,
        }),
        record: Record::Full,
        threshold_mv: th,
    };
    let run = simulate::run(&model, &Stimulus::constant(r.current), &y0, &settings).unwrap();
    let tr = &run.trace;
    let (mut dv, mut dg) = (0.0f64, 0.0f64);
    for row in &r.rows {
        let k = (row[0] / 0.005).round() as usize;
        assert!((tr.t_ms[k] - row[0]).abs() < 1e-9);
        dv = dv.max((tr.vars[0][k] - row[1]).abs());
        for (j, x) in row[2..].iter().enumerate() {
            dg = dg.max((tr.vars[j + 1][k] - x).abs());
        }
    }
    assert!(dv <= v_tol, "{name}: largest V difference {dv} mV");
    assert!(dg <= gate_tol, "{name}: largest gate difference {dg}");
    let spikes = crossings(&tr.t_ms, &tr.vars[0], th);
    assert_eq!(spikes.len(), r.spikes, "{name}: spikes in 1000 ms");
    let isi: Vec<f64> = spikes.windows(2).map(|w| w[1] - w[0]).collect();
    let last: f64 = isi[isi.len() - 5..].iter().sum::<f64>() / 5.0;
    let rate = 1000.0 / last;
    assert!(
        (rate - r.rate_hz).abs() <= 1e-6 * r.rate_hz,
        "{name}: rate {rate} Hz vs scipy {}",
        r.rate_hz
    );
    eprintln!(
        "{name}: rest {} mV (scipy {}), V within {dv:.2e} mV, gates {dg:.2e}, rate {rate} Hz (scipy {})",
        rest.state[0], r.rest_v_mv, r.rate_hz
    );
    model
}

#[test]
fn ex10_q10_cell_with_a_lems_rate_matches_scipy() {
    let m = check("LEMS_NML2_Ex10_Q10.xml", "ex10_q10", -20.0, 1e-6, 1e-8);
    let Model::Ode(o) = &m else {
        panic!("a ComponentType rate compiles to the general model")
    };
    let d = &o.notes[0];
    assert!(d.contains("temperature 22 degC"), "{d}");
    assert!(d.contains("area 1000"), "{d}");
    assert!(d.contains("LEMS ComponentType"), "{d}");
    // Parameters keep NeuroML's converted values and units.
    let p = m.params();
    let g_k = p.iter().find(|p| p.name == "g_k").unwrap();
    assert_eq!((g_k.value, g_k.unit.as_str()), (36.0, "mS/cm^2"));
    // A start at V0 (`--v0`) puts every gate at its steady state there, as the conductance
    // path does for the same channels in NML2_SingleCompHHCell (steady states do not depend
    // on q10): not at the file's start for -65 mV.
    let hh = Model::from_file(&fixture("NML2_SingleCompHHCell.nml")).unwrap();
    let (a, b) = (m.state_at_v(-50.0), hh.state_at_v(-50.0));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-9, "{a:?} against {b:?}");
    }
    assert!(
        (a[1] - o.init[1]).abs() > 0.1,
        "m stayed at the file's start"
    );
}

#[test]
fn pospischil_rs_cell_with_tau_inf_gates_matches_scipy() {
    let m = check(
        "pospischil/cells/RS/RS.cell.nml",
        "pospischil_rs",
        0.0,
        1e-6,
        1e-8,
    );
    assert_eq!(m.var_names(), ["v", "n", "p", "m", "h"]);
}

/// Pospischil et al.'s FS cell: its Na and Kd channels' ComponentTypes read `vShift`, which a
/// plain `channelDensity` sets to 0 mV.
#[test]
fn pospischil_fs_cell_matches_scipy() {
    let m = check(
        "pospischil/cells/FS/FS.cell.nml",
        "pospischil_fs",
        0.0,
        1e-6,
        1e-8,
    );
    assert_eq!(m.var_names(), ["v", "m", "h", "n"]);
}

/// Wang & Buzsaki 1996 (OpenSourceBrain/WangBuzsaki1996): `q10Fixed` 5 on h and n, and an
/// instantaneous m written as a gate ComponentType (`gateHHratesInstantaneous`, its `fcond`
/// compiled from its standard rates). Against scipy, and against the zoo's Wang-Buzsaki
/// (a TOML model written from the paper, phi = 5): the same right-hand side to 1e-12 at
/// 1,000 random states and the same rest to 1e-9.
#[test]
fn wang_buzsaki_cell_with_q10_and_a_gate_type_matches_scipy_and_the_zoo() {
    let m = check("WangBuzsaki.cell.nml", "wang_buzsaki", 0.0, 2e-6, 1e-8);
    assert_eq!(m.var_names(), ["v", "h", "n"]);
    let zoo = Model::from_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/models/zoo/wang_buzsaki.toml"),
    )
    .unwrap();
    let (Model::Ode(o), Model::Conductance(z)) = (&m, &zoo) else {
        panic!()
    };
    assert_eq!(z.var_names(), ["v", "h", "n"]);
    let mut p = o.params.values();
    let pz = z.params.values();
    let mut s: u64 = 11;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..1000 {
        let y = [-100.0 + 160.0 * next(), next(), next()];
        let i = -20.0 + 70.0 * next();
        p[0] = i;
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        o.rhs(&p, 0.0, &y, &mut a);
        z.rhs(&pz, &y, i, &mut b);
        for k in 0..3 {
            assert!(
                (a[k] - b[k]).abs() <= 1e-12 * (1.0 + b[k].abs()),
                "{y:?}, I = {i}: {a:?} vs zoo {b:?}"
            );
        }
    }
    let (rm, rz) = (m.rest(0.0).unwrap(), zoo.rest(0.0).unwrap());
    assert!((rm.state[0] - rz.state[0]).abs() <= 1e-9 * rz.state[0].abs());
}

#[test]
fn a_calcium_pool_is_refused_by_element_and_line() {
    let e = Model::from_file(&fixture("granule/Granule_98.cell.nml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Granule_98.cell.nml")
            && e.contains("line 82")
            && e.contains("<species id=\"ca\">")
            && e.contains("decayingPoolConcentrationModel")
            && e.contains("pools are not read"),
        "{e}"
    );
}

/// The NeuroML2 HH example cell and the built-in hh with its one differing parameter set
/// (E_leak = -54.3 mV) have the same f-I onsets on every start to 1e-9 uA/cm^2: the same
/// equations give the same runs, so the bisections end on the same currents.
#[test]
fn the_neuroml_hh_cell_has_builtin_hh_f_i_onsets() {
    let cell = Model::from_file(&fixture("NML2_SingleCompHHCell.nml")).unwrap();
    let hh = Model::builtin("hh").unwrap().with("e_l", -54.3).unwrap();
    let spec = FiSpec {
        from: 0.0,
        to: 12.0,
        step: 1.0,
        t_max: 300.0,
        transient: 100.0,
        direction: vec![FiDirection::Rest, FiDirection::Up, FiDirection::Down],
        tol: 1e-6,
        no_overlay: true,
        ..Default::default()
    };
    let (a, b) = (spec.run(&cell).unwrap(), spec.run(&hh).unwrap());
    assert!((a.curve.rheobase - b.curve.rheobase).abs() <= 1e-9);
    assert_eq!(a.curve.onsets.len(), 3);
    for (x, y) in a.curve.onsets.iter().zip(&b.curve.onsets) {
        assert!(x.onset.is_finite(), "{x:?}");
        assert!((x.onset - y.onset).abs() <= 1e-9, "{x:?} vs {y:?}");
        assert!((x.max_rate_hz - y.max_rate_hz).abs() <= 1e-9 * y.max_rate_hz);
    }
    // What differs is stated: the cell's description names its area (the built-in is per
    // cm^2) and that no temperature enters (the built-in's rates are HH's at 6.3 degC, the
    // file's are written without q10); the built-in's label names its override.
    let Model::Conductance(c) = &cell else {
        panic!()
    };
    assert!(
        c.description.contains("1 segment (area 1000.0000")
            && c.description.contains("no temperature"),
        "{}",
        c.description
    );
    assert_eq!(hh.label(), "hh (e_l = -54.3 mV)");
}

/// Bad files through the command line: one line on stderr naming the element and its line,
/// a failed exit, and no output folder.
#[test]
fn bad_files_get_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("NML2_SingleCompHHCell.nml")).unwrap();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed.nml",
            good.replacen("</cell>", "", 1),
            vec!["not well-formed XML"],
        ),
        (
            "unknown.nml",
            good.replacen(
                "<cell id=\"hhcell\">",
                "<mysteryCell id=\"x\"/>\n    <cell id=\"hhcell\">",
                1,
            ),
            vec!["<mysteryCell id=\"x\">", "line "],
        ),
        (
            "include.nml",
            good.replacen(
                "<ionChannelHH",
                "<include href=\"no_such_channels.nml\"/>\n    <ionChannelHH",
                1,
            ),
            vec!["<include href=", "no_such_channels.nml", "line "],
        ),
        (
            "unit.nml",
            good.replacen("120.0 mS_per_cm2", "120.0 mS_per_m2", 1),
            vec!["<channelDensity", "mS_per_m2", "line "],
        ),
    ];
    for (file, text, want) in cases {
        assert_ne!(text, good, "{file}: the edit must apply");
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let out_dir = dir.path().join(format!("out_{file}"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_excitable"))
            .args(["rest", "--model-file"])
            .arg(&path)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{file}: {err}");
        for w in want {
            assert!(err.contains(w), "{file}: '{w}' not in {err}");
        }
        assert!(!out_dir.exists(), "{file}: the output folder was made");
    }
}
