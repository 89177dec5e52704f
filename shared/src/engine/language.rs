//! Language identification and per-language word lists (stop words, stemmers).
//!
//! Function words decide between English, French, German and Spanish (fast and
//! reliable on a few sentences); `whatlang` decides when they do not, and names other
//! languages.

use rustc_hash::FxHashMap as HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use crate::text::Prepared;

/// Languages with lexicons, drafts and a stemmer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
    De,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::De, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Es => "es",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn stemmer(self) -> Stemmer {
        Stemmer::create(match self {
            Lang::En => Algorithm::English,
            Lang::Fr => Algorithm::French,
            Lang::De => Algorithm::German,
            Lang::Es => Algorithm::Spanish,
        })
    }
}

const EN: &[&str] = &[
    "the", "and", "is", "are", "was", "were", "we", "our", "you", "your", "it", "this", "that",
    "with", "for", "have", "has", "not", "but", "from", "they", "been", "can", "would", "could",
    "there", "what", "when", "which", "will", "just", "any", "all", "of", "to", "in", "on", "a",
    "an", "be", "do", "does", "did", "i", "my", "me", "us", "hi", "hello", "thanks", "please",
    "since", "after", "into", "still", "how", "why", "at", "or", "if", "so", "no", "as", "by",
];
const FR: &[&str] = &[
    "le",
    "la",
    "les",
    "des",
    "du",
    "de",
    "un",
    "une",
    "et",
    "est",
    "sont",
    "nous",
    "notre",
    "nos",
    "vous",
    "votre",
    "vos",
    "je",
    "il",
    "elle",
    "ce",
    "cette",
    "ces",
    "qui",
    "que",
    "quoi",
    "pour",
    "avec",
    "sans",
    "dans",
    "sur",
    "pas",
    "ne",
    "plus",
    "mais",
    "ou",
    "au",
    "aux",
    "depuis",
    "merci",
    "bonjour",
    "avons",
    "avez",
    "ont",
    "etre",
    "fait",
    "tres",
    "aussi",
    "tout",
    "tous",
    "toutes",
    "comment",
    "pourquoi",
    "quand",
    "cordialement",
    "mon",
    "ma",
    "mes",
    "leur",
    "leurs",
    "j",
    "l",
    "d",
    "qu",
    "n",
    "c",
    "s",
];
const DE: &[&str] = &[
    "der",
    "die",
    "das",
    "den",
    "dem",
    "des",
    "und",
    "ist",
    "sind",
    "wir",
    "unser",
    "unsere",
    "unseren",
    "sie",
    "ihr",
    "ihre",
    "ich",
    "es",
    "ein",
    "eine",
    "einen",
    "nicht",
    "mit",
    "fur",
    "auf",
    "von",
    "zu",
    "im",
    "bei",
    "seit",
    "aber",
    "oder",
    "auch",
    "noch",
    "schon",
    "wie",
    "was",
    "wann",
    "warum",
    "bitte",
    "danke",
    "hallo",
    "haben",
    "hat",
    "wird",
    "werden",
    "kein",
    "keine",
    "mehr",
    "nur",
    "uns",
    "dass",
    "wenn",
    "gruss",
    "grussen",
    "freundlichen",
    "guten",
    "tag",
    "mein",
    "meine",
];
const ES: &[&str] = &[
    "el", "la", "los", "las", "del", "de", "un", "una", "y", "es", "son", "nosotros", "nuestro",
    "nuestra", "nuestros", "nuestras", "usted", "ustedes", "su", "sus", "yo", "que", "con", "sin",
    "para", "por", "en", "no", "pero", "o", "desde", "gracias", "hola", "hemos", "han", "ha",
    "esta", "estan", "este", "esto", "muy", "tambien", "todo", "todos", "como", "cuando", "porque",
    "saludos", "mi", "mis", "se", "lo", "al", "nos", "hay",
];

/// Stop words and language votes.
#[derive(Debug, Clone)]
pub struct LanguageModel {
    words: HashMap<&'static str, u8>,
    detector: whatlang::Detector,
}

impl Default for LanguageModel {
    fn default() -> Self {
        Self::new()
    }
}

/// The detected language with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// ISO 639-1 code ("en", "fr", …).
    pub code: &'static str,
    /// The lexicon language used for drafts and stemming (English when unsupported).
    pub lang: Lang,
    pub reason: String,
}

impl LanguageModel {
    pub fn new() -> Self {
        let mut words: HashMap<&'static str, u8> = HashMap::default();
        for (lang, list) in [
            (Lang::En, EN),
            (Lang::Fr, FR),
            (Lang::De, DE),
            (Lang::Es, ES),
        ] {
            for w in list {
                *words.entry(w).or_default() |= lang.bit();
            }
        }
        use whatlang::Lang as W;
        Self {
            words,
            detector: whatlang::Detector::with_allowlist(vec![
                W::Eng,
                W::Fra,
                W::Deu,
                W::Spa,
                W::Ita,
                W::Por,
                W::Nld,
            ]),
        }
    }

    pub fn is_stopword(&self, lang: Lang, word: &str) -> bool {
        self.words.get(word).is_some_and(|m| m & lang.bit() != 0)
    }

    /// Stop words with the languages they belong to (a bit per [`Lang`]).
    pub fn stop_words(&self) -> impl Iterator<Item = (&'static str, u8)> + '_ {
        self.words.iter().map(|(w, m)| (*w, *m))
    }

    /// Whether a stop-word mask (from [`Self::stop_words`]) includes `lang`.
    pub fn mask_has(mask: u8, lang: Lang) -> bool {
        mask & lang.bit() != 0
    }

    /// Decides the language of a ticket. `raw` is the original text, for `whatlang`.
    pub fn detect(&self, text: &Prepared, raw: &str) -> Detected {
        let masks = text
            .tokens()
            .map(|t| self.words.get(t).copied().unwrap_or(0));
        self.detect_from_masks(masks, raw)
    }

    /// [`Self::detect`] from each token's stop-word mask.
    pub fn detect_from_masks(&self, masks: impl Iterator<Item = u8>, raw: &str) -> Detected {
        let mut votes = [0u32; 4];
        for mask in masks {
            if mask != 0 {
                for lang in Lang::ALL {
                    if mask & lang.bit() != 0 {
                        votes[lang as usize] += 1;
                    }
                }
            }
        }
        let mut ranked: Vec<(Lang, u32)> =
            Lang::ALL.iter().map(|l| (*l, votes[*l as usize])).collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
        let (best, top) = ranked[0];
        let second = ranked[1].1;
        if top >= 3 && top as f64 >= second as f64 * 1.5 {
            return Detected {
                code: best.code(),
                lang: best,
                reason: format!("function words: {} {top} vs {second}", best.code()),
            };
        }
        let sample: String = raw.chars().take(1000).collect();
        if let Some(info) = self.detector.detect(&sample) {
            let code = match info.lang() {
                whatlang::Lang::Eng => "en",
                whatlang::Lang::Fra => "fr",
                whatlang::Lang::Deu => "de",
                whatlang::Lang::Spa => "es",
                whatlang::Lang::Ita => "it",
                whatlang::Lang::Por => "pt",
                whatlang::Lang::Nld => "nl",
                _ => "en",
            };
            if info.is_reliable() {
                let lang = Lang::from_code(code).unwrap_or(Lang::En);
                return Detected {
                    code,
                    lang,
                    reason: format!(
                        "trigram model: {code} (confidence {:.2})",
                        info.confidence()
                    ),
                };
            }
        }
        let lang = if top > 0 { best } else { Lang::En };
        Detected {
            code: lang.code(),
            lang,
            reason: if top > 0 {
                format!("few function words: {} {top} vs {second}", lang.code())
            } else {
                "too little text; English assumed".to_string()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(s: &str) -> &'static str {
        let m = LanguageModel::new();
        m.detect(&Prepared::new("", s, 10_000), s).code
    }

    #[test]
    fn tells_the_four_languages_apart() {
        assert_eq!(
            detect("Our Shopify orders are not syncing since this morning, can you check?"),
            "en"
        );
        assert_eq!(
            detect("Bonjour, nos commandes ne sont plus synchronisées depuis ce matin."),
            "fr"
        );
        assert_eq!(
            detect("Hallo, seit heute Morgen werden unsere Bestellungen nicht mehr übertragen."),
            "de"
        );
        assert_eq!(
            detect("Hola, desde esta mañana los pedidos no se sincronizan con la tienda."),
            "es"
        );
    }

    #[test]
    fn names_languages_without_lexicons() {
        assert_eq!(
            detect(
                "Buongiorno, gli ordini non vengono sincronizzati da stamattina, potete verificare per favore?"
            ),
            "it"
        );
    }

    #[test]
    fn short_text_defaults_sensibly() {
        assert_eq!(detect("webhook 500"), "en");
    }
}
