//! The Zendesk webhook endpoint (`POST /webhooks/zendesk`): verify the signature,
//! store the ticket once per invocation, enqueue it, answer 202 well inside Zendesk's
//! 10 s. The same endpoint takes comments (a customer's follow-up is stored and queued
//! for re-triage; an agent's public reply stops the first-reply clock) and status
//! changes (solved stops the clocks). 401 for a bad signature, 400 for a body that is not a ticket, 413 for an
//! oversized body, 404/405 for other routes, 503 only when AWS failed (Zendesk retries).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde_json::json;
use time::OffsetDateTime;
use triage_shared::domain::TicketId;
use triage_shared::followup::FollowUp;
use triage_shared::messages::TriageMessage;
use triage_shared::ports::{Queue, Receipt, TicketStore, enqueue_triage};
use triage_shared::settings::{Env, SettingsError};
use triage_shared::sla::Progress;
use triage_shared::webhook::{self, Comment, Event};

pub const ROUTE: &str = "/webhooks/zendesk";

/// The intake's own settings (the shared ones are in `FunctionConfig`).
#[derive(Debug, Clone)]
pub struct Config {
    pub secret: String,
    pub tolerance_secs: i64,
    pub max_body_bytes: usize,
}

impl Config {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        Ok(Self {
            secret: env.require("ZENDESK_WEBHOOK_SECRET")?,
            tolerance_secs: env.parse("WEBHOOK_TOLERANCE_SECS")?.unwrap_or(300),
            max_body_bytes: env.parse("WEBHOOK_MAX_BODY_BYTES")?.unwrap_or(256 * 1024),
        })
    }
}

/// What the handler needs, built once in `main`.
pub struct Deps<'a> {
    pub store: &'a dyn TicketStore,
    pub queue: &'a dyn Queue,
    pub secret: &'a str,
    pub tolerance_secs: i64,
    pub max_body_bytes: usize,
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .expect("status and header are valid")
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

pub async fn handle(deps: &Deps<'_>, request: Request) -> Result<Response<Body>, Error> {
    let path = request.raw_http_path().to_string();
    let path = if path.is_empty() {
        request.uri().path().to_string()
    } else {
        path
    };
    if path.trim_end_matches('/') != ROUTE {
        return Ok(reply(StatusCode::NOT_FOUND, json!({"error": "not found"})));
    }
    if request.method() != Method::POST {
        return Ok(Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header("allow", "POST")
            .header("content-type", "application/json")
            .body(Body::Text(json!({"error": "use POST"}).to_string()))
            .expect("valid response"));
    }
    // lambda_http has already decoded a base64-encoded body into bytes.
    let body: &[u8] = request.body().as_ref();
    if body.len() > deps.max_body_bytes {
        tracing::warn!(
            bytes = body.len(),
            limit = deps.max_body_bytes,
            "webhook body too large"
        );
        return Ok(reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": format!("body is {} bytes; the limit is {}", body.len(), deps.max_body_bytes)}),
        ));
    }
    if let Err(e) = webhook::verify(
        deps.secret,
        header(&request, "x-zendesk-webhook-signature"),
        header(&request, "x-zendesk-webhook-signature-timestamp"),
        body,
        OffsetDateTime::now_utc(),
        deps.tolerance_secs,
    ) {
        tracing::warn!(reason = %e, "webhook rejected: signature");
        return Ok(reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": e.to_string()}),
        ));
    }
    let event = match webhook::event(body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(reason = %e, "webhook rejected: payload");
            return Ok(reply(
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            ));
        }
    };
    // Zendesk sends the same invocation id on every retry of one delivery.
    let invocation = header(&request, "x-zendesk-webhook-invocation-id")
        .map(str::to_string)
        .unwrap_or_else(|| format!("body-{}", webhook::sign("dedupe", "", body)));
    match event {
        Event::Ticket(incoming) => accept_ticket(deps, incoming, &invocation).await,
        Event::Comment { ticket, comment } => {
            accept_comment(deps, &ticket.ticket.id, comment, &invocation, body).await
        }
        Event::Status { ticket, status, at } => {
            let id = ticket.ticket.id;
            if !matches!(status.as_str(), "solved" | "closed") {
                return Ok(reply(
                    StatusCode::OK,
                    json!({"status": "ignored", "ticket_id": id, "reason": format!("status {status}")}),
                ));
            }
            let progress = Progress {
                answered_at: None,
                solved_at: Some(at.unwrap_or_else(now)),
            };
            record(deps, &id, &progress, "solved").await
        }
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Stores what Zendesk reported about a ticket (its clocks stop).
async fn record(
    deps: &Deps<'_>,
    id: &TicketId,
    progress: &Progress,
    what: &str,
) -> Result<Response<Body>, Error> {
    match deps.store.record_progress(id, progress).await {
        Ok(known) => {
            tracing::info!(ticket_id = %id, what, known, "ticket progress recorded");
            Ok(reply(
                StatusCode::OK,
                json!({"status": if known {"recorded"} else {"ignored"}, "ticket_id": id, "event": what}),
            ))
        }
        Err(e) => {
            tracing::error!(ticket_id = %id, error = %e, "cannot record the ticket's progress");
            Ok(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "storage unavailable, retry"}),
            ))
        }
    }
}

/// A comment: an agent's public reply stops the first-reply clock; the customer's
/// comment is stored and queued for re-triage; internal notes (ours among them) are
/// ignored.
async fn accept_comment(
    deps: &Deps<'_>,
    id: &TicketId,
    comment: Comment,
    invocation: &str,
    body: &[u8],
) -> Result<Response<Body>, Error> {
    if comment.from_agent {
        if !comment.public {
            return Ok(reply(
                StatusCode::OK,
                json!({"status": "ignored", "ticket_id": id, "reason": "internal note"}),
            ));
        }
        let progress = Progress {
            answered_at: Some(comment.at.unwrap_or_else(now)),
            solved_at: None,
        };
        return record(deps, id, &progress, "answered").await;
    }
    if comment.body.trim().is_empty() {
        return Ok(reply(
            StatusCode::OK,
            json!({"status": "ignored", "ticket_id": id, "reason": "empty comment"}),
        ));
    }
    let follow_up = FollowUp {
        comment_id: if comment.id.is_empty() {
            format!("c-{}", &webhook::sign("comment", "", body)[..16])
        } else {
            comment.id
        },
        body: comment.body,
        at: comment.at.unwrap_or_else(now),
    };
    // The ticket's first message arrives as a comment too: it is the ticket itself.
    match deps.store.ticket(id).await {
        Ok(Some(stored)) if stored.ticket.description.trim() == follow_up.body.trim() => {
            return Ok(reply(
                StatusCode::OK,
                json!({"status": "ignored", "ticket_id": id, "reason": "the ticket's first message"}),
            ));
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(ticket_id = %id, error = %e, "cannot read the ticket");
            return Ok(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "storage unavailable, retry"}),
            ));
        }
    }
    let receipt = match deps.store.receive_comment(id, &follow_up, invocation).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(ticket_id = %id, error = %e, "cannot store the comment");
            return Ok(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "storage unavailable, retry"}),
            ));
        }
    };
    match receipt {
        Receipt::UnknownTicket => {
            return Ok(reply(
                StatusCode::OK,
                json!({"status": "ignored", "ticket_id": id, "reason": "the ticket was not triaged here"}),
            ));
        }
        Receipt::Duplicate => {
            return Ok(reply(
                StatusCode::OK,
                json!({"status": "duplicate", "ticket_id": id}),
            ));
        }
        Receipt::New | Receipt::NotYetQueued => {}
    }
    let message = TriageMessage::follow_up(id.clone(), invocation, &follow_up.comment_id);
    if let Err(e) = enqueue_triage(deps.queue, &message).await {
        tracing::error!(ticket_id = %id, error = %e, "cannot enqueue the follow-up");
        return Ok(reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "queue unavailable, retry"}),
        ));
    }
    if let Err(e) = deps.store.mark_enqueued(id, invocation).await {
        tracing::warn!(ticket_id = %id, error = %e, "cannot mark the delivery as queued");
    }
    tracing::info!(ticket_id = %id, comment_id = %follow_up.comment_id, invocation, "follow-up accepted");
    Ok(reply(
        StatusCode::ACCEPTED,
        json!({"status": "accepted", "ticket_id": id, "follow_up": follow_up.comment_id}),
    ))
}

/// A new ticket: stored once per invocation and queued for triage.
async fn accept_ticket(
    deps: &Deps<'_>,
    incoming: webhook::Incoming,
    invocation: &str,
) -> Result<Response<Body>, Error> {
    let invocation = invocation.to_string();
    let id = incoming.ticket.id.clone();
    let receipt = match deps
        .store
        .receive(&incoming.ticket, &invocation, incoming.needs_fetch)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(ticket_id = %id, error = %e, "cannot store the ticket");
            return Ok(reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "storage unavailable, retry"}),
            ));
        }
    };
    if matches!(receipt, Receipt::Duplicate | Receipt::UnknownTicket) {
        tracing::info!(ticket_id = %id, invocation, "duplicate delivery");
        return Ok(reply(
            StatusCode::OK,
            json!({"status": "duplicate", "ticket_id": id}),
        ));
    }
    if let Err(e) = enqueue_triage(deps.queue, &TriageMessage::new(id.clone(), &invocation)).await {
        tracing::error!(ticket_id = %id, error = %e, "cannot enqueue the ticket");
        return Ok(reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "queue unavailable, retry"}),
        ));
    }
    if let Err(e) = deps.store.mark_enqueued(&id, &invocation).await {
        // The ticket is queued; at worst a retried delivery queues it again, and
        // triage is idempotent.
        tracing::warn!(ticket_id = %id, error = %e, "cannot mark the delivery as queued");
    }
    tracing::info!(ticket_id = %id, invocation, needs_fetch = incoming.needs_fetch, "ticket accepted");
    Ok(reply(
        StatusCode::ACCEPTED,
        json!({"status": "accepted", "ticket_id": id}),
    ))
}
