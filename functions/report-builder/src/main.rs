//! `report-builder` function: configuration and clients once, then the handler.

use lambda_runtime::{Error, run, service_fn};
use report_builder::Warnings;
use report_builder::{Config, Deps, handle};
use triage_shared::adapters::aws::{
    AwsClients, DynamoAlertLedger, DynamoIncidentStore, DynamoTicketStore, S3Bucket, SqsQueue,
};
use triage_shared::engine::agents::AgentDirectory;
use triage_shared::pipeline::PipelineSettings;
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
    let incidents = DynamoIncidentStore::from_config(aws.dynamodb.clone(), &shared);
    let ledger = DynamoAlertLedger::from_config(aws.dynamodb.clone(), &shared);
    let alerts_queue = SqsQueue::new(aws.sqs.clone(), shared.alerts_queue_url()?);
    let agents = AgentDirectory::embedded()?;
    let settings = PipelineSettings::from_env(&env)?;
    let deps = Deps {
        store: &store,
        sink: &sink,
        policy: &policy,
        window_days: config.window_days,
        link_expiry_secs: config.link_expiry_secs,
        incidents: &incidents,
        warnings: Warnings {
            ledger: &ledger,
            queue: &alerts_queue,
            agents: &agents,
            routing: &settings.routing,
        },
    };
    run(service_fn(|event| handle(&deps, event))).await
}
