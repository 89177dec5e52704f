//! AWS adapters, one per service: the ticket store and the alert ledger on one
//! DynamoDB table, SQS queues (and the queue consumers' batch handling), the S3 bucket
//! (reports, archived e-mails, recorded Zendesk calls) and SES.
//!
//! Table layout (one table, on-demand, TTL on `expires_at`):
//! - `pk=TICKET#<id>, sk=META`: the ticket (JSON), whether it must be fetched, its
//!   decision (JSON) once triaged, and the attributes the indexes and history use;
//! - `pk=TICKET#<id>, sk=EVENT#<invocation id>`: webhook dedupe;
//! - `pk=ALERT#<alert id>, sk=META`: the alert (JSON) and its delivery state;
//! - `pk=LOAD#<day>, sk=META`: tickets assigned per agent that day (atomic counters);
//! - `pk=SIGHTINGS#<day>` and `pk=INCIDENT#<id>`: the incident look-up (see
//!   [`incident_store`]).
//!
//! Index `by_customer` (`gsi1pk=CUSTOMER#<key>`, `gsi1sk=<received epoch>#<id>`) serves
//! Guardian's history; index `by_day` (`gsi2pk=DAY#<yyyy-mm-dd>`, `gsi2sk=<decided
//! epoch>#<id>`) serves reports without scanning the table.

pub mod alert_ledger;
pub mod incident_store;
pub mod s3;
pub mod ses;
pub mod sqs;
pub mod sqs_batch;
pub mod ticket_store;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use crate::domain::TicketId;
use crate::ports::PortError;

pub use alert_ledger::DynamoAlertLedger;
pub use incident_store::DynamoIncidentStore;
pub use s3::{S3Bucket, S3EmailArchive, S3ZendeskRecorder};
pub use ses::SesNotifier;
pub use sqs::SqsQueue;
pub use ticket_store::DynamoTicketStore;

/// Names shared by the code, the SAM template and the tests.
pub mod schema {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const TTL: &str = "expires_at";
    pub const GSI_CUSTOMER: &str = "by_customer";
    pub const GSI_CUSTOMER_PK: &str = "gsi1pk";
    pub const GSI_CUSTOMER_SK: &str = "gsi1sk";
    pub const GSI_DAY: &str = "by_day";
    pub const GSI_DAY_PK: &str = "gsi2pk";
    pub const GSI_DAY_SK: &str = "gsi2sk";
}

/// The AWS clients, built once per process from the standard configuration chain
/// (`AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` for a local emulator).
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
}

impl AwsClients {
    pub async fn load() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        // Local emulators serve buckets by path, not by host name.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build();
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ses: aws_sdk_sesv2::Client::new(&config),
        }
    }
}

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "Throttling",
    "SlowDown",
    "TooManyRequestsException",
    "RequestThrottled",
];

/// Classifies an SDK failure: throttling and transient failures are retryable,
/// anything else the request itself got wrong is not.
pub(super) fn port_error<E, R>(service: &'static str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            let message = format!("{code}: {}", se.err().message().unwrap_or_default());
            if THROTTLING.contains(&code) {
                PortError::Throttled {
                    service,
                    retry_after: None,
                }
            } else if code.starts_with("InternalServer") || code == "ServiceUnavailable" {
                PortError::Unavailable { service, message }
            } else {
                PortError::Rejected { service, message }
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PortError::Unavailable {
                service,
                message: format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)),
            }
        }
        _ => PortError::Rejected {
            service,
            message: format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)),
        },
    }
}

/// Whether a put was refused by its condition (an expected answer, not a failure).
pub(super) fn put_condition_failed<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> bool {
    err.as_service_error().is_some_and(
        aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception,
    )
}

/// Whether a transaction was cancelled because one of its conditions did not hold,
/// and for no other reason (a conflict or throttling is a failure to retry).
pub(super) fn transaction_condition_failed<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::TransactionCanceledException(c))
            if c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                && c.cancellation_reasons().iter().all(|r| matches!(r.code(), Some("ConditionalCheckFailed") | Some("None") | None))
    )
}

pub(super) fn bad_item(message: impl Into<String>) -> PortError {
    PortError::Rejected {
        service: "dynamodb",
        message: message.into(),
    }
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn get_s<'a>(item: &'a HashMap<String, AttributeValue>, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(super) fn get_bool(item: &HashMap<String, AttributeValue>, key: &str) -> bool {
    item.get(key)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

pub(super) fn get_n(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn json<T: serde::Serialize>(v: &T) -> Result<String, PortError> {
    serde_json::to_string(v).map_err(|e| bad_item(e.to_string()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, PortError> {
    serde_json::from_str(text).map_err(|e| bad_item(format!("stored {what} is not readable: {e}")))
}

pub(super) fn ticket_pk(id: &TicketId) -> String {
    format!("TICKET#{id}")
}

pub(super) fn day_of(epoch: i64) -> String {
    let d = OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Every item a query returns, page after page.
pub(super) async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<HashMap<String, AttributeValue>>, PortError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return Ok(items),
        }
    }
}

/// The start (epoch seconds) of each UTC day from `from`'s to `to`'s, for the
/// partitions kept per day.
pub(super) fn days(from: i64, to: i64) -> impl Iterator<Item = i64> {
    let first = from - from.rem_euclid(86_400);
    (0..)
        .map(move |n| first + n * 86_400)
        .take_while(move |day| *day <= to)
}

pub(super) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
