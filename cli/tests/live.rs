//! `triage run` without `--demo-mode`, with every provider pointed at a local fake
//! server: exactly the documented requests go out, one per call, alert and ticket.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{read_json, result_ids};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TICKETS: &str = "ticket_id,customer_name,subject,description,actual_priority,channel,timestamp,mrr\n\
#2001,Brightline Outfitters,Checkout down,\"Since 9am every checkout fails, customers cannot pay. We are losing sales and are considering other providers.\",P0,email,2025-11-14 09:00,28500\n\
#2002,Kiln Ceramics,Invoices,Where can I download our invoices?,P3,email,2025-11-14 09:05,600\n\
#2003,Nordlicht Mode GmbH,Two more stores,\"We are opening two more stores in Austria, please send a quote for the extra stores.\",P3,email,2025-11-14 09:10,9000\n\
#2004,Harbor Coffee,hmm,the thing from last week is odd again,P3,chat,2025-11-14 09:15,1200\n";

/// A fake model that reads the ticket it is asked about, as the real one would:
/// an outage with a competitor threat is urgent and a churn risk, a quote request
/// is an expansion signal, anything else is a routine question.
struct FakeModel;

impl wiremock::Respond for FakeModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let asked = body["messages"].to_string().to_lowercase();
        let (priority, churn, intents) = if asked.contains("checkout") {
            ("P0", 88, json!([]))
        } else if asked.contains("quote") {
            ("P3", 5, json!(["expansion"]))
        } else {
            ("P3", 12, json!([]))
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "record_triage", "input": {
                "priority": priority, "team": "data_analytics", "sentiment": "neutral", "churn_risk": churn,
                "opportunity_intents": intents, "kb_article_id": null, "draft_reply": null,
                "rationale": "read from the ticket text"}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 300, "output_tokens": 90, "cache_creation_input_tokens": 5200, "cache_read_input_tokens": 0}
        }))
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// `triage run` on [`TICKETS`] with the given settings, off the async runtime; returns
/// its output and the output folder (alive as long as the returned directory).
async fn live_run(env: Vec<(&'static str, String)>) -> (Output, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tickets.csv");
    std::fs::write(&input, TICKETS).unwrap();
    let out = dir.path().join("out");
    let out_arg = out.clone();
    let output = tokio::task::spawn_blocking(move || {
        let args = [
            "run",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out_arg.to_str().unwrap(),
        ];
        let mut command = common::command(&args);
        command.env_remove("ANTHROPIC_API_KEY");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    })
    .await
    .unwrap();
    (output, out, dir)
}

fn zendesk_env(uri: String) -> Vec<(&'static str, String)> {
    vec![
        ("ZENDESK_BASE_URL", uri),
        ("ZENDESK_EMAIL", "agent@acme.test".into()),
        ("ZENDESK_API_TOKEN", "tok123".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_sends_the_documented_requests_to_each_provider() {
    let zendesk = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/tickets/\d+\.json$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"updated_at": "2025-11-14T09:00:00Z"}})),
        )
        .mount(&zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(header(
            "authorization",
            "Basic YWdlbnRAYWNtZS50ZXN0L3Rva2VuOnRvazEyMw==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&zendesk)
        .await;
    let sendgrid = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header("authorization", "Bearer SG.test"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&sendgrid)
        .await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T1/B1/X1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let anthropic = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .respond_with(FakeModel)
        .mount(&anthropic)
        .await;

    let mut env = zendesk_env(zendesk.uri());
    env.extend([
        ("SENDGRID_API_KEY", "SG.test".into()),
        ("SENDGRID_BASE_URL", sendgrid.uri()),
        ("ALERT_FROM_EMAIL", "alerts@acme.test".into()),
        (
            "SLACK_WEBHOOK_URL",
            format!("{}/services/T1/B1/X1", slack.uri()),
        ),
        ("ANTHROPIC_API_KEY", "sk-ant-test".into()),
        ("ANTHROPIC_BASE_URL", anthropic.uri()),
        ("LLM_MODE", "hybrid".into()),
    ]);
    let (output, out, _dir) = live_run(env).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("calls sent"), "{stdout}");
    assert!(stdout.contains("via SendGrid + Slack"), "{stdout}");

    // Zendesk: per ticket, the tags, the stamp read and the ticket update.
    let z = requests(&zendesk).await;
    let recorded = read_json(&out.join("zendesk_api_calls.json"));
    assert_eq!(
        recorded.as_array().unwrap().len(),
        8,
        "2 calls per ticket are logged"
    );
    for n in [2001, 2002, 2003, 2004] {
        let count = |m: &str, p: &str| {
            z.iter()
                .filter(|r| r.method.as_str() == m && r.url.path() == p)
                .count()
        };
        assert_eq!(
            count("GET", &format!("/api/v2/tickets/{n}.json")),
            1,
            "stamp for {n}"
        );
        assert_eq!(
            count("PUT", &format!("/api/v2/tickets/{n}.json")),
            1,
            "update for {n}"
        );
        assert_eq!(
            count("PUT", &format!("/api/v2/tickets/{n}/tags")),
            1,
            "tags for {n}"
        );
    }
    let update: Value = serde_json::from_slice(
        &z.iter()
            .find(|r| r.method.as_str() == "PUT" && r.url.path() == "/api/v2/tickets/2001.json")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(update["ticket"]["priority"], "urgent");
    assert_eq!(update["ticket"]["safe_update"], true);
    assert_eq!(update["ticket"]["comment"]["public"], false);

    // Alerts: each one by e-mail and on Slack, nothing in the mailbox file.
    let alerts = read_json(&out.join("guardian_alerts_log.json"))
        .as_array()
        .unwrap()
        .len()
        + read_json(&out.join("opportunity_alerts_log.json"))
            .as_array()
            .unwrap()
            .len();
    assert!(
        alerts >= 2,
        "the outage with a competitor threat and the quote raise alerts"
    );
    assert_eq!(requests(&sendgrid).await.len(), alerts);
    assert_eq!(requests(&slack).await.len(), alerts);
    let first: Value = serde_json::from_slice(&requests(&sendgrid).await[0].body).unwrap();
    assert_eq!(first["from"]["email"], "alerts@acme.test");
    let mailbox = std::fs::read_to_string(out.join("emails/alerts.mbox")).unwrap_or_default();
    assert!(mailbox.is_empty(), "no e-mail went to the file");

    // The model: asked only about the tickets the engine was unsure of.
    let results = read_json(&out.join("triage_results.json"));
    let asked = results
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["engine"] != "model")
        .count();
    assert!(
        (1..4).contains(&asked),
        "hybrid asks about some tickets, not all ({asked})"
    );
    assert_eq!(requests(&anthropic).await.len(), asked);
    let metrics = read_json(&out.join("metrics_summary.json"));
    assert_eq!(metrics["llm"]["consulted"], asked);
    assert!(metrics["llm"]["cost_usd"].as_f64().unwrap() > 0.0);
    let html = std::fs::read_to_string(out.join("triage_report.html")).unwrap();
    assert!(html.contains("id=\"llm\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_zendesk_does_not_know_is_reported_and_the_run_goes_on() {
    let zendesk = MockServer::start().await;
    // Ticket 2002 was deleted in Zendesk: 404 on every call.
    Mock::given(path_regex(r"^/api/v2/tickets/2002"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "RecordNotFound"})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/tickets/\d+\.json$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"updated_at": "2025-11-14T09:00:00Z"}})),
        )
        .mount(&zendesk)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&zendesk)
        .await;
    let (output, out, _dir) = live_run(zendesk_env(zendesk.uri())).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 3: not triaged: ticket #2002: zendesk: ") && stderr.contains("404"),
        "{stderr}"
    );
    assert_eq!(
        result_ids(&out),
        ["#2001", "#2003", "#2004"],
        "the others were triaged"
    );
    let metrics = read_json(&out.join("metrics_summary.json"));
    assert_eq!(metrics["not_triaged"], 1);
}
