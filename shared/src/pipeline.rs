//! The triage pipeline, the same on one machine and in Lambda: decide once per ticket,
//! store the decision, apply it in Zendesk, hand the alerts over, mark it done. Each
//! step is safe to repeat, so a redelivered ticket finishes what an earlier attempt
//! started without deciding or alerting twice.

use crate::accounts::AccountDirectory;
use crate::alerts::{Alert, AlertRouting, alerts_for};
use crate::domain::{Decision, Ticket};
use crate::engine::Engine;
use crate::llm::{LlmAdvisor, LlmUsage};
use crate::ports::{AlertSink, PortError, TicketStore, ZendeskPort};
use crate::zendesk::{self, CustomFieldIds};

/// Settings the pipeline needs beyond the engine's policy.
#[derive(Debug, Clone, Default)]
pub struct PipelineSettings {
    pub custom_fields: CustomFieldIds,
    pub routing: AlertRouting,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("ticket store: {0}")]
    Store(PortError),
    #[error("zendesk: {0}")]
    Zendesk(PortError),
    #[error("alerts: {0}")]
    Alerts(PortError),
}

impl PipelineError {
    pub fn port(&self) -> &PortError {
        match self {
            PipelineError::Store(e) | PipelineError::Zendesk(e) | PipelineError::Alerts(e) => e,
        }
    }
}

/// What happened to one ticket.
#[derive(Debug, Clone)]
pub struct Processed {
    pub decision: Decision,
    /// The alerts handed over in this run (empty when the ticket was done already).
    pub alerts: Vec<Alert>,
    /// Zendesk calls made (or recorded).
    pub zendesk_calls: usize,
    /// The decision came from the store (a redelivery), not from the engine.
    pub replayed: bool,
    /// Everything had been done by an earlier delivery; nothing was repeated.
    pub already_done: bool,
    /// The language model's cost for this ticket, when it was consulted now.
    pub llm: Option<LlmUsage>,
}

impl Processed {
    /// A ticket an earlier delivery finished: nothing is repeated.
    fn already_done(decision: Decision) -> Self {
        Self {
            decision,
            alerts: Vec::new(),
            zendesk_calls: 0,
            replayed: true,
            already_done: true,
            llm: None,
        }
    }
}

pub struct Pipeline<'a> {
    pub engine: &'a Engine,
    pub store: &'a dyn TicketStore,
    pub zendesk: &'a dyn ZendeskPort,
    pub alerts: &'a dyn AlertSink,
    pub accounts: &'a AccountDirectory,
    pub settings: &'a PipelineSettings,
    /// The optional language model (hybrid or always); `None` for the engine alone.
    pub llm: Option<&'a LlmAdvisor<'a>>,
}

impl Pipeline<'_> {
    pub async fn triage(&self, ticket: &Ticket) -> Result<Processed, PipelineError> {
        let store = |e| PipelineError::Store(e);
        let mut llm = None;
        let (decision, replayed) = match self.store.decision(&ticket.id).await.map_err(store)? {
            Some(stored) if stored.completed => {
                return Ok(Processed::already_done(stored.decision));
            }
            Some(stored) => (stored.decision, true),
            None => {
                let history = self.store.history(ticket).await.map_err(store)?;
                let load = self.store.agent_load().await.map_err(store)?;
                let assessment = self.engine.assess(ticket, &history, &load);
                let decision = match self.llm {
                    Some(advisor) if advisor.wants(assessment.confidence, self.engine) => {
                        let (decision, usage) = advisor
                            .consult(ticket, assessment.decision, self.engine)
                            .await;
                        llm = Some(usage);
                        decision
                    }
                    _ => assessment.decision,
                };
                if self
                    .store
                    .save_decision(ticket, &decision, llm.as_ref())
                    .await
                    .map_err(store)?
                {
                    (decision, false)
                } else {
                    // Another delivery stored its decision first: finish that one.
                    match self.store.decision(&ticket.id).await.map_err(store)? {
                        Some(stored) if stored.completed => {
                            return Ok(Processed::already_done(stored.decision));
                        }
                        Some(stored) => (stored.decision, true),
                        None => (decision, false),
                    }
                }
            }
        };

        let calls = zendesk::plan(
            &decision,
            &self.engine.agents,
            &self.settings.custom_fields,
            &self.engine.policy,
        );
        if !calls.is_empty() {
            self.zendesk
                .apply(&calls, replayed)
                .await
                .map_err(PipelineError::Zendesk)?;
        }
        let alerts = alerts_for(ticket, &decision, self.accounts, &self.settings.routing);
        for alert in &alerts {
            self.alerts
                .submit(alert)
                .await
                .map_err(PipelineError::Alerts)?;
        }
        self.store.mark_completed(&ticket.id).await.map_err(store)?;
        Ok(Processed {
            decision,
            alerts,
            zendesk_calls: calls.len(),
            replayed,
            already_done: false,
            llm,
        })
    }
}
