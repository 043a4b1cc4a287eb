//! Progress on stderr for long runs: a bar over the bytes read (import, update, validate) or
//! the users written (export). Shown only when stderr is a terminal and not turned off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A progress bar, or nothing when progress is off.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `total` units (bytes or rows), if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total: Option<u64>, unit_bytes: bool) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
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
        Progress { bar: Some(bar) }
    }

    /// No progress.
    pub fn none() -> Progress {
        Progress { bar: None }
    }

    /// Sets the position.
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
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
