//! Client requests (commands) parsed without copying, with the rules a server applies
//! to what its clients send (`processMultibulkBuffer`, `processInlineBuffer`).
//!
//! A multibulk request (`*<n>\r\n` then `n` times `$<len>\r\n<bytes>\r\n`) is parsed in
//! place: each argument is a range of the input. An inline request (`SET k v\n`) is split
//! like the server splits it ([`split_args`]: blanks, `"..."` with C escapes, `'...'`);
//! its arguments are copied, since quotes and escapes change the bytes.
//!
//! Numbers follow the server's strict rules (no sign but `-`, no leading zeros, no
//! blanks); unlike the server, the two bytes after a bulk string must be CRLF, so a
//! damaged stream is reported where it breaks instead of being read out of step.

use std::ops::Range;

use crate::frame::ParseError;

/// Longest header line or inline request, as the servers' `PROTO_INLINE_MAX_SIZE`.
pub const MAX_INLINE_BYTES: usize = 64 * 1024;
/// Default largest bulk string, as the servers' default `proto-max-bulk-len`.
pub const DEFAULT_MAX_BULK: usize = 512 * 1024 * 1024;

/// The arguments of one parsed request.
#[derive(Debug, Default, Clone)]
pub struct Args {
    spans: Vec<Range<usize>>,
    /// Copied argument bytes of an inline request.
    inline: Vec<u8>,
    is_inline: bool,
}

impl Args {
    /// Empty arguments (reuse one value across requests to avoid allocations).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of arguments (0 for an empty request, which servers skip).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True for an empty request.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// True when the request was an inline command.
    pub fn is_inline(&self) -> bool {
        self.is_inline
    }

    /// Argument `i`; `buf` is the slice given to [`parse_request`].
    pub fn get<'a>(&'a self, buf: &'a [u8], i: usize) -> &'a [u8] {
        let r = self.spans[i].clone();
        if self.is_inline {
            &self.inline[r]
        } else {
            &buf[r]
        }
    }

    /// Range of argument `i` in the parsed buffer (multibulk requests only).
    pub fn span(&self, i: usize) -> Range<usize> {
        self.spans[i].clone()
    }

    /// Every argument in order.
    pub fn iter<'a>(&'a self, buf: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        (0..self.len()).map(move |i| self.get(buf, i))
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.inline.clear();
        self.is_inline = false;
    }
}

fn invalid<T>(offset: usize, expected: &'static str) -> Result<T, ParseError> {
    Err(ParseError::Invalid { offset, expected })
}

/// Parses the server's strict decimal form (`string2ll`): an optional `-`, then `0` or
/// digits without a leading zero; no blanks, no `+`.
pub fn strict_i64(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg { v.checked_sub(d)? } else { v.checked_add(d)? };
    }
    Some(v)
}

/// The header line starting at `at` (its type byte included), without CRLF, and the
/// offset after the CRLF.
fn header_line(buf: &[u8], at: usize) -> Result<(&[u8], usize), ParseError> {
    let window = &buf[at..buf.len().min(at + MAX_INLINE_BYTES + 2)];
    match memchr_cr(window) {
        Some(n) if n + 1 < window.len() => {
            if window[n + 1] != b'\n' {
                return invalid(at + n + 1, "LF after CR");
            }
            Ok((&window[..n], at + n + 2))
        }
        Some(_) => Err(ParseError::Incomplete),
        None if window.len() > MAX_INLINE_BYTES => invalid(at, "a header line shorter than 64 KiB"),
        None => match window.iter().position(|&b| b == b'\n') {
            Some(n) => invalid(at + n, "CRLF at the end of the header line (found a bare LF)"),
            None => Err(ParseError::Incomplete),
        },
    }
}

fn memchr_cr(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\r')
}

/// Parses one request at the start of `buf` into `args`; returns the bytes it took.
///
/// `max_bulk` is the largest bulk string accepted (the server's `proto-max-bulk-len`).
/// A request with a count of 0 or less is empty (`args` is empty), as servers skip it.
pub fn parse_request(buf: &[u8], args: &mut Args, max_bulk: usize) -> Result<usize, ParseError> {
    args.clear();
    match buf.first() {
        None => Err(ParseError::Incomplete),
        Some(b'*') => parse_multibulk(buf, args, max_bulk),
        Some(_) => parse_inline(buf, args),
    }
}

fn parse_multibulk(buf: &[u8], args: &mut Args, max_bulk: usize) -> Result<usize, ParseError> {
    let (line, mut pos) = header_line(buf, 0)?;
    let count = match strict_i64(&line[1..]) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return invalid(1, "an argument count (a decimal number up to 2^31-1)"),
    };
    for _ in 0..count.max(0) {
        let at = pos;
        match buf.get(at) {
            None => return Err(ParseError::Incomplete),
            Some(b'$') => {}
            Some(_) => return invalid(at, "'$' (a bulk string)"),
        }
        let (line, data) = header_line(buf, at)?;
        let len = match strict_i64(&line[1..]).and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= max_bulk => n,
            _ => return invalid(at + 1, "a bulk length from 0 to proto-max-bulk-len"),
        };
        let end = data.checked_add(len).ok_or(ParseError::Invalid { offset: at, expected: "a sane length" })?;
        if buf.len() < end + 2 {
            return Err(ParseError::Incomplete);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return invalid(end, "CRLF after the bulk string");
        }
        args.spans.push(data..end);
        pos = end + 2;
    }
    Ok(pos)
}

fn parse_inline(buf: &[u8], args: &mut Args) -> Result<usize, ParseError> {
    let window = &buf[..buf.len().min(MAX_INLINE_BYTES + 1)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        return if window.len() > MAX_INLINE_BYTES {
            invalid(0, "an inline request shorter than 64 KiB")
        } else {
            Err(ParseError::Incomplete)
        };
    };
    let line = &buf[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    args.is_inline = true;
    let mut spans = std::mem::take(&mut args.spans);
    let r = split_args_into(line, &mut args.inline, &mut spans);
    args.spans = spans;
    match r {
        Ok(()) => Ok(nl + 1),
        Err(offset) => invalid(offset, "balanced quotes in the inline request"),
    }
}

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments like the servers' `sdssplitargs`: blanks separate,
/// `"..."` takes `\n \r \t \b \a \xHH` and `\<any>` escapes, `'...'` takes `\'`, a
/// closing quote must be followed by a blank or the end, a NUL byte ends the line.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut bytes = Vec::new();
    let mut spans = Vec::new();
    split_args_into(line, &mut bytes, &mut spans).ok()?;
    Some(spans.into_iter().map(|r| bytes[r].to_vec()).collect())
}

/// [`split_args`] into one buffer and ranges; the error is the offset of the quote
/// that is not closed properly.
fn split_args_into(line: &[u8], out: &mut Vec<u8>, spans: &mut Vec<Range<usize>>) -> Result<(), usize> {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(());
        }
        let start = out.len();
        let (mut inq, mut insq) = (false, false);
        let mut quote_at = p;
        loop {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' && hex(at(p + 2)).is_some() && hex(at(p + 3)).is_some() {
                    out.push(hex(at(p + 2)).unwrap_or(0) * 16 + hex(at(p + 3)).unwrap_or(0));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    out.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(quote_at);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(quote_at);
                } else {
                    out.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(quote_at);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(quote_at);
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => {
                        inq = true;
                        quote_at = p;
                    }
                    b'\'' => {
                        insq = true;
                        quote_at = p;
                    }
                    _ => out.push(c),
                }
            }
            p += 1;
        }
        spans.push(start..out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(buf: &[u8]) -> Result<(Vec<Vec<u8>>, usize), ParseError> {
        let mut a = Args::new();
        let n = parse_request(buf, &mut a, DEFAULT_MAX_BULK)?;
        Ok((a.iter(buf).map(<[u8]>::to_vec).collect(), n))
    }

    #[test]
    fn multibulk_requests_parse_in_place() {
        let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\nx\r\nrest";
        let (a, n) = args(buf).expect("valid");
        assert_eq!(a, vec![b"SET".to_vec(), b"k".to_vec(), b"v\r\nx".to_vec()]);
        assert_eq!(n, buf.len() - 4);
        assert_eq!(args(b"*0\r\n"), Ok((vec![], 4)));
        for cut in 0..buf.len() - 4 {
            assert_eq!(args(&buf[..cut]), Err(ParseError::Incomplete), "prefix {cut}");
        }
    }

    #[test]
    fn bad_multibulk_names_the_offset() {
        assert_eq!(
            args(b"*1\r\n$3\r\nabcXY"),
            Err(ParseError::Invalid { offset: 11, expected: "CRLF after the bulk string" })
        );
        assert!(matches!(args(b"*1\r\n:3\r\n"), Err(ParseError::Invalid { offset: 4, .. })));
        assert!(matches!(args(b"*+1\r\n"), Err(ParseError::Invalid { offset: 1, .. })));
        assert!(matches!(args(b"*01\r\n"), Err(ParseError::Invalid { offset: 1, .. })));
        assert!(matches!(args(b"*1\n$1\nx\n"), Err(ParseError::Invalid { offset: 2, .. })));
        assert!(matches!(args(b"*1\r\n$-1\r\n"), Err(ParseError::Invalid { offset: 5, .. })));
        let mut a = Args::new();
        assert!(matches!(parse_request(b"*1\r\n$9\r\n", &mut a, 8), Err(ParseError::Invalid { offset: 5, .. })));
    }

    #[test]
    fn inline_requests_split_like_the_server() {
        assert_eq!(
            args(b"SET k \"a b\\x41\\n\" 'it\\'s'\r\nX"),
            Ok((vec![b"SET".to_vec(), b"k".to_vec(), b"a bA\n".to_vec(), b"it's".to_vec()], 27))
        );
        assert_eq!(args(b"   \n"), Ok((vec![], 4)));
        assert_eq!(args(b"PING"), Err(ParseError::Incomplete));
        assert!(matches!(args(b"SET \"k\"v\n"), Err(ParseError::Invalid { offset: 4, .. })));
        assert!(matches!(args(b"SET 'k\n"), Err(ParseError::Invalid { offset: 4, .. })));
        assert_eq!(split_args(b"a\"b c\"d"), None);
        assert_eq!(split_args(b"a\"b c\" d"), Some(vec![b"ab c".to_vec(), b"d".to_vec()]));
        assert_eq!(split_args(b"x\0y z"), Some(vec![b"x".to_vec()]));
    }

    #[test]
    fn strict_numbers() {
        assert_eq!(strict_i64(b"0"), Some(0));
        assert_eq!(strict_i64(b"-12"), Some(-12));
        assert_eq!(strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b""[..], b"-", b"+1", b" 1", b"1 ", b"01", b"-0", b"9223372036854775808", b"1a"] {
            assert_eq!(strict_i64(bad), None, "{bad:?}");
        }
    }
}
