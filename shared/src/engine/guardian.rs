//! Guardian: churn risk for the Key Account Manager. Points from churn language
//! (cancel, competitor, not renewing, chargeback or legal threats, escalation,
//! repeated issues), sentiment, the ticket's priority and the customer's recent
//! history; the account's MRR tier adds weight once there is risk to weigh. The score
//! (0-100) gives a level and, past the policy threshold, an alert with actions that fit.
//! With the learned model, its churn probability (times the cap on churn language)
//! stands for the churn language, and the alert goes out when that probability, plus
//! a share for the account's recent history, reaches the policy's; the phrases found
//! are still named.

use super::found::{Found, quote};
use super::signals::{Family, Signal};
use crate::domain::{AccountContext, GuardianAssessment, Priority, Sentiment, SentimentLabel};
use crate::policy::Policy;
use crate::text::Prepared;

/// The account beyond the ticket: its MRR and its recent history.
pub struct Account<'a> {
    pub mrr: Option<f64>,
    pub history: &'a AccountContext,
}

pub fn assess(
    found: &Found,
    text: &Prepared,
    sentiment: &Sentiment,
    priority: Priority,
    account: Account<'_>,
    model_churn: Option<(f64, &str)>,
    policy: &Policy,
) -> GuardianAssessment {
    let Account {
        mrr,
        history: account,
    } = account;
    let g = &policy.guardian;
    let mut reasons = Vec::new();
    let mut fired: Vec<Signal> = Vec::new();

    let mut language = 0.0;
    for signal in Signal::of_family(Family::Churn) {
        if let Some(hit) = found.of(signal).next() {
            let w = policy.churn_weight(signal);
            language += w;
            fired.push(signal);
            reasons.push(format!(
                "{} {} (+{w:.0})",
                signal.name().replace('_', " "),
                quote(text, hit)
            ));
        }
    }
    if let Some((p, why)) = model_churn {
        // The model read the same phrases (and more): its probability replaces them.
        for r in &mut reasons {
            if let Some(open) = r.rfind(" (+") {
                r.truncate(open);
            }
        }
        language = p * g.max_language_points;
        reasons.insert(0, format!("model churn {p:.2}: {why} (+{language:.0})"));
    } else if language > g.max_language_points {
        reasons.push(format!(
            "churn language capped at {:.0}",
            g.max_language_points
        ));
        language = g.max_language_points;
    }

    let tone = g
        .sentiment_points
        .get(&sentiment.label)
        .copied()
        .unwrap_or(0.0);
    if tone != 0.0 {
        reasons.push(format!("sentiment {} ({tone:+.0})", sentiment.label));
    }
    let severity = g.priority_points.get(&priority).copied().unwrap_or(0.0);
    if severity != 0.0 {
        reasons.push(format!("{priority} issue ({severity:+.0})"));
    }
    let h = &g.history;
    let history = (f64::from(account.prior_tickets) * h.per_prior_ticket
        + f64::from(account.prior_negative) * h.per_prior_negative
        + f64::from(account.prior_alerts) * h.per_prior_alert)
        .min(h.max_points);
    if history > 0.0 {
        reasons.push(format!(
            "history: {} earlier ticket(s), {} negative, {} alert(s) (+{history:.0})",
            account.prior_tickets, account.prior_negative, account.prior_alerts
        ));
    }

    let base = language + tone + severity + history;
    let mut value = 0.0;
    let tier = mrr.map(|m| policy.mrr_tier(m));
    if let (Some(m), Some(tier)) = (mrr, tier)
        && base > 0.0
        && tier.points > 0.0
    {
        value = tier.points * (base / g.mrr_needs_points).min(1.0);
        reasons.push(format!("{} account, MRR {m:.0} (+{value:.0})", tier.name));
    }
    let score = (base + value).round().clamp(0.0, 100.0) as u8;
    let level = policy.risk_level(score);
    // With the model, its calibrated probability decides, moved up by the account's
    // recent history (which the text cannot show); the score still ranks the alerts.
    let alert = match model_churn {
        Some((p, _)) => p + history / 100.0 >= policy.model.churn_probability,
        None => u32::from(score) >= g.alert_threshold,
    };

    let mut actions = Vec::new();
    if alert {
        let has = |s: Signal| fired.contains(&s);
        if has(Signal::CancelIntent) || has(Signal::NotRenewing) {
            actions.push("Call the account owner within 24 hours, before any cancellation or renewal decision is final; have the contract and renewal date at hand.".to_string());
        }
        if has(Signal::Competitor) {
            actions.push("Prepare a retention conversation: what the competitor is offering, where we are stronger, and what we can commit to in writing.".to_string());
        }
        if has(Signal::Chargeback) {
            actions.push("Bring in Finance (and Legal if a lawyer or legal action is mentioned) before replying; hold dunning and collections on this account.".to_string());
        }
        if has(Signal::Escalation) {
            actions.push("Have a senior manager reply personally with a named owner and the time of the next update.".to_string());
        }
        if has(Signal::Repeated) || account.prior_tickets > 0 {
            actions.push("Review the account's earlier tickets and give one engineer ownership until the root cause is fixed; share the fix plan with the customer.".to_string());
        }
        if matches!(priority, Priority::P0 | Priority::P1) {
            actions.push("Send proactive status updates every 2 hours until resolved and offer a written incident report afterwards.".to_string());
        }
        if sentiment.label == SentimentLabel::Aggressive {
            actions.push(
                "Acknowledge the impact in plain words from a named person; no templated reply."
                    .to_string(),
            );
        }
        if tier.is_some_and(|t| t.points >= g.mrr_tiers.last().map_or(f64::MAX, |l| l.points)) {
            actions.push(
                "Inform the executive sponsor and consider a service credit if the SLA was missed."
                    .to_string(),
            );
        }
        if actions.is_empty() {
            actions.push("Check in with the customer within one business day to make sure the issue is on track.".to_string());
        }
    }
    if reasons.is_empty() {
        reasons.push("no churn signal".to_string());
    }
    GuardianAssessment {
        alert,
        risk_score: score,
        level,
        reasons,
        recommended_actions: actions,
    }
}
