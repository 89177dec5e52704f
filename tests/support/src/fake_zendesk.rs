//! A fake Zendesk that keeps state: tickets with their comments and `updated_at`
//! stamp, tags, and a rule the real one does not have but that makes duplicates
//! visible: a second internal note with the same `triage-ref` is refused (422) and
//! counted. Tickets can be created (`POST /api/v2/tickets.json`, found again by
//! `external_id`), and the type and `problem_id` an update sets are kept, so that
//! tests see problem tickets and the incidents linked to them. Latency is
//! configurable, to widen the windows in which duplicate deliveries race.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use triage_shared::zendesk::find_reference;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Debug, Default)]
struct Ticket {
    stamp: u64,
    comments: Vec<String>,
    priority: Option<String>,
}

/// What the fake saw.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    /// Internal notes accepted, per ticket number.
    pub notes: HashMap<String, u32>,
    /// Second notes refused (each one a duplicate the product tried to post).
    pub refused_duplicates: u32,
    /// Updates refused because the ticket changed meanwhile (409).
    pub conflicts: u32,
    pub requests: u32,
    /// Tickets created: (external id, number, body).
    pub created: Vec<(String, u64, Value)>,
    /// Ticket number → the problem ticket an update linked it to.
    pub problem_of: HashMap<String, u64>,
    /// Ticket number → the latest priority an update set.
    pub priority: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct State {
    tickets: Arc<Mutex<HashMap<String, Ticket>>>,
    counts: Arc<Mutex<Counts>>,
}

struct Responder {
    state: State,
    latency: Duration,
}

fn number_of(path: &str) -> String {
    path.trim_start_matches("/api/v2/tickets/")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_string();
        let number = number_of(&path);
        self.state.counts.lock().unwrap().requests += 1;
        let mut tickets = self.state.tickets.lock().unwrap();
        let ticket = tickets.entry(number.clone()).or_default();
        let reply = match (request.method.as_str(), path.as_str()) {
            ("GET", "/api/v2/tickets.json") => {
                let wanted = request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "external_id")
                    .map(|(_, v)| v.to_string());
                let counts = self.state.counts.lock().unwrap();
                let found: Vec<Value> = counts
                    .created
                    .iter()
                    .filter(|(e, _, _)| Some(e) == wanted.as_ref())
                    .map(|(e, n, _)| json!({"id": n, "external_id": e}))
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"tickets": found, "count": found.len()}))
            }
            ("POST", "/api/v2/tickets.json") => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let external = body["ticket"]["external_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let mut counts = self.state.counts.lock().unwrap();
                let number = 90_001 + counts.created.len() as u64;
                counts.created.push((external, number, body));
                ResponseTemplate::new(201).set_body_json(json!({"ticket": {"id": number}}))
            }
            ("PUT", p) if p.ends_with("/tags") => {
                ResponseTemplate::new(200).set_body_json(json!({"tags": []}))
            }
            ("GET", p) if p.ends_with("/comments.json") => {
                let comments: Vec<Value> = ticket
                    .comments
                    .iter()
                    .rev()
                    .enumerate()
                    .map(|(i, c)| json!({"id": i, "body": c, "plain_body": c, "public": false}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({"comments": comments}))
            }
            ("GET", p) if p.ends_with(".json") => ResponseTemplate::new(200).set_body_json(json!({
                "ticket": {"id": number.parse::<u64>().unwrap_or(0), "status": "open",
                           "updated_at": format!("2026-12-01T00:00:{:02}Z", ticket.stamp % 60),
                           "assignee_id": null, "priority": ticket.priority}
            })),
            ("PUT", p) if p.ends_with(".json") => {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let t = &body["ticket"];
                let stamp = format!("2026-12-01T00:00:{:02}Z", ticket.stamp % 60);
                if t["safe_update"] == true && t["updated_stamp"].as_str() != Some(stamp.as_str()) {
                    self.state.counts.lock().unwrap().conflicts += 1;
                    return ResponseTemplate::new(409)
                        .set_body_json(json!({"error": "UpdateConflict"}))
                        .set_delay(self.latency);
                }
                if let Some(note) = t["comment"]["body"].as_str() {
                    let reference = find_reference(note).unwrap_or(note).to_string();
                    if ticket.comments.iter().any(|c| c.contains(&reference)) {
                        self.state.counts.lock().unwrap().refused_duplicates += 1;
                        return ResponseTemplate::new(422)
                            .set_body_json(
                                json!({"error": "RecordInvalid", "description": "duplicate note"}),
                            )
                            .set_delay(self.latency);
                    }
                    ticket.comments.push(note.to_string());
                    *self
                        .state
                        .counts
                        .lock()
                        .unwrap()
                        .notes
                        .entry(number.clone())
                        .or_default() += 1;
                }
                ticket.stamp += 1;
                let mut counts = self.state.counts.lock().unwrap();
                if let Some(problem) = t["problem_id"].as_u64() {
                    counts.problem_of.insert(number.clone(), problem);
                }
                if let Some(p) = t["priority"].as_str() {
                    ticket.priority = Some(p.to_string());
                    counts.priority.insert(number, p.to_string());
                }
                ResponseTemplate::new(200).set_body_json(json!({"ticket": {}}))
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"error": "RecordNotFound"})),
        };
        reply.set_delay(self.latency)
    }
}

/// A running fake Zendesk.
pub struct FakeZendesk {
    pub server: MockServer,
    state: State,
}

impl FakeZendesk {
    pub async fn start(latency: Duration) -> Self {
        let server = MockServer::start().await;
        let state = State::default();
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                state: state.clone(),
                latency,
            })
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub fn counts(&self) -> Counts {
        self.state.counts.lock().unwrap().clone()
    }
}
