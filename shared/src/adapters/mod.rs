//! Adapters behind the ports: local ones (memory and files), HTTP ones (Zendesk,
//! SendGrid, Slack, Anthropic) and, with the `aws` feature, DynamoDB, SQS, S3 and SES.

#[cfg(feature = "aws")]
pub mod aws;
pub mod http;
pub mod local;
