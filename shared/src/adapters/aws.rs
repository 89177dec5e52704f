//! AWS adapters: the ticket store and alert ledger on one DynamoDB table, SQS queues,
//! and an S3 bucket for reports and rendered e-mails.
//!
//! Table layout (one table, on-demand, TTL on `expires_at`):
//! - `pk=TICKET#<id>, sk=META`: the ticket (JSON), whether it must be fetched, its
//!   decision (JSON) once triaged, and the attributes the indexes and history use;
//! - `pk=TICKET#<id>, sk=EVENT#<invocation id>`: webhook dedupe;
//! - `pk=ALERT#<alert id>, sk=META`: the alert (JSON) and its delivery state;
//! - `pk=LOAD#<day>, sk=META`: tickets assigned per agent that day (atomic counters).
//!
//! Index `by_customer` (`gsi1pk=CUSTOMER#<key>`, `gsi1sk=<received epoch>#<id>`) serves
//! Guardian's history; index `by_day` (`gsi2pk=DAY#<yyyy-mm-dd>`, `gsi2sk=<decided
//! epoch>#<id>`) serves reports without scanning the table.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use time::OffsetDateTime;

use crate::alerts::{Alert, Email, render_email};
use crate::domain::{AccountContext, Decision, SentimentLabel, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::llm::LlmUsage;
use crate::ports::Decided;
use crate::ports::{
    AlertLedger, Claim, Delivery, Notifier, PortError, Queue, Receipt, ReportSink, StoredDecision,
    StoredTicket, TicketStore, ZendeskPort,
};
use crate::zendesk::ZendeskCall;

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
fn port_error<E, R>(service: &'static str, err: SdkError<E, R>) -> PortError
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

fn bad_item(message: impl Into<String>) -> PortError {
    PortError::Rejected {
        service: "dynamodb",
        message: message.into(),
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a HashMap<String, AttributeValue>, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_bool(item: &HashMap<String, AttributeValue>, key: &str) -> bool {
    item.get(key)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

fn get_n(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, PortError> {
    serde_json::to_string(v).map_err(|e| bad_item(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, PortError> {
    serde_json::from_str(text).map_err(|e| bad_item(format!("stored {what} is not readable: {e}")))
}

fn ticket_pk(id: &TicketId) -> String {
    format!("TICKET#{id}")
}

fn day_of(epoch: i64) -> String {
    let d = OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The ticket store on DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoTicketStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention_days: u32,
    history_days: u32,
}

impl DynamoTicketStore {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        retention_days: u32,
        history_days: u32,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            retention_days,
            history_days,
        }
    }

    fn expires(&self, from: i64) -> AttributeValue {
        n(from + i64::from(self.retention_days) * 86_400)
    }

    async fn meta(
        &self,
        id: &TicketId,
    ) -> Result<Option<HashMap<String, AttributeValue>>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(out.item)
    }

    /// Creates the table with its indexes and TTL (tests and local set-ups; the SAM
    /// template declares the same table for deployments).
    pub async fn create_table(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<(), PortError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
            Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("name and type are set")
        };
        let gsi = |name: &str, pk: &str, sk: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash))
                .key_schema(key(sk, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("index is complete")
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(schema::PK))
            .attribute_definitions(attr(schema::SK))
            .attribute_definitions(attr(schema::GSI_CUSTOMER_PK))
            .attribute_definitions(attr(schema::GSI_CUSTOMER_SK))
            .attribute_definitions(attr(schema::GSI_DAY_PK))
            .attribute_definitions(attr(schema::GSI_DAY_SK))
            .key_schema(key(schema::PK, KeyType::Hash))
            .key_schema(key(schema::SK, KeyType::Range))
            .global_secondary_indexes(gsi(
                schema::GSI_CUSTOMER,
                schema::GSI_CUSTOMER_PK,
                schema::GSI_CUSTOMER_SK,
            ))
            .global_secondary_indexes(gsi(schema::GSI_DAY, schema::GSI_DAY_PK, schema::GSI_DAY_SK))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(schema::TTL)
                    .enabled(true)
                    .build()
                    .expect("name and flag are set"),
            )
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }
}

#[async_trait]
impl TicketStore for DynamoTicketStore {
    async fn receive(
        &self,
        ticket: &Ticket,
        invocation_id: &str,
        needs_fetch: bool,
    ) -> Result<Receipt, PortError> {
        let at = now();
        let pk = ticket_pk(&ticket.id);
        let event = Put::builder()
            .table_name(&self.table)
            .item(schema::PK, s(&pk))
            .item(schema::SK, s(format!("EVENT#{invocation_id}")))
            .item("received_at", n(at))
            .item("enqueued", AttributeValue::Bool(false))
            .item(schema::TTL, self.expires(at))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| bad_item(e.to_string()))?;
        let meta = Put::builder()
            .table_name(&self.table)
            .item(schema::PK, s(&pk))
            .item(schema::SK, s("META"))
            .item("ticket", s(json(ticket)?))
            .item("needs_fetch", AttributeValue::Bool(needs_fetch))
            .item("status", s("received"))
            .item("received_at", n(at))
            .item(
                schema::GSI_CUSTOMER_PK,
                s(format!("CUSTOMER#{}", ticket.customer_key())),
            )
            .item(
                schema::GSI_CUSTOMER_SK,
                s(format!("{at:010}#{}", ticket.id)),
            )
            .item(schema::TTL, self.expires(at))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| bad_item(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(event).build())
            .transact_items(TransactWriteItem::builder().put(meta).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Receipt::New),
            Err(err) => err,
        };
        let duplicate = matches!(
            err.as_service_error(),
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c))
                if c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                    && c.cancellation_reasons().iter().all(|r| matches!(r.code(), Some("ConditionalCheckFailed") | Some("None") | None))
        );
        if !duplicate {
            return Err(port_error("dynamodb", err));
        }
        // Seen before: was it enqueued? (An earlier attempt may have stopped in between.)
        let event = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(schema::PK, s(&pk))
            .key(schema::SK, s(format!("EVENT#{invocation_id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(match event.item {
            Some(item) if !get_bool(&item, "enqueued") => Receipt::NotYetQueued,
            Some(_) => Receipt::Duplicate,
            // A new invocation for a ticket received before (another webhook on it).
            None => Receipt::Duplicate,
        })
    }

    async fn mark_enqueued(&self, id: &TicketId, invocation_id: &str) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s(format!("EVENT#{invocation_id}")))
            .update_expression("SET enqueued = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, PortError> {
        let Some(item) = self.meta(id).await? else {
            return Ok(None);
        };
        let ticket = from_json(
            get_s(&item, "ticket").ok_or_else(|| bad_item("ticket item has no ticket"))?,
            "ticket",
        )?;
        Ok(Some(StoredTicket {
            ticket,
            needs_fetch: get_bool(&item, "needs_fetch"),
        }))
    }

    async fn update_ticket(&self, ticket: &Ticket) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(&ticket.id)))
            .key(schema::SK, s("META"))
            .update_expression("SET ticket = :t, needs_fetch = :f, gsi1pk = :c")
            .expression_attribute_values(":t", s(json(ticket)?))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":c", s(format!("CUSTOMER#{}", ticket.customer_key())))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }

    async fn decision(&self, id: &TicketId) -> Result<Option<StoredDecision>, PortError> {
        let Some(item) = self.meta(id).await? else {
            return Ok(None);
        };
        let Some(text) = get_s(&item, "decision") else {
            return Ok(None);
        };
        Ok(Some(StoredDecision {
            decision: from_json(text, "decision")?,
            completed: get_bool(&item, "completed"),
        }))
    }

    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError> {
        let received = match self.meta(&ticket.id).await? {
            Some(item) => get_n(&item, "received_at").unwrap_or_else(now),
            None => now(),
        };
        let from = received - i64::from(self.history_days) * 86_400;
        let mut context = AccountContext::default();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(schema::GSI_CUSTOMER)
                .key_condition_expression("gsi1pk = :c AND gsi1sk BETWEEN :from AND :to")
                .expression_attribute_values(":c", s(format!("CUSTOMER#{}", ticket.customer_key())))
                .expression_attribute_values(":from", s(format!("{from:010}")))
                // Strictly before this ticket: same second sorts by id.
                .expression_attribute_values(":to", s(format!("{received:010}#{}", ticket.id)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error("dynamodb", e))?;
            for item in page.items() {
                if get_s(item, schema::PK) == Some(ticket_pk(&ticket.id).as_str()) {
                    continue;
                }
                context.prior_tickets += 1;
                context.prior_negative += u32::from(get_bool(item, "negative"));
                context.prior_alerts += u32::from(get_bool(item, "alerted"));
            }
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        Ok(context)
    }

    async fn agent_load(&self) -> Result<AgentLoad, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(schema::PK, s(format!("LOAD#{}", day_of(now()))))
            .key(schema::SK, s("META"))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        let mut load = AgentLoad::new();
        if let Some(item) = out.item {
            for (k, v) in item {
                if let (Some(agent), Ok(count)) = (k.strip_prefix("agent_"), v.as_n()) {
                    load.insert(agent.to_string(), count.parse().unwrap_or(0));
                }
            }
        }
        Ok(load)
    }

    async fn save_decision(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        llm: Option<&LlmUsage>,
    ) -> Result<bool, PortError> {
        let at = now();
        let negative = matches!(
            decision.sentiment.label,
            SentimentLabel::Frustrated | SentimentLabel::Aggressive
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(&ticket.id)))
            .key(schema::SK, s("META"))
            // The ticket item may not exist yet (a decision for a ticket that arrived
            // another way); then it is created with what the history index needs.
            .update_expression(
                "SET decision = :d, #status = :s, completed = :no, negative = :neg, alerted = :al, \
                 gsi2pk = :day, gsi2sk = :dsk, decided_at = :at, \
                 ticket = if_not_exists(ticket, :t), received_at = if_not_exists(received_at, :at), \
                 gsi1pk = if_not_exists(gsi1pk, :c), gsi1sk = if_not_exists(gsi1sk, :csk), \
                 expires_at = if_not_exists(expires_at, :exp), llm = :llm",
            )
            .condition_expression("attribute_not_exists(decision)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":d", s(json(decision)?))
            .expression_attribute_values(":s", s("triaged"))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":neg", AttributeValue::Bool(negative))
            .expression_attribute_values(":al", AttributeValue::Bool(decision.guardian.alert))
            .expression_attribute_values(":day", s(format!("DAY#{}", day_of(at))))
            .expression_attribute_values(":dsk", s(format!("{at:010}#{}", ticket.id)))
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":t", s(json(ticket)?))
            .expression_attribute_values(":c", s(format!("CUSTOMER#{}", ticket.customer_key())))
            .expression_attribute_values(":csk", s(format!("{at:010}#{}", ticket.id)))
            .expression_attribute_values(":exp", self.expires(at))
            .expression_attribute_values(":llm", match llm {
                Some(u) => s(json(u)?),
                None => AttributeValue::Null(true),
            })
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(port_error("dynamodb", err)),
        }
        if let Some(agent) = &decision.agent_id {
            self.client
                .update_item()
                .table_name(&self.table)
                .key(schema::PK, s(format!("LOAD#{}", day_of(at))))
                .key(schema::SK, s("META"))
                .update_expression("ADD #a :one SET expires_at = :exp")
                .expression_attribute_names("#a", format!("agent_{agent}"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":exp", n(at + 2 * 86_400))
                .send()
                .await
                .map_err(|e| port_error("dynamodb", e))?;
        }
        Ok(true)
    }

    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .update_expression("SET completed = :yes")
            .condition_expression("attribute_exists(decision)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }

    async fn decisions_since(&self, since: i64) -> Result<Vec<Decided>, PortError> {
        let mut out = Vec::new();
        let mut day = since - since.rem_euclid(86_400);
        let end = now();
        while day <= end {
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(schema::GSI_DAY)
                    .key_condition_expression("gsi2pk = :d AND gsi2sk >= :from")
                    .expression_attribute_values(":d", s(format!("DAY#{}", day_of(day))))
                    .expression_attribute_values(":from", s(format!("{since:010}")))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| port_error("dynamodb", e))?;
                for item in page.items() {
                    // Expired items linger until DynamoDB removes them: skip them.
                    if get_n(item, schema::TTL).is_some_and(|t| t < end) {
                        continue;
                    }
                    if let (Some(t), Some(d)) = (get_s(item, "ticket"), get_s(item, "decision")) {
                        out.push(Decided {
                            ticket: from_json(t, "ticket")?,
                            decision: from_json(d, "decision")?,
                            llm: get_s(item, "llm")
                                .map(|u| from_json(u, "model usage"))
                                .transpose()?,
                        });
                    }
                }
                match page.last_evaluated_key {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
            day += 86_400;
        }
        Ok(out)
    }
}

/// The alert ledger on the same table.
#[derive(Clone, Debug)]
pub struct DynamoAlertLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention_days: u32,
}

impl DynamoAlertLedger {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        retention_days: u32,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            retention_days,
        }
    }

    fn key(alert_id: &str) -> (AttributeValue, AttributeValue) {
        (s(format!("ALERT#{alert_id}")), s("META"))
    }
}

#[async_trait]
impl AlertLedger for DynamoAlertLedger {
    async fn record(&self, alert: &Alert) -> Result<bool, PortError> {
        let (pk, sk) = Self::key(&alert.alert_id);
        let at = now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK, pk)
            .item(schema::SK, sk)
            .item("alert", s(json(alert)?))
            .item("state", s("pending"))
            .item("lease_until", n(0))
            .item("attempts", n(0))
            .item("created_at", n(at))
            .item(schema::TTL, n(at + i64::from(self.retention_days) * 86_400))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(port_error("dynamodb", err)),
        }
    }

    async fn claim(&self, alert_id: &str, lease_secs: u64) -> Result<Option<Claim>, PortError> {
        let (pk, sk) = Self::key(alert_id);
        let at = now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, pk.clone())
            .key(schema::SK, sk.clone())
            .update_expression("SET #state = :claimed, lease_until = :until ADD attempts :one")
            // A pending alert, or a claim whose lease ran out (the sender crashed).
            .condition_expression("attribute_exists(pk) AND #state <> :sent AND lease_until < :now")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":until", n(at + lease_secs as i64))
            .expression_attribute_values(":now", n(at))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let alert = from_json(
                    get_s(&item, "alert").ok_or_else(|| bad_item("alert item has no alert"))?,
                    "alert",
                )?;
                let delivered = item
                    .get("delivered")
                    .and_then(|v| v.as_l().ok())
                    .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
                    .unwrap_or_default();
                Ok(Some(Claim::Claimed {
                    alert: Box::new(alert),
                    delivered,
                }))
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let current = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key(schema::PK, pk)
                    .key(schema::SK, sk)
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| port_error("dynamodb", e))?;
                Ok(current.item.map(|item| {
                    if get_s(&item, "state") == Some("sent") {
                        Claim::AlreadySent
                    } else {
                        Claim::Busy
                    }
                }))
            }
            Err(err) => Err(port_error("dynamodb", err)),
        }
    }

    async fn mark_sent(&self, alert_id: &str, deliveries: &[Delivery]) -> Result<(), PortError> {
        let (pk, sk) = Self::key(alert_id);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, pk)
            .key(schema::SK, sk)
            .update_expression("SET #state = :sent, sent_at = :at, deliveries = :d")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":at", n(now()))
            .expression_attribute_values(":d", s(json(&deliveries)?))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }

    async fn release(&self, alert_id: &str, delivered: &[Delivery]) -> Result<(), PortError> {
        let (pk, sk) = Self::key(alert_id);
        let channels: Vec<AttributeValue> = delivered.iter().map(|d| s(&d.channel)).collect();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, pk)
            .key(schema::SK, sk)
            .update_expression(
                "SET #state = :pending, lease_until = :zero, \
                 delivered = list_append(if_not_exists(delivered, :none), :new)",
            )
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":new", AttributeValue::L(channels))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }
}

/// An SQS queue.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends `body` again, to be delivered after `seconds` (at most 15 minutes): how a
    /// throttled consumer hands a message back without using up its receive count.
    pub async fn send_delayed(&self, body: &str, seconds: u64) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(seconds.min(900) as i32)
            .send()
            .await
            .map_err(|e| port_error("sqs", e))?;
        Ok(())
    }

    /// Hides a received message for `seconds` (at most 12 hours): the hand-back when
    /// the delay is longer than a send can carry or the send failed.
    pub async fn delay(&self, receipt_handle: &str, seconds: u64) -> Result<(), PortError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds.min(43_200) as i32)
            .send()
            .await
            .map_err(|e| port_error("sqs", e))?;
        Ok(())
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: String) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| port_error("sqs", e))?;
        Ok(())
    }
}

/// A private S3 bucket: reports, and rendered e-mails when no mail provider is set up.
#[derive(Clone, Debug)]
pub struct S3Bucket {
    client: aws_sdk_s3::Client,
    bucket: String,
    from: String,
}

impl S3Bucket {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        from: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            from: from.into(),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, PortError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| port_error("s3", e))?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::Unavailable {
                service: "s3",
                message: e.to_string(),
            })?;
        Ok(body.into_bytes().to_vec())
    }
}

#[async_trait]
impl ReportSink for S3Bucket {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map_err(|e| port_error("s3", e))?;
        Ok(())
    }

    async fn link(&self, key: &str, expires_in_secs: u64) -> Result<String, PortError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(
            expires_in_secs,
        ))
        .map_err(|e| PortError::Rejected {
            service: "s3",
            message: e.to_string(),
        })?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| port_error("s3", e))?;
        Ok(request.uri().to_string())
    }
}

/// Writes each alert as `emails/<alert id>.eml` in the bucket (the stand-in for a mail
/// provider in AWS deployments without one).
#[async_trait]
impl Notifier for S3Bucket {
    fn channel(&self) -> &'static str {
        "s3"
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let email: Email = render_email(alert);
        let key = format!("emails/{}.eml", alert.alert_id);
        let body = crate::adapters::local::eml(&self.from, alert, &email);
        ReportSink::put(self, &key, body.into_bytes(), "message/rfc822").await?;
        Ok(Delivery {
            channel: self.channel().to_string(),
            reference: Some(format!("s3://{}/{key}", self.bucket)),
        })
    }
}

/// Stores the Zendesk calls a decision would make (`zendesk-calls/<ticket>.json`) when
/// no Zendesk credentials are configured.
#[derive(Clone, Debug)]
pub struct S3ZendeskRecorder(pub S3Bucket);

#[async_trait]
impl ZendeskPort for S3ZendeskRecorder {
    async fn apply(&self, calls: &[ZendeskCall], _replay: bool) -> Result<(), PortError> {
        let Some(first) = calls.first() else {
            return Ok(());
        };
        let ticket: String = first
            .path
            .trim_start_matches("/api/v2/tickets/")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let body = serde_json::to_vec_pretty(calls).map_err(|e| bad_item(e.to_string()))?;
        self.0
            .put(
                &format!("zendesk-calls/{ticket}.json"),
                body,
                "application/json",
            )
            .await
    }

    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError> {
        Err(PortError::Rejected {
            service: "zendesk recorder",
            message: format!("ticket {number} cannot be fetched without Zendesk credentials"),
        })
    }
}

/// E-mail through Amazon SES v2 (the alternative to SendGrid for AWS deployments).
#[derive(Clone, Debug)]
pub struct SesNotifier {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesNotifier {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

#[async_trait]
impl Notifier for SesNotifier {
    fn channel(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let email = render_email(alert);
        let content = |text: String| {
            Content::builder()
                .data(text)
                .charset("UTF-8")
                .build()
                .map_err(|e| bad_item(e.to_string()))
        };
        let message = Message::builder()
            .subject(content(email.subject)?)
            .body(
                Body::builder()
                    .text(content(email.text)?)
                    .html(content(email.html)?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(alert.recipients.clone()))
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| port_error("ses", e))?;
        Ok(Delivery {
            channel: self.channel().to_string(),
            reference: out.message_id,
        })
    }
}
