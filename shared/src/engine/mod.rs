//! The triage engine: a ticket, its account context and the policy in, a decision with
//! its reasons out. Pure and deterministic: no I/O, no clock, no randomness.
//!
//! The phrase rules read the ticket first ([`catalogue`], [`lexicon`], the analysers);
//! the learned [`model`] then decides from the text and the rules' findings, with the
//! rules' critical signals as guardrails ([`combine`]). Without a model (or with
//! `model.enabled = false`) the rules decide alone.

pub mod agents;
pub mod catalogue;
pub mod combine;
pub mod draft;
pub mod found;
pub mod guardian;
pub mod kb;
pub mod language;
pub mod lexicon;
pub mod model;
pub mod opportunity;
pub mod priority;
pub mod sentiment;
pub mod signals;
pub mod team;

use std::borrow::Cow;
use std::path::Path;

use agents::{AgentDirectory, AgentLoad};
use catalogue::{Catalogue, PriorityWords};
use found::Found;
use kb::KnowledgeBase;
use language::{Detected, LanguageModel};
use lexicon::{Hit, Matcher};
use model::features::{FeatureConfig, Features};
use model::{Model, Prediction};
use priority::PriorityOutcome;
use sentiment::SentimentOutcome;
use signals::{Family, Signal};
use team::TeamOutcome;

use crate::domain::{
    AccountContext, Confidence, Decision, EngineKind, Intent, OpportunitySignal, Priority, Team,
    Ticket,
};
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
    #[error(transparent)]
    Model(#[from] model::ModelError),
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

/// Everything the engine reads in a ticket before deciding: the rules' findings and
/// outcomes, and the model's features.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub text: Prepared,
    pub found: Found,
    ids: Vec<u32>,
    specialties: Vec<Hit<u16>>,
    pub language: Detected,
    pub sentiment: SentimentOutcome,
    /// An explicit churn threat (cancel, not renewing, chargeback, competitor).
    pub churn_threat: bool,
    /// A critical signal stands in the text.
    pub critical: bool,
    pub rules_priority: PriorityOutcome,
    pub rules_team: TeamOutcome,
    /// Empty when no feature space was asked for.
    pub features: Features,
}

/// Where the engine's data comes from; `None` is the shipped file.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    pub knowledge_base: Option<&'a Path>,
    pub agents: Option<&'a Path>,
    /// A model file (`triage learn`); the shipped model otherwise.
    pub model: Option<&'a Path>,
}

/// The triage engine with its policy, phrases, model, knowledge base and agents.
#[derive(Debug)]
pub struct Engine {
    pub policy: Policy,
    pub kb: KnowledgeBase,
    pub agents: AgentDirectory,
    /// The learned model; `None` when the policy turns it off.
    pub model: Option<Model>,
    /// Words that mean the same across languages (the incident look-up reads them).
    pub same_words: crate::text::SameWords,
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
        model: Option<Model>,
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
        let model = model.filter(|_| policy.model.enabled);
        Ok(Self {
            policy,
            kb,
            agents,
            model,
            same_words: catalogue.same_words,
            language,
            matcher,
            negatable: catalogue.negatable,
            priority_words: catalogue.priority_words,
            stop_masks,
        })
    }

    /// The engine with the shipped policy, phrases, model, knowledge base and agents.
    pub fn embedded() -> Result<Self, EngineError> {
        Self::from_parts(
            Policy::default_policy(),
            Catalogue::embedded()?,
            &Sources::default(),
        )
    }

    /// The engine from a policy, a phrase catalogue and the files of `sources`.
    pub fn from_parts(
        policy: Policy,
        catalogue: Catalogue,
        sources: &Sources<'_>,
    ) -> Result<Self, EngineError> {
        let language = LanguageModel::new();
        let kb = match sources.knowledge_base {
            Some(dir) => KnowledgeBase::load_dir(dir, &policy.draft, &language)?,
            None => KnowledgeBase::embedded(&policy.draft, &language)?,
        };
        let agents = match sources.agents {
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
        let model = if !policy.model.enabled {
            None
        } else {
            Some(match sources.model {
                Some(path) => Model::load(path)?,
                None => Model::embedded()?,
            })
        };
        Self::new(policy, catalogue, model, kb, agents)
    }

    pub fn pattern_count(&self) -> usize {
        self.matcher.pattern_count()
    }

    /// Reads a ticket: the rules' findings and, with a feature space, the features the
    /// model reads (`triage learn` asks with the space it trains).
    pub fn analyse(&self, ticket: &Ticket, features: Option<&FeatureConfig>) -> Analysis {
        let policy = &self.policy;
        let text = Prepared::new(
            &ticket.subject,
            &ticket.description,
            policy.limits.max_description_chars,
        );
        let mut hits = Vec::new();
        let mut specialties = Vec::new();
        let ids = self.matcher.token_ids(&text);
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
        let language = self.language.detect_from_masks(
            ids.iter().map(|&id| {
                if id == lexicon::NO_WORD {
                    0
                } else {
                    self.stop_masks[id as usize]
                }
            }),
            raw_sample,
        );
        let churn_threat = policy
            .priority
            .churn_threat_signals
            .iter()
            .filter_map(|n| Signal::by_name(n))
            .any(|s| found.has(s));
        let critical = policy
            .priority
            .critical_signals
            .iter()
            .filter_map(|n| Signal::by_name(n))
            .any(|s| found.has(s));
        let sentiment = sentiment::assess(&found, &text, policy);
        let negative_tone = sentiment.sentiment.label.is_negative();
        let rules_priority = priority::assess(
            &found,
            &text,
            &self.priority_words,
            ticket.mrr,
            churn_threat,
            negative_tone,
            policy,
        );
        let rules_team = team::assess(&found, &text, policy);
        let mut analysis = Analysis {
            text,
            found,
            ids,
            specialties,
            language,
            sentiment,
            churn_threat,
            critical,
            rules_priority,
            rules_team,
            features: Features::default(),
        };
        if let Some(space) = features {
            let named = named_features(&analysis, ticket);
            analysis.features = space.extract(&analysis.text, named);
        }
        analysis
    }

    /// Triage one ticket.
    /// The decision and what the ticket is about, as the rules see it: the names of its
    /// component signals (Shopify, payments, webhooks…) and of the failures it
    /// describes (broken, degraded, data mismatch…), negated ones left out, from the
    /// same reading of the ticket. The incident look-up compares tickets on these as
    /// well as on their words.
    pub fn decide_with_concepts(
        &self,
        ticket: &Ticket,
        account: &AccountContext,
        load: &AgentLoad,
    ) -> (Decision, Vec<&'static str>) {
        const GENERIC: &[&str] = &[
            "urgency",
            "business_impact",
            "wide_scope",
            "partial_scope",
            "no_workaround",
            "workaround",
            "minor",
            "no_rush",
            "question",
            "feature_request",
            "pricing_question",
            "past_incident",
            "at_stake",
        ];
        let a = self.analyse(ticket, self.model.as_ref().map(Model::features));
        let prediction = self.model.as_ref().map(|m| m.predict(&a.features));
        let mut names: Vec<&'static str> = a
            .found
            .in_family(signals::Family::Team)
            .chain(a.found.in_family(signals::Family::Priority))
            .map(|h| h.signal.name())
            .filter(|n| !GENERIC.contains(n))
            .collect();
        names.sort_unstable();
        names.dedup();
        let decision = self.decide_from(ticket, &a, prediction.as_ref(), account, load);
        (decision, names)
    }

    pub fn decide(&self, ticket: &Ticket, account: &AccountContext, load: &AgentLoad) -> Decision {
        let a = self.analyse(ticket, self.model.as_ref().map(Model::features));
        let prediction = self.model.as_ref().map(|m| m.predict(&a.features));
        self.decide_from(ticket, &a, prediction.as_ref(), account, load)
    }

    /// The decision from an analysis and, when the model is used, its prediction
    /// (cross-validation passes out-of-fold predictions here). Without a prediction
    /// the phrase rules decide alone.
    pub fn decide_from(
        &self,
        ticket: &Ticket,
        a: &Analysis,
        prediction: Option<&Prediction>,
        account: &AccountContext,
        load: &AgentLoad,
    ) -> Decision {
        let policy = &self.policy;
        let text = &a.text;
        let words = kb::Words {
            text,
            ids: &a.ids,
            stop_masks: &self.stop_masks,
        };

        let mut reasons = Vec::with_capacity(8);
        let (priority, team, confidence, mut review, model_churn, model_opportunity, engine) =
            match self.model.as_ref().zip(prediction) {
                None => {
                    reasons.push(a.rules_priority.reason.clone());
                    reasons.push(a.rules_team.reason.clone());
                    (
                        a.rules_priority.priority,
                        a.rules_team.team,
                        Confidence {
                            priority: a.rules_priority.confidence,
                            team: a.rules_team.confidence,
                        },
                        Vec::new(),
                        None,
                        None,
                        EngineKind::Rules,
                    )
                }
                Some((model, p)) => {
                    let recognised = a.found.in_family(Family::Priority).next().is_some()
                        || a.found.in_family(Family::Team).next().is_some();
                    let familiar =
                        combine::familiarity(p, a.language.code, recognised, &policy.model);
                    let guardrails = combine::Guardrails {
                        rules_p0: a.rules_priority.priority == Priority::P0,
                        critical_signal: a.critical,
                    };
                    let choice = combine::priority(p, guardrails, familiar, &policy.model);
                    let (team, team_confidence) = combine::team(p, familiar);
                    let chosen = choice.priority.index();
                    let team_index = Team::ALL.iter().position(|t| *t == team).expect("a team");
                    let [priority_words, team_words, churn_words, opportunity_words] = model
                        .explain(
                            &a.features,
                            text,
                            [
                                model::PRIORITY.start + chosen,
                                model::TEAM.start + team_index,
                                model::CHURN,
                                model::OPPORTUNITY,
                            ],
                            3,
                        )
                        .map(|words| words.join(" "));
                    reasons.push(format!(
                        "priority {}: model {} {:.2}: {}{}; rules {}{}",
                        choice.priority,
                        Priority::from_index(chosen),
                        p.priority[chosen],
                        priority_words,
                        if chosen != 0 {
                            format!("; P0 {:.2}", p.priority[0])
                        } else {
                            String::new()
                        },
                        a.rules_priority.reason.trim_start_matches("priority "),
                        choice
                            .guardrail
                            .as_deref()
                            .map(|g| format!("; {g}"))
                            .unwrap_or_default(),
                    ));
                    reasons.push(format!(
                        "team {team}: model {:.2}: {}; rules {}",
                        p.team[team_index],
                        team_words,
                        a.rules_team.reason.trim_start_matches("team "),
                    ));
                    let mut review = choice.review;
                    if team_confidence < policy.model.review_below_confidence {
                        review.push(format!("team confidence {team_confidence:.2}"));
                    }
                    if familiar < 1.0 {
                        review.push(format!(
                            "model knows {:.0}% of the words ({}){}",
                            p.coverage * 100.0,
                            a.language.code,
                            if recognised {
                                ""
                            } else {
                                "; no phrase recognised"
                            }
                        ));
                    }
                    (
                        choice.priority,
                        team,
                        Confidence {
                            priority: found::round2(choice.confidence),
                            team: found::round2(team_confidence),
                        },
                        review,
                        Some((p.churn, churn_words)),
                        Some((p.opportunity, opportunity_words)),
                        EngineKind::Model,
                    )
                }
            };
        let needs_review = !review.is_empty()
            && (confidence.priority < policy.model.review_below_confidence
                || confidence.team < policy.model.review_below_confidence
                || review.iter().any(|r| r.starts_with("may be P0")));
        if !needs_review {
            review.clear();
        }

        let assignment = self.agents.assign(
            team,
            text,
            &a.specialties,
            a.language.code,
            load,
            &policy.routing,
        );
        let guardian = guardian::assess(
            &a.found,
            text,
            &a.sentiment.sentiment,
            priority,
            guardian::Account {
                mrr: ticket.mrr,
                history: account,
            },
            model_churn.as_ref().map(|(p, why)| (*p, why.as_str())),
            policy,
        );
        let opportunity = match &model_opportunity {
            None => opportunity::assess(&a.found, text, priority, policy),
            Some((p, why)) => {
                let found = opportunity::intents(&a.found, text, policy);
                let detected = *p >= policy.model.opportunity_probability;
                let mut reasons = vec![format!("model {p:.2}: {why}")];
                reasons.extend(found.iter().map(|f| f.2.clone()));
                OpportunitySignal {
                    detected,
                    intents: if detected {
                        found.iter().map(|f| f.1).collect()
                    } else {
                        Vec::new()
                    },
                    confidence: found::round2(*p),
                    reasons,
                }
            }
        };
        let agent = assignment.as_ref().map(|x| &self.agents.agents[x.agent]);
        let mut draft = draft::compose(&draft::DraftInput {
            ticket,
            text,
            priority,
            team,
            language: &a.language,
            sentiment: &a.sentiment.sentiment,
            guardian_alert: guardian.alert,
            opportunity: opportunity.detected,
            agent,
            kb: &self.kb,
            words: &words,
            policy,
        });
        if needs_review && let Some(d) = draft.draft.as_mut() {
            d.auto_send_candidate = false;
        }

        if let Some(x) = &assignment {
            reasons.push(x.reason.clone());
        }
        reasons.push(format!(
            "language {}: {}",
            a.language.code, a.language.reason
        ));
        reasons.push(a.sentiment.reason.clone());
        reasons.push(format!(
            "guardian {}/100 ({}){}",
            guardian.risk_score,
            guardian.level,
            if guardian.alert { ", alert" } else { "" }
        ));
        if opportunity.detected {
            reasons.push(format!(
                "opportunity {} ({:.2})",
                if opportunity.intents.is_empty() {
                    "intent".to_string()
                } else {
                    Intent::join(&opportunity.intents, ", ")
                },
                opportunity.confidence
            ));
        }
        if needs_review {
            reasons.push(format!("needs review: {}", review.join("; ")));
        }
        reasons.push(draft.reason);

        Decision {
            ticket_id: ticket.id.clone(),
            priority,
            team,
            agent_id: agent.map(|x| x.id.clone()),
            language: a.language.code.to_string(),
            sentiment: a.sentiment.sentiment.clone(),
            guardian,
            opportunity,
            draft: draft.draft,
            confidence,
            needs_review,
            reasons,
            engine,
            incident: None,
            sla: None,
        }
    }
}

/// MRR bands for the model (fixed, so that a policy's tiers do not move features).
const MRR_BANDS: &[(f64, &str)] = &[
    (25_000.0, "mrr 25k+"),
    (10_000.0, "mrr 10k+"),
    (5_000.0, "mrr 5k+"),
    (2_000.0, "mrr 2k+"),
    (500.0, "mrr 500+"),
    (0.0, "mrr under 500"),
];

/// The named features of a ticket: the rules' signals (in the subject too; negated),
/// the rules' decisions, tone, language, channel, MRR band and surface marks.
fn named_features(a: &Analysis, ticket: &Ticket) -> Vec<Cow<'static, str>> {
    let mut out: Vec<Cow<'static, str>> = Vec::with_capacity(24);
    let mut last = None;
    for h in &a.found.hits {
        let negated = a.found.negatable(h.signal) && h.negated;
        if negated {
            out.push(Cow::Owned(format!("not {}", h.signal.name())));
            continue;
        }
        if last != Some(h.signal) {
            out.push(Cow::Borrowed(h.signal.name()));
            last = Some(h.signal);
        }
        if a.text.in_subject(h.start) && h.signal.family() != Family::Team {
            out.push(Cow::Owned(format!("subject {}", h.signal.name())));
        }
    }
    out.push(Cow::Borrowed(match a.rules_priority.priority {
        Priority::P0 => "rules P0",
        Priority::P1 => "rules P1",
        Priority::P2 => "rules P2",
        Priority::P3 => "rules P3",
    }));
    let score = a.rules_priority.score;
    out.push(Cow::Borrowed(if score >= 7.0 {
        "rules score 7+"
    } else if score >= 4.0 {
        "rules score 4+"
    } else if score >= 1.5 {
        "rules score 1.5+"
    } else if score > 0.0 {
        "rules score low"
    } else if score == 0.0 {
        "rules score 0"
    } else {
        "rules score negative"
    }));
    out.push(Cow::Borrowed(match a.rules_team.team {
        Team::IntegrationsApi => "rules team integrations_api",
        Team::DataAnalytics => "rules team data_analytics",
        Team::ComplianceOperations => "rules team compliance_operations",
    }));
    if a.churn_threat {
        out.push(Cow::Borrowed("churn threat"));
    }
    out.push(Cow::Owned(format!("tone {}", a.sentiment.sentiment.label)));
    out.push(Cow::Owned(format!("language {}", a.language.code)));
    let channel = ticket.channel.trim().to_ascii_lowercase();
    out.push(Cow::Owned(format!(
        "channel {}",
        if channel.is_empty() { "none" } else { &channel }
    )));
    out.push(Cow::Borrowed(match ticket.mrr {
        None => "mrr unknown",
        Some(m) => MRR_BANDS
            .iter()
            .find(|(min, _)| m >= *min)
            .map_or("mrr under 500", |b| b.1),
    }));
    if a.text.caps_ratio > 0.3 {
        out.push(Cow::Borrowed("shouting"));
    }
    if a.text.exclamation_runs > 0 {
        out.push(Cow::Borrowed("exclamations"));
    }
    if a.text.question_marks > 0 {
        out.push(Cow::Borrowed("question mark"));
    }
    out
}
