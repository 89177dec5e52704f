//! The local alert sink: logs each alert and sends it through every notifier.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::io_error;
use super::json_log::JsonArrayWriter;
use crate::alerts::{Alert, AlertKind};
use crate::ports::{AlertSink, Delivery, Notifier, PortError};

/// A log line for one alert: the alert, where it went, and what failed.
#[derive(Debug, Serialize)]
pub struct AlertLogEntry {
    #[serde(flatten)]
    pub alert: Alert,
    pub deliveries: Vec<Delivery>,
    pub failures: Vec<String>,
}

/// Logs each alert to its kind's log and sends it through every notifier at once
/// (the local stand-in for the alerts queue and `alert-fanout`).
pub struct LocalAlertSink {
    guardian: JsonArrayWriter,
    opportunity: JsonArrayWriter,
    /// Incidents (and service-level warnings, which the scheduled report sends).
    incident: JsonArrayWriter,
    notifiers: Vec<Box<dyn Notifier>>,
    failures: Mutex<u32>,
}

impl LocalAlertSink {
    pub fn new(
        guardian: JsonArrayWriter,
        opportunity: JsonArrayWriter,
        incident: JsonArrayWriter,
        notifiers: Vec<Box<dyn Notifier>>,
    ) -> Self {
        Self {
            guardian,
            opportunity,
            incident,
            notifiers,
            failures: Mutex::new(0),
        }
    }

    /// Closes the logs; returns how many sends failed.
    pub fn finish(&self) -> std::io::Result<u32> {
        self.guardian.finish()?;
        self.opportunity.finish()?;
        self.incident.finish()?;
        Ok(*self.failures.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl AlertSink for LocalAlertSink {
    async fn submit(&self, alert: &Alert) -> Result<(), PortError> {
        let mut deliveries = Vec::new();
        let mut failures = Vec::new();
        for n in &self.notifiers {
            match n.send(alert).await {
                Ok(d) => deliveries.push(d),
                Err(e) => {
                    tracing::warn!(alert_id = %alert.alert_id, error = %e, "alert delivery failed");
                    failures.push(e.to_string());
                }
            }
        }
        if !failures.is_empty() {
            *self.failures.lock().unwrap_or_else(|p| p.into_inner()) += failures.len() as u32;
        }
        let entry = AlertLogEntry {
            alert: alert.clone(),
            deliveries,
            failures,
        };
        let log = match alert.kind {
            AlertKind::Guardian => &self.guardian,
            AlertKind::Opportunity => &self.opportunity,
            AlertKind::Incident | AlertKind::SlaWarning => &self.incident,
        };
        log.push(entry).map_err(io_error("alert log"))
    }
}
