//! Ports: the traits the pipeline talks through. Each has a local adapter (memory or
//! files) and an AWS or HTTP adapter; the CLI and the Lambda functions choose.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::alerts::Alert;
use crate::domain::{AccountContext, Decision, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::zendesk::ZendeskCall;

/// A failure behind a port, classified by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PortError {
    /// The service asked us to slow down; try again after the delay.
    #[error("{service} throttled the request (retry after {retry_after:?})")]
    Throttled {
        service: &'static str,
        retry_after: Option<Duration>,
    },
    /// A transient failure (timeout, 5xx, connection): retrying may succeed.
    #[error("{service} is unavailable: {message}")]
    Unavailable {
        service: &'static str,
        message: String,
    },
    /// The request itself was refused (4xx, bad credentials, missing object): retrying
    /// the same request will not help.
    #[error("{service} rejected the request: {message}")]
    Rejected {
        service: &'static str,
        message: String,
    },
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, PortError::Rejected { .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PortError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A decision as stored, with how far its side effects got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDecision {
    pub decision: Decision,
    /// Zendesk was updated and the alerts were handed over.
    pub completed: bool,
}

/// Ticket state: decisions (written once), customer history and agent load.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// The decision already stored for this ticket, if any.
    async fn decision(&self, id: &TicketId) -> Result<Option<StoredDecision>, PortError>;
    /// The customer's earlier tickets, for Guardian.
    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError>;
    /// Tickets assigned to each agent in the current period.
    async fn agent_load(&self) -> Result<AgentLoad, PortError>;
    /// Stores the decision unless one exists. Returns `false` when one existed.
    async fn save_decision(&self, ticket: &Ticket, decision: &Decision) -> Result<bool, PortError>;
    /// Marks the ticket's side effects as done.
    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError>;
}

/// The Zendesk API, as far as triage needs it.
#[async_trait]
pub trait ZendeskPort: Send + Sync {
    /// Performs the calls in order (each is safe to repeat).
    async fn apply(&self, calls: &[ZendeskCall]) -> Result<(), PortError>;
    /// Reads a ticket (with its organization) when a webhook carried only its id.
    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError>;
}

/// Where the triage stage hands alerts over: a queue in AWS, the notifiers locally.
#[async_trait]
pub trait AlertSink: Send + Sync {
    async fn submit(&self, alert: &Alert) -> Result<(), PortError>;
}

/// A receipt from a notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// "sendgrid", "ses", "slack", "file", ...
    pub channel: String,
    /// The provider's message id or the file written.
    pub reference: Option<String>,
}

/// Sends an alert to people (e-mail, Slack, or a file when none is set up); each
/// notifier renders the alert the way its channel needs.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError>;
}

#[async_trait]
impl<T: Notifier + ?Sized> Notifier for std::sync::Arc<T> {
    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        (**self).send(alert).await
    }
}
