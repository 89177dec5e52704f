//! E-mail through Amazon SES v2.

use async_trait::async_trait;

use super::{bad_item, port_error};
use crate::alerts::{Alert, render_email};
use crate::ports::{Delivery, Notifier, PortError};

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
