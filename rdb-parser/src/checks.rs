//! Deep checks the servers apply (or should): unique members and fields, sorted scores.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_128;

/// Fingerprints need one multiply to spread over the table (short members are their
/// own fingerprint, not a hash); hashing them again with SipHash would be waste.
#[derive(Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let folded = (v as u64) ^ ((v >> 64) as u64).rotate_left(29);
        self.0 = folded.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Members up to this many bytes are their own fingerprint.
const PACKED_MAX: usize = 15;

/// A member's fingerprint: short members are packed whole with their length in the top
/// byte (exact, and no hashing); longer ones are a 128-bit hash with the top byte set to
/// 0xFF, which no packed member has.
fn fingerprint(member: &[u8]) -> u128 {
    if member.len() <= PACKED_MAX {
        let mut b = [0u8; 16];
        b[..member.len()].copy_from_slice(member);
        b[15] = member.len() as u8;
        u128::from_le_bytes(b)
    } else {
        xxh3_128(member) | (0xff << 120)
    }
}

/// How many members of one collection are checked for duplicates.
///
/// The check keeps 16 bytes per member (about 20 MiB with the table's overhead for this
/// many); past it the check stops rather than let one huge key break the memory bound.
pub const MAX_DUPLICATE_CHECK: usize = 1 << 20;

/// Detects repeated members of one collection, by 128-bit fingerprint.
///
/// A 128-bit hash makes a false "duplicate" practically impossible (about 2^-100 for
/// four million members), while holding no member bytes.
#[derive(Default)]
pub(crate) struct DupCheck {
    seen: HashSet<u128, BuildHasherDefault<Mix>>,
}

impl DupCheck {
    /// Forgets the previous collection.
    pub(crate) fn reset(&mut self) {
        if self.seen.capacity() > 4096 {
            self.seen = HashSet::default();
        } else {
            self.seen.clear();
        }
    }

    /// Sizes the table once for a collection of `n` members (up to the cap), instead of
    /// letting it double (and briefly hold two tables) while it fills.
    pub(crate) fn reserve(&mut self, n: u64) {
        let n = usize::try_from(n).unwrap_or(MAX_DUPLICATE_CHECK).min(MAX_DUPLICATE_CHECK);
        self.seen.reserve(n);
    }

    /// Returns false when `member` was already seen in this collection.
    pub(crate) fn insert(&mut self, member: &[u8]) -> bool {
        if self.seen.len() >= MAX_DUPLICATE_CHECK {
            return true;
        }
        self.seen.insert(fingerprint(member))
    }
}

/// Checks that sorted-set members come in listpack order: score ascending, ties by bytes.
#[derive(Default)]
pub(crate) struct ZsetOrder {
    prev: Option<(f64, Vec<u8>)>,
}

impl ZsetOrder {
    /// Forgets the previous collection.
    pub(crate) fn reset(&mut self) {
        self.prev = None;
    }

    /// Returns false when (`score`, `member`) does not sort strictly after the previous pair.
    pub(crate) fn next(&mut self, member: &[u8], score: f64) -> bool {
        let ok = match &self.prev {
            None => true,
            Some((ps, pm)) => *ps < score || (*ps == score && pm.as_slice() < member),
        };
        match &mut self.prev {
            Some((ps, pm)) => {
                *ps = score;
                pm.clear();
                pm.extend_from_slice(member);
            }
            None => self.prev = Some((score, member.to_vec())),
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_and_hashed_fingerprints_never_meet() {
        let long = [b'x'; 16];
        assert_ne!(fingerprint(b""), fingerprint(b"\0"));
        assert_ne!(fingerprint(b"ab"), fingerprint(b"ab\0"));
        assert_eq!(fingerprint(&long) >> 120, 0xff);
        assert_eq!(fingerprint(&long[..15]) >> 120, 15);
        let mut d = DupCheck::default();
        for m in [&b""[..], b"\0", b"a", b"a\0", &long[..15], &long] {
            assert!(d.insert(m), "{m:?} is new");
        }
        assert!(!d.insert(&long) && !d.insert(b"a\0") && !d.insert(b""));
    }

    #[test]
    fn duplicates_are_found() {
        let mut d = DupCheck::default();
        assert!(d.insert(b"a"));
        assert!(d.insert(b"b"));
        assert!(!d.insert(b"a"));
        d.reset();
        assert!(d.insert(b"a"));
    }

    #[test]
    fn zset_order_ties_by_member() {
        let mut z = ZsetOrder::default();
        assert!(z.next(b"b", 1.0));
        assert!(z.next(b"c", 1.0));
        assert!(z.next(b"a", 2.0));
        assert!(!z.next(b"a", 2.0));
        assert!(!z.next(b"z", 1.5));
        z.reset();
        assert!(z.next(b"z", -0.0));
        assert!(!z.next(b"a", 0.0));
    }
}
