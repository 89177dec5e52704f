//! Reading tickets from CSV (the brief's format) without losing any: every bad row is
//! reported with its line number and the reason, and every other row is still read.
//!
//! Columns: `ticket_id,customer_name,subject,description,actual_priority,channel,
//! timestamp,mrr` in any order; extra columns are ignored. Label columns
//! (`actual_priority`, `actual_team`, `actual_churn`, `actual_opportunity`,
//! `actual_language`, `actual_incident`) are read into
//! [`Labels`], kept apart from the [`Ticket`] that the engine sees.

use std::io::Read;

use serde::Serialize;

use crate::domain::{Priority, Team, Ticket, TicketId};

/// Human labels for evaluation. Never given to the engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Labels {
    pub priority: Option<Priority>,
    pub team: Option<Team>,
    pub churn: Option<bool>,
    pub opportunity: Option<bool>,
    /// The ticket's language as labelled (`actual_language`), for per-language figures.
    pub language: Option<String>,
    /// The outage the ticket belongs to (`actual_incident`; empty: normal traffic), for
    /// scoring incidents across accounts.
    pub incident: Option<String>,
}

impl Labels {
    pub fn is_empty(&self) -> bool {
        self.priority.is_none()
            && self.team.is_none()
            && self.churn.is_none()
            && self.opportunity.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct InputRow {
    /// Line of the file where the row starts (1 is the header).
    pub line: u64,
    pub ticket: Ticket,
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row was read, with something fixed or ignored.
    Warning,
    /// The row could not be used.
    Rejected,
    /// The row was read but its ticket could not be triaged (a service refused it);
    /// the run went on with the others.
    Failed,
}

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputIssue {
    pub line: u64,
    pub ticket_id: Option<String>,
    pub severity: Severity,
    pub message: String,
}

impl std::fmt::Display for InputIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.severity {
            Severity::Warning => "warning",
            Severity::Rejected => "row skipped",
            Severity::Failed => "not triaged",
        };
        write!(f, "line {}: {what}: ", self.line)?;
        if let Some(id) = &self.ticket_id {
            write!(f, "ticket {id}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The channels Zendesk's `via` gives and the CSV format names.
const KNOWN_CHANNELS: &[&str] = &[
    "email",
    "chat",
    "web_form",
    "web",
    "api",
    "phone",
    "voice",
    "sms",
    "messaging",
    "mobile",
];

/// Whether a timestamp reads as one (`2025-11-14 09:23[:45]`, `2025-11-14`, RFC 3339).
fn readable_time(t: &str) -> bool {
    crate::domain::parse_time(t).is_some()
}

/// Problems that make the whole file unusable.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot open {path}: {reason}")]
    Open {
        path: String,
        reason: std::io::Error,
    },
    #[error("cannot read the header line: {0}")]
    Header(String),
    #[error("the header has no `{0}` column (found: {1})")]
    MissingColumn(&'static str, String),
}

#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    ticket_id: usize,
    customer_name: Option<usize>,
    subject: Option<usize>,
    description: Option<usize>,
    channel: Option<usize>,
    timestamp: Option<usize>,
    mrr: Option<usize>,
    organization_id: Option<usize>,
    requester_email: Option<usize>,
    actual_priority: Option<usize>,
    actual_team: Option<usize>,
    actual_churn: Option<usize>,
    actual_opportunity: Option<usize>,
    actual_language: Option<usize>,
    actual_incident: Option<usize>,
}

/// Reads tickets row by row. Iterate it for rows; problems are yielded as `Err`.
pub struct TicketReader<R: Read> {
    reader: csv::Reader<R>,
    columns: Columns,
    width: usize,
    max_description_chars: usize,
    record: csv::ByteRecord,
    /// Ticket ids read so far, with their line.
    seen: std::collections::HashMap<TicketId, u64>,
    /// The line of the last record (the header is line 1).
    last_line: u64,
    done: bool,
    pending: std::collections::VecDeque<Item>,
}

impl TicketReader<std::fs::File> {
    pub fn open(path: &std::path::Path, max_description_chars: usize) -> Result<Self, InputError> {
        let file = std::fs::File::open(path).map_err(|reason| InputError::Open {
            path: path.display().to_string(),
            reason,
        })?;
        Self::new(file, max_description_chars)
    }
}

impl<R: Read> TicketReader<R> {
    pub fn new(source: R, max_description_chars: usize) -> Result<Self, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(source);
        let headers = reader
            .byte_headers()
            .map_err(|e| InputError::Header(e.to_string()))?
            .clone();
        let names: Vec<String> = headers
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let listed = names.join(", ");
        let ticket_id = find("ticket_id")
            .ok_or_else(|| InputError::MissingColumn("ticket_id", listed.clone()))?;
        let columns = Columns {
            ticket_id,
            customer_name: find("customer_name"),
            subject: find("subject"),
            description: find("description"),
            channel: find("channel"),
            timestamp: find("timestamp").or_else(|| find("created_at")),
            mrr: find("mrr"),
            organization_id: find("organization_id"),
            requester_email: find("requester_email"),
            actual_priority: find("actual_priority"),
            actual_team: find("actual_team"),
            actual_churn: find("actual_churn"),
            actual_opportunity: find("actual_opportunity"),
            actual_language: find("actual_language"),
            actual_incident: find("actual_incident"),
        };
        if columns.subject.is_none() && columns.description.is_none() {
            return Err(InputError::MissingColumn("description", listed));
        }
        Ok(Self {
            reader,
            columns,
            width: names.len(),
            max_description_chars,
            record: csv::ByteRecord::new(),
            seen: std::collections::HashMap::new(),
            last_line: 1,
            done: false,
            pending: std::collections::VecDeque::new(),
        })
    }

    /// Bytes of the file read so far (for progress bars).
    pub fn byte_offset(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Whether the file carries priority labels.
    pub fn has_labels(&self) -> bool {
        self.columns.actual_priority.is_some()
    }

    fn row(&mut self, line: u64) -> Result<InputRow, InputIssue> {
        let record = &self.record;
        let mut warnings: Vec<String> = Vec::new();
        let field = |i: Option<usize>, name: &str, warnings: &mut Vec<String>| -> String {
            let Some(bytes) = i.and_then(|i| record.get(i)) else {
                return String::new();
            };
            match std::str::from_utf8(bytes) {
                Ok(s) => s.trim().to_string(),
                Err(_) => {
                    warnings.push(format!(
                        "`{name}` is not valid UTF-8; unreadable bytes were replaced with \u{fffd}"
                    ));
                    String::from_utf8_lossy(bytes).trim().to_string()
                }
            }
        };
        let raw_id = field(Some(self.columns.ticket_id), "ticket_id", &mut warnings);
        let reject = |message: String| InputIssue {
            line,
            ticket_id: (!raw_id.is_empty()).then(|| raw_id.clone()),
            severity: Severity::Rejected,
            message,
        };
        if record.len() != self.width {
            return Err(reject(format!(
                "expected {} fields, found {} (check quoting)",
                self.width,
                record.len()
            )));
        }
        let id = TicketId::parse(&raw_id).map_err(|e| reject(e.to_string()))?;
        if let Some(first) = self.seen.get(&id) {
            return Err(reject(format!(
                "ticket id {id} was read at line {first} already; the first copy is used and this one skipped"
            )));
        }
        let subject = field(self.columns.subject, "subject", &mut warnings);
        let mut description = field(self.columns.description, "description", &mut warnings);
        if description.is_empty() && subject.is_empty() {
            return Err(reject("subject and description are both empty".to_string()));
        }
        if description.is_empty() {
            warnings.push("description is empty; triaged from the subject alone".to_string());
        }
        let chars = description.chars().count();
        if chars > self.max_description_chars {
            let cut = description
                .char_indices()
                .nth(self.max_description_chars)
                .map_or(description.len(), |(i, _)| i);
            description.truncate(cut);
            warnings.push(format!(
                "description is {chars} characters; only the first {} are read",
                self.max_description_chars
            ));
        }
        let mrr_text = field(self.columns.mrr, "mrr", &mut warnings);
        let mrr = if mrr_text.is_empty() {
            None
        } else {
            let cleaned: String = mrr_text
                .chars()
                .filter(|c| !matches!(c, '$' | '€' | '£' | ',' | '_' | ' '))
                .collect();
            match cleaned.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    warnings.push(format!(
                        "mrr {mrr_text:?} is not a non-negative number; treated as unknown"
                    ));
                    None
                }
            }
        };
        let opt = |s: String| (!s.is_empty()).then_some(s);
        let channel = field(self.columns.channel, "channel", &mut warnings);
        if !channel.is_empty() && !KNOWN_CHANNELS.contains(&channel.to_ascii_lowercase().as_str()) {
            warnings.push(format!(
                "channel {channel:?} is not one of {}; kept as given",
                KNOWN_CHANNELS.join(", ")
            ));
        }
        let mut created_at = opt(field(self.columns.timestamp, "timestamp", &mut warnings));
        if let Some(t) = created_at.take_if(|t| !readable_time(t)) {
            warnings.push(format!(
                "timestamp {t:?} is not a date and time (2025-11-14 09:23, or RFC 3339); the ticket has no creation time"
            ));
        }
        let ticket = Ticket {
            id,
            customer_name: field(self.columns.customer_name, "customer_name", &mut warnings),
            subject,
            description,
            channel,
            created_at,
            mrr,
            organization_id: opt(field(
                self.columns.organization_id,
                "organization_id",
                &mut warnings,
            )),
            requester_email: opt(field(
                self.columns.requester_email,
                "requester_email",
                &mut warnings,
            )),
            tags: Vec::new(),
        };
        let mut labels = Labels::default();
        let label = field(
            self.columns.actual_priority,
            "actual_priority",
            &mut warnings,
        );
        if !label.is_empty() {
            match label.parse::<Priority>() {
                Ok(p) => labels.priority = Some(p),
                Err(e) => warnings.push(format!("actual_priority ignored: {e}")),
            }
        }
        let team = field(self.columns.actual_team, "actual_team", &mut warnings);
        if !team.is_empty() {
            match team.parse::<Team>() {
                Ok(t) => labels.team = Some(t),
                Err(e) => warnings.push(format!("actual_team ignored: {e}")),
            }
        }
        for (col, name, slot) in [
            (self.columns.actual_churn, "actual_churn", &mut labels.churn),
            (
                self.columns.actual_opportunity,
                "actual_opportunity",
                &mut labels.opportunity,
            ),
        ] {
            let v = field(col, name, &mut warnings);
            if v.is_empty() {
                continue;
            }
            match v.to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" | "1" => *slot = Some(true),
                "no" | "n" | "false" | "0" => *slot = Some(false),
                _ => warnings.push(format!("{name} {v:?} ignored: expected yes or no")),
            }
        }
        let language = field(
            self.columns.actual_language,
            "actual_language",
            &mut warnings,
        );
        if !language.is_empty() {
            labels.language = Some(language.to_ascii_lowercase());
        }
        if self.columns.actual_incident.is_some() {
            let outage = field(
                self.columns.actual_incident,
                "actual_incident",
                &mut warnings,
            );
            labels.incident = Some(outage.trim().to_string());
        }
        for w in warnings {
            self.pending.push_back(Item::Issue(InputIssue {
                line,
                ticket_id: Some(ticket.id.to_string()),
                severity: Severity::Warning,
                message: w,
            }));
        }
        self.seen.insert(ticket.id.clone(), line);
        Ok(InputRow {
            line,
            ticket,
            labels,
        })
    }
}

/// One item from the reader: a row, or a problem (a warning about the row that comes
/// next, or a rejected row).
#[derive(Debug)]
pub enum Item {
    Row(Box<InputRow>),
    Issue(InputIssue),
}

impl<R: Read> Iterator for TicketReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        if self.done {
            return None;
        }
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    // The reader counts `\n`; a file with bare `\r` line ends would
                    // give a record the header's line. Lines only go forward.
                    let line = self
                        .record
                        .position()
                        .map_or(0, |p| p.line())
                        .max(self.last_line + 1);
                    self.last_line = line;
                    if self
                        .record
                        .iter()
                        .all(|f| f.iter().all(u8::is_ascii_whitespace))
                    {
                        continue; // blank line
                    }
                    return match self.row(line) {
                        Ok(row) => {
                            // Warnings come first, so they print before the row's result.
                            self.pending.push_back(Item::Row(Box::new(row)));
                            self.pending.pop_front()
                        }
                        Err(issue) => Some(Item::Issue(issue)),
                    };
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        self.done = true;
                    }
                    return Some(Item::Issue(InputIssue {
                        line,
                        ticket_id: None,
                        severity: Severity::Rejected,
                        message: format!("unreadable CSV: {e}"),
                    }));
                }
            }
        }
    }
}
