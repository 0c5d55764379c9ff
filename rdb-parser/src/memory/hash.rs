//! Hashes: listpacks (ziplists up to 6.2), listpacks with field TTLs (Redis 7.4+), hash
//! tables.

use super::dict::{Fill, LoadedHashes};
use super::key::DICT_ENTRY;
use super::pack::{Item, ListpackSize, PackedSize};
use super::profile::{Profile, Rules};
use super::sds::header_for_type;
use super::table::{dict_buckets, valkey_table};
use super::{Encoding, KeyFacts, ValueSize};
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind};

/// `sizeof(listpackEx)`: expiry metadata, key pointer, listpack pointer (Redis 7.4, 8.2);
/// from 8.4 without the key pointer.
const LISTPACK_EX: u64 = 32;
const LISTPACK_EX_84: u64 = 24;
/// Redis 7.4 field TTL metadata in front of an `mstr`: `ExpireMeta` and the flags.
const FIELD_TTL_META: u64 = 16 + 2;
/// Redis 8.4+ field TTL metadata in front of an entry (`ExpireMeta`).
const ENTRY_TTL_META: u64 = 16;
/// Valkey 8.1+, Redis 8.4+: field and value share one allocation up to this size.
const EMBEDDED_ENTRY_MAX: u64 = 128;
/// Header of a type 8 sds: the least a field with a TTL or a value pointer needs.
const SDS8_HDR: u64 = 3;

/// A hash value.
#[derive(Debug)]
pub(crate) struct HashEst {
    rdb_type: RdbType,
    count: u64,
    largest: u64,
    /// Field/value entries in the server's compact encoding, while that may be needed
    /// (not when the loader keeps the file's blob, nor past the entry limit).
    packed: Option<PackedSize>,
    /// The listpack with an expiry after each pair (Redis 7.4 `listpackex`).
    packed_ttl: Option<ListpackSize>,
    /// Σ of field and value allocations plus dict entries (Redis, Valkey 8.0).
    dict_entries: u64,
    /// Σ of Valkey 8.1+ entries.
    valkey_entries: u64,
    /// Index of the first pair with a field or value too long for a listpack.
    first_long: Option<u64>,
    ttl_fields: u64,
    blob: Option<(ContainerKind, u64)>,
}

impl HashEst {
    pub(crate) fn new(p: &Profile, rdb_type: RdbType) -> HashEst {
        let sized = !p.keeps_blob(rdb_type);
        let field_ttls = p.listpack_ex();
        HashEst {
            rdb_type,
            count: 0,
            largest: 0,
            packed: sized.then(|| p.packed()),
            packed_ttl: (sized && field_ttls).then(ListpackSize::default),
            dict_entries: 0,
            valkey_entries: 0,
            first_long: None,
            ttl_fields: 0,
            blob: None,
        }
    }

    pub(crate) fn field(&mut self, p: &Profile, f: &[u8], v: &[u8], expire: Option<i64>) {
        let (flen, vlen) = (f.len() as u64, v.len() as u64);
        let value_limit = p.limits.hash_value as u64;
        if self.first_long.is_none() && (flen > value_limit || vlen > value_limit) {
            self.first_long = Some(self.count);
        }
        self.count += 1;
        self.largest = self.largest.max(flen).max(vlen);
        self.ttl_fields += u64::from(expire.is_some());
        if self.count > p.limits.hash_entries as u64 {
            (self.packed, self.packed_ttl) = (None, None);
        }
        if let Some(packed) = &mut self.packed {
            packed.push(Item::Bytes(f));
            packed.push(Item::Bytes(v));
        }
        if let Some(lp) = &mut self.packed_ttl {
            lp.push(Item::Bytes(f));
            lp.push(Item::Bytes(v));
            lp.push(Item::Int(expire.unwrap_or(0)));
        }
        let entry = if p.tracked() {
            redis_entry(p, flen, vlen, expire.is_some())
        } else {
            field_size(p, flen, expire.is_some()) + p.sds(vlen)
        };
        self.dict_entries += entry + DICT_ENTRY;
        self.valkey_entries += valkey_entry(p, flen, vlen, expire.is_some());
    }

    pub(crate) fn container(&mut self, c: &Container) {
        self.blob = Some((c.kind, c.bytes as u64));
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts, loaded: &mut LoadedHashes) -> ValueSize {
        let n = self.count;
        let lim = &p.limits;
        let fits = n <= lim.hash_entries as u64;
        let short = self.largest <= lim.hash_value as u64;
        let with_ttls =
            self.ttl_fields > 0 || matches!(self.rdb_type, RdbType::HashListpackEx | RdbType::HashListpackExPreGa);
        let blob = self.blob.filter(|b| b.0 != ContainerKind::Zipmap);
        let (encoding, body) = if with_ttls && p.listpack_ex() {
            match blob {
                Some((_, bytes)) if fits => (Encoding::ListpackEx, listpack_ex(p, bytes)),
                None if fits && short => {
                    let bytes = self.packed_ttl.map_or(0, |l| l.bytes());
                    (Encoding::ListpackEx, listpack_ex(p, bytes))
                }
                _ => (Encoding::Hashtable, self.table(p, loaded)),
            }
        } else if with_ttls && p.rules == Rules::V90 {
            (Encoding::Hashtable, self.table(p, loaded) + volatile_set(p, self.ttl_fields))
        } else {
            let packed = self.packed.map_or(0, |s| s.bytes());
            match blob {
                Some(_) if fits => p.compact(blob, packed),
                None if fits && short => p.compact(None, packed),
                _ => (Encoding::Hashtable, self.table(p, loaded)),
            }
        };
        ValueSize { encoding, bytes: p.robj(key) + body }
    }

    fn table(&self, p: &Profile, loaded: &mut LoadedHashes) -> u64 {
        let n = self.count;
        if p.valkey_table() {
            return valkey_table(n) + self.valkey_entries;
        }
        // Blobs and large plain hashes are converted into a table presized for all
        // fields; a hash with a long pair is loaded pair by pair, and a large hash with
        // field TTLs into a table that grows.
        let ttls = matches!(self.rdb_type, RdbType::HashMetadata | RdbType::HashMetadataPreGa);
        let buckets = match (self.blob, self.first_long) {
            (None, _) if ttls && n > p.limits.hash_entries as u64 => loaded.buckets(p, n, Fill::Grown),
            (None, Some(j)) if ttls => loaded.buckets(p, n, Fill::WithTtls(j)),
            (None, Some(j)) => loaded.buckets(p, n, Fill::Plain(j)),
            _ => dict_buckets(n),
        };
        p.dict_struct() + 8 * buckets + self.dict_entries
    }
}

/// A `listpackex` hash: its struct and the listpack of field, value, TTL triples.
fn listpack_ex(p: &Profile, bytes: u64) -> u64 {
    if p.tracked() {
        LISTPACK_EX_84 + bytes
    } else {
        p.a(LISTPACK_EX) + p.a(bytes)
    }
}

/// A field name in a hash table: sds, or from Redis 7.4 an `mstr` (1-byte header under
/// 32 bytes, 3 under 64 KiB, else 9) with TTL metadata in front when it expires.
fn field_size(p: &Profile, len: u64, ttl: bool) -> u64 {
    if !p.listpack_ex() {
        return p.sds(len);
    }
    let hdr = match len {
        0..32 => 1,
        32..65_536 => 3,
        _ => 9,
    };
    let meta = if ttl { FIELD_TTL_META } else { 0 };
    p.a(meta + hdr + len + 1)
}

/// A Redis 8.4+ hash entry as the server tracks it (requested sizes): the field as an
/// sds (type 8 at least when it has a TTL) followed by the value as a type 8 sds when
/// both fit in 128 bytes, else a value pointer, the field (type 8 at least) and the
/// value's own sds; TTL metadata in front.
fn redis_entry(p: &Profile, flen: u64, vlen: u64, ttl: bool) -> u64 {
    let meta = if ttl { ENTRY_TTL_META } else { 0 };
    let hdr = header_for_type(flen, true);
    let field = if ttl { hdr.max(SDS8_HDR) } else { hdr } + flen + 1;
    let embedded = meta + field + SDS8_HDR + vlen + 1;
    if embedded <= EMBEDDED_ENTRY_MAX {
        return embedded;
    }
    meta + 8 + hdr.max(SDS8_HDR) + flen + 1 + p.sds(vlen)
}

/// Valkey 9 tracks the fields that expire: 16 bytes per hash, and from two fields on a
/// vector of pointers that grows in powers of two (fitted to measurements of 9.1).
fn volatile_set(p: &Profile, fields: u64) -> u64 {
    match fields {
        0 => 0,
        1 => 16,
        k => 16 + p.a(8 + 8 * k.next_power_of_two()),
    }
}

/// A Valkey 8.1+ hash entry: field and value in one allocation when small, else the
/// field with a value pointer and the value as its own sds.
fn valkey_entry(p: &Profile, flen: u64, vlen: u64, ttl: bool) -> u64 {
    let ttl_bytes = if ttl { 8 } else { 0 };
    let field = p.sds_hdr(flen) + flen + 1;
    let value = 3 + vlen + 1;
    if field + value <= EMBEDDED_ENTRY_MAX {
        return p.a(ttl_bytes + field + value);
    }
    p.a(ttl_bytes + 8 + p.sds_hdr(flen).max(3) + flen + 1) + p.sds(vlen)
}
