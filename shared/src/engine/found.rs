//! The signals found in one ticket, grouped by signal, and how a reason quotes them.

use super::lexicon::Hit;
use super::signals::{Family, Signal, SignalSet};
use crate::text::{Prepared, truncate_words};

/// The signals found in one ticket, grouped by signal.
#[derive(Debug, Clone)]
pub struct Found {
    /// Every hit, ordered by signal and then by position.
    pub hits: Vec<Hit<Signal>>,
    /// `hits[ranges[s]]` are the hits of signal `s`.
    ranges: Vec<std::ops::Range<usize>>,
    /// Signals whose hit is void when negated ("not urgent", "no outage").
    negatable: SignalSet,
}

impl Found {
    pub fn new(mut hits: Vec<Hit<Signal>>, negatable: SignalSet) -> Self {
        hits.sort_by_key(|h| (h.signal, h.start));
        let mut ranges = vec![0..0; Signal::ALL.len()];
        let mut i = 0;
        while i < hits.len() {
            let s = hits[i].signal;
            let start = i;
            while i < hits.len() && hits[i].signal == s {
                i += 1;
            }
            ranges[s as usize] = start..i;
        }
        Self {
            hits,
            ranges,
            negatable,
        }
    }

    /// Whether a negator voids a hit of `signal`.
    pub fn negatable(&self, signal: Signal) -> bool {
        self.negatable.contains(signal)
    }

    /// All hits of `signal`, negated ones included.
    pub fn all_of(&self, signal: Signal) -> &[Hit<Signal>] {
        &self.hits[self.ranges[signal as usize].clone()]
    }

    /// Hits of `signal`, negated ones excluded where negation voids the signal.
    pub fn of(&self, signal: Signal) -> impl Iterator<Item = &Hit<Signal>> + '_ {
        let negatable = self.negatable(signal);
        self.all_of(signal)
            .iter()
            .filter(move |h| !(negatable && h.negated))
    }

    pub fn has(&self, signal: Signal) -> bool {
        self.of(signal).next().is_some()
    }

    pub fn count(&self, signal: Signal) -> usize {
        self.of(signal).count()
    }

    pub fn in_family(&self, family: Family) -> impl Iterator<Item = &Hit<Signal>> + '_ {
        self.hits.iter().filter(move |h| {
            h.signal.family() == family && !(self.negatable(h.signal) && h.negated)
        })
    }
}

/// Quotes the words of a hit for a reason ("'checkout is down'").
pub fn quote(text: &Prepared, hit: &Hit<Signal>) -> String {
    format!(
        "'{}'",
        truncate_words(&text.span_text(hit.start, hit.end), 40)
    )
}

/// Rounds to two decimals (scores in the JSON output).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
