//! What a run keeps: the full trace, every k-th sample, or nothing but spikes.

/// Recording choice; `SpikesOnly` keeps memory flat for long runs and big sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Record {
    /// Every sample of the output grid.
    #[default]
    Full,
    /// Every k-th sample (k >= 1).
    Every(usize),
    /// No trace, spikes only.
    SpikesOnly,
}

impl Record {
    /// Parse `full`, `every:K` or `spikes`.
    pub fn parse(text: &str) -> Result<Record, String> {
        match text {
            "full" => Ok(Record::Full),
            "spikes" => Ok(Record::SpikesOnly),
            _ => match text.strip_prefix("every:").map(str::parse::<usize>) {
                Some(Ok(k)) if k >= 1 => Ok(Record::Every(k)),
                _ => Err(format!(
                    "record '{text}': expected full, spikes or every:K with K >= 1"
                )),
            },
        }
    }

    /// Is grid sample `k` kept?
    #[inline]
    pub fn keeps(self, k: usize) -> bool {
        let s = self.stride();
        s != 0 && k.is_multiple_of(s)
    }

    /// Number of samples kept from a grid of `n + 1` points (0..=n).
    pub fn capacity(self, n: usize) -> usize {
        n.checked_div(self.stride()).map_or(0, |q| q + 1)
    }

    /// Keep every `stride()`-th sample; 0 keeps none.
    pub fn stride(self) -> usize {
        match self {
            Record::Full => 1,
            Record::Every(k) => k,
            Record::SpikesOnly => 0,
        }
    }
}

/// A recorded trace: time, each state variable, and the injected current, column by column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Variable names, V first (`v`, then gates).
    pub names: Vec<String>,
    /// Sample times (ms).
    pub t_ms: Vec<f64>,
    /// One column per variable, in `names` order (V in mV, gates dimensionless).
    pub vars: Vec<Vec<f64>>,
    /// The injected current at each sample (uA/cm^2).
    pub i_ua_cm2: Vec<f64>,
}

impl Trace {
    pub(crate) fn new(names: Vec<String>, capacity: usize) -> Self {
        let vars = names.iter().map(|_| Vec::with_capacity(capacity)).collect();
        Trace {
            names,
            t_ms: Vec::with_capacity(capacity),
            vars,
            i_ua_cm2: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn push(&mut self, t: f64, y: &[f64], i: f64) {
        self.t_ms.push(t);
        self.vars
            .iter_mut()
            .zip(y)
            .for_each(|(col, &x)| col.push(x));
        self.i_ua_cm2.push(i);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.t_ms.len()
    }

    /// Whether the trace holds no samples (nothing was recorded).
    pub fn is_empty(&self) -> bool {
        self.t_ms.is_empty()
    }

    /// The membrane potential column (mV).
    pub fn v(&self) -> &[f64] {
        &self.vars[0]
    }

    /// A column by variable name.
    pub fn var(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.vars[i].as_slice())
    }
}
