//! The verdict of `redis-check-aof`, byte for byte: the same walk (`checkSingleAof`,
//! `processRESP`, `processAnnotations`), the same "ok up to" offset and line counter,
//! the same error positions. Only the RDB preamble is checked by `rdb-parser` instead
//! of `redis-check-rdb` (so a Valkey 9 `VALKEY080` preamble, which `valkey-check-aof`
//! 9.1 wrongly refuses, is accepted as the server accepts it).

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use rdb_parser::{Header, NullVisitor, RdbReader};

use crate::error::{Error, Result};
use crate::layout::{Encoding, Layout, Part};
use crate::manifest::strtol;

/// How a file came out of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Valid to the end.
    Valid,
    /// No bytes.
    Empty,
    /// Invalid after `ok_up_to`.
    Invalid,
    /// With `--truncate-to-timestamp`: the file must be cut at `cut_at`.
    CutAtTimestamp {
        /// Offset of the first `#TS:` annotation past the time.
        annotation_at: u64,
        /// Where to cut: the annotation, or the `MULTI` it falls inside.
        cut_at: u64,
    },
}

/// The check of one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Whether it is the last file (the only one `--fix` may cut).
    pub last: bool,
    /// The verdict.
    pub status: Status,
    /// Everything before this offset is valid (redis-check-aof's `ok_up_to`).
    pub ok_up_to: u64,
    /// redis-check-aof's line counter (it runs on across the files of a manifest).
    pub line: i64,
    /// The failure: its offset (redis-check-aof's `0x...` position) and message.
    pub error: Option<(u64, String)>,
    /// The RDB preamble's header and where it ends.
    pub rdb: Option<(Header, u64)>,
    /// Commands read.
    pub commands: u64,
}

/// A fatal outcome that stops the whole check (redis-check-aof exits at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal {
    /// The file.
    pub path: PathBuf,
    /// What happened.
    pub message: String,
}

/// The whole check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per file checked, in load order.
    pub files: Vec<FileCheck>,
    /// Set when the check stopped early.
    pub fatal: Option<Fatal>,
}

impl Report {
    /// True when every file is valid (or empty) and nothing was fatal.
    pub fn is_valid(&self) -> bool {
        self.fatal.is_none() && self.files.iter().all(|f| matches!(f.status, Status::Valid | Status::Empty))
    }
}

/// Checks every part of `layout`, stopping where redis-check-aof stops.
///
/// `truncate_to` is `--truncate-to-timestamp`: the first `#TS:` annotation whose time
/// is past it decides the cut (on the last file only).
pub fn check(layout: &Layout, truncate_to: Option<i64>) -> Result<Report> {
    let mut report = Report::default();
    let mut line = 1i64;
    let n = layout.parts.len();
    for (i, part) in layout.parts.iter().enumerate() {
        match check_part(part, i + 1 == n, truncate_to, &mut line)? {
            Ok(fc) => {
                let stop = matches!(fc.status, Status::Invalid | Status::CutAtTimestamp { .. });
                report.files.push(fc);
                if stop {
                    break;
                }
            }
            Err(message) => {
                report.fatal = Some(Fatal { path: part.path.clone(), message });
                break;
            }
        }
    }
    Ok(report)
}

/// `fgets`-like reading with a position.
struct CReader {
    inner: BufReader<Box<dyn Read>>,
    pos: u64,
    path: PathBuf,
}

impl CReader {
    fn peek(&mut self) -> Result<Option<u8>> {
        let buf = self.inner.fill_buf().map_err(|e| Error::io(&self.path, e))?;
        Ok(buf.first().copied())
    }

    /// `fgets(buf, size)`: up to `size - 1` bytes, through the first newline; `None` at
    /// end of file with nothing read.
    fn fgets(&mut self, size: usize, out: &mut Vec<u8>) -> Result<bool> {
        out.clear();
        while out.len() < size - 1 {
            let buf = self.inner.fill_buf().map_err(|e| Error::io(&self.path, e))?;
            if buf.is_empty() {
                break;
            }
            let room = size - 1 - out.len();
            let take = buf.iter().take(room).position(|&b| b == b'\n').map_or(room.min(buf.len()), |n| n + 1);
            out.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
            self.pos += take as u64;
            if out.last() == Some(&b'\n') {
                break;
            }
        }
        Ok(!out.is_empty())
    }

    /// Reads `n` bytes without keeping them: how many were there, the first six and the
    /// last two.
    fn skim(&mut self, n: u64) -> Result<(u64, Vec<u8>, [u8; 2])> {
        let mut got = 0u64;
        let mut head = Vec::new();
        let mut tail = [0u8; 2];
        while got < n {
            let buf = self.inner.fill_buf().map_err(|e| Error::io(&self.path, e))?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(usize::try_from(n - got).unwrap_or(usize::MAX));
            let chunk = &buf[..take];
            if head.len() < 6 {
                head.extend(chunk.iter().take(6 - head.len()));
            }
            for &b in chunk.iter().rev().take(2).rev() {
                tail = [tail[1], b];
            }
            self.inner.consume(take);
            self.pos += take as u64;
            got += take as u64;
        }
        Ok((got, head, tail))
    }
}

/// `%02x` of a C `char` (sign-extended, as redis-check-aof prints it).
fn c_hex(b: u8) -> String {
    format!("{:02x}", b as i8 as i32 as u32)
}

/// The walk state of one file (the globals of redis-check-aof).
struct Walk<'a> {
    r: CReader,
    line: &'a mut i64,
    error: Option<(u64, String)>,
    epos: u64,
    multi: i64,
    commands: u64,
    scratch: Vec<u8>,
}

impl Walk<'_> {
    fn fail(&mut self, message: String) {
        self.error = Some((self.epos, message));
    }

    fn consume_newline(&mut self, two: [u8; 2]) -> bool {
        // strncmp stops at a NUL byte.
        if two != *b"\r\n" {
            let second = if two[0] == 0 { "00".to_string() } else { c_hex(two[1]) };
            self.fail(format!("Expected \\r\\n, got: {}{second}", c_hex(two[0])));
            return false;
        }
        *self.line += 1;
        true
    }

    fn read_long(&mut self, prefix: u8) -> Result<Option<i64>> {
        self.epos = self.r.pos;
        let mut buf = std::mem::take(&mut self.scratch);
        let got = self.r.fgets(128, &mut buf)?;
        let out = if !got {
            None
        } else if buf[0] != prefix {
            self.fail(format!("Expected prefix '{}', got: '{}'", prefix as char, buf[0] as char));
            None
        } else {
            let (v, used) = strtol(&buf[1..]);
            let end = 1 + used;
            let two = [buf.get(end).copied().unwrap_or(0), buf.get(end + 1).copied().unwrap_or(0)];
            self.consume_newline(two).then_some(v)
        };
        self.scratch = buf;
        Ok(out)
    }

    /// `readString`; returns the first bytes of the string (for MULTI/EXEC).
    fn read_string(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(len) = self.read_long(b'$')? else { return Ok(None) };
        if !(0..=i64::MAX - 2).contains(&len) {
            self.fail(format!("Expected to read string of {len} bytes, which is not in the suitable range"));
            return Ok(None);
        }
        let want = len as u64 + 2;
        self.epos = self.r.pos;
        let (got, head, tail) = self.r.skim(want)?;
        if got != want {
            self.fail(format!("Expected to read {want} bytes, got {got} bytes"));
            return Ok(None);
        }
        if !self.consume_newline(tail) {
            return Ok(None);
        }
        let body = &head[..head.len().min(len as usize)];
        Ok(Some(body.iter().take_while(|&&b| b != 0).copied().collect()))
    }

    /// `processRESP`.
    fn command(&mut self, path: &Path) -> Result<bool> {
        let Some(argc) = self.read_long(b'*')? else { return Ok(false) };
        self.commands += 1;
        for i in 0..argc.max(0) {
            let Some(s) = self.read_string()? else { return Ok(false) };
            if i == 0 {
                if s.eq_ignore_ascii_case(b"multi") {
                    self.multi += 1;
                    if self.multi > 1 {
                        self.fail(format!("Unexpected MULTI in AOF {}", path.display()));
                        return Ok(false);
                    }
                } else if s.eq_ignore_ascii_case(b"exec") {
                    self.multi -= 1;
                    if self.multi != 0 {
                        self.fail(format!("Unexpected EXEC in AOF {}", path.display()));
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}

type PartOutcome = std::result::Result<FileCheck, String>;

fn check_part(part: &Part, last: bool, truncate_to: Option<i64>, line: &mut i64) -> Result<PartOutcome> {
    let file = File::open(&part.path).map_err(|e| Error::io(&part.path, e))?;
    check_input(&part.path, part.size, part.encoding, Box::new(file), last, truncate_to, line)
}

/// Checks one file's bytes from any source, as the last file, with the line counter at
/// 1 (for fuzzing and tests): `Err` holds a fatal message.
pub fn check_bytes(bytes: &[u8], truncate_to: Option<i64>) -> Result<std::result::Result<FileCheck, String>> {
    let encoding = if bytes.is_empty() {
        Encoding::Empty
    } else if crate::layout::starts_like_rdb(bytes) {
        Encoding::Rdb
    } else {
        Encoding::Resp
    };
    let input: Box<dyn Read> = Box::new(Cursor::new(bytes.to_vec()));
    check_input(Path::new("<input>"), bytes.len() as u64, encoding, input, true, truncate_to, &mut 1)
}

fn check_input(
    path: &Path,
    size: u64,
    encoding: Encoding,
    file: Box<dyn Read>,
    last: bool,
    truncate_to: Option<i64>,
    line: &mut i64,
) -> Result<PartOutcome> {
    let path = &path.to_path_buf();
    let mut fc = FileCheck {
        path: path.clone(),
        size,
        last,
        status: Status::Valid,
        ok_up_to: 0,
        line: 0,
        error: None,
        rdb: None,
        commands: 0,
    };
    if encoding == Encoding::Empty {
        fc.status = Status::Empty;
        fc.line = *line;
        return Ok(Ok(fc));
    }
    let (input, start): (Box<dyn Read>, u64) = if encoding == Encoding::Rdb {
        let mut r = RdbReader::new(file);
        if let Err(e) = r.read_all(&mut NullVisitor) {
            if e.is_io() {
                return Err(Error::Rdb { path: path.clone(), source: e });
            }
            return Ok(Err(format!("RDB preamble of AOF file is not sane: {e}")));
        }
        let header = r.header().map_err(|source| Error::Rdb { path: path.clone(), source })?;
        let end = r.offset();
        fc.rdb = Some((header, end));
        let (rest, inner) = r.into_remainder();
        let tail: Box<dyn Read> = match inner {
            Some(inner) => Box::new(Cursor::new(rest).chain(inner)),
            None => Box::new(Cursor::new(rest)),
        };
        (tail, end)
    } else {
        (file, 0)
    };
    let capacity = usize::try_from(size.saturating_add(1)).unwrap_or(1 << 20).clamp(4096, 1 << 20);
    let reader = CReader { inner: BufReader::with_capacity(capacity, input), pos: start, path: path.clone() };
    let mut w = Walk { r: reader, line, error: None, epos: 0, multi: 0, commands: 0, scratch: Vec::new() };
    let mut pos = start;
    let mut multi_at = start;
    let mut at_eof = false;
    loop {
        if w.multi == 0 {
            pos = w.r.pos;
            multi_at = pos;
        }
        let Some(first) = w.r.peek()? else {
            at_eof = true;
            break;
        };
        match first {
            b'#' => {
                w.epos = w.r.pos;
                let mut buf = Vec::new();
                w.r.fgets(1024, &mut buf)?;
                let (Some(t), true) = (truncate_to, buf.starts_with(b"#TS:")) else { continue };
                let (ts, used) = strtol(&buf[4..]);
                if buf.get(4 + used) != Some(&b'\r') {
                    return Ok(Err("Invalid timestamp annotation".into()));
                }
                if ts <= t {
                    continue;
                }
                if w.epos == 0 {
                    return Ok(Err(format!("AOF {} has nothing before timestamp {t}, aborting...", path.display())));
                }
                if !last {
                    return Ok(Err(format!(
                        "Failed to truncate AOF {} to timestamp {t} to offset {} because it is not the last file",
                        path.display(),
                        w.epos
                    )));
                }
                let cut_at = if w.multi > 0 { multi_at } else { w.epos };
                fc.status = Status::CutAtTimestamp { annotation_at: w.epos, cut_at };
                fc.ok_up_to = cut_at;
                fc.line = *w.line;
                fc.commands = w.commands;
                return Ok(Ok(fc));
            }
            b'*' => {
                if !w.command(path)? {
                    at_eof = w.r.peek()?.is_none();
                    break;
                }
            }
            _ => {
                w.epos = w.r.pos;
                w.fail(format!("AOF {} format error", path.display()));
                break;
            }
        }
    }
    if at_eof && w.multi != 0 && w.error.is_none() {
        w.fail("Reached EOF before reading EXEC for MULTI".into());
    }
    fc.ok_up_to = pos;
    fc.line = *w.line;
    fc.commands = w.commands;
    fc.error = w.error.take();
    if size > pos {
        fc.status = Status::Invalid;
        if fc.error.is_none() {
            fc.error = Some((pos, "the file ends inside a command".into()));
        }
    }
    Ok(Ok(fc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8], truncate_to: Option<i64>) -> (Status, u64, Option<(u64, String)>, i64) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a.aof");
        std::fs::write(&p, bytes).expect("write");
        let layout = Layout::single(&p).expect("layout");
        let r = check(&layout, truncate_to).expect("check");
        let f = &r.files[0];
        (f.status.clone(), f.ok_up_to, f.error.clone(), f.line)
    }

    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";

    #[test]
    fn valid_files_and_the_line_counter() {
        let (s, ok, e, line) = walk(SET, None);
        assert_eq!((s, ok, e, line), (Status::Valid, SET.len() as u64, None, 8));
        let mut two = SET.to_vec();
        two.extend_from_slice(b"#TS:5\r\n");
        two.extend_from_slice(SET);
        assert_eq!(walk(&two, None).0, Status::Valid);
    }

    #[test]
    fn torn_and_broken_tails_match_redis_check_aof() {
        let mut torn = SET.to_vec();
        torn.extend_from_slice(&SET[..SET.len() - 3]);
        let (s, ok, e, _) = walk(&torn, None);
        assert_eq!((s, ok), (Status::Invalid, SET.len() as u64));
        assert_eq!(e, Some((SET.len() as u64 + 24, "Expected to read 3 bytes, got 0 bytes".into())));
        let mut cr = SET.to_vec();
        cr.extend_from_slice(b"*3\r");
        let (_, ok, e, _) = walk(&cr, None);
        assert_eq!((ok, e), (SET.len() as u64, Some((SET.len() as u64, "Expected \\r\\n, got: 0d00".into()))));
        let (s, ok, e, _) = walk(b"*1\n$4\nPING\n", None);
        assert_eq!((s, ok, e), (Status::Invalid, 0, Some((0, "Expected \\r\\n, got: 0a00".into()))));
        let (_, ok, e, _) = walk(b"xyz", None);
        assert_eq!((ok, e.map(|e| e.0)), (0, Some(0)));
    }

    #[test]
    fn transactions() {
        let multi = b"*1\r\n$5\r\nMULTI\r\n";
        let mut open = SET.to_vec();
        open.extend_from_slice(multi);
        open.extend_from_slice(SET);
        let (s, ok, e, _) = walk(&open, None);
        assert_eq!((s, ok), (Status::Invalid, SET.len() as u64));
        assert_eq!(e.map(|e| e.1), Some("Reached EOF before reading EXEC for MULTI".to_string()));
        let (_, ok, e, _) = walk(b"*1\r\n$4\r\nEXEC\r\n", None);
        assert_eq!((ok, e.map(|e| e.1.starts_with("Unexpected EXEC"))), (0, Some(true)));
    }

    #[test]
    fn truncate_to_timestamp() {
        let mut f = b"#TS:100\r\n".to_vec();
        f.extend_from_slice(SET);
        let cut = f.len() as u64;
        f.extend_from_slice(b"#TS:200\r\n");
        f.extend_from_slice(SET);
        assert_eq!(walk(&f, Some(150)).0, Status::CutAtTimestamp { annotation_at: cut, cut_at: cut });
        assert_eq!(walk(&f, Some(300)).0, Status::Valid);
    }
}
