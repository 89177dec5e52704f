//! The ticket store in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::now_secs;
use crate::domain::{AccountContext, Decision, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::followup::{Change, FollowUp};
use crate::ports::{
    Decided, LlmUsage, PortError, Receipt, StoredDecision, StoredTicket, TicketClaim, TicketStore,
};
use crate::sla::Progress;

#[derive(Default)]
struct MemoryState {
    tickets: HashMap<TicketId, StoredTicket>,
    /// Invocation id → enqueued.
    invocations: HashMap<String, bool>,
    decided: Vec<(TicketId, i64, Option<LlmUsage>)>,
    decisions: HashMap<TicketId, StoredDecision>,
    history: HashMap<String, AccountContext>,
    load: AgentLoad,
    /// Ticket → (owner, lease end in epoch seconds).
    claims: HashMap<TicketId, (String, i64)>,
    progress: HashMap<TicketId, Progress>,
    comments: HashMap<TicketId, Vec<FollowUp>>,
    changes: HashMap<TicketId, Vec<Change>>,
}

/// Ticket state in memory. [`MemoryTicketStore::for_run`] keeps only history and load
/// (a CSV run has no redeliveries and must not hold every decision).
#[derive(Default)]
pub struct MemoryTicketStore {
    state: Mutex<MemoryState>,
    keep_decisions: bool,
    /// Decisions older than this many days are gone, as with a TTL (`None`: kept).
    retention_days: Option<u32>,
}

impl MemoryTicketStore {
    /// Keeps decisions: redeliveries are recognised.
    pub fn new() -> Self {
        Self {
            state: Mutex::default(),
            keep_decisions: true,
            retention_days: None,
        }
    }

    /// Keeps decisions for `days`, as the DynamoDB store's TTL does.
    pub fn with_retention(days: u32) -> Self {
        Self {
            retention_days: Some(days),
            ..Self::new()
        }
    }

    /// Keeps history and agent load only.
    pub fn for_run() -> Self {
        Self::default()
    }

    pub fn decisions(&self) -> Vec<StoredDecision> {
        self.lock().decisions.values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TicketStore for MemoryTicketStore {
    async fn receive(
        &self,
        ticket: &Ticket,
        invocation_id: &str,
        needs_fetch: bool,
    ) -> Result<Receipt, PortError> {
        let mut state = self.lock();
        if let Some(enqueued) = state.invocations.get(invocation_id) {
            return Ok(if *enqueued {
                Receipt::Duplicate
            } else {
                Receipt::NotYetQueued
            });
        }
        state.invocations.insert(invocation_id.to_string(), false);
        if state.tickets.contains_key(&ticket.id) {
            return Ok(Receipt::Duplicate);
        }
        state.tickets.insert(
            ticket.id.clone(),
            StoredTicket {
                ticket: ticket.clone(),
                needs_fetch,
            },
        );
        Ok(Receipt::New)
    }

    async fn mark_enqueued(&self, _id: &TicketId, invocation_id: &str) -> Result<(), PortError> {
        self.lock()
            .invocations
            .insert(invocation_id.to_string(), true);
        Ok(())
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, PortError> {
        Ok(self.lock().tickets.get(id).cloned())
    }

    async fn update_ticket(&self, ticket: &Ticket) -> Result<(), PortError> {
        self.lock().tickets.insert(
            ticket.id.clone(),
            StoredTicket {
                ticket: ticket.clone(),
                needs_fetch: false,
            },
        );
        Ok(())
    }

    async fn decisions_since(&self, since: i64) -> Result<Vec<Decided>, PortError> {
        let state = self.lock();
        let now = now_secs();
        let live = |at: i64| {
            self.retention_days
                .is_none_or(|d| at + i64::from(d) * 86_400 >= now)
        };
        Ok(state
            .decided
            .iter()
            .filter(|(_, at, _)| *at >= since && live(*at))
            .filter_map(|(id, _, llm)| {
                Some(Decided {
                    ticket: state.tickets.get(id)?.ticket.clone(),
                    decision: state.decisions.get(id)?.decision.clone(),
                    llm: llm.clone(),
                    progress: state.progress.get(id).cloned().unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn decision(&self, id: &TicketId) -> Result<Option<StoredDecision>, PortError> {
        Ok(self.lock().decisions.get(id).cloned())
    }

    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError> {
        Ok(self
            .lock()
            .history
            .get(&ticket.customer_key())
            .cloned()
            .unwrap_or_default())
    }

    async fn agent_load(&self) -> Result<AgentLoad, PortError> {
        Ok(self.lock().load.clone())
    }

    async fn save_decision(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        llm: Option<&LlmUsage>,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        if self.keep_decisions {
            if state.decisions.contains_key(&ticket.id) {
                return Ok(false);
            }
            state.decisions.insert(
                ticket.id.clone(),
                StoredDecision {
                    decision: decision.clone(),
                    noted: false,
                    completed: false,
                    revision: 0,
                },
            );
            state
                .decided
                .push((ticket.id.clone(), now_secs(), llm.cloned()));
            if !state.tickets.contains_key(&ticket.id) {
                state.tickets.insert(
                    ticket.id.clone(),
                    StoredTicket {
                        ticket: ticket.clone(),
                        needs_fetch: false,
                    },
                );
            }
        }
        let h = state.history.entry(ticket.customer_key()).or_default();
        h.prior_tickets += 1;
        if decision.sentiment.label.is_negative() {
            h.prior_negative += 1;
        }
        if decision.guardian.alert {
            h.prior_alerts += 1;
        }
        if let Some(agent) = &decision.agent_id {
            *state.load.entry(agent.clone()).or_default() += 1;
        }
        Ok(true)
    }

    async fn claim(
        &self,
        id: &TicketId,
        owner: &str,
        lease_secs: u64,
    ) -> Result<TicketClaim, PortError> {
        let mut state = self.lock();
        if state.decisions.get(id).is_some_and(|d| d.completed) {
            return Ok(TicketClaim::Done);
        }
        let now = now_secs();
        match state.claims.get(id) {
            Some((holder, until)) if holder != owner && *until > now => {
                Ok(TicketClaim::Busy { until: *until })
            }
            _ => {
                state
                    .claims
                    .insert(id.clone(), (owner.to_string(), now + lease_secs as i64));
                Ok(TicketClaim::Claimed)
            }
        }
    }

    async fn release_claim(&self, id: &TicketId, owner: &str) -> Result<(), PortError> {
        let mut state = self.lock();
        if state
            .claims
            .get(id)
            .is_some_and(|(holder, _)| holder == owner)
        {
            state.claims.remove(id);
        }
        Ok(())
    }

    async fn mark_noted(&self, id: &TicketId) -> Result<(), PortError> {
        if let Some(d) = self.lock().decisions.get_mut(id) {
            d.noted = true;
        }
        Ok(())
    }

    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError> {
        let mut state = self.lock();
        if let Some(d) = state.decisions.get_mut(id) {
            d.completed = true;
        }
        state.claims.remove(id);
        Ok(())
    }

    async fn record_progress(&self, id: &TicketId, progress: &Progress) -> Result<bool, PortError> {
        let mut state = self.lock();
        if !state.tickets.contains_key(id) {
            return Ok(false);
        }
        let p = state.progress.entry(id.clone()).or_default();
        p.answered_at = p.answered_at.or(progress.answered_at);
        p.solved_at = p.solved_at.or(progress.solved_at);
        Ok(true)
    }

    async fn receive_comment(
        &self,
        id: &TicketId,
        comment: &FollowUp,
        invocation_id: &str,
    ) -> Result<Receipt, PortError> {
        let mut state = self.lock();
        if !state.tickets.contains_key(id) {
            return Ok(Receipt::UnknownTicket);
        }
        if let Some(enqueued) = state.invocations.get(invocation_id) {
            return Ok(if *enqueued {
                Receipt::Duplicate
            } else {
                Receipt::NotYetQueued
            });
        }
        state.invocations.insert(invocation_id.to_string(), false);
        let comments = state.comments.entry(id.clone()).or_default();
        if !comments.iter().any(|c| c.comment_id == comment.comment_id) {
            comments.push(comment.clone());
            comments.sort_by_key(|c| c.at);
        }
        Ok(Receipt::New)
    }

    async fn comments(&self, id: &TicketId) -> Result<Vec<FollowUp>, PortError> {
        Ok(self.lock().comments.get(id).cloned().unwrap_or_default())
    }

    async fn revise(
        &self,
        id: &TicketId,
        decision: &Decision,
        change: &Change,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(stored) = state.decisions.get_mut(id) else {
            return Ok(false);
        };
        if stored.revision + 1 != change.revision {
            return Ok(false);
        }
        stored.decision = decision.clone();
        stored.revision = change.revision;
        state
            .changes
            .entry(id.clone())
            .or_default()
            .push(change.clone());
        Ok(true)
    }

    async fn changes(&self, id: &TicketId) -> Result<Vec<Change>, PortError> {
        Ok(self.lock().changes.get(id).cloned().unwrap_or_default())
    }

    async fn mark_change_applied(&self, id: &TicketId, revision: u32) -> Result<(), PortError> {
        if let Some(c) = self
            .lock()
            .changes
            .get_mut(id)
            .and_then(|cs| cs.iter_mut().find(|c| c.revision == revision))
        {
            c.applied = true;
        }
        Ok(())
    }
}
