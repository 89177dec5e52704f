//! The triage policy: every number a support lead may tune (signal weights, thresholds,
//! MRR tiers, calibration targets, alert threshold, auto-send rules), read from
//! `data/policy.toml` and validated before anything runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::{Priority, RiskLevel, SentimentLabel, Team};
use crate::engine::signals::{Family, Signal};

/// The policy shipped with the product (`data/policy.toml`).
pub const DEFAULT_POLICY: &str = include_str!("../../data/policy.toml");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("policy file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("policy key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: u32,
    pub limits: Limits,
    pub priority: PriorityPolicy,
    pub team: TeamPolicy,
    pub sentiment: SentimentPolicy,
    pub guardian: GuardianPolicy,
    pub opportunity: OpportunityPolicy,
    pub draft: DraftPolicy,
    pub auto_send: AutoSendPolicy,
    pub routing: RoutingPolicy,
    pub calibration: Calibration,
    pub llm: LlmPolicy,
    pub model: ModelPolicy,
    pub incidents: IncidentPolicy,
    pub sla: SlaPolicy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Characters of a description that are read; the rest is ignored (logs, pastes).
    pub max_description_chars: usize,
    /// Time a queue consumer gives a batch's records when the invocation's deadline is
    /// unknown (a local runtime that sends none, or no plausible one), in milliseconds.
    pub batch_budget_ms: u64,
    /// How long a delivery's claim on a ticket keeps duplicates away, in seconds;
    /// longer than a delivery can take, shorter than a redelivery takes to come.
    pub claim_lease_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPolicy {
    /// Multiplier for a signal that appears in the subject line.
    pub subject_weight: f64,
    /// Score from which a ticket is P0 (only with a critical signal), P1 and P2.
    pub p0_threshold: f64,
    pub p1_threshold: f64,
    pub p2_threshold: f64,
    /// Share of the second-strongest malfunction signal that is added to the strongest.
    pub corroboration: f64,
    /// Multiplier for inquiry signals (question, feature request, pricing) when
    /// something is also reported broken.
    pub inquiry_damping: f64,
    /// Signals without which a ticket is never P0.
    pub critical_signals: Vec<String>,
    /// An explicit churn threat raises the ticket to at least this priority.
    pub churn_threat_floor: Priority,
    /// Churn signals that count as an explicit threat.
    pub churn_threat_signals: Vec<String>,
    /// Points added for accounts at or above this MRR.
    pub high_value_mrr: f64,
    pub high_value_points: f64,
    /// Weight of each priority signal (positive escalates, negative de-escalates).
    pub signals: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSignal {
    pub team: Team,
    pub weight: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamPolicy {
    pub subject_weight: f64,
    /// Each further mention of the same signal adds this share of its weight.
    pub repeat_factor: f64,
    /// At most this many mentions of one signal count.
    pub max_mentions: u32,
    /// The team for a ticket with no team signal at all.
    pub fallback: Team,
    pub signals: BTreeMap<String, TeamSignal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentPolicy {
    /// The raw sum of weights is squashed with tanh(sum / scale) into -1..1.
    pub scale: f64,
    pub aggressive_below: f64,
    pub frustrated_below: f64,
    pub positive_above: f64,
    /// Share of capital letters from which the text counts as shouting.
    pub shouting_caps_ratio: f64,
    pub shouting_weight: f64,
    /// Weight per run of "!!" (at most three count).
    pub exclamation_weight: f64,
    /// Each further hit of the same signal adds this share of its weight.
    pub repeat_factor: f64,
    pub signals: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLevels {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryPolicy {
    pub per_prior_ticket: f64,
    pub per_prior_negative: f64,
    pub per_prior_alert: f64,
    pub max_points: f64,
    /// How far back earlier tickets count, in days (Lambda store lookups).
    pub window_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MrrTier {
    pub name: String,
    pub min_mrr: f64,
    pub points: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianPolicy {
    /// Risk score (0-100) from which the Key Account Manager is alerted.
    pub alert_threshold: u32,
    pub levels: RiskLevels,
    /// Points by sentiment label.
    pub sentiment_points: BTreeMap<SentimentLabel, f64>,
    /// Points by priority.
    pub priority_points: BTreeMap<Priority, f64>,
    /// Points per churn signal.
    pub signals: BTreeMap<String, f64>,
    /// Cap on the points from churn language together.
    pub max_language_points: f64,
    /// MRR tiers only weigh in once there is some risk: the tier's points are scaled
    /// by min(1, other points / this).
    pub mrr_needs_points: f64,
    pub history: HistoryPolicy,
    pub mrr_tiers: Vec<MrrTier>,
    /// Named competitors; a mention counts as the `competitor` signal.
    pub competitors: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpportunityPolicy {
    /// Confidence an intent alone gives (0-1).
    pub intents: BTreeMap<String, f64>,
    /// Added per further distinct intent.
    pub extra_intent_bonus: f64,
    /// Confidence is multiplied by this when the ticket complains about price,
    /// disputes a bill or asks to downgrade or cancel.
    pub negative_context_factor: f64,
    /// Multiplier when the ticket is a P0/P1 incident (intent is rarely the point then).
    pub incident_factor: f64,
    pub min_confidence: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftPolicy {
    /// Priorities that get a draft reply.
    pub priorities: Vec<Priority>,
    pub bm25_k1: f64,
    pub bm25_b: f64,
    pub question_weight: f64,
    pub keywords_weight: f64,
    pub answer_weight: f64,
    /// Below this BM25 score no article is proposed.
    pub min_score: f64,
    /// BM25 score at which relevance reaches 1 - 1/e.
    pub saturation: f64,
    /// Share of the confidence that depends on the margin over the runner-up article.
    pub margin_share: f64,
    /// Share of the confidence that depends on the article's keywords appearing.
    pub keyword_share: f64,
    pub penalty_per_extra_question: f64,
    pub penalty_negative_sentiment: f64,
    pub penalty_long_ticket: f64,
    pub long_ticket_words: usize,
    /// Confidence from which a draft counts as resolving the ticket (auto-resolution rate).
    pub resolution_confidence: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoSendPolicy {
    /// Send candidates publicly and solve the ticket (the brief's "Option B"). Off by
    /// default: drafts stay internal notes.
    pub enabled: bool,
    pub priorities: Vec<Priority>,
    pub min_confidence: f64,
    pub sentiments: Vec<SentimentLabel>,
    pub max_questions: u32,
    pub max_words: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingPolicy {
    pub specialty_weight: f64,
    pub language_weight: f64,
    /// Subtracted per ticket already assigned to the agent in this run.
    pub load_weight: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Target share of each priority, in percent: [low, high].
    pub targets: BTreeMap<Priority, [f64; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmPolicy {
    /// In hybrid mode the model is asked when the engine's confidence is below this.
    pub hybrid_below_confidence: f64,
    /// Time budget per ticket for the model, retries included, in milliseconds.
    pub budget_ms: u64,
}

/// How the learned model and the phrase rules make one decision, and when a person
/// should look.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPolicy {
    /// Use the learned model (`false`: the phrase rules alone decide).
    pub enabled: bool,
    /// The cost of deciding each priority (columns P0..P3) when the truth is each
    /// priority (rows P0..P3). The decision is the priority with the lowest expected
    /// cost under the model's probabilities: a missed fire costs more than a false
    /// alarm.
    pub priority_costs: [[f64; 4]; 4],
    /// The phrase rules' decision raises the model's, never lowers it: the rules' P0
    /// (a critical signal with enough weight) keeps at least this priority...
    pub rules_p0_floor: Priority,
    /// ...and a critical signal alone (an outage, blocked revenue, data loss, a
    /// security incident, not negated) keeps at least this one.
    pub critical_signal_floor: Priority,
    /// Probability from which a churn threat or revenue intent is reported.
    pub churn_probability: f64,
    pub opportunity_probability: f64,
    /// A decision whose confidence is below this is flagged for review, never
    /// auto-sent, and (in hybrid mode) sent to the language model.
    pub review_below_confidence: f64,
    /// A ticket decided below P0 whose P0 probability reaches this is flagged too.
    pub review_p0_probability: f64,
    /// Confidence is multiplied by min(1, share of words known to the model / this).
    pub full_coverage: f64,
    /// Confidence is multiplied by this when the language is none the model was
    /// trained on.
    pub unknown_language_factor: f64,
    /// ...and by this when the phrase rules recognised nothing in the ticket (no
    /// signal of priority or team): the model then reads word statistics alone.
    pub no_signal_factor: f64,
    /// Languages the model was trained on.
    pub languages: Vec<String>,
}

/// When tickets from different accounts form an incident (see [`crate::incident`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPolicy {
    pub enabled: bool,
    /// The sliding window in which similar tickets add up.
    pub window_minutes: i64,
    /// Jaccard similarity of two tickets' content words and concepts from which they
    /// describe the same failure and, from enough accounts, declare an incident.
    pub similarity: f64,
    /// The similarity to one of an open incident's members from which a ticket routed
    /// to the same team joins it (at most `similarity`, which counts across teams: the
    /// failure is already established).
    pub join_similarity: f64,
    /// Distinct accounts that make an incident...
    pub min_accounts: usize,
    /// ...or this many when one of them pays at least `enterprise_mrr`.
    pub enterprise_min_accounts: usize,
    pub enterprise_mrr: f64,
    /// Members are raised to at least this priority...
    pub raise_to: Priority,
    /// ...and to P0 once this many accounts reported the failure.
    pub p0_accounts: usize,
    /// An incident takes new members until this long after the latest one that read
    /// like it at `similarity`.
    pub idle_minutes: i64,
    /// Only tickets decided at this priority or higher count (questions and how-tos,
    /// decided lower, do not).
    pub max_priority: Priority,
}

impl IncidentPolicy {
    /// The priority members of an incident of `accounts` accounts are raised to.
    pub fn level_for(&self, accounts: usize) -> Priority {
        if accounts >= self.p0_accounts {
            Priority::P0
        } else {
            self.raise_to
        }
    }
}

/// A tighter target for accounts from an MRR up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTier {
    pub name: String,
    pub min_mrr: f64,
    /// Targets are multiplied by this (0-1).
    pub factor: f64,
}

/// Service-level targets (see [`crate::sla`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// Minutes to the first public reply, per priority.
    pub first_response_minutes: BTreeMap<Priority, i64>,
    /// Minutes to the ticket being solved, per priority.
    pub resolution_minutes: BTreeMap<Priority, i64>,
    /// Tighter targets for high-MRR accounts (the tier with the highest `min_mrr` at
    /// or below the account's MRR applies).
    pub tiers: Vec<SlaTier>,
    /// The team lead is warned once this share of a target has elapsed.
    pub warn_at: f64,
}

impl Policy {
    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates policy text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// The shipped policy.
    pub fn default_policy() -> Self {
        Self::parse(DEFAULT_POLICY, "data/policy.toml").expect("the shipped policy is valid")
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.version != 1 {
            return Err(invalid("version", "only version 1 is understood"));
        }
        if !(1_000..=900_000).contains(&self.limits.batch_budget_ms) {
            return Err(invalid(
                "limits.batch_budget_ms",
                "must be between 1000 and 900000 (Lambda's longest invocation)",
            ));
        }
        if !(10..=3_600).contains(&self.limits.claim_lease_secs) {
            return Err(invalid(
                "limits.claim_lease_secs",
                "must be between 10 and 3600 seconds",
            ));
        }
        if self.limits.max_description_chars < 200 {
            return Err(invalid(
                "limits.max_description_chars",
                "must be at least 200",
            ));
        }
        let p = &self.priority;
        positive("priority.subject_weight", p.subject_weight)?;
        if !(p.p0_threshold > p.p1_threshold && p.p1_threshold > p.p2_threshold) {
            return Err(invalid(
                "priority.p0_threshold",
                "thresholds must satisfy p0_threshold > p1_threshold > p2_threshold",
            ));
        }
        finite("priority.high_value_points", p.high_value_points)?;
        unit("priority.corroboration", p.corroboration)?;
        unit("priority.inquiry_damping", p.inquiry_damping)?;
        finite("priority.high_value_mrr", p.high_value_mrr)?;
        signal_map("priority.signals", &p.signals, Family::Priority)?;
        signal_list(
            "priority.critical_signals",
            &p.critical_signals,
            Family::Priority,
        )?;
        signal_list(
            "priority.churn_threat_signals",
            &p.churn_threat_signals,
            Family::Churn,
        )?;

        let t = &self.team;
        positive("team.subject_weight", t.subject_weight)?;
        unit("team.repeat_factor", t.repeat_factor)?;
        let weights: BTreeMap<String, f64> = t
            .signals
            .iter()
            .map(|(k, v)| (k.clone(), v.weight))
            .collect();
        signal_map("team.signals", &weights, Family::Team)?;

        let s = &self.sentiment;
        positive("sentiment.scale", s.scale)?;
        if !(s.aggressive_below < s.frustrated_below && s.frustrated_below < s.positive_above) {
            return Err(invalid(
                "sentiment.aggressive_below",
                "must satisfy aggressive_below < frustrated_below < positive_above",
            ));
        }
        unit("sentiment.shouting_caps_ratio", s.shouting_caps_ratio)?;
        unit("sentiment.repeat_factor", s.repeat_factor)?;
        signal_map("sentiment.signals", &s.signals, Family::Sentiment)?;

        let g = &self.guardian;
        percent("guardian.alert_threshold", g.alert_threshold)?;
        if !(g.levels.medium < g.levels.high && g.levels.high < g.levels.critical) {
            return Err(invalid(
                "guardian.levels",
                "must satisfy medium < high < critical",
            ));
        }
        percent("guardian.levels.critical", g.levels.critical)?;
        for label in SentimentLabel::ALL {
            if !g.sentiment_points.contains_key(label) {
                return Err(invalid(
                    format!("guardian.sentiment_points.{label}"),
                    "missing",
                ));
            }
        }
        for prio in Priority::ALL {
            if !g.priority_points.contains_key(prio) {
                return Err(invalid(
                    format!("guardian.priority_points.{prio}"),
                    "missing",
                ));
            }
        }
        signal_map("guardian.signals", &g.signals, Family::Churn)?;
        positive("guardian.max_language_points", g.max_language_points)?;
        positive("guardian.mrr_needs_points", g.mrr_needs_points)?;
        finite("guardian.history.max_points", g.history.max_points)?;
        if g.mrr_tiers.is_empty() || g.mrr_tiers[0].min_mrr != 0.0 {
            return Err(invalid(
                "guardian.mrr_tiers",
                "the first tier must start at min_mrr = 0",
            ));
        }
        if g.mrr_tiers.windows(2).any(|w| w[0].min_mrr >= w[1].min_mrr) {
            return Err(invalid(
                "guardian.mrr_tiers",
                "tiers must be in increasing min_mrr",
            ));
        }
        for (i, c) in g.competitors.iter().enumerate() {
            if crate::text::fold(c)
                .split_whitespace()
                .next()
                .is_none_or(|w| w.len() < 3)
            {
                return Err(invalid(
                    format!("guardian.competitors[{i}]"),
                    "must be a name of at least three letters",
                ));
            }
        }

        let o = &self.opportunity;
        let intent_signals: Vec<Signal> = Signal::of_family(Family::Opportunity)
            .filter(|s| *s != Signal::NotAnOpportunity)
            .collect();
        for (k, v) in &o.intents {
            match Signal::by_name(k) {
                Some(s) if intent_signals.contains(&s) => {
                    unit(&format!("opportunity.intents.{k}"), *v)?
                }
                _ => {
                    return Err(invalid(
                        format!("opportunity.intents.{k}"),
                        "unknown intent",
                    ));
                }
            }
        }
        for s in &intent_signals {
            if !o.intents.contains_key(s.name()) {
                return Err(invalid(
                    format!("opportunity.intents.{}", s.name()),
                    "missing",
                ));
            }
        }
        unit("opportunity.extra_intent_bonus", o.extra_intent_bonus)?;
        unit(
            "opportunity.negative_context_factor",
            o.negative_context_factor,
        )?;
        unit("opportunity.incident_factor", o.incident_factor)?;
        unit("opportunity.min_confidence", o.min_confidence)?;

        let d = &self.draft;
        positive("draft.bm25_k1", d.bm25_k1)?;
        unit("draft.bm25_b", d.bm25_b)?;
        positive("draft.saturation", d.saturation)?;
        unit("draft.margin_share", d.margin_share)?;
        unit("draft.keyword_share", d.keyword_share)?;
        unit("draft.resolution_confidence", d.resolution_confidence)?;
        if d.margin_share + d.keyword_share > 1.0 {
            return Err(invalid(
                "draft.margin_share",
                "margin_share + keyword_share must be at most 1",
            ));
        }
        unit("auto_send.min_confidence", self.auto_send.min_confidence)?;

        for prio in Priority::ALL {
            match self.calibration.targets.get(prio) {
                Some([lo, hi]) if 0.0 <= *lo && lo <= hi && *hi <= 100.0 => {}
                Some(_) => {
                    return Err(invalid(
                        format!("calibration.targets.{prio}"),
                        "must be [low, high] percentages with low <= high",
                    ));
                }
                None => return Err(invalid(format!("calibration.targets.{prio}"), "missing")),
            }
        }
        unit(
            "llm.hybrid_below_confidence",
            self.llm.hybrid_below_confidence,
        )?;
        let m = &self.model;
        for (a, row) in m.priority_costs.iter().enumerate() {
            for (d, c) in row.iter().enumerate() {
                if !(c.is_finite() && *c >= 0.0) || (a == d) != (*c == 0.0) {
                    return Err(invalid(
                        format!("model.priority_costs[{a}][{d}]"),
                        "costs must be 0 on the diagonal and positive elsewhere",
                    ));
                }
            }
        }
        unit("model.churn_probability", m.churn_probability)?;
        unit("model.opportunity_probability", m.opportunity_probability)?;
        unit("model.review_below_confidence", m.review_below_confidence)?;
        unit("model.review_p0_probability", m.review_p0_probability)?;
        unit("model.full_coverage", m.full_coverage)?;
        positive("model.full_coverage", m.full_coverage)?;
        unit("model.unknown_language_factor", m.unknown_language_factor)?;
        unit("model.no_signal_factor", m.no_signal_factor)?;

        let i = &self.incidents;
        if !(1..=1_440).contains(&i.window_minutes) {
            return Err(invalid(
                "incidents.window_minutes",
                "must be between 1 and 1440",
            ));
        }
        if !(i.window_minutes..=10_080).contains(&i.idle_minutes) {
            return Err(invalid(
                "incidents.idle_minutes",
                "must be at least window_minutes and at most 10080 (a week)",
            ));
        }
        unit("incidents.similarity", i.similarity)?;
        positive("incidents.similarity", i.similarity)?;
        positive("incidents.join_similarity", i.join_similarity)?;
        if i.join_similarity > i.similarity {
            return Err(invalid(
                "incidents.join_similarity",
                "must be at most similarity",
            ));
        }
        if i.enterprise_min_accounts < 2 || i.min_accounts < i.enterprise_min_accounts {
            return Err(invalid(
                "incidents.min_accounts",
                "must satisfy 2 <= enterprise_min_accounts <= min_accounts",
            ));
        }
        if i.p0_accounts < i.min_accounts {
            return Err(invalid(
                "incidents.p0_accounts",
                "must be at least min_accounts",
            ));
        }
        finite("incidents.enterprise_mrr", i.enterprise_mrr)?;

        let sla = &self.sla;
        for (key, targets) in [
            ("sla.first_response_minutes", &sla.first_response_minutes),
            ("sla.resolution_minutes", &sla.resolution_minutes),
        ] {
            for prio in Priority::ALL {
                match targets.get(prio) {
                    Some(m) if *m > 0 => {}
                    Some(_) => return Err(invalid(format!("{key}.{prio}"), "must be positive")),
                    None => return Err(invalid(format!("{key}.{prio}"), "missing")),
                }
            }
        }
        for (n, t) in sla.tiers.iter().enumerate() {
            unit(&format!("sla.tiers[{n}].factor"), t.factor)?;
            positive(&format!("sla.tiers[{n}].factor"), t.factor)?;
            finite(&format!("sla.tiers[{n}].min_mrr"), t.min_mrr)?;
        }
        unit("sla.warn_at", sla.warn_at)?;
        positive("sla.warn_at", sla.warn_at)?;
        Ok(())
    }

    pub fn priority_weight(&self, s: Signal) -> f64 {
        self.priority.signals.get(s.name()).copied().unwrap_or(0.0)
    }

    pub fn sentiment_weight(&self, s: Signal) -> f64 {
        self.sentiment.signals.get(s.name()).copied().unwrap_or(0.0)
    }

    pub fn churn_weight(&self, s: Signal) -> f64 {
        self.guardian.signals.get(s.name()).copied().unwrap_or(0.0)
    }

    pub fn team_signal(&self, s: Signal) -> Option<&TeamSignal> {
        self.team.signals.get(s.name())
    }

    pub fn intent_weight(&self, s: Signal) -> f64 {
        self.opportunity
            .intents
            .get(s.name())
            .copied()
            .unwrap_or(0.0)
    }

    /// The Guardian level of a risk score.
    pub fn risk_level(&self, score: u8) -> RiskLevel {
        let (score, l) = (u32::from(score), &self.guardian.levels);
        if score >= l.critical {
            RiskLevel::Critical
        } else if score >= l.high {
            RiskLevel::High
        } else if score >= l.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }

    /// The MRR tier an account falls in.
    pub fn mrr_tier(&self, mrr: f64) -> &MrrTier {
        self.guardian
            .mrr_tiers
            .iter()
            .rev()
            .find(|t| mrr >= t.min_mrr)
            .unwrap_or(&self.guardian.mrr_tiers[0])
    }
}

fn finite(key: &str, v: f64) -> Result<(), PolicyError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(key, "must be a finite number"))
    }
}

fn positive(key: &str, v: f64) -> Result<(), PolicyError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(key, format!("must be a positive number, got {v}")))
    }
}

fn unit(key: &str, v: f64) -> Result<(), PolicyError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(key, format!("must be between 0 and 1, got {v}")))
    }
}

fn percent(key: &str, v: u32) -> Result<(), PolicyError> {
    if v <= 100 {
        Ok(())
    } else {
        Err(invalid(key, format!("must be between 0 and 100, got {v}")))
    }
}

fn signal_map(key: &str, map: &BTreeMap<String, f64>, family: Family) -> Result<(), PolicyError> {
    for (name, weight) in map {
        match Signal::by_name(name) {
            Some(s) if s.family() == family => finite(&format!("{key}.{name}"), *weight)?,
            _ => {
                let known: Vec<&str> = Signal::of_family(family).map(Signal::name).collect();
                return Err(invalid(
                    format!("{key}.{name}"),
                    format!("unknown signal (known: {})", known.join(", ")),
                ));
            }
        }
    }
    for s in Signal::of_family(family) {
        if !map.contains_key(s.name()) {
            return Err(invalid(format!("{key}.{}", s.name()), "missing weight"));
        }
    }
    Ok(())
}

fn signal_list(key: &str, list: &[String], family: Family) -> Result<(), PolicyError> {
    for (i, name) in list.iter().enumerate() {
        if !Signal::by_name(name).is_some_and(|s| s.family() == family) {
            return Err(invalid(
                format!("{key}[{i}]"),
                format!("unknown signal {name:?}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_is_valid() {
        let p = Policy::default_policy();
        assert!(p.priority.p0_threshold > p.priority.p1_threshold);
        assert_eq!(p.mrr_tier(0.0).min_mrr, 0.0);
        assert!(p.mrr_tier(1e9).min_mrr > 0.0);
    }

    fn with(find: &str, replace: &str) -> Result<Policy, PolicyError> {
        assert!(
            DEFAULT_POLICY.contains(find),
            "test edits a line that exists: {find}"
        );
        Policy::parse(&DEFAULT_POLICY.replacen(find, replace, 1), "test.toml")
    }

    fn key_of(r: Result<Policy, PolicyError>) -> String {
        match r {
            Err(PolicyError::Invalid { key, .. }) => key,
            Err(PolicyError::Parse { message, .. }) => format!("parse: {message}"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn an_out_of_range_value_names_its_key() {
        let alert = DEFAULT_POLICY
            .lines()
            .find(|l| l.starts_with("alert_threshold"))
            .unwrap();
        assert_eq!(
            key_of(with(alert, "alert_threshold = 101")),
            "guardian.alert_threshold"
        );
        let min = DEFAULT_POLICY
            .lines()
            .find(|l| l.starts_with("min_confidence") && l.contains("0.95"))
            .unwrap();
        assert_eq!(
            key_of(with(min, "min_confidence = 1.5")),
            "auto_send.min_confidence"
        );
    }

    #[test]
    fn an_unknown_signal_or_key_is_named() {
        assert_eq!(
            key_of(with(
                "[priority.signals]",
                "[priority.signals]\nmeltdown = 3.0"
            )),
            "priority.signals.meltdown"
        );
        let err = key_of(with("[limits]", "[limits]\nbogus = 1"));
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn a_missing_weight_and_a_wrong_type_are_named() {
        let outage = DEFAULT_POLICY
            .lines()
            .find(|l| l.starts_with("outage ="))
            .unwrap();
        assert_eq!(key_of(with(outage, "")), "priority.signals.outage");
        let err = key_of(with(outage, "outage = \"high\""));
        assert!(err.contains("outage"), "{err}");
    }
}
