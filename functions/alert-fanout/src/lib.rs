//! The alert fan-out consumer: each record names an alert in the ledger; the alert is
//! claimed, sent through every configured notifier and marked sent, so that a message
//! delivered twice, or two instances racing, still send it once.
//!
//! Retry policy: an unreadable message or an unknown alert id is poison (reported until
//! it moves to the dead-letter queue); an alert held by another instance, a failed or
//! throttled send are retried.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use triage_shared::adapters::aws::SqsQueue;
use triage_shared::adapters::sqs_batch::{Failure, process_batch, time_for_records};
use triage_shared::fanout::{Outcome, deliver};
use triage_shared::messages::AlertMessage;
use triage_shared::ports::{AlertLedger, Notifier};
use triage_shared::settings::{Env, SettingsError};

/// Settings read once at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    pub alerts_queue_url: String,
    pub bucket: String,
    pub retention_days: u32,
    pub lease_secs: u64,
    pub alert_from: String,
}

impl Config {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::read(&triage_shared::settings::process_env())
    }

    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        Ok(Self {
            table: env.require("TABLE_NAME")?,
            alerts_queue_url: env.require("ALERTS_QUEUE_URL")?,
            bucket: env.require("REPORT_BUCKET")?,
            retention_days: env.parse("RETENTION_DAYS")?.unwrap_or(30),
            lease_secs: env.parse("ALERT_LEASE_SECS")?.unwrap_or(300),
            alert_from: env
                .get("ALERT_FROM_EMAIL")
                .unwrap_or_else(|| "triage-alerts@example.com".into()),
        })
    }
}

/// What the handler needs, built once in `main`.
pub struct Deps<'a> {
    pub ledger: &'a dyn AlertLedger,
    pub notifiers: &'a [Box<dyn Notifier>],
    pub lease_secs: u64,
    pub source: &'a SqsQueue,
}

async fn process(deps: &Deps<'_>, record: &SqsMessage) -> Result<(), Failure> {
    let message = AlertMessage::parse(record.body.as_deref().unwrap_or_default())
        .map_err(|e| Failure::Poison(e.to_string()))?;
    let id = &message.alert_id;
    match deliver(deps.ledger, deps.notifiers, id, deps.lease_secs).await {
        Ok(Outcome::Sent {
            deliveries,
            earlier,
        }) => {
            let channels: Vec<&str> = deliveries.iter().map(|d| d.channel.as_str()).collect();
            tracing::info!(alert_id = %id, ?channels, ?earlier, "alert sent");
            Ok(())
        }
        Ok(Outcome::AlreadySent) => {
            tracing::info!(alert_id = %id, "alert was sent before; not sending again");
            Ok(())
        }
        Ok(Outcome::Busy) => Err(Failure::Retry(format!(
            "alert {id} is being sent by another instance"
        ))),
        Ok(Outcome::Unknown) => Err(Failure::Poison(format!("alert {id} is not in the ledger"))),
        Err(e) => Err(Failure::from(e)),
    }
}

pub async fn handle(
    deps: &Deps<'_>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let time = time_for_records(event.context.deadline);
    Ok(
        process_batch(&event.payload.records, deps.source, time, |r| {
            process(deps, r)
        })
        .await,
    )
}
