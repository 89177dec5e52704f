//! The report builder against the AWS emulator: decisions of the window from the
//! by-day index, the page and metrics in the bucket, a presigned link that works.

use lambda_runtime::{Context, LambdaEvent};
use report_builder::{Deps, LATEST_METRICS, LATEST_PAGE, handle};
use triage_shared::adapters::aws::{DynamoTicketStore, S3Bucket};
use triage_shared::engine::Engine;
use triage_shared::ports::TicketStore;
use triage_test_support::{Stack, ticket};

#[tokio::test]
async fn publishes_the_dashboard_and_a_link_that_downloads_it() {
    let stack = Stack::new().await;
    let engine = Engine::embedded().unwrap();
    let store = DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90);
    let tickets = [
        ticket(
            "7001",
            "Acme Commerce",
            "Checkout down",
            "Checkout is down for all customers since 9am.",
        ),
        ticket(
            "7002",
            "Kiln Ceramics",
            "Invoices",
            "Where can I download our invoices?",
        ),
        ticket(
            "7003",
            "Nordlicht Mode GmbH",
            "<script>alert(1)</script>",
            "We want a quote for 3 more stores.",
        ),
    ];
    for t in &tickets {
        store
            .receive(t, &format!("inv-{}", t.id), false)
            .await
            .unwrap();
        let d = engine.decide(t, &Default::default(), &Default::default());
        assert!(store.save_decision(t, &d, None).await.unwrap());
    }
    let sink = S3Bucket::new(stack.aws.s3.clone(), &stack.bucket);
    let deps = Deps {
        store: &store,
        sink: &sink,
        policy: &engine.policy,
        window_days: 7,
        link_expiry_secs: 600,
    };
    let event = serde_json::from_str(include_str!("../../../events/schedule.json")).unwrap();
    let out = handle(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["tickets"], 3);
    assert_eq!(out["report"], LATEST_PAGE);

    let page = String::from_utf8(sink.get(LATEST_PAGE).await.unwrap()).unwrap();
    assert!(page.contains("Support triage dashboard"));
    assert!(
        page.contains("#7001") || page.contains(">7001<"),
        "ticket listed"
    );
    assert!(!page.contains("<script>alert(1)"), "ticket text is escaped");
    let dated = out["dated_report"].as_str().unwrap();
    assert_eq!(sink.get(dated).await.unwrap(), page.as_bytes());
    let metrics: serde_json::Value =
        serde_json::from_slice(&sink.get(LATEST_METRICS).await.unwrap()).unwrap();
    assert_eq!(metrics["tickets"], 3);
    assert_eq!(metrics["priority"]["P0"], 1);

    // The presigned link downloads the page over plain HTTP, no credentials.
    let link = out["link"].as_str().unwrap();
    assert!(
        link.contains("X-Amz-Signature") && link.contains("X-Amz-Expires=600"),
        "{link}"
    );
    let response = reqwest::get(link).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.text().await.unwrap(), page);
}

#[tokio::test]
async fn a_manual_run_takes_its_own_window() {
    let stack = Stack::new().await;
    let engine = Engine::embedded().unwrap();
    let store = DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90);
    let sink = S3Bucket::new(stack.aws.s3.clone(), &stack.bucket);
    let deps = Deps {
        store: &store,
        sink: &sink,
        policy: &engine.policy,
        window_days: 7,
        link_expiry_secs: 60,
    };
    let event = serde_json::from_str(include_str!("../../../events/report-manual.json")).unwrap();
    let out = handle(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["window_days"], 1);
    assert_eq!(out["tickets"], 0);
    let page = String::from_utf8(sink.get(LATEST_PAGE).await.unwrap()).unwrap();
    assert!(page.contains("0 tickets"));
}
