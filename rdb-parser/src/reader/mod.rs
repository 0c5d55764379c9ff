//! The streaming reader: one record at a time from any `io::Read`, in constant memory.

use std::io::Read;

mod key;

pub(crate) use key::{is_empty, KeyHandoff};
use key::{read_key, Prefix};

use crate::context::{Buf, Ctx};
use crate::defer::Deferred;
use crate::error::{Error, ErrorKind, Result};
use crate::header::{Dialect, Header};
use crate::reader_options::ReaderOptions;
use crate::source::Source;
use crate::types::{opcode, RdbType};
use crate::visitor::{Checksum, Visitor};

/// Largest database number any server configuration accepts (`databases` ≤ INT_MAX).
const MAX_DB: u64 = i32::MAX as u64 - 1;

/// Where a relaxed read stopped: the first type or opcode byte this reader does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Offset of the unknown byte.
    pub offset: u64,
    /// The byte.
    pub byte: u8,
    /// The file's RDB version.
    pub version: u32,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.byte;
        write!(
            f,
            "reading stopped at offset {}: unknown type or opcode {b} (0x{b:02x}) in RDB {}",
            self.offset, self.version
        )
    }
}

/// What [`RdbReader::next_record`] just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The header, an opcode or a key prefix; more follows.
    Record,
    /// A whole key (announced with `key_start` … `key_end`).
    Key,
    /// The EOF opcode and the checksum; nothing more will be read.
    End,
}

/// Streaming RDB reader.
///
/// ```
/// use rdb_parser::{RdbReader, Visitor, VisitResult};
///
/// struct Count(usize);
/// impl Visitor for Count {
///     fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
///         self.0 += chunk.len();
///         Ok(())
///     }
/// }
///
/// let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff\x8d\x86\xb9\x4c\x67\x6e\xab\x95";
/// let mut count = Count(0);
/// RdbReader::new(&file[..]).read_all(&mut count).unwrap();
/// assert_eq!(count.0, 3);
/// ```
pub struct RdbReader<R> {
    state: State<R>,
    options: ReaderOptions,
    db: u64,
    prefix: Prefix,
    key: Vec<u8>,
    /// The visitor was shown the header (also when [`RdbReader::header`] read it first).
    header_visited: bool,
    done: bool,
    stopped: Option<Stopped>,
    /// The checker thread of [`ReaderOptions::defer_checks`], once the header is read.
    deferred: Option<Deferred>,
}

enum State<R> {
    Fresh(Option<Box<Source<R>>>),
    Body(Box<Ctx<R>>),
}

impl<R: Read> RdbReader<R> {
    /// A reader with default options.
    pub fn new(input: R) -> Self {
        Self::with_options(input, ReaderOptions::default())
    }

    /// A reader with the given options.
    pub fn with_options(input: R, options: ReaderOptions) -> Self {
        RdbReader {
            state: State::Fresh(Some(Box::new(Source::new(input, options.buffer_bytes)))),
            options,
            db: 0,
            prefix: Prefix::default(),
            key: Vec::new(),
            header_visited: false,
            done: false,
            stopped: None,
            deferred: None,
        }
    }

    /// The limits this reader applies.
    pub(crate) fn options_limits(&self) -> crate::prim::Limits {
        self.options.limits
    }

    /// Where a relaxed read stopped early, if it did.
    pub fn stopped(&self) -> Option<Stopped> {
        self.stopped
    }

    /// Reads the header if needed and returns it.
    pub fn header(&mut self) -> Result<Header> {
        Ok(self.ctx()?.header)
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        match &self.state {
            State::Fresh(Some(s)) => s.offset(),
            State::Fresh(None) => 0,
            State::Body(cx) => cx.src.offset(),
        }
    }

    fn ctx(&mut self) -> Result<&mut Ctx<R>> {
        if let State::Fresh(src) = &mut self.state {
            let Some(mut src) = src.take() else {
                return Err(Error::corrupt(0, "the reader failed on its header earlier"));
            };
            let raw: [u8; Header::LEN] = src.array("the RDB header")?;
            let header = match Header::parse(&raw) {
                Err(e) if self.options.relaxed => Header::newer(&raw).ok_or(e)?,
                parsed => parsed?,
            };
            let mut cx = Ctx::new(*src, self.options.limits, header);
            cx.raw_values = self.options.raw_values;
            if self.options.defer_checks {
                self.deferred = Deferred::start(self.options.limits, header);
            }
            self.state = State::Body(Box::new(cx));
        }
        match &mut self.state {
            State::Body(cx) => Ok(cx),
            State::Fresh(_) => Err(Error::corrupt(0, "reader state")),
        }
    }

    /// Reads everything, calling the visitor for each record, and checks the checksum.
    pub fn read_all<V: Visitor>(&mut self, v: &mut V) -> Result<()> {
        while self.next_record(v)? != Step::End {}
        Ok(())
    }

    /// Reads the next record (the header first), calling the visitor.
    pub fn next_record<V: Visitor>(&mut self, v: &mut V) -> Result<Step> {
        self.next_record_via(v, None)
    }

    /// [`RdbReader::next_record`], with key values handed to `handoff` when given.
    pub(crate) fn next_record_via<V: Visitor>(
        &mut self,
        v: &mut V,
        handoff: Option<&mut dyn KeyHandoff<R, V>>,
    ) -> Result<Step> {
        let step = self.next_record_here(v, handoff);
        let Some(d) = &mut self.deferred else {
            return step;
        };
        match step {
            // The deferred checks concern earlier bytes: their error comes first.
            Err(e) => Err(d.settle().err().unwrap_or(e)),
            Ok(Step::End) => {
                // Settled before the EOF opcode's checksum; here after a relaxed stop.
                let empty = d.settle()?;
                self.deferred = None;
                for (db, keys) in empty {
                    v.deferred_empty(db, keys).map_err(|e| Error::new(self.offset(), ErrorKind::Visitor(e)))?;
                }
                Ok(Step::End)
            }
            Ok(_) if d.failed() => {
                let e = d.settle().err().unwrap_or_else(|| Error::corrupt(0, "internal: deferred check"));
                self.done = true;
                Err(e)
            }
            Ok(step) => Ok(step),
        }
    }

    fn next_record_here<V: Visitor>(&mut self, v: &mut V, handoff: Option<&mut dyn KeyHandoff<R, V>>) -> Result<Step> {
        if self.done {
            return Ok(Step::End);
        }
        if !self.header_visited {
            let header = self.ctx()?.header;
            self.header_visited = true;
            v.header(&header).map_err(|e| Error::new(0, ErrorKind::Visitor(e)))?;
            return Ok(Step::Record);
        }
        let State::Body(cx) = &mut self.state else {
            return Err(Error::corrupt(0, "reader state"));
        };
        let at = cx.src.offset();
        let op = cx.src.u8("an opcode or value type")?;
        let visit =
            |r: std::result::Result<(), crate::VisitError>| r.map_err(|e| Error::new(at, ErrorKind::Visitor(e)));
        let dialect = cx.header.dialect;
        let version = cx.header.version;
        // Servers never write an opcode or type into a file older than it; a damaged
        // version digit (which can also hide the checksum, below RDB 5) shows up here.
        let since = RdbType::from_byte(op, dialect).map_or_else(|| opcode::since_version(op), RdbType::since_version);
        if since > version {
            return Err(Error::corrupt(
                at,
                format!("opcode or type {op} (0x{op:02x}) exists since RDB {since}, but the header says RDB {version}"),
            ));
        }
        match op {
            opcode::EOF => {
                if let Some(d) = &mut self.deferred {
                    let empty = d.settle()?;
                    self.deferred = None;
                    for (db, keys) in empty {
                        visit(v.deferred_empty(db, keys))?;
                    }
                }
                let checksum = finish(cx)?;
                self.done = true;
                visit(v.end(checksum))?;
                return Ok(Step::End);
            }
            opcode::SELECTDB => {
                let db = cx.src.length()?;
                // Servers refuse a database beyond their `databases` setting, which
                // cannot exceed INT_MAX: such a number is damage, never data.
                if db > MAX_DB {
                    return Err(Error::corrupt(at, format!("SELECTDB {db}: no server has more than 2^31 databases")));
                }
                self.db = db;
                visit(v.select_db(self.db))?;
            }
            opcode::RESIZEDB => {
                let keys = cx.src.length()?;
                let expires = cx.src.length()?;
                visit(v.resize_db(keys, expires))?;
            }
            opcode::AUX => {
                cx.string(Buf::A, "an AUX field name")?;
                cx.string(Buf::B, "an AUX field value")?;
                visit(v.aux(&cx.a, &cx.b))?;
            }
            opcode::EXPIRETIME_MS => {
                self.prefix.start.get_or_insert(at);
                self.prefix.expire_at_ms = Some(cx.src.i64_le("an expire time")?);
            }
            opcode::EXPIRETIME => {
                self.prefix.start.get_or_insert(at);
                let secs = i32::from_le_bytes(cx.src.array("an expire time")?);
                self.prefix.expire_at_ms = Some(i64::from(secs) * 1000);
            }
            opcode::IDLE => {
                self.prefix.start.get_or_insert(at);
                self.prefix.lru_idle_s = Some(cx.src.length()?);
            }
            opcode::FREQ => {
                self.prefix.start.get_or_insert(at);
                self.prefix.lfu_freq = Some(cx.src.u8("an LFU counter")?);
            }
            opcode::MODULE_AUX => {
                let aux = cx.module_aux()?;
                visit(v.module_aux(&aux))?;
            }
            opcode::FUNCTION2 => {
                cx.string(Buf::A, "a function library")?;
                visit(v.function(&cx.a))?;
            }
            opcode::FUNCTION_PRE_GA => {
                let f = cx.function_pre_ga()?;
                visit(v.function_pre_ga(&f))?;
            }
            opcode::SLOT_INFO => {
                let slot = cx.src.length()?;
                let keys = cx.src.length()?;
                let expires = cx.src.length()?;
                visit(v.slot_info(slot, keys, expires))?;
            }
            opcode::KEY_META_OR_SLOT_IMPORT if dialect == Dialect::Redis && cx.header.version >= 13 => {
                self.prefix.start.get_or_insert(at);
                self.prefix.meta = cx.key_meta()?;
            }
            opcode::KEY_META_OR_SLOT_IMPORT if dialect == Dialect::Valkey => {
                cx.string(Buf::A, "a slot import job name")?;
                let n = cx.src.length()?;
                let mut ranges = Vec::new();
                for _ in 0..n {
                    ranges.push((cx.src.length()?, cx.src.length()?));
                }
                visit(v.slot_import(&cx.a, &ranges))?;
            }
            opcode::HASH_TEMPLATE if dialect == Dialect::Redis => {
                let id = cx.hash_template()?;
                if let Some(set) = cx.templates.get(id) {
                    let names: Vec<&[u8]> = set.iter().collect();
                    visit(v.hash_template(id, &names))?;
                }
            }
            opcode::ENTERPRISE_RAM_LRU | opcode::ENTERPRISE_SLOT => {
                cx.src.length()?;
            }
            t => {
                let Some(rdb_type) = RdbType::from_byte(t, dialect) else {
                    if self.options.relaxed {
                        self.stopped = Some(Stopped { offset: at, byte: t, version });
                        self.done = true;
                        return Ok(Step::End);
                    }
                    return Err(Error::new(
                        at,
                        ErrorKind::UnknownType { byte: t, dialect: dialect.name(), version: cx.header.version },
                    ));
                };
                let mut prefix = std::mem::take(&mut self.prefix);
                prefix.start.get_or_insert(at);
                let mut key = std::mem::take(&mut self.key);
                let r = read_key(cx, self.db, rdb_type, prefix, &mut key, v, self.deferred.as_mut(), handoff);
                self.key = key;
                r?;
                return Ok(Step::Key);
            }
        }
        Ok(Step::Record)
    }

    /// Bytes read past the end of the RDB (after the checksum), and the input. AOF files
    /// with an RDB preamble continue with commands there.
    pub fn into_remainder(self) -> (Vec<u8>, Option<R>) {
        match self.state {
            State::Body(cx) => (cx.src.buffered().to_vec(), Some(cx.src.into_inner())),
            State::Fresh(Some(src)) => (src.buffered().to_vec(), Some(src.into_inner())),
            State::Fresh(None) => (Vec::new(), None),
        }
    }

    /// Reads to the end of the input after the RDB and returns how many bytes follow the
    /// checksum. Servers stop reading at the checksum and ignore them (files captured from
    /// a replication stream end with a 40-byte marker, say), so they do not make a file
    /// invalid.
    ///
    /// Files older than RDB 5 have no checksum, and Redis 2.x/3.x `rdbLoad` stops at their
    /// EOF opcode too, so bytes after it are accepted as well, with one exception: exactly
    /// 8 bytes, the size of the CRC-64 trailer of RDB 5+. That is what an RDB 5+ file whose
    /// version digit was damaged (9 read as 1) looks like, and it is refused as damage (the
    /// trailer cannot be checked: it covers the undamaged header).
    pub fn finish(mut self) -> Result<u64> {
        let version = self.header()?.version;
        let end = self.offset();
        let (buffered, rest) = self.into_remainder();
        let mut n = buffered.len() as u64;
        if let Some(mut rest) = rest {
            n += std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| Error::new(end, ErrorKind::Io(e)))?;
        }
        if n == 8 && version < 5 {
            return Err(Error::corrupt(
                end,
                format!(
                    "8 bytes follow the end of this RDB {version} file, the size of the CRC-64 trailer only \
                     RDB 5 and later have; the version in the header is probably damaged"
                ),
            ));
        }
        Ok(n)
    }

    /// True when nothing follows the checksum.
    pub fn at_eof(&mut self) -> Result<bool> {
        match &mut self.state {
            State::Body(cx) => cx.src.at_eof(),
            State::Fresh(Some(s)) => s.at_eof(),
            State::Fresh(None) => Ok(true),
        }
    }
}

/// Checks the checksum that follows the EOF opcode.
fn finish<R: Read>(cx: &mut Ctx<R>) -> Result<Checksum> {
    if !cx.header.has_checksum() {
        return Ok(Checksum::Absent);
    }
    let computed = cx.src.crc();
    let trailer_at = cx.src.offset();
    let stored = u64::from_le_bytes(cx.src.array("the CRC64 checksum")?);
    if stored == 0 {
        return Ok(Checksum::Disabled);
    }
    if stored != computed {
        return Err(Error::new(trailer_at, ErrorKind::ChecksumMismatch { stored, computed }));
    }
    Ok(Checksum::Ok(stored))
}
