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
use triage_shared::adapters::aws::sqs_batch::{Failure, process_batch, time_for_records};
use triage_shared::fanout::{Outcome, deliver};
use triage_shared::messages::AlertMessage;
use triage_shared::ports::{AlertLedger, Notifier};
use triage_shared::settings::{Env, SettingsError};

/// The fan-out's own settings (the shared ones are in `FunctionConfig`).
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a claim protects a send (`ALERT_LEASE_SECS`, default 300).
    pub lease_secs: u64,
}

impl Config {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        Ok(Self {
            lease_secs: env.parse("ALERT_LEASE_SECS")?.unwrap_or(300),
        })
    }
}

/// What the handler needs, built once in `main`.
pub struct Deps<'a> {
    pub ledger: &'a dyn AlertLedger,
    pub notifiers: &'a [Box<dyn Notifier>],
    pub lease_secs: u64,
    pub source: &'a SqsQueue,
    /// Time for a batch when the invocation's deadline is unknown (the policy's).
    pub batch_budget: std::time::Duration,
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
    let time = time_for_records(event.context.deadline, deps.batch_budget);
    Ok(
        process_batch(&event.payload.records, deps.source, time, |r| {
            process(deps, r)
        })
        .await,
    )
}
