//! Sightings and incidents in memory (tests and `triage run`). Sightings older than a
//! day before the newest one are dropped, so that a long run keeps a day's worth.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{Team, TicketId};
use crate::incident::{Incident, Sighting};
use crate::ports::{IncidentStore, Opening, PortError, StoredIncident};

const KEEP_SECS: i64 = 86_400;

#[derive(Default)]
struct State {
    sightings: BTreeMap<(i64, TicketId), Sighting>,
    incidents: HashMap<String, StoredIncident>,
    /// Each team's claim: the incident and when the claim ends.
    claims: HashMap<Team, (String, i64)>,
}

/// Sightings and incidents in memory.
#[derive(Default)]
pub struct MemoryIncidentStore {
    state: Mutex<State>,
}

impl MemoryIncidentStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every incident, in the order they were declared.
    pub fn all(&self) -> Vec<Incident> {
        let mut all: Vec<Incident> = self
            .state()
            .incidents
            .values()
            .map(|s| s.incident.clone())
            .collect();
        all.sort_by(|a, b| (a.declared_at, &a.id).cmp(&(b.declared_at, &b.id)));
        all
    }
}

#[async_trait]
impl IncidentStore for MemoryIncidentStore {
    async fn record(&self, sighting: &Sighting) -> Result<(), PortError> {
        let mut state = self.state();
        state
            .sightings
            .insert((sighting.at, sighting.ticket_id.clone()), sighting.clone());
        let newest = state.sightings.keys().next_back().map_or(0, |k| k.0);
        while let Some(entry) = state.sightings.first_entry() {
            if entry.key().0 >= newest - KEEP_SECS {
                break;
            }
            entry.remove();
        }
        Ok(())
    }

    async fn sightings(&self, since: i64, until: i64) -> Result<Vec<Sighting>, PortError> {
        let state = self.state();
        Ok(state
            .sightings
            .range((since - 1, TicketId::parse("0").expect("a valid id"))..)
            .take_while(|(k, _)| k.0 <= until)
            .filter(|(k, _)| k.0 >= since)
            .map(|(_, s)| s.clone())
            .collect())
    }

    async fn incidents(&self, since: i64) -> Result<Vec<StoredIncident>, PortError> {
        Ok(self
            .state()
            .incidents
            .values()
            .filter(|s| s.incident.last_at >= since && s.incident.first_at >= since - 86_400)
            .cloned()
            .collect())
    }

    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, PortError> {
        Ok(self.state().incidents.get(id).cloned())
    }

    async fn open(&self, incident: &Incident, claim_until: i64) -> Result<Opening, PortError> {
        let mut state = self.state();
        if state.incidents.contains_key(&incident.id) {
            return Ok(Opening::Exists);
        }
        if let Some((other, until)) = state.claims.get(&incident.team)
            && *until >= incident.declared_at
        {
            return Ok(Opening::Claimed(other.clone()));
        }
        state
            .claims
            .insert(incident.team, (incident.id.clone(), claim_until));
        state.incidents.insert(
            incident.id.clone(),
            StoredIncident {
                incident: incident.clone(),
                version: 1,
            },
        );
        Ok(Opening::Opened)
    }

    async fn replace(&self, incident: &Incident, version: u64) -> Result<bool, PortError> {
        let mut state = self.state();
        match state.incidents.get_mut(&incident.id) {
            Some(stored) if stored.version == version => {
                stored.incident = incident.clone();
                stored.version += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
