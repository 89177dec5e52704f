//! Alerts as e-mails appended to one mailbox file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use super::io_error;
use crate::alerts::{Alert, eml, render_email};
use crate::ports::{Delivery, Notifier, PortError};

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
