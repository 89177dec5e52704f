//! Alert fan-out with exactly one send per alert id and channel: the triage stage
//! records each alert in a ledger and queues its id; the fan-out stage claims the alert
//! (a conditional write with a lease), sends it through every channel, and marks it
//! sent only when every channel accepted it. A duplicate delivery finds it sent; a
//! racing instance finds it claimed; a crashed sender's lease runs out and the alert is
//! claimed again. When one channel fails, the ledger keeps the channels that took the
//! alert and the retry sends through the others only. The scheduled report queues
//! service-level warnings the same way ([`warn_sla`]).

use async_trait::async_trait;

use crate::alerts::{Alert, AlertRouting, SlaWarning, sla_alert};
use crate::engine::agents::AgentDirectory;
use crate::messages::AlertMessage;
use crate::ports::{AlertLedger, AlertSink, Claim, Decided, Delivery, Notifier, PortError, Queue};

/// The triage stage's alert sink in AWS: ledger, then the alerts queue.
pub struct QueuedAlertSink<'a> {
    pub ledger: &'a dyn AlertLedger,
    pub queue: &'a dyn Queue,
}

#[async_trait]
impl AlertSink for QueuedAlertSink<'_> {
    async fn submit(&self, alert: &Alert) -> Result<(), PortError> {
        // Queue even if the alert was recorded before: the earlier attempt may have
        // stopped between the two steps, and the fan-out ignores a sent alert.
        self.ledger.record(alert).await?;
        let body = serde_json::to_string(&AlertMessage::new(&alert.alert_id)).map_err(|e| {
            PortError::Rejected {
                service: "queue",
                message: e.to_string(),
            }
        })?;
        self.queue.send(body).await
    }
}

/// Warns the team's lead about each running service-level clock of `decided` past the
/// policy's share at `now`: once per ticket and stage (the ledger keeps the warning's
/// id; a warning recorded before is not queued again). Returns the warnings queued.
pub async fn warn_sla(
    decided: &[Decided],
    now: i64,
    warn_at: f64,
    agents: &AgentDirectory,
    routing: &AlertRouting,
    ledger: &dyn AlertLedger,
    queue: &dyn Queue,
) -> Result<u32, PortError> {
    let mut queued = 0;
    for d in decided {
        let Some(clock) = &d.decision.sla else {
            continue;
        };
        for (stage, state) in clock.warnings(&d.progress, now, warn_at) {
            let lead = agents
                .teams
                .get(&d.decision.team)
                .and_then(|t| t.lead_email.as_deref());
            let warning = SlaWarning {
                stage,
                state,
                due: clock.due(stage),
            };
            let alert = sla_alert(&d.ticket, &d.decision, warning, lead, routing);
            // Recorded before: warned before (a send that failed is retried by the
            // fan-out; only a queue failure right after the record, which the SDK
            // retries first, could leave a warning unsent).
            if !ledger.record(&alert).await? {
                continue;
            }
            let body = serde_json::to_string(&AlertMessage::new(&alert.alert_id)).map_err(|e| {
                PortError::Rejected {
                    service: "queue",
                    message: e.to_string(),
                }
            })?;
            queue.send(body).await?;
            tracing::info!(ticket_id = %d.decision.ticket_id, stage = stage.as_str(), state = state.label(), "service-level warning queued");
            queued += 1;
        }
    }
    Ok(queued)
}

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Sent now, through these channels (and, before, through `earlier`).
    Sent {
        deliveries: Vec<Delivery>,
        earlier: Vec<String>,
    },
    /// Sent by an earlier delivery: nothing was sent again.
    AlreadySent,
    /// Another instance holds the alert: try later.
    Busy,
    /// No such alert in the ledger.
    Unknown,
}

/// Claims, sends and marks one alert.
pub async fn deliver(
    ledger: &dyn AlertLedger,
    notifiers: &[Box<dyn Notifier>],
    alert_id: &str,
    lease_secs: u64,
) -> Result<Outcome, PortError> {
    let (alert, earlier) = match ledger.claim(alert_id, lease_secs).await? {
        None => return Ok(Outcome::Unknown),
        Some(Claim::AlreadySent) => return Ok(Outcome::AlreadySent),
        Some(Claim::Busy) => return Ok(Outcome::Busy),
        Some(Claim::Claimed { alert, delivered }) => (*alert, delivered),
    };
    if notifiers.is_empty() {
        ledger.release(alert_id, &[]).await?;
        return Err(PortError::Rejected {
            service: "notifier",
            message: "no notifier is configured".to_string(),
        });
    }
    // The channels are independent: send through all of them at once.
    let pending: Vec<&dyn Notifier> = notifiers
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| !earlier.iter().any(|c| c == n.channel()))
        .collect();
    let results = futures::future::join_all(pending.iter().map(|n| n.send(&alert))).await;
    let mut deliveries = Vec::new();
    let mut failure = None;
    for (n, result) in pending.iter().zip(results) {
        match result {
            Ok(d) => deliveries.push(d),
            Err(e) => {
                tracing::warn!(alert_id, channel = n.channel(), error = %e, "alert channel failed");
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        // Free the alert for the retry, which sends only through the failed channels.
        ledger.release(alert_id, &deliveries).await?;
        return Err(e);
    }
    ledger.mark_sent(alert_id, &deliveries).await?;
    Ok(Outcome::Sent {
        deliveries,
        earlier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::{MemoryAlertLedger, MemoryQueue};
    use crate::alerts::{AlertKind, alert_id};
    use crate::domain::{Priority, RiskLevel, Team};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn alert() -> Alert {
        Alert {
            alert_id: alert_id(AlertKind::Guardian, "#7"),
            kind: AlertKind::Guardian,
            ticket_id: "#7".into(),
            customer_name: "Acme".into(),
            subject: "Leaving".into(),
            priority: Priority::P1,
            team: Team::DataAnalytics,
            agent_id: None,
            mrr: Some(1000.0),
            risk_score: 80,
            risk_level: RiskLevel::Critical,
            intents: vec![],
            confidence: 0.0,
            reasons: vec!["cancel intent".into()],
            recommended_actions: vec!["Call".into()],
            snippet: "We are leaving".into(),
            recipients: vec!["kam@example.com".into()],
            kam_name: None,
            renewal_date: None,
            ticket_url: None,
            dashboard_url: None,
        }
    }

    /// A channel that counts its sends and fails while `down` is set.
    struct Counting {
        name: &'static str,
        sends: AtomicUsize,
        down: AtomicBool,
    }

    impl Counting {
        fn new(name: &'static str, down: bool) -> std::sync::Arc<Self> {
            std::sync::Arc::new(Self {
                name,
                sends: AtomicUsize::new(0),
                down: AtomicBool::new(down),
            })
        }
        fn sends(&self) -> usize {
            self.sends.load(Ordering::SeqCst)
        }
    }

    #[async_trait]
    impl Notifier for Counting {
        fn channel(&self) -> &'static str {
            self.name
        }
        async fn send(&self, _: &Alert) -> Result<Delivery, PortError> {
            self.sends.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                Err(PortError::Unavailable {
                    service: "test",
                    message: "down".into(),
                })
            } else {
                Ok(Delivery {
                    channel: self.name.into(),
                    reference: None,
                })
            }
        }
    }

    #[tokio::test]
    async fn an_alert_is_sent_once_however_often_it_is_delivered() {
        let ledger = MemoryAlertLedger::default();
        let queue = MemoryQueue::default();
        let sink = QueuedAlertSink {
            ledger: &ledger,
            queue: &queue,
        };
        sink.submit(&alert()).await.unwrap();
        sink.submit(&alert()).await.unwrap();
        assert_eq!(queue.messages().len(), 2, "both deliveries are queued");
        let counter = Counting::new("mail", false);
        let notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(counter.clone())];
        let first = deliver(&ledger, &notifiers, &alert().alert_id, 60)
            .await
            .unwrap();
        assert!(matches!(first, Outcome::Sent { .. }));
        assert_eq!(
            deliver(&ledger, &notifiers, &alert().alert_id, 60)
                .await
                .unwrap(),
            Outcome::AlreadySent
        );
        assert_eq!(counter.sends(), 1);
        assert_eq!(
            deliver(&ledger, &notifiers, "guardian-unknown", 60)
                .await
                .unwrap(),
            Outcome::Unknown
        );
    }

    #[tokio::test]
    async fn a_failed_channel_is_retried_alone() {
        let ledger = MemoryAlertLedger::default();
        ledger.record(&alert()).await.unwrap();
        let mail = Counting::new("mail", false);
        let chat = Counting::new("chat", true);
        let notifiers: Vec<Box<dyn Notifier>> =
            vec![Box::new(mail.clone()), Box::new(chat.clone())];
        let id = &alert().alert_id;
        assert!(
            deliver(&ledger, &notifiers, id, 60).await.is_err(),
            "one channel failed"
        );
        assert!(
            deliver(&ledger, &notifiers, id, 60).await.is_err(),
            "still down"
        );
        assert_eq!(
            (mail.sends(), chat.sends()),
            (1, 2),
            "mail is not sent again"
        );
        chat.down.store(false, Ordering::SeqCst);
        match deliver(&ledger, &notifiers, id, 60).await.unwrap() {
            Outcome::Sent {
                deliveries,
                earlier,
            } => {
                assert_eq!(deliveries.len(), 1);
                assert_eq!(deliveries[0].channel, "chat");
                assert_eq!(earlier, vec!["mail".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!((mail.sends(), chat.sends()), (1, 3));
        assert_eq!(
            deliver(&ledger, &notifiers, id, 60).await.unwrap(),
            Outcome::AlreadySent
        );
        let none: Vec<Box<dyn Notifier>> = Vec::new();
        ledger
            .record(&Alert {
                alert_id: "other".into(),
                ..alert()
            })
            .await
            .unwrap();
        assert!(
            deliver(&ledger, &none, "other", 60).await.is_err(),
            "no channel is an error"
        );
    }
}
