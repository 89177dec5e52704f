//! Alert fan-out with exactly one send per alert id: the triage stage records each
//! alert in a ledger and queues its id; the fan-out stage claims the alert (a
//! conditional write with a lease), sends it, and marks it sent only after a provider
//! accepted it. A duplicate delivery finds it sent; a racing instance finds it claimed;
//! a crashed sender's lease runs out and the alert is claimed again.

use async_trait::async_trait;

use crate::alerts::Alert;
use crate::messages::AlertMessage;
use crate::ports::{AlertLedger, AlertSink, Claim, Delivery, Notifier, PortError, Queue};

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

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Sent now, through these channels (failures of other channels are listed).
    Sent {
        deliveries: Vec<Delivery>,
        failures: Vec<String>,
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
    let alert = match ledger.claim(alert_id, lease_secs).await? {
        None => return Ok(Outcome::Unknown),
        Some(Claim::AlreadySent) => return Ok(Outcome::AlreadySent),
        Some(Claim::Busy) => return Ok(Outcome::Busy),
        Some(Claim::Claimed(alert)) => *alert,
    };
    let mut deliveries = Vec::new();
    let mut failures = Vec::new();
    let mut last_error = None;
    for n in notifiers {
        match n.send(&alert).await {
            Ok(d) => deliveries.push(d),
            Err(e) => {
                tracing::warn!(alert_id, error = %e, "alert channel failed");
                failures.push(e.to_string());
                last_error = Some(e);
            }
        }
    }
    if deliveries.is_empty() {
        // Nothing went out: free the alert for the retry.
        ledger.release(alert_id).await?;
        return Err(last_error.unwrap_or(PortError::Rejected {
            service: "notifier",
            message: "no notifier is configured".to_string(),
        }));
    }
    ledger.mark_sent(alert_id, &deliveries).await?;
    Ok(Outcome::Sent {
        deliveries,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::{MemoryAlertLedger, MemoryQueue};
    use crate::alerts::{AlertKind, alert_id};
    use crate::domain::{Priority, RiskLevel, Team};
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    struct Counting(AtomicUsize, bool);
    #[async_trait]
    impl Notifier for Counting {
        async fn send(&self, _: &Alert) -> Result<Delivery, PortError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 {
                Err(PortError::Unavailable {
                    service: "test",
                    message: "down".into(),
                })
            } else {
                Ok(Delivery {
                    channel: "test".into(),
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
        let counter = std::sync::Arc::new(Counting(AtomicUsize::new(0), false));
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
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            deliver(&ledger, &notifiers, "guardian-unknown", 60)
                .await
                .unwrap(),
            Outcome::Unknown
        );
    }

    #[tokio::test]
    async fn a_failed_send_frees_the_alert_for_the_retry() {
        let ledger = MemoryAlertLedger::default();
        ledger.record(&alert()).await.unwrap();
        let failing: Vec<Box<dyn Notifier>> = vec![Box::new(Counting(AtomicUsize::new(0), true))];
        assert!(
            deliver(&ledger, &failing, &alert().alert_id, 60)
                .await
                .is_err()
        );
        let working: Vec<Box<dyn Notifier>> = vec![Box::new(Counting(AtomicUsize::new(0), false))];
        assert!(matches!(
            deliver(&ledger, &working, &alert().alert_id, 60)
                .await
                .unwrap(),
            Outcome::Sent { .. }
        ));
    }
}
