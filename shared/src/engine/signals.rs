//! The signals: every named thing the engine looks for in a ticket, and the family it
//! feeds. The phrases that raise them are data (`data/phrases/`, read by
//! [`super::catalogue`]); their weights live in the policy under the signal's name.

/// What a signal feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Priority,
    Team,
    Sentiment,
    Churn,
    Opportunity,
}

macro_rules! signals {
    ($($variant:ident => $name:literal, $family:ident;)*) => {
        /// A named signal. Its policy key is [`Signal::name`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal { $($variant),* }

        impl Signal {
            pub const ALL: &'static [Signal] = &[$(Signal::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Signal::$variant => $name),* }
            }

            pub fn family(self) -> Family {
                match self { $(Signal::$variant => Family::$family),* }
            }
        }
    };
}

signals! {
    // Priority: what is wrong and how badly.
    Outage => "outage", Priority;
    RevenueBlocked => "revenue_blocked", Priority;
    DataLoss => "data_loss", Priority;
    SecurityBreach => "security_breach", Priority;
    Broken => "broken", Priority;
    IntegrationFailure => "integration_failure", Priority;
    WideScope => "wide_scope", Priority;
    NoWorkaround => "no_workaround", Priority;
    BusinessImpact => "business_impact", Priority;
    Urgency => "urgency", Priority;
    Degraded => "degraded", Priority;
    DataMismatch => "data_mismatch", Priority;
    ConfigProblem => "config_problem", Priority;
    Workaround => "workaround", Priority;
    PartialScope => "partial_scope", Priority;
    Minor => "minor", Priority;
    Question => "question", Priority;
    FeatureRequest => "feature_request", Priority;
    PricingQuestion => "pricing_question", Priority;
    PastIncident => "past_incident", Priority;
    NoRush => "no_rush", Priority;
    Obligation => "obligation", Priority;
    AtStake => "at_stake", Priority;
    // Team: which specialists own the problem.
    Platforms => "platforms", Team;
    Connector => "connector", Team;
    Api => "api", Team;
    Webhooks => "webhooks", Team;
    Tracking => "tracking", Team;
    Reporting => "reporting", Team;
    DataSync => "data_sync", Team;
    Payments => "payments", Team;
    Billing => "billing", Team;
    Security => "security", Team;
    Compliance => "compliance", Team;
    Fulfillment => "fulfillment", Team;
    Infrastructure => "infrastructure", Team;
    Access => "access", Team;
    // Sentiment.
    Negative => "negative", Sentiment;
    StrongNegative => "strong_negative", Sentiment;
    Profanity => "profanity", Sentiment;
    Insult => "insult", Sentiment;
    Threat => "threat", Sentiment;
    Waiting => "waiting", Sentiment;
    Positive => "positive", Sentiment;
    Politeness => "politeness", Sentiment;
    Sarcasm => "sarcasm", Sentiment;
    // Churn (Guardian).
    CancelIntent => "cancel_intent", Churn;
    Competitor => "competitor", Churn;
    NotRenewing => "not_renewing", Churn;
    Chargeback => "chargeback_or_legal", Churn;
    Escalation => "escalation", Churn;
    Repeated => "repeated_issue", Churn;
    // Opportunity.
    PricingRequest => "pricing_request", Opportunity;
    Upgrade => "upgrade", Opportunity;
    Expansion => "expansion", Opportunity;
    AddOn => "add_on", Opportunity;
    HigherLimits => "higher_limits", Opportunity;
    Services => "services", Opportunity;
    NotAnOpportunity => "not_an_opportunity", Opportunity;
}

impl Signal {
    pub fn by_name(name: &str) -> Option<Signal> {
        Signal::ALL.iter().copied().find(|s| s.name() == name)
    }

    pub fn of_family(family: Family) -> impl Iterator<Item = Signal> {
        Signal::ALL
            .iter()
            .copied()
            .filter(move |s| s.family() == family)
    }
}

/// A set of signals (at most 64 exist).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalSet(u64);

const _: () = assert!(
    Signal::ALL.len() <= 64,
    "SignalSet holds at most 64 signals"
);

impl SignalSet {
    pub fn contains(self, s: Signal) -> bool {
        self.0 & (1 << s as u32) != 0
    }

    pub fn set(&mut self, s: Signal, on: bool) {
        if on {
            self.0 |= 1 << s as u32;
        } else {
            self.0 &= !(1 << s as u32);
        }
    }
}
