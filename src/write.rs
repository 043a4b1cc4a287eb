//! Output encoding: UTF-8 text from the CSV writer, encoded on the way out (UTF-8 with an
//! optional BOM, UTF-16LE/BE, or any single-byte WHATWG encoding). A character the target
//! encoding cannot hold is an error, never a silent substitution.

use std::io::{self, Write};

/// The output encoding.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// UTF-8 (optionally after a BOM).
    Utf8,
    /// UTF-16, little or big endian, always after a BOM.
    Utf16 { big_endian: bool },
    /// Another encoding, through encoding_rs.
    Other(&'static encoding_rs::Encoding),
}

impl Target {
    /// Resolves a WHATWG label.
    pub fn for_label(label: &str) -> Option<Target> {
        let enc = encoding_rs::Encoding::for_label(label.trim().as_bytes())?;
        Some(if enc == encoding_rs::UTF_8 {
            Target::Utf8
        } else if enc == encoding_rs::UTF_16LE {
            Target::Utf16 { big_endian: false }
        } else if enc == encoding_rs::UTF_16BE {
            Target::Utf16 { big_endian: true }
        } else {
            Target::Other(enc)
        })
    }
}

/// Encodes UTF-8 written to it into the target encoding.
pub struct Encoder<W: Write> {
    inner: W,
    target: Target,
    /// Bytes of a UTF-8 character split across two writes.
    pending: Vec<u8>,
}

impl<W: Write> Encoder<W> {
    /// Wraps `inner`; writes the BOM now if asked (UTF-16 always gets one).
    pub fn new(mut inner: W, target: Target, bom: bool) -> io::Result<Self> {
        match target {
            Target::Utf8 if bom => inner.write_all(b"\xEF\xBB\xBF")?,
            Target::Utf16 { big_endian: false } => inner.write_all(b"\xFF\xFE")?,
            Target::Utf16 { big_endian: true } => inner.write_all(b"\xFE\xFF")?,
            _ => {}
        }
        Ok(Encoder {
            inner,
            target,
            pending: Vec::new(),
        })
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        match self.target {
            Target::Utf8 => self.inner.write_all(text.as_bytes()),
            Target::Utf16 { big_endian } => {
                let mut out = Vec::with_capacity(text.len() * 2);
                for unit in text.encode_utf16() {
                    out.extend_from_slice(&if big_endian {
                        unit.to_be_bytes()
                    } else {
                        unit.to_le_bytes()
                    });
                }
                self.inner.write_all(&out)
            }
            Target::Other(enc) => {
                let (bytes, _, unmappable) = enc.encode(text);
                if unmappable {
                    let bad = text
                        .chars()
                        .find(|c| enc.encode(&c.to_string()).2)
                        .unwrap_or('?');
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("the character '{bad}' cannot be written in {}", enc.name()),
                    ));
                }
                self.inner.write_all(&bytes)
            }
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "invalid UTF-8")),
        };
        let rest = self.pending.split_off(valid);
        let text = std::mem::replace(&mut self.pending, rest);
        // `text` holds only complete characters.
        self.emit(std::str::from_utf8(&text).unwrap_or_default())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(target: Target, bom: bool, chunks: &[&[u8]]) -> io::Result<Vec<u8>> {
        let mut e = Encoder::new(Vec::new(), target, bom)?;
        for c in chunks {
            e.write_all(c)?;
        }
        Ok(e.inner)
    }

    #[test]
    fn a_character_split_across_writes_is_kept_whole() {
        let s = "é".as_bytes();
        let out = encode(
            Target::for_label("windows-1252").unwrap(),
            false,
            &[&s[..1], &s[1..]],
        )
        .unwrap();
        assert_eq!(out, vec![0xE9]);
    }

    #[test]
    fn utf16_and_bom() {
        assert_eq!(
            encode(Target::Utf8, true, &[b"a"]).unwrap(),
            b"\xEF\xBB\xBFa"
        );
        assert_eq!(
            encode(Target::for_label("utf-16le").unwrap(), false, &[b"a"]).unwrap(),
            b"\xFF\xFEa\0"
        );
        assert_eq!(
            encode(Target::for_label("utf-16be").unwrap(), false, &[b"a"]).unwrap(),
            b"\xFE\xFF\0a"
        );
    }

    #[test]
    fn unmappable_characters_are_errors() {
        let e = encode(
            Target::for_label("windows-1252").unwrap(),
            false,
            &["名".as_bytes()],
        )
        .unwrap_err();
        assert!(e.to_string().contains("cannot be written"), "{e}");
    }
}
