//! Physical line numbers. The CSV reader places a record just after the previous record's
//! terminator, before any blank lines and before the `\n` of a CRLF; this tap keeps the
//! recent text so that the record's real first line can be found.

use std::io::Read;
use std::sync::{Arc, Mutex};

/// The text read but not yet placed, shared between the tap and the source.
#[derive(Debug, Default)]
pub struct Recent {
    /// Offset of `buf[start]` in the stream.
    base: u64,
    start: usize,
    buf: Vec<u8>,
}

impl Recent {
    /// The line of a record placed by the CSV reader at (`line`, `byte`): the line after
    /// the blank lines and line-feeds that follow `byte`. Forgets the text before `byte`.
    pub fn first_line(&mut self, line: u64, byte: u64) -> u64 {
        let skip = (byte.saturating_sub(self.base) as usize).min(self.buf.len() - self.start);
        self.start += skip;
        self.base += skip as u64;
        let newlines = self.buf[self.start..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|b| **b == b'\n')
            .count() as u64;
        // Compact now and then, not on every record.
        if self.start > (1 << 20) && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        line + newlines
    }

    /// The text from the record last placed by [`Recent::first_line`] up to the stream
    /// offset `end` (the CSV reader's position after the record): the record's raw text,
    /// possibly with blank lines before it and its terminator.
    pub fn text(&self, end: u64) -> &[u8] {
        let len = (end.saturating_sub(self.base) as usize).min(self.buf.len() - self.start);
        &self.buf[self.start..self.start + len]
    }
}

/// A reader that keeps what passes through it in a shared [`Recent`].
pub struct Tap<R> {
    inner: R,
    recent: Arc<Mutex<Recent>>,
}

impl<R: Read> Tap<R> {
    /// Wraps `inner`; returns the tap and the shared text.
    pub fn new(inner: R) -> (Self, Arc<Mutex<Recent>>) {
        let recent = Arc::new(Mutex::new(Recent::default()));
        (
            Tap {
                inner,
                recent: recent.clone(),
            },
            recent,
        )
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        if let Ok(mut r) = self.recent.lock() {
            r.buf.extend_from_slice(&out[..n]);
        }
        Ok(n)
    }
}
