//! A queue in memory.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::{PortError, Queue};

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
