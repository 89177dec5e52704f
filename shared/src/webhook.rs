//! Zendesk webhooks: signature verification and the two payload shapes (a trigger
//! webhook whose JSON the admin writes from placeholders, and the event-subscribed
//! `zen:event-type:ticket.created` event). A body that carries only an id is accepted
//! and completed later from the Zendesk API.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::{Ticket, TicketId};

/// Zendesk's fixed secret for test webhooks sent from the webhook builder.
pub const ZENDESK_TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("signature timestamp {0:?} is not an ISO-8601 time")]
    BadTimestamp(String),
    #[error("signature timestamp is {0} s away from now (allowed: {1} s)")]
    Stale(i64, i64),
    #[error("signature is not valid base64")]
    BadEncoding,
    #[error("signature does not match")]
    Mismatch,
}

/// `base64(HMAC-SHA256(secret, timestamp + body))`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Verifies a webhook signature in constant time and that its timestamp is within
/// `tolerance_secs` of `now`.
pub fn verify(
    secret: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: OffsetDateTime,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let signature =
        signature.ok_or(SignatureError::MissingHeader("x-zendesk-webhook-signature"))?;
    let timestamp = timestamp.ok_or(SignatureError::MissingHeader(
        "x-zendesk-webhook-signature-timestamp",
    ))?;
    let at = OffsetDateTime::parse(timestamp.trim(), &Rfc3339)
        .map_err(|_| SignatureError::BadTimestamp(timestamp.chars().take(40).collect()))?;
    let skew = (now - at).whole_seconds();
    if skew.abs() > tolerance_secs {
        return Err(SignatureError::Stale(skew, tolerance_secs));
    }
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::BadEncoding)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error(
        "no ticket in the body (expected a `ticket` object or a zen:event-type:ticket.* event)"
    )]
    NoTicket,
    #[error("event type {0:?} is not a ticket event")]
    NotTicketEvent(String),
    #[error("ticket id is missing or not a number")]
    BadId,
    #[error("a comment event without a comment")]
    NoComment,
}

/// A ticket as a webhook delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub ticket: Ticket,
    /// The body carried only ids (or no text): fetch the ticket before triage.
    pub needs_fetch: bool,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let s = s.trim();
            // An unfilled placeholder ("{{ticket.title}}") means no value.
            (!s.is_empty() && !s.starts_with("{{")).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .trim()
            .trim_start_matches('$')
            .replace(',', "")
            .parse()
            .ok(),
        _ => None,
    }
}

fn tags(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// A comment as a webhook delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub body: String,
    pub public: bool,
    /// Written by an agent (staff), not by the customer.
    pub from_agent: bool,
    /// When it was written (epoch seconds), when the webhook says.
    pub at: Option<i64>,
}

/// What a webhook reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A ticket to triage (a trigger's body, or `ticket.created`).
    Ticket(Incoming),
    /// A comment on a ticket (`ticket.comment_added`, or a trigger's body with a
    /// `comment` object).
    Comment { ticket: Incoming, comment: Comment },
    /// The ticket's status changed (`ticket.status_changed`, or a trigger's body with
    /// `"event": "status_changed"`), to `status` (lower case).
    Status {
        ticket: Incoming,
        status: String,
        at: Option<i64>,
    },
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn time_of(v: Option<&Value>) -> Option<i64> {
    text(v).and_then(|t| crate::domain::parse_time(&t))
}

/// Reads a webhook: a new ticket, a comment, or a status change, in either payload
/// shape. Comment and status events of the event-subscription kind carry the change
/// in `event` (`event.comment` with `author.is_staff` and `is_public`;
/// `event.current` for the status).
pub fn event(body: &[u8]) -> Result<Event, PayloadError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    let incoming = read(&v)?;
    let change = v.get("event");
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .map(|k| k.trim_start_matches("zen:event-type:ticket.").to_string())
        .or_else(|| change.and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let comment = change
        .and_then(|e| e.get("comment"))
        .filter(|c| c.is_object())
        .or_else(|| v.get("comment").filter(|c| c.is_object()));
    match (kind.as_str(), comment) {
        ("comment_added", Some(c)) | ("", Some(c)) => {
            let author = c.get("author");
            let role = text(
                author
                    .and_then(|a| a.get("role"))
                    .or_else(|| c.get("author_role")),
            )
            .map(|r| r.to_ascii_lowercase());
            let from_agent = flag(author.and_then(|a| a.get("is_staff")))
                .or_else(|| flag(c.get("from_agent")))
                .or_else(|| role.map(|r| r == "agent" || r == "admin"))
                .unwrap_or(false);
            Ok(Event::Comment {
                comment: Comment {
                    id: text(c.get("id")).unwrap_or_default(),
                    body: text(c.get("body").or_else(|| c.get("value"))).unwrap_or_default(),
                    public: flag(c.get("is_public").or_else(|| c.get("public"))).unwrap_or(true),
                    from_agent,
                    at: time_of(c.get("created_at")).or_else(|| time_of(v.get("time"))),
                },
                ticket: incoming,
            })
        }
        ("status_changed", _) => {
            let status = change
                .and_then(|e| text(e.get("current")))
                .or_else(|| v.get("ticket").and_then(|t| text(t.get("status"))))
                .or_else(|| v.get("detail").and_then(|t| text(t.get("status"))))
                .unwrap_or_default()
                .to_ascii_lowercase();
            Ok(Event::Status {
                ticket: incoming,
                status,
                at: time_of(v.get("time")),
            })
        }
        ("comment_added", None) => Err(PayloadError::NoComment),
        _ => Ok(Event::Ticket(incoming)),
    }
}

/// Reads either payload shape.
pub fn parse(body: &[u8]) -> Result<Incoming, PayloadError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
    read(&v)
}

fn read(v: &Value) -> Result<Incoming, PayloadError> {
    let (t, event) = if let Some(t) = v.get("ticket").filter(|t| t.is_object()) {
        (t, false)
    } else if let Some(kind) = v.get("type").and_then(Value::as_str) {
        if !kind.starts_with("zen:event-type:ticket.") {
            return Err(PayloadError::NotTicketEvent(kind.to_string()));
        }
        (
            v.get("detail")
                .filter(|d| d.is_object())
                .ok_or(PayloadError::NoTicket)?,
            true,
        )
    } else {
        return Err(PayloadError::NoTicket);
    };
    let raw_id = text(t.get("id")).ok_or(PayloadError::BadId)?;
    let zendesk_number: u64 = raw_id
        .trim_start_matches('#')
        .parse()
        .map_err(|_| PayloadError::BadId)?;
    let id = TicketId::parse(&zendesk_number.to_string()).map_err(|_| PayloadError::BadId)?;
    let subject = text(t.get("subject").or_else(|| t.get("title"))).unwrap_or_default();
    let description = text(t.get("description")).unwrap_or_default();
    let channel = if event {
        t.get("via")
            .and_then(|via| text(via.get("channel")))
            .unwrap_or_default()
    } else {
        text(t.get("channel").or_else(|| t.get("via"))).unwrap_or_default()
    };
    let ticket = Ticket {
        id,
        customer_name: text(t.get("organization").or_else(|| t.get("organization_name")))
            .or_else(|| text(t.get("requester_name")))
            .unwrap_or_default(),
        subject,
        description,
        channel: channel.to_lowercase(),
        created_at: text(t.get("created_at")),
        mrr: number(t.get("mrr")),
        organization_id: text(t.get("organization_id")),
        requester_email: text(t.get("requester_email")),
        tags: tags(t.get("tags")),
    };
    let needs_fetch = ticket.subject.is_empty() && ticket.description.is_empty();
    Ok(Incoming {
        ticket,
        needs_fetch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-26T12:00:00Z";

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse(NOW, &Rfc3339).unwrap()
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let body = br#"{"ticket":{"id":"1"}}"#;
        let sig = sign(ZENDESK_TEST_SECRET, NOW, body);
        assert_eq!(
            verify(ZENDESK_TEST_SECRET, Some(&sig), Some(NOW), body, now(), 300),
            Ok(())
        );
    }

    #[test]
    fn tampering_a_stale_time_or_a_missing_header_is_refused() {
        let body = br#"{"ticket":{"id":"1"}}"#;
        let sig = sign(ZENDESK_TEST_SECRET, NOW, body);
        assert_eq!(
            verify(
                ZENDESK_TEST_SECRET,
                Some(&sig),
                Some(NOW),
                br#"{"ticket":{"id":"2"}}"#,
                now(),
                300
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", Some(&sig), Some(NOW), body, now(), 300),
            Err(SignatureError::Mismatch)
        );
        let late = now() + time::Duration::minutes(6);
        assert!(matches!(
            verify(ZENDESK_TEST_SECRET, Some(&sig), Some(NOW), body, late, 300),
            Err(SignatureError::Stale(..))
        ));
        assert_eq!(
            verify(ZENDESK_TEST_SECRET, None, Some(NOW), body, now(), 300),
            Err(SignatureError::MissingHeader("x-zendesk-webhook-signature"))
        );
        assert_eq!(
            verify(
                ZENDESK_TEST_SECRET,
                Some("%%%"),
                Some(NOW),
                body,
                now(),
                300
            ),
            Err(SignatureError::BadEncoding)
        );
        assert!(matches!(
            verify(
                ZENDESK_TEST_SECRET,
                Some(&sig),
                Some("yesterday"),
                body,
                now(),
                300
            ),
            Err(SignatureError::BadTimestamp(_))
        ));
    }

    #[test]
    fn reads_a_trigger_webhook() {
        let body = br#"{"ticket":{"id":"1042","subject":"Checkout down","description":"Nobody can pay","via":"Mail",
            "tags":"vip shopify","requester_email":"ops@acme.test","organization":"Acme Commerce","organization_id":"90001",
            "created_at":"2026-11-26T11:59:00Z","mrr":"4,200"}}"#;
        let i = parse(body).unwrap();
        assert!(!i.needs_fetch);
        assert_eq!(i.ticket.id.as_str(), "1042");
        assert_eq!(i.ticket.customer_name, "Acme Commerce");
        assert_eq!(i.ticket.tags, ["vip", "shopify"]);
        assert_eq!(i.ticket.mrr, Some(4200.0));
        assert_eq!(i.ticket.channel, "mail");
    }

    #[test]
    fn reads_an_event_subscription_and_an_ids_only_body() {
        let body = br#"{"type":"zen:event-type:ticket.created","account_id":123,"id":"e-1","time":"2026-11-26T11:59:00Z",
            "subject":"zen:ticket:5158","detail":{"id":"5158","subject":"Export fails","description":"The CSV export times out",
            "priority":"LOW","status":"OPEN","requester_id":"77","organization_id":"90002","tags":["analytics"],
            "via":{"channel":"web_service"},"created_at":"2026-11-26T11:58:00Z","updated_at":null},"event":{},
            "zendesk_event_version":"2022-11-06"}"#;
        let i = parse(body).unwrap();
        assert_eq!(i.ticket.id.as_str(), "5158");
        assert_eq!(i.ticket.organization_id.as_deref(), Some("90002"));
        assert_eq!(i.ticket.channel, "web_service");
        assert!(!i.needs_fetch);
        let ids_only = parse(br#"{"ticket":{"id":"{{ticket.id}}"}}"#);
        assert_eq!(ids_only, Err(PayloadError::BadId));
        let i = parse(br#"{"ticket":{"id":"77","subject":"{{ticket.title}}"}}"#).unwrap();
        assert!(i.needs_fetch);
    }

    #[test]
    fn refuses_what_is_not_a_ticket() {
        assert!(matches!(parse(b"not json"), Err(PayloadError::NotJson(_))));
        assert_eq!(parse(br#"{"hello":1}"#), Err(PayloadError::NoTicket));
        assert_eq!(
            parse(br#"{"type":"zen:event-type:user.created","detail":{}}"#),
            Err(PayloadError::NotTicketEvent(
                "zen:event-type:user.created".into()
            ))
        );
        assert_eq!(
            parse(br#"{"ticket":{"id":"abc"}}"#),
            Err(PayloadError::BadId)
        );
    }

    #[test]
    fn comments_and_status_changes_are_read_in_both_shapes() {
        let customer = br#"{"type":"zen:event-type:ticket.comment_added","time":"2026-11-26T12:00:00Z",
            "detail":{"id":"5158"},"event":{"comment":{"id":"77","body":"Still broken!","is_public":true,
            "author":{"id":"9","is_staff":false}}}}"#;
        let Event::Comment { ticket, comment } = event(customer).unwrap() else {
            panic!("a comment");
        };
        assert_eq!(ticket.ticket.id.as_str(), "5158");
        assert_eq!(
            (
                comment.id.as_str(),
                comment.body.as_str(),
                comment.public,
                comment.from_agent
            ),
            ("77", "Still broken!", true, false)
        );
        assert_eq!(
            comment.at,
            crate::domain::parse_time("2026-11-26T12:00:00Z")
        );
        let note = br#"{"type":"zen:event-type:ticket.comment_added","detail":{"id":"5158"},
            "event":{"comment":{"id":"78","body":"[Automated triage]","is_public":false,"author":{"is_staff":true}}}}"#;
        let Event::Comment { comment, .. } = event(note).unwrap() else {
            panic!("a comment");
        };
        assert!(comment.from_agent && !comment.public);
        let trigger = br#"{"ticket":{"id":"5158"},"comment":{"body":"any news?","public":"true","author_role":"end-user"}}"#;
        let Event::Comment { comment, .. } = event(trigger).unwrap() else {
            panic!("a comment");
        };
        assert!(!comment.from_agent && comment.public && comment.id.is_empty());
        let solved = br#"{"type":"zen:event-type:ticket.status_changed","detail":{"id":"5158"},
            "event":{"current":"SOLVED","previous":"OPEN"}}"#;
        assert!(
            matches!(event(solved).unwrap(), Event::Status { status, .. } if status == "solved")
        );
        let trigger = br#"{"ticket":{"id":"5158","status":"closed"},"event":"status_changed"}"#;
        assert!(
            matches!(event(trigger).unwrap(), Event::Status { status, .. } if status == "closed")
        );
        let created = br#"{"type":"zen:event-type:ticket.created","detail":{"id":"5158","subject":"x"},"event":{}}"#;
        assert!(matches!(event(created).unwrap(), Event::Ticket(_)));
        let empty =
            br#"{"type":"zen:event-type:ticket.comment_added","detail":{"id":"5158"},"event":{}}"#;
        assert_eq!(event(empty), Err(PayloadError::NoComment));
    }
}
