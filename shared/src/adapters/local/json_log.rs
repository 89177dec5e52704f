//! JSON arrays written element by element on a background thread (the run's logs).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// Something that can be written as one JSON element.
trait Element: Send {
    fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: Serialize + Send> Element for T {
    fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(out, self).map_err(std::io::Error::from)
    }
}

/// Elements handed to the writer thread at once: one wake-up per batch, not per element.
const BATCH: usize = 64;

/// A batch of elements on its way to the writer thread.
type Batch = Vec<Box<dyn Element>>;

/// A JSON array written element by element on a background thread, so that
/// serialising and writing large logs overlaps with triage. Elements are written in
/// the order they are pushed, handed over in batches.
pub struct JsonArrayWriter {
    sender: Mutex<Option<std::sync::mpsc::SyncSender<Batch>>>,
    pending: Mutex<Batch>,
    worker: Mutex<Option<std::thread::JoinHandle<std::io::Result<()>>>>,
    count: std::sync::atomic::AtomicUsize,
}

impl JsonArrayWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self::new(Box::new(BufWriter::with_capacity(
            1 << 16,
            File::create(path)?,
        ))))
    }

    pub fn new(mut out: Box<dyn Write + Send>) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(64);
        let worker = std::thread::spawn(move || -> std::io::Result<()> {
            let mut first = true;
            for element in receiver.into_iter().flatten() {
                out.write_all(if first { b"[\n" } else { b",\n" })?;
                element.write_to(&mut out)?;
                first = false;
            }
            out.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
            out.flush()
        });
        Self {
            sender: Mutex::new(Some(sender)),
            pending: Mutex::new(Vec::with_capacity(BATCH)),
            worker: Mutex::new(Some(worker)),
            count: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub fn push<T: Serialize + Send + 'static>(&self, item: T) -> std::io::Result<()> {
        let sent = {
            // Batches leave in push order: the pending lock is held until the batch is
            // handed over (locks are always taken pending, then sender).
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
            let Some(s) = sender.as_ref() else {
                return Err(std::io::Error::other("the log is already closed"));
            };
            pending.push(Box::new(item));
            self.count
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if pending.len() >= BATCH {
                let batch = std::mem::replace(&mut *pending, Vec::with_capacity(BATCH));
                s.send(batch).is_ok()
            } else {
                true
            }
        };
        if sent {
            Ok(())
        } else {
            // The writer stopped: report its error.
            self.finish()?;
            Err(std::io::Error::other("the log writer stopped"))
        }
    }

    pub fn len(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the array, waits for everything to be written and reports any write
    /// error. Safe to call twice.
    pub fn finish(&self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = &sender
            && !rest.is_empty()
        {
            // A failed send means the writer stopped; its error is reported below.
            let _ = s.send(rest);
        }
        drop(sender);
        match self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the log writer panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for JsonArrayWriter {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_array_writer_writes_valid_json_empty_or_not() {
        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, serde_json::json!([]));

        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        w.push(1).unwrap();
        w.push(serde_json::json!({"a": "</script>"})).unwrap();
        w.finish().unwrap();
        w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, serde_json::json!([1, {"a": "</script>"}]));
    }

    #[test]
    fn json_array_writer_keeps_order_across_batches_and_reports_a_failed_write() {
        let buf = Shared::default();
        let w = JsonArrayWriter::new(Box::new(buf.clone()));
        let n = BATCH * 3 + 5;
        for i in 0..n {
            w.push(i).unwrap();
        }
        assert_eq!(w.len(), n);
        w.finish().unwrap();
        let v: Vec<usize> = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(v, (0..n).collect::<Vec<_>>());
        assert!(w.push(n).is_err(), "a closed log refuses more");

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = JsonArrayWriter::new(Box::new(Full));
        for i in 0..10 {
            w.push(i).unwrap();
        }
        assert_eq!(w.finish().unwrap_err().to_string(), "disk full");
    }
}
