//! Follow-ups: the customer writes again. The conversation is triaged again, the
//! newest comment weighing most: it is read alone and with what came before, and the
//! more urgent reading counts. Priority may rise but a follow-up never lowers it (an
//! agent's priority in Zendesk is kept as well, see
//! [`keep_owner_choices`](crate::zendesk::keep_owner_choices)); Guardian's risk is
//! recomputed from the new message and the account's history; intents add up. What
//! changed, from what and why, is recorded as a [`Change`], and only a change of state
//! (a new Guardian alert level, a new intent) raises an alert.

use serde::{Deserialize, Serialize};

use crate::domain::{AccountContext, Decision, Intent, Ticket};
use crate::engine::Engine;
use crate::engine::agents::AgentLoad;

/// A customer's comment on a triaged ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub comment_id: String,
    pub body: String,
    /// When it was written (epoch seconds).
    pub at: i64,
}

/// One field of a decision that a follow-up changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// An entry of a ticket's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The decision's revision this change made (the first decision is revision 0).
    pub revision: u32,
    pub at: i64,
    /// The comment that caused it.
    pub comment_id: String,
    /// Empty: the follow-up was read and nothing changed.
    pub changes: Vec<FieldChange>,
    pub reasons: Vec<String>,
    /// Its Zendesk note and alerts are out.
    #[serde(default)]
    pub applied: bool,
}

impl Change {
    pub fn changed(&self, field: &str) -> bool {
        self.changes.iter().any(|c| c.field == field)
    }
}

/// Characters of earlier comments read with the newest one.
const EARLIER_CHARS: usize = 6_000;

/// The decision after `newest` (one of `conversation`, which holds every follow-up so
/// far), from `previous`, with what changed and why.
pub fn retriage(
    engine: &Engine,
    ticket: &Ticket,
    conversation: &[FollowUp],
    newest: &FollowUp,
    previous: &Decision,
    history: &AccountContext,
    load: &AgentLoad,
) -> (Decision, Vec<FieldChange>, Vec<String>) {
    let mut earlier: Vec<&str> = conversation
        .iter()
        .filter(|c| c.comment_id != newest.comment_id && c.at <= newest.at)
        .rev()
        .map(|c| c.body.as_str())
        .collect();
    earlier.push(&ticket.description);
    let mut before = earlier.join("\n\n");
    if before.len() > EARLIER_CHARS {
        let mut cut = EARLIER_CHARS;
        while !before.is_char_boundary(cut) {
            cut -= 1;
        }
        before.truncate(cut);
    }
    let alone = Ticket {
        description: newest.body.clone(),
        ..ticket.clone()
    };
    let whole = Ticket {
        description: format!("{}\n\n{before}", newest.body),
        ..ticket.clone()
    };
    let on_new = engine.decide(&alone, history, load);
    let on_all = engine.decide(&whole, history, load);

    let mut next = previous.clone();
    let mut reasons = Vec::new();
    let read = on_new.priority.min(on_all.priority);
    let why_new = |d: &Decision| d.reasons.first().cloned().unwrap_or_default();
    if read < previous.priority {
        next.priority = read;
        reasons.push(format!(
            "the new message reads as {read} ({})",
            why_new(if on_new.priority == read {
                &on_new
            } else {
                &on_all
            })
        ));
    } else if read > previous.priority {
        reasons.push(format!(
            "the new message alone reads as {read}; kept at {} (a follow-up never lowers priority)",
            previous.priority
        ));
    }
    let guardian = if on_new.guardian.risk_score >= on_all.guardian.risk_score {
        on_new.guardian.clone()
    } else {
        on_all.guardian.clone()
    };
    if guardian.risk_score != previous.guardian.risk_score {
        reasons.push(format!(
            "Guardian recomputed with the new message and the account's history: {}",
            guardian
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "no churn signal".into())
        ));
    }
    next.guardian = guardian;
    next.sentiment = on_new.sentiment.clone();
    let mut intents = previous.opportunity.intents.clone();
    for i in on_new
        .opportunity
        .intents
        .iter()
        .chain(&on_all.opportunity.intents)
    {
        if !intents.contains(i) {
            intents.push(*i);
        }
    }
    if intents.len() > previous.opportunity.intents.len() {
        let best = if on_new.opportunity.confidence >= on_all.opportunity.confidence {
            &on_new.opportunity
        } else {
            &on_all.opportunity
        };
        next.opportunity.detected = true;
        next.opportunity.confidence = next.opportunity.confidence.max(best.confidence);
        next.opportunity
            .reasons
            .extend(best.reasons.iter().cloned());
        reasons.push(format!(
            "new revenue intent: {}",
            Intent::join(&intents[previous.opportunity.intents.len()..], ", ")
        ));
    }
    next.opportunity.intents = intents;
    // A person looks at a follow-up anyway; no draft reply is proposed for it.
    next.draft = None;
    let changes = compare(previous, &next);
    let mut all = reasons.clone();
    all.extend(previous.reasons.iter().cloned());
    next.reasons = all;
    (next, changes, reasons)
}

/// The changes people act on: priority, Guardian's level and alert, intents (a risk
/// score or tone that moves within its level is stored, not reported).
fn compare(before: &Decision, after: &Decision) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &str, from: String, to: String| {
        if from != to {
            out.push(FieldChange {
                field: name.to_string(),
                from,
                to,
            });
        }
    };
    field(
        "priority",
        before.priority.to_string(),
        after.priority.to_string(),
    );
    if before.guardian.level != after.guardian.level {
        field(
            "guardian",
            format!(
                "{}/100 ({})",
                before.guardian.risk_score, before.guardian.level
            ),
            format!(
                "{}/100 ({})",
                after.guardian.risk_score, after.guardian.level
            ),
        );
    }
    field(
        "guardian_alert",
        before.guardian.alert.to_string(),
        after.guardian.alert.to_string(),
    );
    field(
        "intents",
        Intent::join(&before.opportunity.intents, ", "),
        Intent::join(&after.opportunity.intents, ", "),
    );
    out
}

/// Whether the follow-up changed the state people are alerted about: Guardian's alert
/// at a higher level than before, and intents not seen before.
pub fn alert_worthy(before: &Decision, after: &Decision) -> (bool, bool) {
    let guardian = after.guardian.alert
        && (!before.guardian.alert || after.guardian.level > before.guardian.level);
    let opportunity = after
        .opportunity
        .intents
        .iter()
        .any(|i| !before.opportunity.intents.contains(i));
    (guardian, opportunity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            id: crate::domain::TicketId::parse("4001").unwrap(),
            customer_name: "Acme".into(),
            subject: "Export times out".into(),
            description: "The CSV export of last quarter times out; month by month works.".into(),
            channel: "email".into(),
            created_at: None,
            mrr: Some(12_000.0),
            organization_id: None,
            requester_email: None,
            tags: vec![],
        }
    }

    fn comment(id: &str, at: i64, body: &str) -> FollowUp {
        FollowUp {
            comment_id: id.into(),
            body: body.into(),
            at,
        }
    }

    #[test]
    fn an_angry_follow_up_raises_priority_and_risk_and_a_calm_one_changes_nothing() {
        let engine = Engine::embedded().unwrap();
        let t = ticket();
        let first = engine.decide(&t, &Default::default(), &Default::default());
        let angry = comment(
            "c1",
            10,
            "Still broken after three days. Now no export works at all, our CEO is asking why we pay you; we are looking at Triple Whale and will cancel at renewal.",
        );
        let (next, changes, reasons) = retriage(
            &engine,
            &t,
            std::slice::from_ref(&angry),
            &angry,
            &first,
            &Default::default(),
            &Default::default(),
        );
        assert!(
            next.priority < first.priority,
            "{} from {}",
            next.priority,
            first.priority
        );
        assert!(next.guardian.risk_score > first.guardian.risk_score);
        assert!(changes.iter().any(|c| c.field == "priority"), "{changes:?}");
        assert!(!reasons.is_empty());
        assert_eq!(alert_worthy(&first, &next).0, next.guardian.alert);

        let thanks = comment("c2", 20, "Thanks, we will try month by month for now.");
        let (calm, changes, _) = retriage(
            &engine,
            &t,
            &[angry.clone(), thanks.clone()],
            &thanks,
            &next,
            &Default::default(),
            &Default::default(),
        );
        assert_eq!(
            calm.priority, next.priority,
            "a follow-up never lowers priority"
        );
        assert!(!changes.iter().any(|c| c.field == "priority"));
    }
}
