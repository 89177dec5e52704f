//! `alert-fanout` function: configuration, clients and notifiers once, then the handler.

use alert_fanout::{Config, Deps, handle};
use lambda_runtime::{Error, run, service_fn};
use triage_shared::adapters::aws::{AwsClients, DynamoAlertLedger, S3Bucket, SqsQueue};
use triage_shared::ports::Notifier;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let aws = AwsClients::load().await;
    let ledger = DynamoAlertLedger::new(aws.dynamodb.clone(), &config.table, config.retention_days);
    let source = SqsQueue::new(aws.sqs.clone(), &config.alerts_queue_url);
    // Without a mail or chat provider, rendered e-mails go to the bucket under emails/.
    let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(S3Bucket::new(
        aws.s3.clone(),
        &config.bucket,
        &config.alert_from,
    ))];
    let deps = Deps {
        ledger: &ledger,
        notifiers: &notifiers,
        lease_secs: config.lease_secs,
        source: &source,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
