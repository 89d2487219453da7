//! NeuroML2 quantities (`"-65mV"`, `"3.0 S_per_m2"`) converted into the toolkit's units.
//!
//! A NeuroML2 quantity is a number and a unit symbol; the schema (`NeuroML_v2.3.1.xsd`,
//! types `Nml2Quantity_*`) lists, for each dimension, the only symbols it allows. Each is
//! converted here into the unit the toolkit computes in:
//!
//! | dimension | schema symbols | into | factors |
//! |---|---|---|---|
//! | voltage | V, mV | mV | 1000, 1 |
//! | time | s, ms | ms | 1000, 1 |
//! | per time | per_s, per_ms, Hz | 1/ms | 0.001, 1, 0.001 |
//! | conductance density | S_per_m2, mS_per_cm2, S_per_cm2 | mS/cm^2 | 0.1, 1, 1000 |
//! | specific capacitance | F_per_m2, uF_per_cm2 | uF/cm^2 | 100, 1 |
//! | current density | A_per_m2, uA_per_cm2, mA_per_cm2 | uA/cm^2 | 100, 1, 1000 |
//! | temperature | degC | degC | 1 |
//! | concentration | mol_per_m3, mol_per_cm3, M, mM | mM | 1, 1e6, 1000, 1 |
//! | length | m, cm, um | um | 1e6, 1e4, 1 |
//! | conductance | S, mS, uS, nS, pS | mS | 1000, 1, 1e-3, 1e-6, 1e-9 |
//! | current | A, uA, nA, pA | nA | 1e9, 1e3, 1, 1e-3 |
//! | none | (no symbol) | 1 | 1 |
//!
//! A symbol the schema does not allow for the dimension (`kV`, `mS_per_m2`) is refused with
//! the list of those it does.

/// The physical dimensions the reader converts (the schema's `Nml2Quantity_*` types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Membrane potentials, midpoints and scales: into mV.
    Voltage,
    /// Time constants: into ms.
    Time,
    /// Rates: into 1/ms.
    PerTime,
    /// Conductance densities: into mS/cm^2.
    ConductanceDensity,
    /// Specific capacitance: into uF/cm^2.
    SpecificCapacitance,
    /// Current densities: into uA/cm^2.
    CurrentDensity,
    /// Temperatures: degC.
    Temperature,
    /// Concentrations: into mM.
    Concentration,
    /// Lengths (morphology): into um.
    Length,
    /// Conductances of single channels: into mS.
    Conductance,
    /// Currents: into nA.
    Current,
    /// Dimensionless numbers: no symbol allowed.
    None,
}

impl Dimension {
    /// The schema's symbols for this dimension with the factor into the toolkit's unit.
    pub fn units(self) -> &'static [(&'static str, f64)] {
        match self {
            Dimension::Voltage => &[("V", 1e3), ("mV", 1.0)],
            Dimension::Time => &[("s", 1e3), ("ms", 1.0)],
            Dimension::PerTime => &[("per_s", 1e-3), ("per_ms", 1.0), ("Hz", 1e-3)],
            Dimension::ConductanceDensity => {
                &[("S_per_m2", 0.1), ("mS_per_cm2", 1.0), ("S_per_cm2", 1e3)]
            }
            Dimension::SpecificCapacitance => &[("F_per_m2", 100.0), ("uF_per_cm2", 1.0)],
            Dimension::CurrentDensity => &[
                ("A_per_m2", 100.0),
                ("uA_per_cm2", 1.0),
                ("mA_per_cm2", 1e3),
            ],
            Dimension::Temperature => &[("degC", 1.0)],
            Dimension::Concentration => &[
                ("mol_per_m3", 1.0),
                ("mol_per_cm3", 1e6),
                ("M", 1e3),
                ("mM", 1.0),
            ],
            Dimension::Length => &[("m", 1e6), ("cm", 1e4), ("um", 1.0)],
            Dimension::Conductance => &[
                ("S", 1e3),
                ("mS", 1.0),
                ("uS", 1e-3),
                ("nS", 1e-6),
                ("pS", 1e-9),
            ],
            Dimension::Current => &[("A", 1e9), ("uA", 1e3), ("nA", 1.0), ("pA", 1e-3)],
            Dimension::None => &[("", 1.0)],
        }
    }

    /// The unit values are converted into (`mV`, `ms`, `1/ms`, …).
    pub fn target(self) -> &'static str {
        match self {
            Dimension::Voltage => "mV",
            Dimension::Time => "ms",
            Dimension::PerTime => "1/ms",
            Dimension::ConductanceDensity => "mS/cm^2",
            Dimension::SpecificCapacitance => "uF/cm^2",
            Dimension::CurrentDensity => "uA/cm^2",
            Dimension::Temperature => "degC",
            Dimension::Concentration => "mM",
            Dimension::Length => "um",
            Dimension::Conductance => "mS",
            Dimension::Current => "nA",
            Dimension::None => "1",
        }
    }

    /// The dimension's name as the schema's type says it.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Voltage => "voltage",
            Dimension::Time => "time",
            Dimension::PerTime => "per time",
            Dimension::ConductanceDensity => "conductance density",
            Dimension::SpecificCapacitance => "specific capacitance",
            Dimension::CurrentDensity => "current density",
            Dimension::Temperature => "temperature",
            Dimension::Concentration => "concentration",
            Dimension::Length => "length",
            Dimension::Conductance => "conductance",
            Dimension::Current => "current",
            Dimension::None => "dimensionless",
        }
    }
}

/// `text` (a NeuroML2 quantity of dimension `dim`) in the toolkit's unit for that dimension.
/// The error says what is wrong: the number, or a unit the schema does not allow.
pub fn convert(text: &str, dim: Dimension) -> Result<f64, String> {
    let t = text.trim();
    let (number, unit) =
        split_quantity(t).ok_or_else(|| format!("'{text}' is not a number followed by a unit"))?;
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number"))?;
    let unit = unit.trim();
    let allowed = dim.units();
    match allowed.iter().find(|(s, _)| *s == unit) {
        Some((_, f)) => {
            // Factors below 1 are exact reciprocals of integers (0.1 = 1/10): dividing by the
            // integer keeps `3 S_per_m2` exactly 0.3 mS/cm^2 (3 * 0.1 is 0.30000000000000004).
            let v = if *f < 1.0 {
                value / (1.0 / f).round()
            } else {
                value * f
            };
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("'{text}' is not finite"))
            }
        }
        None if dim == Dimension::None => Err(format!(
            "'{text}' must be a plain number (dimensionless, no unit)"
        )),
        None => Err(format!(
            "'{text}': unit '{unit}' is not a NeuroML {} unit (allowed: {})",
            dim.name(),
            allowed
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The number and the unit of a quantity, as the schema's pattern
/// `-?([0-9]*(\.[0-9]+)?)([eE]-?[0-9]+)?[\s]*([_a-zA-Z0-9])*` splits them.
fn split_quantity(t: &str) -> Option<(&str, &str)> {
    let b = t.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
        *i > s
    };
    let int = digits(&mut i);
    let mut frac = false;
    if b.get(i) == Some(&b'.') {
        let mut j = i + 1;
        if digits(&mut j) {
            frac = true;
            i = j;
        }
    }
    if !int && !frac {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        if digits(&mut j) {
            i = j;
        }
    }
    let (number, rest) = t.split_at(i);
    let unit = rest.trim_start();
    if !unit.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((number, unit))
}

/// `value` (in the toolkit's unit of `dim`) written as a NeuroML2 quantity in the schema unit
/// whose factor is 1 (`-65mV`, `120mS_per_cm2`), with the shortest text that reads back to
/// the same number.
pub fn write(value: f64, dim: Dimension) -> String {
    let unit = dim
        .units()
        .iter()
        .find(|(_, f)| *f == 1.0)
        .map_or("", |(s, _)| *s);
    format!("{}{unit}", number(value))
}

/// The shortest decimal text of `x` that parses back to `x`, in the form the schema's number
/// pattern allows (`-0.5`, `1e-7`, `120`).
pub fn number(x: f64) -> String {
    let s = format!("{x:?}");
    let s = s.strip_suffix(".0").map(str::to_string).unwrap_or(s);
    // The schema wants `0.5`, not `.5`, and no `+` in exponents: Rust writes neither.
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every symbol the schema allows, one by one, against its factor worked by hand.
    #[test]
    fn every_schema_unit_converts() {
        let cases: &[(&str, Dimension, f64)] = &[
            ("-0.065V", Dimension::Voltage, -65.0),
            ("-65mV", Dimension::Voltage, -65.0),
            ("0.002 s", Dimension::Time, 2.0),
            ("2ms", Dimension::Time, 2.0),
            ("1000per_s", Dimension::PerTime, 1.0),
            ("0.07per_ms", Dimension::PerTime, 0.07),
            ("500Hz", Dimension::PerTime, 0.5),
            ("3.0 S_per_m2", Dimension::ConductanceDensity, 0.3),
            ("120.0 mS_per_cm2", Dimension::ConductanceDensity, 120.0),
            ("0.036S_per_cm2", Dimension::ConductanceDensity, 36.0),
            ("0.01F_per_m2", Dimension::SpecificCapacitance, 1.0),
            ("1.0 uF_per_cm2", Dimension::SpecificCapacitance, 1.0),
            ("0.1A_per_m2", Dimension::CurrentDensity, 10.0),
            ("10uA_per_cm2", Dimension::CurrentDensity, 10.0),
            ("0.01mA_per_cm2", Dimension::CurrentDensity, 10.0),
            ("6.3degC", Dimension::Temperature, 6.3),
            ("2mol_per_m3", Dimension::Concentration, 2.0),
            ("2e-6mol_per_cm3", Dimension::Concentration, 2.0),
            ("0.002M", Dimension::Concentration, 2.0),
            ("2mM", Dimension::Concentration, 2.0),
            ("1e-5m", Dimension::Length, 10.0),
            ("1e-3cm", Dimension::Length, 10.0),
            ("17.841242um", Dimension::Length, 17.841242),
            ("1e-11S", Dimension::Conductance, 1e-8),
            ("1e-8mS", Dimension::Conductance, 1e-8),
            ("1e-5uS", Dimension::Conductance, 1e-8),
            ("0.01nS", Dimension::Conductance, 1e-8),
            ("10pS", Dimension::Conductance, 1e-8),
            ("8e-11A", Dimension::Current, 0.08),
            ("8e-5uA", Dimension::Current, 0.08),
            ("0.08nA", Dimension::Current, 0.08),
            ("80pA", Dimension::Current, 0.08),
            ("3", Dimension::None, 3.0),
            ("-.5", Dimension::None, -0.5),
            ("1E3", Dimension::None, 1000.0),
        ];
        for &(text, dim, want) in cases {
            let got = convert(text, dim).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1e-300),
                "{text} as {dim:?}: {got} vs {want}"
            );
        }
        // Every symbol listed is exercised above.
        for dim in [
            Dimension::Voltage,
            Dimension::Time,
            Dimension::PerTime,
            Dimension::ConductanceDensity,
            Dimension::SpecificCapacitance,
            Dimension::CurrentDensity,
            Dimension::Temperature,
            Dimension::Concentration,
            Dimension::Length,
            Dimension::Conductance,
            Dimension::Current,
        ] {
            for (sym, _) in dim.units() {
                assert!(
                    cases.iter().any(|(t, d, _)| *d == dim
                        && t.trim_start_matches(|c: char| "-0123456789.eE ".contains(c)) == *sym),
                    "{sym} ({dim:?}) untested"
                );
            }
        }
    }

    #[test]
    fn units_the_schema_does_not_allow_are_refused() {
        for (text, dim) in [
            ("-65kV", Dimension::Voltage),
            ("3mS_per_m2", Dimension::ConductanceDensity),
            ("1uF", Dimension::SpecificCapacitance),
            ("6.3K", Dimension::Temperature),
            ("1per_min", Dimension::PerTime),
            ("-65", Dimension::Voltage),
            ("3mV", Dimension::None),
        ] {
            let e = convert(text, dim).unwrap_err();
            assert!(e.contains(text), "{e}");
        }
        assert!(convert("mV", Dimension::Voltage).is_err());
        assert!(convert("1.5.2mV", Dimension::Voltage).is_err());
        assert!(convert("1 m V", Dimension::Voltage).is_err());
        let e = convert("-65kV", Dimension::Voltage).unwrap_err();
        assert!(e.contains("V, mV"), "{e}");
    }

    #[test]
    fn written_quantities_read_back_exactly() {
        for x in [-65.0, 0.1, 1.0 / 3.0, 1e-7, -54.387, 120.0, 6.02e23] {
            for dim in [Dimension::Voltage, Dimension::PerTime, Dimension::None] {
                assert_eq!(convert(&write(x, dim), dim).unwrap(), x);
            }
        }
        assert_eq!(write(-65.0, Dimension::Voltage), "-65mV");
        assert_eq!(write(120.0, Dimension::ConductanceDensity), "120mS_per_cm2");
    }
}
