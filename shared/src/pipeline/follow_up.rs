//! The pipeline's follow-up step: a customer's new comment on a triaged ticket. The
//! conversation is triaged again ([`crate::followup::retriage`]); the revised decision
//! and its change-log entry are written together, conditional on the decision's
//! revision, so that two follow-ups in flight never overwrite each other; then the
//! note (what changed, from what, why) goes to Zendesk and alerts go out for a change
//! of state only. A redelivery finds the change logged and finishes what is missing.

use super::{Pipeline, PipelineError};
use crate::alerts::alerts_for;
use crate::domain::{Decision, Ticket};
use crate::followup::{self, Change};
use crate::zendesk;

/// Attempts when another follow-up revises the decision at the same time.
const ATTEMPTS: usize = 5;

/// What a follow-up did.
#[derive(Debug, Clone)]
pub struct FollowedUp {
    pub decision: Decision,
    pub change: Change,
    /// Alerts handed over (state changes only).
    pub alerts: usize,
    /// An earlier delivery had done it all.
    pub already_done: bool,
}

impl Pipeline<'_> {
    /// Re-triages `ticket` after its comment `comment_id`.
    pub async fn follow_up(
        &self,
        ticket: &Ticket,
        comment_id: &str,
    ) -> Result<FollowedUp, PipelineError> {
        let store = |e| PipelineError::Store(e);
        for _ in 0..ATTEMPTS {
            let stored = self.store.decision(&ticket.id).await.map_err(store)?;
            let Some(stored) = stored.filter(|s| s.completed) else {
                // The first triage is not finished: come back when it is.
                return Err(PipelineError::Busy {
                    retry_after: std::time::Duration::from_secs(30),
                });
            };
            let log = self.store.changes(&ticket.id).await.map_err(store)?;
            if let Some(change) = log.iter().find(|c| c.comment_id == comment_id) {
                if change.applied {
                    return Ok(FollowedUp {
                        decision: stored.decision,
                        change: change.clone(),
                        alerts: 0,
                        already_done: true,
                    });
                }
                return self
                    .apply_change(ticket, &stored.decision, None, change, true)
                    .await;
            }
            let conversation = self.store.comments(&ticket.id).await.map_err(store)?;
            let Some(newest) = conversation.iter().find(|c| c.comment_id == comment_id) else {
                return Err(PipelineError::Store(crate::ports::PortError::Rejected {
                    service: "ticket store",
                    message: format!("comment {comment_id} of ticket {} is not stored", ticket.id),
                }));
            };
            let history = self.store.history(ticket).await.map_err(store)?;
            let load = self.store.agent_load().await.map_err(store)?;
            let (next, changes, reasons) = followup::retriage(
                self.engine,
                ticket,
                &conversation,
                newest,
                &stored.decision,
                &history,
                &load,
            );
            let change = Change {
                revision: stored.revision + 1,
                at: newest.at,
                comment_id: comment_id.to_string(),
                changes,
                reasons,
                applied: false,
            };
            if self
                .store
                .revise(&ticket.id, &next, &change)
                .await
                .map_err(store)?
            {
                return self
                    .apply_change(ticket, &next, Some(&stored.decision), &change, false)
                    .await;
            }
        }
        Err(PipelineError::Busy {
            retry_after: std::time::Duration::from_secs(5),
        })
    }

    /// The note and the alerts of a logged change, then the change marked applied.
    /// `before` is the decision the change started from (`None` on a redelivery:
    /// the alerts' ids, by revision, keep them from going out twice).
    async fn apply_change(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        before: Option<&Decision>,
        change: &Change,
        replay: bool,
    ) -> Result<FollowedUp, PipelineError> {
        let calls = zendesk::follow_up_calls(decision, change, &self.settings.custom_fields);
        if !calls.is_empty() {
            self.zendesk
                .apply(&calls, replay)
                .await
                .map_err(PipelineError::Zendesk)?;
        }
        let (guardian, opportunity) = match before {
            Some(b) => followup::alert_worthy(b, decision),
            // On a redelivery the change log says what changed.
            None => (
                change.changed("guardian_alert") || change.changed("guardian"),
                change.changed("intents"),
            ),
        };
        let mut sent = 0;
        for mut alert in alerts_for(ticket, decision, self.accounts, &self.settings.routing) {
            let wanted = match alert.kind {
                crate::alerts::AlertKind::Guardian => guardian && decision.guardian.alert,
                crate::alerts::AlertKind::Opportunity => opportunity,
                _ => false,
            };
            if !wanted {
                continue;
            }
            alert.alert_id = format!("{}-r{}", alert.alert_id, change.revision);
            alert
                .reasons
                .insert(0, format!("follow-up: {}", change.reasons.join("; ")));
            self.alerts
                .submit(&alert)
                .await
                .map_err(PipelineError::Alerts)?;
            sent += 1;
        }
        self.store
            .mark_change_applied(&ticket.id, change.revision)
            .await
            .map_err(PipelineError::Store)?;
        let mut applied = change.clone();
        applied.applied = true;
        Ok(FollowedUp {
            decision: decision.clone(),
            change: applied,
            alerts: sent,
            already_done: false,
        })
    }
}
