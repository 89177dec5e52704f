//! The report builder, run on a schedule (EventBridge) or by hand: reads the decisions
//! of a window from DynamoDB (the by-day index, no scan), renders the same dashboard
//! and metrics as `triage run`, publishes them to the private bucket
//! (`reports/latest/`, plus a dated copy) and returns a presigned link.
//!
//! Each run also reads the incidents of the window for the dashboard, and warns the
//! teams' leads about service-level clocks past the policy's share (once per ticket
//! and stage, through the alerts queue).
//!
//! A manual invocation may pass `{"window_days": N}`; a scheduled event uses the
//! configured window.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};
use time::OffsetDateTime;
use triage_shared::alerts::AlertRouting;
use triage_shared::engine::agents::AgentDirectory;
use triage_shared::fanout::warn_sla;
use triage_shared::policy::Policy;
use triage_shared::ports::{AlertLedger, IncidentStore, Queue, ReportSink, TicketStore};
use triage_shared::report::{Caps, ReportBuilder, html};
use triage_shared::settings::{Env, SettingsError};

pub const LATEST_PAGE: &str = "reports/latest/index.html";
pub const LATEST_METRICS: &str = "reports/latest/metrics_summary.json";

/// The report builder's own settings (the shared ones are in `FunctionConfig`).
#[derive(Debug, Clone)]
pub struct Config {
    pub window_days: u32,
    pub link_expiry_secs: u64,
}

impl Config {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, SettingsError> {
        Ok(Self {
            window_days: env.parse("REPORT_WINDOW_DAYS")?.unwrap_or(7),
            link_expiry_secs: env.parse("REPORT_LINK_EXPIRY_SECS")?.unwrap_or(3600),
        })
    }
}

/// What the handler needs, built once in `main`.
pub struct Deps<'a> {
    pub store: &'a dyn TicketStore,
    pub sink: &'a dyn ReportSink,
    pub policy: &'a Policy,
    pub window_days: u32,
    pub link_expiry_secs: u64,
    pub incidents: &'a dyn IncidentStore,
    /// Where service-level warnings go.
    pub warnings: Warnings<'a>,
}

/// What the service-level warnings need.
pub struct Warnings<'a> {
    pub ledger: &'a dyn AlertLedger,
    pub queue: &'a dyn Queue,
    pub agents: &'a AgentDirectory,
    pub routing: &'a AlertRouting,
}

pub async fn handle(deps: &Deps<'_>, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let window = event
        .payload
        .get("window_days")
        .and_then(Value::as_u64)
        .map_or(deps.window_days, |w| w.clamp(1, 366) as u32);
    let now = OffsetDateTime::now_utc();
    let since = now.unix_timestamp() - i64::from(window) * 86_400;
    let decisions = deps.store.decisions_since(since).await?;
    let w = &deps.warnings;
    let warned = warn_sla(
        &decisions,
        now.unix_timestamp(),
        deps.policy.sla.warn_at,
        w.agents,
        w.routing,
        w.ledger,
        w.queue,
    )
    .await?;
    let mut builder = ReportBuilder::new(deps.policy, Caps::default());
    builder.as_of(now.unix_timestamp());
    for d in &decisions {
        builder.add(&d.ticket, &d.decision, None, None, &d.progress);
        if let Some(usage) = &d.llm {
            builder.add_llm(usage);
        }
    }
    let mut incidents: Vec<_> = deps
        .incidents
        .incidents(since)
        .await?
        .into_iter()
        .map(|s| s.incident)
        .collect();
    incidents.sort_by(|a, b| (a.declared_at, &a.id).cmp(&(b.declared_at, &b.id)));
    let declared = incidents.len();
    builder.incidents(incidents);
    let stamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let report = builder.finish(
        &[],
        stamp,
        format!("the last {window} day(s) of triage decisions"),
    );
    let page = html::render(&report).into_bytes();
    let metrics = serde_json::to_vec_pretty(&report.metrics)?;
    let dated = format!(
        "reports/{:04}-{:02}-{:02}/{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    deps.sink
        .put(
            &format!("{dated}/index.html"),
            page.clone(),
            "text/html; charset=utf-8",
        )
        .await?;
    deps.sink
        .put(
            &format!("{dated}/metrics_summary.json"),
            metrics.clone(),
            "application/json",
        )
        .await?;
    deps.sink
        .put(LATEST_PAGE, page, "text/html; charset=utf-8")
        .await?;
    deps.sink
        .put(LATEST_METRICS, metrics, "application/json")
        .await?;
    let link = deps.sink.link(LATEST_PAGE, deps.link_expiry_secs).await?;
    tracing::info!(tickets = decisions.len(), window_days = window, incidents = declared, sla_warnings = warned, report = LATEST_PAGE, link = %link, "report published");
    Ok(json!({
        "tickets": decisions.len(),
        "incidents": declared,
        "sla_warnings": warned,
        "window_days": window,
        "report": LATEST_PAGE,
        "dated_report": format!("{dated}/index.html"),
        "metrics": LATEST_METRICS,
        "link": link,
        "link_expires_in_secs": deps.link_expiry_secs,
    }))
}
