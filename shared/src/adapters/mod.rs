//! Adapters behind the ports.

pub mod local;
