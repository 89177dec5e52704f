//! HTTP adapters: the Zendesk API, SendGrid, Slack incoming webhooks and the Anthropic
//! Messages API. Each takes a base URL (scheme and host; the adapter appends the
//! documented paths) so that tests, staging and EU regions can point it elsewhere, puts
//! a timeout on every call, and classifies failures into [`PortError`]s: 429 and 5xx
//! (and timeouts) are retried with jittered backoff, other 4xx are not.

pub mod anthropic;
pub mod sendgrid;
pub mod slack;
pub mod zendesk;

use std::time::Duration;

use crate::ports::PortError;

/// A client with the given per-request timeout.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("zendesk-triage/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

/// Exponential backoff with jitter: about `base * 2^attempt`, between 50 % and 100 %.
pub fn backoff(attempt: u32, base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let full = base.saturating_mul(1 << attempt.min(8));
    let jitter = 0.5 + f64::from(nanos % 1000) / 2000.0;
    full.mul_f64(jitter)
}

/// The `Retry-After` header in seconds, if present: at least one second (a zero
/// would make a retry loop spin) and at most a day.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.clamp(1.0, 86_400.0)))
}

/// A transport failure (connection, timeout) as a retryable error. The URL is left
/// out of the message: a Slack webhook URL is itself a secret.
pub fn transport(service: &'static str, e: reqwest::Error) -> PortError {
    PortError::Unavailable {
        service,
        message: if e.is_timeout() {
            "timed out".to_string()
        } else {
            e.without_url().to_string()
        },
    }
}

/// A failed attempt: worth another one (after the server's requested wait, if it gave
/// one), or final.
pub enum Attempt {
    Retry(PortError, Option<Duration>),
    Final(PortError),
}

/// What a non-success status means for a sender: 429 and 5xx are retried, any other
/// status is final.
pub fn status_failure(
    service: &'static str,
    status: reqwest::StatusCode,
    after: Option<Duration>,
    message: String,
) -> Attempt {
    match status.as_u16() {
        429 => Attempt::Retry(
            PortError::Throttled {
                service,
                retry_after: after,
            },
            after,
        ),
        500..=599 => Attempt::Retry(PortError::Unavailable { service, message }, None),
        _ => Attempt::Final(PortError::Rejected { service, message }),
    }
}

/// Runs `call` up to `attempts` times. Between retryable failures it waits what the
/// server asked for, or jittered backoff when it did not say; a server that asks for
/// more than `max_wait` gets its failure back at once (for the caller to hand the work
/// back to its queue with that delay) rather than an early retry.
pub async fn with_retries<T, F, Fut>(
    attempts: u32,
    base: Duration,
    max_wait: Duration,
    mut call: F,
) -> Result<T, PortError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Attempt>>,
{
    let mut attempt = 0;
    loop {
        let (failure, wait) = match call().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Final(e)) => return Err(e),
            Err(Attempt::Retry(e, wait)) => (e, wait),
        };
        attempt += 1;
        if attempt >= attempts || wait.is_some_and(|w| w > max_wait) {
            return Err(failure);
        }
        tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt - 1, base))).await;
    }
}

/// Joins a configured base URL and a documented path.
pub fn url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_urls_join_cleanly() {
        let base = Duration::from_millis(100);
        for attempt in 0..4 {
            let d = backoff(attempt, base);
            let full = base * (1 << attempt);
            assert!(d >= full / 2 && d <= full, "{d:?} for attempt {attempt}");
        }
        assert_eq!(
            url("http://127.0.0.1:8080/", "/api/v2/x"),
            "http://127.0.0.1:8080/api/v2/x"
        );
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "0".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
        h.insert("retry-after", "1e300".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(86_400)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
