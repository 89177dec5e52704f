//! `triage` function: engine, configuration and clients once, then the handler per batch.

use lambda_runtime::{Error, run, service_fn};
use triage_function::{Deps, handle};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::aws::{
    AwsClients, DynamoAlertLedger, DynamoIncidentStore, DynamoTicketStore, S3Bucket,
    S3ZendeskRecorder, SqsQueue,
};
use triage_shared::adapters::http::anthropic::{AnthropicClassifier, AnthropicConfig};
use triage_shared::adapters::http::zendesk::{HttpZendesk, ZendeskConfig};
use triage_shared::engine::Engine;
use triage_shared::fanout::QueuedAlertSink;
use triage_shared::llm::{self, LlmAdvisor, LlmMode};
use triage_shared::pipeline::PipelineSettings;
use triage_shared::ports::ZendeskPort;
use triage_shared::settings::{FunctionConfig, process_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    let engine = Engine::embedded()?;
    let shared = FunctionConfig::read(&env, &engine.policy)?;
    let settings = PipelineSettings::from_env(&env)?;
    let accounts = AccountDirectory::embedded()?;
    let aws = AwsClients::load().await;
    let store = DynamoTicketStore::from_config(aws.dynamodb.clone(), &shared);
    let ledger = DynamoAlertLedger::from_config(aws.dynamodb.clone(), &shared);
    let incidents = DynamoIncidentStore::from_config(aws.dynamodb.clone(), &shared);
    let alerts_queue = SqsQueue::new(aws.sqs.clone(), shared.alerts_queue_url()?);
    let source = SqsQueue::new(aws.sqs.clone(), shared.triage_queue_url()?);
    // With Zendesk credentials the decision is applied; without, the calls are stored
    // in the bucket (zendesk-calls/) as they would have been sent. A 429 is handed
    // back to SQS (no waiting inside Lambda).
    let zendesk: Box<dyn ZendeskPort> = match ZendeskConfig::from_env(&env)? {
        Some(c) => Box::new(HttpZendesk::new(c)),
        None => Box::new(S3ZendeskRecorder(S3Bucket::new(
            aws.s3.clone(),
            shared.bucket()?,
        ))),
    };
    let mode = LlmMode::from_env(&env)?;
    let classifier = match mode {
        LlmMode::Off => None,
        _ => AnthropicConfig::from_env(&env)?.map(AnthropicClassifier::new),
    };
    let advisor = classifier.as_ref().map(|c| LlmAdvisor {
        classifier: c,
        mode,
        system: llm::system_prompt(&engine),
    });
    let alerts = QueuedAlertSink {
        ledger: &ledger,
        queue: &alerts_queue,
    };
    let deps = Deps {
        engine: &engine,
        accounts: &accounts,
        settings: &settings,
        store: &store,
        incidents: &incidents,
        zendesk: zendesk.as_ref(),
        alerts: &alerts,
        source: &source,
        llm: advisor.as_ref(),
        batch_budget: shared.batch_budget,
    };
    run(service_fn(|event| handle(&deps, event))).await
}
