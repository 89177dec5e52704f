//! Claude through the Anthropic Messages API (`POST /v1/messages`, `x-api-key`,
//! `anthropic-version: 2023-06-01`). The decision is a forced tool call; the static
//! system part is marked for prompt caching. 429, 500 and 529 are retried with backoff
//! within the per-ticket time budget; every other error is final for the ticket (the
//! pipeline then keeps the built-in decision).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{backoff, client, retry_after, url};
use crate::llm::prompt::TOOL_NAME;
use crate::ports::{Classifier, LlmAnswer, LlmError, LlmPrompt, LlmUsage};
use crate::settings::{Env, SettingsError};

#[derive(Debug, Clone, PartialEq)]
pub struct AnthropicConfig {
    /// `https://api.anthropic.com` or `ANTHROPIC_BASE_URL`.
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    pub max_tokens: u32,
    pub backoff_base: Duration,
}

impl AnthropicConfig {
    /// `ANTHROPIC_API_KEY` (none: no model), `ANTHROPIC_MODEL` (default
    /// `claude-haiku-4-5`), `ANTHROPIC_BASE_URL`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Option<Self>, SettingsError> {
        let Some(api_key) = env.get("ANTHROPIC_API_KEY") else {
            return Ok(None);
        };
        Ok(Some(Self {
            base_url: env
                .get("ANTHROPIC_BASE_URL")
                .unwrap_or_else(|| "https://api.anthropic.com".into()),
            api_key,
            model: env
                .get("ANTHROPIC_MODEL")
                .unwrap_or_else(|| "claude-haiku-4-5".into()),
            max_tokens: env.parse("ANTHROPIC_MAX_TOKENS")?.unwrap_or(1500),
            backoff_base: Duration::from_millis(500),
        }))
    }
}

pub struct AnthropicClassifier {
    config: AnthropicConfig,
    client: reqwest::Client,
}

impl AnthropicClassifier {
    pub fn new(config: AnthropicConfig) -> Self {
        // Each request's own timeout is the time left in the ticket's budget.
        Self {
            config,
            client: client(Duration::from_secs(120)),
        }
    }

    /// The request body.
    pub fn body(&self, prompt: &LlmPrompt) -> Value {
        json!({
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "system": [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": prompt.user}],
            "tools": [prompt.tool],
            "tool_choice": {"type": "tool", "name": TOOL_NAME}
        })
    }
}

fn usage(model: &str, v: &Value) -> LlmUsage {
    let n = |k: &str| v["usage"][k].as_u64().unwrap_or(0);
    LlmUsage {
        model: v["model"].as_str().unwrap_or(model).to_string(),
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cache_creation_input_tokens: n("cache_creation_input_tokens"),
        cache_read_input_tokens: n("cache_read_input_tokens"),
        ..Default::default()
    }
    .priced()
}

#[async_trait]
impl Classifier for AnthropicClassifier {
    async fn classify(&self, prompt: &LlmPrompt, budget: Duration) -> Result<LlmAnswer, LlmError> {
        let started = Instant::now();
        let body = self.body(prompt);
        let fail = |reason: String| LlmError {
            reason,
            usage: None,
        };
        let mut attempt = 0;
        loop {
            let left = budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(fail(format!(
                    "no answer within the {} ms budget",
                    budget.as_millis()
                )));
            }
            let sent = self
                .client
                .post(url(&self.config.base_url, "/v1/messages"))
                .header("x-api-key", &self.config.api_key)
                .header("anthropic-version", "2023-06-01")
                .header("content-type", "application/json")
                .timeout(left)
                .json(&body)
                .send()
                .await;
            let (reason, wait) = match sent {
                Ok(response) => {
                    let status = response.status();
                    let after = retry_after(response.headers());
                    let text = response.text().await.unwrap_or_default();
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if status.is_success() {
                        let input = v["content"]
                            .as_array()
                            .and_then(|blocks| {
                                blocks
                                    .iter()
                                    .find(|b| b["type"] == "tool_use" && b["name"] == TOOL_NAME)
                            })
                            .map(|b| b["input"].clone());
                        return Ok(LlmAnswer {
                            input,
                            stop_reason: v["stop_reason"].as_str().unwrap_or_default().to_string(),
                            usage: usage(&self.config.model, &v),
                        });
                    }
                    let error = format!(
                        "{status} {}: {}",
                        v["error"]["type"].as_str().unwrap_or("error"),
                        v["error"]["message"].as_str().unwrap_or_default()
                    );
                    match status.as_u16() {
                        429 | 500 | 529 => (error, after),
                        _ => return Err(fail(error)),
                    }
                }
                Err(e) if e.is_timeout() => {
                    return Err(fail(format!(
                        "no answer within the {} ms budget",
                        budget.as_millis()
                    )));
                }
                Err(e) => (e.to_string(), None),
            };
            let delay = wait.unwrap_or_else(|| backoff(attempt, self.config.backoff_base));
            attempt += 1;
            if started.elapsed() + delay >= budget {
                return Err(fail(format!("{reason} (no retry left within the budget)")));
            }
            tracing::warn!(
                reason,
                delay_ms = delay.as_millis() as u64,
                "model busy: retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }
}
