//! An SQS queue: sending, and handing a message back with a delay.

use async_trait::async_trait;

use super::port_error;
use crate::ports::{PortError, Queue};

/// The message attribute naming the delivery a re-sent message continues.
pub const DELIVERY_ATTRIBUTE: &str = "triage-delivery";

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
    /// The new message names the delivery it continues (the message attribute
    /// [`DELIVERY_ATTRIBUTE`]), so that it keeps that delivery's claims.
    pub async fn send_delayed(
        &self,
        body: &str,
        seconds: u64,
        delivery: &str,
    ) -> Result<(), PortError> {
        let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(delivery)
            .build()
            .map_err(|e| PortError::Rejected {
                service: "sqs",
                message: e.to_string(),
            })?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(seconds.min(900) as i32)
            .message_attributes(DELIVERY_ATTRIBUTE, attribute)
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
