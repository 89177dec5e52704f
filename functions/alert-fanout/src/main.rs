//! `alert-fanout` function: configuration, clients and notifiers once, then the handler.

use alert_fanout::{Config, Deps, handle};
use lambda_runtime::{Error, run, service_fn};
use triage_shared::adapters::aws::{
    AwsClients, DynamoAlertLedger, S3Bucket, S3EmailArchive, SesNotifier, SqsQueue,
};
use triage_shared::adapters::channels::{EmailProvider, alert_channels};
use triage_shared::adapters::http::sendgrid::SendGridNotifier;
use triage_shared::adapters::http::slack::SlackNotifier;
use triage_shared::policy::Policy;
use triage_shared::ports::Notifier;
use triage_shared::settings::{FunctionConfig, process_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    let shared = FunctionConfig::read(&env, &Policy::default_policy())?;
    let config = Config::read(&env)?;
    let channels = alert_channels(&env)?;
    let aws = AwsClients::load().await;
    let ledger = DynamoAlertLedger::from_config(aws.dynamodb.clone(), &shared);
    let source = SqsQueue::new(aws.sqs.clone(), shared.alerts_queue_url()?);
    let mut notifiers: Vec<Box<dyn Notifier>> = Vec::new();
    match channels.email {
        Some(EmailProvider::SendGrid(c)) => notifiers.push(Box::new(SendGridNotifier::new(c))),
        Some(EmailProvider::Ses { from }) => {
            notifiers.push(Box::new(SesNotifier::new(aws.ses.clone(), from)))
        }
        // Without a mail provider, rendered e-mails go to the bucket under emails/.
        None => notifiers.push(Box::new(S3EmailArchive {
            bucket: S3Bucket::new(aws.s3.clone(), shared.bucket()?),
            from: shared.alert_from.clone(),
        })),
    }
    if let Some(url) = channels.slack_webhook_url {
        notifiers.push(Box::new(SlackNotifier::new(url)));
    }
    let deps = Deps {
        ledger: &ledger,
        notifiers: &notifiers,
        lease_secs: config.lease_secs,
        source: &source,
        batch_budget: shared.batch_budget,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
