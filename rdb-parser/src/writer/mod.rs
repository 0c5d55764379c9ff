//! The streaming RDB writer: a [`Visitor`] that re-encodes what a reader (or
//! [`crate::replay_entry`]) shows it for a [`Target`] server.
//!
//! Keys are held one at a time, in a compact arena, while the target's encoding is
//! chosen (or, with [`WriterOptions::copy_stored_values`], as stored, to be copied or
//! rewritten piece by piece); everything else goes straight to the output with a
//! running CRC64. Features
//! the target cannot represent are collected as [`Loss`]es: with `lossy` off,
//! [`RdbWriter::finish`] then fails listing them.

mod collect;
mod containers;
mod dump;
mod encode;
mod plain;
mod quicklist;
mod rewrite;
mod stream;
mod target;
mod values;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

pub use dump::{split_payload, DumpEncoder, DumpedKey, PayloadSink};
pub use target::{Target, Thresholds, MIN_WRITE_VERSION};

use crate::crc64::Crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::escape::escape_bytes;
use crate::header::{Dialect, Header};
use crate::model::ModuleAux;
use crate::types::opcode;
use crate::types::RdbType;
use crate::visitor::{KeyEnd, KeyStart, Visit, VisitResult, Visitor};
use crate::VisitError;
use collect::KeyBuf;
use encode::{put_len, put_string};
use rewrite::{Prepared, Rewrite};
use values::{encode_value, put_module_ops, Encoded};

/// Capacity of the value buffer kept between keys (a big value's is freed).
const KEPT_VALUE_BYTES: usize = 1 << 20;

/// Writer settings.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// The server (version, dialect, thresholds) to write for.
    pub target: Target,
    /// Leave out what the target cannot represent, reporting it, instead of failing.
    pub lossy: bool,
    /// Database renumbering, source → written.
    pub rename_db: BTreeMap<u64, u64>,
    /// Exact (keys, expires) per source database for RESIZEDB; otherwise the source's
    /// own hints are copied.
    pub db_sizes: Option<BTreeMap<u64, (u64, u64)>>,
    /// When the source file has the target's own version and dialect, copy each value
    /// as it is stored instead of decoding and re-encoding it: it already is in a form
    /// that server writes, and copying is many times faster. From a file of another
    /// version, copy the values the target would write in the same form (long strings,
    /// big plain sets, hashes and sorted sets), and rewrite lists whose nodes change
    /// container and streams from their stored bytes (node by node; nodes copied), so
    /// that none is held decoded. The reader must then run with
    /// [`crate::ReaderOptions::raw_values`].
    pub copy_stored_values: bool,
}

impl WriterOptions {
    /// Options for `target`, refusing losses, no renames.
    pub fn new(target: Target) -> Self {
        WriterOptions { target, lossy: false, rename_db: BTreeMap::new(), db_sizes: None, copy_stored_values: false }
    }
}

/// Something the target could not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// Database of the key (`None` for file-level data such as functions).
    pub db: Option<u64>,
    /// The key, when the loss is about one key.
    pub key: Option<Vec<u8>>,
    /// What was left out (or, for a dropped key, why).
    pub what: String,
    /// True when the whole key was left out.
    pub key_dropped: bool,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.key, self.db) {
            (Some(k), Some(db)) => write!(f, "db {db} key {}: ", escape_bytes(k, 80))?,
            (Some(k), None) => write!(f, "key {}: ", escape_bytes(k, 80))?,
            _ => {}
        }
        if self.key_dropped {
            f.write_str("key left out: ")?;
        }
        f.write_str(&self.what)
    }
}

/// What a finished write produced.
#[derive(Debug)]
pub struct WriteSummary<W> {
    /// The output.
    pub out: W,
    /// Keys written.
    pub keys: u64,
    /// Bytes written.
    pub bytes: u64,
    /// What was left out (empty unless `lossy`).
    pub losses: Vec<Loss>,
}

/// Streaming RDB writer.
pub struct RdbWriter<W: Write> {
    out: W,
    crc: Crc64,
    bytes: u64,
    options: WriterOptions,
    preamble_done: bool,
    source_used_mem: Option<Vec<u8>>,
    source_valkey: bool,
    source_db: u64,
    source_hints: BTreeMap<u64, (u64, u64)>,
    written_db: Option<u64>,
    key: KeyBuf,
    /// Values are copied as stored (see [`WriterOptions::copy_stored_values`]).
    copy_stored: bool,
    /// The current key's value is to be copied as stored.
    want_stored: bool,
    /// The current key's stored value (in `value`), when copied.
    stored: Option<RdbType>,
    /// How the current key's stored value (in `value`) is rewritten, when it is.
    rewrite: Option<Rewrite>,
    /// What follows a rewritten value's copied part (a stream's metadata).
    tail: Vec<u8>,
    record: Vec<u8>,
    value: Vec<u8>,
    key_losses: Vec<String>,
    losses: Vec<Loss>,
    keys: u64,
}

/// Most losses listed in the error that refuses a conversion.
const MAX_LISTED_LOSSES: usize = 20;

fn io_err(e: std::io::Error) -> VisitError {
    Box::new(e)
}

impl<W: Write> RdbWriter<W> {
    /// A writer into `out`; the header is written at once.
    pub fn new(out: W, options: WriterOptions) -> Result<Self> {
        let mut w = RdbWriter {
            out,
            crc: Crc64::new(),
            bytes: 0,
            // Until the header says otherwise (entries replayed without a file).
            source_valkey: options.target.is_valkey(),
            options,
            preamble_done: false,
            source_used_mem: None,
            source_db: 0,
            source_hints: BTreeMap::new(),
            written_db: None,
            key: KeyBuf::default(),
            copy_stored: false,
            want_stored: false,
            stored: None,
            rewrite: None,
            tail: Vec::new(),
            record: Vec::new(),
            value: Vec::new(),
            key_losses: Vec::new(),
            losses: Vec::new(),
            keys: 0,
        };
        let header = w.options.target.header.to_bytes();
        w.emit(&header).map_err(|e| Error::new(0, ErrorKind::Io(e)))?;
        Ok(w)
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.options.target
    }

    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn emit_record(&mut self) -> std::io::Result<()> {
        let record = std::mem::take(&mut self.record);
        let r = self.emit(&record);
        self.record = record;
        self.record.clear();
        r
    }

    /// AUX fields, written before the first other record.
    fn preamble(&mut self) -> std::io::Result<()> {
        if self.preamble_done {
            return Ok(());
        }
        self.preamble_done = true;
        if !self.options.target.has_aux() {
            return Ok(());
        }
        let t = &self.options.target;
        let ver_key: &[u8] = if t.is_valkey() { b"valkey-ver" } else { b"redis-ver" };
        let ctime = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0).to_string();
        let used_mem = self.source_used_mem.clone().unwrap_or_else(|| b"0".to_vec());
        let fields: [(&[u8], &[u8]); 4] = [
            (ver_key, t.server_version.as_bytes()),
            (b"redis-bits", b"64"),
            (b"ctime", ctime.as_bytes()),
            (b"used-mem", &used_mem),
        ];
        self.record.clear();
        for (k, v) in fields {
            self.record.push(opcode::AUX);
            put_string(&mut self.record, k);
            put_string(&mut self.record, v);
        }
        self.emit_record()
    }

    fn loss(&mut self, db: Option<u64>, key: Option<Vec<u8>>, what: String, key_dropped: bool) {
        self.losses.push(Loss { db, key, what, key_dropped });
    }

    /// Writes the current key (after `key_end`).
    fn write_key(&mut self) -> std::result::Result<(), VisitError> {
        self.preamble()?;
        let t = &self.options.target;
        let (has_aux, has_streams, has_key_meta) = (t.has_aux(), t.has_streams(), t.has_key_meta());
        self.key_losses.clear();
        let mut prepared: Option<Prepared> = None;
        let encoded = match (self.stored, self.rewrite) {
            (Some(from), Some(rewrite)) => {
                let p = rewrite.prepare(from, &self.value, &mut self.key, t, &mut self.tail, &mut self.key_losses)?;
                let ty = p.ty;
                prepared = Some(p);
                Encoded::Value(ty)
            }
            (Some(ty), None) => Encoded::Value(ty),
            (None, _) => {
                self.value.clear();
                encode_value(&self.key, t, self.source_valkey, &mut self.value, &mut self.key_losses)
            }
        };
        if !self.key.meta.is_empty() && !has_key_meta {
            self.key_losses.push("key metadata (RDB 13)".into());
        }
        let dropped = matches!(encoded, Encoded::Dropped);
        let db = self.options.rename_db.get(&self.key.db).copied().unwrap_or(self.key.db);
        for what in std::mem::take(&mut self.key_losses) {
            self.loss(Some(db), Some(self.key.key.clone()), what, dropped);
        }
        let Encoded::Value(ty) = encoded else { return Ok(()) };
        self.record.clear();
        if self.written_db != Some(db) {
            self.record.push(opcode::SELECTDB);
            put_len(&mut self.record, db);
            let hint = match &self.options.db_sizes {
                Some(sizes) => sizes.get(&self.key.db).copied(),
                None => self.source_hints.get(&self.key.db).copied(),
            };
            if let (Some((keys, expires)), true) = (hint, has_aux) {
                self.record.push(opcode::RESIZEDB);
                put_len(&mut self.record, keys);
                put_len(&mut self.record, expires);
            }
            self.written_db = Some(db);
        }
        if let Some(ms) = self.key.expire_at_ms {
            self.record.push(opcode::EXPIRETIME_MS);
            self.record.extend_from_slice(&ms.to_le_bytes());
        }
        if has_streams {
            if let Some(idle) = self.key.lru_idle_s {
                self.record.push(opcode::IDLE);
                put_len(&mut self.record, idle);
            }
            if let Some(freq) = self.key.lfu_freq {
                self.record.push(opcode::FREQ);
                self.record.push(freq);
            }
        }
        if has_key_meta && !self.key.meta.is_empty() {
            self.record.push(opcode::KEY_META_OR_SLOT_IMPORT);
            put_len(&mut self.record, self.key.meta.len() as u64);
            for m in &self.key.meta {
                self.record.extend_from_slice(&m.class_spec.to_le_bytes());
                put_module_ops(&mut self.record, &m.ops);
            }
        }
        self.record.push(ty.byte());
        put_string(&mut self.record, &self.key.key);
        self.keys += 1;
        self.emit_record()?;
        let value = std::mem::take(&mut self.value);
        let tail = std::mem::take(&mut self.tail);
        let r = match prepared {
            Some(p) => p.emit(&value, &tail, &mut |piece| self.emit(piece)),
            None => self.emit(&value).map_err(io_err),
        };
        self.tail = tail;
        self.value = value;
        r
    }

    /// Ends the file (EOF opcode and CRC64) and returns what was written.
    ///
    /// Fails, listing the losses, when something had to be left out and `lossy` is off.
    pub fn finish(mut self) -> Result<WriteSummary<W>> {
        let io = |e: std::io::Error| Error::new(0, ErrorKind::Io(e));
        self.preamble().map_err(io)?;
        if !self.losses.is_empty() && !self.options.lossy {
            let mut msg = format!(
                "the target {} ({}) cannot represent {} item(s); use --lossy to leave them out: ",
                self.options.target.name,
                self.options.target.header.label(),
                self.losses.len()
            );
            let listed: Vec<String> = self.losses.iter().take(MAX_LISTED_LOSSES).map(Loss::to_string).collect();
            msg.push_str(&listed.join("; "));
            if self.losses.len() > MAX_LISTED_LOSSES {
                msg.push_str(&format!("; and {} more", self.losses.len() - MAX_LISTED_LOSSES));
            }
            return Err(Error::new(0, ErrorKind::Refused(msg)));
        }
        self.emit(&[opcode::EOF]).map_err(io)?;
        if self.options.target.header.has_checksum() {
            let crc = self.crc.value().to_le_bytes();
            self.out.write_all(&crc).map_err(io)?;
            self.bytes += 8;
        }
        self.out.flush().map_err(io)?;
        Ok(WriteSummary { out: self.out, keys: self.keys, bytes: self.bytes, losses: self.losses })
    }
}

impl<W: Write> Visitor for RdbWriter<W> {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.source_valkey = h.dialect == Dialect::Valkey;
        let t = &self.options.target;
        self.copy_stored = self.options.copy_stored_values && h.version == t.version() && h.dialect == t.header.dialect;
        Ok(())
    }

    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        match key {
            b"valkey-ver" => self.source_valkey = true,
            b"used-mem" => self.source_used_mem = Some(value.to_vec()),
            _ => {}
        }
        Ok(())
    }

    fn select_db(&mut self, db: u64) -> VisitResult {
        self.source_db = db;
        Ok(())
    }

    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        self.source_hints.insert(self.source_db, (keys, expires));
        Ok(())
    }

    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.preamble().map_err(io_err)?;
        if !self.options.target.has_listpacks() {
            let name = String::from_utf8_lossy(code.split(|&b| b == b'\n').next().unwrap_or_default()).into_owned();
            self.loss(None, None, format!("function library ({name}) needs RDB 10 (Redis 7.0)"), false);
            return Ok(());
        }
        self.record.clear();
        self.record.push(opcode::FUNCTION2);
        put_string(&mut self.record, code);
        self.emit_record().map_err(io_err)
    }

    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        self.preamble().map_err(io_err)?;
        let t = &self.options.target;
        if !t.has_streams() || self.source_valkey != t.is_valkey() {
            let what = format!("module auxiliary data of {} (needs RDB 9 and the same server family)", aux.value.name);
            self.loss(None, None, what, false);
            return Ok(());
        }
        self.record.clear();
        self.record.push(opcode::MODULE_AUX);
        put_len(&mut self.record, aux.value.module_id);
        put_len(&mut self.record, 2);
        put_len(&mut self.record, aux.when);
        put_module_ops(&mut self.record, &aux.value.ops);
        self.emit_record().map_err(io_err)
    }

    fn key_start(&mut self, k: &KeyStart<'_>) -> std::result::Result<Visit, VisitError> {
        self.key.begin(k);
        self.stored = None;
        let t = &self.options.target;
        // Same version: every value the target loads as it is. Another version: only
        // those the target would write in the same form (big ones, not held decoded).
        let copy = self.copy_stored || (self.options.copy_stored_values && t.writes_as_stored(k.rdb_type, k.len));
        self.want_stored = copy && t.loads_as_is(k.rdb_type, self.source_valkey, !k.meta.is_empty());
        // A quicklist whose nodes the target keeps in the other container: re-encoded
        // node by node from its stored bytes. A stream: nodes copied, metadata rewritten.
        self.rewrite = None;
        if !self.want_stored && self.options.copy_stored_values {
            self.rewrite = Rewrite::plan(k.rdb_type, t);
            self.want_stored = self.rewrite.is_some();
        }
        Ok(if self.want_stored { Visit::Raw } else { Visit::Value })
    }

    collect::collect_key_elements!();

    fn raw_value(&mut self, rdb_type: RdbType, bytes: &[u8]) -> VisitResult {
        if self.want_stored {
            self.stored = Some(rdb_type);
            self.value.clear();
            self.value.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn take_raw_value(&mut self, rdb_type: RdbType, bytes: &mut Vec<u8>) -> VisitResult {
        if self.want_stored {
            self.stored = Some(rdb_type);
            std::mem::swap(&mut self.value, bytes);
        }
        Ok(())
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        if end.empty {
            return Ok(());
        }
        if self.want_stored && self.stored.is_none() {
            return Err("copy_stored_values needs a reader with ReaderOptions::raw_values".into());
        }
        let written = self.write_key();
        // A big value's buffer is not kept for the small ones after it.
        self.value.clear();
        self.value.shrink_to(KEPT_VALUE_BYTES);
        written
    }
}
