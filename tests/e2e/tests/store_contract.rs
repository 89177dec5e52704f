//! One contract for every ticket store: the same scenarios (receive, decide once,
//! dedupe, claim, retention) run against the memory store and the DynamoDB store on
//! the AWS emulator, so that the local runs and the Lambda functions can rely on the
//! same behaviour. The incident stores' opening (an incident once, a team's claim) is
//! held to one contract the same way.

use std::time::Duration;

use triage_shared::adapters::aws::{DynamoIncidentStore, DynamoTicketStore};
use triage_shared::adapters::local::{MemoryIncidentStore, MemoryTicketStore};
use triage_shared::domain::{Priority, Team, Ticket, TicketId};
use triage_shared::engine::Engine;
use triage_shared::incident::Incident;
use triage_shared::ports::{IncidentStore, Opening, Receipt, TicketClaim, TicketStore};
use triage_test_support::Stack;

fn ticket(id: &str, customer: &str) -> Ticket {
    triage_test_support::ticket(
        id,
        customer,
        "Checkout down",
        "Nobody can pay since 9am; this is unacceptable and we are furious.",
    )
}

/// Each store under test, named for the failure messages.
async fn stores(retention_days: u32) -> Vec<(&'static str, Box<dyn TicketStore>)> {
    let stack = Stack::new().await;
    vec![
        (
            "memory",
            Box::new(MemoryTicketStore::with_retention(retention_days)) as Box<dyn TicketStore>,
        ),
        (
            "dynamodb",
            Box::new(DynamoTicketStore::new(
                stack.aws.dynamodb.clone(),
                &stack.table,
                retention_days,
                90,
            )),
        ),
    ]
}

#[tokio::test]
async fn a_delivery_is_received_once_and_queued_once() {
    for (name, store) in stores(30).await {
        let t = ticket("7001", "Acme");
        assert_eq!(
            store.receive(&t, "inv-1", false).await.unwrap(),
            Receipt::New,
            "{name}"
        );
        assert_eq!(
            store.receive(&t, "inv-1", false).await.unwrap(),
            Receipt::NotYetQueued,
            "{name}: the same delivery before it was queued"
        );
        store.mark_enqueued(&t.id, "inv-1").await.unwrap();
        assert_eq!(
            store.receive(&t, "inv-1", false).await.unwrap(),
            Receipt::Duplicate,
            "{name}: the same delivery after"
        );
        assert_eq!(
            store.receive(&t, "inv-2", false).await.unwrap(),
            Receipt::Duplicate,
            "{name}: another webhook for the same ticket"
        );
        let stored = store.ticket(&t.id).await.unwrap().unwrap();
        assert_eq!(stored.ticket, t, "{name}");
        assert!(!stored.needs_fetch, "{name}");
    }
}

#[tokio::test]
async fn a_decision_is_stored_once_and_its_stages_are_recorded() {
    let engine = Engine::embedded().unwrap();
    for (name, store) in stores(30).await {
        let t = ticket("7002", "Acme");
        store.receive(&t, "inv-1", false).await.unwrap();
        let d = engine.decide(&t, &Default::default(), &Default::default());
        assert!(store.save_decision(&t, &d, None).await.unwrap(), "{name}");
        let mut other = d.clone();
        other.priority = triage_shared::domain::Priority::P3;
        assert!(
            !store.save_decision(&t, &other, None).await.unwrap(),
            "{name}: a second decision is refused"
        );
        let stored = store.decision(&t.id).await.unwrap().unwrap();
        assert_eq!(stored.decision, d, "{name}: the first decision stands");
        assert!(!stored.noted && !stored.completed, "{name}");
        store.mark_noted(&t.id).await.unwrap();
        assert!(
            store.decision(&t.id).await.unwrap().unwrap().noted,
            "{name}"
        );
        store.mark_completed(&t.id).await.unwrap();
        assert!(
            store.decision(&t.id).await.unwrap().unwrap().completed,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_claim_keeps_other_deliveries_out_until_done_or_expired() {
    let engine = Engine::embedded().unwrap();
    for (name, store) in stores(30).await {
        let t = ticket("7003", "Acme");
        store.receive(&t, "inv-1", false).await.unwrap();
        assert_eq!(
            store.claim(&t.id, "msg-a", 60).await.unwrap(),
            TicketClaim::Claimed,
            "{name}"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        match store.claim(&t.id, "msg-b", 60).await.unwrap() {
            TicketClaim::Busy { until } => assert!(
                (now + 55..=now + 62).contains(&until),
                "{name}: a duplicate waits for the lease ({until} vs {now})"
            ),
            other => panic!("{name}: a duplicate must wait, got {other:?}"),
        }
        // A holder that failed gives the claim up; a stranger's release changes nothing.
        store.release_claim(&t.id, "msg-b").await.unwrap();
        assert!(
            matches!(
                store.claim(&t.id, "msg-c", 60).await.unwrap(),
                TicketClaim::Busy { .. }
            ),
            "{name}"
        );
        store.release_claim(&t.id, "msg-a").await.unwrap();
        assert_eq!(
            store.claim(&t.id, "msg-c", 60).await.unwrap(),
            TicketClaim::Claimed,
            "{name}"
        );
        assert!(
            matches!(
                store.claim(&t.id, "msg-a", 60).await.unwrap(),
                TicketClaim::Busy { .. }
            ),
            "{name}"
        );
        store.release_claim(&t.id, "msg-c").await.unwrap();
        store.claim(&t.id, "msg-a", 60).await.unwrap();
        assert_eq!(
            store.claim(&t.id, "msg-a", 60).await.unwrap(),
            TicketClaim::Claimed,
            "{name}: the holder's own redelivery may go on"
        );
        let d = engine.decide(&t, &Default::default(), &Default::default());
        store.save_decision(&t, &d, None).await.unwrap();
        store.mark_completed(&t.id).await.unwrap();
        assert_eq!(
            store.claim(&t.id, "msg-b", 60).await.unwrap(),
            TicketClaim::Done,
            "{name}: after completion nothing is left to do"
        );

        // A crashed holder's lease runs out.
        let u = ticket("7004", "Acme");
        store.receive(&u, "inv-2", false).await.unwrap();
        assert_eq!(
            store.claim(&u.id, "msg-c", 1).await.unwrap(),
            TicketClaim::Claimed,
            "{name}"
        );
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(
            store.claim(&u.id, "msg-d", 60).await.unwrap(),
            TicketClaim::Claimed,
            "{name}: after the lease"
        );
    }
}

#[tokio::test]
async fn history_counts_the_customers_earlier_tickets() {
    let engine = Engine::embedded().unwrap();
    for (name, store) in stores(30).await {
        for id in ["7101", "7102"] {
            let t = ticket(id, "Bramble & Co");
            store
                .receive(&t, &format!("inv-{id}"), false)
                .await
                .unwrap();
            let d = engine.decide(&t, &Default::default(), &Default::default());
            store.save_decision(&t, &d, None).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let third = ticket("7103", "Bramble & Co");
        store.receive(&third, "inv-7103", false).await.unwrap();
        let h = store.history(&third).await.unwrap();
        assert_eq!(h.prior_tickets, 2, "{name}");
        assert_eq!(h.prior_negative, 2, "{name}: both were angry");
        let stranger = store
            .history(&ticket("7104", "Someone Else"))
            .await
            .unwrap();
        assert_eq!(stranger.prior_tickets, 0, "{name}");
    }
}

#[tokio::test]
async fn decisions_past_the_retention_are_not_reported() {
    let engine = Engine::embedded().unwrap();
    for (retention, expected) in [(30, 1), (0, 0)] {
        for (name, store) in stores(retention).await {
            let t = ticket("7201", "Acme");
            store.receive(&t, "inv-1", false).await.unwrap();
            let d = engine.decide(&t, &Default::default(), &Default::default());
            store.save_decision(&t, &d, None).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1100)).await;
            let hour_ago = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
                - 3600;
            let listed = store.decisions_since(hour_ago).await.unwrap();
            assert_eq!(
                listed.len(),
                expected,
                "{name} with a retention of {retention} days"
            );
        }
    }
}

/// Each incident store under test.
async fn incident_stores() -> Vec<(&'static str, Box<dyn IncidentStore>)> {
    let stack = Stack::new().await;
    vec![
        (
            "memory",
            Box::new(MemoryIncidentStore::new()) as Box<dyn IncidentStore>,
        ),
        (
            "dynamodb",
            Box::new(DynamoIncidentStore::new(
                stack.aws.dynamodb.clone(),
                &stack.table,
                30,
            )),
        ),
    ]
}

fn incident(first: &str, team: Team, declared_at: i64) -> Incident {
    Incident {
        id: format!("INC-{first}"),
        title: "Orders slow to sync".into(),
        team,
        first_at: declared_at - 120,
        declared_at,
        last_at: declared_at,
        recognised_at: declared_at,
        declared_by: TicketId::parse(first).unwrap(),
        level: Priority::P1,
        problem_id: None,
        members: Vec::new(),
        more: 0,
        sketches: Vec::new(),
    }
}

#[tokio::test]
async fn an_incident_opens_once_and_its_team_has_one_declared_at_a_time() {
    let at = time::OffsetDateTime::now_utc().unix_timestamp();
    let claim = 1_800;
    for (name, store) in incident_stores().await {
        let first = incident("9001", Team::IntegrationsApi, at);
        assert_eq!(
            store.open(&first, at + claim).await.unwrap(),
            Opening::Opened,
            "{name}"
        );
        assert_eq!(
            store.open(&first, at + claim).await.unwrap(),
            Opening::Exists,
            "{name}: the same incident again"
        );
        // The same failure declared by another delivery under another name.
        let twin = incident("9002", Team::IntegrationsApi, at + 60);
        assert_eq!(
            store.open(&twin, at + 60 + claim).await.unwrap(),
            Opening::Claimed(first.id.clone()),
            "{name}: the team's claim holds"
        );
        assert!(
            store.incident(&twin.id).await.unwrap().is_none(),
            "{name}: nothing of the refused incident is stored"
        );
        let other_team = incident("9003", Team::DataAnalytics, at + 60);
        assert_eq!(
            store.open(&other_team, at + 60 + claim).await.unwrap(),
            Opening::Opened,
            "{name}: another team's incident"
        );
        let later = incident("9004", Team::IntegrationsApi, at + claim + 1);
        assert_eq!(
            store.open(&later, at + 2 * claim).await.unwrap(),
            Opening::Opened,
            "{name}: once the claim has ended"
        );
        assert_eq!(
            store.open(&twin, at + 60 + claim).await.unwrap(),
            Opening::Claimed(later.id.clone()),
            "{name}: the claim passed on"
        );
    }
}
