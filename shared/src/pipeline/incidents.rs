//! The pipeline's incident step. Before the decision is stored, the ticket's sighting
//! is recorded and looked up against the recent ones ([`observe`]); a ticket that
//! declares an incident opens it with a conditional write, so that of two concurrent
//! deliveries one opens it and the other joins. After the ticket's own update,
//! [`follow_through`] creates the problem ticket (found by external id when an earlier
//! attempt created it), links the members and alerts on-call once (the alert's id is
//! the incident's).
//!
//! Who links whom: a member that joins once the problem ticket is known links itself
//! in its own update; the declaring delivery links every member that joined before it
//! recorded the problem ticket. Both read and change the incident with a
//! compare-and-swap, so each member is linked by exactly one of them.

use super::{Pipeline, PipelineError};
use crate::alerts::incident_alert;
use crate::domain::{Decision, Ticket};
use crate::engine::Engine;
use crate::incident::{self, Incident, Member, Sighting, Verdict};
use crate::ports::{IncidentStore, Opening, PortError};
use crate::zendesk;

/// Compare-and-swap attempts before giving up (the message is then retried).
const ATTEMPTS: usize = 20;

/// What the look-up found for a ticket.
#[derive(Debug, Clone)]
pub struct Observed {
    pub incident: Incident,
    /// This delivery opened the incident.
    pub declared: bool,
    /// This ticket's joining raised the incident's level.
    pub escalated: bool,
    /// Earlier tickets this one brought into the incident: its delivery links them
    /// when the problem ticket exists.
    pub brought: Vec<Member>,
}

/// Applies `change` to the stored incident until the write wins; `None` when no such
/// incident is stored. `change` returns whether it changed anything.
pub async fn update(
    store: &dyn IncidentStore,
    id: &str,
    change: impl Fn(&mut Incident) -> bool,
) -> Result<Option<Incident>, PortError> {
    for _ in 0..ATTEMPTS {
        let Some(stored) = store.incident(id).await? else {
            return Ok(None);
        };
        let mut incident = stored.incident;
        if !change(&mut incident) {
            return Ok(Some(incident));
        }
        if store.replace(&incident, stored.version).await? {
            return Ok(Some(incident));
        }
    }
    Err(PortError::Unavailable {
        service: "incident store",
        message: format!("incident {id} kept changing; try again"),
    })
}

/// Records the ticket's sighting and finds its incident, if any. `concepts`: the
/// engine's for the ticket ([`Engine::decide_with_concepts`]).
pub async fn observe(
    store: &dyn IncidentStore,
    engine: &Engine,
    ticket: &Ticket,
    decision: &Decision,
    concepts: &[&str],
    at: i64,
) -> Result<Option<Observed>, PortError> {
    let policy = &engine.policy.incidents;
    if !policy.enabled {
        return Ok(None);
    }
    let sighting = Sighting::of(ticket, decision, at, concepts, &engine.same_words);
    // A ticket decided lower than the policy's `max_priority` is not recorded (it
    // declares nothing) but may join an open incident like it.
    let recent = if incident::eligible(policy, decision.priority) {
        store.record(&sighting).await?;
        store.sightings(at - policy.window_minutes * 60, at).await?
    } else {
        Vec::new()
    };
    let open: Vec<Incident> = store
        .incidents(at - policy.idle_minutes * 60)
        .await?
        .into_iter()
        .map(|s| s.incident)
        .collect();
    let (id, brought) = match incident::assess(policy, &sighting, &recent, &open) {
        Verdict::Alone => return Ok(None),
        Verdict::Join(id) => (id, Vec::new()),
        Verdict::Merge(id, others) => (id, others),
        Verdict::Declare(new) => {
            match store
                .open(&new, new.declared_at + policy.window_minutes * 60)
                .await?
            {
                Opening::Opened => {
                    return Ok(Some(Observed {
                        incident: *new,
                        declared: true,
                        escalated: false,
                        brought: Vec::new(),
                    }));
                }
                // Opened before: by this ticket's earlier delivery (which stopped
                // before storing its decision: this one finishes its work), or by
                // another ticket's delivery (join it).
                Opening::Exists => {
                    if let Some(stored) = store.incident(&new.id).await?
                        && stored.incident.declared_by == sighting.ticket_id
                    {
                        return Ok(Some(Observed {
                            incident: stored.incident,
                            declared: true,
                            escalated: false,
                            brought: Vec::new(),
                        }));
                    }
                    (new.id, Vec::new())
                }
                // Another delivery declared the team's incident a moment ago from
                // other tickets of this failure: join it with the tickets this one saw.
                Opening::Claimed(other) => {
                    let others = new
                        .members
                        .into_iter()
                        .filter(|m| m.ticket_id != sighting.ticket_id)
                        .collect();
                    (other, others)
                }
            }
        }
    };
    let member = sighting.member();
    let level = std::cell::Cell::new(None);
    let joined = update(store, &id, |i| {
        level.set(Some(i.level));
        let mut changed = false;
        if !i.has(&member.ticket_id) {
            i.add(member.clone(), policy);
            i.remember(&sighting.sketch, sighting.at, policy);
            changed = true;
        }
        for other in &brought {
            if !i.has(&other.ticket_id) {
                i.add(other.clone(), policy);
                changed = true;
            }
        }
        changed
    })
    .await?;
    Ok(joined.map(|incident| Observed {
        escalated: level.get().is_some_and(|before| incident.level < before),
        brought: brought
            .into_iter()
            .filter(|m| incident.has(&m.ticket_id))
            .collect(),
        incident,
        declared: false,
    }))
}

impl Pipeline<'_> {
    /// After the ticket's own update: the declaring delivery creates the problem
    /// ticket, links the members and alerts on-call; a member whose joining raised the
    /// incident's level raises the others (when the problem ticket exists; otherwise
    /// the declaring delivery links them at the new level).
    pub(super) async fn follow_through(
        &self,
        decision: &Decision,
        replayed: bool,
        escalated: bool,
        brought: &[Member],
    ) -> Result<(), PipelineError> {
        let (Some(store), Some(reference)) = (self.incidents, decision.incident.as_ref()) else {
            return Ok(());
        };
        let failed = PipelineError::Incidents;
        if reference.declared {
            let Some(stored) = store.incident(&reference.id).await.map_err(failed)? else {
                return Ok(());
            };
            let problem = match stored.incident.problem_id {
                Some(p) => p,
                None => self
                    .zendesk
                    .create_ticket(
                        &reference.id,
                        &zendesk::problem_ticket(&stored.incident, &self.engine.agents),
                    )
                    .await
                    .map_err(PipelineError::Zendesk)?,
            };
            let incident = update(store, &reference.id, |i| {
                if i.problem_id.is_some() {
                    return false;
                }
                i.problem_id = Some(problem);
                true
            })
            .await
            .map_err(failed)?
            .unwrap_or(stored.incident);
            self.link(&incident, replayed).await?;
            self.alerts
                .submit(&incident_alert(&incident, &self.settings.routing))
                .await
                .map_err(PipelineError::Alerts)?;
        } else if (escalated || !brought.is_empty())
            && let Some(stored) = store.incident(&reference.id).await.map_err(failed)?
            && let Some(problem) = stored.incident.problem_id
        {
            if escalated {
                tracing::info!(incident = %reference.id, level = %stored.incident.level, "incident escalated; raising its members");
                self.link(&stored.incident, true).await?;
            } else {
                self.link_members(&stored.incident, problem, brought, replayed)
                    .await?;
            }
        }
        Ok(())
    }

    /// Links every member to the problem ticket.
    async fn link(&self, incident: &Incident, replayed: bool) -> Result<(), PipelineError> {
        let Some(problem) = incident.problem_id else {
            return Ok(());
        };
        self.link_members(incident, problem, &incident.members, replayed)
            .await
    }

    /// Links `members` to the problem ticket (each call safe to repeat: a note already
    /// on a ticket is not posted again).
    async fn link_members(
        &self,
        incident: &Incident,
        problem: u64,
        members: &[Member],
        replayed: bool,
    ) -> Result<(), PipelineError> {
        for member in members {
            let calls = zendesk::link_calls(incident, member, problem);
            if !calls.is_empty() {
                self.zendesk
                    .apply(&calls, replayed)
                    .await
                    .map_err(PipelineError::Zendesk)?;
            }
        }
        Ok(())
    }
}
