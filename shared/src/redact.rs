//! Personal data out of text that leaves the system: e-mail addresses, phone numbers,
//! payment cards (Luhn-checked), IBANs and API keys or tokens are replaced with
//! placeholders and counted. Used before anything is sent to a language model.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// How many pieces of each kind of personal data were replaced before sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redactions {
    pub emails: u32,
    pub phones: u32,
    pub cards: u32,
    pub ibans: u32,
    pub secrets: u32,
}

impl Redactions {
    pub fn total(&self) -> u32 {
        self.emails + self.phones + self.cards + self.ibans + self.secrets
    }

    pub fn add(&mut self, other: Redactions) {
        self.emails += other.emails;
        self.phones += other.phones;
        self.cards += other.cards;
        self.ibans += other.ibans;
        self.secrets += other.secrets;
    }
}

struct Patterns {
    email: Regex,
    iban: Regex,
    card: Regex,
    secret: Regex,
    phone: Regex,
    date: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        email: Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").expect("valid"),
        iban: Regex::new(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b").expect("valid"),
        card: Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("valid"),
        secret: Regex::new(
            r"(?i)\b(?:bearer\s+[a-z0-9._~+/-]{16,}=*|(?:sk|pk|rk|ghp|gho|xox[abprs])[-_][a-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|[a-z0-9_-]*(?:key|token|secret)[a-z0-9_-]*\s*[:=]\s*\S{12,}|[a-z0-9]{32,})\b",
        )
        .expect("valid"),
        phone: Regex::new(r"\+?\(?\d[\d\s().-]{7,}\d").expect("valid"),
        date: Regex::new(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[./]\d{1,2}[./]\d{2,4}").expect("valid"),
    })
}

fn luhn(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&d.len()) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Replaces e-mail addresses, payment card numbers, IBANs, API keys and tokens, and
/// phone numbers with placeholders, counting each kind.
pub fn redact(text: &str) -> (String, Redactions) {
    let p = patterns();
    let mut counts = Redactions::default();
    let mut out = p
        .email
        .replace_all(text, |_: &regex::Captures| {
            counts.emails += 1;
            "[EMAIL]"
        })
        .into_owned();
    out = p
        .iban
        .replace_all(&out, |_: &regex::Captures| {
            counts.ibans += 1;
            "[IBAN]"
        })
        .into_owned();
    out = p
        .card
        .replace_all(&out, |c: &regex::Captures| {
            if luhn(&c[0]) {
                counts.cards += 1;
                "[CARD]".to_string()
            } else {
                c[0].to_string()
            }
        })
        .into_owned();
    out = p
        .secret
        .replace_all(&out, |c: &regex::Captures| {
            let s = &c[0];
            // A long run of letters only is a word, not a key.
            if s.len() >= 32
                && s.chars().all(|ch| ch.is_ascii_alphanumeric())
                && !s.chars().any(|ch| ch.is_ascii_digit())
            {
                s.to_string()
            } else {
                counts.secrets += 1;
                "[SECRET]".to_string()
            }
        })
        .into_owned();
    out = p
        .phone
        .replace_all(&out, |c: &regex::Captures| {
            let s = &c[0];
            let digits = s.chars().filter(char::is_ascii_digit).count();
            if (9..=15).contains(&digits) && !p.date.is_match(s.trim_start()) {
                counts.phones += 1;
                "[PHONE]".to_string()
            } else {
                s.to_string()
            }
        })
        .into_owned();
    (out, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_personal_data_and_counts_it() {
        let text = "Mail jane.doe@acme.test or call +33 6 12 34 56 78. Card 4111 1111 1111 1111, \
                    IBAN DE89 3704 0044 0532 0130 00, key sk_live_4eC39HqLyjWDarjtT1zdp7dc. \
                    Order 44812 on 2025-11-14 09:23 for $1,300.";
        let (out, n) = redact(text);
        assert_eq!(
            n,
            Redactions {
                emails: 1,
                phones: 1,
                cards: 1,
                ibans: 1,
                secrets: 1
            },
            "{out}"
        );
        for gone in ["jane.doe", "12 34 56", "4111", "DE89", "sk_live"] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        for kept in ["44812", "2025-11-14 09:23", "$1,300"] {
            assert!(out.contains(kept), "{kept} lost in {out}");
        }
        // A number that fails the Luhn check is not a card.
        assert_eq!(redact("ref 1234 5678 9012 3456").1.cards, 0);
    }
}
