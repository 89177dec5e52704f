//! The pipeline with local adapters: idempotent on redelivery, alerts once, Zendesk
//! calls as documented.

use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::local::{
    JsonArrayWriter, LocalAlertSink, MemoryTicketStore, RecordingZendesk,
};
use triage_shared::domain::{Ticket, TicketId};
use triage_shared::engine::Engine;
use triage_shared::pipeline::{Pipeline, PipelineSettings};
use triage_shared::ports::TicketStore;

fn churn_ticket(id: &str) -> Ticket {
    Ticket {
        id: TicketId::parse(id).unwrap(),
        customer_name: "Acme Commerce".into(),
        subject: "Cancelling".into(),
        description: "Webhooks have failed for a week and we have started evaluating Northbeam. Separately, we want to add 4 more stores next quarter, please send a quote.".into(),
        channel: "email".into(),
        created_at: None,
        mrr: Some(20000.0),
        organization_id: None,
        requester_email: None,
        tags: vec![],
    }
}

struct Harness {
    engine: Engine,
    accounts: AccountDirectory,
    settings: PipelineSettings,
    store: MemoryTicketStore,
    zendesk: RecordingZendesk,
    alerts: LocalAlertSink,
}

impl Harness {
    fn new() -> Self {
        let sink = || JsonArrayWriter::new(Box::new(std::io::sink()));
        Self {
            engine: Engine::embedded().unwrap(),
            accounts: AccountDirectory::embedded().unwrap(),
            settings: PipelineSettings::default(),
            store: MemoryTicketStore::new(),
            zendesk: RecordingZendesk::new(sink()),
            alerts: LocalAlertSink::new(sink(), sink(), sink(), vec![]),
        }
    }

    fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            engine: &self.engine,
            store: &self.store,
            zendesk: &self.zendesk,
            alerts: &self.alerts,
            accounts: &self.accounts,
            settings: &self.settings,
            llm: None,
            incidents: None,
        }
    }
}

#[tokio::test]
async fn a_redelivered_ticket_is_not_decided_or_alerted_twice() {
    let h = Harness::new();
    let t = churn_ticket("#5001");
    let first = h.pipeline().triage(&t, "test").await.unwrap();
    assert!(!first.replayed && !first.already_done);
    assert!(first.decision.guardian.alert);
    assert_eq!(first.alerts.len(), 2, "guardian and opportunity");
    assert_eq!(first.zendesk_calls, 2);

    let again = h.pipeline().triage(&t, "test").await.unwrap();
    assert!(again.already_done);
    assert!(again.alerts.is_empty());
    assert_eq!(again.zendesk_calls, 0);
    assert_eq!(again.decision, first.decision);
    assert_eq!(h.store.decisions().len(), 1);
}

#[tokio::test]
async fn an_interrupted_delivery_is_finished_with_the_stored_decision() {
    let h = Harness::new();
    let t = churn_ticket("#5002");
    // An earlier delivery stored a decision and then died before Zendesk and alerts.
    let stored = h
        .engine
        .decide(&t, &Default::default(), &Default::default());
    assert!(h.store.save_decision(&t, &stored, None).await.unwrap());
    let resumed = h.pipeline().triage(&t, "test").await.unwrap();
    assert!(resumed.replayed && !resumed.already_done);
    assert_eq!(resumed.decision, stored);
    assert_eq!(resumed.alerts.len(), 2);
    assert!(h.store.decision(&t.id).await.unwrap().unwrap().completed);
}

#[tokio::test]
async fn earlier_tickets_of_the_customer_count_as_history() {
    let h = Harness::new();
    let first = h
        .pipeline()
        .triage(&churn_ticket("#5003"), "test")
        .await
        .unwrap();
    let second = h
        .pipeline()
        .triage(&churn_ticket("#5004"), "test")
        .await
        .unwrap();
    assert!(second.decision.guardian.risk_score >= first.decision.guardian.risk_score);
    assert!(
        second
            .decision
            .guardian
            .reasons
            .iter()
            .any(|r| r.starts_with("history: 1 earlier"))
    );
}

#[test]
fn zendesk_calls_follow_the_documented_shape() {
    let engine = Engine::embedded().unwrap();
    let t = churn_ticket("#5005");
    let d = engine.decide(&t, &Default::default(), &Default::default());
    let fields = triage_shared::zendesk::CustomFieldIds {
        guardian_risk_score: Some(11),
        opportunity_intent: Some(12),
        agent_id: Some(13),
    };
    let calls = triage_shared::zendesk::plan(&d, &engine.agents, &fields, &engine.policy);
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[1].method.as_str(), calls[1].path.as_str()),
        ("PUT", "/api/v2/tickets/5005.json")
    );
    let ticket = &calls[1].body["ticket"];
    assert_eq!(ticket["priority"], d.priority.zendesk());
    assert_eq!(ticket["comment"]["public"], false);
    assert!(
        ticket["comment"]["body"]
            .as_str()
            .unwrap()
            .contains("Automated triage")
    );
    assert!(
        ticket.get("tags").is_none(),
        "tags in a ticket update would replace existing tags"
    );
    assert_eq!(ticket["custom_fields"][0]["id"], 11);
    assert_eq!(ticket["custom_fields"][0]["value"], d.guardian.risk_score);
    assert_eq!(ticket["group_id"], engine.agents.group_id(d.team).unwrap());
    assert_eq!(calls[0].path, "/api/v2/tickets/5005/tags", "tags go first");
    let tags: Vec<&str> = calls[0].body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"triaged") && tags.contains(&"guardian_alert"),
        "{tags:?}"
    );
    assert!(
        tags.iter().any(|t| t.starts_with("team_"))
            && tags.iter().any(|t| t.starts_with("priority_p"))
    );

    // A ticket id that is not a Zendesk number produces no call.
    let mut other = t.clone();
    other.id = TicketId::parse("D-0001").unwrap();
    let d2 = engine.decide(&other, &Default::default(), &Default::default());
    assert!(triage_shared::zendesk::plan(&d2, &engine.agents, &fields, &engine.policy).is_empty());
}
