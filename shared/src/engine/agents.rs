//! The agent directory (`data/agents.json`) and the choice of an agent inside a team:
//! specialties that match the ticket, the ticket's language, and the load so far.

use std::collections::HashMap;

use serde::Deserialize;

use super::lexicon::Matcher;
use crate::domain::Team;
use crate::policy::RoutingPolicy;
use crate::text::Prepared;

pub const DEFAULT_AGENTS: &str = include_str!("../../../data/agents.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub team: Team,
    #[serde(default)]
    pub specialties: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub zendesk_user_id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamInfo {
    pub name: String,
    #[serde(default)]
    pub zendesk_group_id: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct AgentsFile {
    teams: HashMap<Team, TeamInfo>,
    agents: Vec<Agent>,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    #[error("agents file: {0}")]
    Invalid(String),
}

/// Tickets assigned to each agent so far (in this run, or today in the store).
pub type AgentLoad = HashMap<String, u32>;

#[derive(Debug, Clone)]
pub struct AgentDirectory {
    pub agents: Vec<Agent>,
    pub teams: HashMap<Team, TeamInfo>,
    specialties: Matcher<u16>,
}

/// The chosen agent and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub agent: usize,
    pub reason: String,
}

impl AgentDirectory {
    pub fn parse(json: &str) -> Result<Self, AgentsError> {
        let file: AgentsFile =
            serde_json::from_str(json).map_err(|e| AgentsError::Invalid(e.to_string()))?;
        for team in Team::ALL {
            if !file.agents.iter().any(|a| a.team == *team) {
                return Err(AgentsError::Invalid(format!("team {team} has no agent")));
            }
        }
        let mut ids = std::collections::HashSet::new();
        let mut specialties = Matcher::default();
        for (i, a) in file.agents.iter().enumerate() {
            if !ids.insert(a.id.as_str()) {
                return Err(AgentsError::Invalid(format!("duplicate agent id {}", a.id)));
            }
            for s in &a.specialties {
                specialties
                    .add(i as u16, &specialty_pattern(s))
                    .map_err(|e| AgentsError::Invalid(format!("agent {}: {e}", a.id)))?;
            }
        }
        Ok(Self {
            agents: file.agents,
            teams: file.teams,
            specialties,
        })
    }

    pub fn embedded() -> Result<Self, AgentsError> {
        Self::parse(DEFAULT_AGENTS)
    }

    pub fn get(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn group_id(&self, team: Team) -> Option<u64> {
        self.teams.get(&team).and_then(|t| t.zendesk_group_id)
    }

    /// Picks the agent of `team` with the best specialty and language match, less
    /// their current load; ties go to the first agent in the file.
    pub fn assign(
        &self,
        team: Team,
        text: &Prepared,
        language: &str,
        load: &AgentLoad,
        policy: &RoutingPolicy,
    ) -> Option<Assignment> {
        let mut matched: HashMap<u16, Vec<String>> = HashMap::new();
        for hit in self.specialties.find(text) {
            let words = text.span_text(hit.start, hit.end);
            let list = matched.entry(hit.signal).or_default();
            if !list.contains(&words) {
                list.push(words);
            }
        }
        let mut best: Option<(usize, f64)> = None;
        for (i, a) in self
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.team == team)
        {
            let hits = matched.get(&(i as u16)).map_or(0, Vec::len) as f64;
            let speaks = language != "en" && a.languages.iter().any(|l| l == language);
            let taken = load.get(&a.id).copied().unwrap_or(0) as f64;
            let score = hits * policy.specialty_weight
                + if speaks { policy.language_weight } else { 0.0 }
                - taken * policy.load_weight;
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        let (i, _) = best?;
        let a = &self.agents[i];
        let mut why = Vec::new();
        if let Some(words) = matched.get(&(i as u16)) {
            why.push(format!("specialties {}", words.join(", ")));
        }
        if language != "en" && a.languages.iter().any(|l| l == language) {
            why.push(format!("speaks {language}"));
        }
        why.push(format!(
            "{} open in this run",
            load.get(&a.id).copied().unwrap_or(0)
        ));
        Some(Assignment {
            agent: i,
            reason: format!("agent {} ({}): {}", a.id, a.name, why.join("; ")),
        })
    }
}

/// "webhooks" → `webhook*`, "rate limits" → `rate limit*`, "2fa" → `2fa`.
fn specialty_pattern(s: &str) -> String {
    let words: Vec<String> = crate::text::fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.len() >= 5 {
                format!("{}*", w.strip_suffix('s').unwrap_or(w))
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn the_shipped_directory_covers_every_team() {
        let d = AgentDirectory::embedded().unwrap();
        for t in Team::ALL {
            assert!(d.agents.iter().any(|a| a.team == *t));
            assert!(d.group_id(*t).is_some());
        }
    }

    #[test]
    fn specialties_and_language_pick_the_agent_and_load_spreads_work() {
        let json = r#"{"teams":{"integrations_api":{"name":"I"},"data_analytics":{"name":"D"},"compliance_operations":{"name":"C"}},
          "agents":[
            {"id":"a","name":"A","team":"integrations_api","specialties":["magento"],"languages":["en"]},
            {"id":"b","name":"B","team":"integrations_api","specialties":["webhooks","rate limits"],"languages":["en","fr"]},
            {"id":"c","name":"C","team":"data_analytics"},{"id":"d","name":"D","team":"compliance_operations"}]}"#;
        let d = AgentDirectory::parse(json).unwrap();
        let routing = Policy::default_policy().routing;
        let text = Prepared::new("Webhook failing", "We hit the rate limit on webhooks", 1000);
        let mut load = AgentLoad::new();
        let first = d
            .assign(Team::IntegrationsApi, &text, "en", &load, &routing)
            .unwrap();
        assert_eq!(d.agents[first.agent].id, "b");
        assert!(first.reason.contains("webhook"), "{}", first.reason);
        // A French ticket with no specialty match goes to the French speaker.
        let fr = Prepared::new("Question", "Bonjour, une question", 1000);
        assert_eq!(
            d.agents[d
                .assign(Team::IntegrationsApi, &fr, "fr", &load, &routing)
                .unwrap()
                .agent]
                .id,
            "b"
        );
        // Once b carries enough load, a neutral ticket goes to a.
        load.insert("b".into(), 3);
        let plain = Prepared::new("Question", "A general question", 1000);
        assert_eq!(
            d.agents[d
                .assign(Team::IntegrationsApi, &plain, "en", &load, &routing)
                .unwrap()
                .agent]
                .id,
            "a"
        );
    }

    #[test]
    fn a_team_without_agents_is_an_error() {
        let json = r#"{"teams":{},"agents":[{"id":"a","name":"A","team":"integrations_api"}]}"#;
        assert!(
            AgentDirectory::parse(json)
                .unwrap_err()
                .to_string()
                .contains("has no agent")
        );
    }
}
