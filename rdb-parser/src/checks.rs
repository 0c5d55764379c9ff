//! Deep checks the servers apply (or should): unique members and fields, sorted scores.

use xxhash_rust::xxh3::xxh3_128;

/// Members up to this many bytes are their own fingerprint.
const PACKED_MAX: usize = 15;

/// A member's fingerprint, never 0 (the table's "empty"): short members are packed whole
/// with their length + 1 in the top byte (exact, and no hashing); longer ones are a
/// 128-bit hash with the top byte set to 0xFF, which no packed member has.
fn fingerprint(member: &[u8]) -> u128 {
    if member.len() <= PACKED_MAX {
        let mut b = [0u8; 16];
        b[..member.len()].copy_from_slice(member);
        b[15] = member.len() as u8 + 1;
        u128::from_le_bytes(b)
    } else {
        xxh3_128(member) | (0xff << 120)
    }
}

/// Where a fingerprint starts probing: a folded multiply (as foldhash does) brings
/// every input bit into the low bits.
fn slot(fp: u128, mask: usize) -> usize {
    let m = u128::from((fp as u64) ^ 0x243f_6a88_85a3_08d3) * u128::from(((fp >> 64) as u64) ^ 0x1319_8a2e_0370_7344);
    ((m as u64) ^ ((m >> 64) as u64)) as usize & mask
}

/// How many members of one collection are checked for duplicates.
///
/// The check keeps 16 bytes per member in a table at most three quarters full (16 MiB
/// for this many); past it the check stops rather than let one huge key break the
/// memory bound (a copy of the key may be held beside it).
pub const MAX_DUPLICATE_CHECK: usize = 3 << 18;

/// Smallest table.
const MIN_SLOTS: usize = 64;
/// Tables larger than this are freed between collections, so that the many small
/// collections after a big one do not each clear a big table.
const KEEP_SLOTS: usize = 1 << 10;

/// Detects repeated members of one collection, by 128-bit fingerprint.
///
/// A 128-bit hash makes a false "duplicate" practically impossible (about 2^-100 for
/// four million members), while holding no member bytes. The table is open addressing
/// with linear probing; between collections only the slots in use are cleared.
#[derive(Default)]
pub(crate) struct DupCheck {
    slots: Vec<u128>,
    len: usize,
}

impl DupCheck {
    /// Forgets the previous collection.
    pub(crate) fn reset(&mut self) {
        if self.slots.len() > KEEP_SLOTS {
            self.slots = Vec::new();
        } else if self.len > 0 {
            self.slots.fill(0);
        }
        self.len = 0;
    }

    /// Sizes the table once for a collection of `n` members (up to the cap), instead of
    /// letting it double while it fills.
    pub(crate) fn reserve(&mut self, n: u64) {
        let n = usize::try_from(n).unwrap_or(MAX_DUPLICATE_CHECK).min(MAX_DUPLICATE_CHECK);
        if self.len == 0 && n * 4 > self.slots.len() * 3 {
            self.slots = vec![0; (n * 4).div_ceil(3).next_power_of_two().max(MIN_SLOTS)];
        }
    }

    /// Returns false when `member` was already seen in this collection.
    pub(crate) fn insert(&mut self, member: &[u8]) -> bool {
        if self.len >= MAX_DUPLICATE_CHECK {
            return true;
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let fp = fingerprint(member);
        let mask = self.slots.len() - 1;
        let mut i = slot(fp, mask);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = fp;
                    self.len += 1;
                    return true;
                }
                seen if seen == fp => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Doubles the table (at least `MIN_SLOTS`), re-placing what it holds.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        let mask = self.slots.len() - 1;
        for fp in old.into_iter().filter(|&fp| fp != 0) {
            let mut i = slot(fp, mask);
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = fp;
        }
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
        assert_eq!(fingerprint(&long[..15]) >> 120, 16);
        assert_ne!(fingerprint(b""), 0);
        let mut d = DupCheck::default();
        for m in [&b""[..], b"\0", b"a", b"a\0", &long[..15], &long] {
            assert!(d.insert(m), "{m:?} is new");
        }
        assert!(!d.insert(&long) && !d.insert(b"a\0") && !d.insert(b""));
    }

    #[test]
    fn the_largest_table_holds_the_cap_in_16_mib() {
        let mut d = DupCheck::default();
        d.reserve(u64::MAX);
        assert_eq!(d.slots.len() * std::mem::size_of::<u128>(), 16 << 20);
        for i in 0..MAX_DUPLICATE_CHECK + 10 {
            assert!(d.insert(format!("member:{i}").as_bytes()));
        }
        assert_eq!(d.slots.len(), 1 << 20, "filling up to the cap never grows the table");
        assert!(d.insert(b"member:0"), "past the cap nothing is checked");
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
