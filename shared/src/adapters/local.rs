//! Local adapters: an in-memory ticket store, JSON logs written as the run goes (so
//! that 100,000 tickets never sit in memory), a Zendesk recorder, an e-mail-to-file
//! notifier and the alert sink that logs and notifies in one step.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine as _;
use serde::Serialize;

use crate::alerts::{Alert, AlertKind, RenderedAlert, render};
use crate::domain::{AccountContext, Decision, SentimentLabel, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::ports::{
    AlertSink, Delivery, Notifier, PortError, StoredDecision, TicketStore, ZendeskPort,
};
use crate::zendesk::ZendeskCall;

#[derive(Default)]
struct MemoryState {
    decisions: HashMap<TicketId, StoredDecision>,
    history: HashMap<String, AccountContext>,
    load: AgentLoad,
}

/// Ticket state in memory. [`MemoryTicketStore::for_run`] keeps only history and load
/// (a CSV run has no redeliveries and must not hold every decision).
#[derive(Default)]
pub struct MemoryTicketStore {
    state: Mutex<MemoryState>,
    keep_decisions: bool,
}

impl MemoryTicketStore {
    /// Keeps decisions: redeliveries are recognised.
    pub fn new() -> Self {
        Self {
            state: Mutex::default(),
            keep_decisions: true,
        }
    }

    /// Keeps history and agent load only.
    pub fn for_run() -> Self {
        Self::default()
    }

    pub fn decisions(&self) -> Vec<StoredDecision> {
        self.lock().decisions.values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TicketStore for MemoryTicketStore {
    async fn decision(&self, id: &TicketId) -> Result<Option<StoredDecision>, PortError> {
        Ok(self.lock().decisions.get(id).cloned())
    }

    async fn history(&self, ticket: &Ticket) -> Result<AccountContext, PortError> {
        Ok(self
            .lock()
            .history
            .get(&ticket.customer_key())
            .cloned()
            .unwrap_or_default())
    }

    async fn agent_load(&self) -> Result<AgentLoad, PortError> {
        Ok(self.lock().load.clone())
    }

    async fn save_decision(&self, ticket: &Ticket, decision: &Decision) -> Result<bool, PortError> {
        let mut state = self.lock();
        if self.keep_decisions {
            if state.decisions.contains_key(&ticket.id) {
                return Ok(false);
            }
            state.decisions.insert(
                ticket.id.clone(),
                StoredDecision {
                    decision: decision.clone(),
                    completed: false,
                },
            );
        }
        let h = state.history.entry(ticket.customer_key()).or_default();
        h.prior_tickets += 1;
        if matches!(
            decision.sentiment.label,
            SentimentLabel::Frustrated | SentimentLabel::Aggressive
        ) {
            h.prior_negative += 1;
        }
        if decision.guardian.alert {
            h.prior_alerts += 1;
        }
        if let Some(agent) = &decision.agent_id {
            *state.load.entry(agent.clone()).or_default() += 1;
        }
        Ok(true)
    }

    async fn mark_completed(&self, id: &TicketId) -> Result<(), PortError> {
        if let Some(d) = self.lock().decisions.get_mut(id) {
            d.completed = true;
        }
        Ok(())
    }
}

/// A JSON array written element by element.
pub struct JsonArrayWriter {
    state: Mutex<WriterState>,
}

struct WriterState {
    out: Box<dyn Write + Send>,
    count: usize,
    finished: bool,
}

impl JsonArrayWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self::new(Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(path)?,
        ))))
    }

    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            state: Mutex::new(WriterState {
                out,
                count: 0,
                finished: false,
            }),
        }
    }

    pub fn push<T: Serialize>(&self, item: &T) -> std::io::Result<()> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let sep: &[u8] = if s.count == 0 { b"[\n" } else { b",\n" };
        s.out.write_all(sep)?;
        serde_json::to_writer_pretty(&mut s.out, item)?;
        s.count += 1;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the array and flushes. Safe to call twice.
    pub fn finish(&self) -> std::io::Result<()> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.finished {
            return Ok(());
        }
        let end: &[u8] = if s.count == 0 { b"[]\n" } else { b"\n]\n" };
        s.out.write_all(end)?;
        s.out.flush()?;
        s.finished = true;
        Ok(())
    }
}

fn io_error(service: &'static str) -> impl Fn(std::io::Error) -> PortError {
    move |e| PortError::Unavailable {
        service,
        message: e.to_string(),
    }
}

/// Records Zendesk calls instead of sending them (demo mode, no credentials).
pub struct RecordingZendesk {
    log: JsonArrayWriter,
}

impl RecordingZendesk {
    pub fn new(log: JsonArrayWriter) -> Self {
        Self { log }
    }

    pub fn finish(&self) -> std::io::Result<usize> {
        self.log.finish()?;
        Ok(self.log.len())
    }
}

#[async_trait]
impl ZendeskPort for RecordingZendesk {
    async fn apply(&self, calls: &[ZendeskCall]) -> Result<(), PortError> {
        for c in calls {
            self.log.push(c).map_err(io_error("zendesk recorder"))?;
        }
        Ok(())
    }

    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError> {
        Err(PortError::Rejected {
            service: "zendesk recorder",
            message: format!("ticket {number} cannot be fetched without Zendesk credentials"),
        })
    }
}

/// Writes each alert as an e-mail file (`<alert id>.eml`, text and HTML parts) that any
/// mail client opens.
pub struct FileNotifier {
    dir: PathBuf,
    from: String,
}

impl FileNotifier {
    pub fn new(dir: PathBuf, from: String) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, from })
    }
}

/// An RFC 5322 message with a text and an HTML part.
pub fn eml(from: &str, alert: &Alert, rendered: &RenderedAlert) -> String {
    let subject = if rendered.subject.is_ascii() {
        rendered.subject.clone()
    } else {
        format!(
            "=?utf-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(rendered.subject.as_bytes())
        )
    };
    let boundary = format!("=_{}", alert.alert_id);
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{}@triage.local>\r\nX-Triage-Alert-Id: {}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--{boundary}--\r\n",
        alert.recipients.join(", "),
        alert.alert_id,
        alert.alert_id,
        rendered.text,
        rendered.html,
    )
}

#[async_trait]
impl Notifier for FileNotifier {
    async fn send(&self, alert: &Alert, rendered: &RenderedAlert) -> Result<Delivery, PortError> {
        let path = self.dir.join(format!("{}.eml", alert.alert_id));
        std::fs::write(&path, eml(&self.from, alert, rendered)).map_err(io_error("e-mail file"))?;
        Ok(Delivery {
            channel: "file".to_string(),
            reference: Some(path.display().to_string()),
        })
    }
}

/// A log line for one alert: the alert, where it went, and what failed.
#[derive(Debug, Serialize)]
pub struct AlertLogEntry<'a> {
    #[serde(flatten)]
    pub alert: &'a Alert,
    pub deliveries: Vec<Delivery>,
    pub failures: Vec<String>,
}

/// Logs each alert to its kind's log and sends it through every notifier at once
/// (the local stand-in for the alerts queue and `alert-fanout`).
pub struct LocalAlertSink {
    guardian: JsonArrayWriter,
    opportunity: JsonArrayWriter,
    notifiers: Vec<Box<dyn Notifier>>,
    failures: Mutex<u32>,
}

impl LocalAlertSink {
    pub fn new(
        guardian: JsonArrayWriter,
        opportunity: JsonArrayWriter,
        notifiers: Vec<Box<dyn Notifier>>,
    ) -> Self {
        Self {
            guardian,
            opportunity,
            notifiers,
            failures: Mutex::new(0),
        }
    }

    /// Closes both logs; returns how many sends failed.
    pub fn finish(&self) -> std::io::Result<u32> {
        self.guardian.finish()?;
        self.opportunity.finish()?;
        Ok(*self.failures.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl AlertSink for LocalAlertSink {
    async fn submit(&self, alert: &Alert) -> Result<(), PortError> {
        let rendered = render(alert);
        let mut deliveries = Vec::new();
        let mut failures = Vec::new();
        for n in &self.notifiers {
            match n.send(alert, &rendered).await {
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
            alert,
            deliveries,
            failures,
        };
        let log = match alert.kind {
            AlertKind::Guardian => &self.guardian,
            AlertKind::Opportunity => &self.opportunity,
        };
        log.push(&entry).map_err(io_error("alert log"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_array_writer_writes_valid_json_empty_or_not() {
        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, serde_json::json!([]));

        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        w.push(&1).unwrap();
        w.push(&serde_json::json!({"a": "</script>"})).unwrap();
        w.finish().unwrap();
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, serde_json::json!([1, {"a": "</script>"}]));
    }
}
