//! Adapters behind the ports: local ones (memory and files), HTTP ones (Zendesk,
//! SendGrid, Slack, Anthropic) and, with the `aws` feature, DynamoDB, SQS (with the
//! batch handling the queue consumers share), S3 and SES. One file per service.

#[cfg(feature = "aws")]
pub mod aws;
pub mod channels;
pub mod http;
pub mod local;
