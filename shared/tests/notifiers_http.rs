//! The e-mail and Slack adapters against local servers (wiremock) that answer with
//! SendGrid's and Slack's documented payloads and errors.

use std::time::Duration;

use serde_json::{Value, json};
use triage_shared::adapters::http::sendgrid::{SendGridConfig, SendGridNotifier};
use triage_shared::adapters::http::slack::SlackNotifier;
use triage_shared::alerts::{Alert, AlertKind, alert_id};
use triage_shared::domain::{Priority, RiskLevel, Team};
use triage_shared::ports::{Notifier, PortError};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A Guardian alert for ticket #1001.
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
