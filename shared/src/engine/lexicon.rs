//! Phrase patterns and the matcher that finds them in a prepared ticket.
//!
//! A pattern is a sequence of token steps separated by spaces:
//! `word` matches the folded token exactly, `word*` matches tokens starting with `word`
//! (at least three letters), `a|b*|c` matches any alternative, and `~` skips up to
//! three tokens (`~~` up to six), and `#` matches any number. A match never crosses a
//! sentence. Patterns are folded
//! when compiled, so they may be written with accents ("résilier").

use rustc_hash::FxHashMap as HashMap;

use crate::text::{Prepared, fold};

/// One position of a pattern: exact words (as vocabulary ids, sorted) and prefixes.
#[derive(Debug, Clone, Default)]
struct Position {
    exact: Vec<u32>,
    prefixes: Vec<String>,
    number: bool,
}

impl Position {
    #[inline]
    fn matches(&self, id: u32, token: &str) -> bool {
        (id != NO_WORD && self.exact.binary_search(&id).is_ok())
            || self.prefixes.iter().any(|p| token.starts_with(p.as_str()))
            || (self.number && token.bytes().all(|b| b.is_ascii_digit()))
    }
}

#[derive(Debug, Clone)]
enum Step {
    Token(Position),
    Gap(u8),
}

#[derive(Debug, Clone)]
struct Pattern<S> {
    signal: S,
    exclusion: bool,
    steps: Vec<Step>,
}

/// A token that is no exact word of any pattern.
pub const NO_WORD: u32 = u32::MAX;

/// One occurrence of a signal's pattern in a ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<S> {
    pub signal: S,
    /// First token of the match.
    pub start: usize,
    /// One past the last token of the match.
    pub end: usize,
    /// A negator ("not", "pas", "nicht", ...) stands within three tokens before it.
    pub negated: bool,
}

impl<S> Hit<S> {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// An invalid pattern, named with the signal it belongs to.
#[derive(Debug, thiserror::Error)]
#[error("invalid pattern {pattern:?} for {owner}: {problem}")]
pub struct PatternError {
    pub owner: String,
    pub pattern: String,
    pub problem: &'static str,
}

/// Finds many phrase patterns in one pass over a ticket's tokens.
///
/// Exact words are interned: a ticket's tokens are looked up once in the vocabulary,
/// and patterns compare numbers. Patterns are indexed by their first position: by
/// word id for exact words, by the first three letters for prefixes.
#[derive(Debug, Clone)]
pub struct Matcher<S> {
    patterns: Vec<Pattern<S>>,
    vocabulary: HashMap<String, u32>,
    /// word id → patterns whose first position holds that word
    by_word: Vec<Vec<u32>>,
    /// first three letters of a prefix → patterns whose first position holds it
    by_prefix: HashMap<String, Vec<u32>>,
    negators: Vec<u32>,
}

impl<S> Matcher<S> {
    /// An empty matcher whose hits are flagged as negated after one of `negators`
    /// (folded words: "not", "pas", "nicht", ...).
    pub fn new<'a>(negators: impl IntoIterator<Item = &'a str>) -> Self {
        let mut m = Self {
            patterns: Vec::new(),
            vocabulary: HashMap::default(),
            by_word: Vec::new(),
            by_prefix: HashMap::default(),
            negators: Vec::new(),
        };
        m.negators = negators.into_iter().map(|n| m.intern(n)).collect();
        m.negators.sort_unstable();
        m
    }
}

fn prefix_key(token: &str) -> &str {
    match token.char_indices().nth(3) {
        Some((i, _)) => &token[..i],
        None => token,
    }
}

fn push_unique(list: &mut Vec<u32>, id: u32) {
    if list.last() != Some(&id) {
        list.push(id);
    }
}

impl<S> Matcher<S> {
    /// The id of a (folded) word, adding it to the vocabulary if new. Words of other
    /// components (stop words, knowledge-base terms) are interned too, so that a
    /// ticket's tokens are looked up once for all of them.
    pub fn intern(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.vocabulary.get(word) {
            return id;
        }
        let id = self.by_word.len() as u32;
        self.vocabulary.insert(word.to_string(), id);
        self.by_word.push(Vec::new());
        id
    }
}

impl<S: Copy + std::fmt::Debug> Matcher<S> {
    /// Adds a pattern that raises `signal`.
    pub fn add(&mut self, signal: S, pattern: &str) -> Result<(), PatternError> {
        self.push(signal, pattern, false)
    }

    /// Adds a pattern that cancels any hit of `signal` it overlaps (a keyword trap such
    /// as "after upgrading WooCommerce" for the upgrade intent).
    pub fn add_exclusion(&mut self, signal: S, pattern: &str) -> Result<(), PatternError> {
        self.push(signal, pattern, true)
    }

    fn push(&mut self, signal: S, pattern: &str, exclusion: bool) -> Result<(), PatternError> {
        let err = |problem| PatternError {
            owner: format!("{signal:?}"),
            pattern: pattern.to_string(),
            problem,
        };
        let mut steps = Vec::new();
        for raw in pattern.split_whitespace() {
            if raw.chars().all(|c| c == '~') {
                if steps.is_empty() {
                    return Err(err("a pattern cannot start with a gap"));
                }
                steps.push(Step::Gap(3 * raw.len().min(2) as u8));
                continue;
            }
            let mut position = Position::default();
            for alt in raw.split('|') {
                if alt == "#" {
                    position.number = true;
                    continue;
                }
                let (body, prefix) = match alt.strip_suffix('*') {
                    Some(body) => (body, true),
                    None => (alt, false),
                };
                let text = fold(body);
                if text.is_empty() || !text.chars().all(char::is_alphanumeric) {
                    return Err(err("each alternative must be letters or digits"));
                }
                if prefix {
                    if text.chars().count() < 3 {
                        return Err(err("a prefix needs at least three letters"));
                    }
                    position.prefixes.push(text);
                } else {
                    let id = self.intern(&text);
                    position.exact.push(id);
                }
            }
            position.exact.sort_unstable();
            position.exact.dedup();
            steps.push(Step::Token(position));
        }
        match steps.last() {
            None => return Err(err("empty pattern")),
            Some(Step::Gap(_)) => return Err(err("a pattern cannot end with a gap")),
            _ => {}
        }
        let id = self.patterns.len() as u32;
        if let Some(Step::Token(first)) = steps.first() {
            if first.number {
                return Err(err("a pattern cannot start with a number"));
            }
            for &w in &first.exact {
                push_unique(&mut self.by_word[w as usize], id);
            }
            for p in &first.prefixes {
                push_unique(
                    self.by_prefix.entry(prefix_key(p).to_string()).or_default(),
                    id,
                );
            }
        }
        self.patterns.push(Pattern {
            signal,
            exclusion,
            steps,
        });
        Ok(())
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Every word of the vocabulary with its id.
    pub fn words(&self) -> impl Iterator<Item = (&str, u32)> + Clone {
        self.vocabulary.iter().map(|(w, id)| (w.as_str(), *id))
    }

    pub fn vocabulary_len(&self) -> usize {
        self.by_word.len()
    }

    /// Each token's vocabulary id ([`NO_WORD`] when unknown).
    pub fn token_ids(&self, text: &Prepared) -> Vec<u32> {
        text.tokens()
            .map(|t| self.vocabulary.get(t).copied().unwrap_or(NO_WORD))
            .collect()
    }

    /// Every hit in the ticket, in token order; overlapping exclusions already removed.
    pub fn find(&self, text: &Prepared) -> Vec<Hit<S>>
    where
        S: PartialEq,
    {
        self.find_with(text, &self.token_ids(text))
    }

    /// [`Self::find`] with the token ids already computed.
    pub fn find_with(&self, text: &Prepared, ids: &[u32]) -> Vec<Hit<S>>
    where
        S: PartialEq,
    {
        let mut hits: Vec<Hit<S>> = Vec::new();
        let mut exclusions: Vec<Hit<S>> = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        for i in 0..text.len() {
            candidates.clear();
            if ids[i] != NO_WORD {
                candidates.extend_from_slice(&self.by_word[ids[i] as usize]);
            }
            let token = text.token(i);
            if token.len() >= 3
                && let Some(list) = self.by_prefix.get(prefix_key(token))
            {
                candidates.extend_from_slice(list);
            }
            for &pid in &candidates {
                let pattern = &self.patterns[pid as usize];
                if let Some(end) = match_steps(&pattern.steps, text, ids, i, text.sentence_of(i)) {
                    let hit = Hit {
                        signal: pattern.signal,
                        start: i,
                        end,
                        negated: self.negated_at(text, ids, i),
                    };
                    if pattern.exclusion {
                        exclusions.push(hit);
                    } else if !hits
                        .iter()
                        .any(|h| h.signal == hit.signal && h.start == hit.start && h.end == hit.end)
                    {
                        hits.push(hit);
                    }
                }
            }
        }
        if !exclusions.is_empty() {
            hits.retain(|h| {
                !exclusions
                    .iter()
                    .any(|x| x.signal == h.signal && x.start < h.end && h.start < x.end)
            });
        }
        hits
    }

    fn negated_at(&self, text: &Prepared, ids: &[u32], start: usize) -> bool {
        let sentence = text.sentence_of(start);
        (start.saturating_sub(3)..start)
            .filter(|&j| text.sentence_of(j) == sentence)
            .any(|j| ids[j] != NO_WORD && self.negators.binary_search(&ids[j]).is_ok())
    }
}

fn match_steps(
    steps: &[Step],
    text: &Prepared,
    ids: &[u32],
    at: usize,
    sentence: u16,
) -> Option<usize> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(at);
    };
    match step {
        Step::Token(position) => {
            if at >= ids.len() || text.sentence_of(at) != sentence {
                return None;
            }
            if position.matches(ids[at], text.token(at)) {
                match_steps(rest, text, ids, at + 1, sentence)
            } else {
                None
            }
        }
        Step::Gap(max) => {
            (0..=*max as usize).find_map(|skip| match_steps(rest, text, ids, at + skip, sentence))
        }
    }
}

/// Keeps, among overlapping hits, the longest (earliest on ties): "tracking number"
/// wins over "tracking".
pub fn longest_non_overlapping<S: Copy>(hits: &[Hit<S>]) -> Vec<Hit<S>> {
    let mut sorted: Vec<Hit<S>> = hits.to_vec();
    sorted.sort_by(|a, b| b.len().cmp(&a.len()).then(a.start.cmp(&b.start)));
    let mut kept: Vec<Hit<S>> = Vec::with_capacity(sorted.len());
    for h in sorted {
        if !kept.iter().any(|k| k.start < h.end && h.start < k.end) {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| h.start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[(u8, &str)]) -> Matcher<u8> {
        let mut m = Matcher::new(["not", "pas"]);
        for (s, p) in patterns {
            m.add(*s, p).unwrap();
        }
        m
    }

    fn found(m: &Matcher<u8>, text: &str) -> Vec<(u8, String)> {
        let p = Prepared::new("", text, 100_000);
        m.find(&p)
            .into_iter()
            .map(|h| (h.signal, p.span_text(h.start, h.end)))
            .collect()
    }

    #[test]
    fn exact_prefix_alternatives_and_gaps() {
        let m = matcher(&[
            (1, "order*|commande* not|pas process*"),
            (2, "checkout ~ down"),
            (3, "api"),
        ]);
        assert_eq!(
            found(
                &m,
                "Orders not processing since the checkout is completely down"
            ),
            vec![
                (1, "orders not processing".to_string()),
                (2, "checkout is completely down".to_string())
            ]
        );
        assert!(
            found(&m, "The apis are fine").is_empty(),
            "exact token must not prefix-match"
        );
    }

    #[test]
    fn matches_do_not_cross_sentences_or_exceed_the_gap() {
        let m = matcher(&[(2, "checkout ~ down")]);
        assert!(found(&m, "Checkout works. Down is fine.").is_empty());
        assert!(found(&m, "checkout one two three four down").is_empty());
        assert_eq!(found(&m, "checkout one two three down").len(), 1);
    }

    #[test]
    fn accents_in_patterns_and_text_are_folded() {
        let m = matcher(&[(1, "résilier"), (2, "kündig*")]);
        assert_eq!(found(&m, "Nous voulons RESILIER. Wir kündigen.").len(), 2);
    }

    #[test]
    fn a_hash_matches_any_number() {
        let m = matcher(&[(1, "down ~ #")]);
        assert_eq!(found(&m, "revenue is down 40% this week").len(), 1);
        assert!(found(&m, "the site is down again").is_empty());
    }

    #[test]
    fn exclusions_cancel_overlapping_hits_only() {
        let mut m = matcher(&[(1, "upgrad* ~ plan|tier")]);
        m.add_exclusion(1, "after|since upgrad* ~ woocommerce|version")
            .unwrap();
        assert!(found(&m, "since upgrading to version 8 plan sync fails").is_empty());
        assert_eq!(found(&m, "We want to upgrade to the Pro plan").len(), 1);
    }

    #[test]
    fn negation_is_flagged() {
        let m = matcher(&[(1, "urgent")]);
        let p = Prepared::new("", "This is not urgent. Urgent!", 1000);
        let hits = m.find(&p);
        assert_eq!(hits.len(), 2);
        assert!(hits[0].negated);
        assert!(!hits[1].negated);
    }

    #[test]
    fn bad_patterns_are_rejected() {
        let mut m: Matcher<u8> = Matcher::new([]);
        assert!(m.add(1, "ab*").is_err());
        assert!(m.add(1, "~ word").is_err());
        assert!(m.add(1, "word ~").is_err());
        assert!(m.add(1, "").is_err());
        assert!(m.add(1, "a-b").is_err());
    }

    #[test]
    fn longest_hit_wins_overlaps() {
        let hits = vec![
            Hit {
                signal: 1u8,
                start: 0,
                end: 1,
                negated: false,
            },
            Hit {
                signal: 2u8,
                start: 0,
                end: 2,
                negated: false,
            },
            Hit {
                signal: 3u8,
                start: 3,
                end: 4,
                negated: false,
            },
        ];
        let kept = longest_non_overlapping(&hits);
        assert_eq!(
            kept.iter().map(|h| h.signal).collect::<Vec<_>>(),
            vec![2, 3]
        );
    }
}
