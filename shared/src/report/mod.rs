//! Run metrics and the dashboard's content, accumulated ticket by ticket so that a run
//! of any size keeps only counters and a capped sample in memory.

pub mod html;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::domain::{
    Decision, EngineKind, Intent, Priority, RiskLevel, SentimentLabel, Team, Ticket,
};
use crate::eval::{Evaluation, EvaluationReport};
use crate::incident::Incident;
use crate::incident::score::{IncidentScore, Labelled, score};
use crate::input::{InputIssue, Labels, Severity};
use crate::policy::Policy;
use crate::ports::LlmUsage;
use crate::redact::Redactions;
use crate::sla::{Progress, SlaState};
use crate::text::truncate_words;

/// How many rows the dashboard lists in full.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub table_rows: usize,
    pub alerts: usize,
    pub opportunities: usize,
    pub input_issues: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            table_rows: 2000,
            alerts: 300,
            opportunities: 300,
            input_issues: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    pub ticket_id: String,
    pub customer: String,
    pub subject: String,
    pub priority: Priority,
    pub team: Team,
    pub agent_id: Option<String>,
    pub language: String,
    pub sentiment: SentimentLabel,
    pub sentiment_score: f64,
    pub risk_score: u8,
    pub guardian_alert: bool,
    pub intents: Vec<Intent>,
    pub opportunity: bool,
    pub draft_article: Option<String>,
    pub draft_confidence: Option<f64>,
    pub auto_send: bool,
    pub engine: EngineKind,
    pub confidence: f64,
    pub needs_review: bool,
    pub reasons: Vec<String>,
    pub actual_priority: Option<Priority>,
    /// The service-level state when the report was made (open tickets).
    pub sla: Option<SlaState>,
    /// The incident the ticket belongs to.
    pub incident: Option<String>,
}

/// Incidents across accounts in the report's window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IncidentMetrics {
    pub declared: u64,
    /// Tickets in an incident.
    pub members: u64,
    /// Against the input's `actual_incident` labels, when it has them.
    pub score: Option<IncidentScore>,
}

/// Service-level clocks of the report's tickets, as they stood at `as_of`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SlaMetrics {
    pub as_of: Option<String>,
    pub on_time: u64,
    pub at_risk: u64,
    pub breached: u64,
    /// Answered and solved within the targets.
    pub met: u64,
}

/// A ticket's clock, kept small for runs of any size.
#[derive(Debug, Clone)]
struct ClockEntry {
    clock: crate::sla::SlaClock,
    progress: Progress,
    row: Option<usize>,
}

/// A decision a person should check, for the dashboard's "needs review" list.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub ticket_id: String,
    pub customer: String,
    pub subject: String,
    pub priority: Priority,
    pub team: Team,
    pub confidence: f64,
    /// The engine's own account of why ("may be P0 (0.22); priority confidence 0.41").
    pub why: String,
    /// A possible P0 decided lower: listed first.
    pub possible_fire: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuardianItem {
    pub ticket_id: String,
    pub customer: String,
    pub subject: String,
    pub mrr: Option<f64>,
    pub priority: Priority,
    pub risk_score: u8,
    pub level: RiskLevel,
    pub reasons: Vec<String>,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpportunityItem {
    pub ticket_id: String,
    pub customer: String,
    pub subject: String,
    pub mrr: Option<f64>,
    pub intents: Vec<Intent>,
    pub confidence: f64,
    pub snippet: String,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationCheck {
    pub target_pct: [f64; 2],
    pub actual_pct: f64,
    /// "within", "below" or "above" the target band.
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Processing {
    /// Tickets whose processing time was measured (none for stored decisions).
    pub measured: u64,
    pub total_ms: f64,
    pub avg_ms_per_ticket: f64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub max_us: u64,
}

/// What the language model did and cost over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LlmMetrics {
    /// Tickets sent to the model.
    pub consulted: u64,
    /// Share of all tickets sent to the model.
    pub consulted_share: f64,
    /// Answers used; the rest fell back to the built-in decision.
    pub used: u64,
    pub fallbacks: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// The cost of the priced calls.
    pub cost_usd: f64,
    pub cost_per_consulted_ticket_usd: f64,
    /// Calls to a model missing from the price list: their cost is not in `cost_usd`.
    pub unpriced_calls: u64,
    pub redactions: Redactions,
}

/// `metrics_summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub generated_at: String,
    pub source: String,
    pub tickets: u64,
    pub input_rejected: u64,
    pub input_warnings: u64,
    /// Tickets read but not triaged because a service refused them (listed in
    /// `input_issues` with the reason).
    pub not_triaged: u64,
    pub priority: BTreeMap<Priority, u64>,
    pub calibration: BTreeMap<Priority, CalibrationCheck>,
    pub teams: BTreeMap<Team, u64>,
    pub languages: BTreeMap<String, u64>,
    pub sentiment: BTreeMap<SentimentLabel, u64>,
    pub engines: BTreeMap<EngineKind, u64>,
    pub guardian_alerts: u64,
    pub guardian_alert_rate: f64,
    pub risk_levels: BTreeMap<RiskLevel, u64>,
    pub opportunity_signals: u64,
    pub opportunity_rate: f64,
    pub intents: BTreeMap<Intent, u64>,
    /// P2/P3 tickets with a draft reply.
    pub drafts: u64,
    /// Drafts confident enough to resolve the ticket with one agent click.
    pub auto_resolvable: u64,
    /// `auto_resolvable` over all tickets.
    pub auto_resolution_rate: f64,
    pub auto_send_candidates: u64,
    /// Decisions flagged `triage_needs_review`.
    pub needs_review: u64,
    pub needs_review_rate: f64,
    pub processing: Processing,
    /// Agreement with the input's labels, when it has them.
    pub agreement: Option<EvaluationReport>,
    /// The language model's share and cost, when it was consulted.
    pub llm: Option<LlmMetrics>,
    pub incidents: IncidentMetrics,
    pub sla: SlaMetrics,
    pub input_issues: Vec<InputIssue>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub metrics: Metrics,
    pub rows: Vec<TicketRow>,
    /// Tickets not listed in the table because of the cap.
    pub rows_omitted: u64,
    pub guardian: Vec<GuardianItem>,
    pub guardian_omitted: u64,
    pub opportunities: Vec<OpportunityItem>,
    pub opportunities_omitted: u64,
    pub review: Vec<ReviewItem>,
    pub review_omitted: u64,
    /// In the order they were declared.
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone)]
pub struct ReportBuilder {
    caps: Caps,
    calibration: BTreeMap<Priority, [f64; 2]>,
    resolution_confidence: f64,
    tickets: u64,
    priority: BTreeMap<Priority, u64>,
    teams: BTreeMap<Team, u64>,
    languages: BTreeMap<String, u64>,
    sentiment: BTreeMap<SentimentLabel, u64>,
    engines: BTreeMap<EngineKind, u64>,
    risk_levels: BTreeMap<RiskLevel, u64>,
    intents: BTreeMap<Intent, u64>,
    guardian_alerts: u64,
    opportunity_signals: u64,
    drafts: u64,
    auto_resolvable: u64,
    auto_send: u64,
    needs_review: u64,
    elapsed_us: Vec<u32>,
    evaluation: Evaluation,
    labelled: bool,
    llm: LlmMetrics,
    rows: Vec<TicketRow>,
    guardian: Vec<GuardianItem>,
    opportunities: Vec<OpportunityItem>,
    review: Vec<ReviewItem>,
    sla_warn_at: f64,
    clocks: Vec<ClockEntry>,
    as_of: Option<i64>,
    incidents: Vec<Incident>,
    incident_labels: Option<Vec<Labelled>>,
}

impl ReportBuilder {
    pub fn new(policy: &Policy, caps: Caps) -> Self {
        Self {
            caps,
            calibration: policy.calibration.targets.clone(),
            resolution_confidence: policy.draft.resolution_confidence,
            tickets: 0,
            priority: Priority::ALL.iter().map(|p| (*p, 0)).collect(),
            teams: Team::ALL.iter().map(|t| (*t, 0)).collect(),
            languages: BTreeMap::new(),
            sentiment: SentimentLabel::ALL.iter().map(|s| (*s, 0)).collect(),
            engines: BTreeMap::new(),
            risk_levels: RiskLevel::ALL.iter().map(|r| (*r, 0)).collect(),
            intents: BTreeMap::new(),
            guardian_alerts: 0,
            opportunity_signals: 0,
            drafts: 0,
            auto_resolvable: 0,
            auto_send: 0,
            needs_review: 0,
            elapsed_us: Vec::new(),
            evaluation: Evaluation::default(),
            labelled: false,
            llm: LlmMetrics::default(),
            rows: Vec::new(),
            guardian: Vec::new(),
            opportunities: Vec::new(),
            review: Vec::new(),
            sla_warn_at: policy.sla.warn_at,
            clocks: Vec::new(),
            as_of: None,
            incidents: Vec::new(),
            incident_labels: None,
        }
    }

    /// The time service-level clocks are read at (default: the latest ticket's
    /// creation, which suits a file of past tickets).
    pub fn as_of(&mut self, at: i64) {
        self.as_of = Some(at);
    }

    /// The incidents of the report's window.
    pub fn incidents(&mut self, incidents: Vec<Incident>) {
        self.incidents = incidents;
    }

    pub fn add(
        &mut self,
        ticket: &Ticket,
        decision: &Decision,
        labels: Option<&Labels>,
        elapsed: Option<Duration>,
        progress: &Progress,
    ) {
        self.tickets += 1;
        if let Some(l) = labels.and_then(|l| l.incident.as_ref()) {
            let labelled = self.incident_labels.get_or_insert_with(Vec::new);
            if !l.is_empty()
                && let Some(at) = ticket.created_epoch()
            {
                labelled.push(Labelled {
                    ticket_id: ticket.id.clone(),
                    outage: l.clone(),
                    at,
                });
            }
        }
        if let Some(clock) = &decision.sla {
            self.clocks.push(ClockEntry {
                clock: clock.clone(),
                progress: progress.clone(),
                row: (self.rows.len() < self.caps.table_rows).then_some(self.rows.len()),
            });
        }
        *self.priority.entry(decision.priority).or_default() += 1;
        *self.teams.entry(decision.team).or_default() += 1;
        *self.languages.entry(decision.language.clone()).or_default() += 1;
        *self.sentiment.entry(decision.sentiment.label).or_default() += 1;
        *self.engines.entry(decision.engine).or_default() += 1;
        *self.risk_levels.entry(decision.guardian.level).or_default() += 1;
        if let Some(e) = elapsed {
            self.elapsed_us
                .push(e.as_micros().min(u32::MAX as u128) as u32);
        }
        if let Some(l) = labels.filter(|l| !l.is_empty()) {
            self.labelled = true;
            self.evaluation.add(decision, l);
        }
        if let Some(d) = &decision.draft {
            self.drafts += 1;
            if d.kb_article_id.is_some() && d.confidence >= self.resolution_confidence {
                self.auto_resolvable += 1;
            }
            if d.auto_send_candidate {
                self.auto_send += 1;
            }
        }
        let subject = truncate_words(ticket.subject.trim(), 120);
        if decision.needs_review {
            self.needs_review += 1;
            let why = decision
                .reasons
                .iter()
                .find_map(|r| r.strip_prefix("needs review: "))
                .unwrap_or("low confidence")
                .to_string();
            self.review.push(ReviewItem {
                ticket_id: decision.ticket_id.to_string(),
                customer: ticket.customer_name.clone(),
                subject: subject.clone(),
                priority: decision.priority,
                team: decision.team,
                confidence: decision.confidence.priority.min(decision.confidence.team),
                possible_fire: why.contains("may be P0"),
                why,
            });
            if self.review.len() >= self.caps.alerts * 2 {
                self.trim_review();
            }
        }
        if decision.guardian.alert {
            self.guardian_alerts += 1;
            self.guardian.push(GuardianItem {
                ticket_id: decision.ticket_id.to_string(),
                customer: ticket.customer_name.clone(),
                subject: subject.clone(),
                mrr: ticket.mrr,
                priority: decision.priority,
                risk_score: decision.guardian.risk_score,
                level: decision.guardian.level,
                reasons: decision.guardian.reasons.clone(),
                actions: decision.guardian.recommended_actions.clone(),
            });
            if self.guardian.len() >= self.caps.alerts * 2 {
                self.trim_guardian();
            }
        }
        if decision.opportunity.detected {
            self.opportunity_signals += 1;
            for i in &decision.opportunity.intents {
                *self.intents.entry(*i).or_default() += 1;
            }
            if self.opportunities.len() < self.caps.opportunities {
                self.opportunities.push(OpportunityItem {
                    ticket_id: decision.ticket_id.to_string(),
                    customer: ticket.customer_name.clone(),
                    subject: subject.clone(),
                    mrr: ticket.mrr,
                    intents: decision.opportunity.intents.clone(),
                    confidence: decision.opportunity.confidence,
                    snippet: truncate_words(ticket.description.trim(), 220),
                    reasons: decision.opportunity.reasons.clone(),
                });
            }
        }
        if self.rows.len() < self.caps.table_rows {
            self.rows.push(TicketRow {
                ticket_id: decision.ticket_id.to_string(),
                customer: ticket.customer_name.clone(),
                subject,
                priority: decision.priority,
                team: decision.team,
                agent_id: decision.agent_id.clone(),
                language: decision.language.clone(),
                sentiment: decision.sentiment.label,
                sentiment_score: decision.sentiment.score,
                risk_score: decision.guardian.risk_score,
                guardian_alert: decision.guardian.alert,
                intents: decision.opportunity.intents.clone(),
                opportunity: decision.opportunity.detected,
                draft_article: decision
                    .draft
                    .as_ref()
                    .and_then(|d| d.kb_article_id.clone()),
                draft_confidence: decision.draft.as_ref().map(|d| d.confidence),
                auto_send: decision
                    .draft
                    .as_ref()
                    .is_some_and(|d| d.auto_send_candidate),
                engine: decision.engine,
                confidence: decision.confidence.priority,
                needs_review: decision.needs_review,
                reasons: decision.reasons.clone(),
                actual_priority: labels.and_then(|l| l.priority),
                sla: None,
                incident: decision.incident.as_ref().map(|i| i.id.clone()),
            });
        }
    }

    /// Counts one consultation of the language model.
    pub fn add_llm(&mut self, usage: &LlmUsage) {
        let m = &mut self.llm;
        m.consulted += 1;
        if usage.used {
            m.used += 1;
        } else {
            m.fallbacks += 1;
        }
        m.input_tokens += usage.input_tokens;
        m.output_tokens += usage.output_tokens;
        m.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        m.cache_read_input_tokens += usage.cache_read_input_tokens;
        match usage.cost_usd {
            Some(c) => m.cost_usd += c,
            None if usage.input_tokens + usage.output_tokens > 0 => m.unpriced_calls += 1,
            None => {}
        }
        let r = &mut m.redactions;
        r.emails += usage.redactions.emails;
        r.phones += usage.redactions.phones;
        r.cards += usage.redactions.cards;
        r.ibans += usage.redactions.ibans;
        r.secrets += usage.redactions.secrets;
    }

    /// Keeps the highest-risk alerts (ties: earlier tickets first).
    fn trim_guardian(&mut self) {
        self.guardian
            .sort_by_key(|g| std::cmp::Reverse(g.risk_score));
        self.guardian.truncate(self.caps.alerts);
    }

    /// Keeps the review items that matter most: possible fires first, then the least
    /// confident (ties: earlier tickets first).
    fn trim_review(&mut self) {
        self.review.sort_by(|a, b| {
            b.possible_fire
                .cmp(&a.possible_fire)
                .then(a.confidence.total_cmp(&b.confidence))
        });
        self.review.truncate(self.caps.alerts);
    }

    pub fn evaluation(&self) -> &Evaluation {
        &self.evaluation
    }

    pub fn finish(mut self, issues: &[InputIssue], generated_at: String, source: String) -> Report {
        self.trim_guardian();
        self.trim_review();
        let n = self.tickets.max(1) as f64;
        let pct = |c: u64| (c as f64 * 1000.0 / n).round() / 10.0;
        let rate = |c: u64| (c as f64 * 1000.0 / n).round() / 1000.0;
        let calibration = self
            .calibration
            .iter()
            .map(|(p, [lo, hi])| {
                let actual = pct(self.priority.get(p).copied().unwrap_or(0));
                let status = if actual < *lo {
                    "below"
                } else if actual > *hi {
                    "above"
                } else {
                    "within"
                };
                (
                    *p,
                    CalibrationCheck {
                        target_pct: [*lo, *hi],
                        actual_pct: actual,
                        status,
                    },
                )
            })
            .collect();
        let mut sorted = self.elapsed_us.clone();
        sorted.sort_unstable();
        let at = |q: f64| -> u64 {
            if sorted.is_empty() {
                0
            } else {
                u64::from(sorted[((sorted.len() - 1) as f64 * q).round() as usize])
            }
        };
        let total_us: u64 = sorted.iter().map(|&v| u64::from(v)).sum();
        let processing = Processing {
            measured: sorted.len() as u64,
            total_ms: (total_us as f64 / 10.0).round() / 100.0,
            avg_ms_per_ticket: if sorted.is_empty() {
                0.0
            } else {
                (total_us as f64 / sorted.len() as f64 / 10.0).round() / 100.0
            },
            p50_us: at(0.5),
            p95_us: at(0.95),
            max_us: sorted.last().map_or(0, |&v| u64::from(v)),
        };
        let as_of = self
            .as_of
            .or_else(|| self.clocks.iter().map(|c| c.clock.started_at).max());
        let mut sla = SlaMetrics {
            as_of: as_of.and_then(|t| {
                time::OffsetDateTime::from_unix_timestamp(t)
                    .ok()?
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
            ..SlaMetrics::default()
        };
        if let Some(now) = as_of {
            for c in &self.clocks {
                let (state, _) = c.clock.overall(&c.progress, now, self.sla_warn_at);
                match state {
                    SlaState::OnTime => sla.on_time += 1,
                    SlaState::AtRisk => sla.at_risk += 1,
                    SlaState::Breached => sla.breached += 1,
                    SlaState::Met => sla.met += 1,
                }
                if let Some(row) = c.row.and_then(|r| self.rows.get_mut(r)) {
                    row.sla = Some(state);
                }
            }
        }
        let mut member_of = std::collections::HashMap::new();
        for i in &self.incidents {
            for m in &i.members {
                member_of.insert(m.ticket_id.to_string(), i.id.clone());
            }
        }
        for row in &mut self.rows {
            if row.incident.is_none() {
                row.incident = member_of.get(&row.ticket_id).cloned();
            }
        }
        let incidents = IncidentMetrics {
            declared: self.incidents.len() as u64,
            members: self
                .incidents
                .iter()
                .map(|i| i.members.len() as u64 + i.more)
                .sum(),
            score: self
                .incident_labels
                .as_ref()
                .map(|l| score(&self.incidents, l)),
        };
        let count = |s: Severity| issues.iter().filter(|i| i.severity == s).count() as u64;
        let metrics = Metrics {
            generated_at,
            source,
            tickets: self.tickets,
            input_rejected: count(Severity::Rejected),
            input_warnings: count(Severity::Warning),
            not_triaged: count(Severity::Failed),
            priority: self.priority.clone(),
            calibration,
            teams: self.teams.clone(),
            languages: self.languages.clone(),
            sentiment: self.sentiment.clone(),
            engines: self.engines.clone(),
            guardian_alerts: self.guardian_alerts,
            guardian_alert_rate: rate(self.guardian_alerts),
            risk_levels: self.risk_levels.clone(),
            opportunity_signals: self.opportunity_signals,
            opportunity_rate: rate(self.opportunity_signals),
            intents: self.intents.clone(),
            drafts: self.drafts,
            auto_resolvable: self.auto_resolvable,
            auto_resolution_rate: rate(self.auto_resolvable),
            auto_send_candidates: self.auto_send,
            needs_review: self.needs_review,
            needs_review_rate: rate(self.needs_review),
            processing,
            agreement: self.labelled.then(|| self.evaluation.report()),
            llm: (self.llm.consulted > 0).then(|| {
                let mut m = self.llm.clone();
                m.consulted_share = rate(m.consulted);
                m.cost_usd = (m.cost_usd * 1e6).round() / 1e6;
                m.cost_per_consulted_ticket_usd =
                    (m.cost_usd / m.consulted as f64 * 1e6).round() / 1e6;
                m
            }),
            incidents,
            sla,
            input_issues: issues
                .iter()
                .take(self.caps.input_issues)
                .cloned()
                .collect(),
        };
        Report {
            rows_omitted: self.tickets.saturating_sub(self.rows.len() as u64),
            guardian_omitted: self
                .guardian_alerts
                .saturating_sub(self.guardian.len() as u64),
            opportunities_omitted: self
                .opportunity_signals
                .saturating_sub(self.opportunities.len() as u64),
            review_omitted: self.needs_review.saturating_sub(self.review.len() as u64),
            review: self.review,
            metrics,
            rows: self.rows,
            guardian: self.guardian,
            opportunities: self.opportunities,
            incidents: self.incidents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    #[test]
    fn model_costs_add_up_and_unknown_prices_are_not_taken_for_free() {
        let engine = Engine::embedded().unwrap();
        let mut b = ReportBuilder::new(&engine.policy, Caps::default());
        let call = |model: &str, used: bool| {
            LlmUsage {
                model: model.into(),
                input_tokens: 1_000,
                output_tokens: 200,
                used,
                ..Default::default()
            }
            .priced()
        };
        b.add_llm(&call("claude-haiku-4-5", true));
        b.add_llm(&call("claude-haiku-4-5", false));
        b.add_llm(&call("some-future-model", true));
        b.add_llm(&LlmUsage::default()); // a call that never reached the provider
        b.tickets = 8;
        let l = b
            .finish(&[], String::new(), String::new())
            .metrics
            .llm
            .unwrap();
        assert_eq!((l.consulted, l.used, l.fallbacks), (4, 2, 2));
        assert!((l.consulted_share - 0.5).abs() < 1e-9);
        assert!((l.cost_usd - 2.0 * (1_000.0 + 200.0 * 5.0) / 1e6).abs() < 1e-12);
        assert_eq!(l.unpriced_calls, 1);
    }
}
