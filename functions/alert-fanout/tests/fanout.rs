//! The fan-out consumer against the AWS emulator: one send per alert id, a crashed
//! send retried, poison records reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use alert_fanout::{Deps, handle};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use triage_shared::adapters::aws::{
    DynamoAlertLedger, S3Bucket, S3EmailArchive, SesNotifier, SqsQueue,
};
use triage_shared::alerts::{Alert, AlertKind, alert_id};
use triage_shared::domain::{Priority, RiskLevel, Team};
use triage_shared::messages::AlertMessage;
use triage_shared::ports::{AlertLedger, Claim, Delivery, Notifier, PortError, Queue};
use triage_test_support::Stack;

fn alert(ticket: &str) -> Alert {
    Alert {
        alert_id: alert_id(AlertKind::Guardian, ticket),
        kind: AlertKind::Guardian,
        ticket_id: ticket.into(),
        customer_name: "Acme Commerce".into(),
        subject: "We are leaving".into(),
        priority: Priority::P1,
        team: Team::IntegrationsApi,
        agent_id: Some("agt-int-01".into()),
        mrr: Some(12000.0),
        risk_score: 88,
        risk_level: RiskLevel::Critical,
        intents: vec![],
        confidence: 0.0,
        reasons: vec!["cancel intent 'cancelling our subscription' (+50)".into()],
        recommended_actions: vec!["Call the account owner within 24 hours.".into()],
        snippet: "We are cancelling our subscription".into(),
        recipients: vec!["kam@example.com".into()],
        kam_name: Some("Sarah Whitfield".into()),
        renewal_date: None,
        ticket_url: Some(format!(
            "https://acme.zendesk.com/agent/tickets/{}",
            ticket.trim_start_matches('#')
        )),
        dashboard_url: None,
    }
}

/// Counts the sends that reach the bucket.
struct Counted(S3EmailArchive, Arc<AtomicUsize>);

#[async_trait]
impl Notifier for Counted {
    fn channel(&self) -> &'static str {
        self.0.channel()
    }
    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let d = self.0.send(alert).await?;
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(d)
    }
}

struct Fixture {
    stack: Stack,
    ledger: DynamoAlertLedger,
    bucket: S3EmailArchive,
    source: SqsQueue,
}

impl Fixture {
    async fn new() -> Self {
        let stack = Stack::new().await;
        Self {
            ledger: DynamoAlertLedger::new(stack.aws.dynamodb.clone(), &stack.table, 30),
            bucket: S3EmailArchive {
                bucket: S3Bucket::new(stack.aws.s3.clone(), &stack.bucket),
                from: "triage-alerts@example.com".into(),
            },
            source: SqsQueue::new(stack.aws.sqs.clone(), &stack.alerts_queue),
            stack,
        }
    }

    async fn queue(&self, body: String) {
        self.source.send(body).await.unwrap();
    }

    async fn run(&self, notifiers: &[Box<dyn Notifier>]) -> (usize, Vec<String>) {
        let messages = self.stack.receive(&self.stack.alerts_queue, 0).await;
        let event: SqsEvent =
            serde_json::from_value(self.stack.sqs_event(&self.stack.alerts_queue, &messages))
                .unwrap();
        let deps = Deps {
            ledger: &self.ledger,
            notifiers,
            lease_secs: 300,
            source: &self.source,
            batch_budget: std::time::Duration::from_secs(100),
        };
        let response = handle(&deps, LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        for m in &messages {
            if !failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                self.stack.delete(&self.stack.alerts_queue, m).await;
            }
        }
        (messages.len(), failed)
    }
}

#[tokio::test]
async fn a_duplicated_alert_is_sent_once_even_when_both_copies_arrive_together() {
    let f = Fixture::new().await;
    let a = alert("#6001");
    assert!(f.ledger.record(&a).await.unwrap());
    assert!(
        !f.ledger.record(&a).await.unwrap(),
        "a second record is refused"
    );
    let body = serde_json::to_string(&AlertMessage::new(&a.alert_id)).unwrap();
    f.queue(body.clone()).await;
    f.queue(body).await;

    let sends = Arc::new(AtomicUsize::new(0));
    let notifiers: Vec<Box<dyn Notifier>> =
        vec![Box::new(Counted(f.bucket.clone(), sends.clone()))];
    // Both copies in one batch race for the claim: one sends, the other is told to retry.
    let (received, failed) = f.run(&notifiers).await;
    assert_eq!(received, 2);
    assert_eq!(failed.len(), 1);
    assert_eq!(sends.load(Ordering::SeqCst), 1);
    // The retry finds the alert sent and does not send it again.
    let (received, failed) = f.run(&notifiers).await;
    assert_eq!(received, 1);
    assert!(failed.is_empty());
    assert_eq!(sends.load(Ordering::SeqCst), 1);

    let email = String::from_utf8(
        f.bucket
            .bucket
            .get("emails/guardian-6001.eml")
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(email.contains("To: kam@example.com"));
    assert!(email.contains("Churn risk 88/100"));
    assert!(email.contains("Call the account owner within 24 hours."));
    assert!(email.contains("https://acme.zendesk.com/agent/tickets/6001"));
}

#[tokio::test]
async fn a_send_that_crashed_is_retried_once_its_lease_ends() {
    let f = Fixture::new().await;
    let a = alert("#6002");
    f.ledger.record(&a).await.unwrap();
    // An instance claimed it and died before sending.
    assert!(matches!(
        f.ledger.claim(&a.alert_id, 1).await.unwrap(),
        Some(Claim::Claimed { .. })
    ));
    assert_eq!(
        f.ledger.claim(&a.alert_id, 1).await.unwrap(),
        Some(Claim::Busy)
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    f.queue(serde_json::to_string(&AlertMessage::new(&a.alert_id)).unwrap())
        .await;
    let sends = Arc::new(AtomicUsize::new(0));
    let notifiers: Vec<Box<dyn Notifier>> =
        vec![Box::new(Counted(f.bucket.clone(), sends.clone()))];
    let (_, failed) = f.run(&notifiers).await;
    assert!(failed.is_empty());
    assert_eq!(sends.load(Ordering::SeqCst), 1);
    assert_eq!(
        f.ledger.claim(&a.alert_id, 1).await.unwrap(),
        Some(Claim::AlreadySent)
    );
}

/// A mail provider that is down, or back up.
struct Mail {
    up: bool,
    sends: Arc<AtomicUsize>,
}

#[async_trait]
impl Notifier for Mail {
    fn channel(&self) -> &'static str {
        "mail"
    }
    async fn send(&self, _: &Alert) -> Result<Delivery, PortError> {
        self.sends.fetch_add(1, Ordering::SeqCst);
        if self.up {
            Ok(Delivery {
                channel: "mail".into(),
                reference: None,
            })
        } else {
            Err(PortError::Unavailable {
                service: "mail",
                message: "503".into(),
            })
        }
    }
}

fn mail(up: bool) -> (Box<dyn Notifier>, Arc<AtomicUsize>) {
    let sends = Arc::new(AtomicUsize::new(0));
    (
        Box::new(Mail {
            up,
            sends: sends.clone(),
        }),
        sends,
    )
}

#[tokio::test]
async fn when_one_channel_fails_only_that_one_is_retried() {
    let f = Fixture::new().await;
    let a = alert("#6004");
    f.ledger.record(&a).await.unwrap();
    let body = serde_json::to_string(&AlertMessage::new(&a.alert_id)).unwrap();
    let bucket_sends = Arc::new(AtomicUsize::new(0));
    let (down, _) = mail(false);
    let first: Vec<Box<dyn Notifier>> = vec![
        Box::new(Counted(f.bucket.clone(), bucket_sends.clone())),
        down,
    ];
    f.queue(body.clone()).await;
    let (_, failed) = f.run(&first).await;
    assert_eq!(
        failed.len(),
        1,
        "the alert is retried while a channel failed"
    );
    match f.ledger.claim(&a.alert_id, 0).await.unwrap() {
        Some(Claim::Claimed { delivered, .. }) => assert_eq!(delivered, vec!["s3".to_string()]),
        other => panic!("{other:?}"),
    }
    f.ledger.release(&a.alert_id, &[]).await.unwrap();
    let (up, mail_sends) = mail(true);
    let second: Vec<Box<dyn Notifier>> = vec![
        Box::new(Counted(f.bucket.clone(), bucket_sends.clone())),
        up,
    ];
    let mut done = false;
    for _ in 0..3 {
        let (_, failed) = f.run(&second).await;
        if failed.is_empty() && mail_sends.load(Ordering::SeqCst) == 1 {
            done = true;
            break;
        }
    }
    assert!(done, "the mail went out on a retry");
    assert_eq!(
        bucket_sends.load(Ordering::SeqCst),
        1,
        "the bucket copy was not written twice"
    );
    assert_eq!(
        f.ledger.claim(&a.alert_id, 1).await.unwrap(),
        Some(Claim::AlreadySent)
    );
}

#[tokio::test]
async fn a_failed_send_is_retried_not_lost_and_poison_is_reported() {
    let f = Fixture::new().await;
    let a = alert("#6003");
    f.ledger.record(&a).await.unwrap();
    f.queue(serde_json::to_string(&AlertMessage::new(&a.alert_id)).unwrap())
        .await;
    f.queue("not json".into()).await;
    f.queue(serde_json::to_string(&AlertMessage::new("guardian-nowhere")).unwrap())
        .await;
    let down: Vec<Box<dyn Notifier>> = vec![mail(false).0];
    let (received, failed) = f.run(&down).await;
    assert_eq!(received, 3);
    assert_eq!(
        failed.len(),
        3,
        "the failed send and both poison records are reported"
    );
    // The provider is back: the alert goes out on the retry.
    let sends = Arc::new(AtomicUsize::new(0));
    let up: Vec<Box<dyn Notifier>> = vec![Box::new(Counted(f.bucket.clone(), sends.clone()))];
    let mut sent = false;
    for _ in 0..3 {
        f.run(&up).await;
        if sends.load(Ordering::SeqCst) == 1 {
            sent = true;
            break;
        }
    }
    assert!(sent);
}

#[test]
fn a_bad_lease_is_named() {
    let env = triage_shared::settings::env(&[("ALERT_LEASE_SECS", "soon")]);
    let err = alert_fanout::Config::read(&env).unwrap_err().to_string();
    assert!(err.contains("ALERT_LEASE_SECS"), "{err}");
}

#[tokio::test]
async fn ses_sends_from_a_verified_identity_and_refuses_an_unverified_one() {
    let f = Fixture::new().await;
    let from = format!("alerts-{}@acme.test", std::process::id());
    let unverified = SesNotifier::new(f.stack.aws.ses.clone(), "nobody@unverified.test");
    let err = unverified.send(&alert("#6101")).await.unwrap_err();
    assert!(
        matches!(err, PortError::Rejected { ref message, .. } if message.contains("MessageRejected")),
        "{err:?}"
    );

    f.stack
        .aws
        .ses
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    let ses = SesNotifier::new(f.stack.aws.ses.clone(), &from);
    let d = ses.send(&alert("#6102")).await.unwrap();
    assert_eq!(d.channel, "ses");
    assert!(d.reference.is_some());

    // What the emulator recorded as sent.
    let data: serde_json::Value = reqwest::get(format!(
        "{}/moto-api/data.json",
        std::env::var("AWS_ENDPOINT_URL").unwrap()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let sent = data["ses"]["Message"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["source"] == from.as_str())
        .expect("the message is recorded");
    assert_eq!(
        sent["destinations"]["ToAddresses"],
        serde_json::json!(["kam@example.com"])
    );
    assert!(
        sent["subject"]
            .as_str()
            .unwrap()
            .starts_with("[Guardian] Acme Commerce at risk (88/100)")
    );
    assert!(
        sent["body"]
            .as_str()
            .unwrap()
            .contains("Call the account owner within 24 hours.")
    );
}
