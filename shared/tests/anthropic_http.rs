//! The Claude adapter and the hybrid consultation against a local server (wiremock)
//! that answers with the Messages API's documented payloads and errors.

use std::time::Duration;

use serde_json::{Value, json};
use triage_shared::adapters::http::anthropic::{AnthropicClassifier, AnthropicConfig};
use triage_shared::domain::{EngineKind, Priority, Ticket, TicketId};
use triage_shared::engine::Engine;
use triage_shared::llm::{LlmAdvisor, LlmMode, system_prompt};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
