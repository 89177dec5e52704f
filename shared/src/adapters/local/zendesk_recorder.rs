//! Records every Zendesk call, and forwards it when a live adapter is behind.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

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
    /// Tickets created while only recording: external id to a stand-in number.
    created: Mutex<HashMap<String, u64>>,
}

/// Stand-in numbers of tickets created while only recording start here.
const RECORDED_TICKETS_FROM: u64 = 900_000_001;

impl RecordingZendesk {
    /// Records only.
    pub fn new(log: JsonArrayWriter) -> Self {
        Self {
            log,
            live: None,
            created: Mutex::default(),
        }
    }

    /// Records and sends through `live`.
    pub fn forwarding(log: JsonArrayWriter, live: Box<dyn ZendeskPort>) -> Self {
        Self {
            log,
            live: Some(live),
            created: Mutex::default(),
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

    async fn create_ticket(&self, external_id: &str, body: &Value) -> Result<u64, PortError> {
        if let Some(live) = &self.live {
            let number = live.create_ticket(external_id, body).await?;
            self.log
                .push(ZendeskCall {
                    method: "POST".into(),
                    path: "/api/v2/tickets.json".into(),
                    body: body.clone(),
                })
                .map_err(io_error("zendesk recorder"))?;
            return Ok(number);
        }
        let mut created = self.created.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = created.get(external_id) {
            return Ok(*n);
        }
        let number = RECORDED_TICKETS_FROM + created.len() as u64;
        created.insert(external_id.to_string(), number);
        self.log
            .push(ZendeskCall {
                method: "POST".into(),
                path: "/api/v2/tickets.json".into(),
                body: body.clone(),
            })
            .map_err(io_error("zendesk recorder"))?;
        Ok(number)
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
