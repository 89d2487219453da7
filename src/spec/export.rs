//! `excitable export`: write a model as an XPPAUT `.ode` file, a NeuroML2 cell or the
//! toolkit's TOML model file (see [`crate::model::export`] for what each format holds and
//! which models each refuses).

use crate::error::{Error, ModelError, SpecError};
use crate::model::Model;
use crate::model::export::{OdeRun, to_neuroml, to_ode, to_toml};
use serde::{Deserialize, Serialize};

/// The formats a model can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// XPPAUT `.ode`: runs in `xppaut` unchanged.
    Ode,
    /// A NeuroML2 document with one single-compartment cell (`.nml`).
    Neuroml,
    /// The toolkit's TOML model file (`.toml`).
    Toml,
}

impl ExportFormat {
    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Ode => "ode",
            ExportFormat::Neuroml => "nml",
            ExportFormat::Toml => "toml",
        }
    }

    /// The name the command line uses.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Ode => "ode",
            ExportFormat::Neuroml => "neuroml",
            ExportFormat::Toml => "toml",
        }
    }
}

/// `current` when none is given (uA/cm^2).
const DEFAULT_CURRENT: f64 = 0.0;
/// `t_stop` when none is given (ms).
const DEFAULT_T_STOP: f64 = 100.0;
/// `dt` when none is given (ms).
const DEFAULT_DT: f64 = 0.01;
/// The settings written into `.ode` files only, with their defaults.
const ODE_DEFAULTS: [(&str, f64); 3] = [
    ("current", DEFAULT_CURRENT),
    ("t_stop", DEFAULT_T_STOP),
    ("dt", DEFAULT_DT),
];

/// Every setting of `excitable export`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ExportSpec {
    /// The format: ode (XPPAUT), neuroml (NeuroML2 cell) or toml (the toolkit's model file).
    #[arg(long, value_enum, default_value = "toml")]
    pub to: ExportFormat,
    /// For ode: the injected current the file runs at, its `i_ext` (uA/cm^2).
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_CURRENT)]
    pub current: f64,
    /// For ode: how long XPPAUT integrates, `@ total` (ms).
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_T_STOP)]
    pub t_stop: f64,
    /// For ode: XPPAUT's time step, `@ dt` (ms; the method is rk4).
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_DT)]
    pub dt: f64,
    /// For ode and neuroml: the membrane potential the file starts at (mV), every gate at its
    /// steady state there; default the model's own start (its rest at zero current).
    #[arg(long, allow_hyphen_values = true)]
    pub v0: Option<f64>,
}

impl Default for ExportSpec {
    fn default() -> Self {
        super::defaults()
    }
}

/// A model written in a format: the text of the file.
#[derive(Debug, Clone)]
pub struct ExportResult {
    /// The model, with its overrides.
    pub model: Model,
    /// The settings that made it.
    pub spec: ExportSpec,
    /// The file's text.
    pub text: String,
}

impl ExportResult {
    /// The file name the export suggests: the model's name in snake_case with the format's
    /// extension.
    pub fn file_name(&self) -> String {
        format!(
            "{}.{}",
            crate::model::neuroml::snake(self.model.name()),
            self.spec.to.extension()
        )
    }
}

impl ExportSpec {
    /// Check every setting.
    pub fn validate(&self) -> Result<(), SpecError> {
        // Settings the format does not write are refused first, whatever their value.
        self.settings_of_the_format()?;
        super::finite("current", self.current)?;
        super::positive("t_stop", self.t_stop)?;
        super::positive("dt", self.dt)?;
        if self.dt > self.t_stop {
            return Err(SpecError::new(
                "dt",
                self.dt,
                format!("at most t_stop = {} ms (one step)", self.t_stop),
            ));
        }
        if self.t_stop / self.dt > 1e8 {
            return Err(SpecError::new(
                "dt",
                self.dt,
                format!("at most 1e8 steps over t_stop = {} ms", self.t_stop),
            ));
        }
        if let Some(v) = self.v0
            && !(v.is_finite() && v.abs() <= 1000.0)
        {
            return Err(SpecError::new(
                "v0",
                v,
                "a finite potential within ±1000 mV",
            ));
        }
        Ok(())
    }

    /// Refuse a setting the chosen format does not write (`current`, `t_stop` or `dt` away
    /// from its default for any format but ode, `v0` for toml): it would be ignored, and the
    /// file taken for one that runs at that current. (A setting given at exactly its default
    /// cannot be told from one not given.)
    fn settings_of_the_format(&self) -> Result<(), SpecError> {
        let to = self.to.name();
        if self.to != ExportFormat::Ode {
            self.ode_settings_at_defaults(&format!(
                "with --to {to}: it is written into .ode files only"
            ))?;
        }
        if self.to == ExportFormat::Toml
            && let Some(v) = self.v0
        {
            return Err(SpecError::new(
                "v0",
                crate::error::short(v),
                "none with --to toml: a start is written into .ode and NeuroML files only",
            ));
        }
        Ok(())
    }

    /// Refuse the first of `current`, `t_stop` and `dt` (written into `.ode` files only) that
    /// is away from its default, `where_` saying where it does not apply.
    fn ode_settings_at_defaults(&self, where_: &str) -> Result<(), SpecError> {
        let given = [self.current, self.t_stop, self.dt];
        for ((field, default), v) in ODE_DEFAULTS.into_iter().zip(given) {
            if v != default {
                return Err(SpecError::new(
                    field,
                    crate::error::short(v),
                    format!("its default ({default}) {where_}"),
                ));
            }
        }
        Ok(())
    }

    /// The model's text in the chosen format, or the one-line reason it cannot be written
    /// so. An `.ode` model is refused here: its file is copied as it is by
    /// [`ExportSpec::run_ode_file`].
    pub fn run(&self, model: &Model) -> Result<ExportResult, Error> {
        self.validate()?;
        let refuse = |reason: String| -> Error {
            ModelError::NotExportable {
                model: model.name().into(),
                format: self.to.name().into(),
                reason,
            }
            .into()
        };
        let m = match model {
            Model::Conductance(m) => m,
            Model::Lif(_) => {
                return Err(refuse(
                    "LIF is hybrid (threshold, reset, refractory clamp): neither an ODE for XPPAUT, a conductance model for a TOML model file, nor a NeuroML2 <cell>".into(),
                ));
            }
            Model::Ode(o) if o.units.known() => {
                return Err(refuse(
                    "a NeuroML2 cell with LEMS ComponentType rates is compiled from expressions: it is not written back as a conductance model or an .ode file".into(),
                ));
            }
            Model::Ode(_) => {
                return Err(refuse(match self.to {
                    ExportFormat::Ode => "an .ode model is exported by copying its file (give it with model_file)".into(),
                    _ => "an .ode file's equations are free-form: the TOML model file and a NeuroML2 cell hold conductance models (gates and currents) only".into(),
                }));
            }
        };
        let init = match self.v0 {
            Some(v) => model.state_at_v(v),
            None => model.initial_state(&crate::model::InitialState::Default)?,
        };
        let text = match self.to {
            ExportFormat::Toml => to_toml(m),
            ExportFormat::Ode => to_ode(
                m,
                &OdeRun {
                    i_ext: self.current,
                    init,
                    total_ms: self.t_stop,
                    dt_ms: self.dt,
                },
            ),
            ExportFormat::Neuroml => to_neuroml(m, init[0]),
        }
        .map_err(|e| refuse(e.0))?;
        Ok(ExportResult {
            model: model.clone(),
            spec: self.clone(),
            text,
        })
    }

    /// An `.ode` model exported as `.ode`: its file's text as it is (`text`), refused when
    /// parameters were overridden (they would be lost) or for another format.
    pub fn run_ode_file(
        &self,
        model: &Model,
        text: String,
        overridden: bool,
    ) -> Result<ExportResult, Error> {
        if self.to != ExportFormat::Ode || overridden {
            let reason = if overridden {
                "parameter overrides of an .ode file are not written into a copy: edit the file"
                    .to_string()
            } else {
                "an .ode file's equations are free-form: the TOML model file and a NeuroML2 cell hold conductance models (gates and currents) only".to_string()
            };
            return Err(ModelError::NotExportable {
                model: model.name().into(),
                format: self.to.name().into(),
                reason,
            }
            .into());
        }
        // The copy keeps the file's own current, duration, step and start: settings for
        // them would be ignored, so they are refused away from their defaults.
        self.ode_settings_at_defaults("for an .ode file, which is copied as it is: edit the file")?;
        if let Some(v) = self.v0 {
            return Err(SpecError::new(
                "v0",
                crate::error::short(v),
                "none for an .ode file, which is copied as it is: edit its initial values",
            )
            .into());
        }
        self.validate()?;
        Ok(ExportResult {
            model: model.clone(),
            spec: self.clone(),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_the_field() {
        let d = ExportSpec::default();
        d.validate().unwrap();
        assert_eq!(d.to, ExportFormat::Toml);
        let bad = |f: &dyn Fn(&mut ExportSpec)| {
            let mut s = ExportSpec {
                to: ExportFormat::Ode,
                ..Default::default()
            };
            f(&mut s);
            s.validate().unwrap_err().field
        };
        assert_eq!(bad(&|s| s.dt = 0.0), "dt");
        assert_eq!(bad(&|s| s.t_stop = f64::NAN), "t_stop");
        assert_eq!(bad(&|s| s.current = f64::INFINITY), "current");
        assert_eq!(bad(&|s| s.v0 = Some(1e5)), "v0");
        assert_eq!(bad(&|s| s.dt = 1e-12), "dt");
        assert_eq!(bad(&|s| s.dt = 150.0), "dt");
        let mut one_step = ExportSpec {
            to: ExportFormat::Ode,
            ..Default::default()
        };
        one_step.dt = one_step.t_stop;
        one_step.validate().unwrap();
        // The settings of a `.ode` file are refused with the other formats (they would be
        // ignored), `v0` with toml only; at their defaults they pass.
        for to in [ExportFormat::Neuroml, ExportFormat::Toml] {
            let with = |f: &dyn Fn(&mut ExportSpec)| {
                let mut s = ExportSpec {
                    to,
                    ..Default::default()
                };
                f(&mut s);
                s.validate().map_err(|e| e.to_string())
            };
            assert!(with(&|_| {}).is_ok());
            let e = with(&|s| s.current = 5.0).unwrap_err();
            assert!(
                e.starts_with("current = 5: allowed its default (0) with --to"),
                "{e}"
            );
            let e = with(&|s| s.t_stop = 50.0).unwrap_err();
            assert!(
                e.starts_with("t_stop = 50: allowed its default (100) with --to"),
                "{e}"
            );
            // Refused as not applying, before its range is looked at.
            let e = with(&|s| s.dt = 1e-12).unwrap_err();
            assert!(
                e.starts_with("dt = 1e-12: allowed its default (0.01) with --to"),
                "{e}"
            );
            assert_eq!(
                with(&|s| s.v0 = Some(-60.0)).is_ok(),
                to == ExportFormat::Neuroml
            );
        }
    }

    #[test]
    fn lif_is_refused_with_the_reason() {
        for to in [ExportFormat::Ode, ExportFormat::Neuroml, ExportFormat::Toml] {
            let e = ExportSpec {
                to,
                ..Default::default()
            }
            .run(&Model::builtin("lif").unwrap())
            .unwrap_err()
            .to_string();
            assert!(e.contains("lif") && e.contains("hybrid"), "{e}");
        }
    }
}
