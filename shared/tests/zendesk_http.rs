//! The Zendesk adapter against a local server (wiremock) that answers with Zendesk's
//! documented payloads and errors: the exact requests, success, every error class
//! (retried or not), timeouts, and no note posted twice.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use triage_shared::adapters::http::zendesk::{HttpZendesk, ZendeskAuth, ZendeskConfig};
use triage_shared::ports::{PortError, ZendeskPort};
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

    // A second conflict in a row: the ticket is busy; the message is retried later.
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
        matches!(err, PortError::Unavailable { ref message, .. } if message.starts_with("409")),
        "{err:?}"
    );
    assert!(err.is_retryable());
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
