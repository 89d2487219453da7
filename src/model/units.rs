//! The units a model's numbers carry, and how numbers are printed with them.
//!
//! Built-in and TOML models are in the conventional units of conductance-based models (mV, ms,
//! uA/cm^2, mS/cm^2, uF/cm^2, Hz). An XPPAUT `.ode` file carries no units: its quantities are
//! printed bare, never with invented ones.

use std::fmt;

/// The units of a model's voltage, time, injected current and rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    /// Of the voltage-like variable (`mV`, or empty).
    pub voltage: &'static str,
    /// Of time (`ms`, or empty).
    pub time: &'static str,
    /// Of the injected current (`uA/cm^2`, or empty).
    pub current: &'static str,
    /// Of a firing rate (`Hz` when time is in ms, or `1/time` in file units).
    pub rate: &'static str,
}

impl Units {
    /// mV, ms, uA/cm^2, Hz: built-in and TOML models.
    pub const NEURON: Units = Units {
        voltage: "mV",
        time: "ms",
        current: "uA/cm^2",
        rate: "Hz",
    };

    /// None: an `.ode` file's own units. Rates are then per 1000 time units (the scale the
    /// toolkit reports rates in, Hz when the file's time is in ms).
    pub const FILE: Units = Units {
        voltage: "",
        time: "",
        current: "",
        rate: "",
    };

    /// Whether the model declares units.
    pub fn known(&self) -> bool {
        !self.voltage.is_empty()
    }

    /// A rate's unit in words: `Hz`, or `per 1000 time units` for a model without units.
    pub fn rate_words(&self) -> &'static str {
        if self.known() {
            self.rate
        } else {
            "per 1000 time units"
        }
    }
}

/// An axis label: `name (unit)`, or `name` alone for a quantity without a unit.
pub fn labelled(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({unit})")
    }
}

/// A number with at most 10 significant digits and no trailing zeros (`0.7`, not
/// `0.7000000000000001`), then its unit if it has one.
pub struct Quantity<'a>(pub f64, pub &'a str);

impl fmt::Display for Quantity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Number(self.0))?;
        if !self.1.is_empty() {
            write!(f, " {}", self.1)?;
        }
        Ok(())
    }
}

/// A number with at most 10 significant digits and no trailing zeros; NaN prints as `-`.
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if x.is_nan() {
            return f.write_str("-");
        }
        if !x.is_finite() || x == 0.0 {
            return write!(f, "{x}");
        }
        let mag = x.abs().log10().floor() as i32;
        if !(-5..15).contains(&mag) {
            let text = format!("{x:.9e}");
            let (mant, exp) = text.split_once('e').unwrap_or((&text, "0"));
            let mant = mant.trim_end_matches('0').trim_end_matches('.');
            return write!(f, "{mant}e{exp}");
        }
        let decimals = (9 - mag).max(0) as usize;
        let text = format!("{x:.decimals$}");
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_with_sensible_digits() {
        assert_eq!(Number(0.7000000000000001).to_string(), "0.7");
        assert_eq!(Number(-64.99640000001).to_string(), "-64.9964");
        assert_eq!(Number(9.7754379953935).to_string(), "9.775437995");
        assert_eq!(Number(1e7).to_string(), "10000000");
        assert_eq!(Number(2.5e-9).to_string(), "2.5e-9");
        assert_eq!(Number(f64::NAN).to_string(), "-");
        assert_eq!(Quantity(20.0, "uA/cm^2").to_string(), "20 uA/cm^2");
        assert_eq!(Quantity(0.5, "").to_string(), "0.5");
        assert_eq!(labelled("I", Units::NEURON.current), "I (uA/cm^2)");
        assert_eq!(labelled("I", Units::FILE.current), "I");
        assert_eq!(Units::NEURON.rate_words(), "Hz");
        assert_eq!(Units::FILE.rate_words(), "per 1000 time units");
    }
}
