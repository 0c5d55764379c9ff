//! The push interface: a [`Visitor`] receives a file's records as the reader meets them.
//!
//! Every method has a default that does nothing, so a visitor implements only what it
//! needs. Collections arrive element by element (strings in chunks), so a visitor never
//! has to hold more than it wants to.

use crate::error::VisitError;
use crate::header::Header;
use crate::model::{KeyMeta, ModuleAux, ModuleValue, PreGaFunction, StreamGroup, StreamId, StreamMeta};
use crate::types::RdbType;

/// Result type of visitor methods.
pub type VisitResult = Result<(), VisitError>;

/// What to do with the key announced by [`Visitor::key_start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Deliver the value's elements.
    Value,
    /// Read and check the value, but deliver nothing until [`Visitor::key_end`].
    Skip,
    /// Read and check the value, and deliver only its stored bytes to
    /// [`Visitor::raw_value`] (when the reader runs with
    /// [`crate::ReaderOptions::raw_values`]): for visitors that copy values as they are.
    Raw,
}

/// The start of a key record.
#[derive(Debug, Clone, Copy)]
pub struct KeyStart<'a> {
    /// Database index (from the last SELECTDB; 0 before any).
    pub db: u64,
    /// Key name.
    pub key: &'a [u8],
    /// The type byte and encoding the value is stored with.
    pub rdb_type: RdbType,
    /// Absolute expiry, Unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// LRU idle seconds (IDLE opcode).
    pub lru_idle_s: Option<u64>,
    /// LFU counter (FREQ opcode).
    pub lfu_freq: Option<u8>,
    /// Element count when the format states it before the elements (bytes for strings).
    pub len: Option<u64>,
    /// Offset of the record's first byte (its first prefix opcode, or the type byte).
    pub offset: u64,
    /// Module metadata attached to the key (RDB 13).
    pub meta: &'a [KeyMeta],
}

/// The end of a key record.
#[derive(Debug, Clone, Copy)]
pub struct KeyEnd {
    /// Elements read (bytes for strings, live entries for streams, 1 for modules).
    pub elements: u64,
    /// Bytes the record took in the file, prefix opcodes included.
    pub record_bytes: u64,
    /// True for a collection with no element: servers skip such keys when loading.
    pub empty: bool,
}

/// The kind of a compact container met inside a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// A listpack.
    Listpack,
    /// A ziplist.
    Ziplist,
    /// An intset.
    Intset,
    /// A zipmap.
    Zipmap,
    /// A plain quicklist node holding one large element.
    PlainNode,
}

/// A compact container met inside a value (for memory estimates and statistics).
#[derive(Debug, Clone, Copy)]
pub struct Container {
    /// Which container.
    pub kind: ContainerKind,
    /// Decoded size in bytes.
    pub bytes: usize,
    /// Entries it holds (elements, not pairs).
    pub entries: usize,
    /// Whether it was LZF-compressed in the file.
    pub compressed: bool,
}

/// A stream entry as delivered to visitors: its ID and field/value pairs.
pub struct StreamEntryRef<'a> {
    /// Entry ID.
    pub id: StreamId,
    pub(crate) arena: &'a [u8],
    pub(crate) spans: &'a [(u32, u32)],
}

impl<'a> StreamEntryRef<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.spans.len() / 2
    }

    /// True when the entry has no field (never the case in a valid file).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field/value pairs in entry order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + '_ {
        self.spans.chunks_exact(2).map(|p| {
            let (a, b) = (p[0], p[1]);
            (&self.arena[a.0 as usize..a.1 as usize], &self.arena[b.0 as usize..b.1 as usize])
        })
    }
}

/// How the file's checksum turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// The trailer matches the contents.
    Ok(u64),
    /// The trailer is 0: the file was saved without a checksum.
    Disabled,
    /// RDB versions before 5 have no trailer.
    Absent,
}

/// Receives the records of an RDB file in order.
#[allow(unused_variables)]
pub trait Visitor {
    /// The header, first.
    fn header(&mut self, header: &Header) -> VisitResult {
        Ok(())
    }
    /// An auxiliary field (integer-encoded values arrive as decimal text).
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A SELECTDB.
    fn select_db(&mut self, db: u64) -> VisitResult {
        Ok(())
    }
    /// A RESIZEDB hint for the current database.
    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        Ok(())
    }
    /// Redis cluster slot information.
    fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> VisitResult {
        Ok(())
    }
    /// A Valkey slot-import job (name and slot ranges).
    fn slot_import(&mut self, job: &[u8], ranges: &[(u64, u64)]) -> VisitResult {
        Ok(())
    }
    /// A function library (its full source).
    fn function(&mut self, code: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A function in the Redis 7.0 release-candidate format. By default it is passed on
    /// to [`Visitor::function`] as the library a released server would load.
    fn function_pre_ga(&mut self, f: &PreGaFunction) -> VisitResult {
        self.function(&f.to_library())
    }
    /// Module auxiliary data.
    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        Ok(())
    }
    /// A key starts; the answer decides whether its elements are delivered.
    fn key_start(&mut self, key: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(Visit::Value)
    }
    /// A piece of a string value (several pieces for large strings).
    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A list element.
    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A set member.
    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A sorted-set member and its score.
    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        Ok(())
    }
    /// A hash field, its value and its own expiry.
    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        Ok(())
    }
    /// A stream node (radix-tree key and listpack size), before its entries.
    fn stream_node(&mut self, master_id: StreamId, listpack_bytes: usize) -> VisitResult {
        Ok(())
    }
    /// A live stream entry.
    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        Ok(())
    }
    /// Stream metadata, after the entries.
    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        Ok(())
    }
    /// A consumer group, after the metadata.
    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        Ok(())
    }
    /// A module value.
    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        Ok(())
    }
    /// A sparse array's insert cursor (`None` when unset), once, before its elements.
    fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> VisitResult {
        Ok(())
    }
    /// A sparse-array element, in ascending index order.
    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        Ok(())
    }
    /// A GCRA value: the theoretical arrival time, microseconds since the Unix epoch.
    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        Ok(())
    }
    /// A hash template record (RDB 15): its id and field names. Template hashes that
    /// use it arrive as ordinary [`Visitor::hash_field`] calls.
    fn hash_template(&mut self, id: u64, fields: &[&[u8]]) -> VisitResult {
        Ok(())
    }
    /// A compact container met inside the current value.
    fn container(&mut self, container: &Container) -> VisitResult {
        Ok(())
    }
    /// The value's bytes exactly as stored (type byte excluded), after its elements;
    /// only with [`crate::ReaderOptions::raw_values`], for keys answered with
    /// [`Visit::Value`] or [`Visit::Raw`].
    fn raw_value(&mut self, rdb_type: RdbType, bytes: &[u8]) -> VisitResult {
        Ok(())
    }
    /// Like [`Visitor::raw_value`], for a visitor that keeps the bytes: it may take them
    /// (swapping in a buffer of its own, whose contents the reader discards) instead of
    /// copying a value that may be large.
    fn take_raw_value(&mut self, rdb_type: RdbType, bytes: &mut Vec<u8>) -> VisitResult {
        self.raw_value(rdb_type, bytes)
    }
    /// The current key is complete.
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        Ok(())
    }
    /// With [`crate::ReaderOptions::defer_checks`]: `keys` empty collections in
    /// database `db` among the keys checked on the second thread (their
    /// [`KeyEnd::empty`] said false). Called before [`Visitor::end`].
    fn deferred_empty(&mut self, db: u64, keys: u64) -> VisitResult {
        Ok(())
    }
    /// The end of the file, after the checksum was checked.
    fn end(&mut self, checksum: Checksum) -> VisitResult {
        Ok(())
    }
}

/// A visitor that ignores everything (used to check a file without output).
pub struct NullVisitor;

impl Visitor for NullVisitor {}

/// A visitor that skips every key: its values are read and checked only.
pub(crate) struct SkipAll;

impl Visitor for SkipAll {
    fn key_start(&mut self, _: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(Visit::Skip)
    }
}
