//! `excitable excitability`: Hodgkin's class (1, 2 or 3) with its evidence, Izhikevich's
//! integrator or resonator, the onset bifurcation, the minimum rate, the f-I slope near onset
//! and the PRC type. The decision rule is in [`crate::analysis::excitability`].
//!
//! The evidence: the rest state at the range's first current and its eigenvalues
//! ([`Model::rest`]); the equilibrium branch through it ([`BifurcationSpec`] without cycles),
//! where it loses stability (`I_c`, a fold or a Hopf point); a stable cycle found by
//! simulation at the first of a few probe currents above `I_c` that fires
//! ([`crate::continuation::orbit_from_simulation`]); that cycle followed down to the end of
//! its branch (the onset) and up to the end of the range or of the branch (the f-I curve of
//! the stable cycles), with Floquet multipliers at every step; the PRC at the probe.
//!
//! ```
//! use excitable::{Model, spec::ExcitabilitySpec};
//! let r = ExcitabilitySpec::default().run(&Model::builtin("hh")?)?;
//! assert_eq!(r.excitability.verdict.class.name(), "2");
//! assert_eq!(r.excitability.izhikevich.name(), "resonator");
//! # Ok::<(), excitable::Error>(())
//! ```

use super::BifurcationSpec;
use crate::analysis::excitability::{Excitability, Izhikevich, classify_onset, v_felt_eigenvalues};
use crate::analysis::prc::prc_at;
use crate::continuation::equilibria::{EqBranch, EqPoint};
use crate::continuation::orbit_from_simulation::{
    FixedOrbit, OrbitSettings, follow, stable_orbit_from_rest,
};
use crate::continuation::{CURRENT, Family, Field};
use crate::error::{Error, SpecError};
use crate::model::Model;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How long (ms, or the model's unit of time) the step from rest that looks for a phasic
/// spike runs, at [`PHASIC_DT`] by RK4: long enough for a spike delayed by a slow current
/// (hh at 5 uA/cm^2 spikes within 20 ms).
const PHASIC_RUN: f64 = 200.0;

/// The step of that run.
const PHASIC_DT: f64 = 0.01;

/// The widest current range: the walk along rest steps by fractions of it, and over 0..1e308
/// had stepped past both of `hh`'s Hopf points ("rest stays stable over the range").
pub const MAX_SPAN: f64 = 1e6;

/// Probe currents above the loss of rest, as fractions of the range.
const PROBES: [f64; 4] = [0.002, 0.01, 0.05, 0.2];

/// Every setting of `excitable excitability`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ExcitabilitySpec {
    /// First current of the range (uA/cm^2; the file's units for an .ode model): the rest
    /// state is taken here. Default: an .ode file's AUTO range start (`@ parmin=`) when it
    /// gives one, else 0.
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<f64>,
    /// Last current of the range (uA/cm^2; the file's units for an .ode model). Default: an
    /// .ode file's AUTO range end (`@ parmax=`) when it gives one, else 200.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<f64>,
    /// Spike threshold (mV; the file's units for an .ode model); default: the model's.
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Mesh intervals of the cycle collocation (AUTO's NTST), 10..=2000.
    #[arg(long, default_value_t = 60)]
    pub ntst: usize,
}

impl Default for ExcitabilitySpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// The result of an [`ExcitabilitySpec`].
#[derive(Debug, Clone)]
pub struct ExcitabilityResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: ExcitabilitySpec,
    /// The class and its evidence.
    pub excitability: Excitability,
    /// The current range the evidence was taken over (`from`, `to`), and where it came from
    /// (`given`, `parmin/parmax` or `default`; with one end given, both sources, as
    /// `given from, default to`).
    pub range: (f64, f64, &'static str),
    /// Computing time (s).
    pub seconds: f64,
}

/// The default range for a model with units (uA/cm^2).
pub const DEFAULT_RANGE: (f64, f64) = (0.0, 200.0);

impl ExcitabilitySpec {
    /// The current range for `model`, and where it comes from: the given `from`/`to`; where
    /// one is missing, an `.ode` file's AUTO range (`@ parmin=…, parmax=…`, which XPPAUT files
    /// give in the file's own scale of current: Morris-Lecar's `lecar.ode` -0.5..0.5, where
    /// 0..200 would put every probe far above its firing range), else [`DEFAULT_RANGE`]
    /// (uA/cm^2; also for an `.ode` file without them).
    pub fn range_for(&self, model: &Model) -> (f64, f64, &'static str) {
        let file = match model {
            Model::Ode(m) => m
                .option("parmin")
                .zip(m.option("parmax"))
                .filter(|(a, b)| a < b),
            _ => None,
        };
        let (lo, hi, why) = match file {
            Some((a, b)) => (a, b, "parmin/parmax"),
            None => (DEFAULT_RANGE.0, DEFAULT_RANGE.1, "default"),
        };
        // With one end given, the other's source is said beside it.
        let half = |given_from: bool| match (given_from, why) {
            (true, "parmin/parmax") => "given from, parmax",
            (true, _) => "given from, default to",
            (false, "parmin/parmax") => "parmin, given to",
            (false, _) => "default from, given to",
        };
        match (self.from, self.to) {
            (Some(a), Some(b)) => (a, b, "given"),
            (Some(a), None) => (a, hi, half(true)),
            (None, Some(b)) => (lo, b, half(false)),
            (None, None) => (lo, hi, why),
        }
    }

    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        super::range(
            "from, to",
            self.from.unwrap_or(DEFAULT_RANGE.0),
            self.to.unwrap_or(DEFAULT_RANGE.1),
        )?;
        if let Some(t) = self.threshold {
            super::finite("threshold", t)?;
        }
        super::count("ntst", self.ntst, 10, 2000)
    }

    /// Classify `model`.
    pub fn run(&self, model: &Model) -> Result<ExcitabilityResult, Error> {
        self.validate()?;
        let field = Field::of(model)?;
        field.require_current("excitability")?;
        let fam = Family::of_field(field, CURRENT, 0.0)?;
        let range = self.range_for(model);
        let (from, to, _) = range;
        super::range("from, to", from, to)?;
        check_span(from, to)?;
        fam.field.check_current(to)?;
        let started = Instant::now();
        let span = to - from;
        let rest = model.rest(from)?;
        // The leading eigenvalue of the modes V can show ([`v_felt_eigenvalues`]).
        let leading_of =
            |j: &nalgebra::DMatrix<f64>| largest_real_part(v_felt_eigenvalues(j).into_iter());
        let leading = |e: &crate::model::Equilibrium| leading_of(&e.jacobian).unwrap_or_default();
        // The equilibrium branch through the rest state, and where it loses stability.
        let diagram = BifurcationSpec {
            from,
            to,
            no_cycles: true,
            ..Default::default()
        }
        .run(model)?
        .diagram;
        let folds: Vec<f64> = diagram
            .equilibria
            .iter()
            .flat_map(|b| b.folds.iter().map(|f| f.lambda))
            .collect();
        let walk = rest_walk(&diagram, from, rest.state[0]);
        let rest_lost = walk.as_ref().and_then(|w| w.loss());
        // Probes above the loss of rest (or over the range when rest never loses stability).
        let probes: Vec<f64> = match rest_lost {
            Some((ic, _)) => PROBES.iter().map(|p| ic + p * span).collect(),
            None => [0.1, 0.25, 0.5, 0.75, 1.0]
                .iter()
                .map(|p| from + p * span)
                .collect(),
        };
        let set = OrbitSettings {
            threshold: self.threshold.unwrap_or(model.threshold_mv()),
            ntst: self.ntst,
            t_max: 10_000.0,
            ..OrbitSettings::default()
        };
        // Where none of them fires, the same fractions of a range 100 and 10^4 times
        // narrower above the loss of rest: over 0..1e5 the first probe on `hh` lay at 210,
        // past its upper Hopf point, and the class went undetermined.
        let narrower: Vec<f64> = match rest_lost {
            Some((ic, _)) => [1e-2, 1e-4]
                .iter()
                .flat_map(|q| PROBES.iter().map(move |p| ic + p * q * span))
                .collect(),
            None => vec![],
        };
        let mut found: Option<FixedOrbit> = None;
        for &i in probes.iter().chain(&narrower).filter(|&&i| i <= to) {
            if let Ok(o) = stable_orbit_from_rest(&fam, i, &rest.state, model.kicks(), &set) {
                found = Some(o);
                break;
            }
        }
        let (down, up, prc_type) = match &found {
            Some(o) => {
                let down = follow(&fam, o, from, 0.01 * span, 1e-7 * span, 400, 1e6);
                let up = follow(&fam, o, to, 0.01 * span, 1e-4 * span, 300, 1e6);
                let y0 = o.orbit.at(&o.scheme, o.s_threshold);
                let prc = prc_at(&fam, o.orbit.lambda, &y0, &set, 200).ok();
                (down, up, prc.map(|p| p.kind()))
            }
            None => (vec![], vec![], None),
        };
        // Nothing fires repetitively and rest holds: steps from rest to a quarter, half and
        // all of the range tell class 3 (a phasic spike) from a membrane that does not spike.
        // A spike crosses the threshold and comes back: a passive membrane driven past the
        // threshold (hh with g_Na = g_K = 0 at 200 uA/cm^2 settles at 613 mV) crosses it once
        // and stays.
        // `None` when a step's run failed (it blew up): then the class is not decided.
        let phasic = (down.is_empty() && rest_lost.is_none()).then(|| {
            let settings = crate::simulate::Settings {
                t_max: PHASIC_RUN,
                dt: PHASIC_DT,
                method: crate::simulate::Method::Rk4,
                record: crate::simulate::Record::Full,
                threshold_mv: set.threshold,
            };
            let spikes = |f: f64| {
                let step = crate::stimulus::Stimulus::constant(from + f * span);
                crate::simulate::run(model, &step, &rest.state, &settings)
                    .ok()
                    .map(|run| comes_back(run.trace.v(), set.threshold))
            };
            let runs: Vec<Option<bool>> = [0.25, 0.5, 1.0].into_iter().map(spikes).collect();
            if runs.contains(&Some(true)) {
                Some(true)
            } else if runs.contains(&None) {
                None
            } else {
                Some(false)
            }
        });
        let verdict = classify_onset(
            &down,
            &folds,
            from,
            span,
            rest_lost.is_some(),
            phasic.flatten(),
        );
        // Integrator or resonator: the leading eigenvalues of rest near threshold, 90% of the
        // way from `from` to where rest loses stability (Izhikevich's criterion is the
        // bifurcation of rest), or to where firing starts when rest holds over the range (the
        // nearest sign of threshold the range shows: `hh` over 0..9.7, whose cycles start at
        // 6.26 and whose rest holds to 9.78, had been labelled at 0, where its leading
        // eigenvalue is real: "integrator"), at `from` when neither is in the range. Taken on
        // the rest branch itself: Newton from its stable point nearest there (that point when
        // Newton fails, or lands on another equilibrium or an unstable one). An equilibrium
        // found anew at that current could be another one, or none (an `.ode` model's scan
        // can miss it); rest at `from` then stood in under the other current's label.
        let onset = (!down.is_empty() && verdict.i_min.is_finite() && verdict.i_min > from)
            .then_some(verdict.i_min);
        let target = match (rest_lost, onset) {
            (Some((ic, _)), _) => from + 0.9 * (ic - from),
            (None, Some(i_min)) => from + 0.9 * (i_min - from),
            (None, None) => from,
        };
        let (near, lead) = walk
            .as_ref()
            .and_then(|w| w.stable_point_nearest(target))
            .map_or((from, leading(&rest)), |p| {
                // In 50 steps from the branch's point to the target, each Newton's start the
                // last one's answer: over a wide range the nearest point can lie far from the
                // target (0 for 8.8 over 0..1e5 on `hh`, whose rest there is a node, not the
                // focus near threshold: "integrator").
                const STEPS: usize = 50;
                let mut y = p.state.clone();
                let mut last = None;
                for k in 1..=STEPS {
                    let at = p.lambda + (target - p.lambda) * k as f64 / STEPS as f64;
                    let Some((next, j)) = fam.equilibrium_near(&y, at) else {
                        last = None;
                        break;
                    };
                    let close =
                        (next.iter().zip(&y)).all(|(a, b)| (a - b).abs() <= 0.05 * (1.0 + b.abs()));
                    if !close {
                        last = None;
                        break;
                    }
                    y = next;
                    last = Some(j);
                }
                let solved = last.and_then(|j| leading_of(&j).filter(|z| z.re < 0.0));
                let at_point =
                    || leading_of(&fam.jacobian(&p.state, p.lambda)).unwrap_or(p.eigenvalues[0]);
                solved.map_or_else(|| (p.lambda, at_point()), |z| (target, z))
            });
        let izhikevich = if lead.im.abs() > 1e-9 {
            Izhikevich::Resonator
        } else {
            Izhikevich::Integrator
        };
        let rate = |t: f64| 1000.0 / t;
        let bistable = match rest_lost {
            Some((ic, _)) if verdict.i_min < ic => Some((verdict.i_min, ic)),
            _ => None,
        };
        let fi_slope = match (down.first(), down.last()) {
            (Some(a), Some(b)) if a.lambda != b.lambda => {
                (rate(a.period) - rate(b.period)) / (a.lambda - b.lambda)
            }
            _ => f64::NAN,
        };
        let mut fi: Vec<(f64, f64)> = down
            .iter()
            .chain(up.iter().skip(1))
            .map(|s| (s.lambda, rate(s.period)))
            .collect();
        fi.sort_by(|a, b| a.0.total_cmp(&b.0));
        let excitability = Excitability {
            min_rate_hz: if down.is_empty() {
                f64::NAN
            } else {
                rate(verdict.period_end)
            },
            verdict,
            izhikevich,
            leading: (lead.re, lead.im.abs()),
            leading_at: near,
            rest_lost,
            probe: found.as_ref().map(|o| o.orbit.lambda),
            section: found
                .as_ref()
                .map(|o| o.section)
                .filter(|&v| v != set.threshold),
            bistable,
            fi_slope,
            prc_type,
            fi,
            down,
        };
        Ok(ExcitabilityResult {
            model: model.clone(),
            spec: self.clone(),
            excitability,
            range,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// Whether V crosses `threshold` upwards and later falls below it again: a spike, where a
/// membrane driven past the threshold crosses it and stays. From the samples alone.
fn comes_back(v: &[f64], threshold: f64) -> bool {
    let mut after = v
        .iter()
        .skip_while(|&&x| x >= threshold)
        .skip_while(|&&x| x < threshold);
    after.next().is_some() && after.any(|&x| x < threshold)
}

/// The eigenvalue of largest real part.
fn largest_real_part(
    values: impl Iterator<Item = crate::numerics::eigen::C64>,
) -> Option<crate::numerics::eigen::C64> {
    values.max_by(|a, b| a.re.total_cmp(&b.re))
}

/// The branch of equilibria through rest at `from` (its point nearest `(from, v_rest)`),
/// walked from there towards larger currents.
struct RestWalk<'a> {
    branch: &'a EqBranch,
    /// Point indices from rest on, in the walk's order.
    order: Vec<usize>,
}

impl RestWalk<'_> {
    /// The first stretch of the walk, up to and including its last stable point.
    fn stable_stretch(&self) -> impl Iterator<Item = &EqPoint> {
        let pts = &self.branch.points;
        self.order
            .iter()
            .map(|&k| &pts[k])
            .take_while(|p| p.stable())
    }

    /// The stable point of the rest stretch whose parameter is nearest `lambda`.
    fn stable_point_nearest(&self, lambda: f64) -> Option<&EqPoint> {
        self.stable_stretch().min_by(|a, b| {
            (a.lambda - lambda)
                .abs()
                .total_cmp(&(b.lambda - lambda).abs())
        })
    }

    /// Where rest loses stability along the walk, and how: the fold or Hopf point of the
    /// branch nearest the first unstable step (its midpoint, as a fold, if neither is found).
    fn loss(&self) -> Option<(f64, &'static str)> {
        let pts = &self.branch.points;
        let w = self.order.windows(2).find(|w| !pts[w[1]].stable())?;
        let (a, c) = (&pts[w[0]], &pts[w[1]]);
        let mid = 0.5 * (a.lambda + c.lambda);
        let folds = self.branch.folds.iter().map(|f| (f.lambda, "fold"));
        let hopfs = self.branch.hopfs.iter().map(|h| (h.lambda, "hopf"));
        folds
            .chain(hopfs)
            .min_by(|x, y| (x.0 - mid).abs().total_cmp(&(y.0 - mid).abs()))
            .or(Some((mid, "fold")))
    }
}

/// The walk along the rest branch of `d` ([`RestWalk`]); `None` without equilibria.
fn rest_walk(
    d: &crate::continuation::diagram::Diagram,
    from: f64,
    v_rest: f64,
) -> Option<RestWalk<'_>> {
    let (b, i0) = d
        .equilibria
        .iter()
        .enumerate()
        .flat_map(|(bi, br)| br.points.iter().enumerate().map(move |(k, p)| (bi, k, p)))
        .min_by(|x, y| {
            let dx = (x.2.lambda - from).abs() + (x.2.state[0] - v_rest).abs();
            let dy = (y.2.lambda - from).abs() + (y.2.state[0] - v_rest).abs();
            dx.total_cmp(&dy)
        })
        .map(|(bi, k, _)| (bi, k))?;
    let branch = &d.equilibria[b];
    let pts = &branch.points;
    let up = i0 + 1 < pts.len() && pts[i0 + 1].lambda > pts[i0].lambda;
    let order: Vec<usize> = if up {
        (i0..pts.len()).collect()
    } else {
        (0..=i0).rev().collect()
    };
    Some(RestWalk { branch, order })
}

super::model_spec!(
    ExcitabilitySpec,
    "excitability",
    ExcitabilityResult,
    |s, m| {
        s.validate()?;
        crate::model::Field::of(m)?;
        // The range needs the model (an `.ode` file's own), so it is checked here, before
        // the output folder is touched, as well as in `run`.
        let (from, to, _) = s.range_for(m);
        check_span(from, to)
    },
    run
);

/// Refuse a current range wider than [`MAX_SPAN`].
fn check_span(from: f64, to: f64) -> Result<(), Error> {
    if to - from > MAX_SPAN {
        return Err(SpecError::new(
            "from, to",
            format!("{} to {}", crate::error::short(from), crate::error::short(to)),
            format!(
                "a range of at most {MAX_SPAN:e}: the walk along rest and the probes are placed at fractions of it"
            ),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spike crosses the threshold and comes back; a plateau past it does not; a start
    /// above the threshold is not a crossing.
    #[test]
    fn a_spike_comes_back_below_the_threshold() {
        assert!(comes_back(&[-65.0, -10.0, 30.0, -20.0, -60.0], 0.0));
        assert!(!comes_back(&[-65.0, -10.0, 30.0, 400.0, 600.0], 0.0));
        assert!(!comes_back(&[10.0, -5.0, -60.0], 0.0));
        assert!(!comes_back(&[-65.0, -60.0], 0.0));
    }

    #[test]
    fn defaults_validate_and_bad_values_name_their_field() {
        ExcitabilitySpec::default().validate().unwrap();
        let bad = |f: &dyn Fn(&mut ExcitabilitySpec)| {
            crate::spec::refused_field(&ExcitabilitySpec::default(), ExcitabilitySpec::validate, f)
        };
        assert_eq!(bad(&|s| s.to = Some(-1.0)), "from, to");
        assert_eq!(bad(&|s| s.ntst = 3), "ntst");
        assert_eq!(bad(&|s| s.threshold = Some(f64::INFINITY)), "threshold");
    }
}
