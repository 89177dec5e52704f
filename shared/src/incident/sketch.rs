//! Bottom-k MinHash sketches of a ticket's content words: the smallest [`SKETCH_SIZE`]
//! hashes of its word set. Two tickets' sketches give the Jaccard similarity of their
//! word sets exactly while both have at most [`SKETCH_SIZE`] distinct words (nearly every
//! ticket: the look-up reads the subject and the opening of the description), and an
//! unbiased estimate beyond, so that the incident look-up compares a new ticket with the
//! recent ones without their text.

use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};
use std::hash::Hasher;

use crate::text::{Prepared, SameWords};

/// Hashes kept in a sketch (384 bytes in a sighting's item).
pub const SKETCH_SIZE: usize = 96;

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

/// A bottom-k sketch: the smallest [`SKETCH_SIZE`] word hashes, in ascending order,
/// and the number of distinct words.
///
/// Jaccard similarity was chosen over containment (the share of the shorter text's
/// words in the other) on generated floods: containment lets a long e-mail that
/// mentions everything look like every short ticket, and incidents then swallow
/// normal traffic (see BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sketch {
    pub words: u32,
    /// Named apart from the 64-hash sketches of earlier versions, which read as empty.
    #[serde(default)]
    pub bottom: Vec<u32>,
}

impl Sketch {
    /// The sketch of a subject and description: their folded content words (three
    /// letters or more, no stop words or numbers, but HTTP status codes such as "502",
    /// which name a failure in every language), reduced to a crude stem, and the
    /// engine's `concepts` for the ticket, each counting as [`CONCEPT_WEIGHT`] words (two
    /// tickets about the same failure in different words share their concepts). A word
    /// of another language counts as the English word `same` gives for it.
    pub fn of(subject: &str, description: &str, concepts: &[&str], same: &SameWords) -> Sketch {
        let cut: String = description.chars().take(READ_CHARS).collect();
        let text = Prepared::new(subject, &cut, READ_CHARS);
        let words = text
            .tokens()
            .filter(|t| {
                is_status_code(t)
                    || (t.len() >= 3
                        && !t.bytes().any(|b| b.is_ascii_digit())
                        && !STOP_WORDS.contains(t))
            })
            .map(|t| word_hash(stem(same.english(t))));
        let concepts = concepts.iter().flat_map(|c| {
            (0..CONCEPT_WEIGHT)
                .map(move |i| word_hash(c) ^ (0x5bd1_e995_u64.wrapping_mul(i as u64 + 1)))
        });
        let mut all: Vec<u32> = words.chain(concepts).map(|h| mix(h) as u32).collect();
        all.sort_unstable();
        all.dedup();
        let words = all.len() as u32;
        all.truncate(SKETCH_SIZE);
        Sketch { words, bottom: all }
    }

    /// The Jaccard similarity of the two word sets, estimated from the smallest
    /// [`SKETCH_SIZE`] hashes of their union (exact when that is the whole union); 0
    /// when either is empty.
    pub fn similarity(&self, other: &Sketch) -> f64 {
        if self.bottom.is_empty() || other.bottom.is_empty() {
            return 0.0;
        }
        let (mut i, mut j, mut union, mut both) = (0, 0, 0usize, 0usize);
        while union < SKETCH_SIZE && (i < self.bottom.len() || j < other.bottom.len()) {
            match (self.bottom.get(i), other.bottom.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    both += 1;
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => i += 1,
                (Some(_), Some(_)) => j += 1,
                // One sketch ran out: past its largest hash, its set is unknown when it
                // was cut, so the estimate stops there.
                (Some(_), None) if other.bottom.len() == SKETCH_SIZE => break,
                (None, Some(_)) if self.bottom.len() == SKETCH_SIZE => break,
                (Some(_), None) => i += 1,
                (None, Some(_)) => j += 1,
                (None, None) => break,
            }
            union += 1;
        }
        both as f64 / union as f64
    }
}

/// "404", "500", "502", "503s": the status codes of failed HTTP calls.
fn is_status_code(token: &str) -> bool {
    let code = token.strip_suffix('s').unwrap_or(token).as_bytes();
    code.len() == 3 && matches!(code[0], b'4' | b'5') && code.iter().all(u8::is_ascii_digit)
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

/// SplitMix64's finaliser: spreads a word hash evenly, so that the smallest hashes are
/// a random sample of the words.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_failure_in_other_words_is_closer_than_another_failure() {
        let a = Sketch::of(
            "Orders slow to sync",
            "Hi, our Shopify orders seem slow to sync since 9am, 40 orders are missing.",
            &[],
            &SameWords::default(),
        );
        let b = Sketch::of(
            "order sync delayed",
            "hey, orders from shopify are syncing really slowly, missing orders in the app",
            &[],
            &SameWords::default(),
        );
        let c = Sketch::of(
            "Invoice question",
            "Could you send the VAT invoice for last month to our accountant?",
            &[],
            &SameWords::default(),
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
    fn a_report_in_another_language_reads_like_the_english_one() {
        let same = crate::engine::catalogue::Catalogue::embedded()
            .unwrap()
            .same_words;
        let en = ("API returns 502 errors", "Payments are missing since noon.");
        let de = ("API liefert Fehler 502", "Zahlungen fehlen seit Mittag.");
        let with =
            Sketch::of(en.0, en.1, &[], &same).similarity(&Sketch::of(de.0, de.1, &[], &same));
        let none = SameWords::default();
        let without =
            Sketch::of(en.0, en.1, &[], &none).similarity(&Sketch::of(de.0, de.1, &[], &none));
        assert!(with >= without + 0.3, "{with} vs {without}");
    }

    #[test]
    fn the_similarity_of_sketches_is_the_jaccard_similarity_of_small_word_sets() {
        let none = SameWords::default();
        // {order, slow, sync, shopify} and {order, sync, shopify, stopp}: 3 of 5.
        let a = Sketch::of("orders slow to sync", "shopify", &[], &none);
        let b = Sketch::of("orders stopped", "sync shopify", &[], &none);
        assert_eq!((a.words, b.words), (4, 4));
        assert!(
            (a.similarity(&b) - 0.6).abs() < 1e-9,
            "{}",
            a.similarity(&b)
        );
        // Beyond SKETCH_SIZE words, the estimate stays close.
        let long = |offset: usize| {
            (offset..offset + 110)
                .map(|n| format!("w{}", n_to_letters(n)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (x, y) = (
            Sketch::of("", &long(0), &[], &none),
            Sketch::of("", &long(55), &[], &none),
        );
        // 55 shared words of 165: 1/3.
        assert_eq!(x.bottom.len(), SKETCH_SIZE);
        assert!(
            (x.similarity(&y) - 1.0 / 3.0).abs() < 0.12,
            "{}",
            x.similarity(&y)
        );
    }

    fn n_to_letters(mut n: usize) -> String {
        let mut s = String::new();
        for _ in 0..3 {
            s.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
        }
        s
    }

    #[test]
    fn an_empty_text_is_like_nothing() {
        let empty = Sketch::of("", "!!! 123", &[], &SameWords::default());
        assert!(empty.bottom.is_empty());
        assert_eq!(empty.similarity(&empty), 0.0);
    }
}
