//! Priority rules (P0-P3). Signals fall into five groups:
//! - malfunction (outage, blocked revenue, data loss, breach, broken, failing
//!   integration, degradation, wrong data, configuration): the strongest one counts,
//!   plus a share of the runner-up;
//! - impact (wide scope, no workaround, business impact, urgency, money or volume at
//!   stake): added up;
//! - mitigation (workaround, partial scope, cosmetic, no rush, past incident):
//!   subtracted, but a malfunction never drops below P2 unless it is cosmetic or over;
//! - inquiry (question, feature request, pricing): pulls towards P3, less so when
//!   something is also broken.
//!
//! The score is read against the policy's thresholds; P0 also needs a critical signal
//! and a churn threat over a problem (or in anger) sets a floor. When torn, the lower
//! level wins.

use super::catalogue::PriorityWords;
use super::found::{Found, quote, round2};
use super::lexicon::Hit;
use super::signals::Signal;
use crate::domain::Priority;
use crate::policy::Policy;
use crate::text::Prepared;

const MALFUNCTION: &[Signal] = &[
    Signal::Outage,
    Signal::RevenueBlocked,
    Signal::DataLoss,
    Signal::SecurityBreach,
    Signal::Broken,
    Signal::IntegrationFailure,
    Signal::Degraded,
    Signal::DataMismatch,
    Signal::ConfigProblem,
    Signal::Obligation,
];
const IMPACT: &[Signal] = &[
    Signal::WideScope,
    Signal::NoWorkaround,
    Signal::BusinessImpact,
    Signal::Urgency,
    Signal::AtStake,
];
const MITIGATION: &[Signal] = &[
    Signal::Workaround,
    Signal::PartialScope,
    Signal::Minor,
    Signal::NoRush,
    Signal::PastIncident,
];
const INQUIRY: &[Signal] = &[
    Signal::Question,
    Signal::FeatureRequest,
    Signal::PricingQuestion,
];

/// Whether a malfunction is said to go on: a malfunction hit in a sentence with a
/// word saying so ("still missing", "fehlen weiterhin"), which keeps it open even when
/// an earlier part of it was fixed.
fn still_going_on(found: &Found, text: &Prepared, words: &PriorityWords) -> bool {
    MALFUNCTION.iter().flat_map(|s| found.of(*s)).any(|h| {
        let sentence = text.sentence_of(h.start);
        let first = (0..h.start)
            .rev()
            .take_while(|&k| text.sentence_of(k) == sentence)
            .last()
            .unwrap_or(h.start);
        (first..text.len())
            .take_while(|&k| text.sentence_of(k) == sentence)
            .any(|k| words.still.iter().any(|w| w == text.token(k)))
    })
}

#[derive(Debug, Clone)]
pub struct PriorityOutcome {
    pub priority: Priority,
    pub score: f64,
    /// 0.5 on a threshold, towards 1 far from any.
    pub confidence: f64,
    pub reason: String,
}

/// Money (at least 1,000, in a sentence that speaks of loss or liability) or a count of
/// orders, customers, events… (at least 50) written in the ticket.
pub fn at_stake(text: &Prepared, words: &PriorityWords) -> Option<Hit<Signal>> {
    let is = |list: &[String], w: &str| list.iter().any(|x| x == w);
    let n = text.len();
    let mut i = 0;
    while i < n {
        let t = text.token(i);
        let (mut value, mut money) = if let Some(k) = t
            .strip_suffix('k')
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            (k.parse::<f64>().unwrap_or(0.0) * 1000.0, true)
        } else if !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()) {
            (t.parse::<f64>().unwrap_or(0.0), false)
        } else {
            i += 1;
            continue;
        };
        let start = i;
        money |= text.is_money(i)
            || (i > 0
                && text.sentence_of(i - 1) == text.sentence_of(i)
                && is(&words.currency, text.token(i - 1)));
        let mut j = i + 1;
        // "38.000", "3,100": groups of three digits continue the number.
        while j < n
            && text.sentence_of(j) == text.sentence_of(start)
            && text.token(j).len() == 3
            && text.token(j).bytes().all(|b| b.is_ascii_digit())
        {
            value = value * 1000.0 + text.token(j).parse::<f64>().unwrap_or(0.0);
            money |= text.is_money(j);
            j += 1;
        }
        let next = (j < n && text.sentence_of(j) == text.sentence_of(start)).then(|| text.token(j));
        if money && value >= 1000.0 {
            let sentence = text.sentence_of(start);
            // Tokens of a sentence are contiguous: scan outwards from the amount.
            let first = (0..start)
                .rev()
                .take_while(|&k| text.sentence_of(k) == sentence)
                .last()
                .unwrap_or(start);
            money = (first..n)
                .take_while(|&k| text.sentence_of(k) == sentence)
                .any(|k| is(&words.stake, text.token(k)));
        }
        money |= next.is_some_and(|w| is(&words.currency, w));
        let counted = next.is_some_and(|w| is(&words.entities, w));
        if (money && value >= 1000.0) || (counted && value >= 50.0) {
            return Some(Hit {
                signal: Signal::AtStake,
                start,
                end: if counted || next.is_some_and(|w| is(&words.currency, w)) {
                    j + 1
                } else {
                    j
                },
                negated: false,
            });
        }
        i = j;
    }
    None
}

struct Part {
    weight: f64,
    text: String,
}

pub fn assess(
    found: &Found,
    text: &Prepared,
    words: &PriorityWords,
    mrr: Option<f64>,
    churn_threat: bool,
    negative_tone: bool,
    policy: &Policy,
) -> PriorityOutcome {
    let p = &policy.priority;
    let part = |signal: Signal| -> Option<Part> {
        let first = found.of(signal).next()?;
        let in_subject = found.of(signal).any(|h| text.in_subject(h.start));
        let weight =
            policy.priority_weight(signal) * if in_subject { p.subject_weight } else { 1.0 };
        (weight != 0.0).then(|| Part {
            weight,
            text: format!(
                "{} {} {:+.1}{}",
                signal.name(),
                quote(text, first),
                weight,
                if in_subject { " (subject)" } else { "" }
            ),
        })
    };

    let mut parts: Vec<Part> = Vec::new();
    let mut malfunction: Vec<Part> = MALFUNCTION.iter().filter_map(|s| part(*s)).collect();
    malfunction.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    let mut score = 0.0;
    let broken = !malfunction.is_empty();
    let clearly_broken = malfunction
        .first()
        .is_some_and(|m| m.weight >= p.p2_threshold);
    for (i, m) in malfunction.into_iter().enumerate() {
        let w = match i {
            0 => m.weight,
            1 => m.weight * p.corroboration,
            _ => continue,
        };
        score += w;
        parts.push(Part {
            weight: w,
            text: if i == 0 {
                m.text
            } else {
                format!("{} (x{:.1} as second malfunction)", m.text, p.corroboration)
            },
        });
    }
    let critical = p
        .critical_signals
        .iter()
        .filter_map(|n| Signal::by_name(n))
        .any(|s| found.has(s));
    for s in IMPACT.iter().chain(MITIGATION) {
        if let Some(mut pt) = part(*s) {
            if critical && matches!(*s, Signal::Minor | Signal::NoRush) {
                // "Small thing, no rush: none of our orders shipped" is politeness.
                pt.text = format!("{} ignored: politeness next to a critical signal", pt.text);
                pt.weight = 0.0;
            }
            score += pt.weight;
            parts.push(pt);
        }
    }
    for s in INQUIRY {
        if let Some(mut pt) = part(*s) {
            if broken {
                pt.weight *= p.inquiry_damping;
                pt.text = format!(
                    "{} (x{:.1}: something is also wrong)",
                    pt.text, p.inquiry_damping
                );
            }
            score += pt.weight;
            parts.push(pt);
        }
    }
    if let Some(m) = mrr
        && m >= p.high_value_mrr
        && p.high_value_points != 0.0
    {
        score += p.high_value_points;
        parts.push(Part {
            weight: p.high_value_points,
            text: format!(
                "high-value account (MRR {m:.0}) {:+.1}",
                p.high_value_points
            ),
        });
    }

    let mut priority = if critical && score >= p.p0_threshold {
        Priority::P0
    } else if score >= p.p1_threshold {
        Priority::P1
    } else if score >= p.p2_threshold {
        Priority::P2
    } else {
        Priority::P3
    };
    let mut floor_note = String::new();
    // Something broken with a workaround is still P2 (the definition of P2), unless it
    // is cosmetic or already over ("fixed, thanks" is over; "fixed, but three days are
    // still missing" is not).
    if clearly_broken
        && priority == Priority::P3
        && !found.has(Signal::Minor)
        && (!found.has(Signal::PastIncident) || still_going_on(found, text, words))
    {
        priority = Priority::P2;
        floor_note = "; kept at P2: something is broken (workaround or not)".to_string();
    }
    // A threat to leave over a problem is urgent; a calm, settled cancellation is not.
    if churn_threat && (clearly_broken || negative_tone) && priority > p.churn_threat_floor {
        priority = p.churn_threat_floor;
        floor_note = format!("; raised to {priority} by a churn threat over an unresolved problem");
    }

    let distance = [p.p0_threshold, p.p1_threshold, p.p2_threshold]
        .iter()
        .map(|t| (score - t).abs())
        .fold(f64::INFINITY, f64::min);
    let confidence = round2((0.5 + distance / 4.0).min(1.0));

    parts.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    let signals = if parts.is_empty() {
        "no impact signal".to_string()
    } else {
        parts
            .into_iter()
            .map(|pt| pt.text)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let band = match priority {
        Priority::P0 => format!("P0 from {:.1} with a critical signal", p.p0_threshold),
        Priority::P1 => format!("P1 from {:.1}", p.p1_threshold),
        Priority::P2 => format!("P2 from {:.1}", p.p2_threshold),
        Priority::P3 => format!("P3 below {:.1}", p.p2_threshold),
    };
    PriorityOutcome {
        priority,
        score: round2(score),
        confidence,
        reason: format!("priority {priority} (score {score:.1}; {band}): {signals}{floor_note}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stake(s: &str) -> Option<String> {
        let p = Prepared::new("", s, 10_000);
        let words = super::super::catalogue::Catalogue::embedded()
            .unwrap()
            .priority_words;
        at_stake(&p, &words).map(|h| p.span_text(h.start, h.end))
    }

    #[test]
    fn finds_money_and_volume_at_stake() {
        assert_eq!(stake("about $38k outstanding").as_deref(), Some("38k"));
        assert_eq!(stake("casi 38.000 € pendientes").as_deref(), Some("38 000"));
        assert_eq!(stake("we lost USD 12,000 today").as_deref(), Some("12 000"));
        assert_eq!(stake("Shopify says $4,210 and yours says $3,870"), None);
        assert_eq!(stake("we oversold 340 units").as_deref(), Some("340 units"));
        assert_eq!(
            stake("around 1,900 purchases").as_deref(),
            Some("1 900 purchases")
        );
        assert_eq!(stake("order 44812 was charged twice"), None);
        assert_eq!(stake("a refund of $35"), None);
        assert_eq!(stake("3 orders missing"), None);
    }
}
