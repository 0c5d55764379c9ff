//! The value-type and opcode tables, one authoritative table per dialect.

use crate::header::Dialect;

/// The logical data type of a key, independent of its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Strings (also HyperLogLogs and bitmaps).
    String,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    ZSet,
    /// Hashes.
    Hash,
    /// Streams.
    Stream,
    /// Module values (opaque).
    Module,
    /// Sparse arrays: unsigned 64-bit index to string (Redis 8.8+, RDB 14).
    Array,
    /// GCRA rate-limiter state (Redis builds with `ENABLE_GCRA` only, RDB 15).
    Gcra,
}

impl Kind {
    /// The name `TYPE` returns (and the NDJSON `type` field uses).
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Hash => "hash",
            Kind::Stream => "stream",
            Kind::Module => "module",
            Kind::Array => "array",
            Kind::Gcra => "gcra",
        }
    }

    /// Parses a name as [`Kind::name`] prints it.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "string" => Kind::String,
            "list" => Kind::List,
            "set" => Kind::Set,
            "zset" => Kind::ZSet,
            "hash" => Kind::Hash,
            "stream" => Kind::Stream,
            "module" => Kind::Module,
            "array" => Kind::Array,
            "gcra" => Kind::Gcra,
            _ => return None,
        })
    }

    /// All kinds, in a stable order.
    pub const ALL: [Kind; 9] = [
        Kind::String,
        Kind::List,
        Kind::Set,
        Kind::ZSet,
        Kind::Hash,
        Kind::Stream,
        Kind::Module,
        Kind::Array,
        Kind::Gcra,
    ];
}

/// A value type byte as stored in a file: the data type plus its serialized encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RdbType {
    /// 0: string.
    String,
    /// 1: list as a plain sequence of strings (RDB ≤ 6 writers).
    ListLinked,
    /// 2: set as a plain sequence of members.
    Set,
    /// 3: sorted set with scores as text (RDB ≤ 7 writers).
    ZSetText,
    /// 4: hash as plain field/value pairs.
    Hash,
    /// 5: sorted set with binary double scores.
    ZSet2,
    /// 7: module value with opcode annotations.
    Module2,
    /// 9: hash as a zipmap blob.
    HashZipmap,
    /// 10: list as one ziplist blob.
    ListZiplist,
    /// 11: set as an intset blob.
    SetIntset,
    /// 12: sorted set as a ziplist blob.
    ZSetZiplist,
    /// 13: hash as a ziplist blob.
    HashZiplist,
    /// 14: list as a quicklist of ziplists.
    ListQuicklist,
    /// 15: stream, first layout (RDB 9).
    StreamListpacks,
    /// 16: hash as a listpack blob.
    HashListpack,
    /// 17: sorted set as a listpack blob.
    ZSetListpack,
    /// 18: list as a quicklist of listpacks and plain nodes.
    ListQuicklist2,
    /// 19: stream with first-id, max-deleted-id, entries-added (RDB 10).
    StreamListpacks2,
    /// 20: set as a listpack blob.
    SetListpack,
    /// 21: stream with consumer active-time (RDB 11+).
    StreamListpacks3,
    /// Redis 22: hash with field TTLs as absolute times (7.4 release candidates).
    HashMetadataPreGa,
    /// Redis 23: listpack hash with field TTLs, no header (7.4 release candidates).
    HashListpackExPreGa,
    /// Redis 24: hash with field TTLs relative to a minimum.
    HashMetadata,
    /// Redis 25: listpack hash with field TTLs.
    HashListpackEx,
    /// Redis 26: stream with idempotent-producer state (RDB 13).
    StreamListpacks4,
    /// Redis 27: stream whose consumer groups carry a NACK zone (RDB 14+).
    StreamListpacks5,
    /// Redis 28: sparse array (RDB 14+).
    Array,
    /// Redis 29: template hash, self-contained, values in a listpack (DUMP payloads).
    HashTemplateListpack,
    /// Redis 30: template hash referring to a file's template, values in a listpack.
    HashTemplateListpackRef,
    /// Redis 31: template hash, self-contained, values as strings (DUMP payloads).
    HashTemplateArray,
    /// Redis 32: template hash referring to a file's template, values as strings.
    HashTemplateArrayRef,
    /// Redis 33: GCRA rate limiter (non-default `ENABLE_GCRA` builds, RDB 15).
    Gcra,
    /// Valkey 22: hash with a TTL on every entry (RDB 80).
    ValkeyHash2,
}

impl RdbType {
    /// Decodes a type byte in the given dialect; `None` for bytes that are not value types.
    pub fn from_byte(byte: u8, dialect: Dialect) -> Option<RdbType> {
        use RdbType::*;
        Some(match (byte, dialect) {
            (0, _) => String,
            (1, _) => ListLinked,
            (2, _) => Set,
            (3, _) => ZSetText,
            (4, _) => Hash,
            (5, _) => ZSet2,
            (7, _) => Module2,
            (9, _) => HashZipmap,
            (10, _) => ListZiplist,
            (11, _) => SetIntset,
            (12, _) => ZSetZiplist,
            (13, _) => HashZiplist,
            (14, _) => ListQuicklist,
            (15, _) => StreamListpacks,
            (16, _) => HashListpack,
            (17, _) => ZSetListpack,
            (18, _) => ListQuicklist2,
            (19, _) => StreamListpacks2,
            (20, _) => SetListpack,
            (21, _) => StreamListpacks3,
            (22, Dialect::Redis) => HashMetadataPreGa,
            (23, Dialect::Redis) => HashListpackExPreGa,
            (24, Dialect::Redis) => HashMetadata,
            (25, Dialect::Redis) => HashListpackEx,
            (26, Dialect::Redis) => StreamListpacks4,
            (27, Dialect::Redis) => StreamListpacks5,
            (28, Dialect::Redis) => Array,
            (29, Dialect::Redis) => HashTemplateListpack,
            (30, Dialect::Redis) => HashTemplateListpackRef,
            (31, Dialect::Redis) => HashTemplateArray,
            (32, Dialect::Redis) => HashTemplateArrayRef,
            (33, Dialect::Redis) => Gcra,
            (22, Dialect::Valkey) => ValkeyHash2,
            _ => return None,
        })
    }

    /// The byte written for this type.
    pub fn byte(self) -> u8 {
        use RdbType::*;
        match self {
            String => 0,
            ListLinked => 1,
            Set => 2,
            ZSetText => 3,
            Hash => 4,
            ZSet2 => 5,
            Module2 => 7,
            HashZipmap => 9,
            ListZiplist => 10,
            SetIntset => 11,
            ZSetZiplist => 12,
            HashZiplist => 13,
            ListQuicklist => 14,
            StreamListpacks => 15,
            HashListpack => 16,
            ZSetListpack => 17,
            ListQuicklist2 => 18,
            StreamListpacks2 => 19,
            SetListpack => 20,
            StreamListpacks3 => 21,
            HashMetadataPreGa | ValkeyHash2 => 22,
            HashListpackExPreGa => 23,
            HashMetadata => 24,
            HashListpackEx => 25,
            StreamListpacks4 => 26,
            StreamListpacks5 => 27,
            Array => 28,
            HashTemplateListpack => 29,
            HashTemplateListpackRef => 30,
            HashTemplateArray => 31,
            HashTemplateArrayRef => 32,
            Gcra => 33,
        }
    }

    /// The first RDB version that has this type; servers never write it in older files,
    /// so meeting it there means the header (or the data) is damaged.
    pub fn since_version(self) -> u32 {
        use RdbType::*;
        match self {
            String | ListLinked | Set | ZSetText | Hash => 1,
            HashZipmap | ListZiplist | SetIntset | ZSetZiplist => 2,
            HashZiplist => 4,
            ListQuicklist => 7,
            ZSet2 | Module2 => 8,
            StreamListpacks => 9,
            HashListpack | ZSetListpack | ListQuicklist2 | StreamListpacks2 => 10,
            SetListpack | StreamListpacks3 => 11,
            HashMetadataPreGa | HashListpackExPreGa | HashMetadata | HashListpackEx => 12,
            StreamListpacks4 => 13,
            StreamListpacks5 | Array => 14,
            HashTemplateListpack | HashTemplateListpackRef | HashTemplateArray | HashTemplateArrayRef | Gcra => 15,
            ValkeyHash2 => 80,
        }
    }

    /// The logical data type.
    pub fn kind(self) -> Kind {
        use RdbType::*;
        match self {
            String => Kind::String,
            ListLinked | ListZiplist | ListQuicklist | ListQuicklist2 => Kind::List,
            Set | SetIntset | SetListpack => Kind::Set,
            ZSetText | ZSet2 | ZSetZiplist | ZSetListpack => Kind::ZSet,
            Hash
            | HashZipmap
            | HashZiplist
            | HashListpack
            | HashMetadataPreGa
            | HashListpackExPreGa
            | HashMetadata
            | HashListpackEx
            | ValkeyHash2
            | HashTemplateListpack
            | HashTemplateListpackRef
            | HashTemplateArray
            | HashTemplateArrayRef => Kind::Hash,
            StreamListpacks | StreamListpacks2 | StreamListpacks3 | StreamListpacks4 | StreamListpacks5 => Kind::Stream,
            Module2 => Kind::Module,
            Array => Kind::Array,
            Gcra => Kind::Gcra,
        }
    }

    /// A short name of the serialized encoding, for reports.
    pub fn encoding_name(self) -> &'static str {
        use RdbType::*;
        match self {
            String => "string",
            ListLinked => "linkedlist",
            Set | Hash => "hashtable",
            ZSetText | ZSet2 => "skiplist",
            Module2 => "module",
            HashZipmap => "zipmap",
            ListZiplist | ZSetZiplist | HashZiplist => "ziplist",
            SetIntset => "intset",
            ListQuicklist => "quicklist",
            ListQuicklist2 => "quicklist2",
            StreamListpacks | StreamListpacks2 | StreamListpacks3 | StreamListpacks4 | StreamListpacks5 => "stream",
            Array => "array",
            HashTemplateListpack | HashTemplateListpackRef => "template-listpack",
            HashTemplateArray | HashTemplateArrayRef => "template-array",
            Gcra => "gcra",
            HashListpack | ZSetListpack | SetListpack => "listpack",
            HashMetadataPreGa | HashMetadata | ValkeyHash2 => "hashtable-ttl",
            HashListpackExPreGa | HashListpackEx => "listpack-ttl",
        }
    }
}

/// Opcode bytes (values ≥ 0xF2 plus vendor extensions).
pub(crate) mod opcode {
    /// Redis: a hash template shared by template hashes (RDB 15+).
    pub const HASH_TEMPLATE: u8 = 242;
    /// Redis: per-key module metadata (RDB 13+). Valkey: slot import job (RDB 80+).
    pub const KEY_META_OR_SLOT_IMPORT: u8 = 243;
    /// Cluster slot information (Redis 7.4+).
    pub const SLOT_INFO: u8 = 244;
    /// A function library.
    pub const FUNCTION2: u8 = 245;
    /// Function library in the 7.0 release-candidate layout.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle seconds for the next key.
    pub const IDLE: u8 = 248;
    /// LFU counter for the next key.
    pub const FREQ: u8 = 249;
    /// Auxiliary field.
    pub const AUX: u8 = 250;
    /// Hash table size hints.
    pub const RESIZEDB: u8 = 251;
    /// Expire time in milliseconds for the next key.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expire time in seconds for the next key.
    pub const EXPIRETIME: u8 = 253;
    /// Database selector.
    pub const SELECTDB: u8 = 254;
    /// End of file.
    pub const EOF: u8 = 255;
    /// Redis Enterprise: RAM LRU hint (one length), skipped.
    pub const ENTERPRISE_RAM_LRU: u8 = 107;
    /// Redis Enterprise: slot number (one length), skipped.
    pub const ENTERPRISE_SLOT: u8 = 121;

    /// The first RDB version that has an opcode (1 for those every version has).
    pub fn since_version(op: u8) -> u32 {
        match op {
            EXPIRETIME_MS => 3,
            // AUX and RESIZEDB (RDB 7) are left out: tools and test files put them into
            // older versions, and servers accept them anywhere.
            IDLE | FREQ | MODULE_AUX => 9,
            FUNCTION2 | FUNCTION_PRE_GA => 10,
            SLOT_INFO => 12,
            KEY_META_OR_SLOT_IMPORT => 13,
            HASH_TEMPLATE => 15,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_in_their_dialect() {
        for dialect in [Dialect::Common, Dialect::Redis, Dialect::Valkey] {
            for b in 0..=255u8 {
                if let Some(t) = RdbType::from_byte(b, dialect) {
                    assert_eq!(t.byte(), b);
                }
            }
        }
    }

    #[test]
    fn colliding_numbers_depend_on_dialect() {
        assert_eq!(RdbType::from_byte(22, Dialect::Valkey), Some(RdbType::ValkeyHash2));
        assert_eq!(RdbType::from_byte(22, Dialect::Redis), Some(RdbType::HashMetadataPreGa));
        assert_eq!(RdbType::from_byte(22, Dialect::Common), None);
        assert_eq!(RdbType::from_byte(25, Dialect::Valkey), None);
        assert_eq!(RdbType::from_byte(6, Dialect::Common), None);
        assert_eq!(RdbType::from_byte(27, Dialect::Redis), Some(RdbType::StreamListpacks5));
        assert_eq!(RdbType::from_byte(28, Dialect::Valkey), None);
        assert_eq!(RdbType::from_byte(34, Dialect::Redis), None);
    }
}
