//! Streaming reader: every part of an AOF in load order, an RDB base or preamble through
//! `rdb-parser`, then RESP commands parsed in place from a reused buffer (constant
//! memory: the buffer only grows to the largest single command).
//!
//! The rules are the servers' loader's, with redis-check-aof's strictness on framing:
//! `#` lines are annotations, commands are RESP arrays of bulk strings, each followed by
//! CRLF. A last file that ends inside a command, or inside `MULTI` without `EXEC`, is cut
//! at the last complete command (or before `MULTI`) like `aof-load-truncated yes` does,
//! unless [`TailPolicy::Strict`]; anything else is an error with file, offset and
//! command number.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use rdb_parser::{RdbReader, ReaderOptions, Visitor};
use resp::request::{parse_request, Args, DEFAULT_MAX_BULK};
use resp::ParseError;

use crate::error::{Error, Position, Result};
use crate::layout::{Encoding, Layout, Part};

/// What to do when the last file ends inside a command or a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailPolicy {
    /// Stop at the last complete command, like `aof-load-truncated yes` (the default).
    LikeServer,
    /// Fail.
    Strict,
}

/// Progress callback: bytes read so far, added up over every part.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Reader settings.
#[derive(Clone)]
pub struct ReadOptions {
    /// Handling of a torn tail.
    pub tail: TailPolicy,
    /// Largest single command accepted, in bytes.
    pub max_command_bytes: usize,
    /// Largest bulk string (the servers' `proto-max-bulk-len` is 512 MiB by default).
    pub max_bulk: usize,
    /// Told how many bytes were read, as reading goes.
    pub progress: Option<Progress>,
    /// Options of the RDB reader for bases and preambles.
    pub rdb: ReaderOptions,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tail: TailPolicy::LikeServer,
            max_command_bytes: 4 << 30,
            max_bulk: DEFAULT_MAX_BULK.max(1 << 30),
            progress: None,
            rdb: ReaderOptions::default(),
        }
    }
}

/// Initial buffer size.
const BUFFER_BYTES: usize = 1 << 20;
/// Longest annotation line the servers read in one go.
const MAX_ANNOTATION: usize = 1023;

/// One command, borrowed from the reader's buffer.
pub struct Command<'a> {
    buf: &'a [u8],
    args: &'a Args,
    /// Offset of its `*` in the file.
    pub offset: u64,
    /// 1-based number of the command in its file.
    pub index: u64,
    /// The file.
    pub file: &'a Path,
}

impl<'a> Command<'a> {
    /// Number of arguments, the name included.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Never true: empty commands are refused by the reader.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `i` (0 is the name).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(self.buf, i)
    }

    /// The command name as written.
    pub fn name(&self) -> &'a [u8] {
        self.arg(0)
    }

    /// All arguments.
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.args.iter(self.buf)
    }

    /// The command's encoded bytes, as in the file.
    pub fn raw(&self) -> &'a [u8] {
        self.buf
    }

    /// Where it is.
    pub fn position(&self) -> Position {
        Position { file: self.file.to_path_buf(), offset: self.offset, command: Some(self.index) }
    }
}

/// A torn tail left out, as the server leaves it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The file is read up to here.
    pub valid_up_to: u64,
    /// Bytes after it.
    pub dropped_bytes: u64,
    /// Why: the incomplete command, or the transaction without `EXEC`.
    pub reason: String,
    /// A `MULTI` was open: commands since it must be dropped.
    pub open_multi: bool,
}

/// The end of one part.
#[derive(Debug, Clone)]
pub struct PartEnd {
    /// Commands read (annotations not counted).
    pub commands: u64,
    /// Where the RDB base or preamble ended, if there was one.
    pub rdb_end: Option<u64>,
    /// The torn tail left out, if any.
    pub truncated: Option<Truncation>,
}

/// Receives what the reader reads.
pub trait Handler {
    /// Visitor for RDB bases and preambles.
    type Rdb: Visitor;
    /// The visitor to give an RDB base or preamble to.
    fn rdb(&mut self) -> &mut Self::Rdb;
    /// A part starts.
    fn part_start(&mut self, part: &Part) -> Result<()> {
        let _ = part;
        Ok(())
    }
    /// One command.
    fn command(&mut self, cmd: &Command<'_>) -> Result<()>;
    /// An annotation line (without `#` and the line end), e.g. `TS:1700000000`.
    fn annotation(&mut self, text: &[u8], at: &Position) -> Result<()> {
        let _ = (text, at);
        Ok(())
    }
    /// A part ended.
    fn part_end(&mut self, part: &Part, end: &PartEnd) -> Result<()> {
        let _ = (part, end);
        Ok(())
    }
}

/// Parses `TS:<unix>` annotations.
pub fn timestamp(annotation: &[u8]) -> Option<i64> {
    let digits = annotation.strip_prefix(b"TS:")?;
    std::str::from_utf8(digits).ok()?.trim_end_matches('\r').parse().ok()
}

/// Reads every part of `layout` in load order.
pub fn read_layout<H: Handler>(layout: &Layout, options: &ReadOptions, h: &mut H) -> Result<()> {
    let mut done = 0u64;
    let last = layout.parts.len().saturating_sub(1);
    for (i, part) in layout.parts.iter().enumerate() {
        h.part_start(part)?;
        let end = read_part(part, i == last, done, options, h)?;
        h.part_end(part, &end)?;
        done += part.size;
    }
    Ok(())
}

/// Reports progress as bytes go through.
struct Counting<R> {
    inner: R,
    base: u64,
    read: u64,
    progress: Option<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(p) = &self.progress {
            p(self.base + self.read);
        }
        Ok(n)
    }
}

fn read_part<H: Handler>(part: &Part, last: bool, base: u64, options: &ReadOptions, h: &mut H) -> Result<PartEnd> {
    let path = part.path.as_path();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let input = Counting { inner: file, base, read: 0, progress: options.progress.clone() };
    read_input(path, part.encoding, part.size, Box::new(input), last, options, h)
}

/// Reads one file's bytes from any source (`name` is only used in errors).
pub fn read_stream<H: Handler>(
    name: &Path,
    bytes: Vec<u8>,
    last: bool,
    options: &ReadOptions,
    h: &mut H,
) -> Result<PartEnd> {
    let encoding = if bytes.is_empty() {
        Encoding::Empty
    } else if crate::layout::starts_like_rdb(&bytes) {
        Encoding::Rdb
    } else {
        Encoding::Resp
    };
    let size = bytes.len() as u64;
    read_input(name, encoding, size, Box::new(Cursor::new(bytes)), last, options, h)
}

fn read_input<H: Handler>(
    path: &Path,
    encoding: Encoding,
    size: u64,
    input: Box<dyn Read>,
    last: bool,
    options: &ReadOptions,
    h: &mut H,
) -> Result<PartEnd> {
    if encoding == Encoding::Empty {
        return Ok(PartEnd { commands: 0, rdb_end: None, truncated: None });
    }
    let (source, start, rdb_end): (Box<dyn Read>, u64, Option<u64>) = if encoding == Encoding::Rdb {
        let mut r = RdbReader::with_options(input, options.rdb);
        r.read_all(h.rdb()).map_err(|source| Error::Rdb { path: path.to_path_buf(), source })?;
        let end = r.offset();
        let (rest, inner) = r.into_remainder();
        let tail: Box<dyn Read> = match inner {
            Some(inner) => Box::new(Cursor::new(rest).chain(inner)),
            None => Box::new(Cursor::new(rest)),
        };
        (tail, end, Some(end))
    } else {
        (Box::new(input), 0, None)
    };
    // Small files get a small buffer (it grows when a command needs more).
    let capacity = usize::try_from(size.saturating_add(1)).unwrap_or(BUFFER_BYTES).clamp(4096, BUFFER_BYTES);
    let mut resp = RespPart::new(source, start, path, options, capacity);
    let end = resp.run(last, h)?;
    Ok(PartEnd { rdb_end, ..end })
}

/// The RESP walk over one file.
struct RespPart<'p> {
    input: Box<dyn Read>,
    path: &'p Path,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
    options: &'p ReadOptions,
    args: Args,
}

impl<'p> RespPart<'p> {
    fn new(input: Box<dyn Read>, offset: u64, path: &'p Path, options: &'p ReadOptions, capacity: usize) -> Self {
        RespPart {
            input,
            path,
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            offset,
            eof: false,
            options,
            args: Args::new(),
        }
    }

    fn format_err(&self, offset: u64, command: Option<u64>, message: impl Into<String>) -> Error {
        Error::Format { at: Position { file: self.path.to_path_buf(), offset, command }, message: message.into() }
    }

    /// Reads more bytes; grows the buffer when it is full of one incomplete item.
    fn fill(&mut self) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.options.max_command_bytes {
                return Err(self.format_err(
                    self.offset,
                    None,
                    format!("a command larger than {} bytes", self.options.max_command_bytes),
                ));
            }
            let grown = (self.buf.len() * 2).min(self.options.max_command_bytes.max(4096));
            self.buf.resize(grown, 0);
        }
        while self.end < self.buf.len() {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(self.path, e)),
            }
        }
        Ok(())
    }

    fn run<H: Handler>(&mut self, last: bool, h: &mut H) -> Result<PartEnd> {
        let mut commands = 0u64;
        let mut multi_start: Option<u64> = None;
        let mut valid_up_to = self.offset;
        loop {
            if self.start == self.end {
                if self.eof {
                    break;
                }
                self.fill()?;
                continue;
            }
            let here = self.offset;
            match self.buf[self.start] {
                b'#' => {
                    let window = &self.buf[self.start..self.end];
                    match window.iter().take(MAX_ANNOTATION + 1).position(|&b| b == b'\n') {
                        Some(n) => {
                            let text = window[1..n].strip_suffix(b"\r").unwrap_or(&window[1..n]);
                            let at = Position { file: self.path.to_path_buf(), offset: here, command: None };
                            h.annotation(text, &at)?;
                            self.consume(n + 1);
                        }
                        None if window.len() > MAX_ANNOTATION => {
                            return Err(self.format_err(here, None, "an annotation line of at most 1023 bytes"));
                        }
                        None if self.eof => {
                            // The servers read a last line without a newline as it is.
                            self.consume(window.len());
                        }
                        None => self.fill()?,
                    }
                }
                b'*' => match parse_request(&self.buf[self.start..self.end], &mut self.args, self.options.max_bulk) {
                    Ok(n) => {
                        commands += 1;
                        if self.args.is_empty() {
                            return Err(self.format_err(
                                here,
                                Some(commands),
                                "a command with at least one argument (servers refuse `*0` and `*-1` in an AOF)",
                            ));
                        }
                        let raw = &self.buf[self.start..self.start + n];
                        let cmd =
                            Command { buf: raw, args: &self.args, offset: here, index: commands, file: self.path };
                        let name = cmd.name();
                        if name.eq_ignore_ascii_case(b"MULTI") {
                            if multi_start.is_some() {
                                return Err(self.format_err(here, Some(commands), "EXEC before another MULTI"));
                            }
                            multi_start = Some(here);
                        } else if name.eq_ignore_ascii_case(b"EXEC") && multi_start.take().is_none() {
                            return Err(self.format_err(here, Some(commands), "MULTI before EXEC"));
                        }
                        h.command(&cmd)?;
                        self.consume(n);
                        if multi_start.is_none() {
                            valid_up_to = self.offset;
                        }
                    }
                    Err(ParseError::Incomplete) if self.eof => {
                        let reason = format!("the file ends inside command #{} at offset {here}", commands + 1);
                        return self.torn(last, commands, valid_up_to, multi_start.is_some(), reason);
                    }
                    Err(ParseError::Incomplete) => self.fill()?,
                    Err(ParseError::Invalid { offset, expected }) => {
                        let mut msg = format!("expected {expected}");
                        if expected.contains("bare LF") {
                            msg.push_str("; the file's CRLF line ends were converted to LF (a git checkout or an editor does this): restore the original file");
                        }
                        return Err(self.format_err(here + offset as u64, Some(commands + 1), msg));
                    }
                },
                other => {
                    let what = if other.is_ascii_alphabetic() {
                        "'*' (a RESP array); this looks like an inline command, which servers do not load from an AOF"
                    } else {
                        "'*' (a RESP array) or '#' (an annotation)"
                    };
                    return Err(self.format_err(
                        here,
                        Some(commands + 1),
                        format!("expected {what}, found byte 0x{other:02x}"),
                    ));
                }
            }
        }
        if let Some(at) = multi_start {
            let reason = format!("the file ends inside a transaction (MULTI at offset {at} without EXEC)");
            return self.torn(last, commands, valid_up_to, true, reason);
        }
        Ok(PartEnd { commands, rdb_end: None, truncated: None })
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// A torn tail: dropped on the last file like the server does, else an error.
    fn torn(
        &mut self,
        last: bool,
        commands: u64,
        valid_up_to: u64,
        open_multi: bool,
        reason: String,
    ) -> Result<PartEnd> {
        let size = self.offset + (self.end - self.start) as u64;
        if !last {
            return Err(self.format_err(
                valid_up_to,
                None,
                format!("{reason}, and it is not the last file (servers refuse to load this)"),
            ));
        }
        if self.options.tail == TailPolicy::Strict {
            return Err(self.format_err(
                valid_up_to,
                None,
                format!("{reason} (torn tail; `rdbkit aof check --fix` cuts it)"),
            ));
        }
        let truncation = Truncation { valid_up_to, dropped_bytes: size - valid_up_to, reason, open_multi };
        Ok(PartEnd { commands, rdb_end: None, truncated: Some(truncation) })
    }
}
