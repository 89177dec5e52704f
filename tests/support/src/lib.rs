//! Helpers for tests that run against the local AWS emulator (moto server, started by
//! `scripts/test` and reached through `AWS_ENDPOINT_URL`): fresh resources per test,
//! queue inspection, and signed API Gateway webhook events.

pub mod fake_zendesk;

use std::sync::atomic::{AtomicU32, Ordering};

pub use aws_sdk_sqs::types::Message;
use aws_sdk_sqs::types::QueueAttributeName;
use triage_shared::adapters::aws::{AwsClients, DynamoTicketStore};
use triage_shared::domain::{Ticket, TicketId};

/// A ticket as a webhook brings it: e-mail, no time, a mid-market account (9,000 MRR).
pub fn ticket(id: &str, customer: &str, subject: &str, description: &str) -> Ticket {
    Ticket {
        id: TicketId::parse(id).expect("a valid ticket id"),
        customer_name: customer.into(),
        subject: subject.into(),
        description: description.into(),
        channel: "email".into(),
        created_at: None,
        mrr: Some(9000.0),
        organization_id: None,
        requester_email: None,
        tags: vec![],
    }
}

/// Fresh, uniquely named resources on the emulator.
pub struct Stack {
    pub aws: AwsClients,
    pub table: String,
    pub triage_queue: String,
    pub triage_dlq: String,
    pub alerts_queue: String,
    pub alerts_dlq: String,
    pub bucket: String,
}

/// How often a message may be received before SQS moves it to the dead-letter queue
/// (as in `template.yaml`).
pub const MAX_RECEIVE_COUNT: u32 = 3;

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    )
}

impl Stack {
    /// Creates a table, two queues with dead-letter queues, and a bucket.
    pub async fn new() -> Self {
        assert!(
            std::env::var_os("AWS_ENDPOINT_URL").is_some(),
            "AWS_ENDPOINT_URL is not set: these tests need the local AWS emulator; \
             run scripts/test (it starts moto server) or start .venv/bin/moto_server and export \
             AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        );
        let aws = AwsClients::load().await;
        let table = unique("tickets");
        DynamoTicketStore::create_table(&aws.dynamodb, &table)
            .await
            .expect("create table");
        let (triage_queue, triage_dlq) = queue_with_dlq(&aws.sqs, &unique("triage")).await;
        let (alerts_queue, alerts_dlq) = queue_with_dlq(&aws.sqs, &unique("alerts")).await;
        let bucket = unique("reports").to_lowercase();
        aws.s3
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create bucket");
        Self {
            aws,
            table,
            triage_queue,
            triage_dlq,
            alerts_queue,
            alerts_dlq,
            bucket,
        }
    }

    /// Receives up to 10 messages, visible again after `visibility` seconds.
    pub async fn receive(&self, queue: &str, visibility: i32) -> Vec<aws_sdk_sqs::types::Message> {
        self.aws
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default()
    }

    /// One attribute of a queue (`ApproximateNumberOfMessagesDelayed`, ...).
    pub async fn queue_attribute(&self, queue: &str, name: &str) -> String {
        let name = aws_sdk_sqs::types::QueueAttributeName::from(name);
        self.aws
            .sqs
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&name))
            .unwrap_or_default()
    }

    pub async fn delete(&self, queue: &str, message: &aws_sdk_sqs::types::Message) {
        self.aws
            .sqs
            .delete_message()
            .queue_url(queue)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await
            .expect("delete");
    }

    /// Turns received SQS messages into the event Lambda would pass.
    pub fn sqs_event(
        &self,
        queue: &str,
        messages: &[aws_sdk_sqs::types::Message],
    ) -> serde_json::Value {
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| {
                serde_json::json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": {"ApproximateReceiveCount": m.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)).cloned().unwrap_or_else(|| "1".into())},
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{}", queue.rsplit('/').next().unwrap_or_default()),
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        serde_json::json!({ "Records": records })
    }
}

async fn queue_with_dlq(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .expect("create dlq");
    let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn");
    let queue = sqs
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
                .to_string(),
        )
        .send()
        .await
        .expect("create queue");
    (queue.queue_url().unwrap_or_default().to_string(), dlq_url)
}

/// An API Gateway HTTP API (payload 2.0) event for a webhook, signed with `secret` at
/// `timestamp` (ISO-8601).
pub fn webhook_event(
    body: &str,
    secret: &str,
    timestamp: &str,
    invocation_id: &str,
) -> serde_json::Value {
    let signature = triage_shared::webhook::sign(secret, timestamp, body.as_bytes());
    api_event(
        "POST",
        "/webhooks/zendesk",
        body,
        &[
            ("content-type", "application/json"),
            ("x-zendesk-webhook-signature", &signature),
            ("x-zendesk-webhook-signature-timestamp", timestamp),
            ("x-zendesk-webhook-id", "01HTESTWEBHOOK"),
            ("x-zendesk-webhook-invocation-id", invocation_id),
            ("x-zendesk-account-id", "123"),
        ],
    )
}

/// An API Gateway HTTP API (payload 2.0) event.
pub fn api_event(
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "Zendesk Webhook"},
            "requestId": "req",
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": "26/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// Now, as Zendesk writes it in the signature timestamp header.
pub fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero is valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}
