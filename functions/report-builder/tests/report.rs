//! The report builder against the AWS emulator: decisions of the window from the
//! by-day index, the page and metrics in the bucket, a presigned link that works.

use lambda_runtime::{Context, LambdaEvent};
use report_builder::{Deps, LATEST_METRICS, LATEST_PAGE, Warnings, handle};
use triage_shared::adapters::aws::{
    DynamoAlertLedger, DynamoIncidentStore, DynamoTicketStore, S3Bucket, SqsQueue,
};
use triage_shared::alerts::AlertRouting;
use triage_shared::engine::Engine;
use triage_shared::messages::AlertMessage;
use triage_shared::ports::TicketStore;
use triage_test_support::{Stack, ticket};

/// The adapters a run needs on the emulator.
struct Adapters {
    store: DynamoTicketStore,
    sink: S3Bucket,
    incidents: DynamoIncidentStore,
    ledger: DynamoAlertLedger,
    queue: SqsQueue,
    routing: AlertRouting,
}

impl Adapters {
    fn new(stack: &Stack) -> Self {
        Self {
            store: DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90),
            sink: S3Bucket::new(stack.aws.s3.clone(), &stack.bucket),
            incidents: DynamoIncidentStore::new(stack.aws.dynamodb.clone(), &stack.table, 30),
            ledger: DynamoAlertLedger::new(stack.aws.dynamodb.clone(), &stack.table, 30),
            queue: SqsQueue::new(stack.aws.sqs.clone(), &stack.alerts_queue),
            routing: AlertRouting::default(),
        }
    }

    fn deps<'a>(&'a self, engine: &'a Engine, window_days: u32, link_expiry_secs: u64) -> Deps<'a> {
        Deps {
            store: &self.store,
            sink: &self.sink,
            policy: &engine.policy,
            window_days,
            link_expiry_secs,
            incidents: &self.incidents,
            warnings: Warnings {
                ledger: &self.ledger,
                queue: &self.queue,
                agents: &engine.agents,
                routing: &self.routing,
            },
        }
    }
}

#[tokio::test]
async fn publishes_the_dashboard_and_a_link_that_downloads_it() {
    let stack = Stack::new().await;
    let engine = Engine::embedded().unwrap();
    let a = Adapters::new(&stack);
    let store = &a.store;
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
    let sink = &a.sink;
    let deps = a.deps(&engine, 7, 600);
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
    let a = Adapters::new(&stack);
    let sink = &a.sink;
    let deps = a.deps(&engine, 7, 60);
    let event = serde_json::from_str(include_str!("../../../events/report-manual.json")).unwrap();
    let out = handle(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["window_days"], 1);
    assert_eq!(out["tickets"], 0);
    let page = String::from_utf8(sink.get(LATEST_PAGE).await.unwrap()).unwrap();
    assert!(page.contains("0 tickets"));
}

#[tokio::test]
async fn a_clock_near_its_target_warns_the_lead_once_and_an_answer_stops_it() {
    use triage_shared::sla::{Progress, clock};

    let stack = Stack::new().await;
    let engine = Engine::embedded().unwrap();
    let a = Adapters::new(&stack);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let t = ticket(
        "7101",
        "Acme Commerce",
        "Checkout down",
        "Checkout is down for all customers since 9am, every payment fails.",
    );
    a.store.receive(&t, "inv-7101", false).await.unwrap();
    let mut d = engine.decide(&t, &Default::default(), &Default::default());
    // Started long enough ago that the first-reply clock is past the warning share.
    let target = engine.policy.sla.first_response_minutes[&d.priority] * 60;
    let started = now - (target as f64 * (engine.policy.sla.warn_at + 0.05)) as i64;
    d.sla = Some(clock(&engine.policy.sla, d.priority, None, started));
    // Keep the tier out of the way: the account's MRR is below every tier.
    assert!(d.sla.as_ref().unwrap().tier.is_none());
    assert!(a.store.save_decision(&t, &d, None).await.unwrap());

    let deps = a.deps(&engine, 7, 60);
    let run = || async {
        handle(
            &deps,
            LambdaEvent::new(serde_json::json!({}), Context::default()),
        )
        .await
        .unwrap()
    };
    let first = run().await;
    assert_eq!(first["sla_warnings"], 1);
    let second = run().await;
    assert_eq!(second["sla_warnings"], 0, "a stage warns once");

    let queued = stack.receive(&stack.alerts_queue, 60).await;
    let ids: Vec<String> = queued
        .iter()
        .map(|m| AlertMessage::parse(m.body().unwrap()).unwrap().alert_id)
        .collect();
    assert_eq!(ids, ["sla-first_response-7101"]);
    let metrics: serde_json::Value =
        serde_json::from_slice(&a.sink.get(LATEST_METRICS).await.unwrap()).unwrap();
    assert_eq!(metrics["sla"]["at_risk"], 1);
    let page = String::from_utf8(a.sink.get(LATEST_PAGE).await.unwrap()).unwrap();
    assert!(page.contains("at risk"));

    // Zendesk reports the first reply: the clock stops and is met.
    let answered = Progress {
        answered_at: Some(now - 60),
        solved_at: None,
    };
    assert!(a.store.record_progress(&t.id, &answered).await.unwrap());
    let third = run().await;
    assert_eq!(third["sla_warnings"], 0);
    let metrics: serde_json::Value =
        serde_json::from_slice(&a.sink.get(LATEST_METRICS).await.unwrap()).unwrap();
    assert_eq!(metrics["sla"]["at_risk"], 0);
    assert_eq!(metrics["sla"]["on_time"], 1, "{}", metrics["sla"]);
}
