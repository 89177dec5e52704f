//! The Zendesk Tickets API: applies a decision's calls and fetches tickets that a
//! webhook delivered as ids only.
//!
//! Auth is Basic `{email}/token:{api_token}` or an OAuth bearer token. Ticket updates
//! go out with `safe_update` and the ticket's current `updated_stamp`; a 409 (someone
//! changed the ticket meanwhile) refetches the stamp and retries once; a second 409
//! is handed back to be retried later (a busy ticket, not a refusal). 429 honours
//! `Retry-After`: the CLI waits (up to a limit), Lambda hands the message back to SQS.
//! 5xx and timeouts are retried with jittered backoff; 401/403/404/422 are not. A
//! ticket update carries a comment, so it is only retried after checking that its
//! note did not reach the ticket (see [`HttpZendesk::send_call`]).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Value, json};

use super::{backoff, client, retry_after, transport, url};
use crate::domain::{Ticket, TicketId};
use crate::ports::{PortError, ZendeskPort};
use crate::settings::{Env, SettingsError};
use crate::zendesk::{self, ZendeskCall};

const SERVICE: &str = "zendesk";

#[derive(Debug, Clone, PartialEq)]
pub enum ZendeskAuth {
    /// `{email}/token` with an API token (Basic auth).
    Token { email: String, token: String },
    /// An OAuth access token (Bearer).
    OAuth(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ZendeskConfig {
    /// `https://{subdomain}.zendesk.com`, or `ZENDESK_BASE_URL`.
    pub base_url: String,
    pub auth: ZendeskAuth,
    pub timeout: Duration,
    /// Attempts for 5xx and timeouts.
    pub attempts: u32,
    pub backoff_base: Duration,
    /// Wait out a 429 up to this long (the CLI); `None` returns it at once (Lambda,
    /// which hands the message back to SQS instead of sleeping).
    pub wait_on_throttle: Option<Duration>,
    pub safe_update: bool,
    /// Leave an assigned ticket's assignee and group, and a higher priority, as a
    /// person set them (`ZENDESK_KEEP_ASSIGNED`, default true; see
    /// [`zendesk::keep_owner_choices`]).
    pub keep_assigned: bool,
}

impl ZendeskConfig {
    /// The configuration from `ZENDESK_SUBDOMAIN` or `ZENDESK_BASE_URL` and
    /// `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN` or `ZENDESK_OAUTH_TOKEN`; `None` when
    /// no credentials are set (calls are then only recorded).
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Option<Self>, SettingsError> {
        let base_url = match (env.get("ZENDESK_BASE_URL"), env.get("ZENDESK_SUBDOMAIN")) {
            (Some(url), _) => url,
            (None, Some(sub)) => format!("https://{sub}.zendesk.com"),
            (None, None) => return Ok(None),
        };
        let auth = match (
            env.get("ZENDESK_OAUTH_TOKEN"),
            env.get("ZENDESK_EMAIL"),
            env.get("ZENDESK_API_TOKEN"),
        ) {
            (Some(t), _, _) => ZendeskAuth::OAuth(t),
            (None, Some(email), Some(token)) => ZendeskAuth::Token { email, token },
            (None, None, None) => return Ok(None),
            (None, None, Some(_)) => {
                return Err(SettingsError::Missing {
                    name: "ZENDESK_EMAIL",
                });
            }
            (None, Some(_), None) => {
                return Err(SettingsError::Missing {
                    name: "ZENDESK_API_TOKEN",
                });
            }
        };
        Ok(Some(Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            timeout: Duration::from_secs(env.parse("ZENDESK_TIMEOUT_SECS")?.unwrap_or(10)),
            attempts: 3,
            backoff_base: Duration::from_millis(300),
            wait_on_throttle: None,
            safe_update: true,
            keep_assigned: env.parse("ZENDESK_KEEP_ASSIGNED")?.unwrap_or(true),
        }))
    }
}

/// The Zendesk API over HTTPS.
#[derive(Debug, Clone)]
pub struct HttpZendesk {
    config: ZendeskConfig,
    client: reqwest::Client,
}

fn error_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => {
            let e = v.get("error").map(|e| match e {
                Value::String(s) => s.clone(),
                other => other
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
            let d = v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            [e, d]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ")
        }
        Err(_) => body.chars().take(200).collect(),
    }
}

impl HttpZendesk {
    pub fn new(config: ZendeskConfig) -> Self {
        let client = client(config.timeout);
        Self { config, client }
    }

    fn authorization(&self) -> String {
        match &self.config.auth {
            ZendeskAuth::Token { email, token } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{email}/token:{token}"))
            ),
            ZendeskAuth::OAuth(t) => format!("Bearer {t}"),
        }
    }

    /// Sends one request with the retry policy; returns the JSON body of a 2xx.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PortError> {
        self.request_with(method, path, body, self.config.attempts)
            .await
    }

    /// As `request`, with at most `attempts` tries on 5xx and timeouts (a 429 was not
    /// processed, so waiting it out never counts).
    async fn request_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        attempts: u32,
    ) -> Result<Value, PortError> {
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| PortError::Rejected {
                service: SERVICE,
                message: e.to_string(),
            })?;
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            let mut request = self
                .client
                .request(method.clone(), url(&self.config.base_url, path))
                .header(reqwest::header::AUTHORIZATION, self.authorization())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                request = request.json(b);
            }
            let sent = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let after = retry_after(response.headers());
                    // A body cut off mid-way is a transport failure, even after a 2xx.
                    response.text().await.map(|text| (status, after, text))
                }
                Err(e) => Err(e),
            };
            let outcome = match sent {
                Ok((status, after, text)) => {
                    if status.is_success() {
                        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
                    }
                    match status.as_u16() {
                        429 => {
                            let delay = after.unwrap_or(Duration::from_secs(60));
                            match self.config.wait_on_throttle {
                                Some(limit) if waited + delay <= limit => {
                                    tracing::warn!(
                                        path,
                                        delay_secs = delay.as_secs_f64(),
                                        "zendesk 429: waiting"
                                    );
                                    tokio::time::sleep(delay).await;
                                    waited += delay;
                                    continue;
                                }
                                _ => {
                                    return Err(PortError::Throttled {
                                        service: SERVICE,
                                        retry_after: Some(delay),
                                    });
                                }
                            }
                        }
                        409 => {
                            return Err(PortError::Rejected {
                                service: SERVICE,
                                message: format!(
                                    "409 conflict on {method} {path}: {}",
                                    error_message(&text)
                                ),
                            });
                        }
                        500..=599 => PortError::Unavailable {
                            service: SERVICE,
                            message: format!(
                                "{status} on {method} {path}: {}",
                                error_message(&text)
                            ),
                        },
                        _ => {
                            return Err(PortError::Rejected {
                                service: SERVICE,
                                message: format!(
                                    "{status} on {method} {path}: {}",
                                    error_message(&text)
                                ),
                            });
                        }
                    }
                }
                Err(e) => transport(SERVICE, e),
            };
            attempt += 1;
            if attempt >= attempts {
                return Err(outcome);
            }
            tokio::time::sleep(backoff(attempt - 1, self.config.backoff_base)).await;
        }
    }

    /// Whether a comment with `reference` is on the ticket (newest comments first).
    async fn has_comment(&self, number: &str, reference: &str) -> Result<bool, PortError> {
        let v = self
            .request(
                "GET",
                &format!("/api/v2/tickets/{number}/comments.json?sort_order=desc"),
                None,
            )
            .await?;
        Ok(v["comments"].as_array().is_some_and(|comments| {
            comments.iter().any(|c| {
                ["body", "plain_body"]
                    .iter()
                    .any(|k| c[*k].as_str().is_some_and(|t| t.contains(reference)))
            })
        }))
    }

    /// Sends one call. Tags and other calls that are safe to repeat use the retry
    /// policy as they are. A ticket update carries a comment, so it is never simply
    /// repeated: after a failure that may have reached Zendesk (a timeout, a 5xx), or
    /// on a replay, the ticket's comments are read first and a note that is there
    /// already is not posted again; a public reply that solves the ticket is not sent
    /// to a ticket that is solved. With `safe_update`, each update carries the
    /// ticket's `updated_stamp`, and a 409 (the ticket changed in between) reads it
    /// again and retries once (a second one is retryable for the caller).
    async fn send_call(&self, call: &ZendeskCall, replay: bool) -> Result<(), PortError> {
        let is_ticket_update = call.method == "PUT"
            && call.path.ends_with(".json")
            && call.body.get("ticket").is_some();
        if !is_ticket_update {
            self.request(&call.method, &call.path, Some(&call.body))
                .await?;
            return Ok(());
        }
        let number: String = call
            .path
            .trim_start_matches("/api/v2/tickets/")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let reference = call.body["ticket"]["comment"]["body"]
            .as_str()
            .and_then(zendesk::find_reference)
            .map(str::to_string);
        let solves = call.body["ticket"]["status"] == "solved";
        let mut body = call.body.clone();
        let (mut failures, mut conflicts) = (0, 0);
        let mut may_have_landed = replay;
        loop {
            if may_have_landed
                && let Some(r) = &reference
                && self.has_comment(&number, r).await?
            {
                tracing::info!(ticket = %number, "the note is on the ticket already; not posting it again");
                return Ok(());
            }
            // From the call as planned: an earlier pass may have stripped `body`.
            let planned = &call.body["ticket"];
            let routes = ["assignee_id", "group_id", "priority"]
                .iter()
                .any(|k| planned.get(*k).is_some());
            let keep = self.config.keep_assigned && routes;
            if self.config.safe_update || solves || keep {
                let current = self
                    .request("GET", &format!("/api/v2/tickets/{number}.json"), None)
                    .await?;
                if solves
                    && matches!(
                        current["ticket"]["status"].as_str(),
                        Some("solved" | "closed")
                    )
                {
                    tracing::info!(ticket = %number, "the ticket is solved already; the reply is not sent");
                    return Ok(());
                }
                if keep {
                    body = call.body.clone();
                    let kept = zendesk::keep_owner_choices(&mut body, &current);
                    if !kept.is_empty() {
                        tracing::info!(ticket = %number, ?kept, "the ticket is assigned already; keeping what was set");
                    }
                }
                if self.config.safe_update {
                    body["ticket"]["safe_update"] = json!(true);
                    body["ticket"]["updated_stamp"] = current["ticket"]["updated_at"].clone();
                }
            }
            match self
                .request_with(&call.method, &call.path, Some(&body), 1)
                .await
            {
                Ok(_) => return Ok(()),
                Err(PortError::Rejected { message, .. })
                    if message.starts_with("409") && conflicts == 0 =>
                {
                    conflicts += 1;
                    tracing::info!(ticket = %number, "zendesk 409: the ticket changed meanwhile; reading it again");
                }
                // Still changing (several updates to one ticket at once, as when an
                // incident links its members): not a refusal, try again later.
                Err(PortError::Rejected { message, .. }) if message.starts_with("409") => {
                    return Err(PortError::Unavailable {
                        service: SERVICE,
                        message,
                    });
                }
                Err(e @ PortError::Unavailable { .. }) => {
                    failures += 1;
                    if failures >= self.config.attempts {
                        return Err(e);
                    }
                    may_have_landed = true;
                    tracing::warn!(ticket = %number, error = %e, "zendesk update failed; checking the ticket before trying again");
                    tokio::time::sleep(backoff(failures - 1, self.config.backoff_base)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[async_trait]
impl ZendeskPort for HttpZendesk {
    async fn apply(&self, calls: &[ZendeskCall], replay: bool) -> Result<(), PortError> {
        for call in calls {
            self.send_call(call, replay).await?;
        }
        Ok(())
    }

    /// Looks the ticket up by external id first; a POST that failed in a way that may
    /// have reached Zendesk (a timeout, a 5xx) is followed by one more look-up rather
    /// than a second POST.
    async fn create_ticket(&self, external_id: &str, body: &Value) -> Result<u64, PortError> {
        let find = || async {
            let v = self
                .request(
                    "GET",
                    &format!("/api/v2/tickets.json?external_id={external_id}"),
                    None,
                )
                .await?;
            Ok::<_, PortError>(
                v["tickets"]
                    .as_array()
                    .and_then(|t| t.iter().find_map(|t| t["id"].as_u64())),
            )
        };
        if let Some(id) = find().await? {
            return Ok(id);
        }
        match self
            .request_with("POST", "/api/v2/tickets.json", Some(body), 1)
            .await
        {
            Ok(v) => v["ticket"]["id"]
                .as_u64()
                .ok_or_else(|| PortError::Rejected {
                    service: SERVICE,
                    message: "the created ticket has no id".into(),
                }),
            Err(e @ PortError::Unavailable { .. }) => match find().await? {
                Some(id) => Ok(id),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError> {
        let v = self
            .request(
                "GET",
                &format!("/api/v2/tickets/{number}.json?include=users,organizations"),
                None,
            )
            .await?;
        ticket_from_api(&v).ok_or_else(|| PortError::Rejected {
            service: SERVICE,
            message: format!("ticket {number}: unexpected answer"),
        })
    }
}

/// A ticket from `GET /api/v2/tickets/{id}.json?include=users,organizations`.
pub fn ticket_from_api(v: &Value) -> Option<Ticket> {
    let t = v.get("ticket")?;
    let id = t.get("id")?.as_u64()?;
    let org_id = t.get("organization_id").and_then(Value::as_u64);
    let org_name = org_id.and_then(|o| {
        v.get("organizations")?
            .as_array()?
            .iter()
            .find(|x| x.get("id").and_then(Value::as_u64) == Some(o))?
            .get("name")?
            .as_str()
            .map(str::to_string)
    });
    let requester = t.get("requester_id").and_then(Value::as_u64).and_then(|r| {
        v.get("users")?
            .as_array()?
            .iter()
            .find(|u| u.get("id").and_then(Value::as_u64) == Some(r))
            .cloned()
    });
    let text = |k: &str| {
        t.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some(Ticket {
        id: TicketId::parse(&id.to_string()).ok()?,
        customer_name: org_name
            .or_else(|| {
                requester
                    .as_ref()
                    .and_then(|u| u.get("name")?.as_str().map(str::to_string))
            })
            .unwrap_or_default(),
        subject: text("subject"),
        description: text("description"),
        channel: t["via"]["channel"].as_str().unwrap_or_default().to_string(),
        created_at: t
            .get("created_at")
            .and_then(Value::as_str)
            .map(str::to_string),
        mrr: None,
        organization_id: org_id.map(|o| o.to_string()),
        requester_email: requester.and_then(|u| u.get("email")?.as_str().map(str::to_string)),
        tags: t
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
