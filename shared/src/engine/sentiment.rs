//! Sentiment: weighted tone signals (frustration, insults, threats, praise, politeness),
//! shouting and "!!!", squashed into a score from -1 to 1 and a label. Praise that sits
//! next to a complaint in the same sentence ("Great, checkout is down again") is read
//! as sarcasm; "not happy" counts as a complaint.

use super::found::{Found, quote, round2};
use super::signals::{Family, Signal};
use crate::domain::{Sentiment, SentimentLabel};
use crate::policy::Policy;
use crate::text::Prepared;

#[derive(Debug, Clone)]
pub struct SentimentOutcome {
    pub sentiment: Sentiment,
    /// Profanity, insults or threats were present.
    pub hostile: bool,
    pub reason: String,
}

/// Signals that make praise in the same sentence sarcastic.
const COMPLAINTS: &[Signal] = &[
    Signal::Broken,
    Signal::Outage,
    Signal::RevenueBlocked,
    Signal::IntegrationFailure,
    Signal::Repeated,
    Signal::Negative,
    Signal::StrongNegative,
    Signal::Insult,
];

pub fn assess(found: &Found, text: &Prepared, policy: &Policy) -> SentimentOutcome {
    let sp = &policy.sentiment;
    let complaint_sentences: Vec<u16> = found
        .hits
        .iter()
        .filter(|h| COMPLAINTS.contains(&h.signal) && !h.negated)
        .map(|h| text.sentence_of(h.start))
        .collect();
    let sarcasm_sentences: Vec<u16> = found
        .of(Signal::Sarcasm)
        .map(|h| text.sentence_of(h.start))
        .collect();

    let mut raw = 0.0;
    let mut parts: Vec<(f64, String)> = Vec::new();
    let mut add = |w: f64, what: String, parts: &mut Vec<(f64, String)>| {
        raw += w;
        parts.push((w, what));
    };

    let mut implied_sarcasm = None;
    for signal in Signal::of_family(Family::Sentiment) {
        let weight = policy.sentiment_weight(signal);
        let mut counted = 0usize;
        let mut first = None;
        for h in found.all_of(signal) {
            let sentence = text.sentence_of(h.start);
            if signal == Signal::Positive {
                if h.negated {
                    // "not happy", "pas satisfait": a complaint.
                    let w = -weight;
                    add(
                        w,
                        format!("negated praise {} {w:+.2}", quote(text, h)),
                        &mut parts,
                    );
                    continue;
                }
                if sarcasm_sentences.contains(&sentence) {
                    continue;
                }
                if complaint_sentences.contains(&sentence) {
                    implied_sarcasm.get_or_insert_with(|| quote(text, h));
                    continue;
                }
            } else if h.negated && found.negatable(signal) {
                continue;
            }
            counted += 1;
            first.get_or_insert(*h);
        }
        if counted == 0 {
            continue;
        }
        let n = counted.min(3) as f64;
        let w = weight * (1.0 + sp.repeat_factor * (n - 1.0));
        let h = first.expect("counted > 0");
        add(
            w,
            format!(
                "{} {}{} {w:+.2}",
                signal.name(),
                quote(text, &h),
                if counted > 1 {
                    format!(" x{counted}")
                } else {
                    String::new()
                }
            ),
            &mut parts,
        );
    }
    if let Some(q) = implied_sarcasm
        && sarcasm_sentences.is_empty()
    {
        let w = policy.sentiment_weight(Signal::Sarcasm);
        add(
            w,
            format!("sarcasm: praise {q} next to a complaint {w:+.2}"),
            &mut parts,
        );
    }
    if f64::from(text.caps_ratio) >= sp.shouting_caps_ratio {
        add(
            sp.shouting_weight,
            format!(
                "shouting ({:.0}% capitals) {:+.2}",
                text.caps_ratio * 100.0,
                sp.shouting_weight
            ),
            &mut parts,
        );
    }
    if text.exclamation_runs > 0 {
        let w = sp.exclamation_weight * f64::from(text.exclamation_runs.min(3));
        add(
            w,
            format!("{} runs of '!!' {w:+.2}", text.exclamation_runs),
            &mut parts,
        );
    }

    let score = round2((raw / sp.scale).tanh());
    let hostile = [Signal::Profanity, Signal::Insult, Signal::Threat]
        .iter()
        .any(|s| found.has(*s));
    let label = if score <= sp.aggressive_below || (hostile && score <= sp.frustrated_below) {
        SentimentLabel::Aggressive
    } else if score <= sp.frustrated_below {
        SentimentLabel::Frustrated
    } else if score >= sp.positive_above {
        SentimentLabel::Positive
    } else {
        SentimentLabel::Neutral
    };
    parts.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    let detail = if parts.is_empty() {
        "no tone signal".to_string()
    } else {
        parts
            .into_iter()
            .take(5)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("; ")
    };
    SentimentOutcome {
        sentiment: Sentiment { label, score },
        hostile,
        reason: format!("sentiment {label} ({score:+.2}): {detail}"),
    }
}
