//! Bodies that stream: a request body read as a blocking [`Read`] by the pipeline as it
//! arrives (never held whole), and a response body written by a blocking task as it goes
//! ([`streamed`]).

use super::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use std::io::{self, Read, Write};

/// A body over the limit (`--max-body`): the read fails with it, and the request is a 413.
#[derive(Debug)]
pub struct TooLarge(pub u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body is larger than the server accepts ({} bytes)",
            self.0
        )
    }
}

impl std::error::Error for TooLarge {}

/// A body that stopped arriving for longer than the server waits (`--body-timeout`): the
/// read fails with it, the run rolls back, and the request is a 408. A client that stalls
/// mid-upload must not hold an SQLite database's write lock for ever.
#[derive(Debug)]
pub struct Stalled(pub std::time::Duration);

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body stopped arriving for {} s: nothing was written",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for Stalled {}

/// 413 when the request says its body is larger than `max`.
pub fn check_length(headers: &HeaderMap, max: u64) -> Result<(), ApiError> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n > max => Err(too_large(max)),
        _ => Ok(()),
    }
}

/// The 413 answer.
pub fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body.too_large",
        TooLarge(max).to_string(),
    )
}

/// The body as a blocking reader, failing with [`TooLarge`] past `max` bytes and with
/// [`Stalled`] when no bytes come for `idle`. Made on the async side, read on a blocking
/// thread.
pub fn reader(body: Body, max: u64, idle: std::time::Duration) -> Box<dyn Read + Send> {
    let state = (body.into_data_stream(), 0u64, false);
    let stream = futures_util::stream::unfold(state, move |(mut s, mut seen, over)| async move {
        if over {
            return None;
        }
        let failed = |e: io::Error, s, seen| Some((Err(e), (s, seen, true)));
        match tokio::time::timeout(idle, s.next()).await {
            Err(_) => failed(io::Error::other(Stalled(idle)), s, seen),
            Ok(None) => None,
            Ok(Some(Err(e))) => failed(io::Error::other(e), s, seen),
            Ok(Some(Ok(bytes))) => {
                seen += bytes.len() as u64;
                if seen > max {
                    failed(io::Error::other(TooLarge(max)), s, seen)
                } else {
                    Some((Ok(bytes), (s, seen, false)))
                }
            }
        }
    });
    Box::new(tokio_util::io::SyncIoBridge::new(
        tokio_util::io::StreamReader::new(Box::pin(stream)),
    ))
}

/// The whole body, up to `max` bytes (for JSON objects).
pub async fn bytes(body: Body, max: u64) -> Result<Bytes, ApiError> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(max))
}

/// A response body fed by a blocking writer, in chunks.
pub struct Chunks {
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

/// Runs `work` on a blocking thread (or on the threads `on`) and answers with what it
/// writes. `work` calls its
/// `ready` argument once it knows the request succeeds (before writing): an error before
/// that is the answer (its status and JSON); an error after it cuts the body short, which
/// the client sees as a broken transfer, never as a complete one.
pub async fn streamed(
    content_type: &'static str,
    on: Option<std::sync::Arc<rayon::ThreadPool>>,
    work: impl FnOnce(&mut dyn FnMut(), &mut Chunks) -> Result<(), ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
    let job = move || {
        let mut out = Chunks {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let mut ready_tx = Some(ready_tx);
        let mut ready = || {
            if let Some(r) = ready_tx.take() {
                let _ = r.send(Ok(()));
            }
        };
        let result = work(&mut ready, &mut out);
        let result = result.and_then(|()| {
            ready();
            out.flush().or(Ok(()))
        });
        if let Err(e) = result {
            match ready_tx.take() {
                Some(r) => {
                    let _ = r.send(Err(e));
                }
                None => {
                    let _ = out
                        .tx
                        .blocking_send(Err(io::Error::other("the response failed half-way")));
                }
            }
        }
    };
    // On the given threads (the readers), or else on a blocking thread of the runtime.
    match on {
        Some(pool) => pool.spawn(job),
        None => drop(tokio::task::spawn_blocking(job)),
    }
    match ready_rx.await {
        Ok(Ok(())) => {
            let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
            Ok((
                [(header::CONTENT_TYPE, content_type)],
                Body::from_stream(stream),
            )
                .into_response())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::internal(
            "the request's work stopped unexpectedly",
        )),
    }
}
