//! Service-level clocks: each decision records when its first reply and its
//! resolution are due, by the policy's targets for its priority (tighter for high-MRR
//! accounts). A clock stops when Zendesk reports the ticket answered (first reply) or
//! solved (both). The scheduled report warns the team's lead once per ticket and stage
//! when a running clock reaches the policy's share of its target, and the dashboard
//! shows each open ticket as on time, at risk or breached.

use serde::{Deserialize, Serialize};

use crate::domain::Priority;
pub use crate::domain::SlaClock;
use crate::policy::SlaPolicy;

/// The clock of a ticket created at `started_at`, decided at `priority`.
pub fn clock(
    policy: &SlaPolicy,
    priority: Priority,
    mrr: Option<f64>,
    started_at: i64,
) -> SlaClock {
    let tier = mrr.and_then(|m| {
        policy
            .tiers
            .iter()
            .filter(|t| m >= t.min_mrr)
            .max_by(|a, b| a.min_mrr.total_cmp(&b.min_mrr))
    });
    let factor = tier.map_or(1.0, |t| t.factor);
    let due = |targets: &std::collections::BTreeMap<Priority, i64>| {
        let minutes = targets.get(&priority).copied().unwrap_or(1_440) as f64 * factor;
        started_at + (minutes * 60.0).round() as i64
    };
    SlaClock {
        started_at,
        first_response_due: due(&policy.first_response_minutes),
        resolution_due: due(&policy.resolution_minutes),
        tier: tier.map(|t| t.name.clone()),
    }
}

/// One of the two targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    FirstResponse,
    Resolution,
}

impl Stage {
    pub const ALL: [Stage; 2] = [Stage::FirstResponse, Stage::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::FirstResponse => "first_response",
            Stage::Resolution => "resolution",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::FirstResponse => "first reply",
            Stage::Resolution => "resolution",
        }
    }
}

/// What Zendesk reported about a ticket after triage (epoch seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The first public reply by an agent.
    #[serde(default)]
    pub answered_at: Option<i64>,
    /// Solved (or closed).
    #[serde(default)]
    pub solved_at: Option<i64>,
}

impl Progress {
    /// When the stage's clock stopped, if it did.
    pub fn stopped(&self, stage: Stage) -> Option<i64> {
        match stage {
            Stage::FirstResponse => match (self.answered_at, self.solved_at) {
                (Some(a), Some(s)) => Some(a.min(s)),
                (a, s) => a.or(s),
            },
            Stage::Resolution => self.solved_at,
        }
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Stopped in time.
    Met,
    OnTime,
    /// Running, past the policy's warning share.
    AtRisk,
    /// Past due (running, or stopped late).
    Breached,
}

impl SlaState {
    pub fn label(self) -> &'static str {
        match self {
            SlaState::Met => "met",
            SlaState::OnTime => "on time",
            SlaState::AtRisk => "at risk",
            SlaState::Breached => "breached",
        }
    }
}

impl SlaClock {
    pub fn due(&self, stage: Stage) -> i64 {
        match stage {
            Stage::FirstResponse => self.first_response_due,
            Stage::Resolution => self.resolution_due,
        }
    }

    /// The stage's state at `now`.
    pub fn state(&self, stage: Stage, progress: &Progress, now: i64, warn_at: f64) -> SlaState {
        let due = self.due(stage);
        if let Some(stopped) = progress.stopped(stage) {
            return if stopped <= due {
                SlaState::Met
            } else {
                SlaState::Breached
            };
        }
        let total = (due - self.started_at).max(1) as f64;
        let elapsed = (now - self.started_at) as f64;
        if now > due {
            SlaState::Breached
        } else if elapsed >= total * warn_at {
            SlaState::AtRisk
        } else {
            SlaState::OnTime
        }
    }

    /// The ticket's state: its worst running stage (or, when both stopped, whether
    /// both were met), and that stage.
    pub fn overall(&self, progress: &Progress, now: i64, warn_at: f64) -> (SlaState, Stage) {
        Stage::ALL
            .iter()
            .map(|s| (self.state(*s, progress, now, warn_at), *s))
            .max_by_key(|(state, stage)| (*state, std::cmp::Reverse(*stage)))
            .unwrap_or((SlaState::OnTime, Stage::FirstResponse))
    }

    /// The stages a lead should hear about at `now`: running clocks past the warning
    /// share (breached ones too: a warning not sent before the breach still goes).
    pub fn warnings(&self, progress: &Progress, now: i64, warn_at: f64) -> Vec<(Stage, SlaState)> {
        Stage::ALL
            .iter()
            .filter(|s| progress.stopped(**s).is_none())
            .map(|s| (*s, self.state(*s, progress, now, warn_at)))
            .filter(|(_, state)| matches!(state, SlaState::AtRisk | SlaState::Breached))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn targets_follow_priority_and_tighten_for_big_accounts() {
        let policy = Policy::default_policy().sla;
        let p1 = policy.first_response_minutes[&Priority::P1];
        let small = clock(&policy, Priority::P1, Some(500.0), 0);
        assert_eq!(small.first_response_due, p1 * 60);
        assert_eq!(small.tier, None);
        let big = clock(&policy, Priority::P1, Some(30_000.0), 0);
        let tier = policy
            .tiers
            .iter()
            .filter(|t| 30_000.0 >= t.min_mrr)
            .max_by(|a, b| a.min_mrr.total_cmp(&b.min_mrr))
            .unwrap();
        assert_eq!(big.tier.as_deref(), Some(tier.name.as_str()));
        assert!(big.first_response_due < small.first_response_due);
        let p0 = clock(&policy, Priority::P0, None, 0);
        assert!(p0.first_response_due < small.first_response_due);
    }

    #[test]
    fn a_clock_goes_at_risk_then_breached_and_stops_when_answered() {
        let c = SlaClock {
            started_at: 0,
            first_response_due: 1000,
            resolution_due: 10_000,
            tier: None,
        };
        let open = Progress::default();
        assert_eq!(
            c.state(Stage::FirstResponse, &open, 500, 0.8),
            SlaState::OnTime
        );
        assert_eq!(
            c.state(Stage::FirstResponse, &open, 800, 0.8),
            SlaState::AtRisk
        );
        assert_eq!(
            c.state(Stage::FirstResponse, &open, 1001, 0.8),
            SlaState::Breached
        );
        assert_eq!(
            c.warnings(&open, 850, 0.8),
            vec![(Stage::FirstResponse, SlaState::AtRisk)]
        );
        let answered = Progress {
            answered_at: Some(900),
            solved_at: None,
        };
        assert_eq!(
            c.state(Stage::FirstResponse, &answered, 5000, 0.8),
            SlaState::Met
        );
        assert!(c.warnings(&answered, 5000, 0.8).is_empty());
        assert_eq!(
            c.overall(&answered, 9000, 0.8),
            (SlaState::AtRisk, Stage::Resolution)
        );
        let solved = Progress {
            answered_at: Some(900),
            solved_at: Some(9_500),
        };
        assert_eq!(c.overall(&solved, 20_000, 0.8).0, SlaState::Met);
        let late = Progress {
            answered_at: Some(1_500),
            solved_at: None,
        };
        assert_eq!(
            c.state(Stage::FirstResponse, &late, 1_600, 0.8),
            SlaState::Breached
        );
    }
}
