//! Alerts: Guardian and Opportunity for one ticket, an incident across accounts for
//! on-call, and a service-level clock at risk for a team's lead. Who gets them, their
//! deterministic ids (so that a redelivered ticket never alerts twice, an incident
//! alerts once, and a clock warns once per ticket and stage), and their rendering as
//! e-mail (text + HTML) and as a Slack Block Kit message.

use base64::Engine as _;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::AccountDirectory;
use crate::domain::{Decision, Intent, Priority, RiskLevel, Team, Ticket};
use crate::incident::Incident;
use crate::sla::{SlaState, Stage};
use crate::text::truncate_words;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Guardian,
    Opportunity,
    Incident,
    #[serde(rename = "sla")]
    SlaWarning,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Guardian => "guardian",
            AlertKind::Opportunity => "opportunity",
            AlertKind::Incident => "incident",
            AlertKind::SlaWarning => "sla",
        }
    }
}

/// Where alerts go and which links they carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRouting {
    /// Guardian alerts for accounts without a Key Account Manager on file.
    pub guardian_email: String,
    pub opportunity_email: String,
    /// Incidents across accounts.
    pub oncall_email: String,
    /// Service-level warnings for a team without a lead on file.
    pub sla_email: String,
    /// `https://{subdomain}.zendesk.com`; tickets link to `/agent/tickets/{id}`.
    pub zendesk_url: Option<String>,
    pub dashboard_url: Option<String>,
}

impl Default for AlertRouting {
    fn default() -> Self {
        Self {
            guardian_email: "guardian-alerts@example.com".to_string(),
            opportunity_email: "sales-opportunities@example.com".to_string(),
            oncall_email: "oncall@example.com".to_string(),
            sla_email: "support-leads@example.com".to_string(),
            zendesk_url: None,
            dashboard_url: None,
        }
    }
}

/// One alert, as queued, logged and rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `<kind>-<ticket id>`: the same ticket always yields the same id.
    pub alert_id: String,
    pub kind: AlertKind,
    pub ticket_id: String,
    pub customer_name: String,
    pub subject: String,
    pub priority: Priority,
    pub team: Team,
    pub agent_id: Option<String>,
    pub mrr: Option<f64>,
    pub risk_score: u8,
    pub risk_level: RiskLevel,
    pub intents: Vec<Intent>,
    pub confidence: f64,
    pub reasons: Vec<String>,
    pub recommended_actions: Vec<String>,
    /// The first words of the ticket.
    pub snippet: String,
    pub recipients: Vec<String>,
    pub kam_name: Option<String>,
    pub renewal_date: Option<String>,
    pub ticket_url: Option<String>,
    pub dashboard_url: Option<String>,
}

/// A deterministic alert id: kind plus the ticket id reduced to `[A-Za-z0-9_-]`.
pub fn alert_id(kind: AlertKind, ticket_id: &str) -> String {
    let clean: String = ticket_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{}", kind.as_str(), clean.trim_matches('_'))
}

/// An alert about one ticket and its decision, to `recipients`; reasons and actions
/// are the caller's to fill.
fn ticket_alert(
    kind: AlertKind,
    ticket: &Ticket,
    decision: &Decision,
    recipients: Vec<String>,
    routing: &AlertRouting,
) -> Alert {
    Alert {
        alert_id: alert_id(kind, decision.ticket_id.as_str()),
        kind,
        ticket_id: decision.ticket_id.to_string(),
        customer_name: ticket.customer_name.clone(),
        subject: ticket.subject.clone(),
        priority: decision.priority,
        team: decision.team,
        agent_id: decision.agent_id.clone(),
        mrr: ticket.mrr,
        risk_score: decision.guardian.risk_score,
        risk_level: decision.guardian.level,
        intents: decision.opportunity.intents.clone(),
        confidence: decision.opportunity.confidence,
        reasons: Vec::new(),
        recommended_actions: Vec::new(),
        snippet: truncate_words(
            &format!("{} {}", ticket.subject.trim(), ticket.description.trim()),
            240,
        ),
        recipients,
        kam_name: None,
        renewal_date: None,
        ticket_url: ticket_url(routing, decision.ticket_id.zendesk_number()),
        dashboard_url: routing.dashboard_url.clone(),
    }
}

/// The alerts a decision raises.
pub fn alerts_for(
    ticket: &Ticket,
    decision: &Decision,
    accounts: &AccountDirectory,
    routing: &AlertRouting,
) -> Vec<Alert> {
    let account = accounts.find(ticket.organization_id.as_deref(), &ticket.customer_name);
    let base = |kind: AlertKind, recipients: Vec<String>| Alert {
        kam_name: account.and_then(|a| a.kam_name.clone()),
        renewal_date: account.and_then(|a| a.renewal_date.clone()),
        ..ticket_alert(kind, ticket, decision, recipients, routing)
    };
    let mut out = Vec::new();
    if decision.guardian.alert {
        let to = account
            .and_then(|a| a.kam_email.clone())
            .unwrap_or_else(|| routing.guardian_email.clone());
        let mut a = base(AlertKind::Guardian, vec![to]);
        a.reasons = decision.guardian.reasons.clone();
        a.recommended_actions = decision.guardian.recommended_actions.clone();
        out.push(a);
    }
    if decision.opportunity.detected {
        let mut to = vec![routing.opportunity_email.clone()];
        if let Some(kam) = account.and_then(|a| a.kam_email.clone()) {
            to.push(kam);
        }
        let mut a = base(AlertKind::Opportunity, to);
        a.reasons = decision.opportunity.reasons.clone();
        a.recommended_actions = vec![
            "Reach out within one business day while the intent is fresh; reference the ticket."
                .to_string(),
        ];
        out.push(a);
    }
    out
}

fn ticket_url(routing: &AlertRouting, number: Option<u64>) -> Option<String> {
    match (&routing.zendesk_url, number) {
        (Some(base), Some(n)) => Some(format!("{}/agent/tickets/{n}", base.trim_end_matches('/'))),
        _ => None,
    }
}

/// The one alert of an incident, for on-call: its members and its problem ticket.
pub fn incident_alert(incident: &Incident, routing: &AlertRouting) -> Alert {
    let first = incident.members.first();
    let minutes = (incident.last_at - incident.first_at).max(0) / 60;
    let mut reasons = vec![format!(
        "{} accounts reported the same failure within {minutes} minutes",
        incident.accounts()
    )];
    reasons.extend(
        incident
            .members
            .iter()
            .map(|m| format!("{} ({}): {}", m.ticket_id, m.customer_name, m.subject)),
    );
    Alert {
        alert_id: alert_id(AlertKind::Incident, &incident.id),
        kind: AlertKind::Incident,
        ticket_id: incident
            .problem_id
            .map_or_else(|| incident.declared_by.to_string(), |p| p.to_string()),
        customer_name: format!("{} accounts", incident.accounts()),
        subject: incident.title.clone(),
        priority: incident.level,
        team: incident.team,
        agent_id: None,
        mrr: None,
        risk_score: 0,
        risk_level: RiskLevel::Low,
        intents: Vec::new(),
        confidence: 0.0,
        reasons,
        recommended_actions: vec![
            "Confirm the failure and post a status update; answer the problem ticket once and Zendesk answers every linked ticket.".to_string(),
        ],
        snippet: first.map(|m| m.subject.clone()).unwrap_or_default(),
        recipients: vec![routing.oncall_email.clone()],
        kam_name: None,
        renewal_date: None,
        ticket_url: ticket_url(routing, incident.problem_id),
        dashboard_url: routing.dashboard_url.clone(),
    }
}

/// A service-level warning for the team's lead: once per ticket and stage (the id
/// names both).
pub fn sla_alert(
    ticket: &Ticket,
    decision: &Decision,
    warning: SlaWarning,
    lead: Option<&str>,
    routing: &AlertRouting,
) -> Alert {
    let SlaWarning { stage, state, due } = warning;
    let due_text = time::OffsetDateTime::from_unix_timestamp(due)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let recipient = lead.map_or_else(|| routing.sla_email.clone(), str::to_string);
    Alert {
        alert_id: alert_id(
            AlertKind::SlaWarning,
            &format!("{}-{}", stage.as_str(), decision.ticket_id),
        ),
        intents: Vec::new(),
        confidence: 0.0,
        reasons: vec![format!(
            "The {} target ({} priority) is {} (due {due_text})",
            stage.label(),
            decision.priority,
            state.label()
        )],
        recommended_actions: vec![format!(
            "Make sure someone owns the ticket and sends the {} before it is due.",
            stage.label()
        )],
        ..ticket_alert(
            AlertKind::SlaWarning,
            ticket,
            decision,
            vec![recipient],
            routing,
        )
    }
}

/// A clock to warn about: its stage, where it stands, when it is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaWarning {
    pub stage: Stage,
    pub state: SlaState,
    pub due: i64,
}

/// An alert rendered as an e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn money(mrr: Option<f64>) -> String {
    match mrr {
        Some(m) => format!("${m:.0}/month"),
        None => "unknown".to_string(),
    }
}

/// The headline (first line of every rendering) and the e-mail subject.
fn titles(alert: &Alert) -> (String, String) {
    match alert.kind {
        AlertKind::Guardian => (
            format!("Churn risk {}/100 ({})", alert.risk_score, alert.risk_level),
            format!(
                "[Guardian] {} at risk ({}/100): {}",
                alert.customer_name,
                alert.risk_score,
                truncate_words(&alert.subject, 60)
            ),
        ),
        AlertKind::Opportunity => {
            let intents = intents_text(&alert.intents);
            (
                format!(
                    "Revenue signal: {intents} ({:.0}% confidence)",
                    alert.confidence * 100.0
                ),
                format!(
                    "[Opportunity] {}: {intents}: {}",
                    alert.customer_name,
                    truncate_words(&alert.subject, 60)
                ),
            )
        }
        AlertKind::Incident => (
            format!("Incident: {} ({})", alert.customer_name, alert.priority),
            format!(
                "[Incident {}] {}: {}",
                alert.priority,
                alert.customer_name,
                truncate_words(&alert.subject, 60)
            ),
        ),
        AlertKind::SlaWarning => (
            alert
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "Service-level target at risk".to_string()),
            format!(
                "[SLA] {} {}: {}",
                alert.ticket_id,
                alert.priority,
                truncate_words(&alert.subject, 60)
            ),
        ),
    }
}

/// The alert as an e-mail: plain text and HTML.
pub fn render_email(alert: &Alert) -> Email {
    let (headline, subject) = titles(alert);
    let mut text = format!(
        "{headline}\n\nCustomer: {}\nMRR: {}\nTicket: {} ({}, {}): {}\n",
        alert.customer_name,
        money(alert.mrr),
        alert.ticket_id,
        alert.priority,
        alert.team.display_name(),
        alert.subject
    );
    if let Some(k) = &alert.kam_name {
        text.push_str(&format!("Key Account Manager: {k}\n"));
    }
    if let Some(r) = &alert.renewal_date {
        text.push_str(&format!("Renewal: {r}\n"));
    }
    text.push_str(&format!("\n\"{}\"\n\nWhy:\n", alert.snippet));
    for r in &alert.reasons {
        text.push_str(&format!("- {r}\n"));
    }
    if !alert.recommended_actions.is_empty() {
        text.push_str("\nRecommended actions:\n");
        for (i, a) in alert.recommended_actions.iter().enumerate() {
            text.push_str(&format!("{}. {a}\n", i + 1));
        }
    }
    if let Some(u) = &alert.ticket_url {
        text.push_str(&format!("\nTicket: {u}\n"));
    }
    if let Some(u) = &alert.dashboard_url {
        text.push_str(&format!("Dashboard: {u}\n"));
    }
    let html = email_html(alert, &headline).into_string();
    Email {
        subject,
        text,
        html,
    }
}

/// The alert as a Slack incoming-webhook payload (`text` + Block Kit `blocks`).
pub fn render_slack(alert: &Alert) -> serde_json::Value {
    let (headline, subject) = titles(alert);
    slack_payload(alert, &headline, &subject)
}

fn intents_text(intents: &[Intent]) -> String {
    intents
        .iter()
        .map(|i| i.as_str().replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn email_html(alert: &Alert, headline: &str) -> Markup {
    let accent = match alert.kind {
        AlertKind::Guardian | AlertKind::Incident => "#b42318",
        AlertKind::Opportunity => "#067647",
        AlertKind::SlaWarning => "#b54708",
    };
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (headline) } }
            body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2939;max-width:640px;margin:0 auto;padding:16px" {
                h2 style={"color:" (accent) ";margin:0 0 8px"} { (headline) }
                table style="border-collapse:collapse;font-size:14px" {
                    tr { td style="padding:2px 12px 2px 0;color:#667085" { "Customer" } td { strong { (alert.customer_name) } } }
                    tr { td style="padding:2px 12px 2px 0;color:#667085" { "MRR" } td { (money(alert.mrr)) } }
                    tr { td style="padding:2px 12px 2px 0;color:#667085" { "Ticket" } td {
                        @if let Some(u) = &alert.ticket_url { a href=(u) { (alert.ticket_id) } } @else { (alert.ticket_id) }
                        " · " (alert.priority) " · " (alert.team.display_name())
                    } }
                    @if let Some(k) = &alert.kam_name { tr { td style="padding:2px 12px 2px 0;color:#667085" { "Key Account Manager" } td { (k) } } }
                    @if let Some(r) = &alert.renewal_date { tr { td style="padding:2px 12px 2px 0;color:#667085" { "Renewal" } td { (r) } } }
                }
                p style="font-size:14px" { strong { (alert.subject) } }
                blockquote style="border-left:3px solid #d0d5dd;margin:8px 0;padding:4px 12px;color:#475467" { (alert.snippet) }
                h3 style="font-size:15px" { "Why" }
                ul style="font-size:14px" { @for r in &alert.reasons { li { (r) } } }
                @if !alert.recommended_actions.is_empty() {
                    h3 style="font-size:15px" { "Recommended actions" }
                    ol style="font-size:14px" { @for a in &alert.recommended_actions { li { (a) } } }
                }
                @if let Some(u) = &alert.dashboard_url { p { a href=(u) { "Open the triage dashboard" } } }
            }
        }
    }
}

/// Slack escapes `&`, `<` and `>` in mrkdwn text.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack_payload(alert: &Alert, headline: &str, subject: &str) -> serde_json::Value {
    let reasons = alert
        .reasons
        .iter()
        .take(6)
        .map(|r| format!("• {}", slack_escape(r)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate_words(headline, 140)}}),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Customer*\n{}", slack_escape(&alert.customer_name))},
            {"type": "mrkdwn", "text": format!("*MRR*\n{}", money(alert.mrr))},
            {"type": "mrkdwn", "text": format!("*Ticket*\n{} · {}", slack_escape(&alert.ticket_id), alert.priority)},
            {"type": "mrkdwn", "text": format!("*Team*\n{}", alert.team.display_name())},
        ]}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(">{}", slack_escape(&truncate_words(&alert.snippet, 400)))}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Why*\n{}", truncate_words(&reasons, 2800))}}),
    ];
    if !alert.recommended_actions.is_empty() {
        let actions = alert
            .recommended_actions
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}. {}", i + 1, slack_escape(a)))
            .collect::<Vec<_>>()
            .join("\n");
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Recommended actions*\n{}", truncate_words(&actions, 2800))}}));
    }
    let mut buttons = Vec::new();
    if let Some(u) = &alert.ticket_url {
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": "Open ticket"}, "url": u}));
    }
    if let Some(u) = &alert.dashboard_url {
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": "Dashboard"}, "url": u}));
    }
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    json!({"text": subject, "blocks": blocks})
}

/// An RFC 5322 message with a text and an HTML part.
pub fn eml(from: &str, alert: &Alert, rendered: &Email) -> String {
    let subject = if rendered.subject.is_ascii() {
        rendered.subject.clone()
    } else {
        format!(
            "=?utf-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(rendered.subject.as_bytes())
        )
    };
    let boundary = format!("=_{}", alert.alert_id);
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{}@triage.local>\r\nX-Triage-Alert-Id: {}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--{boundary}--\r\n",
        alert.recipients.join(", "),
        alert.alert_id,
        alert.alert_id,
        rendered.text,
        rendered.html,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_ids_are_deterministic_and_safe() {
        assert_eq!(alert_id(AlertKind::Guardian, "#1001"), "guardian-1001");
        assert_eq!(
            alert_id(AlertKind::Opportunity, "D-0001"),
            "opportunity-D-0001"
        );
        assert_eq!(alert_id(AlertKind::Guardian, "a/b c"), "guardian-a_b_c");
    }
}
