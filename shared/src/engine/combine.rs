//! One decision from the learned model and the phrase rules: the model decides
//! priority, team, churn and opportunity; the rules' critical signals are guardrails
//! that may raise the priority, never lower it. Confidence is the calibrated
//! probability of what was decided, lowered when the model knows little of the words
//! or the language; a low confidence, or a ticket that may be a P0 and was decided
//! lower, is flagged for review.

use super::model::Prediction;
use crate::domain::{Priority, Team};
use crate::policy::ModelPolicy;

/// The priority decision with its confidence and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityChoice {
    pub priority: Priority,
    pub confidence: f64,
    /// What the guardrails did, if anything.
    pub guardrail: Option<String>,
    /// Why a person should look, if they should.
    pub review: Vec<String>,
}

/// What the rules say that may raise the model's priority.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guardrails {
    /// The rules decided P0 (a critical signal with enough weight).
    pub rules_p0: bool,
    /// A critical signal stands in the text (not negated, not over).
    pub critical_signal: bool,
}

/// The share of confidence kept for the text's coverage, the language, and whether
/// the phrase rules recognised anything (`recognised`).
pub fn familiarity(
    prediction: &Prediction,
    language: &str,
    recognised: bool,
    policy: &ModelPolicy,
) -> f64 {
    let coverage = (prediction.coverage / policy.full_coverage).min(1.0);
    let language = if policy.languages.iter().any(|l| l == language) {
        1.0
    } else {
        policy.unknown_language_factor
    };
    let signals = if recognised {
        1.0
    } else {
        policy.no_signal_factor
    };
    coverage * language * signals
}

/// The priority with the lowest expected cost, then raised by the guardrails.
pub fn priority(
    prediction: &Prediction,
    guardrails: Guardrails,
    familiarity: f64,
    policy: &ModelPolicy,
) -> PriorityChoice {
    let p = &prediction.priority;
    let expected = |d: usize| -> f64 { (0..4).map(|a| p[a] * policy.priority_costs[a][d]).sum() };
    let mut best = 0;
    for d in 1..4 {
        // Ties go to the lower priority ("when torn, choose the lower").
        if expected(d) <= expected(best) {
            best = d;
        }
    }
    let model = Priority::from_index(best);
    let mut priority = model;
    let mut guardrail = None;
    for (on, floor, why) in [
        (
            guardrails.rules_p0,
            policy.rules_p0_floor,
            "the rules found a critical signal with enough weight",
        ),
        (
            guardrails.critical_signal,
            policy.critical_signal_floor,
            "the rules found a critical signal",
        ),
    ] {
        if on && floor < priority {
            priority = floor;
            guardrail = Some(format!("raised from {model} to {floor}: {why}"));
        }
    }
    let confidence = p[priority.index()] * familiarity;
    let mut review = Vec::new();
    if confidence < policy.review_below_confidence {
        review.push(format!("priority confidence {confidence:.2}"));
    }
    if priority != Priority::P0 && p[0] >= policy.review_p0_probability {
        review.push(format!("may be P0 ({:.2})", p[0]));
    }
    PriorityChoice {
        priority,
        confidence,
        guardrail,
        review,
    }
}

/// The most probable team and its confidence.
pub fn team(prediction: &Prediction, familiarity: f64) -> (Team, f64) {
    let (i, p) = prediction
        .team
        .iter()
        .enumerate()
        .fold(
            (0, f64::MIN),
            |best, (i, p)| if *p > best.1 { (i, *p) } else { best },
        );
    (Team::ALL[i], p * familiarity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn prediction(priority: [f64; 4]) -> Prediction {
        Prediction {
            scores: [0.0; 9],
            priority,
            team: [0.2, 0.7, 0.1],
            churn: 0.1,
            opportunity: 0.1,
            coverage: 1.0,
        }
    }

    const NONE: Guardrails = Guardrails {
        rules_p0: false,
        critical_signal: false,
    };

    #[test]
    fn a_likely_p0_is_decided_p0_even_when_another_level_is_likelier() {
        let policy = Policy::default_policy().model;
        let c = priority(&prediction([0.35, 0.15, 0.4, 0.1]), NONE, 1.0, &policy);
        assert_eq!(c.priority, Priority::P0);
        let c = priority(&prediction([0.02, 0.08, 0.6, 0.3]), NONE, 1.0, &policy);
        assert_eq!(c.priority, Priority::P2);
        assert!(c.review.is_empty(), "{:?}", c.review);
    }

    #[test]
    fn guardrails_raise_and_never_lower() {
        let policy = Policy::default_policy().model;
        let low = prediction([0.01, 0.04, 0.15, 0.8]);
        let raised = priority(
            &low,
            Guardrails {
                rules_p0: true,
                critical_signal: true,
            },
            1.0,
            &policy,
        );
        assert_eq!(raised.priority, Priority::P0);
        assert!(raised.guardrail.unwrap().contains("from P3 to P0"));
        let p0 = prediction([0.9, 0.05, 0.03, 0.02]);
        let kept = priority(
            &p0,
            Guardrails {
                rules_p0: false,
                critical_signal: true,
            },
            1.0,
            &policy,
        );
        assert_eq!(kept.priority, Priority::P0);
        assert_eq!(kept.guardrail, None);
    }

    #[test]
    fn unfamiliar_text_and_possible_fires_are_flagged() {
        let policy = Policy::default_policy().model;
        let sure = prediction([0.01, 0.04, 0.9, 0.05]);
        assert!(priority(&sure, NONE, 1.0, &policy).review.is_empty());
        let unknown = priority(&sure, NONE, 0.3, &policy);
        assert!(unknown.confidence < 0.3);
        assert!(!unknown.review.is_empty());
        let maybe_fire = priority(&prediction([0.2, 0.1, 0.65, 0.05]), NONE, 1.0, &policy);
        assert!(
            maybe_fire.priority == Priority::P0
                || maybe_fire.review.iter().any(|r| r.contains("may be P0"))
        );
    }
}
