//! The ticket over time, through the functions on the AWS emulator and a fake
//! Zendesk: a signed comment webhook from the customer re-triages the ticket (priority
//! up, Guardian recomputed, a note that says what changed, an alert for the new state
//! only); a calm follow-up changes nothing; an agent's public reply and the ticket
//! being solved stop its clocks; our own internal notes are ignored.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::aws::{
    DynamoAlertLedger, DynamoIncidentStore, DynamoTicketStore, SqsQueue,
};
use triage_shared::adapters::http::zendesk::{HttpZendesk, ZendeskAuth, ZendeskConfig};
use triage_shared::domain::{Priority, TicketId};
use triage_shared::engine::Engine;
use triage_shared::fanout::QueuedAlertSink;
use triage_shared::messages::AlertMessage;
use triage_shared::pipeline::PipelineSettings;
use triage_shared::ports::TicketStore;
use triage_shared::webhook::ZENDESK_TEST_SECRET;
use triage_test_support::fake_zendesk::FakeZendesk;
use triage_test_support::{Stack, now_iso, webhook_event};

const TICKET: &str = r#"{"ticket":{"id":"8301","subject":"Export times out","description":"The CSV export of last quarter times out after a few minutes; month by month still works.","organization":"Copperleaf Home","organization_id":"90301","via":"Mail","mrr":"14000"}}"#;

fn comment(id: &str, body: &str, staff: bool, public: bool) -> String {
    serde_json::json!({
        "type": "zen:event-type:ticket.comment_added",
        "account_id": 123,
        "id": format!("evt-{id}"),
        "time": now_iso(),
        "subject": "zen:ticket:8301",
        "zendesk_event_version": "2022-11-06",
        "detail": {"id": "8301", "subject": "Export times out", "status": "OPEN", "organization_id": "90301"},
        "event": {"comment": {"id": id, "body": body, "is_public": public, "author": {"id": "1", "is_staff": staff, "name": "x"}}}
    })
    .to_string()
}

struct Functions {
    stack: Stack,
    store: DynamoTicketStore,
    incidents: DynamoIncidentStore,
    ledger: DynamoAlertLedger,
    triage_queue: SqsQueue,
    alerts_queue: SqsQueue,
    engine: Engine,
    accounts: AccountDirectory,
    settings: PipelineSettings,
    zendesk: HttpZendesk,
}

impl Functions {
    async fn webhook(&self, body: &str, invocation: &str) -> (u16, serde_json::Value) {
        let intake = webhook_intake::Deps {
            store: &self.store,
            queue: &self.triage_queue,
            secret: ZENDESK_TEST_SECRET,
            tolerance_secs: 300,
            max_body_bytes: 256 * 1024,
        };
        let request = lambda_http::request::from_str(
            &webhook_event(body, ZENDESK_TEST_SECRET, &now_iso(), invocation).to_string(),
        )
        .unwrap();
        let response = webhook_intake::handle(&intake, request).await.unwrap();
        let status = response.status().as_u16();
        let text = match response.body() {
            lambda_http::Body::Text(t) => t.clone(),
            _ => String::new(),
        };
        (status, serde_json::from_str(&text).unwrap())
    }

    /// Runs the triage function on everything queued; returns the records handled.
    async fn triage(&self) -> usize {
        let alerts = QueuedAlertSink {
            ledger: &self.ledger,
            queue: &self.alerts_queue,
        };
        let deps = triage_function::Deps {
            engine: &self.engine,
            accounts: &self.accounts,
            settings: &self.settings,
            store: &self.store,
            incidents: &self.incidents,
            zendesk: &self.zendesk,
            alerts: &alerts,
            source: &self.triage_queue,
            llm: None,
            batch_budget: std::time::Duration::from_secs(100),
        };
        let messages = self.stack.receive(&self.stack.triage_queue, 60).await;
        let event: SqsEvent =
            serde_json::from_value(self.stack.sqs_event(&self.stack.triage_queue, &messages))
                .unwrap();
        let out = triage_function::handle(&deps, LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        assert!(
            out.batch_item_failures.is_empty(),
            "{:?}",
            out.batch_item_failures
        );
        for m in &messages {
            self.stack.delete(&self.stack.triage_queue, m).await;
        }
        messages.len()
    }

    async fn alert_ids(&self) -> Vec<String> {
        let messages = self.stack.receive(&self.stack.alerts_queue, 60).await;
        for m in &messages {
            self.stack.delete(&self.stack.alerts_queue, m).await;
        }
        messages
            .iter()
            .map(|m| AlertMessage::parse(m.body().unwrap()).unwrap().alert_id)
            .collect()
    }
}

#[tokio::test]
async fn a_follow_up_revises_the_decision_and_a_calm_one_changes_nothing() {
    let stack = Stack::new().await;
    let fake = FakeZendesk::start(std::time::Duration::ZERO).await;
    let f = Functions {
        store: DynamoTicketStore::new(stack.aws.dynamodb.clone(), &stack.table, 30, 90),
        incidents: DynamoIncidentStore::new(stack.aws.dynamodb.clone(), &stack.table, 30),
        ledger: DynamoAlertLedger::new(stack.aws.dynamodb.clone(), &stack.table, 30),
        triage_queue: SqsQueue::new(stack.aws.sqs.clone(), &stack.triage_queue),
        alerts_queue: SqsQueue::new(stack.aws.sqs.clone(), &stack.alerts_queue),
        engine: Engine::embedded().unwrap(),
        accounts: AccountDirectory::embedded().unwrap(),
        settings: PipelineSettings::default(),
        zendesk: HttpZendesk::new(ZendeskConfig {
            base_url: fake.server.uri(),
            auth: ZendeskAuth::OAuth("t".into()),
            timeout: std::time::Duration::from_secs(5),
            attempts: 2,
            backoff_base: std::time::Duration::from_millis(10),
            wait_on_throttle: None,
            safe_update: true,
            keep_assigned: true,
        }),
        stack,
    };
    let id = TicketId::parse("8301").unwrap();

    assert_eq!(f.webhook(TICKET, "inv-1").await.0, 202);
    assert_eq!(f.triage().await, 1);
    let first = f.store.decision(&id).await.unwrap().unwrap();
    assert!(
        first.decision.priority >= Priority::P2,
        "{}",
        first.decision.priority
    );
    assert!(!first.decision.guardian.alert);
    assert!(f.alert_ids().await.is_empty());
    assert_eq!(fake.counts().notes.get("8301"), Some(&1));

    // Our own internal note comes back as a comment event: ignored.
    let (status, body) = f
        .webhook(
            &comment("c0", "[Automated triage: please review]", true, false),
            "inv-2",
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ignored")));

    // The customer writes again, angry, with a churn threat.
    let angry = "Still broken after three days and now no export works at all. Our CEO is asking why we pay you; we are evaluating Triple Whale and will cancel at renewal.";
    let (status, body) = f.webhook(&comment("c1", angry, false, true), "inv-3").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        f.webhook(&comment("c1", angry, false, true), "inv-3")
            .await
            .1["status"],
        "duplicate"
    );
    assert_eq!(f.triage().await, 1);
    let revised = f.store.decision(&id).await.unwrap().unwrap();
    assert_eq!(revised.revision, 1);
    assert!(revised.decision.priority < first.decision.priority);
    assert!(
        revised.decision.guardian.alert,
        "{:?}",
        revised.decision.guardian
    );
    let log = f.store.changes(&id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].applied);
    let fields: Vec<&str> = log[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert!(
        fields.contains(&"priority") && fields.contains(&"guardian_alert"),
        "{fields:?}"
    );
    let counts = fake.counts();
    assert_eq!(
        counts.notes.get("8301"),
        Some(&2),
        "one note for the change"
    );
    assert_eq!(
        counts.priority.get("8301").map(String::as_str),
        Some(revised.decision.priority.zendesk())
    );
    assert_eq!(f.alert_ids().await, ["guardian-8301-r1"]);

    // A calm follow-up: read, logged, nothing changes, nobody is alerted.
    let calm = "Thanks for looking into it, we will wait for your update.";
    assert_eq!(
        f.webhook(&comment("c2", calm, false, true), "inv-4")
            .await
            .0,
        202
    );
    assert_eq!(f.triage().await, 1);
    let after = f.store.decision(&id).await.unwrap().unwrap();
    assert_eq!(after.revision, 2);
    assert_eq!(after.decision.priority, revised.decision.priority);
    let log = f.store.changes(&id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[1].changes.is_empty(), "{:?}", log[1].changes);
    assert_eq!(
        fake.counts().notes.get("8301"),
        Some(&2),
        "no note when nothing changed"
    );
    assert!(f.alert_ids().await.is_empty());

    // An agent answers in public, then solves the ticket: the clocks stop.
    let (status, body) = f
        .webhook(
            &comment("c3", "We found the cause and are fixing it.", true, true),
            "inv-5",
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("recorded")));
    let solved = serde_json::json!({
        "type": "zen:event-type:ticket.status_changed", "time": now_iso(),
        "detail": {"id": "8301"}, "event": {"current": "SOLVED", "previous": "OPEN"}
    })
    .to_string();
    assert_eq!(f.webhook(&solved, "inv-6").await.1["status"], "recorded");
    let today = time::OffsetDateTime::now_utc().unix_timestamp() - 3_600;
    let decided = f.store.decisions_since(today).await.unwrap();
    let progress = &decided
        .iter()
        .find(|d| d.decision.ticket_id == id)
        .unwrap()
        .progress;
    assert!(progress.answered_at.is_some() && progress.solved_at.is_some());
}
