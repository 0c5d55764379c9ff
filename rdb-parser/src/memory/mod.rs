//! Memory estimates: per key, what `MEMORY USAGE key SAMPLES 0` reports on the server
//! that loads the dump.
//!
//! # Brief overview
//!
//! A server's memory for a key is its allocations as the server builds them when it
//! *loads* the file: the key name, the value object, and the value's structures (sds
//! strings, listpacks, hash tables, skiplist nodes, quicklist nodes, stream radix
//! trees), each rounded up by the allocator. [`MemoryVisitor`] recomputes them from the
//! file's records, one key at a time and in constant memory, and yields a
//! [`KeyMemory`] per key.
//!
//! The rules depend on the server version ([`ServerVersion`], read from the dump's
//! `redis-ver` or `valkey-ver` AUX field unless overridden) and on the allocator the
//! server was built with ([`Allocator`]). Where the server's layout depends on a random
//! seed (skiplist levels, hash table chains, tables caught mid-rehash when loading
//! ends), the estimate is the expected value.
//!
//! ```
//! use rdb_parser::memory::{Allocator, MemoryOptions, MemoryVisitor};
//! use rdb_parser::{RdbReader, Step};
//!
//! let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff\x8d\x86\xb9\x4c\x67\x6e\xab\x95";
//! let mut reader = RdbReader::new(&file[..]);
//! let mut v = MemoryVisitor::new(MemoryOptions { allocator: Allocator::Jemalloc, server_version: None });
//! let mut keys = Vec::new();
//! while reader.next_record(&mut v)? != Step::End {
//!     keys.extend(v.take());
//! }
//! assert_eq!(keys[0].encoding.name(), "embstr");
//! assert_eq!(keys[0].size_in_bytes, 56); // key sds 8 + dict entry 24 + embstr object 24
//! # Ok::<(), rdb_parser::Error>(())
//! ```

mod allocator;
mod array;
mod dict;
mod estimator;
mod hash;
mod key;
mod list;
mod pack;
mod profile;
mod rax;
mod score;
mod sds;
mod set;
mod stream;
mod string;
mod table;
mod zset;

pub use allocator::Allocator;
pub use estimator::{MemoryOptions, MemoryVisitor};
pub use pack::{parse_int, IntsetSize, Item, ListpackSize, ZiplistSize};
pub use profile::{Flavor, Profile, ServerVersion, VersionSpec};
pub use sds::{header as sds_header, header_for_type as sds_header_for_type};

use crate::types::Kind;

/// The encoding `OBJECT ENCODING` reports for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// String holding an integer.
    Int,
    /// Short string allocated with its object.
    Embstr,
    /// String in its own sds allocation.
    Raw,
    /// Listpack (lists, sets, sorted sets, hashes; Redis 7.0 and later).
    Listpack,
    /// Listpack with field TTLs (Redis 7.4 and later hashes).
    ListpackEx,
    /// Ziplist (sorted sets and hashes up to Redis 6.2).
    Ziplist,
    /// Quicklist (lists).
    Quicklist,
    /// Intset (sets of integers).
    Intset,
    /// Hash table (sets and hashes).
    Hashtable,
    /// Skiplist (sorted sets).
    Skiplist,
    /// Stream (Redis 5.0 reports `unknown`).
    Stream,
    /// Module value; its size is the serialized payload, a guess.
    Module,
    /// Sparse array (Redis 8.8+; rough, unvalidated estimate).
    Array,
    /// GCRA rate limiter (non-default Redis builds).
    Gcra,
}

impl Encoding {
    /// The name `OBJECT ENCODING` prints.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Int => "int",
            Encoding::Embstr => "embstr",
            Encoding::Raw => "raw",
            Encoding::Listpack => "listpack",
            Encoding::ListpackEx => "listpackex",
            Encoding::Ziplist => "ziplist",
            Encoding::Quicklist => "quicklist",
            Encoding::Intset => "intset",
            Encoding::Hashtable => "hashtable",
            Encoding::Skiplist => "skiplist",
            Encoding::Stream => "stream",
            Encoding::Module => "module",
            Encoding::Array => "array",
            Encoding::Gcra => "gcra",
        }
    }

    /// Every encoding, in a stable order.
    pub const ALL: [Encoding; 14] = [
        Encoding::Int,
        Encoding::Embstr,
        Encoding::Raw,
        Encoding::Listpack,
        Encoding::ListpackEx,
        Encoding::Ziplist,
        Encoding::Quicklist,
        Encoding::Intset,
        Encoding::Hashtable,
        Encoding::Skiplist,
        Encoding::Stream,
        Encoding::Module,
        Encoding::Array,
        Encoding::Gcra,
    ];
}

/// The estimate for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMemory {
    /// Database index.
    pub db: u64,
    /// Key name.
    pub key: Vec<u8>,
    /// Data type.
    pub kind: Kind,
    /// The encoding the server uses after loading.
    pub encoding: Encoding,
    /// Estimated `MEMORY USAGE key SAMPLES 0`.
    pub size_in_bytes: u64,
    /// String length in bytes; elements of a list, set or sorted set; fields of a hash;
    /// entries of a stream (`XLEN`).
    pub num_elements: u64,
    /// Longest element in bytes (for hashes and streams over names and values; for
    /// strings the length).
    pub len_largest_element: u64,
    /// Absolute expiry, Unix milliseconds.
    pub expire_at_ms: Option<i64>,
}

/// A value's share of a key's memory, as each data type's estimator reports it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValueSize {
    pub(crate) encoding: Encoding,
    /// Bytes of the value object and everything it owns (not the key's own overhead).
    pub(crate) bytes: u64,
}

/// What a value's estimator needs to know about its key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFacts {
    /// Key length in bytes.
    pub(crate) len: u64,
    /// The key has an expiry.
    pub(crate) ttl: bool,
    /// Module metadata classes attached to the key (Redis 8.6, 8 bytes each in front of
    /// the object).
    pub(crate) metas: u64,
}
