//! The intake handler against the AWS emulator: store, dedupe, enqueue, and every
//! refusal with its status.

use lambda_http::Body;
use lambda_http::http::StatusCode;
use triage_shared::adapters::aws::{DynamoTicketStore, SqsQueue};
use triage_shared::domain::TicketId;
use triage_shared::messages::TriageMessage;
use triage_shared::ports::TicketStore;
use triage_shared::webhook::ZENDESK_TEST_SECRET;
use triage_test_support::{Stack, api_event, now_iso, webhook_event};
use webhook_intake::{Config, Deps, handle};

const TRIGGER_BODY: &str = r#"{"ticket":{"id":"4101","subject":"Checkout down","description":"Nobody can pay since 9am","organization":"Acme Commerce","organization_id":"90001","requester_email":"ops@acme.test","via":"Web Form","tags":"vip","mrr":"12000"}}"#;

struct Fixture {
    stack: Stack,
    store: DynamoTicketStore,
    queue: SqsQueue,
}

impl Fixture {
    async fn new() -> Self {
        let stack = Stack::new().await;
        let store = DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90);
        let queue = SqsQueue::new(stack.aws.sqs.clone(), &stack.triage_queue);
        Self {
            stack,
            store,
            queue,
        }
    }

    fn deps(&self) -> Deps<'_> {
        Deps {
            store: &self.store,
            queue: &self.queue,
            secret: ZENDESK_TEST_SECRET,
            tolerance_secs: 300,
            max_body_bytes: 256 * 1024,
        }
    }

    async fn call(&self, event: serde_json::Value) -> (StatusCode, serde_json::Value) {
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
        let response = handle(&self.deps(), request)
            .await
            .expect("the handler answers");
        let body = match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Null,
        };
        (response.status(), body)
    }
}

#[tokio::test]
async fn a_signed_webhook_is_stored_once_and_enqueued_once() {
    let f = Fixture::new().await;
    let event = webhook_event(TRIGGER_BODY, ZENDESK_TEST_SECRET, &now_iso(), "inv-1");
    let (status, body) = f.call(event.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["ticket_id"], "4101");

    let stored = f
        .store
        .ticket(&TicketId::parse("4101").unwrap())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.ticket.subject, "Checkout down");
    assert_eq!(stored.ticket.mrr, Some(12000.0));
    assert!(!stored.needs_fetch);

    // Zendesk retries the same invocation: 200, nothing new on the queue.
    let (status, body) = f.call(event).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "duplicate");

    let messages = f.stack.receive(&f.stack.triage_queue, 30).await;
    assert_eq!(messages.len(), 1, "exactly one triage message");
    let m = TriageMessage::parse(messages[0].body().unwrap()).unwrap();
    assert_eq!(m.ticket_id.as_str(), "4101");
    assert_eq!(m.invocation_id, "inv-1");
}

#[tokio::test]
async fn an_ids_only_body_is_accepted_for_completion() {
    let f = Fixture::new().await;
    let (status, _) = f
        .call(webhook_event(
            r#"{"ticket":{"id":"4102"}}"#,
            ZENDESK_TEST_SECRET,
            &now_iso(),
            "inv-2",
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stored = f
        .store
        .ticket(&TicketId::parse("4102").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.needs_fetch);
}

#[tokio::test]
async fn the_event_file_is_a_valid_signed_delivery() {
    let f = Fixture::new().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/webhook-trigger.json"
    ))
    .unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let deps = Deps {
        // The file's timestamp is fixed: accept any age, as README's local loop does.
        tolerance_secs: i64::MAX / 2,
        ..f.deps()
    };
    let response = handle(&deps, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The same file with the default five-minute window is refused as stale.
    let request = lambda_http::request::from_str(&text).unwrap();
    assert_eq!(
        handle(&f.deps(), request).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_store_nothing() {
    let f = Fixture::new().await;
    let now = now_iso();
    // Wrong secret.
    let (status, body) = f
        .call(webhook_event(TRIGGER_BODY, "not-the-secret", &now, "inv-3"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // No signature at all.
    let (status, _) = f
        .call(api_event("POST", "/webhooks/zendesk", TRIGGER_BODY, &[]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Stale timestamp.
    let (status, body) = f
        .call(webhook_event(
            TRIGGER_BODY,
            ZENDESK_TEST_SECRET,
            "2020-01-01T00:00:00Z",
            "inv-4",
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("away from now"),
        "{body}"
    );
    // Signed but not a ticket.
    let (status, body) = f
        .call(webhook_event(
            r#"{"hello":"world"}"#,
            ZENDESK_TEST_SECRET,
            &now,
            "inv-5",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("no ticket"),
        "{body}"
    );
    let (status, _) = f
        .call(webhook_event(
            "not json",
            ZENDESK_TEST_SECRET,
            &now,
            "inv-6",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Too large (checked before anything else is read).
    let huge = format!(
        r#"{{"ticket":{{"id":"1","description":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let (status, _) = f
        .call(webhook_event(&huge, ZENDESK_TEST_SECRET, &now, "inv-7"))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Other routes and methods.
    let (status, _) = f.call(api_event("GET", "/webhooks/zendesk", "", &[])).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = f.call(api_event("POST", "/elsewhere", "{}", &[])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert!(
        f.stack.receive(&f.stack.triage_queue, 0).await.is_empty(),
        "nothing was enqueued"
    );
    assert!(
        f.store
            .ticket(&TicketId::parse("4101").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded_before_verifying() {
    use base64::Engine as _;
    let f = Fixture::new().await;
    let mut event = webhook_event(TRIGGER_BODY, ZENDESK_TEST_SECRET, &now_iso(), "inv-8");
    event["body"] = base64::engine::general_purpose::STANDARD
        .encode(TRIGGER_BODY)
        .into();
    event["isBase64Encoded"] = true.into();
    let (status, body) = f.call(event).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn an_aws_failure_answers_503_so_that_zendesk_retries() {
    let f = Fixture::new().await;
    let missing = DynamoTicketStore::new(f.stack.aws.dynamodb.clone(), "no-such-table", 30, 90);
    let deps = Deps {
        store: &missing,
        ..f.deps()
    };
    let request = lambda_http::request::from_str(
        &webhook_event(TRIGGER_BODY, ZENDESK_TEST_SECRET, &now_iso(), "inv-9").to_string(),
    )
    .unwrap();
    assert_eq!(
        handle(&deps, request).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[test]
fn a_missing_setting_is_named() {
    let env = triage_shared::settings::env(&[("WEBHOOK_TOLERANCE_SECS", "60")]);
    let err = Config::read(&env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable ZENDESK_WEBHOOK_SECRET is required but not set"
    );
}
