//! f-I curves on the batch kernel against the bifurcation diagram: the up branch starts firing
//! at the lower Hopf point and the down branch stops at the fold of cycles (to 0.05 uA/cm^2).

use excitable::analysis::fi::{Direction, fi_curve};
use excitable::continuation::cycles::CycleSettings;
use excitable::continuation::diagram::{DiagramSettings, diagram};
use excitable::continuation::{CURRENT, Family, Settings};
use excitable::model::builtin;
use excitable::simulate::batch::BatchSettings;

#[test]
fn hh_onsets_match_the_hopf_point_and_the_fold_of_cycles() {
    let m = builtin::hh();
    let fam = Family::new(&m, CURRENT, 0.0).unwrap();
    let ds = DiagramSettings {
        range: (0.0, 20.0),
        equilibria: Settings::default(),
        cycles: CycleSettings::default(),
        with_cycles: true,
    };
    let d = diagram(&fam, &ds, |_| {}).unwrap();
    let hopf = d.hopfs[0].lambda;
    let fold = d.cycles[0]
        .1
        .specials
        .iter()
        .map(|s| s.point.lambda)
        .fold(f64::INFINITY, f64::min);
    let states: Vec<(f64, Vec<f64>)> = d
        .cycles
        .iter()
        .flat_map(|(_, c)| {
            c.points
                .iter()
                .filter(|p| p.stable() && p.v_max - p.v_min > 10.0)
                .map(|p| (p.lambda, p.peak_state.clone()))
        })
        .collect();
    let currents: Vec<f64> = (0..=40).map(|k| k as f64 * 0.5).collect();
    let s = BatchSettings {
        t_max: 1200.0,
        dt: 0.01,
        transient: 200.0,
        threshold_mv: 0.0,
    };
    let fi = fi_curve(
        &m,
        &currents,
        &[Direction::Up, Direction::Down],
        &s,
        1e-3,
        &states,
    )
    .unwrap();
    let up = fi
        .onsets
        .iter()
        .find(|o| o.direction == Direction::Up)
        .unwrap();
    let down = fi
        .onsets
        .iter()
        .find(|o| o.direction == Direction::Down)
        .unwrap();
    assert!(
        (up.onset - hopf).abs() < 0.05,
        "up onset {} vs Hopf {hopf}",
        up.onset
    );
    assert!(
        (down.onset - fold).abs() < 0.05,
        "down onset {} vs fold {fold}",
        down.onset
    );
    // Hysteresis: at 8 uA/cm^2 (between the two) up rests and down fires near 60 Hz.
    let at = |dir: Direction| {
        fi.points
            .iter()
            .find(|p| p.direction == dir && p.current == 8.0)
            .unwrap()
            .summary
    };
    assert_eq!(at(Direction::Up).n_spikes, 0);
    let r = at(Direction::Down).rate_hz(fi.window_ms);
    assert!((r - 60.0).abs() < 8.0, "down rate at 8: {r}");
}
