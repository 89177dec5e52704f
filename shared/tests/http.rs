//! The HTTP adapters against local servers (wiremock) that answer with each provider's
//! documented payloads and errors: the exact requests, success, every error class
//! (retried or not), timeouts.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use triage_shared::adapters::http::anthropic::{AnthropicClassifier, AnthropicConfig};
use triage_shared::adapters::http::sendgrid::{SendGridConfig, SendGridNotifier};
use triage_shared::adapters::http::slack::SlackNotifier;
use triage_shared::adapters::http::zendesk::{HttpZendesk, ZendeskAuth, ZendeskConfig};
use triage_shared::alerts::{Alert, AlertKind, alert_id};
use triage_shared::domain::{EngineKind, Priority, RiskLevel, Team, Ticket, TicketId};
use triage_shared::engine::Engine;
use triage_shared::llm::{LlmAdvisor, LlmMode, system_prompt};
use triage_shared::ports::{Notifier, PortError, ZendeskPort};
use triage_shared::zendesk::{ZendeskCall, note_reference};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(server: &MockServer) -> ZendeskConfig {
    ZendeskConfig {
        base_url: server.uri(),
        auth: ZendeskAuth::Token {
            email: "agent@acme.test".into(),
            token: "tok123".into(),
        },
        timeout: Duration::from_millis(500),
        attempts: 3,
        backoff_base: Duration::from_millis(10),
        wait_on_throttle: None,
        safe_update: true,
        keep_assigned: true,
    }
}

fn zendesk(server: &MockServer) -> HttpZendesk {
    HttpZendesk::new(config(server))
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("agent@acme.test/token:tok123")
    )
}

/// The note of the update calls, ending with its reference line as `plan` writes it.
fn note() -> String {
    let text = "[Automated triage: please review]\nPriority: P1 (high)\n";
    format!("{text}\n{}\n", note_reference(text))
}

/// Tags, then the ticket update with its internal note (the order `plan` uses).
fn update_calls() -> Vec<ZendeskCall> {
    vec![
        ZendeskCall {
            method: "PUT".into(),
            path: "/api/v2/tickets/1001/tags".into(),
            body: json!({"tags": ["triaged", "priority_p1"]}),
        },
        ZendeskCall {
            method: "PUT".into(),
            path: "/api/v2/tickets/1001.json".into(),
            body: json!({"ticket": {"priority": "high", "group_id": 1, "comment": {"body": note(), "public": false}}}),
        },
    ]
}

fn tags_only() -> Vec<ZendeskCall> {
    update_calls()[..1].to_vec()
}

/// Zendesk's comments list, with or without the note on it.
async fn mount_comments(server: &MockServer, with_note: bool) {
    let mut comments =
        vec![json!({"id": 1, "body": "Checkout is down since 9am.", "public": true})];
    if with_note {
        comments.push(json!({"id": 2, "body": note(), "plain_body": note(), "public": false}));
    }
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001/comments.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"comments": comments})))
        .mount(server)
        .await;
}

/// Answers 200 `{}` to every PUT (only to `only`, when given).
async fn accept(server: &MockServer, only: Option<&str>) {
    let mock = Mock::given(method("PUT"));
    let mock = match only {
        Some(p) => mock.and(path(p)),
        None => mock,
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(server)
        .await;
}

async fn count(server: &MockServer, verb: &str, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == p)
        .count()
}

const STAMP: &str = "2026-11-26T12:00:00Z";

/// The bodies of the ticket updates (`PUT /api/v2/tickets/1001.json`), in order.
async fn ticket_updates(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT" && r.url.path() == "/api/v2/tickets/1001.json")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn mount_ticket(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 1001, "updated_at": STAMP}})),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn zendesk_update_sends_the_documented_requests() {
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .and(header("authorization", basic().as_str()))
        .and(body_partial_json(json!({"ticket": {"priority": "high", "safe_update": true, "updated_stamp": STAMP, "comment": {"public": false}}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 1001}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001/tags"))
        .and(body_partial_json(
            json!({"tags": ["triaged", "priority_p1"]}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tags": ["triaged", "priority_p1", "vip"]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap();
    let put = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.method.as_str() == "PUT" && r.url.path().ends_with(".json"))
        .unwrap();
    assert_eq!(put.headers.get("content-type").unwrap(), "application/json");
    let body: Value = serde_json::from_slice(&put.body).unwrap();
    assert!(
        body["ticket"].get("tags").is_none(),
        "tags go through the tags endpoint"
    );
}

#[tokio::test]
async fn zendesk_leaves_an_assigned_ticket_with_its_owner_unless_told_otherwise() {
    for keep in [true, false] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/1001.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {
                "id": 1001, "updated_at": STAMP, "assignee_id": 77, "group_id": 9, "priority": "urgent"
            }})))
            .mount(&server)
            .await;
        accept(&server, None).await;
        let z = HttpZendesk::new(ZendeskConfig {
            keep_assigned: keep,
            ..config(&server)
        });
        z.apply(&update_calls(), false).await.unwrap();
        let updates = ticket_updates(&server).await;
        assert_eq!(updates.len(), 1);
        let t = &updates[0]["ticket"];
        assert_eq!(t["updated_stamp"], STAMP);
        let text = t["comment"]["body"].as_str().unwrap();
        if keep {
            assert!(
                t.get("group_id").is_none() && t.get("priority").is_none(),
                "{t}"
            );
            assert!(
                text.contains(
                    "Kept as set in Zendesk (the ticket is assigned already): group, priority."
                ),
                "{text}"
            );
        } else {
            assert_eq!(
                (t["group_id"].clone(), t["priority"].clone()),
                (json!(1), json!("high"))
            );
            assert_eq!(text, note());
        }
    }
}

#[tokio::test]
async fn zendesk_oauth_uses_a_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001/tags"))
        .and(header("authorization", "Bearer oauth-abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": []})))
        .expect(1)
        .mount(&server)
        .await;
    let z = HttpZendesk::new(ZendeskConfig {
        auth: ZendeskAuth::OAuth("oauth-abc".into()),
        ..config(&server)
    });
    z.apply(&tags_only(), false).await.unwrap();
}

#[tokio::test]
async fn zendesk_429_is_handed_back_with_its_delay_or_waited_out() {
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "45")
                .set_body_json(json!({"error": "APIRateLimitExceeded"})),
        )
        .mount(&server)
        .await;
    let err = zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PortError::Throttled {
            service: "zendesk",
            retry_after: Some(Duration::from_secs(45))
        }
    );

    // On one machine a short Retry-After is waited out and the call goes through.
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001/tags"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    accept(&server, None).await;
    let patient = HttpZendesk::new(ZendeskConfig {
        wait_on_throttle: Some(Duration::from_secs(5)),
        ..config(&server)
    });
    let started = std::time::Instant::now();
    patient.apply(&update_calls(), false).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn zendesk_reads_the_owner_again_after_a_409() {
    const NEWER: &str = "2026-11-26T12:00:09Z";
    let server = MockServer::start().await;
    // Assigned (and urgent) on the first read; unassigned again on the second.
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {
            "id": 1001, "updated_at": STAMP, "assignee_id": 77, "priority": "urgent"
        }})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {
            "id": 1001, "updated_at": NEWER, "assignee_id": null, "priority": null
        }})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .and(body_partial_json(
            json!({"ticket": {"updated_stamp": STAMP}}),
        ))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": "UpdateConflict"})))
        .expect(1)
        .mount(&server)
        .await;
    accept(&server, None).await;
    zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap();
    let puts = ticket_updates(&server).await;
    assert_eq!(puts.len(), 2);
    assert!(
        puts[0]["ticket"].get("group_id").is_none(),
        "kept while assigned"
    );
    let retry = &puts[1]["ticket"];
    assert_eq!(retry["updated_stamp"], NEWER);
    assert_eq!(
        (retry["group_id"].clone(), retry["priority"].clone()),
        (json!(1), json!("high"))
    );
    assert_eq!(
        retry["comment"]["body"],
        note(),
        "no 'kept' line once unassigned"
    );
}

#[tokio::test]
async fn zendesk_409_refetches_the_stamp_and_retries_once() {
    const NEWER: &str = "2026-11-26T12:00:09Z";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 1001, "updated_at": STAMP}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 1001, "updated_at": NEWER}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .and(body_partial_json(
            json!({"ticket": {"updated_stamp": STAMP}}),
        ))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({"error": "UpdateConflict", "description": "ticket changed"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .and(body_partial_json(
            json!({"ticket": {"updated_stamp": NEWER}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    accept(&server, Some("/api/v2/tickets/1001/tags")).await;
    zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap();
    assert_eq!(
        count(&server, "GET", "/api/v2/tickets/1001.json").await,
        2,
        "the stamp was read again"
    );
    assert_eq!(
        count(&server, "GET", "/api/v2/tickets/1001/comments.json").await,
        0,
        "a 409 changed nothing"
    );

    // A second conflict is final.
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": "UpdateConflict"})))
        .expect(2)
        .mount(&server)
        .await;
    accept(&server, Some("/api/v2/tickets/1001/tags")).await;
    let err = zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PortError::Rejected { ref message, .. } if message.starts_with("409")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_ticket_update_is_never_posted_twice() {
    // The update reached Zendesk but the answer timed out: the retry finds the note.
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    mount_comments(&server, true).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&server)
        .await;
    accept(&server, Some("/api/v2/tickets/1001/tags")).await;
    zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap();
    assert_eq!(
        count(&server, "GET", "/api/v2/tickets/1001/comments.json").await,
        1
    );

    // A 503 that did not land: the note is not there, so the update is sent again.
    let server = MockServer::start().await;
    mount_ticket(&server).await;
    mount_comments(&server, false).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1001.json"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    accept(&server, None).await;
    zendesk(&server)
        .apply(&update_calls(), false)
        .await
        .unwrap();
    assert_eq!(count(&server, "PUT", "/api/v2/tickets/1001.json").await, 2);

    // A replayed message (an earlier attempt may have posted): checked first.
    for (on_ticket, puts) in [(true, 0), (false, 1)] {
        let server = MockServer::start().await;
        mount_ticket(&server).await;
        mount_comments(&server, on_ticket).await;
        accept(&server, None).await;
        zendesk(&server).apply(&update_calls(), true).await.unwrap();
        assert_eq!(
            count(&server, "PUT", "/api/v2/tickets/1001.json").await,
            puts,
            "note on the ticket: {on_ticket}"
        );
        assert_eq!(
            count(&server, "PUT", "/api/v2/tickets/1001/tags").await,
            1,
            "tags are safe to repeat"
        );
    }

    // The public reply of auto-send is not sent to a ticket that is solved already.
    let reply = ZendeskCall {
        method: "PUT".into(),
        path: "/api/v2/tickets/1001.json".into(),
        body: json!({"ticket": {"status": "solved", "comment": {"body": "Here is how to export.", "public": true}}}),
    };
    for (status, puts) in [("solved", 0), ("open", 1)] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/1001.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"ticket": {"id": 1001, "status": status, "updated_at": STAMP}}),
            ))
            .mount(&server)
            .await;
        accept(&server, None).await;
        zendesk(&server)
            .apply(std::slice::from_ref(&reply), true)
            .await
            .unwrap();
        assert_eq!(
            count(&server, "PUT", "/api/v2/tickets/1001.json").await,
            puts,
            "ticket {status}"
        );
    }
}

#[tokio::test]
async fn zendesk_5xx_and_timeouts_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    zendesk(&server).apply(&tags_only(), false).await.unwrap();

    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;
    let err = zendesk(&server)
        .apply(&tags_only(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");

    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .expect(3)
        .mount(&server)
        .await;
    let err = zendesk(&server)
        .apply(&tags_only(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PortError::Unavailable { ref message, .. } if message.contains("timed out")),
        "{err:?}"
    );
}

#[tokio::test]
async fn zendesk_401_403_404_are_not_retried() {
    for status in [401u16, 403, 404] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"error": "Couldn't authenticate you"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = zendesk(&server)
            .apply(&tags_only(), false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PortError::Rejected { .. }),
            "{status}: {err:?}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn zendesk_fetches_a_ticket_with_its_organization_and_requester() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/5158.json"))
        .and(query_param("include", "users,organizations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": {"id": 5158, "subject": "Export fails", "description": "The CSV export times out.",
                "via": {"channel": "web"}, "tags": ["export"], "organization_id": 90002, "requester_id": 77,
                "created_at": "2026-11-26T11:58:00Z", "updated_at": STAMP},
            "users": [{"id": 77, "name": "Dana", "email": "dana@nordlicht.test"}],
            "organizations": [{"id": 90002, "name": "Nordlicht Mode GmbH"}]
        })))
        .mount(&server)
        .await;
    let t = zendesk(&server).fetch_ticket(5158).await.unwrap();
    assert_eq!(t.id.as_str(), "5158");
    assert_eq!(t.customer_name, "Nordlicht Mode GmbH");
    assert_eq!(t.organization_id.as_deref(), Some("90002"));
    assert_eq!(t.requester_email.as_deref(), Some("dana@nordlicht.test"));
    assert_eq!(t.channel, "web");
}

fn alert() -> Alert {
    Alert {
        alert_id: alert_id(AlertKind::Guardian, "#1001"),
        kind: AlertKind::Guardian,
        ticket_id: "#1001".into(),
        customer_name: "Acme Commerce".into(),
        subject: "Cancelling".into(),
        priority: Priority::P1,
        team: Team::IntegrationsApi,
        agent_id: None,
        mrr: Some(4200.0),
        risk_score: 77,
        risk_level: RiskLevel::Critical,
        intents: vec![],
        confidence: 0.0,
        reasons: vec!["cancel intent".into()],
        recommended_actions: vec!["Call them".into()],
        snippet: "We are cancelling".into(),
        recipients: vec!["kam@example.com".into(), "ops@example.com".into()],
        kam_name: None,
        renewal_date: None,
        ticket_url: None,
        dashboard_url: None,
    }
}

fn sendgrid(server: &MockServer) -> SendGridNotifier {
    let mut c = SendGridConfig::new(
        "SG.key".into(),
        "alerts@acme.test".into(),
        Some(server.uri()),
    );
    c.backoff_base = Duration::from_millis(10);
    SendGridNotifier::new(c)
}

#[tokio::test]
async fn sendgrid_sends_the_documented_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header("authorization", "Bearer SG.key"))
        .and(body_partial_json(json!({"from": {"email": "alerts@acme.test"},
            "personalizations": [{"to": [{"email": "kam@example.com"}, {"email": "ops@example.com"}]}]})))
        .respond_with(ResponseTemplate::new(202).insert_header("x-message-id", "msg-1"))
        .expect(1)
        .mount(&server)
        .await;
    let d = sendgrid(&server).send(&alert()).await.unwrap();
    assert_eq!(d.channel, "sendgrid");
    assert_eq!(d.reference.as_deref(), Some("msg-1"));
    let body: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(
        body["content"][0]["type"], "text/plain",
        "text/plain must come first"
    );
    assert_eq!(body["content"][1]["type"], "text/html");
    assert!(
        body["subject"]
            .as_str()
            .unwrap()
            .contains("[Guardian] Acme Commerce")
    );
}

#[tokio::test]
async fn sendgrid_retries_429_and_5xx_but_not_4xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    sendgrid(&server).send(&alert()).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"errors": [{"field": "from", "message": "The from address does not match a verified Sender Identity."}]})))
        .expect(1)
        .mount(&server)
        .await;
    let err = sendgrid(&server).send(&alert()).await.unwrap_err();
    assert!(
        matches!(err, PortError::Rejected { ref message, .. } if message.contains("verified Sender Identity")),
        "{err:?}"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    assert!(matches!(
        sendgrid(&server).send(&alert()).await.unwrap_err(),
        PortError::Unavailable { .. }
    ));

    // Asked to wait longer than a sender waits: no early retry, the throttle goes back
    // (the fan-out re-queues the alert with that delay).
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        sendgrid(&server).send(&alert()).await.unwrap_err(),
        PortError::Throttled {
            service: "sendgrid",
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[tokio::test]
async fn slack_posts_block_kit_with_text_and_reports_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXX"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let slack = SlackNotifier::new(format!("{}/services/T000/B000/XXX", server.uri()));
    assert_eq!(slack.send(&alert()).await.unwrap().channel, "slack");
    let body: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert!(body["text"].as_str().unwrap().contains("[Guardian]"));
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(body.to_string().contains("Recommended actions"));

    for (status, text) in [
        (400u16, "invalid_payload"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(text))
            .expect(1)
            .mount(&server)
            .await;
        let err = SlackNotifier::new(format!("{}/hook", server.uri()))
            .send(&alert())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PortError::Rejected { ref message, .. } if message.contains(text)),
            "{err:?}"
        );
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_string("rate_limited"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    SlackNotifier::new(format!("{}/hook", server.uri()))
        .send(&alert())
        .await
        .unwrap();

    // The webhook URL is a secret: a connection failure does not repeat it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = SlackNotifier::new(format!("http://127.0.0.1:{port}/services/T0/B0/s3cr3t"))
        .send(&alert())
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

fn classifier(server: &MockServer) -> AnthropicClassifier {
    AnthropicClassifier::new(AnthropicConfig {
        base_url: server.uri(),
        api_key: "sk-ant-test".into(),
        model: "claude-haiku-4-5".into(),
        max_tokens: 1024,
        backoff_base: Duration::from_millis(10),
    })
}

fn ticket(subject: &str, description: &str) -> Ticket {
    Ticket {
        id: TicketId::parse("#900").unwrap(),
        customer_name: "Acme Commerce".into(),
        subject: subject.into(),
        description: description.into(),
        channel: "email".into(),
        created_at: None,
        mrr: Some(4000.0),
        organization_id: None,
        requester_email: None,
        tags: vec![],
    }
}

fn tool_answer(input: Value, stop: &str) -> Value {
    json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": "record_triage", "input": input}],
        "stop_reason": stop,
        "usage": {"input_tokens": 420, "output_tokens": 180, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 6100}
    })
}

fn good_input() -> Value {
    json!({"priority": "P1", "team": "integrations_api", "sentiment": "frustrated", "churn_risk": 62,
        "churn_reasons": ["repeated webhook failures"], "opportunity_intents": [], "kb_article_id": null,
        "draft_reply": null, "rationale": "webhooks down for a day, no workaround"})
}

async fn advise(
    server: &MockServer,
    mode: LlmMode,
    t: &Ticket,
) -> (
    triage_shared::domain::Decision,
    Option<triage_shared::ports::LlmUsage>,
) {
    let engine = Engine::embedded().unwrap();
    let c = classifier(server);
    let advisor = LlmAdvisor {
        classifier: &c,
        mode,
        system: system_prompt(&engine),
    };
    let decision = engine.decide(t, &Default::default(), &Default::default());
    if advisor.wants(&decision, &engine) {
        let (d, u) = advisor.consult(t, decision, &engine).await;
        (d, Some(u))
    } else {
        (decision, None)
    }
}

#[tokio::test]
async fn claude_gets_a_forced_tool_call_with_a_cached_system_prompt_and_redacted_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .and(header("anthropic-version", "2023-06-01"))
        .and(body_partial_json(json!({"model": "claude-haiku-4-5", "tool_choice": {"type": "tool", "name": "record_triage"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(tool_answer(good_input(), "tool_use")))
        .expect(1)
        .mount(&server)
        .await;
    let t = ticket(
        "Webhooks",
        "Our webhooks fail since yesterday. Reach me at dana@acme.test or +1 415 555 0134, card 4242 4242 4242 4242.",
    );
    let (d, usage) = advise(&server, LlmMode::Always, &t).await;
    assert_eq!(d.engine, EngineKind::Llm);
    assert_eq!(d.priority, Priority::P1);
    assert_eq!(d.guardian.risk_score, 62);
    assert!(d.guardian.alert);
    let usage = usage.unwrap();
    assert!(usage.used);
    assert_eq!(usage.redactions.emails, 1);
    assert_eq!(usage.redactions.phones, 1);
    assert_eq!(usage.redactions.cards, 1);
    assert_eq!(usage.cache_read_input_tokens, 6100);
    let expected = (420.0 * 1.0 + 6100.0 * 0.1 + 180.0 * 5.0) / 1e6;
    assert!((usage.cost_usd.unwrap() - expected).abs() < 1e-12);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.starts_with("model claude-haiku-4-5"))
    );

    let body: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    assert!(
        body["system"][0]["text"]
            .as_str()
            .unwrap()
            .contains("P0: outage")
    );
    let sent = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        !sent.contains("dana@acme.test") && !sent.contains("555") && !sent.contains("4242"),
        "{sent}"
    );
    assert!(
        !sent.contains("Acme Commerce"),
        "the customer's name stays here"
    );
    assert!(sent.contains("[EMAIL]") && sent.contains("[PHONE]") && sent.contains("[CARD]"));
    assert_eq!(
        body["tools"][0]["input_schema"]["properties"]["priority"]["enum"],
        json!(["P0", "P1", "P2", "P3"])
    );
}

#[tokio::test]
async fn a_bad_answer_or_a_failed_call_falls_back_to_the_built_in_decision() {
    let t = ticket(
        "Webhooks",
        "Our webhooks fail since yesterday, please help.",
    );
    let cases: Vec<(ResponseTemplate, &str)> = vec![
        (ResponseTemplate::new(200).set_body_json(tool_answer(json!({"priority": "P9", "team": "x"}), "tool_use")), "invalid answer"),
        (ResponseTemplate::new(200).set_body_json(tool_answer(good_input(), "max_tokens")), "cut off"),
        (ResponseTemplate::new(200).set_body_json(json!({"content": [{"type": "text", "text": "I can't help with that."}], "stop_reason": "refusal", "usage": {"input_tokens": 10, "output_tokens": 5}})), "refused"),
        (ResponseTemplate::new(400).set_body_json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})), "invalid_request_error"),
        (ResponseTemplate::new(401).set_body_json(json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})), "authentication_error"),
    ];
    for (response, why) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let engine = Engine::embedded().unwrap();
        let built_in = engine.decide(&t, &Default::default(), &Default::default());
        let (d, usage) = advise(&server, LlmMode::Always, &t).await;
        assert_eq!(d.engine, EngineKind::LlmFallback, "{why}");
        assert_eq!(d.priority, built_in.priority, "{why}");
        assert!(
            d.reasons.last().unwrap().contains(why),
            "{why}: {:?}",
            d.reasons.last()
        );
        assert!(!usage.unwrap().used);
    }
}

#[tokio::test]
async fn overloaded_and_rate_limited_calls_are_retried_within_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(529).set_body_json(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0").set_body_json(json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tool_answer(good_input(), "tool_use")),
        )
        .mount(&server)
        .await;
    let (d, _) = advise(
        &server,
        LlmMode::Always,
        &ticket("Webhooks", "Webhooks fail."),
    )
    .await;
    assert_eq!(d.engine, EngineKind::Llm);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn hybrid_mode_only_asks_about_tickets_the_engine_is_unsure_of() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tool_answer(good_input(), "tool_use")),
        )
        .mount(&server)
        .await;
    let engine = Engine::embedded().unwrap();
    let clear = ticket(
        "Checkout down",
        "Checkout is down for all customers since 9am, nobody can pay, we are losing sales.",
    );
    let unclear = ticket("hmm", "the thing from last week is odd again");
    let sure = engine.decide(&clear, &Default::default(), &Default::default());
    assert!(!sure.needs_review, "{:?}", sure.reasons);
    assert!(
        sure.confidence.priority.min(sure.confidence.team)
            >= engine.policy.llm.hybrid_below_confidence
    );
    let unsure = engine.decide(&unclear, &Default::default(), &Default::default());
    assert!(unsure.needs_review, "{:?}", unsure.reasons);
    let (d, usage) = advise(&server, LlmMode::Hybrid, &clear).await;
    assert_eq!(d.engine, EngineKind::Model);
    assert!(usage.is_none());
    assert!(server.received_requests().await.unwrap().is_empty());
    let (d, usage) = advise(&server, LlmMode::Hybrid, &unclear).await;
    assert_eq!(d.engine, EngineKind::Llm);
    assert!(usage.is_some());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
