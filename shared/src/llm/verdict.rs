//! The language model's answer: validated against the allowed values, then applied
//! to the engine's decision.

use serde_json::Value;

use crate::domain::{Decision, DraftReply, EngineKind, Intent, Priority, SentimentLabel, Team};
use crate::engine::Engine;
use crate::ports::LlmUsage;

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
    decision.guardian.level = engine.policy.risk_level(verdict.churn_risk);
    decision.guardian.alert = u32::from(verdict.churn_risk) >= g.alert_threshold;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
