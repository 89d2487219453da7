//! A study's checks: each measures one number from a table the steps wrote, judges the
//! document's claim against it (the verdict is computed, never typed in), and guards the number
//! against drifting from the value recorded when the study was written.
//!
//! ```toml
//! [[check]]
//! claim = "The spike is a response to the 1 uA/cm^2 step at 5 ms"
//! document = "step from 5 to 15 ms"        # the document's words
//! table = "trace/spikes.parquet"           # what is measured (relative to the study's folder)
//! column = "t_ms"
//! agg = "first"
//! claims = { op = ">=", value = 5 }        # the claim as a test of the measurement
//! expect = 1.2759                          # the regression guard: what was measured...
//! tol = 0.001                              # ...and how far a rerun may drift from it
//! unit = "ms"
//! evidence = "the spike comes at 1.28 ms, before the step"
//! ```
//!
//! `claims` is a comparison (`op` one of `<`, `<=`, `>`, `>=`, `==`, with `value`), a number
//! with a tolerance (`value`, `tol`), or `finite = true`; it may measure something else of the
//! same run than the guard does (its own `table`, `column`, `agg`, `filter`). The verdict:
//! - a comparison or `finite`: **confirmed** if it holds, else **refuted**;
//! - a number: **confirmed** within `tol`; **refined** when the measurement has the claim's
//!   sign and lies within `max(|value|, 10 tol)` of it (the document had the direction, the
//!   toolkit gives the number); else **refuted**.
//!
//! A measurement without a number (NaN: a column of NaN, the CV of a one-spike train) reads
//! **no number** unless the claim is `finite = true`, which it refutes.
//!
//! A measurement that drifts from `expect` by more than `tol` reads **drifted**, and the run
//! fails; one that has no number fails the run too, reading **no number** where `expect` was
//! recorded. A check not run (fast mode, a failed optional step) reads **not run**.

use crate::error::StudyError;
use crate::report::table::{read_f64_columns, read_str_column};
use serde::Deserialize;
use std::path::Path;

/// How a check reduces a column to one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Agg {
    /// The number of rows.
    Count,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The mean.
    Mean,
    /// The sum.
    Sum,
    /// The first row's value.
    First,
    /// The last row's value.
    Last,
    /// The largest minus the smallest value.
    Range,
    /// The standard deviation (ddof 0).
    Std,
}

/// What is measured: a column of a table the steps wrote, reduced to one number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// A Parquet file, relative to the study's output folder.
    pub table: String,
    /// The column (booleans count as 0 and 1).
    pub column: String,
    /// The reduction.
    pub agg: Agg,
    /// Keep only rows whose column `[0]` equals `[1]` (compared as text).
    #[serde(default)]
    pub filter: Option<(String, String)>,
}

impl Measure {
    /// The number, from the tables under `out`.
    pub fn take(&self, out: &Path) -> Result<f64, String> {
        let path = out.join(&self.table);
        let values = read_f64_columns(&path, &[&self.column])
            .map_err(|e| e.to_string())?
            .remove(0);
        let values: Vec<f64> = match &self.filter {
            None => values,
            Some((col, want)) => {
                let keys = read_str_column(&path, col).map_err(|e| e.to_string())?;
                values
                    .into_iter()
                    .zip(keys)
                    .filter(|(_, k)| k == want)
                    .map(|(v, _)| v)
                    .collect()
            }
        };
        if values.is_empty() && !matches!(self.agg, Agg::Count | Agg::Sum) {
            return Err(format!("no rows in {} (after the filter)", self.table));
        }
        Ok(reduce(self.agg, &values))
    }
}

/// `values` reduced by `agg` (not empty unless `agg` is `Count` or `Sum`).
fn reduce(agg: Agg, values: &[f64]) -> f64 {
    let n = values.len() as f64;
    // The smallest and largest of the rows that are numbers; NaN when none is (a train
    // with one spike has no CV): folding from the infinities had measured -inf and +inf
    // there, confirming "CV < 0.1" and "CV2 > 0.5" of the same silent cell.
    let numbers = || values.iter().copied().filter(|x| !x.is_nan());
    let (min, max) = if numbers().next().is_none() {
        (f64::NAN, f64::NAN)
    } else {
        (
            numbers().fold(f64::INFINITY, f64::min),
            numbers().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let mean = values.iter().sum::<f64>() / n;
    match agg {
        Agg::Count => n,
        Agg::Min => min,
        Agg::Max => max,
        Agg::Sum => values.iter().sum(),
        Agg::Mean => mean,
        Agg::First => values[0],
        Agg::Last => values[values.len() - 1],
        Agg::Range => max - min,
        Agg::Std => (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt(),
    }
}

/// A comparison operator of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Op {
    /// Below.
    #[serde(rename = "<")]
    Lt,
    /// At most.
    #[serde(rename = "<=")]
    Le,
    /// Above.
    #[serde(rename = ">")]
    Gt,
    /// At least.
    #[serde(rename = ">=")]
    Ge,
    /// Exactly.
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    fn holds(self, m: f64, v: f64) -> bool {
        match self {
            Op::Lt => m < v,
            Op::Le => m <= v,
            Op::Gt => m > v,
            Op::Ge => m >= v,
            Op::Eq => m == v,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "=",
        }
    }
}

/// The document's claim as a test of a measurement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claimed {
    /// A comparison: measured `op` value.
    #[serde(default)]
    pub op: Option<Op>,
    /// The value compared with, or the number claimed.
    #[serde(default)]
    pub value: Option<f64>,
    /// With `value` and no `op`: the tolerance of the number claimed.
    #[serde(default)]
    pub tol: Option<f64>,
    /// The claim is that the measurement is a finite number.
    #[serde(default)]
    pub finite: bool,
    /// Measure something else of the run for the claim (default: the check's own measure).
    #[serde(default)]
    pub table: Option<String>,
    /// Its column.
    #[serde(default)]
    pub column: Option<String>,
    /// Its reduction.
    #[serde(default)]
    pub agg: Option<Agg>,
    /// Its filter.
    #[serde(default)]
    pub filter: Option<(String, String)>,
}

/// The verdict on a document's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The claim holds.
    Confirmed,
    /// The claim's direction holds, with a different number.
    Refined,
    /// The claim does not hold.
    Refuted,
    /// The measurement has no number (NaN: a column of NaN, the coefficient of variation of a
    /// train of one spike), so a claim of a comparison or a number is neither upheld nor refuted.
    NoNumber,
}

impl Verdict {
    /// The verdict in words.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Refined => "refined",
            Verdict::Refuted => "refuted",
            Verdict::NoNumber => "no number",
        }
    }
}

impl Claimed {
    /// Check the claim's form: exactly one of a comparison, a number with a tolerance, or
    /// `finite`.
    pub fn validate(&self) -> Result<(), String> {
        match (self.op, self.value, self.tol, self.finite) {
            (Some(_), Some(v), None, false) if v.is_finite() => Ok(()),
            (None, Some(v), Some(t), false) if v.is_finite() && t.is_finite() && t >= 0.0 => {
                Ok(())
            }
            (None, None, None, true) => Ok(()),
            _ => Err(
                "claims takes { op = \"<\", value = X }, { value = X, tol = T } or { finite = true }"
                    .into(),
            ),
        }
    }

    /// The measure the claim is judged on: the check's own, with this claim's overrides.
    pub fn measure(&self, own: &Measure) -> Measure {
        Measure {
            table: self.table.clone().unwrap_or_else(|| own.table.clone()),
            column: self.column.clone().unwrap_or_else(|| own.column.clone()),
            agg: self.agg.unwrap_or(own.agg),
            filter: if self.table.is_some() || self.column.is_some() {
                self.filter.clone()
            } else {
                self.filter.clone().or_else(|| own.filter.clone())
            },
        }
    }

    /// The verdict on measurement `m` (see the module documentation).
    pub fn judge(&self, m: f64) -> Verdict {
        let holds = |ok: bool| {
            if ok {
                Verdict::Confirmed
            } else {
                Verdict::Refuted
            }
        };
        match (self.op, self.value, self.tol) {
            _ if self.finite => holds(m.is_finite()),
            _ if m.is_nan() => Verdict::NoNumber,
            (Some(op), Some(v), _) => holds(op.holds(m, v)),
            (None, Some(v), Some(t)) => {
                let d = (m - v).abs();
                if d <= t {
                    Verdict::Confirmed
                } else if d <= v.abs().max(10.0 * t) && (v == 0.0 || m * v > 0.0) {
                    Verdict::Refined
                } else {
                    Verdict::Refuted
                }
            }
            _ => Verdict::Refuted,
        }
    }

    /// The claim in words (`> 0`, `-65 ± 0.1`, `finite`), naming what it measures when that
    /// is not the check's own measure (`min of n_unstable = 0`).
    pub fn describe(&self, own: &Measure) -> String {
        use crate::model::Number;
        let test = match (self.op, self.value, self.tol) {
            _ if self.finite => "finite".into(),
            (Some(op), Some(v), _) => format!("{} {}", op.symbol(), Number(v)),
            (None, Some(v), Some(t)) => format!("{} ± {}", Number(v), Number(t)),
            _ => String::new(),
        };
        let m = self.measure(own);
        if m == *own {
            return test;
        }
        let agg = format!("{:?}", m.agg).to_lowercase();
        let table = if m.table == own.table {
            String::new()
        } else {
            format!(" ({})", m.table)
        };
        format!("{agg} of {}{table} {test}", m.column)
    }
}

/// A claim of the document, checked against a table the steps wrote.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The claim, in the study's words.
    pub claim: String,
    /// What the document says (its words or number).
    pub document: String,
    /// What is measured.
    #[serde(flatten)]
    pub measure: Measure,
    /// The claim as a test of a measurement: the verdict comes from it.
    pub claims: Claimed,
    /// The value the toolkit measured when the study was written.
    pub expect: f64,
    /// Allowed drift from `expect` on a rerun (absolute).
    pub tol: f64,
    /// The unit of the value, for the summary.
    #[serde(default)]
    pub unit: String,
    /// Why the verdict is what it is, in words.
    pub evidence: String,
    /// Whether the check holds in fast mode too (shorter runs may not reach the number).
    #[serde(default = "yes")]
    pub in_fast_mode: bool,
}

fn yes() -> bool {
    true
}

impl Check {
    /// Check everything that can be checked before the steps run: the claim's form, `expect`
    /// a number (infinities included: a homoclinic row's period is one), `tol` finite and not
    /// negative (a NaN or infinite one would switch the regression guard off, a negative one
    /// make every rerun "drift"), and each table under the folder of one of the study's
    /// `steps` (its own and its claim's).
    pub fn validate(&self, steps: &[&str]) -> Result<(), String> {
        self.claims.validate()?;
        if self.expect.is_nan() {
            return Err(format!(
                "expect = {}: allowed a number (inf for an infinite measurement, such as a homoclinic period)",
                self.expect
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(format!("tol = {}: allowed a finite number >= 0", self.tol));
        }
        let tables = [Some(&self.measure.table), self.claims.table.as_ref()];
        for table in tables.into_iter().flatten() {
            let step = table.split('/').next().unwrap_or_default();
            if !steps.contains(&step) {
                return Err(format!(
                    "table = \"{table}\": its folder '{step}' is not one of the steps ({})",
                    steps.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// The claim, as the study states it.
    pub claim: String,
    /// The guarded measurement; `None` when the check was not run (fast mode).
    pub measured: Option<f64>,
    /// The measurement the claim was judged on (the guarded one unless the claim measures its
    /// own).
    pub judged: Option<f64>,
    /// The verdict; `None` when not run.
    pub verdict: Option<Verdict>,
    /// Whether the measurement drifted from the value recorded when the study was written.
    pub drifted: bool,
}

impl Check {
    /// Measure under `out` and judge; `run` false (fast mode, a check that needs the full
    /// runs) gives an outcome that says "not run".
    pub fn evaluate(&self, out: &Path, run: bool) -> Result<CheckOutcome, StudyError> {
        if !run {
            return Ok(CheckOutcome {
                claim: self.claim.clone(),
                measured: None,
                judged: None,
                verdict: None,
                drifted: false,
            });
        }
        let err = |reason: String| StudyError::Check {
            claim: self.claim.clone(),
            reason,
        };
        let m = self.measure.take(out).map_err(err)?;
        let judge_on = self.claims.measure(&self.measure);
        let j = if judge_on == self.measure {
            m
        } else {
            judge_on.take(out).map_err(err)?
        };
        Ok(CheckOutcome {
            claim: self.claim.clone(),
            measured: Some(m),
            judged: Some(j),
            verdict: Some(self.claims.judge(j)),
            drifted: (m - self.expect).abs() > self.tol || m.is_nan(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(text: &str) -> Claimed {
        toml::from_str(text).unwrap()
    }

    /// A column with no number (the CV of a one-spike train) measures NaN under every
    /// reduction but `count`, so a claim on it reads "no number", never confirmed either way
    /// (nor refuted, but for `finite`); NaN rows beside numbers are left out of `min`, `max`
    /// and `range`.
    #[test]
    fn a_column_without_numbers_measures_nan() {
        let none = [f64::NAN];
        for agg in [
            Agg::Min,
            Agg::Max,
            Agg::Range,
            Agg::Mean,
            Agg::Std,
            Agg::First,
        ] {
            assert!(reduce(agg, &none).is_nan(), "{agg:?}");
        }
        assert_eq!(reduce(Agg::Count, &none), 1.0);
        let below = claim("op = \"<\"\nvalue = 0.1");
        let above = claim("op = \">\"\nvalue = 0.5");
        assert_eq!(below.judge(reduce(Agg::Max, &none)), Verdict::NoNumber);
        assert_eq!(above.judge(reduce(Agg::Min, &none)), Verdict::NoNumber);
        let number = claim("value = 1\ntol = 0.5");
        assert_eq!(number.judge(reduce(Agg::Mean, &none)), Verdict::NoNumber);
        let finite = claim("finite = true");
        assert_eq!(finite.judge(reduce(Agg::Mean, &none)), Verdict::Refuted);
        let some = [0.2, f64::NAN, 0.7];
        assert_eq!(reduce(Agg::Min, &some), 0.2);
        assert_eq!(reduce(Agg::Max, &some), 0.7);
        assert!((reduce(Agg::Range, &some) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn verdicts_are_computed_from_the_claim_and_the_measurement() {
        let below = claim("op = \"<\"\nvalue = 0.5");
        assert_eq!(below.judge(0.4), Verdict::Confirmed);
        assert_eq!(below.judge(0.989), Verdict::Refuted);
        assert_eq!(below.judge(f64::NAN), Verdict::NoNumber);
        let number = claim("value = -65\ntol = 0.1");
        assert_eq!(number.judge(-64.9964), Verdict::Confirmed);
        assert_eq!(number.judge(-35.7), Verdict::Refined);
        assert_eq!(number.judge(35.0), Verdict::Refuted);
        assert_eq!(number.judge(-200.0), Verdict::Refuted);
        let zero = claim("value = 0\ntol = 0.0001");
        assert_eq!(zero.judge(0.0003), Verdict::Refined);
        assert_eq!(zero.judge(0.01), Verdict::Refuted);
        let about_one = claim("value = 1\ntol = 0.5");
        assert_eq!(about_one.judge(0.0), Verdict::Refuted);
        assert_eq!(
            claim("finite = true").judge(f64::INFINITY),
            Verdict::Refuted
        );
        assert!(claim("op = \">\"").validate().is_err());
        assert!(claim("value = 1").validate().is_err());
        assert!(claim("op = \">\"\nvalue = 1\ntol = 2").validate().is_err());
        assert!(claim("value = 1\ntol = 2").validate().is_ok());
    }
}
