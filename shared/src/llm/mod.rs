//! The optional language model (Claude). The built-in engine always decides first; in
//! hybrid mode the model is asked only when the engine's confidence is under the
//! policy's threshold, in `always` mode for every ticket. Personal data is redacted
//! before any text leaves; the answer is a forced tool call whose schema is the
//! decision, validated against the allowed values; any failure, refusal, cut-off or
//! invalid answer keeps the built-in decision, marked `llm_fallback` with the reason.

pub mod prompt;
pub mod verdict;

use serde::{Deserialize, Serialize};

use prompt::{tool_schema, user_prompt};
use verdict::{merge, validate};

use crate::domain::{Decision, EngineKind, Ticket};
use crate::engine::Engine;
use crate::ports::{Classifier, LlmPrompt, LlmUsage};
use crate::settings::{Env, SettingsError};

pub use prompt::system_prompt;

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
    /// Whether the language model is asked about this decision: in hybrid mode, when
    /// it needs review or its confidence is under the policy's threshold.
    pub fn wants(&self, decision: &Decision, engine: &Engine) -> bool {
        match self.mode {
            LlmMode::Off => false,
            LlmMode::Always => true,
            LlmMode::Hybrid => {
                decision.needs_review
                    || decision.confidence.priority.min(decision.confidence.team)
                        < engine.policy.llm.hybrid_below_confidence
            }
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
