//! What the language model is asked: the tool whose input schema is the decision, the
//! static system prompt (definitions, policy, knowledge base; cached by the provider)
//! and the redacted ticket.

use serde_json::{Value, json};

use crate::domain::{Decision, Intent, Priority, SentimentLabel, Team, Ticket};
use crate::engine::Engine;
use crate::redact::{Redactions, redact};

pub const TOOL_NAME: &str = "record_triage";

/// The tool whose input schema is the decision.
pub fn tool_schema() -> Value {
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| name(*v)).collect()
    }
    json!({
        "name": TOOL_NAME,
        "description": "Record the triage decision for the support ticket.",
        "input_schema": {
            "type": "object",
            "properties": {
                "priority": {"type": "string", "enum": names(Priority::ALL, Priority::as_str)},
                "team": {"type": "string", "enum": names(Team::ALL, Team::as_str)},
                "sentiment": {"type": "string", "enum": names(SentimentLabel::ALL, SentimentLabel::as_str)},
                "churn_risk": {"type": "integer", "minimum": 0, "maximum": 100},
                "churn_reasons": {"type": "array", "items": {"type": "string"}},
                "opportunity_intents": {"type": "array", "items": {"type": "string", "enum": names(Intent::ALL, Intent::as_str)}},
                "kb_article_id": {"type": ["string", "null"]},
                "draft_reply": {"type": ["string", "null"]},
                "rationale": {"type": "string"}
            },
            "required": ["priority", "team", "sentiment", "churn_risk", "opportunity_intents", "rationale"]
        }
    })
}

/// The static part of the prompt: definitions, policy and the knowledge base (English
/// articles), identical for every ticket so that the provider can cache it.
pub fn system_prompt(engine: &Engine) -> String {
    let p = &engine.policy;
    let mut s = String::from(
        "You triage support tickets for a B2B SaaS company (e-commerce infrastructure: Shopify, \
WooCommerce, BigCommerce and Magento integrations, tracking and analytics, payments through Stripe and \
PayPal, fulfillment). Decide with the definitions below and call the record_triage tool once.\n\n\
Priority:\n\
- P0: outage, data loss, security breach, immediate revenue impact (orders not processing, payment system down, data breach).\n\
- P1: major functionality broken with no workaround, significant customer impact, or an explicit churn threat (webhook failures, integration broken).\n\
- P2: important issue with a workaround, moderate impact (sync delays, performance degradation, configuration problems).\n\
- P3: questions, how-to, documentation, feature requests, minor UI bugs, pricing questions.\n\
When torn between two levels, choose the lower. Politeness never hides an outage; anger alone never raises priority.\n\n\
Teams:\n\
- integrations_api: platform connections (Shopify, WooCommerce, BigCommerce, Magento), webhooks, OAuth/API keys, API errors and limits.\n\
- data_analytics: tracking, events, attribution, dashboards and report numbers, data sync delays and quality, exports.\n\
- compliance_operations: payments, refunds, payouts, invoices, security incidents, GDPR/DPA/PCI/SOC 2, infrastructure and outages, fulfillment and shipping, account access.\n\n",
    );
    s.push_str(&format!(
        "Churn risk (0-100): explicit churn language (cancel, competitor, not renewing, chargeback or legal threats), repeated \
unresolved problems with exasperation, strong frustration from a high-value account on a serious issue. A Key Account Manager is \
alerted from {}.\n\
Opportunity intents: genuine revenue intent only (pricing request, plan upgrade, more seats/stores/brands, add-on, higher API limits, \
paid services, new markets). A price complaint, billing dispute, downgrade, or a platform upgrade (\"after upgrading WooCommerce\") \
is not an opportunity.\n\
Draft reply: for P2/P3 only, from the knowledge base below, in the ticket's language; cite the article id in kb_article_id. \
Placeholders such as [EMAIL] or [PHONE] replace personal data: keep them as they are.\n\n\
Knowledge base:\n",
        p.guardian.alert_threshold
    ));
    for a in engine.kb.articles.iter().filter(|a| a.language == "en") {
        s.push_str(&format!(
            "[{}] {}\n{}\n\n",
            a.id,
            a.question.trim(),
            a.answer.trim()
        ));
    }
    s
}

/// The per-ticket part: the redacted ticket and the engine's own reading. The
/// customer's name is left out (without an organization it is the requester's own
/// name, and the model does not need it).
pub fn user_prompt(ticket: &Ticket, engine_decision: &Decision) -> (String, Redactions) {
    let (subject, r1) = redact(&ticket.subject);
    let (description, r2) = redact(&ticket.description);
    let mut counts = r1;
    counts.add(r2);
    let text = format!(
        "Monthly recurring revenue of the account: {}\nChannel: {}\nSubject: {}\n\n{}\n\n\
The rule-based engine read it as {} / {} / sentiment {} / churn risk {} / intents [{}]. Decide yourself.",
        ticket
            .mrr
            .map_or("unknown".to_string(), |m| format!("{m:.0}")),
        ticket.channel,
        subject,
        description,
        engine_decision.priority,
        engine_decision.team,
        engine_decision.sentiment.label,
        engine_decision.guardian.risk_score,
        Intent::join(&engine_decision.opportunity.intents, ", "),
    );
    (text, counts)
}
