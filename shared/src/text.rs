//! Text preparation shared by every analyser: case and accent folding, tokens with
//! their sentence and field, and a few surface features (capitals, exclamation marks).

/// A ticket's subject and description as one stream of folded tokens.
///
/// All tokens live in one folded string (`folded`) and are addressed by byte spans, so
/// that preparing a ticket costs a handful of allocations whatever its length.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    folded: String,
    tokens: Vec<Token>,
    sentences: Vec<SentenceInfo>,
    /// Tokens before this index come from the subject.
    pub subject_tokens: usize,
    /// Share of words of five letters or more written entirely in capitals (shouting;
    /// short acronyms such as API or SKU do not count).
    pub caps_ratio: f32,
    /// Runs of two or more `!` (or `!` mixed with `?`).
    pub exclamation_runs: u32,
    /// Number of `?` in the text.
    pub question_marks: u32,
    /// Number of words.
    pub word_count: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Token {
    start: u32,
    end: u32,
    /// Index of the sentence holding this token; the subject is sentence 0.
    pub sentence: u16,
    /// A currency sign ($, €, £) stands right before or after the token.
    pub currency: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SentenceInfo {
    /// The sentence ended with a question mark.
    pub question: bool,
}

impl Prepared {
    /// Prepares a subject and a description. Text beyond `max_chars` characters of the
    /// description is not read (very long pastes are logs, not prose).
    pub fn new(subject: &str, description: &str, max_chars: usize) -> Self {
        let mut p = Prepared {
            folded: String::with_capacity(subject.len() + description.len().min(max_chars) + 8),
            tokens: Vec::with_capacity((subject.len() + description.len().min(max_chars)) / 5),
            sentences: Vec::with_capacity(8),
            ..Default::default()
        };
        let mut caps = CapsCounter::default();
        p.push_field(subject, usize::MAX, &mut caps);
        p.subject_tokens = p.tokens.len();
        p.push_field(description, max_chars, &mut caps);
        p.caps_ratio = caps.ratio();
        p.word_count = p.tokens.len();
        p
    }

    fn push_field(&mut self, text: &str, max_chars: usize, caps: &mut CapsCounter) {
        // Every field starts a new sentence.
        self.sentences.push(SentenceInfo::default());
        let mut in_token = false;
        let mut token_start = 0u32;
        let mut token_caps = 0u32;
        let mut token_letters = 0u32;
        let mut bang_run = 0u32;
        let mut currency_next = false;
        let mut chars = text.chars().take(max_chars).peekable();
        let mut prev: char = ' ';
        while let Some(c) = chars.next() {
            let is_apostrophe = c == '\'' || c == '\u{2019}';
            // "don't", "isn't", "can't" stay one token ("dont"); other apostrophes
            // (French elision "l'API", "d'erreur") split words.
            let keep_in_word = is_apostrophe
                && in_token
                && prev == 'n'
                && matches!(chars.peek(), Some('t') | Some('T'))
                && {
                    let mut look = chars.clone();
                    look.next();
                    !look.peek().is_some_and(|n| n.is_alphanumeric())
                };
            if c.is_alphanumeric() {
                if !in_token {
                    in_token = true;
                    token_start = self.folded.len() as u32;
                    token_caps = 0;
                    token_letters = 0;
                }
                if c.is_uppercase() {
                    token_caps += 1;
                }
                if c.is_alphabetic() {
                    token_letters += 1;
                }
                fold_into(c, &mut self.folded);
                prev = c.to_ascii_lowercase();
            } else if keep_in_word {
                prev = c;
            } else {
                if in_token {
                    self.finish_token(token_start, token_letters, token_caps, caps);
                    if currency_next {
                        if let Some(t) = self.tokens.last_mut() {
                            t.currency = true;
                        }
                        currency_next = false;
                    }
                    in_token = false;
                }
                if matches!(c, '$' | '€' | '£') {
                    // "$38k" marks the next token, "38 000 €" the previous one.
                    if prev.is_ascii_digit()
                        || prev == ' '
                            && self.tokens.last().is_some_and(|t| {
                                self.folded[t.start as usize..t.end as usize]
                                    .bytes()
                                    .all(|b| b.is_ascii_digit())
                            })
                    {
                        if let Some(t) = self.tokens.last_mut() {
                            t.currency = true;
                        }
                    } else {
                        currency_next = true;
                    }
                }
                match c {
                    '.' | '!' | '?' | ';' | '\n' | '\r' | '\u{2026}' | '\u{00bf}' | '\u{00a1}' => {
                        if c == '?' {
                            self.question_marks += 1;
                            if let Some(last) = self.sentences.last_mut() {
                                last.question = true;
                            }
                        }
                        if c == '!' || (c == '?' && bang_run > 0) {
                            bang_run += 1;
                            if bang_run == 2 {
                                self.exclamation_runs += 1;
                            }
                        } else {
                            bang_run = 0;
                        }
                        // A dot inside a number or a domain ("v2.1", "example.com") does not
                        // end a sentence.
                        let ends = !(c == '.' && chars.peek().is_some_and(|n| n.is_alphanumeric()));
                        if ends && self.current_sentence_has_tokens() {
                            self.sentences.push(SentenceInfo::default());
                        }
                    }
                    _ => bang_run = 0,
                }
                prev = c;
                continue;
            }
            if c != '!' {
                bang_run = 0;
            }
        }
        if in_token {
            self.finish_token(token_start, token_letters, token_caps, caps);
            if currency_next && let Some(t) = self.tokens.last_mut() {
                t.currency = true;
            }
        }
    }

    fn current_sentence_has_tokens(&self) -> bool {
        let current = (self.sentences.len() - 1) as u16;
        self.tokens.last().is_some_and(|t| t.sentence == current)
    }

    fn finish_token(&mut self, start: u32, letters: u32, upper: u32, caps: &mut CapsCounter) {
        let end = self.folded.len() as u32;
        if letters >= 5 {
            caps.words += 1;
            if upper == letters {
                caps.shouted += 1;
            }
        }
        self.tokens.push(Token {
            start,
            end,
            sentence: (self.sentences.len() - 1) as u16,
            currency: false,
        });
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The folded text of token `i`.
    #[inline]
    pub fn token(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.folded[t.start as usize..t.end as usize]
    }

    /// A currency sign stands next to token `i`.
    pub fn is_money(&self, i: usize) -> bool {
        self.tokens[i].currency
    }

    #[inline]
    pub fn sentence_of(&self, i: usize) -> u16 {
        self.tokens[i].sentence
    }

    pub fn sentence(&self, index: u16) -> SentenceInfo {
        self.sentences
            .get(index as usize)
            .copied()
            .unwrap_or_default()
    }

    pub fn sentence_count(&self) -> usize {
        self.sentences.len()
    }

    pub fn in_subject(&self, i: usize) -> bool {
        i < self.subject_tokens
    }

    /// Folded tokens `start..end` joined by spaces (for reasons and snippets).
    pub fn span_text(&self, start: usize, end: usize) -> String {
        let mut out = String::new();
        for i in start..end.min(self.tokens.len()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(self.token(i));
        }
        out
    }

    pub fn tokens(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.tokens.len()).map(|i| self.token(i))
    }
}

#[derive(Default)]
struct CapsCounter {
    words: u32,
    shouted: u32,
}

impl CapsCounter {
    fn ratio(&self) -> f32 {
        if self.words < 2 {
            0.0
        } else {
            self.shouted as f32 / self.words as f32
        }
    }
}

/// Appends `c` lower-cased and without diacritics ("É" → "e", "ß" → "ss", "œ" → "oe").
#[inline]
pub fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    let folded: &str = match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ė' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'œ' => "oe",
        'æ' => "ae",
        'ł' => "l",
        'š' => "s",
        'ž' | 'ź' | 'ż' => "z",
        other => {
            out.push(other);
            return;
        }
    };
    out.push_str(folded);
}

/// Folds a whole string (lower case, no diacritics).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// Words that mean the same in the languages the engine reads (`[same_words]` in
/// `data/phrases/words.toml`): each folded word, or word prefix, and the English word it
/// stands for.
#[derive(Debug, Clone, Default)]
pub struct SameWords {
    exact: rustc_hash::FxHashMap<String, String>,
    /// Longest prefixes first.
    prefixes: Vec<(String, String)>,
}

impl SameWords {
    /// Adds `others` (folded; `word*` a prefix) as standing for `english`. The first
    /// meaning given to a word is kept.
    pub fn add(&mut self, english: &str, others: &[String]) {
        let english = fold(english.trim());
        for other in others {
            let other = fold(other.trim());
            match other.strip_suffix('*') {
                Some(prefix) => {
                    if !self.prefixes.iter().any(|(p, _)| p == prefix) {
                        self.prefixes.push((prefix.to_string(), english.clone()));
                    }
                }
                None => {
                    self.exact.entry(other).or_insert_with(|| english.clone());
                }
            }
        }
        self.prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    /// The English word a folded `word` stands for, or the word itself.
    pub fn english<'a>(&'a self, word: &'a str) -> &'a str {
        if let Some(e) = self.exact.get(word) {
            return e;
        }
        self.prefixes
            .iter()
            .find(|(p, _)| word.starts_with(p.as_str()))
            .map_or(word, |(_, e)| e.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }
}

/// Cuts `s` to at most `max` characters on a word boundary, adding "…" when cut.
pub fn truncate_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::SameWords;

    #[test]
    fn same_words_map_other_languages_to_english_exactly_or_by_prefix() {
        let mut w = SameWords::default();
        w.add(
            "payment",
            &["Zahlung*".into(), "paiement*".into(), "pago".into()],
        );
        w.add("error", &["fehler*".into(), "pago".into()]);
        assert_eq!(w.english("zahlungen"), "payment");
        assert_eq!(w.english("paiements"), "payment");
        assert_eq!(w.english("pago"), "payment", "the first meaning is kept");
        assert_eq!(w.english("pagos"), "pagos", "an exact word is no prefix");
        assert_eq!(w.english("fehlermeldung"), "error");
        assert_eq!(w.english("orders"), "orders");
    }

    use super::*;

    fn toks(p: &Prepared) -> Vec<&str> {
        p.tokens().collect()
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(
            fold("Résilier KÜNDIGEN Straße Œuvre"),
            "resilier kundigen strasse oeuvre"
        );
    }

    #[test]
    fn keeps_english_negations_and_splits_french_elision() {
        let p = Prepared::new("", "It doesn't work. L'API renvoie d'erreur", 10_000);
        assert_eq!(
            toks(&p),
            ["it", "doesnt", "work", "l", "api", "renvoie", "d", "erreur"]
        );
    }

    #[test]
    fn subject_is_its_own_sentence_and_questions_are_marked() {
        let p = Prepared::new(
            "Checkout down",
            "How do I fix it? It is broken. v2.1 fails",
            10_000,
        );
        assert_eq!(p.subject_tokens, 2);
        assert_eq!(p.sentence_of(0), 0);
        assert_eq!(p.sentence_of(2), 1);
        assert!(p.sentence(1).question);
        assert!(!p.sentence(2).question);
        // "v2.1" does not end the sentence
        let last = p.len() - 1;
        assert_eq!(p.token(last), "fails");
        assert_eq!(p.sentence_of(last), p.sentence_of(last - 2));
    }

    #[test]
    fn marks_amounts_of_money() {
        let p = Prepared::new("", "We lost $38k, about 1.200 € and 40 orders", 1000);
        let money: Vec<&str> = (0..p.len())
            .filter(|&i| p.is_money(i))
            .map(|i| p.token(i))
            .collect();
        assert_eq!(money, ["38k", "200"]);
    }

    #[test]
    fn measures_shouting() {
        let p = Prepared::new(
            "",
            "THIS IS COMPLETELY UNACCEPTABLE!!! FIX IT NOW!!",
            10_000,
        );
        assert!(p.caps_ratio > 0.9);
        assert_eq!(p.exclamation_runs, 2);
        let calm = Prepared::new(
            "",
            "This is fine, thanks! The API works and SKU counts match.",
            10_000,
        );
        assert!(calm.caps_ratio < 0.2);
        assert_eq!(calm.exclamation_runs, 0);
    }

    #[test]
    fn stops_reading_after_the_limit() {
        let long = "word ".repeat(1000);
        let p = Prepared::new("s", &long, 100);
        assert_eq!(p.len(), 1 + 20);
    }

    #[test]
    fn truncates_on_word_boundary() {
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(truncate_words("one two three four", 12), "one two…");
    }
}
