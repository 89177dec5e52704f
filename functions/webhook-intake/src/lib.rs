//! The Zendesk webhook endpoint (`POST /webhooks/zendesk`): verify the signature,
//! store the ticket once per invocation, enqueue it, answer 202 well inside Zendesk's
//! 10 s. 401 for a bad signature, 400 for a body that is not a ticket, 413 for an
//! oversized body, 404/405 for other routes, 503 only when AWS failed (Zendesk retries).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde_json::json;
use time::OffsetDateTime;
use triage_shared::messages::TriageMessage;
use triage_shared::ports::{Queue, Receipt, TicketStore, enqueue_triage};
use triage_shared::settings::{Env, SettingsError};
use triage_shared::webhook;

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
    let incoming = match webhook::parse(body) {
        Ok(i) => i,
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
    if receipt == Receipt::Duplicate {
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
