//! Which server the estimate is for: flavor and version, read from the dump's AUX fields
//! or given by the user, mapped to the layout rules that version uses.

use std::fmt;

use super::allocator::Allocator;
use super::pack::PackedSize;
use super::Encoding;
use crate::header::Dialect;
use crate::types::RdbType;
use crate::visitor::ContainerKind;
use crate::writer::{Target, Thresholds};

/// Server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flavor {
    /// Redis.
    Redis,
    /// Valkey.
    Valkey,
}

impl Flavor {
    /// `redis` or `valkey`.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Redis => "redis",
            Flavor::Valkey => "valkey",
        }
    }
}

/// A server line: flavor, major and minor version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerVersion {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}.{}", self.flavor.name(), self.major, self.minor)
    }
}

impl ServerVersion {
    /// A Redis version.
    pub const fn redis(major: u32, minor: u32) -> Self {
        ServerVersion { flavor: Flavor::Redis, major, minor }
    }

    /// A Valkey version.
    pub const fn valkey(major: u32, minor: u32) -> Self {
        ServerVersion { flavor: Flavor::Valkey, major, minor }
    }

    /// Parses `redis-7.2`, `valkey-8.1.8`, or a bare `X.Y[.Z]` meaning `default`'s flavor
    /// (see [`VersionSpec::resolve`]).
    pub fn parse(text: &str, default: Flavor) -> Option<ServerVersion> {
        text.parse::<VersionSpec>().ok().map(|s| s.resolve(default))
    }

    /// The version an AUX field states: `valkey-ver` (Valkey 8 and later) or `redis-ver`.
    pub fn from_aux(key: &[u8], value: &[u8]) -> Option<ServerVersion> {
        let flavor = match key {
            b"valkey-ver" => Flavor::Valkey,
            b"redis-ver" => Flavor::Redis,
            _ => return None,
        };
        let text = std::str::from_utf8(value).ok()?;
        let numbers: String = text.trim().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let v = ServerVersion::parse(numbers.trim_end_matches('.'), flavor)?;
        Some(ServerVersion { flavor, ..v })
    }

    /// The server that writes RDB `version` natively, for files without a version AUX
    /// field.
    pub fn for_rdb_version(version: u32, dialect: Dialect) -> ServerVersion {
        let valkey = dialect == Dialect::Valkey;
        let name = Target::for_version(version, valkey).map(|t| t.name).unwrap_or_default();
        let default = if valkey { ServerVersion::valkey(9, 1) } else { ServerVersion::redis(7, 4) };
        ServerVersion::parse(&name, Flavor::Redis).unwrap_or(default)
    }
}

/// A server version as a user writes it: `redis-7.2`, `valkey-8.1`, or a bare `7.2`
/// whose flavor is decided later (by the dump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSpec {
    /// The flavor, when given.
    pub flavor: Option<Flavor>,
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl std::str::FromStr for VersionSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<VersionSpec, String> {
        let bad = || format!("{text:?} is not a server version (expected X.Y, redis-X.Y or valkey-X.Y)");
        let trimmed = text.trim();
        let (flavor, numbers) = match trimmed.split_once('-') {
            Some((f, rest)) if f.eq_ignore_ascii_case("redis") => (Some(Flavor::Redis), rest),
            Some((f, rest)) if f.eq_ignore_ascii_case("valkey") => (Some(Flavor::Valkey), rest),
            Some(_) => return Err(bad()),
            None => (None, trimmed),
        };
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>().map_err(|_| bad()));
        let major = parts.next().ok_or_else(bad)??;
        let minor = parts.next().transpose()?.unwrap_or(0);
        parts.next().transpose()?;
        Ok(VersionSpec { flavor, major, minor })
    }
}

impl VersionSpec {
    /// The version, with `default` as the flavor when none was given (Valkey for 9 and
    /// later, which only Valkey has).
    pub fn resolve(self, default: Flavor) -> ServerVersion {
        let flavor = self.flavor.unwrap_or(if (9..255).contains(&self.major) { Flavor::Valkey } else { default });
        ServerVersion { flavor, major: self.major, minor: self.minor }
    }
}

/// Layout generations: the versions between which `MEMORY USAGE` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rules {
    /// Redis up to 5.0: sds sizes from the header (not the allocator), ziplists.
    R50,
    /// Redis 6.0: allocator sizes for sds.
    R60,
    /// Redis 6.2: stream struct and allocated listpack sizes.
    R62,
    /// Redis 7.0: listpacks everywhere, allocated sizes for embstr and intsets.
    R70,
    /// Redis 7.2 (and Valkey 7.2): set listpacks, single-node lists as listpacks.
    R72,
    /// Redis 7.4 and 8.0: hash fields as `mstr`, hash field TTLs.
    R74,
    /// Redis 8.2: the key inside the value object, sizes computed as before (modelled
    /// on Valkey 8.1's layout, not validated).
    R82,
    /// Redis 8.4 and later: the key inside the value object; every structure reports
    /// what it tracks allocating (listpacks and intsets by their length, short sds
    /// strings by their request).
    R84,
    /// Valkey 8.0: key embedded in the dict entry.
    V80,
    /// Valkey 8.1: key and expire inside the object, new hash table.
    V81,
    /// Valkey 9: 8-byte embedded-string header, members embedded in skiplist nodes.
    V90,
}

impl Rules {
    fn of(v: ServerVersion) -> Rules {
        let n = (v.major, v.minor);
        match v.flavor {
            Flavor::Redis if n < (6, 0) => Rules::R50,
            Flavor::Redis if n < (6, 1) => Rules::R60,
            Flavor::Redis if n < (7, 0) => Rules::R62,
            Flavor::Redis if n < (7, 2) => Rules::R70,
            Flavor::Redis if n < (7, 4) => Rules::R72,
            Flavor::Redis if n < (8, 2) => Rules::R74,
            Flavor::Redis if n < (8, 4) => Rules::R82,
            Flavor::Redis => Rules::R84,
            Flavor::Valkey if n < (8, 0) => Rules::R72,
            Flavor::Valkey if n < (8, 1) => Rules::V80,
            Flavor::Valkey if n < (9, 0) => Rules::V81,
            Flavor::Valkey => Rules::V90,
        }
    }
}

/// The server and allocator an estimate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    version: ServerVersion,
    allocator: Allocator,
    pub(crate) rules: Rules,
    pub(crate) limits: Thresholds,
}

impl Profile {
    /// A profile with the server's default encoding thresholds.
    pub fn new(version: ServerVersion, allocator: Allocator) -> Profile {
        let mut limits = Thresholds::default();
        let rules = Rules::of(version);
        if rules < Rules::R72 {
            limits.set_listpack_entries = 0;
        }
        Profile { version, allocator, rules, limits }
    }

    /// The server version.
    pub fn version(&self) -> ServerVersion {
        self.version
    }

    /// The allocator.
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// True when the rules for this version were checked against a real server: not
    /// for Redis 8.2 (modelled on Valkey 8.1's layout) and, of the Redis 8.4 rules, only
    /// for 8.6.
    pub fn validated(&self) -> bool {
        match self.rules {
            Rules::R82 => false,
            Rules::R84 => (self.version.major, self.version.minor) == (8, 6),
            _ => true,
        }
    }

    /// Usable size of an allocation of `n` bytes.
    pub(crate) fn a(&self, n: u64) -> u64 {
        self.allocator.usable(n)
    }

    /// sds header types are picked so that header + string + NUL fit the type's range
    /// (Valkey, Redis 8.4+).
    pub(crate) fn valkey_sds(&self) -> bool {
        matches!(self.rules, Rules::V80 | Rules::V81 | Rules::V90 | Rules::R84)
    }

    /// Objects carry their key (and expire) in the same allocation.
    pub(crate) fn key_in_object(&self) -> bool {
        matches!(self.rules, Rules::V81 | Rules::V90 | Rules::R82 | Rules::R84)
    }

    /// Sizes are what the server tracks allocating (Redis 8.4+): compact blobs count by
    /// their length, short sds strings by their request.
    pub(crate) fn tracked(&self) -> bool {
        self.rules == Rules::R84
    }

    /// Hash fields may carry TTLs in `listpackex` hashes (Redis 7.4+).
    pub(crate) fn listpack_ex(&self) -> bool {
        matches!(self.rules, Rules::R74 | Rules::R82 | Rules::R84)
    }

    /// Collections use ziplists (Redis up to 6.2); listpacks from 7.0.
    pub(crate) fn ziplists(&self) -> bool {
        self.rules <= Rules::R62
    }

    /// A size accumulator for this version's compact encoding.
    pub(crate) fn packed(&self) -> PackedSize {
        PackedSize::new(self.ziplists())
    }

    /// Whether the loader keeps a value stored as `rdb_type` in the blob the file holds
    /// (checking only its count): its own compact encoding, or an intset.
    pub(crate) fn keeps_blob(&self, rdb_type: RdbType) -> bool {
        let kind = match rdb_type {
            RdbType::SetIntset => ContainerKind::Intset,
            RdbType::ZSetZiplist | RdbType::HashZiplist => ContainerKind::Ziplist,
            RdbType::SetListpack if self.limits.set_listpack_entries == 0 => return false,
            RdbType::SetListpack | RdbType::ZSetListpack | RdbType::HashListpack => ContainerKind::Listpack,
            RdbType::HashListpackEx | RdbType::HashListpackExPreGa => return self.listpack_ex(),
            _ => return false,
        };
        match kind {
            ContainerKind::Ziplist => self.ziplists(),
            ContainerKind::Listpack => !self.ziplists(),
            _ => true,
        }
    }

    /// What a compact blob (listpack, ziplist, intset) of `bytes` bytes counts: its
    /// length up to 6.2 and from 8.4, its allocation in between.
    pub(crate) fn blob(&self, bytes: u64) -> u64 {
        if self.ziplists() || self.tracked() {
            bytes
        } else {
            self.a(bytes)
        }
    }

    /// Sets, hashes and sorted sets use Valkey's open-addressing hash table.
    pub(crate) fn valkey_table(&self) -> bool {
        matches!(self.rules, Rules::V81 | Rules::V90)
    }

    /// A collection that stays compact: the blob the file holds when the server keeps
    /// it, a listpack converted from a ziplist blob, or else the `computed` size of the
    /// server's own encoding.
    pub(crate) fn compact(&self, blob: Option<(ContainerKind, u64)>, computed: u64) -> (Encoding, u64) {
        match blob {
            Some((ContainerKind::Listpack, bytes)) if !self.ziplists() => (Encoding::Listpack, self.blob(bytes)),
            Some((ContainerKind::Ziplist, bytes)) if self.ziplists() => (Encoding::Ziplist, bytes),
            Some((ContainerKind::Ziplist, bytes)) => (Encoding::Listpack, self.converted(bytes, computed)),
            _ if self.ziplists() => (Encoding::Ziplist, computed),
            _ => (Encoding::Listpack, self.blob(computed)),
        }
    }

    /// A listpack converted from a ziplist blob on load: built in a buffer the size of
    /// the blob, then shrunk to fit (Redis 8.4+ counts its length).
    pub(crate) fn converted(&self, blob: u64, bytes: u64) -> u64 {
        if self.tracked() {
            bytes
        } else {
            self.allocator.shrunk(blob, bytes)
        }
    }

    /// `sizeof(dict)`.
    pub(crate) fn dict_struct(&self) -> u64 {
        if self.rules <= Rules::R62 {
            96
        } else {
            56
        }
    }

    /// `sizeof(quicklistNode)`.
    pub(crate) fn quicklist_node(&self) -> u64 {
        if self.ziplists() {
            32
        } else {
            40
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        let p = |s| ServerVersion::parse(s, Flavor::Redis);
        assert_eq!(p("7.2"), Some(ServerVersion::redis(7, 2)));
        assert_eq!(p("valkey-8.1.8"), Some(ServerVersion::valkey(8, 1)));
        assert_eq!(p("Redis-6"), Some(ServerVersion::redis(6, 0)));
        assert_eq!(p("9.0"), Some(ServerVersion::valkey(9, 0)));
        assert_eq!(p("255.255.255"), Some(ServerVersion::redis(255, 255)));
        assert_eq!(p("keydb-6.2"), None);
        assert_eq!(p("7.x"), None);
        assert_eq!(ServerVersion::from_aux(b"valkey-ver", b"8.1.8"), Some(ServerVersion::valkey(8, 1)));
        assert_eq!(ServerVersion::from_aux(b"ctime", b"1"), None);
        assert_eq!(ServerVersion::from_aux(b"redis-ver", b"7.2.4-rc1"), Some(ServerVersion::redis(7, 2)));
    }

    #[test]
    fn rules_by_version() {
        assert_eq!(Rules::of(ServerVersion::redis(5, 0)), Rules::R50);
        assert_eq!(Rules::of(ServerVersion::redis(6, 2)), Rules::R62);
        assert_eq!(Rules::of(ServerVersion::redis(8, 0)), Rules::R74);
        assert_eq!(Rules::of(ServerVersion::redis(8, 2)), Rules::R82);
        assert_eq!(Rules::of(ServerVersion::redis(8, 6)), Rules::R84);
        assert_eq!(Rules::of(ServerVersion::redis(255, 255)), Rules::R84);
        assert_eq!(Rules::of(ServerVersion::valkey(7, 2)), Rules::R72);
        assert_eq!(Rules::of(ServerVersion::valkey(8, 1)), Rules::V81);
        assert_eq!(Rules::of(ServerVersion::valkey(9, 1)), Rules::V90);
        assert_eq!(ServerVersion::for_rdb_version(9, Dialect::Redis), ServerVersion::redis(6, 2));
        assert_eq!(ServerVersion::for_rdb_version(80, Dialect::Valkey), ServerVersion::valkey(9, 1));
    }
}
