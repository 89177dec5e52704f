//! Opportunity: revenue intent for Sales. Intents are phrases in context ("upgrade to
//! the enterprise plan", "add three more stores"), with their keyword traps excluded at
//! match time ("after upgrading WooCommerce"). A price complaint, a billing dispute, a
//! downgrade or cancellation lowers the confidence; so does an incident in progress.

use super::found::{Found, quote, round2};
use super::signals::Signal;
use crate::domain::{Intent, OpportunitySignal, Priority};
use crate::policy::Policy;
use crate::text::Prepared;

const INTENTS: &[(Signal, Intent)] = &[
    (Signal::PricingRequest, Intent::PricingRequest),
    (Signal::Upgrade, Intent::Upgrade),
    (Signal::Expansion, Intent::Expansion),
    (Signal::AddOn, Intent::AddOn),
    (Signal::HigherLimits, Intent::HigherLimits),
    (Signal::Services, Intent::Services),
];

/// The intents phrased in the ticket, strongest first: (policy weight, intent, reason).
pub fn intents(found: &Found, text: &Prepared, policy: &Policy) -> Vec<(f64, Intent, String)> {
    let mut out = Vec::new();
    for (signal, intent) in INTENTS {
        if let Some(hit) = found.of(*signal).next() {
            let w = policy.intent_weight(*signal);
            out.push((
                w,
                *intent,
                format!("{intent} {} ({w:.2})", quote(text, hit)),
            ));
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out
}

pub fn assess(
    found: &Found,
    text: &Prepared,
    priority: Priority,
    policy: &Policy,
) -> OpportunitySignal {
    let o = &policy.opportunity;
    let phrased = intents(found, text, policy);
    let best = phrased.first().map_or(0.0, |x| x.0);
    let mut reasons: Vec<String> = phrased.iter().map(|x| x.2.clone()).collect();
    let intents: Vec<(f64, Intent)> = phrased.iter().map(|x| (x.0, x.1)).collect();
    if intents.is_empty() {
        return OpportunitySignal {
            detected: false,
            intents: Vec::new(),
            confidence: 0.0,
            reasons: vec!["no revenue intent".to_string()],
        };
    }
    let mut confidence = (best + o.extra_intent_bonus * (intents.len() - 1) as f64).min(0.99);
    let negative = found
        .of(Signal::NotAnOpportunity)
        .next()
        .or_else(|| found.of(Signal::CancelIntent).next());
    if let Some(hit) = negative {
        confidence *= o.negative_context_factor;
        reasons.push(format!(
            "price complaint, dispute, downgrade or cancellation {} (x{:.2})",
            quote(text, hit),
            o.negative_context_factor
        ));
    }
    if matches!(priority, Priority::P0 | Priority::P1) && o.incident_factor < 1.0 {
        confidence *= o.incident_factor;
        reasons.push(format!(
            "{priority} incident in progress (x{:.2})",
            o.incident_factor
        ));
    }
    let confidence = round2(confidence);
    let detected = confidence >= o.min_confidence;
    OpportunitySignal {
        detected,
        intents: if detected {
            intents.into_iter().map(|(_, i)| i).collect()
        } else {
            Vec::new()
        },
        confidence,
        reasons,
    }
}
