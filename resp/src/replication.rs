//! A snapshot of a live server taken the way a replica gets one (what `redis-cli --rdb`
//! does): the server streams an RDB over the connection and writes nothing to its disk
//! for it when diskless sync is on.
//!
//! The handshake is `PING`, `REPLCONF capa eof capa psync2`, `REPLCONF rdb-only 1`
//! (6.2+, so the server drops the connection after the RDB instead of streaming
//! commands), for Valkey 8+ `REPLCONF version`, then `PSYNC ? -1`, or `SYNC` when the
//! server does not know PSYNC. The RDB arrives either as `$<len>` and that many bytes
//! (disk-based sync) or as `$EOF:<40-byte mark>`, the RDB, and the mark again
//! (diskless). While the server prepares the snapshot it sends bare `\n` keep-alives,
//! which are skipped.

use std::io::Read;

use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::info::ServerInfo;

/// Length of the random end mark of the diskless (`$EOF:`) framing.
pub const EOF_MARK_LEN: usize = 40;
/// Longest reply line accepted during the handshake.
const MAX_LINE: usize = 64 * 1024;
/// Bytes read from the socket at once in the diskless framing.
const CHUNK: usize = 256 * 1024;

/// How the server frames the RDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// `$<len>`: exactly this many bytes (disk-based sync).
    Length(u64),
    /// `$EOF:<mark>`: the RDB ends where the mark follows (diskless sync).
    Eof([u8; EOF_MARK_LEN]),
}

/// What the handshake learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The replication ID and offset of `+FULLRESYNC` (none after a legacy `SYNC`).
    pub fullresync: Option<(String, u64)>,
    /// The framing of the RDB that follows.
    pub framing: Framing,
}

/// The RDB a server is sending, as a [`Read`] that ends exactly where the RDB ends
/// (never includes the end mark).
pub struct Snapshot {
    conn: Connection,
    header: SnapshotHeader,
    /// Length framing: bytes still to read.
    remaining: u64,
    /// EOF framing: bytes received and not yet handed out; the last
    /// [`EOF_MARK_LEN`] are held back until the mark is recognised.
    held: Vec<u8>,
    /// Offset in `held` of the next byte to hand out.
    held_start: usize,
    /// The end mark was received (or the announced length read).
    done: bool,
    /// Bytes handed out.
    delivered: u64,
}

/// Runs the replication handshake on an authenticated connection and returns the RDB
/// stream. `info` is the server's (to tell Valkey which RDB version it may send).
pub fn start_snapshot(mut conn: Connection, info: &ServerInfo) -> Result<Snapshot> {
    match conn.call(&[b"PING"]) {
        Ok(_) => {}
        Err(Error::Server(e)) if e.starts_with("NOAUTH") => return Err(Error::Auth(e)),
        Err(e) => return Err(e),
    }
    conn.call(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
    // Older servers refuse these options; they are conveniences, not needs.
    optional(conn.call(&[b"REPLCONF", b"rdb-only", b"1"]))?;
    if info.valkey && info.version.0 >= 8 {
        // Valkey sends a version its replica declares it can read; rdbkit reads them all.
        let (a, b, c) = info.version;
        optional(conn.call(&[b"REPLCONF", b"version", format!("{a}.{b}.{c}").as_bytes()]))?;
    }
    conn.send(&[b"PSYNC", b"?", b"-1"])?;
    let line = read_reply_line(&mut conn)?;
    let fullresync = if let Some(rest) = line.strip_prefix(b"+FULLRESYNC ") {
        Some(parse_fullresync(rest)?)
    } else if line.starts_with(b"-") && is_unknown_command(&line) {
        conn.send(&[b"SYNC"])?;
        None
    } else if let Some(e) = line.strip_prefix(b"-") {
        return Err(Error::Server(String::from_utf8_lossy(e).into_owned()));
    } else {
        return Err(protocol(&conn, "+FULLRESYNC after PSYNC", &line));
    };
    let line = read_reply_line(&mut conn)?;
    let framing = parse_bulk_header(&line).ok_or_else(|| match line.strip_prefix(b"-") {
        Some(e) => Error::Server(String::from_utf8_lossy(e).into_owned()),
        None => protocol(&conn, "$<length> or $EOF:<mark> before the RDB", &line),
    })?;
    let remaining = match &framing {
        Framing::Length(n) => *n,
        Framing::Eof(_) => 0,
    };
    let done = framing == Framing::Length(0);
    Ok(Snapshot {
        conn,
        header: SnapshotHeader { fullresync, framing },
        remaining,
        held: Vec::new(),
        held_start: 0,
        done,
        delivered: 0,
    })
}

fn optional(r: Result<Frame>) -> Result<()> {
    match r {
        Ok(_) | Err(Error::Server(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

fn is_unknown_command(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line).to_ascii_lowercase();
    text.contains("unknown command")
}

fn protocol(conn: &Connection, expected: &'static str, got: &[u8]) -> Error {
    Error::Protocol { offset: conn.position(), expected, got: rdb_parser::escape_bytes(got, 60) }
}

/// The next non-empty line: the server sends bare `\n` while it prepares the RDB.
fn read_reply_line(conn: &mut Connection) -> Result<Vec<u8>> {
    loop {
        let line = conn.read_line(MAX_LINE)?;
        if !line.is_empty() {
            return Ok(line);
        }
    }
}

/// `<replid> <offset>` of `+FULLRESYNC`.
fn parse_fullresync(rest: &[u8]) -> Result<(String, u64)> {
    let text = String::from_utf8_lossy(rest);
    let mut words = text.split(' ');
    let id = words.next().unwrap_or_default().to_string();
    let offset = words.next().and_then(|o| o.trim().parse().ok());
    match offset {
        Some(o) if !id.is_empty() => Ok((id, o)),
        _ => Err(Error::Protocol {
            offset: 0,
            expected: "+FULLRESYNC <replid> <offset>",
            got: rdb_parser::escape_bytes(rest, 60),
        }),
    }
}

/// `$<len>` or `$EOF:<40 bytes>`.
pub fn parse_bulk_header(line: &[u8]) -> Option<Framing> {
    let rest = line.strip_prefix(b"$")?;
    if let Some(mark) = rest.strip_prefix(b"EOF:") {
        return Some(Framing::Eof(mark.try_into().ok()?));
    }
    let n = std::str::from_utf8(rest).ok()?.parse::<u64>().ok()?;
    Some(Framing::Length(n))
}

impl Snapshot {
    /// What the handshake learned (replication ID, framing).
    pub fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    /// The RDB's length when the server announced it (disk-based sync).
    pub fn len_hint(&self) -> Option<u64> {
        match self.header.framing {
            Framing::Length(n) => Some(n),
            Framing::Eof(_) => None,
        }
    }

    /// RDB bytes handed out so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// True once the whole RDB was received (the mark seen, or the length read).
    pub fn is_complete(&self) -> bool {
        self.done && self.held_start == self.held.len()
    }

    /// The server the RDB comes from.
    pub fn peer(&self) -> &str {
        self.conn.peer()
    }

    fn read_eof(&mut self, out: &mut [u8], mark: &[u8; EOF_MARK_LEN]) -> std::io::Result<usize> {
        loop {
            let keep = if self.done { 0 } else { EOF_MARK_LEN };
            let ready = self.held.len().saturating_sub(self.held_start + keep);
            if ready > 0 {
                let n = ready.min(out.len());
                out[..n].copy_from_slice(&self.held[self.held_start..self.held_start + n]);
                self.held_start += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            // Keep only the held-back tail, then read more after it.
            self.held.drain(..self.held_start);
            self.held_start = 0;
            let filled = self.held.len();
            self.held.resize(filled + CHUNK, 0);
            let n = self.conn.read(&mut self.held[filled..])?;
            self.held.truncate(filled + n);
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: the connection closed after {} bytes of the RDB, before its end mark",
                        self.conn.peer(),
                        self.delivered + self.held.len() as u64
                    ),
                ));
            }
            // The servers' own rule: the transfer ends when what was received so far
            // ends with the mark.
            if self.held.ends_with(mark) {
                self.held.truncate(self.held.len() - EOF_MARK_LEN);
                self.done = true;
            }
        }
    }
}

impl Read for Snapshot {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.header.framing.clone() {
            Framing::Length(_) => {
                if self.remaining == 0 {
                    self.done = true;
                    return Ok(0);
                }
                let want = out.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                let n = self.conn.read(&mut out[..want])?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!(
                            "{}: the connection closed after {} of {} announced RDB bytes",
                            self.conn.peer(),
                            self.delivered,
                            self.delivered + self.remaining
                        ),
                    ));
                }
                self.remaining -= n as u64;
                self.done = self.remaining == 0;
                n
            }
            Framing::Eof(mark) => self.read_eof(out, &mark)?,
        };
        self.delivered += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_headers_parse() {
        assert_eq!(parse_bulk_header(b"$1234"), Some(Framing::Length(1234)));
        let mark = [b'a'; 40];
        let mut line = b"$EOF:".to_vec();
        line.extend_from_slice(&mark);
        assert_eq!(parse_bulk_header(&line), Some(Framing::Eof(mark)));
        assert_eq!(parse_bulk_header(b"$EOF:short"), None);
        assert_eq!(parse_bulk_header(b"-ERR x"), None);
        assert_eq!(parse_bulk_header(b"$-1"), None);
    }

    #[test]
    fn fullresync_lines_parse() -> Result<()> {
        let (id, off) = parse_fullresync(b"8371b4fb1155b71f4a04d3e1bc3e18c4a990aeeb 42")?;
        assert_eq!((id.len(), off), (40, 42));
        assert!(parse_fullresync(b"id").is_err());
        assert!(is_unknown_command(b"-ERR unknown command 'PSYNC'"));
        assert!(is_unknown_command(b"-ERR Unknown command 'psync'"));
        Ok(())
    }
}
