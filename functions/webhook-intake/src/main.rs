//! `webhook-intake`: configuration and clients once, then the handler for every request.

use lambda_http::{Error, run, service_fn};
use triage_shared::adapters::aws::{AwsClients, DynamoTicketStore, SqsQueue};
use webhook_intake::{Config, Deps, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = AwsClients::load().await;
    let store = DynamoTicketStore::new(
        aws.dynamodb.clone(),
        &config.table,
        config.retention_days,
        90,
    );
    let queue = SqsQueue::new(aws.sqs.clone(), &config.triage_queue_url);
    let deps = Deps {
        store: &store,
        queue: &queue,
        secret: &config.secret,
        tolerance_secs: config.tolerance_secs,
        max_body_bytes: config.max_body_bytes,
    };
    run(service_fn(|request| handle(&deps, request))).await
}
