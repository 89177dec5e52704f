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
//! - `pk=INCIDENT_TEAM#<team>, sk=CLAIM`: the incident that holds its team's claim and
//!   until when. Written in one transaction with the incident it names, on condition
//!   that no other claim still runs, so that two deliveries declaring one failure under
//!   different names open one incident; the other joins it.
//!
//! Per eligible ticket: one put and one query for the sightings, one index query per
//! day for the open incidents, and a get and a put when it joins one.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{
    bad_item, day_of, days, from_json, get_n, get_s, json, n, now, port_error,
    put_condition_failed, query_all, s, schema, transaction_condition_failed,
};
use crate::incident::{Incident, Sighting};
use crate::ports::{IncidentStore, Opening, PortError, StoredIncident};
use crate::settings::FunctionConfig;

/// Sightings outlive any window the policy allows (a day) with a margin.
const SIGHTING_TTL_SECS: i64 = 2 * 86_400;

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

    fn incident_item(
        &self,
        incident: &Incident,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, PortError> {
        Ok(HashMap::from([
            (
                schema::PK.to_string(),
                s(format!("INCIDENT#{}", incident.id)),
            ),
            (schema::SK.to_string(), s("META")),
            ("incident".to_string(), s(json(incident)?)),
            ("version".to_string(), n(version)),
            (
                schema::GSI_DAY_PK.to_string(),
                s(format!("INCIDENTS#{}", day_of(incident.first_at))),
            ),
            (
                schema::GSI_DAY_SK.to_string(),
                s(format!("{:010}#{}", incident.first_at, incident.id)),
            ),
            (
                schema::TTL.to_string(),
                n(now().max(incident.last_at) + i64::from(self.retention_days) * 86_400),
            ),
        ]))
    }

    fn claim_key(incident: &Incident) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                schema::PK.to_string(),
                s(format!("INCIDENT_TEAM#{}", incident.team)),
            ),
            (schema::SK.to_string(), s("CLAIM")),
        ])
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

    async fn open(&self, incident: &Incident, claim_until: i64) -> Result<Opening, PortError> {
        let bad = |e: aws_sdk_dynamodb::error::BuildError| bad_item(e.to_string());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.incident_item(incident, 1)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(bad)?;
        let mut claim = Self::claim_key(incident);
        claim.insert("incident_id".into(), s(&incident.id));
        claim.insert("claim_until".into(), n(claim_until));
        claim.insert(
            schema::TTL.into(),
            n(now().max(claim_until) + SIGHTING_TTL_SECS),
        );
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(claim))
            .condition_expression(
                "attribute_not_exists(pk) OR claim_until < :at OR incident_id = :id",
            )
            .expression_attribute_values(":at", n(incident.declared_at))
            .expression_attribute_values(":id", s(&incident.id))
            .build()
            .map_err(bad)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Opening::Opened),
            Err(e) if transaction_condition_failed(&e) => {}
            Err(e) => return Err(port_error("dynamodb", e)),
        }
        // Which condition failed: the incident exists, or another one holds the claim.
        if self.incident(&incident.id).await?.is_some() {
            return Ok(Opening::Exists);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(incident)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("dynamodb", e))?;
        match out.item.as_ref().and_then(|i| get_s(i, "incident_id")) {
            Some(other) if other != incident.id => Ok(Opening::Claimed(other.to_string())),
            // The claim ended or changed in between: the delivery comes again.
            _ => Err(PortError::Unavailable {
                service: "dynamodb",
                message: format!("the claim on {} changed while it was read", incident.team),
            }),
        }
    }

    async fn replace(&self, incident: &Incident, version: u64) -> Result<bool, PortError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.incident_item(incident, version + 1)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if put_condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error("dynamodb", e)),
        }
    }
}
