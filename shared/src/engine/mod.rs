//! The triage engine: a ticket, its account context and the policy in, a decision with
//! its reasons out. Pure and deterministic: no I/O, no clock, no randomness.

pub mod agents;
pub mod catalogue;
pub mod draft;
pub mod found;
pub mod guardian;
pub mod kb;
pub mod language;
pub mod lexicon;
pub mod opportunity;
pub mod priority;
pub mod sentiment;
pub mod signals;
pub mod team;

use std::path::Path;

use agents::{AgentDirectory, AgentLoad};
use catalogue::{Catalogue, PriorityWords};
use found::Found;
use kb::KnowledgeBase;
use language::LanguageModel;
use lexicon::{Hit, Matcher};
use signals::Signal;

use crate::domain::{AccountContext, Decision, EngineKind, Intent, Ticket};
use crate::policy::Policy;
use crate::text::Prepared;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    KnowledgeBase(#[from] kb::KbError),
    #[error(transparent)]
    Agents(#[from] agents::AgentsError),
    #[error(transparent)]
    Phrases(#[from] catalogue::CatalogueError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a pattern of the engine's matcher raises: a signal, or an agent's specialty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Signal(Signal),
    Specialty(u16),
}

/// The engine's decision together with its own confidence (0-1), which decides
/// whether a language model is consulted in hybrid mode.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub decision: Decision,
    pub confidence: f64,
}

/// The triage engine with its policy, knowledge base and agents compiled.
#[derive(Debug)]
pub struct Engine {
    pub policy: Policy,
    pub kb: KnowledgeBase,
    pub agents: AgentDirectory,
    language: LanguageModel,
    matcher: Matcher<Tag>,
    negatable: signals::SignalSet,
    priority_words: PriorityWords,
    /// Stop-word languages per vocabulary id.
    stop_masks: Vec<u8>,
}

impl Engine {
    pub fn new(
        policy: Policy,
        catalogue: Catalogue,
        mut kb: KnowledgeBase,
        agents: AgentDirectory,
    ) -> Result<Self, EngineError> {
        let mut matcher = Matcher::new(catalogue.negators.iter().map(String::as_str));
        for phrase in &catalogue.phrases {
            let tag = Tag::Signal(phrase.signal);
            if phrase.exclusion {
                matcher.add_exclusion(tag, &phrase.pattern)
            } else {
                matcher.add(tag, &phrase.pattern)
            }
            .map_err(|e| phrase.error(e.problem))?;
        }
        for name in &policy.guardian.competitors {
            let words: Vec<String> = crate::text::fold(name)
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            matcher
                .add(Tag::Signal(Signal::Competitor), &words.join(" "))
                .map_err(|e| {
                    EngineError::Policy(crate::policy::PolicyError::Invalid {
                        key: "guardian.competitors".into(),
                        problem: format!("{name:?}: {}", e.problem),
                    })
                })?;
        }
        for (agent, pattern) in agents.specialty_patterns() {
            // Checked when the agents file was read.
            matcher
                .add(Tag::Specialty(agent), &pattern)
                .map_err(|e| agents::AgentsError::Invalid(e.to_string()))?;
        }
        // One vocabulary for patterns, stop words and article words: a ticket's tokens
        // are looked up once.
        let language = LanguageModel::new();
        for w in kb.words() {
            matcher.intern(&w);
        }
        let stop_words: Vec<(&str, u8)> = language.stop_words().collect();
        for (w, _) in &stop_words {
            matcher.intern(w);
        }
        let mut stop_masks = vec![0u8; matcher.vocabulary_len()];
        for (w, mask) in stop_words {
            stop_masks[matcher.intern(w) as usize] = mask;
        }
        kb.learn_vocabulary(matcher.words(), matcher.vocabulary_len());
        Ok(Self {
            policy,
            kb,
            agents,
            language,
            matcher,
            negatable: catalogue.negatable,
            priority_words: catalogue.priority_words,
            stop_masks,
        })
    }

    /// The engine with the shipped policy, phrases, knowledge base and agents.
    pub fn embedded() -> Result<Self, EngineError> {
        Self::from_parts(Policy::default_policy(), Catalogue::embedded()?, None, None)
    }

    /// The engine from a policy and a phrase catalogue plus, optionally, a
    /// knowledge-base directory and an agents file (the shipped ones otherwise).
    pub fn from_parts(
        policy: Policy,
        catalogue: Catalogue,
        kb_dir: Option<&Path>,
        agents_file: Option<&Path>,
    ) -> Result<Self, EngineError> {
        let language = LanguageModel::new();
        let kb = match kb_dir {
            Some(dir) => KnowledgeBase::load_dir(dir, &policy.draft, &language)?,
            None => KnowledgeBase::embedded(&policy.draft, &language)?,
        };
        let agents = match agents_file {
            Some(path) => {
                AgentDirectory::parse(&std::fs::read_to_string(path).map_err(|source| {
                    EngineError::Io {
                        path: path.display().to_string(),
                        source,
                    }
                })?)?
            }
            None => AgentDirectory::embedded()?,
        };
        Self::new(policy, catalogue, kb, agents)
    }

    pub fn pattern_count(&self) -> usize {
        self.matcher.pattern_count()
    }

    /// Triage one ticket.
    pub fn decide(&self, ticket: &Ticket, account: &AccountContext, load: &AgentLoad) -> Decision {
        self.assess(ticket, account, load).decision
    }

    /// Triage one ticket and say how sure the engine is.
    pub fn assess(
        &self,
        ticket: &Ticket,
        account: &AccountContext,
        load: &AgentLoad,
    ) -> Assessment {
        let policy = &self.policy;
        let text = Prepared::new(
            &ticket.subject,
            &ticket.description,
            policy.limits.max_description_chars,
        );
        let mut hits = Vec::new();
        let mut specialties = Vec::new();
        let ids = self.matcher.token_ids(&text);
        let words = kb::Words {
            text: &text,
            ids: &ids,
            stop_masks: &self.stop_masks,
        };
        for h in self.matcher.find_with(&text, &ids) {
            match h.signal {
                Tag::Signal(signal) => hits.push(Hit {
                    signal,
                    start: h.start,
                    end: h.end,
                    negated: h.negated,
                }),
                Tag::Specialty(agent) => specialties.push(Hit {
                    signal: agent,
                    start: h.start,
                    end: h.end,
                    negated: h.negated,
                }),
            }
        }
        hits.extend(priority::at_stake(&text, &self.priority_words));
        let found = Found::new(hits, self.negatable);
        let raw_sample = if ticket.description.len() > 1200 {
            &ticket.description[..ticket.description.floor_char_boundary(1200)]
        } else {
            ticket.description.as_str()
        };
        let detected = self
            .language
            .detect_from_masks((0..text.len()).map(|i| words.stop_mask(i)), raw_sample);

        let churn_threat = policy
            .priority
            .churn_threat_signals
            .iter()
            .filter_map(|n| Signal::by_name(n))
            .any(|s| found.has(s));
        let sentiment = sentiment::assess(&found, &text, policy);
        let negative_tone = matches!(
            sentiment.sentiment.label,
            crate::domain::SentimentLabel::Frustrated | crate::domain::SentimentLabel::Aggressive
        );
        let prio = priority::assess(
            &found,
            &text,
            &self.priority_words,
            ticket.mrr,
            churn_threat,
            negative_tone,
            policy,
        );
        let team = team::assess(&found, &text, policy);
        let assignment = self.agents.assign(
            team.team,
            &text,
            &specialties,
            detected.code,
            load,
            &policy.routing,
        );
        let guardian = guardian::assess(
            &found,
            &text,
            &sentiment.sentiment,
            prio.priority,
            ticket.mrr,
            account,
            policy,
        );
        let opportunity = opportunity::assess(&found, &text, prio.priority, policy);
        let agent = assignment.as_ref().map(|a| &self.agents.agents[a.agent]);
        let draft = draft::compose(&draft::DraftInput {
            ticket,
            text: &text,
            priority: prio.priority,
            team: team.team,
            language: &detected,
            sentiment: &sentiment.sentiment,
            guardian_alert: guardian.alert,
            opportunity: opportunity.detected,
            agent,
            kb: &self.kb,
            words: &words,
            policy,
        });

        let mut reasons = Vec::with_capacity(8);
        reasons.push(prio.reason.clone());
        reasons.push(team.reason.clone());
        if let Some(a) = &assignment {
            reasons.push(a.reason.clone());
        }
        reasons.push(format!("language {}: {}", detected.code, detected.reason));
        reasons.push(sentiment.reason.clone());
        reasons.push(format!(
            "guardian {}/100 ({}){}",
            guardian.risk_score,
            guardian.level,
            if guardian.alert { ", alert" } else { "" }
        ));
        if opportunity.detected {
            reasons.push(format!(
                "opportunity {} ({:.2})",
                Intent::join(&opportunity.intents, ", "),
                opportunity.confidence
            ));
        }
        reasons.push(draft.reason);

        let confidence = prio.confidence.min(team.confidence);
        Assessment {
            decision: Decision {
                ticket_id: ticket.id.clone(),
                priority: prio.priority,
                team: team.team,
                agent_id: agent.map(|a| a.id.clone()),
                language: detected.code.to_string(),
                sentiment: sentiment.sentiment,
                guardian,
                opportunity,
                draft: draft.draft,
                reasons,
                engine: EngineKind::Rules,
            },
            confidence,
        }
    }
}
