//! RESP frames (replies) and their parser.
//!
//! The parser works on a byte slice and either returns one complete frame and how many
//! bytes it took, says more bytes are needed ([`ParseError::Incomplete`]), or names the
//! offset where the bytes stop being RESP. It never allocates more than the bytes it
//! was given justify, so a hostile peer cannot make it reserve memory it never sends.
//!
//! RESP2 types are kept as they are. The few RESP3 types a server could send are folded
//! into them (map → flat array, boolean → integer, double and big number → simple
//! string, verbatim → bulk), so callers handle one shape.

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `+OK`.
    Simple(Vec<u8>),
    /// `-ERR message` (the text after `-`).
    Error(Vec<u8>),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nfoo`.
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`.
    Null,
    /// `*2\r\n...`.
    Array(Vec<Frame>),
}

/// Why a slice does not hold a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes so far are a valid beginning; more are needed.
    Incomplete,
    /// The bytes are not RESP at `offset`.
    Invalid {
        /// Offset in the slice.
        offset: usize,
        /// What RESP would have there.
        expected: &'static str,
    },
}

/// Longest header or simple line accepted.
const MAX_LINE: usize = 64 * 1024;
/// Deepest nesting of arrays accepted.
const MAX_DEPTH: usize = 64;
/// Elements reserved up front at most, whatever an array header claims.
const MAX_RESERVE: usize = 1024;

impl Frame {
    /// Parses one frame at the start of `buf`; returns it and its length in bytes.
    pub fn parse(buf: &[u8]) -> Result<(Frame, usize), ParseError> {
        let mut pos = 0;
        let frame = parse_at(buf, &mut pos, 0)?;
        Ok((frame, pos))
    }

    /// The text of a simple string, bulk string or error.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) => Some(b),
            _ => None,
        }
    }

    /// The integer of an integer reply, or of a string holding one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Frame::Integer(n) => Some(*n),
            other => std::str::from_utf8(other.as_bytes()?).ok()?.parse().ok(),
        }
    }

    /// True for `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Frame::Simple(s) if s == b"OK")
    }
}

fn invalid<T>(offset: usize, expected: &'static str) -> Result<T, ParseError> {
    Err(ParseError::Invalid { offset, expected })
}

/// The line starting at `*pos` (without CRLF); moves `*pos` past the CRLF.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8], ParseError> {
    let start = *pos;
    let window = &buf[start..buf.len().min(start + MAX_LINE + 2)];
    match window.iter().position(|&b| b == b'\n') {
        Some(n) if n > 0 && window[n - 1] == b'\r' => {
            *pos = start + n + 1;
            Ok(&window[..n - 1])
        }
        Some(n) => invalid(start + n, "CR before LF"),
        None if window.len() > MAX_LINE + 1 => invalid(start, "a line end within 64 KiB"),
        None => Err(ParseError::Incomplete),
    }
}

fn number(text: &[u8], at: usize) -> Result<i64, ParseError> {
    std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()).map_or_else(|| invalid(at, "a decimal number"), Ok)
}

/// A length header: -1 (null) or a count; `None` for null.
fn length(buf: &[u8], pos: &mut usize) -> Result<Option<usize>, ParseError> {
    let at = *pos;
    match number(line(buf, pos)?, at)? {
        -1 => Ok(None),
        n if n >= 0 => usize::try_from(n).map(Some).or_else(|_| invalid(at, "a length that fits in memory")),
        _ => invalid(at, "a length of -1 or more"),
    }
}

fn bulk(buf: &[u8], pos: &mut usize, len: usize) -> Result<Vec<u8>, ParseError> {
    let start = *pos;
    let end = start.checked_add(len).ok_or(ParseError::Invalid { offset: start, expected: "a sane length" })?;
    if buf.len() < end + 2 {
        return Err(ParseError::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return invalid(end, "CRLF after the bulk string");
    }
    *pos = end + 2;
    Ok(buf[start..end].to_vec())
}

fn items(buf: &[u8], pos: &mut usize, n: usize, depth: usize) -> Result<Vec<Frame>, ParseError> {
    let mut out = Vec::with_capacity(n.min(MAX_RESERVE));
    for _ in 0..n {
        out.push(parse_at(buf, pos, depth + 1)?);
    }
    Ok(out)
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Frame, ParseError> {
    let at = *pos;
    let Some(&kind) = buf.get(at) else { return Err(ParseError::Incomplete) };
    if depth > MAX_DEPTH {
        return invalid(at, "arrays nested at most 64 deep");
    }
    *pos += 1;
    Ok(match kind {
        b'+' => Frame::Simple(line(buf, pos)?.to_vec()),
        b'-' => Frame::Error(line(buf, pos)?.to_vec()),
        b':' => Frame::Integer(number(line(buf, pos)?, at + 1)?),
        b'$' => match length(buf, pos)? {
            None => Frame::Null,
            Some(n) => Frame::Bulk(bulk(buf, pos, n)?),
        },
        b'*' | b'~' | b'>' => match length(buf, pos)? {
            None => Frame::Null,
            Some(n) => Frame::Array(items(buf, pos, n, depth)?),
        },
        b'%' => match length(buf, pos)? {
            None => Frame::Null,
            Some(n) => {
                let n = n.checked_mul(2).ok_or(ParseError::Invalid { offset: at, expected: "a sane map size" })?;
                Frame::Array(items(buf, pos, n, depth)?)
            }
        },
        b'_' => {
            line(buf, pos)?;
            Frame::Null
        }
        b'#' => match line(buf, pos)? {
            b"t" => Frame::Integer(1),
            b"f" => Frame::Integer(0),
            _ => return invalid(at + 1, "t or f"),
        },
        b',' | b'(' => Frame::Simple(line(buf, pos)?.to_vec()),
        b'=' => match length(buf, pos)? {
            None => Frame::Null,
            Some(n) => {
                let text = bulk(buf, pos, n)?;
                Frame::Bulk(text.get(4..).unwrap_or_default().to_vec())
            }
        },
        _ => return invalid(at, "a RESP type byte (+ - : $ *)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_with_their_length() {
        assert_eq!(Frame::parse(b"+OK\r\nrest"), Ok((Frame::Simple(b"OK".to_vec()), 5)));
        assert_eq!(Frame::parse(b"-ERR x y\r\n"), Ok((Frame::Error(b"ERR x y".to_vec()), 10)));
        assert_eq!(Frame::parse(b":-12\r\n"), Ok((Frame::Integer(-12), 6)));
        assert_eq!(Frame::parse(b"$3\r\nf\r\n\r\n"), Ok((Frame::Bulk(b"f\r\n".to_vec()), 9)));
        assert_eq!(Frame::parse(b"$-1\r\n"), Ok((Frame::Null, 5)));
        let nested = b"*2\r\n:1\r\n*1\r\n$0\r\n\r\n";
        assert_eq!(
            Frame::parse(nested),
            Ok((Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![Frame::Bulk(vec![])])]), nested.len()))
        );
        assert_eq!(
            Frame::parse(b"%1\r\n+a\r\n:1\r\n").map(|f| f.0),
            Ok(Frame::Array(vec![Frame::Simple(b"a".to_vec()), Frame::Integer(1)]))
        );
        assert_eq!(Frame::parse(b"=7\r\ntxt:abc\r\n").map(|f| f.0), Ok(Frame::Bulk(b"abc".to_vec())));
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let whole = b"*3\r\n$5\r\nhello\r\n:7\r\n*1\r\n+x\r\n";
        for n in 0..whole.len() {
            assert_eq!(Frame::parse(&whole[..n]), Err(ParseError::Incomplete), "prefix {n}");
        }
        assert!(Frame::parse(whole).is_ok());
    }

    #[test]
    fn garbage_is_invalid_with_an_offset() {
        let http = b"HTTP/1.1 400 Bad Request\r\n";
        assert_eq!(
            Frame::parse(http),
            Err(ParseError::Invalid { offset: 0, expected: "a RESP type byte (+ - : $ *)" })
        );
        assert!(matches!(Frame::parse(b"$3\r\nabcX\n"), Err(ParseError::Invalid { offset: 7, .. })));
        assert!(matches!(Frame::parse(b":1x\r\n"), Err(ParseError::Invalid { offset: 1, .. })));
        assert!(matches!(Frame::parse(b"+OK\n"), Err(ParseError::Invalid { offset: 3, .. })));
        assert!(matches!(Frame::parse(b"$-2\r\n"), Err(ParseError::Invalid { .. })));
        let deep = "*1\r\n".repeat(100);
        assert!(matches!(Frame::parse(deep.as_bytes()), Err(ParseError::Invalid { .. })));
        let long = vec![b'+'; MAX_LINE + 10];
        assert!(matches!(Frame::parse(&long), Err(ParseError::Invalid { .. })));
    }

    #[test]
    fn a_huge_array_header_reserves_nothing_unjustified() {
        assert_eq!(Frame::parse(b"*4000000000\r\n"), Err(ParseError::Incomplete));
        assert_eq!(Frame::parse(b"$4000000000\r\nab"), Err(ParseError::Incomplete));
    }
}
