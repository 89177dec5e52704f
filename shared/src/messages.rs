//! Queue messages: small, versioned JSON documents that point at DynamoDB (claim check)
//! and are validated on receipt. A message that fails validation is poison: retrying it
//! cannot help, so it is reported and left to reach the dead-letter queue.

use serde::{Deserialize, Serialize};

use crate::domain::TicketId;

/// The message schema version this build writes and reads.
pub const VERSION: u32 = 1;

/// Ask the triage function to triage a stored ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageMessage {
    pub version: u32,
    pub ticket_id: TicketId,
    /// The webhook invocation that delivered the ticket (for tracing).
    pub invocation_id: String,
    /// A customer's follow-up comment to re-triage the ticket after (stored with the
    /// ticket); absent for a new ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
}

/// Ask the fan-out function to deliver a stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertMessage {
    pub version: u32,
    pub alert_id: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    #[error("message body is not valid: {0}")]
    Malformed(String),
    #[error("message schema version {0} is not supported (this build reads {VERSION})")]
    Version(u32),
    #[error("message field `{0}` is empty")]
    Empty(&'static str),
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, MessageError> {
    serde_json::from_str(body).map_err(|e| MessageError::Malformed(e.to_string()))
}

impl TriageMessage {
    pub fn new(ticket_id: TicketId, invocation_id: impl Into<String>) -> Self {
        Self {
            version: VERSION,
            ticket_id,
            invocation_id: invocation_id.into(),
            comment_id: None,
        }
    }

    /// Re-triage a ticket after a follow-up comment.
    pub fn follow_up(
        ticket_id: TicketId,
        invocation_id: impl Into<String>,
        comment_id: impl Into<String>,
    ) -> Self {
        Self {
            comment_id: Some(comment_id.into()),
            ..Self::new(ticket_id, invocation_id)
        }
    }

    pub fn parse(body: &str) -> Result<Self, MessageError> {
        let m: Self = parse(body)?;
        if m.version != VERSION {
            return Err(MessageError::Version(m.version));
        }
        Ok(m)
    }
}

impl AlertMessage {
    pub fn new(alert_id: impl Into<String>) -> Self {
        Self {
            version: VERSION,
            alert_id: alert_id.into(),
        }
    }

    pub fn parse(body: &str) -> Result<Self, MessageError> {
        let m: Self = parse(body)?;
        if m.version != VERSION {
            return Err(MessageError::Version(m.version));
        }
        if m.alert_id.trim().is_empty() {
            return Err(MessageError::Empty("alert_id"));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_bad_ones_say_why() {
        let m = TriageMessage::new(TicketId::parse("1001").unwrap(), "inv-1");
        assert_eq!(
            TriageMessage::parse(&serde_json::to_string(&m).unwrap()).unwrap(),
            m
        );
        assert!(matches!(
            TriageMessage::parse("{"),
            Err(MessageError::Malformed(_))
        ));
        assert!(matches!(
            TriageMessage::parse(r#"{"version":1,"ticket_id":"","invocation_id":"x"}"#),
            Err(MessageError::Malformed(_))
        ));
        assert_eq!(
            TriageMessage::parse(r#"{"version":9,"ticket_id":"1","invocation_id":"x"}"#),
            Err(MessageError::Version(9))
        );
        assert!(matches!(
            TriageMessage::parse(r#"{"version":1,"ticket_id":"1","invocation_id":"x","extra":1}"#),
            Err(MessageError::Malformed(_))
        ));
        assert_eq!(
            AlertMessage::parse(r#"{"version":1,"alert_id":" "}"#),
            Err(MessageError::Empty("alert_id"))
        );
    }
}
