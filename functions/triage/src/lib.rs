//! The triage consumer: for each SQS record, load the stored ticket (completing it from
//! Zendesk when the webhook carried only ids), run the pipeline (decide once, store,
//! update Zendesk, queue alerts; or, for a follow-up comment, revise the decision) and
//! report partial batch failures.
//!
//! Retry policy (see `sqs_batch`): a message that cannot be read, points at no stored
//! ticket, or whose update Zendesk refuses is poison and ends in the dead-letter queue;
//! a Zendesk 429 hands the message back with the delay Zendesk asked for; other
//! failures are retried.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::aws::SqsQueue;
use triage_shared::adapters::aws::sqs_batch::{
    Failure, delivery_of, process_batch, time_for_records,
};
use triage_shared::engine::Engine;
use triage_shared::llm::LlmAdvisor;
use triage_shared::messages::TriageMessage;
use triage_shared::pipeline::{Pipeline, PipelineError, PipelineSettings};
use triage_shared::ports::{AlertSink, IncidentStore, PortError, TicketStore, ZendeskPort};

/// What the handler needs, built once in `main`.
pub struct Deps<'a> {
    pub engine: &'a Engine,
    pub accounts: &'a AccountDirectory,
    pub settings: &'a PipelineSettings,
    pub store: &'a dyn TicketStore,
    /// Sightings and incidents across accounts.
    pub incidents: &'a dyn IncidentStore,
    pub zendesk: &'a dyn ZendeskPort,
    pub alerts: &'a dyn AlertSink,
    /// The queue the records came from (to hand a throttled message back later).
    pub source: &'a SqsQueue,
    /// The optional language model.
    pub llm: Option<&'a LlmAdvisor<'a>>,
    /// Time for a batch when the invocation's deadline is unknown (the policy's).
    pub batch_budget: std::time::Duration,
}

/// Triages one record.
pub async fn process(deps: &Deps<'_>, record: &SqsMessage) -> Result<(), Failure> {
    let body = record.body.as_deref().unwrap_or_default();
    let message = TriageMessage::parse(body).map_err(|e| Failure::Poison(e.to_string()))?;
    let stored = deps
        .store
        .ticket(&message.ticket_id)
        .await?
        .ok_or_else(|| {
            Failure::Poison(format!("ticket {} is not in the store", message.ticket_id))
        })?;
    let mut ticket = stored.ticket;
    if stored.needs_fetch {
        let number = ticket.id.zendesk_number().ok_or_else(|| {
            Failure::Poison(format!("ticket id {} is not a Zendesk number", ticket.id))
        })?;
        let mut fetched = deps
            .zendesk
            .fetch_ticket(number)
            .await
            .map_err(|e| match e {
                PortError::Rejected { .. } => {
                    Failure::Poison(format!("cannot complete ticket {number}: {e}"))
                }
                other => Failure::from(other),
            })?;
        // Keep what the webhook knew and the API does not (the account's MRR field).
        fetched.mrr = fetched.mrr.or(ticket.mrr);
        deps.store.update_ticket(&fetched).await?;
        ticket = fetched;
    }
    let pipeline = Pipeline {
        engine: deps.engine,
        store: deps.store,
        zendesk: deps.zendesk,
        alerts: deps.alerts,
        accounts: deps.accounts,
        settings: deps.settings,
        llm: deps.llm,
        incidents: Some(deps.incidents),
    };
    if let Some(comment) = &message.comment_id {
        return match pipeline.follow_up(&ticket, comment).await {
            Ok(f) => {
                tracing::info!(
                    ticket_id = %ticket.id,
                    comment_id = %comment,
                    revision = f.change.revision,
                    changed = ?f.change.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
                    priority = %f.decision.priority,
                    alerts = f.alerts,
                    already_done = f.already_done,
                    "follow-up triaged"
                );
                Ok(())
            }
            Err(e) => Err(failure(e)),
        };
    }
    // The claim's owner is the delivery (the queue message, or the one a re-sent
    // message continues): its own redelivery may take over at once, a duplicate
    // message waits for the lease.
    let delivery = delivery_of(record);
    match pipeline.triage(&ticket, delivery).await {
        Ok(p) => {
            tracing::info!(
                ticket_id = %ticket.id,
                priority = %p.decision.priority,
                team = %p.decision.team,
                guardian = p.decision.guardian.risk_score,
                alerts = p.alerts.len(),
                replayed = p.replayed,
                already_done = p.already_done,
                "ticket triaged"
            );
            Ok(())
        }
        Err(e) => Err(failure(e)),
    }
}

/// What the queue does with a message whose ticket failed.
fn failure(e: PipelineError) -> Failure {
    match e {
        PipelineError::Zendesk(e @ PortError::Rejected { .. }) => {
            Failure::Poison(format!("Zendesk refused the update: {e}"))
        }
        // A duplicate in flight (or a follow-up whose ticket is still being triaged):
        // hand the message back for later, as a new message (a wait must not use up
        // the receives before the DLQ).
        PipelineError::Busy { retry_after } => Failure::Throttled {
            reason: "another delivery of this ticket is in progress".into(),
            after: Some(retry_after),
        },
        e => e
            .port()
            .cloned()
            .map_or_else(|| Failure::Retry(e.to_string()), Failure::from),
    }
}

pub async fn handle(
    deps: &Deps<'_>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let time = time_for_records(event.context.deadline, deps.batch_budget);
    Ok(
        process_batch(&event.payload.records, deps.source, time, |r| {
            process(deps, r)
        })
        .await,
    )
}
