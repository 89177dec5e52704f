//! MinHash sketches of a ticket's content words: two tickets' sketches estimate the
//! Jaccard similarity of their word sets in a fixed 64 numbers, so that the incident
//! look-up compares a new ticket with the recent ones without their text.

use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};
use std::hash::Hasher;

use crate::text::Prepared;

/// Hash functions in a sketch: the similarity estimate's standard error is
/// sqrt(J(1-J)/64), about 0.06 near the policy's threshold.
pub const SKETCH_SIZE: usize = 64;

/// Characters of a description that count: the opening says what is broken; the
/// rest of a long e-mail (or a log paste) would only dilute the words.
const READ_CHARS: usize = 600;

/// Each concept counts as this many words.
const CONCEPT_WEIGHT: usize = 2;

/// Words too common in support mail to say anything about the failure.
const STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "you",
    "your",
    "our",
    "are",
    "was",
    "were",
    "this",
    "that",
    "with",
    "have",
    "has",
    "had",
    "but",
    "not",
    "from",
    "can",
    "could",
    "would",
    "should",
    "will",
    "any",
    "all",
    "there",
    "their",
    "they",
    "them",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "how",
    "been",
    "being",
    "into",
    "about",
    "just",
    "also",
    "some",
    "still",
    "since",
    "please",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "team",
    "regards",
    "best",
    "cheers",
    "again",
    "now",
    "then",
    "than",
    "here",
    "more",
    "very",
    "really",
    "its",
    "it's",
    "did",
    "does",
    "doing",
    "get",
    "got",
    "any",
    "let",
    "know",
    "need",
    "help",
    "issue",
    "problem",
    "today",
    "morning",
    "afternoon",
    "yesterday",
    "hours",
    "minutes",
    "one",
    "two",
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "wir",
    "ihr",
    "les",
    "des",
    "une",
    "est",
    "pas",
    "nous",
    "vous",
    "que",
    "qui",
    "pour",
    "los",
    "las",
    "que",
    "por",
    "para",
    "una",
];

/// A MinHash sketch (the smallest of each of [`SKETCH_SIZE`] hashes over the words)
/// and the number of distinct words.
///
/// Jaccard similarity was chosen over containment (the share of the shorter text's
/// words in the other) on generated floods: containment lets a long e-mail that
/// mentions everything look like every short ticket, and incidents then swallow
/// normal traffic (see BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sketch {
    pub words: u32,
    pub mins: Vec<u32>,
}

impl Sketch {
    /// The sketch of a subject and description: their folded content words (three
    /// letters or more, no stop words or numbers), reduced to a crude stem, and the
    /// engine's `concepts` for the ticket, each counting as [`CONCEPT_WEIGHT`] words (two
    /// tickets about the same failure in different words share their concepts).
    pub fn of(subject: &str, description: &str, concepts: &[&str]) -> Sketch {
        let cut: String = description.chars().take(READ_CHARS).collect();
        let text = Prepared::new(subject, &cut, READ_CHARS);
        let mut mins = vec![u32::MAX; SKETCH_SIZE];
        let mut seen = rustc_hash::FxHashSet::default();
        let words = text
            .tokens()
            .filter(|t| {
                t.len() >= 3 && !t.bytes().any(|b| b.is_ascii_digit()) && !STOP_WORDS.contains(t)
            })
            .map(|t| word_hash(stem(t)));
        let concepts = concepts.iter().flat_map(|c| {
            (0..CONCEPT_WEIGHT)
                .map(move |i| word_hash(c) ^ (0x5bd1_e995_u64.wrapping_mul(i as u64 + 1)))
        });
        for base in words.chain(concepts) {
            if !seen.insert(base) {
                continue;
            }
            for (i, m) in mins.iter_mut().enumerate() {
                let h = mix(base ^ SEEDS[i % SEEDS.len()].rotate_left(i as u32));
                *m = (*m).min(h as u32);
            }
        }
        if seen.is_empty() {
            mins.clear();
        }
        Sketch {
            words: seen.len() as u32,
            mins,
        }
    }

    /// The estimated Jaccard similarity of the two word sets (0 when either is empty).
    pub fn similarity(&self, other: &Sketch) -> f64 {
        if self.mins.len() != SKETCH_SIZE || other.mins.len() != SKETCH_SIZE {
            return 0.0;
        }
        let same = self
            .mins
            .iter()
            .zip(&other.mins)
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / SKETCH_SIZE as f64
    }
}

/// English endings removed so that "syncing", "synced" and "syncs" are one word.
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= 3
        {
            return stem;
        }
    }
    word
}

fn word_hash(word: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(word.as_bytes());
    h.finish()
}

/// SplitMix64's finaliser: spreads one word hash into independent-looking hashes.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const SEEDS: [u64; 8] = [
    0x9e37_79b9_7f4a_7c15,
    0xc2b2_ae3d_27d4_eb4f,
    0x1656_67b1_9e37_79f9,
    0x27d4_eb2f_1656_67c5,
    0x85eb_ca77_c2b2_ae63,
    0xff51_afd7_ed55_8ccd,
    0xc4ce_b9fe_1a85_ec53,
    0x2545_f491_4f6c_dd1d,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_failure_in_other_words_is_closer_than_another_failure() {
        let a = Sketch::of(
            "Orders slow to sync",
            "Hi, our Shopify orders seem slow to sync since 9am, 40 orders are missing.",
            &[],
        );
        let b = Sketch::of(
            "order sync delayed",
            "hey, orders from shopify are syncing really slowly, missing orders in the app",
            &[],
        );
        let c = Sketch::of(
            "Invoice question",
            "Could you send the VAT invoice for last month to our accountant?",
            &[],
        );
        assert!(
            a.similarity(&b) > a.similarity(&c) + 0.15,
            "{} vs {}",
            a.similarity(&b),
            a.similarity(&c)
        );
        assert_eq!(a.similarity(&a), 1.0);
    }

    #[test]
    fn an_empty_text_is_like_nothing() {
        let empty = Sketch::of("", "!!! 123", &[]);
        assert!(empty.mins.is_empty());
        assert_eq!(empty.similarity(&empty), 0.0);
    }
}
