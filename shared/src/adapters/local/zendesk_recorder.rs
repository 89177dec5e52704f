//! Records every Zendesk call, and forwards it when a live adapter is behind.

use async_trait::async_trait;

use super::io_error;
use super::json_log::JsonArrayWriter;
use crate::domain::Ticket;
use crate::ports::{PortError, ZendeskPort};
use crate::zendesk::ZendeskCall;

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
