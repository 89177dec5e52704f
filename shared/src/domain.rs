//! The product's vocabulary: tickets, priorities, teams and the triage decision with its
//! reasons. These types are the JSON contract of `triage_results.json`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A ticket id as the customer's helpdesk knows it (`#1001`, `1001`, `D-0001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketIdError {
    #[error("ticket id is empty")]
    Empty,
    #[error("ticket id is longer than 64 characters")]
    TooLong,
    #[error("ticket id contains a control character")]
    Control,
}

impl TicketId {
    pub fn parse(raw: &str) -> Result<Self, TicketIdError> {
        let id = raw.trim();
        if id.is_empty() {
            return Err(TicketIdError::Empty);
        }
        if id.chars().count() > 64 {
            return Err(TicketIdError::TooLong);
        }
        if id.chars().any(char::is_control) {
            return Err(TicketIdError::Control);
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Zendesk ticket number: `#1001` and `1001` are ticket 1001.
    pub fn zendesk_number(&self) -> Option<u64> {
        self.0.trim_start_matches('#').parse().ok()
    }
}

impl TryFrom<String> for TicketId {
    type Error = TicketIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TicketId::parse(&value)
    }
}

impl From<TicketId> for String {
    fn from(id: TicketId) -> Self {
        id.0
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A support ticket as the engine sees it. Labels (such as a human's priority) are
/// deliberately not part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub customer_name: String,
    pub subject: String,
    pub description: String,
    #[serde(default)]
    pub channel: String,
    /// When the ticket was created, as given by the source (`2025-11-14 09:23`, RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Monthly recurring revenue of the account, in the account's currency.
    #[serde(default)]
    pub mrr: Option<f64>,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub requester_email: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Ticket {
    /// When the ticket was written (epoch seconds), if `created_at` is readable.
    pub fn created_epoch(&self) -> Option<i64> {
        self.created_at.as_deref().and_then(parse_time)
    }

    /// The key under which this customer's tickets are grouped for history.
    pub fn customer_key(&self) -> String {
        match &self.organization_id {
            Some(org) if !org.is_empty() => format!("org:{org}"),
            _ => format!("name:{}", crate::text::fold(self.customer_name.trim())),
        }
    }
}

/// A time as tickets give it (RFC 3339, `2025-11-14 09:23[:45]` or a date, the last
/// three read as UTC), in epoch seconds.
pub fn parse_time(t: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let t = t.trim();
    if let Ok(at) = time::OffsetDateTime::parse(t, &Rfc3339) {
        return Some(at.unix_timestamp());
    }
    time::PrimitiveDateTime::parse(
        t,
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    )
    .or_else(|_| {
        time::PrimitiveDateTime::parse(
            t,
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
    })
    .or_else(|_| {
        time::Date::parse(t, format_description!("[year]-[month]-[day]")).map(|d| d.midnight())
    })
    .ok()
    .map(|at| at.assume_utc().unix_timestamp())
}

/// `HH:MM` of an epoch time, UTC.
pub fn clock_time(at: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(at).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(t))
                    .ok_or_else(|| format!(
                        "{t:?} is not one of {}",
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ))
            }
        }
    };
}

string_enum!(
    /// P0 critical … P3 low.
    Priority { P0 = "P0", P1 = "P1", P2 = "P2", P3 = "P3" }
);

impl Priority {
    /// Zendesk's priority value for this level.
    pub fn zendesk(self) -> &'static str {
        match self {
            Priority::P0 => "urgent",
            Priority::P1 => "high",
            Priority::P2 => "normal",
            Priority::P3 => "low",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Priority {
        Priority::ALL[i.min(3)]
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::P0 => "Critical",
            Priority::P1 => "High",
            Priority::P2 => "Medium",
            Priority::P3 => "Low",
        }
    }
}

string_enum!(
    /// The specialist team that owns a ticket.
    Team {
        IntegrationsApi = "integrations_api",
        DataAnalytics = "data_analytics",
        ComplianceOperations = "compliance_operations",
    }
);

impl Team {
    pub fn display_name(self) -> &'static str {
        match self {
            Team::IntegrationsApi => "Integrations & API",
            Team::DataAnalytics => "Data & Analytics",
            Team::ComplianceOperations => "Compliance & Operations",
        }
    }
}

string_enum!(
    SentimentLabel {
        Positive = "positive",
        Neutral = "neutral",
        Frustrated = "frustrated",
        Aggressive = "aggressive",
    }
);

impl SentimentLabel {
    /// Frustrated or aggressive: the tone that counts against an account's health.
    pub fn is_negative(self) -> bool {
        matches!(
            self,
            SentimentLabel::Frustrated | SentimentLabel::Aggressive
        )
    }
}

string_enum!(
    RiskLevel { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
);

string_enum!(
    /// A kind of revenue intent.
    Intent {
        PricingRequest = "pricing_request",
        Upgrade = "upgrade",
        Expansion = "expansion",
        AddOn = "add_on",
        HigherLimits = "higher_limits",
        Services = "services",
    }
);

impl Intent {
    /// The intents' names joined with `separator` (`"upgrade, add_on"`).
    pub fn join(intents: &[Intent], separator: &str) -> String {
        intents
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(separator)
    }
}

string_enum!(
    /// Who made the decision: the phrase rules alone, the learned model with the rules
    /// as guardrails, the language model, or the built-in engine after the language
    /// model failed.
    EngineKind { Rules = "rules", Model = "model", Llm = "llm", LlmFallback = "llm_fallback" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    /// From -1 (hostile) to 1 (delighted).
    pub score: f64,
}

/// Guardian: the churn-risk assessment for the Key Account Manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardianAssessment {
    pub alert: bool,
    pub risk_score: u8,
    pub level: RiskLevel,
    pub reasons: Vec<String>,
    pub recommended_actions: Vec<String>,
}

/// Opportunity: revenue intent for Sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunitySignal {
    pub detected: bool,
    pub intents: Vec<Intent>,
    pub confidence: f64,
    pub reasons: Vec<String>,
}

/// A reply drafted from the knowledge base for a P2/P3 ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftReply {
    pub kb_article_id: Option<String>,
    pub text: String,
    pub confidence: f64,
    pub auto_send_candidate: bool,
}

/// How sure the engine is of a decision: calibrated probabilities (0-1), lowered when
/// little of the text was recognised or the language is unfamiliar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    pub priority: f64,
    pub team: f64,
}

impl Default for Confidence {
    fn default() -> Self {
        Self {
            priority: 1.0,
            team: 1.0,
        }
    }
}

/// The triage decision for one ticket: the `triage_results.json` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub ticket_id: TicketId,
    pub priority: Priority,
    pub team: Team,
    pub agent_id: Option<String>,
    pub language: String,
    pub sentiment: Sentiment,
    pub guardian: GuardianAssessment,
    pub opportunity: OpportunitySignal,
    pub draft: Option<DraftReply>,
    #[serde(default)]
    pub confidence: Confidence,
    /// A person should check this decision (low confidence, or a possible P0 decided
    /// lower): tagged `triage_needs_review` and never auto-sent.
    #[serde(default)]
    pub needs_review: bool,
    pub reasons: Vec<String>,
    pub engine: EngineKind,
    /// The incident across accounts this ticket belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentRef>,
    /// The ticket's service-level clock (due times by the policy's targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaClock>,
}

/// What a decision records about its incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRef {
    pub id: String,
    /// This ticket declared the incident (its delivery creates the problem ticket).
    pub declared: bool,
    /// Accounts in the incident when this ticket was decided.
    pub accounts: usize,
    /// The Zendesk problem ticket, when known at decision time.
    pub problem_id: Option<u64>,
}

/// A ticket's service-level clock: due times (epoch seconds) by the policy's targets
/// (see [`crate::sla`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaClock {
    /// When the clock started: the ticket's creation.
    pub started_at: i64,
    pub first_response_due: i64,
    pub resolution_due: i64,
    /// The MRR tier whose tighter targets apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

/// What the engine knows about the account beyond the ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountContext {
    /// Earlier tickets of the same customer within the history window.
    pub prior_tickets: u32,
    /// Of those, how many were frustrated or aggressive.
    pub prior_negative: u32,
    /// Of those, how many raised a Guardian alert.
    pub prior_alerts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_parse_and_map_to_zendesk_numbers() {
        assert_eq!(
            TicketId::parse(" #1001 ").unwrap().zendesk_number(),
            Some(1001)
        );
        assert_eq!(
            TicketId::parse("1001").unwrap().zendesk_number(),
            Some(1001)
        );
        assert_eq!(TicketId::parse("D-0001").unwrap().zendesk_number(), None);
        assert_eq!(TicketId::parse("  "), Err(TicketIdError::Empty));
        assert_eq!(TicketId::parse("a\u{0}b"), Err(TicketIdError::Control));
    }

    #[test]
    fn enums_round_trip_through_text() {
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), *p);
        }
        assert_eq!("p1".parse::<Priority>().unwrap(), Priority::P1);
        assert!(
            "P5".parse::<Priority>()
                .unwrap_err()
                .contains("P0, P1, P2, P3")
        );
        assert_eq!(
            serde_json::to_string(&Team::DataAnalytics).unwrap(),
            "\"data_analytics\""
        );
        assert_eq!(Priority::P0.zendesk(), "urgent");
        assert_eq!(Priority::P3.zendesk(), "low");
    }
}
