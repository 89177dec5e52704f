//! The knowledge base and its search: BM25 over question, answer and keywords, one
//! index per language with that language's stemmer.

use std::collections::HashMap;

use serde::Deserialize;

use super::language::{Lang, LanguageModel};
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

#[derive(Debug, Clone, Default)]
struct Doc {
    /// term → weighted frequency
    terms: HashMap<String, f64>,
    length: f64,
    /// Each keyword as the list of its stems.
    keywords: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
struct Index {
    docs: Vec<(usize, Doc)>,
    idf: HashMap<String, f64>,
    avg_length: f64,
}

pub struct KnowledgeBase {
    pub articles: Vec<Article>,
    pub categories: Vec<String>,
    indexes: HashMap<Lang, Index>,
    stemmers: HashMap<Lang, rust_stemmers::Stemmer>,
    k1: f64,
    b: f64,
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
        let stemmers: HashMap<Lang, rust_stemmers::Stemmer> =
            Lang::ALL.iter().map(|l| (*l, l.stemmer())).collect();
        let mut indexes: HashMap<Lang, Index> = HashMap::new();
        for (i, a) in articles.iter().enumerate() {
            let lang = Lang::from_code(&a.language).unwrap_or(Lang::En);
            let stemmer = &stemmers[&lang];
            let mut doc = Doc::default();
            for (field, weight) in [
                (&a.question, policy.question_weight),
                (&a.answer, policy.answer_weight),
                (&a.keywords.join(" . "), policy.keywords_weight),
            ] {
                for term in terms(field, lang, stemmer, language) {
                    *doc.terms.entry(term).or_default() += weight;
                    doc.length += weight;
                }
            }
            doc.keywords = a
                .keywords
                .iter()
                .map(|k| terms(k, lang, stemmer, language))
                .filter(|k| !k.is_empty())
                .collect();
            indexes.entry(lang).or_default().docs.push((i, doc));
        }
        for index in indexes.values_mut() {
            let n = index.docs.len() as f64;
            let mut df: HashMap<String, f64> = HashMap::new();
            for (_, d) in &index.docs {
                for t in d.terms.keys() {
                    *df.entry(t.clone()).or_default() += 1.0;
                }
            }
            index.idf = df
                .into_iter()
                .map(|(t, f)| (t, (1.0 + (n - f + 0.5) / (f + 0.5)).ln()))
                .collect();
            index.avg_length = index.docs.iter().map(|(_, d)| d.length).sum::<f64>() / n.max(1.0);
        }
        Ok(Self {
            articles,
            categories,
            indexes,
            stemmers,
            k1: policy.bm25_k1,
            b: policy.bm25_b,
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

    /// The best article for a ticket in `lang`; English articles are searched when the
    /// language has none or none that scores.
    pub fn search(
        &self,
        text: &Prepared,
        lang: Lang,
        language: &LanguageModel,
        min_score: f64,
    ) -> Option<KbMatch> {
        let first = self.search_in(text, lang, language);
        match first {
            Some(m) if m.score >= min_score => Some(m),
            _ if lang != Lang::En => self
                .search_in(text, Lang::En, language)
                .filter(|m| m.score >= min_score),
            _ => None,
        }
    }

    fn search_in(&self, text: &Prepared, lang: Lang, language: &LanguageModel) -> Option<KbMatch> {
        let index = self.indexes.get(&lang)?;
        let stemmer = &self.stemmers[&lang];
        let mut query: Vec<String> = Vec::with_capacity(text.len());
        for token in text.tokens() {
            if token.len() < 2 || language.is_stopword(lang, token) {
                continue;
            }
            let stem = stemmer.stem(token).into_owned();
            if index.idf.contains_key(&stem) && !query.contains(&stem) {
                query.push(stem);
            }
        }
        if query.is_empty() {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        let mut runner_up = 0.0f64;
        for (pos, (_, doc)) in index.docs.iter().enumerate() {
            let norm = self.k1 * (1.0 - self.b + self.b * doc.length / index.avg_length.max(1e-9));
            let mut score = 0.0;
            for q in &query {
                if let Some(tf) = doc.terms.get(q) {
                    score += index.idf[q] * tf * (self.k1 + 1.0) / (tf + norm);
                }
            }
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
        let (article, doc) = &index.docs[pos];
        let covered = doc
            .keywords
            .iter()
            .filter(|k| k.iter().all(|stem| query.contains(stem)))
            .count();
        let keyword_coverage = if doc.keywords.is_empty() {
            0.0
        } else {
            (covered as f64 / (doc.keywords.len() as f64).min(3.0)).min(1.0)
        };
        let mut matched_terms: Vec<String> = query
            .iter()
            .filter(|q| doc.terms.contains_key(*q))
            .cloned()
            .collect();
        matched_terms.truncate(6);
        Some(KbMatch {
            article: *article,
            score,
            runner_up,
            keyword_coverage,
            matched_terms,
        })
    }
}

fn terms(
    text: &str,
    lang: Lang,
    stemmer: &rust_stemmers::Stemmer,
    language: &LanguageModel,
) -> Vec<String> {
    let prepared = Prepared::new("", text, usize::MAX);
    prepared
        .tokens()
        .filter(|t| t.len() >= 2 && !language.is_stopword(lang, t))
        .map(|t| stemmer.stem(t).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

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
        let (kb, lm) = kb();
        let t = Prepared::new(
            "Invoices",
            "Where can I download last month's invoices?",
            1000,
        );
        let m = kb.search(&t, Lang::En, &lm, 0.1).unwrap();
        assert_eq!(kb.articles[m.article].id, "B");
        assert!(m.score > m.runner_up);
        assert!(m.keyword_coverage > 0.0);
    }

    #[test]
    fn searches_in_the_ticket_language_first() {
        let (kb, lm) = kb();
        let t = Prepared::new("", "Où télécharger nos factures ?", 1000);
        let m = kb.search(&t, Lang::Fr, &lm, 0.1).unwrap();
        assert_eq!(kb.articles[m.article].id, "B-fr");
    }

    #[test]
    fn nothing_relevant_gives_nothing() {
        let (kb, lm) = kb();
        let t = Prepared::new("", "The weather is nice today", 1000);
        assert!(kb.search(&t, Lang::En, &lm, 0.1).is_none());
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
