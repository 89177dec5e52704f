//! What the learned model reads in a ticket: hashed word unigrams and bigrams, hashed
//! character n-grams (they carry across languages, inflections and typos), the phrase
//! engine's signals and its own decisions, the sentiment, the language, the channel and
//! the account's MRR tier.
//!
//! Every feature is an index into a hashed space of `2^bits` buckets with a sign and a
//! value. Word features share one unit of weight (each is worth `1/sqrt(n)` for `n`
//! word features), so do character n-grams; the named features (signals, tiers...) are
//! worth 1. Nothing is merged: a repeated word simply appears twice, which keeps
//! extraction free of sorting and maps.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::text::Prepared;

/// The shape of the feature space, stored with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// `2^bits` hashed buckets.
    pub bits: u8,
    /// Character n-grams from `char_min` to `char_max` letters (with word boundaries).
    pub char_min: u8,
    pub char_max: u8,
    /// Tokens read for text features (the rest of a long paste is ignored).
    pub max_tokens: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            bits: 18,
            char_min: 3,
            char_max: 5,
            max_tokens: 400,
        }
    }
}

/// Where a feature comes from, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Token `i` of the prepared text (a word, one of its n-grams, or half a bigram).
    Token(u32),
    /// Named feature `i` of [`Features::names`].
    Named(u32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    pub index: u32,
    /// The value, signed by the hash.
    pub value: f32,
    pub source: Source,
}

/// The features of one ticket.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub items: Vec<Feature>,
    pub names: Vec<Cow<'static, str>>,
    /// Word tokens of three letters or more whose unigram bucket is given; the model
    /// counts how many of them it has seen in training.
    pub word_buckets: Vec<u32>,
}

const WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const BIGRAM: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SUBJECT: u64 = 0x1656_67b1_9e37_79f9;
const CHAR: u64 = 0x27d4_eb2f_1656_67c5;
const NAMED: u64 = 0x85eb_ca77_c2b2_ae63;

#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Numbers longer than three digits are one shape: "0" and "500" matter, order
/// numbers do not.
#[inline]
fn word_bytes(token: &str) -> &[u8] {
    if token.len() > 3 && token.bytes().all(|b| b.is_ascii_digit()) {
        b"<num>"
    } else {
        token.as_bytes()
    }
}

impl FeatureConfig {
    #[inline]
    fn mask(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    #[inline]
    fn feature(&self, hash: u64, value: f32, source: Source) -> Feature {
        let h = mix(hash);
        Feature {
            index: (h & self.mask()) as u32,
            value: if h >> 63 == 1 { -value } else { value },
            source,
        }
    }

    /// The bucket of a named feature ("signal:outage", "channel:phone").
    pub fn named_index(&self, name: &str) -> (u32, f32) {
        let f = self.feature(fnv(NAMED, name.as_bytes()), 1.0, Source::Named(0));
        (f.index, f.value)
    }

    /// Text features of a prepared ticket plus the named features given.
    pub fn extract(
        &self,
        text: &Prepared,
        named: impl IntoIterator<Item = Cow<'static, str>>,
    ) -> Features {
        let n = text.len().min(self.max_tokens as usize);
        let mut out = Features {
            items: Vec::with_capacity(n * 12 + 32),
            names: Vec::new(),
            word_buckets: Vec::with_capacity(n),
        };
        // Words: unigrams, subject unigrams, bigrams within a sentence.
        let mut word_hashes = Vec::with_capacity(n);
        for i in 0..n {
            word_hashes.push(fnv(WORD, word_bytes(text.token(i))));
        }
        let word_start = out.items.len();
        for i in 0..n {
            let token = Source::Token(i as u32);
            let f = self.feature(word_hashes[i], 1.0, token);
            if text.token(i).len() >= 3 && text.token(i).bytes().any(|b| b.is_ascii_alphabetic()) {
                out.word_buckets.push(f.index);
            }
            out.items.push(f);
            if text.in_subject(i) {
                out.items
                    .push(self.feature(word_hashes[i] ^ SUBJECT, 1.0, token));
            }
            if i + 1 < n && text.sentence_of(i) == text.sentence_of(i + 1) {
                let h = word_hashes[i].rotate_left(17) ^ word_hashes[i + 1] ^ BIGRAM;
                out.items.push(self.feature(h, 0.5, token));
                out.items
                    .push(self.feature(h, 0.5, Source::Token(i as u32 + 1)));
            }
        }
        normalise(&mut out.items[word_start..]);
        // Character n-grams of letter tokens, with boundaries: " conversion " gives
        // " co", "con", ..., "on ".
        let char_start = out.items.len();
        let (lo, hi) = (self.char_min as usize, self.char_max as usize);
        let mut padded = Vec::with_capacity(32);
        for i in 0..n {
            let t = text.token(i).as_bytes();
            if t.len() < 2 || t.len() > 24 || t.iter().all(u8::is_ascii_digit) {
                continue;
            }
            padded.clear();
            padded.push(b' ');
            padded.extend_from_slice(t);
            padded.push(b' ');
            let source = Source::Token(i as u32);
            for start in 0..padded.len() {
                let mut h = 0xcbf2_9ce4_8422_2325 ^ CHAR;
                for (k, &b) in padded[start..].iter().enumerate().take(hi) {
                    h ^= u64::from(b);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                    if k + 1 >= lo {
                        out.items.push(self.feature(h, 1.0, source));
                    }
                }
            }
        }
        normalise(&mut out.items[char_start..]);
        for name in named {
            let i = out.names.len() as u32;
            let f = self.feature(fnv(NAMED, name.as_bytes()), 1.0, Source::Named(i));
            out.items.push(f);
            out.names.push(name);
        }
        out
    }
}

/// Scales a group of `n` occurrences (a bigram counts as two halves) by `1/sqrt(n)`,
/// so that long and short tickets weigh alike.
fn normalise(items: &mut [Feature]) {
    let weight: f32 = items.iter().map(|f| f.value.abs()).sum();
    if weight > 0.0 {
        let scale = 1.0 / weight.sqrt();
        for f in items {
            f.value *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(subject: &str, body: &str) -> Features {
        let text = Prepared::new(subject, body, 10_000);
        FeatureConfig::default().extract(&text, [Cow::Borrowed("channel:email")])
    }

    #[test]
    fn extraction_is_deterministic_and_in_range() {
        let a = features("Checkout", "Conversion went to 0.0% after the release");
        let b = features("Checkout", "Conversion went to 0.0% after the release");
        assert_eq!(a.items, b.items);
        assert!(a.items.iter().all(|f| f.index < 1 << 18));
        assert_eq!(a.names, vec![Cow::Borrowed("channel:email")]);
    }

    #[test]
    fn word_and_character_groups_are_normalised() {
        let f = features("", "orders stopped orders stopped");
        let chars: f32 = f
            .items
            .iter()
            .filter(|x| matches!(x.source, Source::Token(_)))
            .map(|x| x.value * x.value)
            .sum();
        // Two groups of unit weight each.
        assert!(chars > 0.3 && chars < 2.5, "{chars}");
    }

    #[test]
    fn typos_share_character_ngrams() {
        let cfg = FeatureConfig::default();
        let grams = |w: &str| -> std::collections::BTreeSet<u32> {
            let text = Prepared::new("", w, 100);
            cfg.extract(&text, [])
                .items
                .iter()
                .map(|f| f.index)
                .collect()
        };
        let a = grams("conversion");
        let b = grams("convresion");
        assert!(a.intersection(&b).count() >= 4);
    }
}
