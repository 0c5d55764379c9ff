//! Keys met twice in one database, found in bounded memory whatever the input size.
//!
//! Stand-in with the API of the bounded duplicate-key detector being added to
//! rdb-parser for `verify` (`rdb_parser::dupkeys`): once that lands, this module goes
//! and its users import that one instead.
//!
//! Two passes: [`KeyFilter`] sets four bits per (database, key) fingerprint in a Bloom
//! filter of fixed size and keeps the fingerprints whose bits were all set already
//! (candidates: repeats, or false positives), up to a cap; [`Confirm`] then remembers
//! the first occurrence of each candidate and reports a second one with the same bytes.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// Most Bloom filter bits (32 MiB).
pub const MAX_FILTER_BITS: u64 = 1 << 28;
/// Most candidate fingerprints kept by the first pass (16 bytes each).
pub const MAX_CANDIDATES: usize = 1 << 20;
/// Most key bytes the second pass keeps to compare keys byte for byte; past it, equal
/// 128-bit fingerprints confirm a repeat (a false match is about 2^-100 likely).
pub const MAX_CONFIRM_KEY_BYTES: usize = 64 << 20;

fn fingerprint(db: u64, key: &[u8]) -> u128 {
    let half = |seed: u64| {
        let mut h = std::hash::DefaultHasher::new();
        (seed, db, key).hash(&mut h);
        h.finish()
    };
    (u128::from(half(0x9e37_79b9_7f4a_7c15)) << 64) | u128::from(half(0xc2b2_ae3d_27d4_eb4f))
}

/// First pass: a Bloom filter over every key, and the fingerprints of possible repeats.
pub struct KeyFilter {
    bits: Vec<u64>,
    mask: u64,
    candidates: HashSet<u128>,
    overflow: bool,
}

impl KeyFilter {
    /// A filter sized for an input of `size_hint` bytes (at least 3 bytes per key, 16
    /// bits per possible key, at most [`MAX_FILTER_BITS`]); unknown size: the maximum.
    pub fn new(size_hint: Option<u64>) -> Self {
        let wanted = size_hint.map_or(MAX_FILTER_BITS, |s| s.saturating_mul(16) / 3);
        let bits = wanted.clamp(1 << 12, MAX_FILTER_BITS).next_power_of_two();
        KeyFilter { bits: vec![0; (bits / 64) as usize], mask: bits - 1, candidates: HashSet::new(), overflow: false }
    }

    /// Adds a key.
    pub fn add(&mut self, db: u64, key: &[u8]) {
        let fp = fingerprint(db, key);
        let mut seen = true;
        for i in 0..4 {
            let bit = ((fp >> (32 * i)) as u64) & self.mask;
            let (word, flag) = ((bit / 64) as usize, 1u64 << (bit % 64));
            seen &= self.bits[word] & flag != 0;
            self.bits[word] |= flag;
        }
        if seen {
            if self.candidates.len() < MAX_CANDIDATES {
                self.candidates.insert(fp);
            } else {
                self.overflow = true;
            }
        }
    }

    /// How many keys may repeat.
    pub fn candidates(&self) -> usize {
        self.candidates.len()
    }

    /// True when more keys may repeat than the check can follow.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// The second pass, for this filter's candidates.
    pub fn confirm(self) -> Confirm {
        Confirm { candidates: self.candidates, first: HashMap::new(), key_bytes: 0 }
    }
}

/// Where a key was met: its record offset and its 0-based position among the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPosition {
    /// Offset of the key's record.
    pub offset: u64,
    /// Index of the key in the file (0 = first key).
    pub index: u64,
}

/// A key met twice in one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Database.
    pub db: u64,
    /// The key.
    pub key: Vec<u8>,
    /// Its first record.
    pub first: KeyPosition,
    /// The record that repeats it.
    pub second: KeyPosition,
}

/// Second pass: finds repeats among the candidates.
pub struct Confirm {
    candidates: HashSet<u128>,
    first: HashMap<u128, (KeyPosition, Option<Vec<u8>>)>,
    key_bytes: usize,
}

impl Confirm {
    /// Checks a key; returns the duplicate when this key repeats an earlier one.
    pub fn check(&mut self, db: u64, key: &[u8], at: KeyPosition) -> Option<Duplicate> {
        let fp = fingerprint(db, key);
        if !self.candidates.contains(&fp) {
            return None;
        }
        match self.first.get(&fp) {
            Some((first, bytes)) if bytes.as_deref().is_none_or(|b| b == key) => {
                Some(Duplicate { db, key: key.to_vec(), first: *first, second: at })
            }
            Some(_) => None,
            None => {
                let keep = self.key_bytes + key.len() <= MAX_CONFIRM_KEY_BYTES;
                self.key_bytes += if keep { key.len() } else { 0 };
                self.first.insert(fp, (at, keep.then(|| key.to_vec())));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_found_and_confirmed() {
        let keys: Vec<(u64, Vec<u8>)> = (0..5000u64).map(|i| (i % 3, format!("k{i}").into_bytes())).collect();
        let mut f = KeyFilter::new(Some(10));
        for (db, k) in &keys {
            f.add(*db, k);
        }
        f.add(1, b"k7");
        f.add(0, b"k7");
        assert!(f.candidates() >= 1 && !f.overflowed());
        let mut c = f.confirm();
        let at = |i: u64| KeyPosition { offset: 100 + i, index: i };
        let mut found = Vec::new();
        for (i, (db, k)) in keys.iter().chain([(1, b"k7".to_vec()), (0, b"k7".to_vec())].iter()).enumerate() {
            found.extend(c.check(*db, k, at(i as u64)));
        }
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].db, found[0].key.as_slice(), found[0].first, found[0].second),
            (1, &b"k7"[..], at(7), at(5000))
        );
    }
}
