//! The value model: owned representations of keys and their values.
//!
//! Keys, members and values are bytes, never `String`: Redis data is binary.

use std::fmt;

use crate::types::{Kind, RdbType};

/// A stream entry ID: milliseconds and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// Decodes the 16-byte big-endian form used for node keys and PEL entries.
    pub fn from_be_bytes(raw: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&raw[..8]);
        seq.copy_from_slice(&raw[8..]);
        StreamId { ms: u64::from_be_bytes(ms), seq: u64::from_be_bytes(seq) }
    }

    /// The 16-byte big-endian form.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A field of a hash, with its own expiry where the format supports one.
#[derive(Debug, Clone, PartialEq)]
pub struct HashField {
    /// Field name.
    pub field: Vec<u8>,
    /// Field value.
    pub value: Vec<u8>,
    /// Absolute expiry in Unix milliseconds, if the field has a TTL.
    pub expire_at_ms: Option<i64>,
}

/// One stream entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Entry ID.
    pub id: StreamId,
    /// Field/value pairs in entry order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A pending (delivered, not acknowledged) entry of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The entry ID (the entry itself may have been deleted since).
    pub id: StreamId,
    /// Last delivery time, Unix milliseconds.
    pub delivery_time_ms: i64,
    /// Number of deliveries.
    pub delivery_count: u64,
    /// The consumer that owns it (every PEL entry has one in a valid file).
    pub consumer: Option<Vec<u8>>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Consumer name.
    pub name: Vec<u8>,
    /// Last time the consumer was seen, Unix milliseconds.
    pub seen_time_ms: i64,
    /// Last successful interaction (stream format 3 and later).
    pub active_time_ms: Option<i64>,
    /// IDs of the pending entries it owns.
    pub pending: Vec<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamGroup {
    /// Group name.
    pub name: Vec<u8>,
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Entries read counter (stream format 2 and later); `None` when unknown.
    pub entries_read: Option<i64>,
    /// The group's pending entries list, in ID order.
    pub pending: Vec<PendingEntry>,
    /// Consumers in file order.
    pub consumers: Vec<Consumer>,
    /// Pending entries released with `XNACK` (owned by no consumer), in the order of
    /// the group's NACK zone (stream format 5, RDB 14+); empty in older formats.
    pub nacked: Vec<StreamId>,
}

/// One idempotent producer of a stream and the IDs it recently added.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdmpProducer {
    /// Producer ID.
    pub pid: Vec<u8>,
    /// (idempotency ID, entry ID) pairs.
    pub entries: Vec<(Vec<u8>, StreamId)>,
}

/// Idempotent-producer state of a stream (RDB 13, type 26).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamIdmp {
    /// How long IDs are remembered, seconds.
    pub duration_s: u64,
    /// Maximum IDs remembered per producer.
    pub max_entries: u64,
    /// Producers with their remembered IDs.
    pub producers: Vec<IdmpProducer>,
    /// Counter of IDs added.
    pub iids_added: u64,
    /// Counter of duplicates seen.
    pub iids_duplicates: u64,
}

impl StreamIdmp {
    /// Redis 8.6's default `stream-idmp-duration` (seconds) and `stream-idmp-maxsize`.
    pub const SERVER_DEFAULTS: (u64, u64) = (100, 100);

    /// True for the state every Redis 8.6 stream has until a producer or `XCFGSET`
    /// changes it: default settings, no producers, zero counters.
    pub fn is_untouched(&self) -> bool {
        (self.duration_s, self.max_entries) == Self::SERVER_DEFAULTS
            && self.producers.is_empty()
            && self.iids_added == 0
            && self.iids_duplicates == 0
    }
}

/// Stream-wide metadata (everything except entries and groups).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamMeta {
    /// Number of live entries (XLEN).
    pub length: u64,
    /// Last generated ID.
    pub last_id: StreamId,
    /// First live ID (format 2+).
    pub first_id: Option<StreamId>,
    /// Largest deleted ID (format 2+).
    pub max_deleted_id: Option<StreamId>,
    /// Entries ever added (format 2+).
    pub entries_added: Option<u64>,
    /// Idempotent-producer state (format 4).
    pub idmp: Option<StreamIdmp>,
}

/// A whole stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Live entries in ID order.
    pub entries: Vec<StreamEntry>,
    /// Metadata.
    pub meta: StreamMeta,
    /// Consumer groups in file order.
    pub groups: Vec<StreamGroup>,
}

/// One annotated item of a module's serialized data.
#[derive(Debug, Clone, PartialEq)]
pub enum ModuleOp {
    /// Signed integer opcode (1).
    SInt(u64),
    /// Unsigned integer opcode (2); modules also store signed values this way.
    UInt(u64),
    /// 32-bit float opcode (3).
    Float(f32),
    /// 64-bit float opcode (4).
    Double(f64),
    /// String opcode (5).
    String(Vec<u8>),
}

/// A module value, kept opaque: the module type and its annotated data items.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleValue {
    /// The 64-bit module type ID.
    pub module_id: u64,
    /// The 9-character type name decoded from the ID.
    pub name: String,
    /// The encoding version decoded from the ID.
    pub encver: u16,
    /// The data items, in order.
    pub ops: Vec<ModuleOp>,
}

/// Module auxiliary data (opcode 247).
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleAux {
    /// Module type ID, name and data.
    pub value: ModuleValue,
    /// 1 = written before the keyspace, 2 = after.
    pub when: u64,
}

/// Per-key module metadata (Redis RDB 13, opcode 243).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMeta {
    /// Class specification (name, version, flags).
    pub class_spec: u32,
    /// The module's data items.
    pub ops: Vec<ModuleOp>,
}

/// A function as Redis 7.0 release candidates saved it (opcode 246), before libraries
/// carried their own `#!engine name=...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreGaFunction {
    /// Function (library) name.
    pub name: Vec<u8>,
    /// Engine name, e.g. `LUA`.
    pub engine: Vec<u8>,
    /// Optional description (released servers have no place for it).
    pub description: Option<Vec<u8>>,
    /// The code, without a header line.
    pub code: Vec<u8>,
}

impl PreGaFunction {
    /// The library source a released server loads: a `#!<engine> name=<name>` line,
    /// then the code.
    pub fn to_library(&self) -> Vec<u8> {
        let mut out = b"#!".to_vec();
        out.extend(self.engine.iter().map(u8::to_ascii_lowercase));
        out.extend_from_slice(b" name=");
        out.extend_from_slice(&self.name);
        out.push(b'\n');
        out.extend_from_slice(&self.code);
        out
    }
}

/// A sparse array (Redis 8.8+): populated indices with their values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SparseArray {
    /// The insert cursor used by `ARINSERT`/`ARRING`/`ARNEXT`, when set.
    pub insert_idx: Option<u64>,
    /// (index, value) in ascending index order.
    pub elements: Vec<(u64, Vec<u8>)>,
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (also HyperLogLogs and bitmaps).
    String(Vec<u8>),
    /// List elements, head to tail.
    List(Vec<Vec<u8>>),
    /// Set members in file order.
    Set(Vec<Vec<u8>>),
    /// Sorted set members with scores, in file order.
    ZSet(Vec<(Vec<u8>, f64)>),
    /// Hash fields in file order.
    Hash(Vec<HashField>),
    /// A stream.
    Stream(Box<Stream>),
    /// A module value.
    Module(Box<ModuleValue>),
    /// A sparse array.
    Array(Box<SparseArray>),
    /// GCRA rate-limiter state: the theoretical arrival time in microseconds since the
    /// Unix epoch (non-default Redis builds only).
    Gcra(u64),
}

impl Value {
    /// The logical type.
    pub fn kind(&self) -> Kind {
        match self {
            Value::String(_) => Kind::String,
            Value::List(_) => Kind::List,
            Value::Set(_) => Kind::Set,
            Value::ZSet(_) => Kind::ZSet,
            Value::Hash(_) => Kind::Hash,
            Value::Stream(_) => Kind::Stream,
            Value::Module(_) => Kind::Module,
            Value::Array(_) => Kind::Array,
            Value::Gcra(_) => Kind::Gcra,
        }
    }

    /// Number of elements (bytes for strings, entries for streams, 1 for modules and
    /// GCRA values).
    pub fn len(&self) -> usize {
        match self {
            Value::String(s) => s.len(),
            Value::List(v) | Value::Set(v) => v.len(),
            Value::ZSet(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::Stream(s) => s.entries.len(),
            Value::Module(_) | Value::Gcra(_) => 1,
            Value::Array(a) => a.elements.len(),
        }
    }

    /// True for an empty collection or string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One key with its value and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Database index.
    pub db: u64,
    /// Key name.
    pub key: Vec<u8>,
    /// Absolute expiry, Unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// LRU idle time in seconds, when the file carries one.
    pub lru_idle_s: Option<u64>,
    /// LFU counter, when the file carries one.
    pub lfu_freq: Option<u8>,
    /// The type byte the value was stored with.
    pub rdb_type: RdbType,
    /// Module metadata attached to the key (RDB 13).
    pub meta: Vec<KeyMeta>,
    /// The value.
    pub value: Value,
}
