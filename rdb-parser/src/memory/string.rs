//! Strings: integers, embedded strings (object and sds in one allocation), raw strings.

use super::key::ROBJ;
use super::pack::parse_int;
use super::profile::{Profile, Rules};
use super::{Encoding, KeyFacts, ValueSize};

/// Longest string stored as embstr (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_MAX: u64 = 44;
/// Longest integer text the server converts (`string2l` takes up to 20 characters).
const INT_MAX_CHARS: usize = 20;
/// Header of the value sds inside an embstr object (always type 8).
const EMBSTR_SDS_HDR: u64 = 3;
/// Largest object that embeds its value (Valkey 8.1, Redis 8).
const CACHE_LINE: u64 = 64;
/// What Redis 8.4+ counts for the key when deciding to embed: its sds as if the header
/// were one byte, and the byte that gives the header size.
const KEY_EMBED_EXTRA: u64 = 3;

/// A string value arriving in chunks.
#[derive(Debug, Default)]
pub(crate) struct StringEst {
    len: u64,
    head: Vec<u8>,
}

impl StringEst {
    /// The estimate of a string known only by its length, when that is enough: longer
    /// than any integer's text (the bytes then do not matter).
    pub(crate) fn of_len(len: u64) -> Option<StringEst> {
        (len > INT_MAX_CHARS as u64).then(|| StringEst { len, head: Vec::new() })
    }

    pub(crate) fn chunk(&mut self, chunk: &[u8]) {
        self.len += chunk.len() as u64;
        let room = (INT_MAX_CHARS + 1).saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts) -> ValueSize {
        let l = self.len;
        if self.head.len() <= INT_MAX_CHARS && parse_int(&self.head).is_some() {
            return ValueSize { encoding: Encoding::Int, bytes: p.robj(key) };
        }
        let embstr = match p.rules {
            // Valkey 9 embeds up to its own limit, whatever the 44-byte rule says.
            Rules::V90 => embedded_with_key(p, key, l, 8, 128),
            _ if l > EMBSTR_MAX => None,
            // Up to 6.2 the size is computed, not asked: sdslen + 2 + sizeof(robj).
            Rules::R50 | Rules::R60 | Rules::R62 => Some(ROBJ + l + 2),
            Rules::V81 | Rules::R82 => embedded_with_key(p, key, l, ROBJ, CACHE_LINE),
            Rules::R84 => embedded_in_kvobj(p, key, l),
            _ => Some(p.a(ROBJ + EMBSTR_SDS_HDR + l + 1)),
        };
        match embstr {
            Some(bytes) => ValueSize { encoding: Encoding::Embstr, bytes },
            None => ValueSize { encoding: Encoding::Raw, bytes: p.robj(key) + p.sds(l) },
        }
    }
}

/// Redis 8.4+: the value is embedded when the object, the key (counted with a one-byte
/// header) and the value fit in a cache line; the expire slot in front of the object is
/// left out of that test but allocated.
fn embedded_in_kvobj(p: &Profile, key: KeyFacts, len: u64) -> Option<u64> {
    let value = EMBSTR_SDS_HDR + len + 1;
    if ROBJ + key.len + KEY_EMBED_EXTRA + value > CACHE_LINE {
        return None;
    }
    // An embedded value leaves no room for the always-present expire of long keys.
    let slots = 8 * (u64::from(key.ttl) + key.metas);
    Some(p.a(slots + ROBJ + p.key_sds_in_object(key.len) + value))
}

/// Valkey 8.1+: object header, key, optional expire and value sds in one allocation of
/// at most `limit` bytes; `None` when the value must live in its own sds.
///
/// On load the key is attached first; the expire then fits in place when the
/// allocator's rounding left 8 spare bytes, else the object is rebuilt with room for it
/// (and is still embedded only within the limit).
fn embedded_with_key(p: &Profile, key: KeyFacts, len: u64, header: u64, limit: u64) -> Option<u64> {
    let value = EMBSTR_SDS_HDR + len + 1;
    if header + value > limit {
        return None;
    }
    let total = header + p.key_sds_in_object(key.len) + value;
    if total > limit {
        return None;
    }
    if !key.ttl || p.a(total) >= total + 8 {
        return Some(p.a(total));
    }
    (total + 8 <= limit).then(|| p.a(total + 8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Allocator, ServerVersion};

    fn size(v: ServerVersion, a: Allocator, key: u64, ttl: bool, value: &[u8]) -> (Encoding, u64) {
        let mut s = StringEst::default();
        s.chunk(value);
        let r = s.finish(&Profile::new(v, a), KeyFacts { len: key, ttl, metas: 0 });
        (r.encoding, r.bytes)
    }

    #[test]
    fn integers_and_the_44_byte_limit() {
        let (r62, r70, je) = (ServerVersion::redis(6, 2), ServerVersion::redis(7, 0), Allocator::Jemalloc);
        assert_eq!(size(r70, je, 3, false, b"12345"), (Encoding::Int, 16));
        assert_eq!(size(r70, je, 3, false, b"012"), (Encoding::Embstr, 24));
        // 6.2 computes embstr sizes: sdslen + 2 + 16.
        assert_eq!(size(r62, je, 3, false, b"hello"), (Encoding::Embstr, 23));
        assert_eq!(size(r70, je, 3, false, &[b'x'; 44]), (Encoding::Embstr, 64));
        assert_eq!(size(r70, je, 3, false, &[b'x'; 45]), (Encoding::Raw, 16 + 56));
    }

    #[test]
    fn valkey_8_1_embeds_the_key_and_makes_room_for_the_expiry() {
        let v81 = ServerVersion::valkey(8, 1);
        // 16 + key (1 + 1 + 5 + 1) + value (3 + 20 + 1) = 48.
        assert_eq!(size(v81, Allocator::Libc, 5, false, &[b'x'; 20]), (Encoding::Embstr, 56));
        // 58 bytes: glibc leaves 14 spare bytes, room for the expiry...
        assert_eq!(size(v81, Allocator::Libc, 5, true, &[b'x'; 30]), (Encoding::Embstr, 72));
        // ...jemalloc leaves 6: rebuilt with the expiry, 66 > 64, so raw.
        let (enc, _) = size(v81, Allocator::Jemalloc, 5, true, &[b'x'; 30]);
        assert_eq!(enc, Encoding::Raw);
    }

    #[test]
    fn redis_8_6_embeds_within_a_cache_line_and_adds_the_expiry() {
        let r86 = ServerVersion::redis(8, 6);
        // 16 + key (1 + 1 + 5 + 1) + value (3 + 20 + 1) = 48.
        assert_eq!(size(r86, Allocator::Jemalloc, 5, false, &[b'x'; 20]), (Encoding::Embstr, 48));
        // The same with an expiry: 56, where Valkey 8.1 finds room in the 48 bytes' rounding.
        assert_eq!(size(r86, Allocator::Jemalloc, 5, true, &[b'x'; 20]), (Encoding::Embstr, 56));
        // 16 + 10 + 3 + 36 = 65 > 64: raw, a kvobj of 32 and a value sds of 40.
        assert_eq!(size(r86, Allocator::Jemalloc, 10, false, &[b'x'; 32]), (Encoding::Raw, 32 + 40));
        // A short raw value counts its sds request: 1 + 30 + 1.
        assert_eq!(size(r86, Allocator::Jemalloc, 20, false, &[b'x'; 30]), (Encoding::Raw, 40 + 32));
    }

    #[test]
    fn valkey_9_embeds_up_to_128_bytes() {
        let v9 = ServerVersion::valkey(9, 1);
        // 8 + key 8 + value (3 + 100 + 1) = 120.
        assert_eq!(size(v9, Allocator::Jemalloc, 5, false, &[b'x'; 100]), (Encoding::Embstr, 128));
        assert_eq!(size(v9, Allocator::Jemalloc, 5, false, &[b'x'; 117]).0, Encoding::Raw);
    }
}
