//! State shared by the value decoders: the input, limits, reusable buffers, and the gate
//! through which elements reach the visitor.

use std::io::Read;

use crate::checks::{DupCheck, ZsetOrder};
use crate::decode::BlobError;
use crate::error::{Error, ErrorKind, Result, VisitError};
use crate::header::Header;
use crate::prim::{Limits, StringOrigin};
use crate::source::Source;
use crate::types::RdbType;
use crate::values::template::Templates;
use crate::visitor::{Container, KeyEnd, KeyStart, Visit, Visitor};

/// Input plus reusable buffers; one per reader.
pub(crate) struct Ctx<R> {
    pub src: Source<R>,
    pub limits: Limits,
    pub header: Header,
    /// The current blob (listpack, ziplist, ...) or string value.
    pub blob: Vec<u8>,
    /// Compressed bytes waiting for decompression.
    pub scratch: Vec<u8>,
    /// First element of a pair.
    pub a: Vec<u8>,
    /// Second element of a pair.
    pub b: Vec<u8>,
    pub dups: DupCheck,
    pub order: ZsetOrder,
    /// Stream entry fields, concatenated, and their spans.
    pub arena: Vec<u8>,
    pub spans: Vec<(u32, u32)>,
    /// Hand each value's stored bytes to the visitor.
    pub raw_values: bool,
    /// Hash templates declared by the file (RDB 15), held until its end.
    pub templates: Templates,
    /// The buffer the last value was captured into (kept for its capacity).
    pub captured: Vec<u8>,
}

/// Which reusable buffer to read a string into.
#[derive(Clone, Copy)]
pub(crate) enum Buf {
    Blob,
    A,
    B,
}

impl<R: Read> Ctx<R> {
    pub(crate) fn new(src: Source<R>, limits: Limits, header: Header) -> Self {
        Ctx {
            src,
            limits,
            header,
            blob: Vec::new(),
            scratch: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            dups: DupCheck::default(),
            order: ZsetOrder::default(),
            arena: Vec::new(),
            spans: Vec::new(),
            raw_values: false,
            templates: Templates::default(),
            captured: Vec::new(),
        }
    }

    /// Reads an RDB string into one of the buffers.
    pub(crate) fn string(&mut self, which: Buf, what: &'static str) -> Result<StringOrigin> {
        let out = match which {
            Buf::Blob => &mut self.blob,
            Buf::A => &mut self.a,
            Buf::B => &mut self.b,
        };
        self.src.string_into(out, &mut self.scratch, &self.limits, what)
    }

    /// Reads a length that counts elements; it must not exceed what the rest of a sane
    /// file could hold, but is never used to pre-allocate.
    pub(crate) fn count(&mut self) -> Result<u64> {
        self.src.length()
    }
}

/// Turns a blob violation into a file error.
pub(crate) fn blob_err(origin: &StringOrigin, what: &str, e: BlobError) -> Error {
    origin.error(e.at, what, e.msg)
}

/// Forwards a value's pieces to the visitor when it asked for them, and counts elements.
pub(crate) struct Gate<'v, V> {
    v: &'v mut V,
    /// The visitor wants the elements.
    open: bool,
    /// The visitor wants the stored bytes.
    raw: bool,
    started: bool,
    /// Elements delivered (or skipped).
    pub elements: u64,
    at: u64,
}

fn visit_err(at: u64, e: VisitError) -> Error {
    Error::new(at, ErrorKind::Visitor(e))
}

macro_rules! forward {
    ($self:ident, $call:expr) => {{
        if $self.open {
            let at = $self.at;
            $call.map_err(|e| visit_err(at, e))?;
        }
        Ok(())
    }};
}

impl<'v, V: Visitor> Gate<'v, V> {
    pub(crate) fn new(v: &'v mut V, at: u64) -> Self {
        Gate { v, open: false, raw: false, started: false, elements: 0, at }
    }

    /// Announces the key to the visitor, with the element count when known.
    /// `head` is the key as known before its value; `len` completes it. Only the first
    /// call announces (a deferred check announces before the value is decoded).
    pub(crate) fn begin(&mut self, head: &KeyStart<'_>, len: Option<u64>) -> Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let start = KeyStart { len, ..*head };
        let visit = self.v.key_start(&start).map_err(|e| visit_err(head.offset, e))?;
        self.open = visit == Visit::Value;
        self.raw = visit != Visit::Skip;
        Ok(())
    }

    /// Whether the visitor wants this key's elements.
    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    /// Whether the visitor skips this key entirely (neither elements nor stored bytes).
    pub(crate) fn skips(&self) -> bool {
        !self.open && !self.raw
    }

    /// Whether [`Gate::begin`] was called.
    pub(crate) fn started(&self) -> bool {
        self.started
    }

    pub(crate) fn end(self, end: &KeyEnd) -> Result<()> {
        let at = self.at;
        self.v.key_end(end).map_err(|e| visit_err(at, e))
    }

    pub(crate) fn string_chunk(&mut self, chunk: &[u8]) -> Result<()> {
        self.elements += chunk.len() as u64;
        forward!(self, self.v.string_chunk(chunk))
    }

    pub(crate) fn list_item(&mut self, item: &[u8]) -> Result<()> {
        self.elements += 1;
        forward!(self, self.v.list_item(item))
    }

    pub(crate) fn set_member(&mut self, member: &[u8]) -> Result<()> {
        self.elements += 1;
        forward!(self, self.v.set_member(member))
    }

    pub(crate) fn zset_member(&mut self, member: &[u8], score: f64) -> Result<()> {
        self.elements += 1;
        forward!(self, self.v.zset_member(member, score))
    }

    pub(crate) fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> Result<()> {
        self.elements += 1;
        forward!(self, self.v.hash_field(field, value, expire_at_ms))
    }

    pub(crate) fn array_element(&mut self, index: u64, value: &[u8]) -> Result<()> {
        self.elements += 1;
        forward!(self, self.v.array_element(index, value))
    }

    pub(crate) fn raw_value(&mut self, t: RdbType, bytes: &[u8]) -> Result<()> {
        if !self.raw {
            return Ok(());
        }
        let at = self.at;
        self.v.raw_value(t, bytes).map_err(|e| visit_err(at, e))
    }

    /// Hands over a value's stored bytes, which the visitor may take.
    pub(crate) fn take_raw_value(&mut self, t: RdbType, bytes: &mut Vec<u8>) -> Result<()> {
        if !self.raw {
            return Ok(());
        }
        let at = self.at;
        self.v.take_raw_value(t, bytes).map_err(|e| visit_err(at, e))
    }

    pub(crate) fn container(&mut self, c: &Container) -> Result<()> {
        forward!(self, self.v.container(c))
    }

    /// Direct access for the stream and module decoders (still gated by the caller).
    pub(crate) fn visitor(&mut self) -> Option<&mut V> {
        self.open.then_some(&mut *self.v)
    }

    /// Wraps a visitor error at the key's offset.
    pub(crate) fn wrap(&self, r: std::result::Result<(), VisitError>) -> Result<()> {
        r.map_err(|e| visit_err(self.at, e))
    }
}
