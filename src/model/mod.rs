//! Models: defined once, shared by simulation and analysis.
//!
//! * [`ConductanceModel`]: smooth conductance-based models (built-in `hh`, `hh-1952`, `hh-ca`, and
//!   user model files), right-hand side generic over [`Scalar`] for exact derivatives.
//! * [`Lif`]: leaky integrate-and-fire, a hybrid model with threshold, reset and refractory period.

pub mod builtin;
pub mod conductance;
pub mod conductance_jacobian;
pub mod equilibrium;
pub mod export;
pub mod field;
pub mod file;
pub mod lif;
pub mod neuroml;
pub mod ode;
pub mod params;
pub mod rates;
pub mod start;
pub mod units;

pub use crate::numerics::Scalar;
pub use conductance::{ConductanceModel, Current, Gate, Kinetics};
pub use equilibrium::{Equilibrium, Stability, equilibria, equilibria_beside};
pub use field::{Field, VectorField};
pub use lif::{Lif, LifValues};
pub use params::{Param, ParamSet};
pub use rates::RateFn;
pub use start::{Start, StartKind, UNSTABLE_START_KICK};
pub use units::{Number, Quantity, Units};

use crate::error::{AnalysisError, Error, ModelError};
use std::path::Path;

/// |V| beyond this (mV, or the file's units) is a run-away state: a simulation that reaches it
/// has blown up, a branch that reaches it has diverged, and the equilibrium search stops there.
pub const V_LIMIT: f64 = 1e4;

/// Built-in model names with a one-line description.
pub const BUILTIN: [(&str, &str); 4] = [
    ("hh", "Hodgkin-Huxley, modern convention (rest near -65 mV)"),
    ("hh-1952", "Hodgkin-Huxley, 1952 convention (rest at 0 mV)"),
    (
        "hh-ca",
        "HH + calcium current, the 'human neurone' of 000_…",
    ),
    ("lif", "leaky integrate-and-fire (003_…)"),
];

/// Any model the toolkit can run.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// A conductance-based model: a built-in (`hh`, ...) or a TOML model file.
    Conductance(ConductanceModel),
    /// The leaky integrate-and-fire model (hybrid: threshold and reset, no Jacobian).
    Lif(Lif),
    /// An XPPAUT `.ode` file: simulation only for now (the analyses need the conductance
    /// structure: they refuse it by name).
    Ode(ode::OdeModel),
}

/// How to choose the initial state of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum InitialState {
    /// The model's own start: the resting state at zero current, or where there is none the
    /// lowest equilibrium displaced as [`Model::start_at`] states; for an `.ode` file its
    /// initial values (where XPPAUT starts).
    #[default]
    Default,
    /// The resting state at zero current (the stable equilibrium of lowest V).
    Rest,
    /// An `.ode` file's initial values.
    File,
    /// V set, every gate at its steady state for that V (what the source documents do).
    Voltage(f64),
    /// Start from the default start, then set the named variables.
    Values(Vec<(String, f64)>),
}

impl Model {
    /// A built-in model by name (see [`BUILTIN`]).
    pub fn builtin(name: &str) -> Result<Model, ModelError> {
        match name {
            "hh" => Ok(Model::Conductance(builtin::hh())),
            "hh-1952" => Ok(Model::Conductance(builtin::hh_1952())),
            "hh-ca" => Ok(Model::Conductance(builtin::hh_ca())),
            "lif" => Ok(Model::Lif(Lif::default())),
            _ => Err(ModelError::UnknownModel {
                name: name.into(),
                available: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// A model from a file: TOML (conductance-based, see [`file`](mod@file)), XPPAUT `.ode` (see
    /// [`ode`]) or NeuroML2 `.nml` (see [`neuroml`]), by extension.
    pub fn from_file(path: &Path) -> Result<Model, ModelError> {
        Model::from_file_with_v(path, None)
    }

    /// [`Model::from_file`], with an `.ode` file's voltage-like variable chosen by name
    /// (refused for other files, whose first variable is V by construction).
    pub fn from_file_with_v(path: &Path, v_var: Option<&str>) -> Result<Model, ModelError> {
        Model::from_file_with(path, v_var, None)
    }

    /// [`Model::from_file_with_v`], with the temperature (degC) a NeuroML2 file's q10 factors
    /// and Nernst potentials are computed at (refused for other files).
    pub fn from_file_with(
        path: &Path,
        v_var: Option<&str>,
        temperature: Option<f64>,
    ) -> Result<Model, ModelError> {
        let nml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("nml") || e.eq_ignore_ascii_case("xml"));
        if let Some(t) = temperature {
            if !nml {
                return Err(ModelError::File {
                    path: path.display().to_string(),
                    reason: format!(
                        "temperature = {t}: only NeuroML2 (.nml) files take a temperature"
                    ),
                });
            }
            if !(t.is_finite() && (-273.15..=1000.0).contains(&t)) {
                return Err(ModelError::ParameterOutOfRange {
                    name: "temperature".into(),
                    value: t,
                    range: "[-273.15, 1000] degC".into(),
                });
            }
        }
        if nml {
            if let Some(v) = v_var {
                return Err(ModelError::File {
                    path: path.display().to_string(),
                    reason: format!("v_var = {v}: only .ode files choose their voltage variable"),
                });
            }
            return neuroml::load_model(path, temperature);
        }
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ode"))
        {
            let err = |reason: String| ModelError::File {
                path: path.display().to_string(),
                reason,
            };
            let text = crate::input::read_text(path, crate::input::MAX_MODEL_BYTES).map_err(err)?;
            let name = path
                .file_stem()
                .map_or("ode".into(), |s| s.to_string_lossy().into_owned());
            return ode::OdeModel::parse_with_v(&text, &path.display().to_string(), &name, v_var)
                .map(Model::Ode)
                .map_err(ModelError::Ode);
        }
        if let Some(v) = v_var {
            return Err(ModelError::File {
                path: path.display().to_string(),
                reason: format!("v_var = {v}: only .ode files choose their voltage variable"),
            });
        }
        file::load(path).map(Model::Conductance)
    }

    /// The model's name: a built-in's (`hh`, `lif`), a TOML file's `name`, or an `.ode` file's
    /// stem. Tables, summaries and error messages name the model by it.
    pub fn name(&self) -> &str {
        match self {
            Model::Conductance(m) => &m.name,
            Model::Lif(_) => "lif",
            Model::Ode(m) => &m.name,
        }
    }

    /// The name with every parameter that differs from the model's definition:
    /// `hh (g_k = 25 mS/cm^2)`. Summaries and figure titles use it, so no override goes unsaid.
    pub fn label(&self) -> String {
        let o = self.params().overrides();
        if o.is_empty() {
            self.name().to_string()
        } else {
            format!("{} ({})", self.name(), o.join(", "))
        }
    }

    /// One line saying what the model is and where it comes from (`excitable models` lists
    /// it; every report's summary repeats it, so a file's area, temperature or ignored inputs
    /// are stated where its numbers are).
    pub fn description(&self) -> String {
        match self {
            Model::Conductance(c) => c.description.clone(),
            Model::Lif(_) => BUILTIN
                .iter()
                .find(|(name, _)| *name == "lif")
                .map_or_else(String::new, |(_, about)| about.to_string()),
            Model::Ode(o) => {
                let mut d = if o.units.known() {
                    "compiled through the .ode engine (simulation: rk4, dopri5, euler)".to_string()
                } else {
                    "an XPPAUT .ode model (simulation: rk4, dopri5, euler)".to_string()
                };
                if let Some(k) = o.current_param() {
                    d += &format!("; stimuli add to parameter {}", o.params.param(k).name);
                }
                for n in &o.notes {
                    d += &format!("; {n}");
                }
                d
            }
        }
    }

    /// The parameters, in the order the equations read them.
    pub fn params(&self) -> &ParamSet {
        match self {
            Model::Conductance(m) => &m.params,
            Model::Lif(m) => &m.params,
            Model::Ode(m) => &m.params,
        }
    }

    /// The same model with one parameter changed (name and range checked):
    /// `Model::builtin("hh")?.with("g_l", 0.03)?`.
    pub fn with(mut self, name: &str, value: f64) -> Result<Model, ModelError> {
        self.set(name, value)?;
        Ok(self)
    }

    /// Set a parameter by name, checking the name and its range.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), ModelError> {
        match self {
            Model::Conductance(m) => m.params.set(name, value),
            Model::Lif(m) => m.params.set(name, value),
            Model::Ode(m) => m.params.set(name, value),
        }
    }

    /// Check the relations between parameters that no single range states (LIF: the reset
    /// below the threshold). Setting parameters one by one cannot check them, since the
    /// order of `--set v_th=…,v_reset=…` would matter: loaders call this once every value is in.
    pub fn check_relations(&self) -> Result<(), ModelError> {
        match self {
            Model::Lif(m) => Ok(m.values().check()?),
            _ => Ok(()),
        }
    }

    /// A copy with every parameter value replaced (`values` in [`ParamSet`] order); refused
    /// when the count differs.
    pub fn with_param_values(&self, values: &[f64]) -> Result<Model, ModelError> {
        let mut m = self.clone();
        match &mut m {
            Model::Conductance(c) => c.params.set_values(values)?,
            Model::Lif(l) => l.params.set_values(values)?,
            Model::Ode(o) => o.params.set_values(values)?,
        }
        Ok(m)
    }

    /// State variable names, V first (`v`, then gates).
    pub fn var_names(&self) -> Vec<String> {
        match self {
            Model::Conductance(m) => m.var_names(),
            Model::Lif(_) => vec!["v".into()],
            Model::Ode(m) => m.vars.clone(),
        }
    }

    /// The units of the model's numbers: none for an `.ode` file.
    pub fn units(&self) -> Units {
        match self {
            Model::Ode(m) => *m.units,
            _ => Units::NEURON,
        }
    }

    /// Depolarisations added to V at rest, in turn, by a search for a firing cycle when rest
    /// itself settles (the bistable range, where rest and firing coexist): one spike's worth
    /// for a model in mV; for a model without units a ladder, as its V may span about 1
    /// (FitzHugh-Nagumo) or 100 (a Morris-Lecar `.ode` file in mV: a kick of 1 from rest at
    /// 38 on the homoclinic set left it at rest and `prc` said it had no cycle).
    pub fn kicks(&self) -> &'static [f64] {
        if self.units().known() {
            &[40.0]
        } else {
            &[1.0, 10.0, 40.0]
        }
    }

    /// Default spike threshold (mV).
    pub fn threshold_mv(&self) -> f64 {
        match self {
            Model::Conductance(m) => m.threshold_mv,
            Model::Lif(m) => m.values().v_th,
            Model::Ode(_) => 0.0,
        }
    }

    /// The smooth model, or an error saying the analysis needs one (LIF resets).
    pub fn smooth(&self) -> Result<&ConductanceModel, ModelError> {
        match self {
            Model::Conductance(m) => Ok(m),
            Model::Lif(_) => Err(ModelError::NotSmooth {
                model: "lif".into(),
            }),
            Model::Ode(m) => Err(ModelError::NotConductance {
                model: m.name.clone(),
            }),
        }
    }

    /// The state with V = `v` and every gate at its steady state for that V.
    pub fn state_at_v(&self, v: f64) -> Vec<f64> {
        match self {
            Model::Conductance(m) => m.state_at_v(v),
            Model::Lif(_) => vec![v],
            // A compiled NeuroML2 cell's gates have steady states; an `.ode` file's variables
            // are the author's, so only V moves (its other values are the file's `init`).
            Model::Ode(m) => match m.gated.then(|| m.gates_at(v)) {
                Some(Ok(y)) => y,
                _ => {
                    let mut y = m.init.clone();
                    y[0] = v;
                    y
                }
            },
        }
    }

    /// Every equilibrium at injected current `i_ext`, by increasing V, with eigenvalues and
    /// stability ([`equilibrium`]); refused for a model without a smooth autonomous field.
    pub fn equilibria(&self, i_ext: f64) -> Result<Vec<Equilibrium>, AnalysisError> {
        equilibria(&Field::of(self)?, i_ext)
    }

    /// The rest state at injected current `i_ext`: the stable equilibrium of lowest V. An error
    /// names the equilibria there if none is stable: nothing unstable is ever called rest.
    pub fn rest(&self, i_ext: f64) -> Result<Equilibrium, AnalysisError> {
        let all = self.equilibria(i_ext)?;
        let found = all.iter().find(|e| e.stability.is_stable()).cloned();
        found.ok_or_else(|| AnalysisError::NoStableRest {
            model: self.label(),
            current: Quantity(i_ext, self.units().current).to_string(),
            equilibria: all
                .iter()
                .map(|e| format!("V = {:.4} ({})", e.state[0], e.stability))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The resting state at zero injected current ([`Model::rest`]); for LIF, `v_rest`.
    pub fn resting_state(&self) -> Result<Vec<f64>, Error> {
        match self {
            Model::Lif(m) => Ok(vec![m.values().v_rest]),
            _ => Ok(self.rest(0.0)?.state),
        }
    }

    /// Where runs over many currents start (f-I curves, sweeps, the maximum rate): the resting
    /// state; for an `.ode` model that reads `t` (it has no equilibria) the file's initial
    /// values, where XPPAUT starts.
    pub fn sweep_start(&self) -> Result<Vec<f64>, Error> {
        match self {
            Model::Ode(m) if m.reads_time() => Ok(m.init.clone()),
            _ => self.resting_state(),
        }
    }

    /// The initial state chosen by `init`, with every named variable checked.
    pub fn initial_state(&self, init: &InitialState) -> Result<Vec<f64>, Error> {
        match init {
            InitialState::Default => match self {
                Model::Ode(_) => self.initial_state(&InitialState::File),
                _ => Ok(self.start_at(0.0)?.state),
            },
            InitialState::Rest => self.resting_state(),
            InitialState::File => match self {
                Model::Ode(m) => Ok(m.init.clone()),
                _ => Err(ModelError::BadInitial {
                    reason: format!("`{}` is not a model file with initial values", self.name()),
                }
                .into()),
            },
            InitialState::Voltage(v) => {
                if !v.is_finite() || v.abs() > 1000.0 {
                    return Err(ModelError::BadInitial {
                        reason: format!("v0 = {v} mV must be finite, within ±1000 mV"),
                    }
                    .into());
                }
                Ok(self.state_at_v(*v))
            }
            InitialState::Values(values) => {
                self.with_values(self.initial_state(&InitialState::Default)?, values)
            }
        }
    }

    /// [`Model::initial_state`] with what its default part is where that can be other than a
    /// rest ([`Model::start_at`]: the `Default` and `Values` starts of a conductance model),
    /// computed once.
    pub fn initial_state_and_kind(
        &self,
        init: &InitialState,
    ) -> Result<(Vec<f64>, Option<StartKind>), Error> {
        match (init, self) {
            (InitialState::Default | InitialState::Values(_), Model::Conductance(_)) => {
                let s = self.start_at(0.0)?;
                let y = match init {
                    InitialState::Values(values) => self.with_values(s.state, values)?,
                    _ => s.state,
                };
                Ok((y, Some(s.kind)))
            }
            _ => Ok((self.initial_state(init)?, None)),
        }
    }

    /// `y` with the named variables set, each checked (a gate in [0, 1], anything else
    /// within ±1000).
    fn with_values(&self, mut y: Vec<f64>, values: &[(String, f64)]) -> Result<Vec<f64>, Error> {
        let names = self.var_names();
        for (name, value) in values {
            let i = names.iter().position(|n| n == name).ok_or_else(|| {
                Error::from(ModelError::BadInitial {
                    reason: format!(
                        "unknown variable '{name}' (variables: {})",
                        names.join(", ")
                    ),
                })
            })?;
            // A conductance model's other variables are gates (fractions); an `.ode`
            // file's may be anything finite.
            let gate = i > 0 && matches!(self, Model::Conductance(_));
            let ok = if gate {
                (0.0..=1.0).contains(value)
            } else {
                value.is_finite() && value.abs() <= 1000.0
            };
            if !ok {
                let range = if gate {
                    "[0, 1] (a gate)"
                } else {
                    "[-1000, 1000]"
                };
                return Err(ModelError::BadInitial {
                    reason: format!("{name} = {value} is outside {range}"),
                }
                .into());
            }
            y[i] = *value;
        }
        Ok(y)
    }
}
