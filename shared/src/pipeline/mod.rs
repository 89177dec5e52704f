//! The triage pipeline, the same on one machine and in Lambda: claim the ticket,
//! decide once, store the decision, apply it in Zendesk (then note that it was),
//! hand the alerts over, mark it done. The claim (a conditional write with a lease)
//! keeps duplicate deliveries, in one batch or in parallel invocations, from acting
//! twice; each step is safe to repeat, so a redelivery after a crash finishes what an
//! earlier attempt started without deciding, noting or alerting twice.
//!
//! Before the decision is stored, the ticket is looked up against recent tickets of
//! other accounts ([`incidents`]): an incident raises its priority, and its declaring
//! delivery creates the Zendesk problem ticket and alerts on-call. Every decision
//! records its service-level clock ([`crate::sla`]). A customer's follow-up comment
//! revises the decision ([`Pipeline::follow_up`]).

mod follow_up;
mod incidents;

pub use follow_up::FollowedUp;
pub use incidents::{Observed, observe, update as update_incident};

use crate::accounts::AccountDirectory;
use crate::alerts::{Alert, AlertRouting, alerts_for};
use crate::domain::{Decision, Ticket};
use crate::engine::Engine;
use crate::llm::LlmAdvisor;
use crate::ports::{
    AlertSink, IncidentStore, LlmUsage, PortError, TicketClaim, TicketStore, ZendeskPort,
};
use crate::settings::{Env, SettingsError};
use crate::zendesk::{self, CustomFieldIds};
use serde::Deserialize;

/// Settings the pipeline needs beyond the engine's policy.
#[derive(Debug, Clone, Default)]
pub struct PipelineSettings {
    pub custom_fields: CustomFieldIds,
    pub routing: AlertRouting,
}

/// The custom field ids shipped with the product.
const DEFAULT_ZENDESK_TOML: &str = include_str!("../../../data/zendesk.toml");

#[derive(Debug, Deserialize)]
struct ZendeskToml {
    custom_fields: FieldsToml,
}

#[derive(Debug, Deserialize)]
struct FieldsToml {
    guardian_risk_score: u64,
    opportunity_intent: u64,
    agent_id: u64,
}

impl PipelineSettings {
    /// Custom field ids (`ZENDESK_FIELD_*`, default `data/zendesk.toml`), alert
    /// recipients and links.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<PipelineSettings, SettingsError> {
        let defaults: ZendeskToml =
            toml::from_str(DEFAULT_ZENDESK_TOML).map_err(|e| SettingsError::Invalid {
                name: "data/zendesk.toml",
                problem: e.to_string(),
            })?;
        let field = |name: &'static str, default: u64| -> Result<Option<u64>, SettingsError> {
            let v = env.parse::<u64>(name)?.unwrap_or(default);
            Ok((v != 0).then_some(v))
        };
        let custom_fields = CustomFieldIds {
            guardian_risk_score: field(
                "ZENDESK_FIELD_GUARDIAN_RISK_SCORE",
                defaults.custom_fields.guardian_risk_score,
            )?,
            opportunity_intent: field(
                "ZENDESK_FIELD_OPPORTUNITY_INTENT",
                defaults.custom_fields.opportunity_intent,
            )?,
            agent_id: field("ZENDESK_FIELD_AGENT_ID", defaults.custom_fields.agent_id)?,
        };
        let base = AlertRouting::default();
        let zendesk_url = match (env.get("ZENDESK_BASE_URL"), env.get("ZENDESK_SUBDOMAIN")) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
            (None, Some(sub)) => Some(format!("https://{sub}.zendesk.com")),
            _ => None,
        };
        Ok(PipelineSettings {
            custom_fields,
            routing: AlertRouting {
                guardian_email: env.get("GUARDIAN_EMAIL").unwrap_or(base.guardian_email),
                opportunity_email: env
                    .get("OPPORTUNITY_EMAIL")
                    .unwrap_or(base.opportunity_email),
                oncall_email: env.get("ONCALL_EMAIL").unwrap_or(base.oncall_email),
                sla_email: env.get("SLA_EMAIL").unwrap_or(base.sla_email),
                zendesk_url,
                dashboard_url: env.get("DASHBOARD_URL"),
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// Another delivery of the same ticket is being handled: try again after
    /// `retry_after` (never poison: the ticket is being taken care of).
    #[error("another delivery of this ticket is in progress")]
    Busy { retry_after: std::time::Duration },
    #[error("ticket store: {0}")]
    Store(PortError),
    #[error("zendesk: {0}")]
    Zendesk(PortError),
    #[error("alerts: {0}")]
    Alerts(PortError),
    #[error("incident store: {0}")]
    Incidents(PortError),
}

impl PipelineError {
    /// The port's failure behind this error (`None` for [`PipelineError::Busy`]).
    pub fn port(&self) -> Option<&PortError> {
        match self {
            PipelineError::Busy { .. } => None,
            PipelineError::Store(e)
            | PipelineError::Zendesk(e)
            | PipelineError::Alerts(e)
            | PipelineError::Incidents(e) => Some(e),
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
    /// Sightings and incidents across accounts; `None` looks up no incidents.
    pub incidents: Option<&'a dyn IncidentStore>,
}

impl Pipeline<'_> {
    /// Triages one ticket on behalf of `delivery` (the queue message, or the run).
    pub async fn triage(
        &self,
        ticket: &Ticket,
        delivery: &str,
    ) -> Result<Processed, PipelineError> {
        let lease = self.engine.policy.limits.claim_lease_secs;
        match self
            .store
            .claim(&ticket.id, delivery, lease)
            .await
            .map_err(PipelineError::Store)?
        {
            TicketClaim::Claimed => {}
            TicketClaim::Busy { until } => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                return Err(PipelineError::Busy {
                    retry_after: std::time::Duration::from_secs((until - now).clamp(1, 900) as u64),
                });
            }
            TicketClaim::Done => {
                if let Some(s) = self
                    .store
                    .decision(&ticket.id)
                    .await
                    .map_err(PipelineError::Store)?
                {
                    return Ok(Processed::already_done(s.decision));
                }
            }
        }
        let result = self.claimed(ticket).await;
        if result.is_err() {
            // Best effort: a duplicate need not wait for the lease; if this fails,
            // the lease still ends.
            if let Err(e) = self.store.release_claim(&ticket.id, delivery).await {
                tracing::warn!(ticket_id = %ticket.id, error = %e, "cannot release the claim");
            }
        }
        result
    }

    /// The work done under the claim.
    async fn claimed(&self, ticket: &Ticket) -> Result<Processed, PipelineError> {
        let store = |e| PipelineError::Store(e);
        let mut llm = None;
        let mut noted = false;
        let mut escalated = false;
        let mut brought = Vec::new();
        let (decision, replayed) = match self.store.decision(&ticket.id).await.map_err(store)? {
            Some(stored) if stored.completed => {
                return Ok(Processed::already_done(stored.decision));
            }
            Some(stored) => {
                noted = stored.noted;
                (stored.decision, true)
            }
            None => {
                let history = self.store.history(ticket).await.map_err(store)?;
                let load = self.store.agent_load().await.map_err(store)?;
                let (decision, concepts) =
                    self.engine.decide_with_concepts(ticket, &history, &load);
                let mut decision = match self.llm {
                    Some(advisor) if advisor.wants(&decision, self.engine) => {
                        let (decision, usage) =
                            advisor.consult(ticket, decision, self.engine).await;
                        llm = Some(usage);
                        decision
                    }
                    _ => decision,
                };
                let policy = &self.engine.policy;
                let at = ticket
                    .created_epoch()
                    .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
                if let Some(store) = self.incidents
                    && let Some(found) =
                        observe(store, self.engine, ticket, &decision, &concepts, at)
                            .await
                            .map_err(PipelineError::Incidents)?
                {
                    escalated = found.escalated;
                    brought = found.brought;
                    crate::incident::apply(&mut decision, &found.incident, found.declared);
                }
                decision.sla = Some(crate::sla::clock(
                    &policy.sla,
                    decision.priority,
                    ticket.mrr,
                    at,
                ));
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
        // Once the note is known to be on the ticket, a later delivery leaves Zendesk
        // alone; in between (a crash after the update), the adapter checks the
        // ticket's comments for the note before posting it.
        if !calls.is_empty() && !noted {
            self.zendesk
                .apply(&calls, replayed)
                .await
                .map_err(PipelineError::Zendesk)?;
            self.store.mark_noted(&ticket.id).await.map_err(store)?;
        }
        self.follow_through(&decision, replayed, escalated, &brought)
            .await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::env;

    #[test]
    fn defaults_come_from_the_shipped_file_and_env_overrides() {
        let s = PipelineSettings::from_env(&env(&[])).unwrap();
        assert_eq!(s.custom_fields.guardian_risk_score, Some(360000000101));
        assert_eq!(s.routing.zendesk_url, None);
        let s = PipelineSettings::from_env(&env(&[
            ("ZENDESK_FIELD_AGENT_ID", "0"),
            ("ZENDESK_SUBDOMAIN", "acme"),
            ("GUARDIAN_EMAIL", "kam@acme.test"),
        ]))
        .unwrap();
        assert_eq!(s.custom_fields.agent_id, None);
        assert_eq!(
            s.routing.zendesk_url.as_deref(),
            Some("https://acme.zendesk.com")
        );
        assert_eq!(s.routing.guardian_email, "kam@acme.test");
    }

    #[test]
    fn a_bad_field_id_names_the_variable() {
        let err =
            PipelineSettings::from_env(&env(&[("ZENDESK_FIELD_AGENT_ID", "abc")])).unwrap_err();
        assert!(err.to_string().contains("ZENDESK_FIELD_AGENT_ID"), "{err}");
    }
}
