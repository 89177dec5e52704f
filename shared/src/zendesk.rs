//! What a decision means in Zendesk: the exact API calls (method, path, body) that apply
//! it. Building them is pure; sending or recording them is an adapter's job.
//!
//! - `PUT /api/v2/tickets/{id}/tags`: adds tags (this endpoint keeps existing tags; `tags`
//!   in a ticket update would replace them).
//! - `PUT /api/v2/tickets/{id}.json`: priority, group, assignee, custom fields and an
//!   internal note with the reasons and, for P2/P3, the draft marked for review.
//! - With auto-send enabled in the policy and an auto-send candidate: a second ticket
//!   update with the draft as a public reply and status `solved` (the brief's Option B).

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::{Decision, Intent};
use crate::engine::agents::AgentDirectory;
use crate::followup::Change;
use crate::incident::{Incident, Member};
use crate::policy::Policy;

/// One Zendesk API call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZendeskCall {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// Ids of the custom ticket fields the decision fills (Admin Center > Objects and
/// rules > Tickets > Fields). A field without an id is not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldIds {
    pub guardian_risk_score: Option<u64>,
    pub opportunity_intent: Option<u64>,
    pub agent_id: Option<u64>,
}

/// The tags a decision adds.
pub fn tags(decision: &Decision) -> Vec<String> {
    let mut tags = vec![
        "triaged".to_string(),
        format!(
            "priority_{}",
            decision.priority.as_str().to_ascii_lowercase()
        ),
        format!("team_{}", decision.team),
        format!("lang_{}", decision.language),
    ];
    if decision.guardian.alert {
        tags.push("guardian_alert".to_string());
    }
    for i in &decision.opportunity.intents {
        tags.push(format!("opportunity_{i}"));
    }
    if decision
        .draft
        .as_ref()
        .is_some_and(|d| d.auto_send_candidate)
    {
        tags.push("auto_send_candidate".to_string());
    }
    if decision.needs_review {
        tags.push(NEEDS_REVIEW_TAG.to_string());
    }
    if let Some(i) = &decision.incident {
        tags.push(INCIDENT_TAG.to_string());
        tags.push(incident_tag(&i.id));
    }
    tags
}

/// The tag of every ticket in an incident across accounts (problem ticket included).
pub const INCIDENT_TAG: &str = "triage_incident";

/// The tag naming one incident (`inc-f-0001`).
pub fn incident_tag(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// The tag of a decision a person should check (low confidence, or a possible P0
/// decided lower); such a ticket is never auto-sent.
pub const NEEDS_REVIEW_TAG: &str = "triage_needs_review";

/// The internal note: the decision, its reasons, and the draft for review.
pub fn internal_note(decision: &Decision, agents: &AgentDirectory) -> String {
    let agent = decision
        .agent_id
        .as_deref()
        .and_then(|id| agents.get(id))
        .map_or("unassigned".to_string(), |a| {
            format!("{} ({})", a.name, a.id)
        });
    let mut note = format!(
        "[Automated triage: {}]\nPriority: {} ({}, confidence {:.0}%) | Team: {} ({:.0}%) | Agent: {}\nGuardian: {}/100 ({}){}\n",
        if decision.needs_review {
            "NEEDS REVIEW, the engine is unsure"
        } else {
            "please review"
        },
        decision.priority,
        decision.priority.zendesk(),
        decision.confidence.priority * 100.0,
        decision.team.display_name(),
        decision.confidence.team * 100.0,
        agent,
        decision.guardian.risk_score,
        decision.guardian.level,
        if decision.guardian.alert {
            ", Key Account Manager alerted"
        } else {
            ""
        },
    );
    if decision.opportunity.detected {
        note.push_str(&format!(
            "Opportunity: {} ({:.0}%), Sales alerted\n",
            Intent::join(&decision.opportunity.intents, ", "),
            decision.opportunity.confidence * 100.0
        ));
    }
    note.push_str("\nWhy:\n");
    for r in &decision.reasons {
        note.push_str(&format!("- {r}\n"));
    }
    if !decision.guardian.recommended_actions.is_empty() {
        note.push_str("\nRecommended actions (Key Account Manager):\n");
        for a in &decision.guardian.recommended_actions {
            note.push_str(&format!("- {a}\n"));
        }
    }
    if let Some(d) = &decision.draft {
        note.push_str(&format!(
            "\n[Draft reply from {} (confidence {:.2}): review before sending]\n\n{}\n",
            d.kb_article_id.as_deref().unwrap_or("no article"),
            d.confidence,
            d.text
        ));
    }
    let reference = note_reference(&note);
    note.push_str(&format!("\n{reference}\n"));
    note
}

/// The line that ends every internal note: `triage-ref:` and a digest of the note, the
/// same whenever the same decision is applied again, so that a retry can see that the
/// note is on the ticket already.
pub fn note_reference(note: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(note.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{REFERENCE_PREFIX}{hex}")
}

/// What starts a note's reference line.
pub const REFERENCE_PREFIX: &str = "triage-ref: ";

/// The reference in a comment's text, if it has one.
pub fn find_reference(text: &str) -> Option<&str> {
    let start = text.rfind(REFERENCE_PREFIX)?;
    let rest = &text[start..];
    let len = REFERENCE_PREFIX.len() + 12;
    rest.get(..len).filter(|r| {
        r[REFERENCE_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
    })
}

/// Rank of a Zendesk priority value (`low` lowest); `None` for no or unknown priority.
fn priority_rank(value: &serde_json::Value) -> Option<u8> {
    match value.as_str()? {
        "low" => Some(0),
        "normal" => Some(1),
        "high" => Some(2),
        "urgent" => Some(3),
        _ => None,
    }
}

/// A person's choices win over the decision. When `current` (the ticket as Zendesk has
/// it now, `{"ticket": {...}}`) is assigned to someone other than the decision's agent,
/// somebody owns it already: the update `body` leaves the assignee and group as they
/// are, and raises the priority but never lowers it (an outage still escalates; an
/// agent's "urgent" stays). The note says what was kept, above its reference line.
/// Returns the fields kept.
pub fn keep_owner_choices(
    body: &mut serde_json::Value,
    current: &serde_json::Value,
) -> Vec<&'static str> {
    let now = &current["ticket"];
    let update = &mut body["ticket"];
    let Some(owner) = now["assignee_id"].as_u64() else {
        return Vec::new();
    };
    if update.get("assignee_id").and_then(|v| v.as_u64()) == Some(owner) {
        return Vec::new();
    }
    let Some(fields) = update.as_object_mut() else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    for (key, label) in [("assignee_id", "assignee"), ("group_id", "group")] {
        if fields.remove(key).is_some() {
            kept.push(label);
        }
    }
    let theirs = priority_rank(&now["priority"]);
    if let (Some(theirs), Some(ours)) = (theirs, fields.get("priority").and_then(priority_rank))
        && theirs > ours
    {
        fields.remove("priority");
        kept.push("priority");
    }
    if kept.is_empty() {
        return kept;
    }
    if let Some(slot) = fields.get_mut("comment").and_then(|c| c.get_mut("body"))
        && let Some(text) = slot.as_str()
        && let Some(at) = text.rfind(REFERENCE_PREFIX)
    {
        let text = format!(
            "{}Kept as set in Zendesk (the ticket is assigned already): {}.\n\n{}",
            &text[..at],
            kept.join(", "),
            &text[at..]
        );
        *slot = serde_json::Value::String(text);
    }
    kept
}

/// The calls that apply `decision` to its Zendesk ticket. Empty when the ticket id is
/// not a Zendesk ticket number.
pub fn plan(
    decision: &Decision,
    agents: &AgentDirectory,
    fields: &CustomFieldIds,
    policy: &Policy,
) -> Vec<ZendeskCall> {
    let Some(number) = decision.ticket_id.zendesk_number() else {
        return Vec::new();
    };
    let agent = decision.agent_id.as_deref().and_then(|id| agents.get(id));
    let mut ticket = serde_json::Map::new();
    ticket.insert("priority".into(), json!(decision.priority.zendesk()));
    if let Some(g) = agents.group_id(decision.team) {
        ticket.insert("group_id".into(), json!(g));
    }
    if let Some(u) = agent.and_then(|a| a.zendesk_user_id) {
        ticket.insert("assignee_id".into(), json!(u));
    }
    let mut custom = Vec::new();
    if let Some(id) = fields.guardian_risk_score {
        custom.push(json!({"id": id, "value": decision.guardian.risk_score}));
    }
    if let Some(id) = fields.opportunity_intent {
        let value = Intent::join(&decision.opportunity.intents, ",");
        custom.push(json!({"id": id, "value": if value.is_empty() { serde_json::Value::Null } else { json!(value) }}));
    }
    if let Some(id) = fields.agent_id {
        custom.push(json!({"id": id, "value": decision.agent_id}));
    }
    if !custom.is_empty() {
        ticket.insert("custom_fields".into(), json!(custom));
    }
    if let Some(problem) = decision.incident.as_ref().and_then(|i| i.problem_id) {
        ticket.insert("type".into(), json!("incident"));
        ticket.insert("problem_id".into(), json!(problem));
    }
    ticket.insert(
        "comment".into(),
        json!({"body": internal_note(decision, agents), "public": false}),
    );
    let mut calls = tags_then_update(number, tags(decision), ticket);
    if policy.auto_send.enabled
        && !decision.needs_review
        && let Some(d) = decision.draft.as_ref().filter(|d| d.auto_send_candidate)
    {
        calls.push(ZendeskCall {
            method: "PUT".into(),
            path: format!("/api/v2/tickets/{number}.json"),
            body: json!({"ticket": {"status": "solved", "comment": {"body": d.text, "public": true}}}),
        });
    }
    calls
}

/// The problem ticket of an incident (`POST /api/v2/tickets.json`), with the
/// incident's id as `external_id` so that a retry finds it instead of creating another.
pub fn problem_ticket(incident: &Incident, agents: &AgentDirectory) -> serde_json::Value {
    let mut body = format!(
        "[Automated triage: incident across accounts]\n{} accounts reported the same failure between {} and {} (UTC). Their tickets are linked here as incidents: solving this problem ticket solves them all with one answer.\n\nMembers:\n",
        incident.accounts(),
        crate::domain::clock_time(incident.first_at),
        crate::domain::clock_time(incident.last_at),
    );
    for m in &incident.members {
        body.push_str(&format!(
            "- {} {} ({}): {}\n",
            crate::domain::clock_time(m.at),
            m.ticket_id,
            m.customer_name,
            m.subject
        ));
    }
    let mut ticket = json!({
        "subject": format!("Incident: {}", incident.title),
        "type": "problem",
        "priority": incident.level.zendesk(),
        "external_id": incident.id,
        "tags": [INCIDENT_TAG, incident_tag(&incident.id)],
        "comment": {"body": body, "public": false},
    });
    if let Some(g) = agents.group_id(incident.team) {
        ticket["group_id"] = json!(g);
    }
    json!({ "ticket": ticket })
}

/// The calls that link a member to the incident's problem ticket: tags, then the type,
/// `problem_id`, the incident's priority when it is higher than the member's own, and
/// an internal note saying so.
pub fn link_calls(incident: &Incident, member: &Member, problem_id: u64) -> Vec<ZendeskCall> {
    let Some(number) = member.ticket_id.zendesk_number() else {
        return Vec::new();
    };
    if number == problem_id {
        return Vec::new();
    }
    let mut ticket = serde_json::Map::new();
    ticket.insert("type".into(), json!("incident"));
    ticket.insert("problem_id".into(), json!(problem_id));
    let mut note = format!(
        "[Automated triage: linked to incident {}]\n{} accounts reported the same failure; problem ticket #{problem_id} tracks it.\n",
        incident.id,
        incident.accounts()
    );
    if incident.level < member.priority {
        ticket.insert("priority".into(), json!(incident.level.zendesk()));
        note.push_str(&format!(
            "Priority raised from {} to {} by the incident policy.\n",
            member.priority, incident.level
        ));
    }
    let reference = note_reference(&format!("{note}{}", incident.level));
    note.push_str(&format!("\n{reference}\n"));
    ticket.insert("comment".into(), json!({"body": note, "public": false}));
    tags_then_update(
        number,
        vec![INCIDENT_TAG.to_string(), incident_tag(&incident.id)],
        ticket,
    )
}

/// The calls after a follow-up changed the decision: tags, and an update with the
/// new priority (only when it rose), the Guardian and intent fields, and a note that
/// says what changed, from what and why. None when nothing changed.
pub fn follow_up_calls(
    decision: &Decision,
    change: &Change,
    fields: &CustomFieldIds,
) -> Vec<ZendeskCall> {
    let Some(number) = decision.ticket_id.zendesk_number() else {
        return Vec::new();
    };
    if change.changes.is_empty() {
        return Vec::new();
    }
    let mut ticket = serde_json::Map::new();
    if change.changed("priority") {
        ticket.insert("priority".into(), json!(decision.priority.zendesk()));
    }
    let mut custom = Vec::new();
    if let Some(id) = fields.guardian_risk_score {
        custom.push(json!({"id": id, "value": decision.guardian.risk_score}));
    }
    if let Some(id) = fields.opportunity_intent
        && change.changed("intents")
    {
        custom.push(json!({"id": id, "value": Intent::join(&decision.opportunity.intents, ",")}));
    }
    if !custom.is_empty() {
        ticket.insert("custom_fields".into(), json!(custom));
    }
    let mut note = "[Automated triage: the customer wrote again]\nChanged:\n".to_string();
    for c in &change.changes {
        note.push_str(&format!(
            "- {}: {} → {}\n",
            c.field.replace('_', " "),
            c.from,
            c.to
        ));
    }
    if decision.guardian.alert && (change.changed("guardian_alert") || change.changed("guardian")) {
        note.push_str("Key Account Manager alerted.\n");
    }
    if change.changed("intents") {
        note.push_str("Sales alerted.\n");
    }
    note.push_str("\nWhy:\n");
    for r in &change.reasons {
        note.push_str(&format!("- {r}\n"));
    }
    let reference = note_reference(&format!("{note}{}", change.revision));
    note.push_str(&format!("\n{reference}\n"));
    ticket.insert("comment".into(), json!({"body": note, "public": false}));
    tags_then_update(number, tags(decision), ticket)
}

/// Tags first, then the ticket update: adding tags again is harmless, so when the
/// update fails and the message is retried, its note is still posted once.
fn tags_then_update(
    number: u64,
    tags: Vec<String>,
    ticket: serde_json::Map<String, serde_json::Value>,
) -> Vec<ZendeskCall> {
    vec![
        ZendeskCall {
            method: "PUT".into(),
            path: format!("/api/v2/tickets/{number}/tags"),
            body: json!({ "tags": tags }),
        },
        ZendeskCall {
            method: "PUT".into(),
            path: format!("/api/v2/tickets/{number}.json"),
            body: json!({ "ticket": ticket }),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(priority: &str) -> serde_json::Value {
        json!({"ticket": {
            "priority": priority, "group_id": 11, "assignee_id": 21,
            "comment": {"body": "Why:\n- outage\n\ntriage-ref: 0123456789ab\n", "public": false}
        }})
    }

    #[test]
    fn an_unassigned_ticket_takes_the_whole_decision() {
        let mut body = update("normal");
        let current =
            json!({"ticket": {"assignee_id": null, "priority": "urgent", "group_id": 99}});
        assert!(keep_owner_choices(&mut body, &current).is_empty());
        assert_eq!(body, update("normal"));
        // Assigned to the decision's own agent (an earlier attempt landed): no change.
        let mine = json!({"ticket": {"assignee_id": 21, "priority": "urgent"}});
        assert!(keep_owner_choices(&mut body, &mine).is_empty());
        assert_eq!(body, update("normal"));
    }

    #[test]
    fn an_owned_ticket_keeps_its_assignee_group_and_a_higher_priority() {
        let mut body = update("normal");
        let current = json!({"ticket": {"assignee_id": 77, "priority": "urgent", "group_id": 99}});
        assert_eq!(
            keep_owner_choices(&mut body, &current),
            vec!["assignee", "group", "priority"]
        );
        let t = &body["ticket"];
        assert!(t.get("assignee_id").is_none() && t.get("group_id").is_none());
        assert!(t.get("priority").is_none());
        let note = t["comment"]["body"].as_str().unwrap();
        assert!(
            note.ends_with("- outage\n\nKept as set in Zendesk (the ticket is assigned already): assignee, group, priority.\n\ntriage-ref: 0123456789ab\n"),
            "{note}"
        );
        assert_eq!(find_reference(note), Some("triage-ref: 0123456789ab"));
    }

    #[test]
    fn an_owned_ticket_is_still_escalated() {
        let mut body = update("urgent");
        let current = json!({"ticket": {"assignee_id": 77, "priority": "normal"}});
        assert_eq!(
            keep_owner_choices(&mut body, &current),
            vec!["assignee", "group"]
        );
        assert_eq!(body["ticket"]["priority"], "urgent");
    }
}
