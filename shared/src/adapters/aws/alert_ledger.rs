//! The alert ledger on the same DynamoDB table: each alert once, claimed with a lease,
//! marked sent with the channels that took it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{bad_item, from_json, get_s, json, n, now, port_error, s, schema};
use crate::alerts::Alert;
use crate::ports::{AlertLedger, Claim, Delivery, PortError};
use crate::settings::FunctionConfig;

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

    /// The ledger of a Lambda function, from the shared settings.
    pub fn from_config(client: aws_sdk_dynamodb::Client, config: &FunctionConfig) -> Self {
        Self::new(client, &config.table, config.retention_days)
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
