//! The phrase catalogue: the phrases that raise each signal and the word lists the
//! rules read, as data (`data/phrases/*.toml`). The shipped files are built in; a team
//! adds its own from a directory (`triage run --policy-dir`), on top of them.
//!
//! A signal file holds one table per signal: `phrases`, optional `exclusions` and
//! `negatable`. `words.toml` holds word sets (`{systems}` in a pattern), the negators
//! and the priority rules' word lists. Errors name the file, the line and the phrase.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::signals::{Signal, SignalSet};

/// The shipped catalogue, in the order it is read.
const SHIPPED: &[(&str, &str)] = &[
    (
        "data/phrases/words.toml",
        include_str!("../../../data/phrases/words.toml"),
    ),
    (
        "data/phrases/priority.toml",
        include_str!("../../../data/phrases/priority.toml"),
    ),
    (
        "data/phrases/team.toml",
        include_str!("../../../data/phrases/team.toml"),
    ),
    (
        "data/phrases/sentiment.toml",
        include_str!("../../../data/phrases/sentiment.toml"),
    ),
    (
        "data/phrases/churn.toml",
        include_str!("../../../data/phrases/churn.toml"),
    ),
    (
        "data/phrases/opportunity.toml",
        include_str!("../../../data/phrases/opportunity.toml"),
    ),
];

/// The file name that holds word lists rather than signals.
const WORDS_FILE: &str = "words.toml";

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read phrase file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("phrase file {file} is not valid: {message}")]
    Parse { file: String, message: String },
    #[error("{file}:{line}: unknown signal [{name}] (known: {known})")]
    UnknownSignal {
        file: String,
        line: usize,
        name: String,
        known: String,
    },
    #[error("{file}:{line}: phrase {phrase:?}: {problem}")]
    Phrase {
        file: String,
        line: usize,
        phrase: String,
        problem: String,
    },
}

/// Where a phrase was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// One pattern of a signal, with its word sets expanded.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub signal: Signal,
    pub pattern: String,
    /// Voids overlapping hits of the signal instead of raising it.
    pub exclusion: bool,
    pub origin: Origin,
}

impl Phrase {
    /// The error for this phrase, when the matcher refuses it.
    pub fn error(&self, problem: impl Into<String>) -> CatalogueError {
        CatalogueError::Phrase {
            file: self.origin.file.clone(),
            line: self.origin.line,
            phrase: self.pattern.clone(),
            problem: problem.into(),
        }
    }
}

/// Word lists of the priority rules (see `data/phrases/words.toml`).
#[derive(Debug, Clone, Default)]
pub struct PriorityWords {
    pub still: Vec<String>,
    pub entities: Vec<String>,
    pub currency: Vec<String>,
    pub stake: Vec<String>,
}

/// The phrases of every signal and the word lists, validated.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub phrases: Vec<Phrase>,
    pub negatable: SignalSet,
    pub negators: Vec<String>,
    pub priority_words: PriorityWords,
    /// For recognising one failure reported in several languages (incidents).
    pub same_words: crate::text::SameWords,
    sets: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalEntry {
    #[serde(default)]
    negatable: Option<bool>,
    #[serde(default)]
    phrases: Vec<Spanned<String>>,
    #[serde(default)]
    exclusions: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WordsFile {
    #[serde(default)]
    sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    negation: Negation,
    #[serde(default)]
    priority: PriorityLists,
    #[serde(default)]
    same_words: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Negation {
    #[serde(default)]
    words: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PriorityLists {
    #[serde(default)]
    still: Vec<String>,
    #[serde(default)]
    entities: Vec<String>,
    #[serde(default)]
    currency: Vec<String>,
    #[serde(default)]
    stake: Vec<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn folded_words(words: Vec<String>) -> Vec<String> {
    words.iter().map(|w| crate::text::fold(w.trim())).collect()
}

impl Catalogue {
    /// The shipped catalogue.
    pub fn embedded() -> Result<Self, CatalogueError> {
        let mut catalogue = Self::default();
        for (name, text) in SHIPPED {
            catalogue.add_file(name, text)?;
        }
        Ok(catalogue)
    }

    /// The shipped catalogue plus every `*.toml` of `dir` (in name order).
    pub fn with_dir(dir: &Path) -> Result<Self, CatalogueError> {
        let mut catalogue = Self::embedded()?;
        catalogue.add_dir(dir)?;
        Ok(catalogue)
    }

    /// Adds every `*.toml` file of a directory, `words.toml` first.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), CatalogueError> {
        let io = |source| CatalogueError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort_by_key(|p| (p.file_name().is_none_or(|n| n != WORDS_FILE), p.clone()));
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogueError::Io {
                path: path.display().to_string(),
                source,
            })?;
            self.add_file(&path.display().to_string(), &text)?;
        }
        Ok(())
    }

    /// Adds one file: word lists when it is named `words.toml`, signals otherwise.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), CatalogueError> {
        let parse = |e: toml::de::Error| CatalogueError::Parse {
            file: name.to_string(),
            message: e.to_string(),
        };
        if Path::new(name).file_name().is_some_and(|n| n == WORDS_FILE) {
            let words: WordsFile = toml::from_str(text).map_err(parse)?;
            for (set, list) in words.sets {
                self.sets.entry(set).or_default().extend(folded_words(list));
            }
            self.negators.extend(folded_words(words.negation.words));
            let p = words.priority;
            let w = &mut self.priority_words;
            w.still.extend(folded_words(p.still));
            w.entities.extend(folded_words(p.entities));
            w.currency.extend(folded_words(p.currency));
            w.stake.extend(folded_words(p.stake));
            for (english, others) in words.same_words {
                if let Some(bad) = others
                    .iter()
                    .find(|o| o.strip_suffix('*').is_some_and(|p| p.chars().count() < 4))
                {
                    return Err(CatalogueError::Parse {
                        file: name.to_string(),
                        message: format!(
                            "same_words.{english}: prefix {bad:?} is shorter than four letters"
                        ),
                    });
                }
                self.same_words.add(&english, &others);
            }
            return Ok(());
        }
        let entries: BTreeMap<Spanned<String>, SignalEntry> =
            toml::from_str(text).map_err(parse)?;
        let mut entries: Vec<_> = entries.into_iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (key, entry) in entries {
            let line = line_of(text, key.span().start);
            let Some(signal) = Signal::by_name(key.get_ref()) else {
                return Err(CatalogueError::UnknownSignal {
                    file: name.to_string(),
                    line,
                    name: key.into_inner(),
                    known: Signal::ALL
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if let Some(n) = entry.negatable {
                self.negatable.set(signal, n);
            }
            for (list, exclusion) in [(entry.phrases, false), (entry.exclusions, true)] {
                for raw in list {
                    let origin = Origin {
                        file: name.to_string(),
                        line: line_of(text, raw.span().start),
                    };
                    for pattern in raw.get_ref().split(", ") {
                        let phrase = Phrase {
                            signal,
                            pattern: pattern.trim().to_string(),
                            exclusion,
                            origin: origin.clone(),
                        };
                        let pattern = self.expand(&phrase)?;
                        self.phrases.push(Phrase { pattern, ..phrase });
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces `{set}` by the set's words as one position's alternatives.
    fn expand(&self, phrase: &Phrase) -> Result<String, CatalogueError> {
        let mut out = String::with_capacity(phrase.pattern.len());
        let mut rest = phrase.pattern.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                return Err(phrase.error("an opening `{` without `}`"));
            };
            let name = &rest[open + 1..open + close];
            match self.sets.get(name) {
                Some(words) if !words.is_empty() => out.push_str(&words.join("|")),
                _ => {
                    return Err(phrase.error(format!(
                        "unknown word set {{{name}}} (known: {})",
                        self.sets.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_loads_with_its_word_lists() {
        let c = Catalogue::embedded().unwrap();
        assert!(c.phrases.len() > 900, "{}", c.phrases.len());
        assert!(c.negatable.contains(Signal::Outage));
        assert!(!c.negatable.contains(Signal::Workaround));
        assert!(c.negators.iter().any(|w| w == "not"));
        assert!(c.priority_words.stake.iter().any(|w| w == "losing"));
        assert_eq!(c.same_words.english("zahlungen"), "payment");
        assert!(
            c.phrases
                .iter()
                .all(|p| !p.pattern.contains('{') && !p.pattern.is_empty())
        );
    }

    #[test]
    fn an_unknown_signal_is_named_with_file_and_line() {
        let mut c = Catalogue::embedded().unwrap();
        let err = c
            .add_file(
                "team/ours.toml",
                "# ours\n\n[meltdown]\nphrases = [\"x\"]\n",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("team/ours.toml:3: unknown signal [meltdown]"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_set_is_named_with_file_line_and_phrase() {
        let mut c = Catalogue::embedded().unwrap();
        let err = c
            .add_file(
                "ours.toml",
                "[outage]\nphrases = [\n  \"fine\",\n  \"{gadgets} ~ down\",\n]\n",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("ours.toml:4: phrase \"{gadgets} ~ down\": unknown word set {gadgets}"),
            "{err}"
        );
    }

    #[test]
    fn a_team_file_adds_phrases_and_sets() {
        let mut c = Catalogue::embedded().unwrap();
        let before = c.phrases.len();
        c.add_file("words.toml", "[sets]\nsystems = [\"Fluxomat\"]\n")
            .unwrap();
        c.add_file(
            "ours.toml",
            "[outage]\nphrases = [\"{systems} ~ offline, meltdown\"]\n",
        )
        .unwrap();
        assert_eq!(c.phrases.len(), before + 2);
        let added = &c.phrases[before];
        assert_eq!(added.signal, Signal::Outage);
        assert!(
            added.pattern.contains("|fluxomat ~ offline"),
            "{}",
            added.pattern
        );
        assert_eq!(
            added.origin,
            Origin {
                file: "ours.toml".into(),
                line: 2
            }
        );
    }

    #[test]
    fn a_misspelt_key_is_a_parse_error() {
        let mut c = Catalogue::embedded().unwrap();
        let err = c
            .add_file("ours.toml", "[outage]\nphrase = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ours.toml") && err.contains("phrase"), "{err}");
    }
}
