//! The alert ledger in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::now_secs;
use crate::alerts::Alert;
use crate::ports::{AlertLedger, Claim, Delivery, PortError};

#[derive(Debug, Clone)]
struct LedgerEntry {
    alert: Alert,
    sent: bool,
    lease_until: i64,
    delivered: Vec<String>,
}

/// The alert ledger in memory.
#[derive(Default)]
pub struct MemoryAlertLedger {
    entries: Mutex<HashMap<String, LedgerEntry>>,
}

#[async_trait]
impl AlertLedger for MemoryAlertLedger {
    async fn record(&self, alert: &Alert) -> Result<bool, PortError> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.contains_key(&alert.alert_id) {
            return Ok(false);
        }
        e.insert(
            alert.alert_id.clone(),
            LedgerEntry {
                alert: alert.clone(),
                sent: false,
                lease_until: 0,
                delivered: Vec::new(),
            },
        );
        Ok(true)
    }

    async fn claim(&self, alert_id: &str, lease_secs: u64) -> Result<Option<Claim>, PortError> {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = e.get_mut(alert_id) else {
            return Ok(None);
        };
        let now = now_secs();
        Ok(Some(if entry.sent {
            Claim::AlreadySent
        } else if entry.lease_until > now {
            Claim::Busy
        } else {
            entry.lease_until = now + lease_secs as i64;
            Claim::Claimed {
                alert: Box::new(entry.alert.clone()),
                delivered: entry.delivered.clone(),
            }
        }))
    }

    async fn mark_sent(&self, alert_id: &str, _deliveries: &[Delivery]) -> Result<(), PortError> {
        if let Some(entry) = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(alert_id)
        {
            entry.sent = true;
        }
        Ok(())
    }

    async fn release(&self, alert_id: &str, delivered: &[Delivery]) -> Result<(), PortError> {
        if let Some(entry) = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(alert_id)
        {
            entry.lease_until = 0;
            entry
                .delivered
                .extend(delivered.iter().map(|d| d.channel.clone()));
        }
        Ok(())
    }
}
