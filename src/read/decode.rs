//! Decoding: the byte stream becomes UTF-8 text, once, at the edge of the reader.
//!
//! A BOM selects UTF-8 or UTF-16 (it wins over `--encoding`, as the file knows best);
//! otherwise `--encoding` names the encoding; otherwise the bytes pass through untouched and
//! are checked as UTF-8 record by record (so the error can name the record's line).
//!
//! Decoding never replaces a malformed sequence with U+FFFD: a lone UTF-16 surrogate or a
//! byte sequence that is not in the named encoding stops the read with the physical line
//! where it is, as invalid UTF-8 does. The decoder delivers the good text before the bad
//! sequence first, and fails on the next read.

use crate::error::{Error, Result};
use encoding_rs::{DecoderResult, Encoding};
use std::io::{self, Cursor, Read};

/// Input read from the underlying stream at a time.
const CHUNK: usize = 1 << 16;

/// A malformed sequence met while decoding; travels inside an [`io::Error`] through the CSV
/// reader, and is turned into a fatal [`Error::Decode`] by [`io_error`].
#[derive(Debug)]
pub struct Malformed {
    /// The physical line of the sequence (1-based).
    pub line: u64,
    /// The encoding's name, e.g. `UTF-16LE`.
    pub encoding: &'static str,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is not valid {}", self.line, self.encoding)
    }
}

impl std::error::Error for Malformed {}

/// Turns an I/O error of the decoded stream into the fatal error to report: a malformed
/// sequence names its line, anything else is a read failure.
pub fn io_error(path: &str, e: io::Error) -> Error {
    if let Some(m) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Malformed>())
    {
        let help = if m.encoding.starts_with("UTF-16") {
            "the line holds a broken character (a lone surrogate or a truncated code unit): \
             fix it, or export the file again"
                .to_string()
        } else {
            format!(
                "the file is not in {}: check --encoding (a byte-order mark, when present, \
                 takes precedence)",
                m.encoding
            )
        };
        return Error::Decode {
            path: path.to_string(),
            line: m.line,
            message: format!("not valid {}", m.encoding),
            help,
        };
    }
    Error::Input {
        path: path.to_string(),
        source: e,
    }
}

/// Wraps the byte stream in a reader that yields UTF-8 (see the module documentation).
pub fn open(
    path: &str,
    mut raw: Box<dyn Read + Send>,
    label: Option<&str>,
) -> Result<Box<dyn Read + Send>> {
    let label = match label {
        Some(label) => Some(
            Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| Error::UnknownEncoding(label.to_string()))?,
        ),
        None => None,
    };
    // The first three bytes, for the BOM.
    let mut prefix = Vec::with_capacity(3);
    (&mut raw)
        .take(3)
        .read_to_end(&mut prefix)
        .map_err(|source| Error::Input {
            path: path.to_string(),
            source,
        })?;
    let (encoding, bom) = match Encoding::for_bom(&prefix) {
        Some((enc, len)) => (Some(enc), len),
        None => (label, 0),
    };
    let rest = prefix.split_off(bom);
    Ok(match encoding {
        // Plain or BOM-announced UTF-8 without a label: checked record by record.
        None => Box::new(Cursor::new(rest).chain(raw)),
        Some(enc) if enc == encoding_rs::UTF_8 && label.is_none() => {
            Box::new(Cursor::new(rest).chain(raw))
        }
        Some(enc) => Box::new(Decode::new(raw, enc, rest)),
    })
}

/// A streaming decoder that refuses malformed input instead of replacing it.
struct Decode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    /// Undecoded input: `input[start..]`.
    input: Vec<u8>,
    start: usize,
    /// The underlying stream is exhausted.
    eof: bool,
    /// Decoded text not yet handed out: `output[pos..]`.
    output: Vec<u8>,
    pos: usize,
    /// Line feeds decoded so far, for the line of a malformed sequence.
    newlines: u64,
    /// The error to return once the text before it is handed out.
    pending: Option<Malformed>,
    /// Nothing more will be decoded.
    finished: bool,
}

impl<R: Read> Decode<R> {
    fn new(inner: R, encoding: &'static Encoding, input: Vec<u8>) -> Self {
        Decode {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input,
            start: 0,
            eof: false,
            output: Vec::new(),
            pos: 0,
            newlines: 0,
            pending: None,
            finished: false,
        }
    }

    /// Decodes the next piece of input into `output` (which is empty).
    fn fill(&mut self) -> io::Result<()> {
        if self.start == self.input.len() && !self.eof {
            self.input.clear();
            self.start = 0;
            self.input.resize(CHUNK, 0);
            let n = loop {
                match self.inner.read(&mut self.input) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.input.clear();
                        return Err(e);
                    }
                }
            };
            self.input.truncate(n);
            self.eof = n == 0;
        }
        let src = &self.input[self.start..];
        let room = self
            .decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(src.len().saturating_mul(4))
            .max(16);
        self.output.clear();
        self.output.resize(room, 0);
        self.pos = 0;
        let (result, read, written) =
            self.decoder
                .decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
        self.start += read;
        self.output.truncate(written);
        let newlines = self.output.iter().filter(|&&b| b == b'\n').count() as u64;
        match result {
            DecoderResult::InputEmpty => self.finished = self.eof,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => {
                self.pending = Some(Malformed {
                    line: self.newlines + newlines + 1,
                    encoding: self.decoder.encoding().name(),
                });
                self.finished = true;
            }
        }
        self.newlines += newlines;
        Ok(())
    }
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.output.len() {
                let n = out.len().min(self.output.len() - self.pos);
                out[..n].copy_from_slice(&self.output[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if let Some(m) = self.pending.take() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, m));
            }
            if self.finished || out.is_empty() {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], label: Option<&str>) -> io::Result<String> {
        let mut text = String::new();
        open("t", Box::new(Cursor::new(bytes.to_vec())), label)
            .map_err(|e| io::Error::other(e.to_string()))?
            .read_to_string(&mut text)?;
        Ok(text)
    }

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn a_bom_selects_utf16_and_is_removed() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("a,b\nÉ,ü\n"));
        assert_eq!(decode(&bytes, None).unwrap(), "a,b\nÉ,ü\n");
        assert_eq!(decode(&bytes, Some("windows-1252")).unwrap(), "a,b\nÉ,ü\n");
    }

    #[test]
    fn plain_bytes_pass_through_and_a_utf8_bom_is_removed() {
        assert_eq!(decode(b"a\n\xff\n", None).ok(), None); // not UTF-8: read_to_string fails
        assert_eq!(decode(b"\xEF\xBB\xBFa\n", None).unwrap(), "a\n");
        assert_eq!(decode(b"ab", None).unwrap(), "ab");
        assert_eq!(decode(b"", None).unwrap(), "");
    }

    #[test]
    fn a_lone_surrogate_fails_with_its_line_after_the_text_before_it() {
        let mut bytes = utf16le("a\nb\nc");
        bytes.extend([0x00, 0xD8]); // a high surrogate without its low half
        bytes.extend(utf16le("d\n"));
        let mut reader = open("t", Box::new(Cursor::new(bytes)), Some("utf-16le")).unwrap();
        let mut text = Vec::new();
        let err = reader.read_to_end(&mut text).unwrap_err();
        assert_eq!(text, b"a\nb\nc");
        let m = err.get_ref().and_then(|e| e.downcast_ref::<Malformed>());
        assert_eq!(m.map(|m| (m.line, m.encoding)), Some((3, "UTF-16LE")));
    }

    #[test]
    fn a_truncated_code_unit_at_the_end_is_malformed() {
        let mut bytes = utf16le("a\n");
        bytes.push(b'b');
        assert!(decode(&bytes, Some("utf-16le")).is_err());
    }

    #[test]
    fn a_legacy_label_decodes_across_chunks() {
        let text: Vec<u8> = b"caf\xe9\n".repeat(CHUNK / 3);
        let got = decode(&text, Some("windows-1252")).unwrap();
        assert_eq!(got, "café\n".repeat(CHUNK / 3));
    }

    #[test]
    fn invalid_utf8_with_a_utf8_label_is_malformed() {
        let err = decode(b"a\nb\n\xff\n", Some("utf-8")).unwrap_err();
        let m = err.get_ref().and_then(|e| e.downcast_ref::<Malformed>());
        assert_eq!(m.map(|m| m.line), Some(3));
    }
}
