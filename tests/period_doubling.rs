//! Branch switching at period doubling (src/continuation/cycles.rs, `from_period_doubling`;
//! the diagram's `doublings` setting) on the Rossler system (tests/fixtures/pd/rossler.ode,
//! b = 0.2, c = 5.7, continued in a), against AUTO-07p: tests/fixtures/pd/auto_pd.csv, made by
//! tests/fixtures/pd/run_auto_pd.py (the cycle branch from the Hopf point, then `ISW=-1` at its
//! period doubling onto the period-2 branch, and again onto the period-4 branch; NTST 100, 200,
//! 400, NCOL 4, tolerances 1e-10).
//!
//! Tolerances: the period doublings' parameter to 1e-6 (absolute, a ~ 0.1) and their period
//! to 1e-6 relative; the period at AUTO's user points (a = 0.12, 0.15, 0.18 on every branch
//! that reaches them) to 1e-6 relative.
//!
//! The two-parameter curve of the first period doubling in (a, c)
//! (src/continuation/codim2_cycles.rs) is checked against AUTO-07p's continuation of the same
//! period doubling (tests/fixtures/pd/auto_pd_curve.csv, made by run_auto_pd_curve.py: ISW=2,
//! ICP=[1, 3, 11], NTST 100, NCOL 4, tolerances 1e-10) at seven values of c from 4.5 to 7.5:
//! a to 1e-6 and the period to 1e-6 relative. The one-parameter diagrams at c = 5 and 6.5
//! find their period doubling on the curve, to 1e-6 in a.

use excitable::continuation::Stop;
use excitable::continuation::codim2::CurveKind;
use excitable::continuation::cycles::{CycleBranch, CycleEvent, CyclePoint};
use excitable::continuation::diagram::CycleOrigin;
use excitable::spec::{Bifurcation2Result, BifurcationResult};
use excitable::{Bifurcation2Spec, BifurcationSpec, Model};
use std::path::PathBuf;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Row {
    branch: usize,
    kind: String,
    a: f64,
    period: f64,
}

fn auto_rows() -> Vec<Row> {
    let path = root().join("tests/fixtures/pd/auto_pd.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    r.records()
        .map(|rec| rec.unwrap())
        .map(|rec| Row {
            branch: rec[0].parse().unwrap(),
            kind: rec[1].to_string(),
            a: rec[2].parse().unwrap(),
            period: rec[3].parse().unwrap_or(f64::NAN),
        })
        .collect()
}

fn diagram(doublings: usize) -> BifurcationResult {
    let model = Model::from_file(&root().join("tests/fixtures/pd/rossler.ode")).unwrap();
    BifurcationSpec {
        param: "a".into(),
        from: 0.0,
        to: 0.2,
        at: vec![0.12, 0.15, 0.18],
        doublings,
        ..Default::default()
    }
    .run(&model)
    .unwrap()
}

fn events(b: &CycleBranch, kind: CycleEvent) -> Vec<&CyclePoint> {
    b.specials
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| &s.point)
        .collect()
}

/// The branch's cycle at AUTO's row (a user point or the period doubling), within the
/// tolerances of the module's header.
fn agrees(what: &str, b: &CycleBranch, row: &Row) {
    let kind = if row.kind == "period_doubling" {
        CycleEvent::PeriodDoubling
    } else {
        CycleEvent::UserPoint
    };
    let p = events(b, kind)
        .into_iter()
        .min_by(|x, y| {
            (x.lambda - row.a)
                .abs()
                .total_cmp(&(y.lambda - row.a).abs())
        })
        .unwrap_or_else(|| panic!("{what}: no {} on the branch", row.kind));
    eprintln!(
        "{what}: {} at a = {:.11} (AUTO {:.11}), period {:.10} (AUTO {:.10})",
        row.kind, p.lambda, row.a, p.period, row.period
    );
    assert!(
        (p.lambda - row.a).abs() < 1e-6,
        "{what}: {} at a = {} vs AUTO's {}",
        row.kind,
        p.lambda,
        row.a
    );
    assert!(
        (p.period - row.period).abs() < 1e-6 * row.period,
        "{what}: period {} at a = {} vs AUTO's {}",
        p.period,
        row.a,
        row.period
    );
}

#[test]
fn rossler_period_doubling_cascade_matches_auto_through_two_branch_switches() {
    let r = diagram(2);
    let d = &r.diagram;
    let auto = auto_rows();
    // The Hopf point where the primary cycles are born.
    let hopf = auto.iter().find(|r| r.kind == "hopf").unwrap();
    assert_eq!(d.hopfs.len(), 1, "{:?}", d.notes);
    assert!((d.hopfs[0].lambda - hopf.a).abs() < 1e-6);
    // Primary, period-2 and period-4 branches: each from the period doubling of the one before.
    assert_eq!(d.cycles.len(), 3, "{:?}", d.notes);
    assert!(matches!(d.cycles[0].0, CycleOrigin::Hopf(0)));
    for level in 1..3 {
        let CycleOrigin::PeriodDoubling { parent, lambda } = d.cycles[level].0 else {
            panic!("branch {level}: {:?}", d.cycles[level].0)
        };
        assert_eq!(parent, level - 1);
        eprintln!("branch {level} from the period doubling at {lambda}");
        let pd = events(&d.cycles[parent].1, CycleEvent::PeriodDoubling);
        assert!(pd.iter().any(|p| p.lambda == lambda));
        // The doubled branch leaves its period doubling with twice the period there, and runs
        // to the end of the range, where its last orbit is located (to 1e-9).
        let b = &d.cycles[level].1;
        let p0 = &b.points[0];
        let parent_pd = pd.iter().find(|p| p.lambda == lambda).unwrap();
        assert!((p0.period - 2.0 * parent_pd.period).abs() < 1e-9 * p0.period);
        assert!(
            matches!(b.stop, Stop::LeftRange(l) if (l - 0.2).abs() < 1e-9),
            "{}",
            b.stop
        );
    }
    // AUTO's user point at 0.2 is its UZSTOP end, not one of ours.
    let ours = |r: &&Row| r.kind == "period_doubling" || [0.12, 0.15, 0.18].contains(&r.a);
    for row in auto.iter().filter(|r| r.branch >= 1).filter(ours) {
        let (_, b) = &d.cycles[row.branch - 1];
        agrees(&format!("branch {}", row.branch), b, row);
    }
    // Past its first period doubling the primary cycle is unstable, the period-2 cycle stable
    // until its own.
    let pd2 = events(&d.cycles[1].1, CycleEvent::PeriodDoubling)[0].lambda;
    for p in d.cycles[1].1.points.iter().skip(3) {
        if p.lambda < pd2 - 1e-3 {
            assert!(p.stable(), "period-2 cycle at a = {} unstable", p.lambda);
        }
    }
}

#[test]
fn without_doublings_the_diagram_has_the_primary_branch_only() {
    let r = diagram(0);
    assert_eq!(r.diagram.cycles.len(), 1);
    let e = BifurcationSpec {
        doublings: 9,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert!(e.to_string().contains("doublings"), "{e}");
}

/// AUTO's points on the period-doubling curve: `(a, c, period)`.
fn auto_curve() -> Vec<(f64, f64, f64)> {
    let path = root().join("tests/fixtures/pd/auto_pd_curve.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| &rec[0] == "pd_curve")
        .map(|rec| {
            (
                rec[1].parse().unwrap(),
                rec[2].parse().unwrap(),
                rec[3].parse().unwrap(),
            )
        })
        .collect()
}

/// The period-doubling curves of Rossler over a in [0, 0.2] and c in [4, 8], recording points
/// at AUTO's values of c.
fn pd_curves() -> &'static Bifurcation2Result {
    static R: OnceLock<Bifurcation2Result> = OnceLock::new();
    R.get_or_init(|| {
        let model = Model::from_file(&root().join("tests/fixtures/pd/rossler.ode")).unwrap();
        Bifurcation2Spec {
            params: "a,c".into(),
            from: 0.0,
            to: 0.2,
            from2: 4.0,
            to2: 8.0,
            curves: "period_doubling".into(),
            at2: auto_curve().iter().map(|r| r.1).collect(),
            ..Default::default()
        }
        .run(&model)
        .unwrap()
    })
}

/// The point of a period-doubling curve at exactly `c` nearest `a` (within 0.01): `(a, period)`,
/// the period from the point's `omega` (`2 pi / T`).
fn on_curve(a: f64, c: f64) -> Option<(f64, f64)> {
    pd_curves()
        .curves
        .iter()
        .filter(|k| k.kind == CurveKind::PeriodDoubling)
        .flat_map(|k| k.points.iter())
        .filter(|p| p.l2 == c && (p.l1 - a).abs() < 0.01)
        .min_by(|x, y| (x.l1 - a).abs().total_cmp(&(y.l1 - a).abs()))
        .map(|p| (p.l1, std::f64::consts::TAU / p.omega))
}

#[test]
fn the_period_doubling_curve_agrees_with_auto_at_seven_values_of_c() {
    let rows = auto_curve();
    assert_eq!(rows.len(), 7, "{rows:?}");
    let mut worst = (0.0f64, 0.0f64);
    for (a, c, period) in rows {
        let (l1, t) =
            on_curve(a, c).unwrap_or_else(|| panic!("no period doubling at c = {c} near a = {a}"));
        eprintln!("c = {c}: a = {l1:.11} (AUTO {a:.11}), period {t:.10} (AUTO {period:.10})");
        assert!((l1 - a).abs() < 1e-6, "c = {c}: a = {l1} vs AUTO {a}");
        assert!(
            (t - period).abs() < 1e-6 * period,
            "c = {c}: period {t} vs AUTO {period}"
        );
        worst = (
            worst.0.max((l1 - a).abs()),
            worst.1.max((t / period - 1.0).abs()),
        );
    }
    eprintln!(
        "largest differences from AUTO: a {:.2e}, period {:.2e} relative",
        worst.0, worst.1
    );
}

#[test]
fn one_parameter_period_doublings_lie_on_the_curve() {
    let model = Model::from_file(&root().join("tests/fixtures/pd/rossler.ode")).unwrap();
    for c in [5.0, 6.5] {
        let d = BifurcationSpec {
            param: "a".into(),
            from: 0.0,
            to: 0.2,
            ..Default::default()
        }
        .run(&model.clone().with("c", c).unwrap())
        .unwrap();
        let primary = &d.diagram.cycles[0].1;
        let pd = events(primary, CycleEvent::PeriodDoubling);
        assert_eq!(pd.len(), 1, "c = {c}: {:?}", d.diagram.notes);
        let (l1, _) = on_curve(pd[0].lambda, c).expect("the curve passes through c");
        eprintln!(
            "c = {c}: one-parameter {:.11}, curve {l1:.11}",
            pd[0].lambda
        );
        assert!(
            (pd[0].lambda - l1).abs() < 1e-6,
            "c = {c}: {} vs {l1}",
            pd[0].lambda
        );
    }
}

/// `hh`'s period-2 branch is a segment between the primary branch's two period doublings
/// (7.8453 and 7.9178): it ends on the second, and each of its orbits is listed once. Stepping
/// through the primary cycle there had gone on along the same orbits half a period later, which
/// ran the segment through 2.5 times and listed its points as often (the antiperiodic part's
/// sign flip now stops it). The level below ends the same way on the period-2 branch.
#[test]
fn hh_period_two_branch_ends_on_the_primary_s_other_period_doubling() {
    let r = BifurcationSpec {
        doublings: 2,
        ..Default::default()
    }
    .run(&Model::builtin("hh").unwrap())
    .unwrap();
    let d = &r.diagram;
    assert_eq!(d.cycles.len(), 3, "{:?}", d.notes);
    // The primary branch, from the lower Hopf point, ends on the upper one: its end is that
    // point, located, not its last orbit's parameter (7.5e-4 below it); and the summary counts
    // the branch's orbits, as the table lists them, not its zero-amplitude start.
    let (origin, primary) = &d.cycles[0];
    assert!(
        matches!(primary.stop, Stop::ReachedHopf(l) if l == d.hopfs[1].lambda),
        "{} against {}",
        primary.stop,
        d.hopfs[1].lambda
    );
    let summary = excitable::report::Report::summary(&r);
    let count = format!(
        "Cycles from the Hopf point at {:.6}: {} points",
        d.hopfs[0].lambda,
        origin.orbits(primary).len()
    );
    assert!(summary.contains(&count), "{count} not in the summary");
    for level in 1..3 {
        let CycleOrigin::PeriodDoubling { parent, lambda } = d.cycles[level].0 else {
            panic!("branch {level}: {:?}", d.cycles[level].0)
        };
        assert_eq!(parent, level - 1);
        let b = &d.cycles[level].1;
        // The parent's period doublings: the branch ends on the one it did not start from.
        let other = events(&d.cycles[parent].1, CycleEvent::PeriodDoubling)
            .into_iter()
            .map(|p| p.lambda)
            .filter(|&l| (l - lambda).abs() > 1e-3)
            .collect::<Vec<_>>();
        let Stop::BackOnPrimary(end) = b.stop else {
            panic!("branch {level}: {}", b.stop)
        };
        eprintln!(
            "branch {level}: from {lambda} to {end}, {} points; parent's other doublings {other:?}",
            b.points.len()
        );
        assert!(
            other.iter().any(|&l| (l - end).abs() < 1e-3),
            "branch {level} ended at {end}, the parent's other doublings are at {other:?}"
        );
        // Every orbit once: the branch is not run through again (1702 points had been listed
        // on the second level), and none of its special points is met twice.
        assert!(b.points.len() < 200, "{} points", b.points.len());
        let pds = events(b, CycleEvent::PeriodDoubling);
        for (i, p) in pds.iter().enumerate() {
            for q in &pds[..i] {
                assert!(
                    (p.lambda - q.lambda).abs() > 1e-7 || (p.period - q.period).abs() > 1e-4,
                    "branch {level}: the period doubling at {} listed twice",
                    p.lambda
                );
            }
        }
    }
}
