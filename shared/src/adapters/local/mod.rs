//! Local adapters, one per part: an in-memory ticket store, incident store, queue and
//! alert ledger (tests and `triage run`), JSON logs written as the run goes (so that
//! 100,000 tickets never sit in memory), a Zendesk recorder, a mailbox-file notifier, and the
//! alert sink that logs and notifies in one step.

pub mod alert_ledger;
pub mod alert_sink;
pub mod incident_store;
pub mod json_log;
pub mod mbox;
pub mod queue;
pub mod ticket_store;
pub mod zendesk_recorder;

pub use alert_ledger::MemoryAlertLedger;
pub use alert_sink::{AlertLogEntry, LocalAlertSink};
pub use incident_store::MemoryIncidentStore;
pub use json_log::JsonArrayWriter;
pub use mbox::MboxNotifier;
pub use queue::MemoryQueue;
pub use ticket_store::MemoryTicketStore;
pub use zendesk_recorder::RecordingZendesk;

use crate::ports::PortError;

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(super) fn io_error(service: &'static str) -> impl Fn(std::io::Error) -> PortError {
    move |e| PortError::Unavailable {
        service,
        message: e.to_string(),
    }
}
