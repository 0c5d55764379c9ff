//! [`MemoryVisitor`]: turns a file's records into one [`KeyMemory`] per key.

use super::array::ArrayEst;
use super::dict::LoadedHashes;
use super::hash::HashEst;
use super::list::ListEst;
use super::profile::{Profile, ServerVersion, VersionSpec};
use super::set::SetEst;
use super::stream::StreamEst;
use super::string::StringEst;
use super::zset::ZSetEst;
use super::{Allocator, Encoding, KeyFacts, KeyMemory, ValueSize};
use crate::error::VisitError;
use crate::header::{Dialect, Header};
use crate::model::{StreamGroup, StreamId, StreamMeta};
use crate::types::Kind;
use crate::visitor::{Container, KeyEnd, KeyStart, StreamEntryRef, Visit, VisitResult, Visitor};

/// What to estimate for.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryOptions {
    /// The allocator the server was built with.
    pub allocator: Allocator,
    /// The server version to assume instead of the one the dump names; a version given
    /// without a flavor keeps the dump's flavor.
    pub server_version: Option<VersionSpec>,
}

/// The estimator of the current value.
#[derive(Debug)]
enum Value {
    String(StringEst),
    List(ListEst),
    Set(SetEst),
    ZSet(ZSetEst),
    Hash(HashEst),
    Stream(StreamEst),
    Module,
    Array(ArrayEst),
    Gcra,
}

/// The key being read.
#[derive(Debug)]
struct OpenKey {
    db: u64,
    key: Vec<u8>,
    kind: Kind,
    expire_at_ms: Option<i64>,
    /// Module metadata classes attached to the key.
    metas: u64,
    largest: u64,
    value: Value,
}

/// A visitor that estimates each key's memory; [`MemoryVisitor::take`] returns the last
/// completed key. Keys the servers skip on load (empty collections) yield nothing.
#[derive(Debug)]
pub struct MemoryVisitor {
    options: MemoryOptions,
    dialect: Dialect,
    rdb_version: u32,
    from_aux: Option<ServerVersion>,
    ctime_s: Option<i64>,
    profile: Option<Profile>,
    open: Option<OpenKey>,
    ready: Option<KeyMemory>,
    loaded: LoadedHashes,
}

impl MemoryVisitor {
    /// A visitor with these options.
    pub fn new(options: MemoryOptions) -> MemoryVisitor {
        MemoryVisitor {
            options,
            dialect: Dialect::Redis,
            rdb_version: 0,
            from_aux: None,
            ctime_s: None,
            profile: None,
            open: None,
            ready: None,
            loaded: LoadedHashes::default(),
        }
    }

    /// The server and allocator the estimates are for: fixed at the first key from the
    /// options, the dump's version AUX field, or its RDB version.
    pub fn profile(&mut self) -> Profile {
        *self.profile.get_or_insert_with(|| {
            let detected =
                self.from_aux.unwrap_or_else(|| ServerVersion::for_rdb_version(self.rdb_version, self.dialect));
            let version = self.options.server_version.map_or(detected, |spec| spec.resolve(detected.flavor));
            Profile::new(version, self.options.allocator)
        })
    }

    /// A visitor for this dump's keys on another thread: the same options and dump
    /// facts, the profile fixed as this one's.
    pub fn fork(&mut self) -> MemoryVisitor {
        MemoryVisitor {
            options: self.options,
            dialect: self.dialect,
            rdb_version: self.rdb_version,
            from_aux: self.from_aux,
            ctime_s: self.ctime_s,
            profile: Some(self.profile()),
            open: None,
            ready: None,
            loaded: LoadedHashes::default(),
        }
    }

    /// The version the dump itself names (its `redis-ver` / `valkey-ver` AUX field).
    pub fn dump_version(&self) -> Option<ServerVersion> {
        self.from_aux
    }

    /// When the dump was written (its `ctime` AUX field), Unix milliseconds.
    pub fn dump_time_ms(&self) -> Option<i64> {
        self.ctime_s.map(|s| s.saturating_mul(1000))
    }

    /// The last completed key, if any.
    pub fn take(&mut self) -> Option<KeyMemory> {
        self.ready.take()
    }

    fn open_value(&mut self) -> Option<(&Profile, &mut OpenKey)> {
        match (&self.profile, &mut self.open) {
            (Some(p), Some(k)) => Some((p, k)),
            _ => None,
        }
    }
}

impl Visitor for MemoryVisitor {
    fn header(&mut self, header: &Header) -> VisitResult {
        self.dialect = header.dialect;
        self.rdb_version = header.version;
        Ok(())
    }

    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        if let Some(v) = ServerVersion::from_aux(key, value) {
            self.from_aux = Some(v);
        } else if key == b"ctime" {
            self.ctime_s = std::str::from_utf8(value).ok().and_then(|t| t.trim().parse().ok());
        }
        Ok(())
    }

    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        let p = self.profile();
        let kind = k.rdb_type.kind();
        // A string of a stated length beyond an integer's needs no bytes: stepped over
        // (an LZF one is then only checked, not decompressed).
        let by_len = k.len.and_then(StringEst::of_len).filter(|_| kind == Kind::String);
        let visit = if by_len.is_some() { Visit::Skip } else { Visit::Value };
        let value = match kind {
            Kind::String => Value::String(by_len.unwrap_or_default()),
            Kind::List => Value::List(ListEst::new(&p, k.rdb_type)),
            Kind::Set => Value::Set(SetEst::new(&p, k.rdb_type)),
            Kind::ZSet => Value::ZSet(ZSetEst::new(&p, k.rdb_type)),
            Kind::Hash => Value::Hash(HashEst::new(&p, k.rdb_type)),
            Kind::Stream => Value::Stream(StreamEst::new(p.allocator())),
            Kind::Module => Value::Module,
            Kind::Array => Value::Array(ArrayEst::default()),
            Kind::Gcra => Value::Gcra,
        };
        self.open = Some(OpenKey {
            db: k.db,
            key: k.key.to_vec(),
            kind,
            expire_at_ms: k.expire_at_ms,
            metas: k.meta.len() as u64,
            largest: 0,
            value,
        });
        Ok(visit)
    }

    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        if let Some((_, OpenKey { value: Value::String(s), .. })) = self.open_value() {
            s.chunk(chunk);
        }
        Ok(())
    }

    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            k.largest = k.largest.max(item.len() as u64);
            if let Value::List(l) = &mut k.value {
                l.item(p, item);
            }
        }
        Ok(())
    }

    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            k.largest = k.largest.max(member.len() as u64);
            if let Value::Set(s) = &mut k.value {
                s.member(p, member);
            }
        }
        Ok(())
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            k.largest = k.largest.max(member.len() as u64);
            if let Value::ZSet(z) = &mut k.value {
                z.member(p, member, score);
            }
        }
        Ok(())
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            k.largest = k.largest.max(field.len() as u64).max(value.len() as u64);
            if let Value::Hash(h) = &mut k.value {
                h.field(p, field, value, expire_at_ms);
            }
        }
        Ok(())
    }

    fn stream_node(&mut self, master_id: StreamId, listpack_bytes: usize) -> VisitResult {
        if let Some((p, OpenKey { value: Value::Stream(s), .. })) = self.open_value() {
            s.node(p, master_id, listpack_bytes);
        }
        Ok(())
    }

    fn array_element(&mut self, _index: u64, value: &[u8]) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            k.largest = k.largest.max(value.len() as u64);
            if let Value::Array(a) = &mut k.value {
                a.element(p, value);
            }
        }
        Ok(())
    }

    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        if let Some((_, k)) = self.open_value() {
            for (f, v) in entry.fields() {
                k.largest = k.largest.max(f.len() as u64).max(v.len() as u64);
            }
        }
        Ok(())
    }

    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        if let Some((p, OpenKey { value: Value::Stream(s), .. })) = self.open_value() {
            s.meta(p, meta);
        }
        Ok(())
    }

    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        if let Some((p, OpenKey { value: Value::Stream(s), .. })) = self.open_value() {
            s.group(p, group);
        }
        Ok(())
    }

    fn container(&mut self, c: &Container) -> VisitResult {
        if let Some((p, k)) = self.open_value() {
            match &mut k.value {
                Value::List(l) => l.container(p, c),
                Value::Set(s) => s.container(c),
                Value::ZSet(z) => z.container(c),
                Value::Hash(h) => h.container(c),
                _ => {}
            }
        }
        Ok(())
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        let Some(mut k) = self.open.take() else { return Ok(()) };
        if end.empty {
            return Ok(());
        }
        let p = self.profile();
        let facts = KeyFacts { len: k.key.len() as u64, ttl: k.expire_at_ms.is_some(), metas: k.metas };
        let mut elements = end.elements;
        let value = match &mut k.value {
            Value::String(s) => {
                k.largest = s.len();
                elements = s.len();
                s.finish(&p, facts)
            }
            Value::List(l) => l.finish(&p, facts),
            Value::Set(s) => s.finish(&p, facts),
            Value::ZSet(z) => z.finish(&p, facts),
            Value::Hash(h) => h.finish(&p, facts, &mut self.loaded),
            Value::Stream(s) => {
                elements = s.length();
                s.finish(&p, facts)
            }
            Value::Module => ValueSize { encoding: Encoding::Module, bytes: p.robj(facts) + end.record_bytes },
            Value::Array(a) => a.finish(&p, facts),
            Value::Gcra => super::array::gcra(&p, facts),
        };
        self.ready = Some(KeyMemory {
            db: k.db,
            key: k.key,
            kind: k.kind,
            encoding: value.encoding,
            size_in_bytes: p.key_overhead(facts.len) + value.bytes,
            num_elements: elements,
            len_largest_element: k.largest,
            expire_at_ms: k.expire_at_ms,
        });
        Ok(())
    }
}
