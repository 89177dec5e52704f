//! `triage` function: engine, configuration and clients once, then the handler per batch.

use lambda_runtime::{Error, run, service_fn};
use triage_function::{Config, Deps, handle};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::aws::{
    AwsClients, DynamoAlertLedger, DynamoTicketStore, S3Bucket, S3ZendeskRecorder, SqsQueue,
};
use triage_shared::engine::Engine;
use triage_shared::fanout::QueuedAlertSink;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let engine = Engine::embedded()?;
    let accounts = AccountDirectory::embedded()?;
    let aws = AwsClients::load().await;
    let history_days = engine.policy.guardian.history.window_days;
    let store = DynamoTicketStore::new(
        aws.dynamodb.clone(),
        &config.table,
        config.retention_days,
        history_days,
    );
    let ledger = DynamoAlertLedger::new(aws.dynamodb.clone(), &config.table, config.retention_days);
    let alerts_queue = SqsQueue::new(aws.sqs.clone(), &config.alerts_queue_url);
    let source = SqsQueue::new(aws.sqs.clone(), &config.triage_queue_url);
    let zendesk = S3ZendeskRecorder(S3Bucket::new(
        aws.s3.clone(),
        &config.bucket,
        &config.alert_from,
    ));
    let alerts = QueuedAlertSink {
        ledger: &ledger,
        queue: &alerts_queue,
    };
    let deps = Deps {
        engine: &engine,
        accounts: &accounts,
        settings: &config.pipeline,
        store: &store,
        zendesk: &zendesk,
        alerts: &alerts,
        source: &source,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
