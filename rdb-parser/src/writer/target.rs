//! What a target server reads: its RDB version, dialect, features, and the encoding
//! thresholds of its default configuration.

use crate::error::{Error, ErrorKind, Result};
use crate::header::{Dialect, Header};

/// The size limits under which a server keeps a collection in a compact encoding
/// (its defaults for `*-max-listpack-*`, `*-max-ziplist-*`, `set-max-intset-entries`,
/// `list-max-listpack-size`, `stream-node-max-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `hash-max-listpack-entries` (fields).
    pub hash_entries: usize,
    /// `hash-max-listpack-value` (bytes of a field or value).
    pub hash_value: usize,
    /// `set-max-intset-entries`.
    pub set_intset_entries: usize,
    /// `set-max-listpack-entries` (0 where set listpacks do not exist).
    pub set_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_value: usize,
    /// Bytes per quicklist node (`list-max-listpack-size -2` = 8 KiB).
    pub list_node_bytes: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_entries: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            hash_entries: 512,
            hash_value: 64,
            set_intset_entries: 512,
            set_listpack_entries: 128,
            set_listpack_value: 64,
            zset_entries: 128,
            zset_value: 64,
            list_node_bytes: 8192,
            stream_node_bytes: 4096,
            stream_node_entries: 100,
        }
    }
}

/// A target for the writer: the file version and the server whose choices to mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Server name, e.g. `redis-7.0` (or `rdb-N` when only a version was given).
    pub name: String,
    /// Version string written in the AUX field, e.g. `7.0.15`.
    pub server_version: String,
    /// The header to write.
    pub header: Header,
    /// Encoding thresholds.
    pub thresholds: Thresholds,
}

/// Strings this long are copied as stored into a file of another version.
const PLAIN_STRING_BYTES: u64 = 1 << 20;
/// Sets, hashes and sorted sets with more elements than this (and than the target's
/// thresholds) are copied as stored into a file of another version.
const PLAIN_ELEMENTS: u64 = 1 << 16;

/// Known servers: name, RDB version written, version string for AUX.
const SERVERS: &[(&str, u32, &str)] = &[
    ("redis-3.0", 6, "3.0.7"),
    ("redis-3.2", 7, "3.2.13"),
    ("redis-4.0", 8, "4.0.14"),
    ("redis-5.0", 9, "5.0.14"),
    ("redis-6.0", 9, "6.0.20"),
    ("redis-6.2", 9, "6.2.14"),
    ("redis-7.0", 10, "7.0.15"),
    ("redis-7.2", 11, "7.2.6"),
    ("redis-7.4", 12, "7.4.1"),
    ("redis-8.0", 12, "8.0.0"),
    ("redis-8.2", 12, "8.2.0"),
    ("redis-8.4", 12, "8.4.0"),
    ("redis-8.6", 13, "8.6.0"),
    ("redis-8.8", 14, "8.8.0"),
    ("redis-8.10", 15, "8.10.0"),
    ("valkey-7.2", 11, "7.2.5"),
    ("valkey-8.0", 11, "8.0.1"),
    ("valkey-8.1", 11, "8.1.1"),
    ("valkey-9.0", 80, "9.0.0"),
    ("valkey-9.1", 80, "9.1.2"),
];

/// Oldest version the writer produces.
pub const MIN_WRITE_VERSION: u32 = 6;

impl Target {
    /// The names accepted by [`Target::named`].
    pub fn names() -> impl Iterator<Item = &'static str> {
        SERVERS.iter().map(|s| s.0)
    }

    /// A known server by name (`redis-6.2`, `valkey-9.1`, ...).
    pub fn named(name: &str) -> Option<Target> {
        let &(name, version, server_version) = SERVERS.iter().find(|s| s.0 == name)?;
        let header = Header::for_version(version).ok()?;
        let mut thresholds = Thresholds::default();
        if version < 11 {
            thresholds.set_listpack_entries = 0;
        }
        Some(Target { name: name.to_string(), server_version: server_version.to_string(), header, thresholds })
    }

    /// The newest known server that writes `version` natively (Valkey for 80; for 11,
    /// Valkey when `valkey` is set), or the server of the nearest version that does.
    pub fn for_version(version: u32, valkey: bool) -> Result<Target> {
        if version < MIN_WRITE_VERSION {
            return Self::for_version(MIN_WRITE_VERSION, valkey);
        }
        let header = Header::for_version(version)?;
        let pick = |flavor: &str| SERVERS.iter().rev().find(|s| s.1 == version && s.0.starts_with(flavor)).map(|s| s.0);
        let name =
            if valkey { pick("valkey").or_else(|| pick("redis")) } else { pick("redis").or_else(|| pick("valkey")) };
        let name = name.ok_or_else(|| Error::new(0, ErrorKind::UnsupportedVersion { magic: header.magic, version }))?;
        Self::named(name).ok_or_else(|| Error::new(0, ErrorKind::UnsupportedVersion { magic: header.magic, version }))
    }

    /// The known server of this flavor closest to (at or below) `version`, e.g. a
    /// running 7.2.4 is `redis-7.2`, an unknown 9.9 is the newest known.
    pub fn for_server(valkey: bool, version: (u32, u32)) -> Option<Target> {
        let flavor = if valkey { "valkey-" } else { "redis-" };
        let parse = |name: &str| {
            let (maj, min) = name.strip_prefix(flavor)?.split_once('.')?;
            Some((maj.parse::<u32>().ok()?, min.parse::<u32>().ok()?))
        };
        let best = SERVERS.iter().filter_map(|s| Some((parse(s.0)?, s.0))).filter(|(v, _)| *v <= version).max()?;
        Self::named(best.1)
    }

    /// RDB version.
    pub fn version(&self) -> u32 {
        self.header.version
    }

    /// True for Valkey servers (by dialect or by name).
    pub fn is_valkey(&self) -> bool {
        self.header.dialect == Dialect::Valkey || self.name.starts_with("valkey")
    }

    /// AUX fields, RESIZEDB (RDB 7+).
    pub fn has_aux(&self) -> bool {
        self.version() >= 7
    }

    /// Quicklists (RDB 7+).
    pub fn has_quicklist(&self) -> bool {
        self.version() >= 7
    }

    /// Binary sorted-set scores and module values (RDB 8+).
    pub fn has_binary_scores(&self) -> bool {
        self.version() >= 8
    }

    /// Streams, IDLE/FREQ, module AUX (RDB 9+).
    pub fn has_streams(&self) -> bool {
        self.version() >= 9
    }

    /// Listpack encodings for hashes, sorted sets and lists, and functions (RDB 10+).
    pub fn has_listpacks(&self) -> bool {
        self.version() >= 10
    }

    /// Set listpacks (RDB 11+).
    pub fn has_set_listpacks(&self) -> bool {
        self.version() >= 11 && self.thresholds.set_listpack_entries > 0
    }

    /// Hash field TTLs (Redis RDB 12+, Valkey RDB 80+).
    pub fn has_field_ttls(&self) -> bool {
        match self.header.dialect {
            Dialect::Valkey => true,
            Dialect::Redis => self.version() >= 12,
            Dialect::Common => false,
        }
    }

    /// Key metadata (Redis RDB 13+).
    pub fn has_key_meta(&self) -> bool {
        self.header.dialect == Dialect::Redis && self.version() >= 13
    }

    /// Sparse arrays and NACKed stream entries (Redis RDB 14+).
    pub fn has_arrays(&self) -> bool {
        self.header.dialect == Dialect::Redis && self.version() >= 14
    }

    /// Whether the target server loads a value stored as `ty` without re-encoding: the
    /// type exists in its version and dialect, module data stays in its server family
    /// (`source_valkey`), and key metadata (`has_meta`) has a place. Template hashes that
    /// refer to a file's templates (types 30, 32) are never valid on their own, and GCRA
    /// values are never written.
    pub(crate) fn loads_as_is(&self, ty: crate::types::RdbType, source_valkey: bool, has_meta: bool) -> bool {
        use crate::types::RdbType::{Gcra, HashTemplateArrayRef, HashTemplateListpackRef};
        !matches!(ty, HashTemplateListpackRef | HashTemplateArrayRef | Gcra)
            && ty.since_version() <= self.version()
            && crate::types::RdbType::from_byte(ty.byte(), self.header.dialect) == Some(ty)
            && (ty != crate::types::RdbType::Module2 || source_valkey == self.is_valkey())
            && (!has_meta || self.has_key_meta())
    }

    /// Whether the target server, given a value of `ty` whose header states `len`
    /// (bytes of a string, elements of a collection), writes it in that same plain form:
    /// a long string, or a set, hash or sorted set with more elements than any compact
    /// encoding holds. Its stored bytes then serve a file of another version as they are.
    pub(crate) fn writes_as_stored(&self, ty: crate::types::RdbType, len: Option<u64>) -> bool {
        use crate::types::RdbType::{Hash, Set, String, ZSet2, ZSetText};
        let Some(len) = len else { return false };
        let th = &self.thresholds;
        let beyond = |limit: usize| len > PLAIN_ELEMENTS && len > limit as u64;
        match ty {
            String => len >= PLAIN_STRING_BYTES,
            Set => beyond(th.set_intset_entries.max(th.set_listpack_entries)),
            Hash => beyond(th.hash_entries),
            ZSetText | ZSet2 => beyond(th.zset_entries),
            _ => false,
        }
    }

    /// The stream format the target writes: 1 (RDB 9), 2 (10), 3 (11, 12, Valkey), 4 (13),
    /// 5 (14+).
    pub fn stream_format(&self) -> u8 {
        match (self.header.dialect, self.version()) {
            (Dialect::Valkey, _) => 3,
            (_, v) if v >= 14 => 5,
            (_, v) if v >= 13 => 4,
            (_, v) if v >= 11 => 3,
            (_, 10) => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_versions_and_features() {
        let t = Target::named("redis-6.2").expect("known");
        assert_eq!((t.version(), t.stream_format(), t.has_listpacks()), (9, 1, false));
        let t = Target::named("valkey-9.1").expect("known");
        assert_eq!((t.header.label().as_str(), t.has_field_ttls(), t.stream_format()), ("VALKEY080", true, 3));
        let t = Target::named("redis-7.0").expect("known");
        assert!(!t.has_set_listpacks() && t.has_listpacks());
        assert!(Target::named("redis-9.9").is_none());
    }

    #[test]
    fn versions_pick_the_newest_server() {
        assert_eq!(Target::for_version(9, false).expect("9").name, "redis-6.2");
        assert_eq!(Target::for_version(11, true).expect("11").name, "valkey-8.1");
        assert_eq!(Target::for_version(12, false).expect("12").name, "redis-8.4");
        assert_eq!(Target::for_version(80, false).expect("80").name, "valkey-9.1");
        assert_eq!(Target::for_version(3, false).expect("3").version(), 6);
        assert_eq!(Target::for_version(15, false).expect("15").name, "redis-8.10");
        assert_eq!(Target::for_version(14, false).expect("14").stream_format(), 5);
        assert!(Target::for_version(16, false).is_err());
        assert_eq!(Target::for_server(false, (7, 2)).map(|t| t.name), Some("redis-7.2".into()));
        assert_eq!(Target::for_server(false, (6, 1)).map(|t| t.name), Some("redis-6.0".into()));
        assert_eq!(Target::for_server(true, (9, 9)).map(|t| t.name), Some("valkey-9.1".into()));
        assert_eq!(Target::for_server(true, (7, 0)), None);
    }
}
