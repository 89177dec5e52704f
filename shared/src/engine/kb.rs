//! The knowledge base and its search: BM25 over question, answer and keywords, one
//! index per language with that language's stemmer.

use rustc_hash::FxHashMap;

use serde::Deserialize;

use super::language::{Lang, LanguageModel};
use super::lexicon::NO_WORD;
use crate::policy::DraftPolicy;
use crate::text::Prepared;

/// The articles shipped with the product (`data/knowledge_base/*.json`).
pub const DEFAULT_KB: &[(&str, &str)] = &[
    (
        "shopify_faq.json",
        include_str!("../../../data/knowledge_base/shopify_faq.json"),
    ),
    (
        "api_faq.json",
        include_str!("../../../data/knowledge_base/api_faq.json"),
    ),
    (
        "payments_faq.json",
        include_str!("../../../data/knowledge_base/payments_faq.json"),
    ),
    (
        "analytics_faq.json",
        include_str!("../../../data/knowledge_base/analytics_faq.json"),
    ),
    (
        "operations_faq.json",
        include_str!("../../../data/knowledge_base/operations_faq.json"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
pub struct Article {
    pub id: String,
    #[serde(default = "default_language")]
    pub language: String,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

fn default_language() -> String {
    "en".to_string()
}

#[derive(Debug, Deserialize)]
struct KbFile {
    #[serde(default)]
    category: String,
    articles: Vec<Article>,
}

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("knowledge base file {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read knowledge base {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A ticket's tokens with their vocabulary ids and stop-word masks, as the engine
/// computed them once.
pub struct Words<'a> {
    pub text: &'a Prepared,
    /// Vocabulary id per token ([`NO_WORD`] when unknown).
    pub ids: &'a [u32],
    /// Stop-word mask per vocabulary id.
    pub stop_masks: &'a [u8],
}

impl Words<'_> {
    pub fn is_stop(&self, token: usize, lang: Lang) -> bool {
        let id = self.ids[token];
        id != NO_WORD
            && LanguageModel::mask_has(self.stop_masks.get(id as usize).copied().unwrap_or(0), lang)
    }

    pub fn stop_mask(&self, token: usize) -> u8 {
        let id = self.ids[token];
        if id == NO_WORD {
            0
        } else {
            self.stop_masks.get(id as usize).copied().unwrap_or(0)
        }
    }
}

/// A scored article for a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct KbMatch {
    pub article: usize,
    pub score: f64,
    /// Score of the next best article (0 when there is none).
    pub runner_up: f64,
    /// Share of the article's keywords present in the ticket.
    pub keyword_coverage: f64,
    /// Query terms that matched, for the reasons.
    pub matched_terms: Vec<String>,
}

/// A word known not to occur in any article of the index.
const NO_TERM: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
struct Doc {
    article: usize,
    /// BM25 length normalisation, k1 * (1 - b + b * length / average length).
    norm: f64,
    /// Each keyword as the term ids of its stems.
    keywords: Vec<Vec<u32>>,
}

/// An inverted index over one language's articles.
#[derive(Debug, Clone, Default)]
struct Index {
    docs: Vec<Doc>,
    /// stem → term id
    terms: FxHashMap<String, u32>,
    term_text: Vec<String>,
    idf: Vec<f64>,
    /// term id → (document, weighted term frequency)
    postings: Vec<Vec<(u32, f64)>>,
    /// Folded word → term id ([`NO_TERM`] for a known word whose stem is in no
    /// article), so that most ticket words need no stemming.
    surface: FxHashMap<String, u32>,
    /// Vocabulary id → term id (or [`NO_TERM`]), see [`KnowledgeBase::learn_vocabulary`].
    by_word: Vec<u32>,
    /// First three letters of every stem: a word whose start is not here cannot match
    /// and is not stemmed (Snowball stemmers only change endings).
    heads: rustc_hash::FxHashSet<String>,
}

impl Index {
    fn term(&mut self, stem: String) -> u32 {
        if let Some(&id) = self.terms.get(&stem) {
            return id;
        }
        let id = self.term_text.len() as u32;
        self.heads.insert(head(&stem).to_string());
        self.terms.insert(stem.clone(), id);
        self.term_text.push(stem);
        self.postings.push(Vec::new());
        id
    }
}

pub struct KnowledgeBase {
    pub articles: Vec<Article>,
    pub categories: Vec<String>,
    indexes: FxHashMap<Lang, Index>,
    stemmers: FxHashMap<Lang, rust_stemmers::Stemmer>,
    k1: f64,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("articles", &self.articles.len())
            .finish()
    }
}

impl KnowledgeBase {
    /// Builds the knowledge base from `(file name, JSON text)` pairs.
    pub fn from_sources(
        sources: &[(String, String)],
        policy: &DraftPolicy,
        language: &LanguageModel,
    ) -> Result<Self, KbError> {
        let mut articles = Vec::new();
        let mut categories = Vec::new();
        for (file, text) in sources {
            let parsed: KbFile = serde_json::from_str(text).map_err(|e| KbError::Invalid {
                file: file.clone(),
                message: e.to_string(),
            })?;
            categories.push(parsed.category);
            for a in parsed.articles {
                if a.id.trim().is_empty() || a.answer.trim().is_empty() {
                    return Err(KbError::Invalid {
                        file: file.clone(),
                        message: format!("article {:?} needs an id and an answer", a.id),
                    });
                }
                if articles.iter().any(|b: &Article| b.id == a.id) {
                    return Err(KbError::Invalid {
                        file: file.clone(),
                        message: format!("duplicate article id {}", a.id),
                    });
                }
                articles.push(a);
            }
        }
        let stemmers: FxHashMap<Lang, rust_stemmers::Stemmer> =
            Lang::ALL.iter().map(|l| (*l, l.stemmer())).collect();
        let mut indexes: FxHashMap<Lang, Index> = FxHashMap::default();
        let mut lengths: FxHashMap<Lang, Vec<f64>> = FxHashMap::default();
        for (i, a) in articles.iter().enumerate() {
            let lang = Lang::from_code(&a.language).unwrap_or(Lang::En);
            let stemmer = &stemmers[&lang];
            let index = indexes.entry(lang).or_default();
            let doc = index.docs.len() as u32;
            let mut tf: FxHashMap<u32, f64> = FxHashMap::default();
            let mut length = 0.0;
            for (field, weight) in [
                (&a.question, policy.question_weight),
                (&a.answer, policy.answer_weight),
                (&a.keywords.join(" . "), policy.keywords_weight),
            ] {
                for (surface, stem) in terms(field, lang, stemmer, language) {
                    let id = index.term(stem);
                    index.surface.entry(surface).or_insert(id);
                    *tf.entry(id).or_default() += weight;
                    length += weight;
                }
            }
            let mut tf: Vec<(u32, f64)> = tf.into_iter().collect();
            tf.sort_unstable_by_key(|(id, _)| *id);
            for (id, f) in tf {
                index.postings[id as usize].push((doc, f));
            }
            let keywords = a
                .keywords
                .iter()
                .map(|k| {
                    terms(k, lang, stemmer, language)
                        .into_iter()
                        .map(|(_, stem)| index.term(stem))
                        .collect::<Vec<u32>>()
                })
                .filter(|k| !k.is_empty())
                .collect();
            index.docs.push(Doc {
                article: i,
                norm: 0.0,
                keywords,
            });
            lengths.entry(lang).or_default().push(length);
        }
        for (lang, index) in indexes.iter_mut() {
            let lens = &lengths[lang];
            let n = index.docs.len() as f64;
            let avg = lens.iter().sum::<f64>() / n.max(1.0);
            for (doc, len) in index.docs.iter_mut().zip(lens) {
                doc.norm =
                    policy.bm25_k1 * (1.0 - policy.bm25_b + policy.bm25_b * len / avg.max(1e-9));
            }
            index.idf = index
                .postings
                .iter()
                .map(|p| {
                    let df = p.len() as f64;
                    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
                })
                .collect();
        }
        Ok(Self {
            articles,
            categories,
            indexes,
            stemmers,
            k1: policy.bm25_k1,
        })
    }

    /// Reads every `*.json` file of a directory.
    pub fn load_dir(
        dir: &std::path::Path,
        policy: &DraftPolicy,
        language: &LanguageModel,
    ) -> Result<Self, KbError> {
        let io = |source| KbError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let mut sources = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|source| KbError::Io {
                path: f.display().to_string(),
                source,
            })?;
            sources.push((
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                text,
            ));
        }
        Self::from_sources(&sources, policy, language)
    }

    /// The shipped knowledge base.
    pub fn embedded(policy: &DraftPolicy, language: &LanguageModel) -> Result<Self, KbError> {
        let sources: Vec<(String, String)> = DEFAULT_KB
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        Self::from_sources(&sources, policy, language)
    }

    pub fn has_language(&self, lang: Lang) -> bool {
        self.indexes.contains_key(&lang)
    }

    /// Every word the articles use (folded, as written), for the engine's vocabulary.
    pub fn words(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .indexes
            .values()
            .flat_map(|i| i.surface.keys().cloned())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Learns how each vocabulary word (`(word, id)`, ids below `len`) stems in every
    /// language, so that searching needs no hashing or stemming for known words.
    pub fn learn_vocabulary<'a>(
        &mut self,
        words: impl Iterator<Item = (&'a str, u32)> + Clone,
        len: usize,
    ) {
        for (lang, index) in self.indexes.iter_mut() {
            let stemmer = &self.stemmers[lang];
            let mut by_word = vec![NO_TERM; len];
            for (w, id) in words.clone() {
                by_word[id as usize] = match index.surface.get(w) {
                    Some(&t) => t,
                    None => index
                        .terms
                        .get(stemmer.stem(w).as_ref())
                        .copied()
                        .unwrap_or(NO_TERM),
                };
            }
            index.by_word = by_word;
        }
    }

    /// The best article for a ticket in `lang`; English articles are searched when the
    /// language has none or none that scores.
    pub fn search(&self, words: &Words<'_>, lang: Lang, min_score: f64) -> Option<KbMatch> {
        let first = self.search_in(words, lang);
        match first {
            Some(m) if m.score >= min_score => Some(m),
            _ if lang != Lang::En => self
                .search_in(words, Lang::En)
                .filter(|m| m.score >= min_score),
            _ => None,
        }
    }

    fn search_in(&self, words: &Words<'_>, lang: Lang) -> Option<KbMatch> {
        let index = self.indexes.get(&lang)?;
        let stemmer = &self.stemmers[&lang];
        let mut query: Vec<u32> = Vec::with_capacity(32);
        for (i, token) in words.text.tokens().enumerate() {
            if token.len() < 2 || words.is_stop(i, lang) {
                continue;
            }
            let word = words.ids[i];
            let id = if word != NO_WORD && (word as usize) < index.by_word.len() {
                Some(index.by_word[word as usize]).filter(|t| *t != NO_TERM)
            } else if index.heads.contains(head(token)) {
                index.terms.get(stemmer.stem(token).as_ref()).copied()
            } else {
                None
            };
            if let Some(id) = id
                && !query.contains(&id)
            {
                query.push(id);
            }
        }
        if query.is_empty() {
            return None;
        }
        let mut scores = vec![0.0f64; index.docs.len()];
        for &q in &query {
            let idf = index.idf[q as usize];
            for &(doc, tf) in &index.postings[q as usize] {
                let norm = index.docs[doc as usize].norm;
                scores[doc as usize] += idf * tf * (self.k1 + 1.0) / (tf + norm);
            }
        }
        let mut best: Option<(usize, f64)> = None;
        let mut runner_up = 0.0f64;
        for (pos, &score) in scores.iter().enumerate() {
            match best {
                Some((_, s)) if score <= s => runner_up = runner_up.max(score),
                _ => {
                    if let Some((_, s)) = best {
                        runner_up = runner_up.max(s);
                    }
                    best = Some((pos, score));
                }
            }
        }
        let (pos, score) = best?;
        if score <= 0.0 {
            return None;
        }
        let doc = &index.docs[pos];
        let covered = doc
            .keywords
            .iter()
            .filter(|k| k.iter().all(|t| query.contains(t)))
            .count();
        let keyword_coverage = if doc.keywords.is_empty() {
            0.0
        } else {
            (covered as f64 / (doc.keywords.len() as f64).min(3.0)).min(1.0)
        };
        let matched_terms: Vec<String> = query
            .iter()
            .filter(|q| {
                index.postings[**q as usize]
                    .iter()
                    .any(|(d, _)| *d as usize == pos)
            })
            .take(6)
            .map(|q| index.term_text[*q as usize].clone())
            .collect();
        Some(KbMatch {
            article: doc.article,
            score,
            runner_up,
            keyword_coverage,
            matched_terms,
        })
    }
}

fn head(word: &str) -> &str {
    match word.char_indices().nth(3) {
        Some((i, _)) => &word[..i],
        None => word,
    }
}

/// (folded word, stem) pairs of a text, stop words left out.
fn terms(
    text: &str,
    lang: Lang,
    stemmer: &rust_stemmers::Stemmer,
    language: &LanguageModel,
) -> Vec<(String, String)> {
    let prepared = Prepared::new("", text, usize::MAX);
    prepared
        .tokens()
        .filter(|t| t.len() >= 2 && !language.is_stopword(lang, t))
        .map(|t| (t.to_string(), stemmer.stem(t).into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    /// The knowledge base with a vocabulary of its words and stop words, as the engine
    /// builds it.
    fn search(
        kb: &KnowledgeBase,
        vocab: &(crate::engine::lexicon::Matcher<u8>, Vec<u8>),
        subject: &str,
        body: &str,
        lang: Lang,
    ) -> Option<KbMatch> {
        let text = Prepared::new(subject, body, 1000);
        let ids = vocab.0.token_ids(&text);
        kb.search(
            &Words {
                text: &text,
                ids: &ids,
                stop_masks: &vocab.1,
            },
            lang,
            0.1,
        )
    }

    fn vocabulary(
        kb: &mut KnowledgeBase,
        lm: &LanguageModel,
    ) -> (crate::engine::lexicon::Matcher<u8>, Vec<u8>) {
        let mut m = crate::engine::lexicon::Matcher::new([]);
        for w in kb.words() {
            m.intern(&w);
        }
        let stops: Vec<(&str, u8)> = lm.stop_words().collect();
        for (w, _) in &stops {
            m.intern(w);
        }
        let mut masks = vec![0u8; m.vocabulary_len()];
        for (w, mask) in stops {
            masks[m.intern(w) as usize] = mask;
        }
        kb.learn_vocabulary(m.words(), m.vocabulary_len());
        (m, masks)
    }

    fn kb() -> (KnowledgeBase, LanguageModel) {
        let policy = Policy::default_policy();
        let lm = LanguageModel::new();
        let sources = vec![(
            "t.json".to_string(),
            r#"{"category":"t","articles":[
              {"id":"A","question":"How do I set up webhooks?","answer":"Go to Settings > Webhooks and add an endpoint.","keywords":["webhook","endpoint"]},
              {"id":"B","question":"How do I download an invoice?","answer":"Open Billing > Invoices and click Download.","keywords":["invoice","billing"]},
              {"id":"B-fr","language":"fr","question":"Comment télécharger une facture ?","answer":"Ouvrez Facturation > Factures.","keywords":["facture"]}
            ]}"#
            .to_string(),
        )];
        (
            KnowledgeBase::from_sources(&sources, &policy.draft, &lm).unwrap(),
            lm,
        )
    }

    #[test]
    fn finds_the_article_that_answers_the_question() {
        let (mut kb, lm) = kb();
        let v = vocabulary(&mut kb, &lm);
        let m = search(
            &kb,
            &v,
            "Invoices",
            "Where can I download last month's invoices?",
            Lang::En,
        )
        .unwrap();
        assert_eq!(kb.articles[m.article].id, "B");
        assert!(m.score > m.runner_up);
        assert!(m.keyword_coverage > 0.0);
    }

    #[test]
    fn searches_in_the_ticket_language_first() {
        let (mut kb, lm) = kb();
        let v = vocabulary(&mut kb, &lm);
        let m = search(&kb, &v, "", "Où télécharger nos factures ?", Lang::Fr).unwrap();
        assert_eq!(kb.articles[m.article].id, "B-fr");
    }

    #[test]
    fn nothing_relevant_gives_nothing() {
        let (mut kb, lm) = kb();
        let v = vocabulary(&mut kb, &lm);
        assert!(search(&kb, &v, "", "The weather is nice today", Lang::En).is_none());
        // Words outside the vocabulary are stemmed on the fly.
        assert!(search(&kb, &v, "", "downloading invoicing", Lang::En).is_some());
    }

    #[test]
    fn rejects_duplicate_ids() {
        let policy = Policy::default_policy();
        let lm = LanguageModel::new();
        let src = vec![(
            "d.json".to_string(),
            r#"{"articles":[{"id":"X","question":"q","answer":"a"},{"id":"X","question":"q","answer":"a"}]}"#.to_string(),
        )];
        let err = KnowledgeBase::from_sources(&src, &policy.draft, &lm).unwrap_err();
        assert!(err.to_string().contains("duplicate article id X"));
    }
}
