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

use crate::alerts::{Alert, AlertKind, Email, render_email};
use crate::domain::{AccountContext, Decision, SentimentLabel, Ticket, TicketId};
use crate::engine::agents::AgentLoad;
use crate::llm::LlmUsage;
use crate::ports::Decided;
use crate::ports::{
    AlertLedger, AlertSink, Claim, Delivery, Notifier, PortError, Queue, Receipt, StoredDecision,
    StoredTicket, TicketStore, ZendeskPort,
};
use crate::zendesk::ZendeskCall;

#[derive(Default)]
struct MemoryState {
    tickets: HashMap<TicketId, StoredTicket>,
    /// Invocation id → enqueued.
    invocations: HashMap<String, bool>,
    decided: Vec<(TicketId, i64, Option<LlmUsage>)>,
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

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[async_trait]
impl TicketStore for MemoryTicketStore {
    async fn receive(
        &self,
        ticket: &Ticket,
        invocation_id: &str,
        needs_fetch: bool,
    ) -> Result<Receipt, PortError> {
        let mut state = self.lock();
        if let Some(enqueued) = state.invocations.get(invocation_id) {
            return Ok(if *enqueued {
                Receipt::Duplicate
            } else {
                Receipt::NotYetQueued
            });
        }
        state.invocations.insert(invocation_id.to_string(), false);
        if state.tickets.contains_key(&ticket.id) {
            return Ok(Receipt::Duplicate);
        }
        state.tickets.insert(
            ticket.id.clone(),
            StoredTicket {
                ticket: ticket.clone(),
                needs_fetch,
            },
        );
        Ok(Receipt::New)
    }

    async fn mark_enqueued(&self, _id: &TicketId, invocation_id: &str) -> Result<(), PortError> {
        self.lock()
            .invocations
            .insert(invocation_id.to_string(), true);
        Ok(())
    }

    async fn ticket(&self, id: &TicketId) -> Result<Option<StoredTicket>, PortError> {
        Ok(self.lock().tickets.get(id).cloned())
    }

    async fn update_ticket(&self, ticket: &Ticket) -> Result<(), PortError> {
        self.lock().tickets.insert(
            ticket.id.clone(),
            StoredTicket {
                ticket: ticket.clone(),
                needs_fetch: false,
            },
        );
        Ok(())
    }

    async fn decisions_since(&self, since: i64) -> Result<Vec<Decided>, PortError> {
        let state = self.lock();
        Ok(state
            .decided
            .iter()
            .filter(|(_, at, _)| *at >= since)
            .filter_map(|(id, _, llm)| {
                Some(Decided {
                    ticket: state.tickets.get(id)?.ticket.clone(),
                    decision: state.decisions.get(id)?.decision.clone(),
                    llm: llm.clone(),
                })
            })
            .collect())
    }

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

    async fn save_decision(
        &self,
        ticket: &Ticket,
        decision: &Decision,
        llm: Option<&LlmUsage>,
    ) -> Result<bool, PortError> {
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
            state
                .decided
                .push((ticket.id.clone(), now_secs(), llm.cloned()));
            if !state.tickets.contains_key(&ticket.id) {
                state.tickets.insert(
                    ticket.id.clone(),
                    StoredTicket {
                        ticket: ticket.clone(),
                        needs_fetch: false,
                    },
                );
            }
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

/// Messages kept in memory (tests and local runs).
#[derive(Default)]
pub struct MemoryQueue {
    messages: Mutex<Vec<String>>,
}

impl MemoryQueue {
    pub fn messages(&self) -> Vec<String> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, body: String) -> Result<(), PortError> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(body);
        Ok(())
    }
}

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

/// Something that can be written as one JSON element.
trait Element: Send {
    fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: Serialize + Send> Element for T {
    fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(out, self).map_err(std::io::Error::from)
    }
}

/// Elements handed to the writer thread at once: one wake-up per batch, not per element.
const BATCH: usize = 64;

/// A batch of elements on its way to the writer thread.
type Batch = Vec<Box<dyn Element>>;

/// A JSON array written element by element on a background thread, so that
/// serialising and writing large logs overlaps with triage. Elements are written in
/// the order they are pushed, handed over in batches.
pub struct JsonArrayWriter {
    sender: Mutex<Option<std::sync::mpsc::SyncSender<Batch>>>,
    pending: Mutex<Batch>,
    worker: Mutex<Option<std::thread::JoinHandle<std::io::Result<()>>>>,
    count: std::sync::atomic::AtomicUsize,
}

impl JsonArrayWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self::new(Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(path)?,
        ))))
    }

    pub fn new(mut out: Box<dyn Write + Send>) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(64);
        let worker = std::thread::spawn(move || -> std::io::Result<()> {
            let mut first = true;
            for element in receiver.into_iter().flatten() {
                out.write_all(if first { b"[\n" } else { b",\n" })?;
                element.write_to(&mut out)?;
                first = false;
            }
            out.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
            out.flush()
        });
        Self {
            sender: Mutex::new(Some(sender)),
            pending: Mutex::new(Vec::with_capacity(BATCH)),
            worker: Mutex::new(Some(worker)),
            count: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub fn push<T: Serialize + Send + 'static>(&self, item: T) -> std::io::Result<()> {
        let sent = {
            // Batches leave in push order: the pending lock is held until the batch is
            // handed over (locks are always taken pending, then sender).
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
            let Some(s) = sender.as_ref() else {
                return Err(std::io::Error::other("the log is already closed"));
            };
            pending.push(Box::new(item));
            self.count
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if pending.len() >= BATCH {
                let batch = std::mem::replace(&mut *pending, Vec::with_capacity(BATCH));
                s.send(batch).is_ok()
            } else {
                true
            }
        };
        if sent {
            Ok(())
        } else {
            // The writer stopped: report its error.
            self.finish()?;
            Err(std::io::Error::other("the log writer stopped"))
        }
    }

    pub fn len(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the array, waits for everything to be written and reports any write
    /// error. Safe to call twice.
    pub fn finish(&self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = &sender
            && !rest.is_empty()
        {
            // A failed send means the writer stopped; its error is reported below.
            let _ = s.send(rest);
        }
        drop(sender);
        match self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the log writer panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for JsonArrayWriter {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

fn io_error(service: &'static str) -> impl Fn(std::io::Error) -> PortError {
    move |e| PortError::Unavailable {
        service,
        message: e.to_string(),
    }
}

/// Records every Zendesk call to a log; with a live adapter behind it the calls are
/// also sent (`zendesk_api_calls.json` then lists what was sent), without one they are
/// only recorded (demo mode, no credentials).
pub struct RecordingZendesk {
    log: JsonArrayWriter,
    live: Option<Box<dyn ZendeskPort>>,
}

impl RecordingZendesk {
    /// Records only.
    pub fn new(log: JsonArrayWriter) -> Self {
        Self { log, live: None }
    }

    /// Records and sends through `live`.
    pub fn forwarding(log: JsonArrayWriter, live: Box<dyn ZendeskPort>) -> Self {
        Self {
            log,
            live: Some(live),
        }
    }

    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    pub fn finish(&self) -> std::io::Result<usize> {
        self.log.finish()?;
        Ok(self.log.len())
    }
}

#[async_trait]
impl ZendeskPort for RecordingZendesk {
    async fn apply(&self, calls: &[ZendeskCall], replay: bool) -> Result<(), PortError> {
        for c in calls {
            self.log
                .push(c.clone())
                .map_err(io_error("zendesk recorder"))?;
        }
        match &self.live {
            Some(live) => live.apply(calls, replay).await,
            None => Ok(()),
        }
    }

    async fn fetch_ticket(&self, number: u64) -> Result<Ticket, PortError> {
        match &self.live {
            Some(live) => live.fetch_ticket(number).await,
            None => Err(PortError::Rejected {
                service: "zendesk recorder",
                message: format!("ticket {number} cannot be fetched without Zendesk credentials"),
            }),
        }
    }
}

/// Appends each alert as an e-mail (text and HTML parts) to one mailbox file,
/// `alerts.mbox` (mboxrd), which any mail client opens. One file keeps a run of
/// 100,000 tickets from creating tens of thousands of small files.
pub struct MboxNotifier {
    path: PathBuf,
    from: String,
    out: Mutex<BufWriter<File>>,
}

impl MboxNotifier {
    /// Creates (or empties) `dir/alerts.mbox`.
    pub fn create(dir: &Path, from: String) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("alerts.mbox");
        let out = Mutex::new(BufWriter::with_capacity(1 << 16, File::create(&path)?));
        Ok(Self { path, from, out })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn finish(&self) -> std::io::Result<()> {
        self.out.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// An RFC 5322 message with a text and an HTML part.
pub fn eml(from: &str, alert: &Alert, rendered: &Email) -> String {
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
impl Notifier for MboxNotifier {
    fn channel(&self) -> &'static str {
        "file"
    }

    async fn send(&self, alert: &Alert) -> Result<Delivery, PortError> {
        let message = eml(&self.from, alert, &render_email(alert));
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
            ))
            .unwrap_or_default();
        let mut entry = format!("From triage@localhost {date}\n");
        for line in message.split("\r\n") {
            // mboxrd: a line that could be read as a separator gets one more '>'.
            if line.trim_start_matches('>').starts_with("From ") {
                entry.push('>');
            }
            entry.push_str(line);
            entry.push('\n');
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(entry.as_bytes())
            .map_err(io_error("mailbox file"))?;
        Ok(Delivery {
            channel: self.channel().to_string(),
            reference: Some(format!("{}#{}", self.path.display(), alert.alert_id)),
        })
    }
}

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
        };
        log.push(entry).map_err(io_error("alert log"))
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
        w.push(1).unwrap();
        w.push(serde_json::json!({"a": "</script>"})).unwrap();
        w.finish().unwrap();
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, serde_json::json!([1, {"a": "</script>"}]));
    }

    #[test]
    fn json_array_writer_keeps_order_across_batches_and_reports_a_failed_write() {
        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        let n = BATCH * 3 + 5;
        for i in 0..n {
            w.push(i).unwrap();
        }
        assert_eq!(w.len(), n);
        w.finish().unwrap();
        let v: Vec<usize> = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, (0..n).collect::<Vec<_>>());
        assert!(w.push(n).is_err(), "a closed log refuses more");

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = JsonArrayWriter::new(Box::new(Full));
        for i in 0..10 {
            w.push(i).unwrap();
        }
        assert_eq!(w.finish().unwrap_err().to_string(), "disk full");
    }
}
