//! The ticket store on DynamoDB: received tickets, decisions written once, customer
//! history (index `by_customer`), reports' windows (index `by_day`) and agent load.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{
    bad_item, day_of, days, from_json, get_bool, get_n, get_s, json, n, now, port_error,
    put_condition_failed, query_all, s, schema, ticket_pk, transaction_condition_failed,
};
use crate::domain::{AccountContext, Decision, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::followup::{Change, FollowUp};
use crate::ports::{
    Decided, LlmUsage, PortError, Receipt, StoredDecision, StoredTicket, TicketClaim, TicketStore,
};
use crate::settings::FunctionConfig;
use crate::sla::Progress;

/// Whether an update was refused by its condition (an expected answer, not a failure).
fn condition_failed<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
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

    /// The store of a Lambda function, from the shared settings.
    pub fn from_config(client: aws_sdk_dynamodb::Client, config: &FunctionConfig) -> Self {
        Self::new(
            client,
            &config.table,
            config.retention_days,
            config.history_days,
        )
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

    /// The JSON attribute `field` of the ticket's items whose sort key starts with
    /// `prefix`, in key order; a `change` also takes the item's `applied` flag.
    async fn under<T: serde::de::DeserializeOwned + 'static>(
        &self,
        id: &TicketId,
        prefix: &str,
        field: &str,
    ) -> Result<Vec<T>, PortError> {
        let items = query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p AND begins_with(sk, :prefix)")
                .expression_attribute_values(":p", s(ticket_pk(id)))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true),
        )
        .await?;
        let mut out = Vec::new();
        for item in &items {
            if let Some(text) = get_s(item, field) {
                let mut value: serde_json::Value = from_json(text, field)?;
                if field == "change" && get_bool(item, "applied") {
                    value["applied"] = serde_json::Value::Bool(true);
                }
                out.push(serde_json::from_value(value).map_err(|e| bad_item(e.to_string()))?);
            }
        }
        Ok(out)
    }

    /// Sets a decided ticket's stage flag (`noted`, `completed`).
    async fn set_stage(&self, id: &TicketId, flag: &str) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .update_expression("SET #flag = :yes")
            .condition_expression("attribute_exists(decision)")
            .expression_attribute_names("#flag", flag)
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
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
        if !transaction_condition_failed(&err) {
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
            noted: get_bool(&item, "noted"),
            completed: get_bool(&item, "completed"),
            revision: get_n(&item, "revision").unwrap_or(0) as u32,
        }))
    }

    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError> {
        let received = match self.meta(&ticket.id).await? {
            Some(item) => get_n(&item, "received_at").unwrap_or_else(now),
            None => now(),
        };
        let from = received - i64::from(self.history_days) * 86_400;
        let items = query_all(
            self.client
                .query()
                .table_name(&self.table)
                .index_name(schema::GSI_CUSTOMER)
                .key_condition_expression("gsi1pk = :c AND gsi1sk BETWEEN :from AND :to")
                .expression_attribute_values(":c", s(format!("CUSTOMER#{}", ticket.customer_key())))
                .expression_attribute_values(":from", s(format!("{from:010}")))
                // Strictly before this ticket: same second sorts by id.
                .expression_attribute_values(":to", s(format!("{received:010}#{}", ticket.id))),
        )
        .await?;
        let mut context = AccountContext::default();
        for item in &items {
            if get_s(item, schema::PK) == Some(ticket_pk(&ticket.id).as_str()) {
                continue;
            }
            context.prior_tickets += 1;
            context.prior_negative += u32::from(get_bool(item, "negative"));
            context.prior_alerts += u32::from(get_bool(item, "alerted"));
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
        let negative = decision.sentiment.label.is_negative();
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
            Err(err) if condition_failed(&err) => {
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

    async fn claim(
        &self,
        id: &TicketId,
        owner: &str,
        lease_secs: u64,
    ) -> Result<TicketClaim, PortError> {
        let at = now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .update_expression("SET claim_owner = :o, claim_until = :until")
            .condition_expression(
                "(attribute_not_exists(completed) OR completed = :no) AND \
                 (attribute_not_exists(claim_until) OR claim_until < :now OR claim_owner = :o)",
            )
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":until", n(at + lease_secs as i64))
            .expression_attribute_values(":now", n(at))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(TicketClaim::Claimed),
            Err(err) if condition_failed(&err) => {
                // Finished, or held by another delivery: the item says which.
                let item = self.meta(id).await?.unwrap_or_default();
                Ok(if get_bool(&item, "completed") {
                    TicketClaim::Done
                } else {
                    TicketClaim::Busy {
                        until: get_n(&item, "claim_until").unwrap_or(at + lease_secs as i64),
                    }
                })
            }
            Err(err) => Err(port_error("dynamodb", err)),
        }
    }

    async fn release_claim(&self, id: &TicketId, owner: &str) -> Result<(), PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .update_expression("REMOVE claim_owner, claim_until")
            .condition_expression("claim_owner = :o")
            .expression_attribute_values(":o", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else's claim by now: not ours to release.
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(port_error("dynamodb", err)),
        }
    }

    async fn mark_noted(&self, id: &TicketId) -> Result<(), PortError> {
        self.set_stage(id, "noted").await
    }

    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError> {
        self.set_stage(id, "completed").await
    }

    async fn decisions_since(&self, since: i64) -> Result<Vec<Decided>, PortError> {
        let mut out = Vec::new();
        let end = now();
        for day in days(since, end) {
            let items = query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(schema::GSI_DAY)
                    .key_condition_expression("gsi2pk = :d AND gsi2sk >= :from")
                    .expression_attribute_values(":d", s(format!("DAY#{}", day_of(day))))
                    .expression_attribute_values(":from", s(format!("{since:010}"))),
            )
            .await?;
            for item in &items {
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
                        progress: Progress {
                            answered_at: get_n(item, "answered_at"),
                            solved_at: get_n(item, "solved_at"),
                        },
                    });
                }
            }
        }
        Ok(out)
    }

    async fn record_progress(&self, id: &TicketId, progress: &Progress) -> Result<bool, PortError> {
        let mut sets = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .condition_expression("attribute_exists(pk)");
        for (name, at) in [
            ("answered_at", progress.answered_at),
            ("solved_at", progress.solved_at),
        ] {
            if let Some(at) = at {
                sets.push(format!("{name} = if_not_exists({name}, :{name})"));
                update = update.expression_attribute_values(format!(":{name}"), n(at));
            }
        }
        if sets.is_empty() {
            return Ok(self.meta(id).await?.is_some());
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error("dynamodb", e)),
        }
    }

    async fn receive_comment(
        &self,
        id: &TicketId,
        comment: &FollowUp,
        invocation_id: &str,
    ) -> Result<Receipt, PortError> {
        if self.meta(id).await?.is_none() {
            return Ok(Receipt::UnknownTicket);
        }
        let pk = ticket_pk(id);
        let at = now();
        // The comment first (writing it again is harmless), then the delivery.
        self.client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK, s(&pk))
            .item(
                schema::SK,
                s(format!("COMMENT#{:010}#{}", comment.at, comment.comment_id)),
            )
            .item("comment", s(json(comment)?))
            .item(schema::TTL, self.expires(at))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        let event = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK, s(&pk))
            .item(schema::SK, s(format!("EVENT#{invocation_id}")))
            .item("received_at", n(at))
            .item("enqueued", AttributeValue::Bool(false))
            .item(schema::TTL, self.expires(at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match event {
            Ok(_) => Ok(Receipt::New),
            Err(e) if put_condition_failed(&e) => {
                let seen = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key(schema::PK, s(&pk))
                    .key(schema::SK, s(format!("EVENT#{invocation_id}")))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| port_error("dynamodb", e))?;
                Ok(match seen.item {
                    Some(item) if !get_bool(&item, "enqueued") => Receipt::NotYetQueued,
                    _ => Receipt::Duplicate,
                })
            }
            Err(e) => Err(port_error("dynamodb", e)),
        }
    }

    async fn comments(&self, id: &TicketId) -> Result<Vec<FollowUp>, PortError> {
        self.under(id, "COMMENT#", "comment").await
    }

    async fn revise(
        &self,
        id: &TicketId,
        decision: &Decision,
        change: &Change,
    ) -> Result<bool, PortError> {
        let previous = change.revision.saturating_sub(1);
        let meta = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s("META"))
            .update_expression("SET decision = :d, revision = :r, alerted = :al")
            .condition_expression(if previous == 0 {
                "attribute_exists(decision) AND (attribute_not_exists(revision) OR revision = :prev)"
            } else {
                "attribute_exists(decision) AND revision = :prev"
            })
            .expression_attribute_values(":d", s(json(decision)?))
            .expression_attribute_values(":r", n(change.revision))
            .expression_attribute_values(":prev", n(previous))
            .expression_attribute_values(":al", AttributeValue::Bool(decision.guardian.alert))
            .build()
            .map_err(|e| bad_item(e.to_string()))?;
        let log = Put::builder()
            .table_name(&self.table)
            .item(schema::PK, s(ticket_pk(id)))
            .item(schema::SK, s(format!("CHANGE#{:06}", change.revision)))
            .item("change", s(json(change)?))
            .item("applied", AttributeValue::Bool(change.applied))
            .item(schema::TTL, self.expires(now()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| bad_item(e.to_string()))?;
        match self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(meta).build())
            .transact_items(TransactWriteItem::builder().put(log).build())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(_)) => Ok(false),
                _ => Err(port_error("dynamodb", err)),
            },
        }
    }

    async fn changes(&self, id: &TicketId) -> Result<Vec<Change>, PortError> {
        self.under(id, "CHANGE#", "change").await
    }

    async fn mark_change_applied(&self, id: &TicketId, revision: u32) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(schema::PK, s(ticket_pk(id)))
            .key(schema::SK, s(format!("CHANGE#{revision:06}")))
            .update_expression("SET applied = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }
}
