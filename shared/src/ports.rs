//! Ports: the traits the pipeline talks through. Each has a local adapter (memory or
//! files) and an AWS or HTTP adapter; the CLI and the Lambda functions choose.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::alerts::Alert;
use crate::domain::{AccountContext, Decision, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::followup::{Change, FollowUp};
use crate::incident::{Incident, Sighting};
use crate::messages::TriageMessage;
use crate::redact::Redactions;
use crate::sla::Progress;
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
    /// Zendesk was updated (the note is on the ticket).
    #[serde(default)]
    pub noted: bool,
    /// Zendesk was updated and the alerts were handed over.
    pub completed: bool,
    /// Follow-ups that revised the decision (0: as first decided).
    #[serde(default)]
    pub revision: u32,
}

/// The answer to a claim on a ticket before any side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketClaim {
    /// This delivery holds the ticket until the lease ends.
    Claimed,
    /// An earlier delivery finished the ticket: nothing to do.
    Done,
    /// Another delivery holds a live lease (a duplicate in flight): try again when
    /// it ends, `until` (epoch seconds).
    Busy { until: i64 },
}

/// How a webhook delivery was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// First delivery of this invocation: enqueue the ticket.
    New,
    /// This invocation (or this ticket) was recorded and enqueued before: nothing more
    /// to do.
    Duplicate,
    /// Recorded before, but the earlier attempt stopped before enqueueing: enqueue now.
    NotYetQueued,
    /// A comment on a ticket that is not stored (never triaged here): nothing to do.
    UnknownTicket,
}

/// A ticket as stored at intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTicket {
    pub ticket: Ticket,
    /// The webhook carried only ids: fetch the ticket from Zendesk before triage.
    pub needs_fetch: bool,
}

/// A stored decision with its ticket, for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub ticket: Ticket,
    pub decision: Decision,
    pub llm: Option<LlmUsage>,
    /// What Zendesk reported since (answered, solved): stops service-level clocks.
    #[serde(default)]
    pub progress: Progress,
}

/// Ticket state: received tickets, decisions (written once), customer history and
/// agent load.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Records a webhook delivery and its ticket. A repeated invocation id, or a ticket
    /// already received, is a [`Receipt::Duplicate`].
    async fn receive(
        &self,
        ticket: &Ticket,
        invocation_id: &str,
        needs_fetch: bool,
    ) -> Result<Receipt, PortError>;
    /// Notes that the delivery's ticket is on the triage queue.
    async fn mark_enqueued(&self, id: &TicketId, invocation_id: &str) -> Result<(), PortError>;
    /// The stored ticket.
    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, PortError>;
    /// Replaces a stored ticket with its complete version (fetched from Zendesk).
    async fn update_ticket(&self, ticket: &Ticket) -> Result<(), PortError>;
    /// Tickets decided at or after `since` (epoch seconds), with their decisions.
    async fn decisions_since(&self, since: i64) -> Result<Vec<Decided>, PortError>;
    /// The decision already stored for this ticket, if any.
    async fn decision(&self, id: &TicketId) -> Result<Option<StoredDecision>, PortError>;
    /// The customer's earlier tickets, for Guardian.
    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError>;
    /// Tickets assigned to each agent in the current period.
    async fn agent_load(&self) -> Result<AgentLoad, PortError>;
    /// Stores the decision (and what a language model cost for it) unless one exists.
    /// Returns `false` when one existed.
    async fn save_decision(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        llm: Option<&LlmUsage>,
    ) -> Result<bool, PortError>;
    /// Claims the ticket for `lease_secs` before any side effect, so that duplicate
    /// deliveries (in one batch, in parallel invocations, or after a crash) never act
    /// twice. `owner` names the delivery (the queue message): the same owner may claim
    /// again, as may anyone once the lease ran out.
    async fn claim(
        &self,
        id: &TicketId,
        owner: &str,
        lease_secs: u64,
    ) -> Result<TicketClaim, PortError>;
    /// Gives up `owner`'s claim after a failure, so that a duplicate delivery need not
    /// wait for the lease to end. A claim someone else holds is left alone.
    async fn release_claim(&self, id: &TicketId, owner: &str) -> Result<(), PortError>;
    /// Notes that Zendesk was updated with the stored decision.
    async fn mark_noted(&self, id: &TicketId) -> Result<(), PortError>;
    /// Marks the ticket's side effects as done.
    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError>;
    /// Records what Zendesk reported (the first reply, solved); an earlier time
    /// recorded stays. `false` when the ticket is not stored (not one triaged here).
    async fn record_progress(&self, id: &TicketId, progress: &Progress) -> Result<bool, PortError>;
    /// Records a customer's comment on a stored ticket, once per webhook delivery
    /// (receipts as for [`TicketStore::receive`]; [`Receipt::UnknownTicket`] when the
    /// ticket is not stored).
    async fn receive_comment(
        &self,
        id: &TicketId,
        comment: &FollowUp,
        invocation_id: &str,
    ) -> Result<Receipt, PortError>;
    /// The ticket's follow-up comments, oldest first.
    async fn comments(&self, id: &TicketId) -> Result<Vec<FollowUp>, PortError>;
    /// Replaces the stored decision after a follow-up and logs the change, if the
    /// decision is still at `change.revision - 1`: `false` when another follow-up
    /// revised it meanwhile (read it again).
    async fn revise(
        &self,
        id: &TicketId,
        decision: &Decision,
        change: &Change,
    ) -> Result<bool, PortError>;
    /// The ticket's change log, oldest first.
    async fn changes(&self, id: &TicketId) -> Result<Vec<Change>, PortError>;
    /// Notes that a change's Zendesk note and alerts are out.
    async fn mark_change_applied(&self, id: &TicketId, revision: u32) -> Result<(), PortError>;
}

/// A message queue (the triage queue, the alerts queue).
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: String) -> Result<(), PortError>;
}

/// Puts a triage message on a queue.
pub async fn enqueue_triage(queue: &dyn Queue, message: &TriageMessage) -> Result<(), PortError> {
    let body = serde_json::to_string(message).map_err(|e| PortError::Rejected {
        service: "queue",
        message: e.to_string(),
    })?;
    queue.send(body).await
}

/// The state of an alert in the ledger when a fan-out instance asks for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This instance holds the alert until the lease ends: send it through every
    /// channel not in `delivered` (the ones an earlier attempt reached).
    Claimed {
        alert: Box<Alert>,
        delivered: Vec<String>,
    },
    /// The alert was sent before: nothing to do.
    AlreadySent,
    /// Another instance holds a live lease: try again later.
    Busy,
}

/// Alerts and their delivery state, for exactly one send per alert id.
#[async_trait]
pub trait AlertLedger: Send + Sync {
    /// Stores a new alert (pending). Returns `false` if it was stored before.
    async fn record(&self, alert: &Alert) -> Result<bool, PortError>;
    /// Claims an alert for `lease_secs`; `None` when no such alert is stored.
    async fn claim(&self, alert_id: &str, lease_secs: u64) -> Result<Option<Claim>, PortError>;
    /// Marks a claimed alert as sent, with where it went.
    async fn mark_sent(&self, alert_id: &str, deliveries: &[Delivery]) -> Result<(), PortError>;
    /// Gives up a claim after a failed send, so that a retry can claim it at once,
    /// remembering the channels that did take the alert so that it sends only the rest.
    async fn release(&self, alert_id: &str, delivered: &[Delivery]) -> Result<(), PortError>;
}

/// Where reports are published.
#[async_trait]
pub trait ReportSink: Send + Sync {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError>;
    /// A time-limited link to an object.
    async fn link(&self, key: &str, expires_in_secs: u64) -> Result<String, PortError>;
}

/// The Zendesk API, as far as triage needs it.
#[async_trait]
pub trait ZendeskPort: Send + Sync {
    /// Performs the calls in order. `replay` says that an earlier attempt may have
    /// made some of them: a call that posts a comment is then checked against the
    /// ticket first, so that no note or reply is posted twice.
    async fn apply(&self, calls: &[ZendeskCall], replay: bool) -> Result<(), PortError>;
    /// Reads a ticket (with its organization) when a webhook carried only its id.
    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError>;
    /// Creates a ticket (`{"ticket": {...}}`) unless one with `external_id` exists
    /// already (an earlier attempt created it): the ticket's number either way.
    async fn create_ticket(&self, external_id: &str, body: &Value) -> Result<u64, PortError>;
}

/// An incident as stored, with the version a replacement must name.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIncident {
    pub incident: Incident,
    pub version: u64,
}

/// What [`IncidentStore::open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// The incident is stored and holds its team's claim.
    Opened,
    /// An incident with its id exists (another delivery, or an earlier attempt of this
    /// one, opened it).
    Exists,
    /// The incident with this id holds the team's claim: the failure is that one's.
    Claimed(String),
}

/// Sightings and incidents for the look-up across accounts (see [`crate::incident`]).
/// Every change to an incident is a compare-and-swap on its version, so that
/// concurrent deliveries never lose a member or open an incident twice.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Records a decided ticket's sighting (again: no change).
    async fn record(&self, sighting: &Sighting) -> Result<(), PortError>;
    /// Sightings of tickets written from `since` to `until` (epoch seconds).
    async fn sightings(&self, since: i64, until: i64) -> Result<Vec<Sighting>, PortError>;
    /// Incidents with a member written from `since` on, whose first member is at most
    /// a day older than `since`.
    async fn incidents(&self, since: i64) -> Result<Vec<StoredIncident>, PortError>;
    /// The incident with this id.
    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, PortError>;
    /// Stores a new incident (version 1) unless one with its id exists, and claims its
    /// team until `claim_until`: unless another incident's claim on the team still runs
    /// at the incident's `declared_at`. A team has one incident declared at a time, so
    /// that concurrent deliveries that saw different tickets of one failure (and named
    /// their incidents after different first tickets) do not open two. Both or neither.
    async fn open(&self, incident: &Incident, claim_until: i64) -> Result<Opening, PortError>;
    /// Replaces the incident if it is still at `version`: `false` when it changed
    /// meanwhile (read it again and retry).
    async fn replace(&self, incident: &Incident, version: u64) -> Result<bool, PortError>;
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
    /// The channel's name, as in [`Delivery::channel`].
    fn channel(&self) -> &'static str;
    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError>;
}

#[async_trait]
impl<T: Notifier + ?Sized> Notifier for std::sync::Arc<T> {
    fn channel(&self) -> &'static str {
        (**self).channel()
    }
    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        (**self).send(alert).await
    }
}

/// What is sent to the model: a static system part (cached by the provider) and the
/// ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmPrompt {
    pub system: String,
    pub user: String,
    pub tool: Value,
}

/// Tokens and cost of one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// In USD, from the model's list prices; `None` for an unknown model.
    pub cost_usd: Option<f64>,
    pub redactions: Redactions,
    /// The model's answer was used (`false`: the built-in decision was kept).
    pub used: bool,
}

/// The model's answer, as the forced tool returned it (unvalidated).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAnswer {
    pub input: Option<Value>,
    pub stop_reason: String,
    pub usage: LlmUsage,
}

/// The port to a language model.
#[async_trait]
pub trait Classifier: Send + Sync {
    /// Asks once (the adapter retries 429/500/529 within `budget`).
    async fn classify(&self, prompt: &LlmPrompt, budget: Duration) -> Result<LlmAnswer, LlmError>;
}

/// A failed call, with the usage it still cost.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct LlmError {
    pub reason: String,
    pub usage: Option<LlmUsage>,
}
