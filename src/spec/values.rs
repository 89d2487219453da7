//! Value types of spec fields that read the same from a flag, a study file and Python: lists of
//! numbers (`0:200:0.5` or `1,2,3`), and one-or-many values.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;

/// At most this many values in one list (a larger grid is surely a typo in the step).
pub const MAX_VALUES: usize = 10_000_000;

/// A list of numbers written `FROM:TO:STEP` (inclusive of `TO` up to rounding) or
/// `V1,V2,…`; in a study file also a number or an array of numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "String")]
pub struct NumberList {
    /// The values, in the order given.
    pub values: Vec<f64>,
    /// The text they were read from (for messages and summaries).
    pub text: String,
}

impl From<NumberList> for String {
    fn from(n: NumberList) -> String {
        n.text
    }
}

impl fmt::Display for NumberList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for NumberList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{text}': expected numbers separated by commas, or FROM:TO:STEP");
        let values = if text.contains(':') {
            let parts: Vec<f64> = text
                .split(':')
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad())?;
            let [a, b, step] = parts[..] else {
                return Err(bad());
            };
            if !(a.is_finite() && b.is_finite() && step.is_finite() && step > 0.0 && b >= a) {
                return Err(format!(
                    "'{text}': need FROM <= TO and STEP > 0, all finite"
                ));
            }
            let n = ((b - a) / step + 1e-9).floor();
            if n >= MAX_VALUES as f64 {
                return Err(format!("'{text}': more than {MAX_VALUES} values"));
            }
            (0..=n as usize).map(|k| a + k as f64 * step).collect()
        } else {
            let v: Vec<f64> = text
                .split(',')
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad())?;
            if v.iter().any(|x| !x.is_finite()) {
                return Err(format!("'{text}': values must be finite"));
            }
            v
        };
        Ok(NumberList {
            values,
            text: text.to_string(),
        })
    }
}

impl<'de> Deserialize<'de> for NumberList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            One(f64),
            Many(Vec<f64>),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::One(x) => x.to_string(),
            Raw::Many(v) => v
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(","),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Deserialise a value or an array of values into a `Vec` (a repeatable flag: `stim = "10"`
/// or `stim = ["10", "step:5:15:1"]`).
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    // Through a TOML value rather than an untagged enum, whose error drops the value's own
    // reason: Python's `sweep(param="g_k=1:2:0")` had said only that it expected "a value of
    // the setting's type", where the command line says why the range is wrong.
    use serde::de::Error as _;
    let one = |v: toml::Value| {
        T::deserialize(v).map_err(|e| D::Error::custom(e.to_string().trim().replace('\n', " ")))
    };
    match toml::Value::deserialize(d)? {
        toml::Value::Array(items) => items.into_iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// Deserialise a text or an array of texts, each split at commas, as a flag with
/// `value_delimiter = ','` reads them (`free = "g_na,g_k"` as `--free g_na,g_k`).
pub fn comma_separated<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let texts: Vec<String> = one_or_many(d)?;
    Ok(texts
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_separated_texts_split_as_the_flag_does() {
        #[derive(Deserialize)]
        struct S {
            #[serde(deserialize_with = "comma_separated")]
            free: Vec<String>,
        }
        for text in ["free = \"g_na, g_k,g_l\"", "free = [\"g_na\", \"g_k,g_l\"]"] {
            let s: S = toml::from_str(text).unwrap();
            assert_eq!(s.free, ["g_na", "g_k", "g_l"], "{text}");
        }
    }

    #[test]
    fn number_lists_read_ranges_lists_and_numbers() {
        let r: NumberList = "0:1:0.25".parse().unwrap();
        assert_eq!(r.values, [0.0, 0.25, 0.5, 0.75, 1.0]);
        let l: NumberList = "1, 2,3".parse().unwrap();
        assert_eq!(l.values, [1.0, 2.0, 3.0]);
        assert!("1:0:1".parse::<NumberList>().is_err());
        assert!("0:1e9:1e-9".parse::<NumberList>().is_err());
        assert!("a,b".parse::<NumberList>().is_err());
        assert!("1,nan".parse::<NumberList>().is_err());
        #[derive(Deserialize)]
        struct S {
            x: NumberList,
        }
        let s: S = toml::from_str("x = [1.0, 2.5]").unwrap();
        assert_eq!(s.x.values, [1.0, 2.5]);
        let s: S = toml::from_str("x = 3").unwrap();
        assert_eq!(s.x.values, [3.0]);
        let s: S = toml::from_str("x = \"0:2:1\"").unwrap();
        assert_eq!(s.x.values, [0.0, 1.0, 2.0]);
    }
}
