//! `report-builder` function: configuration and clients once, then the handler.

use lambda_runtime::{Error, run, service_fn};
use report_builder::{Config, Deps, handle};
use triage_shared::adapters::aws::{AwsClients, DynamoTicketStore, S3Bucket};
use triage_shared::policy::Policy;
use triage_shared::settings::{FunctionConfig, process_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    let policy = Policy::default_policy();
    let shared = FunctionConfig::read(&env, &policy)?;
    let config = Config::read(&env)?;
    let aws = AwsClients::load().await;
    let store = DynamoTicketStore::from_config(aws.dynamodb.clone(), &shared);
    let sink = S3Bucket::new(aws.s3.clone(), shared.bucket()?);
    let deps = Deps {
        store: &store,
        sink: &sink,
        policy: &policy,
        window_days: config.window_days,
        link_expiry_secs: config.link_expiry_secs,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
