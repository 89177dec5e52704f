//! The private S3 bucket: reports and their presigned links ([`S3Bucket`], the report
//! sink), rendered alert e-mails when no mail provider is set up ([`S3EmailArchive`],
//! a notifier), and the Zendesk calls a decision would make when Zendesk is not
//! configured ([`S3ZendeskRecorder`]).

use std::time::Duration;

use async_trait::async_trait;
use sha2::Digest;

use super::{bad_item, port_error};
use crate::alerts::{Alert, eml, render_email};
use crate::domain::Ticket;
use crate::ports::{Delivery, Notifier, PortError, ReportSink, ZendeskPort};
use crate::zendesk::ZendeskCall;

/// The private S3 bucket.
#[derive(Clone, Debug)]
pub struct S3Bucket {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Bucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
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
#[derive(Clone, Debug)]
pub struct S3EmailArchive {
    pub bucket: S3Bucket,
    /// The sender the e-mails name.
    pub from: String,
}

#[async_trait]
impl Notifier for S3EmailArchive {
    fn channel(&self) -> &'static str {
        "s3"
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let key = format!("emails/{}.eml", alert.alert_id);
        let body = eml(&self.from, alert, &render_email(alert));
        self.bucket
            .put(&key, body.into_bytes(), "message/rfc822")
            .await?;
        Ok(Delivery {
            channel: self.channel().to_string(),
            reference: Some(format!("s3://{}/{key}", self.bucket.bucket)),
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

    /// Stores the ticket that would be created (`zendesk-calls/create-<external
    /// id>.json`) and answers with a stand-in number derived from the external id.
    async fn create_ticket(
        &self,
        external_id: &str,
        body: &serde_json::Value,
    ) -> Result<u64, PortError> {
        let call = ZendeskCall {
            method: "POST".into(),
            path: "/api/v2/tickets.json".into(),
            body: body.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&[call]).map_err(|e| bad_item(e.to_string()))?;
        self.0
            .put(
                &format!("zendesk-calls/create-{external_id}.json"),
                bytes,
                "application/json",
            )
            .await?;
        let digest = sha2::Sha256::digest(external_id.as_bytes());
        let low = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
        Ok(900_000_000 + low % 99_999_999)
    }

    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError> {
        Err(PortError::Rejected {
            service: "zendesk recorder",
            message: format!("ticket {number} cannot be fetched without Zendesk credentials"),
        })
    }
}
