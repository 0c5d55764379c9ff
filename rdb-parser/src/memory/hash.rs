//! Hashes: listpacks (ziplists up to 6.2), listpacks with field TTLs (Redis 7.4+), hash
//! tables.

use super::dict::LoadedHashes;
use super::key::DICT_ENTRY;
use super::pack::{Item, ListpackSize, PackedSize};
use super::profile::{Profile, Rules};
use super::table::{dict_buckets, valkey_table};
use super::{Encoding, KeyFacts, ValueSize};
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind};

/// `sizeof(listpackEx)`: expiry metadata, key pointer, listpack pointer.
const LISTPACK_EX: u64 = 32;
/// Redis 7.4 field TTL metadata in front of an `mstr`: `ExpireMeta` and the flags.
const FIELD_TTL_META: u64 = 16 + 2;
/// Valkey 8.1+: field and value share one allocation up to this size.
const EMBEDDED_ENTRY_MAX: u64 = 128;

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
        let field_ttls = matches!(p.rules, Rules::R74 | Rules::R80);
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
        self.dict_entries += field_size(p, flen, expire.is_some()) + p.sds(vlen) + DICT_ENTRY;
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
        let (encoding, body) = if with_ttls && matches!(p.rules, Rules::R74 | Rules::R80) {
            match blob {
                Some((_, bytes)) if fits => (Encoding::ListpackEx, p.a(LISTPACK_EX) + p.a(bytes)),
                None if fits && short => {
                    let bytes = self.packed_ttl.map_or(0, |l| l.bytes());
                    (Encoding::ListpackEx, p.a(LISTPACK_EX) + p.a(bytes))
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
        // Blobs and large hashes are converted into a table presized for all fields; a
        // plain hash with a long pair is loaded pair by pair.
        let buckets = match (self.blob, self.first_long) {
            (None, Some(j)) => loaded.buckets(p, n, j),
            _ => dict_buckets(n),
        };
        p.dict_struct() + 8 * buckets + self.dict_entries
    }
}

/// A field name in a hash table: sds, or from Redis 7.4 an `mstr` (1-byte header under
/// 32 bytes, 3 under 64 KiB, else 9) with TTL metadata in front when it expires.
fn field_size(p: &Profile, len: u64, ttl: bool) -> u64 {
    if !matches!(p.rules, Rules::R74 | Rules::R80) {
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
