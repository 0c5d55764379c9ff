//! The key's share: its name, its entry in the keyspace, and the value object header.

use super::profile::{Profile, Rules};
use super::sds::header_for_type;
use super::KeyFacts;

/// `sizeof(robj)`.
pub(crate) const ROBJ: u64 = 16;
/// `sizeof(dictEntry)`.
pub(crate) const DICT_ENTRY: u64 = 24;
/// Keys this long always get an expire slot in Valkey 8.1+ objects.
const EXPIRE_SLOT_KEY_LEN: u64 = 128;

impl Profile {
    /// Bytes the object needs besides its header for an embedded key (Valkey 8.1+,
    /// Redis 8.2+): the expire slot when present, a slot per module metadata class
    /// (Redis), a header-size byte, and the key as an sds.
    pub(crate) fn embedded_key(&self, key: KeyFacts) -> u64 {
        self.meta_slots(key) + self.key_sds_in_object(key.len)
    }

    /// The 8-byte slots in front of the object: the expire (with a TTL, and always
    /// for keys of 128 bytes or more) and one per module metadata class.
    pub(crate) fn meta_slots(&self, key: KeyFacts) -> u64 {
        let expire = key.ttl || key.len >= EXPIRE_SLOT_KEY_LEN;
        8 * (u64::from(expire) + key.metas)
    }

    /// The embedded key without the expire slot: header-size byte, sds header, key, NUL.
    pub(crate) fn key_sds_in_object(&self, len: u64) -> u64 {
        1 + header_for_type(len, self.valkey_sds() || self.rules == Rules::R82) + len + 1
    }

    /// The value object: `sizeof(robj)`, or where the key lives in the object (Valkey
    /// 8.1+), that whole allocation.
    pub(crate) fn robj(&self, key: KeyFacts) -> u64 {
        if self.key_in_object() {
            self.a(ROBJ + self.embedded_key(key))
        } else {
            ROBJ
        }
    }

    /// What `MEMORY USAGE` adds for the key outside the value object: the key sds and the
    /// keyspace dict entry (Redis), the dict entry with the key embedded (Valkey 8.0), or
    /// nothing (the key is in the object).
    pub(crate) fn key_overhead(&self, key_len: u64) -> u64 {
        match self.rules {
            Rules::V80 => self.a(17 + self.sds_hdr(key_len) + key_len + 1),
            Rules::V81 | Rules::V90 | Rules::R82 | Rules::R84 => 0,
            _ => self.sds(key_len) + DICT_ENTRY,
        }
    }
}
