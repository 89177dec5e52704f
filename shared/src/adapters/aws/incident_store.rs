//! Sightings and incidents on the ticket table.
//!
//! - `pk=SIGHTINGS#<yyyy-mm-dd>, sk=<written epoch>#<ticket id>`: a decided ticket's
//!   sighting (kept two days); the look-up reads its window with one strongly
//!   consistent query (two across midnight).
//! - `pk=INCIDENT#<id>, sk=META`: the incident (JSON) and its version; opened with a
//!   conditional put (`attribute_not_exists`), so that of two deliveries declaring the
//!   same incident one opens it and the other joins; changed with a put conditional
//!   on the version. Listed through the `by_day` index (`gsi2pk=INCIDENTS#<day of its
//!   first member>`).
//!
//! Per eligible ticket: one put and one query for the sightings, one index query per
//! day for the open incidents, and a get and a put when it joins one.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    day_of, days, from_json, get_n, get_s, json, n, now, port_error, query_all, s, schema,
};
use crate::incident::{Incident, Sighting};
use crate::ports::{IncidentStore, PortError, StoredIncident};
use crate::settings::FunctionConfig;

/// Sightings outlive any window the policy allows (a day) with a margin.
const SIGHTING_TTL_SECS: i64 = 2 * 86_400;

fn condition_failed<R>(err: &SdkError<PutItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(PutItemError::is_conditional_check_failed_exception)
}

/// Sightings and incidents on DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoIncidentStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention_days: u32,
}

impl DynamoIncidentStore {
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

    /// The store of a Lambda function, from the shared settings.
    pub fn from_config(client: aws_sdk_dynamodb::Client, config: &FunctionConfig) -> Self {
        Self::new(client, &config.table, config.retention_days)
    }

    fn put_incident(
        &self,
        incident: &Incident,
        version: u64,
    ) -> Result<aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder, PortError>
    {
        Ok(self
            .client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK, s(format!("INCIDENT#{}", incident.id)))
            .item(schema::SK, s("META"))
            .item("incident", s(json(incident)?))
            .item("version", n(version))
            .item(
                schema::GSI_DAY_PK,
                s(format!("INCIDENTS#{}", day_of(incident.first_at))),
            )
            .item(
                schema::GSI_DAY_SK,
                s(format!("{:010}#{}", incident.first_at, incident.id)),
            )
            .item(
                schema::TTL,
                n(now().max(incident.last_at) + i64::from(self.retention_days) * 86_400),
            ))
    }

    fn stored(item: &HashMap<String, AttributeValue>) -> Result<Option<StoredIncident>, PortError> {
        let (Some(text), Some(version)) = (get_s(item, "incident"), get_n(item, "version")) else {
            return Ok(None);
        };
        Ok(Some(StoredIncident {
            incident: from_json(text, "incident")?,
            version: version as u64,
        }))
    }
}

#[async_trait]
impl IncidentStore for DynamoIncidentStore {
    async fn record(&self, sighting: &Sighting) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(schema::PK, s(format!("SIGHTINGS#{}", day_of(sighting.at))))
            .item(
                schema::SK,
                s(format!("{:010}#{}", sighting.at, sighting.ticket_id)),
            )
            .item("sighting", s(json(sighting)?))
            .item(schema::TTL, n(now().max(sighting.at) + SIGHTING_TTL_SECS))
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        Ok(())
    }

    async fn sightings(&self, since: i64, until: i64) -> Result<Vec<Sighting>, PortError> {
        let mut out = Vec::new();
        for day in days(since, until) {
            let items = query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :p AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":p", s(format!("SIGHTINGS#{}", day_of(day))))
                    .expression_attribute_values(":from", s(format!("{since:010}")))
                    .expression_attribute_values(":to", s(format!("{until:010}~")))
                    .consistent_read(true),
            )
            .await?;
            for item in &items {
                if let Some(text) = get_s(item, "sighting") {
                    out.push(from_json(text, "sighting")?);
                }
            }
        }
        Ok(out)
    }

    async fn incidents(&self, since: i64) -> Result<Vec<StoredIncident>, PortError> {
        let mut out = Vec::new();
        let from = since - 86_400;
        for day in days(from, now().max(since)) {
            let items = query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(schema::GSI_DAY)
                    .key_condition_expression("gsi2pk = :d")
                    .expression_attribute_values(":d", s(format!("INCIDENTS#{}", day_of(day)))),
            )
            .await?;
            for item in &items {
                if let Some(stored) = Self::stored(item)?
                    && stored.incident.last_at >= since
                    && stored.incident.first_at >= from
                {
                    out.push(stored);
                }
            }
        }
        Ok(out)
    }

    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(schema::PK, s(format!("INCIDENT#{id}")))
            .key(schema::SK, s("META"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        match out.item {
            Some(item) => Self::stored(&item),
            None => Ok(None),
        }
    }

    async fn open(&self, incident: &Incident) -> Result<bool, PortError> {
        match self
            .put_incident(incident, 1)?
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error("dynamodb", e)),
        }
    }

    async fn replace(&self, incident: &Incident, version: u64) -> Result<bool, PortError> {
        match self
            .put_incident(incident, version + 1)?
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error("dynamodb", e)),
        }
    }
}
