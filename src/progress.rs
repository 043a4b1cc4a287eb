//! Progress on stderr for long runs: a bar over the bytes read (import, update, validate) or
//! the users written (export). Shown only when stderr is a terminal and not turned off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A progress bar, or log lines (a server's import), or nothing when progress is off.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    log: Option<Arc<Logged>>,
}

/// Progress said in the log every [`Logged::every`]: a server has no terminal.
struct Logged {
    /// What is read (e.g. `import by admin`).
    what: String,
    every: std::time::Duration,
    last: std::sync::Mutex<std::time::Instant>,
}

impl Progress {
    /// A bar of `total` units (bytes or rows), if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total: Option<u64>, unit_bytes: bool) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress::none();
        }
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let template = if unit_bytes {
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})"
        } else {
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} users ({eta})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Progress {
            bar: Some(bar),
            log: None,
        }
    }

    /// No progress.
    pub fn none() -> Progress {
        Progress {
            bar: None,
            log: None,
        }
    }

    /// Progress as a log line (`ucsv::import`, info) at most every `every`: the bytes of
    /// `what` read so far.
    pub fn logged(what: String, every: std::time::Duration) -> Progress {
        Progress {
            bar: None,
            log: Some(Arc::new(Logged {
                what,
                every,
                last: std::sync::Mutex::new(std::time::Instant::now()),
            })),
        }
    }

    /// Sets the position.
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
        if let Some(l) = &self.log {
            if let Ok(mut last) = l.last.lock() {
                if last.elapsed() >= l.every {
                    *last = std::time::Instant::now();
                    tracing::info!(target: "ucsv::import", bytes = pos, "{}: {pos} bytes read", l.what);
                }
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// A reader that counts the bytes it has read.
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
    digest: Arc<std::sync::Mutex<sha2::Sha256>>,
}

impl<R: Read> Counting<R> {
    /// Wraps a reader; `count` grows as bytes are read, and `digest` takes them in.
    pub fn new(
        inner: R,
        count: Arc<AtomicU64>,
        digest: Arc<std::sync::Mutex<sha2::Sha256>>,
    ) -> Self {
        Counting {
            inner,
            count,
            digest,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        self.digest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .update(&buf[..n]);
        Ok(n)
    }
}

/// The SHA-256 of the bytes read so far, in hex.
pub fn hex_digest(digest: &std::sync::Mutex<sha2::Sha256>) -> String {
    use sha2::Digest;
    let d = digest
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A log sink the test reads.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn logged_progress_says_the_bytes_read_at_most_once_an_interval() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let often = Progress::logged("import by admin".into(), std::time::Duration::ZERO);
            often.set(10);
            often.set(20);
            let seldom =
                Progress::logged("update by bob".into(), std::time::Duration::from_secs(3600));
            seldom.set(5);
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("import by admin: 10 bytes read"), "{text}");
        assert!(text.contains("import by admin: 20 bytes read"), "{text}");
        assert!(!text.contains("update by bob"), "{text}");
    }
}
