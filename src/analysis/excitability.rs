//! Excitability class: Hodgkin's class 1, 2 or 3 and Izhikevich's integrator or resonator,
//! from the evidence the toolkit computes (the rest state's eigenvalues, the equilibrium
//! branch, the stable cycles followed towards the onset of repetitive firing).
//!
//! # Decision rule
//!
//! * **Class 3** when rest stays stable over the whole range and no probe in it has a stable
//!   cycle: the model answers a constant current with at most a phasic spike, over that
//!   range (firing above it would make it class 1 or 2). When rest loses stability but no
//!   probe above that point finds a stable cycle, the class is **undetermined** (a cycle may
//!   lie past the range, need a longer run, or not reach the threshold).
//! * When the stable cycle found lasts down to the range's start, its end lies **below the
//!   range** and the class is undetermined (`--from` lower finds it).
//! * Otherwise the stable cycle found at the lowest firing probe is followed down in current
//!   (natural-parameter steps, each step halved when it fails, until the step is below
//!   1e-7 of the range): its last cycle lies within that distance of the end of the stable
//!   cycle branch, `I_min`, the onset of repetitive firing. How the branch ends decides:
//!   - **period unbounded** (class 1): the largest nontrivial Floquet multiplier at the end
//!     is below 0.5 (at a SNIC or a saddle homoclinic orbit the cycle becomes ever more
//!     strongly attracting) and the period has grown at least 3-fold from the probe's. The
//!     onset is a **SNIC** when `I_min` is within 1e-5 of the range of a fold of equilibria
//!     (the cycle is born on the saddle-node), a **saddle homoclinic** orbit otherwise;
//!   - **finite rate** (class 2): the largest nontrivial multiplier at the end is at least
//!     0.5 (it tends to 1 at a fold of cycles and at a Hopf point), or the period at the end
//!     is less than twice the probe's (the rate stays finite; a fold of cycles at the end of
//!     a canard explosion, as in FitzHugh-Nagumo, lies in an exponentially thin interval
//!     where the multiplier's rise to 1 is not resolved). The onset is a **Hopf** point when
//!     the amplitude has fallen below a tenth of the probe's (the cycle shrinks onto the
//!     equilibrium), a **fold of cycles** otherwise;
//!     the bistable range is `[I_min, I_c]` when `I_min < I_c`, `I_c` where rest loses
//!     stability.
//!   - anything else is reported as undetermined, with the numbers.
//! * **Izhikevich**: a resonator when the leading eigenvalues of the rest state (largest real
//!   part) near threshold are a complex pair, an integrator when the leading eigenvalue is
//!   real. "Near threshold" is 90% of the way from the range's first current to where rest
//!   loses stability (or to where firing starts, when rest holds over the range): far below
//!   threshold the order can differ (hh at 0 uA/cm^2 has a real leading eigenvalue -0.121/ms
//!   just above its complex pair -0.203 ± 0.383i; at 8.8 the pair -0.019 ± 0.576i leads), and
//!   it is the subthreshold regime near threshold that
//!   decides whether inputs are integrated or resonated.

use crate::analysis::prc::PrcType;
use crate::continuation::orbit_from_simulation::BranchSample;

/// Hodgkin's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HodgkinClass {
    /// Repetitive firing starts at an arbitrarily low rate (SNIC or homoclinic onset).
    One,
    /// Repetitive firing starts at a non-zero rate (Hopf point or fold of cycles).
    Two,
    /// No repetitive firing under constant current, but a phasic spike at a step.
    Three,
    /// No spike at all in the range, not even a phasic one at a step: not excitable there.
    NotExcitable,
    /// The evidence did not decide (the summary gives the numbers).
    Undetermined,
}

impl HodgkinClass {
    /// `1`, `2`, `3`, `none` (not excitable in the range) or `undetermined`.
    pub fn name(self) -> &'static str {
        match self {
            HodgkinClass::One => "1",
            HodgkinClass::Two => "2",
            HodgkinClass::Three => "3",
            HodgkinClass::NotExcitable => "none",
            HodgkinClass::Undetermined => "undetermined",
        }
    }
}

/// How repetitive firing begins as the current rises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Onset {
    /// Saddle-node on an invariant circle.
    Snic,
    /// Saddle homoclinic orbit.
    Homoclinic,
    /// Supercritical Hopf point (the cycle grows from zero amplitude).
    Hopf,
    /// Fold of cycles (with a subcritical Hopf point above it: bistability).
    FoldOfCycles,
    /// No repetitive firing.
    None,
    /// Firing lasts down to the range's start: the onset lies below the range.
    BelowRange,
    /// Not decided.
    Unknown,
}

impl Onset {
    /// Its name in tables: `snic`, `homoclinic`, `hopf`, `fold_cycle`, `none`, `below_range`,
    /// `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Onset::Snic => "snic",
            Onset::Homoclinic => "homoclinic",
            Onset::Hopf => "hopf",
            Onset::FoldOfCycles => "fold_cycle",
            Onset::None => "none",
            Onset::BelowRange => "below_range",
            Onset::Unknown => "unknown",
        }
    }
}

/// Integrator or resonator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Izhikevich {
    /// Leading eigenvalue at rest real.
    Integrator,
    /// Leading eigenvalues at rest a complex pair (damped subthreshold oscillations).
    Resonator,
}

impl Izhikevich {
    /// `integrator` or `resonator`.
    pub fn name(self) -> &'static str {
        match self {
            Izhikevich::Integrator => "integrator",
            Izhikevich::Resonator => "resonator",
        }
    }
}

/// The verdict on the onset of repetitive firing.
#[derive(Debug, Clone, PartialEq)]
pub struct OnsetVerdict {
    /// Hodgkin's class.
    pub class: HodgkinClass,
    /// The bifurcation at the onset.
    pub onset: Onset,
    /// The lowest current with a stable cycle (the last sample of the followed branch).
    pub i_min: f64,
    /// Its period (ms).
    pub period_end: f64,
    /// Its largest nontrivial multiplier.
    pub multiplier_end: f64,
}

/// How close (relative to the range) the end of the stable branch must lie to a fold of
/// equilibria for the onset to be a SNIC ([`classify_onset`]): a hundred times the
/// followed branch's smallest step.
pub const SNIC_FOLD_DISTANCE: f64 = 1e-5;

/// Apply the decision rule of this module to the samples of the stable branch followed
/// down from the probe (`down[0]` the probe, the last the closest to the onset) over the
/// range `[from, from + span]`; `folds` are the folds of equilibria in the range,
/// `rest_lost` whether rest loses stability in it, and `phasic` whether a step from rest
/// gives a spike (asked only when nothing fires repetitively and rest holds; `None` when
/// not known: a step's run failed).
pub fn classify_onset(
    down: &[BranchSample],
    folds: &[f64],
    from: f64,
    span: f64,
    rest_lost: bool,
    phasic: Option<bool>,
) -> OnsetVerdict {
    let (Some(first), Some(last)) = (down.first(), down.last()) else {
        // Nothing fires: class 3 only when rest also stays stable (hh with a threshold under
        // its cycle had been called class 3 beside its own Hopf point) and a step gives a
        // phasic spike (a passive membrane, hh with g_Na = g_K = 0, had been class 3).
        return OnsetVerdict {
            class: match (rest_lost, phasic) {
                (false, Some(true)) => HodgkinClass::Three,
                (false, Some(false)) => HodgkinClass::NotExcitable,
                _ => HodgkinClass::Undetermined,
            },
            onset: match (rest_lost, phasic) {
                (false, Some(_)) => Onset::None,
                _ => Onset::Unknown,
            },
            i_min: f64::NAN,
            period_end: f64::NAN,
            multiplier_end: f64::NAN,
        };
    };
    if (last.lambda - from).abs() <= 1e-9 * span {
        // The stable cycle lasts to the range's start: its end lies below the range.
        return OnsetVerdict {
            class: HodgkinClass::Undetermined,
            onset: Onset::BelowRange,
            i_min: last.lambda,
            period_end: last.period,
            multiplier_end: last.max_multiplier,
        };
    }
    // At a SNIC the stable branch ends at the fold itself; `follow` locates the end to its
    // smallest step, 1e-7 of the range (2e-5 uA/cm^2 from the fold on Morris-Lecar's SNIC
    // set and Wang-Buzsaki). A saddle homoclinic end 0.023 uA/cm^2 below a fold (1e-4 of the
    // range) had been called a SNIC under 1e-3 of the range.
    let near_fold = folds
        .iter()
        .any(|&f| (f - last.lambda).abs() <= SNIC_FOLD_DISTANCE * span);
    let (class, onset) = if last.max_multiplier < 0.5 && last.period >= 3.0 * first.period {
        (
            HodgkinClass::One,
            if near_fold {
                Onset::Snic
            } else {
                Onset::Homoclinic
            },
        )
    } else if last.max_multiplier >= 0.5 || last.period < 2.0 * first.period {
        (
            HodgkinClass::Two,
            if last.amplitude < 0.1 * first.amplitude {
                Onset::Hopf
            } else {
                Onset::FoldOfCycles
            },
        )
    } else {
        (HodgkinClass::Undetermined, Onset::Unknown)
    };
    OnsetVerdict {
        class,
        onset,
        i_min: last.lambda,
        period_end: last.period,
        multiplier_end: last.max_multiplier,
    }
}

/// Everything `excitable excitability` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Excitability {
    /// Hodgkin's class and the onset.
    pub verdict: OnsetVerdict,
    /// Integrator or resonator, from the leading eigenvalues at rest.
    pub izhikevich: Izhikevich,
    /// The leading eigenvalue at rest near threshold (1/ms): real part, imaginary part
    /// (>= 0).
    pub leading: (f64, f64),
    /// The current where it was taken.
    pub leading_at: f64,
    /// Where the rest state loses stability (the first fold or Hopf point on its branch),
    /// and which (`fold` or `hopf`); `None` if it stays stable over the range.
    pub rest_lost: Option<(f64, &'static str)>,
    /// The current where a stable cycle was first found (the probe).
    pub probe: Option<f64>,
    /// The V level the probe's cycle was cut at when it does not cross the spike threshold
    /// (it stays above or below it): the middle of its V range. `None` when it crosses.
    pub section: Option<f64>,
    /// Bistable range (rest and firing coexist): `[I_min, I_c]`, when `I_min < I_c`.
    pub bistable: Option<(f64, f64)>,
    /// The lowest rate of repetitive firing found (Hz; per 1000 time units for a model
    /// without units): at the end of the followed branch.
    pub min_rate_hz: f64,
    /// Mean slope of the f-I curve of the stable cycles from the onset to the probe
    /// (Hz per current unit).
    pub fi_slope: f64,
    /// The PRC type at the probe current (just above the onset).
    pub prc_type: Option<PrcType>,
    /// The stable cycles found, by increasing current: (current, rate in Hz).
    pub fi: Vec<(f64, f64)>,
    /// The samples followed down from the probe towards the onset.
    pub down: Vec<BranchSample>,
}

/// The eigenvalues of the modes V can show: those of the Jacobian `j` (V first) restricted to
/// V and the variables that act on it, directly or through others. A variable nothing in V's
/// equation depends on, even indirectly, relaxes on its own: its eigenvector has no V
/// component, so its eigenvalue says nothing about V's subthreshold dynamics (hh with
/// g_Na = g_K = 0 had been called an integrator by its h gate's relaxation rate, -0.167 per
/// ms, which V cannot feel: its own rate there is -g_L/C = -0.3).
pub fn v_felt_eigenvalues(j: &nalgebra::DMatrix<f64>) -> Vec<crate::numerics::eigen::C64> {
    let n = j.nrows();
    if n == 0 {
        return vec![];
    }
    let mut felt = vec![false; n];
    felt[0] = true;
    loop {
        let more: Vec<usize> = (0..n)
            .filter(|&k| !felt[k] && (0..n).any(|r| felt[r] && j[(r, k)] != 0.0))
            .collect();
        if more.is_empty() {
            break;
        }
        for k in more {
            felt[k] = true;
        }
    }
    let keep: Vec<usize> = (0..n).filter(|&k| felt[k]).collect();
    let sub = nalgebra::DMatrix::from_fn(keep.len(), keep.len(), |r, c| j[(keep[r], keep[c])]);
    crate::numerics::balance::balance(&sub)
        .complex_eigenvalues()
        .iter()
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// V (row 0) depends on x1, x1 on x2, and x3 acts on nobody: the felt modes are those of
    /// the top-left 3x3 block, whose eigenvalues are its diagonal (upper triangular: -1, -2,
    /// -3), not x3's -0.1, the largest of the whole matrix.
    #[test]
    fn only_the_modes_that_act_on_v_are_felt() {
        let j = nalgebra::DMatrix::from_row_slice(
            4,
            4,
            &[
                -1.0, 0.5, 0.0, 0.0, //
                0.0, -2.0, 0.7, 0.0, //
                0.0, 0.0, -3.0, 0.0, //
                0.3, 0.2, 0.1, -0.1,
            ],
        );
        let mut re: Vec<f64> = v_felt_eigenvalues(&j).iter().map(|z| z.re).collect();
        re.sort_by(f64::total_cmp);
        assert_eq!(re.len(), 3);
        for (a, b) in re.iter().zip([-3.0, -2.0, -1.0]) {
            assert!((a - b).abs() < 1e-12, "{re:?}");
        }
    }
}
