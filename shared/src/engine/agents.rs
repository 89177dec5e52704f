//! The agent directory (`data/agents.json`) and the choice of an agent inside a team:
//! specialties that match the ticket, the ticket's language, and the load so far.

use std::collections::HashMap;

use serde::Deserialize;

use super::lexicon::{Hit, Matcher};
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
    /// The team's lead, who hears about service-level clocks at risk.
    #[serde(default)]
    pub lead_email: Option<String>,
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
        let mut specialties = Matcher::new([]);
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

    /// Each agent's specialties as patterns, tagged with the agent's index (so that the
    /// engine can find them in the same pass as its signals).
    pub fn specialty_patterns(&self) -> Vec<(u16, String)> {
        self.agents
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                a.specialties
                    .iter()
                    .map(move |s| (i as u16, specialty_pattern(s)))
            })
            .collect()
    }

    /// Specialty mentions in a ticket, tagged with the agent's index.
    pub fn find_specialties(&self, text: &Prepared) -> Vec<Hit<u16>> {
        self.specialties.find(text)
    }

    /// Picks the agent of `team` with the best specialty and language match, less
    /// their current load; ties go to the first agent in the file. `hits` are the
    /// specialty mentions ([`Self::find_specialties`]).
    pub fn assign(
        &self,
        team: Team,
        text: &Prepared,
        hits: &[Hit<u16>],
        language: &str,
        load: &AgentLoad,
        policy: &RoutingPolicy,
    ) -> Option<Assignment> {
        let mut counts = vec![0u32; self.agents.len()];
        let same_words = |a: &Hit<u16>, b: &Hit<u16>| {
            a.len() == b.len()
                && (0..a.len()).all(|k| text.token(a.start + k) == text.token(b.start + k))
        };
        for (n, h) in hits.iter().enumerate() {
            // Each specialty counts once per agent, however often it is mentioned.
            if !hits[..n]
                .iter()
                .any(|o| o.signal == h.signal && same_words(o, h))
            {
                counts[h.signal as usize] += 1;
            }
        }
        let mut best: Option<(usize, f64)> = None;
        for (i, a) in self
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.team == team)
        {
            let speaks = language != "en" && a.languages.iter().any(|l| l == language);
            let taken = load.get(&a.id).copied().unwrap_or(0) as f64;
            let score = f64::from(counts[i]) * policy.specialty_weight
                + if speaks { policy.language_weight } else { 0.0 }
                - taken * policy.load_weight;
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        let (i, _) = best?;
        let a = &self.agents[i];
        let mut why = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for h in hits.iter().filter(|h| h.signal as usize == i) {
            let w = text.span_text(h.start, h.end);
            if !words.contains(&w) {
                words.push(w);
            }
        }
        if !words.is_empty() {
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
        let assign = |text: &Prepared, lang: &str, load: &AgentLoad| {
            let hits = d.find_specialties(text);
            d.assign(Team::IntegrationsApi, text, &hits, lang, load, &routing)
                .unwrap()
        };
        let first = assign(&text, "en", &load);
        assert_eq!(d.agents[first.agent].id, "b");
        assert!(first.reason.contains("webhook"), "{}", first.reason);
        // A French ticket with no specialty match goes to the French speaker.
        let fr = Prepared::new("Question", "Bonjour, une question", 1000);
        assert_eq!(d.agents[assign(&fr, "fr", &load).agent].id, "b");
        // Once b carries enough load, a neutral ticket goes to a.
        load.insert("b".into(), 3);
        let plain = Prepared::new("Question", "A general question", 1000);
        assert_eq!(d.agents[assign(&plain, "en", &load).agent].id, "a");
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
