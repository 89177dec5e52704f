//! `webhook-intake`: configuration and clients once, then the handler for every request.

use lambda_http::{Error, run, service_fn};
use triage_shared::adapters::aws::{AwsClients, DynamoTicketStore, SqsQueue};
use triage_shared::policy::Policy;
use triage_shared::settings::{FunctionConfig, process_env};
use webhook_intake::{Config, Deps, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let shared = FunctionConfig::read(&env, &Policy::default_policy())?;
    let config = Config::read(&env)?;
    let aws = AwsClients::load().await;
    let store = DynamoTicketStore::from_config(aws.dynamodb.clone(), &shared);
    let queue = SqsQueue::new(aws.sqs.clone(), shared.triage_queue_url()?);
    let deps = Deps {
        store: &store,
        queue: &queue,
        secret: &config.secret,
        tolerance_secs: config.tolerance_secs,
        max_body_bytes: config.max_body_bytes,
    };
    run(service_fn(|request| handle(&deps, request))).await
}
