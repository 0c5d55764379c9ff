//! DUMP payloads (what `DUMP` returns and `RESTORE` takes): the value in RDB form, the
//! 2-byte RDB version and a CRC64, for the target server's version.

use super::collect::{collect_key_elements, KeyBuf};
use super::encode::put_len;
use super::plain::put_uncompressed;
use super::rewrite::Rewrite;
use super::target::Target;
use super::values::{encode_value, put_module_ops, Encoded};
use crate::crc64::crc64;
use crate::header::{Dialect, Header};
use crate::types::{opcode, Kind};
use crate::visitor::{KeyEnd, VisitResult, Visitor};

/// Stored values up to this size get their LZF strings written out plain (with
/// [`DumpEncoder::uncompressed`]); larger ones become the payload as they are.
const SMALL_VALUE_BYTES: usize = 1 << 20;

/// One key turned into a payload.
pub struct DumpedKey<'a> {
    /// Database.
    pub db: u64,
    /// Key name.
    pub key: &'a [u8],
    /// Data type.
    pub kind: Kind,
    /// Absolute expiry, Unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// LRU idle seconds (for `RESTORE ... IDLETIME`).
    pub lru_idle_s: Option<u64>,
    /// LFU counter (for `RESTORE ... FREQ`).
    pub lfu_freq: Option<u8>,
    /// The payload; empty when the key was dropped.
    pub payload: &'a [u8],
    /// What the target could not represent (the key is dropped when `payload` is empty).
    pub losses: &'a [String],
    /// A string key's value, decoded, when the payload holds nothing more (no key
    /// metadata): a sink may send it as a plain command instead.
    pub string: Option<&'a [u8]>,
}

/// Receives what a [`DumpEncoder`] produces.
pub trait PayloadSink {
    /// One key and its payload.
    fn key(&mut self, key: &DumpedKey<'_>) -> VisitResult;

    /// A function library met in the file (by default ignored).
    fn function(&mut self, code: &[u8]) -> VisitResult {
        let _ = code;
        Ok(())
    }
}

/// A visitor that turns each key into a DUMP payload for a target and hands it to a
/// [`PayloadSink`]. Empty collections (which servers skip) are not passed on.
pub struct DumpEncoder<S> {
    target: Target,
    key: KeyBuf,
    source_valkey: bool,
    payload: Vec<u8>,
    losses: Vec<String>,
    /// How the current key's stored value is rewritten, when the target does not load
    /// it as stored.
    rewrite: Option<Rewrite>,
    /// A rewritten stream's metadata.
    tail: Vec<u8>,
    /// Write the LZF strings of copied values out plain (see [`DumpEncoder::uncompressed`]).
    plain: bool,
    /// The reader hands over stored values (see [`DumpEncoder::stored_values`]).
    stored: bool,
    /// The current key's value is copied as stored, its elements not visited.
    copying: bool,
    sink: S,
}

impl<S: PayloadSink> DumpEncoder<S> {
    /// Payloads for `target`, passed to `sink`.
    pub fn new(target: Target, sink: S) -> Self {
        let source_valkey = target.is_valkey();
        DumpEncoder {
            target,
            key: KeyBuf::default(),
            source_valkey,
            payload: Vec::new(),
            losses: Vec::new(),
            rewrite: None,
            tail: Vec::new(),
            plain: false,
            stored: false,
            copying: false,
            sink,
        }
    }

    /// For a reader that hands over stored values ([`crate::ReaderOptions::raw_values`]):
    /// values the target loads as they are stored are copied without visiting their
    /// elements (faster, and a big one is not also held element by element). Plain
    /// strings are still visited: their value is passed on decoded.
    pub fn stored_values(mut self) -> Self {
        self.stored = true;
        self
    }

    /// Values copied as stored get their LZF-compressed strings written out plain (for
    /// strings, listpacks, intsets, ziplists and quicklist nodes): larger payloads that
    /// the server loads with a copy instead of decompressing.
    pub fn uncompressed(mut self) -> Self {
        self.plain = true;
        self
    }

    /// The sink, back.
    pub fn into_inner(self) -> S {
        self.sink
    }
}

impl<S: PayloadSink> Visitor for DumpEncoder<S> {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.source_valkey = h.dialect == Dialect::Valkey;
        Ok(())
    }

    fn aux(&mut self, key: &[u8], _: &[u8]) -> VisitResult {
        if key == b"valkey-ver" {
            self.source_valkey = true;
        }
        Ok(())
    }

    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.sink.function(code)
    }

    fn key_start(&mut self, k: &crate::visitor::KeyStart<'_>) -> Result<crate::visitor::Visit, crate::VisitError> {
        self.key.begin(k);
        let t = &self.target;
        let loads = t.loads_as_is(k.rdb_type, self.source_valkey, !k.meta.is_empty());
        // Strings are decoded (a sink may send them as plain commands), unless long.
        let long = t.writes_as_stored(k.rdb_type, k.len);
        let as_is = loads && (k.rdb_type.kind() != Kind::String || long);
        self.rewrite = if self.stored && !loads { Rewrite::plan(k.rdb_type, t) } else { None };
        self.copying = self.stored && (as_is || self.rewrite.is_some());
        Ok(if self.copying { crate::visitor::Visit::Raw } else { crate::visitor::Visit::Value })
    }

    collect_key_elements!();

    fn raw_value(&mut self, rdb_type: crate::types::RdbType, bytes: &[u8]) -> VisitResult {
        self.key.raw = Some((rdb_type, bytes.to_vec()));
        Ok(())
    }

    fn take_raw_value(&mut self, rdb_type: crate::types::RdbType, bytes: &mut Vec<u8>) -> VisitResult {
        self.key.raw = Some((rdb_type, std::mem::take(bytes)));
        Ok(())
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        if end.empty {
            return Ok(());
        }
        if self.copying && self.key.raw.is_none() {
            return Err("DumpEncoder::stored_values needs a reader with ReaderOptions::raw_values".into());
        }
        self.payload.clear();
        self.losses.clear();
        if !self.key.meta.is_empty() && self.target.has_key_meta() {
            self.payload.push(opcode::KEY_META_OR_SLOT_IMPORT);
            put_len(&mut self.payload, self.key.meta.len() as u64);
            for m in &self.key.meta {
                self.payload.extend_from_slice(&m.class_spec.to_le_bytes());
                put_module_ops(&mut self.payload, &m.ops);
            }
        } else if !self.key.meta.is_empty() {
            self.losses.push("key metadata (RDB 13)".into());
        }
        let type_at = self.payload.len();
        self.payload.push(0);
        // Stored bytes also come with values visited element by element: those the target
        // does not load as stored are encoded from their elements (last arm).
        let encoded = match (self.key.raw.take(), self.rewrite) {
            // The stored form is already one the target loads: copy it as it is.
            (Some((ty, raw)), None) if self.target.loads_as_is(ty, self.source_valkey, !self.key.meta.is_empty()) => {
                if raw.len() > SMALL_VALUE_BYTES {
                    // A big one is not held twice (nor has its LZF strings written out plain).
                    self.payload_ends_with(raw);
                } else if !(self.plain && put_uncompressed(&mut self.payload, ty, &raw)) {
                    self.payload.extend_from_slice(&raw);
                }
                Encoded::Value(ty)
            }
            (Some((from, mut raw)), Some(rewrite)) => {
                let (k, t) = (&mut self.key, &self.target);
                let p = rewrite.prepare(from, &raw, k, t, &mut self.tail, &mut self.losses)?;
                match p.stored_prefix() {
                    // The stored bytes become the payload in place (not held twice).
                    Some(end) => {
                        raw.truncate(end);
                        raw.extend_from_slice(&self.tail);
                        self.payload_ends_with(raw);
                    }
                    None => {
                        let payload = &mut self.payload;
                        p.emit(&raw, &self.tail, &mut |piece| {
                            payload.extend_from_slice(piece);
                            Ok(())
                        })?;
                    }
                }
                Encoded::Value(p.ty)
            }
            _ => encode_value(&self.key, &self.target, self.source_valkey, &mut self.payload, &mut self.losses),
        };
        match encoded {
            Encoded::Value(ty) => {
                self.payload[type_at] = ty.byte();
                let version = u16::try_from(self.target.version()).unwrap_or(u16::MAX);
                self.payload.extend_from_slice(&version.to_le_bytes());
                let crc = crc64(&self.payload);
                self.payload.extend_from_slice(&crc.to_le_bytes());
            }
            Encoded::Dropped => self.payload.clear(),
        }
        let sent = self.send();
        // A big value's buffer is not kept for the small ones after it.
        if self.payload.capacity() > SMALL_VALUE_BYTES {
            self.payload = Vec::new();
        }
        sent
    }
}

impl<S: PayloadSink> DumpEncoder<S> {
    /// Appends `bytes` to the payload by moving what the payload holds so far in front of
    /// them, in their buffer (a big value is then not copied).
    fn payload_ends_with(&mut self, mut bytes: Vec<u8>) {
        bytes.splice(0..0, self.payload.drain(..));
        self.payload = bytes;
    }

    /// Hands the current key and its payload to the sink.
    fn send(&mut self) -> VisitResult {
        let k = &self.key;
        let dumped = DumpedKey {
            db: k.db,
            key: &k.key,
            kind: k.kind(),
            expire_at_ms: k.expire_at_ms,
            lru_idle_s: k.lru_idle_s,
            lfu_freq: k.lfu_freq,
            payload: &self.payload,
            losses: &self.losses,
            // Only a string that was decoded (not one copied as stored) is passed on.
            string: (k.kind() == Kind::String && k.meta.is_empty() && !self.copying).then(|| k.string()),
        };
        self.sink.key(&dumped)
    }
}

/// Checks a DUMP payload's footer: returns its RDB version and the body (type byte and
/// value) when the CRC matches.
pub fn split_payload(payload: &[u8]) -> Option<(u16, &[u8])> {
    if payload.len() < 10 {
        return None;
    }
    let (rest, crc) = payload.split_at(payload.len() - 8);
    let crc = u64::from_le_bytes(crc.try_into().ok()?);
    if crc64(rest) != crc {
        return None;
    }
    let (body, version) = rest.split_at(rest.len() - 2);
    Some((u16::from_le_bytes([version[0], version[1]]), body))
}
