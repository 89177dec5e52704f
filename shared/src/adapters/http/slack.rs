//! Slack incoming webhooks: the Block Kit message (always with `text`) posted to the
//! webhook URL, which is itself the address. 200 `ok` is success; errors are plain
//! strings (400 `invalid_payload`, 403 `action_prohibited`, 404 `channel_not_found`,
//! 410 `channel_is_archived`) and not retried; 429 (about one message per second) and
//! 5xx are retried with backoff.

use std::time::Duration;

use async_trait::async_trait;

use super::{Attempt, client, retry_after, status_failure, transport, with_retries};
use crate::alerts::{Alert, render_slack};
use crate::ports::{Delivery, Notifier, PortError};

const SERVICE: &str = "slack";

pub struct SlackNotifier {
    webhook_url: String,
    client: reqwest::Client,
    attempts: u32,
    backoff_base: Duration,
}

impl SlackNotifier {
    pub fn new(webhook_url: String) -> Self {
        Self {
            webhook_url,
            client: client(Duration::from_secs(10)),
            attempts: 3,
            backoff_base: Duration::from_millis(500),
        }
    }
}

#[async_trait]
impl Notifier for SlackNotifier {
    fn channel(&self) -> &'static str {
        SERVICE
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let payload = render_slack(alert);
        with_retries(
            self.attempts,
            self.backoff_base,
            Duration::from_secs(10),
            || async {
                let response = self
                    .client
                    .post(&self.webhook_url)
                    .json(&payload)
                    .send()
                    .await
                    .map_err(|e| Attempt::Retry(transport(SERVICE, e), None))?;
                let status = response.status();
                let after = retry_after(response.headers());
                let text = response.text().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(Delivery {
                        channel: SERVICE.to_string(),
                        reference: None,
                    });
                }
                let message = format!("{status}: {}", text.chars().take(200).collect::<String>());
                Err(status_failure(SERVICE, status, after, message))
            },
        )
        .await
    }
}
