//! Named model parameters with units and allowed ranges, overridable by name (`--set g_l=0.03`).

use crate::error::ModelError;
use serde::{Deserialize, Serialize};

/// One named parameter: its value, its unit and the closed range a user may set it to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// snake_case name (`g_na`, `e_k`, `c_m`, …).
    pub name: String,
    /// Current value, in `unit`.
    pub value: f64,
    /// Unit as printed (`mS/cm^2`, `mV`, `uF/cm^2`, `ms`, `1`).
    pub unit: String,
    /// One line saying what the parameter is (`maximal sodium conductance`).
    pub description: String,
    /// Smallest allowed value (inclusive unless `min_exclusive`).
    pub min: f64,
    /// Largest allowed value (inclusive).
    pub max: f64,
    /// Whether `min` itself is refused (capacitances, time constants must be > 0).
    #[serde(default)]
    pub min_exclusive: bool,
    /// The value the model was defined with (built-in or as loaded from its file), so that
    /// reports can name every override.
    #[serde(skip, default = "f64_nan")]
    pub default: f64,
}

fn f64_nan() -> f64 {
    f64::NAN
}

impl Param {
    /// A parameter with its range.
    pub fn new(name: &str, value: f64, unit: &str, description: &str, min: f64, max: f64) -> Self {
        Param {
            name: name.into(),
            value,
            default: value,
            unit: unit.into(),
            description: description.into(),
            min,
            max,
            min_exclusive: false,
        }
    }

    /// The same parameter, but `min` itself is not allowed (capacitances, time constants).
    pub fn positive(mut self) -> Self {
        self.min_exclusive = true;
        self
    }

    /// Human-readable allowed range, e.g. `(0, 1000] uF/cm^2`.
    pub fn range_text(&self) -> String {
        let open = if self.min_exclusive { '(' } else { '[' };
        format!("{open}{}, {}] {}", self.min, self.max, self.unit)
    }

    /// A table column name carrying the unit: `g_k` in mS/cm^2 is `g_k_ms_cm2`; a
    /// dimensionless parameter keeps its name.
    pub fn column_name(&self) -> String {
        let unit: String = self
            .unit
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                '/' => Some('_'),
                c if c.is_ascii_alphanumeric() => Some(c),
                _ => None,
            })
            .collect();
        if unit.is_empty() || unit == "1" {
            self.name.clone()
        } else {
            format!("{}_{unit}", self.name)
        }
    }

    /// Check `value` against the allowed range (the error names the parameter and the range).
    pub fn check(&self, value: f64) -> Result<(), ModelError> {
        let below = if self.min_exclusive {
            value <= self.min
        } else {
            value < self.min
        };
        if !value.is_finite() || below || value > self.max {
            return Err(ModelError::ParameterOutOfRange {
                name: self.name.clone(),
                value,
                range: self.range_text(),
            });
        }
        Ok(())
    }
}

/// The smallest membrane capacitance a model takes (uF/cm^2; biological membranes have about
/// 1). Below about 1e-7 the equilibria's residual test, in mV/ms, fails by the rounding of
/// currents divided by so small a capacitance, and `rest` reported "no equilibrium" where the
/// equilibria do not depend on the capacitance at all: a bound well above that, and far below
/// any membrane's.
pub const MIN_CAPACITANCE: f64 = 1e-3;

/// The ordered parameter list of a model. Equations read values by index (fast); users address
/// them by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParamSet {
    params: Vec<Param>,
}

impl ParamSet {
    /// The set of `params`, in the order the model's equations index them.
    pub fn new(params: Vec<Param>) -> Self {
        ParamSet { params }
    }

    /// All parameters in definition order.
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.params.iter()
    }

    /// How many parameters the model has.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the model has no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Index of a parameter by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Index of a parameter, or an error naming the parameters that exist.
    pub fn require(&self, name: &str) -> Result<usize, ModelError> {
        self.index(name)
            .ok_or_else(|| ModelError::UnknownParameter {
                name: name.into(),
                available: self.names().join(", "),
            })
    }

    /// Value by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.index(name).map(|i| self.params[i].value)
    }

    /// Value by index (panics on a bad index: indices come from [`ParamSet::require`]).
    pub fn value(&self, index: usize) -> f64 {
        self.params[index].value
    }

    /// Parameter by index.
    pub fn param(&self, index: usize) -> &Param {
        &self.params[index]
    }

    /// Values in definition order, the vector the equations read.
    pub fn values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value).collect()
    }

    /// Names in definition order (for error messages and listings).
    pub fn names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// Set a value by name, checking the name and the allowed range.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), ModelError> {
        let i = self.require(name)?;
        self.params[i].check(value)?;
        self.params[i].value = value;
        Ok(())
    }

    /// Set every value, in definition order (a vector [`ParamSet::values`] gave), each checked
    /// against its range.
    pub fn set_values(&mut self, values: &[f64]) -> Result<(), ModelError> {
        if values.len() != self.params.len() {
            return Err(ModelError::BadParameterCount {
                given: values.len(),
                expected: self.params.len(),
            });
        }
        for (p, &v) in self.params.iter_mut().zip(values) {
            p.check(v)?;
            p.value = v;
        }
        Ok(())
    }

    /// Check every current value against its range (used after loading a model file).
    pub fn validate(&self) -> Result<(), ModelError> {
        self.params.iter().try_for_each(|p| p.check(p.value))
    }

    /// Append a parameter (model building).
    pub fn push(&mut self, p: Param) {
        self.params.push(p);
    }

    /// The parameters whose value differs from the model's definition, as
    /// `name = value unit` (numbers printed with [`crate::model::Number`]).
    pub fn overrides(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.value != p.default && !p.default.is_nan())
            .map(|p| {
                let unit = if p.unit == "1" { "" } else { p.unit.as_str() };
                format!("{} = {}", p.name, crate::model::Quantity(p.value, unit))
            })
            .collect()
    }
}

/// Parse `name=value` (one `--set`), or a comma-separated list of them.
pub fn parse_assignments(text: &str) -> Result<Vec<(String, f64)>, ModelError> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| ModelError::BadAssignment {
                    text: item.trim().into(),
                    reason: "expected name=value".into(),
                })?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| ModelError::BadAssignment {
                    text: item.trim().into(),
                    reason: format!("'{}' is not a number", value.trim()),
                })?;
            if !value.is_finite() {
                return Err(ModelError::BadAssignment {
                    text: item.trim().into(),
                    reason: "value must be finite (not NaN or infinite)".into(),
                });
            }
            Ok((name.trim().to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> ParamSet {
        ParamSet::new(vec![
            Param::new("g_l", 0.3, "mS/cm^2", "leak", 0.0, 1e4),
            Param::new("c_m", 1.0, "uF/cm^2", "capacitance", 0.0, 1e3).positive(),
        ])
    }

    #[test]
    fn set_checks_name_and_range() {
        let mut p = set();
        p.set("g_l", 0.03).unwrap();
        assert_eq!(p.get("g_l"), Some(0.03));
        let e = p.set("g_x", 1.0).unwrap_err().to_string();
        assert!(e.contains("g_x") && e.contains("g_l, c_m"), "{e}");
        let e = p.set("c_m", 0.0).unwrap_err().to_string();
        assert!(e.contains("c_m") && e.contains("(0, 1000]"), "{e}");
        assert!(p.set("g_l", f64::NAN).is_err());
        assert!(p.set("g_l", -1.0).is_err());
    }

    #[test]
    fn assignments_parse_and_reject_nan() {
        let a = parse_assignments("g_l=0.03, e_k=-80").unwrap();
        assert_eq!(a, vec![("g_l".into(), 0.03), ("e_k".into(), -80.0)]);
        assert!(parse_assignments("g_l").is_err());
        assert!(parse_assignments("g_l=abc").is_err());
        assert!(parse_assignments("g_l=NaN").is_err());
        assert!(parse_assignments("g_l=inf").is_err());
    }
}
