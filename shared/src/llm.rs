//! The optional language model (Claude). The built-in engine always decides first; in
//! hybrid mode the model is asked only when the engine's confidence is under the
//! policy's threshold, in `always` mode for every ticket. Personal data is redacted
//! before any text leaves; the answer is a forced tool call whose schema is the
//! decision, validated against the allowed values; any failure, refusal, cut-off or
//! invalid answer keeps the built-in decision, marked `llm_fallback` with the reason.

use std::sync::OnceLock;

use async_trait::async_trait;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::{
    Decision, DraftReply, EngineKind, Intent, Priority, RiskLevel, SentimentLabel, Team, Ticket,
};
use crate::engine::Engine;
use crate::settings::{Env, SettingsError};

/// When the model is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmMode {
    Off,
    Hybrid,
    Always,
}

impl LlmMode {
    /// `LLM_MODE`, defaulting to hybrid with an API key and off without.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        let has_key = env.get("ANTHROPIC_API_KEY").is_some();
        match env
            .get("LLM_MODE")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Ok(if has_key {
                LlmMode::Hybrid
            } else {
                LlmMode::Off
            }),
            Some("off") => Ok(LlmMode::Off),
            Some("hybrid") | Some("always") if !has_key => Err(SettingsError::Missing {
                name: "ANTHROPIC_API_KEY",
            }),
            Some("hybrid") => Ok(LlmMode::Hybrid),
            Some("always") => Ok(LlmMode::Always),
            Some(other) => Err(SettingsError::Invalid {
                name: "LLM_MODE",
                problem: format!("{other:?} is not off, hybrid or always"),
            }),
        }
    }
}

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

    fn add(&mut self, other: Redactions) {
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

/// What is sent to the model: a static system part (cached by the provider) and the
/// ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmPrompt {
    pub system: String,
    pub user: String,
    pub tool: Value,
}

/// Tokens and cost of one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// In USD, from the model's list prices; `None` for an unknown model.
    pub cost_usd: Option<f64>,
    pub redactions: Redactions,
    /// The model's answer was used (`false`: the built-in decision was kept).
    pub used: bool,
}

impl LlmUsage {
    /// Prices per million tokens (input, output): cache writes cost 1.25x input,
    /// cache reads 0.1x.
    pub fn priced(mut self) -> Self {
        let prices = match self.model.as_str() {
            m if m.starts_with("claude-haiku-4-5") => Some((1.0, 5.0)),
            m if m.starts_with("claude-sonnet-4-5") => Some((3.0, 15.0)),
            _ => None,
        };
        self.cost_usd = prices.map(|(i, o)| {
            (self.input_tokens as f64 * i
                + self.cache_creation_input_tokens as f64 * i * 1.25
                + self.cache_read_input_tokens as f64 * i * 0.1
                + self.output_tokens as f64 * o)
                / 1e6
        });
        self
    }
}

/// The model's answer, as the forced tool returned it (unvalidated).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAnswer {
    pub input: Option<Value>,
    pub stop_reason: String,
    pub usage: LlmUsage,
}

/// The port to a language model.
#[async_trait]
pub trait Classifier: Send + Sync {
    /// Asks once (the adapter retries 429/500/529 within `budget`).
    async fn classify(
        &self,
        prompt: &LlmPrompt,
        budget: std::time::Duration,
    ) -> Result<LlmAnswer, LlmError>;
}

/// A failed call, with the usage it still cost.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct LlmError {
    pub reason: String,
    pub usage: Option<LlmUsage>,
}

pub const TOOL_NAME: &str = "record_triage";

/// The tool whose input schema is the decision.
pub fn tool_schema() -> Value {
    json!({
        "name": TOOL_NAME,
        "description": "Record the triage decision for the support ticket.",
        "input_schema": {
            "type": "object",
            "properties": {
                "priority": {"type": "string", "enum": ["P0", "P1", "P2", "P3"]},
                "team": {"type": "string", "enum": ["integrations_api", "data_analytics", "compliance_operations"]},
                "sentiment": {"type": "string", "enum": ["positive", "neutral", "frustrated", "aggressive"]},
                "churn_risk": {"type": "integer", "minimum": 0, "maximum": 100},
                "churn_reasons": {"type": "array", "items": {"type": "string"}},
                "opportunity_intents": {"type": "array", "items": {"type": "string", "enum": ["pricing_request", "upgrade", "expansion", "add_on", "higher_limits", "services"]}},
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

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub priority: Priority,
    pub team: Team,
    pub sentiment: SentimentLabel,
    pub churn_risk: u8,
    pub churn_reasons: Vec<String>,
    pub intents: Vec<Intent>,
    pub kb_article_id: Option<String>,
    pub draft_reply: Option<String>,
    pub rationale: String,
}

/// Checks the tool input against the schema and the allowed values.
pub fn validate(input: &Value, engine: &Engine) -> Result<Verdict, String> {
    let field = |k: &str| input.get(k).ok_or_else(|| format!("answer has no {k}"));
    let text = |k: &str| -> Result<&str, String> {
        field(k)?.as_str().ok_or_else(|| format!("{k} is not text"))
    };
    let priority: Priority = text("priority")?.parse()?;
    let team: Team = text("team")?.parse()?;
    let sentiment: SentimentLabel = text("sentiment")?.parse()?;
    let churn_risk = field("churn_risk")?
        .as_u64()
        .filter(|v| *v <= 100)
        .ok_or("churn_risk is not an integer from 0 to 100")? as u8;
    let intents = field("opportunity_intents")?
        .as_array()
        .ok_or("opportunity_intents is not a list")?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or("an intent is not text".to_string())
                .and_then(|s| s.parse::<Intent>())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let churn_reasons = input
        .get("churn_reasons")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .take(6)
                .collect()
        })
        .unwrap_or_default();
    let kb_article_id = match input.get("kb_article_id") {
        Some(Value::String(id)) if !id.is_empty() => {
            if !engine.kb.articles.iter().any(|a| &a.id == id) {
                return Err(format!("kb_article_id {id:?} is not in the knowledge base"));
            }
            Some(id.clone())
        }
        _ => None,
    };
    let draft_reply = input
        .get("draft_reply")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    Ok(Verdict {
        priority,
        team,
        sentiment,
        churn_risk,
        churn_reasons,
        intents,
        kb_article_id,
        draft_reply,
        rationale: input
            .get("rationale")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// The engine's decision with the model's verdict applied.
pub fn merge(
    mut decision: Decision,
    verdict: Verdict,
    engine: &Engine,
    usage: &LlmUsage,
) -> Decision {
    let g = &engine.policy.guardian;
    let before = format!("{} / {}", decision.priority, decision.team);
    decision.priority = verdict.priority;
    if decision.team != verdict.team {
        decision.team = verdict.team;
        decision.agent_id = engine
            .agents
            .agents
            .iter()
            .find(|a| a.team == verdict.team)
            .map(|a| a.id.clone());
    }
    decision.sentiment.label = verdict.sentiment;
    decision.guardian.risk_score = verdict.churn_risk;
    let score = u32::from(verdict.churn_risk);
    decision.guardian.level = if score >= g.levels.critical {
        RiskLevel::Critical
    } else if score >= g.levels.high {
        RiskLevel::High
    } else if score >= g.levels.medium {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };
    decision.guardian.alert = score >= g.alert_threshold;
    if !verdict.churn_reasons.is_empty() {
        decision.guardian.reasons = verdict
            .churn_reasons
            .iter()
            .map(|r| format!("model: {r}"))
            .collect();
    }
    if decision.guardian.alert && decision.guardian.recommended_actions.is_empty() {
        decision.guardian.recommended_actions =
            vec!["Check in with the customer within one business day to make sure the issue is on track.".to_string()];
    }
    if !decision.guardian.alert {
        decision.guardian.recommended_actions.clear();
    }
    decision.opportunity.detected = !verdict.intents.is_empty();
    if decision.opportunity.detected
        && decision.opportunity.confidence < engine.policy.opportunity.min_confidence
    {
        decision.opportunity.confidence = engine.policy.opportunity.min_confidence;
    }
    decision.opportunity.intents = verdict.intents;
    decision.draft = if engine.policy.draft.priorities.contains(&decision.priority) {
        match verdict.draft_reply {
            Some(text) => Some(DraftReply {
                kb_article_id: verdict.kb_article_id,
                text,
                confidence: decision.draft.as_ref().map_or(0.5, |d| d.confidence),
                // A model-written reply is always reviewed by a person.
                auto_send_candidate: false,
            }),
            None => decision.draft,
        }
    } else {
        None
    };
    decision.reasons.push(format!(
        "model {}: {} (engine had {before}); {} in / {} out tokens{}; {} item(s) redacted",
        usage.model,
        verdict.rationale,
        usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
        usage.output_tokens,
        usage
            .cost_usd
            .map_or(String::new(), |c| format!(", ${c:.4}")),
        usage.redactions.total()
    ));
    decision.engine = EngineKind::Llm;
    decision
}

/// Marks a decision as the built-in one after a failed consultation.
pub fn fallback(mut decision: Decision, reason: &str) -> Decision {
    decision.reasons.push(format!(
        "model not used: {reason}; the built-in decision stands"
    ));
    decision.engine = EngineKind::LlmFallback;
    decision
}

/// The model, the mode and the budget, as the pipeline uses them.
pub struct LlmAdvisor<'a> {
    pub classifier: &'a dyn Classifier,
    pub mode: LlmMode,
    pub system: String,
}

impl LlmAdvisor<'_> {
    /// Whether a ticket with this engine confidence goes to the model.
    pub fn wants(&self, confidence: f64, engine: &Engine) -> bool {
        match self.mode {
            LlmMode::Off => false,
            LlmMode::Always => true,
            LlmMode::Hybrid => confidence < engine.policy.llm.hybrid_below_confidence,
        }
    }

    /// Consults the model and returns the final decision with the call's usage.
    pub async fn consult(
        &self,
        ticket: &Ticket,
        decision: Decision,
        engine: &Engine,
    ) -> (Decision, LlmUsage) {
        let (user, redactions) = user_prompt(ticket, &decision);
        let prompt = LlmPrompt {
            system: self.system.clone(),
            user,
            tool: tool_schema(),
        };
        let budget = std::time::Duration::from_millis(engine.policy.llm.budget_ms);
        let answer = match self.classifier.classify(&prompt, budget).await {
            Ok(a) => a,
            Err(e) => {
                let mut usage = e.usage.clone().unwrap_or_default();
                usage.redactions = redactions;
                return (fallback(decision, &e.reason), usage);
            }
        };
        let mut usage = answer.usage.clone();
        usage.redactions = redactions;
        let verdict = match (answer.stop_reason.as_str(), &answer.input) {
            ("max_tokens", _) => Err("the answer was cut off (max_tokens)".to_string()),
            ("refusal", _) => Err("the model refused".to_string()),
            (_, None) => Err("the answer has no record_triage call".to_string()),
            (_, Some(input)) => validate(input, engine).map_err(|e| format!("invalid answer: {e}")),
        };
        match verdict {
            Ok(v) => {
                usage.used = true;
                (merge(decision, v, engine, &usage), usage)
            }
            Err(reason) => (fallback(decision, &reason), usage),
        }
    }
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

    #[test]
    fn the_mode_follows_the_key() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            Env(move |k: &str| {
                pairs
                    .iter()
                    .find(|(a, _)| *a == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(LlmMode::from_env(&env(&[])).unwrap(), LlmMode::Off);
        assert_eq!(
            LlmMode::from_env(&env(&[("ANTHROPIC_API_KEY", "k")])).unwrap(),
            LlmMode::Hybrid
        );
        assert_eq!(
            LlmMode::from_env(&env(&[("ANTHROPIC_API_KEY", "k"), ("LLM_MODE", "always")])).unwrap(),
            LlmMode::Always
        );
        assert!(LlmMode::from_env(&env(&[("LLM_MODE", "always")])).is_err());
        assert!(
            LlmMode::from_env(&env(&[
                ("ANTHROPIC_API_KEY", "k"),
                ("LLM_MODE", "sometimes")
            ]))
            .is_err()
        );
    }

    #[test]
    fn answers_are_validated_against_the_allowed_values() {
        let engine = Engine::embedded().unwrap();
        let good = json!({"priority": "P2", "team": "data_analytics", "sentiment": "neutral", "churn_risk": 10,
            "opportunity_intents": ["upgrade"], "kb_article_id": null, "draft_reply": "Hello", "rationale": "sync delay"});
        assert!(validate(&good, &engine).is_ok());
        for (k, v) in [
            ("priority", json!("P5")),
            ("team", json!("sales")),
            ("churn_risk", json!(140)),
            ("opportunity_intents", json!(["discount"])),
            ("kb_article_id", json!("KB-NOPE")),
        ] {
            let mut bad = good.clone();
            bad[k] = v;
            assert!(validate(&bad, &engine).is_err(), "{k} accepted");
        }
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("team");
        assert!(validate(&missing, &engine).is_err());
    }

    #[test]
    fn costs_follow_the_list_prices() {
        let u = LlmUsage {
            model: "claude-haiku-4-5".into(),
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_input_tokens: 1_000_000,
            ..Default::default()
        }
        .priced();
        assert!((u.cost_usd.unwrap() - (1.0 + 0.5 + 0.1)).abs() < 1e-9);
        assert_eq!(
            LlmUsage {
                model: "other".into(),
                ..Default::default()
            }
            .priced()
            .cost_usd,
            None
        );
    }
}
