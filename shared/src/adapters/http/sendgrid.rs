//! E-mail through SendGrid v3 Mail Send (`POST /v3/mail/send`, bearer key, text/plain
//! before text/html). 202 is success; 429 and 5xx are retried with backoff (honouring
//! `Retry-After`); 401/403 (bad key, unverified sender) and other 4xx are not.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Attempt, client, retry_after, status_failure, transport, url, with_retries};
use crate::alerts::{Alert, render_email};
use crate::ports::{Delivery, Notifier, PortError};

const SERVICE: &str = "sendgrid";

#[derive(Debug, Clone, PartialEq)]
pub struct SendGridConfig {
    /// `https://api.sendgrid.com` or `SENDGRID_BASE_URL` (e.g. the EU host).
    pub base_url: String,
    pub api_key: String,
    pub from: String,
    pub timeout: Duration,
    pub attempts: u32,
    pub backoff_base: Duration,
}

impl SendGridConfig {
    pub fn new(api_key: String, from: String, base_url: Option<String>) -> Self {
        Self {
            base_url: base_url.unwrap_or_else(|| "https://api.sendgrid.com".to_string()),
            api_key,
            from,
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff_base: Duration::from_millis(500),
        }
    }
}

pub struct SendGridNotifier {
    config: SendGridConfig,
    client: reqwest::Client,
}

impl SendGridNotifier {
    pub fn new(config: SendGridConfig) -> Self {
        let client = client(config.timeout);
        Self { config, client }
    }
}

/// The documented request body.
pub fn mail_body(from: &str, alert: &Alert) -> Value {
    let email = render_email(alert);
    json!({
        "personalizations": [{"to": alert.recipients.iter().map(|r| json!({"email": r})).collect::<Vec<_>>()}],
        "from": {"email": from},
        "subject": email.subject,
        "content": [
            {"type": "text/plain", "value": email.text},
            {"type": "text/html", "value": email.html}
        ],
        "custom_args": {"alert_id": alert.alert_id}
    })
}

fn errors(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let list: Vec<String> = v
                .get("errors")?
                .as_array()?
                .iter()
                .filter_map(|e| e.get("message")?.as_str().map(str::to_string))
                .collect();
            (!list.is_empty()).then(|| list.join("; "))
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

#[async_trait]
impl Notifier for SendGridNotifier {
    fn channel(&self) -> &'static str {
        SERVICE
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let body = mail_body(&self.config.from, alert);
        with_retries(
            self.config.attempts,
            self.config.backoff_base,
            Duration::from_secs(30),
            || async {
                let response = self
                    .client
                    .post(url(&self.config.base_url, "/v3/mail/send"))
                    .bearer_auth(&self.config.api_key)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| Attempt::Retry(transport(SERVICE, e), None))?;
                let status = response.status();
                let after = retry_after(response.headers());
                let id = response
                    .headers()
                    .get("x-message-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let text = response.text().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(Delivery {
                        channel: SERVICE.to_string(),
                        reference: id,
                    });
                }
                let message = format!("{status}: {}", errors(&text));
                Err(status_failure(SERVICE, status, after, message))
            },
        )
        .await
    }
}
