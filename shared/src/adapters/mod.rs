//! Adapters behind the ports: local ones (memory and files), HTTP ones (Zendesk,
//! SendGrid, Slack, Anthropic) and, with the `aws` feature, DynamoDB, SQS, S3 and SES,
//! and the SQS batch handling that the queue consumers share.

#[cfg(feature = "aws")]
pub mod aws;
pub mod http;
pub mod local;
#[cfg(feature = "aws")]
pub mod sqs_batch;
