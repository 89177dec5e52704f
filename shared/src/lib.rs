//! Zendesk ticket triage: the domain, the pure triage engine, the ports the pipeline
//! talks through, and the adapters behind them. The `triage` CLI and the Lambda
//! functions only wire adapters to [`pipeline::Pipeline`].

pub mod accounts;
pub mod adapters;
pub mod alerts;
pub mod domain;
pub mod engine;
pub mod eval;
pub mod fanout;
pub mod followup;
pub mod incident;
pub mod input;
#[cfg(feature = "learn")]
pub mod learn;
pub mod llm;
pub mod messages;
pub mod pipeline;
pub mod policy;
pub mod ports;
pub mod redact;
pub mod report;
pub mod settings;
pub mod sla;
pub mod text;
pub mod webhook;
pub mod zendesk;
