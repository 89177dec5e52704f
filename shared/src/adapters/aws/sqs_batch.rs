//! An SQS-triggered function's batch: the records are processed concurrently and the
//! failed ones reported back (`ReportBatchItemFailures`), so that only they return to
//! the queue.
//!
//! Retry policy, per failure kind: poison (retrying cannot help) is reported, and
//! logged with its reason, until SQS moves it to the dead-letter queue after
//! `maxReceiveCount` receives; a throttled downstream gets the message back with the
//! delay it asked for, re-sent as a new message so that a long spell of throttling
//! does not push healthy messages into the dead-letter queue; other failures return
//! after the visibility timeout.
//!
//! A batch also has a deadline, the invocation's end less a reserve: a record still
//! running then is stopped and reported as failed, so that the records already done
//! are not handed back with it (as they would be if the invocation timed out). The
//! work is idempotent, so a record stopped half-way resumes on its next delivery. A
//! deadline that is no plausible wall-clock time (in the past, or further away than
//! any Lambda invocation lasts: local runtimes such as `cargo lambda watch` send one)
//! means "unknown", and the records get the policy's budget instead.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};

use super::SqsQueue;
use crate::ports::PortError;

/// How long a throttled message waits when the downstream did not say.
const THROTTLE_DEFAULT: Duration = Duration::from_secs(30);
/// The longest delay an SQS message can carry.
const MAX_DELAY_SECS: u64 = 900;
/// The time kept, before the invocation's deadline, to report the batch.
const RESERVE: Duration = Duration::from_secs(5);

/// The longest a Lambda invocation lasts (15 minutes), plus a minute of clock skew.
const LONGEST_INVOCATION: Duration = Duration::from_secs(16 * 60);

/// The time the records may take, from the invocation deadline (milliseconds since
/// the Unix epoch, as the Lambda context gives it): what is left less a reserve for
/// reporting the batch (5 s, or a quarter of what is left when that is shorter). When
/// the deadline is not a plausible wall-clock time, `budget` (logged once per process).
pub fn time_for_records(deadline_ms: u64, budget: Duration) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let deadline = Duration::from_millis(deadline_ms);
    if deadline <= now || deadline > now + LONGEST_INVOCATION {
        static LOGGED: std::sync::Once = std::sync::Once::new();
        LOGGED.call_once(|| {
            tracing::warn!(
                deadline_ms,
                budget_ms = budget.as_millis() as u64,
                "the invocation's deadline is no plausible wall-clock time: using the policy's budget for each batch"
            );
        });
        return budget;
    }
    let left = deadline - now;
    left.saturating_sub(RESERVE.min(left / 4))
}

/// The delivery a record belongs to: the message it continues (a throttled message
/// re-sent with a delay keeps its first message's identity), or the message itself.
/// Claims on a ticket are held in its name.
pub fn delivery_of(record: &SqsMessage) -> &str {
    record
        .message_attributes
        .get(super::sqs::DELIVERY_ATTRIBUTE)
        .and_then(|a| a.string_value.as_deref())
        .or(record.message_id.as_deref())
        .unwrap_or_default()
}

/// Why a record was not processed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Retrying cannot help; it goes to the dead-letter queue.
    Poison(String),
    /// A transient failure: retry after the visibility timeout.
    Retry(String),
    /// A downstream asked us to slow down.
    Throttled {
        reason: String,
        after: Option<Duration>,
    },
}

impl From<PortError> for Failure {
    fn from(e: PortError) -> Self {
        match &e {
            PortError::Throttled { retry_after, .. } => Failure::Throttled {
                reason: e.to_string(),
                after: *retry_after,
            },
            _ => Failure::Retry(e.to_string()),
        }
    }
}

/// Runs `process` on every record at once, stopping the ones still running after
/// `time` (see [`time_for_records`]), and reports the ones that failed.
pub async fn process_batch<'r, F, Fut>(
    records: &'r [SqsMessage],
    source: &SqsQueue,
    time: Duration,
    process: F,
) -> SqsBatchResponse
where
    F: Fn(&'r SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let results = futures::future::join_all(records.iter().map(|record| {
        let work = process(record);
        async move {
            tokio::time::timeout(time, work).await.unwrap_or_else(|_| {
                Err(Failure::Retry(format!(
                    "stopped after {} ms, before the invocation's deadline",
                    time.as_millis()
                )))
            })
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (record, result) in records.iter().zip(results) {
        let Err(failure) = result else { continue };
        let id = record.message_id.clone().unwrap_or_default();
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        match &failure {
            Failure::Poison(reason) => {
                tracing::error!(message_id = %id, receives, reason, "poison message: reported until it moves to the dead-letter queue")
            }
            Failure::Retry(reason) => {
                tracing::warn!(message_id = %id, receives, reason, "will retry")
            }
            Failure::Throttled { reason, after } => {
                let secs = after.unwrap_or(THROTTLE_DEFAULT).as_secs().max(1);
                if secs <= MAX_DELAY_SECS
                    && let Some(body) = record.body.as_deref()
                {
                    match source.send_delayed(body, secs, delivery_of(record)).await {
                        Ok(()) => {
                            tracing::warn!(message_id = %id, reason, delay_secs = secs, "throttled: re-queued with a delay");
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(message_id = %id, error = %e, "cannot re-queue the message")
                        }
                    }
                }
                tracing::warn!(message_id = %id, reason, delay_secs = secs, "throttled: handing the message back");
                if let Some(handle) = record.receipt_handle.as_deref()
                    && let Err(e) = source.delay(handle, secs).await
                {
                    tracing::warn!(message_id = %id, error = %e, "cannot delay the message; it returns after the visibility timeout");
                }
            }
        }
        let mut item = BatchItemFailure::default();
        item.item_identifier = id;
        response.batch_item_failures.push(item);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ms(d: Duration) -> u64 {
        (SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + d).as_millis() as u64
    }

    const BUDGET: Duration = Duration::from_secs(90);

    #[test]
    fn the_records_get_the_time_left_less_a_reserve() {
        let long = time_for_records(in_ms(Duration::from_secs(120)), BUDGET);
        assert!(long > Duration::from_secs(114) && long <= Duration::from_secs(115));
        let short = time_for_records(in_ms(Duration::from_secs(8)), BUDGET);
        assert!(short > Duration::from_millis(5900) && short <= Duration::from_secs(6));
    }

    #[test]
    fn a_deadline_that_is_no_wall_clock_time_gives_the_budget() {
        assert_eq!(time_for_records(0, BUDGET), BUDGET, "none given");
        // `cargo lambda watch` 1.9 sends the timeout itself (600000) as the deadline.
        assert_eq!(time_for_records(600_000, BUDGET), BUDGET);
        let past = in_ms(Duration::ZERO) - 5_000;
        assert_eq!(time_for_records(past, BUDGET), BUDGET, "in the past");
        let far = in_ms(Duration::from_secs(3600));
        assert_eq!(
            time_for_records(far, BUDGET),
            BUDGET,
            "longer than Lambda allows"
        );
    }
}
