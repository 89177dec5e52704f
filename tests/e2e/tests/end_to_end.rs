//! A signed Zendesk webhook in; through intake, triage (the queue read from the
//! emulator), fan-out and the report; the stored decision, the alert e-mail and the
//! published page checked at the end.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::aws::{
    DynamoAlertLedger, DynamoIncidentStore, DynamoTicketStore, S3Bucket, S3EmailArchive,
    S3ZendeskRecorder, SqsQueue,
};
use triage_shared::domain::{Priority, TicketId};
use triage_shared::engine::Engine;
use triage_shared::fanout::QueuedAlertSink;
use triage_shared::pipeline::PipelineSettings;
use triage_shared::ports::{Notifier, TicketStore};
use triage_shared::webhook::ZENDESK_TEST_SECRET;
use triage_test_support::{Message, Stack, now_iso, webhook_event};

const BODY: &str = r#"{"ticket":{"id":"8001","subject":"Checkout down - we are done with you","description":"Since 9am every checkout fails and customers cannot pay. We are losing sales every minute. This is the third outage this month; we are cancelling our subscription and moving to another provider.","organization":"Brightline Outfitters","organization_id":"90003","requester_email":"cto@brightline.example","via":"Mail","mrr":"28500"}}"#;

async fn sqs_event(stack: &Stack, queue: &str) -> (SqsEvent, Vec<Message>) {
    let messages = stack.receive(queue, 60).await;
    (
        serde_json::from_value(stack.sqs_event(queue, &messages)).unwrap(),
        messages,
    )
}

#[tokio::test]
async fn a_webhook_becomes_a_decision_an_alert_and_a_report() {
    let stack = Stack::new().await;
    let store = DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90);
    let ledger = DynamoAlertLedger::new(stack.aws.dynamodb.clone(), &stack.table, 30);
    let incidents = DynamoIncidentStore::new(stack.aws.dynamodb.clone(), &stack.table, 30);
    let triage_queue = SqsQueue::new(stack.aws.sqs.clone(), &stack.triage_queue);
    let alerts_queue = SqsQueue::new(stack.aws.sqs.clone(), &stack.alerts_queue);
    let bucket = S3Bucket::new(stack.aws.s3.clone(), &stack.bucket);

    // 1. Zendesk calls the webhook.
    let intake = webhook_intake::Deps {
        store: &store,
        queue: &triage_queue,
        secret: ZENDESK_TEST_SECRET,
        tolerance_secs: 300,
        max_body_bytes: 256 * 1024,
    };
    let request = lambda_http::request::from_str(
        &webhook_event(BODY, ZENDESK_TEST_SECRET, &now_iso(), "inv-e2e").to_string(),
    )
    .unwrap();
    let response = webhook_intake::handle(&intake, request).await.unwrap();
    assert_eq!(response.status().as_u16(), 202);

    // 2. The triage function consumes the triage queue.
    let engine = Engine::embedded().unwrap();
    let accounts = AccountDirectory::embedded().unwrap();
    let settings = PipelineSettings::default();
    let recorder = S3ZendeskRecorder(bucket.clone());
    let alert_sink = QueuedAlertSink {
        ledger: &ledger,
        queue: &alerts_queue,
    };
    let triage = triage_function::Deps {
        engine: &engine,
        accounts: &accounts,
        settings: &settings,
        store: &store,
        incidents: &incidents,
        zendesk: &recorder,
        alerts: &alert_sink,
        source: &triage_queue,
        llm: None,
        batch_budget: std::time::Duration::from_secs(100),
    };
    let (event, messages) = sqs_event(&stack, &stack.triage_queue).await;
    assert_eq!(messages.len(), 1);
    let out = triage_function::handle(&triage, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(out.batch_item_failures.is_empty());

    let decision = store
        .decision(&TicketId::parse("8001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(decision.completed);
    assert_eq!(decision.decision.priority, Priority::P0);
    assert!(decision.decision.guardian.alert);
    assert_eq!(
        decision.decision.team,
        triage_shared::domain::Team::ComplianceOperations
    );

    // 3. The fan-out consumes the alerts queue and writes the e-mail.
    let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(S3EmailArchive {
        bucket: bucket.clone(),
        from: "triage-alerts@example.com".into(),
    })];
    let fanout = alert_fanout::Deps {
        ledger: &ledger,
        notifiers: &notifiers,
        lease_secs: 300,
        source: &alerts_queue,
        batch_budget: std::time::Duration::from_secs(100),
    };
    let (event, messages) = sqs_event(&stack, &stack.alerts_queue).await;
    assert_eq!(messages.len(), 1, "one Guardian alert");
    let out = alert_fanout::handle(&fanout, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(out.batch_item_failures.is_empty());
    let email = String::from_utf8(bucket.get("emails/guardian-8001.eml").await.unwrap()).unwrap();
    assert!(
        email.contains("[Guardian] Brightline Outfitters at risk"),
        "{email}"
    );
    assert!(
        email.contains("To: james.carter@example.com"),
        "the account's Key Account Manager"
    );

    // 4. The report builder publishes the dashboard.
    let report = report_builder::Deps {
        store: &store,
        sink: &bucket,
        policy: &engine.policy,
        window_days: 1,
        link_expiry_secs: 300,
        incidents: &incidents,
        warnings: report_builder::Warnings {
            ledger: &ledger,
            queue: &alerts_queue,
            agents: &engine.agents,
            routing: &settings.routing,
        },
    };
    let out = report_builder::handle(
        &report,
        LambdaEvent::new(serde_json::json!({}), Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(out["tickets"], 1);
    let page = reqwest::get(out["link"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Brightline Outfitters"));
    assert!(page.contains("Guardian alerts (1)"));
}
