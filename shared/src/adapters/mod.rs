//! Adapters behind the ports: local ones (memory and files) and, with the `aws`
//! feature, DynamoDB, SQS and S3.

#[cfg(feature = "aws")]
pub mod aws;
pub mod local;
