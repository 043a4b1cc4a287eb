//! Quoting that the CSV reader accepts silently but that changes or loses data: a quote
//! inside an unquoted cell (`Ja"ne`), text after a cell's closing quote (`"Ja"ne`, read as
//! `Jane`), and a quoted cell that is never closed (read to the end of the file as one cell).
//!
//! The check re-scans the raw text of a record with the CSV reader's own state machine, and
//! only when the text holds a quote at all (one `memchr`), so unquoted files pay nothing.

/// The quoting problems of one record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quoting {
    /// The 0-based fields with a stray quote, in order, each once.
    pub stray: Vec<usize>,
    /// A quoted field that runs to the end of the input.
    pub unterminated: Option<Unterminated>,
}

/// A quoted field never closed: it holds the rest of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unterminated {
    /// The 0-based field.
    pub field: usize,
    /// Lines between the record's first line and the line of the opening quote.
    pub opened: u64,
    /// Lines between the record's first line and the last line with text.
    pub last: u64,
}

/// Where the scanner is, as in the CSV reader (quotes on, `""` escapes, no escape byte).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Scans the raw text of one record (leading blank lines and the terminator may be
/// included); `None` when it holds no quote or its quoting is sound.
pub fn check(raw: &[u8], delimiter: u8) -> Option<Quoting> {
    if !raw.contains(&b'"') {
        return None;
    }
    let is_end = |b: u8| b == b'\r' || b == b'\n';
    let begin = raw.iter().position(|&b| !is_end(b)).unwrap_or(raw.len());
    let text = &raw[begin..];
    let mut quoting = Quoting::default();
    let mut state = State::StartField;
    let mut field = 0;
    let mut opened_at = 0;
    let stray = |q: &mut Quoting, field: usize| {
        if q.stray.last() != Some(&field) {
            q.stray.push(field);
        }
    };
    for (i, &b) in text.iter().enumerate() {
        state = match state {
            State::StartField if b == b'"' => {
                opened_at = i;
                State::Quoted
            }
            State::StartField | State::Unquoted | State::QuoteInQuoted if b == delimiter => {
                field += 1;
                State::StartField
            }
            State::StartField | State::Unquoted | State::QuoteInQuoted if is_end(b) => break,
            State::StartField => State::Unquoted,
            State::Unquoted => {
                if b == b'"' {
                    stray(&mut quoting, field);
                }
                State::Unquoted
            }
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted => {
                stray(&mut quoting, field);
                State::Unquoted
            }
        };
    }
    if state == State::Quoted {
        let newlines = |s: &[u8]| s.iter().filter(|&&b| b == b'\n').count() as u64;
        let content = text.iter().rposition(|&b| !is_end(b)).map_or(0, |p| p + 1);
        quoting.unterminated = Some(Unterminated {
            field,
            opened: newlines(&text[..opened_at]),
            last: newlines(&text[..content.max(opened_at)]),
        });
    }
    (quoting != Quoting::default()).then_some(quoting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stray(raw: &str) -> Vec<usize> {
        check(raw.as_bytes(), b',')
            .map(|q| q.stray)
            .unwrap_or_default()
    }

    #[test]
    fn sound_quoting_passes() {
        for raw in [
            "a,b\n",
            "\"a\",\"b,c\"\n",
            "\"O\"\"Hara\",x\r\n",
            "\"line\none\",\"\"\n",
            "\n\r\n\"a\"\n",
            "\"a\"",
            "x,\"\"\"\"\n",
        ] {
            assert_eq!(check(raw.as_bytes(), b','), None, "{raw:?}");
        }
    }

    #[test]
    fn a_quote_inside_an_unquoted_cell_is_stray() {
        assert_eq!(stray("a,Ja\"ne,c\n"), [1]);
        assert_eq!(stray("a\"\"b\n"), [0]);
        assert_eq!(
            stray("x,y\"\n\"z\"\n"),
            [1],
            "the scan stops at the record's end"
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_stray() {
        assert_eq!(stray("\"Ja\"ne,b\n"), [0]);
        assert_eq!(stray("a,\"b\" ,\"c\"x\"\n"), [1, 2]);
    }

    #[test]
    fn the_delimiter_is_the_one_given() {
        assert_eq!(check(b"\"a;b\";c\n", b';'), None);
        assert_eq!(check(b"a;b\"c\n", b';').map(|q| q.stray), Some(vec![1]));
    }

    #[test]
    fn a_quote_never_closed_runs_to_the_end() {
        let q = check(b"a,\"b\nc,d\ne\n\n", b',').expect("a problem");
        assert_eq!(
            q.unterminated,
            Some(Unterminated {
                field: 1,
                opened: 0,
                last: 2
            })
        );
        let q = check(b"\n\"x\ny\",\"b\nc", b',').expect("a problem");
        assert_eq!(
            q.unterminated,
            Some(Unterminated {
                field: 1,
                opened: 1,
                last: 2
            })
        );
        let q = check(b"a,\"", b',').expect("a problem");
        assert_eq!(q.unterminated.map(|u| (u.opened, u.last)), Some((0, 0)));
    }
}
