//! Equilibrium branches say what they cover: Hopf points closer together than the range-based
//! step are both found (the step is controlled by the spectrum), a branch starts wherever an
//! equilibrium exists in the range, and a branch cut short says so in the summary's headline.

use crate::common;

use common::{auto_fixture, excitable};
use excitable::continuation::SpecialKind;
use excitable::{BifurcationSpec, Model};

fn fhn() -> Model {
    Model::from_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/studies/models/fhn.ode"
    )))
    .unwrap()
}

/// FitzHugh-Nagumo's two Hopf points lie 1.09 apart, inside one step of a range-based step
/// over the default -20..250; both are found, equal to AUTO-07p's to 1e-7 relative.
#[test]
fn hopf_points_closer_than_a_range_step_are_found() {
    let d = BifurcationSpec {
        no_cycles: true,
        ..Default::default()
    }
    .run(&fhn())
    .unwrap();
    let hopfs: Vec<f64> = d
        .special_points
        .iter()
        .filter(|p| p.kind == SpecialKind::Hopf)
        .map(|p| p.param)
        .collect();
    let auto: Vec<f64> = auto_fixture("ode_fhn")
        .into_iter()
        .filter(|(k, _)| k == "hopf")
        .map(|(_, v)| v[0])
        .collect();
    assert_eq!(hopfs.len(), 2, "{hopfs:?}");
    assert_eq!(auto.len(), 2, "{auto:?}");
    for (ours, theirs) in hopfs.iter().zip(&auto) {
        assert!(
            (ours - theirs).abs() < 1e-7 * theirs.abs(),
            "{ours} vs {theirs}"
        );
    }
}

/// With g_L = 0.03 HH has no equilibrium at -20 uA/cm^2 within the first scan, but one below
/// it: the branch starts at -20 and the lower Hopf point moves to 6.4959 (AUTO-07p's run of
/// the `brainpy_hh_004` study agrees to 1e-4 in the recorded check).
#[test]
fn a_branch_starts_where_the_range_starts_when_an_equilibrium_exists_there() {
    let hh = Model::builtin("hh").unwrap().with("g_l", 0.03).unwrap();
    let d = BifurcationSpec {
        no_cycles: true,
        ..Default::default()
    }
    .run(&hh)
    .unwrap();
    assert!(d.diagram.uncovered((-20.0, 250.0)).is_empty());
    let first = d.diagram.equilibria[0].points[0].lambda;
    assert_eq!(first, -20.0);
    let hopf = d
        .special_points
        .iter()
        .find(|p| p.kind == SpecialKind::Hopf)
        .unwrap();
    assert!((hopf.param - 6.49595).abs() < 1e-4, "{}", hopf.param);
}

/// The paragraph after the title, the model line and the range line: where a diagram's
/// headline verdict stands.
fn headline_of(summary: &str) -> &str {
    summary.split("\n\n").nth(3).unwrap_or("")
}

/// Where the range starts with no equilibrium at all (|V| would pass 10^4 mV), the branch
/// starts at the first current that has one and runs both ways; the summary's headline names
/// the part of the range not reached. A branch stopped by `--max-points` says so there too.
#[test]
fn a_branch_cut_short_says_so_in_the_headline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let o = out.to_str().unwrap();
    let (ok, stdout, stderr) = excitable(&[
        "bifurcation",
        "--model",
        "hh",
        "--from",
        "-30000",
        "--to",
        "250",
        "--no-cycles",
        "--out",
        o,
    ]);
    assert!(ok, "{stderr}");
    let headline = headline_of(&stdout);
    assert!(
        headline.contains("not followed over the whole range") && headline.contains("-30000 to"),
        "{stdout}"
    );
    assert!(stdout.contains("| hopf | 9.775437995"), "{stdout}");
    let ode = concat!(env!("CARGO_MANIFEST_DIR"), "/studies/models/fhn.ode");
    let (ok, stdout, stderr) = excitable(&[
        "bifurcation",
        "--model-file",
        ode,
        "--max-points",
        "10",
        "--out",
        o,
    ]);
    assert!(ok, "{stderr}");
    let headline = headline_of(&stdout);
    assert!(
        headline.contains("not followed over the whole range")
            && headline.contains("stopped after 10 points"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("keep their stability throughout"),
        "{stdout}"
    );
}
